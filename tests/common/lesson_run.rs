//! Helpers of the tests that play whole lessons as root and check that nothing is left behind:
//! the lab's cgroups on the host, the binary started directly or inside namespaces the test
//! makes, a lesson rewritten with a pause step, and the harness that interrupts a run at a
//! chosen point.

use super::{bin, children_of, sigint, sleepers, turn, wait_until, Turn, STATE_DIR};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// A file's text, or "" if it cannot be read.
pub fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Every lab cgroup directory (`containerlab*`, `clab*`, the cgroupns lesson's `cgns-*`) under
/// /sys/fs/cgroup, sorted.
pub fn lab_cgroups() -> Vec<String> {
    let out = Command::new("find")
        .args([
            "/sys/fs/cgroup",
            "-maxdepth",
            "4",
            "-type",
            "d",
            "(",
            "-name",
            "containerlab*",
            "-o",
            "-name",
            "clab*",
            "-o",
            "-name",
            "cgns-*",
            ")",
        ])
        .output()
        .expect("find");
    let mut v: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

/// A root test's turn (see [`turn`]) with a fresh session base directory for its runs.
pub struct LabTurn {
    pub turn: Turn,
    pub run_dir: tempfile::TempDir,
}

pub fn lab_turn() -> LabTurn {
    LabTurn {
        turn: turn(),
        run_dir: tempfile::tempdir().unwrap(),
    }
}

impl LabTurn {
    pub fn dir(&self) -> &Path {
        self.run_dir.path()
    }
}

/// Where a step goes in a lesson.
#[derive(Clone, Copy)]
pub enum At<'a> {
    /// After the step with this index.
    After(usize),
    /// Before the step with this id.
    Before(&'a str),
}

/// Built-in lesson `lesson` as a YAML tree, its variables put in and `vars` removed (so a copy
/// written back reads the same: `uid: {var:x}` is not YAML we could write back as it was).
pub fn lesson_value(lesson: &str) -> serde_yaml::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("lessons")
        .join(format!("{lesson}.yaml"));
    let mut text = std::fs::read_to_string(path).unwrap();
    let value: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    if let Some(vars) = value.get("vars").and_then(|v| v.as_mapping()) {
        for (k, v) in vars {
            let v = match v {
                serde_yaml::Value::String(s) => s.clone(),
                other => serde_yaml::to_string(other).unwrap().trim().to_string(),
            };
            text = text.replace(&format!("{{var:{}}}", k.as_str().unwrap()), &v);
        }
    }
    let mut value: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    value.as_mapping_mut().unwrap().remove("vars");
    value
}

/// Writes `value` as lesson `lesson` into a new directory (for `--lessons`) that lives as long
/// as the returned handle.
pub fn write_lesson(lesson: &str, value: &serde_yaml::Value) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(format!("{lesson}.yaml")),
        serde_yaml::to_string(value).unwrap(),
    )
    .unwrap();
    dir
}

/// A copy of built-in lesson `lesson` with one more step at `at`: titled `marker`, running
/// `action` (one line of YAML). The copy is written to a new directory (for `--lessons`) that
/// lives as long as the returned handle.
pub fn lesson_with_step(lesson: &str, at: At, marker: &str, action: &str) -> tempfile::TempDir {
    let mut value = lesson_value(lesson);
    let step: serde_yaml::Value = serde_yaml::from_str(&format!(
        "id: pause\ntitle: {{en: {marker}}}\ntext: {{en: waits}}\nactions:\n  - {action}\n"
    ))
    .unwrap();
    let steps = value["steps"].as_sequence_mut().unwrap();
    let index = match at {
        At::After(i) => i + 1,
        At::Before(id) => steps
            .iter()
            .position(|s| s["id"].as_str() == Some(id))
            .unwrap_or_else(|| panic!("no step {id} in {lesson}")),
    };
    steps.insert(index, step);
    write_lesson(lesson, &value)
}

/// [`lesson_with_step`] after step `after`, in which `who` runs `sleep SLEEP`, long enough to
/// be interrupted in.
pub fn lesson_with_pause(
    lesson: &str,
    after: usize,
    who: &str,
    marker: &str,
    sleep: &str,
) -> tempfile::TempDir {
    lesson_with_step(
        lesson,
        At::After(after),
        marker,
        &format!("run: {{in: {who}, argv: [sleep, \"{sleep}\"]}}"),
    )
}

/// How the binary is started: directly, or inside namespaces the test makes.
#[derive(Clone, Copy)]
pub enum Wrap<'a> {
    Direct,
    /// `unshare --mount --propagation unchanged`, `/` made rshared, mountinfo saved before/after.
    RsharedMountNs,
    /// `unshare --net`, the namespace's links saved after.
    NetNs,
    /// `unshare --net` with `lo` brought up and then the shell prelude run (a background
    /// process it starts with `BG=$!` is stopped at the end); the links saved after.
    NetNsLoUp(&'a str),
}

/// The binary with `args`, its sessions under `run_dir`, started as `wrap` says; the wrapper
/// writes its files (mountinfo `before`/`after`, `links`) to `scratch`.
pub fn command(wrap: Wrap, args: &[String], run_dir: &Path, scratch: &Path) -> Command {
    let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
    let lab = format!("'{}' {}", bin().display(), quoted.join(" "));
    let s = scratch.display();
    let in_shell = |unshare: &[&str], script: String| {
        let mut c = Command::new("unshare");
        c.args(unshare).args(["sh", "-c"]).arg(script);
        c
    };
    let mut cmd = match wrap {
        Wrap::Direct => {
            let mut c = Command::new(bin());
            c.args(args);
            c
        }
        Wrap::RsharedMountNs => in_shell(
            &["--mount", "--propagation", "unchanged"],
            format!(
                "mount --make-rshared / && cat /proc/self/mountinfo > {s}/before && {lab}; \
                 rc=$?; cat /proc/self/mountinfo > {s}/after; exit $rc"
            ),
        ),
        Wrap::NetNs => in_shell(
            &["--net", "--"],
            format!("{lab}; rc=$?; ip -o link > {s}/links; exit $rc"),
        ),
        Wrap::NetNsLoUp(prelude) => in_shell(
            &["--net", "--"],
            format!(
                "BG=; ip link set lo up && {prelude} && {lab}; rc=$?; \
                 [ -z \"$BG\" ] || {{ kill $BG; wait $BG; }} 2>/dev/null; \
                 ip -o link > {s}/links; exit $rc"
            ),
        ),
    };
    cmd.env("CONTAINERLAB_RUN_DIR", run_dir)
        .env("CONTAINERLAB_STATE_DIR", STATE_DIR)
        .env("LANG", "C")
        .stdin(Stdio::null());
    cmd
}

/// The containerlab front end: the spawned process itself, or the child of the wrapping shell.
pub fn front_end(spawned: u32, wrap: Wrap) -> i32 {
    match wrap {
        Wrap::Direct => spawned as i32,
        _ => *children_of(spawned as i32)
            .first()
            .expect("the shell runs containerlab"),
    }
}

/// A finished run.
pub struct Run {
    pub code: Option<i32>,
    /// Standard output, then standard error.
    pub output: String,
    /// Files the wrapper wrote: mountinfo before/after, links after.
    pub scratch: tempfile::TempDir,
}

impl Run {
    pub fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.scratch.path().join(name)).unwrap_or_default()
    }

    /// Played in `Wrap::RsharedMountNs`: `/` was shared there (as systemd makes it), and its
    /// mountinfo is the same after the lesson as before it (nothing the lesson mounted leaked).
    #[track_caller]
    pub fn assert_mountinfo_kept(&self) {
        let (before, after) = (self.file("before"), self.file("after"));
        assert!(
            before
                .lines()
                .any(|l| l.split(' ').nth(4) == Some("/") && l.contains("shared:")),
            "/ was not made shared in the test's namespace:\n{before}"
        );
        assert_eq!(before, after, "mountinfo changed:\n{}", self.output);
    }

    /// The lesson ran to the end and passed, and each claim in `key` was reported passed.
    #[track_caller]
    pub fn assert_passed_with(&self, lesson: &str, key: &[&str]) {
        assert_eq!(self.code, Some(0), "{}", self.output);
        assert!(
            self.output.contains(&format!("✓ {lesson}:")),
            "{}",
            self.output
        );
        for claim in key {
            assert!(
                self.output.contains(&format!("✓ {claim}")),
                "{claim:?} did not pass:\n{}",
                self.output
            );
        }
    }

    /// The test's network namespace has nothing but `lo` once the lab has exited.
    #[track_caller]
    pub fn assert_net_ns_clean(&self) {
        let links = self.file("links");
        let names: Vec<&str> = links
            .lines()
            .filter_map(|l| l.split(':').nth(1).map(str::trim))
            .collect();
        assert_eq!(names, ["lo"], "{}", self.output);
    }
}

/// `run lesson LESSON --headless EXTRA...`, started as `wrap` says, to the end.
pub fn play(wrap: Wrap, lesson: &str, extra: &[&str], run_dir: &Path) -> Run {
    let scratch = tempfile::tempdir().unwrap();
    let args: Vec<String> = ["run", "lesson", lesson, "--headless"]
        .iter()
        .chain(extra)
        .map(|s| s.to_string())
        .collect();
    let out = command(wrap, &args, run_dir, scratch.path())
        .output()
        .unwrap();
    Run {
        code: out.status.code(),
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        scratch,
    }
}

/// A run interrupted with SIGINT when a line of its standard output said so.
pub struct Interrupted<T> {
    pub code: Option<i32>,
    /// Standard output, line by line.
    pub stdout: Vec<String>,
    /// How many lines of `stdout` there were up to and with the line that triggered the SIGINT.
    pub seen: usize,
    pub stderr: String,
    /// What `at_trigger` answered.
    pub at_trigger: T,
}

impl<T> Interrupted<T> {
    /// Standard output, then standard error.
    pub fn output(&self) -> String {
        let mut all: String = self.stdout.iter().map(|l| format!("{l}\n")).collect();
        all.push_str(&self.stderr);
        all
    }

    /// The lines printed after the trigger.
    pub fn after_trigger(&self) -> &[String] {
        &self.stdout[self.seen..]
    }
}

/// Spawns `cmd` with both outputs piped and reads its standard output; at the first line for
/// which `trigger` holds (within `within`), calls `at_trigger` with the spawned pid, which
/// answers the pid to interrupt and what to keep, and sends that pid SIGINT. Fails the test if
/// no line triggered. Answers the finished run.
pub fn interrupt_when<T>(
    cmd: &mut Command,
    within: Duration,
    trigger: impl Fn(&str) -> bool + Send + 'static,
    at_trigger: impl FnOnce(u32) -> (i32, T),
) -> Interrupted<Option<T>> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let hit = trigger(&line);
            lines.push(line);
            if hit {
                let _ = tx.send(lines.len());
            }
        }
        lines
    });
    let seen = rx.recv_timeout(within).ok();
    let kept = seen.map(|_| {
        let (pid, kept) = at_trigger(child.id());
        sigint(pid);
        kept
    });
    let status = child.wait().unwrap();
    let stdout = reader.join().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let run = Interrupted {
        code: status.code(),
        stdout,
        seen: seen.unwrap_or(0),
        stderr,
        at_trigger: kept,
    };
    assert!(seen.is_some(), "the trigger never came:\n{}", run.output());
    run
}

/// The title of the pause step that [`interrupt`] inserts.
pub const MARKER: &str = "interrupt-me-now";

/// Plays `lesson` (started as `wrap` says) with a pause step after step `after`, in which `who`
/// runs `sleep SLEEP`; once that sleep runs (waited for, bounded), calls `at_pause` with its pid
/// and sends SIGINT to the containerlab front end. Answers the finished run, `at_pause`'s text
/// added to its output.
pub fn interrupt(
    wrap: Wrap,
    (lesson, after, who): (&str, usize, &str),
    sleep: &str,
    run_dir: &Path,
    within: Duration,
    at_pause: impl FnOnce(Option<i32>) -> String,
) -> Run {
    let lessons = lesson_with_pause(lesson, after, who, MARKER, sleep);
    let scratch = tempfile::tempdir().unwrap();
    let args: Vec<String> = vec![
        "--lessons".into(),
        lessons.path().display().to_string(),
        "run".into(),
        "lesson".into(),
        lesson.into(),
        "--headless".into(),
    ];
    let run = interrupt_when(
        &mut command(wrap, &args, run_dir, scratch.path()),
        within,
        |line| line.contains(MARKER),
        |spawned| {
            // The title is only a trigger: wait (bounded) until the sleep runs.
            let mut sleeper = None;
            wait_until(20, || {
                sleeper = sleepers(sleep).first().copied();
                sleeper.is_some()
            });
            let paused = at_pause(sleeper);
            (front_end(spawned, wrap), paused)
        },
    );
    let mut output = run.output();
    output.push_str(run.at_trigger.as_deref().unwrap_or_default());
    Run {
        code: run.code,
        output,
        scratch,
    }
}
