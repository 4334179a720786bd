//! Changing the network: the requests `ip link add`, `ip link set`, `ip addr add` and
//! `ip route add` send.
//!
//! Each function opens a `NETLINK_ROUTE` socket in the *calling thread's* network namespace,
//! sends one request and waits for the kernel's answer, then records that `sendmsg` in the
//! trace as strace would show it. Interfaces are named by their name; where the kernel wants an
//! interface *index* (addresses, routes) the name is first turned into one with
//! `if_nametoindex`, and that lookup is recorded too.
//!
//! Everything here is synchronous and single-threaded on purpose: the helper process that
//! calls it may later `unshare(CLONE_NEWUSER)`, which the kernel refuses to a process with
//! more than one thread. (The socket open itself is not written to the trace unless it fails.)

use crate::error::NetError;
use crate::rtnl::{Failure, Rtnl};
use containerlab_trace::{quoted, Trace};
use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::address::{AddressAttribute, AddressMessage, AddressScope};
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoVeth, LinkAttribute, LinkFlags, LinkInfo, LinkMessage,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use nix::errno::Errno;
use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::{AsRawFd, BorrowedFd};

/// Which network namespace to move a link into.
#[derive(Debug, Clone, Copy)]
pub enum NetnsTarget<'fd> {
    /// The namespace of this process (`IFLA_NET_NS_PID`).
    Pid(i32),
    /// The namespace this file descriptor refers to, e.g. an open `/proc/PID/ns/net`
    /// (`IFLA_NET_NS_FD`).
    Fd(BorrowedFd<'fd>),
}

/// The destination of a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteDest {
    /// `default`: 0.0.0.0/0, used when no more specific route matches.
    Default,
    /// A network, e.g. `10.0.0.0/24`.
    Net(Ipv4Addr, u8),
}

/// Where a route sends packets: through a gateway, out of a device, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NextHop<'a> {
    /// `via`: the router to hand packets to; it must be on a connected subnet.
    pub via: Option<Ipv4Addr>,
    /// `dev`: the interface to send from.
    pub dev: Option<&'a str>,
}

/// `ip link add HOST type veth peer name PEER`: creates a veth pair, two interfaces joined like
/// the ends of a cable, both in the calling thread's network namespace and both DOWN.
pub fn create_veth(host_name: &str, peer_name: &str, trace: &mut Trace) -> Result<(), NetError> {
    let mut peer = LinkMessage::default();
    peer.attributes
        .push(LinkAttribute::IfName(peer_name.to_string()));
    let mut message = LinkMessage::default();
    message
        .attributes
        .push(LinkAttribute::IfName(host_name.to_string()));
    message.attributes.push(LinkAttribute::LinkInfo(vec![
        LinkInfo::Kind(InfoKind::Veth),
        LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer))),
    ]));
    let call = format!(
        "sendmsg(NETLINK_ROUTE, RTM_NEWLINK {{name: {}, kind: veth, peer: {}}})",
        quoted(host_name),
        quoted(peer_name)
    );
    // NLM_F_EXCL: fail with EEXIST rather than silently reuse an existing link.
    send(
        RouteNetlinkMessage::NewLink(message),
        NLM_F_CREATE | NLM_F_EXCL,
        call,
        trace,
    )
}

/// `ip link add NAME type bridge`: creates a bridge, a virtual switch (docker0 is one) in the
/// calling thread's network namespace, DOWN and with no ports; links become its ports with
/// [`set_master`].
pub fn create_bridge(name: &str, trace: &mut Trace) -> Result<(), NetError> {
    let mut message = LinkMessage::default();
    message
        .attributes
        .push(LinkAttribute::IfName(name.to_string()));
    message
        .attributes
        .push(LinkAttribute::LinkInfo(vec![LinkInfo::Kind(
            InfoKind::Bridge,
        )]));
    let call = format!(
        "sendmsg(NETLINK_ROUTE, RTM_NEWLINK {{name: {}, kind: bridge}})",
        quoted(name)
    );
    send(
        RouteNetlinkMessage::NewLink(message),
        NLM_F_CREATE | NLM_F_EXCL,
        call,
        trace,
    )
}

/// `ip link set DEV master BRIDGE`: plugs a link into a bridge as one of its ports
/// (`IFLA_MASTER`, the bridge's index).
pub fn set_master(dev: &str, master: &str, trace: &mut Trace) -> Result<(), NetError> {
    let index = link_index(master, trace)?;
    let mut message = LinkMessage::default();
    message
        .attributes
        .push(LinkAttribute::IfName(dev.to_string()));
    message.attributes.push(LinkAttribute::Controller(index));
    let call = format!(
        "sendmsg(NETLINK_ROUTE, RTM_NEWLINK {{name: {}, master: {index} ({})}})",
        quoted(dev),
        quoted(master)
    );
    send(RouteNetlinkMessage::NewLink(message), 0, call, trace)
}

/// `ip link set NAME netns PID|FILE`: moves a link into another network namespace. It
/// disappears from this one; a moved link is always DOWN and loses its addresses.
pub fn move_link_to_netns(
    name: &str,
    target: NetnsTarget<'_>,
    trace: &mut Trace,
) -> Result<(), NetError> {
    let mut message = LinkMessage::default();
    message
        .attributes
        .push(LinkAttribute::IfName(name.to_string()));
    let target_text = match target {
        NetnsTarget::Pid(pid) => {
            message.attributes.push(LinkAttribute::NetNsPid(pid as u32));
            format!("net_ns_pid: {pid}")
        }
        NetnsTarget::Fd(fd) => {
            message
                .attributes
                .push(LinkAttribute::NetNsFd(fd.as_raw_fd()));
            format!("net_ns_fd: {}", fd.as_raw_fd())
        }
    };
    let call = format!(
        "sendmsg(NETLINK_ROUTE, RTM_NEWLINK {{name: {}, {target_text}}})",
        quoted(name)
    );
    send(RouteNetlinkMessage::NewLink(message), 0, call, trace)
}

/// `ip link set NAME up`: sets `IFF_UP`. Works for `lo` too, which a new namespace has DOWN.
pub fn set_link_up(name: &str, trace: &mut Trace) -> Result<(), NetError> {
    set_link_flag_up(name, true, trace)
}

/// `ip link set NAME down`: clears `IFF_UP`.
pub fn set_link_down(name: &str, trace: &mut Trace) -> Result<(), NetError> {
    set_link_flag_up(name, false, trace)
}

fn set_link_flag_up(name: &str, up: bool, trace: &mut Trace) -> Result<(), NetError> {
    let mut message = LinkMessage::default();
    // change_mask says which flag bits this request changes; flags says their new values.
    message.header.change_mask = LinkFlags::Up;
    if up {
        message.header.flags = LinkFlags::Up;
    }
    message
        .attributes
        .push(LinkAttribute::IfName(name.to_string()));
    let call = format!(
        "sendmsg(NETLINK_ROUTE, RTM_NEWLINK {{name: {}, flags: {}, change: IFF_UP}})",
        quoted(name),
        if up { "IFF_UP" } else { "0" }
    );
    send(RouteNetlinkMessage::NewLink(message), 0, call, trace)
}

/// `ip link del NAME`: deletes a link. Deleting either end of a veth pair deletes both.
/// A link that does not exist gives an error for which [`NetError::is_no_such_device`] is true.
pub fn delete_link(name: &str, trace: &mut Trace) -> Result<(), NetError> {
    let mut message = LinkMessage::default();
    message
        .attributes
        .push(LinkAttribute::IfName(name.to_string()));
    let call = format!(
        "sendmsg(NETLINK_ROUTE, RTM_DELLINK {{name: {}}})",
        quoted(name)
    );
    send(RouteNetlinkMessage::DelLink(message), 0, call, trace)
}

/// `ip addr add ADDR/PREFIX dev IFNAME`: gives an interface an IPv4 address. The kernel also
/// adds the matching subnet route (`proto kernel scope link`) once the link is up.
pub fn add_address(
    ifname: &str,
    addr: Ipv4Addr,
    prefix_len: u8,
    trace: &mut Trace,
) -> Result<(), NetError> {
    let index = link_index(ifname, trace)?;
    let mut message = AddressMessage::default();
    message.header.family = AddressFamily::Inet;
    message.header.prefix_len = prefix_len;
    message.header.scope = AddressScope::Universe;
    message.header.index = index;
    // For IPv4, IFA_LOCAL is the interface's own address and IFA_ADDRESS the (same) peer
    // address; `ip` sends both, and so do we.
    message
        .attributes
        .push(AddressAttribute::Local(IpAddr::V4(addr)));
    message
        .attributes
        .push(AddressAttribute::Address(IpAddr::V4(addr)));
    if prefix_len < 31 {
        let host_bits = if prefix_len == 0 {
            u32::MAX
        } else {
            u32::MAX >> prefix_len
        };
        let broadcast = Ipv4Addr::from(u32::from(addr) | host_bits);
        message
            .attributes
            .push(AddressAttribute::Broadcast(broadcast));
    }
    let call = format!(
        "sendmsg(NETLINK_ROUTE, RTM_NEWADDR {{index: {index} ({}), local: {addr}/{prefix_len}}})",
        quoted(ifname)
    );
    send(
        RouteNetlinkMessage::NewAddress(message),
        NLM_F_CREATE | NLM_F_EXCL,
        call,
        trace,
    )
}

/// `ip route add default via GATEWAY`.
pub fn add_default_route(via: Ipv4Addr, trace: &mut Trace) -> Result<(), NetError> {
    add_route(
        RouteDest::Default,
        NextHop {
            via: Some(via),
            dev: None,
        },
        trace,
    )
}

/// `ip route add DEST [via GATEWAY] [dev IFNAME]` in the main table.
pub fn add_route(
    dest: RouteDest,
    next_hop: NextHop<'_>,
    trace: &mut Trace,
) -> Result<(), NetError> {
    let oif = match next_hop.dev {
        Some(dev) => Some((dev, link_index(dev, trace)?)),
        None => None,
    };
    let mut message = RouteMessage::default();
    message.header.address_family = AddressFamily::Inet;
    message.header.table = RouteHeader::RT_TABLE_MAIN;
    // `ip route add` marks its routes "boot" (added by an administrator, not by a daemon).
    message.header.protocol = RouteProtocol::Boot;
    message.header.kind = RouteType::Unicast;
    // A route without a gateway reaches hosts directly on the link; one with a gateway is global.
    message.header.scope = if next_hop.via.is_some() {
        RouteScope::Universe
    } else {
        RouteScope::Link
    };
    let dest_text = match dest {
        RouteDest::Default => "default".to_string(),
        RouteDest::Net(net, len) => {
            message.header.destination_prefix_length = len;
            message
                .attributes
                .push(RouteAttribute::Destination(RouteAddress::Inet(net)));
            format!("{net}/{len}")
        }
    };
    let mut call = format!("sendmsg(NETLINK_ROUTE, RTM_NEWROUTE {{dst: {dest_text}");
    if let Some(via) = next_hop.via {
        message
            .attributes
            .push(RouteAttribute::Gateway(RouteAddress::Inet(via)));
        call.push_str(&format!(", gateway: {via}"));
    }
    if let Some((dev, index)) = oif {
        message.attributes.push(RouteAttribute::Oif(index));
        call.push_str(&format!(", oif: {index} ({})", quoted(dev)));
    }
    call.push_str("})");
    send(
        RouteNetlinkMessage::NewRoute(message),
        NLM_F_CREATE | NLM_F_EXCL,
        call,
        trace,
    )
}

/// `if_nametoindex(NAME)`: the kernel's number for an interface, which addresses and routes use.
fn link_index(name: &str, trace: &mut Trace) -> Result<u32, NetError> {
    let call = format!("if_nametoindex({})", quoted(name));
    match trace.record_with(call.clone(), nix::net::if_::if_nametoindex(name), |i| {
        i.to_string()
    }) {
        // if_nametoindex reports "no such interface" as 0 with errno ENODEV.
        Ok(index) => Ok(index),
        Err(errno) => Err(NetError::Kernel {
            call,
            errno,
            ext_ack: None,
        }),
    }
}

/// Opens a socket, sends one request and records its outcome as one trace line.
fn send(
    message: RouteNetlinkMessage,
    flags: u16,
    call: String,
    trace: &mut Trace,
) -> Result<(), NetError> {
    let mut rtnl = match Rtnl::open() {
        Ok(r) => r,
        Err(failure) => {
            return Err(record_failure(
                "socket(AF_NETLINK, SOCK_DGRAM|SOCK_CLOEXEC, NETLINK_ROUTE)".to_string(),
                failure,
                trace,
            ))
        }
    };
    match rtnl.request(message, flags) {
        Ok(()) => {
            let _ = trace.record(call, Ok(()));
            Ok(())
        }
        Err(failure) => Err(record_failure(call, failure, trace)),
    }
}

fn record_failure(call: String, failure: Failure, trace: &mut Trace) -> NetError {
    match failure {
        Failure::Errno { errno, ext_ack } => {
            let _ = trace.record::<()>(call.clone(), Err(errno));
            NetError::Kernel {
                call,
                errno,
                ext_ack,
            }
        }
        Failure::Decode(text) => {
            // The kernel did answer, but not in a form we can read: show it as a bad message.
            let _ = trace.record::<()>(call, Err(Errno::EBADMSG));
            NetError::Decode(text)
        }
    }
}
