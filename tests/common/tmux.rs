//! The terminal UI driven in tmux, as a learner would: a detached session on its own socket
//! (so tests never disturb another tmux), keys sent, screens captured.

use super::{bin, machine, processes, require_root};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// A detached 120x40 session running a plain shell with a fresh environment: progress in
    /// `home`, sessions in `run_dir`. Answers it and the shell's pid.
    pub fn start(home: &Path, run_dir: &Path) -> (Tmux, i32) {
        Tmux::start_sized(home, run_dir, 120, 40)
    }

    /// [`Tmux::start`] on a terminal of `w` columns and `h` lines.
    pub fn start_sized(home: &Path, run_dir: &Path, w: u16, h: u16) -> (Tmux, i32) {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let tmux = Tmux {
            socket: format!("clab-e2e-{}-{n}", std::process::id()),
        };
        let shell = format!(
            "env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin TERM=xterm-256color HOME={home} \
             XDG_STATE_HOME={home} CONTAINERLAB_RUN_DIR={run} PS1='E2E-PROMPT$ ' /bin/sh",
            home = home.display(),
            run = run_dir.display()
        );
        let (w, h) = (w.to_string(), h.to_string());
        let out = tmux.run(&["new-session", "-d", "-x", &w, "-y", &h, "-s", "e2e", &shell]);
        assert!(out.status.success(), "{out:?}");
        tmux.wait_for("the shell prompt", |s| s.contains("E2E-PROMPT$"));
        let pane_pid: i32 = String::from_utf8_lossy(
            &tmux
                .run(&["display-message", "-p", "-t", "e2e", "#{pane_pid}"])
                .stdout,
        )
        .trim()
        .parse()
        .unwrap();
        (tmux, pane_pid)
    }

    pub fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("run tmux")
    }

    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "e2e"]).stdout).into_owned()
    }

    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "e2e"];
        args.extend_from_slice(keys);
        assert!(self.run(&args).status.success());
    }

    /// Waits until the screen satisfies `ok` (generous limit: the machine may be busy).
    pub fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if ok(&s) {
                return s;
            }
            if start.elapsed() > Duration::from_secs(60) {
                panic!("timed out waiting for {what}; screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    /// Waits until the program has exited and the shell's prompt is the last line again.
    pub fn wait_for_prompt(&self) {
        self.wait_for("the shell prompt again", |s| {
            s.lines()
                .rfind(|l| !l.trim().is_empty())
                .is_some_and(|l| l.starts_with("E2E-PROMPT$"))
        });
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let path = self.run(&["display-message", "-p", "#{socket_path}"]);
        let _ = self.run(&["kill-server"]);
        let path = String::from_utf8_lossy(&path.stdout).trim().to_string();
        if !path.is_empty() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Processes running this test's containerlab binary.
pub fn running(exe: &Path) -> Vec<i32> {
    processes()
        .into_iter()
        .map(|p| p.pid)
        .filter(|pid| std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|p| p == exe))
        .collect()
}

/// A test's turn (the tests look for leftover containerlab processes machine-wide, so they
/// take turns), the binary, and fresh directories for progress and for sessions.
pub struct Setup {
    pub _turn: std::sync::MutexGuard<'static, ()>,
    pub exe: PathBuf,
    pub state: tempfile::TempDir,
    pub rundir: tempfile::TempDir,
}

/// `root`: the test makes namespaces, and fails at once if not run as root.
pub fn setup(root: bool) -> Setup {
    if root {
        require_root();
    }
    Setup {
        _turn: machine(),
        exe: bin(),
        state: tempfile::tempdir().unwrap(),
        rundir: tempfile::tempdir().unwrap(),
    }
}
