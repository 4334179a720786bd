//! `containerlab __enter --pid PID`: an interactive shell inside another process's namespaces
//! and root, like `nsenter -t PID -a`. The TUI runs this as a child process with the terminal;
//! it never calls setns itself (setns needs a single-threaded caller for some namespaces, and the
//! TUI has threads).
//!
//! Order matters: every /proc/PID/ns/* file is opened first (after joining the mount namespace,
//! /proc may show something else); the user namespace is joined first (it grants the
//! capabilities for the rest), the mount namespace last; then chroot to the target's root and
//! chdir to its cwd; then fork, because joining a PID namespace only applies to children.
//!
//! Namespaces are only what a process sees. Like `docker exec`, the shell also takes on the
//! target's cgroups, ids and capability bounds (see [`super::assume`]), so a shell in a
//! container can do no more than the container's own processes.

use super::assume;
use crate::i18n::fill;
use nix::fcntl::{open, OFlag};
use nix::sched::{setns, CloneFlags};
use nix::sys::stat::Mode;
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{chroot, execvp, fchdir, fork, ForkResult};
use std::ffi::CString;
use std::os::fd::OwnedFd;

/// Namespaces in the order they are joined: user first, mnt last.
const ORDER: [(&str, CloneFlags); 8] = [
    ("user", CloneFlags::CLONE_NEWUSER),
    ("ipc", CloneFlags::CLONE_NEWIPC),
    ("uts", CloneFlags::CLONE_NEWUTS),
    ("net", CloneFlags::CLONE_NEWNET),
    ("pid", CloneFlags::CLONE_NEWPID),
    ("cgroup", CloneFlags::CLONE_NEWCGROUP),
    ("time", CloneFlags::from_bits_retain(0x80)), // CLONE_NEWTIME
    ("mnt", CloneFlags::CLONE_NEWNS),
];

fn ino(path: &str) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| m.ino())
}

crate::i18n::messages! {
    CANNOT_ENTER = "containerlab: cannot enter process {}: {}", "containerlab: プロセス {} に入れません: {}";
    PRESS_ENTER = "(press Enter to go back)", "(Enter でレッスンに戻ります)";
    BANNER = "containerlab: a shell inside {} (pid {}); namespaces joined: {}; {}. Type `exit` or Ctrl-D to go back to the lesson.",
        "containerlab: {} (PID {}) の中のシェルです。入った名前空間: {}。{}。`exit` か Ctrl-D でレッスンに戻ります。";
    HOST_NAMESPACES = "the host's namespaces", "ホストの名前空間";
    NOT_QUITE = "containerlab: warning: this shell is not quite like {}: {}",
        "containerlab: 警告: このシェルは {} と同じではありません: {}";
}

/// Enters `pid`'s namespaces and root and runs an interactive shell; returns its exit code.
/// `label` names the place in the prompt, `lang` is the learner's language, and `note`, if any,
/// is said before anything else.
pub fn enter(pid: i32, label: &str, lang: &str, note: Option<&str>) -> i32 {
    // A rule sets this shell apart from what an earlier one left on the terminal.
    eprintln!("\n{}", "─".repeat(60));
    if let Some(note) = note {
        eprintln!("containerlab: {note}");
    }
    match enter_inner(pid, label, lang) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{}", fill(CANNOT_ENTER.get(lang), &[&pid, &e]));
            eprintln!("{}", PRESS_ENTER.get(lang));
            let mut s = String::new();
            let _ = std::io::stdin().read_line(&mut s);
            crate::exit::ENVIRONMENT
        }
    }
}

fn enter_inner(pid: i32, label: &str, lang: &str) -> Result<i32, String> {
    let like = assume::read(pid)?;
    let mut fds: Vec<(&str, CloneFlags, OwnedFd)> = Vec::new();
    for (name, flag) in ORDER {
        let path = format!("/proc/{pid}/ns/{name}");
        // Joining the namespace one is already in is a no-op for most types and EINVAL for
        // user namespaces: skip those.
        if ino(&path).is_none() || ino(&path) == ino(&format!("/proc/self/ns/{name}")) {
            continue;
        }
        let fd = open(
            path.as_str(),
            OFlag::O_RDONLY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| format!("open {path}: {e}"))?;
        fds.push((name, flag, fd));
    }
    let root = open(
        format!("/proc/{pid}/root").as_str(),
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| format!("open /proc/{pid}/root: {e}"))?;
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
    for (name, flag, fd) in &fds {
        setns(fd, *flag).map_err(|e| format!("setns({name}): {e}"))?;
        joined.push(*name);
    }
    fchdir(&root).map_err(|e| format!("fchdir(root): {e}"))?;
    chroot(".").map_err(|e| format!("chroot: {e}"))?;
    match &cwd {
        Some(fd) => fchdir(fd).map_err(|e| format!("fchdir(cwd): {e}"))?,
        None => nix::unistd::chdir("/").map_err(|e| format!("chdir /: {e}"))?,
    }
    // Capabilities first: changing ids needs CAP_SETUID, and dropping from the bounding set
    // CAP_SETPCAP, both of which a non-root uid loses.
    for step in [assume::drop_capabilities, assume::become_ids] {
        if let Err(e) = step(&like) {
            unlike.push(e);
        }
    }
    let shell = std::env::var("SHELL")
        .ok()
        .filter(|s| !s.is_empty() && std::path::Path::new(s).exists())
        .unwrap_or_else(|| "/bin/sh".into());
    let joined = if joined.is_empty() {
        HOST_NAMESPACES.get(lang).to_string()
    } else {
        joined.join(",")
    };
    let like_text = assume::describe(&like, lang);
    eprintln!(
        "{}",
        fill(BANNER.get(lang), &[&label, &pid, &joined, &like_text])
    );
    for e in &unlike {
        eprintln!("{}", fill(NOT_QUITE.get(lang), &[&label, e]));
    }
    // SAFETY: this process is single-threaded (a fresh re-exec of the binary).
    match unsafe { fork() }.map_err(|e| format!("fork: {e}"))? {
        ForkResult::Child => {
            let ps1 = format!("[containerlab {label} \\w]\\$ ");
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
                Err(e) => return Err(format!("waitpid: {e}")),
            }
        },
    }
}
