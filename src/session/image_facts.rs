//! What the session knows about the image a lesson unpacked: fields of the layout (for `image`
//! observations), and which files of its layers a lesson can safely modify or delete.
//!
//! A lesson about layers is written once for the lab's 4-layer example, and must also run on an
//! image the learner brings (`--image`). So the files it modifies and deletes are not written in
//! the lesson: after `layer_unpack`, the runner picks text files that the stacked view shows, and
//! the lesson names them `{image_file:N}` (path inside the image) and `{image_file_layer:N}`
//! (the unpacked layer directory holding it), filled by [`super::placeholders`].

use super::verdict::Observed;
use anyhow::{anyhow, Context};
use containerlab_oci::image::open_layout;
use sha2::Digest;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// Files picked from the unpacked layers, and the layer directories (bottom first).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Samples {
    /// (path inside the image, layer directory that provides it).
    pub files: Vec<(String, PathBuf)>,
    pub layer_dirs: Vec<PathBuf>,
}

impl Samples {
    /// Reads the unpacked layers `dirs` (bottom first).
    pub fn of_layers(dirs: Vec<PathBuf>) -> Samples {
        let mut files = Vec::new();
        // Hard links are one file: only its first name is picked.
        let mut seen = std::collections::HashSet::new();
        for k in (0..dirs.len()).rev() {
            let mut found = Vec::new();
            walk(&dirs[k], Path::new(""), &mut found);
            for rel in found {
                let id = std::fs::metadata(dirs[k].join(&rel))
                    .map(|m| (m.dev(), m.ino()))
                    .unwrap_or_default();
                if !shadowed(&dirs[k + 1..], &rel) && seen.insert(id) {
                    files.push((format!("/{}", rel.display()), dirs[k].clone()));
                }
                if files.len() >= 8 {
                    break;
                }
            }
            if files.len() >= 8 {
                break;
            }
        }
        Samples {
            files,
            layer_dirs: dirs,
        }
    }

    /// The overlay `lowerdir=` list of the unpacked layers, top first, each path escaped.
    pub fn lowerdirs(&self) -> String {
        let lowers: Vec<String> = self
            .layer_dirs
            .iter()
            .rev()
            .map(|p| escape(&p.to_string_lossy()))
            .collect();
        lowers.join(":")
    }
}

/// overlayfs' option parser treats `\`, `:` and `,` specially.
fn escape(p: &str) -> String {
    let mut s = String::new();
    for c in p.chars() {
        if matches!(c, '\\' | ':' | ',') {
            s.push('\\');
        }
        s.push(c);
    }
    s
}

/// Small, non-empty UTF-8 regular files under `root/rel`, in sorted order.
fn walk(root: &Path, rel: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(root.join(rel)) else {
        return;
    };
    let mut names: Vec<_> = rd.flatten().map(|e| e.file_name()).collect();
    names.sort();
    for name in names {
        let r = rel.join(&name);
        let Ok(meta) = std::fs::symlink_metadata(root.join(&r)) else {
            continue;
        };
        if meta.is_dir() {
            walk(root, &r, out);
        } else if meta.is_file()
            && meta.len() > 0
            && meta.len() <= 64 * 1024
            && std::fs::read_to_string(root.join(&r)).is_ok()
        {
            out.push(r);
        }
    }
}

/// Whether a higher layer hides `rel`: it has something at the path itself, or replaces a
/// parent directory with a non-directory (a file or a whiteout), or makes a parent opaque.
fn shadowed(higher: &[PathBuf], rel: &Path) -> bool {
    let comps: Vec<_> = rel.components().collect();
    for layer in higher {
        let mut prefix = layer.clone();
        for (i, c) in comps.iter().enumerate() {
            prefix.push(c);
            let Ok(meta) = std::fs::symlink_metadata(&prefix) else {
                break;
            };
            if i == comps.len() - 1 || !meta.is_dir() {
                return true;
            }
            if xattr::get(&prefix, "trusted.overlay.opaque")
                .ok()
                .flatten()
                .is_some_and(|v| v == b"y")
            {
                return true;
            }
        }
    }
    false
}

/// Overlay whiteouts (0:0 character devices) under `dir`, recursively.
pub fn whiteout_count(dir: &Path) -> usize {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut n = 0;
    for e in rd.flatten() {
        let Ok(meta) = std::fs::symlink_metadata(e.path()) else {
            continue;
        };
        if meta.is_dir() {
            n += whiteout_count(&e.path());
        } else if meta.file_type().is_char_device() && meta.rdev() == 0 {
            n += 1;
        }
    }
    n
}

/// `.wh.NAME` entries (not the opaque marker) in a layer blob, gzipped or not.
fn tar_whiteouts(blob: &Path) -> anyhow::Result<usize> {
    let file = std::fs::File::open(blob).with_context(|| blob.display().to_string())?;
    let mut reader = std::io::BufReader::new(file);
    let gz = {
        use std::io::BufRead;
        let buf = reader.fill_buf()?;
        buf.starts_with(&[0x1f, 0x8b])
    };
    let input: Box<dyn Read> = if gz {
        Box::new(flate2::read::MultiGzDecoder::new(reader))
    } else {
        Box::new(reader)
    };
    let mut archive = tar::Archive::new(input);
    let mut n = 0;
    for entry in archive.entries()? {
        let entry = entry?;
        let path = entry.path_bytes();
        let name = path
            .rsplit(|b| *b == b'/')
            .find(|c| !c.is_empty())
            .unwrap_or(&[]);
        if name.starts_with(b".wh.") && name != b".wh..wh..opq" {
            n += 1;
        }
    }
    Ok(n)
}

/// The names [`field`] knows.
pub const FIELDS: &[&str] = &[
    "layer_count",
    "index_media_type",
    "manifest_digest",
    "manifest_media_type",
    "config_digest",
    "config_media_type",
    "layer_digests",
    "layer_media_types",
    "diff_ids",
    "created_by",
    "whiteout_entries",
    "blob_count",
    "config_sha256",
    "labels",
    "rootfs_type",
    "layer_sizes",
    "total_size",
    "bottom_layer_digest",
    "top_layer_digest",
];

/// One field of the layout at `dir`, read as a runtime reads it.
pub fn field(dir: &Path, name: &str) -> anyhow::Result<Observed> {
    let image = open_layout(dir)?;
    let text = |s: String| Observed::Text(s);
    let list = |v: Vec<String>| Observed::List(v.into_iter().map(Observed::Text).collect());
    Ok(match name {
        "layer_count" => Observed::Number(image.layers.len() as i64),
        "index_media_type" => text(
            image
                .index
                .media_type()
                .as_ref()
                .map(|m| m.to_string())
                .unwrap_or_else(|| "(not set)".into()),
        ),
        "manifest_digest" => text(image.manifest_digest.clone()),
        "manifest_media_type" => text(
            image
                .manifest
                .media_type()
                .as_ref()
                .map(|m| m.to_string())
                .unwrap_or_else(|| "(not set)".into()),
        ),
        "config_digest" => text(image.manifest.config().digest().to_string()),
        "config_media_type" => text(image.manifest.config().media_type().to_string()),
        "layer_digests" => list(image.layers.iter().map(|l| l.digest.clone()).collect()),
        "layer_media_types" => list(image.layers.iter().map(|l| l.media_type.clone()).collect()),
        "diff_ids" => list(image.layers.iter().map(|l| l.diff_id.clone()).collect()),
        "created_by" => list(
            image
                .layers
                .iter()
                .map(|l| {
                    l.created_by
                        .clone()
                        .unwrap_or_else(|| "(no history)".into())
                })
                .collect(),
        ),
        "whiteout_entries" => {
            let mut n = 0;
            for l in &image.layers {
                n += tar_whiteouts(&l.blob)?;
            }
            Observed::Number(n as i64)
        }
        "blob_count" => Observed::Number(image.layers.len() as i64 + 2),
        "config_sha256" => {
            let d = image.manifest.config().digest();
            let path = image
                .dir
                .join("blobs")
                .join(d.algorithm().as_ref())
                .join(d.digest());
            let bytes = std::fs::read(&path).with_context(|| path.display().to_string())?;
            let hex: String = sha2::Sha256::digest(&bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            text(format!("sha256:{hex}"))
        }
        "labels" => {
            let mut labels: Vec<String> = image
                .config
                .config()
                .as_ref()
                .and_then(|c| c.labels().clone())
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            labels.sort();
            list(labels)
        }
        "rootfs_type" => text(image.config.rootfs().typ().clone()),
        "layer_sizes" => Observed::List(
            image
                .layers
                .iter()
                .map(|l| Observed::Number(l.size as i64))
                .collect(),
        ),
        "total_size" => Observed::Number(image.layers.iter().map(|l| l.size as i64).sum()),
        "bottom_layer_digest" => match image.layers.first() {
            Some(l) => text(l.digest.clone()),
            None => return Err(anyhow!("the image has no layers")),
        },
        "top_layer_digest" => match image.layers.last() {
            Some(l) => text(l.digest.clone()),
            None => return Err(anyhow!("the image has no layers")),
        },
        other => {
            return Err(anyhow!(
                "unknown image field {other:?}; one of {}",
                FIELDS.join(", ")
            ))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(p: &Path, body: &str) {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }

    #[test]
    fn picks_visible_text_files_top_layer_first() {
        let t = tempfile::tempdir().unwrap();
        let (l1, l2) = (t.path().join("1"), t.path().join("2"));
        write(&l1.join("etc/keep"), "keep\n");
        write(&l1.join("etc/over"), "old\n");
        write(&l1.join("gone/x"), "x\n");
        write(&l1.join("empty"), "");
        write(&l2.join("etc/over"), "new\n");
        // A file where a lower layer had a directory hides everything below it.
        write(&l2.join("gone"), "a file now\n");
        let s = Samples::of_layers(vec![l1.clone(), l2.clone()]);
        let got: Vec<(&str, &Path)> = s
            .files
            .iter()
            .map(|(p, l)| (p.as_str(), l.as_path()))
            .collect();
        assert_eq!(
            got,
            [
                ("/etc/over", l2.as_path()),
                ("/gone", l2.as_path()),
                ("/etc/keep", l1.as_path()),
            ]
        );
        assert_eq!(s.lowerdirs(), format!("{}:{}", l2.display(), l1.display()));
    }

    #[test]
    fn lowerdirs_escape_overlay_separators() {
        let s = Samples {
            files: vec![],
            layer_dirs: vec!["/l/a:b".into(), "/l/c,d".into()],
        };
        assert_eq!(s.lowerdirs(), r"/l/c\,d:/l/a\:b");
    }
}
