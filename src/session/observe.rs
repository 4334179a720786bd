//! Observations and verdicts: what a check looks at, read from live state at the moment of the
//! check, and the comparison with what the lesson expects.
//!
//! Values that any outside reader can see (namespace inodes, /proc/PID/status, mountinfo) come
//! from the inspector; values that depend on *who* looks (the hostname, a directory listing as
//! seen through a process's own root and mounts) are asked of that sandbox process itself.

use super::template::expand;
use crate::engine::ops::{Life, Op, Value};
use crate::engine::sandbox::{EngineError, Sandbox};
use crate::i18n::fill;
use crate::inspect::{mounts, namespaces, process::ProcessView};
use crate::lesson::schema::{Expect, Literal, Observe, Pick};
use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// An observed value.
#[derive(Debug, Clone, PartialEq)]
pub enum Observed {
    Number(i64),
    Text(String),
    List(Vec<Observed>),
    /// Nothing could be read; the text says why (the process has exited, say).
    Missing(String),
}

/// How many items of a list a check shows before `… N more`.
const SHOWN_ITEMS: usize = 12;

crate::i18n::messages! {
    MORE = "… {} more", "… ほか {} 個";
    NOTHING = "(nothing: {})", "(なし: {})";
    CONTAINS = "contains {}", "{} を含む";
    NOT_CONTAINS = "does not contain {}", "{} を含まない";
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text("en"))
    }
}

impl Observed {
    /// The value as a check shows it, its own words in `lang`.
    pub fn text(&self, lang: &str) -> String {
        match self {
            Observed::Number(n) => n.to_string(),
            Observed::Text(s) => format!("{s:?}"),
            Observed::List(items) => {
                let mut shown: Vec<String> = items
                    .iter()
                    .take(SHOWN_ITEMS)
                    .map(|i| i.text(lang))
                    .collect();
                let more = items.len().saturating_sub(SHOWN_ITEMS);
                if more > 0 {
                    shown.push(fill(MORE.get(lang), &[&more]));
                }
                format!("[{}]", shown.join(", "))
            }
            Observed::Missing(why) => fill(NOTHING.get(lang), &[why]),
        }
    }
}

impl Observed {
    fn plain(&self) -> String {
        match self {
            Observed::Text(s) => s.clone(),
            other => other.to_string(),
        }
    }

    fn from_literal(l: &Literal) -> Observed {
        match l {
            Literal::Number(n) => Observed::Number(*n),
            Literal::Text(s) => Observed::Text(s.clone()),
        }
    }
}

/// What an action left for checks to look at.
#[derive(Debug, Clone)]
pub struct ActionResult {
    /// `ok` or the errno name.
    pub outcome: String,
    pub stdout: String,
    /// How a `run` ended (`exited with status 0`, `killed by SIGKILL`).
    pub ended: Option<String>,
}

/// Everything an observation may consult.
pub struct Scene<'a> {
    pub sandbox: &'a mut Sandbox,
    pub pids: &'a BTreeMap<String, i32>,
    pub results: &'a HashMap<String, ActionResult>,
    /// Files and layer directories of the unpacked image (`{image_file:N}` and friends).
    pub samples: &'a super::image_facts::Samples,
}

impl Scene<'_> {
    fn pid(&self, who: &str) -> Result<i32, String> {
        if who == "host" {
            return Ok(std::process::id() as i32);
        }
        self.pids
            .get(who)
            .copied()
            .ok_or_else(|| format!("no process named {who:?} has been started"))
    }

    fn ask(&mut self, who: &str, op: Op) -> Result<Value, String> {
        match self.sandbox.request(who, op) {
            Ok(reply) => reply.result.map_err(|e| e.to_string()),
            Err(EngineError::Interrupted) => Err("interrupted".into()),
            Err(e) => Err(e.to_string()),
        }
    }

    fn life(&mut self, who: &str) -> Result<Life, String> {
        if who == "sandbox" || who == "host" {
            return Ok(Life::Running);
        }
        match self.ask("sandbox", Op::Members)? {
            Value::Members(members) => members
                .into_iter()
                .find(|m| m.name == who)
                .map(|m| m.life)
                .ok_or_else(|| format!("no process named {who:?}")),
            other => Err(format!("unexpected answer {other:?}")),
        }
    }

    /// Reads the value `obs` names, now.
    pub fn observe(&mut self, obs: &Observe) -> Observed {
        self.try_observe(obs).unwrap_or_else(Observed::Missing)
    }

    fn try_observe(&mut self, obs: &Observe) -> Result<Observed, String> {
        let work = self.sandbox.work();
        if let Some(why) = super::image_facts::unresolved(&self.samples.expand(&format!("{obs:?}")))
        {
            return Err(why);
        }
        let samples = self.samples;
        let path = |p: &str, pids: &BTreeMap<String, i32>| samples.expand(&expand(p, &work, pids));
        Ok(match obs {
            Observe::Hostname(who) if who == "host" => Observed::Text(
                nix::unistd::gethostname()
                    .map(|h| h.to_string_lossy().into_owned())
                    .map_err(|e| e.to_string())?,
            ),
            Observe::Hostname(who) => match self.ask(who, Op::Hostname)? {
                Value::Text(t) => Observed::Text(t),
                other => return Err(format!("unexpected answer {other:?}")),
            },
            Observe::NsInode(n) => {
                let pid = self.pid(&n.of)?;
                let ino = namespaces::ns_inode(pid, &n.ns)
                    .ok_or_else(|| format!("/proc/{pid}/ns/{} cannot be read", n.ns))?;
                Observed::Number(ino as i64)
            }
            Observe::NsOwner(n) => {
                let pid = self.pid(&n.of)?;
                let ino = namespaces::owner_userns_inode(pid, &n.ns).ok_or_else(|| {
                    format!("the owner of /proc/{pid}/ns/{} cannot be read", n.ns)
                })?;
                Observed::Number(ino as i64)
            }
            Observe::Nspid(who) => {
                let view = self.process(who)?;
                Observed::List(
                    view.nspid
                        .iter()
                        .map(|p| Observed::Number(*p as i64))
                        .collect(),
                )
            }
            Observe::Pid(who) => Observed::Number(self.pid(who)? as i64),
            Observe::Status(s) => {
                let view = self.process(&s.of)?;
                let raw = std::fs::read_to_string(format!("/proc/{}/status", view.pid))
                    .map_err(|e| e.to_string())?;
                let fields = crate::inspect::process::status_fields(&raw);
                let value = fields
                    .into_iter()
                    .find(|(k, _)| *k == s.field)
                    .map(|(_, v)| v)
                    .ok_or_else(|| format!("/proc/PID/status has no field {:?}", s.field))?;
                Observed::Text(value)
            }
            Observe::ProcPids(who) => {
                let entries = if who == "host" {
                    namespaces::pids()
                        .into_iter()
                        .map(|p| p.to_string())
                        .collect()
                } else {
                    self.entries(who, "/proc")?
                };
                Observed::List(
                    entries
                        .iter()
                        .filter_map(|e| e.parse::<i64>().ok())
                        .map(Observed::Number)
                        .collect(),
                )
            }
            Observe::ReadDir(p) => {
                let dir = path(&p.path, self.pids);
                Observed::List(
                    self.entries(&p.of, &dir)?
                        .into_iter()
                        .map(Observed::Text)
                        .collect(),
                )
            }
            Observe::File(p) => {
                let file = path(&p.path, self.pids);
                let text = if p.of == "host" {
                    std::fs::read_to_string(&file).map_err(|e| format!("{file}: {e}"))?
                } else {
                    match self.ask(&p.of, Op::ReadFile { path: file })? {
                        Value::Text(t) => t,
                        other => return Err(format!("unexpected answer {other:?}")),
                    }
                };
                Observed::Text(text.trim().to_string())
            }
            Observe::MountPoints(who) => {
                let pid = self.pid(who)?;
                Observed::List(
                    mounts::mounts_of(pid)
                        .into_iter()
                        .map(|m| Observed::Text(m.mount_point))
                        .collect(),
                )
            }
            Observe::Propagation(p) => {
                let pid = self.pid(&p.of)?;
                let target = path(&p.path, self.pids);
                let table = mounts::mounts_of(pid);
                Observed::Text(
                    mounts::mount_at(&table, &target)
                        .map(|m| m.propagation.clone())
                        .unwrap_or_else(|| "not mounted".into()),
                )
            }
            Observe::Life(who) => Observed::Text(self.life(who)?.to_string()),
            Observe::Result(id) => Observed::Text(
                self.results
                    .get(id)
                    .map(|r| r.outcome.clone())
                    .ok_or_else(|| format!("action {id:?} has not run"))?,
            ),
            Observe::Output(id) => Observed::Text(
                self.results
                    .get(id)
                    .map(|r| r.stdout.trim().to_string())
                    .ok_or_else(|| format!("action {id:?} has not run"))?,
            ),
            Observe::SelfStatus(s) => {
                let raw = self.read_as(&s.of, "/proc/self/status")?;
                let fields = crate::inspect::process::status_fields(&raw);
                Observed::Text(
                    fields
                        .into_iter()
                        .find(|(k, _)| *k == s.field)
                        .map(|(_, v)| v)
                        .ok_or_else(|| format!("/proc/self/status has no field {:?}", s.field))?,
                )
            }
            Observe::Links(who) => {
                let snap = self.net(who)?;
                Observed::List(
                    snap.links
                        .into_iter()
                        .map(|l| Observed::Text(l.name))
                        .collect(),
                )
            }
            Observe::LinkFlags(d) => {
                let snap = self.net(&d.of)?;
                let dev = path(&d.dev, self.pids);
                let link = snap
                    .links
                    .into_iter()
                    .find(|l| l.name == dev)
                    .ok_or_else(|| format!("no interface {dev} there"))?;
                Observed::List(link.flags.into_iter().map(Observed::Text).collect())
            }
            Observe::Addresses(who) => {
                let snap = self.net(who)?;
                Observed::List(
                    snap.addresses
                        .into_iter()
                        .map(|a| Observed::Text(format!("{}/{}", a.address, a.prefix_len)))
                        .collect(),
                )
            }
            Observe::Routes(who) => {
                let snap = self.net(who)?;
                Observed::List(
                    snap.routes
                        .iter()
                        .map(|r| Observed::Text(r.render()))
                        .collect(),
                )
            }
            Observe::Listening(who) => {
                let pid = self.pid(who)?;
                Observed::List(
                    crate::inspect::sockets::listening(pid)?
                        .iter()
                        .map(|l| Observed::Text(l.shown()))
                        .collect(),
                )
            }
            Observe::ListeningPorts(who) => {
                let pid = self.pid(who)?;
                let mut ports: Vec<u16> = crate::inspect::sockets::listening(pid)?
                    .iter()
                    .map(|l| l.address.port())
                    .collect();
                ports.sort_unstable();
                ports.dedup();
                Observed::List(
                    ports
                        .into_iter()
                        .map(|p| Observed::Number(p.into()))
                        .collect(),
                )
            }
            Observe::ShmKeys(who) => {
                let raw = self.read_as(who, "/proc/sysvipc/shm")?;
                Observed::List(
                    raw.lines()
                        .skip(1)
                        .filter_map(|l| l.split_whitespace().next()?.parse::<i64>().ok())
                        .map(Observed::Number)
                        .collect(),
                )
            }
            Observe::ShmText(k) => {
                let key = path(&k.key, self.pids);
                let key: i32 = key
                    .trim()
                    .parse()
                    .map_err(|_| format!("{key:?} is not an IPC key"))?;
                match self.ask(&k.of, Op::ShmRead { key })? {
                    Value::Text(t) => Observed::Text(t),
                    other => return Err(format!("unexpected answer {other:?}")),
                }
            }
            Observe::CgroupPath(c) => {
                let pid = self.pid(&c.of)?;
                let reader = c.seen_by.clone().unwrap_or_else(|| c.of.clone());
                let raw = self.read_as(&reader, &format!("/proc/{pid}/cgroup"))?;
                Observed::Text(lab_cgroup_line(&raw)?)
            }
            Observe::Cgroup(c) => {
                let session = self.sandbox.rundir().id.clone();
                let text = crate::engine::cgroups::read_value(&session, &c.name, &c.value)?;
                match text.parse::<i64>() {
                    Ok(n) => Observed::Number(n),
                    Err(_) => Observed::Text(text),
                }
            }
            Observe::Ended(id) => Observed::Text(
                self.results
                    .get(id)
                    .ok_or_else(|| format!("action {id:?} has not run"))?
                    .ended
                    .clone()
                    .ok_or_else(|| format!("action {id:?} did not run a program"))?,
            ),
            Observe::Environ(who) => {
                let pid = self.pid(who)?;
                let raw = std::fs::read(format!("/proc/{pid}/environ"))
                    .map_err(|e| format!("/proc/{pid}/environ: {e}"))?;
                Observed::List(
                    raw.split(|b| *b == 0)
                        .filter(|v| !v.is_empty())
                        .map(|v| {
                            let entry = String::from_utf8_lossy(v);
                            let name = entry.split('=').next().unwrap_or_default();
                            Observed::Text(name.to_string())
                        })
                        .collect(),
                )
            }
            Observe::Caps(c) => {
                let field = match c.set.as_str() {
                    "effective" => "CapEff",
                    "permitted" => "CapPrm",
                    "inheritable" => "CapInh",
                    "bounding" => "CapBnd",
                    "ambient" => "CapAmb",
                    other => return Err(format!("unknown capability set {other:?}")),
                };
                let view = self.process(&c.of)?;
                let names = view
                    .caps
                    .iter()
                    .find(|(k, _)| k == field)
                    .map(|(_, v)| v.clone())
                    .ok_or_else(|| format!("/proc/PID/status has no {field}"))?;
                Observed::List(names.into_iter().map(Observed::Text).collect())
            }
            Observe::FileCaps(p) => {
                if p.of != "host" {
                    return Err("file_caps is read on the host: use `of: host`".into());
                }
                let file = path(&p.path, self.pids);
                Observed::Text(crate::inspect::filecaps::read(std::path::Path::new(&file))?)
            }
            Observe::Image(i) => {
                let dir = path(&i.dir, self.pids);
                super::image_facts::field(std::path::Path::new(&dir), &i.field)?
            }
            Observe::Inode(p) | Observe::Device(p) | Observe::FileType(p) | Observe::Owner(p) => {
                let target = path(&p.path, self.pids);
                let stat = if p.of == "host" {
                    match std::fs::symlink_metadata(&target) {
                        Ok(m) => Some(crate::engine::syscalls::describe_stat(&m)),
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                        Err(e) => return Err(format!("{target}: {e}")),
                    }
                } else {
                    match self.sandbox.stat(&p.of, &target) {
                        Ok(Ok(s)) => Some(s),
                        Ok(Err(e)) if e.errno.as_deref() == Some("ENOENT") => None,
                        Ok(Err(e)) => return Err(e.to_string()),
                        Err(e) => return Err(e.to_string()),
                    }
                };
                match (obs, stat) {
                    (Observe::FileType(_), None) => Observed::Text("missing".into()),
                    (_, None) => return Err(format!("{target} does not exist")),
                    (Observe::FileType(_), Some(s)) => Observed::Text(s.kind),
                    (Observe::Device(_), Some(s)) => Observed::Text(s.device()),
                    (Observe::Owner(_), Some(s)) => Observed::Text(s.owner()),
                    (_, Some(s)) => Observed::Number(s.inode as i64),
                }
            }
            Observe::WhiteoutCount(dir) => {
                let dir = path(dir, self.pids);
                Observed::Number(
                    super::image_facts::whiteout_count(std::path::Path::new(&dir)) as i64,
                )
            }
        })
    }

    /// A file's text as `who` reads it (`host`: this process).
    fn read_as(&mut self, who: &str, file: &str) -> Result<String, String> {
        if who == "host" {
            return std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"));
        }
        match self.ask(who, Op::ReadFile { path: file.into() })? {
            Value::Text(t) => Ok(t),
            other => Err(format!("unexpected answer {other:?}")),
        }
    }

    /// What `ip` would show in that process's network namespace.
    fn net(&self, who: &str) -> Result<containerlab_net::NetSnapshot, String> {
        let pid = self.pid(who)?;
        let ns = format!("/proc/{pid}/ns/net");
        containerlab_net::snapshot(Some(std::path::Path::new(&ns))).map_err(|e| e.to_string())
    }

    fn process(&self, who: &str) -> Result<ProcessView, String> {
        let pid = self.pid(who)?;
        ProcessView::read(pid).ok_or_else(|| format!("process {who:?} (pid {pid}) is gone"))
    }

    fn entries(&mut self, who: &str, dir: &str) -> Result<Vec<String>, String> {
        match self.ask(who, Op::ReadDir { path: dir.into() })? {
            Value::Entries(e) => Ok(e),
            other => Err(format!("unexpected answer {other:?}")),
        }
    }
}

/// Applies a `pick` to an observed list.
pub fn pick(value: Observed, pick: Option<Pick>) -> Observed {
    match (pick, value) {
        (None, v) => v,
        (Some(Pick::Count), Observed::List(items)) => Observed::Number(items.len() as i64),
        (Some(Pick::AllButLast), Observed::List(mut items)) => {
            items.pop();
            Observed::List(items)
        }
        (Some(Pick::First), Observed::List(items)) => items
            .into_iter()
            .next()
            .unwrap_or(Observed::Missing("the list is empty".into())),
        (Some(Pick::Last), Observed::List(items)) => items
            .into_iter()
            .last()
            .unwrap_or(Observed::Missing("the list is empty".into())),
        // A single value is its own first and last element: `pick` applies to lists only.
        (Some(_), other) => other,
    }
}

/// The observed value as a check shows it. A long list is cut after its first items; when the
/// check looks for one item further down, that item is shown in its place in the list, so the
/// learner sees the PID the check found (or did not find where it should be).
pub fn shown(observed: &Observed, expect: &Expect, other: Option<&Observed>, lang: &str) -> String {
    let needle = match expect {
        Expect::Contains(l) | Expect::NotContains(l) => Some(Observed::from_literal(l)),
        Expect::ContainsObserved(_) | Expect::NotContainsObserved(_) => other.cloned(),
        _ => None,
    };
    let (Observed::List(items), Some(needle)) = (observed, needle) else {
        return observed.text(lang);
    };
    let found = items
        .iter()
        .position(|i| !matches!(needle, Observed::Missing(_)) && i.plain() == needle.plain());
    match found {
        Some(at) if at >= SHOWN_ITEMS => {
            let mut shown: Vec<String> =
                items[..SHOWN_ITEMS].iter().map(|i| i.text(lang)).collect();
            let between = at - SHOWN_ITEMS;
            let after = items.len() - at - 1;
            if between > 0 {
                shown.push(fill(MORE.get(lang), &[&between]));
            }
            shown.push(items[at].text(lang));
            if after > 0 {
                shown.push(fill(MORE.get(lang), &[&after]));
            }
            format!("[{}]", shown.join(", "))
        }
        _ => observed.text(lang),
    }
}

/// The verdict: passed or not, and the expectation in words.
pub fn judge(
    observed: &Observed,
    expect: &Expect,
    other: Option<&Observed>,
    lang: &str,
) -> (bool, String) {
    let same = |a: &Observed, b: &Observed| match (a, b) {
        (Observed::Missing(_), _) | (_, Observed::Missing(_)) => false,
        _ => a.plain() == b.plain(),
    };
    let contains = |hay: &Observed, needle: &Observed| match hay {
        Observed::List(items) => items.iter().any(|i| same(i, needle)),
        Observed::Text(t) => t.contains(&needle.plain()),
        _ => false,
    };
    let number = |o: &Observed| match o {
        Observed::Number(n) => Some(*n),
        Observed::Text(t) => t.trim().parse().ok(),
        _ => None,
    };
    let missing = matches!(observed, Observed::Missing(_));
    let other_v = || {
        other
            .cloned()
            .unwrap_or(Observed::Missing("not observed".into()))
    };
    match expect {
        Expect::Equals(l) => (same(observed, &Observed::from_literal(l)), format!("= {l}")),
        Expect::NotEquals(l) => (
            !missing && !same(observed, &Observed::from_literal(l)),
            format!("≠ {l}"),
        ),
        Expect::Same(_) => {
            let o = other_v();
            (same(observed, &o), format!("= {}", o.text(lang)))
        }
        Expect::Differs(_) => {
            let o = other_v();
            (
                !missing && !matches!(o, Observed::Missing(_)) && !same(observed, &o),
                format!("≠ {}", o.text(lang)),
            )
        }
        Expect::Contains(l) => (
            contains(observed, &Observed::from_literal(l)),
            fill(CONTAINS.get(lang), &[l]),
        ),
        Expect::NotContains(l) => (
            !missing && !contains(observed, &Observed::from_literal(l)),
            fill(NOT_CONTAINS.get(lang), &[l]),
        ),
        Expect::ContainsObserved(_) => {
            let o = other_v();
            (
                contains(observed, &o),
                fill(CONTAINS.get(lang), &[&o.text(lang)]),
            )
        }
        Expect::NotContainsObserved(_) => {
            let o = other_v();
            (
                !missing && !matches!(o, Observed::Missing(_)) && !contains(observed, &o),
                fill(NOT_CONTAINS.get(lang), &[&o.text(lang)]),
            )
        }
        Expect::AtLeast(n) => (number(observed).is_some_and(|v| v >= *n), format!("≥ {n}")),
        Expect::AtMost(n) => (number(observed).is_some_and(|v| v <= *n), format!("≤ {n}")),
    }
}

/// The path of the line of /proc/PID/cgroup for the hierarchy lab cgroups are made in for the
/// memory controller: `0::PATH` on cgroup v2, the line listing `memory` on v1.
pub fn lab_cgroup_line(text: &str) -> Result<String, String> {
    let layout = containerlab_cgroup::detect().map_err(|e| e.to_string())?;
    let v2 = layout.memory.version == containerlab_cgroup::Version::V2;
    text.lines()
        .filter_map(|l| {
            let mut parts = l.splitn(3, ':');
            Some((parts.next()?, parts.next()?, parts.next()?))
        })
        .find(|(id, controllers, _)| {
            if v2 {
                *id == "0" && controllers.is_empty()
            } else {
                controllers.split(',').any(|c| c == "memory")
            }
        })
        .map(|(_, _, path)| path.to_string())
        .ok_or_else(|| "no line for the lab's cgroup hierarchy".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_texts_compare_by_value() {
        let (ok, shown) = judge(
            &Observed::Number(1),
            &Expect::Equals(Literal::Number(1)),
            None,
            "en",
        );
        assert!(ok);
        assert_eq!(shown, "= 1");
        let (ok, _) = judge(
            &Observed::Text("lab".into()),
            &Expect::Equals(Literal::Text("lab".into())),
            None,
            "en",
        );
        assert!(ok);
    }

    #[test]
    fn a_long_list_shows_the_item_a_check_looks_for() {
        let pids = Observed::List((1..=70).map(Observed::Number).collect());
        let wanted = Expect::Contains(Literal::Number(60));
        assert_eq!(
            shown(&pids, &wanted, None, "en"),
            "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, … 47 more, 60, … 10 more]"
        );
        let host = Observed::Number(70);
        assert_eq!(
            shown(
                &pids,
                &Expect::ContainsObserved(crate::lesson::schema::Observe::Result("pid".into())),
                Some(&host),
                "en"
            ),
            "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, … 57 more, 70]"
        );
        // Within the first items, or absent: the list as usual.
        let near = Expect::Contains(Literal::Number(3));
        assert_eq!(shown(&pids, &near, None, "en"), pids.to_string());
        let absent = Expect::Contains(Literal::Number(99));
        assert!(shown(&pids, &absent, None, "en").ends_with(", … 58 more]"));
        // In a Japanese room, the list's own words are Japanese.
        assert_eq!(
            shown(&pids, &wanted, None, "ja"),
            "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, … ほか 47 個, 60, … ほか 10 個]"
        );
        assert_eq!(judge(&pids, &wanted, None, "ja").1, "60 を含む");
    }

    #[test]
    fn a_missing_value_never_passes_a_negative_check() {
        let gone = Observed::Missing("process exited".into());
        let (ok, _) = judge(&gone, &Expect::NotEquals(Literal::Number(1)), None, "en");
        assert!(!ok);
        let (ok, _) = judge(
            &gone,
            &Expect::Differs(Observe::Pid("x".into())),
            Some(&Observed::Number(3)),
            "en",
        );
        assert!(!ok);
    }

    #[test]
    fn pick_reduces_lists() {
        let l = Observed::List(vec![Observed::Number(4242), Observed::Number(1)]);
        assert_eq!(pick(l.clone(), Some(Pick::Last)), Observed::Number(1));
        assert_eq!(pick(l.clone(), Some(Pick::First)), Observed::Number(4242));
        assert_eq!(
            pick(l.clone(), Some(Pick::AllButLast)),
            Observed::List(vec![Observed::Number(4242)])
        );
        assert_eq!(pick(l, Some(Pick::Count)), Observed::Number(2));
        let (ok, _) = judge(
            &Observed::List(vec![Observed::Number(1)]),
            &Expect::Contains(Literal::Number(1)),
            None,
            "en",
        );
        assert!(ok);
    }
}
