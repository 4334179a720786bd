//! `containerlab cleanup`: undo what crashed or killed sessions left on the host.
//!
//! A session whose front end still runs is left alone (unless forced); any other session's journal
//! is replayed backwards exactly as a normal teardown would, then its directory is removed.

use super::journal::{Entry, Journal};
use super::rundir::RunDir;
use super::sandbox::remove_rundir;
use super::teardown::{self, TeardownReport};

/// What cleanup found and did, session by session.
#[derive(Debug, Default)]
pub struct CleanupReport {
    pub sessions: Vec<(String, TeardownReport)>,
    /// Sessions left alone because their owner still runs: (id, owner pid).
    pub skipped: Vec<(String, i32)>,
}

impl CleanupReport {
    pub fn is_clean(&self) -> bool {
        self.sessions.iter().all(|(_, r)| r.is_clean())
    }
}

pub fn cleanup(force: bool) -> CleanupReport {
    let mut report = CleanupReport::default();
    for rundir in RunDir::all() {
        if let Some(owner) = rundir.owner() {
            if owner.alive() && !force {
                report.skipped.push((rundir.id.clone(), owner.pid));
                continue;
            }
        }
        let entries = Journal::read(&rundir.journal_path()).unwrap_or_default();
        let mut done = teardown::undo(&entries);
        done.merge(remove_rundir(&rundir));
        report.sessions.push((rundir.id.clone(), done));
    }
    // Objects made in the instant between a syscall and its journal line have no entry; they
    // still carry the lab's names. Sweep them only when no session is running, so a live
    // lesson's objects are never touched.
    if report.skipped.is_empty() {
        let swept = sweep();
        if !swept.undone.is_empty() || !swept.failures.is_empty() {
            report
                .sessions
                .push(("unjournaled leftovers".into(), swept));
        }
    }
    report
}

/// Removes anything named like the lab's on the host: mounts under the run directory, `clab*`
/// links in this network namespace, and the cgroup parents `containerlab`.
pub fn sweep() -> TeardownReport {
    let mut entries = Vec::new();
    let base = super::rundir::base();
    // Shallowest first: teardown undoes in reverse, so the deepest mounts go first.
    let mut mounts = teardown::mounts_below(&base);
    mounts.reverse();
    entries.extend(mounts.into_iter().map(|target| Entry::Mount { target }));
    if let Ok(dir) = std::fs::read_dir("/sys/class/net") {
        for link in dir.flatten() {
            let name = link.file_name().to_string_lossy().into_owned();
            if name.starts_with(super::rundir::PREFIX) {
                entries.push(Entry::Link { name });
            }
        }
    }
    if let Ok(layout) = containerlab_cgroup::detect() {
        for parent in containerlab_cgroup::lab_parents(&layout) {
            // The parent first (undone last), then each session's cgroup below it.
            entries.push(Entry::Cgroup {
                path: parent.clone(),
            });
            for child in std::fs::read_dir(&parent).into_iter().flatten().flatten() {
                if child.file_type().is_ok_and(|t| t.is_dir()) {
                    entries.push(Entry::Cgroup { path: child.path() });
                }
            }
        }
    }
    teardown::undo(&entries)
}
