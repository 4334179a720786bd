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
        Requirement::CgroupMemory => cgroup_controller("memory"),
        Requirement::CgroupPids => cgroup_controller("pids"),
        Requirement::Overlayfs => filesystem_or_module("overlay", "fs/overlayfs/overlay.ko"),
        Requirement::Veth => filesystem_or_module("veth", "drivers/net/veth.ko"),
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

/// Whether a cgroup controller is enabled and mounted, in v1 or v2.
fn cgroup_controller(name: &str) -> (bool, String, Option<String>) {
    let enabled = std::fs::read_to_string("/proc/cgroups")
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .any(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            cols.first() == Some(&name) && cols.get(3) == Some(&"1")
        });
    let v2 = Path::new("/sys/fs/cgroup/cgroup.controllers");
    let v2_has = std::fs::read_to_string(v2)
        .map(|c| c.split_whitespace().any(|c| c == name))
        .unwrap_or(false);
    let v1_dir = Path::new("/sys/fs/cgroup").join(name);
    let v1_has = v1_dir.join("cgroup.procs").exists();
    if v2_has {
        (
            true,
            format!("cgroup v2: {name} controller at /sys/fs/cgroup"),
            None,
        )
    } else if v1_has {
        (
            true,
            format!(
                "cgroup v1 (hybrid): {name} controller at {}",
                v1_dir.display()
            ),
            None,
        )
    } else if enabled {
        (
            false,
            format!("the {name} controller is enabled but not mounted where the lab looks"),
            Some(format!(
                "mount cgroup2 on /sys/fs/cgroup, or the v1 {name} hierarchy on {}",
                v1_dir.display()
            )),
        )
    } else {
        (
            false,
            format!("the kernel's {name} cgroup controller is not enabled"),
            Some(format!("boot with cgroup_enable={name} (some arm64 boards need it), or use a kernel with CONFIG_MEMCG")),
        )
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
    } else if built_in(&release, module_path) {
        (true, format!("{name} is built into the kernel"), None)
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

/// Whether a driver is compiled into the kernel: a built-in driver without parameters has no
/// /sys/module entry, so look in the kernel's own lists: modules.builtin, or its configuration
/// (/boot/config-RELEASE, or /proc/config.gz when the kernel carries it).
fn built_in(release: &str, module_path: &str) -> bool {
    let builtin_list = Path::new("/lib/modules")
        .join(release)
        .join("modules.builtin");
    if std::fs::read_to_string(builtin_list)
        .is_ok_and(|t| t.lines().any(|l| l.trim() == module_path))
    {
        return true;
    }
    let symbol = match module_path {
        "drivers/net/veth.ko" => "CONFIG_VETH=y",
        "fs/overlayfs/overlay.ko" => "CONFIG_OVERLAY_FS=y",
        _ => return false,
    };
    let config = std::fs::read_to_string(format!("/boot/config-{release}"))
        .ok()
        .or_else(|| {
            // /proc/config.gz is gzip-compressed; zcat is on every system that has gzip.
            std::process::Command::new("zcat")
                .arg("/proc/config.gz")
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        });
    config.is_some_and(|c| c.lines().any(|l| l.trim() == symbol))
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
