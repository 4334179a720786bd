//! Reading an image layout the way a runtime does: oci-layout, then index.json, then the manifest
//! it points to, then the config and the layers the manifest points to.

use super::unpack::{unpack_layer, Whiteouts};
use crate::error::{Error, Result};
use crate::sha;
use oci_spec::image::{
    Arch, Descriptor, ImageConfiguration, ImageIndex, ImageManifest, MediaType, OciLayout,
    ANNOTATION_REF_NAME,
};
use std::fs;
use std::path::{Path, PathBuf};

/// One layer, as the manifest and config describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerInfo {
    /// `sha256:...` of the blob as stored (compressed): its file name under blobs/.
    pub digest: String,
    /// `sha256:...` of the uncompressed tar, from the config's `rootfs.diff_ids`.
    pub diff_id: String,
    /// Size of the stored blob in bytes.
    pub size: u64,
    pub media_type: String,
    /// The Dockerfile line that made it, from the config's history.
    pub created_by: Option<String>,
    /// Where the blob is on disk.
    pub blob: PathBuf,
}

/// An opened image layout.
#[derive(Debug)]
pub struct Image {
    /// The layout directory (a temporary one when a `.tar` was opened; it lives as long as this).
    pub dir: PathBuf,
    /// The `org.opencontainers.image.ref.name` annotation of the chosen manifest, if any.
    pub reference: Option<String>,
    pub manifest_digest: String,
    pub index: ImageIndex,
    pub manifest: ImageManifest,
    pub config: ImageConfiguration,
    /// Bottom layer first.
    pub layers: Vec<LayerInfo>,
    _unpacked: Option<tempfile::TempDir>,
}

/// One blob's integrity check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobCheck {
    /// The digest the referring JSON claims.
    pub digest: String,
    /// What refers to it: `manifest`, `config`, `layer 2`.
    pub role: String,
    /// `sha256:...` of the bytes actually on disk.
    pub actual: String,
    /// Digest and size both match.
    pub ok: bool,
}

const LAYER_TYPES: &str = "application/vnd.oci.image.layer.v1.tar or tar+gzip";

fn blob_path(dir: &Path, d: &Descriptor) -> Result<PathBuf> {
    let digest = d.digest();
    if digest.algorithm().as_ref() != "sha256" {
        return Err(Error::Unsupported(format!(
            "digest algorithm of {digest} (only sha256 is supported)"
        )));
    }
    // oci-spec has already checked the hex is exactly 64 [0-9a-f], so it cannot hold a `/`.
    Ok(dir.join("blobs/sha256").join(digest.digest()))
}

fn read_blob(dir: &Path, d: &Descriptor, what: &str) -> Result<Vec<u8>> {
    let path = blob_path(dir, d)?;
    fs::read(&path).map_err(Error::io(format!(
        "read {what} blob {} (named in the layout, missing on disk?)",
        path.display()
    )))
}

fn check_type(what: &str, found: &MediaType, ok: &[MediaType], expected: &str) -> Result<()> {
    if ok.contains(found) {
        Ok(())
    } else {
        Err(Error::MediaType {
            what: what.into(),
            found: found.to_string(),
            expected: expected.into(),
        })
    }
}

/// Opens and validates the OCI image layout at `path`: a directory, or a `.tar` of one (which is
/// unpacked, safely, into a temporary directory first). When index.json lists several images, the
/// one for this machine's architecture is taken, else the first.
pub fn open_layout(path: &Path) -> Result<Image> {
    let meta = fs::metadata(path).map_err(Error::io(format!("stat {}", path.display())))?;
    if meta.is_dir() {
        return open_dir(path, None);
    }
    let tmp = tempfile::Builder::new()
        .prefix("clab-image-")
        .tempdir()
        .map_err(Error::io("create temporary dir for the image"))?;
    unpack_layer(path, tmp.path(), Whiteouts::Keep)?;
    let dir = tmp.path().to_path_buf();
    open_dir(&dir, Some(tmp)).map_err(|e| match e {
        Error::DockerArchive { .. } => Error::DockerArchive {
            path: path.to_path_buf(),
        },
        Error::NotALayout { why, .. } => Error::NotALayout {
            path: path.to_path_buf(),
            why,
        },
        e => e,
    })
}

fn open_dir(dir: &Path, unpacked: Option<tempfile::TempDir>) -> Result<Image> {
    let layout_file = dir.join("oci-layout");
    if !layout_file.exists() {
        if dir.join("manifest.json").exists() {
            return Err(Error::DockerArchive {
                path: dir.to_path_buf(),
            });
        }
        return Err(Error::NotALayout {
            path: dir.to_path_buf(),
            why: "no oci-layout file".into(),
        });
    }
    let layout = OciLayout::from_file(&layout_file).map_err(Error::spec("parse oci-layout"))?;
    if !layout.image_layout_version().starts_with("1.") {
        return Err(Error::Unsupported(format!(
            "imageLayoutVersion {}",
            layout.image_layout_version()
        )));
    }
    let index =
        ImageIndex::from_file(dir.join("index.json")).map_err(Error::spec("parse index.json"))?;
    let (mdesc, manifest) = pick_manifest(dir, &index, 0)?;
    let manifest_digest = mdesc.digest().to_string();
    let reference = mdesc
        .annotations()
        .as_ref()
        .and_then(|a| a.get(ANNOTATION_REF_NAME).cloned());

    check_type(
        "config",
        manifest.config().media_type(),
        &[MediaType::ImageConfig],
        "application/vnd.oci.image.config.v1+json",
    )?;
    let config =
        ImageConfiguration::from_reader(read_blob(dir, manifest.config(), "config")?.as_slice())
            .map_err(Error::spec("parse config"))?;
    let diff_ids = config.rootfs().diff_ids();
    if diff_ids.len() != manifest.layers().len() {
        return Err(Error::NotALayout {
            path: dir.to_path_buf(),
            why: format!(
                "the manifest lists {} layers but the config has {} diff_ids",
                manifest.layers().len(),
                diff_ids.len()
            ),
        });
    }
    // History has one entry per step; steps that made no layer (ENV, CMD) say empty_layer.
    let created_by: Vec<Option<String>> = config
        .history()
        .iter()
        .flatten()
        .filter(|h| h.empty_layer() != Some(true))
        .map(|h| h.created_by().clone())
        .collect();

    let mut layers = vec![];
    for (i, d) in manifest.layers().iter().enumerate() {
        check_type(
            &format!("layer {}", i + 1),
            d.media_type(),
            &[MediaType::ImageLayer, MediaType::ImageLayerGzip],
            LAYER_TYPES,
        )?;
        let blob = blob_path(dir, d)?;
        if !blob.is_file() {
            return Err(Error::NotALayout {
                path: dir.to_path_buf(),
                why: format!("layer blob {} is missing", d.digest()),
            });
        }
        layers.push(LayerInfo {
            digest: d.digest().to_string(),
            diff_id: diff_ids[i].clone(),
            size: d.size(),
            media_type: d.media_type().to_string(),
            created_by: created_by.get(i).cloned().flatten(),
            blob,
        });
    }
    Ok(Image {
        dir: dir.to_path_buf(),
        reference,
        manifest_digest,
        index,
        manifest,
        config,
        layers,
        _unpacked: unpacked,
    })
}

/// Follows index.json to one image manifest, descending into nested indexes (multi-platform
/// images), preferring this machine's architecture.
fn pick_manifest(
    dir: &Path,
    index: &ImageIndex,
    depth: u32,
) -> Result<(Descriptor, ImageManifest)> {
    if depth > 4 {
        return Err(Error::Unsupported("indexes nested more than 4 deep".into()));
    }
    let here = Arch::default();
    let d = index
        .manifests()
        .iter()
        .find(|d| {
            d.platform()
                .as_ref()
                .is_some_and(|p| *p.architecture() == here)
        })
        .or_else(|| index.manifests().first())
        .ok_or_else(|| Error::NotALayout {
            path: dir.to_path_buf(),
            why: "index.json lists no manifests".into(),
        })?;
    let bytes = read_blob(dir, d, "manifest")?;
    match d.media_type() {
        MediaType::ImageIndex => {
            let inner = ImageIndex::from_reader(bytes.as_slice())
                .map_err(Error::spec("parse nested index"))?;
            pick_manifest(dir, &inner, depth + 1)
        }
        MediaType::ImageManifest => {
            let m = ImageManifest::from_reader(bytes.as_slice())
                .map_err(Error::spec("parse manifest"))?;
            if let Some(t) = m.media_type() {
                check_type(
                    "manifest",
                    t,
                    &[MediaType::ImageManifest],
                    "application/vnd.oci.image.manifest.v1+json",
                )?;
            }
            Ok((d.clone(), m))
        }
        other => Err(Error::MediaType {
            what: "index.json entry".into(),
            found: other.to_string(),
            expected: "an OCI image manifest or index".into(),
        }),
    }
}

/// Recomputes the sha256 of every blob the layout at `dir` refers to (manifest, config, layers)
/// and compares it, and the size, with what the referring JSON says.
pub fn verify_blobs(dir: &Path) -> Result<Vec<BlobCheck>> {
    let image = open_layout(dir)?;
    let mdesc = image
        .index
        .manifests()
        .iter()
        .find(|d| d.digest().to_string() == image.manifest_digest)
        .cloned();
    let mut wanted: Vec<(String, Descriptor)> = vec![];
    if let Some(d) = mdesc {
        wanted.push(("manifest".into(), d));
    }
    wanted.push(("config".into(), image.manifest.config().clone()));
    for (i, d) in image.manifest.layers().iter().enumerate() {
        wanted.push((format!("layer {}", i + 1), d.clone()));
    }
    let mut out = vec![];
    for (role, d) in wanted {
        let path = blob_path(&image.dir, &d)?;
        let file = fs::File::open(&path).map_err(Error::io(format!("open {}", path.display())))?;
        let (actual, size) =
            sha::digest_reader(file).map_err(Error::io(format!("read {}", path.display())))?;
        let digest = d.digest().to_string();
        out.push(BlobCheck {
            ok: actual == digest && size == d.size(),
            digest,
            role,
            actual,
        });
    }
    Ok(out)
}
