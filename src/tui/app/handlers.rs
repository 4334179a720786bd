//! What each key does: one handler per overlay and screen, each acting on the [`Intent`] the key
//! map gives (see [`super::keys`]). They change the app's state and return the [`Effect`]s the
//! main loop must carry out; nothing here talks to the session or the terminal.

use super::keys::{self, Intent};
use super::{App, Confirm, Effect, Overlay, Screen, SCROLL_TO_RESULTS};
use crate::i18n::fill;
use crate::session::live::Cmd;
use crate::tui::text as T;
use crate::tui::view_pane::ZOOM_AT_FOCUS;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// How many keys wait for a busy session; more are dropped (a held-down key is not a plan).
pub const MAX_QUEUED: usize = 8;

impl App {
    /// Carries out the keys queued while the session was busy, in order, until one of them
    /// makes it busy again (the rest wait for that to end).
    pub(super) fn run_queued(&mut self) -> Vec<Effect> {
        let mut effects = Vec::new();
        while let Some(l) = &mut self.lesson {
            if l.busy.is_some() {
                break;
            }
            let Some(intent) = l.queued.pop_front() else {
                break;
            };
            effects.extend(self.lesson_intent(Some(intent)));
        }
        effects
    }

    pub(super) fn on_key(&mut self, k: KeyEvent) -> Vec<Effect> {
        // While the shell has the keys, they are the shell's (Ctrl-C too), but for the focus key.
        let shell_focused = self.shell.as_ref().is_some_and(|s| s.focus);
        if shell_focused && self.screen == Screen::Lesson && self.overlay == Overlay::None {
            self.message = None;
            return self.shell_key(k);
        }
        if keys::lookup(keys::GLOBAL, &k) == Some(Intent::Quit) {
            return vec![Effect::Quit];
        }
        self.message = None;
        match self.overlay.clone() {
            Overlay::Help => {
                // Any key closes the help.
                self.overlay = Overlay::None;
                vec![]
            }
            Overlay::Confirm(what) => self.confirm_key(k, what),
            Overlay::Goto(typed) => self.goto_key(k, typed),
            Overlay::None => match self.screen {
                Screen::Picker => self.picker_key(k),
                Screen::Lesson => self.lesson_key(k),
            },
        }
    }

    fn confirm_key(&mut self, k: KeyEvent, what: Confirm) -> Vec<Effect> {
        self.overlay = Overlay::None;
        if !matches!(k.code, KeyCode::Char('y') | KeyCode::Char('Y')) {
            self.message = Some(T::NOTHING_RESET.get(&self.lang).into());
            return vec![];
        }
        match what {
            Confirm::ResetLesson(id) => {
                self.progress.reset(Some(&id));
                self.message = Some(fill(T::PROGRESS_RESET.get(&self.lang), &[&id]));
            }
            Confirm::ResetAll => {
                self.progress.reset(None);
                self.message = Some(T::ALL_RESET.get(&self.lang).into());
            }
        }
        vec![Effect::SaveProgress]
    }

    /// `g`: digits type a step number, ↑ ↓ move through the step list, Enter goes there.
    fn goto_key(&mut self, k: KeyEvent, mut typed: String) -> Vec<Effect> {
        match k.code {
            KeyCode::Char(c) if c.is_ascii_digit() => {
                typed.push(c);
                self.overlay = Overlay::Goto(typed);
            }
            KeyCode::Backspace => {
                typed.pop();
                self.overlay = Overlay::Goto(typed);
            }
            KeyCode::Up | KeyCode::Down => {
                let steps = self.lesson.as_ref().map_or(1, |l| l.lesson.steps.len());
                let cur = typed
                    .parse::<usize>()
                    .ok()
                    .or_else(|| self.lesson.as_ref().map(|l| l.cursor + 1));
                let cur = cur.unwrap_or(1).clamp(1, steps);
                let next = if k.code == KeyCode::Up {
                    cur.saturating_sub(1).max(1)
                } else {
                    (cur + 1).min(steps)
                };
                self.overlay = Overlay::Goto(next.to_string());
            }
            KeyCode::Enter => {
                self.overlay = Overlay::None;
                if let Ok(n) = typed.parse::<usize>() {
                    return self.goto(n.saturating_sub(1));
                }
            }
            _ => self.overlay = Overlay::None,
        }
        vec![]
    }

    fn picker_key(&mut self, k: KeyEvent) -> Vec<Effect> {
        let list = self.filtered();
        let table = if self.filtering {
            keys::FILTERING
        } else {
            keys::PICKER
        };
        let Some(intent) = keys::lookup(table, &k) else {
            // Typing into the filter once `/` started it.
            if let (true, KeyCode::Char(c)) = (self.filtering, k.code) {
                if !k.modifiers.contains(KeyModifiers::CONTROL) {
                    self.filter.push(c);
                    self.selected = 0;
                }
            }
            return vec![];
        };
        match intent {
            Intent::Filter => self.filtering = true,
            Intent::ResetLesson => {
                if let Some(&i) = list.get(self.selected) {
                    self.overlay =
                        Overlay::Confirm(Confirm::ResetLesson(self.lessons[i].id.clone()));
                }
            }
            Intent::ResetAll => self.overlay = Overlay::Confirm(Confirm::ResetAll),
            Intent::Help => self.overlay = Overlay::Help,
            Intent::FilterBack => {
                self.filter.pop();
                self.selected = 0;
            }
            Intent::SelectUp => self.move_selection(-1),
            Intent::SelectDown => self.move_selection(1),
            Intent::SelectFirst => self.selected = 0,
            Intent::SelectLast => self.move_selection(i64::MAX / 2),
            Intent::Open => {
                self.filtering = false;
                if let Some(&i) = list.get(self.selected) {
                    self.open(i);
                    return vec![Effect::Open(i)];
                }
            }
            Intent::Quit => return vec![Effect::Quit],
            Intent::Escape if self.filter.is_empty() && !self.filtering => {
                return vec![Effect::Quit]
            }
            Intent::Escape => {
                self.filter.clear();
                self.filtering = false;
                self.selected = 0;
            }
            _ => {}
        }
        vec![]
    }

    /// Shows step `target` not yet run, with the sandbox in the state after the steps before it.
    pub(super) fn goto(&mut self, target: usize) -> Vec<Effect> {
        let lang = self.lang.clone();
        let Some(l) = &mut self.lesson else {
            return vec![];
        };
        if l.busy.is_some() || !l.refused.is_empty() || l.finished {
            return vec![];
        }
        let target = target.min(l.lesson.steps.len() - 1);
        l.show_step(target);
        self.generation += 1;
        if l.done == target {
            return vec![];
        }
        l.busy = Some(fill(T::GOING_TO_STEP.get(&lang), &[&(target + 1)]));
        vec![Effect::Session(Cmd::GoTo(target))]
    }

    fn lesson_key(&mut self, k: KeyEvent) -> Vec<Effect> {
        let Some(l) = &mut self.lesson else {
            return vec![];
        };
        if let Some((mut down, mut right)) = l.zoom {
            if down == ZOOM_AT_FOCUS {
                // Scrolled from where the drawing started it.
                down = l.zoom_shown.get().0;
            }
            // Zoomed, the arrows move the view; the other keys act as always.
            match keys::lookup(keys::ZOOM, &k) {
                Some(Intent::Zoom) => {
                    l.zoom = None;
                    return vec![];
                }
                Some(Intent::ScrollDown(n)) => down = down.saturating_add(n),
                Some(Intent::ScrollUp(n)) => down = down.saturating_sub(n),
                Some(Intent::ScrollRight) => right = right.saturating_add(8),
                Some(Intent::ScrollLeft) => right = right.saturating_sub(8),
                Some(Intent::ScrollHome) => (down, right) = (0, 0),
                _ => return self.lesson_intent(keys::lookup(keys::LESSON, &k)),
            }
            // No further than the view goes (as last drawn).
            let (max_down, max_right) = l.zoom_limit.get();
            l.zoom = Some((down.min(max_down), right.min(max_right)));
            return vec![];
        }
        self.lesson_intent(keys::lookup(keys::LESSON, &k))
    }

    fn lesson_intent(&mut self, intent: Option<Intent>) -> Vec<Effect> {
        let lang = self.lang.clone();
        let Some(l) = &mut self.lesson else {
            return vec![];
        };
        let Some(intent) = intent else {
            return vec![];
        };
        let steps = l.lesson.steps.len();
        let idle = l.busy.is_none() && l.refused.is_empty() && !l.finished;
        // A key that would start session work while the session is busy waits its turn (the
        // first `S` only shows the solution, which needs no session).
        let starts_work = match intent {
            Intent::Advance | Intent::Back | Intent::Recheck => true,
            Intent::Solution => l.solution_shown,
            _ => false,
        };
        if starts_work && l.busy.is_some() && l.refused.is_empty() && !l.finished {
            if l.queued.len() < MAX_QUEUED {
                l.queued.push_back(intent);
            }
            return vec![];
        }
        let views = super::ALL_VIEWS.len();
        if matches!(
            intent,
            Intent::NextView | Intent::PrevView | Intent::View(_)
        ) {
            // The sampler renders the newly chosen view.
            self.generation += 1;
        }
        match intent {
            Intent::Close => return vec![Effect::Close],
            Intent::Zoom => l.zoom = Some((ZOOM_AT_FOCUS, 0)),
            Intent::Help => self.overlay = Overlay::Help,
            Intent::Advance if idle => {
                if l.ran(l.cursor).is_none() {
                    // The session replays (from a clean sandbox if it is past this step).
                    l.busy = Some(fill(T::RUNNING_STEP.get(&lang), &[&(l.cursor + 1)]));
                    return vec![Effect::Session(Cmd::Run(l.cursor))];
                }
                if l.cursor + 1 == steps {
                    self.message = Some(T::LAST_STEP.get(&lang).into());
                    return vec![];
                }
                l.show_step(l.cursor + 1);
                self.generation += 1;
                if l.done == l.cursor {
                    l.busy = Some(fill(T::RUNNING_STEP.get(&lang), &[&(l.cursor + 1)]));
                    return vec![Effect::Session(Cmd::Run(l.cursor))];
                }
            }
            Intent::Back if idle && l.cursor > 0 => {
                let t = l.cursor - 1;
                return self.goto(t);
            }
            Intent::Goto if idle => self.overlay = Overlay::Goto(String::new()),
            Intent::Restart if idle => {
                l.show_step(0);
                l.hints.clear();
                l.busy = Some(T::RESTARTING.get(&lang).into());
                self.generation += 1;
                return vec![Effect::Session(Cmd::Restart)];
            }
            Intent::ScrollDown(n) => l.scroll_by(i32::from(n)),
            Intent::ScrollUp(n) => l.scroll_by(-i32::from(n)),
            Intent::ScrollEnd => l.scroll = SCROLL_TO_RESULTS,
            Intent::ScrollHome => l.scroll = 0,
            Intent::NextView => l.view_tab = (l.view_tab + 1) % views,
            Intent::PrevView => l.view_tab = (l.view_tab + views - 1) % views,
            Intent::View(i) => l.view_tab = i,
            Intent::Hint => match &l.lesson.steps[l.cursor].exercise {
                Some(ex) => {
                    let n = l.hints.entry(l.cursor).or_insert(0);
                    if *n < ex.hints.len() {
                        *n += 1;
                    } else {
                        self.message = Some(T::NO_MORE_HINTS.get(&lang).into());
                    }
                }
                None => self.message = Some(T::NOT_EXERCISE.get(&lang).into()),
            },
            Intent::Solution => {
                if l.lesson.steps[l.cursor].exercise.is_none() {
                    self.message = Some(T::NOT_EXERCISE.get(&lang).into());
                } else if !l.solution_shown {
                    l.solution_shown = true;
                } else if l.ran(l.cursor).is_none() {
                    self.message = Some(T::RUN_FIRST.get(&lang).into());
                } else if idle {
                    l.busy = Some(T::RUNNING_SOLUTION.get(&lang).into());
                    return vec![Effect::Session(Cmd::Solve(l.cursor))];
                }
            }
            Intent::Recheck if idle && l.ran(l.cursor).is_some() => {
                l.busy = Some(T::CHECKING.get(&lang).into());
                return vec![Effect::Session(Cmd::Judge(l.cursor))];
            }
            Intent::NextShellTarget => {
                let names: Vec<&String> = l.pids.keys().collect();
                if !names.is_empty() {
                    let cur = l.shell_target();
                    let i = names.iter().position(|n| **n == cur).unwrap_or(0);
                    l.shell_target = Some(names[(i + 1) % names.len()].clone());
                    self.message = Some(fill(T::SHELL_IN.get(&lang), &[&l.shell_target()]));
                }
            }
            Intent::Shell if idle || self.shell.is_some() => return self.open_shell(),
            Intent::FocusShell | Intent::ZoomShell | Intent::FlipPane => {
                let Some(sh) = &mut self.shell else {
                    self.message = Some(T::NO_SHELL_YET.get(&lang).into());
                    return vec![];
                };
                match intent {
                    Intent::FocusShell => (sh.focus, sh.shown) = (true, true),
                    Intent::ZoomShell => sh.zoomed = !sh.zoomed,
                    _ => sh.shown = !sh.shown,
                }
            }
            _ => {}
        }
        vec![]
    }
}
