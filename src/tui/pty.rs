//! The learner's shell on a pseudo-terminal: `containerlab __enter` runs on the pty's slave side
//! (so the shell inside sees a real terminal: line editing, job control, Ctrl-C), and the lab
//! holds the master side. A reader thread forwards what the shell prints to the main loop, which
//! keeps the screen state (see [`super::app::shell`]); keys typed in the pane are written back.
//!
//! The shell dies with the pane: dropping a [`Pty`] hangs up its session and kills what is left,
//! and the child has a parent-death signal, so a killed front end leaves no shell behind either.

use nix::pty::{openpty, Winsize};
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Sender;

/// What the reader thread reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShellEvent {
    Output(Vec<u8>),
    /// The shell's side of the terminal closed: it exited.
    Exited,
}

pub struct Pty {
    master: File,
    child: Child,
}

fn winsize(rows: u16, cols: u16) -> Winsize {
    Winsize {
        ws_row: rows.max(1),
        ws_col: cols.max(1),
        ws_xpixel: 0,
        ws_ypixel: 0,
    }
}

impl Pty {
    /// Starts `cmd` on a new pty of `rows` x `cols`, its output sent to `out`.
    pub fn spawn(
        mut cmd: Command,
        rows: u16,
        cols: u16,
        out: Sender<ShellEvent>,
    ) -> std::io::Result<Pty> {
        let pty = openpty(Some(&winsize(rows, cols)), None).map_err(std::io::Error::from)?;
        let slave: OwnedFd = pty.slave;
        cmd.stdin(Stdio::from(slave.try_clone()?))
            .stdout(Stdio::from(slave.try_clone()?))
            .stderr(Stdio::from(slave));
        // SAFETY: setsid, ioctl and prctl are async-signal-safe. The child leads a session of its
        // own whose controlling terminal is the pty (so the shell gets job control and the
        // terminal's signals), and dies with us.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
                    .map_err(std::io::Error::from)
            });
        }
        let child = cmd.spawn()?;
        let master = File::from(pty.master);
        let mut reader = master.try_clone()?;
        std::thread::Builder::new()
            .name("shell-output".into())
            .spawn(move || {
                let mut buf = [0u8; 8192];
                loop {
                    match reader.read(&mut buf) {
                        // EIO: every slave side is closed, the shell has gone.
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            if out.send(ShellEvent::Output(buf[..n].to_vec())).is_err() {
                                return;
                            }
                        }
                    }
                }
                let _ = out.send(ShellEvent::Exited);
            })?;
        Ok(Pty { master, child })
    }

    /// Types `bytes` into the shell.
    pub fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.master.write_all(bytes)
    }

    /// Tells the shell its terminal is now `rows` x `cols` (the kernel sends it SIGWINCH).
    pub fn resize(&self, rows: u16, cols: u16) {
        let ws = winsize(rows, cols);
        // SAFETY: TIOCSWINSZ reads one winsize from a valid pointer.
        unsafe { libc::ioctl(self.master.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        // The child leads its own session and process group: hang it up, then make sure.
        let group = nix::unistd::Pid::from_raw(-(self.child.id() as i32));
        let _ = nix::sys::signal::kill(group, nix::sys::signal::Signal::SIGHUP);
        let _ = nix::sys::signal::kill(group, nix::sys::signal::Signal::SIGKILL);
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    /// Collects what the shell prints until `until` holds or a few seconds pass.
    fn read_until(
        rx: &std::sync::mpsc::Receiver<ShellEvent>,
        until: impl Fn(&str) -> bool,
    ) -> String {
        let mut seen = String::new();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline && !until(&seen) {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(ShellEvent::Output(b)) => seen.push_str(&String::from_utf8_lossy(&b)),
                Ok(ShellEvent::Exited) => {
                    seen.push_str("<exited>");
                    break;
                }
                Err(_) => {}
            }
        }
        seen
    }

    #[test]
    fn a_shell_on_the_pty_sees_a_terminal_of_the_size_given_and_exits_on_exit() {
        let (tx, rx) = std::sync::mpsc::channel();
        let mut cmd = Command::new("/bin/sh");
        cmd.env("PS1", "$ ");
        let mut pty = Pty::spawn(cmd, 12, 34, tx).unwrap();
        // `$((...))` is computed by the shell: its result is not in the echo of what was typed.
        pty.write(b"stty size; test -t 0 && echo tty-$((1+1))\r")
            .unwrap();
        let seen = read_until(&rx, |s| s.contains("tty-2"));
        assert!(seen.contains("12 34") && seen.contains("tty-2"), "{seen:?}");
        pty.resize(20, 70);
        pty.write(b"stty size\r").unwrap();
        let seen = read_until(&rx, |s| s.contains("20 70"));
        assert!(seen.contains("20 70"), "{seen:?}");
        pty.write(b"exit\r").unwrap();
        assert!(read_until(&rx, |s| s.contains("<exited>")).contains("<exited>"));
    }
}
