//! Where a session keeps its journal and its files on the host: `/run/containerlab/<session>/`.
//!
//! `/run` is a tmpfs, so nothing the lab leaves there survives a reboot, and everything the lab
//! makes is under one recognisable prefix. `owner.json` names the front-end process that owns the
//! session, so `containerlab cleanup` can tell a crashed session from one still running.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The prefix of every kernel object name the lab makes (links, cgroups, session ids).
pub const PREFIX: &str = "clab";

/// The directory that holds all sessions; `CONTAINERLAB_RUN_DIR` moves it (tests do).
pub fn base() -> PathBuf {
    std::env::var_os("CONTAINERLAB_RUN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/run/containerlab"))
}

/// Who owns a session: the front end's pid and its start time (pids get reused).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    pub pid: i32,
    pub start_time: u64,
}

impl Owner {
    pub fn me() -> std::io::Result<Owner> {
        let pid = std::process::id() as i32;
        Ok(Owner {
            pid,
            start_time: start_time(pid)?,
        })
    }

    /// Whether this very process still runs.
    pub fn alive(&self) -> bool {
        start_time(self.pid).is_ok_and(|t| t == self.start_time)
    }
}

/// Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot.
pub fn start_time(pid: i32) -> std::io::Result<u64> {
    let stat = procfs::process::Process::new(pid)
        .and_then(|p| p.stat())
        .map_err(std::io::Error::other)?;
    if stat.state == 'Z' || stat.state == 'X' {
        return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
    }
    Ok(stat.starttime)
}

/// One session's directory.
#[derive(Debug, Clone)]
pub struct RunDir {
    pub id: String,
    pub dir: PathBuf,
}

impl RunDir {
    /// Makes a new session directory owned by this process.
    pub fn create() -> std::io::Result<RunDir> {
        let base = base();
        std::fs::create_dir_all(&base)?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let id = format!("{PREFIX}-{}-{nanos:08x}", std::process::id());
        let dir = base.join(&id);
        std::fs::create_dir(&dir)?;
        std::fs::create_dir(dir.join("work"))?;
        let owner = serde_json::to_vec(&Owner::me()?).map_err(std::io::Error::other)?;
        std::fs::write(dir.join("owner.json"), owner)?;
        Ok(RunDir { id, dir })
    }

    pub fn open(dir: &Path) -> RunDir {
        RunDir {
            id: dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            dir: dir.to_path_buf(),
        }
    }

    pub fn journal_path(&self) -> PathBuf {
        self.dir.join("journal.jsonl")
    }

    /// Where steps put their files (mount targets, rootfs copies, overlay dirs).
    pub fn work(&self) -> PathBuf {
        self.dir.join("work")
    }

    pub fn owner(&self) -> Option<Owner> {
        let bytes = std::fs::read(self.dir.join("owner.json")).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Every session directory under [`base`].
    pub fn all() -> Vec<RunDir> {
        let mut found: Vec<RunDir> = std::fs::read_dir(base())
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .filter(|e| e.file_name().to_string_lossy().starts_with(PREFIX))
            .map(|e| RunDir::open(&e.path()))
            .collect();
        found.sort_by(|a, b| a.id.cmp(&b.id));
        found
    }
}
