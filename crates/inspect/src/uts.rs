//! The hostname a process sees. The kernel shows a UTS namespace's hostname only to the
//! processes in it (`uname(2)`, `/proc/sys/kernel/hostname` are the reader's own), so another
//! process's is read by a short-lived child that joins its UTS namespace, calls uname(2) and
//! reports back. Joining a UTS namespace changes nothing in it, and the child exits at once.

use crate::namespaces::{ns_inode, own_ns_inode};
use std::io::Read;
use std::os::fd::AsRawFd;

/// The hostname `pid` sees, or None when it cannot be read (the process is gone, or this
/// process may not join its namespace).
pub fn hostname_of(pid: i32) -> Option<String> {
    let theirs = ns_inode(pid, "uts")?;
    if Some(theirs) == own_ns_inode("uts") {
        return nix::unistd::gethostname()
            .ok()
            .map(|h| h.to_string_lossy().into_owned());
    }
    let ns = std::fs::File::open(format!("/proc/{pid}/ns/uts")).ok()?;
    let (read_end, write_end) = nix::unistd::pipe().ok()?;
    // SAFETY: the child runs only async-signal-safe calls (setns, uname, write, _exit) on memory
    // it owns, as a fork of a threaded process must.
    match unsafe { nix::unistd::fork() }.ok()? {
        nix::unistd::ForkResult::Child => unsafe {
            let mut name: libc::utsname = std::mem::zeroed();
            let ok =
                libc::setns(ns.as_raw_fd(), libc::CLONE_NEWUTS) == 0 && libc::uname(&mut name) == 0;
            if ok {
                let len = libc::strnlen(name.nodename.as_ptr(), name.nodename.len());
                libc::write(write_end.as_raw_fd(), name.nodename.as_ptr().cast(), len);
            }
            libc::_exit(if ok { 0 } else { 1 })
        },
        nix::unistd::ForkResult::Parent { child } => {
            drop(write_end);
            let mut text = String::new();
            let mut reader = std::fs::File::from(read_end);
            let read = reader.read_to_string(&mut text);
            let status = nix::sys::wait::waitpid(child, None);
            match (read, status) {
                (Ok(_), Ok(nix::sys::wait::WaitStatus::Exited(_, 0))) => Some(text),
                _ => None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_own_hostname_is_read_directly() {
        let ours = nix::unistd::gethostname().unwrap();
        let me = std::process::id() as i32;
        assert_eq!(hostname_of(me).as_deref(), ours.to_str());
        assert_eq!(hostname_of(-1), None);
    }

    #[test]
    fn another_uts_namespace_is_read_through_a_child_that_joins_it() {
        if !nix::unistd::geteuid().is_root() {
            panic!("run as root: joining another UTS namespace needs CAP_SYS_ADMIN");
        }
        // unshare(1) execs the shell in the new namespace: same pid.
        let mut other = std::process::Command::new("unshare")
            .args([
                "--uts",
                "sh",
                "-c",
                "hostname inspected-elsewhere && exec sleep 30",
            ])
            .spawn()
            .unwrap();
        let pid = other.id() as i32;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let mut seen = None;
        while std::time::Instant::now() < deadline && seen.as_deref() != Some("inspected-elsewhere")
        {
            seen = hostname_of(pid);
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = other.kill();
        let _ = other.wait();
        assert_eq!(seen.as_deref(), Some("inspected-elsewhere"));
        // Ours is untouched.
        assert_ne!(
            nix::unistd::gethostname().unwrap().to_str(),
            Some("inspected-elsewhere")
        );
    }
}
