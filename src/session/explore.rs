//! A learner who explores, played without a learner: after each step (and before the first), a
//! shell is opened where the learner's would open at that step (the same process, through the
//! same `containerlab __enter`, with the same environment, the holder when that process has
//! exited) and runs a few commands, then closes. A lesson whose later checks fail after
//! that breaks for anyone who opened a shell, ran `ps` or made a file: its checks judge something
//! other than what its steps are about.
//!
//! Test-only: headless runs do this when `CONTAINERLAB_TEST_EXPLORE` holds the commands to type.
//!
//! The same shell also plays a step *by typing its command* instead of running its actions
//! (`CONTAINERLAB_TEST_TYPE_STEPS` names those steps), then judges it: the command a step shows
//! must do what its text says when a learner types it.

use super::events::{Event, Sink};
use super::player::StepResult;
use super::runner::{shell_target, Runner};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The environment variable that turns exploring on, holding the commands a learner types.
pub const EXPLORE_VAR: &str = "CONTAINERLAB_TEST_EXPLORE";
/// The environment variable naming (by id, comma-separated) the steps played by typing.
pub const TYPE_STEPS_VAR: &str = "CONTAINERLAB_TEST_TYPE_STEPS";

/// How long one exploring shell may take before it is killed.
const LIMIT: Duration = Duration::from_secs(20);

/// Plays step `index` as a learner who types its command in the step's shell instead of letting
/// the lab run its actions, then judges it.
pub fn play_typed(
    runner: &mut Runner,
    index: usize,
    sink: &mut dyn Sink,
) -> Result<StepResult, String> {
    sink.emit(&runner.step_start(index));
    let command = runner.lesson().steps[index]
        .command
        .as_ref()
        // What the learner reads: placeholders filled, `{work}` as `$WORK`.
        .map(|c| runner.facts().display(c.get("en")))
        .ok_or("the step shows no command")?;
    explore(runner, index, index, &command)?;
    let checks = runner.judge(index, sink);
    let result = StepResult {
        checks,
        ..Default::default()
    };
    sink.emit(&Event::StepEnd {
        step: index,
        passed: result.passed(),
    });
    Ok(result)
}

/// Opens the learner's shell as it would be opened at step `step` once steps `0..done` ran, types
/// `commands` into it and waits for it to end. The error says why it could not be done.
pub fn explore(runner: &Runner, step: usize, done: usize, commands: &str) -> Result<(), String> {
    let facts = runner.facts();
    let alive = |name: &String| {
        let pid = facts.pids.get(name)?;
        std::fs::read_link(format!("/proc/{pid}/ns/mnt"))
            .ok()
            .map(|_| (name.clone(), *pid))
    };
    // As in the TUI: a process that has exited has no namespaces to enter; the holder then.
    let (name, pid) = alive(&shell_target(runner.lesson(), step, done, &facts.pids))
        .or_else(|| alive(&"sandbox".to_string()))
        .ok_or("no process to explore")?;
    let mut child = Command::new(&facts.exe)
        .args(["__enter", "--pid", &pid.to_string(), "--label"])
        .arg(format!("{}:{name}", runner.lesson().id))
        .envs(facts.shell_env())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("{}: {e}", facts.exe))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = writeln!(stdin, "{commands}\nexit");
    }
    let started = Instant::now();
    while started.elapsed() < LIMIT {
        if child.try_wait().map_err(|e| e.to_string())?.is_some() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    Err(format!(
        "the exploring shell in {name} did not end within {LIMIT:?}"
    ))
}
