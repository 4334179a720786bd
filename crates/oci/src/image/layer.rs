//! Writing one layer: a reproducible tar, and its gzip.
//!
//! The same files must always give the same bytes, or the digest (the layer's name) would change
//! on every build. So every entry gets uid/gid 0, a fixed mtime, no user/group names; entries are
//! written in sorted order; and the gzip header carries no timestamp.

use super::recipe::Change;
use super::FIXED_MTIME;
use crate::error::{Error, Result};
use crate::sha;
use flate2::{Compression, GzBuilder};
use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// The one extended attribute carried into layers, as Docker does: file capabilities (what
/// `setcap cap_net_bind_service=+ep` writes), without which e.g. `ping` would lose its powers.
pub(crate) const CAPABILITY_XATTR: &str = "security.capability";

#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Dir,
    File(Vec<u8>),
    Symlink(String),
    /// A hard link to another path of the same layer.
    Hardlink(String),
}

#[derive(Debug, Clone)]
pub(crate) struct Entry {
    kind: Kind,
    mode: u32,
    xattrs: Vec<(String, Vec<u8>)>,
}

/// The entries of one layer, keyed by path relative to `/` (no leading slash).
#[derive(Debug, Default)]
pub(crate) struct Layer {
    entries: BTreeMap<String, Entry>,
}

/// A finished layer: the gzip blob and both digests.
pub(crate) struct LayerBlob {
    pub gz: Vec<u8>,
    pub digest: String,
    pub diff_id: String,
}

fn rel(path: &str) -> Result<String> {
    let trimmed = path.trim_matches('/');
    if trimmed
        .split('/')
        .any(|c| c == ".." || c == "." || c.is_empty())
        && !trimmed.is_empty()
    {
        return Err(Error::BadRecipe(format!(
            "path `{path}` must be a plain absolute path"
        )));
    }
    Ok(trimmed.to_string())
}

impl Layer {
    fn put(&mut self, path: String, kind: Kind, mode: u32, xattrs: Vec<(String, Vec<u8>)>) {
        self.add_parents(&path);
        self.entries.insert(path, Entry { kind, mode, xattrs });
    }

    /// Layers list the directories that lead to a changed file (their mtimes changed too).
    fn add_parents(&mut self, path: &str) {
        let mut at = 0;
        while let Some(i) = path[at..].find('/') {
            let dir = &path[..at + i];
            self.entries.entry(dir.to_string()).or_insert(Entry {
                kind: Kind::Dir,
                mode: 0o755,
                xattrs: vec![],
            });
            at += i + 1;
        }
    }

    pub(crate) fn apply(&mut self, change: &Change, base_rootfs: &Path) -> Result<()> {
        match change {
            Change::AddBaseRootfs => self.add_tree(base_rootfs, ""),
            Change::AddTree { from, to } => self.add_tree(from, &rel(to)?),
            Change::AddFile {
                path,
                content,
                mode,
            } => {
                self.put(rel(path)?, Kind::File(content.clone()), *mode, vec![]);
                Ok(())
            }
            Change::AddDir { path, mode } => {
                self.put(rel(path)?, Kind::Dir, *mode, vec![]);
                Ok(())
            }
            Change::Delete { path } => {
                let p = rel(path)?;
                let (dir, name) = p.rsplit_once('/').unwrap_or(("", &p));
                let wh = join(dir, &format!(".wh.{name}"));
                self.put(wh, Kind::File(vec![]), 0o644, vec![]);
                Ok(())
            }
            Change::Opaque { dir } => {
                let wh = join(&rel(dir)?, ".wh..wh..opq");
                self.put(wh, Kind::File(vec![]), 0o644, vec![]);
                Ok(())
            }
            Change::Hardlink { path, target } => {
                let t = rel(target)?;
                if !matches!(
                    self.entries.get(&t),
                    Some(Entry {
                        kind: Kind::File(_),
                        ..
                    })
                ) {
                    return Err(Error::BadRecipe(format!(
                        "hard link {path}: target {target} must be a file added by the same step, before it"
                    )));
                }
                self.put(rel(path)?, Kind::Hardlink(t), 0o644, vec![]);
                Ok(())
            }
        }
    }

    /// Adds host directory `from` at `to`, in sorted order; files with several names become one
    /// file plus hard links to the first name.
    fn add_tree(&mut self, from: &Path, to: &str) -> Result<()> {
        let mut seen: HashMap<(u64, u64), String> = HashMap::new();
        self.walk(from, to, &mut seen)
    }

    fn walk(&mut self, dir: &Path, at: &str, seen: &mut HashMap<(u64, u64), String>) -> Result<()> {
        let mut names: Vec<_> = fs::read_dir(dir)
            .map_err(Error::io(format!("read {}", dir.display())))?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<std::io::Result<_>>()
            .map_err(Error::io(format!("read {}", dir.display())))?;
        names.sort();
        for name in names {
            let host = dir.join(&name);
            let name = name.to_str().ok_or_else(|| {
                Error::Unsupported(format!("non-UTF-8 file name {}", host.display()))
            })?;
            let path = join(at, name);
            let meta = fs::symlink_metadata(&host)
                .map_err(Error::io(format!("stat {}", host.display())))?;
            let mode = meta.mode() & 0o7777;
            let ft = meta.file_type();
            if ft.is_dir() {
                self.put(path.clone(), Kind::Dir, mode, vec![]);
                self.walk(&host, &path, seen)?;
            } else if ft.is_symlink() {
                let target = fs::read_link(&host)
                    .map_err(Error::io(format!("readlink {}", host.display())))?;
                let target = target.to_str().ok_or_else(|| {
                    Error::Unsupported(format!("non-UTF-8 link {}", host.display()))
                })?;
                self.put(path, Kind::Symlink(target.into()), 0o777, vec![]);
            } else if ft.is_file() {
                if meta.nlink() > 1 {
                    if let Some(first) = seen.get(&(meta.dev(), meta.ino())) {
                        self.put(path, Kind::Hardlink(first.clone()), mode, vec![]);
                        continue;
                    }
                    seen.insert((meta.dev(), meta.ino()), path.clone());
                }
                let content =
                    fs::read(&host).map_err(Error::io(format!("read {}", host.display())))?;
                let mut xattrs = vec![];
                if let Ok(Some(v)) = xattr::get(&host, CAPABILITY_XATTR) {
                    xattrs.push((CAPABILITY_XATTR.to_string(), v));
                }
                self.put(path, Kind::File(content), mode, xattrs);
            }
            // Device nodes, fifos and sockets are left out: an image never needs them (the
            // runtime makes /dev), and making them needs privileges a build should not.
        }
        Ok(())
    }

    /// Writes the tar (sorted; hard links last so their targets always come first), gzips it,
    /// and names both.
    pub(crate) fn finish(self) -> Result<LayerBlob> {
        let mut b = tar::Builder::new(Vec::new());
        let (links, others): (Vec<_>, Vec<_>) = self
            .entries
            .iter()
            .partition(|(_, e)| matches!(e.kind, Kind::Hardlink(_)));
        for (path, e) in others.into_iter().chain(links) {
            append(&mut b, path, e).map_err(Error::io(format!("tar entry {path}")))?;
        }
        let tar = b.into_inner().map_err(Error::io("finish tar"))?;
        let diff_id = sha::digest_of(&tar);
        // GzBuilder writes mtime 0 unless told otherwise: no build time leaks into the blob.
        let mut gz = GzBuilder::new().write(Vec::new(), Compression::default());
        gz.write_all(&tar).map_err(Error::io("gzip layer"))?;
        let gz = gz.finish().map_err(Error::io("gzip layer"))?;
        Ok(LayerBlob {
            digest: sha::digest_of(&gz),
            diff_id,
            gz,
        })
    }
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

fn append(b: &mut tar::Builder<Vec<u8>>, path: &str, e: &Entry) -> std::io::Result<()> {
    if !e.xattrs.is_empty() {
        let pax: Vec<(String, &[u8])> = e
            .xattrs
            .iter()
            .map(|(k, v)| (format!("SCHILY.xattr.{k}"), v.as_slice()))
            .collect();
        b.append_pax_extensions(pax.iter().map(|(k, v)| (k.as_str(), *v)))?;
    }
    let mut h = tar::Header::new_gnu();
    h.set_mode(e.mode);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(FIXED_MTIME);
    match &e.kind {
        Kind::Dir => {
            h.set_entry_type(tar::EntryType::Directory);
            h.set_size(0);
            b.append_data(&mut h, format!("{path}/"), std::io::empty())
        }
        Kind::File(content) => {
            h.set_entry_type(tar::EntryType::Regular);
            h.set_size(content.len() as u64);
            b.append_data(&mut h, path, content.as_slice())
        }
        Kind::Symlink(target) => {
            h.set_entry_type(tar::EntryType::Symlink);
            h.set_size(0);
            b.append_link(&mut h, path, target)
        }
        Kind::Hardlink(target) => {
            h.set_entry_type(tar::EntryType::Link);
            h.set_size(0);
            b.append_link(&mut h, path, target)
        }
    }
}
