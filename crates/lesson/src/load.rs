//! Reading lesson files: the built-in ones embedded in the binary, plus any directory given on the
//! command line, whose lessons add to or replace the built-in ones by id. Every error names the
//! file, line and column.

use super::diagnostic::{Diagnostic, Severity};
use super::schema::Lesson;
use super::validate::validate;
use std::path::{Path, PathBuf};

include!(concat!(env!("OUT_DIR"), "/builtin_lessons.rs"));

/// A lesson and where it came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The file as shown in messages: a real path, or `<built-in>/uts.yaml`.
    pub file: String,
    pub source: String,
    pub lesson: Lesson,
}

/// Parses one file's text. A syntax error or an unknown field is a diagnostic with its location.
pub fn parse(file: &str, source: &str) -> Result<Lesson, Diagnostic> {
    serde_yaml::from_str::<Lesson>(source).map_err(|e| {
        let (line, column) = e
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((1, 1));
        Diagnostic {
            file: file.to_string(),
            line,
            column,
            severity: Severity::Error,
            message: clean_message(&e.to_string()),
        }
    })
}

/// serde_yaml appends " at line L column C" to messages; the location is printed in front instead.
fn clean_message(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// Parses and validates one file.
pub fn load_file(file: &str, source: &str) -> (Option<Loaded>, Vec<Diagnostic>) {
    // `vars:` are written once and used as `{var:NAME}` anywhere: replace them, then read again.
    let expanded;
    let mut vars = vars_of(source);
    // `--var NAME=VALUE` replaces a lesson's own value (`--var subnet=...`), never adds one.
    if let Some(overrides) = OVERRIDES.get() {
        for (k, v) in overrides {
            if let Some(slot) = vars.get_mut(k) {
                *slot = v.clone();
            }
        }
    }
    let source = if vars.is_empty() {
        source
    } else {
        expanded = substitute_vars(source, &vars);
        &expanded
    };
    if let Some(line) = source.lines().position(|l| l.contains("{var:")) {
        let col = source
            .lines()
            .nth(line)
            .and_then(|l| l.find("{var:"))
            .unwrap_or(0);
        return (
            None,
            vec![Diagnostic {
                file: file.to_string(),
                line: line + 1,
                column: col + 1,
                severity: Severity::Error,
                message: "{var:...} names no entry of the lesson's `vars`".into(),
            }],
        );
    }
    match parse(file, source) {
        Ok(lesson) => {
            let diags = validate(file, source, &lesson);
            let ok = !diags.iter().any(|d| d.severity == Severity::Error);
            let loaded = ok.then(|| Loaded {
                file: file.to_string(),
                source: source.to_string(),
                lesson,
            });
            (loaded, diags)
        }
        Err(d) => (None, vec![d]),
    }
}

static OVERRIDES: std::sync::OnceLock<std::collections::BTreeMap<String, String>> =
    std::sync::OnceLock::new();

/// Values from the command line (`--var NAME=VALUE`) that replace the lessons' own `vars`.
/// Set once, before any lesson is loaded.
pub fn set_var_overrides(vars: std::collections::BTreeMap<String, String>) {
    let _ = OVERRIDES.set(vars);
}

/// The lesson's `vars:` map, read before anything else (the rest may not parse until the
/// variables are in place: `uid: {var:uid}` is a number only once replaced).
///
/// Reading YAML is most of what loading the lessons costs (the TUI's first frame loads all of
/// them), so the file is not read whole a second time for this: a lesson without a `{var:` has
/// nothing to replace, and one with them has its top-level `vars:` block read alone (the whole
/// file only if that block is not found on its own lines).
fn vars_of(source: &str) -> std::collections::BTreeMap<String, String> {
    if !source.contains("{var:") {
        return Default::default();
    }
    let value = vars_block(source)
        .and_then(|block| serde_yaml::from_str::<serde_yaml::Value>(block).ok())
        .filter(|v| v.get("vars").is_some())
        .or_else(|| serde_yaml::from_str::<serde_yaml::Value>(source).ok());
    let Some(value) = value else {
        return Default::default();
    };
    value
        .get("vars")
        .and_then(|v| v.as_mapping())
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| {
                    let value = match v {
                        serde_yaml::Value::String(s) => s.clone(),
                        serde_yaml::Value::Number(n) => n.to_string(),
                        serde_yaml::Value::Bool(b) => b.to_string(),
                        _ => return None,
                    };
                    Some((k.as_str()?.to_string(), value))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The text of the top-level `vars:` key: from its line to the next line that starts another
/// top-level key (a line beginning with neither a space nor `#`).
fn vars_block(source: &str) -> Option<&str> {
    let start = if source.starts_with("vars:") {
        0
    } else {
        source.find("\nvars:")? + 1
    };
    let rest = &source[start..];
    let end = rest
        .match_indices('\n')
        .map(|(i, _)| i + 1)
        .find(|&i| {
            rest[i..]
                .chars()
                .next()
                .is_some_and(|c| !c.is_whitespace() && c != '#')
        })
        .unwrap_or(rest.len());
    Some(&rest[..end])
}

/// Replaces every `{var:NAME}` whose NAME is in `vars`.
pub fn substitute_vars(source: &str, vars: &std::collections::BTreeMap<String, String>) -> String {
    let mut out = source.to_string();
    for (name, value) in vars {
        out = out.replace(&format!("{{var:{name}}}"), value);
    }
    out
}

/// The `*.yaml` files of a directory (sorted), or the path itself if it is a file.
pub fn lesson_files(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    Ok(files)
}

/// Every built-in lesson loaded, in `BUILTIN`'s order, on two threads (each about half the
/// text): reading 600 KB of YAML is most of what the TUI does before its first frame.
fn load_builtin() -> Vec<(Option<Loaded>, Vec<Diagnostic>)> {
    let load = |part: &[(&str, &str)]| -> Vec<_> {
        part.iter()
            .map(|(name, text)| load_file(&format!("<built-in>/{name}"), text))
            .collect()
    };
    let total: usize = BUILTIN.iter().map(|(_, text)| text.len()).sum();
    let mut size = 0;
    let half = BUILTIN
        .iter()
        .position(|(_, text)| {
            size += text.len();
            size * 2 >= total
        })
        .map_or(BUILTIN.len(), |i| i + 1);
    let (first, second) = BUILTIN.split_at(half);
    std::thread::scope(|scope| {
        let other = scope.spawn(|| load(second));
        let mut all = load(first);
        all.extend(
            other
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
        );
        all
    })
}

/// All lessons: the built-in ones, then those in `extra` (replacing built-ins with the same id).
/// Files that fail to load are reported, not fatal for the others.
pub fn catalog(extra: &[PathBuf]) -> (Vec<Loaded>, Vec<Diagnostic>) {
    let mut lessons: Vec<Loaded> = Vec::new();
    let mut diags = Vec::new();
    let mut add = |loaded: Option<Loaded>, d: Vec<Diagnostic>| {
        diags.extend(d);
        if let Some(l) = loaded {
            lessons.retain(|o| o.lesson.id != l.lesson.id);
            lessons.push(l);
        }
    };
    for (l, d) in load_builtin() {
        add(l, d);
    }
    for dir in extra {
        match lesson_files(dir) {
            Ok(files) => {
                for f in files {
                    let file = f.display().to_string();
                    match std::fs::read_to_string(&f) {
                        Ok(text) => {
                            let (l, d) = load_file(&file, &text);
                            add(l, d);
                        }
                        Err(e) => add(None, vec![Diagnostic::whole_file(&file, e.to_string())]),
                    }
                }
            }
            Err(e) => add(
                None,
                vec![Diagnostic::whole_file(
                    &dir.display().to_string(),
                    e.to_string(),
                )],
            ),
        }
    }
    lessons.sort_by(|a, b| (a.lesson.order, &a.lesson.id).cmp(&(b.lesson.order, &b.lesson.id)));
    (lessons, diags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_error_has_line_and_column() {
        let src = "format_version: 1\nid: x\ntitle: {en: [unclosed\n";
        let d = parse("bad.yaml", src).unwrap_err();
        assert_eq!(d.file, "bad.yaml");
        assert!(d.line >= 3, "{d}");
        assert!(!d.message.contains(" at line "));
    }

    #[test]
    fn unknown_field_is_named_with_its_location() {
        let src =
            "format_version: 1\nid: x\ntitle: {en: T}\nintro: {en: I}\nsteps: []\ncolour: red\n";
        let d = parse("f.yaml", src).unwrap_err();
        assert!(d.message.contains("unknown field `colour`"), "{d}");
        assert_eq!(d.line, 6);
    }

    #[test]
    fn a_name_outside_a_closed_set_is_named_with_its_location_and_the_allowed_ones() {
        let src = "format_version: 1\nid: x\ntitle: {en: T}\nintro: {en: I}\nsteps:\n  - id: a\n    title: {en: A}\n    text: {en: x}\n    checks:\n      - id: c\n        claim: {en: c}\n        observe: {caps: {of: sandbox, set: bounded}}\n        expect: {contains: cap_chown}\n";
        let d = parse("f.yaml", src).unwrap_err();
        assert!(d.message.contains("unknown variant `bounded`"), "{d}");
        assert!(d.message.contains("`bounding`"), "{d}");
        // Line and column of the value itself, `bounded`.
        assert_eq!((d.line, d.column), (12, 44), "{d}");
    }

    #[test]
    fn vars_are_replaced_before_the_lesson_is_read() {
        let src = "format_version: 1\nid: v\ntitle: {en: T}\nintro: {en: I}\nvars: {uid: 1000, ip: 10.0.0.1}\nsteps:\n  - id: a\n    title: {en: \"{var:ip}\"}\n    text: {en: x}\n    actions:\n      - spawn: {name: m}\n      - switch_user: {in: m, uid: {var:uid}, gid: {var:uid}}\n";
        let (loaded, diags) = load_file("v.yaml", src);
        let l = loaded.unwrap_or_else(|| panic!("{diags:?}"));
        assert_eq!(l.lesson.steps[0].title.get("en"), "10.0.0.1");
        let unknown = src.replace("{var:ip}", "{var:nope}");
        let (loaded, diags) = load_file("v.yaml", &unknown);
        assert!(loaded.is_none());
        assert!(diags[0].message.contains("vars"), "{diags:?}");
        assert_eq!(diags[0].line, 8);
    }

    /// The `vars:` block is read on its own: in block style, with a comment in it and keys after
    /// it, first in the file, or in flow style; where it is not on lines of its own, the whole
    /// file is read as before.
    #[test]
    fn the_vars_block_is_read_alone_wherever_it_is() {
        let block = "id: v\nvars:\n  uid: 1000\n  # the lab's subnet\n  ip: \"10.0.0.1\"\nsteps: {var:ip}\n";
        assert_eq!(
            vars_block(block),
            Some("vars:\n  uid: 1000\n  # the lab's subnet\n  ip: \"10.0.0.1\"\n")
        );
        let read = vars_of(block);
        assert_eq!(read.get("uid").map(String::as_str), Some("1000"));
        assert_eq!(read.get("ip").map(String::as_str), Some("10.0.0.1"));
        let first = "vars: {ip: 10.0.0.2}\nid: {var:ip}\n";
        assert_eq!(vars_block(first), Some("vars: {ip: 10.0.0.2}\n"));
        assert_eq!(
            vars_of(first).get("ip").map(String::as_str),
            Some("10.0.0.2")
        );
        let flow = "{id: v, vars: {ip: 10.0.0.3}, title: \"{var:ip}\"}\n";
        assert_eq!(vars_block(flow), None);
        assert_eq!(
            vars_of(flow).get("ip").map(String::as_str),
            Some("10.0.0.3")
        );
        // No placeholder: nothing to replace, whatever `vars:` says.
        assert!(vars_of("vars: {ip: 10.0.0.4}\nid: v\n").is_empty());
    }

    #[test]
    fn every_builtin_lesson_text_is_translated() {
        let missing: Vec<String> = BUILTIN
            .iter()
            .flat_map(|(name, text)| load_file(name, text).1)
            .filter(|d| d.message.contains("translation"))
            .map(|d| d.to_string())
            .collect();
        assert!(
            missing.is_empty(),
            "untranslated texts:\n{}",
            missing.join("\n")
        );
    }

    #[test]
    fn builtin_lessons_all_load_cleanly() {
        let (lessons, diags) = catalog(&[]);
        let errors: Vec<_> = diags
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .collect();
        assert!(errors.is_empty(), "{errors:?}");
        assert!(lessons.iter().any(|l| l.lesson.id == "uts"));
        assert!(lessons.iter().any(|l| l.lesson.id == "pid"));
        for id in ["mount", "net", "user", "ipc", "cgroupns"] {
            assert!(lessons.iter().any(|l| l.lesson.id == id), "{id}");
        }
    }
}
