//! How a headless run stops early, always through teardown: SIGINT, SIGTERM and SIGHUP (a closed
//! terminal, a CI runner cancelling the job) and the run's overall `--timeout` all set the one
//! interrupt flag the session polls, so every way out undoes what the lesson made. The exit code
//! says which: 128 + the signal's number, as shells report a killed command (130 for Ctrl-C), or
//! [`crate::exit::TIMED_OUT`].

use crate::exit;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The signals a headless run turns into an orderly stop.
pub const STOP_SIGNALS: [i32; 3] = [
    signal_hook::consts::SIGINT,
    signal_hook::consts::SIGTERM,
    signal_hook::consts::SIGHUP,
];

/// Why a run stopped early, shared with the signal handlers and the timer.
pub struct Stop {
    /// The flag the session polls (see `Sandbox::request`).
    pub interrupt: Arc<AtomicBool>,
    /// The number of the last stop signal received, 0 for none.
    signal: Arc<AtomicUsize>,
    timed_out: Arc<AtomicBool>,
    timeout: Option<Duration>,
}

impl Stop {
    /// Installs the signal handlers and, with `timeout`, a timer that stops the run when it
    /// passes.
    pub fn install(timeout: Option<Duration>) -> Stop {
        let stop = Stop {
            interrupt: Arc::new(AtomicBool::new(false)),
            signal: Arc::new(AtomicUsize::new(0)),
            timed_out: Arc::new(AtomicBool::new(false)),
            timeout,
        };
        for sig in STOP_SIGNALS {
            // The number first: the session may see the flag at once and the exit code must
            // then already name the signal.
            let _ = signal_hook::flag::register_usize(sig, stop.signal.clone(), sig as usize);
            let _ = signal_hook::flag::register(sig, stop.interrupt.clone());
        }
        if let Some(limit) = timeout {
            let (interrupt, timed_out) = (stop.interrupt.clone(), stop.timed_out.clone());
            std::thread::spawn(move || {
                std::thread::sleep(limit);
                timed_out.store(true, Ordering::SeqCst);
                interrupt.store(true, Ordering::SeqCst);
            });
        }
        stop
    }

    /// The exit code of a run that was interrupted, and a line for the learner when the
    /// timeout (not a signal) stopped it.
    pub fn interrupted_exit(&self) -> i32 {
        match self.signal.load(Ordering::SeqCst) {
            0 if self.timed_out.load(Ordering::SeqCst) => {
                eprintln!(
                    "containerlab: the run took longer than --timeout {} s: stopped, everything \
                     the lesson made was undone",
                    self.timeout.unwrap_or_default().as_secs()
                );
                exit::TIMED_OUT
            }
            0 => exit::INTERRUPTED,
            sig => 128 + sig as i32,
        }
    }
}
