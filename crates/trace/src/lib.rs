//! The syscall trace.
//!
//! Every kernel call the lab makes on a learner's behalf is written down here at the moment it
//! returns: the call as `strace` would print it (`unshare(CLONE_NEWUTS)`), and what the kernel
//! answered (`= 0`, or `= -1 EPERM (Operation not permitted)`). The learner is shown this record,
//! never a hand-written list, so what the screen says ran is exactly what ran.

use nix::errno::Errno;
use serde::{Deserialize, Serialize};
use std::fmt;

/// One call and the kernel's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The call as strace prints it, e.g. `sethostname("lab", 3)`.
    pub call: String,
    /// `Ok(text)` is the return value as shown after `=`; `Err` holds the errno's name.
    pub result: Outcome,
}

/// What the kernel answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The call returned this value.
    Returned(String),
    /// The call failed with this errno (its symbolic name, e.g. `EPERM`).
    Failed { errno: String, message: String },
}

impl Record {
    /// The errno this call failed with, if it failed.
    pub fn errno(&self) -> Option<&str> {
        match &self.result {
            Outcome::Failed { errno, .. } => Some(errno),
            Outcome::Returned(_) => None,
        }
    }
}

impl fmt::Display for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.result {
            Outcome::Returned(v) => write!(f, "{} = {}", self.call, v),
            Outcome::Failed { errno, message } => {
                write!(f, "{} = -1 {} ({})", self.call, errno, message)
            }
        }
    }
}

/// The calls of one step, in the order they were made.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trace {
    pub records: Vec<Record>,
}

impl Trace {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `call` with the outcome of `result`, showing a success as `0`, and hands the result
    /// back so a caller can write `trace.record("unshare(...)", unshare(flags))?`.
    pub fn record<T>(&mut self, call: impl Into<String>, result: nix::Result<T>) -> nix::Result<T> {
        self.record_with(call, result, |_| "0".to_string())
    }

    /// Like [`Trace::record`], with the return value shown by `show` (a pid, a byte count, an fd).
    pub fn record_with<T>(
        &mut self,
        call: impl Into<String>,
        result: nix::Result<T>,
        show: impl FnOnce(&T) -> String,
    ) -> nix::Result<T> {
        let outcome = match &result {
            Ok(v) => Outcome::Returned(show(v)),
            Err(e) => failed(*e),
        };
        self.records.push(Record {
            call: call.into(),
            result: outcome,
        });
        result
    }

    /// Records a call made through `std` (file writes, mkdir), whose errors are `io::Error`s.
    pub fn record_io<T>(
        &mut self,
        call: impl Into<String>,
        result: std::io::Result<T>,
        show: impl FnOnce(&T) -> String,
    ) -> std::io::Result<T> {
        let outcome = match &result {
            Ok(v) => Outcome::Returned(show(v)),
            Err(e) => match e.raw_os_error() {
                Some(code) => failed(Errno::from_raw(code)),
                None => Outcome::Failed {
                    errno: "EIO".into(),
                    message: e.to_string(),
                },
            },
        };
        self.records.push(Record {
            call: call.into(),
            result: outcome,
        });
        result
    }

    /// Appends another trace's records (a child process's calls, say) after this one's.
    pub fn extend(&mut self, other: Trace) {
        self.records.extend(other.records);
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

fn failed(e: Errno) -> Outcome {
    Outcome::Failed {
        errno: errno_name(e),
        message: e.desc().to_string(),
    }
}

/// The symbolic name of an errno (`EPERM`), as strace and the man pages use it.
pub fn errno_name(e: Errno) -> String {
    // nix's Debug for Errno is exactly the C constant's name.
    format!("{e:?}")
}

/// Renders a string argument the way strace does: quoted, with escapes.
pub fn quoted(s: &str) -> String {
    format!("{s:?}")
}

/// Renders a bit set as `A|B|C` from the names of the flags that are set, or `0` when none are.
pub fn flag_names(bits: u64, names: &[(u64, &str)]) -> String {
    let mut parts: Vec<&str> = names
        .iter()
        .filter(|(bit, _)| *bit != 0 && bits & bit == *bit)
        .map(|(_, name)| *name)
        .collect();
    let known: u64 = names.iter().map(|(b, _)| *b).fold(0, |a, b| a | b);
    let rest = bits & !known;
    let rest_text;
    if rest != 0 {
        rest_text = format!("{rest:#x}");
        parts.push(&rest_text);
    }
    if parts.is_empty() {
        "0".into()
    } else {
        parts.join("|")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_and_failure_read_like_strace() {
        let mut t = Trace::new();
        let _ = t.record("unshare(CLONE_NEWUTS)", Ok(()));
        let _ = t.record::<()>("sethostname(\"lab\", 3)", Err(Errno::EPERM));
        assert_eq!(t.records[0].to_string(), "unshare(CLONE_NEWUTS) = 0");
        assert_eq!(
            t.records[1].to_string(),
            "sethostname(\"lab\", 3) = -1 EPERM (Operation not permitted)"
        );
        assert_eq!(t.records[1].errno(), Some("EPERM"));
    }

    #[test]
    fn io_errors_keep_their_errno() {
        let mut t = Trace::new();
        let e = std::io::Error::from_raw_os_error(libc_enoent());
        let _ = t.record_io::<()>("mkdir(\"/x\")", Err(e), |_| "0".into());
        assert_eq!(t.records[0].errno(), Some("ENOENT"));
    }

    fn libc_enoent() -> i32 {
        Errno::ENOENT as i32
    }

    #[test]
    fn flags_join_with_bars_and_show_unknown_bits() {
        let names = [(1, "A"), (2, "B"), (4, "C")];
        assert_eq!(flag_names(5, &names), "A|C");
        assert_eq!(flag_names(0, &names), "0");
        assert_eq!(flag_names(9, &names), "A|0x8");
    }
}
