//! What a learner's shell changes on the host. A shell entered into a lesson process that still
//! shares the host's mount (or UTS) namespace changes the machine itself: `mount -t tmpfs none
//! /mnt` there mounts on the learner's VM, `hostname x` renames it. The lab made none of this, so
//! its journal does not know it; this watch finds it, and the session journals it for teardown
//! ([`crate::engine::journal::Entry::HostMount`], `HostName`), which undoes it in reverse order
//! with everything else, also after a crash (`containerlab cleanup`).
//!
//! Found by comparing with what the host had when the first such shell opened: a mount that
//! appears in the host's table while a learner's shell shares it is taken to be the learner's.
//! (The lab's own mounts in the host's namespace are all under its session directory and are
//! journaled already; they are left out.)

use crate::engine::journal::Entry;
use crate::inspect::namespaces::{ns_inode, own_ns_inode};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The host as it was when the first host-sharing shell of the lesson opened.
#[derive(Debug, Default)]
pub struct HostWatch {
    /// Mount ids in the host's table then (None: no shell shares the mount namespace yet).
    mounts: Option<BTreeSet<i32>>,
    /// The hostname then (None: no shell shares the UTS namespace yet).
    hostname: Option<String>,
    /// Entries already handed to the journal.
    adopted: Vec<Entry>,
}

/// (mount id, mount point) of every mount in this process's mount table.
fn host_mounts() -> Vec<(i32, PathBuf)> {
    let me = std::process::id() as i32;
    crate::inspect::mounts::mounts_of(me)
        .into_iter()
        .map(|m| (m.id, PathBuf::from(m.mount_point)))
        .collect()
}

fn hostname() -> Option<String> {
    nix::unistd::gethostname()
        .ok()
        .map(|h| h.to_string_lossy().into_owned())
}

impl HostWatch {
    /// A shell was opened in `pid`: start watching what it shares with the host (the session
    /// runs in the host's namespaces).
    pub fn shell_opened(&mut self, pid: i32) {
        let shares = |kind| ns_inode(pid, kind).is_some_and(|i| Some(i) == own_ns_inode(kind));
        if self.mounts.is_none() && shares("mnt") {
            self.mounts = Some(host_mounts().into_iter().map(|(id, _)| id).collect());
        }
        if self.hostname.is_none() && shares("uts") {
            self.hostname = hostname();
        }
    }

    /// What changed on the host since the watch began and is not journaled yet; `session` is the
    /// lab's own directory (its mounts are the lab's, journaled when made).
    pub fn changes(&mut self, session: &Path) -> Vec<Entry> {
        let mut found = Vec::new();
        if let Some(before) = &self.mounts {
            for (id, target) in host_mounts() {
                if !before.contains(&id) && !target.starts_with(session) {
                    found.push(Entry::HostMount {
                        target,
                        mount_id: id,
                    });
                }
            }
        }
        if let Some(name) = &self.hostname {
            if hostname().as_ref() != Some(name) {
                found.push(Entry::HostName { name: name.clone() });
            }
        }
        found.retain(|e| !self.adopted.contains(e));
        self.adopted.extend(found.iter().cloned());
        found
    }
}
