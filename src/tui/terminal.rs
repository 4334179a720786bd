//! The terminal: raw mode, alternate screen and mouse reporting on the way in, and all of it
//! undone on every way out: normal exit, early return (Drop), panic (hook), and SIGINT/SIGTERM/
//! SIGHUP (flags the main loop polls, so teardown runs in order). While the UI runs, stderr goes
//! to the log file so nothing scribbles over the screen.

use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use crossterm::{cursor, execute};
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;
use std::io::{Stdout, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Once};

/// The real stderr while it is redirected to the log (-1: not redirected).
static SAVED_STDERR: AtomicI32 = AtomicI32::new(-1);
/// True while the terminal is in UI mode (raw, alternate screen).
static ACTIVE: AtomicBool = AtomicBool::new(false);

pub type Term = Terminal<CrosstermBackend<Stdout>>;

/// Puts the terminal back the way it was. Safe to call any number of times, from anywhere.
pub fn restore() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        let mut out = std::io::stdout();
        let _ = execute!(out, DisableMouseCapture, LeaveAlternateScreen, cursor::Show);
        let _ = disable_raw_mode();
        let _ = out.flush();
    }
}

fn enter_ui() -> std::io::Result<()> {
    enable_raw_mode()?;
    ACTIVE.store(true, Ordering::SeqCst);
    execute!(
        std::io::stdout(),
        EnterAlternateScreen,
        EnableMouseCapture,
        cursor::Hide
    )
}

/// Sends stderr to `log` (appending); [`unredirect_stderr`] undoes it.
pub fn redirect_stderr(log: &Path) {
    if let Some(dir) = log.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let Ok(file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
    else {
        return;
    };
    if SAVED_STDERR.load(Ordering::SeqCst) >= 0 {
        return;
    }
    // SAFETY: plain fd juggling on fd 2.
    unsafe {
        let saved = libc::dup(2);
        if saved < 0 {
            return;
        }
        libc::fcntl(saved, libc::F_SETFD, libc::FD_CLOEXEC);
        libc::dup2(file.as_raw_fd(), 2);
        SAVED_STDERR.store(saved, Ordering::SeqCst);
    }
}

pub fn unredirect_stderr() {
    let saved = SAVED_STDERR.swap(-1, Ordering::SeqCst);
    if saved >= 0 {
        // SAFETY: saved is the dup of the original fd 2.
        unsafe {
            libc::dup2(saved, 2);
            libc::close(saved);
        }
    }
}

/// The original stderr (the terminal), for a child that must talk to the learner.
pub fn real_stderr() -> Option<RawFd> {
    let fd = SAVED_STDERR.load(Ordering::SeqCst);
    (fd >= 0).then_some(fd)
}

/// The UI's terminal. Dropping it restores the terminal.
pub struct Tui {
    pub terminal: Term,
    /// Set by SIGTERM / SIGHUP.
    pub terminate: Arc<AtomicBool>,
    /// Set by SIGINT (Ctrl-C reaches us as a key in raw mode; a signal comes from `kill`, or
    /// from the terminal while a shell runs in the foreground).
    pub sigint: Arc<AtomicBool>,
}

impl Tui {
    pub fn new() -> std::io::Result<Tui> {
        static HOOK: Once = Once::new();
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                restore();
                unredirect_stderr();
                previous(info);
            }));
        });
        let terminate = Arc::new(AtomicBool::new(false));
        let sigint = Arc::new(AtomicBool::new(false));
        for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGHUP] {
            signal_hook::flag::register(sig, terminate.clone())?;
        }
        signal_hook::flag::register(signal_hook::consts::SIGINT, sigint.clone())?;
        enter_ui()?;
        let terminal = match Terminal::new(CrosstermBackend::new(std::io::stdout())) {
            Ok(t) => t,
            Err(e) => {
                restore();
                return Err(e);
            }
        };
        Ok(Tui {
            terminal,
            terminate,
            sigint,
        })
    }

    /// Gives the terminal back (for a shell); [`Tui::resume`] takes it again.
    pub fn suspend(&mut self) {
        restore();
    }

    pub fn resume(&mut self) -> std::io::Result<()> {
        enter_ui()?;
        self.terminal.clear()
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        restore();
    }
}
