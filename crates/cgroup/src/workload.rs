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
use std::time::{Duration, Instant};

/// The environment variable that asks the lab's workloads for a [`Pace`]: `watchable`, or unset
/// for full speed. The session sets it for the runs a learner watches in the TUI.
pub const PACE_ENV: &str = "CONTAINERLAB_PACE";

/// How fast a workload goes. At full speed a 200 MiB allocation or a fork bomb is over in tens
/// of milliseconds, between two samples of a view. `Watchable` touches [`ALLOC_CHUNK_MIB`] MiB
/// per [`ALLOC_PAUSE`] and forks one child per [`FORK_PAUSE`], so a view sampled a few times a
/// second shows `memory.current` or `pids.current` climb. The pace holds for [`WATCHABLE_FOR`]
/// at most, then the rest goes at full speed: a paced run ends at most that much later than a
/// full-speed one, well inside a run's time bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    Full,
    Watchable,
}

pub const ALLOC_CHUNK_MIB: usize = 4;
pub const ALLOC_PAUSE: Duration = Duration::from_millis(100);
pub const FORK_PAUSE: Duration = Duration::from_millis(40);
pub const WATCHABLE_FOR: Duration = Duration::from_secs(6);
/// How long a paced fork bomb keeps its children once `fork()` is refused.
pub const HOLD_AT_LIMIT: Duration = Duration::from_millis(600);

impl Pace {
    /// The pace [`PACE_ENV`] asks for in this process's environment.
    pub fn from_env() -> Pace {
        match std::env::var(PACE_ENV).as_deref() {
            Ok("watchable") => Pace::Watchable,
            _ => Pace::Full,
        }
    }

    /// The environment entry that asks a workload for this pace (none for full speed).
    pub fn env(self) -> Option<(String, String)> {
        match self {
            Pace::Full => None,
            Pace::Watchable => Some((PACE_ENV.to_string(), "watchable".to_string())),
        }
    }
}

/// Sleeps between a workload's steps while its pace asks for it.
struct Pacer {
    pace: Pace,
    started: Instant,
}

impl Pacer {
    fn new(pace: Pace) -> Pacer {
        Pacer {
            pace,
            started: Instant::now(),
        }
    }

    fn pause(&self, pause: Duration) {
        if self.pace == Pace::Watchable && self.started.elapsed() < WATCHABLE_FOR {
            std::thread::sleep(pause);
        }
    }
}

/// Maps `mib` MiB of anonymous memory, writes to every page so all of it is charged to the
/// cgroup, then unmaps it. Past a cgroup's memory limit (swap off) the kernel OOM-kills the
/// process during the writes, so this does not return. `pace` spaces the writes out in time.
pub fn allocate_and_touch(mib: u64, pace: Pace) -> std::io::Result<()> {
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
    let pacer = Pacer::new(pace);
    let chunk = ALLOC_CHUNK_MIB << 20;
    for offset in (0..bytes.get()).step_by(page) {
        if offset > 0 && offset % chunk == 0 {
            pacer.pause(ALLOC_PAUSE);
        }
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
/// `pace` spaces the forks out in time.
pub fn fork_bomb(max: u32, pace: Pace) -> ForkBombReport {
    let mut children: Vec<Pid> = Vec::with_capacity(max as usize);
    let mut first_error = None;
    let pacer = Pacer::new(pace);
    while children.len() < max as usize {
        if !children.is_empty() {
            pacer.pause(FORK_PAUSE);
        }
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
    if first_error.is_some() {
        // Held at the limit a moment, so a watching learner sees pids.current at pids.max.
        pacer.pause(HOLD_AT_LIMIT);
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
        allocate_and_touch(4, Pace::Full).unwrap();
        assert!(allocate_and_touch(0, Pace::Full).is_err());
    }

    #[test]
    fn a_watchable_pace_is_asked_for_by_its_environment_entry() {
        assert_eq!(Pace::Full.env(), None);
        let (name, value) = Pace::Watchable.env().unwrap();
        assert_eq!(name, PACE_ENV);
        assert_eq!(value, "watchable");
    }

    #[test]
    fn watchable_workloads_do_the_same_work() {
        allocate_and_touch(ALLOC_CHUNK_MIB as u64 * 2, Pace::Watchable).unwrap();
        let r = fork_bomb(3, Pace::Watchable);
        assert_eq!((r.started, r.first_error), (3, None));
    }

    #[test]
    fn an_unlimited_bomb_stops_at_max_and_reaps() {
        let r = fork_bomb(3, Pace::Full);
        assert_eq!(
            r,
            ForkBombReport {
                started: 3,
                first_error: None
            }
        );
    }
}
