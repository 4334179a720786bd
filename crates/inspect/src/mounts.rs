//! A process's mount table (/proc/PID/mountinfo) and how it differs from the host's.
//!
//! Each mount namespace has its own table. The seventh field of a mountinfo line carries the
//! propagation: `shared:N` means mounts and unmounts below this point are copied to every peer in
//! group N (systemd makes `/` shared, so a naive new namespace would leak mounts into the host),
//! `master:N` means it receives from group N, and nothing means private.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mount {
    /// The mount's id (unique on the machine while it exists; a new mount gets a new one).
    pub id: i32,
    pub mount_point: String,
    pub source: String,
    pub fstype: String,
    pub root: String,
    /// The filesystem instance's device, `major:minor`: a fresh procfs (or tmpfs) on the same
    /// mount point as the host's has its own, which is how the two tell apart.
    pub device: String,
    /// `shared:1`, `master:3`, `private`, `unbindable`, or several joined by spaces.
    pub propagation: String,
}

/// The mounts that `pid` sees, in mount order.
pub fn mounts_of(pid: i32) -> Vec<Mount> {
    std::fs::read(format!("/proc/{pid}/mountinfo"))
        .map(|text| parse_mountinfo(&text))
        .unwrap_or_default()
}

/// A mountinfo table's mounts; a table that does not parse (a kernel newer than the parser, a
/// line cut short) is no mounts, never a panic.
pub fn parse_mountinfo(text: &[u8]) -> Vec<Mount> {
    use procfs::FromBufRead;
    let Ok(infos) = procfs::process::MountInfos::from_buf_read(text) else {
        return Vec::new();
    };
    infos
        .into_iter()
        .map(|m| Mount {
            id: m.mnt_id,
            mount_point: m.mount_point.to_string_lossy().into_owned(),
            source: m.mount_source.unwrap_or_else(|| "none".into()),
            fstype: m.fs_type,
            root: m.root,
            device: m.majmin,
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

/// The upper directories of the overlay mounts `pid` sees, in mount order; the paths are as the
/// mounting process named them, so relative to its root.
pub fn overlay_uppers(pid: i32) -> Vec<String> {
    let Ok(infos) = procfs::process::Process::new(pid).and_then(|p| p.mountinfo()) else {
        return Vec::new();
    };
    infos
        .into_iter()
        .filter(|m| m.fs_type == "overlay")
        .filter_map(|m| m.super_options.get("upperdir").cloned().flatten())
        .collect()
}

/// The mount at exactly `path` (the last one, if several are stacked).
pub fn mount_at<'a>(mounts: &'a [Mount], path: &str) -> Option<&'a Mount> {
    mounts.iter().rev().find(|m| m.mount_point == path)
}

/// Lines `+ mount` for mounts the sandbox has and the host lacks, `- mount` for the reverse.
///
/// A mount is the same as the host's when it shows the same filesystem instance (device and
/// root) at the same place; a copy made by unshare(CLONE_NEWNS) is, a new procfs stacked on
/// /proc is not. Mounts are matched one to one, so a second mount at a place counts once more.
pub fn diff(host: &[Mount], sandbox: &[Mount]) -> Vec<String> {
    let key = |m: &Mount| {
        (
            m.mount_point.clone(),
            m.fstype.clone(),
            m.root.clone(),
            m.device.clone(),
        )
    };
    // The mounts of `a` left over once each is matched with one of `b`'s.
    let missing_from = |a: &'_ [Mount], b: &'_ [Mount]| -> Vec<Mount> {
        let mut unmatched: Vec<_> = b.iter().map(key).collect();
        a.iter()
            .filter(|m| match unmatched.iter().position(|k| *k == key(m)) {
                Some(i) => {
                    unmatched.remove(i);
                    false
                }
                None => true,
            })
            .cloned()
            .collect()
    };
    // The device tells two mounts of one kind at one place apart.
    let added = missing_from(sandbox, host).into_iter().map(|m| {
        format!(
            "+ {} {} {} [{}] ({})",
            m.mount_point, m.fstype, m.source, m.device, m.propagation
        )
    });
    let removed = missing_from(host, sandbox)
        .into_iter()
        .map(|m| format!("- {} {} {}", m.mount_point, m.fstype, m.source));
    added.chain(removed).collect()
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

    fn mount(point: &str, fstype: &str, device: &str) -> Mount {
        Mount {
            id: 0,
            mount_point: point.into(),
            source: fstype.into(),
            fstype: fstype.into(),
            root: "/".into(),
            device: device.into(),
            propagation: "private".into(),
        }
    }

    #[test]
    fn a_new_proc_stacked_on_the_hosts_is_a_new_mount() {
        let host = [mount("/", "ext4", "8:1"), mount("/proc", "proc", "0:22")];
        let sandbox = [
            mount("/", "ext4", "8:1"),
            mount("/proc", "proc", "0:22"),
            mount("/proc", "proc", "0:61"),
        ];
        assert_eq!(
            diff(&host, &sandbox),
            ["+ /proc proc proc [0:61] (private)"]
        );
    }

    #[test]
    fn a_second_mount_of_the_same_filesystem_at_the_same_place_counts() {
        let host = [mount("/mnt", "tmpfs", "0:40")];
        let sandbox = [
            mount("/mnt", "tmpfs", "0:40"),
            mount("/mnt", "tmpfs", "0:40"),
        ];
        assert_eq!(
            diff(&host, &sandbox),
            ["+ /mnt tmpfs tmpfs [0:40] (private)"]
        );
        assert_eq!(diff(&sandbox, &host), ["- /mnt tmpfs tmpfs"]);
    }
}
