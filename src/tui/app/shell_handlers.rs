//! The learner's shell pane in the app's state machine: opening it, keys typed into it, its
//! output, and judging the step again while the learner works (after each command, and now and
//! then), so a check turns ✓ the moment the kernel state is right.

use super::shell::ShellState;
use super::{pty_keys, App, Effect};
use crate::i18n::fill;
use crate::session::events::CheckOutcome;
use crate::session::live::Cmd;
use crate::tui::pty::ShellEvent;
use crate::tui::text as T;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::time::Instant;

/// The key that gives the keys back to the lesson (and, from the lesson, to the shell): Ctrl-G,
/// which no shell's line editing needs (readline: abort) and every terminal sends the same.
pub fn is_focus_key(k: &KeyEvent) -> bool {
    k.code == KeyCode::Char('g') && k.modifiers.contains(KeyModifiers::CONTROL)
}

/// The pane's size before it was ever drawn; the first drawing corrects it.
const FIRST_SIZE: (u16, u16) = (10, 60);

impl App {
    /// `s`: open the shell in the process the lesson's shell enters, or give it the keys if open.
    pub(super) fn open_shell(&mut self) -> Vec<Effect> {
        if let Some(sh) = &mut self.shell {
            sh.focus = true;
            sh.shown = true;
            return vec![];
        }
        let lang = self.lang.clone();
        let Some(l) = &self.lesson else {
            return vec![];
        };
        let name = l.shell_target();
        let Some(&pid) = l.pids.get(&name) else {
            self.message = Some(T::NOTHING_TO_ENTER_YET.get(&lang).into());
            return vec![];
        };
        let label = format!("{}:{name}", l.lesson.id);
        let (rows, cols) = FIRST_SIZE;
        self.shell = Some(ShellState::new(label.clone(), rows, cols));
        vec![Effect::OpenShell {
            pid,
            label,
            env: l.shell_env.clone(),
        }]
    }

    /// A key while the shell has them: everything goes to the shell but the focus key.
    pub(super) fn shell_key(&mut self, k: KeyEvent) -> Vec<Effect> {
        let Some(sh) = &mut self.shell else {
            return vec![];
        };
        if is_focus_key(&k) {
            sh.focus = false;
            return vec![];
        }
        let app_cursor = sh.parser.screen().application_cursor();
        let Some(bytes) = pty_keys::bytes(&k, app_cursor) else {
            return vec![];
        };
        if k.code == KeyCode::Enter {
            sh.entered = Some(Instant::now());
        }
        vec![Effect::ShellInput(bytes)]
    }

    /// What the shell printed, or that it exited.
    pub(super) fn on_shell(&mut self, ev: ShellEvent) -> Vec<Effect> {
        match ev {
            ShellEvent::Output(bytes) => {
                if let Some(sh) = &mut self.shell {
                    sh.parser.process(&bytes);
                }
                vec![]
            }
            ShellEvent::Exited => {
                if self.shell.take().is_none() {
                    return vec![];
                }
                self.message = Some(T::SHELL_CLOSED.get(&self.lang).into());
                // What the learner did in it is judged once more.
                self.judge_now()
            }
        }
    }

    /// On a tick: judge the step again if the shell is open and it is time.
    pub(super) fn shell_tick(&mut self, now: Instant) -> Vec<Effect> {
        let due = self.shell.as_ref().is_some_and(|sh| sh.judge_due(now));
        if !due {
            return vec![];
        }
        let effects = self.judge_now();
        if let Some(sh) = &mut self.shell {
            if effects.is_empty() {
                // Nothing to judge (the step has not run, or the session is busy): look later.
                sh.entered = None;
                sh.last_judged = now;
            } else {
                sh.judge_asked(now);
            }
        }
        effects
    }

    /// Asks the session to judge the step shown, if it ran and the session is free.
    fn judge_now(&mut self) -> Vec<Effect> {
        match &self.lesson {
            Some(l) if l.busy.is_none() && l.ran(l.cursor).is_some() => {
                vec![Effect::Session(Cmd::Judge(l.cursor))]
            }
            _ => vec![],
        }
    }

    /// A judge came back: says so when an exercise has just been solved.
    pub(super) fn judged(&mut self, step: usize, before: &[CheckOutcome], now: &[CheckOutcome]) {
        if let Some(sh) = &mut self.shell {
            sh.judging = false;
        }
        let Some(l) = &self.lesson else {
            return;
        };
        let all = |c: &[CheckOutcome]| !c.is_empty() && c.iter().all(|c| c.passed);
        let exercise = l.lesson.steps[step].exercise.is_some();
        if exercise && all(now) && !all(before) {
            let next = if step + 1 < l.lesson.steps.len() {
                T::SOLVED_NEXT.get(&self.lang)
            } else {
                T::SOLVED_LAST.get(&self.lang)
            };
            self.message = Some(fill(T::SOLVED.get(&self.lang), &[&next]));
        }
    }
}
