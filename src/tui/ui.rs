//! Drawing: pure functions of `&App` (no I/O, no /proc), so screens can be snapshot-tested
//! with fake data.

use super::app::{App, Confirm, LessonState, Overlay, Screen, SCROLL_TO_RESULTS};
use super::help;
use super::shell_pane;
use super::text as T;
use super::view_pane;
use super::widgets::{step_lines, StepLines, Theme};
use super::width::{ellipsize, pad_left, pad_right, pad_to, truncate, width};
use super::wrap::wrap;
use crate::i18n::fill;
use crate::progress::Status;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;

/// Below this width the step text and the views stack vertically.
pub const SIDE_BY_SIDE_MIN_WIDTH: u16 = 120;

/// The smallest terminal the screens are laid out for; below it the UI says so instead of
/// drawing pieces cut at random.
pub const MIN_SIZE: (u16, u16) = (60, 16);

pub fn draw(f: &mut Frame, app: &App) {
    let t = Theme { color: app.color };
    let lang = app.lang.as_str();
    let area = f.area();
    if area.width < MIN_SIZE.0 || area.height < MIN_SIZE.1 {
        let text = fill(
            T::TOO_SMALL.get(lang),
            &[&MIN_SIZE.0, &MIN_SIZE.1, &area.width, &area.height],
        );
        let lines: Vec<Line> = wrap(&text, area.width as usize)
            .into_iter()
            .map(Line::from)
            .collect();
        f.render_widget(Paragraph::new(lines).style(t.bar()), area);
        return;
    }
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(area);
    match (&app.screen, &app.lesson) {
        (Screen::Lesson, Some(l)) => {
            draw_lesson_header(f, app, l, header, t);
            draw_lesson(f, app, l, body, t);
            draw_footer(f, app, footer, t, lesson_keys(app, l));
        }
        _ => {
            f.render_widget(
                Paragraph::new(Line::from(T::PICKER_HEADER.get(lang))).style(t.bar()),
                header,
            );
            draw_picker(f, app, body, t);
            draw_footer(f, app, footer, t, T::PICKER_KEYS.get(lang));
        }
    }
    match &app.overlay {
        Overlay::None => {}
        Overlay::Help => help::draw(f, app, area, t),
        Overlay::Goto(typed) => {
            if let Some(l) = &app.lesson {
                draw_step_list(f, app, l, typed, area, t);
            }
        }
        Overlay::Confirm(what) => {
            let q = match what {
                Confirm::ResetLesson(id) => fill(T::CONFIRM_RESET_LESSON.get(lang), &[id]),
                Confirm::ResetAll => T::CONFIRM_RESET_ALL.get(lang).into(),
            };
            draw_popup(
                f,
                area,
                T::RESET_TITLE.get(lang),
                &[q, String::new(), T::CONFIRM_KEYS.get(lang).into()],
                t,
            );
        }
    }
}

fn draw_footer(f: &mut Frame, app: &App, area: Rect, t: Theme, keys: &str) {
    let text = match &app.message {
        Some(m) => m.clone(),
        None => keys.to_string(),
    };
    // Narrower than the keys: cut with …, not in the middle of a word without a sign.
    let text = ellipsize(&text, (area.width as usize).saturating_sub(1));
    f.render_widget(Paragraph::new(format!(" {text}")).style(t.bar()), area);
}

fn status_text(s: Status, steps: usize, lang: &str) -> String {
    match s {
        Status::NotStarted => T::NOT_STARTED.get(lang).into(),
        Status::InProgress(n) => fill(T::IN_PROGRESS.get(lang), &[&n, &steps]),
        Status::Done => T::DONE.get(lang).into(),
    }
}

fn draw_picker(f: &mut Frame, app: &App, area: Rect, t: Theme) {
    let lang = app.lang.as_str();
    let list = app.filtered();
    let [filter, table, detail] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(3),
        Constraint::Length(if area.height >= 20 { 8 } else { 0 }),
    ])
    .areas(area);
    let ftext = if app.filter.is_empty() {
        Line::from(Span::styled(
            format!(" {}: {}", T::FILTER.get(lang), T::TYPE_TO_FILTER.get(lang)),
            t.dim(),
        ))
    } else {
        Line::from(vec![
            Span::raw(format!(" {}: ", T::FILTER.get(lang))),
            Span::styled(format!("{}_", app.filter), t.command()),
        ])
    };
    f.render_widget(Paragraph::new(ftext), filter);
    let w = table.width.saturating_sub(2) as usize;
    // Columns are measured in terminal columns: a Japanese header or title is twice as wide as
    // its characters. The id column fits the longest id (container-userns), so rows align.
    let id_w = app
        .lessons
        .iter()
        .map(|l| width(&l.id))
        .chain([width(T::COL_LESSON.get(lang)), 8])
        .max()
        .unwrap_or(8)
        .min(24);
    let steps_w = width(T::COL_STEPS.get(lang)).max(5);
    // The progress column takes what its texts need; the title gets the rest.
    let progress_w = app
        .lessons
        .iter()
        .map(|l| width(&status_text(app.status(l), l.steps.len(), lang)))
        .chain([width(T::COL_PROGRESS.get(lang))])
        .max()
        .unwrap_or(0);
    let title_w = w
        .saturating_sub(id_w + steps_w + progress_w + 5)
        .clamp(10, 100);
    let cols = |id: &str, title: &str, steps: &str, progress: &str| {
        format!(
            " {} {} {}  {progress}",
            pad_right(id, id_w),
            pad_to(title, title_w),
            pad_left(steps, steps_w)
        )
    };
    let mut lines = vec![Line::from(Span::styled(
        cols(
            T::COL_LESSON.get(lang),
            T::COL_TITLE.get(lang),
            T::COL_STEPS.get(lang),
            T::COL_PROGRESS.get(lang),
        ),
        t.dim(),
    ))];
    if list.is_empty() {
        lines.push(Line::from(T::NO_MATCH.get(lang)));
    }
    let rows = table.height.saturating_sub(3) as usize;
    let first = app.selected.saturating_sub(rows.saturating_sub(1));
    for (row, &i) in list.iter().enumerate().skip(first).take(rows.max(1)) {
        let l = &app.lessons[i];
        let status = app.status(l);
        let text = cols(
            &l.id,
            l.title.get(lang),
            &l.steps.len().to_string(),
            &status_text(status, l.steps.len(), lang),
        );
        let style = match status {
            Status::Done => t.ok(),
            _ => Style::default(),
        };
        let style = if row == app.selected {
            style.patch(t.selected())
        } else {
            style
        };
        lines.push(Line::from(Span::styled(text, style)));
    }
    // A list longer than the pane says which part of it is shown, so no lesson is out of sight
    // without a sign.
    let shown = list.len().min(rows.max(1));
    let range = if list.len() > shown {
        let (a, b, n) = (first + 1, first + shown, list.len());
        format!(" {} ", fill(T::LESSONS_SHOWN.get(lang), &[&a, &b, &n]))
    } else {
        String::new()
    };
    f.render_widget(
        Paragraph::new(lines).block(
            Block::bordered()
                .title(Span::styled(
                    format!(" {} ", T::LESSONS.get(lang)),
                    t.title(),
                ))
                .title_bottom(Line::from(Span::styled(range, t.dim())).right_aligned()),
        ),
        table,
    );
    if detail.height > 0 {
        if let Some(&i) = list.get(app.selected) {
            let l = &app.lessons[i];
            let inner = detail.width.saturating_sub(2) as usize;
            let lines: Vec<Line> = wrap(l.intro.get(&app.lang), inner)
                .into_iter()
                .map(Line::from)
                .collect();
            // The introduction goes on in the lesson: say so when the preview cuts it.
            let cut = lines.len() > detail.height.saturating_sub(2) as usize;
            let more = if cut { T::INTRO_GOES_ON.get(lang) } else { "" };
            f.render_widget(
                Paragraph::new(lines).block(
                    Block::bordered()
                        .title(Span::styled(format!(" {} ", l.id), t.title()))
                        .title_bottom(Line::from(Span::styled(more, t.dim())).right_aligned()),
                ),
                detail,
            );
        }
    }
}

fn lesson_keys(app: &App, l: &LessonState) -> &'static str {
    if let Some(sh) = &app.shell {
        return if sh.focus {
            T::SHELL_FOCUS_KEYS.get(&app.lang)
        } else {
            T::SHELL_OPEN_KEYS.get(&app.lang)
        };
    }
    if l.zoom.is_some() {
        T::ZOOMED_FOOTER.get(&app.lang)
    } else if l.lesson.steps[l.cursor].exercise.is_some() {
        T::LESSON_KEYS_EXERCISE.get(&app.lang)
    } else {
        T::LESSON_KEYS.get(&app.lang)
    }
}

fn draw_lesson_header(f: &mut Frame, app: &App, l: &LessonState, area: Rect, t: Theme) {
    let lang = app.lang.as_str();
    let right = match &l.busy {
        Some(b) if l.queued.is_empty() => format!("{} {b}… ", app.spinner()),
        // Keys pressed meanwhile are not lost: the learner sees that they wait.
        Some(b) => format!(
            "{} {b}… · {} ",
            app.spinner(),
            fill(T::KEYS_QUEUED.get(lang), &[&l.queued.len()])
        ),
        None => {
            let done = l.ran(l.cursor).map(|r| r.passed());
            let exercise = l.lesson.steps[l.cursor].exercise.is_some();
            match done {
                Some(true) => format!("{} ", T::STEP_PASSED.get(lang)),
                Some(false) if exercise => format!("{} ", T::YOUR_TURN.get(lang)),
                Some(false) => format!("{} ", T::STEP_FAILURES.get(lang)),
                None => format!("{} ", T::NOT_RUN_YET.get(lang)),
            }
        }
    };
    let step = fill(
        T::STEP_OF.get(lang),
        &[&(l.cursor + 1), &l.lesson.steps.len()],
    );
    let w = area.width as usize;
    let room = w.saturating_sub(width(&right) + 1);
    // The title gives way (ending in …) before the step counter does.
    let frame = width(&format!(" {} ·  · {step}", l.lesson.id));
    let title = ellipsize(l.lesson.title.get(lang), room.saturating_sub(frame).max(8));
    let left = format!(" {} · {title} · {step}", l.lesson.id);
    let left = truncate(&left, room);
    let pad = w.saturating_sub(width(left) + width(&right));
    f.render_widget(
        Paragraph::new(format!("{left}{}{right}", " ".repeat(pad))).style(t.bar()),
        area,
    );
}

fn draw_lesson(f: &mut Frame, app: &App, l: &LessonState, area: Rect, t: Theme) {
    let lang = app.lang.as_str();
    let shell = app.shell.as_ref();
    if let Some(sh) = shell.filter(|sh| sh.zoomed) {
        shell_pane::draw(f, sh, lang, area, t);
        return;
    }
    if l.zoom.is_some() {
        view_pane::draw(f, app, l, area, t);
        return;
    }
    let wide = area.width >= SIDE_BY_SIDE_MIN_WIDTH;
    // A narrow screen gives the shell, when it shows, more of the height than a view gets.
    let below = if shell.is_some_and(|sh| sh.shown) {
        55
    } else {
        38
    };
    let [text_area, side] = if wide {
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(area)
    } else {
        Layout::vertical([
            Constraint::Percentage(100 - below),
            Constraint::Percentage(below),
        ])
        .areas(area)
    };
    // Step text, scrollable.
    let inner_w = text_area.width.saturating_sub(2) as usize;
    let inner_h = text_area.height.saturating_sub(2) as usize;
    let StepLines {
        lines,
        anchor,
        results_at,
        checks_at,
        checks,
    } = step_lines(app, l, inner_w);
    let max_scroll = lines.len().saturating_sub(inner_h);
    let wanted = if l.scroll == SCROLL_TO_RESULTS {
        // After a run: the step's command and its results (see `step_lines`).
        anchor
    } else {
        l.scroll as usize
    };
    let scroll = wanted.min(max_scroll);
    l.shown_scroll.set(scroll as u16);
    // Below the pane: say what, when it is the step's results or checks, so that a learner
    // reading the explanation knows the outcome waits there.
    let bottom = scroll + inner_h;
    let below = |at: Option<usize>| at.is_some_and(|at| at >= bottom);
    let more = match (below(results_at), below(checks_at), checks) {
        (true, _, 0) => T::MORE_RESULTS.get(lang).to_string(),
        (true, _, 1) => T::MORE_RESULTS_CHECK.get(lang).to_string(),
        (true, _, n) => fill(T::MORE_RESULTS_CHECKS.get(lang), &[&n]),
        (false, true, 1) => T::MORE_CHECK.get(lang).to_string(),
        (false, true, n) => fill(T::MORE_CHECKS.get(lang), &[&n]),
        _ if scroll < max_scroll => T::MORE_BELOW.get(lang).to_string(),
        _ if scroll > 0 => " ↑ (k/PgUp) ".to_string(),
        _ => String::new(),
    };
    let block = Block::bordered()
        .title(Span::styled(
            format!(" {} ", T::STEP_PANE.get(lang)),
            t.title(),
        ))
        .title_bottom(Line::from(Span::styled(more, t.dim())).right_aligned());
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .scroll((scroll as u16, 0)),
        text_area,
    );
    match shell {
        // Wide: the live view above the shell, both in sight while the learner types.
        Some(sh) if wide => {
            let [views, pane] =
                Layout::vertical([Constraint::Percentage(40), Constraint::Percentage(60)])
                    .areas(side);
            view_pane::draw(f, app, l, views, t);
            shell_pane::draw(f, sh, lang, pane, t);
        }
        // Narrow: one pane, the shell or the view (`v` flips).
        Some(sh) if sh.shown => shell_pane::draw(f, sh, lang, side, t),
        _ => view_pane::draw(f, app, l, side, t),
    }
}

fn draw_popup(f: &mut Frame, area: Rect, title: &str, text: &[String], t: Theme) {
    let w = (text.iter().map(|s| width(s)).max().unwrap_or(10) as u16 + 4).min(area.width);
    let h = (text.len() as u16 + 2).min(area.height);
    let r = centered(area, w, h);
    f.render_widget(Clear, r);
    let lines: Vec<Line> = text.iter().map(|s| Line::from(s.clone())).collect();
    f.render_widget(
        Paragraph::new(lines)
            .block(Block::bordered().title(Span::styled(format!(" {title} "), t.title()))),
        r,
    );
}

pub(super) fn centered(area: Rect, w: u16, h: u16) -> Rect {
    Rect {
        x: area.x + (area.width.saturating_sub(w)) / 2,
        y: area.y + (area.height.saturating_sub(h)) / 2,
        width: w,
        height: h,
    }
}

/// `g`: every step with its title and whether it ran here; the typed number is marked.
fn draw_step_list(f: &mut Frame, app: &App, l: &LessonState, typed: &str, area: Rect, t: Theme) {
    let lang = app.lang.as_str();
    let n = l.lesson.steps.len();
    let chosen = typed.parse::<usize>().ok();
    let w = 70.min(area.width);
    let inner = w.saturating_sub(2) as usize;
    let mut lines = vec![Line::from(vec![
        Span::raw(fill(T::GOTO_PROMPT.get(lang), &[&n])),
        Span::styled(format!("{typed}_"), t.command()),
    ])];
    // Steps done in an earlier session (the progress file) are marked too, dimmed: this
    // session has not replayed them yet.
    let done_before = app
        .progress
        .lessons
        .get(&l.lesson.id)
        .map(|p| p.steps_done.clone())
        .unwrap_or_default();
    for (i, step) in l.lesson.steps.iter().enumerate() {
        let earlier = done_before.contains(&step.id);
        let mark = match l.ran(i) {
            Some(r) if r.passed() => "✓",
            Some(_) => "✗",
            None if i == l.cursor => "▶",
            None if earlier => "✓",
            None => " ",
        };
        let text = format!("{mark} {:>2}. {}", i + 1, step.title.get(lang));
        let text = ellipsize(&text, inner);
        let style = if chosen == Some(i + 1) {
            t.selected()
        } else if earlier && l.ran(i).is_none() {
            t.dim()
        } else {
            Style::default()
        };
        lines.push(Line::from(Span::styled(text, style)));
    }
    lines.push(Line::from(Span::styled(T::GOTO_KEYS.get(lang), t.dim())));
    let h = (lines.len() as u16 + 2).min(area.height);
    let r = centered(area, w, h);
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(Span::styled(
            format!(" {} ", T::GOTO_TITLE.get(lang)),
            t.title(),
        ))),
        r,
    );
}
