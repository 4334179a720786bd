//! Instructor and author tools on the real binary (as root): headless runs record progress,
//! `progress --export` / `--summary`, `reset`, `new lesson`, the worked example of
//! docs/writing-lessons.md, and `prepare`. Every test keeps its state in a temporary directory
//! (CONTAINERLAB_STATE_DIR) and checks that its own runs left nothing on the host.

mod common;

use common::{both as text, lab, machine, start_slow};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the binary with the given state dir; for a run that starts sessions, also checks that
/// nothing of this run's sessions (named after its pid) is left mounted or in /run/containerlab.
fn run_in(state: &Path, args: &[&str]) -> Output {
    let child = lab()
        .env("CONTAINERLAB_STATE_DIR", state)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let prefix = format!("clab-{}-", child.id());
    let out = child.wait_with_output().unwrap();
    let left: Vec<String> = std::fs::read_dir("/run/containerlab")
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(&prefix))
                .collect()
        })
        .unwrap_or_default();
    assert!(left.is_empty(), "session left behind: {left:?}");
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mountinfo.contains(&prefix),
        "mount left behind:\n{mountinfo}"
    );
    out
}

/// `check` accepts the lesson file `file` without an error, and then its lesson `id` plays
/// headless with progress in `state` (see [`run_in`]); answers that run.
fn check_then_play(state: &Path, file: &Path, id: &str) -> Output {
    let out = lab().arg("check").arg(file).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("0 error(s)"), "{}", text(&out));
    let file = file.to_str().unwrap();
    run_in(
        state,
        &["--lessons", file, "run", "lesson", id, "--headless"],
    )
}

/// `new lesson ID --dir DIR`.
fn new_lesson(id: &str, dir: &Path) -> Output {
    lab()
        .args(["new", "lesson", id])
        .arg("--dir")
        .arg(dir)
        .output()
        .unwrap()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn a_headless_run_records_progress_and_the_export_carries_it() {
    let _m = machine();
    let state = tempfile::tempdir().unwrap();
    let out = run_in(state.path(), &["run", "lesson", "uts", "--headless"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    let progress = read_json(&state.path().join("progress.json"));
    assert_eq!(progress["format"], "containerlab-progress");
    assert_eq!(progress["version"], 1);
    let uts = &progress["lessons"]["uts"];
    // A headless play solves the exercise with its solution: none of it is the learner's, so
    // an instructor's run on a learner's VM marks nothing done. It counts apart.
    assert_eq!(uts["steps_done"], serde_json::json!([]), "{uts}");
    assert!(uts["completed"].is_null(), "{uts}");
    assert_eq!(uts["checks"], serde_json::json!({}), "{uts}");
    assert!(uts.get("exercises").is_none(), "{uts}");
    assert_eq!(uts["headless"]["runs"], 1, "{uts}");
    assert_eq!(uts["headless"]["passed"], true, "{uts}");
    let at = uts["headless"]["at"].as_str().unwrap();
    assert!(at.ends_with('Z') && at.len() == 20, "{at}");

    // A second run adds to the same file.
    let out = run_in(state.path(), &["run", "lesson", "uts", "--headless"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let again = read_json(&state.path().join("progress.json"));
    assert_eq!(again["lessons"]["uts"]["headless"]["runs"], 2);
    assert!(again["lessons"]["uts"]["completed"].is_null());

    let export = state.path().join("alice.json");
    let out = run_in(
        state.path(),
        &[
            "progress",
            "--export",
            "--name",
            "alice",
            "-o",
            export.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let e = read_json(&export);
    assert_eq!(e["learner"], "alice");
    let host = nix::unistd::gethostname().unwrap();
    assert_eq!(e["hostname"], host.to_string_lossy().as_ref());
    assert_eq!(e["lessons"]["uts"]["headless"]["runs"], 2);
    assert!(e["exported"].as_str().unwrap().ends_with('Z'));

    // Without -o the export goes to standard output; the name defaults to $SUDO_USER/$USER.
    let out = lab()
        .env("CONTAINERLAB_STATE_DIR", state.path())
        .env_remove("SUDO_USER")
        .env("USER", "bob")
        .args(["progress", "--export"])
        .output()
        .unwrap();
    let e: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(e["learner"], "bob");
}

#[test]
fn a_refused_run_records_nothing() {
    let _m = machine();
    let state = tempfile::tempdir().unwrap();
    // `nobody` cannot run lessons: refused with exit 3 before anything starts.
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(common::bin())
        .args(["run", "lesson", "uts", "--headless"])
        .env("CONTAINERLAB_STATE_DIR", state.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(!state.path().join("progress.json").exists());
}

fn export_file(dir: &Path, learner: &str, lessons: Value) -> std::path::PathBuf {
    let path = dir.join(format!("{learner}.json"));
    let doc = serde_json::json!({
        "format": "containerlab-progress",
        "version": 1,
        "learner": learner,
        "hostname": format!("{learner}-laptop"),
        "exported": "2026-11-28T09:00:00Z",
        "lessons": lessons,
    });
    std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    path
}

fn lesson(steps: &[&str], checks: &[(&str, bool)], completed: bool) -> Value {
    let checks: serde_json::Map<String, Value> = checks
        .iter()
        .map(|(id, ok)| {
            (
                id.to_string(),
                serde_json::json!({"passed": ok, "at": "2026-11-28T08:00:00Z"}),
            )
        })
        .collect();
    serde_json::json!({
        "started": "2026-11-28T08:00:00Z",
        "updated": "2026-11-28T08:10:00Z",
        "completed": if completed { Value::from("2026-11-28T08:10:00Z") } else { Value::Null },
        "runs": 1,
        "steps_done": steps,
        "checks": checks,
    })
}

/// `lesson` with its exercise (uts's `yourself`) solved `by` after `hints` hints.
fn solved(mut lesson: Value, by: &str, hints: usize) -> Value {
    lesson["exercises"] = serde_json::json!({
        "yourself": {"by": by, "hints": hints, "at": "2026-11-28T08:05:00Z"}
    });
    lesson
}

#[test]
fn the_summary_merges_exports_into_who_finished_what_and_what_fails_most() {
    let dir = tempfile::tempdir().unwrap();
    let all_uts = ["shared", "unshare", "sethostname", "yourself", "domainname"];
    let files = [
        export_file(
            dir.path(),
            "alice",
            serde_json::json!({"uts": solved(
                lesson(&all_uts, &[("now-mybox", true)], true),
                "learner",
                0
            )}),
        ),
        export_file(
            dir.path(),
            "bob",
            serde_json::json!({
                "uts": lesson(&["shared", "unshare"], &[("now-mybox", false), ("inside-is-lab", false)], false),
                "pid": lesson(&["start"], &[], false),
            }),
        ),
        export_file(
            dir.path(),
            "carol",
            serde_json::json!({"uts": solved(
                lesson(&all_uts[..3], &[("now-mybox", false)], false),
                "solution",
                2
            )}),
        ),
    ];
    let out = lab()
        .arg("progress")
        .arg("--summary")
        .args(&files)
        .output()
        .unwrap();
    let t = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let row = |who: &str| {
        t.lines()
            .find(|l| l.starts_with(who))
            .unwrap_or_else(|| panic!("no row for {who}:\n{t}"))
            .split_whitespace()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let header = row("LEARNER");
    // Built-in lessons in catalog order: uts (order 10) before pid.
    assert_eq!(header, ["LEARNER", "HOST", "uts", "pid"], "{t}");
    assert_eq!(row("alice"), ["alice", "alice-laptop", "done", "-"], "{t}");
    // "2/5 steps": 2 steps done of the built-in lesson's 5.
    assert_eq!(row("bob")[2..4], ["2/5", "steps"], "{t}");
    assert_eq!(row("carol")[2..4], ["3/5", "steps"], "{t}");
    assert!(t.contains("  uts: 1\n"), "{t}");
    // now-mybox fails for two learners: first in the list.
    let failing: Vec<&str> = t
        .lines()
        .skip_while(|l| !l.starts_with("checks failing"))
        .skip(1)
        .collect();
    assert_eq!(
        failing[0].split_whitespace().collect::<Vec<_>>(),
        ["2", "uts/now-mybox"],
        "{t}"
    );
    assert_eq!(
        failing[1].split_whitespace().collect::<Vec<_>>(),
        ["1", "uts/inside-is-lab"],
        "{t}"
    );

    // Per exercise: alice solved uts's alone, carol ran the solution, bob has not solved it.
    let yourself: Vec<&str> = t
        .lines()
        .find(|l| l.trim_start().starts_with("uts/yourself"))
        .unwrap_or_else(|| panic!("no exercise row:\n{t}"))
        .split_whitespace()
        .collect();
    assert_eq!(
        yourself,
        [
            "uts/yourself",
            "1",
            "alone",
            "0",
            "with",
            "hints",
            "1",
            "solution",
            "1",
            "not",
            "solved"
        ],
        "{t}"
    );

    // Something that is not an export is refused, naming the file.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"format": "something-else", "version": 1}"#).unwrap();
    let out = lab()
        .args(["progress", "--summary"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("bad.json"), "{}", text(&out));
}

#[test]
fn an_unreadable_progress_file_is_kept_until_reset_moves_it_aside() {
    let _m = machine();
    let state = tempfile::tempdir().unwrap();
    let file = state.path().join("progress.json");
    let foreign = "{\"lessons\":{\"uts\":{\"steps_done\":[0,1]}}}\n";
    std::fs::write(&file, foreign).unwrap();

    // The lesson still runs; the progress is not recorded, and the file is not overwritten.
    let out = run_in(state.path(), &["run", "lesson", "uts", "--headless"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("progress not recorded"), "{err}");
    assert!(err.contains("containerlab reset --yes"), "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), foreign);
    // The export refuses it the same way instead of exporting nothing.
    let out = run_in(state.path(), &["progress", "--export"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));

    // reset moves it aside (kept, not deleted); the next run records afresh.
    let out = run_in(state.path(), &["reset", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let aside = state.path().join("progress.json.bad");
    assert_eq!(std::fs::read_to_string(&aside).unwrap(), foreign);
    let out = run_in(state.path(), &["run", "lesson", "uts", "--headless"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(read_json(&file)["lessons"]["uts"]["headless"]["runs"], 1);
}

#[test]
fn reset_forgets_progress_after_confirmation_and_cleans_up() {
    let _m = machine();
    let state = tempfile::tempdir().unwrap();
    let file = state.path().join("progress.json");
    let p = serde_json::json!({
        "format": "containerlab-progress",
        "version": 1,
        "lessons": {
            "uts": lesson(&["shared"], &[("now-mybox", false)], false),
            "pid": lesson(&["start"], &[], false),
        }
    });
    std::fs::write(&file, p.to_string()).unwrap();

    // Not a terminal and no --yes: refused, nothing changes.
    let out = run_in(state.path(), &["reset"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("--yes"), "{}", text(&out));
    assert_eq!(read_json(&file)["lessons"].as_object().unwrap().len(), 2);

    let out = run_in(state.path(), &["reset", "--lesson", "uts", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let left = read_json(&file);
    assert!(left["lessons"].get("uts").is_none());
    assert!(left["lessons"].get("pid").is_some());

    let out = run_in(state.path(), &["reset", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(read_json(&file)["lessons"], serde_json::json!({}));
    // Cleanup ran (as root): its report is part of the output.
    let t = text(&out);
    assert!(
        t.contains("no leftovers of crashed runs")
            || t.contains("cleaned up session")
            || t.contains("left alone"),
        "{t}"
    );
}

#[test]
fn reset_cleans_up_what_a_killed_run_left() {
    let _m = machine();
    let state = tempfile::tempdir().unwrap();
    let mut slow = lab();
    slow.env("CONTAINERLAB_STATE_DIR", state.path())
        .stderr(Stdio::null());
    let mut child = start_slow(slow);
    let session = format!("/run/containerlab/clab-{}-", child.id());
    let mounted = || {
        std::fs::read_to_string("/proc/self/mountinfo")
            .unwrap()
            .contains(&session)
    };
    assert!(mounted(), "the slow lesson never mounted");
    // SIGKILL: no teardown; the session's mount and agents stay behind.
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(mounted());
    let out = run_in(state.path(), &["reset", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("cleaned up session"), "{}", text(&out));
    assert!(!mounted(), "reset removed the killed run's mount");
}

#[test]
fn new_lesson_writes_a_skeleton_that_checks_and_plays() {
    let _m = machine();
    let dir = tempfile::tempdir().unwrap();
    let out = new_lesson("my-first", &dir.path().join("lessons"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let file = dir.path().join("lessons/my-first.yaml");
    assert!(file.is_file());

    let state = tempfile::tempdir().unwrap();
    let out = check_then_play(state.path(), &file, "my-first");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("✓ my-first:"), "{}", text(&out));

    // Never overwrites, and refuses ids `check` would refuse.
    let again = new_lesson("my-first", &dir.path().join("lessons"));
    assert_eq!(again.status.code(), Some(2));
    assert!(text(&again).contains("not overwritten"), "{}", text(&again));
    let bad = new_lesson("My_Lesson", dir.path());
    assert_eq!(bad.status.code(), Some(2));
    assert!(!dir.path().join("My_Lesson.yaml").exists());
}

#[test]
fn the_worked_example_checks_and_plays_headless() {
    let _m = machine();
    let example = repo().join("examples/lessons/private-tmp.yaml");
    let state = tempfile::tempdir().unwrap();
    let before = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let out = check_then_play(state.path(), &example, "private-tmp");
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(
        t.contains("✓ The host still reads the file underneath"),
        "{t}"
    );
    assert!(!t.contains('✗'), "{t}");
    // The sandbox's /mnt tmpfs never reached the host.
    let after = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let mnt = |m: &str| {
        m.lines()
            .filter(|l| l.split(' ').nth(4) == Some("/mnt"))
            .count()
    };
    assert_eq!(mnt(&after), mnt(&before));
    // The guide's example is this file.
    let guide = std::fs::read_to_string(repo().join("docs/writing-lessons.md")).unwrap();
    assert!(guide.contains("examples/lessons/private-tmp.yaml"));
}

#[test]
fn prepare_builds_the_rootfs_cache_once() {
    let cache = tempfile::tempdir().unwrap();
    let run = || {
        lab()
            .arg("prepare")
            .env("CONTAINERLAB_CACHE_DIR", cache.path())
            .output()
            .unwrap()
    };
    let out = run();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let busybox = cache.path().join("rootfs/bin/busybox");
    assert!(busybox.is_file());
    let stamp = cache.path().join("rootfs/etc/containerlab-rootfs-version");
    use std::os::unix::fs::MetadataExt;
    let ino = std::fs::metadata(&stamp).unwrap().ino();
    let out = run();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        std::fs::metadata(&stamp).unwrap().ino(),
        ino,
        "a second prepare keeps the cache as it is"
    );
    // --cache-dir wins over the environment.
    let other = tempfile::tempdir().unwrap();
    let out = lab()
        .arg("prepare")
        .arg("--cache-dir")
        .arg(other.path())
        .env("CONTAINERLAB_CACHE_DIR", cache.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(other.path().join("rootfs/bin/busybox").is_file());
}
