//! Workloads that run into the limits, run inside the cgroup by the lab's own binary.
//!
//! Memory is only charged to a cgroup when a page is really *used*: `mmap` of 200 MiB reserves
//! address space, and each page is charged at the first write that faults it in. So the
//! allocation writes one byte to every page. The fork bomb is tame: only the first process
//! forks, its children just sleep, and it stops at `max` or at the first failure (EAGAIN when
//! `pids.max` is reached), then kills and reaps every child. Neither function starts threads,
//! and a forked child only calls async-signal-safe functions.

use nix::errno::Errno;
use nix::sys::mman::{mmap_anonymous, munmap, MapFlags, ProtFlags};
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::waitpid;
use nix::unistd::{fork, sysconf, ForkResult, Pid, SysconfVar};
use serde::Serialize;
use std::num::NonZeroUsize;

/// Maps `mib` MiB of anonymous memory, writes to every page so all of it is charged to the
/// cgroup, then unmaps it. Past a cgroup's memory limit (swap off) the kernel OOM-kills the
/// process during the writes, so this does not return.
pub fn allocate_and_touch(mib: u64) -> std::io::Result<()> {
    let bytes = usize::try_from(mib)
        .ok()
        .and_then(|m| m.checked_mul(1 << 20))
        .and_then(NonZeroUsize::new)
        .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
    let page = sysconf(SysconfVar::PAGE_SIZE)?.unwrap_or(4096) as usize;
    // SAFETY: a fresh private anonymous mapping aliases nothing; it is only used in this function.
    let base = unsafe {
        mmap_anonymous(
            None,
            bytes,
            ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
            MapFlags::MAP_PRIVATE | MapFlags::MAP_NORESERVE,
        )?
    };
    let start = base.as_ptr().cast::<u8>();
    for offset in (0..bytes.get()).step_by(page) {
        // SAFETY: offset < bytes, inside the mapping. Volatile so the write is not optimised
        // away: the point is the page fault that charges the page.
        unsafe { start.add(offset).write_volatile(1) };
    }
    // SAFETY: unmapping exactly the mapping made above, no references into it remain.
    unsafe { munmap(base, bytes.get())? };
    Ok(())
}

/// What a [`fork_bomb`] managed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ForkBombReport {
    /// Children forked successfully.
    pub started: u32,
    /// The error that stopped it (EAGAIN at `pids.max`), or `None` if `max` was reached.
    #[serde(serialize_with = "errno_name")]
    pub first_error: Option<Errno>,
}

fn errno_name<S: serde::Serializer>(e: &Option<Errno>, s: S) -> Result<S::Ok, S::Error> {
    match e {
        Some(e) => s.serialize_some(&containerlab_trace::errno_name(*e)),
        None => s.serialize_none(),
    }
}

/// Forks children that sleep until `max` exist or `fork()` fails, then kills and reaps them all.
pub fn fork_bomb(max: u32) -> ForkBombReport {
    let mut children: Vec<Pid> = Vec::with_capacity(max as usize);
    let mut first_error = None;
    while children.len() < max as usize {
        // SAFETY: the child calls only async-signal-safe functions (prctl, getppid, pause,
        // _exit), so forking is sound even if the caller had other threads.
        match unsafe { fork() } {
            Ok(ForkResult::Child) => child_sleeps(),
            Ok(ForkResult::Parent { child }) => children.push(child),
            Err(e) => {
                first_error = Some(e);
                break;
            }
        }
    }
    for &c in &children {
        let _ = kill(c, Signal::SIGKILL);
    }
    for &c in &children {
        let _ = waitpid(c, None);
    }
    ForkBombReport {
        started: children.len() as u32,
        first_error,
    }
}

fn child_sleeps() -> ! {
    // SAFETY: prctl, getppid, pause and _exit are async-signal-safe and touch no Rust state.
    unsafe {
        let parent = libc::getppid();
        // Die with the parent, so no sleeper outlives a bomb that was itself killed.
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        if libc::getppid() != parent {
            libc::_exit(0);
        }
        loop {
            libc::pause();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_allocation_is_touched_and_freed() {
        allocate_and_touch(4).unwrap();
        assert!(allocate_and_touch(0).is_err());
    }

    #[test]
    fn an_unlimited_bomb_stops_at_max_and_reaps() {
        let r = fork_bomb(3);
        assert_eq!(
            r,
            ForkBombReport {
                started: 3,
                first_error: None
            }
        );
    }
}
