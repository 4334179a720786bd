//! What a step is about, for the live views: the processes, namespaces, /proc/PID/status fields
//! and cgroup files its checks observe, and which lines of a rendered view show them. The
//! session decides this from the lesson's checks; a front end only keeps those lines in sight
//! (the TUI's small view pane shows them first and says how many others it left out).

use crate::lesson::schema::{
    Action, CapSet, CgroupValueName, Check, Expect, Lesson, NsLink, Observe, View,
};

/// What one step's checks look at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Focus {
    /// Lab processes, by the lesson's names (`host` included when a check reads the host).
    pub processes: Vec<String>,
    /// /proc/PID/ns links (`uts`, `pid_for_children`).
    pub namespaces: Vec<String>,
    /// What the lines the checks read start with: /proc/PID/status fields (`NSpid`), capability
    /// sets (`CapBnd`), listening sockets (`LISTEN`).
    pub fields: Vec<String>,
    /// The lesson's cgroups, by short name, and the files of them read (as v2 and v1 name them).
    pub cgroups: Vec<String>,
    pub cgroup_files: Vec<String>,
    /// A check reads a hostname.
    pub hostname: bool,
}

impl Focus {
    /// What the checks of step `index` of `lesson` observe, on both sides of each comparison.
    pub fn of_step(lesson: &Lesson, index: usize) -> Focus {
        let mut focus = Focus::default();
        let Some(step) = lesson.steps.get(index) else {
            return focus;
        };
        for Check {
            observe, expect, ..
        } in &step.checks
        {
            focus.add(observe, lesson);
            if let Some(other) = expect.observed() {
                // Compared with the host's: the host is the reference, not what the step is about.
                let reference = matches!(expect, Expect::Same(_) | Expect::Differs(_))
                    && other.who() == Some("host");
                let before = focus.processes.clone();
                focus.add(other, lesson);
                if reference {
                    focus.processes = before;
                }
            }
        }
        focus
    }

    pub fn is_empty(&self) -> bool {
        *self == Focus::default()
    }

    fn add(&mut self, o: &Observe, lesson: &Lesson) {
        fn push(list: &mut Vec<String>, item: &str) {
            if !list.iter().any(|i| i == item) {
                list.push(item.to_string());
            }
        }
        if let Some(who) = o.who() {
            push(&mut self.processes, who);
        }
        // A check on an action's result looks at the process the action ran in.
        if let Some(id) = o.action_id() {
            let process = lesson
                .steps
                .iter()
                .flat_map(|s| &s.actions)
                .map(Action::common)
                .find(|c| c.id.as_deref() == Some(id))
                .map(|c| c.process);
            if let Some(p) = process {
                push(&mut self.processes, &p);
            }
        }
        match o {
            Observe::Hostname(_) => {
                self.hostname = true;
                push(&mut self.namespaces, NsLink::Uts.as_str());
            }
            Observe::NsInode(n) | Observe::NsOwner(n) => {
                push(&mut self.namespaces, n.ns.as_str());
            }
            Observe::Nspid(_) => push(&mut self.fields, "NSpid"),
            Observe::Status(s) | Observe::SelfStatus(s) => push(&mut self.fields, &s.field),
            Observe::Caps(c) => push(&mut self.fields, cap_field(c.set)),
            Observe::Listening(_) | Observe::ListeningPorts(_) => push(&mut self.fields, "LISTEN"),
            Observe::Cgroup(c) => {
                push(&mut self.cgroups, &c.name);
                for file in cgroup_files(c.value) {
                    push(&mut self.cgroup_files, file);
                }
            }
            _ => {}
        }
    }
}

/// The /proc/PID/status field of a capability set.
fn cap_field(set: CapSet) -> &'static str {
    match set {
        CapSet::Effective => "CapEff",
        CapSet::Permitted => "CapPrm",
        CapSet::Inheritable => "CapInh",
        CapSet::Bounding => "CapBnd",
        CapSet::Ambient => "CapAmb",
    }
}

/// The files a cgroup value is read from, on v2 and on v1.
fn cgroup_files(v: CgroupValueName) -> &'static [&'static str] {
    use CgroupValueName as C;
    match v {
        C::MemoryCurrent => &["memory.current", "memory.usage_in_bytes"],
        C::MemoryMax => &["memory.max", "memory.limit_in_bytes"],
        C::MemoryPeak => &["memory.peak", "memory.max_usage_in_bytes"],
        C::OomKill | C::LimitHits => &["memory.events", "memory.failcnt", "memory.oom_control"],
        C::PidsCurrent => &["pids.current"],
        C::PidsMax => &["pids.max"],
        C::PidsLimitHits => &["pids.events"],
        C::CpuUsageUsec => &["cpu.stat", "cpuacct.usage"],
        C::CpuMax => &["cpu.max", "cpu.cfs_quota_us", "cpu.cfs_period_us"],
        C::CpuThrottled => &["cpu.stat"],
        C::Swap => &["memory.swap.max", "memory.swappiness"],
        C::Controllers => &["cgroup.controllers"],
        C::Procs => &["cgroup.procs"],
    }
}

/// How many lines at the top of a view are its column headings, which stay in sight above
/// whatever rows are shown.
pub fn header_rows(view: View) -> usize {
    match view {
        View::Namespaces | View::NsInodes | View::Processes => 1,
        _ => 0,
    }
}

/// The lines of a rendered view (see `views::render`) that show what `focus` names, in order.
/// Tables: the rows of the focused processes or namespaces. Views in sections (`── name … ──`
/// headings, one per process or cgroup): a focused section's heading and, when the checks
/// name fields or files, those lines of it, else all of it. Nothing focused in a namespaces
/// table: the lesson's own (`*`) rows.
pub fn rows(view: View, lines: &[String], focus: &Focus) -> Vec<usize> {
    let header = header_rows(view).min(lines.len());
    let body = (header..lines.len()).map(|i| (i, lines[i].as_str()));
    let first_word = |l: &str| {
        l.trim_start_matches('*')
            .split_whitespace()
            .next()
            .map(str::to_string)
    };
    match view {
        View::NsInodes => body
            .filter(|(_, l)| {
                let word = first_word(l).unwrap_or_default();
                (focus.hostname && word == "(hostname)") || focus.namespaces.contains(&word)
            })
            .map(|(i, _)| i)
            .collect(),
        View::Namespaces => {
            // lsns: NS TYPE NPROCS PID USER COMMAND; `pid_for_children` is a `pid` namespace.
            let types: Vec<&str> = focus
                .namespaces
                .iter()
                .map(|n| n.trim_end_matches("_for_children"))
                .collect();
            let ours = body.filter(|(_, l)| l.starts_with('*'));
            let typed: Vec<usize> = ours
                .clone()
                .filter(|(_, l)| {
                    let kind = l.trim_start_matches('*').split_whitespace().nth(1);
                    kind.is_some_and(|t| types.contains(&t))
                })
                .map(|(i, _)| i)
                .collect();
            if typed.is_empty() {
                ours.map(|(i, _)| i).collect()
            } else {
                typed
            }
        }
        View::Processes => body
            .filter(|(_, l)| first_word(l).is_some_and(|w| focus.processes.contains(&w)))
            .map(|(i, _)| i)
            .collect(),
        _ => section_rows(view, lines, focus),
    }
}

/// In a view made of `── name … ──` sections: the focused sections' headings and lines.
fn section_rows(view: View, lines: &[String], focus: &Focus) -> Vec<usize> {
    let wanted_names: &[String] = if view == View::Cgroup {
        &focus.cgroups
    } else {
        &focus.processes
    };
    // A line is wanted by its key: `NSpid:` in status, `CapBnd (14):` in caps (whose names
    // wrap onto lines of their own), `memory.current` in the cgroup's files.
    let keys: &[String] = if view == View::Cgroup {
        &focus.cgroup_files
    } else {
        &focus.fields
    };
    let key_of = |l: &str| {
        l.split([':', ' ', '\t'])
            .find(|w| !w.is_empty())
            .unwrap_or("")
            .to_string()
    };
    // The id maps say what a Uid or Gid read inside means on the host.
    let mut keys: Vec<String> = keys.to_vec();
    if view == View::IdMaps {
        for (id, map) in [("Uid", "uid_map"), ("Gid", "gid_map")] {
            if keys.iter().any(|k| k == id) {
                keys.push(map.to_string());
            }
        }
    }
    // Only keys this view has narrow a section down (a status field is no line of the net view).
    let keys: Vec<&String> = keys
        .iter()
        .filter(|k| lines.iter().any(|l| key_of(l) == **k))
        .collect();
    let mut out = Vec::new();
    let mut in_wanted = false;
    // Whether the line before belongs to a wanted key (a set's names go on below it).
    let mut keyed = false;
    for (i, line) in lines.iter().enumerate() {
        if let Some(names) = heading_names(line) {
            in_wanted = names.iter().any(|n| wanted_names.iter().any(|w| w == n));
            keyed = false;
            if in_wanted {
                out.push(i);
            }
            continue;
        }
        if !in_wanted {
            continue;
        }
        let continued = line.starts_with("    ") && keyed;
        keyed = continued || keys.contains(&&key_of(line));
        if keys.is_empty() || keyed {
            out.push(i);
        }
    }
    out
}

/// The names a section heading is about: `── init (host pid 12) ──`, `── docker, sandbox:
/// mount namespace … ──`, `── lab: /sys/fs/cgroup/… ──`, `── c1's upper layer: … ──`.
fn heading_names(line: &str) -> Option<Vec<&str>> {
    let rest = line.strip_prefix("── ")?;
    let end = [" (", ": ", "'s ", " の "]
        .iter()
        .filter_map(|sep| rest.find(sep))
        .min()
        .unwrap_or(rest.len());
    Some(rest[..end].split(", ").collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lesson::load::catalog;

    fn lesson(id: &str) -> Lesson {
        catalog(&[])
            .0
            .into_iter()
            .map(|l| l.lesson)
            .find(|l| l.id == id)
            .unwrap()
    }

    fn step(l: &Lesson, id: &str) -> usize {
        l.steps.iter().position(|s| s.id == id).unwrap()
    }

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(String::from).collect()
    }

    #[test]
    fn a_step_s_checks_name_its_processes_namespaces_and_fields() {
        let caps = lesson("caps");
        let f = Focus::of_step(&caps, step(&caps, "docker-profile"));
        // `user` too: a check compares docker's network namespace with user's.
        assert_eq!(f.processes, ["docker", "user"]);
        assert_eq!(f.fields, ["CapEff", "CapBnd", "CapInh"]);
        let uts = lesson("uts");
        let f = Focus::of_step(&uts, step(&uts, "sethostname"));
        assert!(f.hostname);
        assert!(f.namespaces.contains(&"uts".to_string()), "{f:?}");
    }

    #[test]
    fn the_rows_of_a_table_and_the_lines_of_a_section() {
        let focus = Focus {
            processes: vec!["init".into()],
            namespaces: vec!["pid_for_children".into()],
            fields: vec!["NSpid".into(), "CapBnd".into()],
            ..Focus::default()
        };
        let inodes = lines("NS  host  sandbox\nmnt  1  2*\npid  3  3\npid_for_children  3  4*");
        assert_eq!(rows(View::NsInodes, &inodes, &focus), [3]);
        let procs = lines("NAME HOST PID\ninit 12 1\nsandbox 10 10");
        assert_eq!(rows(View::Processes, &procs, &focus), [1]);
        let status = lines(
            "── sandbox (host pid 10) ──\n  NSpid:\t10\n── init (host pid 12) ──\n  Name:\tx\n  NSpid:\t12 1",
        );
        assert_eq!(rows(View::Status, &status, &focus), [2, 4]);
        let caps = lines(
            "── init (host pid 12) ──\n  CapEff (2): a, b\n  CapBnd (14): a,\n    b, c\n  CapInh: (none)",
        );
        assert_eq!(rows(View::Caps, &caps, &focus), [0, 2, 3]);
        // No field of this view named: the whole section.
        let ids = lines(
            "── sandbox (host pid 10) ──\n  uid_map: x\n── init (host pid 12) ──\n  uid_map: y",
        );
        assert_eq!(rows(View::IdMaps, &ids, &focus), [2, 3]);
        let lsns = lines(" NS TYPE\n 1 mnt\n*2 pid\n*3 uts");
        assert_eq!(rows(View::Namespaces, &lsns, &focus), [2]);
        assert_eq!(rows(View::Namespaces, &lsns, &Focus::default()), [2, 3]);
    }
}
