//! Reading a container's json-file log back, as `docker logs` does: one JSON object per line,
//! `log` printed to the stream `stream` names.

use super::verdict::Observed;
use anyhow::{anyhow, Context};

/// One line of the log.
#[derive(Debug, serde::Deserialize)]
struct Entry {
    log: String,
    stream: String,
    time: String,
}

/// The json-file log at `path`, read as `field` (`lines`, `stdout`, `stderr`, `times`).
pub fn field(path: &str, field: &str) -> anyhow::Result<Observed> {
    let text = std::fs::read_to_string(path).with_context(|| path.to_string())?;
    let entries = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str::<Entry>(l)
                .with_context(|| format!("{path}:{}: not a json-file log line", i + 1))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let joined = |stream: &str| {
        let all: String = entries
            .iter()
            .filter(|e| e.stream == stream)
            .map(|e| e.log.as_str())
            .collect();
        Observed::Text(all.trim_end().to_string())
    };
    Ok(match field {
        "lines" => Observed::List(
            entries
                .iter()
                .map(|e| Observed::Text(format!("{}: {}", e.stream, e.log.trim_end_matches('\n'))))
                .collect(),
        ),
        "stdout" => joined("stdout"),
        "stderr" => joined("stderr"),
        "times" => Observed::List(
            entries
                .iter()
                .map(|e| Observed::Text(e.time.clone()))
                .collect(),
        ),
        other => return Err(anyhow!("unknown json_log field {other:?}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_read_apart_and_lines_in_order() {
        let t = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(
            t.path(),
            "{\"log\":\"a\\n\",\"stream\":\"stdout\",\"time\":\"T1\"}\n\
             {\"log\":\"e\\n\",\"stream\":\"stderr\",\"time\":\"T2\"}\n\
             {\"log\":\"b\\n\",\"stream\":\"stdout\",\"time\":\"T3\"}\n",
        )
        .unwrap();
        let p = t.path().to_str().unwrap();
        assert_eq!(field(p, "stdout").unwrap(), Observed::Text("a\nb".into()));
        assert_eq!(field(p, "stderr").unwrap(), Observed::Text("e".into()));
        let Observed::List(lines) = field(p, "lines").unwrap() else {
            panic!()
        };
        assert_eq!(lines[1], Observed::Text("stderr: e".into()));
        std::fs::write(t.path(), "not json\n").unwrap();
        assert!(field(p, "lines").is_err());
    }
}
