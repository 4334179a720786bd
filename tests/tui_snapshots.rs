//! Screens of the terminal UI drawn from fake state (no kernel, no sandbox) with ratatui's
//! TestBackend, at 80x24 (the smallest supported) and 160x48.

use containerlab::lesson::load::parse;
use containerlab::lesson::schema::{Lesson, View};
use containerlab::progress::Progress;
use containerlab::session::events::{ActionError, CheckOutcome, Phase};
use containerlab::session::image_facts::Samples;
use containerlab::session::placeholders::Facts;
use containerlab::session::player::{ActionRecord, StepResult};
use containerlab::session::runner::lesson_texts;
use containerlab::session::views::RenderedView;
use containerlab::tui::app::{App, Overlay};
use containerlab::tui::ui;
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::collections::BTreeMap;

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

fn lessons() -> Vec<Lesson> {
    vec![
        parse("uts.yaml", include_str!("fixtures/tui/uts.yaml")).unwrap(),
        parse("pid.yaml", include_str!("fixtures/tui/pid.yaml")).unwrap(),
    ]
}

fn app() -> App {
    let lessons = lessons();
    let mut progress = Progress::default();
    // uts passed once; pid has its first two steps done.
    for step in &lessons[0].steps {
        progress.step_done("uts", &step.id);
    }
    progress.lesson_completed("uts", true);
    for step in &lessons[1].steps[..2] {
        progress.step_done("pid", &step.id);
    }
    App::new(lessons, "en", progress, true)
}

fn screen(app: &App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| ui::draw(f, app)).unwrap();
    t.backend().to_string()
}

fn check(id: &str, claim: &str, passed: bool, observed: &str, expected: &str) -> CheckOutcome {
    CheckOutcome {
        step: 0,
        step_id: "s".into(),
        id: id.into(),
        claim: claim.into(),
        passed,
        observed: observed.into(),
        expected: expected.into(),
        why: Some("sethostname only touches the caller's own UTS namespace".into()),
        phase: Phase::Normal,
    }
}

fn pids() -> BTreeMap<String, i32> {
    BTreeMap::from([("sandbox".to_string(), 4100), ("init".to_string(), 4107)])
}

/// The pid lesson after its first step ran, processes view sampled.
fn pid_step_one() -> App {
    let mut app = app();
    app.open(1);
    // The key that ran the step cleared the "you stopped at step 3" hint.
    app.message = None;
    let l = app.lesson.as_mut().unwrap();
    l.busy = None;
    l.done = 1;
    l.pids = pids();
    l.scroll = containerlab::tui::app::SCROLL_TO_RESULTS;
    l.results.insert(
        0,
        StepResult {
            actions: vec![
                ActionRecord {
                    action: "unshare".into(),
                    process: "sandbox".into(),
                    trace: vec!["unshare(CLONE_NEWPID) = 0".into()],
                    error: None,
                },
                ActionRecord {
                    action: "spawn".into(),
                    process: "sandbox".into(),
                    trace: vec!["fork() = 4107".into()],
                    error: None,
                },
            ],
            checks: vec![
                check(
                    "a",
                    "Inside its namespace the child is PID 1",
                    true,
                    "1",
                    "= 1",
                ),
                check(
                    "b",
                    "NSpid has two entries: host and new namespace",
                    true,
                    "2",
                    "= 2",
                ),
            ],
            broken: false,
            solution: None,
        },
    );
    l.views = vec![RenderedView {
        view: View::Processes,
        title: "Processes".into(),
        lines: vec![
            format!("{:<12} {:>8} {:<16} COMMAND", "NAME", "HOST PID", "NSpid"),
            format!(
                "{:<12} {:>8} {:<16} containerlab __agent",
                "sandbox", 4100, "4100"
            ),
            format!(
                "{:<12} {:>8} {:<16} containerlab __agent",
                "init", 4107, "4107 1"
            ),
        ],
    }];
    app
}

#[test]
fn picker() {
    for (w, h) in SIZES {
        insta::assert_snapshot!(format!("picker_{w}x{h}"), screen(&app(), w, h));
    }
}

/// Below the smallest size the screens are laid out for, the UI says so instead of drawing
/// pieces; in either language.
#[test]
fn too_small_a_terminal_is_named() {
    insta::assert_snapshot!("too_small_50x12", screen(&app(), 50, 12));
    insta::assert_snapshot!("ja_too_small_50x12", screen(&app_ja(), 50, 12));
}

#[test]
fn picker_filtered() {
    let mut app = app();
    app.filter = "pid".into();
    insta::assert_snapshot!("picker_filtered_80x24", screen(&app, 80, 24));
}

#[test]
fn lesson_step_with_views() {
    let app = pid_step_one();
    for (w, h) in SIZES {
        insta::assert_snapshot!(format!("lesson_step_{w}x{h}"), screen(&app, w, h));
    }
}

#[test]
fn lesson_not_run_yet_with_namespaces_view() {
    let mut app = app();
    app.open(0);
    let l = app.lesson.as_mut().unwrap();
    l.busy = None;
    l.cursor = 1;
    l.done = 1;
    l.pids = BTreeMap::from([("sandbox".to_string(), 4100)]);
    l.view_tab = 1; // the step's second view: namespaces
    l.views = vec![RenderedView {
        view: View::Namespaces,
        title: "Namespaces (lsns)".into(),
        lines: vec![
            "         NS TYPE   NPROCS   PID USER COMMAND".into(),
            " 4026531838 uts       98     1 root /sbin/init".into(),
            "*4026532177 uts        1  4100 root containerlab __agent".into(),
            "  * = made by this lesson".into(),
        ],
    }];
    for (w, h) in SIZES {
        insta::assert_snapshot!(format!("lesson_unrun_{w}x{h}"), screen(&app, w, h));
    }
}

#[test]
fn check_results_with_a_failure() {
    let mut app = app();
    app.open(0);
    let l = app.lesson.as_mut().unwrap();
    l.busy = None;
    l.cursor = 2;
    l.done = 3;
    l.pids = BTreeMap::from([("sandbox".to_string(), 4100)]);
    l.scroll = containerlab::tui::app::SCROLL_TO_RESULTS;
    l.results.insert(
        2,
        StepResult {
            actions: vec![ActionRecord {
                action: "sethostname".into(),
                process: "sandbox".into(),
                trace: vec!["sethostname(\"lab\", 3) = -1 EPERM (Operation not permitted)".into()],
                error: Some(ActionError {
                    errno: Some("EPERM".into()),
                    message: "Operation not permitted".into(),
                    explanation: Some("sethostname needs CAP_SYS_ADMIN in the UTS namespace's owning user namespace.".into()),
                    expected: false,
                }),
            }],
            checks: vec![
                check("inside-is-lab", "The hostname inside is lab", false, "\"vm\"", "= lab"),
                check("host-unchanged", "The host's hostname is unchanged", true, "\"vm\"", "≠ lab"),
            ],
            broken: true,
            solution: None,
        },
    );
    for (w, h) in SIZES {
        insta::assert_snapshot!(format!("checks_{w}x{h}"), screen(&app, w, h));
    }
}

#[test]
fn exercise_with_hints_and_solution() {
    let mut app = app();
    app.open(0);
    let l = app.lesson.as_mut().unwrap();
    l.busy = None;
    l.cursor = 3;
    l.done = 4;
    l.pids = BTreeMap::from([("sandbox".to_string(), 4100)]);
    l.hints.insert(3, 1);
    l.solution_shown = true;
    let mut c = check(
        "now-mybox",
        "The hostname inside is mybox",
        false,
        "\"lab\"",
        "= mybox",
    );
    c.phase = Phase::BeforeSolution;
    l.results.insert(
        3,
        StepResult {
            checks: vec![c],
            ..Default::default()
        },
    );
    insta::assert_snapshot!("exercise_80x24", screen(&app, 80, 24));
}

#[test]
fn help() {
    let mut app = pid_step_one();
    app.overlay = Overlay::Help;
    for (w, h) in SIZES {
        insta::assert_snapshot!(format!("help_lesson_{w}x{h}"), screen(&app, w, h));
    }
    let mut app = app_picker_help();
    app.overlay = Overlay::Help;
    insta::assert_snapshot!("help_picker_80x24", screen(&app, 80, 24));
}

fn app_picker_help() -> App {
    app()
}

#[test]
fn goto_and_confirm_popups() {
    let mut app = pid_step_one();
    app.overlay = Overlay::Goto("5".into());
    insta::assert_snapshot!("goto_80x24", screen(&app, 80, 24));
    let mut app = self::app();
    app.overlay = Overlay::Confirm(containerlab::tui::app::Confirm::ResetAll);
    insta::assert_snapshot!("confirm_reset_all_80x24", screen(&app, 80, 24));
}

/// Tiny or odd sizes never panic (the terminal can be resized to anything).
#[test]
fn any_size_draws() {
    let mut help = pid_step_one();
    help.overlay = Overlay::Help;
    let mut checks = pid_step_one();
    checks.lesson.as_mut().unwrap().scroll = 400;
    for app in [app(), pid_step_one(), help, checks] {
        for (w, h) in [
            (1, 1),
            (10, 3),
            (20, 5),
            (40, 10),
            (79, 23),
            (119, 30),
            (120, 30),
            (300, 100),
        ] {
            screen(&app, w, h);
        }
    }
}

// Japanese: the UI's own words and the lesson's texts in Japanese, wide characters measured in
// terminal columns (wrapped, padded and cut by display width).

fn app_ja() -> App {
    let mut a = app();
    a.lang = "ja".into();
    a
}

/// The uts lesson at its sethostname step: a failed action, checks (one failed), a view.
fn uts_checks_ja() -> App {
    let mut app = app_ja();
    app.open(0);
    let l = app.lesson.as_mut().unwrap();
    l.busy = None;
    l.cursor = 2;
    l.done = 3;
    l.pids = BTreeMap::from([("sandbox".to_string(), 4100)]);
    l.scroll = containerlab::tui::app::SCROLL_TO_RESULTS;
    let mut failed = check(
        "inside-is-lab",
        "内側のホスト名は lab",
        false,
        "\"vm\"",
        "= lab",
    );
    failed.why = Some("sethostname が変えるのは呼び出し元の UTS 名前空間だけ".into());
    l.results.insert(
        2,
        StepResult {
            actions: vec![ActionRecord {
                action: "sethostname".into(),
                process: "sandbox".into(),
                trace: vec!["sethostname(\"lab\", 3) = 0".into()],
                error: None,
            }],
            checks: vec![
                failed,
                check(
                    "host-unchanged",
                    "ホストのホスト名は変わっていない",
                    true,
                    "\"vm\"",
                    "≠ lab",
                ),
            ],
            broken: false,
            solution: None,
        },
    );
    l.views = vec![RenderedView {
        view: View::NsInodes,
        title: "/proc/PID/ns inodes".into(),
        lines: vec![
            format!("{:<18}{:>12}{:>15}", "NS", "host(1)", "sandbox(4100)"),
            format!("{:<18}{:>12}{:>15}", "uts", "4026531838", "4026532177*"),
            format!("{:<18}{:>12}{:>15}", "mnt", "4026531841", "4026531841 "),
        ],
    }];
    app
}

#[test]
fn japanese_picker() {
    insta::assert_snapshot!("ja_picker_80x24", screen(&app_ja(), 80, 24));
}

#[test]
fn japanese_lesson_step_with_checks_and_view() {
    insta::assert_snapshot!("ja_checks_80x24", screen(&uts_checks_ja(), 80, 24));
    // From the top: the step's Japanese text wrapped by display width.
    let mut app = uts_checks_ja();
    app.lesson.as_mut().unwrap().scroll = 0;
    insta::assert_snapshot!("ja_step_top_80x24", screen(&app, 80, 24));
}

#[test]
fn japanese_exercise() {
    let mut app = app_ja();
    app.open(0);
    let l = app.lesson.as_mut().unwrap();
    l.busy = None;
    l.cursor = 3;
    l.done = 4;
    l.pids = BTreeMap::from([("sandbox".to_string(), 4100)]);
    l.hints.insert(3, 1);
    l.solution_shown = true;
    l.scroll = containerlab::tui::app::SCROLL_TO_RESULTS;
    let mut c = check(
        "now-mybox",
        "内側のホスト名は mybox",
        false,
        "\"lab\"",
        "= mybox",
    );
    c.phase = Phase::BeforeSolution;
    l.results.insert(
        3,
        StepResult {
            checks: vec![c],
            ..Default::default()
        },
    );
    insta::assert_snapshot!("ja_exercise_80x24", screen(&app, 80, 24));
}

#[test]
fn japanese_help_and_popups() {
    let mut app = uts_checks_ja();
    app.overlay = Overlay::Help;
    insta::assert_snapshot!("ja_help_lesson_80x24", screen(&app, 80, 24));
    let mut app = app_ja();
    app.overlay = Overlay::Help;
    insta::assert_snapshot!("ja_help_picker_80x24", screen(&app, 80, 24));
    let mut app = uts_checks_ja();
    app.overlay = Overlay::Goto("2".into());
    insta::assert_snapshot!("ja_goto_80x24", screen(&app, 80, 24));
    let mut app = app_ja();
    app.overlay = Overlay::Confirm(containerlab::tui::app::Confirm::ResetAll);
    insta::assert_snapshot!("ja_confirm_reset_all_80x24", screen(&app, 80, 24));
}

/// Japanese screens draw at tiny or odd sizes (odd widths put wide characters at the edge)
/// without panicking.
#[test]
fn japanese_any_size_draws() {
    let mut help = uts_checks_ja();
    help.overlay = Overlay::Help;
    for app in [app_ja(), uts_checks_ja(), help] {
        for (w, h) in [(1, 1), (10, 3), (21, 5), (41, 10), (79, 23), (121, 30)] {
            screen(&app, w, h);
        }
    }
}

/// A step whose text names a file of the image (`{image_file:1}`): once the layers are unpacked,
/// the session fills it and the TUI shows the file the lab picked, as the headless output does.
#[test]
fn image_placeholders_in_step_text_are_filled_once_layers_are_unpacked() {
    let layers = parse("layers.yaml", include_str!("../lessons/layers.yaml")).unwrap();
    let step = layers
        .steps
        .iter()
        .position(|s| s.text.get("en").contains("{image_file:1}"))
        .expect("the layers lesson names an image file in a step text");
    let mut app = App::new(vec![layers], "en", Progress::default(), false);
    app.open(0);
    let l = app.lesson.as_mut().unwrap();
    l.busy = None;
    l.cursor = step;
    let before = screen(&app, 160, 48);
    assert!(before.contains("{image_file:1}"), "{before}");
    let l = app.lesson.as_mut().unwrap();
    let facts = Facts {
        samples: Samples {
            files: vec![(
                "/etc/picked-by-the-lab".into(),
                "/run/containerlab/x/work/layers/3".into(),
            )],
            layer_dirs: vec!["/run/containerlab/x/work/layers/3".into()],
        },
        ..Facts::of_machine()
    };
    l.texts = lesson_texts(&l.lesson, "en", &facts);
    let after = screen(&app, 160, 48);
    assert!(after.contains("(/etc/picked-by-the-lab"), "{after}");
    assert!(!after.contains("{image_file:1}"), "{after}");
}
