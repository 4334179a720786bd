//! The app's state machine, driven by keys and session messages as the main loop would.

use super::handlers::MAX_QUEUED;
use super::keys::Intent;
use super::*;
use crate::lesson::load::{parse, BUILTIN};
use crate::session::events::{CheckOutcome, Event};
use crate::session::player::StepResult;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::BTreeMap;

fn app() -> App {
    app_of("uts.yaml")
}

fn key(app: &mut App, code: KeyCode) -> Vec<Effect> {
    app.update(AppEvent::Key(KeyEvent::new(code, KeyModifiers::NONE)))
        .0
}

fn ready(app: &mut App, done: usize) {
    let l = app.lesson.as_mut().unwrap();
    l.busy = None;
    l.done = done;
    for s in 0..done {
        l.results.insert(s, StepResult::default());
    }
    l.pids = BTreeMap::from([("sandbox".into(), 1)]);
}

/// The events the player reports for a step whose checks came out as `checks`, ending with
/// `end` (a [`Event::StepEnd`] when it ran, a [`Event::Judged`] when judged again).
fn events(checks: &[CheckOutcome], end: Event) -> Vec<Event> {
    let mut events: Vec<Event> = checks.iter().cloned().map(Event::Check).collect();
    events.push(end);
    events
}

/// The session's answer to a judge of `step` whose checks came out as `checks`.
fn judged(app: &mut App, step: usize, checks: Vec<CheckOutcome>) -> Vec<Effect> {
    let passed = checks.iter().all(|c| c.passed);
    let events = events(&checks, Event::Judged { step, passed });
    app.update(AppEvent::Session(SessionMsg::Judged {
        step,
        events,
        checks,
    }))
    .0
}

fn ran(app: &mut App, step: usize, checks: Vec<CheckOutcome>) -> Vec<Effect> {
    let passed = checks.iter().all(|c| c.passed);
    let events = events(&checks, Event::StepEnd { step, passed });
    let result = StepResult {
        checks,
        ..StepResult::default()
    };
    app.update(AppEvent::Session(SessionMsg::Ran {
        results: vec![(step, result)],
        done: step + 1,
        pids: BTreeMap::new(),
        subjects: Default::default(),
        texts: Default::default(),
        shell_env: vec![("WORK".into(), "/w".into())],
        restarted: false,
        events,
    }))
    .0
}

#[test]
fn step_results_are_recorded_in_the_format_headless_runs_write() {
    use crate::session::events::Phase;
    let mut a = app();
    key(&mut a, KeyCode::Enter);
    let ids: Vec<String> = a.lessons[0].steps.iter().map(|s| s.id.clone()).collect();
    let last = ids.len() - 1;
    assert_eq!(
        ran(
            &mut a,
            0,
            vec![CheckOutcome::bare("first", true, Phase::Normal)]
        ),
        vec![Effect::SaveProgress]
    );
    // A failing check: the step is not done, the failure is recorded.
    ran(
        &mut a,
        1,
        vec![CheckOutcome::bare("second", false, Phase::Normal)],
    );
    let l = &a.progress.lessons["uts"];
    assert_eq!(l.steps_done, vec![ids[0].clone()]);
    assert_eq!(l.checks_failed(), vec!["second"]);
    assert_eq!(a.status(&a.lessons[0].clone()), Status::InProgress(2));
    // The learner fixes it and re-checks; then the rest runs to the end.
    judged(
        &mut a,
        1,
        vec![CheckOutcome::bare("second", true, Phase::Normal)],
    );
    for step in 2..=last {
        // Before an exercise's solution a failing claim is the starting point, not progress.
        ran(
            &mut a,
            step,
            vec![CheckOutcome::bare("x", false, Phase::BeforeSolution)],
        );
    }
    assert_eq!(a.progress.lessons["uts"].runs, 1);
    assert!(!a.progress.lessons["uts"].checks.contains_key("x"));
    assert_eq!(a.status(&a.lessons[0].clone()), Status::InProgress(3));
    // A file the TUI writes is one the headless recorder and `progress --export` read.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("progress.json");
    a.progress.save(&file).unwrap();
    assert_eq!(Progress::load(&file).unwrap(), a.progress);
}

#[test]
fn a_lesson_that_passes_to_its_end_is_done() {
    use crate::session::events::Phase;
    let mut a = app();
    key(&mut a, KeyCode::Enter);
    let steps = a.lessons[0].steps.len();
    for step in 0..steps {
        ran(
            &mut a,
            step,
            vec![CheckOutcome::bare(&format!("c{step}"), true, Phase::Normal)],
        );
    }
    let l = &a.progress.lessons["uts"];
    assert!(l.completed.is_some());
    assert_eq!(l.runs, 1);
    assert_eq!(a.status(&a.lessons[0].clone()), Status::Done);
}

#[test]
fn enter_runs_then_advances_and_runs_the_next() {
    let mut a = app();
    assert_eq!(key(&mut a, KeyCode::Enter), vec![Effect::Open(0)]);
    ready(&mut a, 0);
    assert_eq!(
        key(&mut a, KeyCode::Enter),
        vec![Effect::Session(Cmd::Run(0))]
    );
    ready(&mut a, 1);
    assert_eq!(
        key(&mut a, KeyCode::Enter),
        vec![Effect::Session(Cmd::Run(1))]
    );
    assert_eq!(a.lesson.as_ref().unwrap().cursor, 1);
}

#[test]
fn back_replays_to_the_step_before() {
    let mut a = app();
    key(&mut a, KeyCode::Enter);
    ready(&mut a, 3);
    a.lesson.as_mut().unwrap().cursor = 2;
    assert_eq!(
        key(&mut a, KeyCode::Left),
        vec![Effect::Session(Cmd::GoTo(1))]
    );
    // Busy: a key that needs the session waits for it.
    assert_eq!(key(&mut a, KeyCode::Left), vec![]);
    assert_eq!(
        a.lesson.as_ref().unwrap().queued,
        std::collections::VecDeque::from([Intent::Back])
    );
}

#[test]
fn goto_hints_solution_and_shell() {
    let mut a = app();
    key(&mut a, KeyCode::Enter);
    ready(&mut a, 4);
    key(&mut a, KeyCode::Char('g'));
    key(&mut a, KeyCode::Char('4'));
    // Step 4 shown not yet run: the sandbox goes back to the state after step 3.
    assert_eq!(
        key(&mut a, KeyCode::Enter),
        vec![Effect::Session(Cmd::GoTo(3))]
    );
    assert_eq!(a.lesson.as_ref().unwrap().cursor, 3);
    ready(&mut a, 4);
    key(&mut a, KeyCode::Char('h'));
    key(&mut a, KeyCode::Char('h'));
    key(&mut a, KeyCode::Char('h'));
    assert_eq!(a.lesson.as_ref().unwrap().hints[&3], 2);
    assert_eq!(key(&mut a, KeyCode::Char('S')), vec![]);
    assert!(a.lesson.as_ref().unwrap().solution_shown);
    assert_eq!(
        key(&mut a, KeyCode::Char('S')),
        vec![Effect::Session(Cmd::Solve(3))]
    );
    a.lesson.as_mut().unwrap().busy = None;
    assert_eq!(
        key(&mut a, KeyCode::Char('s')),
        vec![Effect::OpenShell {
            pid: 1,
            label: "uts:sandbox".into(),
            env: vec![],
        }]
    );
    // The shell has the keys: `q` is typed into it, Ctrl-G gives the keys back to the lesson.
    assert_eq!(
        key(&mut a, KeyCode::Char('q')),
        vec![Effect::ShellInput(b"q".to_vec())]
    );
    let ctrl_g = KeyEvent::new(KeyCode::Char('g'), KeyModifiers::CONTROL);
    assert_eq!(a.update(AppEvent::Key(ctrl_g)).0, vec![]);
    assert_eq!(key(&mut a, KeyCode::Char('q')), vec![Effect::Close]);
}

#[test]
fn the_shell_pane_shows_output_and_judges_the_step_while_the_learner_types() {
    use crate::session::events::Phase;
    use crate::tui::pty::ShellEvent;
    let mut a = app();
    key(&mut a, KeyCode::Enter);
    // The exercise step (uts step 4) ran; its check fails until the learner acts.
    let exercise = a.lessons[0]
        .steps
        .iter()
        .position(|s| s.exercise.is_some())
        .unwrap();
    ready(&mut a, exercise + 1);
    let failing = vec![CheckOutcome::bare("mybox", false, Phase::BeforeSolution)];
    a.lesson.as_mut().unwrap().cursor = exercise;
    a.lesson
        .as_mut()
        .unwrap()
        .results
        .get_mut(&exercise)
        .unwrap()
        .checks = failing.clone();
    let opened = key(&mut a, KeyCode::Char('s'));
    assert!(
        matches!(opened[..], [Effect::OpenShell { .. }]),
        "{opened:?}"
    );
    a.update(AppEvent::Shell(ShellEvent::Output(
        b"# hostname mybox\r\n# ".to_vec(),
    )));
    assert!(a
        .shell
        .as_ref()
        .unwrap()
        .contents()
        .contains("hostname mybox"));
    // Enter is typed into the shell, and the step is judged soon after.
    assert_eq!(
        key(&mut a, KeyCode::Enter),
        vec![Effect::ShellInput(b"\r".to_vec())]
    );
    let sh = a.shell.as_mut().unwrap();
    let entered = sh.entered.unwrap();
    sh.entered = Some(entered - super::shell::JUDGE_AFTER_ENTER);
    let (effects, _) = a.update(AppEvent::Tick);
    assert_eq!(effects, vec![Effect::Session(Cmd::Judge(exercise))]);
    // Not again while that judge is under way.
    assert_eq!(a.update(AppEvent::Tick).0, vec![]);
    let passing = vec![CheckOutcome::bare("mybox", true, Phase::AfterSolution)];
    let saved = judged(&mut a, exercise, passing);
    assert_eq!(saved, vec![Effect::SaveProgress]);
    assert!(
        a.message.as_deref().unwrap().starts_with("✓ solved!"),
        "{:?}",
        a.message
    );
    assert!(a.lesson.as_ref().unwrap().results[&exercise].passed());
    // `exit`: the pane closes and the step is judged once more.
    let (effects, _) = a.update(AppEvent::Shell(ShellEvent::Exited));
    assert!(a.shell.is_none());
    assert_eq!(effects, vec![Effect::Session(Cmd::Judge(exercise))]);
}

#[test]
fn leaving_a_lesson_keeps_it_selected_in_the_picker() {
    let lessons = BUILTIN
        .iter()
        .filter(|(n, _)| ["uts.yaml", "pid.yaml"].contains(n))
        .map(|(n, t)| parse(n, t).unwrap())
        .collect();
    let mut a = App::new(lessons, "en", Progress::default(), false);
    let pid = a.lessons.iter().position(|l| l.id == "pid").unwrap();
    // As `containerlab tui pid` does: straight into the lesson.
    a.open(pid);
    assert_eq!(key(&mut a, KeyCode::Char('q')), vec![Effect::Close]);
    a.close();
    assert_eq!(a.screen, Screen::Picker);
    assert_eq!(a.filtered()[a.selected], pid);
}

#[test]
fn digits_and_tab_pick_views() {
    let mut a = app();
    key(&mut a, KeyCode::Enter);
    ready(&mut a, 0);
    let l = a.lesson.as_ref().unwrap();
    let tabs = l.view_tabs().to_vec();
    assert_eq!(tabs.len(), ALL_VIEWS.len());
    // The lesson's own views first, in the order its steps first name them (uts: ns inodes,
    // then namespaces from step 2 on).
    assert_eq!(tabs[..2], [View::NsInodes, View::Namespaces]);
    assert_eq!(l.chosen_view(), tabs[0]);
    key(&mut a, KeyCode::Char('3'));
    assert_eq!(a.lesson.as_ref().unwrap().chosen_view(), tabs[2]);
    key(&mut a, KeyCode::Char('0'));
    assert_eq!(a.lesson.as_ref().unwrap().chosen_view(), tabs[9]);
    key(&mut a, KeyCode::Tab);
    key(&mut a, KeyCode::Tab);
    assert_eq!(a.lesson.as_ref().unwrap().chosen_view(), tabs[11]);
    key(&mut a, KeyCode::Tab);
    assert_eq!(a.lesson.as_ref().unwrap().chosen_view(), tabs[0]);
    // Every step has the same tabs: a digit means one view for the whole lesson. A step shows
    // its own first view.
    for step in 0..a.lessons[0].steps.len() {
        let l = a.lesson.as_mut().unwrap();
        l.show_step(step);
        assert_eq!(l.view_tabs(), tabs);
        if let Some(first) = l.lesson.steps[step].views.first() {
            assert_eq!(l.chosen_view(), *first);
        }
    }
}

#[test]
fn z_zooms_the_view_whose_arrows_then_scroll_it() {
    let mut a = app();
    key(&mut a, KeyCode::Enter);
    ready(&mut a, 1);
    key(&mut a, KeyCode::Char('z'));
    // Where the drawing finds the step's lines; here (nothing drawn yet) from the top.
    let at_focus = crate::tui::view_pane::ZOOM_AT_FOCUS;
    assert_eq!(a.lesson.as_ref().unwrap().zoom, Some((at_focus, 0)));
    // As the drawing found it: 5 lines and 40 columns more than the pane shows.
    a.lesson.as_ref().unwrap().zoom_limit.set((5, 40));
    key(&mut a, KeyCode::Down);
    key(&mut a, KeyCode::Right);
    key(&mut a, KeyCode::Right);
    key(&mut a, KeyCode::Left);
    assert_eq!(a.lesson.as_ref().unwrap().zoom, Some((1, 8)));
    // Scrolling stops where the view ends.
    for _ in 0..20 {
        key(&mut a, KeyCode::PageDown);
        key(&mut a, KeyCode::Right);
    }
    assert_eq!(a.lesson.as_ref().unwrap().zoom, Some((5, 40)));
    key(&mut a, KeyCode::Home);
    key(&mut a, KeyCode::Down);
    key(&mut a, KeyCode::Right);
    // Left scrolls rather than going back a step; Tab still switches the view.
    assert_eq!(a.lesson.as_ref().unwrap().cursor, 0);
    key(&mut a, KeyCode::Tab);
    assert_eq!(a.lesson.as_ref().unwrap().view_tab, 1);
    // Esc leaves the zoom, not the lesson.
    assert_eq!(key(&mut a, KeyCode::Esc), vec![]);
    assert_eq!(a.lesson.as_ref().unwrap().zoom, None);
    assert_eq!(key(&mut a, KeyCode::Esc), vec![Effect::Close]);
}

#[test]
fn a_lesson_left_half_way_says_where_the_learner_stopped() {
    let mut a = app();
    let first = a.lessons[0].steps[0].id.clone();
    a.progress.step_done("uts", &first);
    key(&mut a, KeyCode::Enter);
    assert_eq!(
        a.message.as_deref(),
        Some("you stopped at step 2: g 2 Enter goes there")
    );
    // A lesson never started, or done, opens without a word.
    let mut b = app();
    key(&mut b, KeyCode::Enter);
    assert_eq!(b.message, None);
}

#[test]
fn picker_filters_and_resets_with_confirmation() {
    let mut a = app();
    let first = a.lessons[0].steps[0].id.clone();
    a.progress.step_done("uts", &first);
    // Letters do nothing until `/` starts the filter.
    key(&mut a, KeyCode::Char('x'));
    assert_eq!(a.filtered(), vec![0]);
    key(&mut a, KeyCode::Char('/'));
    key(&mut a, KeyCode::Char('x'));
    assert!(a.filtered().is_empty());
    key(&mut a, KeyCode::Backspace);
    assert_eq!(a.filtered(), vec![0]);
    key(&mut a, KeyCode::Esc);
    assert!(!a.filtering);
    let ctrl_r = KeyEvent::new(KeyCode::Char('r'), KeyModifiers::CONTROL);
    a.update(AppEvent::Key(ctrl_r));
    assert_eq!(
        a.overlay,
        Overlay::Confirm(Confirm::ResetLesson("uts".into()))
    );
    key(&mut a, KeyCode::Char('n'));
    assert_eq!(a.status(&a.lessons[0].clone()), Status::InProgress(2));
    a.update(AppEvent::Key(ctrl_r));
    assert_eq!(key(&mut a, KeyCode::Char('y')), vec![Effect::SaveProgress]);
    assert_eq!(a.status(&a.lessons[0].clone()), Status::NotStarted);
    assert_eq!(key(&mut a, KeyCode::Esc), vec![Effect::Quit]);
}

#[test]
fn q_quits_the_list_and_an_exact_id_opens_its_own_lesson() {
    let lessons: Vec<_> = BUILTIN
        .iter()
        .filter(|(n, _)| ["cgroupns.yaml", "cgroup.yaml"].contains(n))
        .map(|(n, t)| parse(n, t).unwrap())
        .collect();
    let mut a = App::new(lessons, "en", Progress::default(), false);
    for c in "/cgroup".chars() {
        key(&mut a, KeyCode::Char(c));
    }
    let opened = key(&mut a, KeyCode::Enter);
    let Effect::Open(i) = opened[0] else {
        panic!("{opened:?}")
    };
    assert_eq!(a.lessons[i].id, "cgroup");
    assert_eq!(key(&mut a, KeyCode::Char('q')), vec![Effect::Close]);
    a.close();
    assert_eq!(key(&mut a, KeyCode::Char('q')), vec![Effect::Quit]);
}

/// The screen as drawn at 80x24, as text.
fn draw(app: &App) -> String {
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 24)).unwrap();
    t.draw(|f| crate::tui::ui::draw(f, app)).unwrap();
    t.backend().to_string()
}

fn app_of(file: &str) -> App {
    let lessons = BUILTIN
        .iter()
        .filter(|(n, _)| *n == file)
        .map(|(n, t)| parse(n, t).unwrap())
        .collect();
    App::new(lessons, "en", Progress::default(), false)
}

#[test]
fn keys_pressed_while_busy_are_carried_out_in_order_once_idle() {
    let mut a = app_of("pid.yaml");
    assert!(a.lessons[0].steps.len() >= 7);
    key(&mut a, KeyCode::Enter);
    ready(&mut a, 0);
    assert_eq!(
        key(&mut a, KeyCode::Enter),
        vec![Effect::Session(Cmd::Run(0))]
    );
    // Six quick Enters while step 1 runs: none is lost, the header says they wait.
    for _ in 0..6 {
        assert_eq!(key(&mut a, KeyCode::Enter), vec![]);
    }
    assert_eq!(a.lesson.as_ref().unwrap().queued.len(), 6);
    let screen = draw(&a);
    assert!(screen.contains("6 queued"), "{screen}");
    // Each answer of the session carries out the next Enter: it advances and runs that step.
    let session_work = |effects: Vec<Effect>| -> Vec<Effect> {
        // (Progress is saved too after each step; only the session's work matters here.)
        effects
            .into_iter()
            .filter(|e| matches!(e, Effect::Session(_)))
            .collect()
    };
    for step in 0..6 {
        assert_eq!(
            session_work(ran(&mut a, step, vec![])),
            vec![Effect::Session(Cmd::Run(step + 1))]
        );
        let l = a.lesson.as_ref().unwrap();
        assert_eq!(l.cursor, step + 1);
        assert_eq!(l.queued.len(), 5 - step);
    }
    // The last run answered, nothing is left to do: six steps further than where it started.
    assert_eq!(session_work(ran(&mut a, 6, vec![])), vec![]);
    assert_eq!(a.lesson.as_ref().unwrap().cursor, 6);
    assert!(a.lesson.as_ref().unwrap().busy.is_none());
}

#[test]
fn keys_pressed_while_the_sandbox_starts_wait_and_a_failure_drops_them() {
    let mut a = app_of("pid.yaml");
    key(&mut a, KeyCode::Enter);
    // Twelve Enters while the sandbox starts: more than the queue holds.
    for _ in 0..12 {
        key(&mut a, KeyCode::Enter);
    }
    assert_eq!(a.lesson.as_ref().unwrap().queued.len(), MAX_QUEUED);
    // The sandbox is up (the session's first answer): the first queued Enter runs step 1.
    let started = a.update(AppEvent::Session(SessionMsg::Ran {
        results: vec![],
        done: 0,
        pids: BTreeMap::new(),
        subjects: Default::default(),
        texts: Default::default(),
        shell_env: vec![],
        restarted: false,
        events: vec![],
    }));
    assert_eq!(started.0, vec![Effect::Session(Cmd::Run(0))]);
    // A failure drops what waited: the learner reads the error before anything else runs.
    a.update(AppEvent::Session(SessionMsg::Error("broken".into())));
    assert!(a.lesson.as_ref().unwrap().queued.is_empty());
}

#[test]
fn a_judge_the_shell_asked_for_does_not_end_other_work() {
    use crate::session::events::Phase;
    let mut a = app();
    key(&mut a, KeyCode::Enter);
    ready(&mut a, 1);
    // The learner started step 2 while an automatic judge of step 1 was under way.
    a.lesson.as_mut().unwrap().busy = Some("running step 2".into());
    judged(
        &mut a,
        0,
        vec![CheckOutcome::bare("first", true, Phase::Normal)],
    );
    assert_eq!(
        a.lesson.as_ref().unwrap().busy.as_deref(),
        Some("running step 2")
    );
    // A judge the learner asked for with `c` ends its own "checking".
    a.lesson.as_mut().unwrap().busy = Some("checking".into());
    judged(&mut a, 0, vec![]);
    assert_eq!(a.lesson.as_ref().unwrap().busy, None);
}

/// A step that just ran shows its title and explanation first (the learner who presses Enter
/// again and again reads each one); a check judged again shows the checks.
#[test]
fn a_step_that_ran_shows_its_text_and_a_judged_check_its_checks() {
    use crate::session::events::Phase;
    let mut a = app();
    key(&mut a, KeyCode::Enter);
    a.lesson.as_mut().unwrap().scroll = 7;
    ran(
        &mut a,
        0,
        vec![CheckOutcome::bare("c", false, Phase::Normal)],
    );
    assert_eq!(a.lesson.as_ref().unwrap().scroll, 0);
    judged(
        &mut a,
        0,
        vec![CheckOutcome::bare("c", true, Phase::Normal)],
    );
    assert_eq!(a.lesson.as_ref().unwrap().scroll, SCROLL_TO_RESULTS);
}

/// Keys taken together before one drawing each scroll: eight `j` are eight lines.
#[test]
fn quick_scroll_keys_add_up() {
    let mut a = app();
    key(&mut a, KeyCode::Enter);
    for _ in 0..8 {
        key(&mut a, KeyCode::Char('j'));
    }
    assert_eq!(a.lesson.as_ref().unwrap().scroll, 8);
    for _ in 0..3 {
        key(&mut a, KeyCode::Char('k'));
    }
    assert_eq!(a.lesson.as_ref().unwrap().scroll, 5);
}
