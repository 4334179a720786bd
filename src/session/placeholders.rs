//! The one placeholder resolver. Lesson strings name what only the running session knows with
//! `{…}` placeholders, and every front end gets them filled here, from one set of [`Facts`]:
//!
//! | placeholder | becomes | known |
//! |---|---|---|
//! | `{work}` | the session's work directory on the host | once the sandbox started |
//! | `{exe}` | this program's binary | always |
//! | `{pid:NAME}` | the host PID of the sandbox process `NAME` | once `NAME` was spawned |
//! | `{which:PROG}` | where `PROG` is on this machine (`/nonexistent/PROG` when missing, so running it fails with ENOENT) | always |
//! | `{cgroup_file:KEY}` | the file this machine's memory controller uses for `KEY` (`memory_limit` is `memory.max` on v2, `memory.limit_in_bytes` on v1; see [`cgroup_file`]) | always |
//! | `{root_device:source}`, `{root_device:fstype}` | the block device the host's `/` is mounted from, and its filesystem (see the `root_block_device` requirement) | when there is one |
//! | `{image_file:N}`, `{image_file_layer:N}`, `{image_lowerdirs}` | a file of the unpacked image, the layer directory holding it, the overlay `lowerdir=` list (see [`super::image_facts`]) | after `layer_unpack` of all layers |
//!
//! `{var:NAME}` is not one of them: the lesson loader replaces it in the file's text before the
//! lesson is even parsed (it may stand where a number is expected).
//!
//! Anything else in braces (`${HOME}`, awk's `{print $2}`) is not a placeholder and stays.
//! [`Facts::resolve`] is strict, for what the engine runs and checks compare: a placeholder it
//! cannot fill yet is an [`Unresolved`] error naming it. [`Facts::display`] is for text a learner
//! reads, also before the facts exist (a step not yet run): it leaves such a placeholder as
//! written, and always leaves `{work}` and `{pid:NAME}`, whose values are long and new in every
//! session (a text names the directory, not this run's path to it).

use super::image_facts::Samples;
use crate::lesson::schema::{Expect, Literal};
use containerlab_cgroup::Version;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Everything a placeholder can name, as the session knows it now.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    /// The session's work directory on the host (None before the sandbox started).
    pub work: Option<PathBuf>,
    /// This program's binary, for lessons that run the lab's own workloads.
    pub exe: String,
    /// Host PIDs of the sandbox's processes by name (`sandbox` is the holder).
    pub pids: BTreeMap<String, i32>,
    /// Files and layer directories of the unpacked image.
    pub samples: Samples,
    /// The memory controller's cgroup version on this machine (None when none was found).
    pub cgroup: Option<Version>,
    /// A directory of the lab's own commands for a learner's shell (`containerlab`, `alloc`,
    /// `forkbomb`), put first on its PATH.
    pub tools: Option<PathBuf>,
    /// Short names of the cgroups the lesson made with `cgroup_create`, in order.
    pub cgroups: Vec<String>,
    /// The block device the host's `/` is mounted from, when it is one (`/dev/vda`).
    pub root_device: Option<String>,
}

/// The PATH a learner's shell gets after the tools directory: the usual one of a root shell.
const SHELL_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// A placeholder that names something the session does not know (yet).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unresolved {
    #[error("{0}: the sandbox has not started, so there is no work directory yet")]
    NoWork(String),
    #[error("{0}: no process of that name has been spawned")]
    NoProcess(String),
    #[error("{0}: no cgroup memory controller was found on this machine")]
    NoCgroup(String),
    #[error("{0}: not a file this lab knows for the memory controller")]
    UnknownCgroupFile(String),
    #[error("{0}: no `layer_unpack` of all layers has run before this")]
    NoLayers(String),
    #[error(
        "{0}: the image's layers do not show that many small text files for the lesson to change \
         (it picks up to 8, non-empty, at most 64 KiB, UTF-8)"
    )]
    NoImageFile(String),
    #[error("{0}: the host's / is not a disk filesystem mounted from a block device")]
    NoRootDevice(String),
}

/// The placeholder names this resolver knows; `{name}` or `{name:argument}`.
const NAMES: [&str; 9] = [
    "work",
    "exe",
    "pid",
    "which",
    "cgroup_file",
    "image_file",
    "image_file_layer",
    "image_lowerdirs",
    "root_device",
];

impl Facts {
    /// The facts that need no sandbox: the binary and the cgroup layout.
    pub fn of_machine() -> Facts {
        Facts {
            exe: std::env::current_exe()
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_else(|_| "/proc/self/exe".into()),
            cgroup: containerlab_cgroup::detect()
                .ok()
                .map(|layout| layout.memory.version),
            root_device: containerlab_inspect::mounts::root_block_device().map(|d| d.source),
            ..Facts::default()
        }
    }

    /// `text` with every placeholder filled; the first one that cannot be is the error.
    pub fn resolve(&self, text: &str) -> Result<String, Unresolved> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some((before, token, name, arg, after)) = next_placeholder(rest) {
            out.push_str(before);
            out.push_str(&self.value(token, name, arg)?);
            rest = after;
        }
        out.push_str(rest);
        Ok(out)
    }

    /// `text` for a learner to read: every placeholder that can be filled filled, but for the
    /// session's own path and pids, which are long and new each session: those are written as
    /// the variables the learner's shell defines ([`Facts::shell_env`]), `$WORK` for `{work}`
    /// and `$BOX` for `{pid:box}`, so a command shown works when typed. Others that cannot be
    /// filled yet (an image file before the image is unpacked) are left as written.
    pub fn display(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some((before, token, name, arg, after)) = next_placeholder(rest) {
            out.push_str(before);
            match (name, arg) {
                ("work", _) => out.push_str("$WORK"),
                ("pid", Some(process)) => {
                    out.push('$');
                    out.push_str(&shell_name(process));
                }
                _ => match self.value(token, name, arg) {
                    Ok(v) => out.push_str(&v),
                    Err(_) => out.push_str(token),
                },
            }
            rest = after;
        }
        out.push_str(rest);
        out
    }

    /// The names a learner's shell (and an exercise's solution) gets in its environment, so the
    /// commands a lesson shows work when typed: `PATH` with the lab's tools first, `WORK` (the
    /// work directory on the host) and the host PID of every sandbox process under its name in
    /// capitals, `-` as `_` (`SANDBOX`, `INIT`, `DOCKER_PROXY`).
    pub fn shell_env(&self) -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> = self
            .tools
            .iter()
            .map(|t| ("PATH".to_string(), format!("{}:{SHELL_PATH}", t.display())))
            .collect();
        env.extend(
            self.work
                .iter()
                .map(|w| ("WORK".to_string(), w.to_string_lossy().into_owned())),
        );
        for (name, pid) in &self.pids {
            env.push((shell_name(name), pid.to_string()));
        }
        env.extend(self.cgroup_dirs());
        // `ROOT_DEVICE`: what `{root_device:source}` names, for the privileged lesson's shell.
        env.extend(
            self.root_device
                .iter()
                .map(|d| ("ROOT_DEVICE".to_string(), d.clone())),
        );
        // `IMAGE_FILE_N`: what `{image_file:N}` names in the texts, so an exercise on the
        // learner's own image (`--image`) has a solution that names the same file.
        for (n, (file, _)) in self.samples.files.iter().enumerate() {
            env.push((format!("IMAGE_FILE_{}", n + 1), file.clone()));
        }
        env
    }

    /// `CGROUP_<NAME>`: the directory of each cgroup the lesson made in the memory controller's
    /// hierarchy (`containerlab/<session>-<name>`, as the engine names it), so a learner can
    /// write `$CGROUP_LAB/memory.max` without knowing the session's id; `CGROUP_<NAME>_PIDS` the
    /// one in the pids controller's and `CGROUP_<NAME>_CPU` the cpu controller's (the same
    /// directory on v2, their own trees on v1; systemd links `/sys/fs/cgroup/cpu` to a joint
    /// `cpu,cpuacct` tree where there is one).
    fn cgroup_dirs(&self) -> Vec<(String, String)> {
        let (Some(version), Some(work)) = (self.cgroup, &self.work) else {
            return Vec::new();
        };
        let root = cgroup_file(version, "root").unwrap_or("/sys/fs/cgroup");
        let (pids_root, cpu_root) = match version {
            Version::V2 => (root, root),
            Version::V1 => ("/sys/fs/cgroup/pids", "/sys/fs/cgroup/cpu"),
        };
        let session = work
            .parent()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut env = Vec::new();
        for name in &self.cgroups {
            let var = format!("CGROUP_{}", shell_name(name));
            let dir = format!("containerlab/{session}-{name}");
            env.push((var.clone(), format!("{root}/{dir}")));
            env.push((format!("{var}_PIDS"), format!("{pids_root}/{dir}")));
            env.push((format!("{var}_CPU"), format!("{cpu_root}/{dir}")));
        }
        env
    }

    /// An expectation with the placeholders in its text literal filled (a check compares
    /// `{work}/scratch` with what the mount table shows).
    pub fn resolve_expect(&self, expect: &Expect) -> Result<Expect, Unresolved> {
        let lit = |l: &Literal| match l {
            Literal::Text(t) => self.resolve(t).map(Literal::Text),
            other => Ok(other.clone()),
        };
        Ok(match expect {
            Expect::Equals(l) => Expect::Equals(lit(l)?),
            Expect::NotEquals(l) => Expect::NotEquals(lit(l)?),
            Expect::Contains(l) => Expect::Contains(lit(l)?),
            Expect::NotContains(l) => Expect::NotContains(lit(l)?),
            other => other.clone(),
        })
    }

    fn value(&self, token: &str, name: &str, arg: Option<&str>) -> Result<String, Unresolved> {
        let owned = || token.to_string();
        match (name, arg) {
            ("work", None) => self
                .work
                .as_ref()
                .map(|w| w.to_string_lossy().into_owned())
                .ok_or_else(|| Unresolved::NoWork(owned())),
            ("exe", None) => Ok(self.exe.clone()),
            ("pid", Some(process)) => self
                .pids
                .get(process)
                .map(|p| p.to_string())
                .ok_or_else(|| Unresolved::NoProcess(owned())),
            ("which", Some(program)) => Ok(crate::probe::which(program)
                .and_then(|p| std::fs::canonicalize(p).ok())
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_else(|| format!("/nonexistent/{program}"))),
            ("cgroup_file", Some(key)) => {
                let version = self.cgroup.ok_or_else(|| Unresolved::NoCgroup(owned()))?;
                cgroup_file(version, key)
                    .map(str::to_string)
                    .ok_or_else(|| Unresolved::UnknownCgroupFile(owned()))
            }
            ("image_lowerdirs", None) if self.samples.layer_dirs.is_empty() => {
                Err(Unresolved::NoLayers(owned()))
            }
            ("image_lowerdirs", None) => Ok(self.samples.lowerdirs()),
            ("image_file" | "image_file_layer", Some(n)) => {
                if self.samples.layer_dirs.is_empty() {
                    return Err(Unresolved::NoLayers(owned()));
                }
                let (path, layer) = n
                    .parse::<usize>()
                    .ok()
                    .and_then(|n| self.samples.files.get(n.checked_sub(1)?))
                    .ok_or_else(|| Unresolved::NoImageFile(owned()))?;
                Ok(if name == "image_file" {
                    path.clone()
                } else {
                    layer.to_string_lossy().into_owned()
                })
            }
            ("root_device", Some(part @ ("source" | "fstype"))) => {
                let d = containerlab_inspect::mounts::root_block_device()
                    .ok_or_else(|| Unresolved::NoRootDevice(owned()))?;
                Ok(if part == "source" { d.source } else { d.fstype })
            }
            ("root_device", Some(_)) => Err(Unresolved::NoRootDevice(owned())),
            // A known name with the wrong shape (`{work:x}`, `{pid}`) is no placeholder of ours:
            // `next_placeholder` only returns well-formed ones.
            _ => unreachable!("next_placeholder returned {token}"),
        }
    }
}

/// The shell variable that holds the host PID of the sandbox process `process`:
/// `docker-proxy` → `DOCKER_PROXY`.
pub fn shell_name(process: &str) -> String {
    process.to_uppercase().replace('-', "_")
}

/// The first placeholder in `text`: (text before it, the whole `{…}`, its name, its argument,
/// text after it). Braces that do not hold a known name in the right shape are skipped.
fn next_placeholder(text: &str) -> Option<(&str, &str, &str, Option<&str>, &str)> {
    let mut from = 0;
    while let Some(open) = text[from..].find('{').map(|i| from + i) {
        let close = text[open..].find('}').map(|i| open + i)?;
        let inner = &text[open + 1..close];
        let (name, arg) = match inner.split_once(':') {
            Some((n, a)) => (n, Some(a)),
            None => (inner, None),
        };
        let takes_arg = !matches!(name, "work" | "exe" | "image_lowerdirs");
        let well_formed = NAMES.contains(&name)
            && takes_arg == arg.is_some()
            && arg.is_none_or(|a| !a.is_empty() && !a.contains(['{', ' ']));
        if well_formed {
            return Some((
                &text[..open],
                &text[open..=close],
                name,
                arg,
                &text[close + 1..],
            ));
        }
        from = open + 1;
    }
    None
}

/// `{cgroup_file:KEY}`: the file (and the field in it) this machine's memory controller uses for
/// KEY; `version` names the cgroup version itself.
pub fn cgroup_file(version: Version, key: &str) -> Option<&'static str> {
    let v2 = version == Version::V2;
    let pick = |a, b| if v2 { a } else { b };
    Some(match key {
        "memory_limit" => pick("memory.max", "memory.limit_in_bytes"),
        "memory_usage" => pick("memory.current", "memory.usage_in_bytes"),
        "memory_events" => pick("memory.events", "memory.oom_control"),
        "oom_kill" => pick("memory.events (oom_kill)", "memory.oom_control (oom_kill)"),
        "limit_hits" => pick("memory.events (max)", "memory.failcnt"),
        "swap" => pick("memory.swap.max", "memory.swappiness"),
        "cpu_usage" => pick("cpu.stat (usage_usec)", "cpuacct.usage"),
        "cpu_max" => pick("cpu.max", "cpu.cfs_quota_us and cpu.cfs_period_us"),
        "cpu_root" => pick("/sys/fs/cgroup", "/sys/fs/cgroup/cpu"),
        "version" => pick("cgroup v2", "cgroup v1"),
        "root" => pick("/sys/fs/cgroup", "/sys/fs/cgroup/memory"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        Facts {
            work: Some("/w".into()),
            exe: "/bin/lab".into(),
            pids: BTreeMap::from([("init".to_string(), 42)]),
            samples: Samples::default(),
            cgroup: Some(Version::V2),
            tools: None,
            cgroups: vec!["lab".into()],
            root_device: None,
        }
    }

    #[test]
    fn a_shell_gets_the_root_device_when_there_is_one() {
        let f = Facts {
            root_device: Some("/dev/vda".into()),
            ..facts()
        };
        assert!(f
            .shell_env()
            .contains(&("ROOT_DEVICE".to_string(), "/dev/vda".to_string())));
        assert!(!facts().shell_env().iter().any(|(k, _)| k == "ROOT_DEVICE"));
    }

    #[test]
    fn root_device_takes_source_or_fstype_only() {
        assert!(matches!(
            facts().resolve("{root_device:label}"),
            Err(Unresolved::NoRootDevice(_))
        ));
        // What the machine has decides the rest: the same answer the requirement's probe uses.
        let probed = containerlab_inspect::mounts::root_block_device();
        match probed {
            Some(d) => assert_eq!(facts().resolve("{root_device:source}").unwrap(), d.source),
            None => assert!(facts().resolve("{root_device:source}").is_err()),
        }
    }

    #[test]
    fn fills_work_pids_exe_and_cgroup_files() {
        assert_eq!(
            facts()
                .resolve("{work}/x /proc/{pid:init}/uid_map {exe} {cgroup_file:memory_limit}")
                .unwrap(),
            "/w/x /proc/42/uid_map /bin/lab memory.max"
        );
        let v1 = Facts {
            cgroup: Some(Version::V1),
            ..facts()
        };
        assert_eq!(
            v1.resolve("{cgroup_file:limit_hits}").unwrap(),
            "memory.failcnt"
        );
    }

    #[test]
    fn a_shell_gets_the_tools_the_work_dir_and_every_process_by_name() {
        let mut f = facts();
        f.pids.insert("docker-proxy".into(), 7);
        f.tools = Some("/run/s/tools".into());
        f.work = Some("/run/containerlab/s1/work".into());
        assert_eq!(
            f.shell_env(),
            [
                ("PATH".to_string(), format!("/run/s/tools:{SHELL_PATH}")),
                ("WORK".to_string(), "/run/containerlab/s1/work".to_string()),
                ("DOCKER_PROXY".into(), "7".into()),
                ("INIT".into(), "42".into()),
                // The engine names the lesson's cgroup `lab` containerlab/<session>-lab.
                (
                    "CGROUP_LAB".into(),
                    "/sys/fs/cgroup/containerlab/s1-lab".into()
                ),
                (
                    "CGROUP_LAB_PIDS".into(),
                    "/sys/fs/cgroup/containerlab/s1-lab".into()
                ),
                (
                    "CGROUP_LAB_CPU".into(),
                    "/sys/fs/cgroup/containerlab/s1-lab".into()
                ),
            ]
        );
    }

    #[test]
    fn braces_that_are_not_placeholders_stay() {
        let shell = "awk '/^CapEff/ {print $2}' ${HOME} {pid} {work:x} { work} {var:x} {";
        assert_eq!(facts().resolve(shell).unwrap(), shell);
        assert_eq!(facts().display(shell), shell);
    }

    #[test]
    fn what_is_not_known_yet_is_a_typed_error_or_stays_for_reading() {
        let f = facts();
        assert_eq!(
            f.resolve("kill {pid:ghost}"),
            Err(Unresolved::NoProcess("{pid:ghost}".into()))
        );
        assert_eq!(
            f.resolve("cat {image_file:1}"),
            Err(Unresolved::NoLayers("{image_file:1}".into()))
        );
        assert_eq!(
            f.resolve("{cgroup_file:nope}"),
            Err(Unresolved::UnknownCgroupFile("{cgroup_file:nope}".into()))
        );
        let before = Facts::default();
        assert_eq!(
            before.resolve("{work}/a"),
            Err(Unresolved::NoWork("{work}".into()))
        );
        // Text to read keeps what cannot be filled yet, writes the session's own path and pids
        // as the learner's shell names them (known or not yet), and fills the rest.
        assert_eq!(
            f.display("{image_file:1} in {work} of {pid:init}: {cgroup_file:memory_limit}"),
            "{image_file:1} in $WORK of $INIT: memory.max"
        );
        assert_eq!(
            before.display("nsenter --target {pid:docker-proxy} ls {work}/x"),
            "nsenter --target $DOCKER_PROXY ls $WORK/x"
        );
        // The names the text uses are the ones the shell defines.
        let env = f.shell_env();
        assert!(env.iter().any(|(k, v)| k == "WORK" && v == "/w"));
        assert!(env.iter().any(|(k, v)| k == "INIT" && v == "42"));
    }

    #[test]
    fn image_files_are_numbered_from_one() {
        let f = Facts {
            samples: Samples {
                files: vec![("/etc/motd".into(), "/l/2".into())],
                layer_dirs: vec!["/l/1".into(), "/l/2".into()],
            },
            ..facts()
        };
        assert_eq!(
            f.resolve("{image_file:1} {image_file_layer:1} {image_lowerdirs}")
                .unwrap(),
            "/etc/motd /l/2 /l/2:/l/1"
        );
        assert_eq!(
            f.resolve("{image_file:2}"),
            Err(Unresolved::NoImageFile("{image_file:2}".into()))
        );
    }

    #[test]
    fn which_finds_a_program_and_names_a_missing_one() {
        let sh = facts().resolve("{which:sh}").unwrap();
        assert!(sh.starts_with('/') && !sh.contains("nonexistent"), "{sh}");
        assert_eq!(
            facts().resolve("{which:no-such-program-x}").unwrap(),
            "/nonexistent/no-such-program-x"
        );
    }
}
