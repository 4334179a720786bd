//! `containerlab prepare`: builds, ahead of time, the files the lessons would otherwise build on
//! first use, so a classroom VM provisioned once works without a network and without the wait.
//!
//! Today that is the busybox root filesystem the chroot and image lessons start from
//! (crates/oci `rootfs::ensure_rootfs`). Running it again is cheap: a cache whose version stamp
//! matches this build and this busybox is left as it is.

use crate::exit;
use std::path::{Path, PathBuf};

/// Where the caches live unless `--cache-dir` or `CONTAINERLAB_CACHE_DIR` say otherwise.
pub const DEFAULT_CACHE_DIR: &str = "/var/cache/containerlab";

/// The cache directory: the explicit argument, else `$CONTAINERLAB_CACHE_DIR`, else
/// [`DEFAULT_CACHE_DIR`].
pub fn cache_dir(explicit: Option<&Path>) -> PathBuf {
    explicit
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("CONTAINERLAB_CACHE_DIR").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_CACHE_DIR))
}

/// Runs `containerlab prepare`; returns the exit code.
pub fn run(explicit: Option<&Path>) -> i32 {
    let dir = cache_dir(explicit);
    match containerlab_oci::rootfs::ensure_rootfs(&dir) {
        Ok(rootfs) => {
            let stamp = std::fs::read_to_string(rootfs.join(containerlab_oci::rootfs::STAMP_PATH))
                .unwrap_or_default();
            println!(
                "busybox rootfs: {} ({})",
                rootfs.display(),
                stamp.lines().collect::<Vec<_>>().join(", ")
            );
            exit::OK
        }
        Err(e @ containerlab_oci::Error::BusyboxNotFound)
        | Err(e @ containerlab_oci::Error::BusyboxNotStatic { .. }) => {
            eprintln!("containerlab prepare: {e}");
            exit::ENVIRONMENT
        }
        Err(e) => {
            eprintln!(
                "containerlab prepare: cannot build the rootfs cache in {}: {e}",
                dir.display()
            );
            exit::ENVIRONMENT
        }
    }
}
