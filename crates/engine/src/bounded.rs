//! Waiting for a `run` program with a time limit. A workload, a learner's command or a lesson
//! author's mistake (a fork bomb without its pids limit, a server started in the foreground) must
//! never hang the lab: past the limit the program's whole process group is killed.
//!
//! The agent is single-threaded (unshare(CLONE_NEWUSER) and setns into a user namespace refuse a
//! multithreaded caller), so the two output pipes are read with poll(2) here, not by threads.

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use std::io::Read;
use std::os::fd::AsFd;
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

/// Prepares `cmd` for [`wait_bounded`]: its own process group (a learner's Ctrl-C stays with the
/// front end, and the limit kills everything it forked), its three standard streams as pipes
/// (not /dev/null, which a fresh chroot may not have: a pipe closed right after the fork reads
/// as end-of-file just the same), and death with the agent, so a session torn down or killed
/// leaves no program running. (execve of a setuid or file-capability program clears the death
/// signal again; the lessons only run those briefly.)
pub fn dies_with_the_agent(cmd: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    cmd.process_group(0);
    cmd.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    // SAFETY: prctl is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).map_err(std::io::Error::from)
        });
    }
}

/// How a bounded wait ended.
pub enum Waited {
    /// The program ended by itself (both pipes closed, or it exited and the pipes were read).
    Finished {
        status: ExitStatus,
        stdout: Vec<u8>,
        stderr: Vec<u8>,
    },
    /// The limit passed: the program's process group was sent SIGKILL and the program reaped.
    TimedOut,
}

/// Reads `child`'s standard output and error until both close and it exits, for at most
/// `limit`. The child must lead its own process group (`process_group(0)`), so that killing the
/// group also kills what it forked. Every chunk read goes to `on_chunk` as it arrives (0:
/// standard output, 1: standard error), in the order the pipes delivered them: a log collector
/// writes them down.
pub fn wait_bounded(
    mut child: Child,
    limit: Duration,
    on_chunk: &mut dyn FnMut(usize, &[u8]),
) -> std::io::Result<Waited> {
    let deadline = Instant::now() + limit;
    let mut pipes: [Option<Box<dyn ReadFd>>; 2] = [
        child.stdout.take().map(|p| Box::new(p) as Box<dyn ReadFd>),
        child.stderr.take().map(|p| Box::new(p) as Box<dyn ReadFd>),
    ];
    let mut bufs = [Vec::new(), Vec::new()];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            // The group id is the child's pid; ESRCH means everything in it has already ended.
            let _ = killpg(Pid::from_raw(child.id() as i32), Signal::SIGKILL);
            child.wait()?;
            return Ok(Waited::TimedOut);
        }
        // Wake at least every 100 ms: a program can exit while something it started (outside
        // its group) keeps the pipes open.
        let wait_ms = left.min(Duration::from_millis(100)).as_millis() as u16;
        let open: Vec<usize> = (0..2).filter(|&i| pipes[i].is_some()).collect();
        if open.is_empty() {
            if let Some(status) = child.try_wait()? {
                let [stdout, stderr] = bufs;
                return Ok(Waited::Finished {
                    status,
                    stdout,
                    stderr,
                });
            }
            std::thread::sleep(Duration::from_millis(wait_ms.into()));
            continue;
        }
        let ready: Vec<bool> = {
            let mut fds: Vec<PollFd> = open
                .iter()
                .map(|&i| PollFd::new(pipes[i].as_ref().unwrap().fd(), PollFlags::POLLIN))
                .collect();
            match poll(&mut fds, PollTimeout::from(wait_ms)) {
                Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                Err(e) => return Err(e.into()),
            }
            fds.iter()
                .map(|f| f.revents().is_some_and(|r| !r.is_empty()))
                .collect()
        };
        for (&i, ready) in open.iter().zip(ready) {
            if !ready {
                continue;
            }
            let mut chunk = [0u8; 8192];
            match pipes[i].as_mut().unwrap().read(&mut chunk) {
                Ok(0) => pipes[i] = None,
                Ok(n) => {
                    on_chunk(i, &chunk[..n]);
                    bufs[i].extend_from_slice(&chunk[..n]);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if pipes.iter().all(Option::is_none) {
            // Both closed: usually the program has just exited; reaped on the next turn.
            continue;
        }
        if let Some(status) = child.try_wait()? {
            // It exited with a pipe still open (a background child holds it): what is in the
            // pipes is read, what that child writes later is not waited for.
            for (i, pipe) in pipes.iter_mut().enumerate() {
                if let Some(p) = pipe.take() {
                    let before = bufs[i].len();
                    drain(p, &mut bufs[i]);
                    if bufs[i].len() > before {
                        on_chunk(i, &bufs[i][before..]);
                    }
                }
            }
            let [stdout, stderr] = bufs;
            return Ok(Waited::Finished {
                status,
                stdout,
                stderr,
            });
        }
    }
}

/// Reads what is already in a pipe, without blocking on a writer that is still alive.
fn drain(mut pipe: Box<dyn ReadFd>, buf: &mut Vec<u8>) {
    loop {
        let mut fds = [PollFd::new(pipe.fd(), PollFlags::POLLIN)];
        if !matches!(poll(&mut fds, PollTimeout::ZERO), Ok(n) if n > 0) {
            return;
        }
        let mut chunk = [0u8; 8192];
        match pipe.read(&mut chunk) {
            Ok(n) if n > 0 => buf.extend_from_slice(&chunk[..n]),
            _ => return,
        }
    }
}

/// A child's stdout or stderr: readable, and pollable by its fd.
trait ReadFd: Read {
    fn fd(&self) -> std::os::fd::BorrowedFd<'_>;
}

impl<T: Read + AsFd> ReadFd for T {
    fn fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.as_fd()
    }
}
