//! Building blocks for the screens: styles that degrade without colour, text wrapping, and the
//! step pane's content as lines.

use super::app::{App, LessonState};
use super::text as T;
use super::width::{char_width, truncate, width as text_width};
use crate::i18n::{self, fill};
use crate::session::events::{CheckOutcome, Phase};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

/// Styles; all plain when colours are off (NO_COLOR, TERM=dumb): then only bold/reverse, which
/// any terminal shows.
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::default().fg(c)
        } else {
            Style::default()
        }
    }
    pub fn title(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
    pub fn ok(&self) -> Style {
        self.fg(Color::Green)
    }
    pub fn bad(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }
    pub fn dim(&self) -> Style {
        if self.color {
            Style::default().fg(Color::DarkGray)
        } else {
            Style::default()
        }
    }
    pub fn command(&self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }
    pub fn trace(&self) -> Style {
        self.fg(Color::Magenta)
    }
    pub fn mark(&self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }
    pub fn selected(&self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED)
    }
    pub fn bar(&self) -> Style {
        if self.color {
            Style::default().bg(Color::Blue).fg(Color::White)
        } else {
            Style::default().add_modifier(Modifier::REVERSED)
        }
    }
}

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
fn prose<'a>(text: &str, width: usize, style: Style) -> Vec<Line<'a>> {
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

fn wrapped<'a>(text: &str, width: usize, prefix: &str, style: Style) -> Vec<Line<'a>> {
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

/// One check as lines: ✓/✗ claim, and for a failure what was seen and why it should hold.
pub fn check_lines<'a>(c: &CheckOutcome, width: usize, t: Theme, lang: &str) -> Vec<Line<'a>> {
    let (mark, style) = match (c.passed, c.phase) {
        (true, _) => ("✓ ", t.ok()),
        (false, Phase::BeforeSolution) => ("○ ", t.dim()),
        (false, _) => ("✗ ", t.bad()),
    };
    // Output of several lines (a ping's, a web page) is shown as lines below, "↓" in its place.
    let below = c.observed_lines();
    let observed = if below.is_some() { "↓" } else { &c.observed };
    let claim = if c.passed {
        fill(T::CLAIM_OBSERVED.get(lang), &[&c.claim, &observed])
    } else {
        c.claim.clone()
    };
    let mut lines = wrapped(&claim, width, mark, style);
    if !c.passed {
        lines.extend(wrapped(
            &fill(T::OBSERVED_EXPECTED.get(lang), &[&observed, &c.expected]),
            width,
            "    ",
            Style::default(),
        ));
    }
    for l in below.iter().flat_map(|b| observed_shown(b, lang)) {
        lines.extend(wrapped(&l, width, "    │ ", t.dim()));
    }
    if !c.passed && c.phase != Phase::BeforeSolution {
        if let Some(why) = &c.why {
            let why = format!("{}: {why}", i18n::WHY.get(lang));
            lines.extend(wrapped(&why, width, "    ", t.dim()));
        }
    }
    lines
}

/// How many lines of a multi-line observed value the step pane shows (a web page can be long);
/// the rest is counted.
const OBSERVED_LINES: usize = 12;

/// The first lines of a multi-line observed value, and how many more there are.
fn observed_shown(lines: &[String], lang: &str) -> Vec<String> {
    let mut shown: Vec<String> = lines.iter().take(OBSERVED_LINES).cloned().collect();
    if lines.len() > OBSERVED_LINES {
        shown.push(fill(
            T::MORE_LINES.get(lang),
            &[&(lines.len() - OBSERVED_LINES)],
        ));
    }
    shown
}

/// The step pane's content: in the order a learner reads, the title and text, the command,
/// then the results and the checks.
pub struct StepLines<'a> {
    pub lines: Vec<Line<'a>>,
    /// The line shown first when the learner asks for the results (End, a check judged again):
    /// the `$ command` when short, else the first line of the results (or of the exercise).
    pub anchor: usize,
    /// The first line of the step's results, once it ran, and how many checks they hold: a pane
    /// that cuts them off says what is below.
    pub results_at: Option<usize>,
    /// Where the checks start, and how many there are.
    pub checks_at: Option<usize>,
    pub checks: usize,
}

/// The step pane's lines, wrapped to `width` (see [`StepLines`]).
pub fn step_lines<'a>(app: &App, l: &LessonState, width: usize) -> StepLines<'a> {
    let t = Theme { color: app.color };
    let lang = &app.lang;
    let step = &l.lesson.steps[l.cursor];
    let mut out: Vec<Line> = Vec::new();
    let blank = || Line::from("");
    if !l.refused.is_empty() {
        out.extend(wrapped(T::CANNOT_RUN_HERE.get(lang), width, "", t.bad()));
        for r in &l.refused {
            out.extend(wrapped(r, width, "  - ", t.bad()));
        }
        out.push(blank());
    }
    if let Some(e) = &l.error {
        out.extend(wrapped(&fill(T::ERROR.get(lang), &[e]), width, "", t.bad()));
        out.push(blank());
    }
    let words = l.texts.steps.get(l.cursor).cloned().unwrap_or_default();
    if l.cursor == 0 && l.ran(0).is_none() {
        out.extend(prose(&l.texts.intro, width, t.dim()));
        out.push(blank());
    }
    out.extend(wrapped(
        &fill(
            T::STEP_HEADING.get(lang),
            &[&(l.cursor + 1), &l.lesson.steps.len(), &words.title],
        ),
        width,
        "",
        t.title(),
    ));
    out.push(blank());
    // The session filled the placeholders (`{cgroup_file:oom_kill}` is memory.events on v2,
    // `{image_file:1}` is known once the layers are unpacked), as the headless output has them.
    out.extend(prose(&words.text, width, Style::default()));
    // Where the view starts once the step ran: at its `$ command` when that is short, so the
    // results follow it; past a long one, at the results, never in the middle of the command.
    let mut command_at = None;
    // An exercise's command is its answer: shown once solved, or once the solution is asked for.
    let answer_kept = step.exercise.is_some()
        && !l.solution_shown
        && !l.ran(l.cursor).is_some_and(|r| r.passed());
    if let Some(cmd) = words.command.as_ref().filter(|_| !answer_kept) {
        out.push(blank());
        let lines = wrapped(cmd, width, "$ ", t.command());
        if lines.len() <= 3 {
            command_at = Some(out.len());
        }
        out.extend(lines);
    }
    let result = l.ran(l.cursor);
    let mut anchor = None;
    if let Some(ex) = &step.exercise {
        out.push(blank());
        anchor = Some(out.len());
        // The session's words, placeholders filled like the step's text.
        out.extend(wrapped(
            words.task.as_deref().unwrap_or(ex.task.get(lang)),
            width,
            T::YOUR_TURN_PREFIX.get(lang),
            t.title(),
        ));
        let shown = l.hints.get(&l.cursor).copied().unwrap_or(0);
        for (i, h) in ex.hints.iter().take(shown).enumerate() {
            out.extend(wrapped(
                words.hints.get(i).map_or(h.get(lang), String::as_str),
                width,
                &fill(T::HINT_N.get(lang), &[&(i + 1)]),
                t.mark(),
            ));
        }
        if l.solution_shown {
            out.extend(wrapped(
                &fill(
                    T::IN_PROCESS.get(lang),
                    &[&ex.solution.shell, &ex.solution.process],
                ),
                width,
                T::SOLUTION_PREFIX.get(lang),
                t.command(),
            ));
            out.extend(wrapped(
                T::PRESS_S_AGAIN.get(lang),
                width,
                &" ".repeat(text_width(T::SOLUTION_PREFIX.get(lang))),
                t.dim(),
            ));
        }
        out.extend(wrapped(
            &fill(
                T::EXERCISE_KEYS.get(lang),
                &[&l.shell_target(), &shown, &ex.hints.len()],
            ),
            width,
            "",
            t.dim(),
        ));
    }
    out.push(blank());
    let anchor = command_at.or(anchor).unwrap_or(out.len());
    let results_at = result.map(|_| out.len());
    let mut checks_at = None;
    match result {
        None => {
            let msg = if l.busy.is_some() || !l.refused.is_empty() {
                ""
            } else {
                T::PRESS_ENTER.get(lang)
            };
            if !msg.is_empty() {
                out.extend(wrapped(msg, width, "▶ ", t.mark()));
            }
        }
        Some(r) => {
            if !r.actions.is_empty() {
                out.push(Line::from(Span::styled(T::SYSCALLS.get(lang), t.title())));
                for a in &r.actions {
                    out.extend(wrapped(
                        &fill(T::IN_PROCESS.get(lang), &[&a.action, &a.process]),
                        width,
                        "▸ ",
                        t.dim(),
                    ));
                    for tr in &a.trace {
                        out.extend(wrapped(tr, width, "  ", t.trace()));
                    }
                    if !a.output.is_empty() {
                        out.extend(wrapped(i18n::PROGRAM_SAID.get(lang), width, "  ", t.dim()));
                    }
                    for said in &a.output {
                        out.extend(wrapped(said, width, "  │ ", t.trace()));
                    }
                    if let Some(e) = &a.error {
                        let (p, s) = if e.expected {
                            (T::EXPECTED_ERROR.get(lang), t.ok())
                        } else {
                            ("  ✗ ", t.bad())
                        };
                        out.extend(wrapped(&e.message, width, p, s));
                        if let Some(x) = &e.explanation {
                            out.extend(wrapped(x, width, "    ", t.dim()));
                        }
                    }
                }
                out.push(blank());
            }
            if let Some(run) = &r.solution {
                out.push(Line::from(Span::styled(
                    T::SOLUTION_RAN.get(lang),
                    t.title(),
                )));
                out.extend(wrapped(&run.shell, width, "$ ", t.command()));
                for tr in &run.trace {
                    out.extend(wrapped(tr, width, "  ", t.trace()));
                }
                out.push(blank());
            }
            if !r.checks.is_empty() {
                checks_at = Some(out.len());
                let passed = r.checks.iter().filter(|c| c.passed).count();
                out.push(Line::from(Span::styled(
                    fill(T::CHECKS_PASSED.get(lang), &[&passed, &r.checks.len()]),
                    t.title(),
                )));
                for c in &r.checks {
                    out.extend(check_lines(c, width, t, lang));
                }
                out.push(blank());
            }
            let exercise_open = step.exercise.is_some() && !r.passed();
            if exercise_open {
                out.extend(wrapped(T::EXERCISE_OPEN.get(lang), width, "▶ ", t.mark()));
            } else if r.broken {
                out.extend(wrapped(T::BROKEN.get(lang), width, "", t.bad()));
            } else if l.cursor + 1 < l.lesson.steps.len() {
                out.extend(wrapped(T::NEXT_STEP.get(lang), width, "▶ ", t.mark()));
            } else {
                if let Some(outro) = &l.lesson.outro {
                    out.extend(wrapped(outro.get(lang), width, "", t.dim()));
                    out.push(blank());
                }
                out.extend(wrapped(T::END_OF_LESSON.get(lang), width, "▶ ", t.mark()));
            }
        }
    }
    StepLines {
        lines: out,
        anchor,
        results_at,
        checks_at,
        checks: result.map_or(0, |r| r.checks.len()),
    }
}

/// A view's lines; lines starting with `*` (the lesson's own namespaces) highlighted.
pub fn view_lines<'a>(lines: &[String], t: Theme) -> Vec<Line<'a>> {
    lines
        .iter()
        .map(|l| {
            if l.starts_with('*') {
                Line::from(Span::styled(l.clone(), t.mark()))
            } else if l.starts_with("──") {
                Line::from(Span::styled(l.clone(), t.title()))
            } else {
                Line::from(l.clone())
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{step_lines, wrap, StepLines};
    use crate::lesson::load::catalog;
    use crate::progress::Progress;
    use crate::session::player::StepResult;
    use crate::tui::app::App;

    /// After a step ran, the pane starts at its `$ command` when it is short, and past it (at the
    /// results) when it is long: never in the middle of a wrapped command.
    #[test]
    fn a_run_step_scrolls_to_its_command_or_past_it() {
        let lessons = catalog(&[])
            .0
            .into_iter()
            .map(|l| l.lesson)
            .filter(|l| l.id == "container")
            .collect();
        let mut app = App::new(lessons, "en", Progress::default(), false);
        app.open(0);
        let steps = app.lessons[0].steps.len();
        let (mut short, mut long) = (0, 0);
        for step in 0..steps {
            let l = app.lesson.as_mut().unwrap();
            l.cursor = step;
            l.done = step + 1;
            l.results.insert(step, StepResult::default());
            let l = app.lesson.as_ref().unwrap();
            let StepLines { lines, anchor, .. } = step_lines(&app, l, 78);
            let text: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
            if text[anchor].starts_with("$ ") {
                short += 1;
            } else {
                // Past the command: a blank line, then the results.
                assert!(text[anchor - 1].is_empty(), "step {step}: {text:#?}");
                assert!(!text[anchor].starts_with("  "), "step {step}: {text:#?}");
                long += 1;
            }
        }
        assert!(short > 0 && long > 0, "{short} short, {long} long");
    }

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
