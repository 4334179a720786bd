//! The journal: every kernel object the lab creates on the host, written down the moment it exists.
//!
//! Objects that live only inside a sandbox's own namespaces die with them; everything that would
//! outlive the sandbox (its processes, directories, mounts that reach the host's mount table,
//! cgroups, network links, IPC objects) gets one JSON line here, appended and flushed right after
//! the call that made it succeeded. Teardown replays the file backwards, so a run that ends well,
//! fails, is interrupted, or is killed outright (then `containerlab cleanup` does it) leaves the
//! host as it found it.
//!
//! A network namespace a lesson makes (the bridge lesson's stand-in host `gw`, say) is held by
//! the sandbox process that unshared or was cloned into it, and that process is journaled. What
//! lives in such a namespace is not: its bridge, the veth ends still in it, its
//! `net.ipv4.ip_forward` and its nftables rules are freed by the kernel with the namespace when
//! its last process is gone, and teardown, which runs in the host's namespaces, must not touch
//! a host object that happens to have the same name. So teardown ends the processes and the
//! kernel does the rest; policy rule 5 keeps nftables rules out of the host's namespace.

use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// One object on the host that the lab made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Entry {
    /// A process; `start_time` (field 22 of /proc/PID/stat) tells it apart from a later process
    /// that reuses the number.
    Process {
        name: String,
        pid: i32,
        start_time: u64,
    },
    /// A directory the lab made (removed with everything in it).
    Dir { path: PathBuf },
    /// A mount visible in the host's mount table.
    Mount { target: PathBuf },
    /// A cgroup directory.
    Cgroup { path: PathBuf },
    /// v2 controllers the lab switched on in a `cgroup.subtree_control` that outlives it (the
    /// root's), written down just before the write; undone with `-controller`.
    Controllers {
        file: PathBuf,
        controllers: Vec<String>,
    },
    /// A network link in the host's network namespace (deleting one end of a veth deletes both).
    Link { name: String },
    /// A System V shared memory segment, by id.
    SysvShm { id: i32 },
    /// A POSIX message queue, by name.
    PosixMq { name: String },
    /// A mount a learner's shell made in the host's mount namespace (the lab found it there; it
    /// did not make it). Detached only while the mount with this id is still the top one at
    /// `target`: the learner may have unmounted it already, and then `target` shows the host's
    /// own mount again, which must stay.
    HostMount { target: PathBuf, mount_id: i32 },
    /// The host's hostname before a learner's shell that shares the host's UTS namespace
    /// changed it; teardown sets it back.
    HostName { name: String },
}

impl std::fmt::Display for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Entry::Process { name, pid, .. } => write!(f, "process {name} (pid {pid})"),
            Entry::Dir { path } => write!(f, "directory {}", path.display()),
            Entry::Mount { target } => write!(f, "mount on {}", target.display()),
            Entry::Cgroup { path } => write!(f, "cgroup {}", path.display()),
            Entry::Controllers { file, controllers } => write!(
                f,
                "controllers {} handed down in {}",
                controllers.join(" "),
                file.display()
            ),
            Entry::Link { name } => write!(f, "network link {name}"),
            Entry::SysvShm { id } => write!(f, "System V shared memory segment {id}"),
            Entry::PosixMq { name } => write!(f, "POSIX message queue {name}"),
            Entry::HostMount { target, mount_id } => write!(
                f,
                "mount {mount_id} a learner's shell made on {}",
                target.display()
            ),
            Entry::HostName { name } => write!(f, "the host's hostname {name}"),
        }
    }
}

/// An append-only journal file. Cloned file handles (after fork) append to the same file.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: File,
}

impl Journal {
    pub fn open(path: &Path) -> std::io::Result<Journal> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Journal {
            path: path.to_path_buf(),
            file,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes one entry as a single `write(2)` of a whole line (O_APPEND keeps lines from
    /// several processes whole), then syncs it, so a crash right after still finds it.
    pub fn append(&mut self, entry: &Entry) -> std::io::Result<()> {
        let mut line = serde_json::to_string(entry).map_err(std::io::Error::other)?;
        line.push('\n');
        self.file.write_all(line.as_bytes())?;
        self.file.sync_data()
    }

    /// Every entry in the order written. A torn last line (a crash mid-write) is skipped.
    pub fn read(path: &Path) -> std::io::Result<Vec<Entry>> {
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut entries = Vec::new();
        for line in BufReader::new(file).lines() {
            if let Ok(entry) = serde_json::from_str(&line?) {
                entries.push(entry);
            }
        }
        Ok(entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_come_back_in_order_and_torn_lines_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        let mut j = Journal::open(&path).unwrap();
        j.append(&Entry::Dir {
            path: "/run/x".into(),
        })
        .unwrap();
        j.append(&Entry::Link {
            name: "clab-h0".into(),
        })
        .unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"kind\":\"mou")
            .unwrap();
        let got = Journal::read(&path).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[1],
            Entry::Link {
                name: "clab-h0".into()
            }
        );
    }
}
