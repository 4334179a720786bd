#![allow(dead_code)]
//! Helpers shared by the integration tests.

pub mod hand_layout;

use std::path::{Path, PathBuf};

pub fn tmp() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("clab-test-")
        .tempdir_in("/tmp")
        .unwrap()
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

/// Writes `tar_bytes` as a plain (uncompressed) tar file.
pub fn write_tar(path: &Path, build: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> PathBuf {
    let mut b = tar::Builder::new(Vec::new());
    build(&mut b);
    std::fs::write(path, b.into_inner().unwrap()).unwrap();
    path.to_path_buf()
}

/// Unmounts on drop, so a failing assertion never leaves a mount behind.
pub struct MountGuard(pub PathBuf);
impl Drop for MountGuard {
    fn drop(&mut self) {
        let _ = nix::mount::umount2(&self.0, nix::mount::MntFlags::MNT_DETACH);
    }
}
