//! Hostile layers are refused, and nothing lands outside the target.

mod common;

use containerlab_oci::image::{unpack_layer, Whiteouts};
use containerlab_oci::{Error, UnsafeReason};
use std::fs;
use std::path::Path;

/// Unpacks `entries` (forged raw headers) into `sandbox/target` and returns the error.
fn refused(
    sandbox: &Path,
    build: impl FnOnce(&mut tar::Builder<Vec<u8>>),
) -> (String, UnsafeReason) {
    let layer = common::write_tar(&sandbox.join("layer.tar"), build);
    let target = sandbox.join("target");
    match unpack_layer(&layer, &target, Whiteouts::Overlay) {
        Err(Error::UnsafeEntry { entry, reason }) => (entry, reason),
        other => panic!("expected UnsafeEntry, got {other:?}"),
    }
}

fn evil_file(b: &mut tar::Builder<Vec<u8>>, name: &str) {
    let h = common::raw_header(name, tar::EntryType::Regular, None, 5);
    b.append(&h, &b"evil\n"[..]).unwrap();
}

/// The sandbox holds only `layer.tar`, `target/` and what the test put there.
fn outside(sandbox: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(sandbox)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// The layer `build` writes into `sandbox` is refused at `entry` for `reason`, and nothing
/// landed beside the target.
#[track_caller]
fn assert_refused(
    sandbox: &Path,
    build: impl FnOnce(&mut tar::Builder<Vec<u8>>),
    entry: &str,
    reason: UnsafeReason,
) {
    assert_eq!(refused(sandbox, build), (entry.to_string(), reason));
    assert_eq!(outside(sandbox), ["layer.tar", "target"]);
}

#[test]
fn dot_dot_is_refused() {
    let t = common::tmp();
    let build = |b: &mut tar::Builder<Vec<u8>>| evil_file(b, "../evil");
    assert_refused(t.path(), build, "../evil", UnsafeReason::ParentDir);
}

#[test]
fn absolute_is_refused() {
    let t = common::tmp();
    let abs = format!("{}/evil", t.path().display());
    let build = |b: &mut tar::Builder<Vec<u8>>| evil_file(b, &abs);
    assert_refused(t.path(), build, &abs, UnsafeReason::Absolute);
}

#[test]
fn writing_through_an_escaping_symlink_is_refused() {
    let t = common::tmp();
    let away = t.path().join("away");
    fs::create_dir(&away).unwrap();
    let away_s = away.display().to_string();
    let (entry, reason) = refused(t.path(), |b| {
        let h = common::raw_header("link", tar::EntryType::Symlink, Some(&away_s), 0);
        b.append(&h, std::io::empty()).unwrap();
        evil_file(b, "link/evil");
    });
    assert_eq!(entry, "link/evil");
    assert_eq!(reason, UnsafeReason::EscapesThroughSymlink);
    assert_eq!(
        fs::read_dir(&away).unwrap().count(),
        0,
        "nothing written through the link"
    );
    // The relative flavour: link -> ../away.
    let t2 = common::tmp();
    fs::create_dir(t2.path().join("away")).unwrap();
    let (_, reason) = refused(t2.path(), |b| {
        let h = common::raw_header("rel", tar::EntryType::Symlink, Some("../away"), 0);
        b.append(&h, std::io::empty()).unwrap();
        evil_file(b, "rel/evil");
    });
    assert_eq!(reason, UnsafeReason::EscapesThroughSymlink);
    assert_eq!(fs::read_dir(t2.path().join("away")).unwrap().count(), 0);
}

#[test]
fn hardlink_outside_is_refused() {
    let t = common::tmp();
    let build = |b: &mut tar::Builder<Vec<u8>>| {
        let h = common::raw_header("passwd", tar::EntryType::Link, Some("../../etc/passwd"), 0);
        b.append(&h, std::io::empty()).unwrap();
    };
    let reason = UnsafeReason::HardlinkOutside {
        target: "../../etc/passwd".into(),
    };
    assert_refused(t.path(), build, "passwd", reason);
    assert!(!t.path().join("target/passwd").exists());
}

#[test]
fn a_whiteout_of_dot_dot_is_refused() {
    let t = common::tmp();
    let build = |b: &mut tar::Builder<Vec<u8>>| {
        let h = common::raw_header("etc/.wh..", tar::EntryType::Regular, None, 0);
        b.append(&h, std::io::empty()).unwrap();
    };
    assert_refused(t.path(), build, "etc/.wh..", UnsafeReason::ParentDir);
}

#[test]
fn a_layer_cannot_forge_overlay_xattrs() {
    let t = common::tmp();
    let layer = common::write_tar(&t.path().join("layer.tar"), |b| {
        b.append_pax_extensions([("SCHILY.xattr.trusted.overlay.opaque", &b"y"[..])])
            .unwrap();
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_mode(0o755);
        h.set_size(0);
        b.append_data(&mut h, "d/", std::io::empty()).unwrap();
    });
    let target = t.path().join("target");
    let r = unpack_layer(&layer, &target, Whiteouts::Overlay).unwrap();
    assert_eq!(r.skipped, ["/d/: xattr trusted.overlay.opaque not set"]);
    assert_eq!(
        xattr::get(target.join("d"), "trusted.overlay.opaque").unwrap(),
        None
    );
}
