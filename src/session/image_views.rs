//! The `image` and `layers` views: an OCI layout's JSON, key fields only, and what each unpacked
//! layer directory holds (the article's screenshots of `docker save` taken apart, live).

use super::view_words as W;
use crate::engine::image_ops::short;
use crate::i18n::fill;
use containerlab_oci::image::open_layout;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

fn opt<T: ToString>(v: Option<T>, lang: &str) -> String {
    v.map(|v| v.to_string())
        .unwrap_or_else(|| W::NOT_SET.get(lang).into())
}

/// index.json → manifest → config, as a runtime follows them.
pub fn image_view(dir: Option<&Path>, lang: &str) -> Vec<String> {
    let Some(dir) = dir else {
        return vec![W::NO_IMAGE.get(lang).into()];
    };
    let image = match open_layout(dir) {
        Ok(i) => i,
        Err(e) => return vec![format!("{}: {e}", dir.display())],
    };
    let mut l = vec![format!("{}/index.json", dir.display())];
    l.push(format!(
        "  mediaType: {}",
        opt(image.index.media_type().as_ref(), lang)
    ));
    l.push(format!(
        "  manifests: {} (picked {}{})",
        image.index.manifests().len(),
        short(&image.manifest_digest),
        image
            .reference
            .as_ref()
            .map(|r| format!(", ref {r}"))
            .unwrap_or_default()
    ));
    let m = &image.manifest;
    l.push(format!(
        "blobs/sha256/{} (manifest)",
        short(&image.manifest_digest).trim_start_matches("sha256:")
    ));
    l.push(format!(
        "  mediaType: {}",
        opt(m.media_type().as_ref(), lang)
    ));
    l.push(format!(
        "  config: {} {} ({} bytes)",
        short(m.config().digest().as_ref()),
        m.config().media_type(),
        m.config().size()
    ));
    for (i, d) in m.layers().iter().enumerate() {
        l.push(format!(
            "  layers[{i}]: {} {} ({} bytes)",
            short(d.digest().as_ref()),
            d.media_type(),
            d.size()
        ));
    }
    l.push(format!(
        "blobs/sha256/{} (config)",
        short(m.config().digest().as_ref()).trim_start_matches("sha256:")
    ));
    l.push(format!(
        "  architecture/os: {}/{}",
        image.config.architecture(),
        image.config.os()
    ));
    for (i, layer) in image.layers.iter().enumerate() {
        l.push(format!("  rootfs.diff_ids[{i}]: {}", short(&layer.diff_id)));
    }
    for (i, h) in image.config.history().iter().flatten().enumerate() {
        let empty = if h.empty_layer() == Some(true) {
            W::EMPTY_LAYER.get(lang)
        } else {
            ""
        };
        l.push(format!(
            "  history[{i}].created_by: {}{empty}",
            opt(h.created_by().as_ref(), lang)
        ));
    }
    l
}

/// Each layer directory: the line that made it, and what it holds.
pub fn layers_view(image: Option<&Path>, layers: &[PathBuf], lang: &str) -> Vec<String> {
    if layers.is_empty() {
        return vec![W::NO_LAYERS.get(lang).into()];
    }
    let created_by: Vec<Option<String>> = image
        .and_then(|d| open_layout(d).ok())
        .map(|i| i.layers.into_iter().map(|l| l.created_by).collect())
        .unwrap_or_default();
    let mut lines = Vec::new();
    for (i, dir) in layers.iter().enumerate() {
        let mut leaves = Vec::new();
        leaves_of(dir, Path::new(""), &mut leaves, lang);
        lines.push(format!(
            "{}  {}",
            relative(dir, layers),
            created_by
                .get(i)
                .cloned()
                .flatten()
                .unwrap_or_else(|| format!("layer {}", i + 1))
        ));
        if leaves.len() <= 10 {
            lines.extend(leaves.iter().map(Leaf::line));
        } else {
            let mut top: Vec<String> = std::fs::read_dir(dir)
                .map(|rd| {
                    rd.flatten()
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default();
            top.sort();
            let top = top
                .iter()
                .map(|t| format!("/{t}"))
                .collect::<Vec<_>>()
                .join(" ");
            lines.push(fill(W::LEAVES_IN_ALL.get(lang), &[&top, &leaves.len()]));
        }
    }
    lines
}

/// What each container wrote: the files, whiteouts and copied-up files in the upper directory
/// of each overlay a lab process has mounted. `uppers` holds (process, pid, upperdir); the
/// directory is read through the process's root, where its path means what the mount said.
pub fn uppers_view(
    uppers: &[(String, i32, String)],
    layers: &[PathBuf],
    lang: &str,
) -> Vec<String> {
    let mut lines = Vec::new();
    for (name, pid, upper) in uppers {
        let mut leaves = Vec::new();
        let seen_from =
            PathBuf::from(format!("/proc/{pid}/root")).join(upper.trim_start_matches('/'));
        leaves_of(&seen_from, Path::new(""), &mut leaves, lang);
        let shown = relative(Path::new(upper), layers);
        lines.push(fill(W::UPPER.get(lang), &[name, &shown]));
        if leaves.is_empty() {
            lines.push(W::UPPER_EMPTY.get(lang).into());
        }
        for leaf in &leaves {
            // A regular file that a layer has too was copied up (then changed); else it is new.
            let below = layers
                .iter()
                .rev()
                .find(|l| l.join(leaf.path.trim_start_matches('/')).exists());
            let origin = match (leaf.regular, below) {
                (true, Some(layer)) => fill(W::COPIED_UP.get(lang), &[&relative(layer, layers)]),
                (true, None) => W::NEW_FILE.get(lang).to_string(),
                (false, _) => String::new(),
            };
            lines.push(format!("{}{origin}", leaf.line()));
        }
    }
    lines
}

/// The session's directory, named once above the layers and uppers: their lines are relative
/// to it, so the line that names a layer has room for the Dockerfile line that made it.
pub fn work_line(layers: &[PathBuf], lang: &str) -> Option<String> {
    work_of(layers).map(|w| fill(W::IN_WORK.get(lang), &[&w.display()]))
}

/// The directory the layer directories were unpacked in (`WORK/layers/N`): WORK.
fn work_of(layers: &[PathBuf]) -> Option<&Path> {
    let work = layers.first()?.parent()?.parent()?;
    layers.iter().all(|l| l.starts_with(work)).then_some(work)
}

/// `path` relative to the layers' work directory when it is inside it, else as it is.
fn relative(path: &Path, layers: &[PathBuf]) -> String {
    work_of(layers)
        .and_then(|w| path.strip_prefix(w).ok())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// One entry of a layer or upper directory: its image path and what it is.
struct Leaf {
    /// `/etc/motd`, `/tmp/` (an empty directory).
    path: String,
    /// What follows the path on its line: `  (19 bytes)`, ` -> target`, the whiteout note;
    /// nothing for an empty directory.
    what: String,
    /// A regular file (which a container may have copied up).
    regular: bool,
}

impl Leaf {
    fn line(&self) -> String {
        format!("  {}{}", self.path, self.what)
    }
}

/// Files, links, whiteouts and empty directories under `root/rel`, as absolute image paths.
fn leaves_of(root: &Path, rel: &Path, out: &mut Vec<Leaf>, lang: &str) {
    let Ok(rd) = std::fs::read_dir(root.join(rel)) else {
        return;
    };
    let mut names: Vec<_> = rd.flatten().map(|e| e.file_name()).collect();
    names.sort();
    if names.is_empty() && !rel.as_os_str().is_empty() {
        out.push(Leaf {
            path: format!("/{}/", rel.display()),
            what: String::new(),
            regular: false,
        });
    }
    for name in names {
        let r = rel.join(&name);
        let Ok(meta) = std::fs::symlink_metadata(root.join(&r)) else {
            continue;
        };
        let ft = meta.file_type();
        let path = format!("/{}", r.display());
        let (what, regular) = if ft.is_dir() {
            leaves_of(root, &r, out, lang);
            continue;
        } else if ft.is_char_device() && meta.rdev() == 0 {
            (format!("  {}", W::WHITEOUT.get(lang)), false)
        } else if ft.is_symlink() {
            let to = std::fs::read_link(root.join(&r)).unwrap_or_default();
            (format!(" -> {}", to.display()), false)
        } else {
            (
                format!("  {}", fill(W::BYTES.get(lang), &[&meta.len()])),
                ft.is_file(),
            )
        };
        out.push(Leaf {
            path,
            what,
            regular,
        });
    }
}
