//! Listening TCP sockets of a network namespace, as `ss -ltnp` shows them.
//!
//! /proc/PID/net/tcp and tcp6 list the sockets of PID's network namespace (not only PID's own),
//! so reading them through a process of each namespace shows that namespace's ports. A socket
//! belongs to whichever processes hold a descriptor for its inode (`socket:[INODE]` in
//! /proc/*/fd), which is how `ss -p` names the program behind a port.

use procfs::net::TcpState;
use std::collections::BTreeMap;
use std::net::SocketAddr;

/// One listening socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    pub address: SocketAddr,
    pub inode: u64,
}

impl Listener {
    /// `0.0.0.0:8080`, `[::]:22`: how ss prints the local address.
    pub fn shown(&self) -> String {
        self.address.to_string()
    }
}

/// Why a namespace's sockets could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum SocketsError {
    #[error("pid {pid}: {source}")]
    Process { pid: i32, source: procfs::ProcError },
    #[error("/proc/{pid}/net/tcp: {source}")]
    Tcp { pid: i32, source: procfs::ProcError },
}

/// The TCP sockets in LISTEN state in the network namespace of `pid`, IPv4 first, by port.
pub fn listening(pid: i32) -> Result<Vec<Listener>, SocketsError> {
    let process = procfs::process::Process::new(pid)
        .map_err(|source| SocketsError::Process { pid, source })?;
    let mut entries = process
        .tcp()
        .map_err(|source| SocketsError::Tcp { pid, source })?;
    // A kernel without IPv6 has no tcp6 file; that is no error.
    entries.extend(process.tcp6().unwrap_or_default());
    let mut found: Vec<Listener> = entries
        .into_iter()
        .filter(|e| e.state == TcpState::Listen)
        .map(|e| Listener {
            address: e.local_address,
            inode: e.inode,
        })
        .collect();
    found.sort_by_key(|l| (l.address.is_ipv6(), l.address.port(), l.address.ip()));
    Ok(found)
}

/// For each socket inode, the processes (pid, command name) that hold it, found by walking
/// /proc/*/fd like `ss -p`. Processes whose descriptors cannot be read are skipped.
pub fn owners(inodes: &[u64]) -> BTreeMap<u64, Vec<(i32, String)>> {
    let mut owners = BTreeMap::new();
    if inodes.is_empty() {
        return owners;
    }
    let Ok(all) = procfs::process::all_processes() else {
        return owners;
    };
    for process in all.flatten() {
        add_owner(&process, inodes, &mut owners);
    }
    owners
}

/// [`owners`] among `pids` only: when only some processes' sockets matter (the lab's, on the
/// host), without reading the descriptors of every process on the machine.
pub fn owners_among(inodes: &[u64], pids: &[i32]) -> BTreeMap<u64, Vec<(i32, String)>> {
    let mut owners = BTreeMap::new();
    if inodes.is_empty() {
        return owners;
    }
    for process in pids
        .iter()
        .filter_map(|&p| procfs::process::Process::new(p).ok())
    {
        add_owner(&process, inodes, &mut owners);
    }
    owners
}

fn add_owner(
    process: &procfs::process::Process,
    inodes: &[u64],
    owners: &mut BTreeMap<u64, Vec<(i32, String)>>,
) {
    let Ok(fds) = process.fd() else { return };
    for fd in fds.flatten() {
        if let procfs::process::FDTarget::Socket(inode) = fd.target {
            if inodes.contains(&inode) {
                let comm = process.stat().map(|s| s.comm).unwrap_or_default();
                let list = owners.entry(inode).or_default();
                if !list.iter().any(|(p, _)| *p == process.pid) {
                    list.push((process.pid, comm));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_socket_we_listen_on_is_listed_with_us_as_its_owner() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let me = std::process::id() as i32;
        let found = listening(me).unwrap();
        let ours = found
            .iter()
            .find(|s| s.address.port() == port && s.address.ip().is_loopback())
            .expect("our listener is in /proc/self/net/tcp");
        assert_eq!(ours.shown(), format!("127.0.0.1:{port}"));
        let owners = owners(&[ours.inode]);
        assert!(
            owners[&ours.inode].iter().any(|(pid, _)| *pid == me),
            "{owners:?}"
        );
    }
}
