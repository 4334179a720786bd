//! The layers lesson, end to end, as root: on the image the lab builds, on a layout written here
//! by hand (`--image`, directory and .tar), refused for a Docker archive, and interrupted
//! mid-lesson. Every run gets its own CONTAINERLAB_RUN_DIR, and afterwards nothing of it may be
//! left: no session directory, no mount in any mount namespace, no process.

mod common;

use common::oci::{hand_layout, tar_of};
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Command;

fn tmp() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("clab-layers-test-")
        .tempdir_in("/tmp")
        .unwrap()
}

fn lab(run_dir: &Path) -> Command {
    let mut cmd = common::lab();
    cmd.env("CONTAINERLAB_RUN_DIR", run_dir);
    cmd
}

/// Nothing of the sessions under `run_dir` is left anywhere on the machine.
fn assert_nothing_left(run_dir: &Path) {
    let needle = run_dir.to_string_lossy().into_owned();
    let sessions: Vec<_> = fs::read_dir(run_dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(sessions.is_empty(), "session dirs left: {sessions:?}");
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        let name = entry.file_name();
        if name.to_string_lossy().parse::<u32>().is_err() {
            continue;
        }
        let p = entry.path();
        let mounts = fs::read_to_string(p.join("mountinfo")).unwrap_or_default();
        assert!(
            !mounts.contains(&needle),
            "process {name:?} still sees a mount under {needle}"
        );
        // The holder and its members keep the session's journal open.
        for fd in fs::read_dir(p.join("fd")).into_iter().flatten().flatten() {
            let target = fs::read_link(fd.path()).unwrap_or_default();
            assert!(
                !target.starts_with(run_dir),
                "process {name:?} still holds {} open",
                target.display()
            );
        }
        let environ = fs::read(p.join("environ")).unwrap_or_default();
        let cmdline = fs::read(p.join("cmdline")).unwrap_or_default();
        for bytes in [environ, cmdline] {
            assert!(
                !String::from_utf8_lossy(&bytes).contains(&needle),
                "process {name:?} of the session is still running"
            );
        }
    }
}

#[test]
fn layers_lesson_passes_on_the_lab_built_image() {
    let t = tmp();
    let run = t.path().join("run");
    let out = lab(&run)
        .args(["run", "lesson", "layers", "--headless"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("unpack(blobs/sha256/"), "{text}");
    assert!(
        text.contains("The top layer's history line is the COPY"),
        "{text}"
    );
    assert!(text.contains("whiteout (0:0 character device)"), "{text}");
    // The layers view shows what each container wrote: after the delete step, a's upper layer
    // holds the new file, the copied-up one and the whiteout; b's holds nothing.
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
        "(whiteout: deleted below)",
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
        let out = lab(&run)
            .args(["run", "lesson", "layers", "--headless", "--image"])
            .arg(image)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {text}\n{}",
            image.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains("import("), "{text}");
        // The example's own claims are left out; the generic ones ran on this image.
        assert!(!text.contains("COPY of myapp"), "{text}");
        assert!(
            text.contains("Every .wh. entry in the layer tars became"),
            "{text}"
        );
        // The files it changed came from this image: the top layer's tool, and a lower one.
        assert!(text.contains("merged/bin/tool\""), "{text}");
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
        let out = lab(&run)
            .args(["run", "lesson", "layers", "--headless", "--image"])
            .arg(image)
            .output()
            .unwrap();
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
    let out = lab(&run)
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
    let mut child = common::lab()
        .env("CONTAINERLAB_RUN_DIR", &run)
        .args(["run", "lesson", "layers", "--headless", "--format", "json"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    // Wait until both containers have their overlays mounted, then interrupt.
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let done = line.contains("\"event\":\"views\"") && line.contains("b: mount namespace");
        seen.push(line);
        if done {
            break;
        }
    }
    assert!(
        seen.last()
            .is_some_and(|l| l.contains("b: mount namespace")),
        "the lesson never reached the second container: {seen:?}"
    );
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{rest:?}");
    assert!(
        rest.iter().any(|l| l.contains("\"event\":\"teardown\"")),
        "{rest:?}"
    );
    assert_nothing_left(&run);
}
