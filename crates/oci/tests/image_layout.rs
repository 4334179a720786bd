//! Building the article's image and reading it back.

mod common;

use containerlab_oci::image::{build_layout, open_layout, verify_blobs, BuiltImage, Recipe};
use containerlab_oci::rootfs::build_busybox_rootfs;
use containerlab_oci::Error;
use flate2::read::GzDecoder;
use oci_spec::image::{ImageConfiguration, ImageIndex, ImageManifest, MediaType, OciLayout};
use sha2::{Digest, Sha256};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

fn sha(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    format!(
        "sha256:{}",
        d.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

/// The article's image built into `image` in a new directory, on a busybox rootfs built in
/// `rootfs` beside it: the directory, the layout's path and what was built.
fn article_image() -> (tempfile::TempDir, PathBuf, BuiltImage) {
    let t = common::tmp();
    let rootfs = t.path().join("rootfs");
    build_busybox_rootfs(&rootfs).unwrap();
    let dir = t.path().join("image");
    let built = build_layout(&dir, &rootfs, &Recipe::article_example()).unwrap();
    (t, dir, built)
}

fn blob(dir: &Path, digest: &str) -> Vec<u8> {
    fs::read(
        dir.join("blobs/sha256")
            .join(digest.trim_start_matches("sha256:")),
    )
    .unwrap()
}

#[test]
fn article_example_is_a_valid_reproducible_layout() {
    let (t, dir, built) = article_image();
    assert_eq!(built.layers.len(), 4);

    // Every JSON deserialises with the spec's own types.
    let layout = OciLayout::from_file(dir.join("oci-layout")).unwrap();
    assert_eq!(layout.image_layout_version(), "1.0.0");
    let index = ImageIndex::from_file(dir.join("index.json")).unwrap();
    assert_eq!(index.media_type(), &Some(MediaType::ImageIndex));
    let mdesc = &index.manifests()[0];
    assert_eq!(mdesc.media_type(), &MediaType::ImageManifest);
    assert_eq!(
        mdesc.annotations().as_ref().unwrap()["org.opencontainers.image.ref.name"],
        "containerlab/article:latest"
    );
    let mbytes = blob(&dir, mdesc.digest().as_ref());
    assert_eq!(sha(&mbytes), mdesc.digest().to_string());
    assert_eq!(mbytes.len() as u64, mdesc.size());
    let manifest = ImageManifest::from_reader(mbytes.as_slice()).unwrap();
    assert_eq!(manifest.config().media_type(), &MediaType::ImageConfig);
    let cbytes = blob(&dir, manifest.config().digest().as_ref());
    assert_eq!(sha(&cbytes), manifest.config().digest().to_string());
    let config = ImageConfiguration::from_reader(cbytes.as_slice()).unwrap();
    assert_eq!(config.os(), &oci_spec::image::Os::Linux);
    assert_eq!(config.architecture(), &oci_spec::image::Arch::default());
    let history = config.history().as_ref().unwrap();
    assert_eq!(history.len(), 4);
    assert_eq!(
        history[3].created_by().as_deref(),
        Some("COPY myapp/hoge.txt /myapp/hoge.txt")
    );

    // Layer digests name the gzip; diff_ids name the uncompressed tar.
    for (i, l) in manifest.layers().iter().enumerate() {
        assert_eq!(l.media_type(), &MediaType::ImageLayerGzip);
        let gz = blob(&dir, l.digest().as_ref());
        assert_eq!(sha(&gz), l.digest().to_string());
        assert_eq!(gz.len() as u64, l.size());
        let mut tar = vec![];
        GzDecoder::new(gz.as_slice()).read_to_end(&mut tar).unwrap();
        assert_eq!(sha(&tar), config.rootfs().diff_ids()[i]);
    }

    // The third layer records the deletion of /etc/issue as a whiteout file.
    let image = open_layout(&dir).unwrap();
    assert_eq!(
        image.reference.as_deref(),
        Some("containerlab/article:latest")
    );
    assert_eq!(image.manifest_digest, built.manifest_digest);
    assert_eq!(image.layers, built.layers);
    let names: Vec<String> = tar::Archive::new(GzDecoder::new(
        fs::File::open(&image.layers[2].blob).unwrap(),
    ))
    .entries()
    .unwrap()
    .map(|e| e.unwrap().path().unwrap().display().to_string())
    .collect();
    assert!(names.contains(&"etc/.wh.issue".to_string()), "{names:?}");
    assert!(names.contains(&"etc/motd".to_string()), "{names:?}");

    assert!(verify_blobs(&dir).unwrap().iter().all(|c| c.ok));

    // Same content, same bytes, same digest.
    let again = build_layout(
        &t.path().join("image2"),
        &t.path().join("rootfs"),
        &Recipe::article_example(),
    )
    .unwrap();
    assert_eq!(again.manifest_digest, built.manifest_digest);
    assert_eq!(
        again.layers.iter().map(|l| &l.digest).collect::<Vec<_>>(),
        built.layers.iter().map(|l| &l.digest).collect::<Vec<_>>()
    );
}

#[test]
fn a_tampered_blob_is_reported() {
    let (_t, dir, built) = article_image();
    let victim = &built.layers[3].blob;
    let mut bytes = fs::read(victim).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    fs::write(victim, bytes).unwrap();
    let checks = verify_blobs(&dir).unwrap();
    let bad: Vec<_> = checks.iter().filter(|c| !c.ok).collect();
    assert_eq!(bad.len(), 1, "{checks:?}");
    assert_eq!(bad[0].role, "layer 4");
    assert_ne!(bad[0].actual, bad[0].digest);
}

#[test]
fn docker_archive_is_told_apart() {
    let t = common::tmp();
    let d = t.path().join("saved");
    fs::create_dir(&d).unwrap();
    fs::write(
        d.join("manifest.json"),
        r#"[{"Config":"x.json","RepoTags":["a:b"],"Layers":[]}]"#,
    )
    .unwrap();
    let err = open_layout(&d).unwrap_err();
    assert!(matches!(err, Error::DockerArchive { .. }), "{err}");
    assert!(
        err.to_string().contains("skopeo copy docker-archive:"),
        "{err}"
    );

    // The same as a tarball, like `docker save -o x.tar` of an old Docker.
    let tarball = t.path().join("x.tar");
    common::write_tar(&tarball, |b| {
        let body = fs::read(d.join("manifest.json")).unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, "manifest.json", body.as_slice())
            .unwrap();
    });
    let err = open_layout(&tarball).unwrap_err();
    assert!(
        matches!(&err, Error::DockerArchive { path } if path == &tarball),
        "{err}"
    );
}

#[test]
fn article_layers_stack_into_a_working_root() {
    use containerlab_oci::image::{
        mount_overlay, overlay_mount_data, umount_overlay, unpack_layer, Whiteouts,
    };
    use std::os::unix::fs::FileTypeExt;

    let (t, dir, _) = article_image();
    let image = open_layout(&dir).unwrap();

    let mut lowers: Vec<PathBuf> = vec![];
    let mut reports = vec![];
    for (i, l) in image.layers.iter().enumerate() {
        let d = t.path().join(format!("layer{}", i + 1));
        reports.push(unpack_layer(&l.blob, &d, Whiteouts::Overlay).unwrap());
        lowers.push(d);
    }
    assert_eq!(reports[2].whiteouts, ["/etc/issue"]);
    assert!(reports[2].added.contains(&"/etc/motd".to_string()));
    assert!(reports[3].added.contains(&"/myapp/hoge.txt".to_string()));
    assert!(fs::symlink_metadata(lowers[2].join("etc/issue"))
        .unwrap()
        .file_type()
        .is_char_device());
    lowers.reverse(); // top first for overlayfs

    let (upper, work, merged) = (
        t.path().join("upper"),
        t.path().join("work"),
        t.path().join("merged"),
    );
    for d in [&upper, &work, &merged] {
        fs::create_dir(d).unwrap();
    }
    let mut trace = containerlab_trace::Trace::new();
    mount_overlay(
        &merged,
        &overlay_mount_data(&lowers, &upper, &work),
        &mut trace,
    )
    .unwrap();
    let guard = common::MountGuard(merged.clone());

    assert!(t.path().join("rootfs/etc/issue").exists());
    assert!(!merged.join("etc/issue").exists(), "deleted by layer 3");
    assert_eq!(
        fs::read_to_string(merged.join("etc/hostname")).unwrap(),
        "lab-app\n"
    );
    assert_eq!(
        fs::read_to_string(merged.join("myapp/hoge.txt")).unwrap(),
        "hoge\n"
    );
    assert!(merged.join("var/lib/apt/lists").is_dir());
    assert!(merged.join("bin/busybox").is_file());

    umount_overlay(&merged, &mut trace).unwrap();
    std::mem::forget(guard);
    assert_eq!(trace.records.len(), 2);
    assert!(trace.records.iter().all(|r| r.errno().is_none()));
}
