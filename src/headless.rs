//! Headless front end: renders session events as text for a terminal or a CI log, as JSON lines
//! for machines, or as a JUnit XML report (one test case per check) that CI systems display.

use crate::session::events::{Event, Phase, Sink};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use std::io::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Junit,
}

/// Human-readable text, as the TUI would show it, one step after another.
pub struct TextSink<W: Write> {
    out: W,
    steps: usize,
}

impl<W: Write> TextSink<W> {
    pub fn new(out: W) -> Self {
        TextSink { out, steps: 0 }
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
        let o = &mut self.out;
        let _ = match event {
            Event::Refused { lesson, reasons } => writeln!(
                o,
                "containerlab: cannot run lesson {lesson} on this machine:\n{}",
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
                writeln!(o, "━━ {lesson}: {title} ━━\n{}\n", indent(intro, "  "))
            }
            Event::StepStart {
                step,
                title,
                text,
                command,
                ..
            } => {
                let _ = writeln!(
                    o,
                    "\n[{}/{}] {title}\n{}",
                    step + 1,
                    self.steps,
                    indent(text, "  ")
                );
                match command {
                    Some(c) => writeln!(o, "\n  $ {c}"),
                    None => Ok(()),
                }
            }
            Event::Action {
                process,
                trace,
                error,
                ..
            } => {
                for line in trace {
                    let _ = writeln!(o, "  │ [{process}] {line}");
                }
                match error {
                    Some(e) if e.expected => {
                        writeln!(o, "  │ (this failure is the point: {})", e.message)
                    }
                    Some(e) => {
                        let _ = writeln!(o, "  ✗ failed: {}", e.message);
                        match &e.explanation {
                            Some(x) => writeln!(o, "    why: {x}"),
                            None => Ok(()),
                        }
                    }
                    None => Ok(()),
                }
            }
            Event::Exercise { task, hints, .. } => {
                let _ = writeln!(o, "\n  Exercise: {task}");
                writeln!(o, "{}", indent(&hints.join("\n"), "    hint: "))
            }
            Event::Solution { shell, trace, .. } => {
                let _ = writeln!(o, "  solution: $ {shell}");
                writeln!(o, "{}", indent(&trace.join("\n"), "  │ "))
            }
            Event::Views { views, .. } => {
                for v in views {
                    let _ = writeln!(o, "\n  ┌ {}", v.title);
                    let _ = writeln!(o, "{}", indent(&v.lines.join("\n"), "  │ "));
                }
                Ok(())
            }
            Event::Check(c) => match (c.phase, c.passed) {
                (Phase::BeforeSolution, true) => writeln!(
                    o,
                    "  · before the solution: {} (already true: {})",
                    c.claim, c.observed
                ),
                (Phase::BeforeSolution, false) => writeln!(
                    o,
                    "  · before the solution: not yet: {} (observed {})",
                    c.claim, c.observed
                ),
                (_, true) => writeln!(
                    o,
                    "  ✓ {}  [observed {} {}]",
                    c.claim, c.observed, c.expected
                ),
                (_, false) => {
                    let _ = writeln!(
                        o,
                        "  ✗ {}\n      observed: {}\n      expected: {}",
                        c.claim, c.observed, c.expected
                    );
                    match &c.why {
                        Some(w) => writeln!(o, "      why: {w}"),
                        None => Ok(()),
                    }
                }
            },
            Event::StepEnd { .. } => Ok(()),
            Event::LessonEnd {
                lesson,
                passed,
                checks_passed,
                checks_failed,
            } => writeln!(
                o,
                "\n{} {lesson}: {checks_passed} checks passed, {checks_failed} failed",
                if *passed { "✓" } else { "✗" }
            ),
            Event::Teardown { undone, failures } => {
                let _ = writeln!(o, "  teardown: {undone} objects removed");
                writeln!(
                    o,
                    "{}",
                    indent(&failures.join("\n"), "  ✗ teardown failed: ")
                )
            }
        };
        let _ = o.flush();
    }
}

/// One JSON object per event, one per line, flushed as it happens.
pub struct JsonSink<W: Write>(pub W);

impl<W: Write> Sink for JsonSink<W> {
    fn emit(&mut self, event: &Event) {
        if let Ok(line) = serde_json::to_string(event) {
            let _ = writeln!(self.0, "{line}");
            let _ = self.0.flush();
        }
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
