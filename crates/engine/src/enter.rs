//! Entering another process's namespaces and root, like `nsenter -t PID -a`, and starting an
//! interactive shell there: what `containerlab __enter --pid PID` does (the front end words
//! what happened). The TUI runs that as a child process with the terminal; it never calls setns
//! itself (setns needs a single-threaded caller for some namespaces, and the TUI has threads).
//!
//! Order matters: every /proc/PID/ns/* file is opened first (after joining the mount namespace,
//! /proc may show something else); the user namespace is joined first (it grants the
//! capabilities for the rest), the mount namespace last; then chroot to the target's root and
//! chdir to its cwd; then fork, because joining a PID namespace only applies to children.
//!
//! Namespaces are only what a process sees. Like `docker exec`, the shell also takes on the
//! target's cgroups, ids and capability bounds (see [`super::assume`]), so a shell in a
//! container can do no more than the container's own processes.

use super::assume::{self, AssumeError, Likeness};
use super::namespaces::Namespace;
use containerlab_inspect::namespaces::{ns_inode, own_ns_inode};
use nix::fcntl::{open, OFlag};
use nix::sched::setns;
use nix::sys::stat::Mode;
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{chroot, execvp, fchdir, fork, ForkResult};
use std::ffi::CString;
use std::os::fd::OwnedFd;

/// Why a process could not be entered (or its shell not run).
#[derive(Debug, thiserror::Error)]
pub enum EnterError {
    /// What the target is could not be read from /proc.
    #[error(transparent)]
    Target(#[from] AssumeError),
    /// A call failed; `call` names it as the shell's user would look it up.
    #[error("{call}: {source}")]
    Call { call: String, source: nix::Error },
}

fn failed(call: impl Into<String>) -> impl FnOnce(nix::Error) -> EnterError {
    let call = call.into();
    move |source| EnterError::Call { call, source }
}

/// What entering did: the facts the front end tells the learner.
#[derive(Debug)]
pub struct Entered {
    /// The namespaces joined, in the order joined; empty when the target is in ours.
    pub joined: Vec<Namespace>,
    /// What the target is, which this process has now taken on (see [`assume`]).
    pub like: Likeness,
    /// How many capabilities the target's bounding set leaves this process.
    pub caps_kept: usize,
    /// What could not be made like the target.
    pub unlike: Vec<AssumeError>,
}

/// Joins `pid`'s cgroups, namespaces and root, then takes on its ids and capability bounds.
pub fn join(pid: i32) -> Result<Entered, EnterError> {
    let like = assume::read(pid)?;
    let mut fds: Vec<(Namespace, OwnedFd)> = Vec::new();
    for ns in Namespace::JOIN_ORDER {
        let name = ns.proc_name();
        // Joining the namespace one is already in is a no-op for most types and EINVAL for
        // user namespaces: skip those.
        let theirs = ns_inode(pid, name);
        if theirs.is_none() || theirs == own_ns_inode(name) {
            continue;
        }
        let path = format!("/proc/{pid}/ns/{name}");
        let fd = open(
            path.as_str(),
            OFlag::O_RDONLY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(failed(format!("open {path}")))?;
        fds.push((ns, fd));
    }
    let root = open(
        format!("/proc/{pid}/root").as_str(),
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(failed(format!("open /proc/{pid}/root")))?;
    let cwd = open(
        format!("/proc/{pid}/cwd").as_str(),
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .ok();
    // From the host's view of the cgroup tree: before the cgroup and mount namespaces change it.
    let mut unlike = Vec::new();
    if let Err(e) = assume::join_cgroups(&like) {
        unlike.push(e);
    }
    let mut joined = Vec::new();
    for (ns, fd) in &fds {
        setns(fd, ns.clone_flag()).map_err(failed(format!("setns({})", ns.proc_name())))?;
        joined.push(*ns);
    }
    fchdir(&root).map_err(failed("fchdir(root)"))?;
    chroot(".").map_err(failed("chroot"))?;
    match &cwd {
        Some(fd) => fchdir(fd).map_err(failed("fchdir(cwd)"))?,
        None => nix::unistd::chdir("/").map_err(failed("chdir /"))?,
    }
    // Like `docker exec`, under the container's seccomp profile; installed while this process
    // still has CAP_SYS_ADMIN (no no_new_privs needed), and after the last setns and chroot.
    if like.seccomp {
        crate::seccomp::install_quietly().map_err(|e| EnterError::Call {
            call: format!("seccomp: {e}"),
            source: nix::Error::EPERM,
        })?;
    }
    // Capabilities first: changing ids needs CAP_SETUID, and dropping from the bounding set
    // CAP_SETPCAP, both of which a non-root uid loses.
    for step in [assume::drop_capabilities, assume::become_ids] {
        if let Err(e) = step(&like) {
            unlike.push(e);
        }
    }
    Ok(Entered {
        joined,
        caps_kept: assume::caps_kept(&like),
        like,
        unlike,
    })
}

/// Forks (joining a PID namespace only applies to children) and runs the learner's `$SHELL`
/// (or /bin/sh) interactively, its prompt naming `label`; returns its exit status.
pub fn run_shell(label: &str) -> Result<i32, EnterError> {
    let shell = std::env::var("SHELL")
        .ok()
        .filter(|s| !s.is_empty() && std::path::Path::new(s).exists())
        .unwrap_or_else(|| "/bin/sh".into());
    // SAFETY: this process is single-threaded (a fresh re-exec of the binary).
    match unsafe { fork() }.map_err(failed("fork"))? {
        ForkResult::Child => {
            // bash and busybox's ash read `\w` and `\$`; dash (Debian's /bin/sh) does not, but
            // every POSIX shell expands parameters in PS1.
            let escapes = ["bash", "ash", "busybox"]
                .iter()
                .any(|name| shell.ends_with(name));
            let ps1 = if escapes {
                format!("[containerlab {label} \\w]\\$ ")
            } else {
                let mark = if nix::unistd::geteuid().is_root() {
                    '#'
                } else {
                    '$'
                };
                format!("[containerlab {label} $PWD]{mark} ")
            };
            std::env::set_var("PS1", &ps1);
            std::env::set_var("CONTAINERLAB_INSIDE", label);
            let mut argv = vec![CString::new(shell.clone()).unwrap_or_default()];
            if shell.ends_with("bash") {
                // bashrc would overwrite PS1.
                argv.push(c"--norc".into());
            }
            argv.push(c"-i".into());
            let e = execvp(&argv[0], &argv).unwrap_err();
            eprintln!("containerlab: exec {shell}: {e}");
            std::process::exit(127);
        }
        ForkResult::Parent { child } => loop {
            match waitpid(child, None) {
                Ok(WaitStatus::Exited(_, code)) => return Ok(code),
                Ok(WaitStatus::Signaled(_, sig, _)) => return Ok(128 + sig as i32),
                Ok(_) => continue,
                Err(nix::Error::EINTR) => continue,
                Err(e) => return Err(failed("waitpid")(e)),
            }
        },
    }
}
