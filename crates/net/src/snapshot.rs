//! Looking at a network namespace: the links, addresses and routes `ip` would show.
//!
//! Every network namespace has its own interfaces, addresses, routing tables and firewall. A
//! brand-new one holds a single interface, the loopback `lo`, and it is DOWN: not even
//! `127.0.0.1` works until someone brings it up. To see what is inside, we ask the kernel for a
//! dump (`RTM_GETLINK`, `RTM_GETADDR`, `RTM_GETROUTE` with `NLM_F_DUMP`) over a netlink socket
//! opened *inside* that namespace.
//!
//! Namespaces belong to threads, not only to processes: `setns(fd, CLONE_NEWNET)` moves just
//! the calling thread into another network namespace, and the kernel allows that even in a
//! multithreaded program. So [`snapshot`] starts a short-lived thread, moves that thread alone
//! into the target namespace, dumps, and lets the thread die; the caller's own threads never
//! change namespace.

use crate::error::NetError;
use crate::rtnl::{Failure, Rtnl};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{LinkAttribute, LinkInfo, LinkMessage};
use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteHeader, RouteMessage};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use nix::errno::Errno;
use nix::sched::CloneFlags;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fs::File;
use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Everything `ip link`, `ip addr` and `ip route` would show for one network namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NetSnapshot {
    pub links: Vec<Link>,
    pub addresses: Vec<Address>,
    /// IPv4 routes of the main table (what `ip route` lists).
    pub routes: Vec<Route>,
}

/// One network interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    /// The kernel's number for the interface (`ifindex`), unique within its namespace.
    pub index: u32,
    pub name: String,
    /// The driver kind from `IFLA_INFO_KIND` (`veth`, `bridge`...); `loopback` for `lo`,
    /// which has none.
    pub kind: Option<String>,
    /// Operational state as `ip` shows it: `UP`, `DOWN`, `UNKNOWN`, `LOWERLAYERDOWN`...
    pub state: String,
    /// Interface flags in `ip`'s order and spelling: `LOOPBACK`, `BROADCAST`, `UP`, `LOWER_UP`...
    pub flags: Vec<String>,
    pub mtu: Option<u32>,
    /// Link-layer (MAC) address, `aa:bb:cc:dd:ee:ff`.
    pub mac: Option<String>,
    /// `IFLA_LINK`: for a veth, the ifindex of its peer (in the peer's namespace).
    pub peer_index: Option<u32>,
    /// `IFLA_LINK_NETNSID`: set when the peer lives in another namespace; the id is this
    /// namespace's local name for that other namespace.
    pub link_netnsid: Option<i32>,
    /// The peer's name when it is in this same namespace.
    pub peer_name: Option<String>,
    /// `IFLA_MASTER`: the bridge this link is a port of (`ip link set DEV master BR`), by name.
    pub master: Option<String>,
    #[serde(skip)]
    master_index: Option<u32>,
}

/// One address on an interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Address {
    pub ifname: String,
    pub index: u32,
    pub address: IpAddr,
    pub prefix_len: u8,
    /// `global`, `link`, `host`...
    pub scope: String,
}

/// One IPv4 route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Route {
    /// `None` for the default route.
    pub dst: Option<Ipv4Addr>,
    pub dst_len: u8,
    /// Route type: `unicast`, `local`, `broadcast`, `unreachable`...
    pub kind: String,
    /// The gateway (`via`).
    pub via: Option<Ipv4Addr>,
    /// The output interface (`dev`).
    pub dev: Option<String>,
    /// Who added it: `kernel`, `boot` (by `ip route add`), `static`, `dhcp`...
    pub protocol: String,
    /// `global`, `link`, `host`.
    pub scope: String,
    /// Preferred source address (`src`).
    pub src: Option<Ipv4Addr>,
    pub metric: Option<u32>,
    /// The output interface has no carrier (`RTNH_F_LINKDOWN`).
    pub linkdown: bool,
}

impl NetSnapshot {
    /// The link with this name, if any.
    pub fn link(&self, name: &str) -> Option<&Link> {
        self.links.iter().find(|l| l.name == name)
    }

    /// The addresses of the named interface.
    pub fn addresses_of<'a>(&'a self, ifname: &'a str) -> impl Iterator<Item = &'a Address> + 'a {
        self.addresses.iter().filter(move |a| a.ifname == ifname)
    }
}

/// Dumps the links, addresses and routes of a network namespace.
///
/// `None` inspects the calling thread's own namespace, directly in the calling thread. `Some`
/// (e.g. `/proc/PID/ns/net`) inspects another one from a short-lived thread that `setns`es
/// into it, so the caller's namespaces never change: this is meant for multithreaded
/// programs such as the TUI.
///
/// Do not call it with `Some` from the single-threaded helper process: spawning the thread
/// makes the process multithreaded for a moment, and an `unshare(CLONE_NEWUSER)` racing with
/// it would fail with `EINVAL`. In that process, inspect with `None` from the thread that is
/// already in the right namespace.
pub fn snapshot(netns: Option<&Path>) -> Result<NetSnapshot, NetError> {
    match netns {
        None => collect(),
        Some(path) => {
            let file = File::open(path).map_err(|e| NetError::Namespace {
                path: path.to_path_buf(),
                errno: Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
            })?;
            // Our own namespace (the host's, in a view) needs no thread and no setns.
            let ino = |f: &File| f.metadata().ok().map(|m| m.ino());
            let own = File::open("/proc/thread-self/ns/net").ok();
            if ino(&file).is_some() && own.as_ref().and_then(ino) == ino(&file) {
                return collect();
            }
            in_netns_thread(OwnedFd::from(file), path.to_path_buf())
        }
    }
}

/// Like [`snapshot`] with `Some`, for a namespace already open as a file descriptor
/// (e.g. `/proc/thread-self/ns/net` opened earlier). Same threading rules.
pub fn snapshot_fd(netns: BorrowedFd<'_>) -> Result<NetSnapshot, NetError> {
    let path = PathBuf::from(format!(
        "/proc/self/fd/{}",
        std::os::fd::AsRawFd::as_raw_fd(&netns)
    ));
    let owned = netns
        .try_clone_to_owned()
        .map_err(|e| NetError::Namespace {
            path: path.clone(),
            errno: Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
        })?;
    in_netns_thread(owned, path)
}

fn in_netns_thread(fd: OwnedFd, path: PathBuf) -> Result<NetSnapshot, NetError> {
    std::thread::spawn(move || {
        // CLONE_NEWNET makes the kernel check that the fd really is a network namespace.
        nix::sched::setns(fd.as_fd(), CloneFlags::CLONE_NEWNET)
            .map_err(|errno| NetError::Namespace { path, errno })?;
        collect()
    })
    .join()
    .map_err(|_| NetError::ThreadPanicked)?
}

/// Dumps the calling thread's current network namespace.
fn collect() -> Result<NetSnapshot, NetError> {
    let dump_error = |call: &str, f: Failure| match f {
        Failure::Errno { errno, ext_ack } => NetError::Kernel {
            call: call.to_string(),
            errno,
            ext_ack,
        },
        Failure::Decode(text) => NetError::Decode(text),
    };
    let mut rtnl =
        Rtnl::open().map_err(|f| dump_error("socket(AF_NETLINK, SOCK_DGRAM, NETLINK_ROUTE)", f))?;
    let link_msgs = rtnl
        .dump(RouteNetlinkMessage::GetLink(LinkMessage::default()))
        .map_err(|f| dump_error("RTM_GETLINK dump", f))?;
    let addr_msgs = rtnl
        .dump(RouteNetlinkMessage::GetAddress(AddressMessage::default()))
        .map_err(|f| dump_error("RTM_GETADDR dump", f))?;
    let mut route_request = RouteMessage::default();
    route_request.header.address_family = AddressFamily::Inet;
    let route_msgs = rtnl
        .dump(RouteNetlinkMessage::GetRoute(route_request))
        .map_err(|f| dump_error("RTM_GETROUTE dump", f))?;
    Ok(assemble(link_msgs, addr_msgs, route_msgs))
}

/// The snapshot the three dumps' replies describe; replies of other kinds are ignored.
pub(crate) fn assemble(
    link_msgs: Vec<RouteNetlinkMessage>,
    addr_msgs: Vec<RouteNetlinkMessage>,
    route_msgs: Vec<RouteNetlinkMessage>,
) -> NetSnapshot {
    let mut links: Vec<Link> = link_msgs
        .into_iter()
        .filter_map(|m| match m {
            RouteNetlinkMessage::NewLink(l) => Some(link_from(l)),
            _ => None,
        })
        .collect();
    links.sort_by_key(|l| l.index);
    let names: BTreeMap<u32, String> = links.iter().map(|l| (l.index, l.name.clone())).collect();
    for link in &mut links {
        if link.link_netnsid.is_none() {
            link.peer_name = link.peer_index.and_then(|i| names.get(&i).cloned());
        }
        link.master = link.master_index.and_then(|i| names.get(&i).cloned());
    }
    let addresses = addr_msgs
        .into_iter()
        .filter_map(|m| match m {
            RouteNetlinkMessage::NewAddress(a) => address_from(a, &names),
            _ => None,
        })
        .collect();
    let routes = route_msgs
        .into_iter()
        .filter_map(|m| match m {
            RouteNetlinkMessage::NewRoute(r) => route_from(r, &names),
            _ => None,
        })
        .collect();
    NetSnapshot {
        links,
        addresses,
        routes,
    }
}

fn link_from(message: LinkMessage) -> Link {
    let flags_bits = message.header.flags.bits();
    let mut link = Link {
        index: message.header.index,
        name: String::new(),
        kind: None,
        state: "UNKNOWN".to_string(),
        flags: flag_names(flags_bits),
        mtu: None,
        mac: None,
        peer_index: None,
        link_netnsid: None,
        peer_name: None,
        master: None,
        master_index: None,
    };
    for attribute in message.attributes {
        match attribute {
            LinkAttribute::IfName(n) => link.name = n,
            LinkAttribute::Mtu(m) => link.mtu = Some(m),
            LinkAttribute::Address(bytes) => {
                link.mac = Some(
                    bytes
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect::<Vec<_>>()
                        .join(":"),
                )
            }
            LinkAttribute::OperState(s) => link.state = oper_state_name(u8::from(s)),
            LinkAttribute::Link(i) => link.peer_index = Some(i),
            LinkAttribute::LinkNetNsId(id) => link.link_netnsid = Some(id),
            LinkAttribute::Controller(i) => link.master_index = Some(i),
            LinkAttribute::LinkInfo(infos) => {
                for info in infos {
                    if let LinkInfo::Kind(kind) = info {
                        link.kind = Some(kind.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    const IFF_LOOPBACK: u32 = libc::IFF_LOOPBACK as u32;
    if link.kind.is_none() && flags_bits & IFF_LOOPBACK != 0 {
        link.kind = Some("loopback".to_string());
    }
    link
}

fn address_from(message: AddressMessage, names: &BTreeMap<u32, String>) -> Option<Address> {
    let mut local = None;
    let mut address = None;
    for attribute in message.attributes {
        match attribute {
            AddressAttribute::Local(a) => local = Some(a),
            AddressAttribute::Address(a) => address = Some(a),
            _ => {}
        }
    }
    // For IPv4 the interface's own address is IFA_LOCAL; IPv6 sends only IFA_ADDRESS.
    let addr = local.or(address)?;
    Some(Address {
        ifname: names
            .get(&message.header.index)
            .cloned()
            .unwrap_or_else(|| format!("if{}", message.header.index)),
        index: message.header.index,
        address: addr,
        prefix_len: message.header.prefix_len,
        scope: scope_name(u8::from(message.header.scope)),
    })
}

/// `RTNH_F_LINKDOWN` from `<linux/rtnetlink.h>`: the next hop's link has no carrier.
const RTNH_F_LINKDOWN: u32 = 16;

fn route_from(message: RouteMessage, names: &BTreeMap<u32, String>) -> Option<Route> {
    let header = &message.header;
    if header.address_family != AddressFamily::Inet {
        return None;
    }
    let mut table = u32::from(header.table);
    let mut route = Route {
        dst: None,
        dst_len: header.destination_prefix_length,
        kind: route_type_name(u8::from(header.kind)),
        via: None,
        dev: None,
        protocol: protocol_name(u8::from(header.protocol)),
        scope: scope_name(u8::from(header.scope)),
        src: None,
        metric: None,
        linkdown: header.flags.bits() & RTNH_F_LINKDOWN != 0,
    };
    for attribute in &message.attributes {
        match attribute {
            RouteAttribute::Destination(RouteAddress::Inet(a)) => route.dst = Some(*a),
            RouteAttribute::Gateway(RouteAddress::Inet(a)) => route.via = Some(*a),
            RouteAttribute::PrefSource(RouteAddress::Inet(a)) => route.src = Some(*a),
            RouteAttribute::Oif(i) => {
                route.dev = Some(names.get(i).cloned().unwrap_or_else(|| format!("if{i}")))
            }
            RouteAttribute::Priority(p) => route.metric = Some(*p),
            RouteAttribute::Table(t) => table = *t,
            _ => {}
        }
    }
    // `ip route` shows the main table; the local table (127.0.0.0/8, own addresses) is
    // `ip route show table local`.
    (table == u32::from(RouteHeader::RT_TABLE_MAIN)).then_some(route)
}

/// The interface flags in the order and spelling of iproute2's `print_link_flags`.
fn flag_names(bits: u32) -> Vec<String> {
    const NAMES: [(libc::c_int, &str); 18] = [
        (libc::IFF_LOOPBACK, "LOOPBACK"),
        (libc::IFF_BROADCAST, "BROADCAST"),
        (libc::IFF_POINTOPOINT, "POINTOPOINT"),
        (libc::IFF_MULTICAST, "MULTICAST"),
        (libc::IFF_NOARP, "NOARP"),
        (libc::IFF_ALLMULTI, "ALLMULTI"),
        (libc::IFF_PROMISC, "PROMISC"),
        (libc::IFF_MASTER, "MASTER"),
        (libc::IFF_SLAVE, "SLAVE"),
        (libc::IFF_DEBUG, "DEBUG"),
        (libc::IFF_DYNAMIC, "DYNAMIC"),
        (libc::IFF_AUTOMEDIA, "AUTOMEDIA"),
        (libc::IFF_PORTSEL, "PORTSEL"),
        (libc::IFF_NOTRAILERS, "NOTRAILERS"),
        (libc::IFF_UP, "UP"),
        (libc::IFF_LOWER_UP, "LOWER_UP"),
        (libc::IFF_DORMANT, "DORMANT"),
        (libc::IFF_ECHO, "ECHO"),
    ];
    let mut out = Vec::new();
    // UP without RUNNING means the cable is unplugged (for a veth: the peer is down).
    if bits & libc::IFF_UP as u32 != 0 && bits & libc::IFF_RUNNING as u32 == 0 {
        out.push("NO-CARRIER".to_string());
    }
    for (bit, name) in NAMES {
        if bits & bit as u32 != 0 {
            out.push(name.to_string());
        }
    }
    out
}

fn oper_state_name(state: u8) -> String {
    match state {
        0 => "UNKNOWN",
        1 => "NOTPRESENT",
        2 => "DOWN",
        3 => "LOWERLAYERDOWN",
        4 => "TESTING",
        5 => "DORMANT",
        6 => "UP",
        other => return format!("{other}"),
    }
    .to_string()
}

fn scope_name(scope: u8) -> String {
    match scope {
        0 => "global",
        200 => "site",
        253 => "link",
        254 => "host",
        255 => "nowhere",
        other => return other.to_string(),
    }
    .to_string()
}

fn protocol_name(protocol: u8) -> String {
    match protocol {
        0 => "unspec",
        1 => "redirect",
        2 => "kernel",
        3 => "boot",
        4 => "static",
        9 => "ra",
        16 => "dhcp",
        186 => "bgp",
        187 => "isis",
        188 => "ospf",
        other => return other.to_string(),
    }
    .to_string()
}

fn route_type_name(kind: u8) -> String {
    match kind {
        0 => "unspec",
        1 => "unicast",
        2 => "local",
        3 => "broadcast",
        4 => "anycast",
        5 => "multicast",
        6 => "blackhole",
        7 => "unreachable",
        8 => "prohibit",
        9 => "throw",
        10 => "nat",
        other => return other.to_string(),
    }
    .to_string()
}
