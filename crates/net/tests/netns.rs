//! Real tests, run as root: every kernel object lives in network namespaces the test makes.
//!
//! Each test does its work on a fresh thread that first calls `unshare(CLONE_NEWNET)`: that
//! moves only that thread into a brand-new, empty network namespace, so nothing here can touch
//! the host's interfaces. A second namespace (the "container" side) is made the same way by a
//! thread that opens `/proc/thread-self/ns/net` and exits; the open fd keeps the namespace
//! alive. When the threads end and the fds close, the kernel destroys the namespaces and every
//! link in them (even when an assertion failed), so nothing is left behind.

use containerlab_net::*;
use containerlab_trace::{Outcome, Trace};
use nix::errno::Errno;
use nix::sched::{unshare, CloneFlags};
use nix::sys::socket::{
    recvfrom, sendto, setsockopt, socket, sockopt, AddressFamily, MsgFlags, SockFlag, SockProtocol,
    SockType, SockaddrIn,
};
use nix::sys::time::TimeVal;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const HOST_IP: Ipv4Addr = Ipv4Addr::new(10, 200, 0, 1);
const PEER_IP: Ipv4Addr = Ipv4Addr::new(10, 200, 0, 2);

/// Runs `f` on a new thread that lives alone in a brand-new network namespace.
fn in_fresh_netns<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    match std::thread::spawn(move || {
        unshare(CloneFlags::CLONE_NEWNET).expect("unshare(CLONE_NEWNET) (are you root?)");
        f()
    })
    .join()
    {
        Ok(v) => v,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// A second new network namespace, kept alive by the returned fd.
fn new_netns_fd() -> OwnedFd {
    in_fresh_netns(|| {
        OwnedFd::from(File::open("/proc/thread-self/ns/net").expect("open own netns"))
    })
}

/// Runs `f` on a thread that has joined the namespace behind `netns`.
fn in_netns<T: Send + 'static>(netns: BorrowedFd<'_>, f: impl FnOnce() -> T + Send + 'static) -> T {
    let fd = netns.try_clone_to_owned().expect("dup netns fd");
    match std::thread::spawn(move || {
        nix::sched::setns(fd.as_fd(), CloneFlags::CLONE_NEWNET).expect("setns(CLONE_NEWNET)");
        f()
    })
    .join()
    {
        Ok(v) => v,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// Polls a snapshot until `done` holds, for state the kernel settles asynchronously (the
/// carrier/operstate of a veth is updated by the kernel's linkwatch worker, not at once).
fn settle(netns: Option<BorrowedFd<'_>>, done: impl Fn(&NetSnapshot) -> bool) -> NetSnapshot {
    let start = Instant::now();
    loop {
        let snap = match netns {
            Some(fd) => snapshot_fd(fd).expect("snapshot"),
            None => snapshot(None).expect("snapshot"),
        };
        if done(&snap) || start.elapsed() > Duration::from_secs(10) {
            return snap;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn last_line(trace: &Trace) -> String {
    trace.records.last().expect("a trace record").to_string()
}

#[test]
fn fresh_netns_has_only_lo_down_and_lo_can_be_brought_up() {
    in_fresh_netns(|| {
        let snap = snapshot(None).unwrap();
        assert_eq!(snap.links.len(), 1, "{snap:#?}");
        let lo = &snap.links[0];
        assert_eq!(lo.name, "lo");
        assert_eq!(lo.state, "DOWN");
        assert_eq!(lo.kind.as_deref(), Some("loopback"));
        assert_eq!(lo.flags, vec!["LOOPBACK"]);
        assert!(snap.addresses.is_empty(), "{snap:#?}");
        assert!(snap.routes.is_empty(), "{snap:#?}");
        assert_eq!(
            snap.render_ip_link(),
            "lo               DOWN           00:00:00:00:00:00 <LOOPBACK>\n"
        );
        assert_eq!(snap.render_ip_route(), "");
        assert_eq!(snap.render_ip_addr(), "lo               DOWN\n");

        let mut trace = Trace::new();
        set_link_up("lo", &mut trace).unwrap();
        assert_eq!(
            trace.records[0].to_string(),
            r#"sendmsg(NETLINK_ROUTE, RTM_NEWLINK {name: "lo", flags: IFF_UP, change: IFF_UP}) = 0"#
        );
        let snap = snapshot(None).unwrap();
        let lo = snap.link("lo").unwrap();
        // Loopback has no carrier to report, so its operstate is UNKNOWN, as `ip` shows it.
        assert_eq!(lo.state, "UNKNOWN");
        assert_eq!(lo.flags, vec!["LOOPBACK", "UP", "LOWER_UP"]);
        let addrs: Vec<String> = snap
            .addresses_of("lo")
            .map(|a| format!("{}/{}", a.address, a.prefix_len))
            .collect();
        assert_eq!(addrs, vec!["127.0.0.1/8", "::1/128"]);
        assert_eq!(
            snap.render_ip_addr(),
            "lo               UNKNOWN        127.0.0.1/8 ::1/128\n"
        );
    });
}

#[test]
fn veth_pair_moved_addressed_routed_and_pinged() {
    let peer_ns = new_netns_fd();
    let peer_raw = peer_ns.as_raw_fd();
    let peer_for_thread = peer_ns.try_clone().unwrap();
    in_fresh_netns(move || {
        let peer_ns = peer_for_thread;
        let mut trace = Trace::new();

        // Create: both ends appear here, DOWN, each pointing at the other.
        create_veth("clab-h0", "clab-c0", &mut trace).unwrap();
        assert_eq!(
            trace.records[0].to_string(),
            r#"sendmsg(NETLINK_ROUTE, RTM_NEWLINK {name: "clab-h0", kind: veth, peer: "clab-c0"}) = 0"#
        );
        let snap = snapshot(None).unwrap();
        let names: Vec<&str> = snap.links.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, vec!["lo", "clab-c0", "clab-h0"], "{snap:#?}");
        let h0 = snap.link("clab-h0").unwrap();
        let c0 = snap.link("clab-c0").unwrap();
        assert_eq!(h0.kind.as_deref(), Some("veth"));
        assert_eq!(h0.state, "DOWN");
        assert_eq!(h0.peer_index, Some(c0.index));
        assert_eq!(c0.peer_index, Some(h0.index));
        assert_eq!(h0.display_name(), "clab-h0@clab-c0");
        assert_eq!(h0.mtu, Some(1500));
        assert_eq!(h0.mac.as_ref().unwrap().len(), 17);
        assert!(
            snap.render_ip_link().contains("clab-h0@clab-c0  DOWN"),
            "{}",
            snap.render_ip_link()
        );

        // Creating it again fails with EEXIST, and the trace shows the failure.
        let err = create_veth("clab-h0", "clab-c0", &mut trace).unwrap_err();
        assert!(err.is_already_exists(), "{err}");
        assert!(
            last_line(&trace).ends_with("= -1 EEXIST (File exists)"),
            "{}",
            last_line(&trace)
        );

        // Move the peer into the other namespace: gone from here, present there.
        move_link_to_netns("clab-c0", NetnsTarget::Fd(peer_ns.as_fd()), &mut trace).unwrap();
        assert_eq!(
            last_line(&trace),
            format!(
                r#"sendmsg(NETLINK_ROUTE, RTM_NEWLINK {{name: "clab-c0", net_ns_fd: {}}}) = 0"#,
                peer_ns.as_raw_fd()
            )
        );
        let here = snapshot(None).unwrap();
        assert!(here.link("clab-c0").is_none(), "{here:#?}");
        let h0 = here.link("clab-h0").unwrap();
        assert!(h0.link_netnsid.is_some(), "{h0:#?}");
        let there = snapshot(Some(Path::new(&format!("/proc/self/fd/{peer_raw}")))).unwrap();
        let c0 = there.link("clab-c0").expect("peer in the other namespace");
        assert_eq!(h0.display_name(), format!("clab-h0@if{}", c0.index));
        assert!(there.link("clab-h0").is_none());

        // Address and bring up this side.
        add_address("clab-h0", HOST_IP, 24, &mut trace).unwrap();
        assert_eq!(
            last_line(&trace),
            format!(
                r#"sendmsg(NETLINK_ROUTE, RTM_NEWADDR {{index: {} ("clab-h0"), local: 10.200.0.1/24}}) = 0"#,
                h0.index
            )
        );
        set_link_up("clab-h0", &mut trace).unwrap();
        set_link_up("lo", &mut trace).unwrap();

        // And the other side, from a thread that joined that namespace.
        let peer_trace = in_netns(peer_ns.as_fd(), || {
            let mut t = Trace::new();
            set_link_up("lo", &mut t).unwrap();
            add_address("clab-c0", PEER_IP, 24, &mut t).unwrap();
            set_link_up("clab-c0", &mut t).unwrap();
            add_default_route(HOST_IP, &mut t).unwrap();
            t
        });
        assert!(
            peer_trace.records.iter().all(|r| r.errno().is_none()),
            "{peer_trace:#?}"
        );
        assert_eq!(
            peer_trace.records.last().unwrap().to_string(),
            "sendmsg(NETLINK_ROUTE, RTM_NEWROUTE {dst: default, gateway: 10.200.0.1}) = 0"
        );

        let there = settle(Some(peer_ns.as_fd()), |s| {
            s.link("clab-c0").is_some_and(|l| l.state == "UP")
        });
        let c0 = there.link("clab-c0").unwrap();
        assert_eq!(c0.state, "UP", "{there:#?}");
        assert_eq!(c0.flags, vec!["BROADCAST", "MULTICAST", "UP", "LOWER_UP"]);
        let v4: Vec<String> = there
            .addresses_of("clab-c0")
            .filter(|a| a.address.is_ipv4())
            .map(|a| format!("{}/{}", a.address, a.prefix_len))
            .collect();
        assert_eq!(v4, vec!["10.200.0.2/24"]);
        assert_eq!(
            there.render_ip_route(),
            "default via 10.200.0.1 dev clab-c0\n\
             10.200.0.0/24 dev clab-c0 proto kernel scope link src 10.200.0.2\n"
        );
        assert!(
            there
                .render_ip_addr()
                .contains(&format!("clab-c0@if{}", h0.index)),
            "{}",
            there.render_ip_addr()
        );

        let here = settle(None, |s| s.link("clab-h0").is_some_and(|l| l.state == "UP"));
        assert_eq!(here.link("clab-h0").unwrap().state, "UP", "{here:#?}");

        // A device route on this side.
        add_route(
            RouteDest::Net(Ipv4Addr::new(10, 201, 0, 0), 24),
            NextHop {
                via: None,
                dev: Some("clab-h0"),
            },
            &mut trace,
        )
        .unwrap();
        let routes = snapshot(None).unwrap().render_ip_route();
        assert!(
            routes.contains("10.201.0.0/24 dev clab-h0 scope link\n"),
            "{routes}"
        );

        // A real ping across the cable: the peer namespace's kernel answers the echo.
        assert!(ping(PEER_IP), "no ICMP echo reply from {PEER_IP}");

        // Deleting one end deletes both; a second delete says "already gone".
        delete_link("clab-h0", &mut trace).unwrap();
        assert_eq!(
            last_line(&trace),
            r#"sendmsg(NETLINK_ROUTE, RTM_DELLINK {name: "clab-h0"}) = 0"#
        );
        assert!(snapshot(None).unwrap().link("clab-h0").is_none());
        assert!(snapshot_fd(peer_ns.as_fd())
            .unwrap()
            .link("clab-c0")
            .is_none());
        let err = delete_link("clab-h0", &mut trace).unwrap_err();
        assert!(err.is_no_such_device(), "{err}");
        assert_eq!(err.errno(), Some(Errno::ENODEV));
        assert!(
            last_line(&trace).ends_with("= -1 ENODEV (No such device)"),
            "{}",
            last_line(&trace)
        );
    });
    drop(peer_ns);
}

#[test]
fn errors_keep_their_errno() {
    in_fresh_netns(|| {
        let mut trace = Trace::new();
        let err = add_address("clab-nope", HOST_IP, 24, &mut trace).unwrap_err();
        assert!(err.is_no_such_device(), "{err}");
        assert_eq!(
            trace.records[0].to_string(),
            r#"if_nametoindex("clab-nope") = -1 ENODEV (No such device)"#
        );

        let err = set_link_up("clab-nope", &mut trace).unwrap_err();
        assert!(err.is_no_such_device(), "{err}");

        // No address on any subnet containing the gateway: the kernel cannot reach it.
        let err = add_default_route(Ipv4Addr::new(10, 99, 0, 1), &mut trace).unwrap_err();
        assert_eq!(err.errno(), Some(Errno::ENETUNREACH), "{err}");
        assert!(matches!(
            trace.records.last().unwrap().result,
            Outcome::Failed { .. }
        ));

        // A name longer than IFNAMSIZ-1 (15 bytes) fails the kernel's attribute policy, and the
        // kernel explains why in its extended ack.
        let err = create_veth("clab-much-too-long-name", "clab-c1", &mut trace).unwrap_err();
        assert_eq!(err.errno(), Some(Errno::ERANGE), "{err}");
        assert!(
            matches!(&err, NetError::Kernel { ext_ack: Some(m), .. } if !m.is_empty()),
            "{err:?}"
        );

        // Inspecting something that is not a network namespace is a namespace error.
        let err = snapshot(Some(Path::new("/proc/self/ns/uts"))).unwrap_err();
        assert!(
            matches!(
                err,
                NetError::Namespace {
                    errno: Errno::EINVAL,
                    ..
                }
            ),
            "{err}"
        );
    });
}

/// Kills the `unshare --net` child on drop, so its namespace dies even if the test fails.
struct ChildGuard(Child);
impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn move_by_pid_into_a_process_namespace() {
    // `unshare --net` makes a new namespace and execs the shell in it; "ready" means it is in.
    let mut child = Command::new("unshare")
        .args(["--net", "--", "sh", "-c", "echo ready; exec sleep 600"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("run unshare(1)");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "ready\n");
    let child = ChildGuard(child);
    let pid = child.0.id() as i32;

    in_fresh_netns(move || {
        let mut trace = Trace::new();
        create_veth("clab-h1", "clab-c1", &mut trace).unwrap();
        move_link_to_netns("clab-c1", NetnsTarget::Pid(pid), &mut trace).unwrap();
        assert_eq!(
            last_line(&trace),
            format!(
                r#"sendmsg(NETLINK_ROUTE, RTM_NEWLINK {{name: "clab-c1", net_ns_pid: {pid}}}) = 0"#
            )
        );
        assert!(snapshot(None).unwrap().link("clab-c1").is_none());
        let there = snapshot(Some(Path::new(&format!("/proc/{pid}/ns/net")))).unwrap();
        let names: Vec<&str> = there.links.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, vec!["lo", "clab-c1"]);
        delete_link("clab-h1", &mut trace).unwrap();
        let there = snapshot(Some(Path::new(&format!("/proc/{pid}/ns/net")))).unwrap();
        assert!(there.link("clab-c1").is_none());
    });
    drop(child);
}

/// Sends ICMP echo requests to `dst` from a raw socket in the calling thread's namespace and
/// waits for a matching echo reply.
fn ping(dst: Ipv4Addr) -> bool {
    let sock = socket(
        AddressFamily::Inet,
        SockType::Raw,
        SockFlag::SOCK_CLOEXEC,
        SockProtocol::Icmp,
    )
    .expect("raw ICMP socket (needs CAP_NET_RAW)");
    setsockopt(&sock, sockopt::ReceiveTimeout, &TimeVal::new(1, 0)).unwrap();
    let id: u16 = std::process::id() as u16;
    let target = SockaddrIn::from(SocketAddrV4::new(dst, 0));
    for seq in 1..=5u16 {
        let mut packet = vec![8u8, 0, 0, 0];
        packet.extend_from_slice(&id.to_be_bytes());
        packet.extend_from_slice(&seq.to_be_bytes());
        packet.extend_from_slice(b"containerlab");
        let sum = checksum(&packet);
        packet[2..4].copy_from_slice(&sum.to_be_bytes());
        sendto(sock.as_raw_fd(), &packet, &target, MsgFlags::empty()).expect("sendto");
        let mut buf = [0u8; 1500];
        while let Ok((n, _)) = recvfrom::<SockaddrIn>(sock.as_raw_fd(), &mut buf) {
            // A raw socket hands us the whole IP packet: skip its header (IHL 32-bit words).
            let ihl = usize::from(buf[0] & 0x0f) * 4;
            let src = Ipv4Addr::new(buf[12], buf[13], buf[14], buf[15]);
            let icmp = &buf[ihl..n];
            if src == dst && icmp.len() >= 8 && icmp[0] == 0 && icmp[4..6] == id.to_be_bytes() {
                return true;
            }
        }
    }
    false
}

fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[test]
fn bridge_created_and_a_veth_end_plugged_into_it() {
    let netns = new_netns_fd();
    let (trace, snap) = in_netns(netns.as_fd(), || {
        let mut trace = Trace::new();
        create_bridge("clab-br0", &mut trace).unwrap();
        create_veth("clab-p0", "clab-p1", &mut trace).unwrap();
        set_master("clab-p0", "clab-br0", &mut trace).unwrap();
        (trace, snapshot(None).unwrap())
    });
    let link = |name: &str| snap.links.iter().find(|l| l.name == name).unwrap();
    assert_eq!(link("clab-br0").kind.as_deref(), Some("bridge"));
    assert_eq!(link("clab-p0").master.as_deref(), Some("clab-br0"));
    assert_eq!(link("clab-p1").master, None);
    assert!(
        last_line(&trace).contains("master: ") && last_line(&trace).contains("\"clab-br0\""),
        "{}",
        last_line(&trace)
    );
    // A master that does not exist: the name lookup fails, nothing is sent.
    let err = in_netns(netns.as_fd(), || {
        let mut trace = Trace::new();
        set_master("clab-p1", "no-such-br", &mut trace).unwrap_err()
    });
    assert_eq!(err.errno(), Some(Errno::ENODEV), "{err}");
}
