//! Display widths for layout: a CJK character takes two terminal columns, so text is measured,
//! cut and padded by columns (unicode-width, as ratatui does), never by bytes or chars.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Columns `s` takes in the terminal.
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// Columns one character takes (control characters count as 0).
pub fn char_width(c: char) -> usize {
    UnicodeWidthChar::width(c).unwrap_or(0)
}

/// The longest prefix of `s` that fits in `cols` columns; never splits a character.
pub fn truncate(s: &str, cols: usize) -> &str {
    let mut used = 0;
    for (i, c) in s.char_indices() {
        let w = char_width(c);
        if used + w > cols {
            return &s[..i];
        }
        used += w;
    }
    s
}

/// `s` padded with spaces to exactly `cols` (left-aligned), like `{:<cols$}` but by columns;
/// when it is longer it is cut and ends in `…`, so a reader knows there is more. A wide
/// character that would straddle the edge becomes a space.
pub fn pad_to(s: &str, cols: usize) -> String {
    pad_right(&ellipsize(s, cols), cols)
}

/// `s` if it fits in `cols` columns, else cut to fit with a final `…`.
pub fn ellipsize(s: &str, cols: usize) -> String {
    if width(s) <= cols {
        return s.to_string();
    }
    if cols == 0 {
        return String::new();
    }
    // No space before the ellipsis: "of your…", not "of your …".
    format!("{}…", truncate(s, cols - 1).trim_end())
}

/// `s` right-aligned in `cols` columns, like `{:>cols$}` but by columns (never cut).
pub fn pad_left(s: &str, cols: usize) -> String {
    format!("{}{s}", " ".repeat(cols.saturating_sub(width(s))))
}

/// `s` padded to at least `cols` columns (never cut), like `{:<cols$}` but by columns.
pub fn pad_right(s: &str, cols: usize) -> String {
    format!("{s}{}", " ".repeat(cols.saturating_sub(width(s))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_cuts_and_pads_by_columns() {
        assert_eq!(width("名前空間"), 8);
        assert_eq!(width("uts"), 3);
        assert_eq!(truncate("名前空間", 5), "名前");
        assert_eq!(truncate("ab名前", 3), "ab");
        assert_eq!(pad_to("名前空間", 5), "名前…");
        assert_eq!(pad_to("名前空間", 6), "名前… ");
        assert_eq!(pad_to("名前空間", 8), "名前空間");
        assert_eq!(pad_to("abcdef", 4), "abc…");
        assert_eq!(pad_to("ab", 4), "ab  ");
        assert_eq!(ellipsize("名前空間", 5), "名前…");
        assert_eq!(ellipsize("ab", 4), "ab");
        assert_eq!(ellipsize("of your own", 9), "of your…");
        assert_eq!(pad_left("手順", 5), " 手順");
        assert_eq!(pad_right("手順", 5), "手順 ");
        assert_eq!(pad_right("手順数です", 5), "手順数です");
    }
}
