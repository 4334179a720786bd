//! The UI's state and how it changes: `update(event)` returns what the main loop must do
//! (talk to the session thread, open a shell, quit). Drawing reads `&App` only.

use super::event::AppEvent;
use super::session::{Cmd, SessionMsg, StepResult};
use super::text as T;
use crate::i18n::fill;
use crate::lesson::schema::{Action as LessonAction, Lesson, View};
use crate::progress::{Progress, Status};
use crate::session::events::CheckOutcome;
use crate::session::views::RenderedView;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseEventKind};
use std::collections::BTreeMap;

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
    Session(CmdDebug),
    /// Suspend the UI and open a shell inside this process.
    Shell {
        pid: i32,
        label: String,
    },
    SaveProgress,
    Quit,
}

/// [`Cmd`] with equality, for tests of `update`.
#[derive(Debug, Clone, PartialEq)]
pub enum CmdDebug {
    Run(usize),
    GoTo(usize),
    Restart,
    Check(usize),
    Solve(usize),
}

impl From<CmdDebug> for Cmd {
    fn from(c: CmdDebug) -> Cmd {
        match c {
            CmdDebug::Run(i) => Cmd::Run(i),
            CmdDebug::GoTo(i) => Cmd::GoTo(i),
            CmdDebug::Restart => Cmd::Restart,
            CmdDebug::Check(i) => Cmd::Check(i),
            CmdDebug::Solve(i) => Cmd::Solve(i),
        }
    }
}

/// `scroll` value meaning "scroll so the results of the step are in view".
pub const SCROLL_TO_RESULTS: u16 = u16::MAX;

/// An open lesson.
#[derive(Debug, Clone)]
pub struct LessonState {
    pub index: usize,
    pub lesson: Lesson,
    /// The step shown.
    pub cursor: usize,
    /// Steps whose actions ran in the current sandbox (state is "after step done-1").
    pub done: usize,
    /// Results of the steps that ran in the current sandbox.
    pub results: BTreeMap<usize, StepResult>,
    /// What the session thread is doing, if anything.
    pub busy: Option<String>,
    pub refused: Vec<String>,
    pub error: Option<String>,
    /// Scroll offset of the step text, in lines; [`SCROLL_TO_RESULTS`] asks the drawing to show
    /// the step's results (set after a step ran).
    pub scroll: u16,
    /// The offset last drawn (the drawing clamps `scroll`); keys scroll from here.
    pub shown_scroll: std::cell::Cell<u16>,
    /// Chosen view tab (index into [`LessonState::view_tabs`]).
    pub view_tab: usize,
    /// `z`: the view fills the screen and the arrows scroll it (lines, columns), for views
    /// wider or longer than their pane.
    pub zoom: Option<(u16, u16)>,
    /// How far the zoomed view can scroll (lines, columns), as last drawn; keys stop there.
    pub zoom_limit: std::cell::Cell<(u16, u16)>,
    pub views: Vec<RenderedView>,
    pub pids: BTreeMap<String, i32>,
    /// What the live views look at; refreshed with every run.
    pub subjects: crate::session::views::Subjects,
    /// Hints shown, per step.
    pub hints: BTreeMap<usize, usize>,
    pub solution_shown: bool,
    /// The shell's target chosen with `m` (a process name), when not the default.
    pub shell_target: Option<String>,
    pub finished: bool,
}

impl LessonState {
    pub fn new(index: usize, lesson: Lesson) -> LessonState {
        LessonState {
            index,
            lesson,
            cursor: 0,
            done: 0,
            results: BTreeMap::new(),
            busy: Some("starting the sandbox".into()),
            refused: vec![],
            error: None,
            scroll: 0,
            shown_scroll: std::cell::Cell::new(0),
            view_tab: 0,
            zoom: None,
            zoom_limit: Default::default(),
            views: vec![],
            pids: BTreeMap::new(),
            subjects: Default::default(),
            hints: BTreeMap::new(),
            solution_shown: false,
            shell_target: None,
            finished: false,
        }
    }

    /// The view tabs for the step shown: its own views first, then the others.
    pub fn view_tabs(&self) -> Vec<View> {
        let own = &self.lesson.steps[self.cursor].views;
        let mut tabs: Vec<View> = own.clone();
        tabs.extend(ALL_VIEWS.iter().filter(|v| !own.contains(v)));
        tabs
    }

    pub fn chosen_view(&self) -> View {
        let tabs = self.view_tabs();
        tabs[self.view_tab.min(tabs.len() - 1)]
    }

    /// The views the sampler should render: the step's own plus the chosen one.
    pub fn sampled_views(&self) -> Vec<View> {
        let mut v = self.lesson.steps[self.cursor].views.clone();
        let c = self.chosen_view();
        if !v.contains(&c) {
            v.push(c);
        }
        v
    }

    pub fn ran(&self, step: usize) -> Option<&StepResult> {
        if step < self.done {
            self.results.get(&step)
        } else {
            None
        }
    }

    /// The process the shell enters: the one chosen with `m`, else the exercise's, else the most
    /// recently spawned one, else the sandbox.
    pub fn shell_target(&self) -> String {
        if let Some(t) = &self.shell_target {
            if self.pids.contains_key(t) {
                return t.clone();
            }
        }
        let step = &self.lesson.steps[self.cursor];
        if let Some(ex) = &step.exercise {
            return ex.solution.process.clone();
        }
        let upto = self.done.min(self.lesson.steps.len());
        for s in self.lesson.steps[..upto].iter().rev() {
            for a in s.actions.iter().rev() {
                if let LessonAction::Spawn(sp) = a {
                    if self.pids.contains_key(&sp.name) {
                        return sp.name.clone();
                    }
                }
            }
        }
        "sandbox".into()
    }
}

/// One step's result as progress sees it.
struct StepRecord {
    step: usize,
    checks: Vec<CheckOutcome>,
    passed: bool,
    /// The step's actions ran now (not only a re-check of its claims).
    ran: bool,
}

impl StepRecord {
    fn of(step: usize, result: &StepResult, ran: bool) -> StepRecord {
        StepRecord {
            step,
            checks: result.checks.clone(),
            passed: result.passed(),
            ran,
        }
    }
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
            selected: 0,
            lesson: None,
            overlay: Overlay::None,
            message: None,
            color,
            tick: 0,
            generation: 0,
            image: None,
        }
    }

    pub fn spinner(&self) -> &'static str {
        SPIN[(self.tick % 4) as usize]
    }

    /// Lessons matching the filter (by id or title), as indexes into `lessons`.
    pub fn filtered(&self) -> Vec<usize> {
        let f = self.filter.to_lowercase();
        self.lessons
            .iter()
            .enumerate()
            .filter(|(_, l)| {
                f.is_empty()
                    || l.id.to_lowercase().contains(&f)
                    || l.title.get(&self.lang).to_lowercase().contains(&f)
            })
            .map(|(i, _)| i)
            .collect()
    }

    pub fn status(&self, lesson: &Lesson) -> Status {
        let ids: Vec<&str> = lesson.steps.iter().map(|s| s.id.as_str()).collect();
        self.progress.status(&lesson.id, &ids)
    }

    /// Opens a lesson's state (the main loop starts its session).
    pub fn open(&mut self, index: usize) {
        let mut l = LessonState::new(index, self.lessons[index].clone());
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
                (vec![], busy)
            }
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
                    MouseEventKind::ScrollDown => l.scroll = l.shown_scroll.get().saturating_add(3),
                    MouseEventKind::ScrollUp => l.scroll = l.shown_scroll.get().saturating_sub(3),
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
        let Some(l) = &mut self.lesson else {
            return vec![];
        };
        let mut record: Vec<StepRecord> = Vec::new();
        match msg {
            SessionMsg::Refused(reasons) => {
                l.refused = reasons;
                l.busy = None;
            }
            SessionMsg::Busy(what) => l.busy = Some(what),
            SessionMsg::Error(e) => {
                l.error = Some(e);
                l.busy = None;
            }
            SessionMsg::Ran {
                results,
                done,
                pids,
                subjects,
                restarted,
            } => {
                if restarted {
                    l.results.clear();
                }
                for (step, r) in results {
                    if step == l.cursor {
                        l.scroll = SCROLL_TO_RESULTS;
                    }
                    record.push(StepRecord::of(step, &r, true));
                    l.results.insert(step, r);
                }
                l.done = done;
                l.pids = pids;
                l.subjects = *subjects;
                l.busy = None;
                l.error = None;
                self.generation += 1;
            }
            SessionMsg::Checked { step, checks } => {
                if let Some(r) = l.results.get_mut(&step) {
                    r.checks = checks;
                    record.push(StepRecord::of(step, r, false));
                }
                if step == l.cursor {
                    l.scroll = SCROLL_TO_RESULTS;
                }
                l.busy = None;
            }
            SessionMsg::Solved {
                step,
                ok,
                shell,
                trace,
                checks,
            } => {
                if let Some(r) = l.results.get_mut(&step) {
                    r.checks = checks;
                    r.solution = Some((shell, trace));
                    record.push(StepRecord::of(step, r, false));
                }
                if step == l.cursor {
                    l.scroll = SCROLL_TO_RESULTS;
                }
                if !ok {
                    self.message = Some(T::SOLUTION_FAILED.get(&self.lang).into());
                }
                l.busy = None;
            }
            SessionMsg::Finished { .. } => {
                l.finished = true;
            }
        }
        if record.is_empty() {
            return vec![];
        }
        let lesson = l.lesson.clone();
        self.record_progress(&lesson, &record);
        vec![Effect::SaveProgress]
    }

    /// Records step results into the progress, the way a headless run records its events.
    fn record_progress(&mut self, lesson: &Lesson, record: &[StepRecord]) {
        let ids: Vec<&str> = lesson.steps.iter().map(|s| s.id.as_str()).collect();
        for r in record {
            for c in &r.checks {
                self.progress.record_check(&lesson.id, c);
            }
            if r.passed {
                self.progress.step_done(&lesson.id, ids[r.step]);
            } else {
                self.progress.lesson_started(&lesson.id);
            }
            // Running the last step is reaching the lesson's end: one run.
            if r.ran && r.step + 1 == ids.len() {
                let passed = self.progress.all_passed(&lesson.id, &ids);
                self.progress.lesson_completed(&lesson.id, passed);
            }
        }
        // An exercise solved after the end was reached can complete the lesson.
        self.progress.complete_if_passed(&lesson.id, &ids);
    }

    fn on_key(&mut self, k: KeyEvent) -> Vec<Effect> {
        let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && k.code == KeyCode::Char('c') {
            return vec![Effect::Quit];
        }
        self.message = None;
        match self.overlay.clone() {
            Overlay::Help => {
                self.overlay = Overlay::None;
                return vec![];
            }
            Overlay::Confirm(what) => {
                self.overlay = Overlay::None;
                if matches!(k.code, KeyCode::Char('y') | KeyCode::Char('Y')) {
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
                    return vec![Effect::SaveProgress];
                }
                self.message = Some(T::NOTHING_RESET.get(&self.lang).into());
                return vec![];
            }
            Overlay::Goto(mut typed) => {
                match k.code {
                    KeyCode::Char(c) if c.is_ascii_digit() => {
                        typed.push(c);
                        self.overlay = Overlay::Goto(typed);
                    }
                    KeyCode::Backspace => {
                        typed.pop();
                        self.overlay = Overlay::Goto(typed);
                    }
                    // ↑ ↓ move through the step list.
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
                return vec![];
            }
            Overlay::None => {}
        }
        match self.screen {
            Screen::Picker => self.picker_key(k, ctrl),
            Screen::Lesson => self.lesson_key(k),
        }
    }

    fn picker_key(&mut self, k: KeyEvent, ctrl: bool) -> Vec<Effect> {
        let list = self.filtered();
        match k.code {
            KeyCode::Char('r') if ctrl => {
                if let Some(&i) = list.get(self.selected) {
                    self.overlay =
                        Overlay::Confirm(Confirm::ResetLesson(self.lessons[i].id.clone()));
                }
            }
            KeyCode::Char('a') if ctrl => self.overlay = Overlay::Confirm(Confirm::ResetAll),
            KeyCode::Char('?') => self.overlay = Overlay::Help,
            KeyCode::Char(c) if !ctrl => {
                self.filter.push(c);
                self.selected = 0;
            }
            KeyCode::Backspace => {
                self.filter.pop();
                self.selected = 0;
            }
            KeyCode::Up => self.move_selection(-1),
            KeyCode::Down => self.move_selection(1),
            KeyCode::Home => self.selected = 0,
            KeyCode::End => self.move_selection(i64::MAX / 2),
            KeyCode::Enter | KeyCode::Right => {
                if let Some(&i) = list.get(self.selected) {
                    self.open(i);
                    return vec![Effect::Open(i)];
                }
            }
            KeyCode::Esc => {
                if self.filter.is_empty() {
                    return vec![Effect::Quit];
                }
                self.filter.clear();
                self.selected = 0;
            }
            _ => {}
        }
        vec![]
    }

    /// Shows step `target` not yet run, with the sandbox in the state after the steps before it.
    fn goto(&mut self, target: usize) -> Vec<Effect> {
        let lang = self.lang.clone();
        let Some(l) = &mut self.lesson else {
            return vec![];
        };
        if l.busy.is_some() || !l.refused.is_empty() || l.finished {
            return vec![];
        }
        let target = target.min(l.lesson.steps.len() - 1);
        l.cursor = target;
        l.scroll = 0;
        l.view_tab = 0;
        l.solution_shown = false;
        self.generation += 1;
        if l.done == target {
            return vec![];
        }
        l.busy = Some(fill(T::GOING_TO_STEP.get(&lang), &[&(target + 1)]));
        vec![Effect::Session(CmdDebug::GoTo(target))]
    }

    fn lesson_key(&mut self, k: KeyEvent) -> Vec<Effect> {
        let lang = self.lang.clone();
        let Some(l) = &mut self.lesson else {
            return vec![];
        };
        let steps = l.lesson.steps.len();
        let idle = l.busy.is_none() && l.refused.is_empty() && !l.finished;
        if let Some((mut down, mut right)) = l.zoom {
            // Zoomed, the arrows move the view; the other keys act as always.
            match k.code {
                KeyCode::Char('z') | KeyCode::Esc => {
                    l.zoom = None;
                    return vec![];
                }
                KeyCode::Down | KeyCode::Char('j') => down = down.saturating_add(1),
                KeyCode::Up | KeyCode::Char('k') => down = down.saturating_sub(1),
                KeyCode::PageDown => down = down.saturating_add(10),
                KeyCode::PageUp => down = down.saturating_sub(10),
                KeyCode::Right => right = right.saturating_add(8),
                KeyCode::Left => right = right.saturating_sub(8),
                KeyCode::Home => (down, right) = (0, 0),
                _ => return self.lesson_key_unzoomed(k, &lang, steps, idle),
            }
            // No further than the view goes (as last drawn).
            let (max_down, max_right) = l.zoom_limit.get();
            l.zoom = Some((down.min(max_down), right.min(max_right)));
            return vec![];
        }
        self.lesson_key_unzoomed(k, &lang, steps, idle)
    }

    fn lesson_key_unzoomed(
        &mut self,
        k: KeyEvent,
        lang: &str,
        steps: usize,
        idle: bool,
    ) -> Vec<Effect> {
        let lang = lang.to_string();
        let Some(l) = &mut self.lesson else {
            return vec![];
        };
        match k.code {
            KeyCode::Char('q') | KeyCode::Esc => {
                return vec![Effect::Close];
            }
            KeyCode::Char('z') => l.zoom = Some((0, 0)),
            KeyCode::Char('?') => self.overlay = Overlay::Help,
            KeyCode::Enter | KeyCode::Right | KeyCode::Char(' ') => {
                if !idle {
                    return vec![];
                }
                if l.ran(l.cursor).is_none() {
                    // The session replays (from a clean sandbox if it is past this step).
                    l.busy = Some(fill(T::RUNNING_STEP.get(&lang), &[&(l.cursor + 1)]));
                    return vec![Effect::Session(CmdDebug::Run(l.cursor))];
                }
                if l.cursor + 1 < steps {
                    l.cursor += 1;
                    l.scroll = 0;
                    l.view_tab = 0;
                    l.solution_shown = false;
                    self.generation += 1;
                    if l.done == l.cursor {
                        l.busy = Some(fill(T::RUNNING_STEP.get(&lang), &[&(l.cursor + 1)]));
                        return vec![Effect::Session(CmdDebug::Run(l.cursor))];
                    }
                } else {
                    self.message = Some(T::LAST_STEP.get(&lang).into());
                }
            }
            KeyCode::Left | KeyCode::Backspace if idle && l.cursor > 0 => {
                let t = l.cursor - 1;
                return self.goto(t);
            }
            KeyCode::Char('g') if idle => self.overlay = Overlay::Goto(String::new()),
            KeyCode::Char('r') if idle => {
                l.cursor = 0;
                l.scroll = 0;
                l.view_tab = 0;
                l.hints.clear();
                l.solution_shown = false;
                l.busy = Some(T::RESTARTING.get(&lang).into());
                self.generation += 1;
                return vec![Effect::Session(CmdDebug::Restart)];
            }
            KeyCode::Down | KeyCode::Char('j') => l.scroll = l.shown_scroll.get().saturating_add(1),
            KeyCode::Up | KeyCode::Char('k') => l.scroll = l.shown_scroll.get().saturating_sub(1),
            KeyCode::PageDown => l.scroll = l.shown_scroll.get().saturating_add(10),
            KeyCode::PageUp => l.scroll = l.shown_scroll.get().saturating_sub(10),
            KeyCode::End => l.scroll = SCROLL_TO_RESULTS,
            KeyCode::Home => l.scroll = 0,
            KeyCode::Tab => {
                l.view_tab = (l.view_tab + 1) % ALL_VIEWS.len();
                self.generation += 1;
            }
            KeyCode::BackTab => {
                l.view_tab = (l.view_tab + ALL_VIEWS.len() - 1) % ALL_VIEWS.len();
                self.generation += 1;
            }
            KeyCode::Char(c @ '1'..='9') => {
                l.view_tab = c as usize - '1' as usize;
                self.generation += 1;
            }
            // The tenth view; the last ones are a Tab away.
            KeyCode::Char('0') => {
                l.view_tab = 9;
                self.generation += 1;
            }
            KeyCode::Char('h') => {
                if let Some(ex) = &l.lesson.steps[l.cursor].exercise {
                    let n = l.hints.entry(l.cursor).or_insert(0);
                    if *n < ex.hints.len() {
                        *n += 1;
                    } else {
                        self.message = Some(T::NO_MORE_HINTS.get(&lang).into());
                    }
                } else {
                    self.message = Some(T::NOT_EXERCISE.get(&lang).into());
                }
            }
            KeyCode::Char('S') => {
                if l.lesson.steps[l.cursor].exercise.is_none() {
                    self.message = Some(T::NOT_EXERCISE.get(&lang).into());
                } else if !l.solution_shown {
                    l.solution_shown = true;
                } else if idle && l.ran(l.cursor).is_some() {
                    l.busy = Some(T::RUNNING_SOLUTION.get(&lang).into());
                    return vec![Effect::Session(CmdDebug::Solve(l.cursor))];
                } else if l.ran(l.cursor).is_none() {
                    self.message = Some(T::RUN_FIRST.get(&lang).into());
                }
            }
            KeyCode::Char('c') if idle && l.ran(l.cursor).is_some() => {
                l.busy = Some(T::CHECKING.get(&lang).into());
                return vec![Effect::Session(CmdDebug::Check(l.cursor))];
            }
            KeyCode::Char('m') => {
                let names: Vec<&String> = l.pids.keys().collect();
                if !names.is_empty() {
                    let cur = l.shell_target();
                    let i = names.iter().position(|n| **n == cur).unwrap_or(0);
                    l.shell_target = Some(names[(i + 1) % names.len()].clone());
                    self.message = Some(fill(T::SHELL_IN.get(&lang), &[&l.shell_target()]));
                }
            }
            KeyCode::Char('s') => {
                if !idle {
                    return vec![];
                }
                let name = l.shell_target();
                match l.pids.get(&name) {
                    Some(&pid) => {
                        return vec![Effect::Shell {
                            pid,
                            label: format!("{}:{name}", l.lesson.id),
                        }]
                    }
                    None => self.message = Some(T::NOTHING_TO_ENTER_YET.get(&lang).into()),
                }
            }
            _ => {}
        }
        vec![]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lesson::load::{parse, BUILTIN};
    use crossterm::event::KeyEvent;

    fn app() -> App {
        let lessons = BUILTIN
            .iter()
            .filter(|(n, _)| *n == "uts.yaml")
            .map(|(n, t)| parse(n, t).unwrap())
            .collect();
        App::new(lessons, "en", Progress::default(), false)
    }

    fn key(app: &mut App, code: KeyCode) -> Vec<Effect> {
        app.update(AppEvent::Key(KeyEvent::new(code, KeyModifiers::NONE)))
            .0
    }

    fn ready(app: &mut App, done: usize) {
        let l = app.lesson.as_mut().unwrap();
        l.busy = None;
        l.done = done;
        for s in 0..done {
            l.results.insert(s, StepResult::default());
        }
        l.pids = BTreeMap::from([("sandbox".into(), 1)]);
    }

    fn ran(app: &mut App, step: usize, checks: Vec<CheckOutcome>) -> Vec<Effect> {
        let result = StepResult {
            checks,
            ..StepResult::default()
        };
        app.update(AppEvent::Session(SessionMsg::Ran {
            results: vec![(step, result)],
            done: step + 1,
            pids: BTreeMap::new(),
            subjects: Default::default(),
            restarted: false,
        }))
        .0
    }

    #[test]
    fn step_results_are_recorded_in_the_format_headless_runs_write() {
        use crate::session::events::Phase;
        let mut a = app();
        key(&mut a, KeyCode::Enter);
        let ids: Vec<String> = a.lessons[0].steps.iter().map(|s| s.id.clone()).collect();
        let last = ids.len() - 1;
        assert_eq!(
            ran(
                &mut a,
                0,
                vec![CheckOutcome::bare("first", true, Phase::Normal)]
            ),
            vec![Effect::SaveProgress]
        );
        // A failing check: the step is not done, the failure is recorded.
        ran(
            &mut a,
            1,
            vec![CheckOutcome::bare("second", false, Phase::Normal)],
        );
        let l = &a.progress.lessons["uts"];
        assert_eq!(l.steps_done, vec![ids[0].clone()]);
        assert_eq!(l.checks_failed(), vec!["second"]);
        assert_eq!(a.status(&a.lessons[0].clone()), Status::InProgress(2));
        // The learner fixes it and re-checks; then the rest runs to the end.
        a.update(AppEvent::Session(SessionMsg::Checked {
            step: 1,
            checks: vec![CheckOutcome::bare("second", true, Phase::Normal)],
        }));
        for step in 2..=last {
            // Before an exercise's solution a failing claim is the starting point, not progress.
            ran(
                &mut a,
                step,
                vec![CheckOutcome::bare("x", false, Phase::BeforeSolution)],
            );
        }
        assert_eq!(a.progress.lessons["uts"].runs, 1);
        assert!(!a.progress.lessons["uts"].checks.contains_key("x"));
        assert_eq!(a.status(&a.lessons[0].clone()), Status::InProgress(3));
        // A file the TUI writes is one the headless recorder and `progress --export` read.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("progress.json");
        a.progress.save(&file).unwrap();
        assert_eq!(Progress::load(&file).unwrap(), a.progress);
    }

    #[test]
    fn a_lesson_that_passes_to_its_end_is_done() {
        use crate::session::events::Phase;
        let mut a = app();
        key(&mut a, KeyCode::Enter);
        let steps = a.lessons[0].steps.len();
        for step in 0..steps {
            ran(
                &mut a,
                step,
                vec![CheckOutcome::bare(&format!("c{step}"), true, Phase::Normal)],
            );
        }
        let l = &a.progress.lessons["uts"];
        assert!(l.completed.is_some());
        assert_eq!(l.runs, 1);
        assert_eq!(a.status(&a.lessons[0].clone()), Status::Done);
    }

    #[test]
    fn enter_runs_then_advances_and_runs_the_next() {
        let mut a = app();
        assert_eq!(key(&mut a, KeyCode::Enter), vec![Effect::Open(0)]);
        ready(&mut a, 0);
        assert_eq!(
            key(&mut a, KeyCode::Enter),
            vec![Effect::Session(CmdDebug::Run(0))]
        );
        ready(&mut a, 1);
        assert_eq!(
            key(&mut a, KeyCode::Enter),
            vec![Effect::Session(CmdDebug::Run(1))]
        );
        assert_eq!(a.lesson.as_ref().unwrap().cursor, 1);
    }

    #[test]
    fn back_replays_to_the_step_before() {
        let mut a = app();
        key(&mut a, KeyCode::Enter);
        ready(&mut a, 3);
        a.lesson.as_mut().unwrap().cursor = 2;
        assert_eq!(
            key(&mut a, KeyCode::Left),
            vec![Effect::Session(CmdDebug::GoTo(1))]
        );
        // Busy: keys that need the session are ignored.
        assert_eq!(key(&mut a, KeyCode::Left), vec![]);
    }

    #[test]
    fn goto_hints_solution_and_shell() {
        let mut a = app();
        key(&mut a, KeyCode::Enter);
        ready(&mut a, 4);
        key(&mut a, KeyCode::Char('g'));
        key(&mut a, KeyCode::Char('4'));
        // Step 4 shown not yet run: the sandbox goes back to the state after step 3.
        assert_eq!(
            key(&mut a, KeyCode::Enter),
            vec![Effect::Session(CmdDebug::GoTo(3))]
        );
        assert_eq!(a.lesson.as_ref().unwrap().cursor, 3);
        ready(&mut a, 4);
        key(&mut a, KeyCode::Char('h'));
        key(&mut a, KeyCode::Char('h'));
        key(&mut a, KeyCode::Char('h'));
        assert_eq!(a.lesson.as_ref().unwrap().hints[&3], 2);
        assert_eq!(key(&mut a, KeyCode::Char('S')), vec![]);
        assert!(a.lesson.as_ref().unwrap().solution_shown);
        assert_eq!(
            key(&mut a, KeyCode::Char('S')),
            vec![Effect::Session(CmdDebug::Solve(3))]
        );
        a.lesson.as_mut().unwrap().busy = None;
        assert_eq!(
            key(&mut a, KeyCode::Char('s')),
            vec![Effect::Shell {
                pid: 1,
                label: "uts:sandbox".into()
            }]
        );
        assert_eq!(key(&mut a, KeyCode::Char('q')), vec![Effect::Close]);
    }

    #[test]
    fn leaving_a_lesson_keeps_it_selected_in_the_picker() {
        let lessons = BUILTIN
            .iter()
            .filter(|(n, _)| ["uts.yaml", "pid.yaml"].contains(n))
            .map(|(n, t)| parse(n, t).unwrap())
            .collect();
        let mut a = App::new(lessons, "en", Progress::default(), false);
        let pid = a.lessons.iter().position(|l| l.id == "pid").unwrap();
        // As `containerlab tui pid` does: straight into the lesson.
        a.open(pid);
        assert_eq!(key(&mut a, KeyCode::Char('q')), vec![Effect::Close]);
        a.close();
        assert_eq!(a.screen, Screen::Picker);
        assert_eq!(a.filtered()[a.selected], pid);
    }

    #[test]
    fn digits_and_tab_pick_views() {
        let mut a = app();
        key(&mut a, KeyCode::Enter);
        ready(&mut a, 0);
        let l = a.lesson.as_ref().unwrap();
        let tabs = l.view_tabs();
        assert_eq!(tabs.len(), ALL_VIEWS.len());
        assert_eq!(l.chosen_view(), tabs[0]);
        key(&mut a, KeyCode::Char('3'));
        assert_eq!(a.lesson.as_ref().unwrap().chosen_view(), tabs[2]);
        key(&mut a, KeyCode::Char('0'));
        assert_eq!(a.lesson.as_ref().unwrap().chosen_view(), tabs[9]);
        key(&mut a, KeyCode::Tab);
        key(&mut a, KeyCode::Tab);
        assert_eq!(a.lesson.as_ref().unwrap().chosen_view(), tabs[11]);
        key(&mut a, KeyCode::Tab);
        assert_eq!(a.lesson.as_ref().unwrap().chosen_view(), tabs[0]);
    }

    #[test]
    fn z_zooms_the_view_whose_arrows_then_scroll_it() {
        let mut a = app();
        key(&mut a, KeyCode::Enter);
        ready(&mut a, 1);
        key(&mut a, KeyCode::Char('z'));
        assert_eq!(a.lesson.as_ref().unwrap().zoom, Some((0, 0)));
        // As the drawing found it: 5 lines and 40 columns more than the pane shows.
        a.lesson.as_ref().unwrap().zoom_limit.set((5, 40));
        key(&mut a, KeyCode::Down);
        key(&mut a, KeyCode::Right);
        key(&mut a, KeyCode::Right);
        key(&mut a, KeyCode::Left);
        assert_eq!(a.lesson.as_ref().unwrap().zoom, Some((1, 8)));
        // Scrolling stops where the view ends.
        for _ in 0..20 {
            key(&mut a, KeyCode::PageDown);
            key(&mut a, KeyCode::Right);
        }
        assert_eq!(a.lesson.as_ref().unwrap().zoom, Some((5, 40)));
        key(&mut a, KeyCode::Home);
        key(&mut a, KeyCode::Down);
        key(&mut a, KeyCode::Right);
        // Left scrolls rather than going back a step; Tab still switches the view.
        assert_eq!(a.lesson.as_ref().unwrap().cursor, 0);
        key(&mut a, KeyCode::Tab);
        assert_eq!(a.lesson.as_ref().unwrap().view_tab, 1);
        // Esc leaves the zoom, not the lesson.
        assert_eq!(key(&mut a, KeyCode::Esc), vec![]);
        assert_eq!(a.lesson.as_ref().unwrap().zoom, None);
        assert_eq!(key(&mut a, KeyCode::Esc), vec![Effect::Close]);
    }

    #[test]
    fn a_lesson_left_half_way_says_where_the_learner_stopped() {
        let mut a = app();
        let first = a.lessons[0].steps[0].id.clone();
        a.progress.step_done("uts", &first);
        key(&mut a, KeyCode::Enter);
        assert_eq!(
            a.message.as_deref(),
            Some("you stopped at step 2: g 2 Enter goes there")
        );
        // A lesson never started, or done, opens without a word.
        let mut b = app();
        key(&mut b, KeyCode::Enter);
        assert_eq!(b.message, None);
    }

    #[test]
    fn picker_filters_and_resets_with_confirmation() {
        let mut a = app();
        let first = a.lessons[0].steps[0].id.clone();
        a.progress.step_done("uts", &first);
        key(&mut a, KeyCode::Char('x'));
        assert!(a.filtered().is_empty());
        key(&mut a, KeyCode::Backspace);
        assert_eq!(a.filtered(), vec![0]);
        let ctrl_r = KeyEvent::new(KeyCode::Char('r'), KeyModifiers::CONTROL);
        a.update(AppEvent::Key(ctrl_r));
        assert_eq!(
            a.overlay,
            Overlay::Confirm(Confirm::ResetLesson("uts".into()))
        );
        key(&mut a, KeyCode::Char('n'));
        assert_eq!(a.status(&a.lessons[0].clone()), Status::InProgress(2));
        a.update(AppEvent::Key(ctrl_r));
        assert_eq!(key(&mut a, KeyCode::Char('y')), vec![Effect::SaveProgress]);
        assert_eq!(a.status(&a.lessons[0].clone()), Status::NotStarted);
        assert_eq!(key(&mut a, KeyCode::Esc), vec![Effect::Quit]);
    }
}
