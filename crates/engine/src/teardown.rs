//! Undoing what the journal lists, newest first.
//!
//! Each kind of object has one way back: processes are killed (after checking that the pid still
//! names the same process), mounts detached, cgroups emptied and removed, links deleted, IPC
//! objects removed, directories deleted once nothing is mounted below them. "Already gone" counts
//! as undone, so teardown can run twice, and a failure does not stop the rest: the report lists
//! both what was undone and what could not be.

use super::host_objects::UndoError;
use super::journal::Entry;
use super::rundir::start_time;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::path::Path;
use std::time::{Duration, Instant};

/// What teardown did and what it could not do.
#[derive(Debug, Default, Clone)]
pub struct TeardownReport {
    pub undone: Vec<String>,
    pub failures: Vec<String>,
}

impl TeardownReport {
    pub fn is_clean(&self) -> bool {
        self.failures.is_empty()
    }

    pub fn merge(&mut self, other: TeardownReport) {
        self.undone.extend(other.undone);
        self.failures.extend(other.failures);
    }
}

/// Undoes `entries` from the last to the first.
pub fn undo(entries: &[Entry]) -> TeardownReport {
    let mut report = TeardownReport::default();
    for entry in entries.iter().rev() {
        match undo_one(entry) {
            Ok(()) => report.undone.push(entry.to_string()),
            Err(e) => report.failures.push(format!("{entry}: {e}")),
        }
    }
    report
}

fn undo_one(entry: &Entry) -> Result<(), UndoError> {
    match entry {
        Entry::Process {
            pid, start_time: t, ..
        } => kill_process(*pid, *t),
        Entry::Mount { target } => detach(target),
        Entry::Dir { path } => remove_dir(path),
        Entry::Cgroup { path } => super::host_objects::remove_cgroup(path),
        Entry::Controllers { file, controllers } => {
            super::host_objects::take_back_controllers(file, controllers)
        }
        Entry::Link { name } => super::host_objects::delete_link(name),
        Entry::SysvShm { id } => super::host_objects::remove_shm(*id),
        Entry::PosixMq { name } => super::host_objects::unlink_mq(name),
        Entry::HostMount { target, mount_id } => detach_if_top(target, *mount_id),
        Entry::HostName { name } => restore_hostname(name),
    }
}

/// Detaches the mount `id` at `target` if it is the top one there (the one a path lookup finds).
fn detach_if_top(target: &Path, id: i32) -> Result<(), UndoError> {
    let mounts = procfs::process::Process::myself()
        .and_then(|p| p.mountinfo())
        .map_err(|e| UndoError::Mountinfo(e.to_string()))?;
    let here: Vec<_> = mounts
        .into_iter()
        .filter(|m| m.mount_point == target)
        .collect();
    if !here.iter().any(|m| m.mnt_id == id) {
        return Ok(()); // Unmounted already.
    }
    // Stacked on one point, each mount's parent is the one below: the top is nobody's parent.
    let on_top = !here.iter().any(|m| m.pid == id);
    if !on_top {
        return Err(UndoError::Covered);
    }
    match nix::mount::umount2(target, nix::mount::MntFlags::MNT_DETACH) {
        Ok(()) | Err(nix::Error::EINVAL) | Err(nix::Error::ENOENT) => Ok(()),
        Err(e) => Err(UndoError::Umount(e)),
    }
}

fn restore_hostname(name: &str) -> Result<(), UndoError> {
    let now = nix::unistd::gethostname().map_err(UndoError::Hostname)?;
    if now.to_string_lossy() == name {
        return Ok(());
    }
    nix::unistd::sethostname(name).map_err(UndoError::Hostname)
}

fn kill_process(pid: i32, started: u64) -> Result<(), UndoError> {
    match start_time(pid) {
        Ok(t) if t == started || started == 0 => {}
        // Gone, a zombie, or the number now names another process: nothing of ours to kill.
        _ => return Ok(()),
    }
    match kill(Pid::from_raw(pid), Signal::SIGKILL) {
        Ok(()) | Err(nix::Error::ESRCH) => {}
        Err(e) => return Err(UndoError::Kill(e)),
    }
    // Our own child is reaped by whoever waits for it; here we only wait until it is dead.
    let deadline = Instant::now() + Duration::from_secs(5);
    while start_time(pid).is_ok_and(|t| t == started) {
        if Instant::now() > deadline {
            return Err(UndoError::StillRunning);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}

/// Mount points at or below `dir` in this process's mount table, deepest first.
pub fn mounts_below(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found: Vec<std::path::PathBuf> = procfs::process::Process::myself()
        .and_then(|p| p.mountinfo())
        .map(|m| {
            m.into_iter()
                .map(|mi| mi.mount_point)
                .filter(|mp| mp.starts_with(dir))
                .collect()
        })
        .unwrap_or_default();
    found.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    found
}

fn detach(target: &Path) -> Result<(), UndoError> {
    // A mount can be stacked several times on one point; detach until none is left.
    for _ in 0..16 {
        if !mounts_below(target).iter().any(|m| m == target) {
            return Ok(());
        }
        match nix::mount::umount2(target, nix::mount::MntFlags::MNT_DETACH) {
            Ok(()) | Err(nix::Error::EINVAL) | Err(nix::Error::ENOENT) => {}
            Err(e) => return Err(UndoError::Umount(e)),
        }
    }
    Err(UndoError::StillMounted)
}

fn remove_dir(path: &Path) -> Result<(), UndoError> {
    // Never delete through a mount point: that would delete what the mount shows (a bind mount
    // of a host directory, say). Detach everything below first.
    for mount in mounts_below(path) {
        detach(&mount)?;
    }
    match std::fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(UndoError::Remove(e)),
    }
}
