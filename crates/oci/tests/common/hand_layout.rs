//! An OCI image layout written by hand (tar crate and JSON text), as another tool than the lab
//! would write it: what `--image` gets from skopeo or `docker save`. One fixture for the oci
//! crate's own tests and the lab's lesson tests (which include this file by path).

use flate2::{write::GzEncoder, Compression};
use sha2::{Digest, Sha256};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// cap_net_raw+ep, as `setcap cap_net_raw+ep` writes it (VFS_CAP_REVISION_2): bin/tool's
/// `security.capability`.
pub const FILE_CAP: [u8; 20] = [
    0x00, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,
];

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

/// A tar header whose name (and link name) are written raw, bypassing the tar crate's own
/// refusal of `..` and absolute paths, to forge hostile layers.
pub fn raw_header(name: &str, kind: tar::EntryType, link: Option<&str>, size: u64) -> tar::Header {
    let mut h = tar::Header::new_old();
    {
        let old = h.as_old_mut();
        old.name[..name.len()].copy_from_slice(name.as_bytes());
        if let Some(l) = link {
            old.linkname[..l.len()].copy_from_slice(l.as_bytes());
        }
    }
    h.set_entry_type(kind);
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h.set_size(size);
    h.set_cksum();
    h
}

/// `ROOT/hand`: two layers, the lower an uncompressed tar (etc/keep, etc/gone, cache/old), the
/// upper gzipped (a whiteout of etc/gone, an opaque cache/ with cache/new, bin/tool carrying
/// [`FILE_CAP`], and bin/tool2 hard-linked to it); a history entry without a layer; no index
/// mediaType; the manifest named `hand:1`.
pub fn hand_layout(root: &Path) -> PathBuf {
    hand_layout_with(root, "hand", |_| {})
}

/// [`hand_layout`] in `ROOT/NAME`, with what `extra` appends to the upper layer (a hostile
/// entry, say).
pub fn hand_layout_with(
    root: &Path,
    name: &str,
    extra: impl FnOnce(&mut tar::Builder<Vec<u8>>),
) -> PathBuf {
    let layout = root.join(name);
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
    upper
        .append_pax_extensions([("SCHILY.xattr.security.capability", FILE_CAP.as_slice())])
        .unwrap();
    file(&mut upper, "bin/tool", b"#!/bin/sh\necho tool\n");
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(tar::EntryType::Link);
    h.set_size(0);
    upper.append_link(&mut h, "bin/tool2", "bin/tool").unwrap();
    extra(&mut upper);
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
            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{md}","size":{ms},"annotations":{{"org.opencontainers.image.ref.name":"hand:1"}}}}]}}"#
        ),
    )
    .unwrap();
    layout
}

/// `dir` as one tar file at `dest` (a layout as `docker save` of a newer Docker writes it).
pub fn tar_of(dir: &Path, dest: &Path) {
    let mut b = tar::Builder::new(Vec::new());
    b.append_dir_all(".", dir).unwrap();
    fs::write(dest, b.into_inner().unwrap()).unwrap();
}
