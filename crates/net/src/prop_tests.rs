//! Property tests: netlink replies with odd contents (a kernel newer than the decoder, a length
//! that lies, an attribute cut short) never panic the snapshot. Real messages of each kind are
//! serialized, then bytes are overwritten, cut and appended before they are split, decoded and
//! turned into links, addresses and routes and rendered. The case count is fixed and printed.

#[path = "../../../tests/common/summary.rs"]
mod summary;

use crate::rtnl::{ext_ack_message, split_datagram};
use crate::snapshot::assemble;
use netlink_packet_core::{NetlinkHeader, NetlinkMessage, NetlinkPayload};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{LinkAttribute, LinkMessage};
use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteMessage};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr};

/// One datagram holding a link, an address and a route, as a dump reply would.
fn datagram() -> Vec<u8> {
    let mut link = LinkMessage::default();
    link.header.index = 2;
    link.attributes.push(LinkAttribute::IfName("veth0".into()));
    link.attributes.push(LinkAttribute::Link(3));
    let mut addr = AddressMessage::default();
    addr.header.family = AddressFamily::Inet;
    addr.header.prefix_len = 24;
    addr.header.index = 2;
    let ip = Ipv4Addr::new(10, 0, 0, 1);
    addr.attributes
        .push(AddressAttribute::Address(IpAddr::V4(ip)));
    let mut route = RouteMessage::default();
    route.header.address_family = AddressFamily::Inet;
    route
        .attributes
        .push(RouteAttribute::Gateway(RouteAddress::Inet(ip)));
    route.attributes.push(RouteAttribute::Oif(2));
    let mut out = Vec::new();
    for m in [
        RouteNetlinkMessage::NewLink(link),
        RouteNetlinkMessage::NewAddress(addr),
        RouteNetlinkMessage::NewRoute(route),
    ] {
        let mut msg =
            NetlinkMessage::new(NetlinkHeader::default(), NetlinkPayload::InnerMessage(m));
        msg.finalize();
        let mut buf = vec![0u8; msg.buffer_len()];
        msg.serialize(&mut buf);
        out.extend_from_slice(&buf);
    }
    out
}

/// The snapshot a datagram's messages make, each taken as a reply to all three dumps.
fn snapshot_of(bytes: &[u8]) -> Result<crate::NetSnapshot, crate::rtnl::Failure> {
    let inner: Vec<RouteNetlinkMessage> = split_datagram(bytes)?
        .into_iter()
        .filter_map(|m| match m.payload {
            NetlinkPayload::InnerMessage(i) => Some(i),
            _ => None,
        })
        .collect();
    Ok(assemble(inner.clone(), inner.clone(), inner))
}

#[test]
fn odd_netlink_replies_never_panic_the_snapshot() {
    let cases = 512;
    let good = datagram();
    let len = good.len();
    let strategy = (
        prop::collection::vec((0..len, any::<u8>()), 0..8),
        0..=len,
        prop::collection::vec(any::<u8>(), 0..40),
        any::<u16>(),
    );
    summary::runner(cases)
        .run(&strategy, |(writes, cut, tail, flags)| {
            let mut bytes = good.clone();
            for (at, b) in writes {
                bytes[at] = b;
            }
            bytes.truncate(cut);
            bytes.extend_from_slice(&tail);
            let _ = ext_ack_message(flags, &bytes);
            if let Ok(snap) = snapshot_of(&bytes) {
                let _ = (
                    snap.render_ip_link(),
                    snap.render_ip_addr(),
                    snap.render_ip_route(),
                );
            }
            Ok(())
        })
        .unwrap();
    // The unmutated datagram decodes into what was put in: the test does reach the snapshot.
    let snap = snapshot_of(&good).unwrap();
    assert!(snap.link("veth0").is_some(), "{}", snap.render_ip_link());
    summary::report(
        "net-netlink",
        &format!("property: network snapshot, odd netlink replies: {cases} cases, no panic"),
    );
}
