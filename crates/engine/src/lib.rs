//! The engine: creates and removes kernel objects, and knows nothing of lessons or screens (it is
//! a crate of its own, so it cannot: it answers with facts, and the front end words them).
//!
//! A front end starts a [`sandbox::Sandbox`], which runs the single-threaded
//! [`agent`] process that makes the syscalls. Everything that would outlive the sandbox is
//! written to the [`journal`] the moment it exists and undone by [`teardown`].

pub mod agent;
pub mod assume;
mod bounded;
pub mod cgroups;
pub mod chroot;
pub mod cleanup;
pub mod device_mount;

pub mod enter;
pub mod firewall;
pub mod host_objects;
pub mod image_ops;
pub mod interpret;
pub mod journal;
pub mod json_log;
pub mod namespaces;
pub mod ns_ops;
pub mod ops;
pub mod policy;
pub mod privs;
pub mod proxy;
pub mod publish;
pub mod reply;
pub mod rundir;
pub mod sandbox;
pub mod seccomp;
pub mod syscalls;
pub mod teardown;
