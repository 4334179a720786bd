//! Namespaces.
//!
//! A namespace wraps one kind of global kernel resource (the hostname, the PID numbers, the mount
//! table, the network stack, user ids, IPC objects, the cgroup root, the clocks) so that the
//! processes inside see their own copy. `unshare(2)` moves the caller into new namespaces; most
//! kinds take effect at once, but a new PID namespace only applies to the caller's *future
//! children*: the first child born after `unshare(CLONE_NEWPID)` becomes PID 1 there. `setns(2)`
//! joins a namespace that already exists, named by a file under `/proc/PID/ns/`.

use nix::sched::CloneFlags;
use serde::{Deserialize, Serialize};

/// One kind of namespace, named as `/proc/PID/ns/` and `lsns` name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Namespace {
    Uts,
    Pid,
    Mnt,
    Net,
    Ipc,
    User,
    Cgroup,
    Time,
}

impl Namespace {
    pub const ALL: [Namespace; 8] = [
        Namespace::Cgroup,
        Namespace::Ipc,
        Namespace::Mnt,
        Namespace::Net,
        Namespace::Pid,
        Namespace::Time,
        Namespace::User,
        Namespace::Uts,
    ];

    /// The order `nsenter(1)` joins in, which every join of the engine follows: the user
    /// namespace first (it grants the capabilities to join the others), the mount namespace late
    /// (after it, paths such as `/proc/PID/ns/*` may mean something else).
    pub const JOIN_ORDER: [Namespace; 8] = [
        Namespace::User,
        Namespace::Cgroup,
        Namespace::Ipc,
        Namespace::Uts,
        Namespace::Net,
        Namespace::Pid,
        Namespace::Mnt,
        Namespace::Time,
    ];

    /// `namespaces` sorted into [`Self::JOIN_ORDER`].
    pub fn in_join_order(namespaces: &[Namespace]) -> Vec<Namespace> {
        Self::JOIN_ORDER
            .into_iter()
            .filter(|n| namespaces.contains(n))
            .collect()
    }

    /// The file name under `/proc/PID/ns/` and the TYPE column of `lsns`.
    pub fn proc_name(self) -> &'static str {
        match self {
            Namespace::Uts => "uts",
            Namespace::Pid => "pid",
            Namespace::Mnt => "mnt",
            Namespace::Net => "net",
            Namespace::Ipc => "ipc",
            Namespace::User => "user",
            Namespace::Cgroup => "cgroup",
            Namespace::Time => "time",
        }
    }

    pub fn from_proc_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|n| n.proc_name() == name)
    }

    pub fn clone_flag(self) -> CloneFlags {
        match self {
            Namespace::Uts => CloneFlags::CLONE_NEWUTS,
            Namespace::Pid => CloneFlags::CLONE_NEWPID,
            Namespace::Mnt => CloneFlags::CLONE_NEWNS,
            Namespace::Net => CloneFlags::CLONE_NEWNET,
            Namespace::Ipc => CloneFlags::CLONE_NEWIPC,
            Namespace::User => CloneFlags::CLONE_NEWUSER,
            Namespace::Cgroup => CloneFlags::CLONE_NEWCGROUP,
            Namespace::Time => CloneFlags::from_bits_retain(libc::CLONE_NEWTIME),
        }
    }

    /// The constant's name as a C programmer writes it (`CLONE_NEWUTS`).
    pub fn flag_name(self) -> &'static str {
        match self {
            Namespace::Uts => "CLONE_NEWUTS",
            Namespace::Pid => "CLONE_NEWPID",
            Namespace::Mnt => "CLONE_NEWNS",
            Namespace::Net => "CLONE_NEWNET",
            Namespace::Ipc => "CLONE_NEWIPC",
            Namespace::User => "CLONE_NEWUSER",
            Namespace::Cgroup => "CLONE_NEWCGROUP",
            Namespace::Time => "CLONE_NEWTIME",
        }
    }

    /// The `unshare(1)` option that asks for this namespace.
    pub fn unshare_option(self) -> &'static str {
        match self {
            Namespace::Uts => "--uts",
            Namespace::Pid => "--pid",
            Namespace::Mnt => "--mount",
            Namespace::Net => "--net",
            Namespace::Ipc => "--ipc",
            Namespace::User => "--user",
            Namespace::Cgroup => "--cgroup",
            Namespace::Time => "--time",
        }
    }
}

/// Combines namespaces into the flags argument of unshare/setns, and the text strace would show.
pub fn flags_of(namespaces: &[Namespace]) -> (CloneFlags, String) {
    let mut flags = CloneFlags::empty();
    let mut names = Vec::new();
    for ns in namespaces {
        flags |= ns.clone_flag();
        names.push(ns.flag_name());
    }
    let text = if names.is_empty() {
        "0".to_string()
    } else {
        names.join("|")
    };
    (flags, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for ns in Namespace::ALL {
            assert_eq!(Namespace::from_proc_name(ns.proc_name()), Some(ns));
        }
    }

    #[test]
    fn flags_read_like_c() {
        let (flags, text) = flags_of(&[Namespace::Uts, Namespace::Pid]);
        assert_eq!(text, "CLONE_NEWUTS|CLONE_NEWPID");
        assert!(flags.contains(CloneFlags::CLONE_NEWPID));
    }
}
