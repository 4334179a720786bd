//! Building blocks for the screens: styles that degrade without colour, and the step pane's
//! content as lines (wrapping is `wrap.rs`).

use super::app::{App, LessonState};
use super::text as T;
use super::width::width as text_width;
use super::wrap::{prose, wrapped};
use crate::i18n::{self, fill};
use crate::session::events::{CheckOutcome, Phase};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

/// Styles; all plain when colours are off (NO_COLOR, TERM=dumb): then only bold/reverse, which
/// any terminal shows.
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::default().fg(c)
        } else {
            Style::default()
        }
    }
    pub fn title(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
    pub fn ok(&self) -> Style {
        self.fg(Color::Green)
    }
    pub fn bad(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }
    pub fn dim(&self) -> Style {
        if self.color {
            Style::default().fg(Color::DarkGray)
        } else {
            Style::default()
        }
    }
    pub fn command(&self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }
    pub fn trace(&self) -> Style {
        self.fg(Color::Magenta)
    }
    pub fn mark(&self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }
    pub fn selected(&self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED)
    }
    pub fn bar(&self) -> Style {
        if self.color {
            Style::default().bg(Color::Blue).fg(Color::White)
        } else {
            Style::default().add_modifier(Modifier::REVERSED)
        }
    }
}

/// One check as lines: ✓/✗ claim, and for a failure what was seen and why it should hold.
pub fn check_lines<'a>(c: &CheckOutcome, width: usize, t: Theme, lang: &str) -> Vec<Line<'a>> {
    let (mark, style) = match (c.passed, c.phase) {
        (true, _) => ("✓ ", t.ok()),
        (false, Phase::BeforeSolution) => ("○ ", t.dim()),
        (false, _) => ("✗ ", t.bad()),
    };
    // Output of several lines (a ping's, a web page) is shown as lines below, "↓" in its place.
    let below = c.observed_lines();
    let observed = if below.is_some() { "↓" } else { &c.observed };
    let claim = if c.passed {
        fill(T::CLAIM_OBSERVED.get(lang), &[&c.claim, &observed])
    } else {
        c.claim.clone()
    };
    let mut lines = wrapped(&claim, width, mark, style);
    if !c.passed {
        lines.extend(wrapped(
            &fill(T::OBSERVED_EXPECTED.get(lang), &[&observed, &c.expected]),
            width,
            "    ",
            Style::default(),
        ));
    }
    for l in below.iter().flat_map(|b| observed_shown(b, lang)) {
        lines.extend(wrapped(&l, width, "    │ ", t.dim()));
    }
    if !c.passed && c.phase != Phase::BeforeSolution {
        if let Some(why) = &c.why {
            let why = format!("{}: {why}", i18n::WHY.get(lang));
            lines.extend(wrapped(&why, width, "    ", t.dim()));
        }
    }
    lines
}

/// How many lines of a multi-line observed value the step pane shows (a web page can be long);
/// the rest is counted.
const OBSERVED_LINES: usize = 12;

/// The first lines of a multi-line observed value, and how many more there are.
fn observed_shown(lines: &[String], lang: &str) -> Vec<String> {
    let mut shown: Vec<String> = lines.iter().take(OBSERVED_LINES).cloned().collect();
    if lines.len() > OBSERVED_LINES {
        shown.push(fill(
            T::MORE_LINES.get(lang),
            &[&(lines.len() - OBSERVED_LINES)],
        ));
    }
    shown
}

/// The step pane's content: in the order a learner reads, the title and text, the command,
/// then the results and the checks.
pub struct StepLines<'a> {
    pub lines: Vec<Line<'a>>,
    /// The line shown first when the learner asks for the results (End, a check judged again):
    /// the `$ command` when short, else the first line of the results (or of the exercise).
    pub anchor: usize,
    /// The first line of the step's results, once it ran, and how many checks they hold: a pane
    /// that cuts them off says what is below.
    pub results_at: Option<usize>,
    /// Where the checks start, and how many there are.
    pub checks_at: Option<usize>,
    pub checks: usize,
}

/// The step pane's lines, wrapped to `width` (see [`StepLines`]).
pub fn step_lines<'a>(app: &App, l: &LessonState, width: usize) -> StepLines<'a> {
    let t = Theme { color: app.color };
    let lang = &app.lang;
    let step = &l.lesson.steps[l.cursor];
    let mut out: Vec<Line> = Vec::new();
    let blank = || Line::from("");
    if !l.refused.is_empty() {
        out.extend(wrapped(T::CANNOT_RUN_HERE.get(lang), width, "", t.bad()));
        for r in &l.refused {
            out.extend(wrapped(r, width, "  - ", t.bad()));
        }
        out.push(blank());
    }
    if let Some(e) = &l.error {
        out.extend(wrapped(&fill(T::ERROR.get(lang), &[e]), width, "", t.bad()));
        out.push(blank());
    }
    let words = l.texts.steps.get(l.cursor).cloned().unwrap_or_default();
    if l.cursor == 0 && l.ran(0).is_none() {
        out.extend(prose(&l.texts.intro, width, t.dim()));
        out.push(blank());
    }
    out.extend(wrapped(
        &fill(
            T::STEP_HEADING.get(lang),
            &[&(l.cursor + 1), &l.lesson.steps.len(), &words.title],
        ),
        width,
        "",
        t.title(),
    ));
    out.push(blank());
    // The session filled the placeholders (`{cgroup_file:oom_kill}` is memory.events on v2,
    // `{image_file:1}` is known once the layers are unpacked), as the headless output has them.
    out.extend(prose(&words.text, width, Style::default()));
    // Where the view starts once the step ran: at its `$ command` when that is short, so the
    // results follow it; past a long one, at the results, never in the middle of the command.
    let mut command_at = None;
    // An exercise's command is its answer: shown once solved, or once the solution is asked for.
    let answer_kept = step.exercise.is_some()
        && !l.solution_shown
        && !l.ran(l.cursor).is_some_and(|r| r.passed());
    if let Some(cmd) = words.command.as_ref().filter(|_| !answer_kept) {
        out.push(blank());
        let lines = wrapped(cmd, width, "$ ", t.command());
        if lines.len() <= 3 {
            command_at = Some(out.len());
        }
        out.extend(lines);
    }
    let result = l.ran(l.cursor);
    let mut anchor = None;
    if let Some(ex) = &step.exercise {
        out.push(blank());
        anchor = Some(out.len());
        // The session's words, placeholders filled like the step's text.
        out.extend(wrapped(
            words.task.as_deref().unwrap_or(ex.task.get(lang)),
            width,
            T::YOUR_TURN_PREFIX.get(lang),
            t.title(),
        ));
        let shown = l.hints.get(&l.cursor).copied().unwrap_or(0);
        for (i, h) in ex.hints.iter().take(shown).enumerate() {
            out.extend(wrapped(
                words.hints.get(i).map_or(h.get(lang), String::as_str),
                width,
                &fill(T::HINT_N.get(lang), &[&(i + 1)]),
                t.mark(),
            ));
        }
        if l.solution_shown {
            out.extend(wrapped(
                &fill(
                    T::IN_PROCESS.get(lang),
                    &[&ex.solution.shell, &ex.solution.process],
                ),
                width,
                T::SOLUTION_PREFIX.get(lang),
                t.command(),
            ));
            out.extend(wrapped(
                T::PRESS_S_AGAIN.get(lang),
                width,
                &" ".repeat(text_width(T::SOLUTION_PREFIX.get(lang))),
                t.dim(),
            ));
        }
        out.extend(wrapped(
            &fill(
                T::EXERCISE_KEYS.get(lang),
                &[&l.shell_target(), &shown, &ex.hints.len()],
            ),
            width,
            "",
            t.dim(),
        ));
    }
    out.push(blank());
    let anchor = command_at.or(anchor).unwrap_or(out.len());
    let results_at = result.map(|_| out.len());
    let mut checks_at = None;
    match result {
        None => {
            let msg = if l.busy.is_some() || !l.refused.is_empty() {
                ""
            } else {
                T::PRESS_ENTER.get(lang)
            };
            if !msg.is_empty() {
                out.extend(wrapped(msg, width, "▶ ", t.mark()));
            }
        }
        Some(r) => {
            if !r.actions.is_empty() {
                out.push(Line::from(Span::styled(T::SYSCALLS.get(lang), t.title())));
                for a in &r.actions {
                    out.extend(wrapped(
                        &fill(T::IN_PROCESS.get(lang), &[&a.action, &a.process]),
                        width,
                        "▸ ",
                        t.dim(),
                    ));
                    for tr in &a.trace {
                        out.extend(wrapped(tr, width, "  ", t.trace()));
                    }
                    if !a.output.is_empty() {
                        out.extend(wrapped(i18n::PROGRAM_SAID.get(lang), width, "  ", t.dim()));
                    }
                    for said in &a.output {
                        out.extend(wrapped(said, width, "  │ ", t.trace()));
                    }
                    if let Some(e) = &a.error {
                        let (p, s) = if e.expected {
                            (T::EXPECTED_ERROR.get(lang), t.ok())
                        } else {
                            ("  ✗ ", t.bad())
                        };
                        out.extend(wrapped(&e.message, width, p, s));
                        if let Some(x) = &e.explanation {
                            out.extend(wrapped(x, width, "    ", t.dim()));
                        }
                    }
                }
                out.push(blank());
            }
            if let Some(run) = &r.solution {
                out.push(Line::from(Span::styled(
                    T::SOLUTION_RAN.get(lang),
                    t.title(),
                )));
                out.extend(wrapped(&run.shell, width, "$ ", t.command()));
                for tr in &run.trace {
                    out.extend(wrapped(tr, width, "  ", t.trace()));
                }
                out.push(blank());
            }
            if !r.checks.is_empty() {
                checks_at = Some(out.len());
                let passed = r.checks.iter().filter(|c| c.passed).count();
                out.push(Line::from(Span::styled(
                    fill(T::CHECKS_PASSED.get(lang), &[&passed, &r.checks.len()]),
                    t.title(),
                )));
                for c in &r.checks {
                    out.extend(check_lines(c, width, t, lang));
                }
                out.push(blank());
            }
            let exercise_open = step.exercise.is_some() && !r.passed();
            if exercise_open {
                out.extend(wrapped(T::EXERCISE_OPEN.get(lang), width, "▶ ", t.mark()));
            } else if r.broken {
                out.extend(wrapped(T::BROKEN.get(lang), width, "", t.bad()));
            } else if l.cursor + 1 < l.lesson.steps.len() {
                out.extend(wrapped(T::NEXT_STEP.get(lang), width, "▶ ", t.mark()));
            } else {
                if let Some(outro) = &l.lesson.outro {
                    out.extend(wrapped(outro.get(lang), width, "", t.dim()));
                    out.push(blank());
                }
                out.extend(wrapped(T::END_OF_LESSON.get(lang), width, "▶ ", t.mark()));
            }
        }
    }
    StepLines {
        lines: out,
        anchor,
        results_at,
        checks_at,
        checks: result.map_or(0, |r| r.checks.len()),
    }
}

/// A view's lines; lines starting with `*` (the lesson's own namespaces) highlighted.
pub fn view_lines<'a>(lines: &[String], t: Theme) -> Vec<Line<'a>> {
    lines
        .iter()
        .map(|l| {
            if l.starts_with('*') {
                Line::from(Span::styled(l.clone(), t.mark()))
            } else if l.starts_with("──") {
                Line::from(Span::styled(l.clone(), t.title()))
            } else {
                Line::from(l.clone())
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{step_lines, StepLines};
    use crate::lesson::load::catalog;
    use crate::progress::Progress;
    use crate::session::player::StepResult;
    use crate::tui::app::App;

    /// After a step ran, the pane starts at its `$ command` when it is short, and past it (at the
    /// results) when it is long: never in the middle of a wrapped command.
    #[test]
    fn a_run_step_scrolls_to_its_command_or_past_it() {
        let lessons = catalog(&[])
            .0
            .into_iter()
            .map(|l| l.lesson)
            .filter(|l| l.id == "container")
            .collect();
        let mut app = App::new(lessons, "en", Progress::default(), false);
        app.open(0);
        let steps = app.lessons[0].steps.len();
        let (mut short, mut long) = (0, 0);
        for step in 0..steps {
            let l = app.lesson.as_mut().unwrap();
            l.cursor = step;
            l.done = step + 1;
            l.results.insert(step, StepResult::default());
            let l = app.lesson.as_ref().unwrap();
            let StepLines { lines, anchor, .. } = step_lines(&app, l, 78);
            let text: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
            if text[anchor].starts_with("$ ") {
                short += 1;
            } else {
                // Past the command: a blank line, then the results.
                assert!(text[anchor - 1].is_empty(), "step {step}: {text:#?}");
                assert!(!text[anchor].starts_with("  "), "step {step}: {text:#?}");
                long += 1;
            }
        }
        assert!(short > 0 && long > 0, "{short} short, {long} long");
    }
}
