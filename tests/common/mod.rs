//! Shared by the root integration tests: the real binary, and a snapshot of everything on the
//! host that a lesson could leave behind, to compare before and after.
#![allow(dead_code)]

pub mod lesson_run;
pub mod oci;

use std::path::PathBuf;
use std::process::Command;
use std::sync::{Mutex, MutexGuard};

/// Tests in one binary compare machine-wide state, so they take turns.
static MACHINE: Mutex<()> = Mutex::new(());

pub fn machine() -> MutexGuard<'static, ()> {
    MACHINE.lock().unwrap_or_else(|p| p.into_inner())
}

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_containerlab"))
}

/// The binary, recording progress under target/tmp instead of the real ~/.local/state (a test
/// can set CONTAINERLAB_STATE_DIR again to its own directory).
pub fn lab() -> Command {
    let mut c = Command::new(bin());
    c.env("CONTAINERLAB_STATE_DIR", STATE_DIR);
    c
}

/// Where the tests' runs record progress: never the real ~/.local/state of the user running
/// the tests.
pub const STATE_DIR: &str = concat!(env!("CARGO_TARGET_TMPDIR"), "/containerlab-state");

/// Everything a lesson might leave on the host.
#[derive(Debug, PartialEq, Eq)]
pub struct HostState {
    pub mountinfo: String,
    pub links: Vec<String>,
    pub cgroups: Vec<String>,
    pub sessions: Vec<String>,
    pub hostname: String,
    pub agents: Vec<String>,
    pub sysv_shm: String,
    pub mqueues: Vec<String>,
}

fn listing(dir: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn agents() -> Vec<String> {
    let mut v = Vec::new();
    for pid in listing("/proc") {
        if pid.parse::<u32>().is_err() {
            continue;
        }
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let text = String::from_utf8_lossy(&cmd).replace('\0', " ");
        if text.contains("__agent") {
            v.push(format!("{pid}: {text}"));
        }
    }
    v
}

impl HostState {
    pub fn capture() -> HostState {
        HostState {
            mountinfo: std::fs::read_to_string("/proc/self/mountinfo").unwrap(),
            links: listing("/sys/class/net"),
            cgroups: lesson_run::lab_cgroups(),
            sessions: listing("/run/containerlab"),
            hostname: nix::unistd::gethostname()
                .unwrap()
                .to_string_lossy()
                .into_owned(),
            agents: agents(),
            sysv_shm: std::fs::read_to_string("/proc/sysvipc/shm").unwrap_or_default(),
            mqueues: listing("/dev/mqueue"),
        }
    }
}

/// Polls `cond` every 20 ms for up to `secs` seconds (a wait for an event, not a speed check).
pub fn wait_until(secs: u64, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    false
}

/// The newest session's journal, if a session exists.
pub fn session_journals() -> Vec<PathBuf> {
    listing("/run/containerlab")
        .into_iter()
        .map(|s| {
            PathBuf::from("/run/containerlab")
                .join(s)
                .join("journal.jsonl")
        })
        .filter(|p| p.exists())
        .collect()
}
