//! The few file operations that drive cgroups, each written into the trace.
//!
//! There is no cgroup system call: `mkdir` makes a cgroup, `write` to one of its files changes a
//! setting or moves a process, `rmdir` deletes it (only when it holds no processes and no child
//! cgroups). Every value must reach the kernel in a single `write()`, so it is never buffered.

use crate::error::{Error, Result};
use containerlab_trace::{quoted, Trace};
use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;

fn shown(p: &Path) -> String {
    quoted(&p.to_string_lossy())
}

/// `mkdir(path, 0755)`: on cgroupfs this creates the cgroup and its control files.
pub(crate) fn mkdir(path: &Path, trace: &mut Trace) -> io::Result<()> {
    let r = fs::DirBuilder::new().mode(0o755).create(path);
    trace.record_io(format!("mkdir({}, 0755)", shown(path)), r, |_| "0".into())
}

/// `rmdir(path)`: removes an empty cgroup.
pub(crate) fn rmdir(path: &Path, trace: &mut Trace) -> io::Result<()> {
    let r = fs::remove_dir(path);
    trace.record_io(format!("rmdir({})", shown(path)), r, |_| "0".into())
}

/// Writes `value` to a cgroup file in one `write()`, recorded as
/// `write("/sys/fs/cgroup/.../memory.max", "104857600") = 9`.
pub(crate) fn write(path: &Path, value: &str, trace: &mut Trace) -> Result<usize> {
    let r = (|| {
        // O_TRUNC is harmless on cgroupfs (like `echo 1 > file`) and right for a plain file.
        let mut f = fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(path)?;
        let n = f.write(value.as_bytes())?;
        if n != value.len() {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                format!("short write: {n} of {} bytes", value.len()),
            ));
        }
        Ok(n)
    })();
    trace
        .record_io(
            format!("write({}, {})", shown(path), quoted(value)),
            r,
            |n| n.to_string(),
        )
        .map_err(|e| Error::io("write", path, e))
}

/// Whether a file exists, checked with a recorded `stat()` so the learner sees the probe.
pub(crate) fn probe(path: &Path, trace: &mut Trace) -> bool {
    let r = nix::sys::stat::stat(path);
    trace
        .record(format!("stat({}, {{...}})", shown(path)), r)
        .is_ok()
}

pub(crate) fn read(path: &Path) -> Result<String> {
    fs::read_to_string(path).map_err(|e| Error::io("read", path, e))
}

pub(crate) fn parse_u64(path: &Path, text: &str) -> Result<u64> {
    text.trim().parse().map_err(|_| Error::Parse {
        path: path.into(),
        content: text.into(),
    })
}

pub(crate) fn read_u64(path: &Path) -> Result<u64> {
    parse_u64(path, &read(path)?)
}

/// A limit file: `max` (v2) or a huge number (v1's "unlimited") is `None`.
pub(crate) fn read_limit(path: &Path) -> Result<Option<u64>> {
    let text = read(path)?;
    parse_limit(path, &text)
}

pub(crate) fn parse_limit(path: &Path, text: &str) -> Result<Option<u64>> {
    let t = text.trim();
    if t == "max" {
        return Ok(None);
    }
    // v1 shows "no limit" as the largest page-aligned signed 64-bit value (9223372036854771712).
    let v = parse_u64(path, t)?;
    Ok((v < 1 << 62).then_some(v))
}

/// Parses a flat-keyed file (`key value` per line) such as `memory.events` or `cpu.stat`.
pub(crate) fn parse_keyed(path: &Path, text: &str) -> Result<BTreeMap<String, u64>> {
    let mut out = BTreeMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut parts = line.split_whitespace();
        let (Some(k), Some(v), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(Error::Parse {
                path: path.into(),
                content: text.into(),
            });
        };
        out.insert(k.to_string(), parse_u64(path, v)?);
    }
    Ok(out)
}

pub(crate) fn read_keyed(path: &Path) -> Result<BTreeMap<String, u64>> {
    parse_keyed(path, &read(path)?)
}

/// The pids in a `cgroup.procs` file.
pub(crate) fn read_procs(path: &Path) -> Result<Vec<i32>> {
    let text = read(path)?;
    text.split_whitespace()
        .map(|p| {
            p.parse().map_err(|_| Error::Parse {
                path: path.into(),
                content: text.clone(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_read_as_options() {
        let p = Path::new("x");
        assert_eq!(parse_limit(p, "max\n").unwrap(), None);
        assert_eq!(parse_limit(p, "9223372036854771712\n").unwrap(), None);
        assert_eq!(parse_limit(p, "104857600\n").unwrap(), Some(104857600));
        assert!(parse_limit(p, "lots").is_err());
    }

    #[test]
    fn keyed_files_parse() {
        let text = "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n";
        let m = parse_keyed(Path::new("memory.events"), text).unwrap();
        assert_eq!(m["max"], 12);
        assert_eq!(m["oom_kill"], 1);
        assert!(parse_keyed(Path::new("x"), "a b c\n").is_err());
    }

    #[test]
    fn writes_are_traced_like_strace() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("memory.max");
        fs::write(&f, "max\n").unwrap();
        let mut t = Trace::new();
        assert_eq!(write(&f, "104857600", &mut t).unwrap(), 9);
        assert_eq!(fs::read_to_string(&f).unwrap(), "104857600");
        assert_eq!(
            t.records[0].to_string(),
            format!("write(\"{}\", \"104857600\") = 9", f.display())
        );
        let missing = dir.path().join("nope");
        let e = write(&missing, "1", &mut t).unwrap_err();
        assert_eq!(t.records[1].errno(), Some("ENOENT"));
        assert!(e.to_string().contains("does not offer"), "{e}");
    }
}
