//! Taking on what makes a process "in a container" beyond its namespaces, as `docker exec` does:
//! its cgroups, its user and group ids (inside a user namespace it joined), its capability
//! bounding set and its no_new_privs bit.
//!
//! `setns` alone only changes what a process *sees*. A shell that joined a container's
//! namespaces but kept the host's full capabilities could still mount, change the container's
//! network or escape its memory limit, and a shell that joined a user namespace keeps its host
//! uid, which the namespace shows as 65534 (nobody) when it is not mapped. So the shell the
//! learner opens in a container is also moved into the container's cgroups, becomes the
//! target's uid and gid as the namespace maps them, and drops every capability outside the
//! target's bounding and permitted sets. A root shell's exec then leaves it with just those
//! capabilities, the ones the container's own processes have.

use containerlab_inspect::process::ProcessView;

/// What the target process is, read from /proc before joining anything.
#[derive(Debug, Clone, PartialEq)]
pub struct Likeness {
    /// `cgroup.procs` files of the target's lab cgroups, one per hierarchy.
    pub cgroup_procs: Vec<std::path::PathBuf>,
    /// The target's uid and gid as its own user namespace sees them.
    pub uid: u32,
    pub gid: u32,
    /// Capabilities the target may ever have: its bounding set within its permitted set.
    pub keep_caps: u64,
    pub no_new_privs: bool,
    /// The target runs under a seccomp filter (`Seccomp: 2`); the only one the lab installs is
    /// [`super::seccomp`]'s, which a shell entering it takes on too.
    pub seccomp: bool,
}

/// What could not be read of the target, or not be made like it.
#[derive(Debug, thiserror::Error)]
pub enum AssumeError {
    #[error("process {pid} is gone")]
    Gone { pid: i32 },
    #[error("/proc/{pid}/status has no {field}")]
    Missing { pid: i32, field: String },
    #[error("/proc/{pid}/status: bad {field}")]
    Bad { pid: i32, field: String },
    #[error("write {}: {source}", .procs.display())]
    Cgroup {
        procs: std::path::PathBuf,
        source: std::io::Error,
    },
    /// setresgid, setresuid or prctl(PR_SET_NO_NEW_PRIVS), as `call` names it.
    #[error("{call}: {source}")]
    Call { call: String, source: nix::Error },
    #[error("drop {cap} from the bounding set: {reason}")]
    Bound {
        cap: caps::Capability,
        reason: String,
    },
}

/// Reads what `pid` is. Cgroups other than the lab's are left alone: the host's own are where
/// the shell already is, or belong to someone else.
pub fn read(pid: i32) -> Result<Likeness, AssumeError> {
    let v = ProcessView::read(pid).ok_or(AssumeError::Gone { pid })?;
    let field = |k: &str| {
        v.field(k).ok_or_else(|| AssumeError::Missing {
            pid,
            field: k.into(),
        })
    };
    let bad = |k: &str| AssumeError::Bad {
        pid,
        field: k.into(),
    };
    let mask = |k: &str| field(k).and_then(|v| u64::from_str_radix(v, 16).map_err(|_| bad(k)));
    // Uid: real effective saved fs, as the host sees them.
    let host_id = |k: &str| -> Result<u32, AssumeError> {
        field(k)?
            .split_whitespace()
            .nth(1)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| bad(k))
    };
    Ok(Likeness {
        cgroup_procs: containerlab_cgroup::detect()
            .map(|layout| lab_cgroup_procs(&layout, &v.cgroup))
            .unwrap_or_default(),
        uid: inside_id(&v.uid_map, host_id("Uid")?),
        gid: inside_id(&v.gid_map, host_id("Gid")?),
        keep_caps: mask("CapBnd")? & mask("CapPrm")?,
        no_new_privs: field("NoNewPrivs").is_ok_and(|v| v == "1"),
        seccomp: field("Seccomp").is_ok_and(|v| v == "2"),
    })
}

/// The id inside a user namespace for `host` given the namespace's map (`inside outside count`
/// lines); 0 when it is not mapped, which is what `nsenter -U` makes of it too.
fn inside_id(map: &str, host: u32) -> u32 {
    map.lines()
        .filter_map(|l| {
            let mut n = l.split_whitespace().map(|x| x.parse::<u64>().ok());
            Some((n.next()??, n.next()??, n.next()??))
        })
        .find(|(_, outside, count)| (*outside..outside + count).contains(&u64::from(host)))
        .map(|(inside, outside, _)| (inside + u64::from(host) - outside) as u32)
        .unwrap_or(0)
}

/// The `cgroup.procs` files, in the hierarchies of `layout`, for the lines of /proc/PID/cgroup
/// that are in the lab's cgroups.
fn lab_cgroup_procs(
    layout: &containerlab_cgroup::Layout,
    proc_cgroup: &str,
) -> Vec<std::path::PathBuf> {
    let marker = format!("/{}/", containerlab_cgroup::PARENT);
    let mut out = Vec::new();
    for (controller, h) in layout.controllers() {
        let v2 = h.version == containerlab_cgroup::Version::V2;
        let path = proc_cgroup.lines().find_map(|l| {
            let mut parts = l.splitn(3, ':');
            let (id, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
            let ours = if v2 {
                id == "0" && controllers.is_empty()
            } else {
                controllers.split(',').any(|c| c == controller)
            };
            ours.then(|| path.to_string())
        });
        let Some(path) = path.filter(|p| format!("{p}/").contains(&marker)) else {
            continue;
        };
        let procs = h
            .mount
            .join(path.trim_start_matches('/'))
            .join("cgroup.procs");
        if !out.contains(&procs) {
            out.push(procs);
        }
    }
    out
}

/// Moves this process into the target's cgroups. Done from the host's view of the cgroup tree,
/// before joining the target's mount and cgroup namespaces.
pub fn join_cgroups(like: &Likeness) -> Result<(), AssumeError> {
    for procs in &like.cgroup_procs {
        std::fs::write(procs, "0").map_err(|source| AssumeError::Cgroup {
            procs: procs.clone(),
            source,
        })?;
    }
    Ok(())
}

/// Becomes the target's uid and gid, after joining its user namespace (changing ids needs
/// CAP_SETUID and CAP_SETGID there) and after [`drop_capabilities`] (a non-root uid would lose
/// the CAP_SETPCAP that needs).
pub fn become_ids(like: &Likeness) -> Result<(), AssumeError> {
    use nix::unistd::{setgroups, setresgid, setresuid, Gid, Uid};
    // A namespace whose setgroups is "deny" refuses setgroups(2); the supplementary groups
    // are then whatever the kernel shows as unmapped, and stay so.
    let _ = setgroups(&[]);
    let g = Gid::from_raw(like.gid);
    setresgid(g, g, g).map_err(failed(format!("setresgid({})", like.gid)))?;
    let u = Uid::from_raw(like.uid);
    setresuid(u, u, u).map_err(failed(format!("setresuid({})", like.uid)))
}

/// Drops every capability the target could not have from the bounding set, so the shell that
/// is exec'd next gets at most the target's; then sets no_new_privs if the target has it.
pub fn drop_capabilities(like: &Likeness) -> Result<(), AssumeError> {
    for cap in caps::all() {
        if like.keep_caps & (1u64 << cap.index()) == 0 {
            caps::drop(None, caps::CapSet::Bounding, cap).map_err(|e| AssumeError::Bound {
                cap,
                reason: e.to_string(),
            })?;
        }
    }
    if like.no_new_privs {
        nix::sys::prctl::set_no_new_privs().map_err(failed("no_new_privs"))?;
    }
    Ok(())
}

fn failed(call: impl Into<String>) -> impl FnOnce(nix::Error) -> AssumeError {
    let call = call.into();
    move |source| AssumeError::Call { call, source }
}

/// How many capabilities a process like the target keeps: those in its bounding and permitted
/// sets.
pub fn caps_kept(like: &Likeness) -> usize {
    caps::all()
        .into_iter()
        .filter(|c| like.keep_caps & (1u64 << c.index()) != 0)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_translated_through_the_namespace_map() {
        let map = "         0     100000      65536\n";
        assert_eq!(inside_id(map, 100000), 0);
        assert_eq!(inside_id(map, 101000), 1000);
        // Unmapped (the host's root in a remapped namespace): root inside, as nsenter -U does.
        assert_eq!(inside_id(map, 0), 0);
        assert_eq!(inside_id("0 0 4294967295\n", 1000), 1000);
    }

    #[test]
    fn a_v2_container_joins_one_cgroup() {
        let layout = containerlab_cgroup::Layout::v2_at("/sys/fs/cgroup");
        let procs = lab_cgroup_procs(&layout, "0::/containerlab/clab-1-ab/ctr\n");
        assert_eq!(
            procs,
            [std::path::PathBuf::from(
                "/sys/fs/cgroup/containerlab/clab-1-ab/ctr/cgroup.procs"
            )]
        );
        // A process in the host's own cgroup is left where it is.
        assert!(lab_cgroup_procs(&layout, "0::/user.slice/session-1.scope\n").is_empty());
    }

    #[test]
    fn a_hybrid_container_joins_one_cgroup_per_controller_tree() {
        use containerlab_cgroup::{Hierarchy, Layout, Version};
        let v1 = |c: &str| Hierarchy {
            version: Version::V1,
            mount: format!("/sys/fs/cgroup/{c}").into(),
        };
        let layout = Layout {
            memory: v1("memory"),
            pids: v1("pids"),
            cpu: Some(v1("cpu,cpuacct")),
            cpuacct: Some(v1("cpu,cpuacct")),
            unified: Some("/sys/fs/cgroup/unified".into()),
        };
        let lines = "12:pids:/containerlab/s/ctr\n7:cpu,cpuacct:/containerlab/s/ctr\n\
                     4:memory:/containerlab/s/ctr\n2:devices:/system.slice\n0::/system.slice\n";
        let procs = lab_cgroup_procs(&layout, lines);
        let want: Vec<std::path::PathBuf> = ["memory", "pids", "cpu,cpuacct"]
            .iter()
            .map(|c| format!("/sys/fs/cgroup/{c}/containerlab/s/ctr/cgroup.procs").into())
            .collect();
        assert_eq!(procs, want);
    }

    #[test]
    fn this_process_reads_as_itself() {
        let me = read(std::process::id() as i32).unwrap();
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let uid: u32 = status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|v| v.split_whitespace().nth(1)?.parse().ok())
            .unwrap();
        assert_eq!(me.uid, uid);
        let bnd = caps::read(None, caps::CapSet::Bounding).unwrap();
        let prm = caps::read(None, caps::CapSet::Permitted).unwrap();
        let expected = bnd
            .intersection(&prm)
            .fold(0u64, |m, c| m | (1u64 << c.index()));
        assert_eq!(me.keep_caps, expected);
    }
}
