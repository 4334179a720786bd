//! cgroups: limits the kernel enforces on a group of processes.
//!
//! A control group is a directory in a cgroup filesystem; processes are put in it by writing
//! their pid to `cgroup.procs`, and its files set limits (`memory.max`, `pids.max`) and report
//! what the group uses (`memory.current`, `memory.events`, `pids.current`, `cpu.stat`). Container
//! runtimes give every container its own cgroup, which is why a container that uses too much
//! memory is OOM-killed while the rest of the machine carries on. This crate finds how the
//! machine has cgroups set up (v2 unified, or v1 / hybrid), makes the lab's cgroups and
//! records every `mkdir`/`write`/`rmdir` in a [`containerlab_trace::Trace`], reads the counters,
//! removes it all again, and offers the workloads that hit the limits.

mod create;
mod detect;
mod error;
mod fsops;
mod lab;
mod read;
mod remove;
mod workload;

#[cfg(test)]
mod fake_tests;

pub use create::PARENT;
pub use detect::{detect, Hierarchy, Layout, ReadControllers, Version};
pub use error::{Error, Result, Unsupported};
pub use lab::{LabCgroup, SwapOff};
pub use remove::{lab_parents, remove_tree};
pub use workload::{
    allocate_and_touch, fork_bomb, ForkBombReport, Pace, ALLOC_CHUNK_MIB, ALLOC_PAUSE, FORK_PAUSE,
    HOLD_AT_LIMIT, PACE_ENV, WATCHABLE_FOR,
};
