//! Findings and where they are: a diagnostic names file, line and column, and since serde's
//! tree no longer knows positions once a lesson parsed, a finding is placed by looking up the
//! offending `key: value` in the source text.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
}

/// One finding, printed as `file:line:column: error: message`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub severity: Severity,
    pub message: String,
}

impl Diagnostic {
    pub fn whole_file(file: &str, message: String) -> Diagnostic {
        Diagnostic {
            file: file.to_string(),
            line: 1,
            column: 1,
            severity: Severity::Error,
            message,
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{}:{}:{}: {sev}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

/// Collects the findings of one validation, each placed at the value it is about.
pub(crate) struct Findings<'a> {
    pub(crate) file: &'a str,
    pub(crate) source: &'a str,
    /// The line of the step or check being validated: findings are searched from here on, so
    /// they point into the right step rather than at the first match in the file.
    pub(crate) from_line: usize,
    pub(crate) out: Vec<Diagnostic>,
}

impl Findings<'_> {
    /// Moves the search start to where `id: value` is, at or after the current start.
    pub(crate) fn enter(&mut self, id: &str) {
        if let Some((line, _)) = locate_from(self.source, self.from_line, "id", id) {
            self.from_line = line;
        }
    }

    pub(crate) fn at(&mut self, severity: Severity, key: &str, value: &str, message: String) {
        let (line, column) = locate_from(self.source, self.from_line, key, value)
            .or_else(|| {
                (!value.is_empty())
                    .then(|| locate_from(self.source, self.from_line, "", value))
                    .flatten()
            })
            .or_else(|| locate(self.source, key, value))
            .unwrap_or((1, 1));
        self.out.push(Diagnostic {
            file: self.file.to_string(),
            line,
            column,
            severity,
            message,
        });
    }

    pub(crate) fn error(&mut self, key: &str, value: &str, message: String) {
        self.at(Severity::Error, key, value, message);
    }
}

/// Where `key: value` first appears in the source (1-based line and column of the value), in
/// block (`key: value`) or flow (`{key: value}`) style, quoted or not.
pub fn locate(source: &str, key: &str, value: &str) -> Option<(usize, usize)> {
    locate_from(source, 1, key, value)
}

/// Like [`locate`], from line `from` (1-based) on. An empty key matches any key.
pub fn locate_from(source: &str, from: usize, key: &str, value: &str) -> Option<(usize, usize)> {
    for (i, line) in source.lines().enumerate().skip(from.saturating_sub(1)) {
        if key.is_empty() {
            if let Some(pos) = find_value(line, value) {
                return Some((i + 1, pos + 1));
            }
            continue;
        }
        let mut from = 0;
        while let Some(pos) = line[from..].find(key) {
            let start = from + pos;
            from = start + key.len();
            let before_ok = start == 0
                || !line[..start]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_');
            let rest = &line[start + key.len()..];
            let Some(after_colon) = rest.strip_prefix(':') else {
                continue;
            };
            let trimmed = after_colon.trim_start();
            let unquoted = trimmed.trim_start_matches(['"', '\'']);
            if before_ok && (value.is_empty() || unquoted.starts_with(value)) {
                let col = line.len() - unquoted.len() + 1;
                return Some((i + 1, col));
            }
        }
    }
    None
}

/// The byte offset of `value` standing alone after a `:` (a YAML value, not part of a word).
fn find_value(line: &str, value: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(pos) = line[from..].find(value) {
        let start = from + pos;
        let end = start + value.len();
        let before = line[..start].trim_end_matches(['"', '\'', ' ']);
        let after_ok = !line[end..]
            .chars()
            .next()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-');
        if before.ends_with(':') && after_ok {
            return Some(start);
        }
        from = end;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_finds_flow_and_block_values() {
        let src = "a: 1\nsteps:\n  - id: \"x\"\n    observe: {hostname: ghost}\n";
        assert_eq!(locate(src, "id", "x"), Some((3, 10)));
        assert_eq!(locate(src, "hostname", "ghost"), Some((4, 25)));
    }
}
