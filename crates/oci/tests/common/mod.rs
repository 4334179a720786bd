#![allow(dead_code)]
//! Helpers shared by the integration tests.

pub mod hand_layout;
#[allow(unused_imports)]
pub use hand_layout::raw_header;

use std::path::{Path, PathBuf};

pub fn tmp() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("clab-test-")
        .tempdir_in("/tmp")
        .unwrap()
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
