//! A layout written by hand (tar crate + JSON text), not by `build_layout`: what `--image` gets
//! from other tools. Then its layers are unpacked with overlay whiteouts and really mounted.

mod common;

use common::hand_layout::{hand_layout, FILE_CAP};

use containerlab_oci::image::{
    mount_overlay, open_layout, overlay_mount_data, umount_overlay, unpack_layer, verify_blobs,
    Whiteouts,
};
use containerlab_trace::Trace;
use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};

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
        Some(&FILE_CAP[..])
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
