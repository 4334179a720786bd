//! The cgroup, chroot and caps lessons, played headless as root on the real kernel: each passes,
//! and afterwards nothing it made is left (cgroups, mounts, the session directory with its
//! rootfs copy and capability-carrying binary, processes). Each is also interrupted with SIGINT
//! in the middle, while its objects exist and a program it started is running: the lab must
//! exit 130 and leave nothing either.
//!
//! Every test uses its own session base directory (CONTAINERLAB_RUN_DIR), so tests running in
//! parallel, or other labs on the machine, do not disturb the "nothing left" assertions.

mod common;

use common::wait_until;
use std::path::{Path, PathBuf};
use std::process::Stdio;

fn lessons_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("lessons")
}

/// What a session with base directory `base` could have left on the host.
#[derive(Debug, PartialEq, Eq)]
struct Leftovers {
    sessions: Vec<String>,
    mounts: Vec<String>,
    cgroups: Vec<String>,
    processes: Vec<String>,
}

/// `sleep_arg`: the argument of the `sleep` a test's pause started (unique per test), so a
/// sleeper that outlived its session is found even though it was reparented.
fn leftovers(base: &Path, runners: &[&str], sleep_arg: &str) -> Leftovers {
    let base_s = base.to_string_lossy().into_owned();
    let sessions: Vec<String> = std::fs::read_dir(base)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    let mounts = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter(|l| l.contains(&base_s))
        .map(str::to_string)
        .collect();
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
    let mut processes = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let environ = std::fs::read(e.path().join("environ")).unwrap_or_default();
        let cmdline = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        let text = String::from_utf8_lossy(&environ).into_owned();
        let sleeper = format!("sleep\0{sleep_arg}\0");
        if text.contains(&base_s) || cmdline.ends_with(sleeper.as_bytes()) {
            processes.push(format!(
                "{name}: {}",
                String::from_utf8_lossy(&cmdline).replace('\0', " ")
            ));
        }
    }
    Leftovers {
        sessions,
        mounts,
        cgroups,
        processes,
    }
}

fn nothing() -> Leftovers {
    Leftovers {
        sessions: vec![],
        mounts: vec![],
        cgroups: vec![],
        processes: vec![],
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
    let child = common::lab()
        .env("CONTAINERLAB_RUN_DIR", base.path())
        .args(["run", "lesson", id, "--headless"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let runner = child.id().to_string();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains(" 0 failed"), "{text}");
    assert_eq!(leftovers(base.path(), &[&runner], "none"), nothing());
}

/// The lesson `id` with a step inserted before step `before` whose action (YAML, one line)
/// starts a program that waits: the test interrupts the lab while it runs.
fn with_pause(id: &str, before: &str, action: &str) -> tempfile::TempDir {
    let src = std::fs::read_to_string(lessons_dir().join(format!("{id}.yaml"))).unwrap();
    let marker = format!("  - id: {before}\n");
    assert!(src.contains(&marker), "no step {before} in {id}");
    let pause = format!(
        "  - id: test-pause\n    title: {{en: pause}}\n    text: {{en: pause}}\n    actions:\n      - {action}\n{marker}"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(format!("{id}.yaml")),
        src.replacen(&marker, &pause, 1),
    )
    .unwrap();
    dir
}

/// Pids of processes running `sleep ARG`.
fn sleepers(arg: &str) -> Vec<i32> {
    let wanted = format!("sleep\0{arg}\0");
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let pid: i32 = e.file_name().to_string_lossy().parse().ok()?;
            let cmd = std::fs::read(e.path().join("cmdline")).ok()?;
            cmd.ends_with(wanted.as_bytes()).then_some(pid)
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
    let child = common::lab()
        .env("CONTAINERLAB_RUN_DIR", base.path())
        .arg("--lessons")
        .arg(lessons.path())
        .args(["run", "lesson", id, "--headless"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let runner = child.id();
    let mine = |pids: Vec<i32>| -> bool {
        // A sleeper of this session has the session's agent among its ancestors; the agent's
        // environment names the base directory.
        pids.into_iter().any(|p| {
            let mut cur = p;
            for _ in 0..8 {
                let stat = std::fs::read_to_string(format!("/proc/{cur}/stat")).unwrap_or_default();
                let ppid: i32 = stat
                    .rsplit(')')
                    .next()
                    .and_then(|r| r.split_whitespace().nth(1))
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                if ppid == runner as i32 {
                    return true;
                }
                if ppid <= 1 {
                    return false;
                }
                cur = ppid;
            }
            false
        })
    };
    assert!(
        wait_until(120, || mine(sleepers(sleep_arg))),
        "the pause never started"
    );
    assert!(
        present(base.path(), runner),
        "the lesson's objects should exist now"
    );
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(runner as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        leftovers(base.path(), &[&runner.to_string()], sleep_arg),
        nothing()
    );
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
    let mut child = common::lab()
        .env("CONTAINERLAB_RUN_DIR", base.path())
        .arg("--lessons")
        .arg(lessons.path())
        .args(["run", "lesson", "cgroup", "--headless"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let runner = child.id().to_string();
    let ours = || leftovers(base.path(), &[&runner], "100044").cgroups;
    assert!(
        wait_until(120, || !ours().is_empty() && !sleepers("100044").is_empty()),
        "the pause never started"
    );
    child.kill().unwrap(); // SIGKILL: the runner cannot tear anything down
    child.wait().unwrap();
    assert!(!ours().is_empty(), "the cgroup is left for cleanup");
    let out = common::lab()
        .env("CONTAINERLAB_RUN_DIR", base.path())
        .arg("cleanup")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(leftovers(base.path(), &[&runner], "100044"), nothing());
}
