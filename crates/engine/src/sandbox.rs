//! The front end's handle on a lesson's sandbox: it starts the holder agent, sends it requests,
//! and at the end tears down everything the journal lists.

use super::agent::HOLDER;
use super::journal::{Entry, Journal};
use super::ops::{FileStat, Op, OpError, Reply, Request, Value};
use super::rundir::{start_time, RunDir};
use super::teardown::{self, TeardownReport};
use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("could not start the sandbox helper {exe}: {source}")]
    Start {
        exe: PathBuf,
        source: std::io::Error,
    },
    #[error("the sandbox helper stopped unexpectedly (see {log})")]
    AgentGone { log: PathBuf },
    #[error("interrupted")]
    Interrupted,
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

pub struct Sandbox {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    rundir: RunDir,
    interrupt: Arc<AtomicBool>,
    torn_down: bool,
}

impl Sandbox {
    /// Makes a session directory and starts the holder from `exe` (this program's own binary).
    /// `interrupt` is polled while waiting for answers: when it turns true (Ctrl-C), the wait
    /// stops so the caller can tear down.
    pub fn start(exe: &Path, interrupt: Arc<AtomicBool>) -> Result<Sandbox, EngineError> {
        let rundir = RunDir::create()?;
        let log = std::fs::File::create(rundir.dir.join("agent.log"))?;
        let mut cmd = Command::new(exe);
        cmd.arg("__agent")
            .env("CONTAINERLAB_AGENT_JOURNAL", rundir.journal_path())
            .env("CONTAINERLAB_AGENT_WORK", rundir.work())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            // Its own process group: a Ctrl-C at the terminal reaches the front end only, which
            // then tears down in order.
            .process_group(0);
        // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
                    .map_err(std::io::Error::from)
            });
        }
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(source) => {
                let _ = std::fs::remove_dir_all(&rundir.dir);
                return Err(EngineError::Start {
                    exe: exe.to_path_buf(),
                    source,
                });
            }
        };
        let pid = child.id() as i32;
        Journal::open(&rundir.journal_path())?.append(&Entry::Process {
            name: HOLDER.into(),
            pid,
            start_time: start_time(pid).unwrap_or(0),
        })?;
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        Ok(Sandbox {
            child,
            stdin,
            stdout,
            rundir,
            interrupt,
            torn_down: false,
        })
    }

    /// The holder's PID on the host.
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    pub fn rundir(&self) -> &RunDir {
        &self.rundir
    }

    /// The session's work directory (mount targets and files of this lesson).
    pub fn work(&self) -> PathBuf {
        self.rundir.work()
    }

    /// Sends one op to the process named `target` and waits for its answer.
    pub fn request(&mut self, target: &str, op: Op) -> Result<Reply, EngineError> {
        let log = self.rundir.dir.join("agent.log");
        let gone = || EngineError::AgentGone { log: log.clone() };
        let mut line = serde_json::to_string(&Request {
            target: target.into(),
            op,
        })
        .map_err(std::io::Error::other)?;
        line.push('\n');
        let stdin = self.stdin.as_mut().ok_or_else(gone)?;
        if stdin
            .write_all(line.as_bytes())
            .and_then(|_| stdin.flush())
            .is_err()
        {
            return Err(gone());
        }
        self.wait_readable()?;
        let mut answer = String::new();
        if self.stdout.read_line(&mut answer)? == 0 {
            return Err(gone());
        }
        serde_json::from_str(&answer).map_err(|e| std::io::Error::other(e).into())
    }

    /// lstat(2) of `path` as the process named `target` sees it: the kernel's answer, typed.
    pub fn stat(
        &mut self,
        target: &str,
        path: &str,
    ) -> Result<Result<FileStat, OpError>, EngineError> {
        let reply = self.request(target, Op::Stat { path: path.into() })?;
        Ok(reply.result.and_then(|value| match value {
            Value::Stat(stat) => Ok(stat),
            other => Err(OpError::msg(format!("unexpected answer {other:?}"))),
        }))
    }

    /// The front end was asked to stop (Ctrl-C, a signal, a time limit): what it waits for
    /// next fails with [`EngineError::Interrupted`].
    pub fn interrupted(&self) -> bool {
        self.interrupt.load(Ordering::SeqCst)
    }

    /// Blocks until the agent has answered, waking every 100 ms to notice an interrupt.
    fn wait_readable(&mut self) -> Result<(), EngineError> {
        use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
        while self.stdout.buffer().is_empty() {
            if self.interrupt.load(Ordering::SeqCst) {
                return Err(EngineError::Interrupted);
            }
            let fd = self.stdout.get_ref().as_fd();
            let mut fds = [PollFd::new(fd, PollFlags::POLLIN)];
            match poll(&mut fds, PollTimeout::from(100u16)) {
                Ok(0) | Err(nix::Error::EINTR) => continue,
                Ok(_) => return Ok(()),
                Err(e) => return Err(std::io::Error::from(e).into()),
            }
        }
        Ok(())
    }

    /// Journals what the lab did not make but must undo: what a learner's shell changed on the
    /// host (see [`Entry::HostMount`], [`Entry::HostName`]).
    pub fn adopt(&self, entries: &[Entry]) -> std::io::Result<()> {
        // The holder appends to the same file; each entry is one O_APPEND write, whole.
        let mut journal = Journal::open(&self.rundir.journal_path())?;
        for e in entries {
            journal.append(e)?;
        }
        Ok(())
    }

    /// Ends the session: the agents are stopped and every journaled object is undone, newest
    /// first; then the session directory goes.
    pub fn teardown(mut self) -> TeardownReport {
        self.teardown_inner()
    }

    fn teardown_inner(&mut self) -> TeardownReport {
        if self.torn_down {
            return TeardownReport::default();
        }
        self.torn_down = true;
        // Closing stdin asks the holder to leave; the journal's kill makes sure it does.
        drop(self.stdin.take());
        // An interrupt stops the front end's wait for an answer, not the op the holder (or a
        // member, for it) is doing: that op goes on making and journaling objects (the four
        // directories of a v1 cgroup, say), and a journal read now would miss the last ones. A
        // holder that finishes its op reads the closed stdin and leaves; one still busy after
        // the grace (a long `run`) is killed, which kills what it runs.
        self.stop_holder(HOLDER_GRACE);
        let entries = Journal::read(&self.rundir.journal_path()).unwrap_or_default();
        let mut report = teardown::undo(&entries);
        let _ = self.child.kill();
        let _ = self.child.wait();
        report.merge(remove_rundir(&self.rundir));
        report
    }
}

/// How long teardown lets the holder finish the op it is doing before it kills it.
const HOLDER_GRACE: Duration = Duration::from_secs(2);

impl Sandbox {
    /// Waits (up to `grace`) for the holder to leave by itself, then kills it; either way it
    /// is reaped, so nothing it does can reach the journal afterwards.
    fn stop_holder(&mut self, grace: Duration) {
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            match self.child.try_wait() {
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
                Ok(Some(_)) | Err(_) => return,
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Removes a session directory once its journal has been undone.
pub fn remove_rundir(rundir: &RunDir) -> TeardownReport {
    teardown::undo(&[Entry::Dir {
        path: rundir.dir.clone(),
    }])
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let report = self.teardown_inner();
        for failure in report.failures {
            eprintln!("containerlab: teardown: {failure}");
        }
    }
}
