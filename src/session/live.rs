//! A lesson played live, for a front end with a learner at it (the TUI, and the re-judging of a
//! step while the learner works in a shell): a thread owns the lesson's [`Runner`] (and so its
//! sandbox) for as long as the lesson is open, takes [`Cmd`]s over a channel and answers with
//! [`SessionMsg`]s. It plays through the one step player, like headless mode.
//!
//! The sandbox helper is started with PR_SET_PDEATHSIG, which fires when the *thread* that forked
//! it exits: this thread lives until the lesson is closed, and restarts happen on it too.

use super::events::{Event, Sink};
use super::host_changes::HostWatch;
use super::play::refusals_with;
use super::player::{SolutionRun, StepMode, StepResult};
use super::runner::{LessonTexts, Runner};
use super::views::Subjects;
use crate::engine::sandbox::EngineError;
use crate::lesson::schema::Lesson;
use containerlab_cgroup::Pace;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::{Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmd {
    /// Make sure steps `0..step` have run (restarting if the runner is past it), then run `step`
    /// for the learner.
    Run(usize),
    /// Make sure exactly steps `0..step` have run: restart and replay when needed.
    GoTo(usize),
    /// Restart the sandbox from a clean state.
    Restart,
    /// Judge a step's checks again (after the learner used the shell).
    Judge(usize),
    /// Play an exercise's solution for the learner, then judge.
    Solve(usize),
    /// A learner's shell was opened in the process with this host PID (the session watches what
    /// it changes on the host, if it shares the host's namespaces).
    ShellOpened(i32),
    /// The learner's shell closed.
    ShellClosed,
}

/// What the session is busy with, for the front end to word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Busy {
    Restarting,
    /// Running this step (0-based) for the learner.
    RunningStep(usize),
    /// Replaying step `step` (0-based) on the way to the state before step `target`.
    Replaying {
        step: usize,
        target: usize,
    },
    RunningSolution,
}

#[derive(Debug, Clone)]
pub enum SessionMsg {
    /// The machine cannot run the lesson.
    Refused(Vec<String>),
    Busy(Busy),
    /// Steps ran (a replay, or the step asked for): results by step, and the number of steps
    /// that have now run in this sandbox.
    Ran {
        results: Vec<(usize, StepResult)>,
        done: usize,
        pids: BTreeMap<String, i32>,
        /// What the live views look at (pids, cgroups, image dirs).
        /// Boxed: the largest message by far, and the event enum carries every message.
        subjects: Box<Subjects>,
        /// The lesson's words, placeholders filled as far as the session now knows them.
        texts: LessonTexts,
        /// What a learner's shell gets in its environment now.
        shell_env: Vec<(String, String)>,
        /// True when the sandbox was restarted first (older results are stale).
        restarted: bool,
        /// What the session reported while it played, for progress.
        events: Vec<Event>,
    },
    Judged {
        step: usize,
        checks: Vec<super::events::CheckOutcome>,
        events: Vec<Event>,
    },
    Solved {
        step: usize,
        solution: Option<SolutionRun>,
        checks: Vec<super::events::CheckOutcome>,
        events: Vec<Event>,
    },
    Error(String),
    /// Teardown finished (the thread ends after this).
    Finished {
        undone: usize,
        failures: Vec<String>,
    },
}

pub struct SessionThread {
    tx: Option<Sender<Cmd>>,
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
            .spawn(move || {
                let state = State {
                    lesson,
                    lang,
                    exe,
                    image,
                    interrupt,
                    runner: None,
                    done: 0,
                    broken: false,
                    undone: 0,
                    failures: Vec::new(),
                    host: HostWatch::default(),
                };
                serve(state, rx, out)
            })
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

/// Keeps the events a step reports, without rendering views (the front end samples them).
#[derive(Default)]
struct Events(Vec<Event>);

impl Sink for Events {
    fn emit(&mut self, event: &Event) {
        self.0.push(event.clone());
    }

    fn wants_views(&self) -> bool {
        false
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
    /// A step broke (later steps cannot run).
    broken: bool,
    /// Objects undone and teardown failures, over every sandbox this session had.
    undone: usize,
    failures: Vec<String>,
    /// What learners' shells changed on the host.
    host: HostWatch,
}

fn serve(mut st: State, rx: Receiver<Cmd>, out: Sender<SessionMsg>) {
    let reasons = refusals_with(&st.lesson, st.image.is_some());
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
    let first = st
        .restart()
        .map(|()| st.ran(vec![], true, Events::default()));
    let _ = out.send(first.unwrap_or_else(SessionMsg::Error));
    while let Ok(cmd) = rx.recv() {
        if let Some(reply) = st.handle(cmd, &out).transpose() {
            let _ = out.send(reply.unwrap_or_else(SessionMsg::Error));
        }
    }
    st.finish_runner();
    let _ = out.send(SessionMsg::Finished {
        undone: st.undone,
        failures: st.failures,
    });
}

impl State {
    fn finish_runner(&mut self) {
        self.adopt_host_changes();
        if let Some(r) = self.runner.take() {
            let report = r.finish();
            self.undone += report.undone.len();
            self.failures.extend(report.failures);
        }
    }

    fn restart(&mut self) -> Result<(), String> {
        self.finish_runner();
        self.done = 0;
        self.broken = false;
        let r = Runner::start(
            self.lesson.clone(),
            &self.lang,
            &self.exe,
            self.interrupt.clone(),
        )
        .map_err(|e| e.to_string())?
        .with_image(self.image.as_deref())
        // A learner watches the views here: memory and processes climb at a watchable pace.
        .watchable();
        self.runner = Some(r);
        Ok(())
    }

    /// Journals what learners' shells changed on the host, so teardown undoes it too.
    fn adopt_host_changes(&mut self) {
        let Some(runner) = &self.runner else {
            return;
        };
        let changes = self.host.changes(&runner.sandbox().rundir().dir);
        if let Err(e) = runner.sandbox().adopt(&changes) {
            self.failures
                .push(format!("journaling what the learner's shell changed: {e}"));
        }
    }

    fn runner(&mut self) -> Result<&mut Runner, String> {
        self.runner.as_mut().ok_or_else(|| "no sandbox".to_string())
    }

    fn ran(&self, results: Vec<(usize, StepResult)>, restarted: bool, ev: Events) -> SessionMsg {
        let runner = self.runner.as_ref();
        SessionMsg::Ran {
            results,
            done: self.done,
            pids: runner.map(|r| r.pids().clone()).unwrap_or_default(),
            subjects: Box::new(runner.map(|r| r.subjects()).unwrap_or_default()),
            texts: runner.map(Runner::texts).unwrap_or_default(),
            shell_env: runner.map(Runner::shell_env).unwrap_or_default(),
            restarted,
            events: ev.0,
        }
    }

    /// Carries out `cmd`; the answer, if it has one.
    fn handle(&mut self, cmd: Cmd, out: &Sender<SessionMsg>) -> Result<Option<SessionMsg>, String> {
        let mut events = Events::default();
        let answer = match cmd {
            Cmd::ShellOpened(pid) => {
                self.host.shell_opened(pid);
                return Ok(None);
            }
            Cmd::ShellClosed => {
                self.adopt_host_changes();
                return Ok(None);
            }
            Cmd::Restart => {
                let _ = out.send(SessionMsg::Busy(Busy::Restarting));
                self.restart()?;
                Ok(self.ran(vec![], true, events))
            }
            Cmd::GoTo(target) => {
                let (restarted, results) = self.reach(target, out, &mut events)?;
                Ok(self.ran(results, restarted, events))
            }
            Cmd::Run(step) => {
                let (restarted, mut results) = self.reach(step, out, &mut events)?;
                if !self.broken && self.done == step && step < self.lesson.steps.len() {
                    let _ = out.send(SessionMsg::Busy(Busy::RunningStep(step)));
                    let r = self.play(step, StepMode::Learner, &mut events)?;
                    results.push((step, r));
                }
                Ok(self.ran(results, restarted, events))
            }
            Cmd::Judge(step) => {
                // While a shell is open the step is judged every few seconds: a good moment to
                // journal what it changed on the host.
                self.adopt_host_changes();
                let checks = self.runner()?.judge(step, &mut events);
                Ok(SessionMsg::Judged {
                    step,
                    checks,
                    events: events.0,
                })
            }
            Cmd::Solve(step) => {
                let _ = out.send(SessionMsg::Busy(Busy::RunningSolution));
                let (solution, checks) = self
                    .runner()?
                    .solve(step, &mut events)
                    .map_err(|e| e.to_string())?;
                Ok(SessionMsg::Solved {
                    step,
                    solution,
                    checks,
                    events: events.0,
                })
            }
        };
        answer.map(Some)
    }

    /// Brings the sandbox to "steps 0..target ran": forward from where it is, or from a restart
    /// when it is already past the target. Exercises on the way are solved.
    fn reach(
        &mut self,
        target: usize,
        out: &Sender<SessionMsg>,
        events: &mut Events,
    ) -> Result<(bool, Vec<(usize, StepResult)>), String> {
        let mut restarted = false;
        if self.done > target || self.runner.is_none() || (self.broken && self.done != target) {
            let _ = out.send(SessionMsg::Busy(Busy::Restarting));
            self.restart()?;
            restarted = true;
        }
        // The learner waits for the target step, not watching these: full speed.
        self.runner()?.set_pace(Pace::Full);
        let replayed = self.replay(target, out, events);
        if let Some(r) = &mut self.runner {
            r.set_pace(Pace::Watchable);
        }
        Ok((restarted, replayed?))
    }

    /// Plays the steps from where the sandbox is up to `target` (excluded), exercises solved.
    fn replay(
        &mut self,
        target: usize,
        out: &Sender<SessionMsg>,
        events: &mut Events,
    ) -> Result<Vec<(usize, StepResult)>, String> {
        let mut results = Vec::new();
        while self.done < target && !self.broken {
            let step = self.done;
            let _ = out.send(SessionMsg::Busy(Busy::Replaying { step, target }));
            let r = self.play(step, StepMode::Solved, events)?;
            results.push((step, r));
        }
        Ok(results)
    }

    fn play(&mut self, step: usize, mode: StepMode, ev: &mut Events) -> Result<StepResult, String> {
        let result = match self.runner()?.play_step(step, mode, ev) {
            Ok(r) => r,
            Err(EngineError::Interrupted) => return Err("interrupted".into()),
            Err(e) => return Err(e.to_string()),
        };
        self.done = step + 1;
        self.broken = result.broken;
        Ok(result)
    }
}
