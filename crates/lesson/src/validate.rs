//! Meaning-level checks on a lesson that parsed: unique ids, references that point at something,
//! texts in every language, exercises that can be judged. Each finding carries a file location,
//! found by looking up the offending value in the source.

use super::diagnostic::Findings;
// Re-exported: callers name the result of validation through this module.
pub use super::diagnostic::{locate, locate_from, Diagnostic, Severity};
use super::schema::{Action, Lesson, Observe};
use super::text::{Text, LANGUAGES};
use std::collections::HashSet;

/// Whether `id` may name a lesson: a lower-case letter, then lower-case letters, digits and `-`.
/// It is typed on command lines and used as a file name (`new lesson ID` writes `ID.yaml`), so
/// `check` and `new lesson` must agree on it.
pub fn is_lesson_id(id: &str) -> bool {
    id.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Validates a parsed lesson. Errors make the lesson unusable; warnings do not.
pub fn validate(file: &str, source: &str, lesson: &Lesson) -> Vec<Diagnostic> {
    let mut f = Findings {
        file,
        source,
        from_line: 1,
        out: Vec::new(),
    };
    if lesson.format_version != super::schema::FORMAT_VERSION {
        f.error(
            "format_version",
            &lesson.format_version.to_string(),
            format!(
                "format_version {} is not supported: this containerlab reads version {}",
                lesson.format_version,
                super::schema::FORMAT_VERSION
            ),
        );
    }
    if !is_lesson_id(&lesson.id) {
        f.error(
            "id",
            &lesson.id,
            format!(
                "lesson id {:?} must be lower-case letters, digits and '-', starting with a letter",
                lesson.id
            ),
        );
    }
    if lesson.steps.is_empty() {
        f.error("steps", "", "a lesson needs at least one step".into());
    }
    texts(&mut f, "title", &lesson.title, "the lesson title");
    texts(&mut f, "intro", &lesson.intro, "the lesson intro");
    if let Some(outro) = &lesson.outro {
        texts(&mut f, "outro", outro, "the lesson outro");
    }

    let mut step_ids = HashSet::new();
    let mut check_ids = HashSet::new();
    // (id, has output: a `run`, or a pull or push, which print what docker would)
    let mut action_ids: Vec<(String, bool)> = Vec::new();
    let mut processes: Vec<String> = vec!["sandbox".into()];
    for step in &lesson.steps {
        f.enter(&step.id);
        if !step_ids.insert(step.id.clone()) {
            f.error("id", &step.id, format!("duplicate step id {:?}", step.id));
        }
        texts(
            &mut f,
            "title",
            &step.title,
            &format!("step {:?} title", step.id),
        );
        texts(
            &mut f,
            "text",
            &step.text,
            &format!("step {:?} text", step.id),
        );
        // A command given by language is held to the same rules as any text.
        if let Some(crate::schema::CommandLine::PerLanguage(command)) = &step.command {
            texts(
                &mut f,
                "command",
                command,
                &format!("step {:?} command", step.id),
            );
        }
        for action in &step.actions {
            let common = action.common();
            if !processes.contains(&common.process) {
                f.error(
                    "in",
                    &common.process,
                    format!(
                        "step {:?}: action {} runs in {:?}, which no earlier `spawn` started",
                        step.id,
                        action.name(),
                        common.process
                    ),
                );
            }
            if let Some(id) = &common.id {
                if action_ids.iter().any(|(a, _)| a == id) {
                    f.error("id", id, format!("duplicate action id {id:?}"));
                }
                let prints = matches!(
                    action,
                    Action::Run(_)
                        | Action::RunLogged(_)
                        | Action::ImagePull(_)
                        | Action::RegistryPush(_)
                );
                action_ids.push((id.clone(), prints));
            }
            if common
                .unchecked
                .as_deref()
                .is_some_and(|r| r.trim().is_empty())
            {
                f.error(
                    "unchecked",
                    "",
                    format!(
                        "step {:?}: action {} says `unchecked` without a reason: say why no \
                         check observes what it does, or add a check that does",
                        step.id,
                        action.name()
                    ),
                );
            }
            if let Some(e) = &common.expect_error {
                if !is_errno_name(e) {
                    f.error(
                        "expect_error",
                        e,
                        format!("{e:?} is not an errno name such as ENOENT"),
                    );
                }
            }
            match action {
                Action::Run(r) if r.timeout_secs == Some(0) => {
                    f.error(
                        "timeout_secs",
                        "0",
                        "timeout_secs: 0 would kill the program at once; give it at least 1".into(),
                    );
                }
                Action::Publish(p) if p.process != "sandbox" => {
                    f.error(
                        "in",
                        &p.process,
                        "publish: only the holder (`sandbox`) publishes ports".into(),
                    );
                }
                Action::Unpublish(u) if u.process != "sandbox" => {
                    f.error(
                        "in",
                        &u.process,
                        "unpublish: only the holder (`sandbox`) has published ports".into(),
                    );
                }
                Action::Unpublish(u) if !processes.contains(&u.name) => {
                    f.error(
                        "name",
                        &u.name,
                        format!("unpublish: no port was published as {:?}", u.name),
                    );
                }
                Action::Spawn(crate::schema::Spawn { name, .. })
                | Action::Publish(crate::schema::PublishAction { name, .. }) => {
                    if processes.contains(name) || name == "host" {
                        f.error("name", name, format!("process name {name:?} is taken"));
                    }
                    processes.push(name.clone());
                }
                Action::Join(j) if !processes.contains(&j.target) => {
                    f.error(
                        "target",
                        &j.target,
                        format!("join: no process {:?} has been spawned", j.target),
                    );
                }
                Action::Chmod(c) if u32::from_str_radix(&c.mode, 8).is_err() => {
                    f.error(
                        "mode",
                        &c.mode,
                        format!("chmod: mode {:?} is not an octal number", c.mode),
                    );
                }
                Action::Run(r) if r.argv.is_empty() => {
                    f.error("argv", "", "run: argv is empty".into());
                }
                Action::MoveLink(m) if !processes.contains(&m.to) => {
                    f.error(
                        "to",
                        &m.to,
                        format!("move_link: no process {:?} has been spawned", m.to),
                    );
                }
                Action::CgroupAdd(c) if !processes.contains(&c.member) => {
                    f.error(
                        "member",
                        &c.member,
                        format!("cgroup_add: no process {:?} has been spawned", c.member),
                    );
                }
                Action::BsetDrop(c) => {
                    for cap in &c.caps {
                        unknown_capability(&mut f, cap);
                    }
                }
                Action::CapProfile(c) => {
                    for cap in &c.caps {
                        unknown_capability(&mut f, cap);
                    }
                }
                Action::SetFileCaps(c) => {
                    for cap in &c.caps {
                        unknown_capability(&mut f, cap);
                    }
                }
                _ => {}
            }
        }
        let step_line = f.from_line;
        for check in &step.checks {
            f.enter(&check.id);
            if !check_ids.insert(check.id.clone()) {
                f.error(
                    "id",
                    &check.id,
                    format!("duplicate check id {:?}", check.id),
                );
            }
            texts(
                &mut f,
                "claim",
                &check.claim,
                &format!("check {:?} claim", check.id),
            );
            if let Some(why) = &check.why {
                texts(&mut f, "why", why, &format!("check {:?} why", check.id));
            }
            let observations = std::iter::once(&check.observe).chain(check.expect.observed());
            for obs in observations {
                observation(&mut f, &check.id, obs, &processes, &action_ids);
            }
        }
        f.from_line = step_line;
        if let Some(ex) = &step.exercise {
            texts(
                &mut f,
                "task",
                &ex.task,
                &format!("step {:?} exercise task", step.id),
            );
            for hint in &ex.hints {
                texts(&mut f, "hints", hint, &format!("step {:?} hint", step.id));
            }
            if ex.hints.is_empty() {
                f.error(
                    "exercise",
                    "",
                    format!("step {:?}: an exercise needs at least one hint", step.id),
                );
            }
            if step.checks.is_empty() {
                f.error(
                    "exercise",
                    "",
                    format!(
                        "step {:?}: an exercise needs checks that tell when it is solved",
                        step.id
                    ),
                );
            }
            if !processes.contains(&ex.solution.process) {
                f.error(
                    "in",
                    &ex.solution.process,
                    format!(
                        "exercise solution runs in unknown process {:?}",
                        ex.solution.process
                    ),
                );
            }
        }
    }
    f.out
}

fn observation(
    f: &mut Findings,
    check: &str,
    obs: &Observe,
    processes: &[String],
    actions: &[(String, bool)],
) {
    if let Some(who) = obs.who() {
        if who != "host" && !processes.iter().any(|p| p == who) {
            f.error(
                "of",
                who,
                format!(
                    "check {check:?} looks at process {who:?}, which is never spawned before it"
                ),
            );
        }
    }
    if let Some(id) = obs.action_id() {
        match actions.iter().find(|(a, _)| a == id) {
            None => f.error(
                "result",
                id,
                format!("check {check:?} refers to action id {id:?}, which no earlier action has"),
            ),
            Some((_, false)) if matches!(obs, Observe::Output(_) | Observe::Ended(_)) => f.error(
                "output",
                id,
                format!(
                    "check {check:?}: action {id:?} is not a `run` (nor a pull or push), so it has no output"
                ),
            ),
            _ => {}
        }
    }
    if let Observe::CgroupPath(c) = obs {
        if let Some(who) = &c.seen_by {
            if who != "host" && !processes.iter().any(|p| p == who) {
                f.error(
                    "seen_by",
                    who,
                    format!("check {check:?}: {who:?} is never spawned before it"),
                );
            }
        }
    }
}

/// Capability names are checked against the caps crate's list (the kernel headers' names), which
/// spells them in upper case; lessons write either case (`cap_net_raw`, `CAP_NET_RAW`).
fn unknown_capability(f: &mut Findings, cap: &str) {
    if cap.to_uppercase().parse::<caps::Capability>().is_err() {
        f.error(
            "caps",
            cap,
            format!("{cap:?} is not a capability name such as cap_net_raw"),
        );
    }
}

/// English must be there; other known languages should be (a warning names what is missing).
fn texts(f: &mut Findings, key: &str, text: &Text, what: &str) {
    if !text.has("en") {
        f.error(key, "", format!("{what} has no English (`en`) text"));
    }
    for lang in text.languages() {
        if !LANGUAGES.contains(&lang) {
            f.error(
                key,
                "",
                format!(
                    "{what}: unknown language {lang:?}; known: {}",
                    LANGUAGES.join(", ")
                ),
            );
        }
    }
    for lang in LANGUAGES.iter().filter(|l| !text.has(l)) {
        f.at(
            Severity::Warning,
            key,
            "",
            format!("{what} has no `{lang}` translation"),
        );
    }
}

fn is_errno_name(s: &str) -> bool {
    s.len() > 1
        && s.starts_with('E')
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::parse;

    const BASE: &str =
        "format_version: 1\nid: t\ntitle: {en: T, ja: T}\nintro: {en: I, ja: I}\nsteps:\n";

    fn errors(src: &str) -> Vec<Diagnostic> {
        let lesson = parse("t.yaml", src).unwrap();
        validate("t.yaml", src, &lesson)
            .into_iter()
            .filter(|d| d.severity == Severity::Error)
            .collect()
    }

    #[test]
    fn a_chmod_mode_that_is_not_octal_is_an_error_at_the_mode() {
        let src = format!(
            "{BASE}  - id: a\n    title: {{en: A, ja: A}}\n    text: {{en: x, ja: x}}\n    actions:\n      - chmod: {{path: \"{{work}}/f\", mode: \"0800\"}}\n"
        );
        let e = errors(&src);
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].message.contains("not an octal number"), "{e:?}");
        assert_eq!(e[0].line, 10);
    }

    #[test]
    fn a_cap_profile_on_dockers_base_adds_its_caps_once_and_checks_their_names() {
        let src = format!(
            "{BASE}  - id: a\n    title: {{en: A, ja: A}}\n    text: {{en: x, ja: x}}\n    actions:\n      - cap_profile: {{base: docker, caps: [cap_net_admin, cap_chown, cap_nope]}}\n"
        );
        let e = errors(&src);
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].message.contains("cap_nope"), "{e:?}");
        let lesson = parse("t.yaml", &src).unwrap();
        let Some(crate::schema::Action::CapProfile(p)) = lesson.steps[0].actions.first() else {
            panic!("not a cap_profile");
        };
        let all = p.all_caps();
        assert_eq!(all.len(), 16, "{all:?}");
        assert_eq!(
            all[..14],
            crate::schema::DOCKER_DEFAULT_CAPS.map(String::from)
        );
        assert_eq!(all[14], "cap_net_admin");
    }

    #[test]
    fn a_lesson_id_starts_with_a_letter() {
        assert!(is_lesson_id("uts-2"));
        assert!(!is_lesson_id("2uts"));
        let src = BASE.replace("id: t", "id: 2t")
            + "  - id: a\n    title: {en: A, ja: A}\n    text: {en: x, ja: x}\n";
        let e = errors(&src);
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].message.contains("starting with a letter"), "{e:?}");
        assert_eq!((e[0].line, e[0].column), (2, 5));
    }

    #[test]
    fn duplicate_step_ids_point_at_the_second() {
        let src = format!(
            "{BASE}  - id: a\n    title: {{en: A, ja: A}}\n    text: {{en: x, ja: x}}\n  - id: a\n    title: {{en: B, ja: B}}\n    text: {{en: y, ja: y}}\n"
        );
        let e = errors(&src);
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].message.contains("duplicate step id"));
        assert_eq!(e[0].line, 6);
    }

    #[test]
    fn a_check_on_a_process_never_spawned_is_an_error() {
        let src = format!(
            "{BASE}  - id: a\n    title: {{en: A, ja: A}}\n    text: {{en: x, ja: x}}\n    checks:\n      - id: c\n        claim: {{en: c, ja: c}}\n        observe: {{hostname: ghost}}\n        expect: {{equals: lab}}\n"
        );
        let e = errors(&src);
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].message.contains("\"ghost\""));
        assert_eq!(e[0].line, 12);
    }

    #[test]
    fn unpublishing_a_port_never_published_is_an_error() {
        let src = format!(
            "{BASE}  - id: a\n    title: {{en: A, ja: A}}\n    text: {{en: x, ja: x}}\n    actions:\n      - unpublish: {{name: docker-proxy}}\n"
        );
        let e = errors(&src);
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0]
            .message
            .contains("no port was published as \"docker-proxy\""));
    }

    #[test]
    fn an_unchecked_action_needs_a_reason() {
        let step = "  - id: a\n    title: {en: A, ja: A}\n    text: {en: x, ja: x}\n    actions:\n";
        let src =
            format!("{BASE}{step}      - unshare: {{namespaces: [uts], unchecked: \"  \"}}\n");
        let e = errors(&src);
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].message.contains("`unchecked` without a reason"),
            "{e:?}"
        );
        assert_eq!(e[0].line, 10);
        let src = format!(
            "{BASE}{step}      - unshare: {{namespaces: [uts], unchecked: \"the next step shows it\"}}\n"
        );
        assert!(errors(&src).is_empty());
    }

    #[test]
    fn a_command_by_language_needs_english() {
        let src = format!(
            "{BASE}  - id: a\n    title: {{en: A, ja: A}}\n    text: {{en: x, ja: x}}\n    command: {{ja: \"ls   # 一覧\"}}\n"
        );
        let e = errors(&src);
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].message.contains("step \"a\" command has no English"));
        // One string serves every language.
        let src = format!(
            "{BASE}  - id: a\n    title: {{en: A, ja: A}}\n    text: {{en: x, ja: x}}\n    command: \"ls   # list\"\n"
        );
        assert!(errors(&src).is_empty());
    }

    #[test]
    fn result_of_unknown_action_is_an_error() {
        let src = format!(
            "{BASE}  - id: a\n    title: {{en: A, ja: A}}\n    text: {{en: x, ja: x}}\n    checks:\n      - id: c\n        claim: {{en: c, ja: c}}\n        observe: {{result: nope}}\n        expect: {{equals: ok}}\n"
        );
        assert!(errors(&src)[0].message.contains("action id \"nope\""));
    }

    #[test]
    fn missing_translation_is_a_warning_only() {
        let src = "format_version: 1\nid: t\ntitle: {en: T}\nintro: {en: I, ja: I}\nsteps:\n  - id: a\n    title: {en: A, ja: A}\n    text: {en: x, ja: x}\n";
        let lesson = parse("t.yaml", src).unwrap();
        let d = validate("t.yaml", src, &lesson);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].severity, Severity::Warning);
        assert!(d[0].message.contains("`ja`"));
    }
}
