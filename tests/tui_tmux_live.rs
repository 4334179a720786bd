//! End to end in tmux: what the lesson screen shows while steps run. Keys pressed while a step
//! runs are queued, not lost; the lab's workloads go at a pace the live view can follow, so a
//! learner sees `memory.current` climb before the OOM kill. Root tests (the lessons make
//! namespaces and cgroups).

mod common;

use common::tmux::{running, setup, Setup, Tmux};
use common::{assert_empty_dir, wait_until};
use std::time::{Duration, Instant};

/// The header line: lesson, step, and what the session is doing.
fn header(screen: &str) -> &str {
    screen.lines().next().unwrap_or("")
}

/// Leaves the lesson and the TUI; nothing of it is left.
fn quit(tmux: &Tmux, s: &Setup) {
    tmux.keys(&["q"]);
    tmux.wait_for("the lesson list", |s| s.contains("Lessons"));
    tmux.keys(&["q"]);
    tmux.wait_for_prompt();
    assert!(
        wait_until(30, || running(&s.exe).is_empty()),
        "containerlab processes left"
    );
    assert_empty_dir(s.rundir.path());
}

#[test]
fn six_quick_enters_from_a_fresh_lesson_run_six_steps() {
    let s = setup(true);
    let (tmux, _) = Tmux::start(s.state.path(), s.rundir.path());
    // The layers lesson: its first exercise is step 8, so six Enters run six plain steps.
    tmux.keys(&[&format!("{} tui layers", s.exe.display()), "Enter"]);
    tmux.wait_for("the first screen", |s| header(s).contains("step 1/11"));
    // One tmux command: the six keys arrive together, while step 1 is still running.
    tmux.keys(&["Enter", "Enter", "Enter", "Enter", "Enter", "Enter"]);
    let done = tmux.wait_for("step 6 to pass", |s| {
        header(s).contains("step 6/11") && header(s).contains("step passed ✓")
    });
    assert!(!done.contains('✗'), "a failed check:\n{done}");
    // None of the six was lost or counted twice: the session stays at step 6.
    std::thread::sleep(Duration::from_millis(800));
    let later = tmux.screen();
    assert!(header(&later).contains("step 6/11"), "{later}");
    assert!(!header(&later).contains("queued"), "{later}");
    quit(&tmux, &s);
}

/// The cgroup's memory usage as the cgroup view shows it (`memory.current` on cgroup v2,
/// `memory.usage_in_bytes` on v1), when the view shows it.
fn memory_in_view(screen: &str) -> Option<u64> {
    let line = screen
        .lines()
        .find(|l| l.contains("memory.current ") || l.contains("memory.usage_in_bytes "))?;
    let after = line
        .split("memory.current")
        .nth(1)
        .or_else(|| line.split("memory.usage_in_bytes").nth(1))?;
    after.split_whitespace().next()?.parse().ok()
}

#[test]
fn memory_climbs_on_screen_before_the_oom_kill() {
    let s = setup(true);
    let (tmux, _) = Tmux::start_sized(s.state.path(), s.rundir.path(), 120, 40);
    tmux.keys(&[&format!("{} tui cgroup", s.exe.display()), "Enter"]);
    tmux.wait_for("the first screen", |s| header(s).contains("not run yet"));
    // Straight to the OOM step (the sandbox replays the steps before it).
    tmux.keys(&["g", "4", "Enter"]);
    tmux.wait_for("the OOM step, ready", |s| {
        header(s).contains("step 4/7") && header(s).contains("not run yet")
    });
    tmux.keys(&["Enter"]);
    // Captures a few tenths of a second apart while the step runs (before the kill ends it).
    let mut seen = Vec::new();
    let start = Instant::now();
    loop {
        let screen = tmux.screen();
        if !header(&screen).contains("running step 4") {
            if !seen.is_empty() || start.elapsed() > Duration::from_secs(30) {
                break;
            }
        } else if let Some(bytes) = memory_in_view(&screen) {
            seen.push(bytes);
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    seen.dedup();
    assert!(
        seen.len() >= 2,
        "memory did not climb on screen while the step ran: {seen:?}"
    );
    assert!(seen[0] < seen[seen.len() - 1], "it climbs: {seen:?}");
    let done = tmux.wait_for("the step to pass", |s| {
        header(s).contains("step 4/7") && header(s).contains("step passed ✓")
    });
    assert!(!done.contains('✗'), "a failed check:\n{done}");
    quit(&tmux, &s);
}
