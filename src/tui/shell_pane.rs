//! Drawing the learner's shell: the screen its output made (a `vt100` screen, drawn by
//! `tui-term`) in a bordered pane whose title says where the shell is and which key moves the
//! keys between it and the lesson. The pane records the size it was drawn at; the pty follows.

use super::app::ShellState;
use super::text as T;
use super::widgets::Theme;
use crate::i18n::fill;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Block;
use ratatui::Frame;
use tui_term::widget::{Cursor, PseudoTerminal};

pub fn draw(f: &mut Frame, sh: &ShellState, lang: &str, area: Rect, t: Theme) {
    let inner = (area.height.saturating_sub(2), area.width.saturating_sub(2));
    sh.drawn_size.set((inner.0.max(1), inner.1.max(1)));
    let title = fill(T::SHELL_TITLE.get(lang), &[&sh.label]);
    let keys = if sh.focus {
        T::SHELL_TITLE_FOCUS.get(lang)
    } else {
        T::SHELL_TITLE_UNFOCUSED.get(lang)
    };
    // The pane with the keys stands out, so the learner knows where typing goes.
    let border = if sh.focus { t.title() } else { t.dim() };
    let block = Block::bordered()
        .border_style(border)
        .title(Span::styled(format!(" {title} "), t.title()))
        .title_bottom(Line::from(Span::styled(format!(" {keys} "), border)).right_aligned());
    let mut cursor = Cursor::default();
    if !sh.focus {
        cursor.hide();
    }
    f.render_widget(
        PseudoTerminal::new(sh.parser.screen())
            .block(block)
            .cursor(cursor),
        area,
    );
}
