//! An `lsns`-style table: every namespace that some process is in, from `/proc/*/ns/*`.
//!
//! A namespace has no name, only an inode number in the nsfs filesystem; two processes share a
//! namespace exactly when `/proc/A/ns/uts` and `/proc/B/ns/uts` have the same inode. Grouping
//! every process's links by inode gives util-linux `lsns`'s table: the namespace, its type, how
//! many processes are in it, and the lowest PID among them with its user and command line.

use serde::Serialize;
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

pub const TYPES: [&str; 8] = ["cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"];

/// One row of the table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NsRow {
    pub ns: u64,
    pub kind: String,
    pub nprocs: usize,
    pub pid: i32,
    pub user: String,
    pub command: String,
}

/// The inode of `/proc/PID/ns/NAME`, or None if the process or the namespace kind is gone.
pub fn ns_inode(pid: i32, name: &str) -> Option<u64> {
    link_inode(&pid.to_string(), name)
}

/// `/proc/WHO/ns/NAME`'s inode, WHO being a pid or `self`: the one place this is read.
fn link_inode(who: &str, name: &str) -> Option<u64> {
    std::fs::metadata(format!("/proc/{who}/ns/{name}"))
        .ok()
        .map(|m| m.ino())
}

// NS_GET_USERNS = _IO(0xb7, 0x1), from linux/nsfs.h: a new fd for the namespace's owner.
nix::ioctl_none!(ns_get_userns, 0xb7, 0x1);

/// The inode of the user namespace that owns `/proc/PID/ns/NAME` (for a user namespace: its
/// parent). Every namespace belongs to the user namespace its creator was in at that moment, and
/// capabilities over it are those held in that user namespace: this is why root in a user
/// namespace may configure a network namespace it made, and not the host's.
pub fn owner_userns_inode(pid: i32, name: &str) -> Option<u64> {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    let ns = std::fs::File::open(format!("/proc/{pid}/ns/{name}")).ok()?;
    // SAFETY: the ioctl takes no argument and answers a new descriptor, which we then own.
    let fd = unsafe { ns_get_userns(ns.as_raw_fd()) }.ok()?;
    let owner = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) });
    owner.metadata().ok().map(|m| m.ino())
}

/// The inode of one of this very process's namespaces.
pub fn own_ns_inode(name: &str) -> Option<u64> {
    link_inode("self", name)
}

/// The inodes of all of a process's namespaces, in [`TYPES`] order. The link's text
/// (`uts:[4026531838]`) names the inode: reading it, relative to one open `/proc/PID/ns`, costs
/// a fraction of a `stat` that follows each link into nsfs, and `ns` and the namespaces view do
/// this for every process on the machine.
pub fn ns_inodes_of(pid: i32) -> [Option<u64>; TYPES.len()] {
    use nix::fcntl::{open, readlinkat, OFlag};
    let mut out = [None; TYPES.len()];
    let Ok(dir) = open(
        format!("/proc/{pid}/ns").as_str(),
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    ) else {
        return out;
    };
    for (slot, kind) in out.iter_mut().zip(TYPES) {
        *slot = readlinkat(&dir, kind).ok().and_then(|target| {
            let text = target.to_str()?;
            text.strip_prefix(kind)?
                .strip_prefix(":[")?
                .strip_suffix(']')?
                .parse()
                .ok()
        });
    }
    out
}

/// Every namespace of every process, sorted like `lsns` (by inode).
pub fn table() -> Vec<NsRow> {
    // (inode, type) -> (count, lowest pid)
    let mut groups: BTreeMap<(u64, &str), (usize, i32)> = BTreeMap::new();
    for pid in pids() {
        for (kind, ino) in TYPES.into_iter().zip(ns_inodes_of(pid)) {
            if let Some(ino) = ino {
                let entry = groups.entry((ino, kind)).or_insert((0, pid));
                entry.0 += 1;
                entry.1 = entry.1.min(pid);
            }
        }
    }
    groups
        .into_iter()
        .map(|((ns, kind), (nprocs, pid))| NsRow {
            ns,
            kind: kind.to_string(),
            nprocs,
            pid,
            user: owner_name(pid),
            command: command_line(pid),
        })
        .collect()
}

/// The PIDs of all processes (not threads) this process can see in /proc.
pub fn pids() -> Vec<i32> {
    let mut pids: Vec<i32> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect();
    pids.sort_unstable();
    pids
}

/// The user that owns the process, by name where /etc/passwd knows it (as `lsns` shows it).
pub fn owner_name(pid: i32) -> String {
    let Ok(meta) = std::fs::metadata(Path::new("/proc").join(pid.to_string())) else {
        return "?".into();
    };
    nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(meta.uid()))
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_else(|| meta.uid().to_string())
}

/// The command line with spaces between arguments, or the command name when it has none
/// (kernel threads).
pub fn command_line(pid: i32) -> String {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let args: Vec<String> = raw
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    if args.is_empty() {
        std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .map(|c| c.trim().to_string())
            .unwrap_or_default()
    } else {
        args.join(" ")
    }
}

/// Renders rows as `lsns` prints them.
pub fn render(rows: &[NsRow]) -> Vec<String> {
    let mut out = vec![format!(
        "{:>10} {:<6} {:>6} {:>7} {:<8} {}",
        "NS", "TYPE", "NPROCS", "PID", "USER", "COMMAND"
    )];
    for r in rows {
        out.push(format!(
            "{:>10} {:<6} {:>6} {:>7} {:<8} {}",
            r.ns,
            r.kind,
            r.nprocs,
            r.pid,
            r.user,
            truncate(&r.command, 60)
        ));
    }
    out
}

/// `s` cut to `max` characters, ending in … when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max - 1).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hosts_namespaces_belong_to_the_hosts_user_namespace() {
        let me = std::process::id() as i32;
        let user = ns_inode(me, "user").unwrap();
        for kind in ["uts", "net", "mnt", "ipc", "pid", "cgroup"] {
            assert_eq!(owner_userns_inode(me, kind), Some(user), "{kind}");
        }
    }

    #[test]
    fn link_text_and_stat_agree_on_every_inode() {
        let me = std::process::id() as i32;
        let fast = ns_inodes_of(me);
        for (kind, ino) in TYPES.into_iter().zip(fast) {
            assert_eq!(ino, ns_inode(me, kind), "{kind}");
        }
        assert!(fast.iter().all(Option::is_some), "{fast:?}");
    }

    #[test]
    fn this_process_appears_in_its_own_namespaces() {
        let me = std::process::id() as i32;
        let rows = table();
        let uts = own_ns_inode("uts").unwrap();
        let row = rows
            .iter()
            .find(|r| r.kind == "uts" && r.ns == uts)
            .expect("own uts namespace listed");
        assert!(row.nprocs >= 1);
        assert!(row.pid <= me);
    }
}
