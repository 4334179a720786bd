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
/// (`uts:[4026531838]`) names the inode: reading it costs a fraction of a `stat` that follows
/// each link into nsfs, and `ns` and the namespaces view do this for every process on the
/// machine.
pub fn ns_inodes_of(pid: i32) -> [Option<u64>; TYPES.len()] {
    match ProcDir::open() {
        Some(proc) => proc.ns_inodes_of(pid),
        None => [None; TYPES.len()],
    }
}

/// `/proc` held open, so that a process's links are read relative to it (`PID/ns/uts`): one
/// system call per link and none per process, into a buffer on the stack. At 2,000 processes
/// the scan is 16,000 of these calls, and each call saved counts.
struct ProcDir(std::os::fd::OwnedFd);

impl ProcDir {
    fn open() -> Option<Self> {
        use nix::fcntl::{open, OFlag};
        open(
            "/proc",
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        )
        .ok()
        .map(ProcDir)
    }

    /// One `openat` of `PID/ns`, then each link relative to it: two calls more per process, but
    /// each link's lookup is one path component instead of three (`PID`, revalidated each
    /// time, and `ns`), and the held directory keeps those entries alive across the eight
    /// reads. It measured faster at 100, 400 and 2,000 processes (docs/performance.md).
    fn ns_inodes_of(&self, pid: i32) -> [Option<u64>; TYPES.len()] {
        use std::io::Write;
        use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
        let mut out = [None; TYPES.len()];
        // "PID/ns\0" and "KIND\0" fit easily: PIDs are at most 7 digits, kinds 6 letters.
        let mut path = [0u8; 32];
        if write!(&mut path[..31], "{pid}/ns").is_err() {
            return out;
        }
        // SAFETY: `path` is NUL-terminated (zeroed, at most 31 bytes written); the /proc fd is
        // open for the call's duration.
        let fd = unsafe {
            libc::openat(
                self.0.as_raw_fd(),
                path.as_ptr().cast(),
                libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
            )
        };
        if fd < 0 {
            // The process is gone (or this kernel has no ns directory): no links to read.
            return out;
        }
        // SAFETY: a descriptor openat just returned, owned by nothing else.
        let dir = unsafe { OwnedFd::from_raw_fd(fd) };
        for (slot, kind) in out.iter_mut().zip(TYPES) {
            let mut name = [0u8; 8];
            name[..kind.len()].copy_from_slice(kind.as_bytes());
            let mut target = [0u8; 64];
            // SAFETY: `name` is NUL-terminated (kinds are at most 6 bytes); `target` is a
            // writable buffer of the length given; `dir` is open for the call's duration.
            let n = unsafe {
                libc::readlinkat(
                    dir.as_raw_fd(),
                    name.as_ptr().cast(),
                    target.as_mut_ptr().cast(),
                    target.len(),
                )
            };
            if n < 0 {
                // Not ours to read (EACCES: the other links answer the same), or gone, or a
                // kind this kernel lacks (ENOENT: the next kind may still be there).
                if nix::errno::Errno::last() == nix::errno::Errno::EACCES {
                    return out;
                }
                continue;
            }
            *slot = parse_link(&target[..n as usize], kind);
        }
        out
    }
}

/// From this many processes on, two threads read the links, each half of the processes.
const TWO_THREADS_FROM: usize = 1000;

/// Every process's links, in `pids`' order. One thread reads them below [`TWO_THREADS_FROM`]
/// processes: there a second thread measured slower on a loaded machine (95 and 400
/// processes) and at most a tenth faster on a quiet one (250 and 500); from 1,000 on it saves a
/// fifth to a third of the time (docs/performance.md). Two threads then each read half.
fn links_of(proc: &ProcDir, pids: &[i32]) -> Vec<(i32, [Option<u64>; TYPES.len()])> {
    let read =
        |part: &[i32]| -> Vec<_> { part.iter().map(|&p| (p, proc.ns_inodes_of(p))).collect() };
    if pids.len() < TWO_THREADS_FROM {
        return read(pids);
    }
    let (first, second) = pids.split_at(pids.len() / 2);
    std::thread::scope(|scope| {
        let other = scope.spawn(|| read(second));
        let mut links = read(first);
        links.extend(
            other
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
        );
        links
    })
}

/// `uts:[4026531838]` -> 4026531838, for the kind expected.
fn parse_link(text: &[u8], kind: &str) -> Option<u64> {
    std::str::from_utf8(text)
        .ok()?
        .strip_prefix(kind)?
        .strip_prefix(":[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// Every namespace of every process, sorted like `lsns` (by inode).
pub fn table() -> Vec<NsRow> {
    // (inode, type) -> (count, lowest pid)
    let mut groups: BTreeMap<(u64, &str), (usize, i32)> = BTreeMap::new();
    let Some(proc) = ProcDir::open() else {
        return Vec::new();
    };
    let pids = pids();
    for (pid, inodes) in links_of(&proc, &pids) {
        for (kind, ino) in TYPES.into_iter().zip(inodes) {
            if let Some(ino) = ino {
                let entry = groups.entry((ino, kind)).or_insert((0, pid));
                entry.0 += 1;
                entry.1 = entry.1.min(pid);
            }
        }
    }
    // Many rows share their lowest PID (the host's eight namespaces all name the first process)
    // and many share an owner (root): a PID's user and command line are read once, and
    // /etc/passwd once per user.
    let mut users: BTreeMap<u32, String> = BTreeMap::new();
    let mut about: BTreeMap<i32, (String, String)> = BTreeMap::new();
    groups
        .into_iter()
        .map(|((ns, kind), (nprocs, pid))| {
            let (user, command) = about
                .entry(pid)
                .or_insert_with(|| {
                    let user = owner_of(pid)
                        .map(|uid| users.entry(uid).or_insert_with(|| user_name(uid)).clone())
                        .unwrap_or_else(|| "?".into());
                    (user, command_line(pid))
                })
                .clone();
            NsRow {
                ns,
                kind: kind.to_string(),
                nprocs,
                pid,
                user,
                command,
            }
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
    owner_of(pid).map_or_else(|| "?".into(), user_name)
}

fn owner_of(pid: i32) -> Option<u32> {
    std::fs::metadata(Path::new("/proc").join(pid.to_string()))
        .ok()
        .map(|m| m.uid())
}

fn user_name(uid: u32) -> String {
    nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_else(|| uid.to_string())
}

/// The command line with spaces between arguments, or the command name when it has none
/// (kernel threads).
pub fn command_line(pid: i32) -> String {
    let raw = read_proc(&format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let args: Vec<String> = raw
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    if args.is_empty() {
        read_proc(&format!("/proc/{pid}/comm"))
            .map(|c| String::from_utf8_lossy(&c).trim().to_string())
            .unwrap_or_default()
    } else {
        args.join(" ")
    }
}

/// A file of /proc, read to its end. /proc gives its files a size of 0, so the size that
/// `std::fs::read` asks for first (a `statx`) tells nothing; this skips that call.
fn read_proc(path: &str) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).ok()?;
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match file.read(&mut buf) {
            Ok(0) => return Some(out),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
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

    /// From [`TWO_THREADS_FROM`] processes on the links are read by two threads: every process
    /// keeps its own links, in the order asked, whichever thread read them.
    #[test]
    fn two_threads_read_the_same_links_in_the_same_order() {
        let me = std::process::id() as i32;
        let proc = ProcDir::open().unwrap();
        // This process, and a PID no process has (above the kernel's PID limit), alternating.
        let gone = 1 << 23;
        let pids: Vec<i32> = (0..TWO_THREADS_FROM + 1)
            .map(|i| if i % 2 == 0 { me } else { gone })
            .collect();
        let links = links_of(&proc, &pids);
        assert_eq!(links.len(), pids.len());
        let mine = ns_inodes_of(me);
        for ((pid, inodes), asked) in links.iter().zip(&pids) {
            assert_eq!(pid, asked);
            let expected = if *pid == me {
                mine
            } else {
                [None; TYPES.len()]
            };
            assert_eq!(*inodes, expected, "{pid}");
        }
    }
}
