//! The progress file: its rules, its format, its errors.

use super::*;
use crate::session::events::{CheckOutcome, Collect, Event, Sink};

#[test]
fn rfc3339_matches_known_dates() {
    assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    assert_eq!(rfc3339(1_798_418_096), "2026-12-28T00:34:56Z");
}

fn check(id: &str, passed: bool, phase: Phase) -> Event {
    Event::Check(CheckOutcome::bare(id, passed, phase))
}

/// A two-step lesson's events: step one passes, step two has a failing check.
fn two_steps() -> Vec<Event> {
    let step = |i: usize, id: &str| Event::StepStart {
        step: i,
        id: id.to_string(),
        title: String::new(),
        text: String::new(),
        command: None,
    };
    vec![
        step(0, "one"),
        check("a", false, Phase::BeforeSolution),
        check("a", true, Phase::AfterSolution),
        Event::StepEnd {
            step: 0,
            passed: true,
        },
        step(1, "two"),
        check("b", false, Phase::Normal),
        Event::StepEnd {
            step: 1,
            passed: false,
        },
    ]
}

#[test]
fn the_learners_steps_checks_and_latest_verdicts_are_kept() {
    let mut p = Progress::default();
    let mut tracker = Tracker::new("demo", vec!["one".into(), "two".into()]);
    for e in two_steps() {
        tracker.record(&mut p, &e);
    }
    let l = &p.lessons["demo"];
    assert_eq!(l.steps_done, vec!["one"]);
    assert_eq!(l.checks_passed(), vec!["a"]);
    assert_eq!(l.checks_failed(), vec!["b"]);
    // Playing the last step reached the end: one run, not passed.
    assert_eq!(l.runs, 1);
    assert!(l.completed.is_none());
    // The learner fixes step two and judges it again: the lesson is complete.
    tracker.record(&mut p, &check("b", true, Phase::Normal));
    tracker.record(
        &mut p,
        &Event::Judged {
            step: 1,
            passed: true,
        },
    );
    assert_eq!(p.lessons["demo"].steps_done, vec!["one", "two"]);
    assert!(p.lessons["demo"].completed.is_some());
    assert_eq!(p.lessons["demo"].runs, 1);
    assert!(p.reset(Some("demo")));
    assert!(!p.reset(Some("demo")));
}

#[test]
fn a_headless_play_counts_apart_from_the_learner() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/progress.json");
    let mut collect = Collect::default();
    let mut events = two_steps();
    events.push(Event::LessonEnd {
        lesson: "demo".into(),
        passed: false,
        checks_passed: 1,
        checks_failed: 1,
    });
    {
        let mut r = Recorder::new(&mut collect, path.clone(), Progress::load(&path).unwrap());
        for e in &events {
            r.emit(e);
        }
        assert!(r.error.is_none());
    }
    assert_eq!(collect.0.len(), events.len(), "every event is passed on");
    let l = &Progress::load(&path).unwrap().lessons["demo"];
    assert_eq!(
        l.headless.as_ref().map(|h| (h.runs, h.passed)),
        Some((1, false))
    );
    assert!(l.steps_done.is_empty() && l.checks.is_empty() && l.runs == 0);
    assert!(l.completed.is_none());
}

#[test]
fn an_exercise_keeps_the_best_way_it_was_solved() {
    let mut p = Progress::default();
    assert!(p.exercise_solved("demo", "ex", SolvedBy::Solution, 2));
    assert!(p.exercise_solved("demo", "ex", SolvedBy::Learner, 2));
    assert!(p.exercise_solved("demo", "ex", SolvedBy::Learner, 0));
    assert!(!p.exercise_solved("demo", "ex", SolvedBy::Learner, 1));
    assert!(!p.exercise_solved("demo", "ex", SolvedBy::Solution, 0));
    let r = &p.lessons["demo"].exercises["ex"];
    assert_eq!((r.by, r.hints), (SolvedBy::Learner, 0));
}

#[test]
fn a_foreign_file_is_refused_not_overwritten() {
    let e = Progress::parse(Path::new("x.json"), r#"{"format":"other","version":1}"#).unwrap_err();
    assert!(
        e.to_string().contains("not a containerlab progress file"),
        "{e}"
    );
}
