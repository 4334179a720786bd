//! The namespace lessons (mount, net, user, ipc, cgroupns), played headless as root on the real
//! kernel: each must pass, and leave the machine exactly as it found it, also when interrupted
//! with SIGINT in the middle (exit code 130).
//!
//! Each run gets its own session base directory (CONTAINERLAB_RUN_DIR), so sessions of other
//! tests running at the same time are never mistaken for leftovers; it must be empty afterwards.
//! The mount lesson runs in a mount namespace this test makes, with `/` made rshared there (as
//! systemd does), and that namespace's mountinfo must be byte-identical afterwards. The net
//! lesson runs in a network namespace this test makes, so no packet reaches any other interface.

mod common;

use common::bin;
use common::lesson_run::{
    assert_empty_dir, clab_links, lab_cgroups, lesson_with_pause, read, require_root,
};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const MARKER: &str = "interrupt-me-now";
/// A sleep whose command line no other program uses, to find leftovers by.
const SLEEP: &str = "271.828";

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

/// Processes still running our marker sleep.
fn marker_sleeps() -> Vec<i32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            cmd == format!("sleep\0{SLEEP}\0").into_bytes()
        })
        .collect()
}

/// What a lesson could leave behind on the host, read now.
#[derive(Debug, PartialEq)]
struct HostState {
    mountinfo: String,
    links: Vec<String>,
    cgroups: Vec<String>,
    shm: String,
    mq: String,
    hostname: String,
}

fn host_state() -> HostState {
    HostState {
        mountinfo: read("/proc/self/mountinfo"),
        links: clab_links(),
        cgroups: lab_cgroups(),
        shm: read("/proc/sysvipc/shm"),
        mq: mqueues(),
        hostname: read("/proc/sys/kernel/hostname"),
    }
}

/// How the binary is started: directly, or inside namespaces the test makes.
#[derive(Clone, Copy)]
enum Wrap {
    Direct,
    /// `unshare --mount --propagation unchanged`, `/` made rshared, mountinfo saved before/after.
    RsharedMountNs,
    /// `unshare --net`, the namespace's links saved after.
    NetNs,
}

struct Run {
    code: Option<i32>,
    output: String,
    /// Files the wrapper wrote: mountinfo before/after, links after.
    scratch: tempfile::TempDir,
}

impl Run {
    fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.scratch.path().join(name)).unwrap_or_default()
    }
}

fn command(wrap: Wrap, args: &[String], run_dir: &Path, scratch: &Path) -> Command {
    let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
    let lab = format!("'{}' {}", bin().display(), quoted.join(" "));
    let s = scratch.display();
    let mut cmd = match wrap {
        Wrap::Direct => {
            let mut c = Command::new(bin());
            c.args(args);
            c
        }
        Wrap::RsharedMountNs => {
            let mut c = Command::new("unshare");
            c.args(["--mount", "--propagation", "unchanged", "sh", "-c"]);
            c.arg(format!(
                "mount --make-rshared / && cat /proc/self/mountinfo > {s}/before && {lab}; \
                 rc=$?; cat /proc/self/mountinfo > {s}/after; exit $rc"
            ));
            c
        }
        Wrap::NetNs => {
            let mut c = Command::new("unshare");
            c.args(["--net", "--", "sh", "-c"]);
            c.arg(format!("{lab}; rc=$?; ip -o link > {s}/links; exit $rc"));
            c
        }
    };
    cmd.env("CONTAINERLAB_RUN_DIR", run_dir)
        .env("CONTAINERLAB_STATE_DIR", common::STATE_DIR)
        .env("LANG", "C")
        .stdin(Stdio::null());
    cmd
}

fn play(wrap: Wrap, lesson: &str, run_dir: &Path) -> Run {
    let scratch = tempfile::tempdir().unwrap();
    let args: Vec<String> = ["run", "lesson", lesson, "--headless"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let out = command(wrap, &args, run_dir, scratch.path())
        .output()
        .unwrap();
    Run {
        code: out.status.code(),
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        scratch,
    }
}

/// The containerlab front end: the spawned process itself, or the child of the wrapping shell.
fn front_end(spawned: u32, wrap: Wrap) -> i32 {
    match wrap {
        Wrap::Direct => spawned as i32,
        _ => {
            let children = read(&format!("/proc/{spawned}/task/{spawned}/children"));
            children
                .split_whitespace()
                .next()
                .and_then(|p| p.parse().ok())
                .expect("the shell runs containerlab")
        }
    }
}

/// Plays the lesson with a pause inserted, sends SIGINT to the front end while the pause's
/// `sleep` runs, and returns the finished run.
fn interrupt(wrap: Wrap, lesson: &str, after: usize, who: &str, run_dir: &Path) -> Run {
    let lessons = lesson_with_pause(lesson, after, who, MARKER, SLEEP);
    let scratch = tempfile::tempdir().unwrap();
    let args: Vec<String> = vec![
        "--lessons".into(),
        lessons.path().display().to_string(),
        "run".into(),
        "lesson".into(),
        lesson.into(),
        "--headless".into(),
    ];
    let mut child = command(wrap, &args, run_dir, scratch.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains(MARKER) {
                let _ = tx.send(());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let seen = rx.recv_timeout(Duration::from_secs(120)).is_ok();
    if seen {
        // Only a trigger: give the agent a moment to start the sleep, then interrupt.
        std::thread::sleep(Duration::from_millis(500));
        let pid = front_end(child.id(), wrap);
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGINT,
        )
        .unwrap();
    }
    let status = child.wait().unwrap();
    let mut output = reader.join().unwrap();
    let mut err = String::new();
    use std::io::Read;
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    output.push_str(&err);
    assert!(seen, "the pause step never started:\n{output}");
    Run {
        code: status.code(),
        output,
        scratch,
    }
}

/// Waits (bounded) for the marker sleep to be gone: SIGKILLed processes take a moment to exit.
fn assert_no_marker_sleep() {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !marker_sleeps().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(marker_sleeps(), Vec::<i32>::new(), "a sleep survived");
}

fn check_clean(before: &HostState, run_dir: &Path, run: &Run) {
    let after = host_state();
    assert_eq!(before, &after, "host changed:\n{}", run.output);
    assert_empty_dir(run_dir);
    assert_no_marker_sleep();
}

/// The tests compare host-wide state, so they run one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn full(wrap: Wrap, lesson: &str) -> Run {
    let _one = serial();
    require_root();
    let run_dir = tempfile::tempdir().unwrap();
    let before = host_state();
    let run = play(wrap, lesson, run_dir.path());
    assert_eq!(run.code, Some(0), "{}", run.output);
    assert!(
        run.output.contains(&format!("✓ {lesson}:")),
        "{}",
        run.output
    );
    check_clean(&before, run_dir.path(), &run);
    run
}

fn interrupted(wrap: Wrap, lesson: &str, after: usize, who: &str) -> Run {
    let _one = serial();
    require_root();
    let run_dir = tempfile::tempdir().unwrap();
    let before = host_state();
    let run = interrupt(wrap, lesson, after, who, run_dir.path());
    assert_eq!(run.code, Some(130), "{}", run.output);
    check_clean(&before, run_dir.path(), &run);
    run
}

fn assert_mountinfo_kept(run: &Run) {
    let (b, a) = (run.file("before"), run.file("after"));
    assert!(
        b.lines()
            .any(|l| l.split(' ').nth(4) == Some("/") && l.contains("shared:")),
        "/ was not made shared in the test's namespace:\n{b}"
    );
    assert_eq!(b, a, "mountinfo changed:\n{}", run.output);
}

fn assert_net_ns_clean(run: &Run) {
    let links = run.file("links");
    let names: Vec<&str> = links
        .lines()
        .filter_map(|l| l.split(':').nth(1).map(str::trim))
        .collect();
    assert_eq!(names, ["lo"], "{}", run.output);
}

#[test]
fn mount_lesson_passes_with_rshared_root_and_leaves_mountinfo_identical() {
    let run = full(Wrap::RsharedMountNs, "mount");
    assert_mountinfo_kept(&run);
    // The leak demonstration really reached the (test's) host table.
    assert!(run.output.contains("✓ The host's mount table has it too"));
}

#[test]
fn mount_lesson_interrupted_with_a_leaked_mount_cleans_up() {
    // After step 3 ("leak") box's mount is in the host's table too.
    let run = interrupted(Wrap::RsharedMountNs, "mount", 2, "box");
    assert_mountinfo_kept(&run);
}

#[test]
fn mount_lesson_passes_with_private_root() {
    full(Wrap::Direct, "mount");
}

#[test]
fn net_lesson_passes_in_a_test_netns() {
    let run = full(Wrap::NetNs, "net");
    assert_net_ns_clean(&run);
}

#[test]
fn net_lesson_interrupted_deletes_the_veth() {
    // After "address": the veth pair exists, one end in box.
    let run = interrupted(Wrap::NetNs, "net", 4, "box");
    assert_net_ns_clean(&run);
}

#[test]
fn user_lesson_passes() {
    full(Wrap::Direct, "user");
}

#[test]
fn user_lesson_interrupted_kills_the_unprivileged_member() {
    // After "drop": `rootless` runs as uid 1000, which clears its parent-death signal.
    interrupted(Wrap::Direct, "user", 5, "rootless");
}

#[test]
fn ipc_lesson_passes() {
    full(Wrap::Direct, "ipc");
}

#[test]
fn ipc_lesson_interrupted_removes_host_ipc_objects() {
    // After "join": host segment and queue exist, and others inside box's namespace.
    interrupted(Wrap::Direct, "ipc", 3, "peer");
}

#[test]
fn cgroupns_lesson_passes() {
    full(Wrap::Direct, "cgroupns");
}

#[test]
fn cgroupns_lesson_interrupted_removes_the_lab_cgroup() {
    // After "unshare": box lives in the lab cgroup.
    interrupted(Wrap::Direct, "cgroupns", 1, "box");
}

#[test]
fn lessons_check_clean() {
    let out = Command::new(bin())
        .args(["check", concat!(env!("CARGO_MANIFEST_DIR"), "/lessons")])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    for line in err.lines() {
        assert!(line.contains("translation"), "unexpected finding: {line}");
    }
}
