//! The OCI runtime spec's `config.json`: what a runtime such as runc reads to start a container
//! (its root filesystem, process, hostname, mounts, namespaces, cgroup limits, capabilities).
//!
//! The capstone lesson writes one for the container it built by hand; checks read it back here
//! through the spec's own types (`oci_spec::runtime::Spec`), so a file that does not parse as a
//! runtime spec fails, and compare its values with what the lab did.

use crate::{Error, Result};
use oci_spec::runtime::{Capabilities, Spec};
use std::path::Path;

/// A value of a field of a runtime spec, as a check compares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecValue {
    Text(String),
    Number(i64),
    /// Capability names come lower case (`cap_chown`), as `capsh` prints them; namespaces as the
    /// spec's `type` words (`network`, `mount`, ...), in the file's order.
    List(Vec<String>),
}

/// Reads and parses `config.json` at `path` as a runtime spec.
pub fn load(path: &Path) -> Result<Spec> {
    Spec::load(path).map_err(|source| Error::Spec {
        what: format!("{} is not an OCI runtime spec", path.display()),
        source,
    })
}

/// The value of `field` (a name of the lesson schema's `SpecField`) in `spec`, or why there is
/// none.
pub fn field(spec: &Spec, field: &str) -> std::result::Result<SpecValue, String> {
    let missing = |what: &str| format!("config.json has no {what}");
    let linux = || spec.linux().as_ref().ok_or_else(|| missing("linux"));
    let resources = || {
        linux()?
            .resources()
            .as_ref()
            .ok_or_else(|| missing("linux.resources"))
    };
    let process = || spec.process().as_ref().ok_or_else(|| missing("process"));
    let caps = |set: fn(&oci_spec::runtime::LinuxCapabilities) -> &Option<Capabilities>| {
        let all = process()?
            .capabilities()
            .as_ref()
            .ok_or_else(|| missing("process.capabilities"))?;
        Ok::<_, String>(SpecValue::List(cap_names(
            set(all).as_ref().ok_or_else(|| missing("capability set"))?,
        )))
    };
    Ok(match field {
        "oci_version" => SpecValue::Text(spec.version().clone()),
        "hostname" => SpecValue::Text(spec.hostname().clone().ok_or_else(|| missing("hostname"))?),
        "root_path" => SpecValue::Text(
            spec.root()
                .as_ref()
                .ok_or_else(|| missing("root"))?
                .path()
                .display()
                .to_string(),
        ),
        "args" => SpecValue::List(process()?.args().clone().unwrap_or_default()),
        "cwd" => SpecValue::Text(process()?.cwd().display().to_string()),
        "env_names" => SpecValue::List(
            process()?
                .env()
                .clone()
                .unwrap_or_default()
                .iter()
                .map(|e| e.split('=').next().unwrap_or_default().to_string())
                .collect(),
        ),
        "namespaces" => SpecValue::List(
            linux()?
                .namespaces()
                .clone()
                .unwrap_or_default()
                .iter()
                .map(|n| serde_word(&n.typ()))
                .collect(),
        ),
        "mount_destinations" => SpecValue::List(
            spec.mounts()
                .clone()
                .unwrap_or_default()
                .iter()
                .map(|m| m.destination().display().to_string())
                .collect(),
        ),
        "memory_limit" => SpecValue::Number(
            resources()?
                .memory()
                .as_ref()
                .and_then(|m| m.limit())
                .ok_or_else(|| missing("linux.resources.memory.limit"))?,
        ),
        "pids_limit" => SpecValue::Number(
            resources()?
                .pids()
                .as_ref()
                .ok_or_else(|| missing("linux.resources.pids"))?
                .limit(),
        ),
        "bounding" => caps(|c| c.bounding())?,
        "effective" => caps(|c| c.effective())?,
        "permitted" => caps(|c| c.permitted())?,
        other => return Err(format!("no runtime spec field {other:?}")),
    })
}

/// A value's word in config.json (`CAP_CHOWN`, `network`): its serde name.
fn serde_word<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Lower-case names in capability-number order, the order /proc/PID/status's masks decode to,
/// so a set read here compares equal to a live process's set.
fn cap_names(set: &Capabilities) -> Vec<String> {
    let mut names: Vec<String> = set.iter().map(|c| serde_word(c).to_lowercase()).collect();
    names.sort_by_key(|n| caps_index(n));
    names
}

fn caps_index(name: &str) -> u8 {
    caps::all()
        .into_iter()
        .find(|c| c.to_string().eq_ignore_ascii_case(name))
        .map(|c| c.index())
        .unwrap_or(u8::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec_file(json: &str) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), json).unwrap();
        file
    }

    const SPEC: &str = r#"{
        "ociVersion": "1.0.2",
        "process": {"user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "/",
            "capabilities": {"bounding": ["CAP_KILL", "CAP_CHOWN"]}},
        "root": {"path": "rootfs"},
        "linux": {"resources": {"memory": {"limit": 1048576}, "pids": {"limit": 7}},
            "namespaces": [{"type": "network"}, {"type": "mount"}]}
    }"#;

    #[test]
    fn reads_fields_as_checks_compare_them() {
        let file = spec_file(SPEC);
        let spec = load(file.path()).unwrap();
        assert_eq!(field(&spec, "memory_limit"), Ok(SpecValue::Number(1048576)));
        assert_eq!(field(&spec, "pids_limit"), Ok(SpecValue::Number(7)));
        assert_eq!(
            field(&spec, "root_path"),
            Ok(SpecValue::Text("rootfs".into()))
        );
        assert_eq!(
            field(&spec, "namespaces"),
            Ok(SpecValue::List(vec!["network".into(), "mount".into()]))
        );
        // Capability-number order, lower case: cap_chown is 0, cap_kill 5.
        assert_eq!(
            field(&spec, "bounding"),
            Ok(SpecValue::List(vec!["cap_chown".into(), "cap_kill".into()]))
        );
    }

    #[test]
    fn a_missing_field_is_named() {
        let file = spec_file(SPEC);
        let spec = load(file.path()).unwrap();
        let err = field(&spec, "effective").unwrap_err();
        assert!(err.contains("capability set"), "{err}");
        assert!(field(&spec, "hostname").unwrap_err().contains("hostname"));
    }

    #[test]
    fn a_file_that_is_not_a_runtime_spec_does_not_load() {
        // A capability name the spec does not know.
        let file = spec_file(
            r#"{"ociVersion": "1.0.2", "process": {"user": {"uid": 0, "gid": 0}, "cwd": "/",
                "capabilities": {"bounding": ["CAP_NOT_A_CAP"]}}}"#,
        );
        let err = load(file.path()).unwrap_err().to_string();
        assert!(err.contains("is not an OCI runtime spec"), "{err}");
    }
}
