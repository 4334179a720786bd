//! OCI images: layers, and the JSON that stacks them.
//!
//! An image layout on disk (what `docker save` and `skopeo copy ... oci:DIR` write) is:
//!
//! ```text
//! oci-layout        {"imageLayoutVersion":"1.0.0"}: "this directory is an OCI layout"
//! index.json        the entry point: a list of manifests, each named by a ref annotation
//! blobs/sha256/<h>  every other file, named by the sha256 of its own bytes
//! ```
//!
//! index.json points (by digest) at a *manifest*, which points at a *config* and at the *layers*.
//! Because every pointer is a hash of what it points to, anyone can check that nothing was
//! changed on the way ([`verify_blobs`]). Each layer is a (usually gzipped) tar of what one build
//! step added or changed; a deleted file is recorded as an empty `.wh.NAME` file (a *whiteout*),
//! and "everything that was in this directory is gone" as `.wh..wh..opq`. The config lists each
//! layer's `diff_id`, the sha256 of the *uncompressed* tar, and a history line per step.
//!
//! A runtime unpacks every layer into its own directory ([`unpack_layer`]) and asks overlayfs
//! to show them stacked ([`overlay_mount_data`]); whiteouts become what overlayfs understands:
//! a 0:0 character device, and the `trusted.overlay.opaque` xattr.

mod build;
mod layer;
mod open;
mod overlay;
mod recipe;
pub mod registry;
pub(crate) mod unpack;

pub use build::{build_layout, BuiltImage};
pub use open::{open_layout, verify_blobs, BlobCheck, Image, LayerInfo};
pub use overlay::{mount_overlay, overlay_mount_data, umount_overlay};
pub use recipe::{Change, Recipe, Step, STANDIN_PACKAGES};
pub use unpack::{scan_layer, unpack_layer, UnpackReport, Whiteouts};

/// The mtime every entry of a built layer gets (2023-11-14T22:13:20Z), so that the same content
/// always makes the same bytes, and so the same digest.
pub const FIXED_MTIME: u64 = 1_700_000_000;
/// [`FIXED_MTIME`] as the RFC 3339 text used in the config's `created` fields.
pub const FIXED_CREATED: &str = "2023-11-14T22:13:20Z";
