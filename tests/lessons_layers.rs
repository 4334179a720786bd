//! The layers lesson, end to end, as root: on the image the lab builds, on a layout written here
//! by hand (`--image`, directory and .tar), refused for a Docker archive, and interrupted
//! mid-lesson. Every run gets its own CONTAINERLAB_RUN_DIR, and afterwards nothing of it may be
//! left: no session directory, no mount in any mount namespace, no process.

use assert_cmd::Command;
use flate2::{write::GzEncoder, Compression};
use sha2::{Digest, Sha256};
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

fn tmp() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("clab-layers-test-")
        .tempdir_in("/tmp")
        .unwrap()
}

fn lab(run_dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("containerlab").unwrap();
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

fn hex(b: &[u8]) -> String {
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

fn file(b: &mut tar::Builder<Vec<u8>>, path: &str, body: &[u8]) {
    let mut h = tar::Header::new_ustar();
    h.set_mode(0o644);
    h.set_size(body.len() as u64);
    b.append_data(&mut h, path, body).unwrap();
}

fn dir(b: &mut tar::Builder<Vec<u8>>, path: &str) {
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(tar::EntryType::Directory);
    h.set_mode(0o755);
    h.set_size(0);
    b.append_data(&mut h, path, std::io::empty()).unwrap();
}

fn put(layout: &Path, bytes: &[u8]) -> (String, usize) {
    let h = hex(bytes);
    fs::write(layout.join("blobs/sha256").join(&h), bytes).unwrap();
    (format!("sha256:{h}"), bytes.len())
}

/// An OCI layout written by hand, as another tool would: two layers (one uncompressed, one
/// gzipped), a whiteout, an opaque directory and a hard link, no index mediaType.
fn hand_layout(root: &Path) -> PathBuf {
    let layout = root.join("hand");
    fs::create_dir_all(layout.join("blobs/sha256")).unwrap();
    fs::write(
        layout.join("oci-layout"),
        r#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();

    let mut lower = tar::Builder::new(Vec::new());
    dir(&mut lower, "etc/");
    file(&mut lower, "etc/keep", b"keep\n");
    file(&mut lower, "etc/gone", b"gone\n");
    dir(&mut lower, "cache/");
    file(&mut lower, "cache/old", b"old\n");
    let lower = lower.into_inner().unwrap();

    let mut upper = tar::Builder::new(Vec::new());
    dir(&mut upper, "etc/");
    file(&mut upper, "etc/.wh.gone", b"");
    dir(&mut upper, "cache/");
    file(&mut upper, "cache/.wh..wh..opq", b"");
    file(&mut upper, "cache/new", b"new\n");
    dir(&mut upper, "bin/");
    file(&mut upper, "bin/tool", b"#!/bin/sh\necho tool\n");
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(tar::EntryType::Link);
    h.set_size(0);
    upper.append_link(&mut h, "bin/tool2", "bin/tool").unwrap();
    let upper = upper.into_inner().unwrap();

    let (ld, ls) = put(&layout, &lower);
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(&upper).unwrap();
    let (ud, us) = put(&layout, &gz.finish().unwrap());
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":["sha256:{}","sha256:{}"]}},"history":[{{"created_by":"ADD lower /"}},{{"created_by":"ENV X=1","empty_layer":true}},{{"created_by":"RUN upper"}}]}}"#,
        hex(&lower),
        hex(&upper)
    );
    let (cd, cs) = put(&layout, config.as_bytes());
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{cd}","size":{cs}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{ld}","size":{ls}}},{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{ud}","size":{us}}}]}}"#
    );
    let (md, ms) = put(&layout, manifest.as_bytes());
    fs::write(
        layout.join("index.json"),
        format!(
            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{md}","size":{ms}}}]}}"#
        ),
    )
    .unwrap();
    layout
}

fn tar_of(dir: &Path, dest: &Path) {
    let mut b = tar::Builder::new(Vec::new());
    b.append_dir_all(".", dir).unwrap();
    fs::write(dest, b.into_inner().unwrap()).unwrap();
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
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_containerlab"))
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
