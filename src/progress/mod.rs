//! A learner's saved progress: which steps of which lessons are done and which checks passed.
//!
//! A workshop's instructor collects one export per laptop (`containerlab progress --export`).
//! What the learner did in the TUI is recorded by one set of rules, [`Tracker`], from the events
//! the session reports, then [`Progress::save`]. A headless run solves every exercise with its
//! solution, so it never counts as the learner's: [`Recorder`] (its [`Sink`]) notes only that a
//! headless play of the lesson ran and whether it passed (`headless`), so an instructor's
//! `run all --headless` on a learner's VM marks nothing done.
//!
//! # Where
//!
//! `$CONTAINERLAB_STATE_DIR/progress.json` if that variable is set (tests use it), else
//! `$XDG_STATE_HOME/containerlab/progress.json`, else `~/.local/state/containerlab/progress.json`.
//! Under `sudo` that is root's home, the same for every lesson run.
//!
//! # Format (version 1)
//!
//! ```json
//! {
//!   "format": "containerlab-progress",
//!   "version": 1,
//!   "lessons": {
//!     "uts": {
//!       "started": "2026-11-28T04:30:00Z",
//!       "updated": "2026-11-28T04:31:12Z",
//!       "completed": "2026-11-28T04:31:12Z",
//!       "runs": 2,
//!       "steps_done": ["shared", "unshare"],
//!       "checks": {
//!         "same-uts-at-start": {"passed": true, "at": "2026-11-28T04:31:10Z"}
//!       },
//!       "exercises": {
//!         "yourself": {"by": "learner", "hints": 1, "at": "2026-11-28T04:31:12Z"}
//!       },
//!       "headless": {"runs": 1, "passed": true, "at": "2026-11-28T05:00:00Z"}
//!     }
//!   }
//! }
//! ```
//!
//! * `lessons` is keyed by lesson id; `steps_done` lists step ids in the order first done; a step
//!   once done stays done.
//! * `checks` is keyed by check id (unique within a lesson) and keeps the *latest* verdict with its
//!   time: a check that failed and later passed shows as passed. Checks an exercise is expected to
//!   fail before its solution are not recorded.
//! * `exercises` is keyed by step id: how the learner solved each exercise, the best way so far
//!   (`by`: `learner` before `solution`, then fewer `hints` shown before more). Absent until
//!   solved; an exercise the lab solved on the way to a later step is not the learner's.
//! * `headless` counts plays without a learner; they change nothing else.
//! * `completed` is the first time the whole lesson passed (every step done, no check failing);
//!   `null` until then. `runs` counts plays that reached the lesson's end.
//! * Times are UTC, RFC 3339, to the second.
//! * Readers ignore unknown keys; new optional keys do not change `version`.
//!
//! An export (`containerlab progress --export`) is the same object with `learner`, `hostname` and
//! `exported` added at the top level; `containerlab progress --summary` reads exports.

use crate::session::events::{CheckOutcome, Phase};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The value of the top-level `format` key.
pub const FORMAT: &str = "containerlab-progress";
/// The version of the format this build writes.
pub const VERSION: u32 = 1;

/// The whole progress file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub format: String,
    pub version: u32,
    #[serde(default)]
    pub lessons: BTreeMap<String, LessonProgress>,
}

impl Default for Progress {
    fn default() -> Self {
        Progress {
            format: FORMAT.into(),
            version: VERSION,
            lessons: BTreeMap::new(),
        }
    }
}

/// One lesson's progress.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LessonProgress {
    pub started: String,
    pub updated: String,
    #[serde(default)]
    pub completed: Option<String>,
    #[serde(default)]
    pub runs: u32,
    #[serde(default)]
    pub steps_done: Vec<String>,
    #[serde(default)]
    pub checks: BTreeMap<String, CheckRecord>,
    /// The exercises the learner solved, by step id (absent: not solved yet).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub exercises: BTreeMap<String, ExerciseRecord>,
    /// Plays without a learner (`--headless`): they solve every exercise with its solution, so
    /// they count here, never as the learner's steps, checks or completion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headless: Option<HeadlessRecord>,
}

/// How an exercise was solved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SolvedBy {
    /// The learner's own commands made the checks pass (maybe after hints).
    Learner,
    /// The lab ran the solution for the learner (`S`, twice).
    Solution,
}

/// The best way an exercise was solved so far: by the learner before by the solution, with
/// fewer hints before more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExerciseRecord {
    pub by: SolvedBy,
    /// How many hints were shown before.
    pub hints: usize,
    pub at: String,
}

/// What headless plays of a lesson did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeadlessRecord {
    pub runs: u32,
    /// Whether the last one passed, and when it ended.
    pub passed: bool,
    pub at: String,
}

/// The latest verdict of one check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckRecord {
    pub passed: bool,
    pub at: String,
}

impl LessonProgress {
    /// Ids of the checks whose latest verdict is a pass, sorted.
    pub fn checks_passed(&self) -> Vec<String> {
        self.checks
            .iter()
            .filter(|(_, c)| c.passed)
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// Ids of the checks whose latest verdict is a failure, sorted.
    pub fn checks_failed(&self) -> Vec<String> {
        self.checks
            .iter()
            .filter(|(_, c)| !c.passed)
            .map(|(id, _)| id.clone())
            .collect()
    }
}

/// How far a learner got in one lesson.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    NotStarted,
    /// At step N (1-based: the first step not done yet).
    InProgress(usize),
    /// The whole lesson passed once.
    Done,
}

/// Why the progress file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ProgressError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path}: not a containerlab progress file: {message} \
         (`containerlab reset --yes` moves it aside and starts afresh)"
    )]
    Format { path: PathBuf, message: String },
}

/// The directory of the state files (see the module docs).
pub fn state_dir() -> PathBuf {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(d) = env("CONTAINERLAB_STATE_DIR") {
        return d;
    }
    if let Some(d) = env("XDG_STATE_HOME") {
        return d.join("containerlab");
    }
    let home = env("HOME").unwrap_or_else(|| PathBuf::from("/root"));
    home.join(".local/state/containerlab")
}

/// The progress file (see the module docs).
pub fn default_path() -> PathBuf {
    state_dir().join("progress.json")
}

impl Progress {
    /// Reads a progress file (or an export); a missing file is empty progress.
    pub fn load(path: &Path) -> Result<Progress, ProgressError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(path, &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Progress::default()),
            Err(source) => Err(ProgressError::Io {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    pub fn parse(path: &Path, text: &str) -> Result<Progress, ProgressError> {
        let bad = |message: String| ProgressError::Format {
            path: path.to_path_buf(),
            message,
        };
        let p: Progress = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        if p.format != FORMAT {
            return Err(bad(format!("`format` is {:?}, not {FORMAT:?}", p.format)));
        }
        if p.version > VERSION {
            return Err(bad(format!(
                "version {} is newer than this containerlab reads ({VERSION})",
                p.version
            )));
        }
        Ok(p)
    }

    /// Writes the file atomically (a temporary file renamed over it), making its directory.
    pub fn save(&self, path: &Path) -> Result<(), ProgressError> {
        let io = |source| ProgressError::Io {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let mut text = serde_json::to_string_pretty(self).expect("progress serializes");
        text.push('\n');
        let tmp = path.with_extension(format!("json.tmp-{}", std::process::id()));
        std::fs::write(&tmp, text).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            io(e)
        })
    }

    fn lesson_mut(&mut self, lesson: &str, now: &str) -> &mut LessonProgress {
        let l = self
            .lessons
            .entry(lesson.to_string())
            .or_insert_with(|| LessonProgress {
                started: now.to_string(),
                ..LessonProgress::default()
            });
        l.updated = now.to_string();
        l
    }

    /// Notes that a lesson was started (creates its entry).
    pub fn lesson_started(&mut self, lesson: &str) {
        self.lesson_mut(lesson, &now());
    }

    /// Notes that a step was done (all its checks passed).
    pub fn step_done(&mut self, lesson: &str, step: &str) {
        let l = self.lesson_mut(lesson, &now());
        if !l.steps_done.iter().any(|s| s == step) {
            l.steps_done.push(step.to_string());
        }
    }

    /// Records a check's latest verdict.
    pub fn check(&mut self, lesson: &str, check: &str, passed: bool) {
        let at = now();
        let l = self.lesson_mut(lesson, &at);
        l.checks
            .insert(check.to_string(), CheckRecord { passed, at });
    }

    /// Notes that a play reached the lesson's end, and whether everything passed.
    pub fn lesson_completed(&mut self, lesson: &str, passed: bool) {
        let at = now();
        let l = self.lesson_mut(lesson, &at);
        l.runs += 1;
        if passed && l.completed.is_none() {
            l.completed = Some(at);
        }
    }

    /// Records a check's outcome as a session reports it. Outcomes before an exercise's solution
    /// are the exercise's starting point, not progress: they are not recorded (false).
    pub fn record_check(&mut self, lesson: &str, outcome: &CheckOutcome) -> bool {
        if outcome.phase == Phase::BeforeSolution {
            return false;
        }
        self.check(lesson, &outcome.id, outcome.passed);
        true
    }

    /// Notes that the learner solved an exercise (the step `step`); keeps the best way it was
    /// solved so far. True when that changed.
    pub fn exercise_solved(
        &mut self,
        lesson: &str,
        step: &str,
        by: SolvedBy,
        hints: usize,
    ) -> bool {
        let at = now();
        let l = self.lesson_mut(lesson, &at);
        let better = l
            .exercises
            .get(step)
            .is_none_or(|old| (by, hints) < (old.by, old.hints));
        if better {
            l.exercises
                .insert(step.to_string(), ExerciseRecord { by, hints, at });
        }
        better
    }

    /// Notes a headless play of a lesson that reached its end.
    pub fn headless_run(&mut self, lesson: &str, passed: bool) {
        let at = now();
        let l = self.lesson_mut(lesson, &at);
        let runs = l.headless.as_ref().map_or(0, |h| h.runs) + 1;
        l.headless = Some(HeadlessRecord { runs, passed, at });
    }

    /// Whether every one of `step_ids` is done and no check's latest verdict is a failure.
    pub fn all_passed(&self, lesson: &str, step_ids: &[&str]) -> bool {
        self.lessons.get(lesson).is_some_and(|l| {
            step_ids
                .iter()
                .all(|id| l.steps_done.iter().any(|d| d == id))
                && l.checks_failed().is_empty()
        })
    }

    /// Marks the lesson completed if it now passes as a whole (a step fixed after the lesson's
    /// end was reached, as the TUI allows); does not count a run.
    pub fn complete_if_passed(&mut self, lesson: &str, step_ids: &[&str]) {
        if self.all_passed(lesson, step_ids) {
            if let Some(l) = self.lessons.get_mut(lesson) {
                l.completed.get_or_insert_with(now);
            }
        }
    }

    /// How far the learner got in a lesson whose steps are `step_ids`, in order.
    pub fn status(&self, lesson: &str, step_ids: &[&str]) -> Status {
        let Some(l) = self.lessons.get(lesson) else {
            return Status::NotStarted;
        };
        if l.completed.is_some() {
            return Status::Done;
        }
        if l.steps_done.is_empty() {
            return Status::NotStarted;
        }
        let next = step_ids
            .iter()
            .position(|id| !l.steps_done.iter().any(|d| d == id))
            .unwrap_or(step_ids.len().saturating_sub(1));
        Status::InProgress(next + 1)
    }

    /// Forgets one lesson (true if it was there), or every lesson.
    pub fn reset(&mut self, lesson: Option<&str>) -> bool {
        match lesson {
            Some(id) => self.lessons.remove(id).is_some(),
            None => {
                let had = !self.lessons.is_empty();
                self.lessons.clear();
                had
            }
        }
    }
}

/// The current time, UTC, RFC 3339 to the second.
pub fn now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    rfc3339(secs)
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian, UTC).
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

mod record;
pub use record::{Recorder, Tracker};
#[cfg(test)]
mod tests;
