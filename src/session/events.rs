//! What a session reports while it plays a lesson. Every front end renders these and nothing
//! else; `--format json` prints them as they are, one per line.

use super::views::RenderedView;
use containerlab_trace::Record;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The machine cannot run the lesson; nothing was started.
    Refused {
        lesson: String,
        reasons: Vec<String>,
    },
    LessonStart {
        lesson: String,
        title: String,
        intro: String,
        steps: usize,
        lang: String,
    },
    StepStart {
        step: usize,
        id: String,
        title: String,
        text: String,
        command: Option<String>,
    },
    /// One action ran: the syscalls it made, and its error if it failed.
    Action {
        step: usize,
        action: String,
        process: String,
        trace: Vec<TraceCall>,
        error: Option<ActionError>,
        /// What a `run` that failed printed (its last lines), so the learner reads why.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        output: Vec<String>,
    },
    /// An exercise: its task, before the learner (or the headless runner) solves it.
    Exercise {
        step: usize,
        task: String,
        hints: Vec<String>,
    },
    /// The headless runner played an exercise's solution.
    Solution {
        step: usize,
        shell: String,
        trace: Vec<TraceCall>,
    },
    Views {
        step: usize,
        views: Vec<RenderedView>,
    },
    Check(CheckOutcome),
    StepEnd {
        step: usize,
        passed: bool,
    },
    /// A step was judged again after it ran (the learner acted, or asked for a re-check): its
    /// verdicts came as [`Event::Check`]s just before; `passed` when every one passed.
    Judged {
        step: usize,
        passed: bool,
    },
    LessonEnd {
        lesson: String,
        passed: bool,
        checks_passed: usize,
        checks_failed: usize,
    },
    Teardown {
        undone: usize,
        failures: Vec<String>,
    },
}

impl Event {
    /// The step an event is about, for those about one step.
    pub fn step(&self) -> Option<usize> {
        match self {
            Event::StepStart { step, .. }
            | Event::Action { step, .. }
            | Event::Exercise { step, .. }
            | Event::Solution { step, .. }
            | Event::Views { step, .. }
            | Event::StepEnd { step, .. }
            | Event::Judged { step, .. } => Some(*step),
            Event::Check(c) => Some(c.step),
            Event::Refused { .. }
            | Event::LessonStart { .. }
            | Event::LessonEnd { .. }
            | Event::Teardown { .. } => None,
        }
    }
}

/// One call of a trace as the events carry it: the call and the kernel's answer as the engine
/// recorded them (`{"call": "unshare(CLONE_NEWUTS)", "result": {"returned": "0"}}`, or
/// `"result": {"failed": {"errno": "EPERM", "message": "..."}}`), and the strace-style `line`
/// the text front ends print, so no reader has to format or parse one from the other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TraceCall {
    #[serde(flatten)]
    pub record: Record,
    pub line: String,
}

impl TraceCall {
    pub fn of(records: &[Record]) -> Vec<TraceCall> {
        records
            .iter()
            .map(|r| TraceCall {
                record: r.clone(),
                line: r.to_string(),
            })
            .collect()
    }
}

/// Why an action failed, with the errno explained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionError {
    pub errno: Option<String>,
    pub message: String,
    /// The likely cause and fix, when the lab knows one for this call and errno.
    pub explanation: Option<String>,
    /// True when the lesson expected this error (the failure is the point of the step).
    pub expected: bool,
}

impl ActionError {
    /// A failure the lab found before or around the kernel call (no errno).
    pub fn plain(message: impl Into<String>) -> ActionError {
        ActionError {
            errno: None,
            message: message.into(),
            explanation: None,
            expected: false,
        }
    }
}

/// One check's verdict, with what was seen next to what was expected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckOutcome {
    pub step: usize,
    pub step_id: String,
    pub id: String,
    pub claim: String,
    pub passed: bool,
    pub observed: String,
    pub expected: String,
    /// Why the claim should hold: shown when it does not.
    pub why: Option<String>,
    /// `before-solution` for an exercise's check made before its solution ran, when failing is
    /// what should happen.
    pub phase: Phase,
}

impl CheckOutcome {
    /// The observed value as lines, when it is a text of several (a ping's output, a web page):
    /// shown below the check rather than as one escaped string. `observed` itself (what JSON
    /// carries) is the text quoted and escaped, as every text value is; None for anything else.
    pub fn observed_lines(&self) -> Option<Vec<String>> {
        let text = unquote(&self.observed)?;
        let text = text.trim_end_matches('\n');
        if !text.contains('\n') {
            return None;
        }
        Some(text.lines().map(String::from).collect())
    }
}

/// The text of a string as Rust's `{:?}` writes it (`"a\nb"`), or None if it is not one.
fn unquote(quoted: &str) -> Option<String> {
    let inner = quoted.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next()? {
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            '0' => '\0',
            'u' => {
                let hex: String = chars.by_ref().skip(1).take_while(|&c| c != '}').collect();
                char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?
            }
            other => other,
        });
    }
    Some(out)
}

#[cfg(test)]
impl CheckOutcome {
    /// A verdict with nothing but its id, result and phase (what progress records).
    pub(crate) fn bare(id: &str, passed: bool, phase: Phase) -> CheckOutcome {
        CheckOutcome {
            step: 0,
            step_id: String::new(),
            id: id.into(),
            claim: String::new(),
            passed,
            observed: String::new(),
            expected: String::new(),
            why: None,
            phase,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Normal,
    BeforeSolution,
    AfterSolution,
}

/// Receives events as they happen.
pub trait Sink {
    fn emit(&mut self, event: &Event);

    /// Whether the player should render a step's views into an [`Event::Views`] (the TUI
    /// samples them on its own thread instead).
    fn wants_views(&self) -> bool {
        true
    }
}

/// Keeps every event; for tests and for front ends that render later.
#[derive(Default)]
pub struct Collect(pub Vec<Event>);

impl Sink for Collect {
    fn emit(&mut self, event: &Event) {
        self.0.push(event.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observed(value: &str) -> CheckOutcome {
        CheckOutcome {
            observed: value.into(),
            ..CheckOutcome::bare("c", true, Phase::Normal)
        }
    }

    #[test]
    fn a_text_of_several_lines_is_given_back_as_its_lines() {
        // As the verdict writes a text value: quoted, escaped (`Observed::text`).
        let ping =
            "PING 10.200.0.2 56(84) bytes of data.\n64 bytes from 10.200.0.2: \"ok\" \u{1b}\t\n";
        assert_eq!(
            observed(&format!("{ping:?}")).observed_lines(),
            Some(vec![
                "PING 10.200.0.2 56(84) bytes of data.".to_string(),
                "64 bytes from 10.200.0.2: \"ok\" \u{1b}\t".to_string(),
            ])
        );
        // One line (a trailing newline aside), a number, a list: stay on the check's line.
        assert_eq!(observed(&format!("{:?}", "lab\n")).observed_lines(), None);
        assert_eq!(observed("4026531838").observed_lines(), None);
        assert_eq!(observed("[\"a\\nb\", \"c\"]").observed_lines(), None);
    }
}
