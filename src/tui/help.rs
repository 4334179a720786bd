//! The `?` popup: the keys of the screen shown and the ones that work anywhere, in the learner's
//! language, descriptions wrapped under themselves.

use super::app::{App, Screen};
use super::text as T;
use super::ui::centered;
use super::widgets::Theme;
use super::width::pad_right;
use super::wrap::wrap;
use crate::i18n::Msg;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;

/// The keys, by section: a row with an empty key is a section heading.
pub const HELP: &[(&str, Msg)] = &[
    ("", T::H_PICKER),
    ("↑ ↓ / mouse wheel", T::H_CHOOSE),
    ("Enter, →", T::H_OPEN),
    ("/", T::H_FILTER),
    ("Ctrl-R", T::H_RESET_ONE),
    ("Ctrl-A", T::H_RESET_ALL),
    ("q, Esc", T::H_QUIT_EMPTY),
    ("", T::H_LESSON),
    ("Enter, →, Space", T::H_RUN),
    ("←, Backspace", T::H_BACK),
    ("g", T::H_GOTO),
    ("r", T::H_RESTART),
    ("j k ↑ ↓ PgUp PgDn", T::H_SCROLL),
    ("Tab, Shift-Tab, 0-9", T::H_VIEW),
    ("z", T::H_ZOOM),
    ("s", T::H_SHELL),
    ("Ctrl-G", T::H_SHELL_FOCUS),
    ("Z, v", T::H_SHELL_ZOOM),
    ("m", T::H_TARGET),
    ("c", T::H_CHECK),
    ("h", T::H_HINT),
    ("S", T::H_SOLUTION),
    ("q, Esc", T::H_LEAVE),
    ("", T::H_ANYWHERE),
    ("?", T::H_THIS_HELP),
    ("Ctrl-C", T::H_QUIT),
];

pub fn draw(f: &mut Frame, app: &App, area: Rect, t: Theme) {
    let lang = app.lang.as_str();
    // The current screen's keys and the global ones (all of them would not fit 24 lines).
    let section = match app.screen {
        Screen::Picker => T::H_PICKER.en,
        Screen::Lesson => T::H_LESSON.en,
    };
    // Two columns clear of the panes' borders on each side, so the popup's own border stands
    // apart from theirs.
    let w = 76.min(area.width.saturating_sub(4));
    // Descriptions wrap under themselves (a long Japanese one must not be cut off).
    let desc_w = (w as usize).saturating_sub(2 + 22);
    let mut lines: Vec<Line> = Vec::new();
    let mut show = false;
    for (k, d) in HELP {
        if k.is_empty() {
            show = d.en == section || d.en == T::H_ANYWHERE.en;
        }
        if !show {
            continue;
        }
        if k.is_empty() {
            lines.push(Line::from(Span::styled(d.get(lang), t.title())));
        } else {
            for (i, part) in wrap(d.get(lang), desc_w).into_iter().enumerate() {
                let key = if i == 0 { k } else { "" };
                lines.push(Line::from(vec![
                    Span::styled(format!("  {}", pad_right(key, 20)), t.command()),
                    Span::raw(part),
                ]));
            }
        }
    }
    lines.push(Line::from(Span::styled(T::HELP_CLOSE.get(lang), t.dim())));
    let h = (lines.len() as u16 + 2).min(area.height);
    let r = centered(area, w, h);
    // A blank column on each side, so no stray character of the panes sits beside the border.
    let margin = Rect {
        x: r.x.saturating_sub(1).max(area.x),
        width: (r.width + 2).min(area.width),
        ..r
    };
    f.render_widget(Clear, margin);
    f.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(Span::styled(
            format!(" {} ", T::KEYS_TITLE.get(lang)),
            t.title(),
        ))),
        r,
    );
}
