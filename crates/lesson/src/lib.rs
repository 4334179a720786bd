//! Lessons: versioned YAML files, parsed into [`schema`] types by [`load`] and checked for
//! meaning by [`validate`]. The lesson layer knows nothing of the kernel: the session runner turns
//! its actions into engine operations. It depends on no other containerlab crate (the format owns
//! its names for namespaces, mount flags and the like), so the arrows point one way.

pub mod claims;
pub mod diagnostic;
pub mod load;
pub mod schema;
pub mod text;
pub mod validate;
