//! Each built-in lesson's key step, as the TUI shows it after running it for real.
//!
//! The lesson is played headless by the real binary (as root; the net, bridge and container
//! lessons inside a network namespace this test makes), the JSON events of the key step become the TUI's step result and
//! live views, and the screen is drawn with TestBackend at 80x24. PIDs, inodes and session ids
//! differ from run to run, so long numbers, MAC addresses and hex ids in the run's output are
//! replaced before the screen is drawn.

mod common;

use containerlab::lesson::load::catalog;
use containerlab::lesson::schema::{Lesson, View};
use containerlab::progress::Progress;
use containerlab::session::events::{ActionError, CheckOutcome, Phase};
use containerlab::session::live::SessionMsg;
use containerlab::session::player::{ActionRecord, StepResult};
use containerlab::session::runner::StepText;
use containerlab::session::views::RenderedView;
use containerlab::tui::app::App;
use containerlab::tui::event::AppEvent;
use containerlab::tui::ui;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use serde_json::Value;
use std::process::Command;

/// (lesson, the step that shows what the lesson is about)
const KEY_STEPS: &[(&str, &str)] = &[
    ("uts", "sethostname"),
    ("pid", "mount-proc-inside"),
    ("mount", "leak"),
    ("net", "ping"),
    ("bridge", "nat-out"),
    ("user", "become-root"),
    ("ipc", "join"),
    ("cgroupns", "unshare"),
    ("cgroup", "oom"),
    ("chroot", "pivot-root"),
    ("caps", "docker-profile"),
    ("hardening", "seccomp"),
    ("privileged", "privileged-mount"),
    ("volumes", "host-root"),
    ("layers", "copy-up"),
    ("registry", "shared"),
    ("logs", "docker-logs"),
    ("container", "publish"),
    ("container-userns", "clone"),
    ("kernel", "same-release"),
    ("time", "inside"),
    ("cpu", "quota"),
    ("least-privilege", "refused"),
];

fn events(lesson: &str) -> Vec<Value> {
    events_in(lesson, "en")
}

/// The JSON events of a headless run of `lesson` in `lang`.
fn events_in(lesson: &str, lang: &str) -> Vec<Value> {
    let args = [
        "run",
        "lesson",
        lesson,
        "--headless",
        "--format",
        "json",
        "--lang",
        lang,
    ];
    let out = if lesson == "net" || lesson == "bridge" || lesson.starts_with("container") {
        // Packets only between namespaces this test made; for the container lesson's published
        // port on 127.0.0.1, with its `lo` up as on any host.
        let lo = if lesson.starts_with("container") {
            "ip link set lo up && "
        } else {
            ""
        };
        Command::new("unshare")
            .args(["--net", "sh", "-c", &format!("{lo}exec \"$0\" \"$@\"")])
            .arg(common::bin())
            .args(args)
            // Progress goes to the tests' own state directory, not the real ~/.local/state.
            .env("CONTAINERLAB_STATE_DIR", common::STATE_DIR)
            .output()
    } else {
        common::lab().args(args).output()
    }
    .unwrap();
    assert_eq!(out.status.code(), Some(0), "{lesson} failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().filter_map(|s| s.as_str()).map(stable).collect())
        .unwrap_or_default()
}

/// A text from the run, with what changes between runs masked before anything is drawn, so
/// a longer PID cannot move where a line is cut.
fn text(v: &Value) -> String {
    stable(v.as_str().unwrap_or_default())
}

/// The TUI's record of step `index`, rebuilt from the headless events: its words as the session
/// filled them, its result and its views.
fn step_result(events: &[Value], index: usize) -> (StepText, StepResult, Vec<RenderedView>) {
    let mut words = StepText::default();
    let mut result = StepResult::default();
    let mut views = Vec::new();
    for e in events
        .iter()
        .filter(|e| e["step"].as_u64() == Some(index as u64))
    {
        match e["event"].as_str() {
            // The lesson's own words, as they are: nothing in them changes between runs.
            Some("step_start") => {
                let words_of = |key: &str| e[key].as_str().map(str::to_string);
                words = StepText {
                    title: words_of("title").unwrap_or_default(),
                    text: words_of("text").unwrap_or_default(),
                    command: words_of("command"),
                    ..StepText::default()
                }
            }
            Some("exercise") => words.task = e["task"].as_str().map(str::to_string),
            Some("action") => result.actions.push(ActionRecord {
                action: text(&e["action"]),
                process: text(&e["process"]),
                trace: e["trace"]
                    .as_array()
                    .map(|a| a.iter().map(|t| text(&t["line"])).collect())
                    .unwrap_or_default(),
                calls: vec![],
                error: e["error"].as_object().map(|err| ActionError {
                    errno: err["errno"].as_str().map(str::to_string),
                    message: text(&err["message"]),
                    explanation: err["explanation"].as_str().map(str::to_string),
                    expected: err["expected"].as_bool().unwrap_or(false),
                }),
                output: e["output"]
                    .as_array()
                    .map(|a| a.iter().map(text).collect())
                    .unwrap_or_default(),
            }),
            Some("check") if e["phase"] != "before_solution" => result.checks.push(CheckOutcome {
                step: index,
                step_id: text(&e["step_id"]),
                id: text(&e["id"]),
                claim: text(&e["claim"]),
                passed: e["passed"].as_bool().unwrap(),
                observed: text(&e["observed"]),
                expected: text(&e["expected"]),
                why: e["why"].as_str().map(str::to_string),
                phase: Phase::Normal,
            }),
            Some("views") => {
                for v in e["views"].as_array().unwrap() {
                    views.push(RenderedView {
                        view: serde_json::from_value::<View>(v["view"].clone()).unwrap(),
                        title: text(&v["title"]),
                        lines: strings(&v["lines"]),
                        header: serde_json::from_value(v["header"].clone()).unwrap(),
                        focus: serde_json::from_value(v["focus"].clone()).unwrap(),
                    });
                }
            }
            _ => {}
        }
    }
    (words, result, views)
}

/// Replaces what changes between runs: MAC addresses, hex ids and numbers of two or more
/// digits become `#`, and runs of spaces shrink to two, so a value that gains a digit (memory
/// usage, a PID) cannot shift the rest of its line.
/// The machine's hostname (in views and observed values) as `HOST`: whole words only.
fn without_hostname(screen: &str) -> String {
    let host = nix::unistd::gethostname().unwrap();
    let host = host.to_string_lossy();
    screen
        .split(' ')
        .map(|word| {
            let bare = word.trim_matches('"');
            if bare == host {
                word.replace(&*host, "HOST")
            } else {
                word.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn stable(screen: &str) -> String {
    // A status view's `State:` is whatever the process was doing when it was sampled.
    if let Some(state) = screen.trim_start().strip_prefix("State:") {
        return screen.replacen(state, "#", 1);
    }
    // Where the binary was built (the checkout's path) shows in command lines.
    let screen = screen.replace(env!("CARGO_BIN_EXE_containerlab"), "containerlab");
    let masked = unnumbered(&without_macs(&without_hostname(&screen)));
    let mut out = String::new();
    let mut spaces = 0;
    for c in masked.chars() {
        if c == ' ' {
            spaces += 1;
            if spaces <= 2 {
                out.push(c);
            }
        } else {
            spaces = 0;
            out.push(c);
        }
    }
    out
}

/// `3a:83:89:84:05:b1` (random for every veth) becomes `##:##:##:##:##:##`.
fn without_macs(screen: &str) -> String {
    let chars: Vec<char> = screen.chars().collect();
    let is_mac = |w: &[char]| {
        w.len() == 17
            && w.iter().enumerate().all(|(i, c)| {
                if i % 3 == 2 {
                    *c == ':'
                } else {
                    c.is_ascii_hexdigit()
                }
            })
    };
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        if i + 17 <= chars.len() && is_mac(&chars[i..i + 17]) {
            out.push_str("##:##:##:##:##:##");
            i += 17;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

fn unnumbered(screen: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        let has_digit = run.chars().any(|c| c.is_ascii_digit());
        if (run.len() >= 6 && has_digit)
            || (run.len() >= 2 && run.chars().all(|c| c.is_ascii_digit()))
        {
            out.push('#');
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in screen.chars() {
        if c.is_ascii_hexdigit() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// A failure the lesson expects is its point, and its text says why: the generic advice for the
/// errno ("run the lab as root") would contradict it, so the event carries none. Returns how
/// many expected failures the lesson had.
fn assert_expected_failures_stand_unexplained(lesson: &str, events: &[Value]) -> usize {
    let expected: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "action")
        .map(|e| &e["error"])
        .filter(|err| err["expected"] == true)
        .collect();
    for error in &expected {
        assert!(error["explanation"].is_null(), "{lesson}: {error}");
    }
    expected.len()
}

#[test]
fn every_lesson_key_step_at_80x24() {
    // The machine's turn: the views compare a lesson's mounts with the host's, and a lesson run
    // by the other test here at the same time adds its own mounts to the host's table.
    let _m = common::machine();
    let lessons: Vec<_> = catalog(&[]).0.into_iter().map(|l| l.lesson).collect();
    let mut expected_failures = 0;
    for &(id, step_id) in KEY_STEPS {
        let index = lessons
            .iter()
            .position(|l| l.id == id)
            .unwrap_or_else(|| panic!("no lesson {id}"));
        let step = lessons[index]
            .steps
            .iter()
            .position(|s| s.id == step_id)
            .unwrap_or_else(|| panic!("no step {step_id} in {id}"));
        if id == "privileged" && containerlab::inspect::mounts::root_block_device().is_none() {
            // No host disk to show: the lesson is refused (exit 3) before anything runs, as
            // tests/lessons_security.rs asserts; there is no key step to draw.
            continue;
        }
        let events = events(id);
        expected_failures += assert_expected_failures_stand_unexplained(id, &events);
        let (words, result, views) = step_result(&events, step);
        assert!(result.passed(), "{id}/{step_id} did not pass");
        let mut app = App::new(lessons.clone(), "en", Progress::default(), true);
        app.open(index);
        let l = app.lesson.as_mut().unwrap();
        l.busy = None;
        l.show_step(step);
        l.done = step + 1;
        l.results.insert(step, result);
        l.texts.steps[step] = words;
        l.views = views;
        let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
        t.draw(|f| ui::draw(f, &app)).unwrap();
        insta::assert_snapshot!(format!("key_step_{id}_80x24"), t.backend().to_string());
        if id == "layers" {
            // `z`: the view fills the screen; scrolled sideways, it says from which column. The
            // first drawing finds how far it can go, as the learner's first keypress would.
            app.lesson.as_mut().unwrap().zoom = Some((0, 0));
            t.draw(|f| ui::draw(f, &app)).unwrap();
            app.lesson.as_mut().unwrap().zoom = Some((0, 16));
            t.draw(|f| ui::draw(f, &app)).unwrap();
            insta::assert_snapshot!("key_step_layers_zoomed_80x24", t.backend().to_string());
        }
        if id == "hardening" {
            // `z` on the status view: down to `Seccomp: 2` and `Seccomp_filters: 1`.
            app.lesson.as_mut().unwrap().zoom = Some((0, 0));
            t.draw(|f| ui::draw(f, &app)).unwrap();
            insta::assert_snapshot!("key_step_hardening_zoomed_80x24", t.backend().to_string());
        }
    }
    // The lessons do show failures that are their point (EPERM for Docker's capabilities...).
    assert!(
        expected_failures > 0,
        "no lesson had an expected failure to look at"
    );
}

/// Every built-in lesson in the picker: the id column fits the longest id, titles too long for
/// their column end in `…`.
#[test]
fn the_built_in_lessons_in_the_picker_at_80x24() {
    let lessons: Vec<_> = catalog(&[]).0.into_iter().map(|l| l.lesson).collect();
    for lang in ["en", "ja"] {
        let app = App::new(lessons.clone(), lang, Progress::default(), true);
        let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
        t.draw(|f| ui::draw(f, &app)).unwrap();
        insta::assert_snapshot!(format!("picker_{lang}_80x24"), t.backend().to_string());
    }
}

/// The app with lesson `id` open at step `step_id`, as the session reports it right after the
/// step ran (the messages the TUI's session thread sends), the step's views as sampled then.
fn just_ran(lessons: &[Lesson], id: &str, step_id: &str, lang: &str, events: &[Value]) -> App {
    let index = lessons.iter().position(|l| l.id == id).unwrap();
    let step = lessons[index]
        .steps
        .iter()
        .position(|s| s.id == step_id)
        .unwrap_or_else(|| panic!("no step {step_id} in {id}"));
    let (words, result, views) = step_result(events, step);
    assert!(result.passed(), "{id}/{step_id} did not pass");
    let mut app = App::new(lessons.to_vec(), lang, Progress::default(), true);
    app.open(index);
    let l = app.lesson.as_mut().unwrap();
    l.show_step(step);
    let mut texts = l.texts.clone();
    texts.steps[step] = words;
    app.update(AppEvent::Session(SessionMsg::Ran {
        results: vec![(step, result)],
        done: step + 1,
        pids: [("sandbox".to_string(), 1)].into(),
        subjects: Box::default(),
        texts,
        shell_env: vec![],
        restarted: false,
        events: vec![],
    }));
    let generation = app.generation;
    app.update(AppEvent::Views { generation, views });
    app
}

fn drawn(app: &App) -> String {
    let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
    t.draw(|f| ui::draw(f, app)).unwrap();
    t.backend().to_string()
}

/// What a step is about stays in sight at 80x24, in English and Japanese: a step that just ran
/// shows its title and first paragraph (the results are below, and the pane says so); the live
/// view shows the rows the step's checks look at; zoomed, the caps view shows every name of
/// Docker's set.
#[test]
fn what_a_step_is_about_is_in_sight_at_80x24() {
    let _m = common::machine();
    let lessons: Vec<Lesson> = catalog(&[]).0.into_iter().map(|l| l.lesson).collect();
    for lang in ["en", "ja"] {
        // pid step 3: a long explanation.
        let pid = events_in("pid", lang);
        let app = just_ran(
            &lessons,
            "pid",
            &lessons_step_id(&lessons, "pid", 2),
            lang,
            &pid,
        );
        let screen = drawn(&app);
        let words = &app.lesson.as_ref().unwrap().texts.steps[2];
        let first_line: String = words
            .text
            .lines()
            .next()
            .unwrap()
            .chars()
            .take(12)
            .collect();
        assert!(
            screen.contains(&first_line),
            "{first_line:?} not in\n{screen}"
        );
        assert!(
            screen.contains("(j/PgDn)"),
            "no sign of the results below:\n{screen}"
        );
        insta::assert_snapshot!(format!("pid_step_3_just_ran_{lang}_80x24"), screen);

        // uts step 2: the new UTS namespace's row, marked, in the view.
        let uts = events_in("uts", lang);
        let app = just_ran(
            &lessons,
            "uts",
            &lessons_step_id(&lessons, "uts", 1),
            lang,
            &uts,
        );
        let screen = drawn(&app);
        let view = screen.split('┌').nth(2).unwrap();
        assert!(
            view.lines().any(|l| l.contains("uts") && l.contains('*')),
            "the changed uts row is not in the view:\n{screen}"
        );
        insta::assert_snapshot!(format!("uts_step_2_{lang}_80x24"), screen);

        // caps, Docker's profile, zoomed: the 14 names of its set.
        let caps = events_in("caps", lang);
        let mut app = just_ran(&lessons, "caps", "docker-profile", lang, &caps);
        app.update(AppEvent::Key(KeyEvent::new(
            KeyCode::Char('z'),
            KeyModifiers::NONE,
        )));
        let screen = drawn(&app);
        for cap in DOCKER_CAPS {
            assert!(
                screen.contains(cap),
                "{cap} not in the zoomed view:\n{screen}"
            );
        }
        insta::assert_snapshot!(format!("caps_docker_zoomed_{lang}_80x24"), screen);
    }
}

/// Docker's default set (moby's `oci/caps/defaults.go`).
const DOCKER_CAPS: [&str; 14] = [
    "cap_chown",
    "cap_dac_override",
    "cap_fowner",
    "cap_fsetid",
    "cap_kill",
    "cap_setgid",
    "cap_setuid",
    "cap_setpcap",
    "cap_net_bind_service",
    "cap_net_raw",
    "cap_sys_chroot",
    "cap_mknod",
    "cap_audit_write",
    "cap_setfcap",
];

fn lessons_step_id(lessons: &[Lesson], id: &str, index: usize) -> String {
    let lesson = lessons.iter().find(|l| l.id == id).unwrap();
    lesson.steps[index].id.clone()
}

/// The list filtered by `cgroup`: the cgroup lesson first (Enter opens it), cgroupns after.
#[test]
fn the_lesson_list_filtered_by_cgroup_at_80x24() {
    let lessons: Vec<Lesson> = catalog(&[]).0.into_iter().map(|l| l.lesson).collect();
    for lang in ["en", "ja"] {
        let mut app = App::new(lessons.clone(), lang, Progress::default(), true);
        for k in "/cgroup".chars() {
            app.update(AppEvent::Key(KeyEvent::new(
                KeyCode::Char(k),
                KeyModifiers::NONE,
            )));
        }
        let list = app.filtered();
        assert_eq!(app.lessons[list[app.selected]].id, "cgroup");
        insta::assert_snapshot!(format!("picker_cgroup_{lang}_80x24"), drawn(&app));
    }
}
