//! One lesson on one sandbox: what the session knows while it plays (the [`Facts`] placeholders
//! are filled from, the results of actions with an `id`, the cgroups made), and the three things
//! a step is made of: its actions run on the engine, its checks judged against live state, and an
//! exercise's solution. [`super::player`] puts them together into steps; every front end plays
//! through it, never through these parts.

use super::events::{ActionError, CheckOutcome, Event, Phase, Sink};
use super::observe::{ActionResult, Scene};
use super::placeholders::Facts;
use super::player::ActionRecord;
use super::verdict::{judge, pick, shown};
use super::views::{render, RenderedView, Subjects};
use crate::engine::ops::{Op, Value};
use crate::engine::sandbox::{EngineError, Sandbox};
use crate::engine::teardown::TeardownReport;
use crate::i18n;
use crate::lesson::schema::{Action, Lesson};
use crate::words::errno;
use containerlab_cgroup::Pace;
use containerlab_trace::Record;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

pub struct Runner {
    lesson: Lesson,
    lang: String,
    sandbox: Sandbox,
    /// What placeholders are filled from: work dir, pids, image samples, cgroup layout, binary.
    facts: Facts,
    results: HashMap<String, ActionResult>,
    /// `--image`: the learner's OCI layout, used by `image_build` with the example recipe.
    image: Option<PathBuf>,
    /// Where the last `image_build` with the example recipe wrote its layout.
    image_dir: Option<PathBuf>,
    /// How fast the lab's workloads go in a step whose views a learner watches, in a shell and
    /// in a solution ([`Runner::watchable`]); full speed unless a front end asks.
    pace: Pace,
}

/// A step's words for the learner, placeholders filled as far as the session knows them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepText {
    pub title: String,
    pub text: String,
    pub command: Option<String>,
    /// An exercise's task and hints (`{image_file:1}` and `{cgroup_file:...}` filled too).
    pub task: Option<String>,
    pub hints: Vec<String>,
}

/// A lesson's words for the learner: its intro and every step's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LessonTexts {
    pub intro: String,
    pub steps: Vec<StepText>,
}

/// `lesson`'s words in `lang`, placeholders filled from `facts` as far as they go (a front end
/// shows a lesson before its sandbox runs with [`Facts::of_machine`]).
pub fn lesson_texts(lesson: &Lesson, lang: &str, facts: &Facts) -> LessonTexts {
    LessonTexts {
        intro: facts.display(lesson.intro.get(lang)),
        steps: lesson
            .steps
            .iter()
            .map(|step| StepText {
                title: facts.display(step.title.get(lang)),
                text: facts.display(step.text.get(lang)),
                command: step.command.as_ref().map(|c| facts.display(c.get(lang))),
                task: step
                    .exercise
                    .as_ref()
                    .map(|e| facts.display(e.task.get(lang))),
                hints: step
                    .exercise
                    .iter()
                    .flat_map(|e| &e.hints)
                    .map(|h| facts.display(h.get(lang)))
                    .collect(),
            })
            .collect(),
    }
}

impl Runner {
    /// Starts the lesson's sandbox (the holder process), from `exe`, this program's binary.
    pub fn start(
        lesson: Lesson,
        lang: &str,
        exe: &Path,
        interrupt: Arc<AtomicBool>,
    ) -> Result<Runner, EngineError> {
        let sandbox = Sandbox::start(exe, interrupt)?;
        let facts = Facts {
            work: Some(sandbox.work()),
            tools: tools_dir(&sandbox.rundir().dir, exe),
            pids: BTreeMap::from([("sandbox".to_string(), sandbox.pid())]),
            ..Facts::of_machine()
        };
        Ok(Runner {
            lesson,
            lang: lang.to_string(),
            sandbox,
            facts,
            results: HashMap::new(),
            image: None,
            image_dir: None,
            pace: Pace::Full,
        })
    }

    /// Makes the lab's workloads (`alloc`, `forkbomb`) go at a pace a learner can watch in the
    /// views (an interactive front end asks for it; headless runs keep full speed): the `run`s
    /// of a step that shows views, and what the learner's shell and solutions run.
    pub fn watchable(mut self) -> Runner {
        self.pace = Pace::Watchable;
        self
    }

    /// Changes the workloads' pace (see [`Runner::watchable`]): steps replayed on the way to
    /// another are not watched, and go at full speed.
    pub fn set_pace(&mut self, pace: Pace) {
        self.pace = pace;
    }

    /// The environment of a learner's shell (and of a solution, run as if typed there): the
    /// facts' ([`Facts::shell_env`]) and the workloads' pace.
    pub fn shell_env(&self) -> Vec<(String, String)> {
        let mut env = self.facts.shell_env();
        env.extend(self.pace.env());
        env
    }

    /// Makes `image_build` (example recipe) copy this OCI layout instead of building one.
    pub fn with_image(mut self, image: Option<&Path>) -> Runner {
        self.image = image.map(Path::to_path_buf);
        self
    }

    pub fn lesson(&self) -> &Lesson {
        &self.lesson
    }

    pub fn lang(&self) -> &str {
        &self.lang
    }

    /// Host PIDs of the sandbox's processes by name (`sandbox` is the holder).
    pub fn pids(&self) -> &BTreeMap<String, i32> {
        &self.facts.pids
    }

    /// What the session knows now, placeholders are filled from and a shell's environment made of.
    pub fn facts(&self) -> &Facts {
        &self.facts
    }

    pub fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }

    pub fn intro_event(&self) -> Event {
        Event::LessonStart {
            lesson: self.lesson.id.clone(),
            title: self.facts.display(self.lesson.title.get(&self.lang)),
            intro: self.facts.display(self.lesson.intro.get(&self.lang)),
            steps: self.lesson.steps.len(),
            lang: self.lang.clone(),
        }
    }

    /// The lesson's words, placeholders filled as far as known now.
    pub fn texts(&self) -> LessonTexts {
        lesson_texts(&self.lesson, &self.lang, &self.facts)
    }

    /// The event that opens step `index`: its words, placeholders filled as far as known now.
    pub(super) fn step_start(&self, index: usize) -> Event {
        let words = self.texts().steps.swap_remove(index);
        Event::StepStart {
            step: index,
            id: self.lesson.steps[index].id.clone(),
            title: words.title,
            text: words.text,
            command: words.command,
        }
    }

    /// Runs step `index`'s actions in order, reporting each and adding it to `records`; the
    /// first unexpected failure stops them. Returns whether the step is intact.
    pub(super) fn run_actions(
        &mut self,
        index: usize,
        records: &mut Vec<ActionRecord>,
        sink: &mut dyn Sink,
    ) -> Result<bool, EngineError> {
        let step = self.lesson.steps[index].clone();
        sink.emit(&self.step_start(index));
        // A workload nobody watches (a step without views) need not be slowed down.
        let pace = match step.views.is_empty() {
            true => Pace::Full,
            false => self.pace,
        };
        for action in &step.actions {
            let (record, intact) = self.run_action(action, pace)?;
            sink.emit(&record.event(index));
            records.push(record);
            if !intact {
                return Ok(false);
            }
        }
        if let Some(ex) = &step.exercise {
            sink.emit(&Event::Exercise {
                step: index,
                task: self.facts.display(ex.task.get(&self.lang)),
                hints: ex
                    .hints
                    .iter()
                    .map(|h| self.facts.display(h.get(&self.lang)))
                    .collect(),
            });
        }
        Ok(true)
    }

    /// One action, and whether the step is still intact (false: it failed unexpectedly).
    fn run_action(
        &mut self,
        action: &Action,
        pace: Pace,
    ) -> Result<(ActionRecord, bool), EngineError> {
        let common = action.common();
        let record = |calls: Vec<Record>, error: Option<ActionError>| ActionRecord {
            action: action.name().to_string(),
            process: common.process.clone(),
            trace: calls.iter().map(Record::to_string).collect(),
            calls,
            error,
            output: vec![],
        };
        let image = self.image.as_deref();
        let mut op = match super::to_op::to_op(action, &self.facts, image) {
            Ok(op) => op,
            Err(unresolved) => {
                let error = ActionError::plain(unresolved.to_string());
                return Ok((record(vec![], Some(error)), false));
            }
        };
        if let Op::Run { env, .. } = &mut op {
            env.extend(pace.env());
        }
        let reply = self.sandbox.request(&common.process, op.clone())?;
        let trace = reply.trace.records.clone();
        let last_call = reply
            .trace
            .records
            .last()
            .map(|r| r.call.clone())
            .unwrap_or_default();
        let mut output = Vec::new();
        let (result, error, intact) = match &reply.result {
            Ok(value) => {
                self.learn(action, &op, value);
                let (stdout, ended) = match value {
                    Value::Finished {
                        stdout,
                        stderr,
                        life,
                    } => {
                        if !matches!(life, crate::engine::ops::Life::Exited { code: 0 }) {
                            output = super::player::failed_output(stdout, stderr);
                        }
                        (stdout.clone(), Some(life.to_string()))
                    }
                    // What an action that is a whole program's work (a pull, a push) printed.
                    Value::Text(text) => (text.clone(), None),
                    _ => (String::new(), None),
                };
                let result = ActionResult {
                    outcome: "ok".into(),
                    stdout,
                    ended,
                };
                match &common.expect_error {
                    Some(expected) => {
                        let message =
                            i18n::fill(i18n::SUCCEEDED_UNEXPECTEDLY.get(&self.lang), &[expected]);
                        (result, Some(ActionError::plain(message)), false)
                    }
                    None => (result, None, true),
                }
            }
            Err(e) => {
                let expected = e.errno.is_some() && e.errno == common.expect_error;
                // An expected failure is the lesson's point and its text says why; the generic
                // advice ("run as root") would contradict it.
                let explanation = self.link_taken(&op, e.errno.as_deref()).or_else(|| {
                    e.errno
                        .as_deref()
                        .filter(|_| !expected)
                        .and_then(|errno| errno::explain(&last_call, errno))
                        .map(|m| m.get(&self.lang).to_string())
                });
                let result = ActionResult {
                    outcome: e.errno.clone().unwrap_or_else(|| "error".into()),
                    stdout: String::new(),
                    ended: None,
                };
                let error = ActionError {
                    errno: e.errno.clone(),
                    message: e.message.clone(),
                    explanation,
                    expected,
                };
                (result, Some(error), expected)
            }
        };
        if let Some(id) = &common.id {
            self.results.insert(id.clone(), result);
        }
        let record = ActionRecord {
            output,
            ..record(trace, error)
        };
        Ok((record, intact))
    }

    /// When a link could not be made because a running session has one of that name: says so.
    fn link_taken(&self, op: &Op, errno: Option<&str>) -> Option<String> {
        let Op::CreateVeth { host, peer } = op else {
            return None;
        };
        if errno != Some("EEXIST") {
            return None;
        }
        let own = &self.sandbox.rundir().id;
        [host, peer].into_iter().find_map(|name| {
            let (session, pid) = super::collision::link_owner(name, own)?;
            Some(super::collision::taken_by(name, &session, pid, &self.lang))
        })
    }

    /// What a successful action taught the session: a spawned process's pid, a cgroup's name,
    /// where the example image is, the unpacked layers' files.
    fn learn(&mut self, action: &Action, op: &Op, value: &Value) {
        let spawned = match action {
            Action::Spawn(s) => Some(&s.name),
            Action::Publish(p) => Some(&p.name),
            _ => None,
        };
        if let (Some(name), Value::Pid(pid)) = (spawned, value) {
            self.facts.pids.insert(name.clone(), *pid);
        }
        if let Action::CgroupCreate(c) = action {
            self.facts.cgroups.push(c.name.clone());
        }
        if let Op::ImageBuild { dir, recipe, .. } = op {
            if *recipe == crate::engine::ops::ImageRecipe::Example {
                self.image_dir = Some(dir.into());
            }
        }
        // The image view shows the image last pulled, as `docker inspect` would.
        if let Op::ImagePull {
            repository,
            tag,
            store,
            ..
        } = op
        {
            self.image_dir = Some(containerlab_oci::image::registry::image_dir(
                std::path::Path::new(store),
                repository,
                tag,
            ));
        }
        if let (
            Action::LayerUnpack(crate::lesson::schema::LayerUnpackAction {
                layer: None,
                keep_whiteouts: false,
                ..
            }),
            Value::Layers(dirs),
        ) = (action, value)
        {
            self.facts.samples = super::image_facts::Samples::of_layers(dirs.clone());
        }
    }

    /// Judges step `index`'s checks against live state now.
    pub fn check(&mut self, index: usize, phase: Phase) -> Vec<CheckOutcome> {
        let step = &self.lesson.steps[index];
        let mut scene = Scene {
            sandbox: &mut self.sandbox,
            facts: &self.facts,
            results: &self.results,
        };
        let given_image = self.image.is_some();
        let lang = &self.lang;
        step.checks
            .iter()
            .filter(|c| !(given_image && c.example_only))
            .map(|c| {
                let observed = pick(scene.observe(&c.observe), c.pick);
                let other = c.expect.observed().map(|o| pick(scene.observe(o), c.pick));
                let (passed, expected, observed) = match self.facts.resolve_expect(&c.expect) {
                    Ok(expect) => {
                        let (passed, expected) = judge(&observed, &expect, other.as_ref(), lang);
                        let shown = shown(&observed, &expect, other.as_ref(), lang);
                        (passed, expected, shown)
                    }
                    Err(unresolved) => (false, unresolved.to_string(), observed.text(lang)),
                };
                CheckOutcome {
                    step: index,
                    step_id: step.id.clone(),
                    id: c.id.clone(),
                    claim: self.facts.display(c.claim.get(lang)),
                    passed,
                    observed,
                    expected,
                    why: c.why.as_ref().map(|w| self.facts.display(w.get(lang))),
                    phase,
                }
            })
            .collect()
    }

    /// Runs an exercise's solution, as if the learner had typed it in the shell; None when the
    /// step is no exercise.
    pub(super) fn run_solution(
        &mut self,
        index: usize,
    ) -> Result<Option<super::player::SolutionRun>, EngineError> {
        let Some(ex) = self.lesson.steps[index].exercise.clone() else {
            return Ok(None);
        };
        let reply = self.sandbox.request(
            &ex.solution.process,
            Op::Run {
                argv: vec!["/bin/sh".into(), "-c".into(), ex.solution.shell.clone()],
                // What the learner's shell has: a solution may say `$INIT` as the learner would.
                env: self.shell_env(),
                clear_env: false,
                cgroup: None,
                timeout_secs: ex
                    .solution
                    .timeout_secs
                    .unwrap_or(crate::lesson::schema::DEFAULT_RUN_TIMEOUT_SECS),
            },
        )?;
        Ok(Some(super::player::SolutionRun {
            shell: ex.solution.shell,
            trace: reply.trace.records.iter().map(Record::to_string).collect(),
            calls: reply.trace.records.clone(),
            ok: matches!(
                reply.result,
                Ok(Value::Finished {
                    life: crate::engine::ops::Life::Exited { code: 0 },
                    ..
                })
            ),
        }))
    }

    /// The views step `index` names, rendered from live state now, the lines its checks look
    /// at marked.
    pub fn views(&self, index: usize) -> Vec<RenderedView> {
        let mut subjects = self.subjects();
        subjects.focus = super::focus::Focus::of_step(self.lesson(), index);
        let views = &self.lesson().steps[index].views;
        views.iter().map(|v| render(*v, &subjects)).collect()
    }

    /// What the views look at, as owned data a sampler thread can keep.
    pub fn subjects(&self) -> Subjects {
        Subjects {
            pids: self.facts.pids.clone(),
            session: self.sandbox.rundir().id.clone(),
            cgroups: self.facts.cgroups.clone(),
            image: self.image_dir.clone(),
            layers: self.facts.samples.layer_dirs.clone(),
            lang: self.lang.clone(),
            focus: Default::default(),
        }
    }

    /// Ends the lesson: every process stopped, every journaled object undone.
    pub fn finish(self) -> TeardownReport {
        self.sandbox.teardown()
    }
}

/// The process a learner's shell enters at step `step` (0-based) of `lesson` once steps
/// `0..done` ran: the exercise's (where its solution runs), else the most recently spawned one
/// that `pids` knows, else the sandbox's holder. Every front end asks this, so the shell in the
/// TUI and the headless exploration test enter the same process.
pub fn shell_target(
    lesson: &Lesson,
    step: usize,
    done: usize,
    pids: &BTreeMap<String, i32>,
) -> String {
    if let Some(ex) = &lesson.steps[step].exercise {
        return ex.solution.process.clone();
    }
    let ran = &lesson.steps[..done.min(lesson.steps.len())];
    ran.iter()
        .rev()
        .flat_map(|s| s.actions.iter().rev())
        .find_map(|a| match a {
            Action::Spawn(sp) if pids.contains_key(&sp.name) => Some(sp.name.clone()),
            _ => None,
        })
        .unwrap_or_else(|| "sandbox".into())
}

/// The lab's own commands for a learner's shell, as links to this binary in the session's
/// directory (removed with it): `containerlab` (the lesson texts show `containerlab __alloc 200`,
/// which must work typed also when the lab runs from a build tree) and the workloads' friendly
/// names. None when the links cannot be made: the shell then simply lacks them.
fn tools_dir(session: &Path, exe: &Path) -> Option<PathBuf> {
    let dir = session.join("tools");
    std::fs::create_dir_all(&dir).ok()?;
    for name in std::iter::once("containerlab").chain(crate::workloads::TOOL_NAMES) {
        std::os::unix::fs::symlink(exe, dir.join(name)).ok()?;
    }
    Some(dir)
}
