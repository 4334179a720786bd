//! The one step player: every front end plays a lesson's steps through [`Runner::play_step`],
//! re-judges a step through [`Runner::judge`] and plays an exercise's solution through
//! [`Runner::solve`]. Headless mode, the TUI and the learner's shell differ only in the
//! [`StepMode`] they ask for and in what they do with the events and the [`StepResult`].
//!
//! A step is: its actions, in order, until one fails unexpectedly (the step is then *broken* and
//! later steps make no sense); the views it names; its checks. An exercise's checks must *fail*
//! before its solution (an exercise that starts solved teaches nothing) and pass after it.

use super::events::{ActionError, CheckOutcome, Event, Phase, Sink, TraceCall};
use super::runner::Runner;
use super::test_hook::{self, Moment};
use crate::engine::sandbox::EngineError;
use containerlab_trace::Record;

/// How a step is played.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepMode {
    /// The learner does the exercise: its checks are judged once, before anything is solved
    /// (they are expected to fail), and again when the learner asks ([`Runner::judge`]).
    Learner,
    /// The exercise is solved by its solution: judged before it (must fail), then after (must
    /// pass). Headless runs and replays to a later step play this way.
    Solved,
}

/// One action as it ran.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionRecord {
    pub action: String,
    pub process: String,
    /// The calls as strace lines, as the TUI shows them: the text of `calls`.
    pub trace: Vec<String>,
    /// The same calls as the engine recorded them, for the JSON events.
    pub calls: Vec<Record>,
    pub error: Option<ActionError>,
    /// What a `run` that failed (exited with a status other than 0, or was killed) printed,
    /// stdout then stderr, at most [`FAILED_OUTPUT_LINES`] of its last lines: the trace only
    /// says "exited with status 2", the output says why ("Network is unreachable").
    pub output: Vec<String>,
}

/// How many of a failed program's last lines of output a step shows.
pub const FAILED_OUTPUT_LINES: usize = 8;

/// The lines a failed program printed, stdout then stderr, its last
/// [`FAILED_OUTPUT_LINES`] (a long output's cut is said in its first line).
pub fn failed_output(stdout: &str, stderr: &str) -> Vec<String> {
    let lines: Vec<&str> = stdout
        .lines()
        .chain(stderr.lines())
        .filter(|l| !l.trim().is_empty())
        .collect();
    let cut = lines.len().saturating_sub(FAILED_OUTPUT_LINES);
    let mut shown: Vec<String> = Vec::new();
    if cut > 0 {
        shown.push(format!("[… {cut} more lines before]"));
    }
    shown.extend(lines[cut..].iter().map(|l| l.to_string()));
    shown
}

impl ActionRecord {
    pub fn event(&self, step: usize) -> Event {
        Event::Action {
            step,
            action: self.action.clone(),
            process: self.process.clone(),
            trace: TraceCall::of(&self.calls),
            error: self.error.clone(),
            output: self.output.clone(),
        }
    }
}

/// An exercise's solution as it ran.
#[derive(Debug, Clone, PartialEq)]
pub struct SolutionRun {
    pub shell: String,
    /// The calls as strace lines (the text of `calls`).
    pub trace: Vec<String>,
    pub calls: Vec<Record>,
    /// The shell exited with status 0.
    pub ok: bool,
}

/// What one step did and how its checks came out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepResult {
    pub actions: Vec<ActionRecord>,
    /// The verdicts that count: for an exercise played [`StepMode::Solved`], those after the
    /// solution (plus a failure if it was solved before it ran).
    pub checks: Vec<CheckOutcome>,
    /// An action failed unexpectedly: later steps cannot run.
    pub broken: bool,
    pub solution: Option<SolutionRun>,
}

impl StepResult {
    pub fn passed(&self) -> bool {
        !self.broken && self.checks.iter().all(|c| c.passed)
    }
}

impl Runner {
    /// Plays step `index`: its actions, its views (when the sink wants them), its checks, and
    /// for an exercise what `mode` asks. Reports everything to `sink` as it happens, ending with
    /// [`Event::StepEnd`].
    pub fn play_step(
        &mut self,
        index: usize,
        mode: StepMode,
        sink: &mut dyn Sink,
    ) -> Result<StepResult, EngineError> {
        let mut result = StepResult::default();
        match self.run_actions(index, &mut result.actions, sink) {
            Ok(intact) => result.broken = !intact,
            Err(EngineError::Interrupted) => return Err(EngineError::Interrupted),
            // The sandbox itself failed (its agent died, say): the step cannot go on.
            Err(e) => {
                let record = ActionRecord {
                    action: "engine".into(),
                    process: "sandbox".into(),
                    trace: vec![],
                    calls: vec![],
                    error: Some(ActionError::plain(e.to_string())),
                    output: vec![],
                };
                sink.emit(&record.event(index));
                result.actions.push(record);
                result.broken = true;
            }
        }
        if !result.broken {
            test_hook::stop_here(index, Moment::Actions, self.sandbox())?;
            if sink.wants_views() {
                let views = self.views(index);
                sink.emit(&Event::Views { step: index, views });
            }
            let exercise = self.lesson().steps[index].exercise.is_some();
            result.checks = match (exercise, mode) {
                (false, _) => self.check(index, Phase::Normal),
                (true, StepMode::Learner) => self.check(index, Phase::BeforeSolution),
                (true, StepMode::Solved) => self.solve_from_start(index, &mut result, sink)?,
            };
            for c in &result.checks {
                sink.emit(&Event::Check(c.clone()));
            }
        }
        sink.emit(&Event::StepEnd {
            step: index,
            passed: result.passed(),
        });
        test_hook::stop_here(index, Moment::Checks, self.sandbox())?;
        Ok(result)
    }

    /// Judges step `index` again, now: after the learner acted in the shell, or pressed `c`.
    /// An exercise's verdicts then count as solved or not.
    pub fn judge(&mut self, index: usize, sink: &mut dyn Sink) -> Vec<CheckOutcome> {
        let phase = match self.lesson().steps[index].exercise {
            Some(_) => Phase::AfterSolution,
            None => Phase::Normal,
        };
        let checks = self.check(index, phase);
        for c in &checks {
            sink.emit(&Event::Check(c.clone()));
        }
        sink.emit(&Event::Judged {
            step: index,
            passed: checks.iter().all(|c| c.passed),
        });
        checks
    }

    /// Plays an exercise's solution for the learner, then judges the step.
    pub fn solve(
        &mut self,
        index: usize,
        sink: &mut dyn Sink,
    ) -> Result<(Option<SolutionRun>, Vec<CheckOutcome>), EngineError> {
        let run = self.run_solution(index)?;
        if let Some(run) = &run {
            sink.emit(&solution_event(index, run));
        }
        Ok((run, self.judge(index, sink)))
    }

    /// An exercise judged before and after its solution. Returns the verdicts that count: the
    /// after-solution ones, plus one failure if the exercise was already solved.
    fn solve_from_start(
        &mut self,
        index: usize,
        result: &mut StepResult,
        sink: &mut dyn Sink,
    ) -> Result<Vec<CheckOutcome>, EngineError> {
        let before = self.check(index, Phase::BeforeSolution);
        for o in &before {
            sink.emit(&Event::Check(o.clone()));
        }
        let mut counted = Vec::new();
        if before.iter().all(|o| o.passed) {
            counted.push(unsolved_at_start(index, &self.lesson().steps[index].id));
        }
        let run = self.run_solution(index)?;
        let solved = run.as_ref().is_none_or(|r| r.ok);
        // A solution past its time limit was killed (its trace ends with the ETIMEDOUT kill).
        let timed_out = run
            .as_ref()
            .is_some_and(|r| r.trace.last().is_some_and(|l| l.contains("ETIMEDOUT")));
        if let Some(run) = &run {
            sink.emit(&solution_event(index, run));
        }
        result.solution = run;
        let mut after = self.check(index, Phase::AfterSolution);
        if !solved {
            for o in &mut after {
                o.why.get_or_insert_with(|| match timed_out {
                    true => "the solution did not end within its time limit (timeout_secs) \
                             and was killed with its process group"
                        .into(),
                    false => "the solution command failed".into(),
                });
            }
        }
        counted.extend(after);
        Ok(counted)
    }
}

fn solution_event(step: usize, run: &SolutionRun) -> Event {
    Event::Solution {
        step,
        shell: run.shell.clone(),
        trace: TraceCall::of(&run.calls),
    }
}

/// The verdict for an exercise whose checks all passed before the learner did anything.
fn unsolved_at_start(step: usize, step_id: &str) -> CheckOutcome {
    CheckOutcome {
        step,
        step_id: step_id.to_string(),
        id: format!("{step_id}-unsolved-at-start"),
        claim: "the exercise is not solved before the learner acts".into(),
        passed: false,
        observed: "every check already passes".into(),
        expected: "at least one check fails before the solution".into(),
        why: Some(
            "an exercise whose checks pass before anything is done teaches nothing: fix the lesson"
                .into(),
        ),
        phase: Phase::Normal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_programs_output_is_kept_as_its_last_lines() {
        // ping writes its complaint to stderr; blank lines say nothing.
        assert_eq!(
            failed_output("", "ping: connect: Network is unreachable\n\n"),
            vec!["ping: connect: Network is unreachable".to_string()]
        );
        assert_eq!(
            failed_output("touching 200 MiB\n", "oops\n"),
            vec!["touching 200 MiB".to_string(), "oops".to_string()]
        );
        let long: String = (1..=20).map(|i| format!("line {i}\n")).collect();
        let kept = failed_output(&long, "");
        assert_eq!(kept.len(), FAILED_OUTPUT_LINES + 1);
        assert_eq!(kept[0], "[… 12 more lines before]");
        assert_eq!(kept.last().unwrap(), "line 20");
        assert!(failed_output("", "").is_empty());
    }
}
