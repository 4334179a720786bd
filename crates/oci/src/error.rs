//! The errors of this crate, each saying what went wrong and what to do about it.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a tar entry was refused while unpacking: each one would let a layer write outside the
/// directory it is being unpacked into (the classic "tar slip").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnsafeReason {
    #[error("its path contains a `..` component")]
    ParentDir,
    #[error("its path is absolute")]
    Absolute,
    #[error("a parent component is a symlink that leads outside the target directory")]
    EscapesThroughSymlink,
    #[error("it is a hard link to `{target}`, which is outside the target directory")]
    HardlinkOutside { target: String },
    #[error("it is a hard link to `{target}`, which this layer does not contain")]
    HardlinkTargetMissing { target: String },
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{what}: {source}")]
    Sys {
        what: String,
        #[source]
        source: nix::errno::Errno,
    },
    #[error("no busybox found (looked at /bin/busybox and $PATH): install a static one, e.g. `apt install busybox-static`")]
    BusyboxNotFound,
    #[error("{path} is dynamically linked, so it would not run inside a chroot that has no shared libraries: install busybox-static (`apt install busybox-static`)")]
    BusyboxNotStatic { path: PathBuf },
    #[error("{path} does not look like a root filesystem (no bin/sh in it)")]
    NotARootfs { path: PathBuf },
    #[error("{path} is a Docker archive (the old `docker save` format: manifest.json, no oci-layout), not an OCI image layout: convert it with `skopeo copy docker-archive:ARCHIVE.tar oci:DIR` (tar a directory up first) and pass DIR")]
    DockerArchive { path: PathBuf },
    #[error("{path} is not an OCI image layout: {why}")]
    NotALayout { path: PathBuf, why: String },
    #[error("{what}: {source}")]
    Spec {
        what: String,
        #[source]
        source: oci_spec::OciSpecError,
    },
    #[error("{what} has media type `{found}`, expected {expected}")]
    MediaType {
        what: String,
        found: String,
        expected: String,
    },
    #[error("tar entry `{entry}` refused: {reason}; nothing was written for it")]
    UnsafeEntry { entry: String, reason: UnsafeReason },
    #[error("unsupported: {0}")]
    Unsupported(String),
    #[error("bad recipe: {0}")]
    BadRecipe(String),
}

impl Error {
    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let what = what.into();
        move |source| Error::Io { what, source }
    }

    pub(crate) fn sys(what: impl Into<String>) -> impl FnOnce(nix::errno::Errno) -> Error {
        let what = what.into();
        move |source| Error::Sys { what, source }
    }

    pub(crate) fn spec(what: impl Into<String>) -> impl FnOnce(oci_spec::OciSpecError) -> Error {
        let what = what.into();
        move |source| Error::Spec { what, source }
    }
}
