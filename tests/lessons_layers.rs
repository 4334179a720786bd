//! The layers lesson, end to end, as root: on the image the lab builds, on a layout written here
//! by hand (`--image`, directory and .tar), refused for a Docker archive, and interrupted
//! mid-lesson. Every run gets its own CONTAINERLAB_RUN_DIR, and afterwards nothing of it may be
//! left: no session directory, no mount in any mount namespace, no process.

mod common;

use common::lesson_run::interrupt_when;
use common::oci::{hand_layout, tar_of};
use common::{assert_nothing_left, expect_exit, lab_in};
use std::fs;
use std::path::Path;
use std::process::Output;
use std::time::Duration;

fn tmp() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("clab-layers-test-")
        .tempdir_in("/tmp")
        .unwrap()
}

/// The layers lesson on `image` (`--image`), its sessions under `run_dir`.
fn play_on(run_dir: &Path, image: &Path) -> Output {
    lab_in(run_dir)
        .args(["run", "lesson", "layers", "--headless", "--image"])
        .arg(image)
        .output()
        .unwrap()
}

#[test]
fn layers_lesson_passes_on_the_lab_built_image() {
    let t = tmp();
    let run = t.path().join("run");
    let out = lab_in(&run)
        .args(["run", "lesson", "layers", "--headless"])
        .output()
        .unwrap();
    let text = expect_exit(&out, 0);
    assert!(text.contains("unpack(blobs/sha256/"), "{text}");
    assert!(
        text.contains("the top layer's is the COPY of myapp/hoge.txt"),
        "{text}"
    );
    assert!(text.contains("whiteout (0:0 character device)"), "{text}");
    // The layers view shows what each container wrote: at the delete step (an exercise, whose
    // view is drawn before the solution runs), a's upper layer holds the new file and the
    // copied-up one that the earlier exercises' solutions wrote; b's holds nothing. The
    // whiteout the delete leaves is judged by the step's check.
    assert!(
        text.contains("✓ a's upper directory has a whiteout (0:0 character device) in its place"),
        "{text}"
    );
    let delete_step = text
        .split("\n[10/")
        .nth(1)
        .and_then(|s| s.split("\n[11/").next())
        .unwrap_or_else(|| panic!("no step 10 in:\n{text}"));
    let a_upper = delete_step
        .split("── a's upper layer: a/upper ──")
        .nth(1)
        .and_then(|s| s.split("── b's upper layer: b/upper ──").next())
        .unwrap_or_else(|| panic!("no upper layers in:\n{delete_step}"));
    for written in [
        "/hello-from-a.txt  (13 bytes), new",
        "/myapp/hoge.txt  (13 bytes), copied up from layers/4",
    ] {
        assert!(a_upper.contains(written), "{written}:\n{a_upper}");
    }
    assert!(
        delete_step.contains("── b's upper layer: b/upper ──\n  │   (empty: nothing written yet)"),
        "{delete_step}"
    );
    assert_nothing_left(&run);
}

#[test]
fn layers_lesson_passes_on_a_hand_written_layout_dir_and_tar() {
    let t = tmp();
    let layout = hand_layout(t.path());
    let tarball = t.path().join("hand.tar");
    tar_of(&layout, &tarball);
    for image in [&layout, &tarball] {
        let run = t.path().join("run");
        let text = expect_exit(&play_on(&run, image), 0);
        assert!(text.contains("import("), "{text}");
        // The example's own claims are left out; the generic ones ran on this image.
        assert!(!text.contains("COPY of myapp"), "{text}");
        assert!(
            text.contains("Every .wh. entry in the layer tars became"),
            "{text}"
        );
        // The files it changed came from this image: the top layer's tool, and a lower one
        // (the exercise names it, and its solution reaches it through $IMAGE_FILE_1).
        assert!(
            text.contains("Exercise: In container a, make /bin/tool read"),
            "{text}"
        );
        assert_nothing_left(&run);
    }
    // The learner's layout is only read.
    assert!(layout.join("index.json").is_file());
    assert_eq!(
        fs::read_dir(layout.join("blobs/sha256")).unwrap().count(),
        4
    );
}

#[test]
fn a_docker_archive_is_refused_with_exit_2() {
    let t = tmp();
    let archive = t.path().join("docker");
    fs::create_dir_all(archive.join("abc123")).unwrap();
    fs::write(
        archive.join("manifest.json"),
        r#"[{"Config":"cfg.json","RepoTags":["x:1"],"Layers":["abc123/layer.tar"]}]"#,
    )
    .unwrap();
    fs::write(archive.join("cfg.json"), "{}").unwrap();
    fs::write(archive.join("abc123/layer.tar"), vec![0u8; 1024]).unwrap();
    let tarball = t.path().join("docker.tar");
    tar_of(&archive, &tarball);
    for image in [&archive, &tarball] {
        let run = t.path().join("run");
        let out = play_on(&run, image);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("is a Docker archive"), "{err}");
        assert!(err.contains("skopeo copy docker-archive:"), "{err}");
        assert_nothing_left(&run);
    }
}

#[test]
fn image_on_a_lesson_without_one_is_a_usage_error() {
    let t = tmp();
    let run = t.path().join("run");
    let layout = hand_layout(t.path());
    let out = lab_in(&run)
        .args(["run", "lesson", "uts", "--headless", "--image"])
        .arg(&layout)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_nothing_left(&run);
}

#[test]
fn sigint_mid_lesson_exits_130_and_leaves_nothing() {
    let t = tmp();
    let run = t.path().join("run");
    // Once both containers have their overlays mounted, interrupt.
    let second_container =
        |line: &str| line.contains("\"event\":\"views\"") && line.contains("b: mount namespace");
    let out = interrupt_when(
        lab_in(&run).args(["run", "lesson", "layers", "--headless", "--format", "json"]),
        Duration::from_secs(600),
        second_container,
        |runner| (runner as i32, ()),
    );
    let rest = out.after_trigger();
    assert_eq!(out.code, Some(130), "{rest:?}");
    assert!(
        rest.iter().any(|l| l.contains("\"event\":\"teardown\"")),
        "{rest:?}"
    );
    assert_nothing_left(&run);
}
