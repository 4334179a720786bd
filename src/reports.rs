//! The read-only reports of the command line: `list`, `doctor` and `ns`, each as a table for
//! people or, with `--json`, as one JSON document for scripts.
//!
//! `ns --json` has `lsns -J`'s shape and field names (`{"namespaces": [{"ns", "type", "nprocs",
//! "pid", "user", "command"}]}`), so a script written for util-linux reads it unchanged.

use crate::exit;
use crate::inspect::namespaces::{self, NsRow};
use crate::lesson::load::Loaded;
use crate::session::play::requirements;
use serde_json::{json, Value};

fn print_json(value: &Value) {
    use std::io::Write;
    // Pretty like `lsns -J`, so a person can read it too. A reader that closed the pipe early
    // (`| head`) is not an error worth a panic.
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}

/// `lsns -J`'s document for these rows.
pub fn ns_json(rows: &[NsRow]) -> Value {
    let namespaces: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "ns": r.ns,
                "type": r.kind,
                "nprocs": r.nprocs,
                "pid": r.pid,
                "user": r.user,
                "command": r.command,
            })
        })
        .collect();
    json!({ "namespaces": namespaces })
}

pub fn ns(as_json: bool) -> i32 {
    let rows = namespaces::table();
    if as_json {
        print_json(&ns_json(&rows));
    } else {
        // One write for the whole table (stdout is line-buffered: a write per row otherwise).
        // A reader that closed the pipe early (`| head`) is not an error; a full disk is.
        use std::io::Write;
        let mut text = namespaces::render(&rows).join("\n");
        text.push('\n');
        match std::io::stdout().lock().write_all(text.as_bytes()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                eprintln!("containerlab: writing the table: {e}");
                return exit::ENVIRONMENT;
            }
            _ => {}
        }
    }
    exit::OK
}

pub fn list(lessons: &[Loaded], lang: &str, as_json: bool) -> i32 {
    if as_json {
        let rows: Vec<Value> = lessons
            .iter()
            .map(|l| {
                json!({
                    "id": l.lesson.id,
                    "title": l.lesson.title.get(lang),
                    "steps": l.lesson.steps.len(),
                })
            })
            .collect();
        print_json(&json!({ "lang": lang, "lessons": rows }));
        return exit::OK;
    }
    let width = lessons
        .iter()
        .map(|l| l.lesson.id.len())
        .chain([10])
        .max()
        .unwrap_or(10);
    println!("{:<width$} {:>5}  TITLE", "ID", "STEPS");
    for l in lessons {
        println!(
            "{:<width$} {:>5}  {}",
            l.lesson.id,
            l.lesson.steps.len(),
            l.lesson.title.get(lang)
        );
    }
    exit::OK
}

/// One probe as `doctor` reports it: the requirement's name, the verdict, and which lessons
/// need it.
struct Row {
    name: String,
    probe: crate::probe::ProbeResult,
    affects: Vec<String>,
}

pub fn doctor(lessons: &[Loaded], as_json: bool) -> i32 {
    use crate::lesson::schema::Requirement;
    let rows: Vec<Row> = crate::probe::check_all(&Requirement::ALL)
        .into_iter()
        .map(|probe| Row {
            name: serde_json::to_value(probe.requirement)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            affects: lessons
                .iter()
                .filter(|l| requirements(&l.lesson).contains(&probe.requirement))
                .map(|l| l.lesson.id.clone())
                .collect(),
            probe,
        })
        .collect();
    // The verdict per lesson, from the same probes a run uses before it starts.
    let (runnable, refused): (Vec<&Loaded>, Vec<&Loaded>) = lessons
        .iter()
        .partition(|l| crate::session::play::refusals(&l.lesson).is_empty());
    let ids = |v: &[&Loaded]| -> Vec<String> { v.iter().map(|l| l.lesson.id.clone()).collect() };
    let all_ok = rows.iter().all(|r| r.probe.ok);
    if as_json {
        let features: Vec<Value> = rows
            .iter()
            .map(|r| {
                json!({
                    "feature": r.name,
                    "ok": r.probe.ok,
                    "detail": r.probe.detail,
                    "fix": r.probe.fix,
                    "affects": r.affects,
                })
            })
            .collect();
        print_json(&json!({
            "features": features,
            "runnable": ids(&runnable),
            "refused": ids(&refused),
        }));
    } else {
        println!("{:<24} {:<4} DETAIL", "FEATURE", "OK");
        for r in &rows {
            let verdict = if r.probe.ok { "yes" } else { "NO" };
            println!("{:<24} {verdict:<4} {}", r.name, r.probe.detail);
            if r.probe.ok {
                continue;
            }
            if let Some(fix) = &r.probe.fix {
                println!("{:<29} fix: {fix}", "");
            }
            if !r.affects.is_empty() {
                println!("{:<29} affects: {}", "", r.affects.join(", "));
            }
        }
        println!();
        println!(
            "lessons runnable here: {} of {}: {}",
            runnable.len(),
            lessons.len(),
            ids(&runnable).join(", ")
        );
        if !refused.is_empty() {
            println!("lessons refused here: {}", ids(&refused).join(", "));
        }
    }
    if all_ok {
        exit::OK
    } else {
        exit::ENVIRONMENT
    }
}
