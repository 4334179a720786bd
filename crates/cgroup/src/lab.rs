//! One lab cgroup and the limits the lesson sets on it.
//!
//! Limits are plain numbers written to files: `memory.max` (v2) or `memory.limit_in_bytes` (v1)
//! caps the RAM the cgroup's processes may be charged for; when they need more and nothing can
//! be reclaimed, the kernel's OOM killer sends SIGKILL to one of them. Swap would let the kernel
//! push pages out instead of killing, so the lesson turns it off for the cgroup. `pids.max` caps
//! how many processes and threads may exist in the cgroup: one more `fork()` fails with EAGAIN.
//! A process joins by writing its pid to `cgroup.procs` (on v1, in every tree).

use crate::detect::Version;
use crate::error::{Error, Result};
use crate::fsops;
use containerlab_trace::Trace;
use nix::unistd::Pid;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// A lab cgroup's directory in one hierarchy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Dir {
    pub version: Version,
    pub path: PathBuf,
}

impl Dir {
    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
}

/// A cgroup the lab made (see [`crate::Layout::create`]).
#[derive(Debug, Clone)]
pub struct LabCgroup {
    pub(crate) name: String,
    pub(crate) memory: Dir,
    pub(crate) pids: Dir,
    pub(crate) cpu: Option<Dir>,
    pub(crate) cpuacct: Option<Dir>,
    /// The lab's own directory in each distinct hierarchy.
    pub(crate) leaves: Vec<PathBuf>,
    /// Every directory made, in order (a newly made `containerlab` parent included).
    pub(crate) made: Vec<PathBuf>,
}

/// How swap was turned off for the cgroup (the kernels differ in what they offer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SwapOff {
    /// v2: `memory.swap.max` set to 0.
    SwapMaxZero,
    /// v2 without swap accounting (no `memory.swap.max`): this kernel cannot swap cgroup memory.
    NoSwapAccounting,
    /// v1: `memory.swappiness` set to 0.
    Swappiness0,
}

impl LabCgroup {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The version driving the memory controller.
    pub fn version(&self) -> Version {
        self.memory.version
    }

    /// Every directory that was made for this cgroup, parents first.
    pub fn paths(&self) -> &[PathBuf] {
        &self.made
    }

    /// The lab's own directory in each hierarchy (one on v2), where processes live.
    pub fn leaf_dirs(&self) -> &[PathBuf] {
        &self.leaves
    }

    /// The lab's directory in the memory hierarchy.
    pub fn memory_dir(&self) -> &Path {
        &self.memory.path
    }

    /// Caps the memory the cgroup's processes may use (v2 `memory.max`, v1 `memory.limit_in_bytes`).
    pub fn set_memory_limit(&mut self, bytes: u64, trace: &mut Trace) -> Result<()> {
        let value = bytes.to_string();
        match self.memory.version {
            Version::V2 => fsops::write(&self.memory.file("memory.max"), &value, trace).map(|_| ()),
            Version::V1 => {
                fsops::write(&self.memory.file("memory.limit_in_bytes"), &value, trace).map(|_| ())
            }
        }
    }

    /// Stops the cgroup from using swap, so reaching the memory limit means the OOM killer
    /// rather than paging out.
    pub fn disable_swap(&mut self, trace: &mut Trace) -> Result<SwapOff> {
        match self.memory.version {
            Version::V2 => {
                let f = self.memory.file("memory.swap.max");
                if fsops::probe(&f, trace) {
                    fsops::write(&f, "0", trace)?;
                    Ok(SwapOff::SwapMaxZero)
                } else {
                    Ok(SwapOff::NoSwapAccounting)
                }
            }
            // v1 could also cap memory+swap (memory.memsw.limit_in_bytes) at the memory
            // limit, but then that counter is the one that overflows first, and recent kernels
            // (seen on 6.18) no longer count its failcnt: memory.failcnt would stay 0 though the limit
            // was hit. swappiness 0 means the cgroup's reclaim never swaps anonymous memory.
            Version::V1 => {
                fsops::write(&self.memory.file("memory.swappiness"), "0", trace)?;
                Ok(SwapOff::Swappiness0)
            }
        }
    }

    /// Caps the number of processes (and threads) in the cgroup.
    pub fn set_pids_max(&mut self, n: u64, trace: &mut Trace) -> Result<()> {
        fsops::write(&self.pids.file("pids.max"), &n.to_string(), trace).map(|_| ())
    }

    /// Caps the CPU time the cgroup's processes may use: `quota_usec` in every `period_usec`.
    /// v2 writes both to `cpu.max`; v1 writes the period to `cpu.cfs_period_us` first, then the
    /// quota to `cpu.cfs_quota_us`. When the group has used its quota, the scheduler stops
    /// running it until the next period begins (it is "throttled").
    pub fn set_cpu_max(
        &mut self,
        quota_usec: u64,
        period_usec: u64,
        trace: &mut Trace,
    ) -> Result<()> {
        let cpu = LabCgroup::require(&self.cpu, "cpu")?;
        match cpu.version {
            Version::V2 => fsops::write(
                &cpu.file("cpu.max"),
                &format!("{quota_usec} {period_usec}"),
                trace,
            )
            .map(|_| ()),
            Version::V1 => {
                fsops::write(
                    &cpu.file("cpu.cfs_period_us"),
                    &period_usec.to_string(),
                    trace,
                )?;
                fsops::write(
                    &cpu.file("cpu.cfs_quota_us"),
                    &quota_usec.to_string(),
                    trace,
                )
                .map(|_| ())
            }
        }
    }

    /// Moves process `pid` (all its threads) into the cgroup: `cgroup.procs` of every hierarchy.
    pub fn add_process(&self, pid: Pid, trace: &mut Trace) -> Result<()> {
        for leaf in &self.leaves {
            fsops::write(&leaf.join("cgroup.procs"), &pid.to_string(), trace)?;
        }
        Ok(())
    }

    pub(crate) fn require<'a>(d: &'a Option<Dir>, controller: &'static str) -> Result<&'a Dir> {
        d.as_ref().ok_or(Error::NoController { controller })
    }
}
