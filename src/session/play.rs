//! Plays a whole lesson without a learner: every step in order through the one step player, every
//! exercise solved by its solution. This is headless mode, and what CI runs.

use super::events::{Event, Sink};
use super::player::StepMode;
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
    let (mut passed, mut failed) = (0, 0);
    let mut all_ok = true;
    // Test-only: a learner who opens a shell and explores before the first step and after each.
    let explore = std::env::var(super::explore::EXPLORE_VAR).ok();
    let explore_at = |runner: &Runner, step: usize, done: usize| {
        if let Some(commands) = &explore {
            if let Err(e) = super::explore::explore(runner, step, done, commands) {
                eprintln!("containerlab: exploring at step {}: {e}", step + 1);
            }
        }
    };
    let typed = std::env::var(super::explore::TYPE_STEPS_VAR).unwrap_or_default();
    let typed: Vec<&str> = typed.split(',').collect();
    explore_at(runner, 0, 0);
    for index in 0..runner.lesson().steps.len() {
        let result = if typed.contains(&runner.lesson().steps[index].id.as_str()) {
            super::explore::play_typed(runner, index, sink).unwrap_or_else(|e| {
                eprintln!("containerlab: typing step {}: {e}", index + 1);
                super::player::StepResult {
                    broken: true,
                    ..Default::default()
                }
            })
        } else {
            runner.play_step(index, StepMode::Solved, sink)?
        };
        explore_at(runner, index, index + 1);
        let ok = result.checks.iter().filter(|c| c.passed).count();
        passed += ok;
        failed += result.checks.len() - ok;
        all_ok &= result.passed();
        if result.broken {
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
