//! Where a container's files come from.
//!
//! A container is an ordinary process whose view of `/` has been swapped for another directory.
//! That directory has to come from somewhere. This crate makes both kinds the lessons use:
//!
//! * [`rootfs`]: one flat directory, built offline from a static busybox, to `chroot(2)` into.
//! * [`image`]: an OCI image, the format `docker save`, `skopeo` and registries use: a stack of
//!   tar *layers*, one per Dockerfile line, plus JSON that says how to stack them. The lab writes a
//!   real image layout, reads it back the way a runtime does, unpacks each layer into its own
//!   directory and hands the list to overlayfs, which shows the stack as one tree.

pub mod error;
pub mod image;
pub mod rootfs;
pub mod runtime;
mod sha;

pub use error::{Error, Result, UnsafeReason};
