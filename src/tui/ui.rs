//! Drawing: pure functions of `&App` (no I/O, no /proc), so screens can be snapshot-tested
//! with fake data.

use super::app::{view_name, App, Confirm, LessonState, Overlay, Screen, SCROLL_TO_RESULTS};
use super::help;
use super::shell_pane;
use super::text as T;
use super::widgets::{step_lines, view_lines, wrap, Theme};
use super::width::{ellipsize, pad_left, pad_right, pad_to, truncate, width};
use crate::i18n::fill;
use crate::progress::Status;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
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
    f.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(Span::styled(
            format!(" {} ", T::LESSONS.get(lang)),
            t.title(),
        ))),
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
        draw_views(f, app, l, area, t);
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
    let (lines, anchor) = step_lines(app, l, inner_w);
    let max_scroll = lines.len().saturating_sub(inner_h);
    let wanted = if l.scroll == SCROLL_TO_RESULTS {
        // After a run: the step's command and its results (see `step_lines`).
        anchor
    } else {
        l.scroll as usize
    };
    let scroll = wanted.min(max_scroll);
    l.shown_scroll.set(scroll as u16);
    let more = if scroll < max_scroll {
        T::MORE_BELOW.get(lang)
    } else if scroll > 0 {
        " ↑ (k/PgUp) "
    } else {
        ""
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
            draw_views(f, app, l, views, t);
            shell_pane::draw(f, sh, lang, pane, t);
        }
        // Narrow: one pane, the shell or the view (`v` flips).
        Some(sh) if sh.shown => shell_pane::draw(f, sh, lang, side, t),
        _ => draw_views(f, app, l, side, t),
    }
}

/// The live views: a tab row and the chosen view. Zoomed (`z`), it fills the lesson's area and
/// scrolls both ways.
fn draw_views(f: &mut Frame, app: &App, l: &LessonState, area: Rect, t: Theme) {
    let lang = app.lang.as_str();
    let tabs = l.view_tabs();
    let chosen = l.chosen_view();
    let own = &l.lesson.steps[l.cursor].views;
    let mut spans = Vec::new();
    // Tabs by name as far as the width allows: the step's own views and the chosen one first,
    // then the others in order; the rest by number (the key that picks them: 1-9, 0 for the
    // tenth).
    let named =
        |i: usize, v: &crate::lesson::schema::View| format!("{}:{}", i + 1, view_name(*v, lang));
    let room = area.width.saturating_sub(2) as usize;
    let mut labels: Vec<String> = (1..=tabs.len()).map(|n| n.to_string()).collect();
    let mut used: usize = labels.iter().map(|l| width(l) + 1).sum();
    let first: Vec<usize> = (0..tabs.len())
        .filter(|&i| own.contains(&tabs[i]) || tabs[i] == chosen)
        .collect();
    let rest = (0..tabs.len()).filter(|i| !first.contains(i));
    // The others are named from the left as long as they fit, and no further: a name after a
    // bare number would read as if the numbers between had none.
    let mut others_fit = true;
    for i in first.iter().copied().chain(rest) {
        let name = named(i, &tabs[i]);
        let grows = width(&name) - width(&labels[i]);
        let must = first.contains(&i);
        others_fit &= must || used + grows <= room;
        if must || others_fit {
            used += grows;
            labels[i] = name;
        }
    }
    for (i, v) in tabs.iter().enumerate() {
        let label = labels[i].clone();
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
    // The title in the UI's language (the rendered view carries the English one).
    let title = match rendered {
        Some(r) => crate::session::views::title_in(r.view, lang),
        None => view_name(chosen, lang),
    };
    let mut lines = Vec::new();
    match rendered {
        Some(r) if r.lines.is_empty() => lines.push(Line::from(T::NOTHING_TO_SHOW.get(lang))),
        Some(r) => lines.extend(view_lines(&ordered(r), t)),
        None if l.pids.is_empty() => lines.push(Line::from(Span::styled(
            T::NO_SANDBOX_YET.get(lang),
            t.dim(),
        ))),
        None => lines.push(Line::from(Span::styled(T::SAMPLING.get(lang), t.dim()))),
    }
    let hint = match l.zoom {
        // Scrolled sideways: say from which column, since the line starts are out of sight.
        Some((_, right)) if right > 0 => fill(T::ZOOMED_FROM_COLUMN.get(lang), &[&(right + 1)]),
        Some(_) => T::ZOOMED_KEYS.get(lang).to_string(),
        None => T::LIVE_SWITCH.get(lang).to_string(),
    };
    let block = Block::bordered()
        .title(Span::styled(format!(" {title} "), t.title()))
        .title_bottom(Line::from(Span::styled(hint, t.dim())).right_aligned());
    let inner = block.inner(area);
    f.render_widget(block, area);
    let [tab_row, body] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(inner);
    f.render_widget(Paragraph::new(Line::from(spans)), tab_row);
    // How far scrolling can go: the last line at the bottom, the longest at the right edge.
    let longest = lines.iter().map(Line::width).max().unwrap_or(0);
    let limit = (
        lines.len().saturating_sub(body.height as usize),
        longest.saturating_sub(body.width as usize),
    );
    l.zoom_limit.set((
        limit.0.min(u16::MAX as usize) as u16,
        limit.1.min(u16::MAX as usize) as u16,
    ));
    let (down, right) = l.zoom.unwrap_or((0, 0));
    let shown = (
        down.min(l.zoom_limit.get().0),
        right.min(l.zoom_limit.get().1),
    );
    f.render_widget(Paragraph::new(lines).scroll(shown), body);
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
