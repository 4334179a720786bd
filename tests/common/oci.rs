//! The hand-written OCI layout of the oci crate's tests, for the tests that run the image
//! lessons on a learner's own image (`--image`): one fixture, kept in one file.

#[path = "../../crates/oci/tests/common/hand_layout.rs"]
mod fixture;

// Not every test binary that includes `common` uses the fixture.
#[allow(unused_imports)]
pub use fixture::{hand_layout, hand_layout_with, raw_header, tar_of};
