//! Undoing what the journal lists, newest first.
//!
//! Each kind of object has one way back: processes are killed (after checking that the pid still
//! names the same process), mounts detached, cgroups emptied and removed, links deleted, IPC
//! objects removed, directories deleted once nothing is mounted below them. "Already gone" is no
//! failure, so teardown can run twice, and a failure does not stop the rest: the report lists
//! what was undone now, what was already gone, what was left in use, and what could not be undone.

use super::host_objects::UndoError;
pub use super::host_objects::Undone;
use super::journal::Entry;
use super::rundir::start_time;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::path::Path;
use std::time::{Duration, Instant};

/// What teardown did and what it could not do.
#[derive(Debug, Default, Clone)]
pub struct TeardownReport {
    /// Removed now.
    pub undone: Vec<String>,
    /// Nothing left to undo (a process that had died, a veth that went with its namespace).
    pub already_gone: Vec<String>,
    /// Left because something else uses it now (see [`Undone::InUse`]).
    pub in_use: Vec<String>,
    pub failures: Vec<String>,
}

impl TeardownReport {
    pub fn is_clean(&self) -> bool {
        self.failures.is_empty()
    }

    /// "removed 2 object(s), 3 already gone": what `cleanup` says of a session.
    pub fn summary(&self) -> String {
        let mut s = format!("removed {} object(s)", self.undone.len());
        if !self.already_gone.is_empty() {
            s.push_str(&format!(", {} already gone", self.already_gone.len()));
        }
        if !self.in_use.is_empty() {
            s.push_str(&format!(", {} left in use", self.in_use.len()));
        }
        s
    }

    pub fn merge(&mut self, other: TeardownReport) {
        self.undone.extend(other.undone);
        self.already_gone.extend(other.already_gone);
        self.in_use.extend(other.in_use);
        self.failures.extend(other.failures);
    }
}

/// Undoes `entries` from the last to the first.
pub fn undo(entries: &[Entry]) -> TeardownReport {
    let mut report = TeardownReport::default();
    for entry in entries.iter().rev() {
        match undo_one(entry) {
            Ok(Undone::Now) => report.undone.push(entry.to_string()),
            Ok(Undone::AlreadyGone) => report.already_gone.push(entry.to_string()),
            Ok(Undone::InUse) => report.in_use.push(entry.to_string()),
            Err(e) => report.failures.push(format!("{entry}: {e}")),
        }
    }
    report
}

fn undo_one(entry: &Entry) -> Result<Undone, UndoError> {
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
fn detach_if_top(target: &Path, id: i32) -> Result<Undone, UndoError> {
    let mounts = procfs::process::Process::myself()
        .and_then(|p| p.mountinfo())
        .map_err(|e| UndoError::Mountinfo(e.to_string()))?;
    let here: Vec<_> = mounts
        .into_iter()
        .filter(|m| m.mount_point == target)
        .collect();
    if !here.iter().any(|m| m.mnt_id == id) {
        return Ok(Undone::AlreadyGone); // The learner unmounted it.
    }
    // Stacked on one point, each mount's parent is the one below: the top is nobody's parent.
    let on_top = !here.iter().any(|m| m.pid == id);
    if !on_top {
        return Err(UndoError::Covered);
    }
    match nix::mount::umount2(target, nix::mount::MntFlags::MNT_DETACH) {
        Ok(()) => Ok(Undone::Now),
        Err(nix::Error::EINVAL) | Err(nix::Error::ENOENT) => Ok(Undone::AlreadyGone),
        Err(e) => Err(UndoError::Umount(e)),
    }
}

fn restore_hostname(name: &str) -> Result<Undone, UndoError> {
    let now = nix::unistd::gethostname().map_err(UndoError::Hostname)?;
    if now.to_string_lossy() == name {
        return Ok(Undone::AlreadyGone);
    }
    nix::unistd::sethostname(name).map_err(UndoError::Hostname)?;
    Ok(Undone::Now)
}

fn kill_process(pid: i32, started: u64) -> Result<Undone, UndoError> {
    match start_time(pid) {
        Ok(t) if t == started || started == 0 => {}
        // Gone, a zombie, or the number now names another process: nothing of ours to kill.
        _ => return Ok(Undone::AlreadyGone),
    }
    match kill(Pid::from_raw(pid), Signal::SIGKILL) {
        Ok(()) => {}
        Err(nix::Error::ESRCH) => return Ok(Undone::AlreadyGone),
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
    Ok(Undone::Now)
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

fn detach(target: &Path) -> Result<Undone, UndoError> {
    // A mount can be stacked several times on one point; detach until none is left.
    for round in 0..16 {
        if !mounts_below(target).iter().any(|m| m == target) {
            return Ok(if round == 0 {
                Undone::AlreadyGone
            } else {
                Undone::Now
            });
        }
        match nix::mount::umount2(target, nix::mount::MntFlags::MNT_DETACH) {
            Ok(()) | Err(nix::Error::EINVAL) | Err(nix::Error::ENOENT) => {}
            Err(e) => return Err(UndoError::Umount(e)),
        }
    }
    Err(UndoError::StillMounted)
}

fn remove_dir(path: &Path) -> Result<Undone, UndoError> {
    // Never delete through a mount point: that would delete what the mount shows (a bind mount
    // of a host directory, say). Detach everything below first.
    for mount in mounts_below(path) {
        detach(&mount)?;
    }
    match std::fs::remove_dir_all(path) {
        Ok(()) => Ok(Undone::Now),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Undone::AlreadyGone),
        Err(e) => Err(UndoError::Remove(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn process(child: &std::process::Child) -> Entry {
        let pid = child.id() as i32;
        Entry::Process {
            name: "p".into(),
            pid,
            start_time: start_time(pid).unwrap(),
        }
    }

    #[test]
    fn what_was_gone_already_is_reported_apart_from_what_was_removed() {
        let dir = tempfile::tempdir().unwrap();
        let made = dir.path().join("made");
        std::fs::create_dir(&made).unwrap();
        let mut running = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        // A process that died (and was reaped) before teardown came to it.
        let mut died = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let died_entry = process(&died);
        died.kill().unwrap();
        died.wait().unwrap();
        let entries = vec![
            Entry::Dir { path: made.clone() },
            process(&running),
            died_entry,
            Entry::Dir {
                path: dir.path().join("never-made"),
            },
            Entry::Mount {
                target: dir.path().join("not-mounted"),
            },
            Entry::PosixMq {
                name: format!("/clab-test-none-{}", std::process::id()),
            },
        ];
        let report = undo(&entries);
        // Reaped, so it cannot linger as a zombie of this test.
        running.wait().unwrap();
        assert!(report.failures.is_empty(), "{report:?}");
        assert_eq!(
            report.undone,
            vec![
                format!("process p (pid {})", running.id()),
                format!("directory {}", made.display()),
            ]
        );
        assert_eq!(report.already_gone.len(), 4, "{report:?}");
        assert!(report.already_gone[3].starts_with("process p"));
        assert!(!made.exists());
        assert_eq!(report.summary(), "removed 2 object(s), 4 already gone");
    }
}
