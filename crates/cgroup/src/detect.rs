//! Finding the cgroup hierarchies.
//!
//! A cgroup is a directory in a special filesystem: the kernel makes the control files
//! (`memory.max`, `pids.max`, ...) appear by themselves when you `mkdir`. There are two versions of
//! that filesystem. cgroup v1 (`-t cgroup`) mounts one tree *per controller* (memory in
//! `/sys/fs/cgroup/memory`, pids in `/sys/fs/cgroup/pids`, ...), so a process has a place in
//! each tree. cgroup v2 (`-t cgroup2`) is one *unified* tree where every controller that is not
//! bound to a v1 tree lives; its root's `cgroup.controllers` lists them. A "hybrid" machine has
//! both: v1 trees for the classic controllers plus a v2 tree (often at `/sys/fs/cgroup/unified`).
//! Which version drives a controller is read from `/proc/self/mountinfo` (what is mounted where)
//! and the v2 root's `cgroup.controllers`; `/proc/cgroups` tells "disabled" from "not mounted".

use crate::error::Unsupported;
use procfs_core::process::{MountInfo, MountInfos};
use procfs_core::{CGroupControllers, FromBufRead};
use serde::Serialize;
use std::io;
use std::path::{Path, PathBuf};

/// Which cgroup filesystem a controller lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Version {
    V1,
    V2,
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Version::V1 => "cgroup v1",
            Version::V2 => "cgroup v2",
        })
    }
}

/// One mounted hierarchy a controller is driven through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hierarchy {
    pub version: Version,
    /// Where the hierarchy's root is mounted, e.g. `/sys/fs/cgroup/memory`.
    pub mount: PathBuf,
}

/// Where this machine keeps the controllers the lesson uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Layout {
    pub memory: Hierarchy,
    pub pids: Hierarchy,
    /// The cpu controller (cpu.max / v1 cpu.cfs_*), if available.
    pub cpu: Option<Hierarchy>,
    /// Where CPU time is accounted: v1 `cpuacct.usage`, or the v2 tree, whose `cpu.stat` always
    /// reports `usage_usec` even without the cpu controller.
    pub cpuacct: Option<Hierarchy>,
    /// The cgroup2 mount, if one exists (in hybrid mode it may hold none of our controllers).
    pub unified: Option<PathBuf>,
}

/// Reads a v2 root's `cgroup.controllers`, given the mount point; tests pass a fake.
pub type ReadControllers<'a> = &'a dyn Fn(&Path) -> io::Result<String>;

/// Detects the layout of the running machine.
pub fn detect() -> Result<Layout, Unsupported> {
    let mountinfo = read("/proc/self/mountinfo")?;
    // /proc/cgroups only adds detail to error messages; it is fine if a future kernel drops it.
    let cgroups = std::fs::read_to_string("/proc/cgroups").ok();
    Layout::detect_from(&mountinfo, cgroups.as_deref(), &|mount: &Path| {
        std::fs::read_to_string(mount.join("cgroup.controllers"))
    })
}

fn read(path: &str) -> Result<String, Unsupported> {
    std::fs::read_to_string(path).map_err(|source| Unsupported::Read {
        path: path.into(),
        source,
    })
}

impl Layout {
    /// Detects from the text of `/proc/self/mountinfo` and `/proc/cgroups`, reading the v2
    /// root's `cgroup.controllers` through `read_controllers` (so tests need no real machine).
    pub fn detect_from(
        mountinfo: &str,
        cgroups: Option<&str>,
        read_controllers: ReadControllers<'_>,
    ) -> Result<Layout, Unsupported> {
        let mounts =
            MountInfos::from_buf_read(mountinfo.as_bytes()).map_err(|e| Unsupported::Parse {
                path: "/proc/self/mountinfo".into(),
                message: e.to_string(),
            })?;
        let kernel = match cgroups {
            Some(text) => Some(
                CGroupControllers::from_buf_read(text.as_bytes())
                    .map_err(|e| Unsupported::Parse {
                        path: "/proc/cgroups".into(),
                        message: e.to_string(),
                    })?
                    .0,
            ),
            None => None,
        };

        let v1: Vec<&MountInfo> = prefer_root(mounts.iter().filter(|m| m.fs_type == "cgroup"));
        let unified = prefer_root(mounts.iter().filter(|m| m.fs_type == "cgroup2"))
            .first()
            .map(|m| m.mount_point.clone());
        if v1.is_empty() && unified.is_none() {
            return Err(Unsupported::NoCgroupFs);
        }
        let v2_controllers: Vec<String> = match &unified {
            Some(root) => read_controllers(root)
                .map_err(|source| Unsupported::Read {
                    path: root.join("cgroup.controllers"),
                    source,
                })?
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            None => Vec::new(),
        };

        let find = |controller: &str| -> Option<Hierarchy> {
            if let Some(m) = v1.iter().find(|m| m.super_options.contains_key(controller)) {
                return Some(Hierarchy {
                    version: Version::V1,
                    mount: m.mount_point.clone(),
                });
            }
            let root = unified.as_ref()?;
            v2_controllers
                .iter()
                .any(|c| c == controller)
                .then(|| Hierarchy {
                    version: Version::V2,
                    mount: root.clone(),
                })
        };
        let why_missing = |controller: &str| -> String {
            let entry = kernel
                .as_ref()
                .and_then(|k| k.iter().find(|c| c.name == controller));
            match (kernel.as_ref(), entry) {
                (Some(_), None) => format!(
                    "this kernel was built without it (no `{controller}` line in /proc/cgroups)"
                ),
                (_, Some(c)) if !c.enabled => format!(
                    "it is disabled on the kernel command line (`cgroup_disable={controller}`)"
                ),
                _ => match &unified {
                    Some(root) => format!(
                        "no cgroup v1 tree has it mounted and {} does not list it",
                        root.join("cgroup.controllers").display()
                    ),
                    None => "no cgroup v1 tree has it mounted and no cgroup2 tree exists".into(),
                },
            }
        };

        let memory = find("memory").ok_or_else(|| Unsupported::NoMemoryController {
            detail: why_missing("memory"),
        })?;
        let pids = find("pids").ok_or_else(|| Unsupported::NoPidsController {
            detail: why_missing("pids"),
        })?;
        let cpu = find("cpu");
        let cpuacct = find("cpuacct").or_else(|| {
            // v2 has no cpuacct: `cpu.stat` (with usage_usec) exists in every v2 cgroup.
            unified.as_ref().map(|root| Hierarchy {
                version: Version::V2,
                mount: root.clone(),
            })
        });
        Ok(Layout {
            memory,
            pids,
            cpu,
            cpuacct,
            unified,
        })
    }

    /// A layout with every controller in one cgroup2 tree mounted at `root`.
    pub fn v2_at(root: impl Into<PathBuf>) -> Layout {
        let root = root.into();
        let h = Hierarchy {
            version: Version::V2,
            mount: root.clone(),
        };
        Layout {
            memory: h.clone(),
            pids: h.clone(),
            cpu: Some(h.clone()),
            cpuacct: Some(h),
            unified: Some(root),
        }
    }

    /// The version that drives memory, the controller the lesson is about.
    pub fn version(&self) -> Version {
        self.memory.version
    }

    /// The hierarchies of the lesson's controllers with their names, e.g. `("memory", ...)`.
    pub fn controllers(&self) -> Vec<(&'static str, &Hierarchy)> {
        let mut out = vec![("memory", &self.memory), ("pids", &self.pids)];
        if let Some(h) = &self.cpu {
            out.push(("cpu", h));
        }
        if let Some(h) = &self.cpuacct {
            if h.version == Version::V1 {
                out.push(("cpuacct", h));
            }
        }
        out
    }

    /// The distinct mounted trees a lab cgroup needs a directory in, in a stable order.
    pub fn hierarchies(&self) -> Vec<&Hierarchy> {
        let mut out: Vec<&Hierarchy> = Vec::new();
        let all = [
            Some(&self.memory),
            Some(&self.pids),
            self.cpu.as_ref(),
            self.cpuacct.as_ref(),
        ];
        for h in all.into_iter().flatten() {
            if !out.iter().any(|o| o.mount == h.mount) {
                out.push(h);
            }
        }
        out
    }

    /// One sentence for the learner saying which cgroup version is in charge and where.
    pub fn describe(&self) -> String {
        let all_v2 = self
            .controllers()
            .iter()
            .all(|(_, h)| h.version == Version::V2);
        if all_v2 {
            let names: Vec<&str> = self.controllers().iter().map(|(n, _)| *n).collect();
            return format!(
                "cgroup v2 (unified hierarchy) at {}: {} are all controlled in this one tree",
                self.memory.mount.display(),
                join_words(&names)
            );
        }
        let mut placed: Vec<String> = Vec::new();
        for (name, h) in self.controllers() {
            let how = if h.version == Version::V2 {
                " (cgroup v2)"
            } else {
                ""
            };
            placed.push(format!("{name} on {}{how}", h.mount.display()));
        }
        match &self.unified {
            Some(root) => {
                let in_v2 = self
                    .controllers()
                    .iter()
                    .any(|(_, h)| h.version == Version::V2);
                let tail = if in_v2 {
                    format!("the rest live in the cgroup2 tree at {}", root.display())
                } else {
                    format!(
                        "a cgroup2 tree is also mounted at {} but holds none of them",
                        root.display()
                    )
                };
                format!(
                    "cgroup v1 (hybrid): {}, one tree per controller; {tail}",
                    placed.join(", ")
                )
            }
            None => format!(
                "cgroup v1 (legacy): {}, one tree per controller",
                placed.join(", ")
            ),
        }
    }
}

fn join_words(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Mounts of one kind, those showing a hierarchy's real root (`/`) first: a bind mount of a
/// sub-cgroup (as inside a container) is only used when nothing better exists.
fn prefer_root<'a>(mounts: impl Iterator<Item = &'a MountInfo>) -> Vec<&'a MountInfo> {
    let mut v: Vec<&MountInfo> = mounts.collect();
    v.sort_by_key(|m| m.root != "/");
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID_HERE: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";
    const CGROUPS_HYBRID: &str = "\
#subsys_name\thierarchy\tnum_cgroups\tenabled
cpuset\t3\t1\t1
cpu\t1\t1\t1
cpuacct\t2\t1\t1
memory\t4\t15\t1
pids\t8\t1\t1
hugetlb\t0\t1\t1
";
    // Ubuntu 20.04 style: cpu and cpuacct share one tree.
    const V1_ONLY: &str = "\
25 18 0:23 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
28 25 0:26 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,xattr,name=systemd
31 25 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,cpu,cpuacct
32 25 0:30 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,memory
33 25 0:31 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,pids
";
    const V2_ONLY: &str = "\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
26 22 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
";
    const CGROUPS_V2: &str = "\
#subsys_name\thierarchy\tnum_cgroups\tenabled
cpu\t0\t80\t1
cpuacct\t0\t80\t1
memory\t0\t80\t1
pids\t0\t80\t1
";

    fn controllers(list: &'static str) -> impl Fn(&Path) -> io::Result<String> {
        move |_: &Path| Ok(list.to_string())
    }

    fn v1(p: &str) -> Hierarchy {
        Hierarchy {
            version: Version::V1,
            mount: p.into(),
        }
    }

    #[test]
    fn hybrid_uses_the_v1_trees() {
        let l = Layout::detect_from(HYBRID_HERE, Some(CGROUPS_HYBRID), &controllers("hugetlb\n"))
            .unwrap();
        assert_eq!(l.version(), Version::V1);
        assert_eq!(l.memory, v1("/sys/fs/cgroup/memory"));
        assert_eq!(l.pids, v1("/sys/fs/cgroup/pids"));
        assert_eq!(l.cpu, Some(v1("/sys/fs/cgroup/cpu")));
        assert_eq!(l.cpuacct, Some(v1("/sys/fs/cgroup/cpuacct")));
        assert_eq!(l.unified, Some(PathBuf::from("/sys/fs/cgroup/unified")));
        assert_eq!(l.hierarchies().len(), 4);
        let d = l.describe();
        assert!(
            d.starts_with("cgroup v1 (hybrid): memory on /sys/fs/cgroup/memory"),
            "{d}"
        );
        assert!(d.contains("holds none of them"), "{d}");
    }

    #[test]
    fn v1_only_with_comounted_cpu_cpuacct() {
        let l = Layout::detect_from(V1_ONLY, None, &controllers("")).unwrap();
        assert_eq!(l.cpu, Some(v1("/sys/fs/cgroup/cpu,cpuacct")));
        assert_eq!(l.cpuacct, l.cpu);
        assert_eq!(l.unified, None);
        // memory, pids and the shared cpu,cpuacct tree.
        assert_eq!(l.hierarchies().len(), 3);
        assert!(l.describe().starts_with("cgroup v1 (legacy): "));
    }

    #[test]
    fn v2_only_is_one_tree() {
        let l = Layout::detect_from(
            V2_ONLY,
            Some(CGROUPS_V2),
            &controllers("cpuset cpu io memory hugetlb pids rdma misc\n"),
        )
        .unwrap();
        assert_eq!(l, Layout::v2_at("/sys/fs/cgroup"));
        assert_eq!(l.hierarchies().len(), 1);
        assert_eq!(
            l.describe(),
            "cgroup v2 (unified hierarchy) at /sys/fs/cgroup: memory, pids and cpu are all \
             controlled in this one tree"
        );
    }

    #[test]
    fn v2_without_cpu_still_accounts_cpu_time() {
        let l = Layout::detect_from(V2_ONLY, None, &controllers("memory pids")).unwrap();
        assert_eq!(l.cpu, None);
        assert_eq!(l.cpuacct.unwrap().version, Version::V2);
    }

    #[test]
    fn no_cgroupfs_at_all() {
        let text = "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n";
        let e = Layout::detect_from(text, None, &controllers("")).unwrap_err();
        assert!(matches!(e, Unsupported::NoCgroupFs), "{e}");
        assert!(e.to_string().contains("mount -t cgroup2"));
    }

    #[test]
    fn v2_without_memory_names_the_file() {
        let e =
            Layout::detect_from(V2_ONLY, Some(CGROUPS_V2), &controllers("cpu pids")).unwrap_err();
        match e {
            Unsupported::NoMemoryController { detail } => {
                assert!(
                    detail.contains("/sys/fs/cgroup/cgroup.controllers"),
                    "{detail}"
                )
            }
            other => panic!("{other}"),
        }
    }

    #[test]
    fn disabled_memory_is_told_apart() {
        let cgroups = CGROUPS_V2.replace("memory\t0\t80\t1", "memory\t0\t80\t0");
        let e = Layout::detect_from(V2_ONLY, Some(&cgroups), &controllers("cpu pids")).unwrap_err();
        assert!(e.to_string().contains("cgroup_disable=memory"), "{e}");
    }

    #[test]
    fn v1_without_pids_is_its_own_error() {
        let text: String = V1_ONLY
            .lines()
            .filter(|l| !l.contains("pids"))
            .map(|l| format!("{l}\n"))
            .collect();
        let cgroups = "#subsys_name\thierarchy\tnum_cgroups\tenabled\nmemory\t4\t1\t1\n";
        let e = Layout::detect_from(&text, Some(cgroups), &controllers("")).unwrap_err();
        match e {
            Unsupported::NoPidsController { detail } => {
                assert!(detail.contains("built without"), "{detail}")
            }
            other => panic!("{other}"),
        }
    }

    #[test]
    fn a_bind_mounted_subtree_loses_to_the_real_root() {
        // As in a container: memory's tree is first seen bind-mounted from a sub-cgroup.
        let text = format!(
            "50 25 0:30 /docker/abc /mnt/mem rw,relatime - cgroup cgroup rw,memory\n{V1_ONLY}"
        );
        let l = Layout::detect_from(&text, None, &controllers("")).unwrap();
        assert_eq!(l.memory, v1("/sys/fs/cgroup/memory"));
    }

    #[test]
    fn detect_works_on_this_machine() {
        // Any Linux machine that runs the tests has some cgroup setup; it must be understood.
        let l = detect().unwrap();
        assert!(l.memory.mount.starts_with("/sys/fs/cgroup"));
        assert!(!l.describe().is_empty());
    }
}
