//! The operations of the namespace lessons (mount, net, user, ipc, cgroupns) that are not plain
//! calls on [`super::syscalls::Syscalls`]: network links over netlink (the net crate), opening a
//! file to see whether the kernel lets the caller read it, System V shared memory and POSIX
//! message queues, and lab cgroups (the cgroup crate).
//!
//! Objects that outlive the agent are journaled only when they are made in the *host's*
//! namespace of their kind: a veth created in the host's network namespace, a segment or queue
//! made in the host's IPC namespace. The same object made inside one of the lab's own namespaces
//! dies with that namespace, and teardown (which runs in the host's namespaces) must not touch
//! whatever the host has under the same name or id.

use super::journal::{Entry, Journal};
use super::namespaces::Namespace;
use super::ops::{OpError, Value};
use super::policy;
use containerlab_trace::{quoted, Trace};
use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;

fn net_err(e: containerlab_net::NetError) -> OpError {
    OpError {
        errno: e.errno().map(containerlab_trace::errno_name),
        message: e.to_string(),
    }
}

fn cgroup_err(e: containerlab_cgroup::Error) -> OpError {
    let errno = match &e {
        containerlab_cgroup::Error::Io { source, .. } => source
            .raw_os_error()
            .map(|c| containerlab_trace::errno_name(nix::Error::from_raw(c))),
        _ => None,
    };
    OpError {
        errno,
        message: e.to_string(),
    }
}

/// Journals `entry` when the object was made in the host's namespace of kind `ns`: made in a
/// lab namespace, it dies with it, and teardown must not touch the host's object of that name.
fn journal_if_host(ns: Namespace, j: &mut Journal, entry: Entry) -> Result<(), OpError> {
    if policy::in_host_ns(ns) != Some(false) {
        j.append(&entry)?;
    }
    Ok(())
}

/// `a.b.c.d/n`.
fn parse_cidr(cidr: &str) -> Result<(Ipv4Addr, u8), OpError> {
    let bad = || {
        OpError::msg(format!(
            "{cidr:?} is not an IPv4 address with a prefix (a.b.c.d/n)"
        ))
    };
    let (addr, len) = cidr.split_once('/').ok_or_else(bad)?;
    let addr: Ipv4Addr = addr.parse().map_err(|_| bad())?;
    let len: u8 = len.parse().map_err(|_| bad())?;
    if len > 32 {
        return Err(bad());
    }
    Ok((addr, len))
}

pub fn create_veth(
    host: &str,
    peer: &str,
    trace: &mut Trace,
    j: &mut Journal,
) -> Result<Value, OpError> {
    containerlab_net::create_veth(host, peer, trace).map_err(net_err)?;
    // Both ends: whichever is later moved away, the one left in the host deletes the pair.
    journal_if_host(Namespace::Net, j, Entry::Link { name: host.into() })?;
    journal_if_host(Namespace::Net, j, Entry::Link { name: peer.into() })?;
    Ok(Value::Done)
}

/// `ip link add NAME type bridge`; journaled like a veth end when made in the host's network
/// namespace (in a lesson's own, it dies with it).
pub fn create_bridge(name: &str, trace: &mut Trace, j: &mut Journal) -> Result<Value, OpError> {
    containerlab_net::create_bridge(name, trace).map_err(net_err)?;
    journal_if_host(Namespace::Net, j, Entry::Link { name: name.into() })?;
    Ok(Value::Done)
}

/// `ip link set DEV master BRIDGE`: in the host's network namespace, both must be this
/// session's.
pub fn set_master(
    dev: &str,
    master: &str,
    trace: &mut Trace,
    j: &Journal,
) -> Result<Value, OpError> {
    policy::host_link(dev, j)?;
    policy::host_link(master, j)?;
    containerlab_net::set_master(dev, master, trace).map_err(net_err)?;
    Ok(Value::Done)
}

/// `ip link set NAME netns PID`.
pub fn move_link(name: &str, pid: i32, trace: &mut Trace, j: &Journal) -> Result<Value, OpError> {
    policy::host_link(name, j)?;
    let to = containerlab_net::NetnsTarget::Pid(pid);
    containerlab_net::move_link_to_netns(name, to, trace).map_err(net_err)?;
    Ok(Value::Done)
}

/// `ip addr add CIDR dev DEV`.
pub fn add_address(
    dev: &str,
    cidr: &str,
    trace: &mut Trace,
    j: &Journal,
) -> Result<Value, OpError> {
    let (addr, len) = parse_cidr(cidr)?;
    policy::host_link(dev, j)?;
    containerlab_net::add_address(dev, addr, len, trace).map_err(net_err)?;
    Ok(Value::Done)
}

/// `ip link set DEV up`.
pub fn set_link_up(dev: &str, trace: &mut Trace, j: &Journal) -> Result<Value, OpError> {
    policy::host_link(dev, j)?;
    containerlab_net::set_link_up(dev, trace).map_err(net_err)?;
    Ok(Value::Done)
}

/// `ip route add default via VIA`.
pub fn add_default_route(via: &str, trace: &mut Trace) -> Result<Value, OpError> {
    let gw: Ipv4Addr = via
        .parse()
        .map_err(|_| OpError::msg(format!("{via:?} is not an IPv4 address")))?;
    policy::host_route()?;
    containerlab_net::add_default_route(gw, trace).map_err(net_err)?;
    Ok(Value::Done)
}

/// socket(AF_INET, SOCK_STREAM) + bind(2) + listen(2) on `address`, then close: may this
/// process serve there? Binding a port below net.ipv4.ip_unprivileged_port_start needs
/// CAP_NET_BIND_SERVICE (EACCES without it).
pub fn bind(address: &str, trace: &mut Trace) -> Result<Value, OpError> {
    let addr: std::net::SocketAddrV4 = address
        .parse()
        .map_err(|_| OpError::msg(format!("{address:?} is not a.b.c.d:port")))?;
    policy::host_port(address)?;
    // std's bind is socket + SO_REUSEADDR + bind + listen; the listener is closed on drop.
    trace.record_io(
        format!("bind(socket(AF_INET, SOCK_STREAM), {addr})"),
        std::net::TcpListener::bind(addr),
        |l| l.as_raw_fd().to_string(),
    )?;
    Ok(Value::Done)
}

/// clock_gettime(2) in this process: its time namespace decides what monotonic and boottime
/// read. Answered as `SECONDS.NANOSECONDS`.
pub fn read_clock(clock: super::ops::Clock) -> Result<Value, OpError> {
    use nix::time::{clock_gettime, ClockId};
    let id = match clock {
        super::ops::Clock::Monotonic => ClockId::CLOCK_MONOTONIC,
        super::ops::Clock::Boottime => ClockId::CLOCK_BOOTTIME,
        super::ops::Clock::Realtime => ClockId::CLOCK_REALTIME,
    };
    let t = clock_gettime(id).map_err(|e| OpError::msg(format!("clock_gettime: {e}")))?;
    Ok(Value::Text(format!("{}.{:09}", t.tv_sec(), t.tv_nsec())))
}

/// open(2) for reading, and close: may this process read the file?
pub fn open(path: &str, trace: &mut Trace) -> Result<Value, OpError> {
    trace.record_io(
        format!("openat(AT_FDCWD, {}, O_RDONLY)", quoted(path)),
        std::fs::File::open(path),
        |f| f.as_raw_fd().to_string(),
    )?;
    Ok(Value::Done)
}

/// Moves process `pid` into the lab cgroup `name`.
pub fn cgroup_add(name: &str, pid: i32, trace: &mut Trace) -> Result<Value, OpError> {
    let layout = containerlab_cgroup::detect().map_err(|e| OpError::msg(e.to_string()))?;
    let cg = layout.open(name).map_err(cgroup_err)?;
    cg.add_process(nix::unistd::Pid::from_raw(pid), trace)
        .map_err(cgroup_err)?;
    Ok(Value::Done)
}

pub fn shm_create(
    key: i32,
    size: usize,
    trace: &mut Trace,
    j: &mut Journal,
) -> Result<Value, OpError> {
    // SAFETY: shmget takes plain integers.
    let r = unsafe { libc::shmget(key, size, libc::IPC_CREAT | libc::IPC_EXCL | 0o600) };
    let id = trace.record_with(
        format!("shmget({key:#x}, {size}, IPC_CREAT|IPC_EXCL|0600)"),
        nix::errno::Errno::result(r),
        |id| id.to_string(),
    )?;
    journal_if_host(Namespace::Ipc, j, Entry::SysvShm { id })?;
    Ok(Value::Text(id.to_string()))
}

/// The segment with `key`: its id and size.
fn shm_lookup(key: i32, trace: Option<&mut Trace>) -> Result<(i32, usize), OpError> {
    // SAFETY: plain integers.
    let r = nix::errno::Errno::result(unsafe { libc::shmget(key, 0, 0) });
    let id = match trace {
        Some(t) => t.record_with(format!("shmget({key:#x}, 0, 0)"), r, |id| id.to_string())?,
        None => r?,
    };
    // SAFETY: shmid_ds is plain data, filled in by the kernel.
    let mut ds: libc::shmid_ds = unsafe { std::mem::zeroed() };
    nix::errno::Errno::result(unsafe { libc::shmctl(id, libc::IPC_STAT, &mut ds) })?;
    Ok((id, ds.shm_segsz))
}

pub fn shm_write(key: i32, text: &str, trace: &mut Trace) -> Result<Value, OpError> {
    let (id, size) = shm_lookup(key, Some(trace))?;
    if text.len() + 1 > size {
        return Err(OpError::msg(format!(
            "{} bytes do not fit in a {size}-byte segment",
            text.len() + 1
        )));
    }
    // SAFETY: attaching at a kernel-chosen address; checked for failure below.
    let addr = unsafe { libc::shmat(id, std::ptr::null(), 0) };
    let failed = addr as isize == -1;
    trace.record_with(
        format!("shmat({id}, NULL, 0)"),
        if failed {
            Err(nix::errno::Errno::last())
        } else {
            Ok(addr)
        },
        |a| format!("{:p}", *a),
    )?;
    // SAFETY: the segment is at least text.len() + 1 bytes long and mapped writable.
    unsafe {
        std::ptr::copy_nonoverlapping(text.as_ptr(), addr as *mut u8, text.len());
        *(addr as *mut u8).add(text.len()) = 0;
    }
    trace.records.push(containerlab_trace::Record {
        call: format!("memcpy({addr:p}, {}, {})", quoted(text), text.len() + 1),
        result: containerlab_trace::Outcome::Returned(format!("{addr:p}")),
    });
    // SAFETY: detaching what we attached.
    let r = nix::errno::Errno::result(unsafe { libc::shmdt(addr) });
    trace.record(format!("shmdt({addr:p})"), r)?;
    Ok(Value::Done)
}

pub fn shm_read(key: i32) -> Result<Value, OpError> {
    let (id, size) = shm_lookup(key, None)?;
    // SAFETY: attaching read-only at a kernel-chosen address; checked for failure.
    let addr = unsafe { libc::shmat(id, std::ptr::null(), libc::SHM_RDONLY) };
    if addr as isize == -1 {
        return Err(nix::errno::Errno::last().into());
    }
    // SAFETY: the mapping is `size` bytes long and stays attached until shmdt below.
    let bytes = unsafe { std::slice::from_raw_parts(addr as *const u8, size) };
    let end = bytes.iter().position(|b| *b == 0).unwrap_or(size);
    let text = String::from_utf8_lossy(&bytes[..end]).into_owned();
    // SAFETY: detaching what we attached; `bytes` is not used after this.
    unsafe { libc::shmdt(addr) };
    Ok(Value::Text(text))
}

pub fn mq_open(
    name: &str,
    create: bool,
    trace: &mut Trace,
    j: &mut Journal,
) -> Result<Value, OpError> {
    use nix::mqueue::{mq_close, MQ_OFlag};
    use nix::sys::stat::Mode;
    // nix passes no mode and attributes without `Some`, which O_CREAT needs: give them.
    let attr = nix::mqueue::MqAttr::new(0, 10, 1024, 0);
    let (flags, text, attr) = if create {
        (
            MQ_OFlag::O_RDWR | MQ_OFlag::O_CREAT | MQ_OFlag::O_EXCL,
            "O_RDWR|O_CREAT|O_EXCL, 0600, {mq_maxmsg=10, mq_msgsize=1024}",
            Some(&attr),
        )
    } else {
        (MQ_OFlag::O_RDONLY, "O_RDONLY", None)
    };
    let r = nix::mqueue::mq_open(name, flags, Mode::from_bits_truncate(0o600), attr);
    let mqd = trace.record_with(format!("mq_open({}, {text})", quoted(name)), r, |d| {
        d.as_raw_fd().to_string()
    })?;
    let _ = mq_close(mqd);
    if create {
        journal_if_host(Namespace::Ipc, j, Entry::PosixMq { name: name.into() })?;
    }
    Ok(Value::Done)
}

/// Makes a lab cgroup `containerlab/NAME` in every hierarchy.
pub fn cgroup_create(name: &str, trace: &mut Trace, j: &mut Journal) -> Result<Value, OpError> {
    let layout = containerlab_cgroup::detect().map_err(|e| OpError::msg(e.to_string()))?;
    super::cgroups::create_journaled(&layout, name, trace, &mut |e| j.append(&e))?;
    Ok(Value::Done)
}

/// The filesystem type and options that mount the hierarchy lab cgroups are made in for the
/// memory controller: `cgroup2`, or the v1 `memory` tree.
pub fn cgroup_fs() -> Result<(String, Option<String>), OpError> {
    let layout = containerlab_cgroup::detect().map_err(|e| OpError::msg(e.to_string()))?;
    Ok(match layout.memory.version {
        containerlab_cgroup::Version::V2 => ("cgroup2".into(), None),
        containerlab_cgroup::Version::V1 => ("cgroup".into(), Some("memory".into())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_parses_and_rejects() {
        assert_eq!(
            parse_cidr("10.200.0.1/24").unwrap(),
            (Ipv4Addr::new(10, 200, 0, 1), 24)
        );
        assert!(parse_cidr("10.200.0.1").is_err());
        assert!(parse_cidr("10.200.0.1/33").is_err());
    }
}
