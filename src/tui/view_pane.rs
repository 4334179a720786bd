//! The live view pane: a row of named tabs (each view keeps its digit for the whole lesson) and
//! the chosen view, cut to the pane so that the lines the step is about stay in sight; what was
//! left out is counted in the border. Zoomed (`z`), it fills the lesson's area and scrolls.

use super::app::{view_name, App, LessonState};
use super::text as T;
use super::widgets::{view_lines, Theme};
use super::width::width;
use crate::i18n::fill;
use crate::lesson::schema::View;
use crate::session::views::RenderedView;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

/// `zoom`'s first value asking the drawing to start at the lines the step is about.
pub const ZOOM_AT_FOCUS: u16 = u16::MAX;

/// A tab's label: its digit (1-9, 0 for the tenth; none past it) and its short name.
fn label(i: usize, v: View, lang: &str) -> String {
    if i < 10 {
        format!("{}:{}", (i + 1) % 10, view_name(v, lang))
    } else {
        view_name(v, lang).to_string()
    }
}

/// Which tabs (start..end) fit in `room` columns with the chosen one among them, every one
/// named: all when they fit, else as many as fit from the left, moved right until the chosen
/// one is in. `widths` are the labels' widths; tabs are one space apart, and the signs of tabs
/// left out (`‹ ` before, ` +N›` after) take their room.
pub fn tab_window(widths: &[usize], chosen: usize, room: usize) -> (usize, usize) {
    let n = widths.len();
    let cost = |a: usize, b: usize| {
        let tabs: usize = widths[a..b].iter().map(|w| w + 1).sum::<usize>();
        let left = if a > 0 { 2 } else { 0 };
        let right = if b < n { 5 } else { 0 };
        tabs.saturating_sub(1) + left + right
    };
    let mut start = 0;
    loop {
        let mut end = start;
        while end < n && cost(start, end + 1) <= room {
            end += 1;
        }
        if chosen < end || start >= chosen {
            return (start, end.max(start + 1).min(n));
        }
        start += 1;
    }
}

fn tab_row<'a>(l: &LessonState, lang: &str, room: usize, t: Theme) -> Line<'a> {
    let tabs = l.view_tabs();
    let chosen = l.view_tab.min(tabs.len() - 1);
    let own = &l.lesson.steps[l.cursor].views;
    let labels: Vec<String> = tabs
        .iter()
        .enumerate()
        .map(|(i, v)| label(i, *v, lang))
        .collect();
    let widths: Vec<usize> = labels.iter().map(|s| width(s)).collect();
    let (start, end) = tab_window(&widths, chosen, room);
    let mut spans = Vec::new();
    if start > 0 {
        spans.push(Span::styled("‹ ", t.dim()));
    }
    for i in start..end {
        let v = tabs[i];
        let style = if i == chosen {
            t.selected().add_modifier(Modifier::BOLD)
        } else if own.contains(&v) {
            Style::default()
        } else {
            t.dim()
        };
        if i > start {
            spans.push(Span::raw(" "));
        }
        spans.push(Span::styled(labels[i].clone(), style));
    }
    if end < tabs.len() {
        spans.push(Span::styled(format!(" +{}›", tabs.len() - end), t.dim()));
    }
    Line::from(spans)
}

/// The lines of a view a pane of `height` lines shows, in order, and how many it leaves out:
/// all when they fit; else the column headings, the lines the step is about, then the lines
/// just above those (what introduces them: `$ ss -ltnp` above a socket, within its `── ` section),
/// then the others from the top, as far as there is room.
pub fn shown_lines(r: &RenderedView, height: usize) -> (Vec<usize>, usize) {
    let n = r.lines.len();
    if n <= height {
        return ((0..n).collect(), 0);
    }
    let focus: Vec<usize> = r.focus.iter().copied().filter(|&i| i < n).collect();
    let heading = |i: usize| r.lines[i].starts_with("── ");
    // Round k: the line k above each focused line, while no section heading is passed.
    let above = (1..n).flat_map(|k| {
        focus
            .iter()
            .filter_map(move |&i| i.checked_sub(k).filter(|&j| !(j + 1..=i).any(heading)))
    });
    let mut keep = std::collections::BTreeSet::new();
    let wanted = (0..r.header.min(n))
        .chain(focus.iter().copied())
        .chain(above)
        .chain(0..n);
    for i in wanted {
        if keep.len() >= height {
            break;
        }
        keep.insert(i);
    }
    let shown: Vec<usize> = keep.into_iter().collect();
    let left_out = n - shown.len();
    (shown, left_out)
}

/// Where `z` starts: at the top of a table (its headings stay), at the first line the step is
/// about in a view of sections (the drawing stops where the view ends).
pub fn zoom_start(r: Option<&RenderedView>) -> u16 {
    match r {
        Some(r) if r.header == 0 => r.focus.first().copied().unwrap_or(0) as u16,
        _ => 0,
    }
}

/// The view's lines styled: the lines the step is about in bold.
fn styled<'a>(r: &RenderedView, which: &[usize], t: Theme) -> Vec<Line<'a>> {
    let texts: Vec<String> = which.iter().map(|&i| r.lines[i].clone()).collect();
    view_lines(&texts, t)
        .into_iter()
        .zip(which)
        .map(|(line, i)| {
            if r.focus.contains(i) {
                line.patch_style(Style::default().add_modifier(Modifier::BOLD))
            } else {
                line
            }
        })
        .collect()
}

pub fn draw(f: &mut Frame, app: &App, l: &LessonState, area: Rect, t: Theme) {
    let lang = app.lang.as_str();
    let chosen = l.chosen_view();
    let rendered = l.views.iter().find(|r| r.view == chosen);
    // The title in the UI's language (the rendered view carries the English one).
    let title = crate::session::views::title_in(chosen, lang);
    let block = Block::bordered().title(Span::styled(format!(" {title} "), t.title()));
    let inner = block.inner(area);
    let [tab_area, body] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(inner);
    let height = body.height as usize;
    let mut left_out = 0;
    let lines: Vec<Line> = match rendered {
        Some(r) if r.lines.is_empty() => vec![Line::from(T::NOTHING_TO_SHOW.get(lang))],
        Some(r) if l.zoom.is_some() => styled(r, &(0..r.lines.len()).collect::<Vec<_>>(), t),
        Some(r) => {
            let (shown, out) = shown_lines(r, height);
            left_out = out;
            styled(r, &shown, t)
        }
        None if l.pids.is_empty() => vec![Line::from(Span::styled(
            T::NO_SANDBOX_YET.get(lang),
            t.dim(),
        ))],
        None => vec![Line::from(Span::styled(T::SAMPLING.get(lang), t.dim()))],
    };
    let hint = match l.zoom {
        // Scrolled sideways: say from which column, since the line starts are out of sight.
        Some((_, right)) if right > 0 => fill(T::ZOOMED_FROM_COLUMN.get(lang), &[&(right + 1)]),
        Some(_) => T::ZOOMED_KEYS.get(lang).to_string(),
        None if left_out > 0 => fill(T::LIVE_MORE_ROWS.get(lang), &[&left_out]),
        None => T::LIVE_SWITCH.get(lang).to_string(),
    };
    let block = block.title_bottom(Line::from(Span::styled(hint, t.dim())).right_aligned());
    f.render_widget(block, area);
    f.render_widget(
        Paragraph::new(tab_row(l, lang, tab_area.width as usize, t)),
        tab_area,
    );
    // How far scrolling can go: the last line at the bottom, the longest at the right edge.
    let longest = lines.iter().map(Line::width).max().unwrap_or(0);
    let limit = (
        lines.len().saturating_sub(height),
        longest.saturating_sub(body.width as usize),
    );
    l.zoom_limit.set((
        limit.0.min(u16::MAX as usize) as u16,
        limit.1.min(u16::MAX as usize) as u16,
    ));
    let (down, right) = l.zoom.unwrap_or((0, 0));
    let down = if down == ZOOM_AT_FOCUS {
        zoom_start(rendered)
    } else {
        down
    };
    let shown = (
        down.min(l.zoom_limit.get().0),
        right.min(l.zoom_limit.get().1),
    );
    l.zoom_shown.set(shown);
    f.render_widget(Paragraph::new(lines).scroll(shown), body);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(lines: usize, header: usize, focus: &[usize]) -> RenderedView {
        RenderedView {
            view: View::Status,
            title: String::new(),
            lines: (0..lines).map(|i| i.to_string()).collect(),
            header,
            focus: focus.to_vec(),
        }
    }

    #[test]
    fn a_cut_view_keeps_its_headings_and_the_lines_the_step_is_about() {
        assert_eq!(shown_lines(&view(3, 1, &[2]), 5), (vec![0, 1, 2], 0));
        // The lines just above the focused ones come next.
        assert_eq!(
            shown_lines(&view(20, 1, &[11, 12]), 5),
            (vec![0, 9, 10, 11, 12], 15)
        );
        assert_eq!(shown_lines(&view(20, 0, &[]), 4), (vec![0, 1, 2, 3], 16));
        // More focused lines than room: the first ones.
        assert_eq!(
            shown_lines(&view(20, 0, &[5, 6, 7, 8]), 2),
            (vec![5, 6], 18)
        );
    }

    #[test]
    fn the_lines_above_a_focused_one_stay_in_its_section() {
        let mut r = view(8, 0, &[3, 6]);
        r.lines = [
            "── a ──",
            "x",
            "y",
            "LISTEN",
            "── b ──",
            "$ ss",
            "LISTEN",
            "z",
        ]
        .map(String::from)
        .to_vec();
        // Above 6: `$ ss` then b's heading; above 3: y, x, a's heading; never a's last line
        // for b.
        assert_eq!(shown_lines(&r, 4), (vec![2, 3, 5, 6], 4));
        assert_eq!(shown_lines(&r, 6), (vec![1, 2, 3, 4, 5, 6], 2));
    }

    #[test]
    fn the_tab_window_holds_the_chosen_tab() {
        let widths = [10; 12];
        // 11 columns a tab: 6 fit in 80 with the sign of the others.
        assert_eq!(tab_window(&widths, 0, 80), (0, 6));
        let (a, b) = tab_window(&widths, 9, 80);
        assert!(a <= 9 && 9 < b, "{a}..{b}");
        assert_eq!(tab_window(&widths, 11, 200), (0, 12));
        // Not even one fits: the chosen one alone.
        assert_eq!(tab_window(&widths, 4, 5), (4, 5));
    }
}
