//! Container networking, the way the kernel sees it.
//!
//! A **network namespace** is a private copy of the network stack: its own interfaces,
//! addresses, routing table, ARP cache and firewall. Processes in different namespaces cannot
//! see each other's interfaces at all. A brand-new namespace holds exactly one interface, the
//! loopback `lo`, and even that is DOWN, so a freshly isolated container has no network.
//!
//! A **veth pair** is how a container gets connected: two virtual Ethernet interfaces joined
//! like the two ends of a cable, so what is sent into one comes out of the other. Create the
//! pair in the host's namespace, move one end into the container's namespace, give both ends an
//! address on the same subnet and bring them up: the two sides can now ping each other.
//! (Container engines then plug the host end into a bridge and add NAT; this lesson stops at
//! the cable.)
//!
//! All of this is done over **netlink**, a socket family whose other end is the kernel. `ip`
//! itself is just a netlink client: `ip link add` sends an `RTM_NEWLINK` message, `ip addr
//! add` an `RTM_NEWADDR`, `ip route` asks for an `RTM_GETROUTE` dump. This crate sends the same
//! messages and records each one in the [`containerlab_trace::Trace`] the learner sees.
//!
//! Two halves, with different threading rules:
//! - changing things ([`create_veth`], [`create_bridge`], [`set_master`], [`move_link_to_netns`], [`add_address`],
//!   [`set_link_up`], [`add_route`], [`delete_link`]) acts on the calling thread's current
//!   network namespace, synchronously, without ever starting a thread;
//! - looking ([`snapshot`], [`snapshot_fd`]) can inspect any namespace from a multithreaded
//!   program by entering it from a short-lived thread of its own.

mod error;
mod ops;
#[cfg(test)]
mod prop_tests;
mod render;
mod rtnl;
mod snapshot;

pub use error::NetError;
pub use ops::{
    add_address, add_default_route, add_route, create_bridge, create_veth, delete_link,
    move_link_to_netns, set_link_down, set_link_up, set_master, NetnsTarget, NextHop, RouteDest,
};
pub use snapshot::{snapshot, snapshot_fd, Address, Link, NetSnapshot, Route};
