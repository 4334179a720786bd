//! The lab's cgroups, as the engine drives them through the `containerlab-cgroup` crate.
//!
//! A lesson names a cgroup briefly (`lab`); on the machine it is `containerlab/<session>-<name>`
//! in every hierarchy, so two sessions never share one. Every directory made is journaled the
//! moment it exists (as [`Entry::Cgroup`]); teardown kills what still runs in it and removes it.
//! Which files hold a value depends on the driver (cgroup v1 or v2); the lesson texts name them
//! through `{cgroup_file:KEY}` placeholders, which the session fills from the detected layout.

use super::journal::{Entry, Journal};
use super::ops::{OpError, Value};
use containerlab_cgroup::{detect, LabCgroup, Layout};
use containerlab_trace::Trace;
use std::path::{Path, PathBuf};

/// The session id of a work directory (`/run/containerlab/<session>/work`).
pub fn session_of(work: &Path) -> String {
    work.parent()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "clab".into())
}

/// The cgroup's directory name on the machine for a lesson's short name.
pub fn full_name(session: &str, name: &str) -> String {
    format!("{session}-{name}")
}

fn cg_error(e: containerlab_cgroup::Error) -> OpError {
    OpError {
        errno: e.errno().map(containerlab_trace::errno_name),
        message: e.to_string(),
    }
}

fn layout() -> Result<Layout, OpError> {
    detect().map_err(|e| OpError::msg(e.to_string()))
}

/// A handle on an existing lab cgroup.
pub fn open(session: &str, name: &str) -> Result<LabCgroup, OpError> {
    layout()?.open(&full_name(session, name)).map_err(cg_error)
}

/// mkdir of the cgroup in every hierarchy (enabling v2 controllers on the way), journaled.
pub fn create(
    work: &Path,
    name: &str,
    journal: &mut Journal,
    trace: &mut Trace,
) -> Result<Value, OpError> {
    let layout = layout()?;
    let lab = create_journaled(
        &layout,
        &full_name(&session_of(work), name),
        trace,
        &mut |e| journal.append(&e),
    )?;
    Ok(Value::Text(format!(
        "{} ({})",
        lab.memory_dir().display(),
        layout.describe()
    )))
}

/// `layout.create`, with everything it makes on the host journaled through `journal`: the
/// controllers it will switch on at the root of a v2 tree (before the write, since taking back
/// one that was never switched on is harmless) and each directory right after its mkdir.
pub fn create_journaled(
    layout: &Layout,
    name: &str,
    trace: &mut Trace,
    journal: &mut dyn FnMut(Entry) -> std::io::Result<()>,
) -> Result<LabCgroup, OpError> {
    for (file, controllers) in layout.root_handovers() {
        journal(Entry::Controllers { file, controllers })?;
    }
    let mut journal_error = None;
    let lab = layout
        .create(name, trace, &mut |p: &Path| {
            if let Err(e) = journal(Entry::Cgroup { path: p.into() }) {
                journal_error.get_or_insert(e);
            }
        })
        .map_err(cg_error)?;
    match journal_error {
        Some(e) => Err(e.into()),
        None => Ok(lab),
    }
}

/// Sets the limits a lesson asks for, each write traced.
pub fn limit(
    work: &Path,
    name: &str,
    memory_max: Option<u64>,
    swap_off: bool,
    pids_max: Option<u64>,
    cpu_max: Option<(u64, u64)>,
    trace: &mut Trace,
) -> Result<Value, OpError> {
    let mut lab = open(&session_of(work), name)?;
    if let Some(bytes) = memory_max {
        lab.set_memory_limit(bytes, trace).map_err(cg_error)?;
    }
    if swap_off {
        lab.disable_swap(trace).map_err(cg_error)?;
    }
    if let Some(n) = pids_max {
        lab.set_pids_max(n, trace).map_err(cg_error)?;
    }
    if let Some((quota, period)) = cpu_max {
        lab.set_cpu_max(quota, period, trace).map_err(cg_error)?;
    }
    Ok(Value::Done)
}

/// The `cgroup.procs` files a new process writes itself into (one per hierarchy on v1).
pub fn procs_files(work: &Path, name: &str) -> Result<Vec<PathBuf>, OpError> {
    let lab = open(&session_of(work), name)?;
    let files: Vec<PathBuf> = lab
        .leaf_dirs()
        .iter()
        .map(|d| d.join("cgroup.procs"))
        .collect();
    if let Some(missing) = files.iter().find(|f| !f.exists()) {
        return Err(OpError::msg(format!(
            "{} does not exist: create the cgroup first (cgroup_create)",
            missing.display()
        )));
    }
    Ok(files)
}

/// The values a check may read from a lab cgroup, by the name lessons use.
pub const VALUES: &[&str] = &[
    "memory_current",
    "memory_max",
    "memory_peak",
    "oom_kill",
    "limit_hits",
    "pids_current",
    "pids_max",
    "pids_limit_hits",
    "cpu_usage_usec",
    "cpu_max",
    "cpu_throttled",
    "procs",
    "swap",
    "controllers",
];

/// Why a cgroup value could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ValueError {
    #[error("{0}")]
    Open(OpError),
    #[error("unknown cgroup value {name:?}; one of {}", VALUES.join(", "))]
    Unknown { name: String },
    #[error(transparent)]
    Read(#[from] containerlab_cgroup::Error),
}

/// Reads one value (see [`VALUES`]); `None` limits read as `max`.
pub fn read_value(session: &str, name: &str, value: &str) -> Result<String, ValueError> {
    let lab = open(session, name).map_err(ValueError::Open)?;
    let limit = |v: Option<u64>| v.map(|n| n.to_string()).unwrap_or_else(|| "max".into());
    let r = match value {
        "memory_current" => lab.memory_current().map(|v| v.to_string()),
        "memory_max" => lab.memory_max().map(limit),
        "memory_peak" => lab.memory_peak().map(limit),
        "oom_kill" => lab.oom_kill_count().map(|v| v.to_string()),
        "limit_hits" => lab.failcnt().map(|v| v.to_string()),
        "pids_current" => lab.pids_current().map(|v| v.to_string()),
        "pids_max" => lab.pids_max().map(limit),
        "pids_limit_hits" => lab.pids_limit_hits().map(|v| v.to_string()),
        "cpu_usage_usec" => lab.cpu_usage_usec().map(|v| v.to_string()),
        "cpu_max" => lab.cpu_max(),
        "cpu_throttled" => lab.cpu_throttled().map(|v| v.to_string()),
        "procs" => lab.procs().map(|p| p.len().to_string()),
        "swap" => lab.swap_setting(),
        "controllers" => lab.controllers().map(|c| c.join(" ")),
        other => {
            return Err(ValueError::Unknown {
                name: other.to_string(),
            })
        }
    };
    Ok(r?)
}

/// The cgroup's files and contents, for the `cgroup` view.
pub fn view_lines(session: &str, names: &[String]) -> Vec<String> {
    let mut lines = Vec::new();
    for name in names {
        let Ok(lab) = open(session, name) else {
            continue;
        };
        if !lab.memory_dir().exists() {
            continue;
        }
        lines.push(format!(
            "── {name}: {} ({}) ──",
            lab.memory_dir().display(),
            lab.version()
        ));
        for (file, content) in lab.files() {
            let shown: Vec<&str> = content.lines().collect();
            lines.push(format!("  {file:<28} {}", shown.join("; ")));
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_and_names() {
        let work = Path::new("/run/containerlab/clab-12-ab/work");
        assert_eq!(session_of(work), "clab-12-ab");
        assert_eq!(full_name("clab-12-ab", "lab"), "clab-12-ab-lab");
    }
}
