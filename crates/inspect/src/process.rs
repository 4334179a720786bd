//! One process as /proc shows it: the status fields that matter for containers, its namespace
//! inodes, its user-id maps and its cgroups.
//!
//! `NSpid` lists a process's PID in every PID namespace it is visible in, outermost first: a
//! container's init shows `NSpid: 4242 1`. `uid_map` says which user ids inside a user namespace
//! stand for which ids outside: `0 1000 1` makes uid 0 inside be uid 1000 outside.

use super::caps;
use super::namespaces::ns_inode;
use serde::Serialize;
use std::collections::BTreeMap;

/// The namespace links of a process, including the `*_for_children` ones.
pub const NS_LINKS: [&str; 10] = [
    "cgroup",
    "ipc",
    "mnt",
    "net",
    "pid",
    "pid_for_children",
    "time",
    "time_for_children",
    "user",
    "uts",
];

#[derive(Debug, Clone, Serialize)]
pub struct ProcessView {
    pub pid: i32,
    pub command: String,
    /// The lines of /proc/PID/status a learner is shown, as (key, value) in file order.
    pub status: Vec<(String, String)>,
    pub nspid: Vec<i32>,
    pub ns: Vec<(String, u64)>,
    pub uid_map: String,
    pub gid_map: String,
    pub setgroups: String,
    pub cgroup: String,
    pub caps: Vec<(String, Vec<String>)>,
}

/// The status keys worth showing for containers.
const STATUS_KEYS: [&str; 14] = [
    "Name",
    "State",
    "Pid",
    "PPid",
    "NSpid",
    "NSpgid",
    "Uid",
    "Gid",
    "CapPrm",
    "CapEff",
    "CapBnd",
    "NoNewPrivs",
    "Seccomp",
    "Seccomp_filters",
];

impl ProcessView {
    /// Reads a process; None if it is gone.
    pub fn read(pid: i32) -> Option<ProcessView> {
        let status_text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let Status {
            fields,
            nspid,
            caps,
        } = Status::parse(&status_text);
        let read =
            |name: &str| std::fs::read_to_string(format!("/proc/{pid}/{name}")).unwrap_or_default();
        Some(ProcessView {
            pid,
            command: super::namespaces::command_line(pid),
            status: fields
                .into_iter()
                .filter(|(k, _)| STATUS_KEYS.contains(&k.as_str()))
                .collect(),
            nspid,
            ns: NS_LINKS
                .iter()
                .filter_map(|n| Some((n.to_string(), ns_inode(pid, n)?)))
                .collect(),
            uid_map: read("uid_map"),
            gid_map: read("gid_map"),
            setgroups: read("setgroups").trim().to_string(),
            cgroup: read("cgroup"),
            caps,
        })
    }

    pub fn field(&self, key: &str) -> Option<&str> {
        self.status
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn ns_inode(&self, link: &str) -> Option<u64> {
        self.ns.iter().find(|(n, _)| n == link).map(|(_, i)| *i)
    }
}

/// The live children of each of `parents`, lowest PID first. A daemon that forked away from
/// its parent (busybox httpd does) is reparented to its PID namespace's init and shows up under
/// it.
pub fn children_of(parents: &[i32]) -> BTreeMap<i32, Vec<i32>> {
    children_by_task(parents).unwrap_or_else(|| children_by_scan(parents))
}

/// From `/proc/PID/task/TID/children` (CONFIG_PROC_CHILDREN, on in Debian's kernels): work in
/// the number of parents, not in the number of processes on the machine. proc(5) warns that the
/// list can miss a child forked or reaped while a long list is read in pieces; a lab process
/// has a handful, read in one piece, and the view is sampled again a moment later. None when
/// the kernel has no such file.
fn children_by_task(parents: &[i32]) -> Option<BTreeMap<i32, Vec<i32>>> {
    let mut kids: BTreeMap<i32, Vec<i32>> = BTreeMap::new();
    for &parent in parents {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{parent}/task")) else {
            continue; // the parent is gone
        };
        for task in tasks.flatten() {
            let file = task.path().join("children");
            let text = match std::fs::read_to_string(&file) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && file.parent()?.exists() => {
                    return None;
                }
                Err(_) => continue,
            };
            let live = text
                .split_whitespace()
                .filter_map(|p| p.parse::<i32>().ok())
                .filter(|&kid| !is_zombie(kid));
            kids.entry(parent).or_default().extend(live);
        }
    }
    kids.retain(|_, k| !k.is_empty());
    kids.values_mut().for_each(|k| k.sort_unstable());
    Some(kids)
}

fn is_zombie(pid: i32) -> bool {
    procfs::process::Process::new(pid)
        .and_then(|p| p.stat())
        .map_or(true, |st| st.state == 'Z')
}

/// From one scan of every process's /proc/PID/stat.
fn children_by_scan(parents: &[i32]) -> BTreeMap<i32, Vec<i32>> {
    let mut kids: BTreeMap<i32, Vec<i32>> = BTreeMap::new();
    let Ok(all) = procfs::process::all_processes() else {
        return kids;
    };
    for st in all.flatten().filter_map(|p| p.stat().ok()) {
        if parents.contains(&st.ppid) && st.state != 'Z' {
            kids.entry(st.ppid).or_default().push(st.pid);
        }
    }
    kids.values_mut().for_each(|k| k.sort_unstable());
    kids
}

/// What a /proc/PID/status text says, as the process view keeps it.
#[derive(Debug, Default)]
pub struct Status {
    pub fields: Vec<(String, String)>,
    /// NSpid: the pid in each PID namespace, outermost first.
    pub nspid: Vec<i32>,
    /// Each capability set by name (`CapEff`), decoded.
    pub caps: Vec<(String, Vec<String>)>,
}

impl Status {
    /// Reads the text; a field that is missing or not a number is left out, never a panic.
    pub fn parse(text: &str) -> Status {
        let fields = status_fields(text);
        let get = |k: &str| {
            fields
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
        };
        let nspid = get("NSpid")
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect();
        let caps = ["CapPrm", "CapEff", "CapBnd", "CapInh", "CapAmb"]
            .iter()
            .filter_map(|k| {
                let mask = u64::from_str_radix(&get(k)?, 16).ok()?;
                Some((k.to_string(), caps::decode(mask)))
            })
            .collect();
        Status {
            fields,
            nspid,
            caps,
        }
    }
}

/// Splits /proc/PID/status into (key, value) pairs, values with their tabs folded to spaces.
pub fn status_fields(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| {
            (
                k.trim().to_string(),
                v.split_whitespace().collect::<Vec<_>>().join(" "),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_status_has_nspid_and_namespaces() {
        let me = std::process::id() as i32;
        let v = ProcessView::read(me).unwrap();
        // NSpid lists outermost first; the last entry is the pid in the reader's own namespace.
        assert_eq!(v.nspid.last(), Some(&me));
        assert_eq!(v.field("Pid"), Some(me.to_string().as_str()));
        assert!(v.ns_inode("uts").is_some());
        assert!(v.uid_map.contains('0'));
    }

    #[test]
    fn children_from_the_task_files_match_a_full_scan() {
        let mut kids: Vec<_> = (0..3)
            .map(|_| {
                std::process::Command::new("sleep")
                    .arg("30")
                    .spawn()
                    .unwrap()
            })
            .collect();
        let me = std::process::id() as i32;
        let by_task = children_by_task(&[me]).expect("CONFIG_PROC_CHILDREN");
        let by_scan = children_by_scan(&[me]);
        for k in &mut kids {
            let _ = k.kill();
            let _ = k.wait();
        }
        let mine = &by_task[&me];
        assert!(
            kids.iter().all(|k| mine.contains(&(k.id() as i32))),
            "{mine:?}"
        );
        assert_eq!(by_task, by_scan);
    }
}
