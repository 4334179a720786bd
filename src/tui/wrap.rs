//! Text wrapped to a pane's width: display widths (a CJK character takes two columns), Japanese
//! broken between characters but never before closing punctuation, and lessons' `*emphasis*`.

use super::width::{char_width, truncate, width as text_width};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

/// Word-wraps `text` to `width` terminal columns; paragraphs (blank lines) kept, long words cut.
/// Widths are display widths (a CJK character takes two columns), and text without spaces
/// (Japanese) may break between any two wide characters, except before closing punctuation
/// (、。」) and after opening brackets (「（). A cut never splits a character.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(8);
    let mut out = Vec::new();
    // Reflow: lines of one paragraph are joined (lesson texts are hard-wrapped YAML blocks);
    // list items and indented lines keep their own line.
    let mut paras: Vec<String> = Vec::new();
    let mut joinable = false;
    for line in text.trim_end().split('\n') {
        let t = line.trim_start();
        let starts_block = line.starts_with(' ') || t.starts_with("- ") || t.starts_with("* ");
        if line.trim().is_empty() {
            paras.push(String::new());
            joinable = false;
        } else if joinable && !starts_block {
            let last = paras.last_mut().expect("joinable implies a paragraph");
            // Japanese lines join without a space (a hard-wrapped sentence goes on) when both
            // sides of the seam are wide characters, or after Japanese punctuation, which has
            // its own space built in (`。` + `` `docker` ``); `UTS` + `名前空間` keep theirs.
            let first = line.trim().chars().next();
            let end = last.chars().last();
            let wide_seam = end.is_some_and(|c| char_width(c) >= 2)
                && first.is_some_and(|c| char_width(c) >= 2)
                || end.is_some_and(|c| "。、」』）".contains(c));
            if !wide_seam {
                last.push(' ');
            }
            last.push_str(line.trim());
        } else {
            paras.push(line.trim_end().to_string());
            joinable = true;
        }
    }
    for para in &paras {
        if para.trim().is_empty() {
            out.push(String::new());
            continue;
        }
        // Indentation kept, but never more than half the width.
        let indent: String = para
            .chars()
            .take_while(|c| *c == ' ')
            .take(width / 2)
            .collect();
        let iw = indent.len();
        let avail = width - iw;
        let mut line = indent.clone();
        let mut line_w = iw;
        for word in para.split_whitespace() {
            for (k, piece) in pieces(word).into_iter().enumerate() {
                // Only a word's first piece is preceded by a space.
                let sep = usize::from(k == 0);
                let mut piece = piece;
                if line_w > iw && line_w + sep + text_width(piece) > width {
                    out.push(std::mem::replace(&mut line, indent.clone()));
                    line_w = iw;
                }
                while text_width(piece) > avail {
                    let head = truncate(piece, avail);
                    piece = &piece[head.len()..];
                    if line_w > iw {
                        out.push(std::mem::replace(&mut line, indent.clone()));
                        line_w = iw;
                    }
                    out.push(format!("{indent}{head}"));
                }
                if sep == 1 && line_w > iw {
                    line.push(' ');
                    line_w += 1;
                }
                line.push_str(piece);
                line_w += text_width(piece);
            }
        }
        out.push(line);
    }
    out
}

/// Characters a line should not start with (Japanese closing punctuation, small kana).
const NO_LINE_START: &str =
    "、。，．・：；？！ー」』）】〕〉》ぁぃぅぇぉっゃゅょァィゥェォッャュョ)]},.:;!?";
/// Characters a line should not end with (opening brackets).
const NO_LINE_END: &str = "「『（【〔〈《([{";

/// A space-free word split where a line may break: around every wide character.
fn pieces(word: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut prev_wide = false;
    let mut prev_open = false;
    for (i, c) in word.char_indices() {
        let wide = char_width(c) >= 2;
        if i > start && (wide || prev_wide) && !NO_LINE_START.contains(c) && !prev_open {
            out.push(&word[start..i]);
            start = i;
        }
        prev_wide = wide;
        prev_open = NO_LINE_END.contains(c);
    }
    out.push(&word[start..]);
    out
}

/// A lesson's prose, wrapped: `*word*` (the texts' plain-text emphasis, as headless output
/// shows it) is drawn in italics without its asterisks. An emphasis may run across a line
/// break. An asterisk inside a word or standing alone (`ls *`) is kept.
pub(super) fn prose<'a>(text: &str, width: usize, style: Style) -> Vec<Line<'a>> {
    let mut emphasis = false;
    let styled = |run: String, emphasis: bool| {
        let style = if emphasis {
            style.add_modifier(Modifier::ITALIC)
        } else {
            style
        };
        Span::styled(run, style)
    };
    wrap(text, width)
        .into_iter()
        .map(|line| {
            let chars: Vec<char> = line.chars().collect();
            let mut spans = Vec::new();
            let mut run = String::new();
            for (i, &c) in chars.iter().enumerate() {
                let before = i.checked_sub(1).map(|j| chars[j]);
                let after = chars.get(i + 1).copied();
                let word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
                let opens = !emphasis && word(after) && !word(before);
                let closes = emphasis && word(before) && !word(after);
                if c == '*' && (opens || closes) {
                    spans.push(styled(std::mem::take(&mut run), emphasis));
                    emphasis = !emphasis;
                } else {
                    run.push(c);
                }
            }
            spans.push(styled(run, emphasis));
            Line::from(spans)
        })
        .collect()
}

pub(super) fn wrapped<'a>(text: &str, width: usize, prefix: &str, style: Style) -> Vec<Line<'a>> {
    let inner = width.saturating_sub(text_width(prefix));
    wrap(text, inner)
        .into_iter()
        .enumerate()
        .map(|(i, l)| {
            let p = if i == 0 {
                prefix.to_string()
            } else {
                " ".repeat(text_width(prefix))
            };
            Line::from(Span::styled(format!("{p}{l}"), style))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn emphasis_is_drawn_in_italics_without_its_asterisks() {
        use ratatui::style::{Modifier, Style};
        let lines = super::prose(
            "a *copy* of it; `ls *` and 2*3 stay; *two\nlines* end",
            80,
            Style::default(),
        );
        assert_eq!(lines.len(), 1);
        let text: String = lines[0].spans.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(text, "a copy of it; `ls *` and 2*3 stay; two lines end");
        let italic: Vec<&str> = lines[0]
            .spans
            .iter()
            .filter(|s| s.style.add_modifier.contains(Modifier::ITALIC))
            .map(|s| s.content.as_ref())
            .collect();
        assert_eq!(italic, ["copy", "two lines"]);
        // Across a line break (the emphasis stays on) and in Japanese.
        let lines = super::prose("*コピー* として始まる", 80, Style::default());
        let text: String = lines[0].spans.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(text, "コピー として始まる");
    }

    #[test]
    fn wraps_words_and_keeps_paragraphs() {
        let w = wrap("one two three four\n\nfive", 9);
        assert_eq!(w, vec!["one two", "three", "four", "", "five"]);
        assert_eq!(wrap("a b\nc d", 20), vec!["a b c d"]);
        // Deep indentation in a narrow pane does not underflow.
        assert_eq!(wrap("                    abcdefghijkl", 8).len(), 3);
        assert_eq!(wrap("abcdefghijkl", 8), vec!["abcdefgh", "ijkl"]);
    }

    #[test]
    fn wraps_japanese_by_display_width() {
        // 12 columns hold 6 wide characters; lines break between them, never inside one, and
        // 。 does not start a line (す goes with it).
        let w = wrap("名前空間はプロセスの見え方を分けます。", 12);
        assert_eq!(
            w,
            vec!["名前空間はプ", "ロセスの見え", "方を分けま", "す。"]
        );
        for l in &w {
            assert!(crate::tui::width::width(l) <= 12);
        }
        // Closing punctuation stays on the line before; a hard-wrapped sentence joins without a
        // space, but a Latin word at the seam keeps it.
        assert_eq!(wrap("ホスト名を\n変える。", 40), vec!["ホスト名を変える。"]);
        assert_eq!(
            wrap("自分の UTS\n名前空間", 40),
            vec!["自分の UTS 名前空間"]
        );
        assert_eq!(wrap("abc、def", 40), vec!["abc、def"]);
        // Japanese punctuation carries its own space: no second one before a Latin word.
        assert_eq!(
            wrap(
                "ホスト名を変える。
`docker` も同じ",
                40
            ),
            vec!["ホスト名を変える。`docker` も同じ"]
        );
        // Mixed text: a Latin word is not split, wide characters break anywhere.
        assert_eq!(
            wrap("サンドボックスが sethostname(2) を呼ぶ", 20),
            vec!["サンドボックスが", "sethostname(2) を呼", "ぶ"]
        );
    }
}
