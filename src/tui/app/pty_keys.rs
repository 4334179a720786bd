//! Keys typed into the learner's shell, as the bytes a terminal sends for them (xterm's
//! sequences, which every shell's line editor reads), so the shell in the pane reads the same
//! input as in a terminal of its own.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// The bytes for `k`; `application_cursor` when the program in the shell asked for the
/// cursor keys' application mode (as `less` and `vi` do). None for keys a terminal sends
/// nothing for.
pub fn bytes(k: &KeyEvent, application_cursor: bool) -> Option<Vec<u8>> {
    let alt = k.modifiers.contains(KeyModifiers::ALT);
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    let cursor = |c: char| {
        let lead = if application_cursor { "\x1bO" } else { "\x1b[" };
        format!("{lead}{c}").into_bytes()
    };
    let mut out = match k.code {
        KeyCode::Char(c) if ctrl => vec![control(c)?],
        KeyCode::Char(c) => c.to_string().into_bytes(),
        KeyCode::Enter => vec![b'\r'],
        KeyCode::Tab => vec![b'\t'],
        KeyCode::BackTab => b"\x1b[Z".to_vec(),
        KeyCode::Backspace => vec![0x7f],
        KeyCode::Esc => vec![0x1b],
        KeyCode::Up => cursor('A'),
        KeyCode::Down => cursor('B'),
        KeyCode::Right => cursor('C'),
        KeyCode::Left => cursor('D'),
        KeyCode::Home => cursor('H'),
        KeyCode::End => cursor('F'),
        KeyCode::Insert => b"\x1b[2~".to_vec(),
        KeyCode::Delete => b"\x1b[3~".to_vec(),
        KeyCode::PageUp => b"\x1b[5~".to_vec(),
        KeyCode::PageDown => b"\x1b[6~".to_vec(),
        KeyCode::F(n) => function_key(n)?,
        _ => return None,
    };
    // Alt sends ESC first, as xterm does with metaSendsEscape.
    if alt {
        out.insert(0, 0x1b);
    }
    Some(out)
}

/// Ctrl with a letter (or one of `@[\]^_`, and space): the control character.
fn control(c: char) -> Option<u8> {
    match c.to_ascii_lowercase() {
        c @ 'a'..='z' => Some(c as u8 - b'a' + 1),
        ' ' | '@' | '2' => Some(0),
        '[' | '3' => Some(0x1b),
        '\\' | '4' => Some(0x1c),
        ']' | '5' => Some(0x1d),
        '^' | '6' => Some(0x1e),
        '_' | '7' | '-' => Some(0x1f),
        _ => None,
    }
}

fn function_key(n: u8) -> Option<Vec<u8>> {
    let seq = match n {
        1 => "\x1bOP",
        2 => "\x1bOQ",
        3 => "\x1bOR",
        4 => "\x1bOS",
        5 => "\x1b[15~",
        6 => "\x1b[17~",
        7 => "\x1b[18~",
        8 => "\x1b[19~",
        9 => "\x1b[20~",
        10 => "\x1b[21~",
        11 => "\x1b[23~",
        12 => "\x1b[24~",
        _ => return None,
    };
    Some(seq.as_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, modifiers: KeyModifiers) -> Option<Vec<u8>> {
        bytes(&KeyEvent::new(code, modifiers), false)
    }

    #[test]
    fn typing_a_command_sends_its_text_and_a_carriage_return() {
        let none = KeyModifiers::NONE;
        assert_eq!(key(KeyCode::Char('é'), none), Some("é".as_bytes().to_vec()));
        assert_eq!(key(KeyCode::Enter, none), Some(b"\r".to_vec()));
        assert_eq!(key(KeyCode::Backspace, none), Some(vec![0x7f]));
    }

    #[test]
    fn control_keys_send_control_characters() {
        let ctrl = KeyModifiers::CONTROL;
        assert_eq!(key(KeyCode::Char('c'), ctrl), Some(vec![3]));
        assert_eq!(key(KeyCode::Char('d'), ctrl), Some(vec![4]));
        assert_eq!(key(KeyCode::Char('L'), ctrl), Some(vec![12]));
        assert_eq!(key(KeyCode::Char('['), ctrl), Some(vec![0x1b]));
    }

    #[test]
    fn cursor_keys_follow_the_programs_mode() {
        let up = KeyEvent::new(KeyCode::Up, KeyModifiers::NONE);
        assert_eq!(bytes(&up, false), Some(b"\x1b[A".to_vec()));
        assert_eq!(bytes(&up, true), Some(b"\x1bOA".to_vec()));
        assert_eq!(
            key(KeyCode::Char('b'), KeyModifiers::ALT),
            Some(b"\x1bb".to_vec())
        );
    }
}
