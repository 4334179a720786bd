//! Instructor and author commands: `progress --export` / `--summary`, `reset`, `new lesson`, and
//! the hook that makes headless runs record progress (see [`crate::progress`]).

use crate::engine::cleanup;
use crate::exit;
use crate::lesson::load::{self, Loaded};
use crate::lesson::validate::Severity;
use crate::progress::{self, Progress, ProgressError, Recorder};
use crate::session::events::Sink;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Runs `play` with a sink that also records progress into the learner's progress file. A file
/// that cannot be read is reported and left alone: the run still happens, unrecorded.
pub fn recorded<R>(sink: &mut dyn Sink, play: impl FnOnce(&mut dyn Sink) -> R) -> R {
    let path = progress::default_path();
    match Progress::load(&path) {
        Ok(loaded) => {
            let mut recorder = Recorder::new(sink, path, loaded);
            let out = play(&mut recorder);
            recorder.flush();
            if let Some(e) = recorder.error.take() {
                eprintln!("containerlab: progress not saved: {e}");
            }
            out
        }
        Err(e) => {
            eprintln!("containerlab: progress not recorded: {e}");
            play(sink)
        }
    }
}

/// What `progress --export` writes: the progress file plus who and where.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Export {
    pub learner: String,
    pub hostname: String,
    /// When the export was made (UTC, RFC 3339).
    pub exported: String,
    #[serde(flatten)]
    pub progress: Progress,
}

/// The learner's name: `--name`, else the user who ran sudo, else `$USER`, else the uid.
fn learner_name(explicit: Option<&str>) -> String {
    if let Some(n) = explicit {
        return n.to_string();
    }
    for var in ["SUDO_USER", "USER", "LOGNAME"] {
        if let Ok(v) = std::env::var(var) {
            if !v.is_empty() {
                return v;
            }
        }
    }
    format!("uid{}", nix::unistd::getuid())
}

/// `containerlab progress --export [-o FILE] [--name NAME]`.
pub fn export(output: Option<&Path>, name: Option<&str>) -> i32 {
    let path = progress::default_path();
    let progress = match Progress::load(&path) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("containerlab progress: {e}");
            return exit::USAGE;
        }
    };
    let export = Export {
        learner: learner_name(name),
        hostname: nix::unistd::gethostname()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_default(),
        exported: progress::now(),
        progress,
    };
    let mut text = serde_json::to_string_pretty(&export).expect("export serializes");
    text.push('\n');
    match output {
        Some(file) => {
            if let Err(e) = std::fs::write(file, text) {
                eprintln!("containerlab progress: {}: {e}", file.display());
                return exit::USAGE;
            }
            eprintln!(
                "wrote {} ({} lesson(s) of {})",
                file.display(),
                export.progress.lessons.len(),
                export.learner
            );
        }
        None => print!("{text}"),
    }
    exit::OK
}

fn read_export(file: &Path) -> Result<Export, ProgressError> {
    let text = std::fs::read_to_string(file).map_err(|source| ProgressError::Io {
        path: file.to_path_buf(),
        source,
    })?;
    // Checks `format` and `version` the same way as the learner's own file.
    Progress::parse(file, &text)?;
    serde_json::from_str(&text).map_err(|e| ProgressError::Format {
        path: file.to_path_buf(),
        message: format!("not an export (`progress --export`): {e}"),
    })
}

/// `containerlab progress --summary FILE...`: one row per learner, one column per lesson; then
/// how many finished each lesson, and the checks that fail for the most learners.
pub fn summary(files: &[PathBuf], lessons: &[Loaded]) -> i32 {
    let mut exports = Vec::new();
    for f in files {
        match read_export(f) {
            Ok(e) => exports.push(e),
            Err(e) => {
                eprintln!("containerlab progress: {e}");
                return exit::USAGE;
            }
        }
    }
    print!("{}", render_summary(&exports, lessons));
    exit::OK
}

/// The summary as text (see [`summary`]).
pub fn render_summary(exports: &[Export], catalog: &[Loaded]) -> String {
    // Columns: the catalog's lessons in order, then any others the exports mention.
    let mut ids: Vec<String> = catalog
        .iter()
        .map(|l| l.lesson.id.clone())
        .filter(|id| exports.iter().any(|e| e.progress.lessons.contains_key(id)))
        .collect();
    let mut others: Vec<String> = exports
        .iter()
        .flat_map(|e| e.progress.lessons.keys().cloned())
        .filter(|id| !ids.contains(id))
        .collect();
    others.sort();
    others.dedup();
    ids.extend(others);
    let steps_of = |id: &str| {
        catalog
            .iter()
            .find(|l| l.lesson.id == id)
            .map(|l| l.lesson.steps.len())
    };
    let cell = |e: &Export, id: &str| -> String {
        match e.progress.lessons.get(id) {
            None => "-".into(),
            Some(l) if l.completed.is_some() && l.checks_failed().is_empty() => "done".into(),
            Some(l) => match steps_of(id) {
                Some(n) => format!("{}/{n} steps", l.steps_done.len().min(n)),
                None => format!("{} steps", l.steps_done.len()),
            },
        }
    };

    let mut rows: Vec<Vec<String>> = vec![["LEARNER", "HOST"]
        .iter()
        .map(|s| s.to_string())
        .chain(ids.iter().cloned())
        .collect()];
    for e in exports {
        rows.push(
            [e.learner.clone(), e.hostname.clone()]
                .into_iter()
                .chain(ids.iter().map(|id| cell(e, id)))
                .collect(),
        );
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in &rows {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(v, w)| format!("{v:<w$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }

    out.push_str(&format!("\nfinished (of {} learner(s)):\n", exports.len()));
    for id in &ids {
        let done = exports.iter().filter(|e| cell(e, id) == "done").count();
        out.push_str(&format!("  {id}: {done}\n"));
    }

    let mut failing: BTreeMap<(String, String), usize> = BTreeMap::new();
    for e in exports {
        for (lesson, l) in &e.progress.lessons {
            for check in l.checks_failed() {
                *failing.entry((lesson.clone(), check)).or_default() += 1;
            }
        }
    }
    let mut failing: Vec<_> = failing.into_iter().collect();
    failing.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    if failing.is_empty() {
        out.push_str("\nno check is failing\n");
    } else {
        out.push_str("\nchecks failing (latest verdict), most learners first:\n");
        for ((lesson, check), n) in failing {
            out.push_str(&format!("  {n:>3}  {lesson}/{check}\n"));
        }
    }
    out.push_str(&exercise_summary(exports, catalog));
    out
}

/// Per exercise, among the learners who started its lesson: how many solved it themselves
/// without a hint, themselves after hints, by running the solution, or not at all; the hardest
/// (fewest solved by the learner themselves) first.
fn exercise_summary(exports: &[Export], catalog: &[Loaded]) -> String {
    let mut rows: Vec<(String, [usize; 4])> = Vec::new();
    for loaded in catalog {
        let lesson = &loaded.lesson;
        for step in lesson.steps.iter().filter(|s| s.exercise.is_some()) {
            let mut counts = [0usize; 4];
            for e in exports {
                let Some(l) = e.progress.lessons.get(&lesson.id) else {
                    continue;
                };
                let column = match l.exercises.get(&step.id) {
                    Some(r) if r.by == progress::SolvedBy::Learner && r.hints == 0 => 0,
                    Some(r) if r.by == progress::SolvedBy::Learner => 1,
                    Some(_) => 2,
                    None => 3,
                };
                counts[column] += 1;
            }
            if counts.iter().sum::<usize>() > 0 {
                rows.push((format!("{}/{}", lesson.id, step.id), counts));
            }
        }
    }
    if rows.is_empty() {
        return String::new();
    }
    // Hardest first: the smallest share the learners solved themselves, then the most learners.
    rows.sort_by(|(a, x), (b, y)| {
        let own = |c: &[usize; 4]| (c[0] + c[1]) as f64 / c.iter().sum::<usize>() as f64;
        own(x)
            .total_cmp(&own(y))
            .then(y.iter().sum::<usize>().cmp(&x.iter().sum()))
            .then(a.cmp(b))
    });
    let mut out = String::from(
        "\nexercises, hardest first (learners who: solved it alone, with hints, ran the \
         solution, did not solve it):\n",
    );
    let width = rows.iter().map(|(id, _)| id.len()).max().unwrap_or(0);
    for (id, [alone, hinted, solution, open]) in rows {
        out.push_str(&format!(
            "  {id:<width$}  {alone:>3} alone  {hinted:>3} with hints  {solution:>3} solution  \
             {open:>3} not solved\n"
        ));
    }
    out
}

/// `containerlab reset [--lesson ID] [--yes]`: forget progress, then clean up leftovers of
/// crashed sessions.
pub fn reset(lesson: Option<&str>, yes: bool) -> i32 {
    let path = progress::default_path();
    let what = match lesson {
        Some(id) => format!("the progress of lesson {id}"),
        None => "all lesson progress".to_string(),
    };
    if !yes {
        if !std::io::stdin().is_terminal() {
            eprintln!("containerlab reset: would forget {what} in {}; add --yes to confirm when not at a terminal", path.display());
            return exit::USAGE;
        }
        eprint!("Forget {what} in {}? [y/N] ", path.display());
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        if !matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
            eprintln!("nothing changed");
            return exit::OK;
        }
    }
    let mut code = exit::OK;
    match Progress::load(&path) {
        Ok(mut p) => {
            let had = p.reset(lesson);
            if !had {
                println!(
                    "no progress recorded for {}",
                    lesson.unwrap_or("any lesson")
                );
            } else {
                match p.save(&path) {
                    Ok(()) => println!("forgot {what}"),
                    Err(e) => {
                        eprintln!("containerlab reset: {e}");
                        code = exit::ENVIRONMENT;
                    }
                }
            }
        }
        Err(e @ ProgressError::Format { .. }) => {
            // An unreadable file is what reset is for: move it aside rather than lose it.
            let aside = path.with_extension("json.bad");
            eprintln!("containerlab reset: {e}; moved to {}", aside.display());
            if let Err(e) = std::fs::rename(&path, &aside) {
                eprintln!("containerlab reset: {e}");
                code = exit::ENVIRONMENT;
            }
        }
        Err(e) => {
            eprintln!("containerlab reset: {e}");
            code = exit::ENVIRONMENT;
        }
    }
    if !nix::unistd::geteuid().is_root() {
        println!("leftovers of crashed sessions not checked: that needs root (sudo containerlab cleanup)");
        return code;
    }
    let report = cleanup::cleanup(false);
    for (id, pid) in &report.skipped {
        println!("session {id} still in use by pid {pid}; left alone");
    }
    for (id, r) in &report.sessions {
        println!("cleaned up session {id}: {}", r.summary());
        for f in &r.failures {
            println!("  ✗ {f}");
        }
    }
    if report.sessions.is_empty() && report.skipped.is_empty() {
        println!("no leftovers of crashed runs");
    }
    if !report.is_clean() {
        code = exit::CHECK_FAILED;
    }
    code
}

/// The skeleton `new lesson` writes: a complete, valid two-step lesson (a UTS namespace and an
/// exercise) with comments saying what to change.
pub fn skeleton(id: &str) -> String {
    SKELETON.replace("@ID@", id)
}

const SKELETON: &str = r#"# A containerlab lesson. Format: docs/lesson-format.md; guide: docs/writing-lessons.md.
# Check it after every edit:    containerlab check THIS_FILE
# Play it (as root):            containerlab --lessons THIS_FILE run lesson @ID@ --headless
format_version: 1
id: @ID@
order: 100
# Texts are {en: ..., ja: ...}; a missing `ja` is only a warning.
title: {en: "@ID@: TODO a one-line title"}
intro:
  en: |
    TODO: what the learner will see happen, and why it matters for containers.
# What the machine must offer (root is implied): user_namespaces, cgroup_memory, cgroup_pids,
# overlayfs, veth, busybox, ping, capsh, ping_file_capability, cgroup_cpu, time_namespaces.
requires: []
steps:
  - id: unshare
    title: {en: "TODO: the first step"}
    text:
      en: |
        TODO: explain the syscall this step makes. Every claim made here must be a check below.
    # What a person would type to do the same by hand (shown, never run).
    command: "unshare --uts sh"
    actions:
      - unshare: {namespaces: [uts]}
      - sethostname: {name: "@ID@"}
    views: [ns_inodes]
    checks:
      - id: own-uts-namespace
        claim: {en: "The sandbox has left the host's UTS namespace"}
        observe: {ns_inode: {of: sandbox, ns: uts}}
        expect: {differs: {ns_inode: {of: host, ns: uts}}}
      - id: hostname-inside
        claim: {en: "Inside, the hostname is @ID@"}
        observe: {hostname: sandbox}
        expect: {equals: "@ID@"}
      - id: host-keeps-its-name
        claim: {en: "The host keeps its own hostname"}
        observe: {hostname: host}
        expect: {not_equals: "@ID@"}
        why: {en: "sethostname(2) changes only the caller's UTS namespace"}
  - id: exercise
    title: {en: "TODO: your turn"}
    text:
      en: |
        TODO: what the learner does in a shell inside the sandbox.
    exercise:
      task: {en: "Set the sandbox's hostname to done."}
      hints:
        - {en: "The command `hostname NAME` calls sethostname(2)."}
      # Headless runs (and CI) play this; the checks must fail before it and pass after it.
      solution: {in: sandbox, shell: "hostname done"}
    checks:
      - id: hostname-done
        claim: {en: "The hostname inside is done"}
        observe: {hostname: sandbox}
        expect: {equals: done}
outro:
  en: |
    TODO: what the learner takes away.
"#;

/// `containerlab new lesson ID [--dir DIR]`: writes DIR/ID.yaml, refusing to overwrite.
pub fn new_lesson(id: &str, dir: &Path) -> i32 {
    if !crate::lesson::validate::is_lesson_id(id) {
        eprintln!("containerlab new lesson: {id:?} is not a lesson id: use lower-case letters, digits and -, starting with a letter");
        return exit::USAGE;
    }
    if let Err(e) = std::fs::create_dir_all(dir) {
        eprintln!("containerlab new lesson: {}: {e}", dir.display());
        return exit::USAGE;
    }
    let file = dir.join(format!("{id}.yaml"));
    let text = skeleton(id);
    // The skeleton must itself be valid: a broken one would teach the wrong thing.
    let (_, diags) = load::load_file(&file.display().to_string(), &text);
    if let Some(d) = diags.iter().find(|d| d.severity == Severity::Error) {
        eprintln!("containerlab new lesson: internal error, the skeleton is invalid: {d}");
        return exit::USAGE;
    }
    let created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&file)
        .and_then(|mut f| f.write_all(text.as_bytes()));
    match created {
        Ok(()) => {
            println!("wrote {}", file.display());
            println!(
                "next: edit it, then `containerlab check {}`",
                file.display()
            );
            exit::OK
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            eprintln!(
                "containerlab new lesson: {} exists; not overwritten",
                file.display()
            );
            exit::USAGE
        }
        Err(e) => {
            eprintln!("containerlab new lesson: {}: {e}", file.display());
            exit::USAGE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skeleton_has_no_errors() {
        let (loaded, diags) = load::load_file("x.yaml", &skeleton("my-lesson"));
        assert!(
            diags.iter().all(|d| d.severity != Severity::Error),
            "{diags:?}"
        );
        assert_eq!(loaded.unwrap().lesson.id, "my-lesson");
    }

    #[test]
    fn ids_are_checked() {
        use crate::lesson::validate::is_lesson_id as valid_id;
        assert!(valid_id("uts-2"));
        assert!(!valid_id("Uts"));
        assert!(!valid_id("2uts"));
        assert!(!valid_id("a/b"));
        assert!(!valid_id(""));
    }

    #[test]
    fn summary_counts_failing_checks_per_learner() {
        let mut a = Progress::default();
        a.check("uts", "now-mybox", false);
        a.step_done("uts", "shared");
        let mut b = Progress::default();
        b.check("uts", "now-mybox", false);
        b.check("uts", "inside-is-lab", true);
        b.lesson_completed("pid", true);
        let ex = |name: &str, p: Progress| Export {
            learner: name.into(),
            hostname: format!("{name}-laptop"),
            exported: progress::now(),
            progress: p,
        };
        let text = render_summary(&[ex("alice", a), ex("bob", b)], &[]);
        assert!(text.contains("    2  uts/now-mybox"), "{text}");
        assert!(
            text.lines()
                .any(|l| l.starts_with("bob") && l.contains("done")),
            "{text}"
        );
        assert!(text.contains("  pid: 1\n"), "{text}");
    }
}
