//! The command a step shows does what its text says when a learner types it: these steps are
//! played by typing their command into the step's shell (the same process, through the same
//! `containerlab __enter`, as the TUI's shell pane) instead of running their actions, and their
//! checks pass. Root test; each lesson in a network namespace the test makes.

mod common;

use common::lesson_run::{command, lab_turn, Wrap};
use containerlab::session::explore::TYPE_STEPS_VAR;

/// (lesson, step) whose command is typed in place of the step's actions.
const TYPED: [(&str, &str); 6] = [
    ("uts", "sethostname"),
    ("pid", "proc-still-host"),
    ("pid", "mount-proc-inside"),
    ("mount", "unmount-propagates"),
    ("ipc", "own-segment"),
    ("logs", "rm"),
];

#[test]
fn steps_played_by_typing_their_command_pass_their_checks() {
    let lab = lab_turn();
    for (lesson, step) in TYPED {
        let scratch = tempfile::tempdir().unwrap();
        let args: Vec<String> = ["run", "lesson", lesson, "--headless", "--format", "json"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let out = command(Wrap::NetNsLoUp("true"), &args, lab.dir(), scratch.path())
            .env(TYPE_STEPS_VAR, step)
            .output()
            .unwrap();
        let events: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let index = events
            .iter()
            .find(|e| e["event"] == "step_start" && e["id"] == step)
            .and_then(|e| e["step"].as_u64())
            .unwrap_or_else(|| panic!("{lesson}/{step} never started"));
        let of_step: Vec<&serde_json::Value> = events
            .iter()
            .filter(|e| e["step"].as_u64() == Some(index))
            .collect();
        // Typed, not run: the step made no action of its own.
        assert!(
            !of_step.iter().any(|e| e["event"] == "action"),
            "{lesson}/{step} ran its actions"
        );
        let checks: Vec<_> = of_step.iter().filter(|e| e["event"] == "check").collect();
        assert!(!checks.is_empty(), "{lesson}/{step} judged nothing");
        for c in &checks {
            assert_eq!(c["passed"], true, "{lesson}/{step}: {c}");
        }
        assert_eq!(
            out.status.code(),
            Some(0),
            "{lesson}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
