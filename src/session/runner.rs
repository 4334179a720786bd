//! Plays one lesson on one sandbox: a step's actions become engine operations, its checks are
//! judged against live state, and everything is reported as events. The TUI and headless mode
//! both drive this same runner.

use super::events::{ActionError, CheckOutcome, Event, Phase, Sink};
use super::observe::{judge, pick, shown, ActionResult, Scene};
use super::template::expand;
use super::views::{render, RenderedView, Subjects};
use crate::engine::ops::{Op, Value};
use crate::engine::sandbox::{EngineError, Sandbox};
use crate::engine::teardown::TeardownReport;
use crate::i18n;
use crate::lesson::schema::{Action, Lesson, Step, View};
use crate::words::errno;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// How a step went.
#[derive(Debug, Clone, Default)]
pub struct StepReport {
    /// An action failed that the lesson did not expect to fail: later steps make no sense.
    pub broken: bool,
    pub checks: Vec<CheckOutcome>,
}

impl StepReport {
    pub fn passed(&self) -> bool {
        !self.broken && self.checks.iter().all(|c| c.passed)
    }
}

pub struct Runner {
    lesson: Lesson,
    lang: String,
    sandbox: Sandbox,
    pids: BTreeMap<String, i32>,
    results: HashMap<String, ActionResult>,
    /// Short names of the cgroups this lesson made, for the `cgroup` view.
    cgroups: Vec<String>,
    /// `--image`: the learner's OCI layout, used by `image_build` with the example recipe.
    image: Option<std::path::PathBuf>,
    samples: super::image_facts::Samples,
    /// Where the last `image_build` with the example recipe wrote its layout.
    image_dir: Option<std::path::PathBuf>,
}

/// An expectation with `{work}`, `{pid:NAME}` and `{which:PROG}` in its text literal replaced.
fn expand_literal(
    expect: &crate::lesson::schema::Expect,
    work: &Path,
    pids: &BTreeMap<String, i32>,
) -> crate::lesson::schema::Expect {
    use crate::lesson::schema::{Expect, Literal};
    let lit = |l: &Literal| match l {
        Literal::Text(t) => Literal::Text(expand(t, work, pids)),
        other => other.clone(),
    };
    match expect {
        Expect::Equals(l) => Expect::Equals(lit(l)),
        Expect::NotEquals(l) => Expect::NotEquals(lit(l)),
        Expect::Contains(l) => Expect::Contains(lit(l)),
        Expect::NotContains(l) => Expect::NotContains(lit(l)),
        other => other.clone(),
    }
}

/// Fills the machine-dependent names in a text: `{cgroup_file:KEY}` (see
/// [`crate::engine::cgroups::file_placeholder`]).
fn fill(text: &str) -> String {
    crate::engine::cgroups::expand_files(text)
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
        let pids = BTreeMap::from([("sandbox".to_string(), sandbox.pid())]);
        Ok(Runner {
            lesson,
            lang: lang.to_string(),
            sandbox,
            pids,
            results: HashMap::new(),
            cgroups: Vec::new(),
            image: None,
            samples: Default::default(),
            image_dir: None,
        })
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
        &self.pids
    }

    pub fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }

    pub fn intro_event(&self) -> Event {
        Event::LessonStart {
            lesson: self.lesson.id.clone(),
            title: self.lesson.title.get(&self.lang).to_string(),
            intro: fill(self.lesson.intro.get(&self.lang)),
            steps: self.lesson.steps.len(),
            lang: self.lang.clone(),
        }
    }

    /// Runs step `index`'s actions and reports them; then its views. Checks are separate
    /// ([`Runner::check`]) so an exercise can be judged before and after the learner acts.
    pub fn run_actions(&mut self, index: usize, sink: &mut dyn Sink) -> Result<bool, EngineError> {
        let step = self.lesson.steps[index].clone();
        sink.emit(&Event::StepStart {
            step: index,
            id: step.id.clone(),
            title: fill(step.title.get(&self.lang)),
            text: fill(&self.samples.expand(step.text.get(&self.lang))),
            command: step.command.as_ref().map(|c| fill(c.get(&self.lang))),
        });
        for action in &step.actions {
            if !self.run_action(index, action, sink)? {
                return Ok(false);
            }
        }
        if let Some(ex) = &step.exercise {
            sink.emit(&Event::Exercise {
                step: index,
                task: ex.task.get(&self.lang).to_string(),
                hints: ex
                    .hints
                    .iter()
                    .map(|h| h.get(&self.lang).to_string())
                    .collect(),
            });
        }
        Ok(true)
    }

    /// One action: returns false when it failed unexpectedly (the step is broken).
    fn run_action(
        &mut self,
        index: usize,
        action: &Action,
        sink: &mut dyn Sink,
    ) -> Result<bool, EngineError> {
        let common = action.common();
        let op = self.to_op(action);
        if let Some(missing) = super::image_facts::unresolved(&format!("{op:?}")) {
            sink.emit(&Event::Action {
                step: index,
                action: action.name().to_string(),
                process: common.process.clone(),
                trace: vec![],
                error: Some(ActionError {
                    errno: None,
                    message: missing,
                    explanation: None,
                    expected: false,
                }),
            });
            return Ok(false);
        }
        let spawn_name = match action {
            Action::Spawn(s) => Some(s.name.clone()),
            Action::Publish(p) => Some(p.name.clone()),
            _ => None,
        };
        let reply = self.sandbox.request(&common.process, op.clone())?;
        let trace: Vec<String> = reply.trace.records.iter().map(|r| r.to_string()).collect();
        let last_call = reply
            .trace
            .records
            .last()
            .map(|r| r.call.clone())
            .unwrap_or_default();
        let ended = match &reply.result {
            Ok(Value::Finished { life, .. }) => Some(life.to_string()),
            _ => None,
        };
        let (outcome, stdout, error, ok) = match &reply.result {
            Ok(value) => {
                if let (Some(name), Value::Pid(pid)) = (&spawn_name, value) {
                    self.pids.insert(name.clone(), *pid);
                }
                if let Action::CgroupCreate(c) = action {
                    self.cgroups.push(c.name.clone());
                }
                if let (Action::ImageBuild(_), Op::ImageBuild { dir, recipe, .. }) = (action, &op) {
                    if *recipe == crate::engine::ops::ImageRecipe::Example {
                        self.image_dir = Some(dir.into());
                    }
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
                    self.samples = super::image_facts::Samples::of_layers(dirs.clone());
                }
                let stdout = match value {
                    Value::Finished { stdout, .. } => stdout.clone(),
                    _ => String::new(),
                };
                match &common.expect_error {
                    Some(expected) => (
                        "ok".to_string(),
                        stdout,
                        Some(ActionError {
                            errno: None,
                            message: i18n::fill(
                                i18n::SUCCEEDED_UNEXPECTEDLY.get(&self.lang),
                                &[expected],
                            ),
                            explanation: None,
                            expected: false,
                        }),
                        false,
                    ),
                    None => ("ok".to_string(), stdout, None, true),
                }
            }
            Err(e) => {
                let expected = e.errno.is_some() && e.errno == common.expect_error;
                // An expected failure is the lesson's point and its text says why; the generic
                // advice ("run as root") would contradict it.
                let explanation = e
                    .errno
                    .as_deref()
                    .filter(|_| !expected)
                    .and_then(|errno| errno::explain(&last_call, errno))
                    .map(|m| m.get(&self.lang).to_string());
                (
                    e.errno.clone().unwrap_or_else(|| "error".into()),
                    String::new(),
                    Some(ActionError {
                        errno: e.errno.clone(),
                        message: e.message.clone(),
                        explanation,
                        expected,
                    }),
                    expected,
                )
            }
        };
        if let Some(id) = &common.id {
            self.results.insert(
                id.clone(),
                ActionResult {
                    outcome,
                    stdout,
                    ended,
                },
            );
        }
        sink.emit(&Event::Action {
            step: index,
            action: action.name().to_string(),
            process: common.process.clone(),
            trace,
            error,
        });
        Ok(ok)
    }

    /// The engine operation for an action, placeholders expanded.
    fn to_op(&self, action: &Action) -> Op {
        let work = self.sandbox.work();
        let exe = std::env::current_exe()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_else(|_| "/proc/self/exe".into());
        let x = |s: &str| {
            self.samples
                .expand(&expand(s, &work, &self.pids))
                .replace("{exe}", &exe)
        };
        match action {
            Action::Unshare(a) => Op::Unshare {
                namespaces: a.namespaces.clone(),
            },
            Action::Join(a) => Op::Join {
                pid: self.pids.get(&a.target).copied().unwrap_or(-1),
                namespaces: a.namespaces.clone(),
            },
            Action::Sethostname(a) => Op::SetHostname { name: x(&a.name) },
            Action::Propagation(a) => Op::SetPropagation {
                path: x(&a.path),
                propagation: a.propagation,
                recursive: a.recursive,
            },
            Action::Mount(a) => Op::Mount {
                source: x(&a.source),
                target: x(&a.target),
                fstype: a.fstype.clone(),
                flags: a.flags.clone(),
                data: a.data.as_deref().map(x),
            },
            Action::Umount(a) => Op::Umount {
                target: x(&a.target),
                detach: a.lazy,
            },
            Action::Mkdir(a) => Op::Mkdir { path: x(&a.path) },
            Action::WriteFile(a) => Op::WriteFile {
                path: x(&a.path),
                content: x(&a.content),
            },
            Action::Spawn(a) => Op::Spawn {
                name: a.name.clone(),
                namespaces: a.namespaces.clone(),
            },
            Action::Exit(a) => Op::Exit { code: a.code },
            Action::Unpublish(a) => Op::Unpublish {
                name: a.name.clone(),
            },
            Action::Publish(a) => Op::Publish {
                name: a.name.clone(),
                listen: x(&a.listen),
                to: x(&a.to),
            },
            Action::Run(a) => Op::Run {
                argv: a.argv.iter().map(|s| x(s)).collect(),
                env: a
                    .env
                    .iter()
                    .map(|v| (v.name.clone(), x(&v.value)))
                    .collect(),
                clear_env: a.clear_env,
                cgroup: a.cgroup.clone(),
            },
            Action::CgroupCreate(a) => Op::CgroupCreate {
                name: a.name.clone(),
            },
            Action::CgroupLimit(a) => Op::CgroupLimit {
                name: a.name.clone(),
                memory_max: a.memory_max_mib.map(|m| m << 20),
                swap_off: a.swap_off,
                pids_max: a.pids_max,
            },
            Action::Chroot(a) => Op::Chroot { path: x(&a.path) },
            Action::Chdir(a) => Op::Chdir { path: x(&a.path) },
            Action::PivotRoot(a) => Op::PivotRoot {
                new_root: x(&a.new_root),
                put_old: x(&a.put_old),
            },
            Action::Rootfs(a) => Op::Rootfs { dest: x(&a.path) },
            Action::Setuid(a) => Op::SetIds {
                uid: a.uid,
                gid: a.gid,
            },
            Action::LinkUp(a) => Op::SetLinkUp {
                dev: a.name.clone(),
            },
            Action::Chown(a) => Op::Chown {
                path: x(&a.path),
                uid: a.uid,
                gid: a.gid,
            },
            Action::CopyFile(a) => Op::CopyFile {
                from: x(&a.from),
                to: x(&a.to),
            },
            Action::SetFileCaps(a) => Op::SetFileCaps {
                path: x(&a.path),
                caps: a.caps.clone(),
                effective: a.effective,
            },
            Action::BsetDrop(a) => Op::BsetDrop {
                caps: a.caps.clone(),
            },
            Action::CapProfile(a) => Op::CapProfile {
                caps: a.caps.clone(),
            },
            Action::NoNewPrivs(_) => Op::NoNewPrivs,
            Action::ImageBuild(a) => Op::ImageBuild {
                dir: x(&a.dir),
                recipe: a.recipe,
                from: match a.recipe {
                    crate::engine::ops::ImageRecipe::Example => self
                        .image
                        .as_ref()
                        .map(|p| p.to_string_lossy().into_owned()),
                    _ => None,
                },
            },
            Action::LayerUnpack(a) => Op::LayerUnpack {
                image: x(&a.image),
                layer: a.layer,
                target: x(&a.target),
                keep_whiteouts: a.keep_whiteouts,
            },
            Action::VerifyBlobs(a) => Op::VerifyBlobs { dir: x(&a.dir) },
            Action::CreateFile(a) => Op::CreateFile {
                path: x(&a.path),
                content: x(&a.content),
            },
            Action::Unlink(a) => Op::Unlink { path: x(&a.path) },
            Action::CreateVeth(a) => Op::CreateVeth {
                host: x(&a.host),
                peer: x(&a.peer),
            },
            Action::MoveLink(a) => Op::MoveLink {
                name: x(&a.dev),
                pid: self.pids.get(&a.to).copied().unwrap_or(-1),
            },
            Action::AddAddress(a) => Op::AddAddress {
                dev: x(&a.dev),
                cidr: x(&a.address),
            },
            Action::SetLinkUp(a) => Op::SetLinkUp { dev: x(&a.dev) },
            Action::DefaultRoute(a) => Op::AddDefaultRoute { via: x(&a.via) },
            Action::SwitchUser(a) => Op::SetIds {
                uid: a.uid,
                gid: a.gid,
            },
            Action::ReadFile(a) => Op::Open { path: x(&a.path) },
            Action::ShmCreate(a) => Op::ShmCreate {
                key: ipc_key(&x(&a.key)),
                size: a.size,
            },
            Action::ShmWrite(a) => Op::ShmWrite {
                key: ipc_key(&x(&a.key)),
                text: x(&a.text),
            },
            Action::MqOpen(a) => Op::MqOpen {
                name: x(&a.name),
                create: a.create,
            },
            Action::LabCgroupCreate(a) => Op::LabCgroupCreate { name: x(&a.name) },
            Action::CgroupAdd(a) => Op::CgroupAdd {
                // A cgroup this lesson made with `cgroup_create` is found by its short name.
                name: if self.cgroups.contains(&a.name) {
                    crate::engine::cgroups::full_name(
                        &crate::engine::cgroups::session_of(&work),
                        &a.name,
                    )
                } else {
                    x(&a.name)
                },
                pid: self.pids.get(&a.member).copied().unwrap_or(-1),
            },
            Action::MountCgroup(a) => Op::MountCgroup {
                target: x(&a.target),
            },
        }
    }

    /// Judges step `index`'s checks against live state now.
    pub fn check(&mut self, index: usize, phase: Phase) -> Vec<CheckOutcome> {
        let step: Step = self.lesson.steps[index].clone();
        let work = self.sandbox.work();
        let pids = self.pids.clone();
        let mut scene = Scene {
            sandbox: &mut self.sandbox,
            pids: &self.pids,
            results: &self.results,
            samples: &self.samples,
        };
        let given_image = self.image.is_some();
        step.checks
            .iter()
            .filter(|c| !(given_image && c.example_only))
            .map(|c| {
                let observed = pick(scene.observe(&c.observe), c.pick);
                let other = c.expect.observed().map(|o| pick(scene.observe(o), c.pick));
                let expect = expand_literal(&c.expect, &work, &pids);
                let (passed, expected) = judge(&observed, &expect, other.as_ref(), &self.lang);
                CheckOutcome {
                    step: index,
                    step_id: step.id.clone(),
                    id: c.id.clone(),
                    claim: fill(c.claim.get(&self.lang)),
                    passed,
                    observed: shown(&observed, &expect, other.as_ref(), &self.lang),
                    expected,
                    why: c.why.as_ref().map(|w| w.get(&self.lang).to_string()),
                    phase,
                }
            })
            .collect()
    }

    /// Plays an exercise's solution, as if the learner had typed it in the shell.
    pub fn solve(&mut self, index: usize, sink: &mut dyn Sink) -> Result<bool, EngineError> {
        let Some(ex) = self.lesson.steps[index].exercise.clone() else {
            return Ok(true);
        };
        let reply = self.sandbox.request(
            &ex.solution.process,
            Op::Run {
                argv: vec!["/bin/sh".into(), "-c".into(), ex.solution.shell.clone()],
                env: Vec::new(),
                clear_env: false,
                cgroup: None,
            },
        )?;
        sink.emit(&Event::Solution {
            step: index,
            shell: ex.solution.shell.clone(),
            trace: reply.trace.records.iter().map(|r| r.to_string()).collect(),
        });
        Ok(matches!(
            reply.result,
            Ok(Value::Finished {
                life: crate::engine::ops::Life::Exited { code: 0 },
                ..
            })
        ))
    }

    /// The views a step names, rendered from live state now.
    pub fn views(&self, views: &[View]) -> Vec<RenderedView> {
        let subjects = self.subjects();
        views.iter().map(|v| render(*v, &subjects)).collect()
    }

    /// What the views look at, as owned data a sampler thread can keep.
    pub fn subjects(&self) -> Subjects {
        Subjects {
            pids: self.pids.clone(),
            session: self.sandbox.rundir().id.clone(),
            cgroups: self.cgroups.clone(),
            image: self.image_dir.clone(),
            layers: self.samples.layer_dirs.clone(),
            samples: self.samples.clone(),
            lang: self.lang.clone(),
        }
    }

    /// Ends the lesson: every process stopped, every journaled object undone.
    pub fn finish(self) -> TeardownReport {
        self.sandbox.teardown()
    }
}

/// An IPC key written in a lesson (decimal, or `0x` hex); -1 when it is not a number, which
/// shmget then reports as an ordinary key of its own.
fn ipc_key(text: &str) -> i32 {
    let t = text.trim();
    match t.strip_prefix("0x") {
        Some(hex) => u32::from_str_radix(hex, 16).map(|v| v as i32).unwrap_or(-1),
        None => t.parse().unwrap_or(-1),
    }
}
