//! Saved progress: per lesson, which steps ran, which checks passed, and when. Kept in
//! `$XDG_STATE_HOME/containerlab/progress.json` (default `~/.local/state/containerlab/`).

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LessonProgress {
    /// Indexes of the steps whose actions ran.
    pub steps_done: BTreeSet<usize>,
    /// Ids of the checks that passed (as `step-id/check-id`).
    pub checks_passed: BTreeSet<String>,
    /// Unix seconds.
    pub started_at: Option<u64>,
    pub updated_at: Option<u64>,
    pub completed_at: Option<u64>,
}

/// How far a learner got in one lesson.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    NotStarted,
    /// At step N (1-based, the first step not done yet).
    InProgress(usize),
    Done,
}

impl LessonProgress {
    pub fn status(&self, steps: usize) -> Status {
        if self.completed_at.is_some() {
            Status::Done
        } else if self.steps_done.is_empty() {
            Status::NotStarted
        } else {
            let next = (0..steps)
                .find(|i| !self.steps_done.contains(i))
                .unwrap_or(steps.saturating_sub(1));
            Status::InProgress(next + 1)
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Progress {
    pub lessons: BTreeMap<String, LessonProgress>,
    #[serde(skip)]
    path: Option<PathBuf>,
}

/// The directory for state files (progress, log): `$XDG_STATE_HOME/containerlab` or
/// `~/.local/state/containerlab`.
pub fn state_dir() -> PathBuf {
    let base = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local").join("state")))
        .unwrap_or_else(|| PathBuf::from("/tmp"));
    base.join("containerlab")
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Progress {
    /// Progress kept in memory only (tests, or when the state directory is unusable).
    pub fn in_memory() -> Progress {
        Progress::default()
    }

    /// Loads the saved progress; a missing or unreadable file is empty progress.
    pub fn load() -> Progress {
        let path = state_dir().join("progress.json");
        let mut p: Progress = std::fs::read_to_string(&path)
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default();
        p.path = Some(path);
        p
    }

    /// Writes the file (atomically, by rename); a no-op for in-memory progress.
    pub fn save(&self) -> std::io::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_string_pretty(self)?)?;
        std::fs::rename(&tmp, path)
    }

    pub fn get(&self, lesson: &str) -> LessonProgress {
        self.lessons.get(lesson).cloned().unwrap_or_default()
    }

    pub fn status(&self, lesson: &str, steps: usize) -> Status {
        self.get(lesson).status(steps)
    }

    fn entry(&mut self, lesson: &str) -> &mut LessonProgress {
        let t = now();
        let e = self.lessons.entry(lesson.to_string()).or_default();
        e.started_at.get_or_insert(t);
        e.updated_at = Some(t);
        e
    }

    /// Records that a step ran, with the checks that passed; the lesson is done once every step
    /// ran and every check of it passed.
    pub fn record_step(
        &mut self,
        lesson: &str,
        step: usize,
        passed: &[String],
        steps: usize,
        all_checks: usize,
    ) {
        let e = self.entry(lesson);
        e.steps_done.insert(step);
        e.checks_passed.extend(passed.iter().cloned());
        if e.completed_at.is_none()
            && e.steps_done.len() >= steps
            && e.checks_passed.len() >= all_checks
        {
            e.completed_at = Some(now());
        }
    }

    pub fn reset(&mut self, lesson: &str) {
        self.lessons.remove(lesson);
    }

    pub fn reset_all(&mut self) {
        self.lessons.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_follows_steps_and_completion() {
        let mut p = Progress::in_memory();
        assert_eq!(p.status("uts", 4), Status::NotStarted);
        p.record_step("uts", 0, &["a/x".into()], 4, 3);
        assert_eq!(p.status("uts", 4), Status::InProgress(2));
        for s in 1..4 {
            p.record_step("uts", s, &["b/y".into(), "c/z".into()], 4, 3);
        }
        assert_eq!(p.status("uts", 4), Status::Done);
        p.reset("uts");
        assert_eq!(p.status("uts", 4), Status::NotStarted);
    }

    #[test]
    fn round_trips_through_json() {
        let mut p = Progress::in_memory();
        p.record_step("pid", 2, &["s/c".into()], 7, 20);
        let text = serde_json::to_string(&p).unwrap();
        let back: Progress = serde_json::from_str(&text).unwrap();
        assert_eq!(back.lessons, p.lessons);
    }
}
