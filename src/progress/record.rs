//! How progress is recorded: [`Tracker`] turns what the session reports into the learner's
//! progress by one set of rules (the TUI feeds it every event its session thread forwards);
//! [`Recorder`] is headless mode's sink, which counts its plays apart from the learner's.

use super::{Progress, ProgressError};
use crate::session::events::{Event, Sink};
use std::path::PathBuf;

/// The rules that turn a session's events into progress, for one lesson.
#[derive(Debug, Clone, Default)]
pub struct Tracker {
    lesson: String,
    /// Step ids by index, as far as known (headless learns them from the events).
    step_ids: Vec<String>,
}

impl Tracker {
    /// A tracker for a lesson whose steps are known up front (the TUI).
    pub fn new(lesson: &str, step_ids: Vec<String>) -> Tracker {
        Tracker {
            lesson: lesson.to_string(),
            step_ids,
        }
    }

    /// Records what `event` says into `progress`; true when it changed.
    pub fn record(&mut self, progress: &mut Progress, event: &Event) -> bool {
        match event {
            Event::LessonStart { lesson, steps, .. } => {
                self.lesson = lesson.clone();
                self.step_ids = vec![String::new(); *steps];
                progress.lesson_started(lesson);
            }
            Event::StepStart { step, id, .. } => {
                if self.step_ids.len() <= *step {
                    self.step_ids.resize(step + 1, String::new());
                }
                self.step_ids[*step] = id.clone();
                return false;
            }
            Event::Check(c) => return progress.record_check(&self.lesson, c),
            Event::StepEnd { step, passed } => {
                self.judged(progress, *step, *passed);
                // Playing the last step is reaching the lesson's end: one run.
                if step + 1 == self.step_ids.len() {
                    let passed = progress.all_passed(&self.lesson, &self.ids());
                    progress.lesson_completed(&self.lesson, passed);
                }
            }
            // A step fixed after the lesson's end was reached can complete the lesson.
            Event::Judged { step, passed } => {
                self.judged(progress, *step, *passed);
                progress.complete_if_passed(&self.lesson, &self.ids());
            }
            _ => return false,
        }
        true
    }

    fn judged(&self, progress: &mut Progress, step: usize, passed: bool) {
        match self.step_ids.get(step).filter(|id| !id.is_empty()) {
            Some(id) if passed => progress.step_done(&self.lesson, id),
            _ => progress.lesson_started(&self.lesson),
        }
    }

    fn ids(&self) -> Vec<&str> {
        self.step_ids.iter().map(String::as_str).collect()
    }
}

/// A [`Sink`] for headless runs: passes every event on and records each play that reached a
/// lesson's end into the file (saved then, and when dropped).
pub struct Recorder<'a> {
    inner: &'a mut dyn Sink,
    path: PathBuf,
    progress: Progress,
    dirty: bool,
    /// The first error saving met (reported once by the caller).
    pub error: Option<ProgressError>,
}

impl<'a> Recorder<'a> {
    /// Records on top of `progress` (loaded from `path` with [`Progress::load`]; a file that
    /// cannot be read should be reported, not silently replaced by an empty one).
    pub fn new(inner: &'a mut dyn Sink, path: PathBuf, progress: Progress) -> Self {
        Recorder {
            inner,
            path,
            progress,
            dirty: false,
            error: None,
        }
    }

    /// Saves now if anything changed since the last save.
    pub fn flush(&mut self) {
        if self.dirty {
            self.dirty = false;
            if let Err(e) = self.progress.save(&self.path) {
                self.error.get_or_insert(e);
            }
        }
    }
}

impl Sink for Recorder<'_> {
    fn emit(&mut self, event: &Event) {
        self.inner.emit(event);
        // A headless play solves every exercise with its solution: it is not the learner's
        // progress, and counts apart (see [`HeadlessRecord`]).
        if let Event::LessonEnd { lesson, passed, .. } = event {
            self.progress.headless_run(lesson, *passed);
            self.dirty = true;
            self.flush();
        }
    }

    fn wants_views(&self) -> bool {
        self.inner.wants_views()
    }
}

impl Drop for Recorder<'_> {
    fn drop(&mut self) {
        self.flush();
    }
}
