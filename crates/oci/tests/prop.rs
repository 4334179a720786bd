//! Property tests: arbitrary tar streams and OCI layouts never panic the unpacker, the scanner or
//! the layout reader, and never make anything appear outside the target directory, whatever
//! the names (`..`, absolute, empty), the link targets (out of the tree, through a symlink the
//! layer made) or the bytes. Case counts are fixed and printed.

mod common;
#[path = "../../../tests/common/summary.rs"]
mod summary;

use common::raw_header;
use containerlab_oci::image::{open_layout, scan_layer, unpack_layer, verify_blobs, Whiteouts};
use proptest::prelude::*;
use std::fs;
use std::path::Path;
use summary::runner;

/// A name no test makes: if it appears anywhere, an entry escaped.
const ESCAPE: &str = "clab-prop-escaped";

/// Path pieces that together reach every kind of name a hostile layer uses.
const PARTS: &[&str] = &[
    "a",
    "b",
    "link",
    "..",
    ".",
    "",
    "/",
    ESCAPE,
    ".wh.a",
    ".wh..wh..opq",
    "outside",
];

#[derive(Debug, Clone)]
struct Entry {
    name: Vec<&'static str>,
    kind: u8,
    target: Vec<&'static str>,
    body: Vec<u8>,
}

fn entry() -> impl Strategy<Value = Entry> {
    let path = || prop::collection::vec(prop::sample::select(PARTS), 1..5);
    (
        path(),
        0u8..6,
        path(),
        prop::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(|(name, kind, target, body)| Entry {
            name,
            kind,
            target,
            body,
        })
}

/// The entries as one tar stream; names longer than the old header's 100 bytes are cut.
fn tar_of(entries: &[Entry], outside: &Path) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let join = |parts: &[&str]| {
            let mut s = parts
                .join("/")
                .replace("outside", &outside.display().to_string());
            s.truncate(99);
            s
        };
        let (kind, link, size) = match e.kind {
            0 => (tar::EntryType::Regular, None, e.body.len() as u64),
            1 => (tar::EntryType::Directory, None, 0),
            2 => (tar::EntryType::Symlink, Some(join(&e.target)), 0),
            3 => (tar::EntryType::Link, Some(join(&e.target)), 0),
            4 => (tar::EntryType::Fifo, None, 0),
            _ => (tar::EntryType::new(b'x'), None, e.body.len() as u64),
        };
        let mut h = raw_header(&join(&e.name), kind, link.as_deref(), size);
        h.set_mode(0o755);
        h.set_cksum();
        let body: &[u8] = if size == 0 { &[] } else { &e.body };
        b.append(&h, body).unwrap();
    }
    b.into_inner().unwrap()
}

/// Everything under `dir`, relative, sorted.
fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            out.push(p.strip_prefix(dir).unwrap().display().to_string());
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Unpacks and scans `bytes` as a layer in a fresh sandbox: `sandbox/target` is the target,
/// `sandbox/outside` a directory entries point at. Fails if anything appeared outside the target.
fn unpack_checked(bytes: &[u8], structured: Option<&[Entry]>) -> Result<(), TestCaseError> {
    let sandbox = common::tmp();
    let outside = sandbox.path().join("outside");
    fs::create_dir(&outside).unwrap();
    let layer = sandbox.path().join("layer.tar");
    let bytes = match structured {
        Some(entries) => tar_of(entries, &outside),
        None => bytes.to_vec(),
    };
    fs::write(&layer, &bytes).unwrap();
    let scanned = scan_layer(&layer);
    let unpacked = unpack_layer(&layer, &sandbox.path().join("target"), Whiteouts::Keep);
    // What the scan refuses by name, the unpacker refuses too (it may refuse more: a symlink
    // planted by an earlier entry only shows on the file system).
    if scanned.is_err() {
        prop_assert!(unpacked.is_err(), "scan refused, unpack accepted");
    }
    let mut top: Vec<String> = fs::read_dir(sandbox.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    top.sort();
    top.retain(|n| n != "target");
    prop_assert_eq!(top, ["layer.tar", "outside"]);
    prop_assert!(tree(&outside).is_empty(), "{:?}", tree(&outside));
    for place in ["/tmp", "/"] {
        prop_assert!(!Path::new(place).join(ESCAPE).exists());
    }
    Ok(())
}

#[test]
fn arbitrary_tar_streams_never_write_outside_the_target() {
    let cases = 256;
    let strategy = prop::collection::vec(entry(), 1..8);
    runner(cases)
        .run(&strategy, |entries| unpack_checked(&[], Some(&entries)))
        .unwrap();
    summary::report(
        "oci-tar-entries",
        &format!("property: layer unpack/scan, arbitrary tar entries: {cases} cases, nothing outside the target, no panic"),
    );
}

#[test]
fn arbitrary_bytes_as_a_layer_never_panic() {
    let cases = 256;
    // Gzip magic first half the time, so the decompressor sees garbage too.
    let strategy =
        (any::<bool>(), prop::collection::vec(any::<u8>(), 0..2048)).prop_map(|(gz, mut bytes)| {
            if gz {
                bytes.splice(0..0, [0x1f, 0x8b, 8, 0]);
            }
            bytes
        });
    runner(cases)
        .run(&strategy, |bytes| unpack_checked(&bytes, None))
        .unwrap();
    summary::report(
        "oci-tar-bytes",
        &format!("property: layer unpack/scan, arbitrary bytes: {cases} cases, nothing outside the target, no panic"),
    );
}

/// A JSON text with pieces of an index or a manifest, some right, some wrong.
fn json_piece(digests: Vec<String>) -> impl Strategy<Value = String> {
    let digest = prop::sample::select(digests);
    let media = prop::sample::select(vec![
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.layer.v1.tar",
        "application/vnd.oci.image.layer.v1.tar+gzip",
        "application/vnd.oci.image.config.v1+json",
        "text/plain",
    ]);
    let descriptor = (media, digest, 0i64..5000)
        .prop_map(|(m, d, s)| format!(r#"{{"mediaType":"{m}","digest":"{d}","size":{s}}}"#));
    prop_oneof![
        prop::collection::vec(descriptor.clone(), 0..3).prop_map(|ds| format!(
            r#"{{"schemaVersion":2,"manifests":[{}]}}"#,
            ds.join(",")
        )),
        (descriptor.clone(), prop::collection::vec(descriptor, 0..3)).prop_map(|(c, ls)| format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{c},"layers":[{}]}}"#,
            ls.join(",")
        )),
        Just(r#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#.to_string()),
        ".{0,40}",
    ]
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn arbitrary_oci_layouts_never_panic_or_write_outside() {
    let cases = 256;
    // Blob texts first; the JSON pieces then point at them (or at digests that are missing).
    let strategy = prop::collection::vec(".{0,60}", 1..4).prop_flat_map(|seeds| {
        let digests: Vec<String> = seeds
            .iter()
            .map(|s| format!("sha256:{}", sha256(s.as_bytes())))
            .chain(["sha256:00".into(), "sha512:ab".into(), "nonsense".into()])
            .collect();
        (
            Just(seeds),
            json_piece(digests.clone()),
            prop::collection::vec(json_piece(digests), 1..4),
        )
    });
    runner(cases)
        .run(&strategy, |(seeds, index, blobs)| {
            let t = common::tmp();
            let layout = t.path().join("layout");
            fs::create_dir_all(layout.join("blobs/sha256")).unwrap();
            fs::write(
                layout.join("oci-layout"),
                r#"{"imageLayoutVersion":"1.0.0"}"#,
            )
            .unwrap();
            fs::write(layout.join("index.json"), &index).unwrap();
            // Each blob text under its own digest, and under the digests of the seeds, so that
            // pointers resolve to files whose content may or may not match.
            for (i, text) in blobs.iter().enumerate() {
                fs::write(
                    layout.join("blobs/sha256").join(sha256(text.as_bytes())),
                    text,
                )
                .unwrap();
                if let Some(seed) = seeds.get(i) {
                    fs::write(
                        layout.join("blobs/sha256").join(sha256(seed.as_bytes())),
                        text,
                    )
                    .unwrap();
                }
            }
            let before = tree(t.path());
            if let Ok(image) = open_layout(&layout) {
                for l in &image.layers {
                    let _ = scan_layer(&l.blob);
                }
            }
            let _ = verify_blobs(&layout);
            prop_assert_eq!(tree(t.path()), before);
            Ok(())
        })
        .unwrap();
    summary::report(
        "oci-layouts",
        &format!("property: OCI layout reader, arbitrary layouts: {cases} cases, nothing written, no panic"),
    );
}
