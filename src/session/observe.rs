//! Observations: what a check looks at, read from live state at the moment of the check (the
//! comparison with what the lesson expects is [`super::verdict`]'s).
//!
//! Values that any outside reader can see (namespace inodes, /proc/PID/status, mountinfo) come
//! from the inspector; values that depend on *who* looks (the hostname, a directory listing as
//! seen through a process's own root and mounts) are asked of that sandbox process itself.

use super::placeholders::Facts;
use super::verdict::Observed;
use crate::engine::ops::{Clock, Life, Op, Value};
use crate::engine::sandbox::{EngineError, Sandbox};
use crate::inspect::{mounts, namespaces, process::ProcessView};
use crate::lesson::schema::{CapSet, ClockName, Observe};
use anyhow::{anyhow, bail, Context};
use nix::time::{clock_gettime, ClockId};
use std::collections::HashMap;

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
    /// Pids by name, and what the paths' placeholders are filled from.
    pub facts: &'a Facts,
    pub results: &'a HashMap<String, ActionResult>,
}

impl Scene<'_> {
    fn pid(&self, who: &str) -> anyhow::Result<i32> {
        if who == "host" {
            return Ok(std::process::id() as i32);
        }
        self.facts
            .pids
            .get(who)
            .copied()
            .with_context(|| format!("no process named {who:?} has been started"))
    }

    fn ask(&mut self, who: &str, op: Op) -> anyhow::Result<Value> {
        match self.sandbox.request(who, op) {
            // OpError is the agent protocol's plain data (errno and message), not an Error type.
            Ok(reply) => reply.result.map_err(|e| anyhow!("{e}")),
            Err(EngineError::Interrupted) => Err(anyhow!("interrupted")),
            Err(e) => Err(e.into()),
        }
    }

    fn life(&mut self, who: &str) -> anyhow::Result<Life> {
        if who == "sandbox" || who == "host" {
            return Ok(Life::Running);
        }
        match self.ask("sandbox", Op::Members)? {
            Value::Members(members) => members
                .into_iter()
                .find(|m| m.name == who)
                .map(|m| m.life)
                .with_context(|| format!("no process named {who:?}")),
            other => Err(anyhow!("unexpected answer {other:?}")),
        }
    }

    /// Reads the value `obs` names, now.
    pub fn observe(&mut self, obs: &Observe) -> Observed {
        // `{:#}`: the error with its context chain on one line, as the check's observed value.
        self.try_observe(obs)
            .unwrap_or_else(|e| Observed::Missing(format!("{e:#}")))
    }

    fn try_observe(&mut self, obs: &Observe) -> anyhow::Result<Observed> {
        let facts = self.facts;
        let path = |p: &str| facts.resolve(p);
        Ok(match obs {
            Observe::Hostname(who) if who == "host" => Observed::Text(
                nix::unistd::gethostname().map(|h| h.to_string_lossy().into_owned())?,
            ),
            Observe::Hostname(who) => match self.ask(who, Op::Hostname)? {
                Value::Text(t) => Observed::Text(t),
                other => return Err(anyhow!("unexpected answer {other:?}")),
            },
            Observe::NsInode(n) => {
                let pid = self.pid(&n.of)?;
                let ino = namespaces::ns_inode(pid, n.ns.as_str())
                    .with_context(|| format!("/proc/{pid}/ns/{} cannot be read", n.ns))?;
                Observed::Number(ino as i64)
            }
            Observe::NsOwner(n) => {
                let pid = self.pid(&n.of)?;
                let ino =
                    namespaces::owner_userns_inode(pid, n.ns.as_str()).with_context(|| {
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
                let raw = std::fs::read_to_string(format!("/proc/{}/status", view.pid))?;
                let fields = crate::inspect::process::status_fields(&raw);
                let value = fields
                    .into_iter()
                    .find(|(k, _)| *k == s.field)
                    .map(|(_, v)| v)
                    .with_context(|| format!("/proc/PID/status has no field {:?}", s.field))?;
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
                let dir = path(&p.path)?;
                Observed::List(
                    self.entries(&p.of, &dir)?
                        .into_iter()
                        .map(Observed::Text)
                        .collect(),
                )
            }
            Observe::File(p) => {
                let file = path(&p.path)?;
                let text = if p.of == "host" {
                    std::fs::read_to_string(&file).with_context(|| file.to_string())?
                } else {
                    match self.ask(&p.of, Op::ReadFile { path: file })? {
                        Value::Text(t) => t,
                        other => return Err(anyhow!("unexpected answer {other:?}")),
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
                let target = path(&p.path)?;
                let table = mounts::mounts_of(pid);
                Observed::Text(
                    mounts::mount_at(&table, &target)
                        .map(|m| m.propagation.clone())
                        .unwrap_or_else(|| "not mounted".into()),
                )
            }
            Observe::MountOptions(p) => {
                let pid = self.pid(&p.of)?;
                let target = path(&p.path)?;
                let table = mounts::mounts_of(pid);
                match mounts::mount_at(&table, &target) {
                    Some(m) => {
                        Observed::List(m.options.iter().cloned().map(Observed::Text).collect())
                    }
                    None => Observed::Text("not mounted".into()),
                }
            }
            Observe::Life(who) => Observed::Text(self.life(who)?.to_string()),
            Observe::Result(id) => Observed::Text(
                self.results
                    .get(id)
                    .map(|r| r.outcome.clone())
                    .with_context(|| format!("action {id:?} has not run"))?,
            ),
            Observe::Output(id) => Observed::Text(
                self.results
                    .get(id)
                    .map(|r| r.stdout.trim().to_string())
                    .with_context(|| format!("action {id:?} has not run"))?,
            ),
            Observe::SelfStatus(s) => {
                let raw = self.read_as(&s.of, "/proc/self/status")?;
                let fields = crate::inspect::process::status_fields(&raw);
                Observed::Text(
                    fields
                        .into_iter()
                        .find(|(k, _)| *k == s.field)
                        .map(|(_, v)| v)
                        .with_context(|| format!("/proc/self/status has no field {:?}", s.field))?,
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
                let link = self.link(&d.of, &path(&d.dev)?)?;
                Observed::List(link.flags.into_iter().map(Observed::Text).collect())
            }
            Observe::LinkMaster(d) => {
                let link = self.link(&d.of, &path(&d.dev)?)?;
                Observed::Text(link.master.unwrap_or_else(|| "none".into()))
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
                let key = path(&k.key)?;
                let key: i32 = key
                    .trim()
                    .parse()
                    .map_err(|_| anyhow!("{key:?} is not an IPC key"))?;
                match self.ask(&k.of, Op::ShmRead { key })? {
                    Value::Text(t) => Observed::Text(t),
                    other => return Err(anyhow!("unexpected answer {other:?}")),
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
                let text = crate::engine::cgroups::read_value(&session, &c.name, c.value.as_str())?;
                match text.parse::<i64>() {
                    Ok(n) => Observed::Number(n),
                    Err(_) => Observed::Text(text),
                }
            }
            Observe::Ended(id) => Observed::Text(
                self.results
                    .get(id)
                    .with_context(|| format!("action {id:?} has not run"))?
                    .ended
                    .clone()
                    .with_context(|| format!("action {id:?} did not run a program"))?,
            ),
            Observe::Environ(who) => {
                let pid = self.pid(who)?;
                let raw = std::fs::read(format!("/proc/{pid}/environ"))
                    .with_context(|| format!("/proc/{pid}/environ"))?;
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
                let field = match c.set {
                    CapSet::Effective => "CapEff",
                    CapSet::Permitted => "CapPrm",
                    CapSet::Inheritable => "CapInh",
                    CapSet::Bounding => "CapBnd",
                    CapSet::Ambient => "CapAmb",
                };
                let view = self.process(&c.of)?;
                let names = view
                    .caps
                    .iter()
                    .find(|(k, _)| k == field)
                    .map(|(_, v)| v.clone())
                    .with_context(|| format!("/proc/PID/status has no {field}"))?;
                Observed::List(names.into_iter().map(Observed::Text).collect())
            }
            Observe::FileCaps(p) => {
                if p.of != "host" {
                    bail!("file_caps is read on the host: use `of: host`");
                }
                let file = path(&p.path)?;
                Observed::Text(crate::inspect::filecaps::read(std::path::Path::new(&file))?)
            }
            Observe::Image(i) => {
                let dir = path(&i.dir)?;
                super::image_facts::field(std::path::Path::new(&dir), i.field.as_str())?
            }
            Observe::Inode(p) | Observe::Device(p) | Observe::FileType(p) | Observe::Owner(p) => {
                let target = path(&p.path)?;
                let stat = if p.of == "host" {
                    match std::fs::symlink_metadata(&target) {
                        Ok(m) => Some(crate::engine::syscalls::describe_stat(&m)),
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                        Err(e) => return Err(anyhow::Error::new(e).context(target.clone())),
                    }
                } else {
                    match self.sandbox.stat(&p.of, &target) {
                        Ok(Ok(s)) => Some(s),
                        Ok(Err(e)) if e.errno.as_deref() == Some("ENOENT") => None,
                        Ok(Err(e)) => return Err(anyhow!("{e}")),
                        Err(e) => return Err(e.into()),
                    }
                };
                match (obs, stat) {
                    (Observe::FileType(_), None) => Observed::Text("missing".into()),
                    (_, None) => return Err(anyhow!("{target} does not exist")),
                    (Observe::FileType(_), Some(s)) => Observed::Text(s.kind),
                    (Observe::Device(_), Some(s)) => Observed::Text(s.device()),
                    (Observe::Owner(_), Some(s)) => Observed::Text(s.owner()),
                    (_, Some(s)) => Observed::Number(s.inode as i64),
                }
            }
            Observe::ClockAhead(c) => Observed::Number(self.clock_ahead(&c.of, c.clock)?),
            Observe::TimensOffset(c) => {
                let pid = self.pid(&c.of)?;
                let file = format!("/proc/{pid}/timens_offsets");
                let text = std::fs::read_to_string(&file).with_context(|| file.clone())?;
                Observed::Number(
                    timens_offset(&text, c.clock.as_str())
                        .with_context(|| format!("{file} has no line for {}: {text:?}", c.clock))?,
                )
            }
            Observe::RuntimeSpec(r) => {
                let file = path(&r.path)?;
                let spec = containerlab_oci::runtime::load(std::path::Path::new(&file))?;
                match containerlab_oci::runtime::field(&spec, r.field.as_str())
                    .map_err(|e| anyhow!(e))?
                {
                    containerlab_oci::runtime::SpecValue::Text(t) => Observed::Text(t),
                    containerlab_oci::runtime::SpecValue::Number(n) => Observed::Number(n),
                    containerlab_oci::runtime::SpecValue::List(l) => {
                        Observed::List(l.into_iter().map(Observed::Text).collect())
                    }
                }
            }
            Observe::JsonLog(j) => super::json_log::field(&path(&j.path)?, j.field.as_str())?,
            Observe::Cwd(who) => {
                let pid = self.pid(who)?;
                Observed::Text(cwd_within_root(pid)?)
            }
            Observe::IdCount(m) => {
                let pid = self.pid(&m.of)?;
                let file = format!("/proc/{pid}/{}_map", m.map);
                let text = std::fs::read_to_string(&file).with_context(|| file.clone())?;
                Observed::Number(mapped_id_count(&text).with_context(|| file.clone())?)
            }
            Observe::WhiteoutCount(dir) => {
                let dir = path(dir)?;
                Observed::Number(
                    super::image_facts::whiteout_count(std::path::Path::new(&dir)) as i64,
                )
            }
        })
    }

    /// Seconds `who`'s `clock` is ahead of the lab's, rounded: the lab reads its clock before
    /// and after asking, and compares with the middle, so the time the question took (far
    /// below half a second) cannot tip the rounding.
    fn clock_ahead(&mut self, who: &str, clock: ClockName) -> anyhow::Result<i64> {
        let (id, op_clock) = match clock {
            ClockName::Monotonic => (ClockId::CLOCK_MONOTONIC, Clock::Monotonic),
            ClockName::Boottime => (ClockId::CLOCK_BOOTTIME, Clock::Boottime),
            ClockName::Realtime => (ClockId::CLOCK_REALTIME, Clock::Realtime),
        };
        let secs = |t: nix::sys::time::TimeSpec| t.tv_sec() as f64 + t.tv_nsec() as f64 / 1e9;
        let before = secs(clock_gettime(id)?);
        let theirs = if who == "host" {
            secs(clock_gettime(id)?)
        } else {
            match self.ask(who, Op::ReadClock { clock: op_clock })? {
                Value::Text(t) => t
                    .parse::<f64>()
                    .map_err(|_| anyhow!("{clock} read as {t:?}"))?,
                other => return Err(anyhow!("unexpected answer {other:?}")),
            }
        };
        let after = secs(clock_gettime(id)?);
        Ok((theirs - (before + after) / 2.0).round() as i64)
    }

    /// A file's text as `who` reads it (`host`: this process).
    fn read_as(&mut self, who: &str, file: &str) -> anyhow::Result<String> {
        if who == "host" {
            return std::fs::read_to_string(file).with_context(|| file.to_string());
        }
        match self.ask(who, Op::ReadFile { path: file.into() })? {
            Value::Text(t) => Ok(t),
            other => Err(anyhow!("unexpected answer {other:?}")),
        }
    }

    /// What `ip` would show in that process's network namespace.
    fn net(&self, who: &str) -> anyhow::Result<containerlab_net::NetSnapshot> {
        let pid = self.pid(who)?;
        let ns = format!("/proc/{pid}/ns/net");
        Ok(containerlab_net::snapshot(Some(std::path::Path::new(&ns)))?)
    }

    /// The interface `dev` in `who`'s network namespace.
    fn link(&self, who: &str, dev: &str) -> anyhow::Result<containerlab_net::Link> {
        self.net(who)?
            .links
            .into_iter()
            .find(|l| l.name == dev)
            .with_context(|| format!("no interface {dev} there"))
    }

    fn process(&self, who: &str) -> anyhow::Result<ProcessView> {
        let pid = self.pid(who)?;
        ProcessView::read(pid).with_context(|| format!("process {who:?} (pid {pid}) is gone"))
    }

    fn entries(&mut self, who: &str, dir: &str) -> anyhow::Result<Vec<String>> {
        match self.ask(who, Op::ReadDir { path: dir.into() })? {
            Value::Entries(e) => Ok(e),
            other => Err(anyhow!("unexpected answer {other:?}")),
        }
    }
}

/// The seconds of a clock's line in /proc/PID/timens_offsets (`monotonic  86400  0`).
fn timens_offset(text: &str, clock: &str) -> Option<i64> {
    text.lines().find_map(|l| {
        let mut fields = l.split_whitespace();
        (fields.next()? == clock).then_some(())?;
        fields.next()?.parse().ok()
    })
}

/// Where a process's working directory is, seen from its own root: the kernel keeps both as
/// paths the lab (on the host, in the host's mount namespace) reads through /proc/PID/cwd and
/// /proc/PID/root. A working directory not under the root is what a chroot without chdir
/// leaves, and what `..` can climb from.
fn cwd_within_root(pid: i32) -> anyhow::Result<String> {
    let link = |name: &str| {
        let path = format!("/proc/{pid}/{name}");
        std::fs::read_link(&path).with_context(|| path.clone())
    };
    let (root, cwd) = (link("root")?, link("cwd")?);
    Ok(match cwd.strip_prefix(&root) {
        Ok(rest) => format!("/{}", rest.display()),
        Err(_) => "outside its root".into(),
    })
}

/// The number of ids an id map maps: the sum of each line's third column (`inside outside
/// count`); an error when a line is not three numbers.
fn mapped_id_count(map: &str) -> anyhow::Result<i64> {
    map.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            match fields.as_slice() {
                [_, _, count] => count
                    .parse::<i64>()
                    .map_err(|_| anyhow!("{line:?} has no count")),
                _ => Err(anyhow!("{line:?} is not `inside outside count`")),
            }
        })
        .sum()
}

/// The path of the line of /proc/PID/cgroup for the hierarchy lab cgroups are made in for the
/// memory controller: `0::PATH` on cgroup v2, the line listing `memory` on v1.
pub fn lab_cgroup_line(text: &str) -> anyhow::Result<String> {
    let layout = containerlab_cgroup::detect()?;
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
        .context("no line for the lab's cgroup hierarchy")
}

#[cfg(test)]
mod tests {
    use super::{mapped_id_count, timens_offset};

    #[test]
    fn timens_offsets_lines_are_read_by_clock_name() {
        // As the kernel prints it: "%-10s %10lld %9ld".
        let text = "monotonic       86400         0\nboottime       604800         0\n";
        assert_eq!(timens_offset(text, "monotonic"), Some(86400));
        assert_eq!(timens_offset(text, "boottime"), Some(604800));
        assert_eq!(timens_offset(text, "realtime"), None);
        assert_eq!(timens_offset("monotonic -5 0\n", "monotonic"), Some(-5));
    }

    #[test]
    fn an_id_map_counts_its_ranges() {
        assert_eq!(
            mapped_id_count("         0       1000          1\n").unwrap(),
            1
        );
        assert_eq!(
            mapped_id_count("0 1000 1\n1 100000 65536\n").unwrap(),
            65537
        );
        assert_eq!(mapped_id_count("").unwrap(), 0);
        assert!(mapped_id_count("0 1000\n").is_err());
    }
}
