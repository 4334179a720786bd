//! Placeholders in lesson strings: `{work}` is the session's work directory on the host and
//! `{pid:NAME}` the host PID of a sandbox process, so lessons never hard-code either.

use std::collections::BTreeMap;
use std::path::Path;

pub fn expand(text: &str, work: &Path, pids: &BTreeMap<String, i32>) -> String {
    let mut out = text.replace("{work}", &work.to_string_lossy());
    for (name, pid) in pids {
        out = out.replace(&format!("{{pid:{name}}}"), &pid.to_string());
    }
    // `{which:ping}`: where a program is on this machine (PATH, then /usr/sbin, /sbin, /bin).
    while let Some(start) = out.find("{which:") {
        let Some(len) = out[start..].find('}') else {
            break;
        };
        let name = &out[start + "{which:".len()..start + len];
        let found = crate::probe::which(name)
            .and_then(|p| std::fs::canonicalize(p).ok())
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_else(|| format!("/nonexistent/{name}"));
        out.replace_range(start..start + len + 1, &found);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_work_and_pids() {
        let pids = BTreeMap::from([("init".to_string(), 42)]);
        assert_eq!(
            expand("{work}/x /proc/{pid:init}/uid_map", Path::new("/w"), &pids),
            "/w/x /proc/42/uid_map"
        );
    }

    #[test]
    fn which_finds_a_program_and_names_a_missing_one() {
        let sh = expand("{which:sh}", Path::new("/w"), &BTreeMap::new());
        assert!(sh.starts_with('/') && !sh.contains("nonexistent"), "{sh}");
        assert_eq!(
            expand(
                "{which:no-such-program-x}",
                Path::new("/w"),
                &BTreeMap::new()
            ),
            "/nonexistent/no-such-program-x"
        );
    }
}
