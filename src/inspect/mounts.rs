//! A process's mount table (/proc/PID/mountinfo) and how it differs from the host's.
//!
//! Each mount namespace has its own table. The seventh field of a mountinfo line carries the
//! propagation: `shared:N` means mounts and unmounts below this point are copied to every peer in
//! group N (systemd makes `/` shared, so a naive new namespace would leak mounts into the host),
//! `master:N` means it receives from group N, and nothing means private.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mount {
    pub mount_point: String,
    pub source: String,
    pub fstype: String,
    pub root: String,
    /// `shared:1`, `master:3`, `private`, `unbindable`, or several joined by spaces.
    pub propagation: String,
}

/// The mounts that `pid` sees, in mount order.
pub fn mounts_of(pid: i32) -> Vec<Mount> {
    let Ok(infos) = procfs::process::Process::new(pid).and_then(|p| p.mountinfo()) else {
        return Vec::new();
    };
    infos
        .into_iter()
        .map(|m| Mount {
            mount_point: m.mount_point.to_string_lossy().into_owned(),
            source: m.mount_source.unwrap_or_else(|| "none".into()),
            fstype: m.fs_type,
            root: m.root,
            propagation: propagation_text(&m.opt_fields),
        })
        .collect()
}

fn propagation_text(fields: &[procfs::process::MountOptFields]) -> String {
    use procfs::process::MountOptFields::*;
    let parts: Vec<String> = fields
        .iter()
        .map(|f| match f {
            Shared(n) => format!("shared:{n}"),
            Master(n) => format!("master:{n}"),
            PropagateFrom(n) => format!("propagate_from:{n}"),
            Unbindable => "unbindable".into(),
        })
        .collect();
    if parts.is_empty() {
        "private".into()
    } else {
        parts.join(" ")
    }
}

/// The mount at exactly `path` (the last one, if several are stacked).
pub fn mount_at<'a>(mounts: &'a [Mount], path: &str) -> Option<&'a Mount> {
    mounts.iter().rev().find(|m| m.mount_point == path)
}

/// Lines `+ mount` for mounts the sandbox has and the host lacks, `- mount` for the reverse.
pub fn diff(host: &[Mount], sandbox: &[Mount]) -> Vec<String> {
    let key = |m: &Mount| (m.mount_point.clone(), m.fstype.clone(), m.root.clone());
    let host_keys: Vec<_> = host.iter().map(key).collect();
    let sandbox_keys: Vec<_> = sandbox.iter().map(key).collect();
    let mut out = Vec::new();
    for m in sandbox {
        if !host_keys.contains(&key(m)) {
            out.push(format!(
                "+ {} {} {} ({})",
                m.mount_point, m.fstype, m.source, m.propagation
            ));
        }
    }
    for m in host {
        if !sandbox_keys.contains(&key(m)) {
            out.push(format!("- {} {} {}", m.mount_point, m.fstype, m.source));
        }
    }
    out
}

/// Renders mounts like `findmnt -l -o TARGET,SOURCE,FSTYPE,PROPAGATION`.
pub fn render(mounts: &[Mount]) -> Vec<String> {
    let mut out = vec![format!(
        "{:<32} {:<12} {:<10} PROPAGATION",
        "TARGET", "SOURCE", "FSTYPE"
    )];
    for m in mounts {
        out.push(format!(
            "{:<32} {:<12} {:<10} {}",
            m.mount_point, m.source, m.fstype, m.propagation
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_mount_table_has_a_root() {
        let me = std::process::id() as i32;
        let mounts = mounts_of(me);
        assert!(mount_at(&mounts, "/").is_some());
        assert!(diff(&mounts, &mounts).is_empty());
    }
}
