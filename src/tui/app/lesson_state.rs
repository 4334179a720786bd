//! An open lesson as the UI holds it: the step shown, the results the session reported, the view
//! chosen, the hints shown. Changed only by the app's handlers; drawing reads it.

use super::keys::Intent;
use super::ALL_VIEWS;
use crate::lesson::schema::{Lesson, View};
use crate::progress::Tracker;
use crate::session::focus::Focus;
use crate::session::player::StepResult;
use crate::session::runner::LessonTexts;
use crate::session::views::RenderedView;
use std::collections::{BTreeMap, VecDeque};

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
    /// The view tabs, in the order of their digits for the whole lesson: the views its steps
    /// name, in the order they first come, then the others.
    tabs: Vec<View>,
    /// `z`: the view fills the screen and the arrows scroll it (lines, columns), for views
    /// wider or longer than their pane.
    pub zoom: Option<(u16, u16)>,
    /// How far the zoomed view can scroll (lines, columns), as last drawn; keys stop there.
    pub zoom_limit: std::cell::Cell<(u16, u16)>,
    /// Where the zoomed view was last drawn from (it may start at the step's lines).
    pub zoom_shown: std::cell::Cell<(u16, u16)>,
    pub views: Vec<RenderedView>,
    pub pids: BTreeMap<String, i32>,
    /// What the live views look at; refreshed with every run.
    pub subjects: crate::session::views::Subjects,
    /// Hints shown, per step.
    pub hints: BTreeMap<usize, usize>,
    pub solution_shown: bool,
    /// The lesson's words as the session filled them.
    pub texts: LessonTexts,
    /// What a learner's shell gets in its environment (PATH, WORK, each process's pid).
    pub shell_env: Vec<(String, String)>,
    /// Turns the session's events into the learner's progress.
    pub tracker: Tracker,
    /// The shell's target chosen with `m` (a process name), when not the default.
    pub shell_target: Option<String>,
    pub finished: bool,
    /// Keys that start session work (run, advance, back, re-check, solve), pressed while the
    /// session was busy: carried out in order once it is idle, so quick keys are not lost.
    pub queued: VecDeque<Intent>,
}

impl LessonState {
    pub fn new(index: usize, lesson: Lesson) -> LessonState {
        let step_ids = lesson.steps.iter().map(|s| s.id.clone()).collect();
        let tracker = Tracker::new(&lesson.id, step_ids);
        let mut tabs: Vec<View> = Vec::new();
        for v in lesson.steps.iter().flat_map(|s| &s.views).chain(&ALL_VIEWS) {
            if !tabs.contains(v) {
                tabs.push(*v);
            }
        }
        let mut state = LessonState {
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
            tabs,
            zoom: None,
            zoom_limit: Default::default(),
            zoom_shown: Default::default(),
            views: vec![],
            pids: BTreeMap::new(),
            subjects: Default::default(),
            hints: BTreeMap::new(),
            solution_shown: false,
            texts: LessonTexts::default(),
            shell_env: Vec::new(),
            tracker,
            shell_target: None,
            finished: false,
            queued: VecDeque::new(),
        };
        state.show_step(0);
        state
    }

    /// Shows step `index` from its top, the step's own first view (a step that names none keeps
    /// the view chosen), the solution hidden.
    pub fn show_step(&mut self, index: usize) {
        self.cursor = index;
        self.scroll = 0;
        if let Some(first) = self.lesson.steps[index].views.first() {
            self.view_tab = self.tabs.iter().position(|v| v == first).unwrap_or(0);
        }
        self.solution_shown = false;
    }

    /// Scrolls the step text by `lines` from where it was last drawn. Keys that come quickly
    /// are all handled before the next drawing, so the new place counts as drawn: eight `j`
    /// move eight lines (the drawing then stops at the end of the text).
    pub fn scroll_by(&mut self, lines: i32) {
        let from = i32::from(self.shown_scroll.get());
        let to = (from + lines).clamp(0, i32::from(u16::MAX - 1)) as u16;
        self.scroll = to;
        self.shown_scroll.set(to);
    }

    /// The view tabs: every view, each at the same place (digit) for the whole lesson.
    pub fn view_tabs(&self) -> &[View] {
        &self.tabs
    }

    /// What the step shown is about, for the views to show first (the session decides).
    pub fn focus(&self) -> Focus {
        Focus::of_step(&self.lesson, self.cursor)
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
        crate::session::runner::shell_target(&self.lesson, self.cursor, self.done, &self.pids)
    }
}
