//! Headless front end: renders session events as text for a terminal or a CI log, as JSON lines
//! for machines, or as a JUnit XML report (one test case per check) that CI systems display.

use crate::i18n::{self, fill};
use crate::session::events::{Event, Phase, Sink};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use std::io::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Junit,
}

/// Human-readable text, as the TUI would show it, one step after another, in the learner's
/// language (the lab's own words from [`i18n`], the lesson's from the lesson).
pub struct TextSink<W: Write> {
    out: W,
    steps: usize,
    lang: String,
}

impl<W: Write> TextSink<W> {
    pub fn new(out: W, lang: &str) -> Self {
        TextSink {
            out,
            steps: 0,
            lang: lang.to_string(),
        }
    }
}

fn indent(text: &str, prefix: &str) -> String {
    text.lines()
        .map(|l| format!("{prefix}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl<W: Write> Sink for TextSink<W> {
    fn emit(&mut self, event: &Event) {
        let l = self.lang.clone();
        let l = l.as_str();
        let text = match event {
            Event::Refused { lesson, reasons } => format!(
                "containerlab: {}\n{}",
                fill(i18n::CANNOT_RUN.get(l), &[lesson]),
                indent(&reasons.join("\n"), "  - ")
            ),
            Event::LessonStart {
                lesson,
                title,
                intro,
                steps,
                ..
            } => {
                self.steps = *steps;
                format!("━━ {lesson}: {title} ━━\n{}\n", indent(intro, "  "))
            }
            Event::StepStart {
                step,
                title,
                text,
                command,
                ..
            } => {
                let mut t = format!(
                    "\n[{}/{}] {title}\n{}",
                    step + 1,
                    self.steps,
                    indent(text, "  ")
                );
                if let Some(c) = command {
                    t.push_str(&format!("\n\n  $ {c}"));
                }
                t
            }
            Event::Action {
                process,
                trace,
                error,
                output,
                ..
            } => {
                let mut lines: Vec<String> = trace
                    .iter()
                    .map(|t| format!("  │ [{process}] {}", t.line))
                    .collect();
                if !output.is_empty() {
                    lines.push(format!("  │ [{process}] {}", i18n::PROGRAM_SAID.get(l)));
                    lines.extend(output.iter().map(|o| format!("  │   {o}")));
                }
                match error {
                    Some(e) if e.expected => lines.push(format!(
                        "  │ ({}: {})",
                        i18n::EXPECTED_FAILURE.get(l),
                        e.message
                    )),
                    Some(e) => {
                        lines.push(format!("  ✗ {}: {}", i18n::FAILED.get(l), e.message));
                        if let Some(x) = &e.explanation {
                            lines.push(format!("    {}: {x}", i18n::WHY.get(l)));
                        }
                    }
                    None => {}
                }
                lines.join("\n")
            }
            Event::Exercise { task, hints, .. } => {
                let prefix = format!("    {}: ", i18n::HINT.get(l));
                format!(
                    "\n  {}: {task}\n{}",
                    i18n::EXERCISE.get(l),
                    indent(&hints.join("\n"), &prefix)
                )
            }
            Event::Solution { shell, trace, .. } => format!(
                "  {}: $ {shell}\n{}",
                i18n::SOLUTION.get(l),
                indent(
                    &trace
                        .iter()
                        .map(|t| t.line.as_str())
                        .collect::<Vec<_>>()
                        .join("\n"),
                    "  │ "
                )
            ),
            Event::Views { views, .. } => views
                .iter()
                .map(|v| {
                    format!(
                        "\n  ┌ {}\n{}",
                        crate::session::views::title_in(v.view, l),
                        indent(&v.lines.join("\n"), "  │ ")
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"),
            Event::Check(c) => check_text(c, l),
            Event::StepEnd { .. } | Event::Judged { .. } => return,
            Event::LessonEnd {
                lesson,
                passed,
                checks_passed,
                checks_failed,
            } => format!(
                "\n{} {lesson}: {}",
                if *passed { "✓" } else { "✗" },
                fill(i18n::SUMMARY.get(l), &[checks_passed, checks_failed])
            ),
            Event::Teardown { undone, failures } => {
                let prefix = format!("  ✗ {}: ", i18n::TEARDOWN_FAILED.get(l));
                let mut t = format!("  {}", fill(i18n::TEARDOWN.get(l), &[undone]));
                if !failures.is_empty() {
                    t.push_str(&format!("\n{}", indent(&failures.join("\n"), &prefix)));
                }
                t
            }
        };
        let _ = writeln!(self.out, "{text}");
        let _ = self.out.flush();
    }
}

/// A check's verdict: ✓ with what was seen, or ✗ with seen, expected and why.
fn check_text(c: &crate::session::events::CheckOutcome, l: &str) -> String {
    let (obs, exp, before) = (
        i18n::OBSERVED.get(l),
        i18n::EXPECTED.get(l),
        i18n::BEFORE_SOLUTION.get(l),
    );
    // Output of several lines (a ping's, a web page) follows the verdict as lines, "↓" in its
    // place; the JSON stream keeps the value as it is.
    let below = c.observed_lines();
    let observed = if below.is_some() { "↓" } else { &c.observed };
    let block: String = below
        .iter()
        .flatten()
        .map(|line| format!("\n      │ {line}"))
        .collect();
    let mut text = match (c.phase, c.passed) {
        (Phase::BeforeSolution, true) => format!(
            "  · {before}: {} ({}: {observed}){block}",
            c.claim,
            i18n::ALREADY_TRUE.get(l),
        ),
        (Phase::BeforeSolution, false) => format!(
            "  · {before}: {}: {} ({obs} {observed}){block}",
            i18n::NOT_YET.get(l),
            c.claim,
        ),
        (_, true) => format!("  ✓ {}  [{obs} {observed} {}]{block}", c.claim, c.expected),
        (_, false) => format!(
            "  ✗ {}\n      {obs}: {observed}{block}\n      {exp}: {}",
            c.claim, c.expected
        ),
    };
    if let (Phase::Normal | Phase::AfterSolution, false, Some(w)) = (c.phase, c.passed, &c.why) {
        text.push_str(&format!("\n      {}: {w}", i18n::WHY.get(l)));
    }
    text
}

/// The version of the JSON event stream's format (docs/events.md): raised when a field is
/// removed or changes meaning, not when one is added.
pub const EVENTS_VERSION: u32 = 1;

/// One JSON object per event, one per line, flushed as it happens. The first line is a `stream`
/// event with the format's version, so a reader can refuse a stream it does not know.
pub struct JsonSink<W: Write> {
    out: W,
    started: bool,
}

impl<W: Write> JsonSink<W> {
    pub fn new(out: W) -> Self {
        JsonSink {
            out,
            started: false,
        }
    }
}

impl<W: Write> Sink for JsonSink<W> {
    fn emit(&mut self, event: &Event) {
        if !self.started {
            self.started = true;
            let head = serde_json::json!({
                "event": "stream",
                "version": EVENTS_VERSION,
                "containerlab": env!("CARGO_PKG_VERSION"),
            });
            let _ = writeln!(self.out, "{head}");
        }
        if let Ok(line) = serde_json::to_string(event) {
            let _ = writeln!(self.out, "{line}");
            let _ = self.out.flush();
        }
    }
}

/// A report file's writer that notes a failed write (a full disk, a closed pipe), which the
/// sinks cannot return mid-run, so the run can end with a non-zero exit code.
pub struct Noticed<W: Write> {
    inner: W,
    failed: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl<W: Write> Noticed<W> {
    pub fn new(inner: W, failed: std::sync::Arc<std::sync::atomic::AtomicBool>) -> Self {
        Noticed { inner, failed }
    }

    fn note<T>(&self, r: std::io::Result<T>) -> std::io::Result<T> {
        if r.is_err() {
            self.failed
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
        r
    }
}

impl<W: Write> Write for Noticed<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let r = self.inner.write(buf);
        self.note(r)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let r = self.inner.flush();
        self.note(r)
    }
}

/// Collects a JUnit report: a test suite per lesson, a test case per check; an action that
/// failed unexpectedly and a lesson refused by the machine are test cases too.
pub struct JunitSink {
    report: Report,
    suite: Option<TestSuite>,
}

impl Default for JunitSink {
    fn default() -> Self {
        JunitSink {
            report: Report::new("containerlab"),
            suite: None,
        }
    }
}

impl JunitSink {
    fn suite(&mut self, name: &str) -> &mut TestSuite {
        self.suite
            .get_or_insert_with(|| TestSuite::new(name.to_string()))
    }

    fn close_suite(&mut self) {
        if let Some(s) = self.suite.take() {
            self.report.add_test_suite(s);
        }
    }

    /// The XML document.
    pub fn finish(mut self) -> String {
        self.close_suite();
        self.report.to_string().unwrap_or_default()
    }
}

fn failure(message: String, description: String) -> TestCaseStatus {
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
    status.set_message(message).set_description(description);
    status
}

impl Sink for JunitSink {
    fn emit(&mut self, event: &Event) {
        match event {
            Event::LessonStart { lesson, .. } => {
                self.close_suite();
                self.suite(lesson);
            }
            Event::Refused { lesson, reasons } => {
                self.close_suite();
                let mut case =
                    TestCase::new("environment", failure("refused".into(), reasons.join("\n")));
                case.set_classname(lesson.clone());
                self.suite(lesson).add_test_case(case);
                self.close_suite();
            }
            Event::Check(c) if c.phase != Phase::BeforeSolution => {
                let status = if c.passed {
                    TestCaseStatus::success()
                } else {
                    failure(
                        format!("observed {}, expected {}", c.observed, c.expected),
                        c.why.clone().unwrap_or_default(),
                    )
                };
                let name = self
                    .suite
                    .as_ref()
                    .map(|s| s.name.to_string())
                    .unwrap_or_default();
                let mut case =
                    TestCase::new(format!("{}/{}: {}", c.step_id, c.id, c.claim), status);
                case.set_classname(name.clone());
                self.suite(&name).add_test_case(case);
            }
            Event::Action {
                step,
                action,
                error: Some(e),
                ..
            } if !e.expected => {
                let name = self
                    .suite
                    .as_ref()
                    .map(|s| s.name.to_string())
                    .unwrap_or_default();
                let mut case = TestCase::new(
                    format!("step {} action {action}", step + 1),
                    failure(e.message.clone(), e.explanation.clone().unwrap_or_default()),
                );
                case.set_classname(name.clone());
                self.suite(&name).add_test_case(case);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::events::CheckOutcome;

    #[test]
    fn output_of_several_lines_is_printed_as_lines() {
        let page = "<html>\n<p>hello from the box</p>\n</html>";
        let c = CheckOutcome {
            claim: "the page is served".into(),
            observed: format!("{page:?}"),
            expected: "contains \"hello\"".into(),
            why: Some("the server listens".into()),
            ..CheckOutcome::bare("c", false, Phase::Normal)
        };
        assert_eq!(
            check_text(&c, "en"),
            "  ✗ the page is served\n      observed: ↓\n      │ <html>\n      │ <p>hello from \
             the box</p>\n      │ </html>\n      expected: contains \"hello\"\n      why: the \
             server listens"
        );
        let passed = CheckOutcome { passed: true, ..c };
        assert!(check_text(&passed, "en").starts_with(
            "  ✓ the page is served  [observed ↓ contains \"hello\"]\n      │ <html>\n"
        ));
    }
}
