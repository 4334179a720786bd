//! Publishing a container's port on the host, as `docker run -p 8080:80` does with docker-proxy.
//!
//! A published port is a listening TCP socket in the host's network namespace and a process that
//! copies every connection it accepts to the container's address and port. Docker adds DNAT rules
//! in the host's firewall for traffic from other machines; its docker-proxy process is what
//! answers on the host itself (`curl localhost:8080`), and that is what the lab makes here.
//!
//! The holder makes the socket itself (socket, setsockopt SO_REUSEADDR, bind, listen), so a port
//! that is taken fails the step with EADDRINUSE and a trace, and then starts the proxy: its own
//! binary re-executed as `containerlab __proxy`, the socket handed over as fd 3. The proxy is a
//! host process, so it is forked in the host's PID namespace even when the holder has unshared
//! another one for its children, and it is journaled like every process of the sandbox: teardown
//! kills it, and it dies with the holder (PR_SET_PDEATHSIG).

use super::ops::OpError;
use containerlab_trace::Trace;
use nix::sched::{setns, CloneFlags};
use nix::sys::signal::Signal;
use nix::sys::socket::{
    bind, listen, setsockopt, socket, sockopt, AddressFamily, Backlog, SockFlag, SockType,
    SockaddrIn,
};
use std::net::SocketAddrV4;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;

/// The fd number the proxy finds its listening socket under.
pub const LISTENER_FD: i32 = 3;

/// Where a published port listens and where its connections go.
pub struct Forward {
    pub listen: SocketAddrV4,
    pub to: SocketAddrV4,
}

impl Forward {
    pub fn parse(listen: &str, to: &str) -> Result<Forward, OpError> {
        let addr = |s: &str, what: &str| {
            s.parse::<SocketAddrV4>().map_err(|_| {
                OpError::msg(format!(
                    "{what} {s:?} is not an IPv4 address and port (a.b.c.d:N)"
                ))
            })
        };
        Ok(Forward {
            listen: addr(listen, "listen")?,
            to: addr(to, "to")?,
        })
    }
}

/// Binds the host port and starts the proxy (a child of the caller, which reaps it).
pub fn start(forward: &Forward, trace: &mut Trace) -> Result<std::process::Child, OpError> {
    let listener = listening_socket(forward.listen, trace)?;
    let exe = std::fs::read_link("/proc/self/exe")?;
    let mut cmd = std::process::Command::new(exe);
    cmd.args([
        "__proxy",
        "--host-ip",
        &forward.listen.ip().to_string(),
        "--host-port",
        &forward.listen.port().to_string(),
        "--container-ip",
        &forward.to.ip().to_string(),
        "--container-port",
        &forward.to.port().to_string(),
    ]);
    // Its own process group keeps a learner's Ctrl-C for the front end, which tears it down.
    cmd.process_group(0);
    cmd.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let raw = listener.as_raw_fd();
    // SAFETY: the holder is single-threaded; dup2 and prctl are async-signal-safe.
    unsafe {
        cmd.pre_exec(move || {
            // dup2 clears FD_CLOEXEC on the copy, so the socket survives execve as fd 3.
            if libc::dup2(raw, LISTENER_FD) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).map_err(std::io::Error::from)
        });
    }
    let (spawned, restored) = in_own_pid_namespace(trace, || cmd.spawn())?;
    let mut child = spawned?;
    if let Err(e) = restored {
        // A holder whose children would no longer go where the lesson put them is no use; and
        // a proxy nobody journaled must not outlive this answer.
        let _ = child.kill();
        let _ = child.wait();
        return Err(e.into());
    }
    trace.records.push(containerlab_trace::Record {
        call: format!(
            "fork() + execve(\"containerlab\", [\"__proxy\", ...]): accept on {} and copy to {}",
            forward.listen, forward.to
        ),
        result: containerlab_trace::Outcome::Returned(child.id().to_string()),
    });
    Ok(child)
}

fn listening_socket(addr: SocketAddrV4, trace: &mut Trace) -> Result<OwnedFd, OpError> {
    let fd = trace.record_with(
        "socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, 0)",
        socket(
            AddressFamily::Inet,
            SockType::Stream,
            SockFlag::SOCK_CLOEXEC,
            None,
        ),
        |fd| fd.as_raw_fd().to_string(),
    )?;
    trace.record(
        "setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)",
        setsockopt(&fd, sockopt::ReuseAddr, &true),
    )?;
    trace.record(
        format!("bind({addr})"),
        bind(fd.as_raw_fd(), &SockaddrIn::from(addr)),
    )?;
    let backlog = Backlog::new(128).expect("128 is a valid backlog");
    trace.record("listen(128)", listen(&fd, backlog))?;
    Ok(fd)
}

/// Runs `f` (which forks) with pid_for_children set back to this process's own PID namespace,
/// then restores it: after `unshare(CLONE_NEWPID)` every child would otherwise land in the new
/// namespace, and a host-side proxy has no business there (nor a future there: the namespace
/// dies with its init). Answers what `f` did and whether the restore worked.
fn in_own_pid_namespace<T>(
    trace: &mut Trace,
    f: impl FnOnce() -> T,
) -> Result<(T, nix::Result<()>), OpError> {
    let own = std::fs::File::open("/proc/self/ns/pid")?;
    let children = std::fs::File::open("/proc/self/ns/pid_for_children")?;
    let same = |a: &std::fs::File, b: &std::fs::File| {
        use std::os::unix::fs::MetadataExt;
        matches!((a.metadata(), b.metadata()), (Ok(x), Ok(y)) if x.ino() == y.ino())
    };
    if same(&own, &children) {
        return Ok((f(), Ok(())));
    }
    trace.record(
        "setns(open(\"/proc/self/ns/pid\"), CLONE_NEWPID)",
        setns(&own, CloneFlags::CLONE_NEWPID),
    )?;
    let result = f();
    // Back to the container's namespace for the children that belong there. It is a child of
    // our own, so setns allows it.
    let restored = trace.record(
        "setns(<the saved pid_for_children>, CLONE_NEWPID)",
        setns(&children, CloneFlags::CLONE_NEWPID),
    );
    Ok((result, restored))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_ipv4_with_a_port() {
        let f = Forward::parse("0.0.0.0:8080", "10.0.0.2:80").unwrap();
        assert_eq!(f.listen.port(), 8080);
        assert_eq!(f.to.ip().to_string(), "10.0.0.2");
        let e = Forward::parse("8080", "10.0.0.2:80").err().unwrap();
        assert!(e.message.contains("\"8080\""), "{}", e.message);
        assert!(Forward::parse("0.0.0.0:8080", "web:80").is_err());
    }
}
