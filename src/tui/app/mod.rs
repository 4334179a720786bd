//! The UI's state and how it changes: `update(event)` returns what the main loop must do
//! (talk to the session thread, open a shell, quit). Drawing reads `&App` only.

use super::event::AppEvent;
use super::text as T;
use crate::i18n::fill;
use crate::lesson::schema::{Lesson, View};
use crate::progress::{Progress, SolvedBy, Status};
use crate::session::events::CheckOutcome;
use crate::session::live::{Cmd, SessionMsg};
use crossterm::event::MouseEventKind;

mod handlers;
pub mod keys;
mod lesson_state;
pub mod pty_keys;
pub mod shell;
mod shell_handlers;
#[cfg(test)]
mod tests;

pub use lesson_state::{LessonState, SCROLL_TO_RESULTS};
pub use shell::ShellState;

/// Every view, in the order of the number keys.
pub const ALL_VIEWS: [View; 12] = [
    View::Namespaces,
    View::NsInodes,
    View::Status,
    View::Processes,
    View::Mounts,
    View::IdMaps,
    View::Caps,
    View::Cgroups,
    View::Cgroup,
    View::Image,
    View::Layers,
    View::Net,
];

/// A view's short name in the view bar, in `lang`.
pub fn view_name(v: View, lang: &str) -> &'static str {
    T::view_name(v).get(lang)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Picker,
    Lesson,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirm {
    ResetLesson(String),
    ResetAll,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overlay {
    None,
    Help,
    /// `g`: the step number typed so far.
    Goto(String),
    Confirm(Confirm),
}

/// What the main loop must do after an update.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Open lesson `index` (start its session thread).
    Open(usize),
    /// Close the lesson (tear down) and go back to the picker.
    Close,
    Session(Cmd),
    /// Open the learner's shell in the pane, inside this process, with this environment.
    OpenShell {
        pid: i32,
        label: String,
        env: Vec<(String, String)>,
    },
    /// Type these bytes into the shell.
    ShellInput(Vec<u8>),
    /// Close the shell (the lesson is left).
    CloseShell,
    SaveProgress,
    Quit,
}

pub struct App {
    pub lessons: Vec<Lesson>,
    pub lang: String,
    pub progress: Progress,
    /// Where progress is saved; None keeps it in memory only (tests, or a file that could not
    /// be read and must not be overwritten).
    pub progress_file: Option<std::path::PathBuf>,
    pub screen: Screen,
    pub filter: String,
    /// `/` was pressed: keys type into the filter.
    pub filtering: bool,
    /// Selected row of the filtered list.
    pub selected: usize,
    pub lesson: Option<LessonState>,
    pub overlay: Overlay,
    /// A one-line message in the status bar.
    pub message: Option<String>,
    pub color: bool,
    /// Animation counter (spinner).
    pub tick: u64,
    /// Bumped whenever the sampled views' request changes.
    pub generation: u64,
    /// The learner's own OCI image layout (`--image`), for the lessons that build an image.
    pub image: Option<std::path::PathBuf>,
    /// The learner's shell in the lesson screen, while it is open.
    pub shell: Option<ShellState>,
}

const SPIN: [&str; 4] = ["|", "/", "-", "\\"];

impl App {
    pub fn new(lessons: Vec<Lesson>, lang: &str, progress: Progress, color: bool) -> App {
        App {
            lessons,
            lang: lang.to_string(),
            progress,
            progress_file: None,
            screen: Screen::Picker,
            filter: String::new(),
            filtering: false,
            selected: 0,
            lesson: None,
            overlay: Overlay::None,
            message: None,
            color,
            tick: 0,
            generation: 0,
            image: None,
            shell: None,
        }
    }

    pub fn spinner(&self) -> &'static str {
        SPIN[(self.tick % 4) as usize]
    }

    /// Lessons matching the filter (by id or title), as indexes into `lessons`; the lesson whose
    /// id is the filter comes first (`cgroup` opens cgroup, not cgroupns listed before it).
    pub fn filtered(&self) -> Vec<usize> {
        let f = self.filter.to_lowercase();
        let mut found: Vec<usize> = self
            .lessons
            .iter()
            .enumerate()
            .filter(|(_, l)| {
                f.is_empty()
                    || l.id.to_lowercase().contains(&f)
                    || l.title.get(&self.lang).to_lowercase().contains(&f)
            })
            .map(|(i, _)| i)
            .collect();
        found.sort_by_key(|&i| self.lessons[i].id.to_lowercase() != f);
        found
    }

    pub fn status(&self, lesson: &Lesson) -> Status {
        let ids: Vec<&str> = lesson.steps.iter().map(|s| s.id.as_str()).collect();
        self.progress.status(&lesson.id, &ids)
    }

    /// Opens a lesson's state (the main loop starts its session).
    pub fn open(&mut self, index: usize) {
        let mut l = LessonState::new(index, self.lessons[index].clone());
        // Until the session reports, the words are filled from what needs no sandbox.
        let machine = crate::session::placeholders::Facts::of_machine();
        l.texts = crate::session::runner::lesson_texts(&l.lesson, &self.lang, &machine);
        l.busy = Some(T::STARTING.get(&self.lang).into());
        // A lesson left half-way starts at step 1 (a clean sandbox), and says where the learner
        // stopped and how to get there.
        self.message = match self.status(&self.lessons[index]) {
            Status::InProgress(step) if step > 1 => {
                Some(fill(T::RESUME_AT.get(&self.lang), &[&step, &step]))
            }
            _ => None,
        };
        self.lesson = Some(l);
        self.screen = Screen::Lesson;
        self.overlay = Overlay::None;
        self.generation += 1;
    }

    pub fn close(&mut self) {
        // Back in the picker, the lesson just left stays selected (also when the TUI was
        // started on it directly), so the next Enter reopens it.
        if let Some(l) = self.lesson.take() {
            if let Some(row) = self.filtered().iter().position(|&i| i == l.index) {
                self.selected = row;
            }
        }
        self.screen = Screen::Picker;
        self.overlay = Overlay::None;
        self.generation += 1;
    }

    /// Handles one event; returns what must be done, and whether to redraw.
    pub fn update(&mut self, ev: AppEvent) -> (Vec<Effect>, bool) {
        match ev {
            AppEvent::Tick => {
                let busy = self.lesson.as_ref().is_some_and(|l| l.busy.is_some());
                if busy {
                    self.tick += 1;
                }
                (self.shell_tick(std::time::Instant::now()), busy)
            }
            AppEvent::Shell(ev) => (self.on_shell(ev), true),
            AppEvent::Resize => (vec![], true),
            AppEvent::Hangup => (vec![Effect::Quit], false),
            AppEvent::Views { generation, views } => {
                match &mut self.lesson {
                    Some(l) if generation == self.generation => l.views = views,
                    _ => return (vec![], false),
                }
                (vec![], true)
            }
            AppEvent::Session(msg) => (self.on_session(msg), true),
            AppEvent::Mouse(m) => {
                let Some(l) = &mut self.lesson else {
                    match m.kind {
                        MouseEventKind::ScrollDown => self.move_selection(1),
                        MouseEventKind::ScrollUp => self.move_selection(-1),
                        _ => return (vec![], false),
                    }
                    return (vec![], true);
                };
                match m.kind {
                    MouseEventKind::ScrollDown => l.scroll_by(3),
                    MouseEventKind::ScrollUp => l.scroll_by(-3),
                    _ => return (vec![], false),
                }
                (vec![], true)
            }
            AppEvent::Key(k) => (self.on_key(k), true),
        }
    }

    fn move_selection(&mut self, by: i64) {
        let n = self.filtered().len() as i64;
        if n == 0 {
            self.selected = 0;
            return;
        }
        self.selected = (self.selected as i64 + by).clamp(0, n - 1) as usize;
    }

    fn on_session(&mut self, msg: SessionMsg) -> Vec<Effect> {
        let lang = self.lang.clone();
        let Some(l) = &mut self.lesson else {
            return vec![];
        };
        let mut judged = None;
        // The checks were judged again (`c`, the shell pane) or a solution ran: the learner
        // looks at the checks.
        let mut to_checks = false;
        // A judge the shell pane asked for on its own (not `c`) answers while other work may
        // be under way (a step the learner started meanwhile): it must not end that "busy".
        let mut keep_busy = false;
        // An exercise solved now, and how (for the learner's progress).
        let mut solved = None;
        let events = match msg {
            SessionMsg::Refused(reasons) => {
                l.refused = reasons;
                l.busy = None;
                l.queued.clear();
                return vec![];
            }
            SessionMsg::Busy(what) => {
                l.busy = Some(T::busy(what, &lang));
                return vec![];
            }
            SessionMsg::Error(e) => {
                // The keys were pressed expecting the work to succeed: none of them is carried out.
                l.error = Some(e);
                l.busy = None;
                l.queued.clear();
                return vec![];
            }
            SessionMsg::Finished { .. } => {
                l.finished = true;
                return vec![];
            }
            SessionMsg::Ran {
                results,
                done,
                pids,
                subjects,
                texts,
                shell_env,
                restarted,
                events,
            } => {
                if restarted {
                    l.results.clear();
                }
                for (step, r) in results {
                    if step == l.cursor {
                        // The step just ran: its title and explanation first, as a learner
                        // reads; the results follow below (the pane says so).
                        l.scroll = 0;
                    }
                    l.results.insert(step, r);
                }
                l.done = done;
                l.pids = pids;
                l.subjects = *subjects;
                l.texts = texts;
                l.shell_env = shell_env;
                l.error = None;
                self.generation += 1;
                events
            }
            SessionMsg::Judged {
                step,
                checks,
                events,
            } => {
                keep_busy = l.busy.as_deref() != Some(T::CHECKING.get(&lang));
                let before = match l.results.get_mut(&step) {
                    Some(r) => std::mem::replace(&mut r.checks, checks.clone()),
                    None => Vec::new(),
                };
                let verdicts = |c: &[CheckOutcome]| c.iter().map(|c| c.passed).collect::<Vec<_>>();
                let changed = verdicts(&before) != verdicts(&checks);
                if !checks.is_empty() && checks.iter().all(|c| c.passed) {
                    solved = Some((step, SolvedBy::Learner));
                }
                judged = Some((step, before));
                to_checks = changed;
                // Judged again and again while the shell is open: progress records a change.
                if changed {
                    events
                } else {
                    Vec::new()
                }
            }
            SessionMsg::Solved {
                step,
                solution,
                checks,
                events,
            } => {
                if solution.as_ref().is_some_and(|s| !s.ok) {
                    self.message = Some(T::SOLUTION_FAILED.get(&lang).into());
                }
                if !checks.is_empty() && checks.iter().all(|c| c.passed) {
                    solved = Some((step, SolvedBy::Solution));
                }
                if let Some(r) = l.results.get_mut(&step) {
                    r.checks = checks;
                    r.solution = solution;
                }
                to_checks = true;
                events
            }
        };
        if let Some((step, before)) = judged {
            let now = self.lesson.as_ref().and_then(|l| l.results.get(&step));
            let now = now.map(|r| r.checks.clone()).unwrap_or_default();
            self.judged(step, &before, &now);
        }
        let Some(l) = &mut self.lesson else {
            return vec![];
        };
        if !keep_busy {
            l.busy = None;
        }
        if to_checks
            && l.results.contains_key(&l.cursor)
            && events.iter().any(|e| e.step() == Some(l.cursor))
        {
            l.scroll = SCROLL_TO_RESULTS;
        }
        // The learner's progress: the session's events, by the tracker's rules; and how an
        // exercise was solved, which only the UI knows (the hints it showed, `S`).
        let mut changed = false;
        for e in &events {
            changed |= l.tracker.record(&mut self.progress, e);
        }
        if let Some((step, by)) =
            solved.filter(|(step, _)| l.lesson.steps[*step].exercise.is_some())
        {
            let hints = l.hints.get(&step).copied().unwrap_or(0);
            let id = &l.lesson.steps[step].id;
            changed |= self.progress.exercise_solved(&l.lesson.id, id, by, hints);
        }
        let mut effects = if changed {
            vec![Effect::SaveProgress]
        } else {
            vec![]
        };
        effects.extend(self.run_queued());
        effects
    }
}
