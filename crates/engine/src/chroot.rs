//! chroot(2), chdir(2), pivot_root(2), and the lab's root filesystem.
//!
//! These change what paths mean for the calling process only, so they are run by a member of the
//! sandbox (never the holder, which must keep seeing the host's session directory). The rootfs a
//! lesson chroots into is a per-session copy under `{work}`, which teardown removes with the
//! session directory; the built original is cached outside (`CONTAINERLAB_CACHE_DIR`, the
//! directory `containerlab prepare` fills; default `/var/cache/containerlab`) and never changed.
//! `CONTAINERLAB_ROOTFS` (set by `--rootfs`) names a directory or an alpine minirootfs tarball to
//! use instead of the built busybox rootfs.

use super::ops::{OpError, Value};
use containerlab_trace::{quoted, Trace};
use std::path::{Path, PathBuf};

pub fn cache_dir() -> PathBuf {
    std::env::var_os("CONTAINERLAB_CACHE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/containerlab"))
}

pub fn chroot(path: &str, trace: &mut Trace) -> Result<Value, OpError> {
    trace.record(
        format!("chroot({})", quoted(path)),
        nix::unistd::chroot(path),
    )?;
    Ok(Value::Done)
}

pub fn chdir(path: &str, trace: &mut Trace) -> Result<Value, OpError> {
    trace.record(format!("chdir({})", quoted(path)), nix::unistd::chdir(path))?;
    Ok(Value::Done)
}

pub fn pivot_root(new_root: &str, put_old: &str, trace: &mut Trace) -> Result<Value, OpError> {
    trace.record(
        format!("pivot_root({}, {})", quoted(new_root), quoted(put_old)),
        nix::unistd::pivot_root(new_root, put_old),
    )?;
    Ok(Value::Done)
}

/// The rootfs to copy from: the learner's (`CONTAINERLAB_ROOTFS`) or the cached busybox one.
pub fn source_rootfs() -> Result<PathBuf, OpError> {
    let cache = cache_dir();
    let found = match std::env::var_os("CONTAINERLAB_ROOTFS") {
        Some(given) => containerlab_oci::rootfs::use_given_rootfs(Path::new(&given), &cache),
        None => containerlab_oci::rootfs::ensure_rootfs(&cache),
    };
    found.map_err(|e| OpError::msg(e.to_string()))
}

/// Copies the rootfs to `dest`, which must lie under the session's work directory.
pub fn copy_rootfs(dest: &str, work: &Path, trace: &mut Trace) -> Result<Value, OpError> {
    super::policy::work_file(dest, work)?;
    let source = source_rootfs()?;
    let mut from = source.as_os_str().to_owned();
    from.push("/.");
    std::fs::create_dir_all(dest)?;
    let status = trace.record_io(
        format!("cp -a {}/. {}", source.display(), quoted(dest)),
        std::process::Command::new("cp")
            .arg("-a")
            .arg(&from)
            .arg(dest)
            .status(),
        |s| s.to_string(),
    )?;
    if !status.success() {
        return Err(OpError::msg(format!("cp -a failed: {status}")));
    }
    Ok(Value::Text(source.display().to_string()))
}
