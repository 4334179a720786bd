//! Kernel errors explained: an errno from a step, with its likely cause and what to do.
//!
//! The same errno means different things from different calls (EINVAL from `pivot_root` is not
//! EINVAL from `unshare`), so explanations are looked up by call and errno together.

/// An explanation for `errno` returned by the syscall that `call` (a trace line's call text)
/// names, or None when there is nothing more to say than the errno's own text.
pub fn explain(call: &str, errno: &str) -> Option<&'static str> {
    // A call made by a child is traced as `[pid N] execve(...)` or `[child] write(...)`.
    let bare = match call.strip_prefix('[') {
        Some(rest) => rest.split_once("] ").map(|(_, c)| c).unwrap_or(call),
        None => call,
    };
    let name = bare.split('(').next().unwrap_or(bare).trim();
    let target = call;
    Some(match (name, errno) {
        ("unshare", "EPERM") if target.contains("CLONE_NEWUSER") => {
            "The kernel refused a new user namespace. Either the limit is 0 \
             (user.max_user_namespaces), or unprivileged user namespaces are switched off: \
             kernel.unprivileged_userns_clone = 0 (Debian), or an LSM policy forbids it. Run \
             `containerlab doctor` to see which, and its fix."
        }
        ("write", "EPERM") if target.contains("uid_map") && !target.contains("/proc/self") => {
            "uid_map/gid_map can be written once, by a process with CAP_SETUID/CAP_SETGID in the \
             parent user namespace; for gid_map without that, write \"deny\" to setgroups first."
        }
        ("write", "EPERM") if target.contains("_map") || target.contains("setgroups") => {
            "A process writing its own map may map only its own uid (and, after writing \"deny\" \
             to setgroups, its own gid), and must have capabilities in the new namespace. On \
             Ubuntu 23.10+ AppArmor takes those away from unprivileged processes \
             (kernel.apparmor_restrict_unprivileged_userns = 1): see `containerlab doctor`."
        }
        ("openat", "EACCES") => {
            "The file's permissions do not let this process read it. Capabilities in a user \
             namespace only count for files whose owner is mapped into that namespace: the \
             host's root-owned files stay closed to a root that exists only inside."
        }
        ("shmget", "ENOENT") | ("mq_open", "ENOENT") => {
            "No IPC object with that key or name exists in this process's IPC namespace (each \
             IPC namespace has its own keys and queue names)."
        }
        ("shmget", "EEXIST") | ("mq_open", "EEXIST") => {
            "An IPC object with that key or name already exists in this IPC namespace; another \
             session may have left it: `containerlab cleanup`, or `ipcs` / `ipcrm`."
        }
        ("bind", "EADDRINUSE") => {
            "Another program already listens on this address and port (`ss -ltnp` names it). \
             Publish on another port: `containerlab run lesson container --var host_port=18080`."
        }
        ("bind", "EADDRNOTAVAIL") => {
            "No interface of this network namespace has that address; listen on 0.0.0.0 or on \
             one of the addresses `ip -br addr` shows."
        }
        ("sendmsg", "EEXIST") => {
            "A link with that name (or that address) exists already: another session may have \
             left it behind; `containerlab cleanup` removes it."
        }
        ("unshare" | "setns" | "mount" | "umount2" | "sethostname" | "pivot_root" | "chroot", "EPERM") => {
            "This call needs CAP_SYS_ADMIN in the namespace that owns the resource. Run the lab as \
             root (sudo containerlab ...), or create a user namespace first and act inside it."
        }
        ("unshare", "EINVAL") if target.contains("CLONE_NEWUSER") || target.contains("CLONE_NEWNS") => {
            "A multithreaded process may not unshare a user or mount namespace. The lab makes \
             these calls in its single-threaded helper; if you see this, report a bug."
        }
        ("unshare", "EINVAL") => "The kernel does not know one of the requested namespace kinds (is it built with CONFIG_*_NS?).",
        ("unshare" | "clone", "ENOSPC") => {
            "The limit on namespaces of this kind is reached (/proc/sys/user/max_*_namespaces). \
             Raise it with sysctl, or end other sessions."
        }
        ("fork" | "clone", "ENOMEM") => {
            "The PID namespace's init (PID 1) has exited: the kernel allows no new process in a \
             namespace whose init is gone."
        }
        ("write", "EPERM") if target.contains("uid_map") || target.contains("gid_map") => {
            "uid_map/gid_map can be written once, by a process with CAP_SETUID/CAP_SETGID in the \
             parent user namespace; for gid_map without that, write \"deny\" to setgroups first."
        }
        ("write", "EINVAL") if target.contains("_map") => {
            "A map line is \"inside-id outside-id count\", and the ranges may not overlap."
        }
        ("pivot_root", "EINVAL") => {
            "new_root must be a mount point, not on the same mount as the current root, and the \
             current root must not have shared propagation: bind-mount new_root onto itself and \
             make / private (mount --make-rprivate /) first."
        }
        ("pivot_root", "EBUSY") => "new_root or put_old is already the root or in use.",
        ("umount2", "EBUSY") => {
            "Something still uses the mount (an open file, a process's cwd, or a mount on top of \
             it). Leave it, or use a lazy unmount (umount -l, MNT_DETACH)."
        }
        ("umount2", "EINVAL") => "The path is not a mount point (in this mount namespace).",
        ("mount", "ENODEV") => {
            "The kernel does not have this filesystem type. Load its module (modprobe overlay) or \
             see `containerlab doctor`."
        }
        ("mount", "EINVAL") if target.contains("\"overlay\"") => {
            "overlayfs refused its options: every lowerdir, upperdir and workdir must exist, \
             upperdir and workdir must be on the same filesystem and not inside each other, and \
             workdir must be empty (a fresh directory). dmesg names the option it disliked."
        }
        ("unlink", "ENOENT") => "There is no such file (in this process's view: through its mounts).",
        ("unlink", "EROFS") => "The file is on a read-only mount: overlayfs' lower layers are only ever changed through the upper one.",
        ("mount", "ENOENT") => "The mount point or source does not exist (in this process's view of the filesystem).",
        ("execve", "ENOENT") => {
            "The program is not there: paths are looked up inside the process's root, so after \
             chroot the program (and, for a dynamic binary, its loader and libraries) must exist \
             inside the new root."
        }
        ("chroot" | "chdir", "ENOENT") => "The directory does not exist (as this process sees paths: inside its current root).",
        ("prctl", "EPERM") if target.contains("CAPBSET_DROP") => {
            "Dropping from the bounding set needs CAP_SETPCAP in the caller's effective set."
        }
        ("capset", "EPERM") => {
            "A process may only keep or drop capabilities: the new permitted set must be within \
             the old one, the effective within the new permitted, and the inheritable within \
             the bounding set."
        }
        ("setxattr" | "removexattr", "EPERM") => {
            "Writing security.capability needs CAP_SETFCAP (and the file's owner or \
             CAP_FOWNER)."
        }
        ("setxattr", "EOPNOTSUPP") => {
            "This filesystem does not store security.* extended attributes."
        }
        ("write", "ENOENT") if target.contains("cgroup") => {
            "This cgroup file does not exist: the controller is not enabled for this cgroup (v2: \
             its parent's cgroup.subtree_control), or this kernel does not have it."
        }
        ("write", "EBUSY") if target.contains("cgroup") => {
            "cgroup v2's no-internal-processes rule: a cgroup that enables controllers for its \
             children cannot hold processes itself."
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::explain;

    #[test]
    fn same_errno_different_calls_different_causes() {
        let a = explain("pivot_root(\".\", \"old\")", "EINVAL").unwrap();
        let b = explain("umount2(\"/x\", 0)", "EINVAL").unwrap();
        assert_ne!(a, b);
        assert!(a.contains("private"));
    }

    #[test]
    fn forbidden_user_namespaces_are_explained() {
        let e = explain("unshare(CLONE_NEWUSER)", "EPERM").unwrap();
        assert!(e.contains("unprivileged_userns_clone"), "{e}");
        let own = explain(
            "write(open(\"/proc/self/uid_map\"), \"0 1000 1\", 8)",
            "EPERM",
        )
        .unwrap();
        assert!(own.contains("apparmor"), "{own}");
        assert!(explain("openat(AT_FDCWD, \"/etc/shadow\", O_RDONLY)", "EACCES").is_some());
    }

    #[test]
    fn a_childs_call_is_explained_by_its_name() {
        let e = explain("[pid 42] execve(\"/bin/sh\", [\"/bin/sh\"])", "ENOENT").unwrap();
        assert!(e.contains("chroot"));
        assert!(explain(
            "[child] write(open(\"/sys/fs/cgroup/x/cgroup.procs\"), getpid())",
            "EBUSY"
        )
        .is_some());
    }

    #[test]
    fn uid_map_eperm_mentions_setgroups() {
        let e = explain("write(open(\"/proc/9/gid_map\"), \"0 0 1\", 5)", "EPERM").unwrap();
        assert!(e.contains("setgroups"));
        assert!(explain("sethostname(\"x\", 1)", "EFAULT").is_none());
    }

    #[test]
    fn overlay_einval_names_the_options() {
        let e = explain(
            "mount(\"overlay\", \"/m\", \"overlay\", 0, \"lowerdir=/l\")",
            "EINVAL",
        )
        .unwrap();
        assert!(e.contains("workdir"));
    }
}
