//! Shared by the root integration tests: the real binary, the machine lock, a snapshot of
//! everything on the host that a lesson could leave behind (to compare before and after), what a
//! run with its own session directory could leave behind, and the processes of the machine.
#![allow(dead_code)]

pub mod lesson_run;
pub mod oci;
pub mod summary;
pub mod tmux;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard};

/// Tests in one binary compare machine-wide state, so they take turns.
static MACHINE: Mutex<()> = Mutex::new(());

pub fn machine() -> MutexGuard<'static, ()> {
    MACHINE.lock().unwrap_or_else(|p| p.into_inner())
}

pub fn require_root() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "these tests make namespaces and must run as root"
    );
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

/// [`lab`] with its sessions under `run_dir` (CONTAINERLAB_RUN_DIR) instead of
/// /run/containerlab.
pub fn lab_in(run_dir: &Path) -> Command {
    let mut c = lab();
    c.env("CONTAINERLAB_RUN_DIR", run_dir);
    c
}

/// Where the tests' runs record progress: never the real ~/.local/state of the user running
/// the tests.
pub const STATE_DIR: &str = concat!(env!("CARGO_TARGET_TMPDIR"), "/containerlab-state");

/// The test fixtures (tests/fixtures).
pub fn fixtures() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"))
}

/// Both outputs of a finished run, standard output first.
pub fn both(out: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Asserts that the run exited with `code` (showing both outputs if not) and answers its
/// standard output.
#[track_caller]
pub fn expect_exit(out: &Output, code: i32) -> String {
    assert_eq!(out.status.code(), Some(code), "{}", both(out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Sends `signal` to process `pid`.
pub fn signal(pid: i32, signal: nix::sys::signal::Signal) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), signal).unwrap();
}

/// Sends SIGINT (the learner's Ctrl-C) to process `pid`.
pub fn sigint(pid: i32) {
    signal(pid, nix::sys::signal::Signal::SIGINT);
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

/// Fails the test if `dir` (a run's session base directory) still holds anything.
pub fn assert_empty_dir(dir: &Path) {
    let left: Vec<_> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "session directories left: {left:?}");
}

/// A process of the machine, as /proc shows it.
pub struct Proc {
    pub pid: i32,
    pub cmdline: Vec<u8>,
    pub environ: Vec<u8>,
}

impl Proc {
    /// The command line, its arguments separated by spaces.
    pub fn command(&self) -> String {
        String::from_utf8_lossy(&self.cmdline).replace('\0', " ")
    }

    /// Its environment or its command line contains `needle`.
    pub fn mentions(&self, needle: &[u8]) -> bool {
        let has = |b: &[u8]| b.windows(needle.len()).any(|w| w == needle);
        has(&self.environ) || has(&self.cmdline)
    }

    /// It runs `sleep ARG` (any path to sleep).
    pub fn sleeps(&self, arg: &str) -> bool {
        self.cmdline.ends_with(format!("sleep\0{arg}\0").as_bytes())
    }
}

fn pids() -> Vec<i32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .collect()
}

/// Every process of the machine, this test's own included.
pub fn processes() -> Vec<Proc> {
    pids()
        .into_iter()
        .map(|pid| Proc {
            pid,
            cmdline: std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default(),
            environ: std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default(),
        })
        .collect()
}

/// Pids of the processes running `sleep ARG`.
pub fn sleepers(arg: &str) -> Vec<i32> {
    processes()
        .into_iter()
        .filter(|p| p.sleeps(arg))
        .map(|p| p.pid)
        .collect()
}

/// The parent of process `pid`, while it runs.
pub fn parent_of(pid: i32) -> Option<i32> {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()?
        .rsplit(')')
        .next()?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// The children of process `pid`.
pub fn children_of(pid: i32) -> Vec<i32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// Everything a lesson might leave on the host.
#[derive(Debug, PartialEq, Eq)]
pub struct HostState {
    pub mountinfo: String,
    pub links: Vec<String>,
    /// `LINK FAMILY ADDRESS/PREFIX` of every address (not the lifetimes, which count down).
    pub addresses: Vec<String>,
    pub cgroups: Vec<String>,
    pub sessions: Vec<String>,
    pub hostname: String,
    pub agents: Vec<String>,
    pub sysv_shm: String,
    pub mqueues: String,
}

/// The lab's agent processes on the machine.
pub fn agents() -> Vec<String> {
    processes()
        .into_iter()
        .filter(|p| p.command().contains("__agent"))
        .map(|p| format!("{}: {}", p.pid, p.command()))
        .collect()
}

/// The host IPC namespace's POSIX queues, seen through an mqueue mount in a throwaway mount
/// namespace (this machine may have no /dev/mqueue).
fn mqueues() -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg(format!(
            "mount -t mqueue none {0} && ls -1 {0}",
            dir.path().display()
        ))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn addresses() -> Vec<String> {
    let out = Command::new("ip").args(["-o", "addr"]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            l.split_whitespace()
                .skip(1)
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

impl HostState {
    pub fn capture() -> HostState {
        let state = HostState {
            mountinfo: std::fs::read_to_string("/proc/self/mountinfo").unwrap(),
            links: listing("/sys/class/net"),
            addresses: addresses(),
            cgroups: lesson_run::lab_cgroups(),
            sessions: listing("/run/containerlab"),
            hostname: nix::unistd::gethostname()
                .unwrap()
                .to_string_lossy()
                .into_owned(),
            agents: agents(),
            sysv_shm: std::fs::read_to_string("/proc/sysvipc/shm").unwrap(),
            mqueues: mqueues(),
        };
        // A snapshot that read nothing would make every comparison pass.
        assert!(
            state
                .mountinfo
                .lines()
                .any(|l| l.split(' ').nth(4) == Some("/")),
            "no root mount in /proc/self/mountinfo"
        );
        assert!(
            state.links.iter().any(|l| l == "lo"),
            "no links read: {:?}",
            state.links
        );
        assert!(
            state
                .addresses
                .iter()
                .any(|a| a.starts_with("lo inet 127.")),
            "no addresses read: {:?}",
            state.addresses
        );
        assert!(
            state.sysv_shm.starts_with("       key"),
            "no header in /proc/sysvipc/shm"
        );
        assert!(!state.hostname.is_empty());
        state
    }
}

/// A root test's turn on the machine: the machine lock held, and the host as it was before.
pub struct Turn {
    pub before: HostState,
    _lock: MutexGuard<'static, ()>,
}

/// Waits for the other tests of the binary, then snapshots the host.
pub fn turn() -> Turn {
    let lock = machine();
    require_root();
    Turn {
        before: HostState::capture(),
        _lock: lock,
    }
}

impl Turn {
    /// The host is as it was when the turn began; `context` (a run's output) goes in the
    /// message if not.
    #[track_caller]
    pub fn assert_host_unchanged(&self, context: &str) {
        assert_eq!(
            HostState::capture(),
            self.before,
            "host changed:\n{context}"
        );
    }
}

/// What the sessions under a run's own session directory could have left on the machine.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Leftovers {
    /// Entries of the directory.
    pub sessions: Vec<String>,
    /// Mounts under it, in any process's mount table.
    pub mounts: Vec<String>,
    /// Files under it that a process holds open (its holder and members keep the journal
    /// open).
    pub open_files: Vec<String>,
    /// Processes whose environment or command line names it.
    pub processes: Vec<String>,
}

/// What is left of the sessions under `run_dir`.
pub fn leftovers(run_dir: &Path) -> Leftovers {
    let needle = run_dir.to_string_lossy().into_owned();
    let mut left = Leftovers {
        sessions: listing(&needle),
        ..Leftovers::default()
    };
    for p in processes() {
        let dir = PathBuf::from(format!("/proc/{}", p.pid));
        let mountinfo = std::fs::read_to_string(dir.join("mountinfo")).unwrap_or_default();
        left.mounts.extend(
            mountinfo
                .lines()
                .filter(|l| l.contains(&needle))
                .map(|l| format!("{}: {l}", p.pid)),
        );
        for fd in std::fs::read_dir(dir.join("fd"))
            .into_iter()
            .flatten()
            .flatten()
        {
            let target = std::fs::read_link(fd.path()).unwrap_or_default();
            if target.starts_with(run_dir) {
                left.open_files
                    .push(format!("{}: {}", p.pid, target.display()));
            }
        }
        if p.mentions(needle.as_bytes()) {
            left.processes.push(format!("{}: {}", p.pid, p.command()));
        }
    }
    left
}

/// Nothing of the sessions under `run_dir` is left anywhere on the machine.
#[track_caller]
pub fn assert_nothing_left(run_dir: &Path) {
    assert_eq!(leftovers(run_dir), Leftovers::default());
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

/// The journal of the session that the runner with this pid owns (session ids start with
/// `clab-<owner pid>-`), once it exists.
fn journal_of(runner: u32) -> Option<PathBuf> {
    let prefix = format!("clab-{runner}-");
    session_journals().into_iter().find(|j| {
        j.parent()
            .and_then(|d| d.file_name())
            .is_some_and(|n| n.to_string_lossy().starts_with(&prefix))
    })
}

/// Starts `lab` (the binary, with its environment) on the slow fixture lesson and waits until
/// the lesson has made its host mount and its member is sleeping in the second step.
pub fn start_slow(mut lab: Command) -> Child {
    let child = lab
        .args(["--lessons"])
        .arg(fixtures().join("slow.yaml"))
        .args(["run", "lesson", "slow", "--headless"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let runner = child.id();
    let journaled = || {
        journal_of(runner)
            .and_then(|j| std::fs::read_to_string(j).ok())
            .filter(|t| t.contains("\"mount\"") && t.matches("\"process\"").count() >= 2)
    };
    assert!(
        wait_until(20, || journaled().is_some()),
        "no mount and member journaled"
    );
    let init_pid = journaled()
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| e["kind"] == "process" && e["name"] == "init")
        .and_then(|e| e["pid"].as_i64())
        .expect("init journaled") as i32;
    assert!(
        wait_until(20, || sleepers("60")
            .into_iter()
            .any(|s| parent_of(s) == Some(init_pid))),
        "init's sleep never started"
    );
    child
}
