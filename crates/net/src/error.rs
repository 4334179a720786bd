//! What can go wrong when talking to the kernel's network stack.
//!
//! Netlink answers every request with an `NLMSG_ERROR` message whose code is `0` (success, an
//! "ack") or a negative errno, exactly like a failing syscall. The errno is kept here so callers
//! can react to it: cleanup code treats `ENODEV` ("no such device") as "already gone", a lesson
//! can explain `EEXIST` or `EPERM` to the learner. Since Linux 4.12 the kernel may also attach a
//! human-readable explanation (the "extended ack"), which `ip` prints as `Error: ...`; we keep it.

use nix::errno::Errno;
use std::path::PathBuf;

/// An error from one of this crate's operations.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// The kernel refused a call; `call` is the call as it appears in the trace.
    #[error("{call} failed: {} ({}){}; {}", errno_name(*errno), errno.desc(), ext_ack_suffix(ext_ack), hint(*errno))]
    Kernel {
        call: String,
        errno: Errno,
        /// The kernel's extended-ack message, when it sent one (e.g. "Unknown device type").
        ext_ack: Option<String>,
    },
    /// The network namespace to inspect could not be opened or entered.
    #[error("cannot enter the network namespace at {}: {} ({}); check that the process still exists and that you are root", path.display(), errno_name(*errno), errno.desc())]
    Namespace { path: PathBuf, errno: Errno },
    /// The kernel's reply could not be decoded (a netlink attribute this crate does not know).
    #[error("could not decode the kernel's netlink reply: {0}; this is a bug in containerlab-net, please report it")]
    Decode(String),
    /// The inspection thread panicked (a bug in this crate).
    #[error("the network snapshot thread panicked; this is a bug in containerlab-net")]
    ThreadPanicked,
}

impl NetError {
    /// The errno the kernel answered with, if this error came from the kernel.
    pub fn errno(&self) -> Option<Errno> {
        match self {
            NetError::Kernel { errno, .. } | NetError::Namespace { errno, .. } => Some(*errno),
            NetError::Decode(_) | NetError::ThreadPanicked => None,
        }
    }

    /// True when the named link does not exist (`ENODEV`): for cleanup, "already gone".
    pub fn is_no_such_device(&self) -> bool {
        self.errno() == Some(Errno::ENODEV)
    }

    /// True when the object to create already exists (`EEXIST`).
    pub fn is_already_exists(&self) -> bool {
        self.errno() == Some(Errno::EEXIST)
    }

    /// True when the caller lacks the privilege (`EPERM`): `CAP_NET_ADMIN` is needed.
    pub fn is_permission_denied(&self) -> bool {
        matches!(self.errno(), Some(Errno::EPERM) | Some(Errno::EACCES))
    }
}

fn errno_name(e: Errno) -> String {
    containerlab_trace::errno_name(e)
}

fn ext_ack_suffix(ext_ack: &Option<String>) -> String {
    match ext_ack {
        Some(m) => format!(", kernel says: {m:?}"),
        None => String::new(),
    }
}

/// What the learner can do about the common errnos of link, address and route requests.
fn hint(e: Errno) -> &'static str {
    match e {
        Errno::EEXIST => "an object with that name or address already exists in this namespace; delete it first (ip link del NAME) or pick another name",
        Errno::EPERM | Errno::EACCES => "changing the network needs CAP_NET_ADMIN in the user namespace that owns this network namespace (a process without it, such as a container with Docker's capabilities, may not)",
        Errno::ENODEV => "there is no interface with that name in this network namespace (it may have been deleted or moved to another namespace)",
        Errno::ENETUNREACH => "the gateway is not on a connected subnet; add an address on that subnet to an interface that is up, then add the route",
        Errno::EADDRNOTAVAIL => "that address is not configured here",
        Errno::ERANGE => "a value is out of range: interface names are at most 15 bytes",
        Errno::EINVAL => "the kernel rejected the request's arguments (check the prefix length is 0..=32 and the namespace target exists)",
        Errno::EOPNOTSUPP => "this kernel does not support the request (is the veth module available?)",
        _ => "see the errno above",
    }
}
