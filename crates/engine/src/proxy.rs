//! The userland proxy behind a published port (`containerlab __proxy`), Docker's docker-proxy
//! in miniature.
//!
//! It inherits a listening socket as fd 3 from the holder (see [`super::publish`]), accepts
//! connections on it, and for each one opens a connection to the container's address and copies
//! bytes both ways until each side has finished, passing a half-close along. It is a host process
//! in the host's network namespace; the container sees every connection as coming from the host's
//! end of the veth, not from the real client (Docker's DNAT rules keep the client's address;
//! a proxy cannot). It holds no other state, so being killed at any moment loses nothing.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::os::fd::FromRawFd;
use std::time::Duration;

/// How long to wait for the container to accept a connection before giving up on it.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Serves the listener on fd 3 forever, forwarding to `to`.
pub fn run(to: SocketAddrV4) -> ! {
    // SAFETY: the holder put a listening socket on this fd before execve, and nothing else
    // in this process owns it.
    let listener = unsafe { TcpListener::from_raw_fd(super::publish::LISTENER_FD) };
    loop {
        match listener.accept() {
            Ok((client, _)) => {
                std::thread::spawn(move || forward(client, to));
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                eprintln!("containerlab proxy: accept: {e}");
                std::process::exit(1)
            }
        }
    }
}

/// One connection: a new one to the container, then bytes both ways.
fn forward(client: TcpStream, to: SocketAddrV4) {
    let Ok(upstream) = TcpStream::connect_timeout(&SocketAddr::V4(to), CONNECT_TIMEOUT) else {
        // Nothing listens there (or the container is gone): the client sees the connection
        // close, as it does with docker-proxy.
        return;
    };
    let (Ok(client_reader), Ok(upstream_reader)) = (client.try_clone(), upstream.try_clone())
    else {
        return;
    };
    let up = std::thread::spawn(move || copy_then_half_close(client_reader, upstream));
    copy_then_half_close(upstream_reader, client);
    let _ = up.join();
}

/// Copies until `from` reaches end-of-file, then tells `to` no more is coming.
fn copy_then_half_close(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A listener whose one connection is forwarded to `to`, as the proxy forwards each.
    fn proxy_to(to: SocketAddrV4) -> SocketAddr {
        let front = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = front.local_addr().unwrap();
        std::thread::spawn(move || {
            let (client, _) = front.accept().unwrap();
            forward(client, to);
        });
        addr
    }

    #[test]
    fn bytes_go_both_ways_and_a_half_close_is_passed_on() {
        // An "upstream" that answers what it read, uppercased, after the client half-closes.
        let upstream = TcpListener::bind("127.0.0.1:0").unwrap();
        let SocketAddr::V4(to) = upstream.local_addr().unwrap() else {
            unreachable!()
        };
        let server = std::thread::spawn(move || {
            let (mut s, _) = upstream.accept().unwrap();
            let mut got = String::new();
            s.read_to_string(&mut got).unwrap();
            s.write_all(got.to_uppercase().as_bytes()).unwrap();
        });
        let mut c = TcpStream::connect(proxy_to(to)).unwrap();
        c.write_all(b"hello through the proxy").unwrap();
        c.shutdown(Shutdown::Write).unwrap();
        let mut answer = String::new();
        c.read_to_string(&mut answer).unwrap();
        assert_eq!(answer, "HELLO THROUGH THE PROXY");
        server.join().unwrap();
    }

    #[test]
    fn a_refused_upstream_closes_the_client() {
        // Bind then drop, so nothing listens on that port.
        let gone = TcpListener::bind("127.0.0.1:0").unwrap();
        let SocketAddr::V4(to) = gone.local_addr().unwrap() else {
            unreachable!()
        };
        drop(gone);
        let mut c = TcpStream::connect(proxy_to(to)).unwrap();
        let mut answer = Vec::new();
        let n = c.read_to_end(&mut answer).unwrap_or(0);
        assert_eq!(n, 0, "the client got bytes from nowhere");
    }
}
