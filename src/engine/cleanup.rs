//! `containerlab cleanup`: undo what crashed or killed sessions left on the host.
//!
//! A session whose front end still runs is left alone (unless forced); any other session's journal
//! is replayed backwards exactly as a normal teardown would, then its directory is removed.

use super::journal::Journal;
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
    report
}
