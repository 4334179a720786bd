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
use containerlab::tui::app::{App, Confirm, Overlay, ShellState};
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

/// `app`'s screen at each of [`SIZES`], as the snapshots `{name}_{w}x{h}`.
fn assert_snapshots_at_sizes(name: &str, app: App) {
    for (w, h) in SIZES {
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), screen(&app, w, h));
    }
}

/// Each app with its overlay open, drawn at 80x24 as the snapshot named beside it.
fn assert_overlays_at_80x24(cases: Vec<(&str, App, Overlay)>) {
    for (name, mut app, overlay) in cases {
        app.overlay = overlay;
        insta::assert_snapshot!(name, screen(&app, 80, 24));
    }
}

/// Each app draws at each size without panicking.
fn assert_draws(apps: impl IntoIterator<Item = App>, sizes: &[(u16, u16)]) {
    for app in apps {
        for &(w, h) in sizes {
            screen(&app, w, h);
        }
    }
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

/// `app` with the uts lesson open at step `cursor`, `done` steps run, its sandbox at pid 4100.
fn uts_at(mut app: App, cursor: usize, done: usize) -> App {
    app.open(0);
    let l = app.lesson.as_mut().unwrap();
    l.busy = None;
    l.cursor = cursor;
    l.done = done;
    l.pids = BTreeMap::from([("sandbox".to_string(), 4100)]);
    app
}

/// `app` at the uts lesson's exercise (its fourth step) with a hint shown and the solution
/// revealed: the exercise's check, `claim`, failed before the solution.
fn exercise(app: App, claim: &str) -> App {
    let mut app = uts_at(app, 3, 4);
    let l = app.lesson.as_mut().unwrap();
    l.hints.insert(3, 1);
    l.solution_shown = true;
    let mut c = check("now-mybox", claim, false, "\"lab\"", "= mybox");
    c.phase = Phase::BeforeSolution;
    l.results.insert(
        3,
        StepResult {
            checks: vec![c],
            ..Default::default()
        },
    );
    app
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
                    calls: vec![],
                    error: None,
                    output: vec![],
                },
                ActionRecord {
                    action: "spawn".into(),
                    process: "sandbox".into(),
                    trace: vec!["fork() = 4107".into()],
                    calls: vec![],
                    error: None,
                    output: vec![],
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
    l.views = vec![RenderedView::new(
        View::Processes,
        vec![
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
        &l.focus(),
    )];
    app
}

#[test]
fn picker() {
    assert_snapshots_at_sizes("picker", app());
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
    assert_snapshots_at_sizes("lesson_step", pid_step_one());
}

#[test]
fn lesson_not_run_yet_with_namespaces_view() {
    let mut app = uts_at(app(), 1, 1);
    let l = app.lesson.as_mut().unwrap();
    // The step's second view: namespaces.
    l.view_tab = l
        .view_tabs()
        .iter()
        .position(|v| *v == View::Namespaces)
        .unwrap();
    l.views = vec![RenderedView::new(
        View::Namespaces,
        vec![
            "         NS TYPE   NPROCS   PID USER COMMAND".into(),
            " 4026531838 uts       98     1 root /sbin/init".into(),
            "*4026532177 uts        1  4100 root containerlab __agent".into(),
            "  * = made by this lesson".into(),
        ],
        &l.focus(),
    )];
    assert_snapshots_at_sizes("lesson_unrun", app);
}

#[test]
fn check_results_with_a_failure() {
    let mut app = uts_at(app(), 2, 3);
    let l = app.lesson.as_mut().unwrap();
    l.scroll = containerlab::tui::app::SCROLL_TO_RESULTS;
    l.results.insert(
        2,
        StepResult {
            actions: vec![ActionRecord {
                action: "sethostname".into(),
                process: "sandbox".into(),
                trace: vec!["sethostname(\"lab\", 3) = -1 EPERM (Operation not permitted)".into()],
                calls: vec![],
                error: Some(ActionError {
                    errno: Some("EPERM".into()),
                    message: "Operation not permitted".into(),
                    explanation: Some("sethostname needs CAP_SYS_ADMIN in the UTS namespace's owning user namespace.".into()),
                    expected: false,
                }),
                output: vec![],
            }],
            checks: vec![
                check("inside-is-lab", "The hostname inside is lab", false, "\"vm\"", "= lab"),
                check("host-unchanged", "The host's hostname is unchanged", true, "\"vm\"", "≠ lab"),
            ],
            broken: true,
            solution: None,
        },
    );
    assert_snapshots_at_sizes("checks", app);
}

/// Output of several lines (a ping's, a web page) is shown as lines under its check, not as one
/// escaped string.
#[test]
fn observed_output_of_several_lines() {
    let mut app = uts_at(app(), 2, 3);
    let l = app.lesson.as_mut().unwrap();
    l.scroll = containerlab::tui::app::SCROLL_TO_RESULTS;
    let ping = "PING 10.200.0.2 (10.200.0.2) 56(84) bytes of data.\n64 bytes from 10.200.0.2: \
                icmp_seq=1 ttl=64 time=0.041 ms\n";
    let page = "<html>\n<p>hello from the box</p>\n</html>\n";
    l.results.insert(
        2,
        StepResult {
            checks: vec![
                check(
                    "ping",
                    "The box answers a ping",
                    true,
                    &format!("{ping:?}"),
                    "contains \"64 bytes\"",
                ),
                check(
                    "page",
                    "The box serves its page",
                    false,
                    &format!("{page:?}"),
                    "contains \"bye\"",
                ),
            ],
            ..Default::default()
        },
    );
    insta::assert_snapshot!("observed_lines_80x24", screen(&app, 80, 24));
}

#[test]
fn exercise_with_hints_and_solution() {
    let app = exercise(app(), "The hostname inside is mybox");
    insta::assert_snapshot!("exercise_80x24", screen(&app, 80, 24));
}

#[test]
fn help() {
    let mut app = pid_step_one();
    app.overlay = Overlay::Help;
    assert_snapshots_at_sizes("help_lesson", app);
    assert_overlays_at_80x24(vec![(
        "help_picker_80x24",
        app_picker_help(),
        Overlay::Help,
    )]);
}

fn app_picker_help() -> App {
    app()
}

#[test]
fn goto_and_confirm_popups() {
    assert_overlays_at_80x24(vec![
        ("goto_80x24", pid_step_one(), Overlay::Goto("5".into())),
        (
            "confirm_reset_all_80x24",
            app(),
            Overlay::Confirm(Confirm::ResetAll),
        ),
    ]);
}

/// Tiny or odd sizes never panic (the terminal can be resized to anything).
#[test]
fn any_size_draws() {
    let mut help = pid_step_one();
    help.overlay = Overlay::Help;
    let mut checks = pid_step_one();
    checks.lesson.as_mut().unwrap().scroll = 400;
    let sizes = [
        (1, 1),
        (10, 3),
        (20, 5),
        (40, 10),
        (79, 23),
        (119, 30),
        (120, 30),
        (300, 100),
    ];
    assert_draws([app(), pid_step_one(), help, checks], &sizes);
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
    let mut app = uts_at(app_ja(), 2, 3);
    let l = app.lesson.as_mut().unwrap();
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
                calls: vec![],
                error: None,
                output: vec![],
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
    l.views = vec![RenderedView::new(
        View::NsInodes,
        vec![
            format!("{:<18}{:>12}{:>15}", "NS", "host(1)", "sandbox(4100)"),
            format!("{:<18}{:>12}{:>15}", "uts", "4026531838", "4026532177*"),
            format!("{:<18}{:>12}{:>15}", "mnt", "4026531841", "4026531841 "),
        ],
        &l.focus(),
    )];
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
    let mut app = exercise(app_ja(), "内側のホスト名は mybox");
    app.lesson.as_mut().unwrap().scroll = containerlab::tui::app::SCROLL_TO_RESULTS;
    insta::assert_snapshot!("ja_exercise_80x24", screen(&app, 80, 24));
}

#[test]
fn japanese_help_and_popups() {
    assert_overlays_at_80x24(vec![
        ("ja_help_lesson_80x24", uts_checks_ja(), Overlay::Help),
        ("ja_help_picker_80x24", app_ja(), Overlay::Help),
        ("ja_goto_80x24", uts_checks_ja(), Overlay::Goto("2".into())),
        (
            "ja_confirm_reset_all_80x24",
            app_ja(),
            Overlay::Confirm(Confirm::ResetAll),
        ),
    ]);
}

/// Japanese screens draw at tiny or odd sizes (odd widths put wide characters at the edge)
/// without panicking.
#[test]
fn japanese_any_size_draws() {
    let mut help = uts_checks_ja();
    help.overlay = Overlay::Help;
    let sizes = [(1, 1), (10, 3), (21, 5), (41, 10), (79, 23), (121, 30)];
    assert_draws([app_ja(), uts_checks_ja(), help], &sizes);
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

// The learner's shell in the lesson screen: the uts exercise right after `hostname mybox` was
// typed in it and the check turned ✓.

/// What the shell shows after the learner typed `hostname mybox` (its banner cut short).
const SHELL_OUTPUT: &[u8] = b"containerlab: a shell inside uts:sandbox (pid 4100); namespaces \
joined: uts.\r\n[containerlab uts:sandbox /]# hostname mybox\r\n[containerlab uts:sandbox /]# ";

/// The uts exercise solved in the shell, the keys in the shell (`focus`) or in the lesson.
fn solved_in_the_shell(app: App, claim: &str, focus: bool) -> App {
    let mut app = exercise(app, claim);
    let l = app.lesson.as_mut().unwrap();
    l.solution_shown = false;
    l.scroll = containerlab::tui::app::SCROLL_TO_RESULTS;
    let r = l.results.get_mut(&3).unwrap();
    r.checks[0].passed = true;
    r.checks[0].phase = Phase::AfterSolution;
    r.checks[0].observed = "\"mybox\"".into();
    let mut shell = ShellState::new("uts:sandbox".into(), 10, 60);
    shell.focus = focus;
    app.shell = Some(shell);
    app
}

/// `app` drawn at `w`x`h` once to lay the shell's pane out, its terminal sized to the pane (as
/// the main loop does), the shell's output fed in, then drawn again.
fn screen_with_shell(app: &mut App, w: u16, h: u16) -> String {
    screen(app, w, h);
    let sh = app.shell.as_mut().unwrap();
    let (rows, cols) = sh.drawn_size.get();
    sh.parser.screen_mut().set_size(rows, cols);
    sh.parser.process(SHELL_OUTPUT);
    screen(app, w, h)
}

#[test]
fn the_shell_beside_the_lesson() {
    for (w, h) in SIZES {
        let mut app = solved_in_the_shell(app(), "The hostname inside is mybox", true);
        let s = screen_with_shell(&mut app, w, h);
        assert!(s.contains("hostname mybox") && s.contains("Ctrl-G"), "{s}");
        insta::assert_snapshot!(format!("shell_open_{w}x{h}"), s);
    }
    // The keys back in the lesson: the footer says how to reach the shell again.
    let mut app = solved_in_the_shell(app(), "The hostname inside is mybox", false);
    insta::assert_snapshot!("shell_unfocused_80x24", screen_with_shell(&mut app, 80, 24));
    let mut app = solved_in_the_shell(app_ja(), "内側のホスト名は mybox", true);
    insta::assert_snapshot!("ja_shell_open_80x24", screen_with_shell(&mut app, 80, 24));
}
