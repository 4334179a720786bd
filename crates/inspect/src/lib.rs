//! The inspector: reads live kernel state from procfs, nsfs and cgroupfs, and changes nothing.
//!
//! Everything a learner sees beside a step, and everything a check compares, comes from here at
//! the moment it is asked for: there is no cached or remembered state to drift from the kernel.

pub mod caps;
pub mod filecaps;
pub mod mounts;
pub mod namespaces;
pub mod process;
pub mod sockets;
pub mod uts;
