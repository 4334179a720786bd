//! The fault matrix, as root: every lesson × every step boundary (after step K's actions, after
//! its checks) × SIGKILL and one of SIGINT, SIGTERM and SIGHUP in turn (the three take the same
//! path: a flag the runner polls; 22 lessons at all four would take 12 minutes). The test-only hook
//! (`CONTAINERLAB_TEST_STOP_AT`, src/session/test_hook.rs) stops the headless front end exactly
//! there, so no case depends on a sleep landing at the right moment.
//!
//! For each case: the exit code is the documented one (130 for SIGINT, 128 + the signal for
//! SIGTERM and SIGHUP, killed by SIGKILL); after SIGKILL no process of the lesson is alive one
//! second later (before any cleanup), and `containerlab cleanup` then removes the rest; in every
//! case the host (mounts, links, cgroups, session directories, hostname, agents, IPC objects) is
//! as it was before, and nothing of the case's session directory is left anywhere.
//!
//! Each case runs in a network namespace of its own with only `lo` up (`unshare --net`): the
//! lessons' packets never leave it, and the container lessons' port 8080 is free in each.

mod common;

use common::{leftovers, processes, turn, HostState, Leftovers, STATE_DIR};
use containerlab::session::test_hook::VARIABLE;
use nix::sys::signal::Signal;
use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The signals a front end handles (an orderly teardown), one per boundary in turn: they take
/// the same path (a flag the runner polls), so each is met at a third of the boundaries, and
/// every boundary meets one of them. SIGKILL (no teardown: `containerlab cleanup` after it) at
/// every boundary.
const CAUGHT: [Signal; 3] = [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP];
const MOMENTS: [&str; 2] = ["actions", "checks"];

/// Every lesson's id and number of steps, from `containerlab list`.
fn lessons() -> Vec<(String, usize)> {
    let out = common::lab().env("LANG", "C").arg("list").output().unwrap();
    assert!(out.status.success(), "{}", common::both(&out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .skip(1)
        .map(|l| {
            let mut w = l.split_whitespace();
            let id = w.next().unwrap().to_string();
            (id, w.next().unwrap().parse().unwrap())
        })
        .collect()
}

/// The headless front end on `lesson` in a new network namespace with `lo` up, stopped by the
/// hook at `at`. `exec` makes the spawned pid the front end itself.
fn start(lesson: &str, at: &str, run_dir: &Path) -> Child {
    Command::new("unshare")
        .args([
            "--net",
            "--",
            "sh",
            "-c",
            "ip link set lo up && exec \"$0\" \"$@\"",
        ])
        .arg(common::bin())
        .args(["run", "lesson", lesson, "--headless"])
        .env(VARIABLE, at)
        .env("CONTAINERLAB_RUN_DIR", run_dir)
        .env("CONTAINERLAB_STATE_DIR", STATE_DIR)
        .env("LANG", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits (bounded) for the child to end.
fn wait(child: &mut Child, secs: u64) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if let Some(s) = child.try_wait().unwrap() {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    None
}

/// A process, told apart from a later one with the same pid by its start time.
fn identity(pid: i32) -> Option<(i32, String)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    Some((
        pid,
        stat.rsplit(')').next()?.split_whitespace().nth(19)?.into(),
    ))
}

fn namespaces(pid: i32) -> Vec<String> {
    ["net", "pid", "mnt", "uts", "ipc"]
        .iter()
        .map(|n| {
            std::fs::read_link(format!("/proc/{pid}/ns/{n}"))
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        })
        .collect()
}

/// Processes started since `before` that belong to a lesson: they name the case's session
/// directory, or live in namespaces other than this test's (every lesson process does: the case
/// runs in a network namespace of its own).
fn lesson_processes(before: &[(i32, String)], run_dir: &Path) -> Vec<String> {
    let own = namespaces(std::process::id() as i32);
    let needle = run_dir.to_string_lossy().into_owned();
    processes()
        .into_iter()
        .filter(|p| identity(p.pid).is_some_and(|id| !before.contains(&id)))
        .filter(|p| {
            let ns = namespaces(p.pid);
            p.mentions(needle.as_bytes()) || (ns != own && ns.iter().all(|n| !n.is_empty()))
        })
        .map(|p| format!("{}: {}", p.pid, p.command()))
        .collect()
}

/// One case; answers why it failed.
fn case(lesson: &str, at: &str, signal: Signal, host: &HostState) -> Result<(), String> {
    let run_dir = tempfile::tempdir().unwrap();
    let before: Vec<_> = processes().iter().filter_map(|p| identity(p.pid)).collect();
    let mut child = start(lesson, at, run_dir.path());
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.starts_with("containerlab-test: stopped at") {
                let _ = tx.send(());
            }
            lines.push(line);
        }
        lines.join("\n")
    });
    let stopped = rx.recv_timeout(Duration::from_secs(120)).is_ok();
    if !stopped {
        let _ = child.kill();
        let _ = child.wait();
        return Err(format!(
            "never stopped at {at}:\n{}",
            reader.join().unwrap()
        ));
    }
    common::signal(child.id() as i32, signal);
    let Some(status) = wait(&mut child, 60) else {
        let _ = child.kill();
        return Err("did not end within 60 s of the signal".into());
    };
    let err = reader.join().unwrap();
    let (code, want) = match signal {
        Signal::SIGKILL => (status.signal(), Some(Signal::SIGKILL as i32)),
        Signal::SIGINT => (status.code(), Some(130)),
        s => (status.code(), Some(128 + s as i32)),
    };
    if code != want {
        return Err(format!("exit {status:?}, expected {want:?}:\n{err}"));
    }
    if signal == Signal::SIGKILL {
        // None may be alive one second later. Polled: once none is left none can come back
        // (only a lesson process starts lesson processes), so the first empty look suffices.
        let mut alive = Vec::new();
        if !common::wait_until(1, || {
            alive = lesson_processes(&before, run_dir.path());
            alive.is_empty()
        }) {
            return Err(format!("alive 1 s after SIGKILL: {alive:?}"));
        }
        let out = common::lab_in(run_dir.path())
            .arg("cleanup")
            .output()
            .unwrap();
        if !out.status.success() {
            return Err(format!("cleanup failed:\n{}", common::both(&out)));
        }
    }
    let left = leftovers(run_dir.path());
    if left != Leftovers::default() {
        return Err(format!("left behind: {left:?}\n{err}"));
    }
    let alive = lesson_processes(&before, run_dir.path());
    if !alive.is_empty() {
        return Err(format!("lesson processes still alive: {alive:?}"));
    }
    let now = HostState::capture();
    if &now != host {
        return Err(format!("host changed: {now:?}\nbefore: {host:?}\n{err}"));
    }
    Ok(())
}

#[test]
fn every_lesson_every_step_boundary_every_signal_leaves_the_host_as_it_was() {
    let t = turn();
    let started = Instant::now();
    // For a developer chasing one failure: FAULT_MATRIX_ONLY=ID plays one lesson's cases.
    let only = std::env::var("FAULT_MATRIX_ONLY").ok();
    let lessons: Vec<_> = lessons()
        .into_iter()
        .filter(|(id, _)| only.as_ref().is_none_or(|o| o == id))
        .collect();
    assert!(only.is_some() || lessons.len() >= 13, "{lessons:?}");
    let mut cases = 0;
    let mut by_signal = std::collections::BTreeMap::<String, usize>::new();
    for (lesson, steps) in &lessons {
        for step in 0..*steps {
            for moment in MOMENTS {
                let at = format!("{step}:{moment}");
                let caught = CAUGHT[cases / 2 % CAUGHT.len()];
                for signal in [caught, Signal::SIGKILL] {
                    if let Err(why) = case(lesson, &at, signal, &t.before) {
                        panic!("{lesson} at {at}, {signal}: {why}");
                    }
                    cases += 1;
                    *by_signal.entry(signal.to_string()).or_default() += 1;
                }
            }
        }
    }
    let boundaries: usize = lessons.iter().map(|(_, s)| s * MOMENTS.len()).sum();
    assert_eq!(cases, boundaries * 2);
    assert_eq!(
        by_signal["SIGKILL"], boundaries,
        "SIGKILL at every boundary"
    );
    common::summary::report(
        "fault-matrix",
        &format!(
            "fault matrix: {cases} cases ({} lessons, {boundaries} step boundaries, each with \
             SIGKILL and one of SIGINT/SIGTERM/SIGHUP in turn: {by_signal:?}) in {:.1} s",
            lessons.len(),
            started.elapsed().as_secs_f64()
        ),
    );
}

/// tmux on a socket of this test's own, removed with it.
struct Tmux(String);

impl Tmux {
    fn run(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .args(["-L", &self.0])
            .args(args)
            .output()
            .unwrap()
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "fm"]).stdout).into_owned()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

/// The TUI with the learner's shell open in it, and its terminal closed (tmux killed: the
/// kernel hangs the terminal up and SIGHUP goes to the TUI and to the shell): the TUI tears the
/// session down, nothing is left.
#[test]
fn tui_with_the_shell_open_hung_up_by_its_terminal_leaves_the_host_as_it_was() {
    let t = turn();
    let run_dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let tmux = Tmux(format!("clab-fm-{}", std::process::id()));
    let command = format!(
        "env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin TERM=xterm-256color HOME={home} \
         XDG_STATE_HOME={home} CONTAINERLAB_RUN_DIR={run} unshare --net -- sh -c \
         'ip link set lo up && exec {bin} tui uts'",
        home = home.path().display(),
        run = run_dir.path().display(),
        bin = common::bin().display()
    );
    let out = tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "fm",
        "-x",
        "120",
        "-y",
        "40",
        &command,
    ]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        common::wait_until(60, || tmux
            .screen()
            .contains("Press Enter to run this step")),
        "{}",
        tmux.screen()
    );
    tmux.run(&["send-keys", "-t", "fm", "Enter"]);
    assert!(
        common::wait_until(60, || tmux
            .screen()
            .lines()
            .next()
            .is_some_and(|l| l.contains("step 1/") && l.contains("passed"))),
        "{}",
        tmux.screen()
    );
    tmux.run(&["send-keys", "-t", "fm", "s"]);
    let needle = run_dir.path().to_string_lossy().into_owned();
    let shell_open = || {
        processes()
            .iter()
            .any(|p| p.command().contains("__enter") && p.mentions(needle.as_bytes()))
    };
    assert!(common::wait_until(60, shell_open), "{}", tmux.screen());
    // Closing the terminal: the pty's master goes, the kernel sends SIGHUP.
    tmux.run(&["kill-server"]);
    let gone = || {
        processes()
            .iter()
            .all(|p| !p.mentions(needle.as_bytes()) || p.pid == std::process::id() as i32)
    };
    assert!(
        common::wait_until(30, gone),
        "{:?}",
        leftovers(run_dir.path())
    );
    assert_eq!(leftovers(run_dir.path()), Leftovers::default());
    t.assert_host_unchanged("the TUI with its shell open, hung up");
}
