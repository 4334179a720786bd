//! For tests only: a deterministic place to interrupt a run. With
//! `CONTAINERLAB_TEST_STOP_AT=K:actions` (or `K:checks`) the step player, right after step K's
//! actions (or right after its checks; K counts from 0), prints
//! `containerlab-test: stopped at K:actions` on standard error and waits until the front end is
//! interrupted (a signal, or the test's SIGKILL ends it), then reports the interruption as if it
//! had come during the step; or, with `CONTAINERLAB_TEST_RESUME=FILE`, until FILE exists, and
//! then plays on (a concurrency test holds one lesson mid-way while another runs whole). A fault test can so hit every step boundary with every signal
//! instead of sleeping and hoping. Without the variable nothing changes; a value that names no
//! reached boundary is ignored. Not a learner's or author's feature: not in `--help`.

use crate::engine::sandbox::{EngineError, Sandbox};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub const VARIABLE: &str = "CONTAINERLAB_TEST_STOP_AT";
pub const RESUME: &str = "CONTAINERLAB_TEST_RESUME";

/// The two boundaries of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moment {
    Actions,
    Checks,
}

impl Moment {
    fn word(self) -> &'static str {
        match self {
            Moment::Actions => "actions",
            Moment::Checks => "checks",
        }
    }
}

fn wanted() -> Option<(usize, &'static str)> {
    static AT: OnceLock<Option<(usize, String)>> = OnceLock::new();
    AT.get_or_init(|| {
        let v = std::env::var(VARIABLE).ok()?;
        let (k, m) = v.split_once(':')?;
        Some((k.parse().ok()?, m.to_string()))
    })
    .as_ref()
    .map(|(k, m)| (*k, m.as_str()))
}

/// Stops here when the variable names this boundary: waits (at most two minutes, so a test that
/// forgot to send its signal fails rather than hangs) until `sandbox` is interrupted.
pub fn stop_here(step: usize, moment: Moment, sandbox: &Sandbox) -> Result<(), EngineError> {
    if wanted() != Some((step, moment.word())) {
        return Ok(());
    }
    eprintln!("containerlab-test: stopped at {step}:{}", moment.word());
    let resume = std::env::var_os(RESUME).map(std::path::PathBuf::from);
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if sandbox.interrupted() {
            return Err(EngineError::Interrupted);
        }
        if resume.as_ref().is_some_and(|f| f.exists()) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}
