//! The cgroup, chroot and caps lessons, played headless as root on the real kernel: each passes,
//! and afterwards nothing it made is left (cgroups, mounts, the session directory with its
//! rootfs copy and capability-carrying binary, processes). Each is also interrupted with SIGINT
//! in the middle, while its objects exist and a program it started is running: the lab must
//! exit 130 and leave nothing either.
//!
//! Every test uses its own session base directory (CONTAINERLAB_RUN_DIR), so tests running in
//! parallel, or other labs on the machine, do not disturb the "nothing left" assertions.

mod common;

use common::lesson_run::{interrupt_when, lesson_with_step, At, MARKER};
use common::{expect_exit, lab_in, leftovers, parent_of, processes, wait_until, Leftovers};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// What a session with base directory `base` could have left on the host.
#[derive(Debug, Default, PartialEq, Eq)]
struct Left {
    /// Session directories, mounts, open files and processes naming `base`.
    run: Leftovers,
    cgroups: Vec<String>,
    /// Processes running the pause's `sleep`.
    sleepers: Vec<String>,
}

/// `sleep_arg`: the argument of the `sleep` a test's pause started (unique per test), so a
/// sleeper that outlived its session is found even though it was reparented.
fn left(base: &Path, runners: &[&str], sleep_arg: &str) -> Left {
    // The lab names its cgroups `<session>-<name>` and session ids start with
    // `clab-<runner pid>-`: `runners` are the pids of this test's runners.
    let mut cgroups = Vec::new();
    for root in [
        "/sys/fs/cgroup",
        "/sys/fs/cgroup/memory",
        "/sys/fs/cgroup/pids",
    ] {
        let parent = Path::new(root).join("containerlab");
        for e in std::fs::read_dir(&parent).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if runners
                .iter()
                .any(|pid| name.starts_with(&format!("clab-{pid}-")))
            {
                cgroups.push(e.path().display().to_string());
            }
        }
    }
    Left {
        run: leftovers(base),
        cgroups,
        sleepers: processes()
            .into_iter()
            .filter(|p| p.sleeps(sleep_arg))
            .map(|p| format!("{}: {}", p.pid, p.command()))
            .collect(),
    }
}

/// A session base directory that an ordinary user may traverse (the caps lesson runs a
/// program under it as uid 65534; a fresh tempdir is 0700).
fn base_dir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let base = tempfile::tempdir().unwrap();
    std::fs::set_permissions(base.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    base
}

fn run_lesson(id: &str) {
    let base = base_dir();
    let child = lab_in(base.path())
        .args(["run", "lesson", id, "--headless"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let runner = child.id().to_string();
    let text = expect_exit(&child.wait_with_output().unwrap(), 0);
    assert!(text.contains(" 0 failed"), "{text}");
    assert_eq!(left(base.path(), &[&runner], "none"), Left::default());
}

/// The lesson `id` with a step titled [`MARKER`] inserted before step `before`, whose action
/// (YAML, one line) starts a program that waits: the test interrupts the lab while it runs.
fn with_pause(id: &str, before: &str, action: &str) -> tempfile::TempDir {
    lesson_with_step(id, At::Before(before), MARKER, action)
}

/// Pids of this runner's processes running `sleep ARG`: a sleeper of this session has the
/// runner among its ancestors.
fn sleepers_of(runner: u32, arg: &str) -> Vec<i32> {
    common::sleepers(arg)
        .into_iter()
        .filter(|&p| {
            let mut cur = p;
            for _ in 0..8 {
                match parent_of(cur) {
                    Some(ppid) if ppid == runner as i32 => return true,
                    Some(ppid) if ppid > 1 => cur = ppid,
                    _ => return false,
                }
            }
            false
        })
        .collect()
}

/// Plays `id` with a pause, SIGINTs it while the pause's program runs, and checks exit 130 and
/// that nothing is left. `present` says what must exist at the moment of the interrupt.
fn interrupt_mid_lesson(
    id: &str,
    before: &str,
    action: &str,
    sleep_arg: &str,
    present: impl Fn(&Path, u32) -> bool,
) {
    let lessons = with_pause(id, before, action);
    let base = base_dir();
    let run = interrupt_when(
        lab_in(base.path())
            .arg("--lessons")
            .arg(lessons.path())
            .args(["run", "lesson", id, "--headless"]),
        Duration::from_secs(120),
        |line| line.contains(MARKER),
        |runner| {
            assert!(
                wait_until(120, || !sleepers_of(runner, sleep_arg).is_empty()),
                "the pause never started"
            );
            assert!(
                present(base.path(), runner),
                "the lesson's objects should exist now"
            );
            (runner as i32, runner)
        },
    );
    assert_eq!(run.code, Some(130), "{}", run.stderr);
    let runner = run.at_trigger.unwrap().to_string();
    assert_eq!(left(base.path(), &[&runner], sleep_arg), Left::default());
}

fn session_work(base: &Path) -> Option<PathBuf> {
    std::fs::read_dir(base)
        .ok()?
        .flatten()
        .map(|e| e.path().join("work"))
        .next()
}

#[test]
fn cgroup_lesson_passes_and_removes_its_cgroup() {
    run_lesson("cgroup");
}

#[test]
fn chroot_lesson_passes_and_removes_the_rootfs_copy() {
    run_lesson("chroot");
}

#[test]
fn caps_lesson_passes_and_removes_the_capable_copy() {
    run_lesson("caps");
}

#[test]
fn sigint_during_cgroup_lesson_kills_the_cgroup_member_and_removes_the_cgroup() {
    interrupt_mid_lesson(
        "cgroup",
        "under-limit",
        "run: {cgroup: lab, argv: [sleep, \"100042\"]}",
        "100042",
        |_, runner| {
            [
                "/sys/fs/cgroup/containerlab",
                "/sys/fs/cgroup/memory/containerlab",
            ]
            .iter()
            .flat_map(|p| std::fs::read_dir(p).into_iter().flatten().flatten())
            .any(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(&format!("clab-{runner}-"))
            })
        },
    );
}

#[test]
fn sigint_during_chroot_lesson_leaves_no_rootfs_or_mount() {
    interrupt_mid_lesson(
        "chroot",
        "escape-fails",
        "run: {in: box, argv: [/bin/sleep, \"100043\"]}",
        "100043",
        |base, _| session_work(base).is_some_and(|w| w.join("rootfs/lab-marker").exists()),
    );
}

#[test]
fn sigint_during_caps_lesson_leaves_no_capable_binary_or_mount() {
    interrupt_mid_lesson(
        "caps",
        "undo-privileged",
        "run: {argv: [sleep, \"100045\"]}",
        "100045",
        |base, _| session_work(base).is_some_and(|w| w.join("bin/ping").exists()),
    );
}

#[test]
fn sigkill_during_cgroup_lesson_then_cleanup_removes_the_cgroup() {
    let lessons = with_pause(
        "cgroup",
        "under-limit",
        "run: {cgroup: lab, argv: [sleep, \"100044\"]}",
    );
    let base = base_dir();
    let mut child = lab_in(base.path())
        .arg("--lessons")
        .arg(lessons.path())
        .args(["run", "lesson", "cgroup", "--headless"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let runner = child.id().to_string();
    let ours = || left(base.path(), &[&runner], "100044").cgroups;
    assert!(
        wait_until(120, || !ours().is_empty()
            && !common::sleepers("100044").is_empty()),
        "the pause never started"
    );
    child.kill().unwrap(); // SIGKILL: the runner cannot tear anything down
    child.wait().unwrap();
    assert!(!ours().is_empty(), "the cgroup is left for cleanup");
    let out = lab_in(base.path()).arg("cleanup").output().unwrap();
    expect_exit(&out, 0);
    assert_eq!(left(base.path(), &[&runner], "100044"), Left::default());
}
