//! Writing an OCI image layout, the way `docker build` + `docker save` would.
//!
//! Blobs are written first, because every pointer is the digest of what it points to: layers,
//! then the config (which names the layers by their uncompressed digest, the `diff_id`), then the
//! manifest (config + compressed layer digests), and last index.json, the only file not named
//! by its hash.

use super::layer::Layer;
use super::open::LayerInfo;
use super::recipe::Recipe;
use super::FIXED_CREATED;
use crate::error::{Error, Result};
use crate::sha;
use oci_spec::image::{
    Arch, ConfigBuilder, DescriptorBuilder, Digest, HistoryBuilder, ImageConfigurationBuilder,
    ImageIndexBuilder, ImageManifestBuilder, MediaType, OciLayoutBuilder, Os, PlatformBuilder,
    RootFsBuilder, ANNOTATION_REF_NAME,
};
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// What [`build_layout`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltImage {
    pub dir: PathBuf,
    pub reference: String,
    /// `sha256:...` of the manifest: the image's identity (what `docker images --digests` shows).
    pub manifest_digest: String,
    pub config_digest: String,
    /// Bottom layer first, as in the manifest.
    pub layers: Vec<LayerInfo>,
}

fn write_blob(dir: &Path, digest: &str, bytes: &[u8]) -> Result<PathBuf> {
    let path = dir
        .join("blobs/sha256")
        .join(digest.trim_start_matches("sha256:"));
    fs::write(&path, bytes).map_err(Error::io(format!("write {}", path.display())))?;
    Ok(path)
}

fn descriptor(media: MediaType, digest: &str, size: usize) -> Result<oci_spec::image::Descriptor> {
    let d = Digest::from_str(digest).map_err(Error::spec("digest"))?;
    DescriptorBuilder::default()
        .media_type(media)
        .digest(d)
        .size(size as u64)
        .build()
        .map_err(Error::spec("descriptor"))
}

/// Makes `dir` an OCI image layout holding one image: `index.json` lists the manifest `manifest`
/// (annotated with its reference name, as `docker save`/skopeo do) and `oci-layout` says the
/// layout's version. The blobs are already in `dir/blobs`. Used by a build and by a pull.
pub(super) fn write_index_and_layout(
    dir: &Path,
    mut manifest: oci_spec::image::Descriptor,
    reference: &str,
) -> Result<()> {
    manifest.set_annotations(Some(HashMap::from([(
        ANNOTATION_REF_NAME.to_string(),
        reference.to_string(),
    )])));
    ImageIndexBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageIndex)
        .manifests(vec![manifest])
        .build()
        .map_err(Error::spec("index"))?
        .to_file_pretty(dir.join("index.json"))
        .map_err(Error::spec("write index.json"))?;
    OciLayoutBuilder::default()
        .image_layout_version("1.0.0")
        .build()
        .map_err(Error::spec("oci-layout"))?
        .to_file(dir.join("oci-layout"))
        .map_err(Error::spec("write oci-layout"))
}

/// Builds the image `recipe` describes into the OCI layout `dir` (created if missing), with
/// `base_rootfs` as the content of [`super::Change::AddBaseRootfs`].
pub fn build_layout(dir: &Path, base_rootfs: &Path, recipe: &Recipe) -> Result<BuiltImage> {
    let blobs = dir.join("blobs/sha256");
    fs::create_dir_all(&blobs).map_err(Error::io(format!("mkdir {}", blobs.display())))?;

    let mut layers = vec![];
    let mut layer_descs = vec![];
    let mut history = vec![];
    for step in &recipe.steps {
        let mut layer = Layer::default();
        for change in &step.changes {
            layer.apply(change, base_rootfs)?;
        }
        let blob = layer.finish()?;
        let path = write_blob(dir, &blob.digest, &blob.gz)?;
        layer_descs.push(descriptor(
            MediaType::ImageLayerGzip,
            &blob.digest,
            blob.gz.len(),
        )?);
        history.push(
            HistoryBuilder::default()
                .created(FIXED_CREATED)
                .created_by(step.created_by.clone())
                .build()
                .map_err(Error::spec("history"))?,
        );
        layers.push(LayerInfo {
            digest: blob.digest,
            diff_id: blob.diff_id,
            size: blob.gz.len() as u64,
            media_type: MediaType::ImageLayerGzip.to_string(),
            created_by: Some(step.created_by.clone()),
            blob: path,
        });
    }

    let mut run_config = ConfigBuilder::default()
        .env(vec!["PATH=/usr/sbin:/usr/bin:/sbin:/bin".to_string()])
        .cmd(vec!["/bin/sh".to_string()])
        .working_dir("/");
    if !recipe.labels.is_empty() {
        run_config = run_config.labels(recipe.labels.iter().cloned().collect::<HashMap<_, _>>());
    }
    let config = ImageConfigurationBuilder::default()
        .created(FIXED_CREATED)
        .architecture(Arch::default())
        .os(Os::Linux)
        .config(run_config.build().map_err(Error::spec("config"))?)
        .rootfs(
            RootFsBuilder::default()
                .typ("layers")
                .diff_ids(layers.iter().map(|l| l.diff_id.clone()).collect::<Vec<_>>())
                .build()
                .map_err(Error::spec("rootfs"))?,
        )
        .history(history)
        .build()
        .map_err(Error::spec("image config"))?;
    let mut config_json = config
        .to_string()
        .map_err(Error::spec("serialise config"))?;
    if !recipe.labels.is_empty() {
        // Labels are a HashMap, written in no fixed order; through a serde_json Value (a sorted
        // map) the same recipe always gives the same config bytes, and so the same image ID.
        let value: serde_json::Value = serde_json::from_str(&config_json)
            .map_err(|e| Error::Unsupported(format!("re-read config: {e}")))?;
        config_json = value.to_string();
    }
    let config_digest = sha::digest_of(config_json.as_bytes());
    write_blob(dir, &config_digest, config_json.as_bytes())?;

    let manifest = ImageManifestBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageManifest)
        .config(descriptor(
            MediaType::ImageConfig,
            &config_digest,
            config_json.len(),
        )?)
        .layers(layer_descs)
        .build()
        .map_err(Error::spec("manifest"))?;
    let manifest_json = manifest
        .to_string()
        .map_err(Error::spec("serialise manifest"))?;
    let manifest_digest = sha::digest_of(manifest_json.as_bytes());
    write_blob(dir, &manifest_digest, manifest_json.as_bytes())?;

    let mut mdesc = descriptor(
        MediaType::ImageManifest,
        &manifest_digest,
        manifest_json.len(),
    )?;
    mdesc.set_platform(Some(
        PlatformBuilder::default()
            .architecture(Arch::default())
            .os(Os::Linux)
            .build()
            .map_err(Error::spec("platform"))?,
    ));
    write_index_and_layout(dir, mdesc, &recipe.reference)?;

    Ok(BuiltImage {
        dir: dir.to_path_buf(),
        reference: recipe.reference.clone(),
        manifest_digest,
        config_digest,
        layers,
    })
}
