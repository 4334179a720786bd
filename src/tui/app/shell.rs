//! The learner's shell as the UI holds it: the terminal screen its output drew (a `vt100`
//! parser), whether keys go to it, and when the step should be judged again. The pty itself is
//! the main loop's ([`crate::tui::pty`]); this side only sees bytes, so it is tested without one.

use std::time::{Duration, Instant};

/// After the learner presses Enter in the shell, the step is judged again this long later (the
/// command has usually finished by then; a slower one is caught by the next periodic judge).
pub const JUDGE_AFTER_ENTER: Duration = Duration::from_millis(300);
/// While the shell is open the step is judged at least this often (a process the learner
/// started in the background may change what the checks look at).
pub const JUDGE_EVERY: Duration = Duration::from_secs(2);

pub struct ShellState {
    pub parser: vt100::Parser,
    /// Which process the shell entered (`lesson:name`), for its title.
    pub label: String,
    /// Keys go to the shell (else to the lesson).
    pub focus: bool,
    /// On a narrow screen the shell and the live view share one pane: true shows the shell.
    pub shown: bool,
    /// `Z`: the shell fills the lesson's area.
    pub zoomed: bool,
    /// When Enter was last typed in the shell, if the step has not been judged since.
    pub entered: Option<Instant>,
    pub last_judged: Instant,
    /// A judge has been asked for and has not come back yet.
    pub judging: bool,
    /// The size the pane was last drawn at (rows, columns): the pty follows it.
    pub drawn_size: std::cell::Cell<(u16, u16)>,
}

impl ShellState {
    pub fn new(label: String, rows: u16, cols: u16) -> ShellState {
        ShellState {
            // A few screens of history for the learner to scroll back (Shift+PgUp is the shell's).
            parser: vt100::Parser::new(rows, cols, 500),
            label,
            focus: true,
            shown: true,
            zoomed: false,
            entered: None,
            last_judged: Instant::now(),
            judging: false,
            drawn_size: std::cell::Cell::new((rows, cols)),
        }
    }

    /// Whether the step should be judged again now.
    pub fn judge_due(&self, now: Instant) -> bool {
        if self.judging {
            return false;
        }
        match self.entered {
            Some(at) => now.duration_since(at) >= JUDGE_AFTER_ENTER,
            None => now.duration_since(self.last_judged) >= JUDGE_EVERY,
        }
    }

    pub fn judge_asked(&mut self, now: Instant) {
        self.judging = true;
        self.entered = None;
        self.last_judged = now;
    }

    /// The screen's text, row by row (for tests and the tmux end-to-end checks).
    pub fn contents(&self) -> String {
        self.parser.screen().contents()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn judged_soon_after_enter_and_now_and_then_otherwise() {
        let mut s = ShellState::new("uts:sandbox".into(), 10, 40);
        let t0 = s.last_judged;
        assert!(!s.judge_due(t0 + Duration::from_millis(500)));
        assert!(s.judge_due(t0 + JUDGE_EVERY));
        s.entered = Some(t0);
        assert!(!s.judge_due(t0 + Duration::from_millis(100)));
        assert!(s.judge_due(t0 + JUDGE_AFTER_ENTER));
        s.judge_asked(t0 + JUDGE_AFTER_ENTER);
        // Not again while that judge is under way.
        assert!(!s.judge_due(t0 + JUDGE_EVERY * 3));
        s.judging = false;
        assert!(s.judge_due(t0 + JUDGE_AFTER_ENTER + JUDGE_EVERY));
    }

    #[test]
    fn output_draws_on_the_screen() {
        let mut s = ShellState::new("uts:sandbox".into(), 5, 20);
        s.parser.process(b"$ hostname\r\nmybox\r\n$ ");
        assert_eq!(s.contents(), "$ hostname\nmybox\n$ ");
    }
}
