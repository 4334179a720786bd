//! The registry lesson, end to end, as root: one test per item of #17 it covers (2: pulling,
//! verified, shared layers skipped; 3: the image ID and what `docker inspect` shows; 4: small
//! images), each asserting the lesson's key checks passed in a real headless run, and that
//! afterwards nothing of the run is left: no session directory (registry dir, log, store), no
//! mount, no process (the registry's httpd died with its PID namespace).

mod common;

use common::{assert_nothing_left, expect_exit, lab_in};
use std::sync::OnceLock;

/// One headless run shared by the tests (the lesson builds ~10 MB of layers): its text output.
fn run() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        // The machine's turn: a test beside it compares the whole host before and after.
        let _m = common::machine();
        let t = tempfile::Builder::new()
            .prefix("clab-registry-test-")
            .tempdir_in("/tmp")
            .unwrap();
        let run_dir = t.path().join("run");
        let out = lab_in(&run_dir)
            .args(["run", "lesson", "registry", "--headless"])
            .output()
            .unwrap();
        let text = expect_exit(&out, 0);
        assert_nothing_left(&run_dir);
        text
    })
}

fn assert_passed(text: &str, claims: &[&str]) {
    for claim in claims {
        assert!(
            text.contains(&format!("✓ {claim}")),
            "not passed: {claim}\n{text}"
        );
    }
}

#[test]
fn item_2_a_pull_fetches_by_digest_verifies_and_skips_shared_layers() {
    let text = run();
    assert_passed(
        text,
        &[
            "The registry runs in a network namespace of its own",
            "It listens on 127.0.0.1:5000 there",
            "The manifest names a config blob...",
            "The pull began with GET /v2/",
            "The registry served the base layer by its digest",
            "The store now has the image the lab pushed: the same manifest digest",
            "The pull failed: the blob's sha256 is not its digest",
            "The image is not in the store",
            "The pull reports layers that Already exist",
            "The registry's log has no GET of the shared base layer",
            "...nor of the shared app layer",
        ],
    );
    // The client's side in the trace: each GET, and the shared layers not requested.
    assert!(text.contains("[docker] GET /v2/ = 200"), "{text}");
    assert!(text.contains("Already exists, not requested"), "{text}");
    assert!(
        text.contains("EBADMSG (filesystem layer verification failed for digest sha256:"),
        "{text}"
    );
}

#[test]
fn item_3_the_image_id_is_the_config_digest_and_inspect_fields_show() {
    assert_passed(
        run(),
        &[
            "The sha256 of lab/app:large's config blob is the config digest the manifest names: the image ID",
            "lab/app:small and lab/app:large share layers but have different image IDs",
            "Config.Labels has org.opencontainers.image.title=lab-app",
            "RootFS.Type is layers",
            "RootFS.Layers has one diff_id per layer: three",
            "$WORK/image-id holds the image ID of lab/app:small",
        ],
    );
}

#[test]
fn item_4_the_same_app_on_a_small_and_a_large_base() {
    let text = run();
    assert_passed(
        text,
        &[
            "Both images have the same top layer: the app",
            "The app's own layer is under a kilobyte as stored",
            "The busybox base layer alone is over 100 kB",
            "lab/app:large's layers add up to more than 8 MB as stored",
            "lab/app:small's are under 8 MB",
            "The large base has /usr/bin/curl...",
            "...the small image has none",
            "The large base has a package database",
        ],
    );
    // Size per layer, as the image view lists them.
    assert!(text.contains("layers[1]: sha256:"), "{text}");
}

#[test]
fn registry_lesson_passes_with_rshared_root_and_leaves_the_host_unchanged() {
    use common::lesson_run::{lab_turn, play, Wrap};
    let t = lab_turn();
    let run = play(Wrap::RsharedMountNs, "registry", &[], t.dir());
    assert_eq!(run.code, Some(0), "{}", run.output);
    run.assert_mountinfo_kept();
    t.turn.assert_host_unchanged(&run.output);
    common::assert_empty_dir(t.dir());
}
