//! Drawing: pure functions of `&App` (no I/O, no /proc), so screens can be snapshot-tested
//! with fake data.

use super::app::{view_name, App, Confirm, LessonState, Overlay, Screen, SCROLL_TO_RESULTS};
use super::widgets::{step_lines, view_lines, wrap, Theme};
use crate::session::progress::Status;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;

/// Below this width the step text and the views stack vertically.
pub const SIDE_BY_SIDE_MIN_WIDTH: u16 = 120;

pub fn draw(f: &mut Frame, app: &App) {
    let t = Theme { color: app.color };
    let area = f.area();
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
                Paragraph::new(Line::from(
                    " containerlab · learn how Linux containers work by making the real syscalls",
                ))
                .style(t.bar()),
                header,
            );
            draw_picker(f, app, body, t);
            draw_footer(
                f,
                app,
                footer,
                t,
                "↑↓ Enter open · type to filter · ^R reset one · ^A reset all · ? keys · Esc quit",
            );
        }
    }
    match &app.overlay {
        Overlay::None => {}
        Overlay::Help => draw_help(f, app, area, t),
        Overlay::Goto(typed) => {
            if let Some(l) = &app.lesson {
                draw_step_list(f, app, l, typed, area, t);
            }
        }
        Overlay::Confirm(what) => {
            let q = match what {
                Confirm::ResetLesson(id) => format!("Forget your progress in lesson {id}?"),
                Confirm::ResetAll => "Forget your progress in ALL lessons?".into(),
            };
            draw_popup(
                f,
                area,
                "Reset progress",
                &[q, String::new(), "y yes · any other key: no".into()],
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
    f.render_widget(Paragraph::new(format!(" {text}")).style(t.bar()), area);
}

fn status_text(s: Status, steps: usize) -> String {
    match s {
        Status::NotStarted => "not started".into(),
        Status::InProgress(n) => format!("in progress: step {n}/{steps}"),
        Status::Done => "done ✓".into(),
    }
}

fn draw_picker(f: &mut Frame, app: &App, area: Rect, t: Theme) {
    let list = app.filtered();
    let [filter, table, detail] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(3),
        Constraint::Length(if area.height >= 20 { 8 } else { 0 }),
    ])
    .areas(area);
    let ftext = if app.filter.is_empty() {
        Line::from(Span::styled(" Filter: (type to filter)", t.dim()))
    } else {
        Line::from(vec![
            Span::raw(" Filter: "),
            Span::styled(format!("{}_", app.filter), t.command()),
        ])
    };
    f.render_widget(Paragraph::new(ftext), filter);
    let w = table.width.saturating_sub(2) as usize;
    let title_w = w.saturating_sub(8 + 7 + 26 + 3).clamp(10, 60);
    let mut lines = vec![Line::from(Span::styled(
        format!(
            " {:<8} {:<title_w$} {:>5}  {}",
            "LESSON", "TITLE", "STEPS", "PROGRESS"
        ),
        t.dim(),
    ))];
    if list.is_empty() {
        lines.push(Line::from(
            " no lesson matches the filter (Backspace to edit)",
        ));
    }
    let rows = table.height.saturating_sub(3) as usize;
    let first = app.selected.saturating_sub(rows.saturating_sub(1));
    for (row, &i) in list.iter().enumerate().skip(first).take(rows.max(1)) {
        let l = &app.lessons[i];
        let status = app.status(l);
        let title: String = l.title.get(&app.lang).chars().take(title_w).collect();
        let text = format!(
            " {:<8} {:<title_w$} {:>5}  {}",
            l.id,
            title,
            l.steps.len(),
            status_text(status, l.steps.len())
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
    f.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(Span::styled(" Lessons ", t.title()))),
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
            f.render_widget(
                Paragraph::new(lines)
                    .block(Block::bordered().title(Span::styled(format!(" {} ", l.id), t.title()))),
                detail,
            );
        }
    }
}

fn lesson_keys(app: &App, l: &LessonState) -> &'static str {
    let _ = app;
    if l.lesson.steps[l.cursor].exercise.is_some() {
        "Enter run/next · ← back · s shell · c check · h hint · S solution · ? keys · q"
    } else {
        "Enter run/next · ← back · g goto · r restart · s shell · Tab view · ? keys · q"
    }
}

fn draw_lesson_header(f: &mut Frame, app: &App, l: &LessonState, area: Rect, t: Theme) {
    let right = match &l.busy {
        Some(b) => format!("{} {b}… ", app.spinner()),
        None => {
            let done = l.ran(l.cursor).map(|r| r.passed());
            let exercise = l.lesson.steps[l.cursor].exercise.is_some();
            match done {
                Some(true) => "step passed ✓ ".into(),
                Some(false) if exercise => "your turn ".into(),
                Some(false) => "step has failures ✗ ".into(),
                None => "not run yet ".into(),
            }
        }
    };
    let left = format!(
        " {} · {} · step {}/{}",
        l.lesson.id,
        l.lesson.title.get(&app.lang),
        l.cursor + 1,
        l.lesson.steps.len()
    );
    let w = area.width as usize;
    let room = w.saturating_sub(right.chars().count() + 1);
    let left: String = left.chars().take(room).collect();
    let pad = w.saturating_sub(left.chars().count() + right.chars().count());
    f.render_widget(
        Paragraph::new(format!("{left}{}{right}", " ".repeat(pad))).style(t.bar()),
        area,
    );
}

fn draw_lesson(f: &mut Frame, app: &App, l: &LessonState, area: Rect, t: Theme) {
    let [text_area, views_area] = if area.width >= SIDE_BY_SIDE_MIN_WIDTH {
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(area)
    } else {
        Layout::vertical([Constraint::Percentage(62), Constraint::Percentage(38)]).areas(area)
    };
    // Step text, scrollable.
    let inner_w = text_area.width.saturating_sub(2) as usize;
    let inner_h = text_area.height.saturating_sub(2) as usize;
    let (lines, anchor) = step_lines(app, l, inner_w);
    let max_scroll = lines.len().saturating_sub(inner_h);
    let wanted = if l.scroll == SCROLL_TO_RESULTS {
        // Keep the command line above the results in view when there is room.
        anchor.saturating_sub(2)
    } else {
        l.scroll as usize
    };
    let scroll = wanted.min(max_scroll);
    l.shown_scroll.set(scroll as u16);
    let more = if scroll < max_scroll {
        " ↓ more (j/PgDn) "
    } else if scroll > 0 {
        " ↑ (k/PgUp) "
    } else {
        ""
    };
    let block = Block::bordered()
        .title(Span::styled(" Step ", t.title()))
        .title_bottom(Line::from(Span::styled(more, t.dim())).right_aligned());
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .scroll((scroll as u16, 0)),
        text_area,
    );
    // Views.
    let tabs = l.view_tabs();
    let chosen = l.chosen_view();
    let own = &l.lesson.steps[l.cursor].views;
    let mut spans = Vec::new();
    for (i, v) in tabs.iter().enumerate() {
        let label = if own.contains(v) || *v == chosen {
            format!("{}:{}", i + 1, view_name(*v))
        } else {
            format!("{}", i + 1)
        };
        let style = if *v == chosen {
            t.selected().add_modifier(Modifier::BOLD)
        } else if own.contains(v) {
            Style::default()
        } else {
            t.dim()
        };
        spans.push(Span::styled(label, style));
        spans.push(Span::raw(" "));
    }
    let rendered = l.views.iter().find(|r| r.view == chosen);
    let title = rendered
        .map(|r| r.title.clone())
        .unwrap_or_else(|| view_name(chosen).to_string());
    let mut lines = vec![Line::from(spans)];
    match rendered {
        Some(r) if r.lines.is_empty() => lines.push(Line::from("(nothing to show)")),
        Some(r) => lines.extend(view_lines(&ordered(r), t)),
        None if l.pids.is_empty() => {
            lines.push(Line::from(Span::styled("(no sandbox yet)", t.dim())))
        }
        None => lines.push(Line::from(Span::styled("sampling…", t.dim()))),
    }
    f.render_widget(
        Paragraph::new(lines).block(
            Block::bordered()
                .title(Span::styled(format!(" {title} "), t.title()))
                .title_bottom(
                    Line::from(Span::styled(" live · Tab/1-8 switch ", t.dim())).right_aligned(),
                ),
        ),
        views_area,
    );
}

pub const HELP: &[(&str, &str)] = &[
    ("Lesson list", ""),
    ("↑ ↓ / mouse wheel", "choose a lesson"),
    ("Enter, →", "open it"),
    (
        "letters",
        "filter by id or title (Backspace edits, Esc clears)",
    ),
    ("Ctrl-R", "reset the chosen lesson's progress (asks first)"),
    ("Ctrl-A", "reset all progress (asks first)"),
    ("Esc", "quit (with an empty filter)"),
    ("Lesson", ""),
    (
        "Enter, →, Space",
        "run the step; once it ran, go to the next",
    ),
    (
        "←, Backspace",
        "back one step (replays from a clean sandbox)",
    ),
    ("g", "the list of steps: a number or ↑↓, then Enter"),
    ("r", "restart the lesson from a clean sandbox"),
    ("j k ↑ ↓ PgUp PgDn", "scroll the text (or the mouse wheel)"),
    ("Tab, Shift-Tab, 1-8", "switch the live view"),
    (
        "s",
        "shell inside the sandbox's namespaces (exit to return)",
    ),
    ("m", "choose which process the shell enters"),
    ("c", "check again (after using the shell)"),
    ("h", "next hint (exercises)"),
    ("S", "show the solution; again: run it for you"),
    ("q, Esc", "leave the lesson (everything is torn down)"),
    ("Anywhere", ""),
    ("?", "this help"),
    ("Ctrl-C", "quit"),
];

fn draw_help(f: &mut Frame, app: &App, area: Rect, t: Theme) {
    // The current screen's keys and the global ones (all of them would not fit 24 lines).
    let section = match app.screen {
        Screen::Picker => "Lesson list",
        Screen::Lesson => "Lesson",
    };
    let mut lines: Vec<Line> = Vec::new();
    let mut show = false;
    for (k, d) in HELP {
        if d.is_empty() {
            show = *k == section || *k == "Anywhere";
        }
        if !show {
            continue;
        }
        if d.is_empty() {
            lines.push(Line::from(Span::styled(k.to_string(), t.title())));
        } else {
            lines.push(Line::from(vec![
                Span::styled(format!("  {k:<20}"), t.command()),
                Span::raw(d.to_string()),
            ]));
        }
    }
    lines.push(Line::from(Span::styled(
        "any key closes this help",
        t.dim(),
    )));
    let h = (lines.len() as u16 + 2).min(area.height);
    let w = 78.min(area.width);
    let r = centered(area, w, h);
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(Span::styled(" Keys ", t.title()))),
        r,
    );
}

fn draw_popup(f: &mut Frame, area: Rect, title: &str, text: &[String], t: Theme) {
    let w = (text.iter().map(|s| s.chars().count()).max().unwrap_or(10) as u16 + 4).min(area.width);
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

fn centered(area: Rect, w: u16, h: u16) -> Rect {
    Rect {
        x: area.x + (area.width.saturating_sub(w)) / 2,
        y: area.y + (area.height.saturating_sub(h)) / 2,
        width: w,
        height: h,
    }
}

/// A view's lines as shown: in the namespaces table the lesson's own (`*`) rows come first,
/// right under the header, so they stay in sight in a small pane.
fn ordered(r: &crate::session::views::RenderedView) -> Vec<String> {
    if r.view != crate::lesson::schema::View::Namespaces || r.lines.is_empty() {
        return r.lines.clone();
    }
    let (head, rest) = r.lines.split_at(1);
    let mut out = head.to_vec();
    out.extend(rest.iter().filter(|l| l.starts_with('*')).cloned());
    out.extend(rest.iter().filter(|l| !l.starts_with('*')).cloned());
    out
}

/// `g`: every step with its title and whether it ran here; the typed number is marked.
fn draw_step_list(f: &mut Frame, app: &App, l: &LessonState, typed: &str, area: Rect, t: Theme) {
    let n = l.lesson.steps.len();
    let chosen = typed.parse::<usize>().ok();
    let w = 70.min(area.width);
    let inner = w.saturating_sub(2) as usize;
    let mut lines = vec![Line::from(vec![
        Span::raw(format!("Step number (1-{n}): ")),
        Span::styled(format!("{typed}_"), t.command()),
    ])];
    for (i, step) in l.lesson.steps.iter().enumerate() {
        let mark = match l.ran(i) {
            Some(r) if r.passed() => "✓",
            Some(_) => "✗",
            None if i == l.cursor => "▶",
            None => " ",
        };
        let text: String = format!("{mark} {:>2}. {}", i + 1, step.title.get(&app.lang))
            .chars()
            .take(inner)
            .collect();
        let style = if chosen == Some(i + 1) {
            t.selected()
        } else {
            Style::default()
        };
        lines.push(Line::from(Span::styled(text, style)));
    }
    lines.push(Line::from(Span::styled(
        "number or ↑↓, Enter go (replays from a clean sandbox) · Esc cancel",
        t.dim(),
    )));
    let h = (lines.len() as u16 + 2).min(area.height);
    let r = centered(area, w, h);
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines)
            .block(Block::bordered().title(Span::styled(" Go to step ", t.title()))),
        r,
    );
}
