//! Host safety: what the engine refuses to do to the learner's machine, in one place.
//!
//! The agent runs as real root and starts in the host's namespaces. Whatever it changes there
//! belongs to the machine, not to the lesson, and outlives the session unless teardown knows to
//! undo it. A namespace is the kernel's own boundary for this: the same call made inside a
//! namespace the lesson created changes only that namespace's copy, which dies with it. So the
//! rules below are about *which namespace the caller is in*, checked before the call is made
//! (a refused op reaches no syscall and its trace stays empty):
//!
//! 1. **Mount namespace.** While still in the host's mount namespace, mount(2), changes of mount
//!    propagation, mkdir(2), creating and unlinking files only apply under the session's work
//!    directory ([`host_mount_path`]). In a mount namespace of its own, a lesson may change any
//!    path: what it mounts there, and the files it makes on those mounts, go away with it.
//! 2. **UTS namespace.** sethostname(2) with the host's UTS *and* user namespace would rename
//!    the machine, and is refused ([`hostname`]). From another user namespace the kernel itself
//!    refuses it (EPERM), which is what the lessons show.
//! 3. **Network namespace.** In the host's network namespace, only links this session made (the
//!    veth ends in its journal) may be brought up, addressed or moved ([`host_link`]), and the
//!    default route is never changed ([`host_route`]), and no port is bound there ([`host_port`]:
//!    a listening socket in the host's namespace could take a port a real server needs).
//! 4. **Files on the host.** Copies, ownership, file capabilities, the rootfs copy, image layouts
//!    and unpacked layers are written only under the session's work directory, and never
//!    through a `..` ([`work_file`]).
//! 5. **Firewall.** nftables rules are only loaded in a network namespace the lesson made
//!    ([`host_firewall`]): they die with it, and the host's own tables are never changed.
//! 6. **Writes into existing files** ([`write_target`]): only under the work directory, on a
//!    container's overlay, on a read-only mount (to show EROFS), into a process's ID maps and
//!    time offsets, and into the sysctls of a network or UTS namespace the lesson made.
//! 7. **Packets.** A registry pull connects only to a loopback address (127.0.0.0/8), and only
//!    from a network namespace the lesson made: the lab's own registry, never a real address
//!    ([`registry_address`]).
//! 8. **The host's disks.** A block device is only ever mounted read-only from its first moment
//!    ([`super::device_mount`]), only in a mount namespace of the lesson's own (so the mount
//!    dies with it and the host's table never shows it), and only on a path under the work
//!    directory ([`device_mount`]).
//!
//! Objects a lesson may make in the host's namespaces (processes, cgroups, veths, IPC objects,
//! mounts under the work directory) are not refused but journaled: see [`super::journal`].

use super::journal::{Entry, Journal};
use super::namespaces::Namespace;
use super::ops::OpError;
use containerlab_inspect::namespaces::own_ns_inode;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

/// The namespace kinds whose host inode the holder remembers when it starts.
const REMEMBERED: [Namespace; 5] = [
    Namespace::Mnt,
    Namespace::Net,
    Namespace::Ipc,
    Namespace::Uts,
    Namespace::User,
];

static HOST_NS: OnceLock<BTreeMap<Namespace, u64>> = OnceLock::new();

/// Called once by the holder when it starts, still in the host's namespaces; members inherit it.
pub fn remember_host_namespaces() {
    let _ = HOST_NS.set(
        REMEMBERED
            .iter()
            .filter_map(|ns| Some((*ns, own_ns_inode(ns.proc_name())?)))
            .collect(),
    );
}

/// Whether this process is still in the host's namespace of kind `ns`; None when unknown (unit
/// tests run without a holder).
pub fn in_host_ns(ns: Namespace) -> Option<bool> {
    let host = HOST_NS.get()?.get(&ns)?;
    Some(own_ns_inode(ns.proc_name()) == Some(*host))
}

/// Rule 1: in the host's mount namespace, `what` (`"mount on"`, `"make a directory"`, ...) may
/// only be done to paths under `work`.
pub fn host_mount_path(
    what: &str,
    path: &str,
    work: &Path,
    in_host_mnt_ns: bool,
) -> Result<(), OpError> {
    if in_host_mnt_ns && !Path::new(path).starts_with(work) {
        return Err(OpError::msg(format!(
            "refusing to {what} {path} in the host's mount namespace: only the session's work \
             directory may change there; unshare a mount namespace (and make it private) first"
        )));
    }
    Ok(())
}

/// Rule 2: no sethostname(2) with real root power over the host's UTS namespace.
pub fn hostname() -> Result<(), OpError> {
    let host_uts = in_host_ns(Namespace::Uts) == Some(true);
    let host_user = in_host_ns(Namespace::User) == Some(true);
    if host_uts && host_user {
        return Err(OpError::msg(
            "refusing to set the hostname in the host's UTS namespace: unshare a UTS namespace first",
        ));
    }
    Ok(())
}

/// Rule 3: in the host's network namespace, only a link this session made (and journaled, so
/// teardown deletes it) may be changed: never the machine's own `lo` or `eth0`.
pub fn host_link(name: &str, journal: &Journal) -> Result<(), OpError> {
    if in_host_ns(Namespace::Net) != Some(true) {
        return Ok(());
    }
    let ours = Journal::read(journal.path())?
        .iter()
        .any(|e| matches!(e, Entry::Link { name: n } if n == name));
    if ours {
        return Ok(());
    }
    Err(OpError::msg(format!(
        "refusing to change {name} in the host's network namespace: only links this session made \
         may change there; unshare a network namespace first"
    )))
}

/// Rule 3: the host's routing table is never changed.
pub fn host_route() -> Result<(), OpError> {
    if in_host_ns(Namespace::Net) == Some(true) {
        return Err(OpError::msg(
            "refusing to change the default route of the host's network namespace: unshare a \
             network namespace first",
        ));
    }
    Ok(())
}

/// Rule 3: no socket is bound in the host's network namespace.
pub fn host_port(address: &str) -> Result<(), OpError> {
    if in_host_ns(Namespace::Net) == Some(true) {
        return Err(OpError::msg(format!(
            "refusing to bind {address} in the host's network namespace: unshare a network \
             namespace first"
        )));
    }
    Ok(())
}

/// Rule 5: nftables rules only in a network namespace the lesson made (unknown counts as the
/// host's: refusing is the safe side).
pub fn host_firewall() -> Result<(), OpError> {
    if in_host_ns(Namespace::Net) != Some(false) {
        return Err(OpError::msg(
            "refusing to load nftables rules in the host's network namespace: the host's \
             firewall is never changed; unshare a network namespace first",
        ));
    }
    Ok(())
}

/// Rule 6: write(2) into an existing file (`write_file`: a kernel interface file, or a file
/// shown to be read-only) only where the write cannot reach the learner's machine: under the
/// session's work directory, on a container's overlay, on a read-only mount (the kernel refuses
/// it: EROFS, which is what a lesson shows), a process's own ID maps, `setgroups` and
/// `timens_offsets`, and the sysctls of a network or UTS namespace the lesson made. Anything else
/// (a host file on a writable mount, a machine-wide sysctl) is refused: a lesson step that
/// expected EROFS from a read-only mount would otherwise empty the host's file if that mount
/// were writable after all.
pub fn write_target(path: &str, work: &Path) -> Result<(), OpError> {
    use nix::sys::statfs::{statfs, OVERLAYFS_SUPER_MAGIC};
    use nix::sys::statvfs::{statvfs, FsFlags};
    let p = Path::new(path);
    let per_process = ["uid_map", "gid_map", "setgroups", "timens_offsets"];
    let own_file = p.starts_with("/proc")
        && p.components().count() == 4
        && p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| per_process.contains(&n))
        && p.parent()
            .and_then(|d| d.file_name())
            .and_then(|d| d.to_str())
            .is_some_and(|d| d == "self" || d.parse::<u32>().is_ok());
    let lab_sysctl = (p.starts_with("/proc/sys/net/") && in_host_ns(Namespace::Net) == Some(false))
        || ((path == "/proc/sys/kernel/hostname" || path == "/proc/sys/kernel/domainname")
            && in_host_ns(Namespace::Uts) == Some(false));
    let allowed = (p.starts_with(work) && !path.contains(".."))
        || own_file
        || lab_sysctl
        // A path that is not there fails with ENOENT before anything is written.
        || statvfs(p).map_or(true, |v| v.flags().contains(FsFlags::ST_RDONLY))
        || statfs(p).is_ok_and(|f| f.filesystem_type() == OVERLAYFS_SUPER_MAGIC);
    if allowed {
        Ok(())
    } else {
        Err(OpError::msg(format!(
            "refusing to write into {path}: it is on a writable mount of the host's (or a \
             machine-wide setting); the lab writes only under the session's work directory, \
             on a container's overlay, into a process's ID maps and into the sysctls of \
             namespaces it made"
        )))
    }
}

/// Rule 4: files the lab writes on the host lie under the session's work directory.
pub fn work_file(path: &str, work: &Path) -> Result<(), OpError> {
    if Path::new(path).starts_with(work) && !path.contains("..") {
        Ok(())
    } else {
        Err(OpError::msg(format!(
            "{path}: the lab only changes files under the session's work directory {}",
            work.display()
        )))
    }
}

/// Rule 7: a pull talks to `a.b.c.d:port` on loopback, inside a network namespace of the lesson's.
pub fn registry_address(address: &str) -> Result<(), OpError> {
    let addr: std::net::SocketAddrV4 = address
        .parse()
        .map_err(|_| OpError::msg(format!("{address}: a registry address is a.b.c.d:port")))?;
    if !addr.ip().is_loopback() {
        return Err(OpError::msg(format!(
            "refusing to pull from {address}: the lab only talks to its own registry, on a \
             loopback address (127.0.0.0/8) inside the lesson's network namespace"
        )));
    }
    if in_host_ns(Namespace::Net) == Some(true) {
        return Err(OpError::msg(format!(
            "refusing to pull from {address} in the host's network namespace: the lab's registry \
             lives in a network namespace the lesson made; run the pull there"
        )));
    }
    Ok(())
}

/// Rule 8: a device mount (always read-only) only in the lesson's own mount namespace, on a
/// path under the work directory.
pub fn device_mount(
    source: &str,
    target: &str,
    work: &Path,
    in_host_mnt_ns: bool,
) -> Result<(), OpError> {
    if in_host_mnt_ns {
        return Err(OpError::msg(format!(
            "refusing to mount the device {source} in the host's mount namespace: unshare a \
             mount namespace (and make it private) first"
        )));
    }
    // Whether `source` is a block device is the kernel's to say (ENOTBLK), after it has
    // checked CAP_SYS_ADMIN (EPERM), which is what the lesson shows.
    work_file(target, work)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_into_host_files_and_machine_wide_sysctls_are_refused() {
        let work = std::env::temp_dir().join(format!("clab-policy-{}", std::process::id()));
        std::fs::create_dir_all(&work).unwrap();
        let mine = work.join("f");
        std::fs::write(&mine, "x").unwrap();
        assert!(write_target(mine.to_str().unwrap(), &work).is_ok());
        assert!(write_target("/proc/self/uid_map", &work).is_ok());
        assert!(write_target("/proc/4242/timens_offsets", &work).is_ok());
        // Not there: open(2) fails before a byte is written.
        assert!(write_target("/nonexistent/containerlab-policy", &work).is_ok());
        // The host's own files on its writable root, and a machine-wide sysctl.
        for host in [
            "/etc/hostname",
            "/proc/sys/vm/drop_caches",
            "/proc/self/../1/uid_map",
        ] {
            let err = write_target(host, &work).unwrap_err();
            assert!(
                err.message.contains("refusing to write into"),
                "{host}: {err:?}"
            );
        }
        std::fs::remove_dir_all(&work).unwrap();
    }

    #[test]
    fn the_host_mount_namespace_allows_the_work_directory_only() {
        let work = Path::new("/run/containerlab/s/work");
        assert!(host_mount_path("mount on", "/run/containerlab/s/work/m", work, true).is_ok());
        let err = host_mount_path("mount on", "/mnt", work, true).unwrap_err();
        assert!(err.message.contains("host's mount namespace"));
        assert!(host_mount_path("mount on", "/mnt", work, false).is_ok());
    }

    #[test]
    fn a_pull_talks_to_loopback_only() {
        assert!(registry_address("127.0.0.1:5000").is_ok());
        assert!(registry_address("10.0.0.1:5000").is_err());
        assert!(registry_address("registry-1.docker.io:443").is_err());
    }

    #[test]
    fn host_files_stay_under_work_and_never_climb_out() {
        let work = Path::new("/run/containerlab/s/work");
        assert!(work_file("/run/containerlab/s/work/bin/ping", work).is_ok());
        assert!(work_file("/usr/bin/ping", work).is_err());
        assert!(work_file("/run/containerlab/s/work/../../etc/passwd", work).is_err());
    }

    #[test]
    fn nftables_rules_are_refused_unless_known_to_be_in_a_lesson_namespace() {
        // No holder remembered the host's namespaces here: unknown is treated as the host's.
        let err = host_firewall().unwrap_err();
        assert!(err.message.contains("host's firewall"), "{}", err.message);
        // And nothing ran: firewall::apply refuses before it starts nft.
        let mut trace = containerlab_trace::Trace::new();
        assert!(crate::firewall::apply("table ip t {}", &mut trace).is_err());
        assert!(trace.records.is_empty(), "{:?}", trace.records);
    }
}
