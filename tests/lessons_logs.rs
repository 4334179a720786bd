//! The logs lesson, end to end, as root (#17 item 5): the container's stdout and stderr land in
//! a json-file log, line by line with their stream, are read back per stream and in order as
//! `docker logs` does, and go with the container's directory; afterwards nothing of the run is
//! left.

mod common;

use common::{assert_nothing_left, expect_exit, lab_in};

#[test]
fn item_5_stdout_and_stderr_in_a_json_lines_log_read_back_and_removed_with_the_container() {
    // The machine's turn: the test beside it compares the whole host before and after, and this
    // run's agents would be in its picture.
    let _m = common::machine();
    let t = tempfile::Builder::new()
        .prefix("clab-logs-test-")
        .tempdir_in("/tmp")
        .unwrap();
    let run_dir = t.path().join("run");
    let out = lab_in(&run_dir)
        .args(["run", "lesson", "logs", "--headless"])
        .output()
        .unwrap();
    let text = expect_exit(&out, 0);
    for claim in [
        "The log has three lines, one per line written",
        "The first is {\"log\":\"hello from the app\\n\",\"stream\":\"stdout\",\"time\":...}",
        "On stdout: the two stdout lines",
        "On stderr: the warning",
        "In order: the first line is stdout's hello...",
        "...and the last is stdout's listening line, so the warning came between them",
        "The log file is gone",
    ] {
        assert!(
            text.contains(&format!("✓ {claim}")),
            "not passed: {claim}\n{text}"
        );
    }
    // The collector's writes are in the trace, one JSON object per line, with its stream.
    assert!(
        text.contains("write(3, \"{\\\"log\\\":\\\"warning: no config file, using defaults\\\\n\\\",\\\"stream\\\":\\\"stderr\\\""),
        "{text}"
    );
    assert_nothing_left(&run_dir);
}

#[test]
fn logs_lesson_passes_with_rshared_root_and_leaves_the_host_unchanged() {
    use common::lesson_run::{lab_turn, play, Wrap};
    let t = lab_turn();
    let run = play(Wrap::RsharedMountNs, "logs", &[], t.dir());
    assert_eq!(run.code, Some(0), "{}", run.output);
    run.assert_mountinfo_kept();
    t.turn.assert_host_unchanged(&run.output);
    common::assert_empty_dir(t.dir());
}
