//! A learner explores: before the first step and after every step of every lesson a shell is
//! opened where the learner's would be (the same process, through the same `containerlab
//! __enter`), runs `ps`, lists directories and makes a file and a directory, and closes. No later check may fail because of
//! it: checks judge what their step is about, not the PIDs, files and processes a curious learner
//! adds. Root test; the network lessons run in a network namespace the test makes, the mount
//! lesson with `/` rshared as on a systemd machine.

mod common;

use common::lesson_run::{command, lab_turn, Wrap};
use containerlab::lesson::load::catalog;

/// What the learner types: a look around, and a file and a directory where it may write (the
/// session's work directory when the shell is on the host's filesystem, else /tmp in the root).
const EXPLORING: &str = "ps >/dev/null 2>&1; ls / /proc >/dev/null 2>&1; \
     cd \"$WORK\" 2>/dev/null || cd /tmp; touch explored-file; mkdir -p explored-dir; \
     cat /proc/self/status >/dev/null";

#[test]
fn exploring_in_the_shell_at_every_step_breaks_no_check() {
    let lab = lab_turn();
    let mut failed = Vec::new();
    let lessons = catalog(&[]).0;
    for loaded in &lessons {
        let id = &loaded.lesson.id;
        let wrap = match id.as_str() {
            "mount" => Wrap::RsharedMountNs,
            _ => Wrap::NetNsLoUp("true"),
        };
        let scratch = tempfile::tempdir().unwrap();
        let args: Vec<String> = ["run", "lesson", id, "--headless"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let out = command(wrap, &args, lab.dir(), scratch.path())
            .env(containerlab::session::explore::EXPLORE_VAR, EXPLORING)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let errors = String::from_utf8_lossy(&out.stderr);
        if out.status.code() != Some(0) || errors.contains("exploring at step") {
            let lines: Vec<&str> = text.lines().filter(|l| l.contains('✗')).collect();
            failed.push(format!("{id}: {}\n{errors}", lines.join("\n")));
        }
    }
    assert!(lessons.len() >= 13, "only {} lessons", lessons.len());
    assert!(
        failed.is_empty(),
        "checks that break when a learner explores:\n{}",
        failed.join("\n")
    );
}
