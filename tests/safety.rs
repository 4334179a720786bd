//! Safety rails, as root: a run that never ends is bounded, a headless run has an overall
//! limit, and bad input (a broken lesson in `--lessons`, a hostile `--image`) is refused with
//! exit 2 before anything runs. Every run gets its own session directory, and afterwards nothing
//! of it may be left; the host as a whole is compared before and after.

mod common;

use common::lesson_run::{lab_turn, LabTurn};
use common::oci::{hand_layout_with, raw_header, tar_of};
use common::{assert_nothing_left, both, fixtures, lab_in};
use std::time::{Duration, Instant};

/// Plays fixture lesson `id` (tests/fixtures/ID.yaml) headless with `extra` arguments, its
/// sessions under the turn's directory; answers its exit code, both outputs and how long it took.
fn play_fixture(t: &LabTurn, id: &str, extra: &[&str]) -> (Option<i32>, String, Duration) {
    let started = Instant::now();
    let out = lab_in(t.dir())
        .args(["--lessons"])
        .arg(fixtures().join(format!("{id}.yaml")))
        .args(["run", "lesson", id, "--headless"])
        .args(extra)
        .output()
        .unwrap();
    (out.status.code(), both(&out), started.elapsed())
}

#[test]
fn a_run_that_sleeps_forever_is_killed_at_its_limit_and_the_lesson_stops() {
    let t = lab_turn();
    let (code, text, took) = play_fixture(&t, "forever", &[]);
    assert_eq!(code, Some(1), "{text}");
    // The fixture's limit is 3 s: a few seconds more for the lesson around it, not minutes.
    assert!(took < Duration::from_secs(10), "took {took:?}:\n{text}");
    assert!(took >= Duration::from_secs(3), "took {took:?}:\n{text}");
    assert!(text.contains("timed out after 3 s"), "{text}");
    assert!(text.contains("ETIMEDOUT"), "{text}");
    assert!(text.contains("process group"), "{text}");
    // The broken step stops the lesson: the third step never runs.
    assert!(!text.contains("[3/3]"), "{text}");
    // The shell's `sleep infinity` child was in the killed process group too.
    assert!(common::sleepers("infinity").is_empty(), "{text}");
    assert_nothing_left(t.dir());
    t.turn.assert_host_unchanged(&text);
}

#[test]
fn a_solution_that_never_ends_is_killed_at_its_limit_and_counts_as_failed() {
    let t = lab_turn();
    let (code, text, took) = play_fixture(&t, "forever-solution", &[]);
    assert_eq!(code, Some(1), "{text}");
    // The fixture's solution may run 2 s.
    assert!(took < Duration::from_secs(8), "took {took:?}:\n{text}");
    assert!(text.contains("timed out after 2 s"), "{text}");
    assert!(text.contains("did not end within its time limit"), "{text}");
    assert!(common::sleepers("infinity").is_empty(), "{text}");
    assert_nothing_left(t.dir());
    t.turn.assert_host_unchanged(&text);
}

#[test]
fn a_headless_run_stops_at_its_overall_timeout_and_tears_down() {
    let t = lab_turn();
    // The slow fixture's second step sleeps 60 s: well past a 2 s overall limit.
    let (code, text, took) = play_fixture(&t, "slow", &["--timeout", "2"]);
    assert_eq!(code, Some(124), "{text}");
    assert!(took < Duration::from_secs(10), "took {took:?}:\n{text}");
    assert!(text.contains("longer than --timeout 2 s"), "{text}");
    assert!(text.contains("teardown"), "{text}");
    assert_nothing_left(t.dir());
    t.turn.assert_host_unchanged(&text);
}

#[test]
fn an_invalid_lesson_in_lessons_dir_is_exit_2_and_nothing_plays() {
    let t = lab_turn();
    let dir = tempfile::tempdir().unwrap();
    let pid =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/lessons/pid.yaml")).unwrap();
    // A process no `spawn` started: a meaning error that `check` reports, not a syntax error.
    let broken = pid.replacen("in: init", "in: ghost", 1);
    assert_ne!(broken, pid);
    std::fs::write(dir.path().join("pid.yaml"), broken).unwrap();
    let out = lab_in(t.dir())
        .arg("--lessons")
        .arg(dir.path())
        .args(["run", "lesson", "pid", "--headless"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    // Nothing played: not the broken lesson, not the built-in one of the same id.
    assert!(out.stdout.is_empty(), "{}", both(&out));
    assert!(err.contains("nothing was run"), "{err}");
    // Each error once.
    let error_lines: Vec<&str> = err.lines().filter(|l| l.contains(": error:")).collect();
    assert_eq!(error_lines.len(), 1, "{err}");
    assert!(error_lines[0].contains("\"ghost\""), "{err}");
    assert_nothing_left(t.dir());
    t.turn.assert_host_unchanged(&err);
}

#[test]
fn an_image_with_a_traversal_entry_is_exit_2_before_the_first_step() {
    let t = lab_turn();
    let scratch = tempfile::Builder::new()
        .prefix("clab-safety-")
        .tempdir_in("/tmp")
        .unwrap();
    let layout = hand_layout_with(scratch.path(), "evil", |b| {
        let h = raw_header("../escaped", tar::EntryType::Regular, None, 5);
        b.append(&h, &b"evil\n"[..]).unwrap();
    });
    let tarball = scratch.path().join("evil.tar");
    tar_of(&layout, &tarball);
    for image in [&layout, &tarball] {
        let out = lab_in(t.dir())
            .args(["run", "lesson", "layers", "--headless", "--image"])
            .arg(image)
            .output()
            .unwrap();
        let text = both(&out);
        assert_eq!(out.status.code(), Some(2), "{text}");
        // Before the first step: no lesson output at all.
        assert!(out.stdout.is_empty(), "{text}");
        assert!(text.contains("layer 2 (sha256:"), "{text}");
        assert!(text.contains("`../escaped`"), "{text}");
        assert!(text.contains("`..` component"), "{text}");
        assert!(!scratch.path().join("escaped").exists());
        assert_nothing_left(t.dir());
    }
    t.turn.assert_host_unchanged("");
}

#[test]
fn an_image_whose_blob_does_not_match_its_digest_is_exit_2() {
    let t = lab_turn();
    let scratch = tempfile::Builder::new()
        .prefix("clab-safety-")
        .tempdir_in("/tmp")
        .unwrap();
    let layout = hand_layout_with(scratch.path(), "changed", |_| {});
    // Change the config blob's bytes (same size), as a corrupted or tampered copy would.
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(layout.join("index.json")).unwrap()).unwrap();
    let blob = |digest: &str| layout.join("blobs/sha256").join(&digest["sha256:".len()..]);
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(blob(index["manifests"][0]["digest"].as_str().unwrap())).unwrap(),
    )
    .unwrap();
    let config = blob(manifest["config"]["digest"].as_str().unwrap());
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace("ENV X=1", "ENV X=2")).unwrap();
    let out = lab_in(t.dir())
        .args(["run", "lesson", "layers", "--headless", "--image"])
        .arg(&layout)
        .output()
        .unwrap();
    let text = both(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(out.stdout.is_empty(), "{text}");
    assert!(
        text.contains("the config blob does not match its digest"),
        "{text}"
    );
    assert_nothing_left(t.dir());
    t.turn.assert_host_unchanged(&text);
}

#[test]
fn help_says_that_lessons_and_images_from_elsewhere_run_as_root() {
    let top = common::lab().arg("--help").output().unwrap();
    let top = String::from_utf8_lossy(&top.stdout);
    assert!(top.contains("A lesson runs what it says as root"), "{top}");
    let run = common::lab()
        .args(["run", "lesson", "--help"])
        .output()
        .unwrap();
    let run = String::from_utf8_lossy(&run.stdout);
    assert!(run.contains("read an image from elsewhere"), "{run}");
    assert!(run.contains("--timeout"), "{run}");
}
