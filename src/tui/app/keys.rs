//! The keys, as data: which key means what on which screen. The handlers act on [`Intent`]s and
//! never match raw key codes, so a key is changed (or documented) in one table.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    /// Leave the program (Ctrl-C anywhere).
    Quit,
    Help,
    // The lesson list.
    SelectUp,
    SelectDown,
    SelectFirst,
    SelectLast,
    Open,
    /// Backspace in the filter.
    FilterBack,
    /// Esc: clear the filter, or quit when it is empty.
    Escape,
    /// `/`: start typing a filter.
    Filter,
    ResetLesson,
    ResetAll,
    // The lesson screen.
    Close,
    Zoom,
    /// Run the step shown, or go on to the next one.
    Advance,
    Back,
    Goto,
    Restart,
    ScrollDown(u16),
    ScrollUp(u16),
    ScrollEnd,
    ScrollHome,
    NextView,
    PrevView,
    /// Pick the view tab with this index.
    View(usize),
    Hint,
    Solution,
    Recheck,
    NextShellTarget,
    Shell,
    /// Give the keys to the open shell (Ctrl-G; from the shell, Ctrl-G gives them back).
    FocusShell,
    /// The shell fills the lesson's area, or no longer.
    ZoomShell,
    /// On a narrow screen: show the shell or the live view in their shared pane.
    FlipPane,
    // The zoomed view only.
    ScrollRight,
    ScrollLeft,
}

/// One key and what it means.
pub struct Binding {
    code: KeyCode,
    ctrl: bool,
    intent: Intent,
}

const fn key(code: KeyCode, intent: Intent) -> Binding {
    Binding {
        code,
        ctrl: false,
        intent,
    }
}

const fn ctrl(c: char, intent: Intent) -> Binding {
    Binding {
        code: KeyCode::Char(c),
        ctrl: true,
        intent,
    }
}

const fn ch(c: char, intent: Intent) -> Binding {
    key(KeyCode::Char(c), intent)
}

/// Keys that mean the same everywhere, looked up first.
pub const GLOBAL: &[Binding] = &[ctrl('c', Intent::Quit)];

/// The lesson list, as every list a learner knows: `q` quits, `/` starts a filter.
pub const PICKER: &[Binding] = &[
    ch('q', Intent::Quit),
    ch('/', Intent::Filter),
    ctrl('r', Intent::ResetLesson),
    ctrl('a', Intent::ResetAll),
    ch('?', Intent::Help),
    key(KeyCode::Up, Intent::SelectUp),
    key(KeyCode::Down, Intent::SelectDown),
    key(KeyCode::Home, Intent::SelectFirst),
    key(KeyCode::End, Intent::SelectLast),
    key(KeyCode::Enter, Intent::Open),
    key(KeyCode::Right, Intent::Open),
    key(KeyCode::Backspace, Intent::FilterBack),
    key(KeyCode::Esc, Intent::Escape),
];

/// The lesson list while a filter is typed: printable keys type into it.
pub const FILTERING: &[Binding] = &[
    key(KeyCode::Up, Intent::SelectUp),
    key(KeyCode::Down, Intent::SelectDown),
    key(KeyCode::Enter, Intent::Open),
    key(KeyCode::Backspace, Intent::FilterBack),
    key(KeyCode::Esc, Intent::Escape),
];

/// The lesson screen.
pub const LESSON: &[Binding] = &[
    ch('q', Intent::Close),
    key(KeyCode::Esc, Intent::Close),
    ch('z', Intent::Zoom),
    ch('?', Intent::Help),
    key(KeyCode::Enter, Intent::Advance),
    key(KeyCode::Right, Intent::Advance),
    ch(' ', Intent::Advance),
    key(KeyCode::Left, Intent::Back),
    key(KeyCode::Backspace, Intent::Back),
    ch('g', Intent::Goto),
    ch('r', Intent::Restart),
    key(KeyCode::Down, Intent::ScrollDown(1)),
    ch('j', Intent::ScrollDown(1)),
    key(KeyCode::Up, Intent::ScrollUp(1)),
    ch('k', Intent::ScrollUp(1)),
    key(KeyCode::PageDown, Intent::ScrollDown(10)),
    key(KeyCode::PageUp, Intent::ScrollUp(10)),
    key(KeyCode::End, Intent::ScrollEnd),
    key(KeyCode::Home, Intent::ScrollHome),
    key(KeyCode::Tab, Intent::NextView),
    key(KeyCode::BackTab, Intent::PrevView),
    ch('1', Intent::View(0)),
    ch('2', Intent::View(1)),
    ch('3', Intent::View(2)),
    ch('4', Intent::View(3)),
    ch('5', Intent::View(4)),
    ch('6', Intent::View(5)),
    ch('7', Intent::View(6)),
    ch('8', Intent::View(7)),
    ch('9', Intent::View(8)),
    // The tenth view; the last ones are a Tab away.
    ch('0', Intent::View(9)),
    ch('h', Intent::Hint),
    ch('S', Intent::Solution),
    ch('c', Intent::Recheck),
    ch('m', Intent::NextShellTarget),
    ch('s', Intent::Shell),
    ctrl('g', Intent::FocusShell),
    ch('Z', Intent::ZoomShell),
    ch('v', Intent::FlipPane),
];

/// The zoomed view: the arrows move the view; keys not listed here act as on the lesson screen.
pub const ZOOM: &[Binding] = &[
    ch('z', Intent::Zoom),
    key(KeyCode::Esc, Intent::Zoom),
    key(KeyCode::Down, Intent::ScrollDown(1)),
    ch('j', Intent::ScrollDown(1)),
    key(KeyCode::Up, Intent::ScrollUp(1)),
    ch('k', Intent::ScrollUp(1)),
    key(KeyCode::PageDown, Intent::ScrollDown(10)),
    key(KeyCode::PageUp, Intent::ScrollUp(10)),
    key(KeyCode::Right, Intent::ScrollRight),
    key(KeyCode::Left, Intent::ScrollLeft),
    key(KeyCode::Home, Intent::ScrollHome),
];

/// What `k` means in `table`, if anything.
pub fn lookup(table: &[Binding], k: &KeyEvent) -> Option<Intent> {
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    table
        .iter()
        .find(|b| b.code == k.code && b.ctrl == ctrl)
        .map(|b| b.intent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_key_means_two_things_on_one_screen() {
        for table in [GLOBAL, PICKER, FILTERING, LESSON, ZOOM] {
            for (i, a) in table.iter().enumerate() {
                let twice = table[i + 1..]
                    .iter()
                    .any(|b| a.code == b.code && a.ctrl == b.ctrl);
                assert!(!twice, "{:?} (ctrl: {}) is bound twice", a.code, a.ctrl);
            }
        }
    }

    #[test]
    fn ctrl_keys_are_told_from_plain_ones() {
        let plain = KeyEvent::new(KeyCode::Char('r'), KeyModifiers::NONE);
        let with_ctrl = KeyEvent::new(KeyCode::Char('r'), KeyModifiers::CONTROL);
        assert_eq!(lookup(LESSON, &plain), Some(Intent::Restart));
        assert_eq!(lookup(PICKER, &with_ctrl), Some(Intent::ResetLesson));
        assert_eq!(lookup(PICKER, &plain), None);
    }
}
