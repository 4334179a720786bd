//! Making a lab cgroup.
//!
//! The lab keeps its cgroups under a parent called `containerlab` in each hierarchy, so cleanup
//! knows what is ours. On cgroup v1 a process has a place in every tree, so the lab cgroup is one
//! directory per tree (memory, pids, cpu, cpuacct). On cgroup v2 there is one tree, and a
//! controller only works in a cgroup if its parent *hands it down*: writing `+memory` to the
//! parent's `cgroup.subtree_control`. A cgroup that hands controllers down may not hold processes
//! itself (the "no internal processes" rule; only the root is exempt), which is why `containerlab`
//! stays empty and the processes go into `containerlab/<name>`.

use crate::detect::{Hierarchy, Layout, Version};
use crate::error::{Error, Result};
use crate::fsops;
use crate::lab::{Dir, LabCgroup};
use containerlab_trace::Trace;
use nix::errno::Errno;
use std::path::{Path, PathBuf};

/// The directory every lab cgroup lives under, in each hierarchy.
pub const PARENT: &str = "containerlab";

/// How often `create` starts over when another session removed the shared parent under it.
const ATTEMPTS: usize = 3;

impl Layout {
    /// Creates `<mount>/containerlab/<name>` in every hierarchy the lesson uses. `on_created` is
    /// called right after each directory is made (also `containerlab` when it was new), so the
    /// caller can journal it for crash cleanup before anything else happens.
    pub fn create(
        &self,
        name: &str,
        trace: &mut Trace,
        on_created: &mut dyn FnMut(&Path),
    ) -> Result<LabCgroup> {
        check_name(name)?;
        let mut made: Vec<PathBuf> = Vec::new();
        let mut leaves: Vec<(PathBuf, PathBuf)> = Vec::new();
        for h in self.hierarchies() {
            let mut record = |p: &Path| {
                made.push(p.to_path_buf());
                on_created(p);
            };
            match self.make_one(h, name, trace, &mut record) {
                Ok(leaf) => leaves.push((h.mount.clone(), leaf)),
                Err(e) => {
                    // Undo what this call made; a shared parent still in use just stays.
                    for d in made.iter().rev() {
                        let _ = fsops::rmdir(d, trace);
                    }
                    return Err(e);
                }
            }
        }
        Ok(self.lab_from(name, made, &leaves))
    }

    /// What [`Layout::create`] would newly switch on at the top of each v2 tree: the root's
    /// `cgroup.subtree_control` and the controllers not handed down there yet. The `containerlab`
    /// directory's own handover goes with the directory; the root's outlives it, so a caller
    /// that leaves the host as it found it records these before creating and hands them back
    /// after. (On systemd hosts memory and pids are handed down already and this is empty.)
    pub fn root_handovers(&self) -> Vec<(PathBuf, Vec<String>)> {
        self.hierarchies()
            .into_iter()
            .filter(|h| h.version == Version::V2)
            .filter_map(|h| {
                let file = h.mount.join("cgroup.subtree_control");
                let enabled = std::fs::read_to_string(&file).unwrap_or_default();
                let missing: Vec<String> = self
                    .v2_controllers(&h.mount)
                    .into_iter()
                    .filter(|c| !enabled.split_whitespace().any(|e| e == *c))
                    .map(String::from)
                    .collect();
                (!missing.is_empty()).then_some((file, missing))
            })
            .collect()
    }

    /// A handle on an existing lab cgroup called `name` (made earlier, maybe by another process).
    /// Nothing is created; [`LabCgroup::paths`] lists just its own directories.
    pub fn open(&self, name: &str) -> Result<LabCgroup> {
        check_name(name)?;
        let leaves: Vec<(PathBuf, PathBuf)> = self
            .hierarchies()
            .iter()
            .map(|h| (h.mount.clone(), h.mount.join(PARENT).join(name)))
            .collect();
        let made = leaves.iter().map(|(_, l)| l.clone()).collect();
        Ok(self.lab_from(name, made, &leaves))
    }

    fn lab_from(&self, name: &str, made: Vec<PathBuf>, leaves: &[(PathBuf, PathBuf)]) -> LabCgroup {
        let dir = |h: &Hierarchy| Dir {
            version: h.version,
            path: leaves
                .iter()
                .find(|(m, _)| *m == h.mount)
                .map(|(_, l)| l.clone())
                .expect("every hierarchy got a directory"),
        };
        LabCgroup {
            name: name.to_string(),
            memory: dir(&self.memory),
            pids: dir(&self.pids),
            cpu: self.cpu.as_ref().map(dir),
            cpuacct: self.cpuacct.as_ref().map(dir),
            leaves: leaves.iter().map(|(_, l)| l.clone()).collect(),
            made,
        }
    }

    /// The v2 controllers this layout drives through the tree mounted at `mount`.
    fn v2_controllers(&self, mount: &Path) -> Vec<&'static str> {
        self.controllers()
            .into_iter()
            .filter(|(_, h)| h.version == Version::V2 && h.mount == mount)
            .map(|(n, _)| n)
            .collect()
    }

    fn make_one(
        &self,
        h: &Hierarchy,
        name: &str,
        trace: &mut Trace,
        record: &mut dyn FnMut(&Path),
    ) -> Result<PathBuf> {
        let parent = h.mount.join(PARENT);
        let leaf = parent.join(name);
        let enable = self.v2_controllers(&h.mount);
        if !enable.is_empty() {
            enable_controllers(&h.mount, &enable, trace)?;
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            match fsops::mkdir(&parent, trace) {
                Ok(()) => record(&parent),
                Err(e) if e.raw_os_error() == Some(Errno::EEXIST as i32) => {}
                Err(e) => return Err(Error::io("mkdir", &parent, e)),
            }
            if !enable.is_empty() {
                enable_controllers(&parent, &enable, trace)?;
            }
            match fsops::mkdir(&leaf, trace) {
                Ok(()) => {
                    record(&leaf);
                    return Ok(leaf);
                }
                // Another session removed the shared parent between our two mkdirs.
                Err(e) if e.raw_os_error() == Some(Errno::ENOENT as i32) && attempt < ATTEMPTS => {}
                Err(e) => return Err(Error::io("mkdir", &leaf, e)),
            }
        }
    }
}

/// Hands `controllers` down from the cgroup `dir` to its children (v2 only).
fn enable_controllers(dir: &Path, controllers: &[&str], trace: &mut Trace) -> Result<()> {
    let file = dir.join("cgroup.subtree_control");
    let line = |cs: &[&str]| {
        cs.iter()
            .map(|c| format!("+{c}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    match fsops::write(&file, &line(controllers), trace) {
        Ok(_) => Ok(()),
        // The cpu controller can be refused (e.g. real-time tasks with RT group scheduling);
        // the lesson needs memory and pids, and cpu.stat's usage_usec is there regardless.
        Err(_) if controllers.contains(&"cpu") => {
            let rest: Vec<&str> = controllers
                .iter()
                .copied()
                .filter(|c| *c != "cpu")
                .collect();
            fsops::write(&file, &line(&rest), trace).map(|_| ())
        }
        Err(e) => Err(e),
    }
}

fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidName { name: name.into() })
    }
}
