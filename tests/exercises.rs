//! The lab is a lab: the learner does the work. Every lesson has exercises (at least two, at
//! least thirty in all), and a headless run proves each one starts unsolved (its checks fail
//! before its solution) and is solved by its solution (they pass after). Root test; the run is in
//! a network namespace the test makes.

mod common;

use common::lesson_run::{command, lab_turn, Wrap};
use containerlab::lesson::load::catalog;
use std::collections::BTreeMap;

/// Checks as (passed, id).
type Verdicts = Vec<(bool, String)>;

#[test]
fn every_lesson_has_exercises_and_each_is_unsolved_before_and_solved_after() {
    let lessons = catalog(&[]).0;
    let exercises: Vec<(String, usize, String)> = lessons
        .iter()
        .flat_map(|l| {
            l.lesson
                .steps
                .iter()
                .enumerate()
                .filter(|(_, s)| s.exercise.is_some())
                .map(|(i, s)| (l.lesson.id.clone(), i, s.id.clone()))
        })
        .collect();
    for l in &lessons {
        let n = exercises
            .iter()
            .filter(|(id, ..)| *id == l.lesson.id)
            .count();
        assert!(n >= 2, "{} has {n} exercise(s)", l.lesson.id);
    }
    assert!(
        exercises.len() >= 30,
        "{} exercises in all",
        exercises.len()
    );

    let lab = lab_turn();
    let scratch = tempfile::tempdir().unwrap();
    let args: Vec<String> = ["run", "all", "--headless", "--format", "json"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let out = command(Wrap::NetNsLoUp("true"), &args, lab.dir(), scratch.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // (lesson, step index) -> the checks before the solution and after it.
    let mut verdicts: BTreeMap<(String, usize), (Verdicts, Verdicts)> = BTreeMap::new();
    let mut lesson = String::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let e: serde_json::Value = serde_json::from_str(line).unwrap();
        if e["event"] == "lesson_start" {
            lesson = e["lesson"].as_str().unwrap().to_string();
        }
        if e["event"] != "check" {
            continue;
        }
        let step = e["step"].as_u64().unwrap() as usize;
        let verdict = (
            e["passed"].as_bool().unwrap(),
            e["id"].as_str().unwrap().to_string(),
        );
        let entry = verdicts.entry((lesson.clone(), step)).or_default();
        match e["phase"].as_str() {
            Some("before_solution") => entry.0.push(verdict),
            Some("after_solution") => entry.1.push(verdict),
            _ => {}
        }
    }
    for (lesson, step, id) in &exercises {
        let (before, after) = verdicts
            .get(&(lesson.clone(), *step))
            .unwrap_or_else(|| panic!("{lesson}/{id}: no judged exercise in the run"));
        assert!(
            before.iter().any(|(passed, _)| !passed),
            "{lesson}/{id} is solved before the learner acts: {before:?}"
        );
        assert!(
            !after.is_empty() && after.iter().all(|(passed, _)| *passed),
            "{lesson}/{id} is not solved by its solution: {after:?}"
        );
    }
}
