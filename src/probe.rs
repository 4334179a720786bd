//! Probes: can this machine run a lesson? Each requirement a lesson declares is tested against
//! the live system before anything runs, so a lesson is refused with the reason and the fix
//! instead of failing half-way. `containerlab doctor` prints the same probes as a table.

use crate::lesson::schema::Requirement;
use std::path::Path;

/// The answer for one requirement.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ProbeResult {
    pub requirement: Requirement,
    pub ok: bool,
    /// What was found ("cgroup v1 (hybrid): memory on /sys/fs/cgroup/memory").
    pub detail: String,
    /// What to do when it is missing.
    pub fix: Option<String>,
}

pub fn check(req: Requirement) -> ProbeResult {
    let (ok, detail, fix) = match req {
        Requirement::Root => {
            let euid = nix::unistd::geteuid();
            if euid.is_root() {
                (true, "running as root".to_string(), None)
            } else {
                (
                    false,
                    format!("running as uid {euid}, not root"),
                    Some("the lessons make privileged syscalls (unshare, mount, sethostname): run as root, e.g. `sudo containerlab ...`".into()),
                )
            }
        }
        Requirement::UserNamespaces => user_namespaces(),
        Requirement::RootlessUserNamespaces => rootless_user_namespaces(),
        Requirement::Bridge => bridge(),
        Requirement::Nftables => nftables(),
        Requirement::CgroupMemory => cgroup_controller("memory"),
        Requirement::CgroupPids => cgroup_controller("pids"),
        Requirement::CgroupCpu => cgroup_controller("cpu"),
        Requirement::TimeNamespaces => {
            if Path::new("/proc/self/ns/time").exists() {
                (true, "time namespaces (/proc/self/ns/time)".into(), None)
            } else {
                (
                    false,
                    "this kernel has no time namespaces (no /proc/self/ns/time)".into(),
                    Some("use Linux 5.6 or later built with CONFIG_TIME_NS=y".into()),
                )
            }
        }
        Requirement::Overlayfs => filesystem_or_module("overlay", "fs/overlayfs/overlay.ko"),
        Requirement::Veth => veth(),
        Requirement::Busybox => match which("busybox") {
            Some(p) => (true, format!("busybox at {}", p.display()), None),
            None => (
                false,
                "no busybox on PATH".into(),
                Some("install it: apt-get install busybox-static".into()),
            ),
        },
        Requirement::Ping => match which("ping") {
            Some(p) => (true, format!("ping at {}", p.display()), None),
            None => (
                false,
                "no ping on PATH".into(),
                Some("install it: apt-get install iputils-ping".into()),
            ),
        },
        Requirement::PingFileCapability => match which("ping") {
            None => (
                false,
                "no ping on PATH".into(),
                Some("install it: apt-get install iputils-ping".into()),
            ),
            Some(p) => {
                let real = std::fs::canonicalize(&p).unwrap_or(p);
                match crate::inspect::filecaps::read(&real) {
                    Ok(caps) if caps.contains("cap_net_raw") => (
                        true,
                        format!("{} has file capabilities {caps}", real.display()),
                        None,
                    ),
                    Ok(caps) => (
                        false,
                        format!(
                            "{} carries no cap_net_raw file capability ({caps}; setuid root or \
                             busybox?)",
                            real.display()
                        ),
                        Some(format!(
                            "give it the capability the way Debian's iputils-ping does: \
                             setcap cap_net_raw+ep {} (setcap is in libcap2-bin)",
                            real.display()
                        )),
                    ),
                    Err(e) => (false, e.to_string(), None),
                }
            }
        },
        Requirement::RootBlockDevice => match crate::inspect::mounts::root_block_device() {
            Some(d) => (
                true,
                format!("/ is {} on the block device {}", d.fstype, d.source),
                None,
            ),
            None => (
                false,
                "/ is not an ext4 or xfs filesystem mounted from a block device (a container, an \
                 initramfs, btrfs or overlay): there is no host disk to show"
                    .into(),
                Some(
                    "run this lesson on a machine or VM whose root filesystem is on a disk \
                     (e.g. /dev/vda1 with ext4)"
                        .into(),
                ),
            ),
        },
        Requirement::Capsh => match which("capsh") {
            Some(p) => (true, format!("capsh at {}", p.display()), None),
            None => (
                false,
                "no capsh on PATH".into(),
                Some("install it: apt-get install libcap2-bin".into()),
            ),
        },
    };
    ProbeResult {
        requirement: req,
        ok,
        detail,
        fix,
    }
}

/// Probes every requirement, in the given order.
pub fn check_all(reqs: &[Requirement]) -> Vec<ProbeResult> {
    reqs.iter().map(|r| check(*r)).collect()
}

pub fn which(program: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/sbin:/usr/bin:/sbin:/bin".into());
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into(), "/bin".into()])
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

fn user_namespaces() -> (bool, String, Option<String>) {
    let max = std::fs::read_to_string("/proc/sys/user/max_user_namespaces")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok());
    match max {
        None => (
            false,
            "this kernel has no user namespaces (/proc/sys/user/max_user_namespaces is missing)"
                .into(),
            Some("use a kernel built with CONFIG_USER_NS=y".into()),
        ),
        Some(0) => (
            false,
            "user namespaces are disabled (user.max_user_namespaces = 0)".into(),
            Some("sysctl -w user.max_user_namespaces=15000".into()),
        ),
        Some(n) => (true, format!("user namespaces allowed (max {n})"), None),
    }
}

/// Whether a process without privileges may make a user namespace. Debian-family kernels have
/// `kernel.unprivileged_userns_clone` (0 forbids it); Ubuntu 23.10+ lets AppArmor restrict it
/// (`kernel.apparmor_restrict_unprivileged_userns = 1`: the namespace is made, but the process
/// gets no capabilities in it, so writing its own uid_map fails with EPERM).
fn rootless_user_namespaces() -> (bool, String, Option<String>) {
    let (ok, detail, fix) = user_namespaces();
    if !ok {
        return (ok, detail, fix);
    }
    let sysctl = |name: &str| {
        std::fs::read_to_string(format!("/proc/sys/kernel/{name}"))
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
    };
    if sysctl("unprivileged_userns_clone") == Some(0) {
        return (
            false,
            "unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone = 0)"
                .into(),
            Some(
                "allow them for this lesson: sysctl -w kernel.unprivileged_userns_clone=1 \
                 (set it back to 0 afterwards if your site requires it)"
                    .into(),
            ),
        );
    }
    if sysctl("apparmor_restrict_unprivileged_userns") == Some(1) {
        return (
            false,
            "AppArmor restricts unprivileged user namespaces \
             (kernel.apparmor_restrict_unprivileged_userns = 1, the Ubuntu 24.04 default): \
             an unprivileged process gets no capabilities in the namespace it makes"
                .into(),
            Some(
                "for this lesson: sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, and \
                 set it back to 1 afterwards"
                    .into(),
            ),
        );
    }
    (
        true,
        "unprivileged processes may create user namespaces".into(),
        None,
    )
}

/// Whether a cgroup controller is usable, by the same detection the cgroup lessons use, so the
/// probe and the lesson can never disagree about v1, v2 or hybrid.
fn cgroup_controller(name: &str) -> (bool, String, Option<String>) {
    match containerlab_cgroup::detect() {
        Ok(layout) => {
            let h = match name {
                "memory" => &layout.memory,
                "pids" => &layout.pids,
                // The cpu controller is optional to the layout (the memory lessons run without
                // it); a lesson that limits CPU time needs it.
                _ => match &layout.cpu {
                    Some(h) => h,
                    None => {
                        return (
                            false,
                            format!("no cgroup hierarchy offers the {name} controller"),
                            Some(
                                "use a kernel with CONFIG_CGROUP_SCHED (every distribution \
                                 kernel has it) and do not disable it with cgroup_disable=cpu"
                                    .into(),
                            ),
                        )
                    }
                },
            };
            let kind = match (h.version, layout.unified.is_some()) {
                (containerlab_cgroup::Version::V2, _) => "cgroup v2",
                (containerlab_cgroup::Version::V1, true) => "cgroup v1 (hybrid)",
                (containerlab_cgroup::Version::V1, false) => "cgroup v1",
            };
            (
                true,
                format!("{kind}: {name} controller on {}", h.mount.display()),
                None,
            )
        }
        Err(e) => {
            let text = e.to_string();
            let (detail, fix) = match text.split_once("; ") {
                Some((d, f)) => (d.to_string(), f.to_string()),
                None => (text.clone(), "see `containerlab doctor`".to_string()),
            };
            (false, detail, Some(fix))
        }
    }
}

/// Whether a veth pair can be made: tried for real in a network namespace that only a
/// short-lived thread is in, so nothing reaches the host and everything dies with the thread.
/// (A built-in veth leaves no trace in /sys/module, so looking is not enough.)
fn veth() -> (bool, String, Option<String>) {
    let attempt = std::thread::spawn(|| -> anyhow::Result<()> {
        use anyhow::Context;
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET)
            .context("unshare(CLONE_NEWNET)")?;
        let mut trace = containerlab_trace::Trace::new();
        containerlab_net::create_veth("clab-probe0", "clab-probe1", &mut trace)?;
        Ok(())
    })
    .join()
    .unwrap_or_else(|_| Err(anyhow::anyhow!("the probe thread panicked")));
    match attempt {
        Ok(()) => (true, "veth pairs can be created".into(), None),
        Err(e) => (
            false,
            format!("cannot create a veth pair: {e:#}"),
            Some("load the veth module (modprobe veth), and run as root".into()),
        ),
    }
}

/// `f` on a thread of its own in a new, empty network namespace: whatever it makes there dies
/// with the thread, and the host's network is never touched.
fn in_throwaway_netns(
    f: impl FnOnce() -> anyhow::Result<()> + Send + 'static,
) -> anyhow::Result<()> {
    std::thread::spawn(move || -> anyhow::Result<()> {
        use anyhow::Context;
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET)
            .context("unshare(CLONE_NEWNET)")?;
        f()
    })
    .join()
    .unwrap_or_else(|_| Err(anyhow::anyhow!("the probe thread panicked")))
}

fn bridge() -> (bool, String, Option<String>) {
    let attempt = in_throwaway_netns(|| {
        let mut trace = containerlab_trace::Trace::new();
        containerlab_net::create_bridge("clab-probe-br", &mut trace)?;
        Ok(())
    });
    match attempt {
        Ok(()) => (true, "bridges can be created".into(), None),
        Err(e) => (
            false,
            format!("cannot create a bridge: {e:#}"),
            Some("load the bridge module (modprobe bridge), and run as root".into()),
        ),
    }
}

/// The bridge lesson's NAT: `nft` loads a masquerade rule in a throwaway network namespace (which
/// loads nf_tables, its NAT and conntrack modules), and conntrack's table is then readable there.
fn nftables() -> (bool, String, Option<String>) {
    let Some(nft) = which("nft") else {
        return (
            false,
            "the nft tool is missing".into(),
            Some("apt install nftables".into()),
        );
    };
    let attempt = in_throwaway_netns(move || {
        use anyhow::Context;
        use std::io::Write;
        let mut child = std::process::Command::new(&nft)
            .args(["-f", "-"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .context("starting nft")?;
        child
            .stdin
            .take()
            .context("nft's standard input")?
            .write_all(
                b"table ip clab_probe {\n chain post {\n type nat hook postrouting priority srcnat;\n masquerade\n }\n}\n",
            )?;
        let out = child.wait_with_output()?;
        if !out.status.success() {
            anyhow::bail!(
                "nft could not load a masquerade rule: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        // The thread's own network namespace (/proc/self is the thread group's leader).
        std::fs::metadata("/proc/thread-self/net/nf_conntrack")
            .context("/proc/net/nf_conntrack (CONFIG_NF_CONNTRACK_PROCFS)")?;
        Ok(())
    });
    match attempt {
        Ok(()) => (
            true,
            "nft loads NAT rules; /proc/net/nf_conntrack is there".into(),
            None,
        ),
        Err(e) => (
            false,
            format!("nftables NAT is not usable: {e:#}"),
            Some(
                "load nf_tables, nft_chain_nat, nft_masq and nf_conntrack (modprobe), on a kernel \
                 with CONFIG_NF_CONNTRACK_PROCFS"
                    .into(),
            ),
        ),
    }
}

/// A filesystem or driver that is built in, loaded, or loadable as a module.
fn filesystem_or_module(name: &str, module_path: &str) -> (bool, String, Option<String>) {
    let in_fs = std::fs::read_to_string("/proc/filesystems")
        .unwrap_or_default()
        .lines()
        .any(|l| l.split_whitespace().last() == Some(name));
    let loaded = Path::new("/sys/module").join(name).exists();
    let release = nix::sys::utsname::uname()
        .map(|u| u.release().to_string_lossy().into_owned())
        .unwrap_or_default();
    let module_dir = Path::new("/lib/modules").join(&release).join("kernel");
    let loadable = ["", ".xz", ".zst", ".gz"]
        .iter()
        .any(|ext| module_dir.join(format!("{module_path}{ext}")).exists());
    if in_fs || loaded {
        (true, format!("{name} is available in the kernel"), None)
    } else if loadable {
        (
            true,
            format!("{name} is a loadable module (loaded on first use)"),
            None,
        )
    } else {
        (
            false,
            format!("the kernel has no {name} support"),
            Some(format!(
                "load it (modprobe {name}) or use a kernel with it built in"
            )),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_probe_matches_euid() {
        let r = check(Requirement::Root);
        assert_eq!(r.ok, nix::unistd::geteuid().is_root());
        assert_eq!(r.fix.is_some(), !r.ok);
    }
}
