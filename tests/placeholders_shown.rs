//! No `{…}` placeholder reaches a learner, in any lesson, in either language: neither in what a
//! headless run prints (its JSON events carry every text the text format prints: titles, step
//! texts and commands, exercises, claims, messages, views) nor in what the TUI shows (the same
//! step words, `Runner::texts`, filled as far as the session knows when the step is reached, and
//! before the sandbox starts the intro and first step filled from the machine alone). The
//! session's own path and pids read as the shell variables that hold them (`$WORK`, `$BOX`).
//! The scan is strict: any `{name}` or `{name:arg}` counts, known to the resolver or not.

mod common;

use common::lesson_run::{command, lab_turn, Wrap};
use containerlab::lesson::load::catalog;
use containerlab::session::placeholders::Facts;
use containerlab::session::runner::lesson_texts;
use containerlab_cgroup::Version;
use regex::Regex;

/// `{name}` or `{name:arg}`: lower-case name, an argument without spaces or braces.
fn placeholders(text: &str) -> Vec<String> {
    let re = Regex::new(r"\{[a-z_]+(:[^{}\s]+)?\}").unwrap();
    re.find_iter(text).map(|m| m.as_str().to_string()).collect()
}

#[test]
fn the_scan_finds_placeholders_and_nothing_else() {
    assert_eq!(
        placeholders("in {work}/x of {pid:box}, {cgroup_file:version} {image_file:1} {nope}"),
        [
            "{work}",
            "{pid:box}",
            "{cgroup_file:version}",
            "{image_file:1}",
            "{nope}"
        ]
    );
    let code = "awk '{print $2}' ${WORK} {_LINUX_CAPABILITY_VERSION_3, 0} {index: 1} {\"a\": 1}";
    assert_eq!(placeholders(code), Vec::<String>::new());
}

#[test]
fn the_tui_shows_no_placeholder_before_the_sandbox_starts() {
    let mut found = Vec::new();
    for loaded in catalog(&[]).0 {
        let lesson = &loaded.lesson;
        for version in [Version::V1, Version::V2] {
            let facts = Facts {
                cgroup: Some(version),
                ..Facts::of_machine()
            };
            for lang in ["en", "ja"] {
                let texts = lesson_texts(lesson, lang, &facts);
                let first = &texts.steps[0];
                let shown = [
                    facts.display(lesson.title.get(lang)),
                    texts.intro.clone(),
                    first.title.clone(),
                    first.text.clone(),
                    first.command.clone().unwrap_or_default(),
                    first.task.clone().unwrap_or_default(),
                    first.hints.join("\n"),
                ];
                for text in shown {
                    for p in placeholders(&text) {
                        found.push(format!("{} ({lang}, {version:?}): {p}", lesson.id));
                    }
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "placeholders shown:\n{}",
        found.join("\n")
    );
}

#[test]
fn no_placeholder_reaches_headless_output_in_any_lesson_or_language() {
    let lab = lab_turn();
    let lessons = catalog(&[]).0;
    let mut found = Vec::new();
    for loaded in &lessons {
        let id = &loaded.lesson.id;
        // As the other lesson tests run them: the network never leaves a namespace made here.
        let wrap = match id.as_str() {
            "mount" => Wrap::RsharedMountNs,
            _ => Wrap::NetNsLoUp("true"),
        };
        for lang in ["en", "ja"] {
            let scratch = tempfile::tempdir().unwrap();
            let args: Vec<String> = ["run", "lesson", id, "--headless", "--format", "json"]
                .iter()
                .chain(&["--lang", lang])
                .map(|s| s.to_string())
                .collect();
            let out = command(wrap, &args, lab.dir(), scratch.path())
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{id} ({lang}):\n{stdout}\n{stderr}"
            );
            for p in placeholders(&stderr) {
                found.push(format!("{id} ({lang}): {p} on stderr"));
            }
            for line in stdout.lines() {
                // Each event's strings as they are, not JSON-escaped.
                let event: serde_json::Value = serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("{id} ({lang}): {e}: {line}"));
                let mut texts = Vec::new();
                strings(&event, &mut texts);
                for text in &texts {
                    for p in placeholders(text) {
                        found.push(format!("{id} ({lang}): {p} in {text:?}"));
                    }
                }
            }
        }
    }
    assert!(lessons.len() >= 13, "only {} lessons", lessons.len());
    assert!(
        found.is_empty(),
        "placeholders shown:\n{}",
        found.join("\n")
    );
}

/// Every string in a JSON value.
fn strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|v| strings(v, out)),
        serde_json::Value::Object(o) => o.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}
