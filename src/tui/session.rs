//! The session thread: it owns the lesson's [`Runner`] (and so its sandbox) for the whole time a
//! lesson is open, takes commands over a channel and answers with [`SessionMsg`]s. The sandbox
//! helper is started with PR_SET_PDEATHSIG, which fires when the *thread* that forked it exits:
//! this thread lives until the lesson is closed, and restarts happen on it too.

use super::text;
use crate::engine::sandbox::EngineError;
use crate::i18n::fill;
use crate::lesson::schema::Lesson;
use crate::session::events::{ActionError, CheckOutcome, Collect, Event, Phase};
use crate::session::play::refusals_with;
use crate::session::runner::Runner;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::{Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;

#[derive(Debug, Clone)]
pub enum Cmd {
    /// Make sure steps `0..step` have run (restarting if the runner is past it), then run `step`.
    Run(usize),
    /// Make sure exactly steps `0..step` have run: restart and replay when needed.
    GoTo(usize),
    /// Restart the sandbox from a clean state.
    Restart,
    /// Judge a step's checks again (after the learner used the shell).
    Check(usize),
    /// Play an exercise's solution for the learner, then judge.
    Solve(usize),
}

/// One action as it ran.
#[derive(Debug, Clone)]
pub struct ActionRecord {
    pub action: String,
    pub process: String,
    pub trace: Vec<String>,
    pub error: Option<ActionError>,
}

/// What one step did and how its checks came out.
#[derive(Debug, Clone, Default)]
pub struct StepResult {
    pub actions: Vec<ActionRecord>,
    pub checks: Vec<CheckOutcome>,
    /// An action failed unexpectedly: later steps cannot run.
    pub broken: bool,
    /// The solution was played for the learner: (shell, its syscall trace).
    pub solution: Option<(String, Vec<String>)>,
}

impl StepResult {
    pub fn passed(&self) -> bool {
        !self.broken && self.checks.iter().all(|c| c.passed)
    }
}

#[derive(Debug, Clone)]
pub enum SessionMsg {
    /// The machine cannot run the lesson.
    Refused(Vec<String>),
    /// The runner is working (a label for the status line).
    Busy(String),
    /// Steps ran (a replay, or the step asked for): results by step, and the number of steps
    /// that have now run in this sandbox.
    Ran {
        results: Vec<(usize, StepResult)>,
        done: usize,
        pids: BTreeMap<String, i32>,
        /// What the live views look at (pids, cgroups, image dirs).
        /// Boxed: the largest message by far, and the event enum carries every message.
        subjects: Box<crate::session::views::Subjects>,
        /// True when the sandbox was restarted first (older results are stale).
        restarted: bool,
    },
    Checked {
        step: usize,
        checks: Vec<CheckOutcome>,
    },
    Solved {
        step: usize,
        ok: bool,
        shell: String,
        trace: Vec<String>,
        checks: Vec<CheckOutcome>,
    },
    Error(String),
    /// Teardown finished (the thread ends after this).
    Finished {
        undone: usize,
        failures: Vec<String>,
    },
}

pub struct SessionThread {
    pub tx: Option<Sender<Cmd>>,
    handle: Option<JoinHandle<()>>,
}

impl SessionThread {
    pub fn spawn(
        lesson: Lesson,
        lang: String,
        exe: PathBuf,
        image: Option<PathBuf>,
        interrupt: Arc<AtomicBool>,
        out: Sender<SessionMsg>,
    ) -> SessionThread {
        let (tx, rx) = std::sync::mpsc::channel();
        let handle = std::thread::Builder::new()
            .name("session".into())
            .spawn(move || serve(lesson, lang, exe, image, interrupt, rx, out))
            .expect("spawn the session thread");
        SessionThread {
            tx: Some(tx),
            handle: Some(handle),
        }
    }

    pub fn send(&self, cmd: Cmd) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(cmd);
        }
    }

    /// True when the thread ended on its own (it panicked): the lesson cannot go on.
    pub fn died(&self) -> bool {
        self.tx.is_some() && self.handle.as_ref().is_some_and(|h| h.is_finished())
    }

    /// Closes the command channel and waits for the teardown.
    pub fn close(&mut self) {
        drop(self.tx.take());
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Drop for SessionThread {
    fn drop(&mut self) {
        self.close();
    }
}

struct State {
    lesson: Lesson,
    lang: String,
    exe: PathBuf,
    /// The learner's own image layout (`--image`), for a lesson that builds one.
    image: Option<PathBuf>,
    interrupt: Arc<AtomicBool>,
    runner: Option<Runner>,
    /// Steps whose actions ran in the current runner.
    done: usize,
    /// The step that broke (later steps cannot run).
    broken: bool,
}

fn serve(
    lesson: Lesson,
    lang: String,
    exe: PathBuf,
    image: Option<PathBuf>,
    interrupt: Arc<AtomicBool>,
    rx: Receiver<Cmd>,
    out: Sender<SessionMsg>,
) {
    let reasons = refusals_with(&lesson, image.is_some());
    if !reasons.is_empty() {
        let _ = out.send(SessionMsg::Refused(reasons));
        // Keep the thread until the lesson closes, answering nothing.
        while rx.recv().is_ok() {}
        let _ = out.send(SessionMsg::Finished {
            undone: 0,
            failures: vec![],
        });
        return;
    }
    let mut st = State {
        lesson,
        lang,
        exe,
        image,
        interrupt,
        runner: None,
        done: 0,
        broken: false,
    };
    let mut undone = 0;
    let mut failures = Vec::new();
    if let Err(e) = st.restart(&mut undone, &mut failures) {
        let _ = out.send(SessionMsg::Error(e));
    } else {
        let _ = out.send(st.ran(vec![], true));
    }
    while let Ok(cmd) = rx.recv() {
        let reply = st.handle(cmd, &out, &mut undone, &mut failures);
        let msg = match reply {
            Ok(m) => m,
            Err(e) => SessionMsg::Error(e),
        };
        let _ = out.send(msg);
    }
    if let Some(r) = st.runner.take() {
        let report = r.finish();
        undone += report.undone.len();
        failures.extend(report.failures);
    }
    let _ = out.send(SessionMsg::Finished { undone, failures });
}

impl State {
    fn restart(&mut self, undone: &mut usize, failures: &mut Vec<String>) -> Result<(), String> {
        if let Some(r) = self.runner.take() {
            let report = r.finish();
            *undone += report.undone.len();
            failures.extend(report.failures);
        }
        self.done = 0;
        self.broken = false;
        let r = Runner::start(
            self.lesson.clone(),
            &self.lang,
            &self.exe,
            self.interrupt.clone(),
        )
        .map_err(|e| e.to_string())?
        .with_image(self.image.as_deref());
        self.runner = Some(r);
        Ok(())
    }

    fn ran(&self, results: Vec<(usize, StepResult)>, restarted: bool) -> SessionMsg {
        SessionMsg::Ran {
            results,
            done: self.done,
            pids: self
                .runner
                .as_ref()
                .map(|r| r.pids().clone())
                .unwrap_or_default(),
            subjects: Box::new(
                self.runner
                    .as_ref()
                    .map(|r| r.subjects())
                    .unwrap_or_default(),
            ),
            restarted,
        }
    }

    fn handle(
        &mut self,
        cmd: Cmd,
        out: &Sender<SessionMsg>,
        undone: &mut usize,
        failures: &mut Vec<String>,
    ) -> Result<SessionMsg, String> {
        match cmd {
            Cmd::Restart => {
                let _ = out.send(SessionMsg::Busy(text::RESTARTING.get(&self.lang).into()));
                self.restart(undone, failures)?;
                Ok(self.ran(vec![], true))
            }
            Cmd::GoTo(target) => {
                let (restarted, results) = self.reach(target, out, undone, failures)?;
                Ok(self.ran(results, restarted))
            }
            Cmd::Run(step) => {
                let (restarted, mut results) = self.reach(step, out, undone, failures)?;
                if !self.broken && self.done == step && step < self.lesson.steps.len() {
                    let _ = out.send(SessionMsg::Busy(fill(
                        text::RUNNING_STEP.get(&self.lang),
                        &[&(step + 1)],
                    )));
                    let r = self.run_step(step, false)?;
                    results.push((step, r));
                }
                Ok(self.ran(results, restarted))
            }
            Cmd::Check(step) => {
                let runner = self.runner.as_mut().ok_or("no sandbox")?;
                let phase = if self.lesson.steps[step].exercise.is_some() {
                    Phase::AfterSolution
                } else {
                    Phase::Normal
                };
                Ok(SessionMsg::Checked {
                    step,
                    checks: runner.check(step, phase),
                })
            }
            Cmd::Solve(step) => {
                let _ = out.send(SessionMsg::Busy(
                    text::RUNNING_SOLUTION.get(&self.lang).into(),
                ));
                let runner = self.runner.as_mut().ok_or("no sandbox")?;
                let mut sink = Collect::default();
                let ok = runner.solve(step, &mut sink).map_err(|e| e.to_string())?;
                let (shell, trace) = sink
                    .0
                    .iter()
                    .find_map(|e| match e {
                        Event::Solution { shell, trace, .. } => {
                            Some((shell.clone(), trace.clone()))
                        }
                        _ => None,
                    })
                    .unwrap_or_default();
                Ok(SessionMsg::Solved {
                    step,
                    ok,
                    shell,
                    trace,
                    checks: runner.check(step, Phase::AfterSolution),
                })
            }
        }
    }

    /// Brings the sandbox to "steps 0..target ran": forward from where it is, or from a restart
    /// when it is already past the target. Exercises on the way are solved.
    fn reach(
        &mut self,
        target: usize,
        out: &Sender<SessionMsg>,
        undone: &mut usize,
        failures: &mut Vec<String>,
    ) -> Result<(bool, Vec<(usize, StepResult)>), String> {
        let mut restarted = false;
        if self.done > target || self.runner.is_none() || (self.broken && self.done != target) {
            let _ = out.send(SessionMsg::Busy(text::RESTARTING.get(&self.lang).into()));
            self.restart(undone, failures)?;
            restarted = true;
        }
        let mut results = Vec::new();
        while self.done < target && !self.broken {
            let _ = out.send(SessionMsg::Busy(fill(
                text::REPLAYING.get(&self.lang),
                &[&(self.done + 1), &target],
            )));
            let step = self.done;
            let r = self.run_step(step, true)?;
            results.push((step, r));
        }
        Ok((restarted, results))
    }

    /// Runs one step's actions and judges it. `solve`: play an exercise's solution too (replay).
    fn run_step(&mut self, step: usize, solve: bool) -> Result<StepResult, String> {
        let runner = self.runner.as_mut().ok_or("no sandbox")?;
        let mut sink = Collect::default();
        let intact = match runner.run_actions(step, &mut sink) {
            Ok(ok) => ok,
            Err(EngineError::Interrupted) => return Err("interrupted".into()),
            Err(e) => {
                sink.0.push(Event::Action {
                    step,
                    action: "engine".into(),
                    process: "sandbox".into(),
                    trace: vec![],
                    error: Some(ActionError {
                        errno: None,
                        message: e.to_string(),
                        explanation: None,
                        expected: false,
                    }),
                });
                false
            }
        };
        let mut result = StepResult {
            broken: !intact,
            ..Default::default()
        };
        for e in &sink.0 {
            if let Event::Action {
                action,
                process,
                trace,
                error,
                ..
            } = e
            {
                result.actions.push(ActionRecord {
                    action: action.clone(),
                    process: process.clone(),
                    trace: trace.clone(),
                    error: error.clone(),
                });
            }
        }
        self.done = step + 1;
        if !intact {
            self.broken = true;
            return Ok(result);
        }
        let exercise = self.lesson.steps[step].exercise.is_some();
        if exercise && solve {
            let mut sink = Collect::default();
            runner.solve(step, &mut sink).map_err(|e| e.to_string())?;
            for e in sink.0 {
                if let Event::Solution { shell, trace, .. } = e {
                    result.solution = Some((shell, trace));
                }
            }
        }
        let phase = match (exercise, result.solution.is_some()) {
            (false, _) => Phase::Normal,
            (true, false) => Phase::BeforeSolution,
            (true, true) => Phase::AfterSolution,
        };
        result.checks = runner.check(step, phase);
        Ok(result)
    }
}
