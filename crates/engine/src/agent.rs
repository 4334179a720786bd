//! The sandbox's agent: the single-threaded process that makes a lesson's syscalls.
//!
//! `unshare(2)` of a user or mount namespace is refused to a multithreaded caller, and a new
//! namespace belongs to the process that made it. So the front end (which may run threads: the
//! TUI does) never calls them itself: it re-executes its own binary as `containerlab __agent`,
//! the *holder*, and sends it one request per line. The holder lives for the whole lesson and
//! keeps its namespaces from step to step, so views, checks and a learner's shell can all look at
//! the same thing. It can fork further agents (members): after `unshare(CLONE_NEWPID)` the first
//! one becomes PID 1 of the new PID namespace. Requests for a member are passed along its socket.
//! Every agent dies with its parent (PR_SET_PDEATHSIG), so a killed front end leaves no process.

use super::bounded::Waited;
use super::journal::{Entry, Journal};
use super::ops::{Life, Member, Op, OpError, Reply, Request, Value};
use super::rundir::start_time;
use containerlab_trace::{quoted, Trace};
use nix::sys::signal::Signal;
use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{fork, ForkResult, Pid};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;

/// The name the holder answers to.
pub const HOLDER: &str = "sandbox";

/// What the agent is told on its command line.
pub struct AgentArgs {
    pub journal: PathBuf,
    pub work: PathBuf,
}

struct MemberHandle {
    pid: Pid,
    channel: Option<(BufReader<UnixStream>, UnixStream)>,
    life: Life,
}

/// One process of the sandbox: the holder, or a member it started. [`super::dispatch`] runs ops.
pub(super) struct Agent {
    name: String,
    pub(super) work: PathBuf,
    pub(super) journal: Journal,
    members: BTreeMap<String, MemberHandle>,
    /// Set by an `exit` op: leave with this code once the reply is written.
    exit_after: Option<i32>,
}

/// Runs the holder on stdin/stdout until the front end closes stdin. Never returns.
pub fn run_holder(args: AgentArgs) -> ! {
    // The session paths came in the environment; programs the lesson runs need not see them.
    // (Single-threaded here, so changing the environment is sound.)
    std::env::remove_var("CONTAINERLAB_AGENT_JOURNAL");
    std::env::remove_var("CONTAINERLAB_AGENT_WORK");
    let journal = match Journal::open(&args.journal) {
        Ok(j) => j,
        Err(e) => {
            eprintln!("containerlab agent: cannot open journal: {e}");
            std::process::exit(3)
        }
    };
    super::policy::remember_host_namespaces();
    let mut agent = Agent {
        name: HOLDER.into(),
        work: args.work,
        journal,
        members: BTreeMap::new(),
        exit_after: None,
    };
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    agent.serve(&mut stdin.lock(), &mut stdout.lock());
    std::process::exit(0)
}

impl Agent {
    fn serve(&mut self, input: &mut dyn BufRead, output: &mut dyn Write) {
        let mut line = String::new();
        loop {
            line.clear();
            match input.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let (reply, exit_after) = match serde_json::from_str::<Request>(&line) {
                Ok(req) => self.handle(req),
                Err(e) => (
                    Reply {
                        trace: Trace::new(),
                        result: Err(OpError::msg(format!("bad request: {e}"))),
                    },
                    None,
                ),
            };
            let mut text = serde_json::to_string(&reply).expect("replies serialise");
            text.push('\n');
            if output
                .write_all(text.as_bytes())
                .and_then(|_| output.flush())
                .is_err()
            {
                return;
            }
            if let Some(code) = exit_after {
                std::process::exit(code);
            }
        }
    }

    /// Answers one request; the second value asks the loop to exit after replying.
    fn handle(&mut self, req: Request) -> (Reply, Option<i32>) {
        self.reap();
        if req.target != self.name {
            let exiting = matches!(req.op, Op::Exit { .. }).then(|| req.target.clone());
            let reply = self.forward(req);
            // Collect an exiting member now, so its fate (and that of any process the kernel
            // killed with it, as when a PID namespace's init exits) is known to the next question.
            if let Some(name) = exiting {
                self.wait_for(&name);
                self.reap();
            }
            return (reply, None);
        }
        let mut trace = Trace::new();
        let result = self.dispatch(&req.op, &mut trace);
        let exit_after = self.exit_after.take();
        (Reply { trace, result }, exit_after)
    }

    /// exit(2) after the reply: a member leaves, the holder stays for the whole session.
    pub(super) fn exit(&mut self, code: i32, trace: &mut Trace) -> Result<Value, OpError> {
        if self.name == HOLDER {
            return Err(OpError::msg("the holder leaves when the session ends"));
        }
        trace.records.push(containerlab_trace::Record {
            call: format!("exit_group({code})"),
            result: containerlab_trace::Outcome::Returned("?".into()),
        });
        self.exit_after = Some(code);
        Ok(Value::Done)
    }

    /// Passes a request to the member it names and brings back its answer.
    fn forward(&mut self, req: Request) -> Reply {
        let fail = |message: String| Reply {
            trace: Trace::new(),
            result: Err(OpError::msg(message)),
        };
        let Some(member) = self.members.get_mut(&req.target) else {
            return fail(format!("no process named {:?} in this sandbox", req.target));
        };
        let Some((reader, writer)) = member.channel.as_mut() else {
            return fail(format!("process {:?} has {}", req.target, member.life));
        };
        let mut text = serde_json::to_string(&req).expect("requests serialise");
        text.push('\n');
        let mut answer = String::new();
        let ok = writer.write_all(text.as_bytes()).is_ok()
            && reader.read_line(&mut answer).is_ok_and(|n| n > 0);
        if !ok {
            member.channel = None;
            self.wait_for(&req.target);
            let life = &self.members[&req.target].life;
            return fail(format!("process {:?} has {life}", req.target));
        }
        serde_json::from_str(&answer)
            .unwrap_or_else(|e| fail(format!("bad answer from {:?}: {e}", req.target)))
    }

    /// Only the holder starts processes (it journals and reaps them), each under a new name.
    fn may_start(&self, name: &str) -> Result<(), OpError> {
        if self.name != HOLDER {
            return Err(OpError::msg("only the holder starts new processes"));
        }
        if self.members.contains_key(name) || name == HOLDER {
            return Err(OpError::msg(format!(
                "a process named {name:?} exists already"
            )));
        }
        Ok(())
    }

    /// fork(2)s a member agent that serves requests on its own socket (clone(2) when it is to
    /// start in new namespaces).
    pub(super) fn spawn(
        &mut self,
        name: &str,
        namespaces: &[super::namespaces::Namespace],
        trace: &mut Trace,
    ) -> Result<Value, OpError> {
        self.may_start(name)?;
        let (ours, theirs) = socketpair(
            AddressFamily::Unix,
            SockType::Stream,
            None,
            SockFlag::SOCK_CLOEXEC,
        )?;
        let (call, forked) = if namespaces.is_empty() {
            // SAFETY: the agent is single-threaded, so the child may run any code after fork.
            ("fork()".to_string(), unsafe { fork() })
        } else {
            let (flags, text) = super::namespaces::flags_of(namespaces);
            (format!("clone({text}|SIGCHLD)"), clone_like_fork(flags))
        };
        let child = trace.record_with(call, forked, |r| match r {
            ForkResult::Parent { child } => child.to_string(),
            ForkResult::Child => "0".into(),
        })?;
        match child {
            ForkResult::Child => {
                drop(ours);
                // Die with the holder, so no member outlives the session.
                let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL);
                self.name = name.to_string();
                self.members.clear();
                let stream = UnixStream::from(theirs);
                let mut reader = BufReader::new(stream.try_clone().expect("dup socket"));
                let mut writer = stream;
                self.serve(&mut reader, &mut writer);
                std::process::exit(0);
            }
            ForkResult::Parent { child } => {
                drop(theirs);
                let stream = UnixStream::from(ours);
                let reader = BufReader::new(stream.try_clone()?);
                self.journal.append(&Entry::Process {
                    name: name.to_string(),
                    pid: child.as_raw(),
                    start_time: start_time(child.as_raw()).unwrap_or(0),
                })?;
                self.members.insert(
                    name.to_string(),
                    MemberHandle {
                        pid: child,
                        channel: Some((reader, stream)),
                        life: Life::Running,
                    },
                );
                Ok(Value::Pid(child.as_raw()))
            }
        }
    }

    /// Starts a published port's proxy; it is a member without a channel (it takes no requests),
    /// so its life is known and it is collected like the others.
    pub(super) fn publish(
        &mut self,
        name: &str,
        listen: &str,
        to: &str,
        trace: &mut Trace,
    ) -> Result<Value, OpError> {
        self.may_start(name)?;
        let forward = super::publish::Forward::parse(listen, to)?;
        let child = super::publish::start(&forward, trace)?;
        let pid = Pid::from_raw(child.id() as i32);
        // Journaled before anything else can fail, so teardown finds it whatever happens next.
        // (std's Child is dropped without waiting: reap() collects it by pid.)
        let journaled = self.journal.append(&Entry::Process {
            name: name.to_string(),
            pid: pid.as_raw(),
            start_time: start_time(pid.as_raw()).unwrap_or(0),
        });
        self.members.insert(
            name.to_string(),
            MemberHandle {
                pid,
                channel: None,
                life: Life::Running,
            },
        );
        journaled?;
        Ok(Value::Pid(pid.as_raw()))
    }

    /// Stops a published port's proxy: SIGTERM, then wait for it (it closes the host port as
    /// it exits). Teardown finds it gone, as it checks the pid's start time before killing.
    pub(super) fn unpublish(&mut self, name: &str, trace: &mut Trace) -> Result<Value, OpError> {
        let pid = match self.members.get(name) {
            Some(m) if m.channel.is_none() && m.life == Life::Running => m.pid,
            Some(_) => {
                return Err(OpError::msg(format!(
                    "{name:?} is not a running proxy of a published port"
                )))
            }
            None => return Err(OpError::msg(format!("no process is named {name:?}"))),
        };
        trace.record(
            format!("kill({pid}, SIGTERM)"),
            nix::sys::signal::kill(pid, Signal::SIGTERM),
        )?;
        self.wait_for(name);
        Ok(Value::Done)
    }

    pub(super) fn member_list(&self) -> Vec<Member> {
        self.members
            .iter()
            .map(|(name, m)| Member {
                name: name.clone(),
                pid: m.pid.as_raw(),
                life: m.life.clone(),
            })
            .collect()
    }

    /// Collects the exit status of members that have ended, without blocking for long.
    ///
    /// Reaping one member can let another finish dying: a PID namespace's init killed from
    /// outside (`kill -KILL $INIT` in a learner's shell) completes its exit only after the
    /// namespace's other processes, our children too, are reaped. So after any death, look again
    /// for a moment, so the next question already sees init's fate.
    fn reap(&mut self) {
        if !self.reap_once() {
            return;
        }
        // Up to 200 ms without a further death, enough for a loaded machine.
        let mut quiet = 0;
        while quiet < 40 {
            std::thread::sleep(std::time::Duration::from_millis(5));
            if self.reap_once() {
                quiet = 0;
            } else {
                quiet += 1;
            }
        }
    }

    /// One pass of waitpid(WNOHANG) over the running members; true when any had ended.
    fn reap_once(&mut self) -> bool {
        let mut ended = false;
        for member in self.members.values_mut() {
            if member.life == Life::Running {
                if let Ok(status) = waitpid(member.pid, Some(WaitPidFlag::WNOHANG)) {
                    if let Some(life) = life_of(status) {
                        member.life = life;
                        member.channel = None;
                        ended = true;
                    }
                }
            }
        }
        ended
    }

    /// Waits for a member whose channel closed: it is exiting.
    ///
    /// It must not block in waitpid() on that one member: when the exiting member is PID 1 of a
    /// PID namespace, the kernel kills the namespace's other processes and the exit completes only
    /// after they are reaped, and they may be our children too. So collect everyone, repeatedly.
    fn wait_for(&mut self, name: &str) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while self
            .members
            .get(name)
            .is_some_and(|m| m.life == Life::Running)
            && std::time::Instant::now() < deadline
        {
            self.reap();
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }
}

/// clone(2) with `flags` and no new stack: like fork(2), the child continues from here on a copy
/// of the parent's memory, but it starts in the namespaces the flags ask for. Combined with
/// CLONE_NEWUSER, the kernel makes the user namespace first and gives the others to it as their
/// owner, so the child holds every capability over them; its parent stays in its own.
fn clone_like_fork(flags: nix::sched::CloneFlags) -> nix::Result<ForkResult> {
    let flags = flags.bits() as libc::c_ulong | libc::SIGCHLD as libc::c_ulong;
    // SAFETY: the agent is single-threaded and asks for no shared memory (no CLONE_VM), so this
    // is fork(2) with namespace flags; a null stack means "the same stack pointer, copied".
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone,
            flags,
            std::ptr::null_mut::<libc::c_void>(),
            std::ptr::null_mut::<libc::c_int>(),
            std::ptr::null_mut::<libc::c_int>(),
            0 as libc::c_ulong,
        )
    };
    match ret {
        -1 => Err(nix::Error::last()),
        0 => Ok(ForkResult::Child),
        pid => Ok(ForkResult::Parent {
            child: Pid::from_raw(pid as i32),
        }),
    }
}

fn life_of(status: WaitStatus) -> Option<Life> {
    match status {
        WaitStatus::Exited(_, code) => Some(Life::Exited { code }),
        WaitStatus::Signaled(_, sig, _) => Some(Life::Killed {
            signal: sig.as_str().to_string(),
        }),
        _ => None,
    }
}

/// fork + execve + wait, in the agent's current namespaces and root, output captured.
///
/// With `cgroup_procs`, the child writes its own pid into each of those `cgroup.procs` files
/// between fork and execve (as container runtimes do), so the program runs limited from its
/// first instruction.
pub(super) fn run_program(
    argv: &[String],
    env: &[(String, String)],
    clear_env: bool,
    cgroup_procs: &[PathBuf],
    limit: std::time::Duration,
    trace: &mut Trace,
    mut collector: Option<&mut super::json_log::Collector>,
) -> Result<Value, OpError> {
    let Some(program) = argv.first() else {
        return Err(OpError::msg("nothing to run: the command is empty"));
    };
    let mut cmd = std::process::Command::new(program);
    cmd.args(&argv[1..]);
    if clear_env {
        cmd.env_clear();
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    super::bounded::dies_with_the_agent(&mut cmd);
    if !cgroup_procs.is_empty() {
        let files: Vec<std::ffi::CString> = cgroup_procs
            .iter()
            .map(|p| {
                std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).expect("no NUL in path")
            })
            .collect();
        // SAFETY: the agent is single-threaded; the closure only formats a number into a stack
        // buffer and calls open/write/close.
        unsafe {
            cmd.pre_exec(move || {
                let mut buf = [0u8; 16];
                let mut n = libc::getpid() as u32;
                let mut i = buf.len();
                loop {
                    i -= 1;
                    buf[i] = b'0' + (n % 10) as u8;
                    n /= 10;
                    if n == 0 {
                        break;
                    }
                }
                for f in &files {
                    let fd = libc::open(f.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
                    if fd < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    let w = libc::write(fd, buf[i..].as_ptr().cast(), buf.len() - i);
                    let err = std::io::Error::last_os_error();
                    libc::close(fd);
                    if w < 0 {
                        return Err(err);
                    }
                }
                Ok(())
            });
        }
    }
    let shown_argv: Vec<String> = argv.iter().map(|a| quoted(a)).collect();
    let call = format!("execve({}, [{}])", quoted(program), shown_argv.join(", "));
    let child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            // The failure may come from the child's cgroup.procs write (pre_exec) or execve.
            let shown = if cgroup_procs.is_empty() {
                call
            } else {
                format!(
                    "[child] write(open({}), getpid()); {call}",
                    quoted(&cgroup_procs[0].to_string_lossy())
                )
            };
            let failed = trace.record_io(shown, Err::<(), _>(e), |_| String::new());
            return Err(failed.unwrap_err().into());
        }
    };
    let mut child = child;
    drop(child.stdin.take());
    let pid = child.id();
    trace.records.push(containerlab_trace::Record {
        call: "fork()".into(),
        result: containerlab_trace::Outcome::Returned(pid.to_string()),
    });
    for f in cgroup_procs {
        let text = pid.to_string();
        trace.records.push(containerlab_trace::Record {
            call: format!(
                "[pid {pid}] write(open({}), {}, {})",
                quoted(&f.to_string_lossy()),
                quoted(&text),
                text.len()
            ),
            result: containerlab_trace::Outcome::Returned(text.len().to_string()),
        });
    }
    let waited = trace.record_io(
        format!("[pid {pid}] {call}"),
        super::bounded::wait_bounded(child, limit, &mut |stream, bytes| {
            if let Some(c) = collector.as_deref_mut() {
                c.feed(stream, bytes);
            }
        }),
        |_| "0".into(),
    )?;
    if let Some(c) = collector {
        // What the collector wrote, after the program's own calls: one write per log line.
        c.finish(trace)?;
    }
    let (status, stdout, stderr) = match waited {
        Waited::Finished {
            status,
            stdout,
            stderr,
        } => (status, stdout, stderr),
        Waited::TimedOut => {
            let secs = limit.as_secs();
            trace.records.push(containerlab_trace::Record {
                call: format!("kill(-{pid}, SIGKILL)"),
                result: containerlab_trace::Outcome::Failed {
                    errno: "ETIMEDOUT".into(),
                    message: format!("timed out after {secs} s"),
                },
            });
            return Err(OpError {
                errno: Some("ETIMEDOUT".into()),
                message: format!(
                    "timed out after {secs} s: the program's process group was killed"
                ),
            });
        }
    };
    let life = match status.code() {
        Some(code) => Life::Exited { code },
        None => Life::Killed {
            signal: status
                .signal()
                .and_then(|s| Signal::try_from(s).ok())
                .map(|s| s.as_str().to_string())
                .unwrap_or_else(|| "a signal".into()),
        },
    };
    trace.records.push(containerlab_trace::Record {
        call: "wait4(child)".into(),
        result: containerlab_trace::Outcome::Returned(life.to_string()),
    });
    Ok(Value::Finished {
        life,
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    })
}
