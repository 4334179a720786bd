//! Plays a whole lesson without a learner: every step in order, every exercise solved by its
//! solution. This is headless mode, and what CI runs.
//!
//! An exercise is judged twice: its checks must *fail* before the solution runs (otherwise the
//! exercise is already solved, a bug in the lesson) and pass after it.

use super::events::{CheckOutcome, Event, Phase, Sink};
use super::runner::Runner;
use crate::engine::sandbox::EngineError;
use crate::lesson::schema::{Lesson, Requirement};
use crate::probe;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlayOutcome {
    Passed,
    Failed,
    /// The machine cannot run the lesson; nothing was started.
    Refused,
    Interrupted,
}

/// The requirements a lesson declares, with root always first: every lesson makes privileged calls.
pub fn requirements(lesson: &Lesson) -> Vec<Requirement> {
    let mut reqs = vec![Requirement::Root];
    for r in &lesson.requires {
        if !reqs.contains(r) {
            reqs.push(*r);
        }
    }
    reqs
}

/// Probes the machine for a lesson; the reasons it cannot run, each with its fix.
pub fn refusals(lesson: &Lesson) -> Vec<String> {
    refusals_with(lesson, false)
}

/// Like [`refusals`]; with a learner's own image (`--image`) the lab builds no busybox image,
/// so busybox is not needed.
pub fn refusals_with(lesson: &Lesson, own_image: bool) -> Vec<String> {
    let mut reqs = requirements(lesson);
    if own_image {
        reqs.retain(|r| *r != Requirement::Busybox);
    }
    probe::check_all(&reqs)
        .into_iter()
        .filter(|p| !p.ok)
        .map(|p| match p.fix {
            Some(fix) => format!("{}: {}", p.detail, fix),
            None => p.detail,
        })
        .collect()
}

pub fn play(
    lesson: &Lesson,
    lang: &str,
    exe: &Path,
    interrupt: Arc<AtomicBool>,
    image: Option<&Path>,
    sink: &mut dyn Sink,
) -> PlayOutcome {
    let reasons = refusals_with(lesson, image.is_some());
    if !reasons.is_empty() {
        sink.emit(&Event::Refused {
            lesson: lesson.id.clone(),
            reasons,
        });
        return PlayOutcome::Refused;
    }
    let mut runner = match Runner::start(lesson.clone(), lang, exe, interrupt) {
        Ok(r) => r.with_image(image),
        Err(e) => {
            sink.emit(&Event::Refused {
                lesson: lesson.id.clone(),
                reasons: vec![e.to_string()],
            });
            return PlayOutcome::Refused;
        }
    };
    sink.emit(&runner.intro_event());
    let result = play_steps(&mut runner, sink);
    let report = runner.finish();
    sink.emit(&Event::Teardown {
        undone: report.undone.len(),
        failures: report.failures.clone(),
    });
    match result {
        Err(EngineError::Interrupted) => PlayOutcome::Interrupted,
        Err(_) => PlayOutcome::Failed,
        Ok(true) if report.is_clean() => PlayOutcome::Passed,
        Ok(_) => PlayOutcome::Failed,
    }
}

fn play_steps(runner: &mut Runner, sink: &mut dyn Sink) -> Result<bool, EngineError> {
    let mut passed = 0;
    let mut failed = 0;
    let mut all_ok = true;
    let steps = runner.lesson().steps.len();
    for index in 0..steps {
        let step = runner.lesson().steps[index].clone();
        let intact = match runner.run_actions(index, sink) {
            Ok(ok) => ok,
            Err(EngineError::Interrupted) => return Err(EngineError::Interrupted),
            Err(e) => {
                sink.emit(&Event::Action {
                    step: index,
                    action: "engine".into(),
                    process: "sandbox".into(),
                    trace: vec![],
                    error: Some(super::events::ActionError {
                        errno: None,
                        message: e.to_string(),
                        explanation: None,
                        expected: false,
                    }),
                });
                false
            }
        };
        let mut step_ok = intact;
        if intact {
            sink.emit(&Event::Views {
                step: index,
                views: runner.views(&step.views),
            });
            let outcomes = if step.exercise.is_some() {
                exercise(runner, index, sink)?
            } else {
                runner.check(index, Phase::Normal)
            };
            for o in &outcomes {
                sink.emit(&Event::Check(o.clone()));
                if o.passed {
                    passed += 1;
                } else {
                    failed += 1;
                    step_ok = false;
                }
            }
        }
        sink.emit(&Event::StepEnd {
            step: index,
            passed: step_ok,
        });
        all_ok &= step_ok;
        if !intact {
            break;
        }
    }
    sink.emit(&Event::LessonEnd {
        lesson: runner.lesson().id.clone(),
        passed: all_ok,
        checks_passed: passed,
        checks_failed: failed,
    });
    Ok(all_ok)
}

/// Judges an exercise before and after its solution. Returns the outcomes that count: the
/// after-solution checks, plus one failed outcome if the exercise was already solved.
fn exercise(
    runner: &mut Runner,
    index: usize,
    sink: &mut dyn Sink,
) -> Result<Vec<CheckOutcome>, EngineError> {
    let before = runner.check(index, Phase::BeforeSolution);
    for o in &before {
        sink.emit(&Event::Check(o.clone()));
    }
    let mut counted = Vec::new();
    if before.iter().all(|o| o.passed) {
        let step_id = runner.lesson().steps[index].id.clone();
        counted.push(CheckOutcome {
            step: index,
            step_id: step_id.clone(),
            id: format!("{step_id}-unsolved-at-start"),
            claim: "the exercise is not solved before the learner acts".into(),
            passed: false,
            observed: "every check already passes".into(),
            expected: "at least one check fails before the solution".into(),
            why: Some("an exercise whose checks pass before anything is done teaches nothing: fix the lesson".into()),
            phase: Phase::Normal,
        });
    }
    let solved = runner.solve(index, sink)?;
    let mut after = runner.check(index, Phase::AfterSolution);
    if !solved {
        for o in &mut after {
            o.why
                .get_or_insert_with(|| "the solution command failed".into());
        }
    }
    counted.extend(after);
    Ok(counted)
}
