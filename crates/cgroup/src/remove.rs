//! Removing cgroups.
//!
//! `rmdir` deletes a cgroup only once it holds no processes and no child cgroups, so removal
//! first empties it: v2 (kernel ≥ 5.14) has `cgroup.kill`, where writing `1` SIGKILLs every
//! process in the cgroup and below; otherwise each pid in `cgroup.procs` gets SIGKILL. The kernel
//! takes processes out of `cgroup.procs` as they die, so we wait for it to empty, a bounded number
//! of times, then `rmdir` from the deepest directory up.

use crate::create::PARENT;
use crate::detect::Layout;
use crate::error::{Error, Result};
use crate::fsops;
use crate::lab::LabCgroup;
use containerlab_trace::Trace;
use nix::errno::Errno;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long to wait, in steps of [`STEP`], for killed processes to leave / a cgroup to go.
const TRIES: u32 = 500;
const STEP: Duration = Duration::from_millis(10);

impl LabCgroup {
    /// Kills whatever still runs in the cgroup and removes every directory it made, deepest
    /// first. A shared `containerlab` parent that another lab still uses is left in place.
    pub fn remove(&self, trace: &mut Trace) -> Result<()> {
        for leaf in &self.leaves {
            if leaf.exists() {
                kill_members(leaf, trace)?;
            }
        }
        for dir in self.made.iter().rev() {
            let is_leaf = self.leaves.contains(dir);
            match rmdir_when_empty(dir, trace) {
                Ok(()) => {}
                // The parent is shared with other labs: still in use is fine.
                Err(e)
                    if !is_leaf
                        && matches!(e.errno(), Some(Errno::EBUSY) | Some(Errno::ENOTEMPTY)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// The `containerlab` parent directories that exist now, one per hierarchy, so a cleanup pass
/// can find cgroups left behind by a crash.
pub fn lab_parents(layout: &Layout) -> Vec<PathBuf> {
    layout
        .hierarchies()
        .iter()
        .map(|h| h.mount.join(PARENT))
        .filter(|p| p.is_dir())
        .collect()
}

/// Removes the cgroup at `path` and everything below it, killing their processes: crash
/// cleanup. A path that is already gone counts as success. Only paths inside a directory called
/// `containerlab` or starting with `clab` are accepted, so a wrong path cannot kill the machine.
pub fn remove_tree(path: &Path, trace: &mut Trace) -> Result<()> {
    if !is_ours(path) {
        return Err(Error::NotOurs { path: path.into() });
    }
    let entries = match std::fs::read_dir(path) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io("read", path, e)),
    };
    for entry in entries.flatten() {
        if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            remove_tree(&entry.path(), trace)?;
        }
    }
    match kill_members(path, trace) {
        Err(e) if e.errno() == Some(Errno::ENOENT) => return Ok(()),
        r => r?,
    }
    rmdir_when_empty(path, trace)
}

fn is_ours(path: &Path) -> bool {
    path.components().any(|c| {
        let s = c.as_os_str().to_string_lossy();
        s == PARENT || s.starts_with("clab")
    })
}

/// SIGKILLs every process in the cgroup at `dir` and waits until `cgroup.procs` is empty.
pub(crate) fn kill_members(dir: &Path, trace: &mut Trace) -> Result<()> {
    let procs_file = dir.join("cgroup.procs");
    let mut members = fsops::read_procs(&procs_file)?;
    if members.is_empty() {
        return Ok(());
    }
    let kill_file = dir.join("cgroup.kill");
    let has_kill = kill_file.exists();
    if has_kill {
        fsops::write(&kill_file, "1", trace)?;
    }
    let mut signalled = BTreeSet::new();
    for _ in 0..TRIES {
        if !has_kill {
            // A pid seen again after its SIGKILL is still dying; signal only new ones.
            for &pid in &members {
                if signalled.insert(pid) {
                    let r = kill(Pid::from_raw(pid), Signal::SIGKILL);
                    let _ = trace.record(format!("kill({pid}, SIGKILL)"), r);
                }
            }
        }
        std::thread::sleep(STEP);
        members = fsops::read_procs(&procs_file)?;
        if members.is_empty() {
            return Ok(());
        }
    }
    Err(Error::StillPopulated {
        path: dir.into(),
        pids: members,
    })
}

/// `rmdir`, retried while the kernel still reports the cgroup busy (its last processes can take
/// a moment to be fully gone after leaving `cgroup.procs`). Already gone counts as removed.
fn rmdir_when_empty(dir: &Path, trace: &mut Trace) -> Result<()> {
    // On v2, wait for `populated 0` first so the traced rmdir normally succeeds the first time.
    let events = dir.join("cgroup.events");
    for _ in 0..TRIES {
        match fsops::read_keyed(&events) {
            Ok(ev) if ev.get("populated").copied().unwrap_or(0) != 0 => std::thread::sleep(STEP),
            _ => break,
        }
    }
    let mut tries = 0;
    loop {
        tries += 1;
        match fsops::rmdir(dir, trace) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(Errno::EBUSY as i32) && tries < 50 => {
                // Busy only while the kernel finishes tearing down exiting tasks.
                if fsops::read_procs(&dir.join("cgroup.procs"))
                    .map(|p| !p.is_empty())
                    .unwrap_or(false)
                {
                    return Err(Error::io("rmdir", dir, e));
                }
                std::thread::sleep(STEP * 5);
            }
            Err(e) => return Err(Error::io("rmdir", dir, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_paths_are_removed() {
        let mut t = Trace::new();
        let e = remove_tree(Path::new("/sys/fs/cgroup/memory"), &mut t).unwrap_err();
        assert!(matches!(e, Error::NotOurs { .. }), "{e}");
        assert!(t.is_empty());
        assert!(is_ours(Path::new("/sys/fs/cgroup/memory/containerlab/s1")));
        assert!(is_ours(Path::new("/sys/fs/cgroup/unified/clab-test")));
    }

    #[test]
    fn a_gone_tree_is_removed_already() {
        let mut t = Trace::new();
        remove_tree(Path::new("/nonexistent/containerlab/x"), &mut t).unwrap();
        assert!(t.is_empty());
    }
}
