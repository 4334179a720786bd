//! A blocking rtnetlink socket: how programs like `ip` talk to the kernel's network stack.
//!
//! Netlink is a socket family (`AF_NETLINK`) whose other end is the kernel itself. The
//! `NETLINK_ROUTE` protocol ("rtnetlink") carries requests such as "create a link", "add this
//! address" or "dump every route", each a message with a fixed header followed by typed
//! attributes (TLVs). A netlink socket belongs to the network namespace of the thread that
//! created it, so opening a socket is how you choose which namespace you are talking to.
//!
//! Every request here is sent with `NLM_F_ACK`, so the kernel always answers with an
//! `NLMSG_ERROR` message carrying `0` or `-errno`; dumps (`NLM_F_DUMP`) answer with many
//! messages ended by `NLMSG_DONE`. The socket is plain blocking I/O: no threads, no runtime.

use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NlaBuffer, NlasIterator, NLM_F_ACK,
    NLM_F_ACK_TLVS, NLM_F_CAPPED, NLM_F_DUMP, NLM_F_REQUEST,
};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};
use nix::errno::Errno;

/// Why a request failed, before it is turned into a [`crate::NetError`].
#[derive(Debug)]
pub(crate) enum Failure {
    /// The kernel (or a socket call) answered with this errno.
    Errno {
        errno: Errno,
        ext_ack: Option<String>,
    },
    /// The reply was not valid netlink as this crate understands it.
    Decode(String),
}

impl Failure {
    fn io(e: std::io::Error) -> Self {
        Failure::Errno {
            errno: Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
            ext_ack: None,
        }
    }
}

/// An open `NETLINK_ROUTE` socket in the calling thread's network namespace.
pub(crate) struct Rtnl {
    socket: Socket,
    sequence: u32,
}

impl Rtnl {
    /// `socket(AF_NETLINK, SOCK_DGRAM|SOCK_CLOEXEC, NETLINK_ROUTE)`, bound and connected to the kernel.
    pub(crate) fn open() -> Result<Self, Failure> {
        let mut socket = Socket::new(NETLINK_ROUTE).map_err(Failure::io)?;
        socket.bind_auto().map_err(Failure::io)?;
        socket
            .connect(&SocketAddr::new(0, 0))
            .map_err(Failure::io)?;
        // Ask for the kernel's explanation text on errors, and for the echoed request to be
        // capped to its header so the explanation is easy to find. Both are best effort:
        // old kernels simply don't send it.
        let _ = socket.set_ext_ack(true);
        let _ = socket.set_cap_ack(true);
        Ok(Rtnl {
            socket,
            sequence: 0,
        })
    }

    fn send(&mut self, message: RouteNetlinkMessage, flags: u16) -> Result<u32, Failure> {
        self.sequence += 1;
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | flags;
        header.sequence_number = self.sequence;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(message));
        packet.finalize();
        let mut buf = vec![0u8; packet.buffer_len()];
        packet.serialize(&mut buf);
        self.socket.send(&buf, 0).map_err(Failure::io)?;
        Ok(self.sequence)
    }

    /// Sends a change request and waits for the kernel's ack (`0`) or error (`-errno`).
    pub(crate) fn request(
        &mut self,
        message: RouteNetlinkMessage,
        flags: u16,
    ) -> Result<(), Failure> {
        let seq = self.send(message, flags | NLM_F_ACK)?;
        loop {
            for reply in self.receive()? {
                if reply.header.sequence_number != seq {
                    continue;
                }
                if let NetlinkPayload::Error(e) = reply.payload {
                    return match e.code {
                        None => Ok(()),
                        Some(code) => Err(Failure::Errno {
                            errno: Errno::from_raw(-code.get()),
                            ext_ack: ext_ack_message(reply.header.flags, &e.header),
                        }),
                    };
                }
            }
        }
    }

    /// Sends a dump request (`NLM_F_DUMP`) and collects every answer until `NLMSG_DONE`.
    pub(crate) fn dump(
        &mut self,
        message: RouteNetlinkMessage,
    ) -> Result<Vec<RouteNetlinkMessage>, Failure> {
        let seq = self.send(message, NLM_F_DUMP)?;
        let mut out = Vec::new();
        loop {
            for reply in self.receive()? {
                if reply.header.sequence_number != seq {
                    continue;
                }
                match reply.payload {
                    NetlinkPayload::InnerMessage(m) => out.push(m),
                    NetlinkPayload::Done(_) => return Ok(out),
                    NetlinkPayload::Error(e) => {
                        if let Some(code) = e.code {
                            return Err(Failure::Errno {
                                errno: Errno::from_raw(-code.get()),
                                ext_ack: ext_ack_message(reply.header.flags, &e.header),
                            });
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// Reads one datagram, which may hold several netlink messages back to back.
    fn receive(&mut self) -> Result<Vec<NetlinkMessage<RouteNetlinkMessage>>, Failure> {
        let (buf, _) = self.socket.recv_from_full().map_err(Failure::io)?;
        split_datagram(&buf)
    }
}

/// The netlink messages of one datagram. A length that does not fit, or a message that does not
/// decode, is a [`Failure::Decode`], never a panic: the reply comes from the kernel, but the
/// kernel may be newer than the decoder.
pub(crate) fn split_datagram(
    buf: &[u8],
) -> Result<Vec<NetlinkMessage<RouteNetlinkMessage>>, Failure> {
    let mut messages = Vec::new();
    let mut offset = 0;
    while offset + 16 <= buf.len() {
        let len = u32::from_ne_bytes(buf[offset..offset + 4].try_into().expect("4 bytes")) as usize;
        if len < 16 || offset + len > buf.len() {
            return Err(Failure::Decode(format!(
                "netlink message length {len} at offset {offset} does not fit the {}-byte datagram",
                buf.len()
            )));
        }
        let message =
            NetlinkMessage::<RouteNetlinkMessage>::deserialize(&buf[offset..offset + len])
                .map_err(|e| Failure::Decode(e.to_string()))?;
        messages.push(message);
        // Messages are padded to 4-byte boundaries (NLMSG_ALIGN).
        offset += (len + 3) & !3;
    }
    Ok(messages)
}

/// Finds `NLMSGERR_ATTR_MSG` in an error's payload. The payload echoes the original request
/// (only its 16-byte header when the kernel set `NLM_F_CAPPED`), followed by the extended-ack
/// attributes when it set `NLM_F_ACK_TLVS`.
pub(crate) fn ext_ack_message(flags: u16, payload: &[u8]) -> Option<String> {
    const NLMSGERR_ATTR_MSG: u16 = 1;
    if flags & NLM_F_ACK_TLVS == 0 {
        return None;
    }
    let echoed = if flags & NLM_F_CAPPED != 0 {
        16
    } else {
        let len = u32::from_ne_bytes(payload.get(..4)?.try_into().ok()?) as usize;
        (len + 3) & !3
    };
    let attrs = payload.get(echoed..)?;
    for nla in NlasIterator::new(attrs) {
        let nla: NlaBuffer<&[u8]> = nla.ok()?;
        if nla.kind() == NLMSGERR_ATTR_MSG {
            let text = nla.value();
            let text = text.split(|b| *b == 0).next().unwrap_or(text);
            return Some(String::from_utf8_lossy(text).into_owned());
        }
    }
    None
}
