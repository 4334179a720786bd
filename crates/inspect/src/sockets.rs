//! Listening TCP sockets of a network namespace, as `ss -ltnp` shows them.
//!
//! Like `ss`, the list comes from the kernel's sock_diag netlink interface (`inet_diag`), asked
//! for sockets in LISTEN state only, from inside the namespace (a netlink socket answers for the
//! network namespace it was made in). /proc/PID/net/tcp would list the same sockets, but the
//! kernel makes it by walking every bucket of the established-connections hash table, which is
//! sized by the machine's memory: 2 ms per read on a 24 GiB machine, for two listening sockets.
//! It stays the fallback for a kernel whose sock_diag has no TCP module to answer.
//! A socket belongs to whichever processes hold a descriptor for its inode (`socket:[INODE]` in
//! /proc/*/fd), which is how `ss -p` names the program behind a port.

use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_DUMP, NLM_F_REQUEST,
};
use netlink_packet_sock_diag::{
    constants::{AF_INET, AF_INET6, IPPROTO_TCP},
    inet::{ExtensionFlags, InetRequest, SocketId, StateFlags},
    SockDiagMessage,
};
use netlink_sys::{protocols::NETLINK_SOCK_DIAG, Socket, SocketAddr as NetlinkAddr};
use nix::errno::Errno;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::os::fd::{AsFd, OwnedFd};

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
    #[error("/proc/{pid}/ns/net: {errno}")]
    Namespace { pid: i32, errno: Errno },
    #[error("sock_diag ({call}): {detail}")]
    Netlink { call: &'static str, detail: String },
}

/// The TCP sockets in LISTEN state in the network namespace of `pid`, IPv4 first, by port.
pub fn listening(pid: i32) -> Result<Vec<Listener>, SocketsError> {
    let own = |who: &str| {
        std::fs::metadata(format!("/proc/{who}/ns/net"))
            .map(|m| std::os::unix::fs::MetadataExt::ino(&m))
            .map_err(|e| SocketsError::Namespace {
                pid,
                errno: Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
            })
    };
    let mut found = if own(&pid.to_string())? == own("thread-self")? {
        dump_listeners().or_else(|_| from_proc_net(pid))?
    } else {
        // setns changes the calling thread's namespace: a thread of its own does it, so the
        // caller stays where it was.
        let ns: OwnedFd = std::fs::File::open(format!("/proc/{pid}/ns/net"))
            .map_err(|e| SocketsError::Namespace {
                pid,
                errno: Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
            })?
            .into();
        let answered = std::thread::spawn(move || {
            nix::sched::setns(ns.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET)
                .map_err(|errno| SocketsError::Namespace { pid, errno })?;
            dump_listeners()
        })
        .join()
        .map_err(|_| SocketsError::Netlink {
            call: "thread",
            detail: "panicked".into(),
        })?;
        answered.or_else(|_| from_proc_net(pid))?
    };
    found.sort_by_key(|l| (l.address.is_ipv6(), l.address.port(), l.address.ip()));
    Ok(found)
}

/// The slow way, for a kernel whose sock_diag cannot answer for TCP (inet_diag/tcp_diag not
/// built, or a module that cannot be loaded): /proc/PID/net/tcp and tcp6, which list the sockets
/// of PID's network namespace.
fn from_proc_net(pid: i32) -> Result<Vec<Listener>, SocketsError> {
    let unreadable = |e: procfs::ProcError| SocketsError::Netlink {
        call: "/proc/PID/net/tcp",
        detail: format!("pid {pid}: {e}"),
    };
    let process = procfs::process::Process::new(pid).map_err(unreadable)?;
    let mut entries = process.tcp().map_err(unreadable)?;
    // A kernel without IPv6 has no tcp6 file; that is no error.
    entries.extend(process.tcp6().unwrap_or_default());
    Ok(entries
        .into_iter()
        .filter(|e| e.state == procfs::net::TcpState::Listen)
        .map(|e| Listener {
            address: e.local_address,
            inode: e.inode,
        })
        .collect())
}

/// LISTEN sockets of the calling thread's network namespace, IPv4 and IPv6 (a kernel without
/// IPv6 refuses that half of the dump; that is no error).
fn dump_listeners() -> Result<Vec<Listener>, SocketsError> {
    let netlink = |call, e: std::io::Error| SocketsError::Netlink {
        call,
        detail: e.to_string(),
    };
    let mut socket = Socket::new(NETLINK_SOCK_DIAG).map_err(|e| netlink("socket", e))?;
    socket
        .connect(&NetlinkAddr::new(0, 0))
        .map_err(|e| netlink("connect", e))?;
    let mut found = dump_family(&mut socket, AF_INET)?;
    found.extend(dump_family(&mut socket, AF_INET6).unwrap_or_default());
    Ok(found)
}

fn dump_family(socket: &mut Socket, family: u8) -> Result<Vec<Listener>, SocketsError> {
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST | NLM_F_DUMP;
    let mut request = NetlinkMessage::new(
        header,
        SockDiagMessage::InetRequest(InetRequest {
            family,
            protocol: IPPROTO_TCP,
            extensions: ExtensionFlags::empty(),
            states: StateFlags::LISTEN,
            socket_id: if family == AF_INET {
                SocketId::new_v4()
            } else {
                SocketId::new_v6()
            },
        })
        .into(),
    );
    request.finalize();
    let mut buf = vec![0; request.buffer_len()];
    request.serialize(&mut buf);
    socket.send(&buf, 0).map_err(|e| SocketsError::Netlink {
        call: "send",
        detail: e.to_string(),
    })?;
    let mut found = Vec::new();
    // A dump message can take up to 32 KiB (the kernel grows its skbs for readers with big
    // buffers); a shorter buffer would cut one.
    let mut received = Vec::with_capacity(64 * 1024);
    loop {
        received.clear();
        let size = socket
            .recv(&mut received, 0)
            .map_err(|e| SocketsError::Netlink {
                call: "recv",
                detail: e.to_string(),
            })?;
        let mut offset = 0;
        while offset < size {
            let message = NetlinkMessage::<SockDiagMessage>::deserialize(&received[offset..size])
                .map_err(|e| SocketsError::Netlink {
                call: "decode",
                detail: e.to_string(),
            })?;
            let length = message.header.length as usize;
            match message.payload {
                NetlinkPayload::InnerMessage(SockDiagMessage::InetResponse(response)) => {
                    let id = &response.header.socket_id;
                    found.push(Listener {
                        address: SocketAddr::new(id.source_address, id.source_port),
                        inode: u64::from(response.header.inode),
                    });
                }
                NetlinkPayload::Done(_) => return Ok(found),
                NetlinkPayload::Error(e) => {
                    return Err(SocketsError::Netlink {
                        call: "dump",
                        detail: e.to_string(),
                    })
                }
                _ => {}
            }
            if length == 0 {
                break;
            }
            offset += length;
        }
    }
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
    fn a_listener_in_another_network_namespace_is_listed_there_and_not_here() {
        let (told, tell) = std::sync::mpsc::channel();
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).expect("unshare as root");
            // Listening needs no interface up: the socket is in the namespace all the same.
            let l = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
            let v6 = std::net::TcpListener::bind("[::]:0").ok();
            told.send((
                nix::unistd::gettid().as_raw(),
                l.local_addr().unwrap().port(),
                v6.as_ref().map(|l| l.local_addr().unwrap().port()),
            ))
            .unwrap();
            let _ = stopped.recv();
        });
        let (tid, port, v6_port) = tell.recv().unwrap();
        let there = listening(tid).unwrap();
        assert!(
            there.iter().any(|l| l.shown() == format!("0.0.0.0:{port}")),
            "{there:?}"
        );
        if let Some(p6) = v6_port {
            assert!(
                there.iter().any(|l| l.shown() == format!("[::]:{p6}")),
                "{there:?}"
            );
            let first_v6 = there.iter().position(|l| l.address.is_ipv6()).unwrap();
            assert!(
                there[..first_v6].iter().all(|l| l.address.is_ipv4()),
                "IPv4 first"
            );
        }
        let here = listening(std::process::id() as i32).unwrap();
        assert!(
            !here
                .iter()
                .any(|l| l.address.port() == port && l.address.ip().is_unspecified()),
            "the other namespace's port is not the host's: {here:?}"
        );
        drop(stop);
        thread.join().unwrap();
    }

    #[test]
    fn the_proc_net_fallback_lists_the_same_listeners() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let me = std::process::id() as i32;
        let port = l.local_addr().unwrap().port();
        let ours = |list: Vec<Listener>| {
            list.into_iter()
                .find(|s| s.address.port() == port && s.address.ip().is_loopback())
        };
        // Other programs may open and close ports in between: only ours is compared.
        let slow = ours(from_proc_net(me).unwrap()).expect("in /proc/self/net/tcp");
        assert_eq!(Some(slow), ours(listening(me).unwrap()));
    }

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
