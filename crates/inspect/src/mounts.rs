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
    /// The mount's own options (`ro`, `nosuid`, `relatime`...), sorted: `ro` here is what makes
    /// a bind mount read-only while the filesystem stays writable elsewhere.
    pub options: Vec<String>,
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
            options: {
                let mut o: Vec<String> = m
                    .mount_options
                    .iter()
                    .map(|(k, v)| match v {
                        Some(v) => format!("{k}={v}"),
                        None => k.clone(),
                    })
                    .collect();
                o.sort();
                o
            },
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

/// The host's root filesystem when it lives directly on a block device: what `--privileged`
/// could mount in a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootDevice {
    /// The device node, `/dev/vda`.
    pub source: String,
    /// Its filesystem, `ext4`.
    pub fstype: String,
}

/// Filesystems a block device holds whose mountinfo device is the device itself (btrfs shows
/// an anonymous device, overlay and network filesystems none).
const DISK_FILESYSTEMS: [&str; 4] = ["ext4", "ext3", "ext2", "xfs"];

/// The block device the host's `/` is mounted from, read from this process's mountinfo: only
/// when the mount shows the whole filesystem (root `/`), the source is a block device node whose
/// number is the mount's device, and the filesystem is one of [`DISK_FILESYSTEMS`]. None in a
/// container, on an initramfs, on btrfs or overlay.
pub fn root_block_device() -> Option<RootDevice> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let mounts = std::fs::read("/proc/self/mountinfo")
        .map(|text| parse_mountinfo(&text))
        .ok()?;
    let root = mount_at(&mounts, "/")?;
    if root.root != "/" || !DISK_FILESYSTEMS.contains(&root.fstype.as_str()) {
        return None;
    }
    let meta = std::fs::metadata(&root.source).ok()?;
    if !meta.file_type().is_block_device() {
        return None;
    }
    let rdev = meta.rdev();
    let number = format!("{}:{}", libc_major(rdev), libc_minor(rdev));
    (number == root.device).then(|| RootDevice {
        source: root.source.clone(),
        fstype: root.fstype.clone(),
    })
}

// The kernel's dev_t split (glibc's gnu_dev_major/minor), without an unsafe call.
fn libc_major(dev: u64) -> u64 {
    ((dev >> 32) & 0xffff_f000) | ((dev >> 8) & 0x0000_0fff)
}
fn libc_minor(dev: u64) -> u64 {
    ((dev >> 12) & 0xffff_ff00) | (dev & 0x0000_00ff)
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
            options: vec!["rw".into()],
        }
    }

    #[test]
    fn mount_options_are_read_sorted() {
        let line = b"36 25 8:1 / /mnt ro,nosuid,relatime shared:1 - ext4 /dev/sda1 rw\n";
        let m = &parse_mountinfo(line)[0];
        assert_eq!(m.options, ["nosuid", "relatime", "ro"]);
    }

    #[test]
    fn the_dev_t_split_is_the_kernels() {
        // makedev(259, 65537): major above 255, minor above 255.
        let (major, minor): (u64, u64) = (259, 65537);
        let dev = ((major & 0xfff) << 8)
            | ((major & !0xfff) << 32)
            | (minor & 0xff)
            | ((minor & !0xff) << 12);
        assert_eq!((libc_major(dev), libc_minor(dev)), (259, 65537));
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
