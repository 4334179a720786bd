//! A layout written by hand (tar crate + JSON text), not by `build_layout`: what `--image` gets
//! from other tools. Then its layers are unpacked with overlay whiteouts and really mounted.

mod common;

use containerlab_oci::image::{
    mount_overlay, open_layout, overlay_mount_data, umount_overlay, unpack_layer, verify_blobs,
    Whiteouts,
};
use containerlab_trace::Trace;
use flate2::{write::GzEncoder, Compression};
use sha2::{Digest, Sha256};
use std::fs;
use std::io::Write;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

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

/// Stores a blob, returns (digest, size).
fn put(layout: &Path, bytes: &[u8]) -> (String, usize) {
    let h = hex(bytes);
    fs::write(layout.join("blobs/sha256").join(&h), bytes).unwrap();
    (format!("sha256:{h}"), bytes.len())
}

/// Two layers. Lower: etc/keep, etc/gone, cache/old. Upper: whiteout of etc/gone, opaque cache/,
/// cache/new, bin/tool with security.capability, and bin/tool2 hard-linked to it.
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
    // cap_net_raw+ep, as `setcap cap_net_raw+ep` writes it (VFS_CAP_REVISION_2).
    upper
        .append_pax_extensions([("SCHILY.xattr.security.capability", CAP.as_slice())])
        .unwrap();
    file(&mut upper, "bin/tool", b"#!/bin/sh\n");
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(tar::EntryType::Link);
    h.set_size(0);
    upper.append_link(&mut h, "bin/tool2", "bin/tool").unwrap();
    let upper = upper.into_inner().unwrap();

    let mut layers = vec![];
    let mut diff_ids = vec![];
    for t in [&lower, &upper] {
        let mut gz = GzEncoder::new(Vec::new(), Compression::default());
        gz.write_all(t).unwrap();
        let (d, s) = put(&layout, &gz.finish().unwrap());
        layers.push(format!(
            r#"{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{d}","size":{s}}}"#
        ));
        diff_ids.push(format!("\"sha256:{}\"", hex(t)));
    }
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":[{}]}},"history":[{{"created_by":"ADD lower"}},{{"created_by":"ENV X=1","empty_layer":true}},{{"created_by":"RUN upper"}}]}}"#,
        diff_ids.join(",")
    );
    let (cd, cs) = put(&layout, config.as_bytes());
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{cd}","size":{cs}}},"layers":[{}]}}"#,
        layers.join(",")
    );
    let (md, ms) = put(&layout, manifest.as_bytes());
    fs::write(
        layout.join("index.json"),
        format!(
            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{md}","size":{ms},"annotations":{{"org.opencontainers.image.ref.name":"hand:1"}}}}]}}"#
        ),
    )
    .unwrap();
    layout
}

const CAP: [u8; 20] = [
    0x00, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,
];

#[test]
fn hand_built_layout_opens_and_unpacks_for_overlay() {
    let t = common::tmp();
    let layout = hand_layout(t.path());
    let image = open_layout(&layout).unwrap();
    assert_eq!(image.reference.as_deref(), Some("hand:1"));
    assert_eq!(image.layers.len(), 2);
    // The empty_layer history entry is skipped when matching history to layers.
    assert_eq!(image.layers[1].created_by.as_deref(), Some("RUN upper"));
    assert!(verify_blobs(&layout).unwrap().iter().all(|c| c.ok));

    // Unpack each layer into its own dir.
    let l1 = t.path().join("l1");
    let l2 = t.path().join("l2");
    unpack_layer(&image.layers[0].blob, &l1, Whiteouts::Overlay).unwrap();
    let r = unpack_layer(&image.layers[1].blob, &l2, Whiteouts::Overlay).unwrap();
    assert_eq!(r.whiteouts, vec!["/etc/gone".to_string()]);
    assert_eq!(r.opaque_dirs, vec!["/cache".to_string()]);
    assert_eq!(
        r.hardlinks,
        vec![("/bin/tool2".to_string(), "/bin/tool".to_string())]
    );

    // A whiteout is a 0:0 character device; opaque is an xattr on the directory.
    let wh = fs::symlink_metadata(l2.join("etc/gone")).unwrap();
    assert!(wh.file_type().is_char_device());
    assert_eq!(wh.rdev(), 0);
    assert_eq!(
        xattr::get(l2.join("cache"), "trusted.overlay.opaque")
            .unwrap()
            .as_deref(),
        Some(&b"y"[..])
    );
    // Hard link: one inode, two names. File capability survived.
    let a = fs::metadata(l2.join("bin/tool")).unwrap();
    let b = fs::metadata(l2.join("bin/tool2")).unwrap();
    assert_eq!(a.ino(), b.ino());
    assert_eq!(
        xattr::get(l2.join("bin/tool"), "security.capability")
            .unwrap()
            .as_deref(),
        Some(&CAP[..])
    );

    // Keep mode shows the raw tar instead.
    let raw = t.path().join("raw");
    unpack_layer(&image.layers[1].blob, &raw, Whiteouts::Keep).unwrap();
    assert!(fs::symlink_metadata(raw.join("etc/.wh.gone"))
        .unwrap()
        .is_file());
    assert!(raw.join("cache/.wh..wh..opq").is_file());

    // Stack them: top first.
    let upper = t.path().join("upper");
    let work = t.path().join("work");
    let merged = t.path().join("merged");
    for d in [&upper, &work, &merged] {
        fs::create_dir(d).unwrap();
    }
    let data = overlay_mount_data(&[l2.clone(), l1.clone()], &upper, &work);
    assert!(data.starts_with(&format!("lowerdir={}:{}", l2.display(), l1.display())));
    let mut trace = Trace::new();
    mount_overlay(&merged, &data, &mut trace).unwrap();
    let guard = common::MountGuard(merged.clone());
    assert_eq!(
        trace.records[0].to_string(),
        format!(
            "mount(\"overlay\", {:?}, \"overlay\", 0, {:?}) = 0",
            merged.display().to_string(),
            data
        )
    );

    assert!(
        !merged.join("etc/gone").exists(),
        "whiteout hides the lower file"
    );
    assert_eq!(
        fs::read_to_string(merged.join("etc/keep")).unwrap(),
        "keep\n"
    );
    assert!(
        !merged.join("cache/old").exists(),
        "opaque dir hides lower contents"
    );
    assert!(merged.join("cache/new").exists());

    fs::write(merged.join("fresh"), "x").unwrap();
    assert!(upper.join("fresh").exists(), "new files land in upper");
    assert!(!l1.join("fresh").exists() && !l2.join("fresh").exists());

    fs::write(merged.join("etc/keep"), "changed\n").unwrap();
    assert_eq!(
        fs::read_to_string(upper.join("etc/keep")).unwrap(),
        "changed\n",
        "copied up"
    );
    assert_eq!(
        fs::read_to_string(l1.join("etc/keep")).unwrap(),
        "keep\n",
        "lower intact"
    );

    umount_overlay(&merged, &mut trace).unwrap();
    std::mem::forget(guard);
    assert!(!fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .contains(&merged.display().to_string()));
}

#[test]
fn a_layout_tarball_opens_too() {
    let t = common::tmp();
    let layout = hand_layout(t.path());
    let tarball = t.path().join("hand.tar");
    common::write_tar(&tarball, |b| b.append_dir_all(".", &layout).unwrap());
    let image = open_layout(&tarball).unwrap();
    assert_eq!(image.layers.len(), 2);
    assert!(image.layers[0].blob.is_file());
}
