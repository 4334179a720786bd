//! A container's log, the way Docker's default `json-file` log driver keeps it.
//!
//! A container's standard output and error are pipes, not a terminal. Whoever holds their read
//! ends (containerd-shim for Docker; here the agent that started the process, a journaled member
//! of the session) reads them and writes one JSON object per line to
//! `/var/lib/docker/containers/ID/ID-json.log`:
//!
//! ```text
//! {"log":"hello\n","stream":"stdout","time":"2026-11-30T06:40:00.123456789Z"}
//! ```
//!
//! `docker logs` reads the file back, printing each `log` to the stream it came from. The file
//! lives in the container's directory, so `docker rm` removes it with the container. Here that
//! directory is under the session's work directory, which teardown removes in any case.

use super::ops::OpError;
use super::reply::Value;
use containerlab_trace::{quoted, Outcome, Record, Trace};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The stream names Docker writes, by pipe index (0: stdout, 1: stderr).
const STREAMS: [&str; 2] = ["stdout", "stderr"];

/// Writes the lines of a running program's two pipes to its json-file log as they arrive.
pub struct Collector {
    path: PathBuf,
    file: File,
    /// Bytes of a line not yet ended by `\n`, per stream.
    partial: [Vec<u8>; 2],
    written: Vec<Record>,
    failed: Option<std::io::Error>,
}

/// `dir/NAME-json.log`, NAME being `dir`'s last component (Docker's container ID).
pub fn log_path(dir: &Path) -> PathBuf {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    dir.join(format!("{name}-json.log"))
}

/// One line of the log: `{"log":TEXT,"stream":STREAM,"time":NOW}` (serde_json writes the keys in
/// this order, as Docker does).
fn entry(stream: usize, text: &[u8]) -> String {
    let time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
    serde_json::json!({
        "log": String::from_utf8_lossy(text),
        "stream": STREAMS[stream],
        "time": time,
    })
    .to_string()
}

impl Collector {
    /// Makes the container's directory (`mkdir -p`) and opens its log for appending.
    pub fn create(dir: &Path, trace: &mut Trace) -> Result<Collector, OpError> {
        let shown = quoted(&dir.to_string_lossy());
        trace.record_io(
            format!("mkdir({shown}, 0755)"),
            std::fs::create_dir_all(dir),
            |_| "0".into(),
        )?;
        let path = log_path(dir);
        let file = trace.record_io(
            format!(
                "open({}, O_WRONLY|O_CREAT|O_APPEND, 0640)",
                quoted(&path.to_string_lossy())
            ),
            OpenOptions::new().create(true).append(true).open(&path),
            |_| "3".into(),
        )?;
        Ok(Collector {
            path,
            file,
            partial: [vec![], vec![]],
            written: vec![],
            failed: None,
        })
    }

    fn write_line(&mut self, stream: usize, text: &[u8]) {
        if self.failed.is_some() {
            return;
        }
        let mut line = entry(stream, text);
        line.push('\n');
        match self.file.write_all(line.as_bytes()) {
            Ok(()) => self.written.push(Record {
                call: format!("write(3, {}, {})", quoted(line.trim_end()), line.len()),
                result: Outcome::Returned(line.len().to_string()),
            }),
            Err(e) => self.failed = Some(e),
        }
    }

    /// Takes what a pipe delivered: every complete line is written at once, with its `\n`.
    pub fn feed(&mut self, stream: usize, bytes: &[u8]) {
        self.partial[stream].extend_from_slice(bytes);
        while let Some(end) = self.partial[stream].iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.partial[stream].drain(..=end).collect();
            self.write_line(stream, &line);
        }
    }

    /// Writes what is left of an unfinished last line (as Docker does, without a `\n`) and puts
    /// the collector's writes into the trace.
    pub fn finish(&mut self, trace: &mut Trace) -> Result<(), OpError> {
        for stream in 0..2 {
            let rest = std::mem::take(&mut self.partial[stream]);
            if !rest.is_empty() {
                self.write_line(stream, &rest);
            }
        }
        trace.records.append(&mut self.written);
        match self.failed.take() {
            None => Ok(()),
            Some(e) => {
                let call = format!("write({}, ...)", quoted(&self.path.to_string_lossy()));
                trace.record_io(call, Err::<(), _>(e), |_| String::new())?;
                Ok(())
            }
        }
    }
}

/// `rm -r PATH`: what `docker rm` does to the container's directory, its log with it.
pub fn remove_dir(path: &str, trace: &mut Trace) -> Result<Value, OpError> {
    trace.record_io(
        format!("rm -r {}  (unlinkat each entry, then rmdir)", quoted(path)),
        std::fs::remove_dir_all(path),
        |_| "0".into(),
    )?;
    Ok(Value::Done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_written_whole_in_arrival_order_with_their_stream() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("app");
        let mut trace = Trace::default();
        let mut c = Collector::create(&dir, &mut trace).unwrap();
        c.feed(0, b"out 1\nout ");
        c.feed(1, b"err 1\n");
        c.feed(0, b"2\nno newline");
        c.finish(&mut trace).unwrap();
        let text = std::fs::read_to_string(log_path(&dir)).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let got: Vec<(&str, &str)> = lines
            .iter()
            .map(|v| (v["stream"].as_str().unwrap(), v["log"].as_str().unwrap()))
            .collect();
        assert_eq!(
            got,
            [
                ("stdout", "out 1\n"),
                ("stderr", "err 1\n"),
                ("stdout", "out 2\n"),
                ("stdout", "no newline")
            ]
        );
        assert!(lines[0]["time"].as_str().unwrap().ends_with('Z'));
        assert!(text.starts_with("{\"log\":"), "{text}");
        remove_dir(&dir.to_string_lossy(), &mut trace).unwrap();
        assert!(!dir.exists());
    }
}
