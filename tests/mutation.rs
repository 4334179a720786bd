//! The mutation test (#16): every check a lesson shows must be able to fail, and every action
//! must be seen by some check. For every action of every built-in lesson (`lessons/*.yaml`,
//! found in the directory, never listed by hand), a copy of the lesson without that action (a
//! *mutant*) must either fail validation (`containerlab check`) or, played headless, fail at
//! least one check or one later action. For every exercise, a copy whose solution does nothing
//! (`true`) must fail too. An action whose effect is deliberately not checked says why in the
//! lesson (`unchecked: "reason"`); its mutant may survive, and the reasons are listed. Any other
//! survivor fails the test, named by lesson, step, action index and action.
//!
//! Not counted as caught: a copy that does not load (the unmutated copy must pass `check` and
//! play to the end first, so the rewriting is not to blame), a run the machine refuses, a run
//! past its time limit, a crash, a teardown that failed, and a failure in a step *before* the
//! mutated one (those steps are identical to the unmutated lesson's: the run was disturbed by
//! something else). Each of these fails the test as a test error.
//!
//! Each mutant plays in namespaces of its own (`unshare --net --mount --uts --ipc --propagation
//! private`, `lo` up, `/` read-only but for a scratch directory and then made rshared as on a
//! systemd host; see [`Sandbox::command`]); the run is stopped with SIGINT (torn down as on
//! Ctrl-C) once a step has failed, since the mutant is then caught.
//!
//! `MUTATION_LESSONS=uts,pid` plays only those lessons' mutants (docs/writing-lessons.md).

mod common;

use common::lesson_run::{lesson_value, write_lesson};
use common::{assert_empty_dir, bin, sigint, turn};
use serde_yaml::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

/// The variable that picks lessons: ids separated by commas.
const LESSONS_VAR: &str = "MUTATION_LESSONS";
/// The bound of one mutant's run (`--timeout`): far above any lesson's, so only a hang hits it.
const RUN_TIMEOUT_SECS: &str = "300";

/// The built-in lessons' ids, from the files in lessons/ (each file is named after its id).
fn builtin_lessons() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("lessons");
    let mut ids: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    ids.sort();
    assert!(!ids.is_empty(), "no lessons found in lessons/");
    ids
}

/// The lessons to mutate: all of them, or those `MUTATION_LESSONS` names (each must exist).
fn selected_lessons() -> Vec<String> {
    let all = builtin_lessons();
    let Ok(wanted) = std::env::var(LESSONS_VAR) else {
        return all;
    };
    let wanted: Vec<String> = wanted
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    for w in &wanted {
        assert!(all.contains(w), "{LESSONS_VAR}: no lesson {w:?} in {all:?}");
    }
    assert!(!wanted.is_empty(), "{LESSONS_VAR} names no lesson");
    wanted
}

/// What a mutant changes in its lesson.
#[derive(Debug, Clone, Copy)]
enum Change {
    /// The step's action with this index is gone.
    DropAction(usize),
    /// The exercise's solution is `true`: it does nothing.
    EmptySolution,
}

struct Mutant {
    step: usize,
    step_id: String,
    change: Change,
    /// The action (or solution) as the lesson writes it, in one line.
    shown: String,
    /// The lesson's `unchecked` reason on the dropped action.
    reason: Option<String>,
}

impl Mutant {
    fn name(&self, lesson: &str) -> String {
        let what = match self.change {
            Change::DropAction(i) => format!("action #{} {}", i + 1, self.shown),
            Change::EmptySolution => format!("solution {} replaced by `true`", self.shown),
        };
        format!("{lesson} step {} ({}) {what}", self.step + 1, self.step_id)
    }
}

/// A YAML value in one line (JSON, which is YAML too).
fn one_line(v: &Value) -> String {
    serde_json::to_string(v).unwrap()
}

/// Every mutant of a lesson, in step and action order.
fn mutants(lesson: &Value) -> Vec<Mutant> {
    let mut out = Vec::new();
    for (step, s) in lesson["steps"].as_sequence().unwrap().iter().enumerate() {
        let step_id = s["id"].as_str().unwrap().to_string();
        let actions = s.get("actions").and_then(Value::as_sequence);
        for (i, action) in actions.into_iter().flatten().enumerate() {
            // An action is a one-key map whose value holds its fields (`unchecked` among them).
            let fields = action.as_mapping().and_then(|m| m.values().next());
            let reason = fields
                .and_then(|f| f.get("unchecked"))
                .and_then(Value::as_str)
                .map(String::from);
            // Shown without its reason, which is printed after it.
            let mut shown = action.clone();
            if let Some(Value::Mapping(f)) =
                shown.as_mapping_mut().and_then(|m| m.values_mut().next())
            {
                f.remove("unchecked");
            }
            out.push(Mutant {
                step,
                step_id: step_id.clone(),
                change: Change::DropAction(i),
                shown: one_line(&shown),
                reason,
            });
        }
        if let Some(solution) = s.get("exercise").and_then(|e| e.get("solution")) {
            out.push(Mutant {
                step,
                step_id: step_id.clone(),
                change: Change::EmptySolution,
                shown: one_line(solution),
                reason: None,
            });
        }
    }
    out
}

/// The lesson with the mutant's change made.
fn apply(lesson: &Value, m: &Mutant) -> Value {
    let mut copy = lesson.clone();
    let step = &mut copy["steps"][m.step];
    match m.change {
        Change::DropAction(i) => {
            step["actions"].as_sequence_mut().unwrap().remove(i);
        }
        Change::EmptySolution => {
            step["exercise"]["solution"]["shell"] = Value::String("true".into());
        }
    }
    copy
}

/// `containerlab check` on the lesson file in `dir`: None if valid, else its first error.
fn validation_error(dir: &Path, lesson: &str) -> Option<String> {
    let file = dir.join(format!("{lesson}.yaml"));
    let out = Command::new(bin())
        .arg("check")
        .arg(&file)
        .output()
        .unwrap();
    let text = common::both(&out);
    match out.status.code() {
        Some(0) => None,
        Some(2) => Some(
            text.lines()
                .find(|l| l.contains(": error: "))
                .unwrap_or_else(|| panic!("check exited 2 with no located error:\n{text}"))
                .to_string(),
        ),
        _ => panic!(
            "check of {} ended {:?}:\n{text}",
            file.display(),
            out.status
        ),
    }
}

/// How a played lesson ended.
enum Played {
    /// Every step passed.
    Passed,
    /// Step `step` (0-based) failed, first `by` this.
    Failed { step: usize, by: String },
}

/// Where the mutants play: a scratch directory for their sessions and progress, the only
/// place on the host's disk they may write (with the lab's cache), since a mutant is a lesson
/// with a step missing: its later `run`s and solutions, arbitrary commands, may then act on the
/// host itself (an exercise's `echo hi > /hello` without the `chroot` before it).
struct Sandbox {
    scratch: tempfile::TempDir,
    cache: std::path::PathBuf,
}

impl Sandbox {
    fn new() -> Sandbox {
        // Not under /tmp: a mutant of the mount lesson whose box kept / shared mounts a tmpfs on
        // /tmp for the whole test namespace, which would hide the sessions from the lab itself.
        let scratch = tempfile::tempdir_in("/var/tmp").unwrap();
        // Traversable by the lessons' unprivileged users (a tempdir is 0700).
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(scratch.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        for d in ["run", "state"] {
            std::fs::create_dir(scratch.path().join(d)).unwrap();
        }
        // The busybox rootfs is built there on first use (the baseline's run builds it).
        let cache = std::env::var_os("CONTAINERLAB_CACHE_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| "/var/cache/containerlab".into());
        std::fs::create_dir_all(&cache).unwrap();
        Sandbox { scratch, cache }
    }

    /// The mutants' session base directory (CONTAINERLAB_RUN_DIR).
    fn run_dir(&self) -> std::path::PathBuf {
        self.scratch.path().join("run")
    }

    /// The lab with `args`, in a network, mount, UTS and IPC namespace of its own (so a mutant
    /// that lost its `unshare` renames, addresses or fills no namespace of the machine), `lo`
    /// up. `/` there is first made rprivate (cut from the machine's mounts), read-only but for
    /// the scratch directory and the cache, then rshared as systemd makes it: a lesson's
    /// `propagation: private` matters only there, so only there can a check see it.
    fn command(&self, args: &[&std::ffi::OsStr]) -> Command {
        let (scratch, cache) = (self.scratch.path().display(), self.cache.display());
        let script = format!(
            "ip link set lo up && mount --bind '{scratch}' '{scratch}' && \
             mount --bind '{cache}' '{cache}' && mount -o remount,bind,ro / && \
             mount --make-rshared / && exec \"$0\" \"$@\""
        );
        let mut c = Command::new("unshare");
        c.args([
            "--net",
            "--mount",
            "--uts",
            "--ipc",
            "--propagation",
            "private",
        ])
        .args(["--", "sh", "-c", script.as_str()])
        .arg(bin())
        .args(args)
        .env("CONTAINERLAB_RUN_DIR", self.run_dir())
        .env("CONTAINERLAB_STATE_DIR", self.scratch.path().join("state"))
        .env("CONTAINERLAB_CACHE_DIR", &self.cache)
        .env("LANG", "C")
        .stdin(Stdio::null());
        c
    }
}

/// Plays lesson `lesson` from `dir` headless in the sandbox, stopping it once a step has
/// failed. Panics on anything but a pass or a failed step (refused, timed out, crashed, a
/// failed teardown).
fn play(sandbox: &Sandbox, dir: &Path, lesson: &str) -> Played {
    let args: Vec<&std::ffi::OsStr> = vec![
        "--lessons".as_ref(),
        dir.as_os_str(),
        "run".as_ref(),
        "lesson".as_ref(),
        lesson.as_ref(),
        "--headless".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
        "--timeout".as_ref(),
        RUN_TIMEOUT_SECS.as_ref(),
    ];
    let mut child = sandbox
        .command(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let mut stream = String::new();
    let mut first_failure: Option<(usize, String)> = None;
    let mut failed_step: Option<usize> = None;
    let mut lesson_passed = false;
    let mut teardown_failures = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
    {
        stream.push_str(&line);
        stream.push('\n');
        let e: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|err| panic!("not a JSON event ({err}): {line}"));
        let step = e["step"].as_u64().map(|s| s as usize);
        match e["event"].as_str().unwrap_or_default() {
            "action" if !e["error"].is_null() && e["error"]["expected"] != true => {
                let by = format!("action {} failed: {}", e["action"], e["error"]["message"]);
                first_failure.get_or_insert((step.unwrap(), by));
            }
            "check" if e["passed"] == false && e["phase"] != "before_solution" => {
                let by = format!("check {} ({})", e["id"], e["claim"]);
                first_failure.get_or_insert((step.unwrap(), by));
            }
            "step_end" if e["passed"] == false && failed_step.is_none() => {
                failed_step = step;
                // Caught: the rest of the lesson cannot change that. Torn down as on Ctrl-C.
                sigint(child.id() as i32);
            }
            "lesson_end" => lesson_passed = e["passed"] == true,
            "teardown" => {
                teardown_failures = e["failures"].as_array().cloned().unwrap_or_default();
            }
            _ => {}
        }
    }
    let status = child.wait().unwrap();
    let output = format!("{stream}{}", err_reader.join().unwrap());
    // The machine-wide objects the sandbox does not hold: each run must remove its own.
    let cgroups = common::lesson_run::lab_cgroups();
    assert!(
        cgroups.is_empty(),
        "cgroups left after the run: {cgroups:?}\n{output}"
    );
    assert!(
        teardown_failures.is_empty(),
        "teardown failed: {teardown_failures:?}\n{output}"
    );
    match failed_step {
        Some(step) => {
            // Exit 1 when the failed step was the last, 130 when the SIGINT stopped the run.
            assert!(
                matches!(status.code(), Some(1 | 130)),
                "{status:?}\n{output}"
            );
            let by = match first_failure {
                Some((s, by)) if s == step => by,
                _ => "the step failed".into(),
            };
            Played::Failed { step, by }
        }
        None => {
            assert!(
                status.code() == Some(0) && lesson_passed,
                "the run neither passed nor failed a step ({status:?}):\n{output}"
            );
            Played::Passed
        }
    }
}

/// What became of a mutant.
enum Fate {
    Invalid(String),
    Caught { step: usize, by: String },
    Survived,
}

/// Writes to the test's standard error directly, past the test harness's capture, so the
/// reasons and the summary are shown by a plain `cargo test` too.
fn say(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}

#[test]
fn every_action_of_every_lesson_is_seen_by_a_check() {
    let t = turn();
    let sandbox = Sandbox::new();
    let run_dir = sandbox.run_dir();
    let (mut made, mut caught, mut reasoned) = (0, 0, 0);
    let mut survivors = Vec::new();
    for lesson in selected_lessons() {
        let value = lesson_value(&lesson);
        assert_eq!(value["id"].as_str(), Some(lesson.as_str()), "file name");
        // The rewritten copy itself must load and pass: a mutant is judged against it.
        let baseline = write_lesson(&lesson, &value);
        if let Some(e) = validation_error(baseline.path(), &lesson) {
            panic!("{lesson}: the unmutated copy does not validate: {e}");
        }
        if let Played::Failed { step, by } = play(&sandbox, baseline.path(), &lesson) {
            panic!(
                "{lesson}: the unmutated copy fails at step {}: {by}",
                step + 1
            );
        }
        assert_empty_dir(&run_dir);
        let (mut l_caught, mut l_made) = (0, 0);
        for m in mutants(&value) {
            let dir = write_lesson(&lesson, &apply(&value, &m));
            let fate = match validation_error(dir.path(), &lesson) {
                Some(e) => Fate::Invalid(e),
                None => match play(&sandbox, dir.path(), &lesson) {
                    Played::Passed => Fate::Survived,
                    Played::Failed { step, by } => Fate::Caught { step, by },
                },
            };
            assert_empty_dir(&run_dir);
            let name = m.name(&lesson);
            l_made += 1;
            match fate {
                Fate::Invalid(e) => {
                    l_caught += 1;
                    println!("caught by validation: {name}\n    {e}");
                }
                Fate::Caught { step, by } => {
                    assert!(
                        step >= m.step,
                        "{name}: failed at step {}, before the mutated one: the run was \
                         disturbed by something else ({by})",
                        step + 1
                    );
                    l_caught += 1;
                    println!("caught at step {}: {name}\n    by {by}", step + 1);
                    if m.reason.is_some() {
                        say(&format!(
                            "mutation: {name} is caught, its `unchecked` reason may go"
                        ));
                    }
                }
                Fate::Survived => match &m.reason {
                    Some(r) => {
                        reasoned += 1;
                        say(&format!("mutation: unchecked: {name}: {r}"));
                    }
                    None => {
                        say(&format!("mutation: SURVIVED: {name}"));
                        survivors.push(name);
                    }
                },
            }
        }
        say(&format!(
            "mutation: {lesson}: {l_made} mutants, {l_caught} caught"
        ));
        made += l_made;
        caught += l_caught;
    }
    t.assert_host_unchanged("after the mutants");
    common::assert_nothing_left(&run_dir);
    let summary = format!(
        "mutation: {made} mutants, {caught} caught, {reasoned} unchecked with a reason, {} survived",
        survivors.len()
    );
    say(&summary);
    // .ci/run prints it (a passing test's output is hidden).
    common::summary::report("mutation", &summary);
    assert!(
        survivors.is_empty(),
        "{} mutants passed every check (no check sees what the action does; add one, or give \
         the action `unchecked: \"why\"`):\n{}",
        survivors.len(),
        survivors.join("\n")
    );
}
