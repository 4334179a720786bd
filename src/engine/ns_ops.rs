//! The operations of the namespace lessons (mount, net, user, ipc, cgroupns) that are not plain
//! calls on [`super::syscalls::Syscalls`]: network links over netlink (the net crate), changing
//! credentials, opening a file to see whether the kernel lets the caller read it, System V shared
//! memory and POSIX message queues, and lab cgroups (the cgroup crate).
//!
//! Objects that outlive the agent are journaled only when they are made in the *host's*
//! namespace of their kind: a veth created in the host's network namespace, a segment or queue
//! made in the host's IPC namespace. The same object made inside one of the lab's own namespaces
//! dies with that namespace, and teardown (which runs in the host's namespaces) must not touch
//! whatever the host has under the same name or id.

use super::journal::{Entry, Journal};
use super::ops::{Op, OpError, Value};
use containerlab_trace::{quoted, Trace};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;
use std::sync::OnceLock;

/// The namespace kinds whose host inode the holder remembers when it starts.
const REMEMBERED: [&str; 5] = ["mnt", "net", "ipc", "uts", "user"];

static HOST_NS: OnceLock<BTreeMap<&'static str, u64>> = OnceLock::new();

/// Called once by the holder when it starts, still in the host's namespaces; members inherit it.
pub fn remember_host_namespaces() {
    let _ = HOST_NS.set(
        REMEMBERED
            .iter()
            .filter_map(|k| Some((*k, own_inode(k)?)))
            .collect(),
    );
}

fn own_inode(kind: &str) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(format!("/proc/self/ns/{kind}"))
        .ok()
        .map(|m| m.ino())
}

/// Whether this process is still in the host's namespace of `kind`; None when unknown (the
/// interpreter's unit tests run without a holder).
pub fn in_host_ns(kind: &str) -> Option<bool> {
    let host = HOST_NS.get()?.get(kind)?;
    Some(own_inode(kind) == Some(*host))
}

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

fn journal(j: &mut Option<&mut Journal>, entry: Entry) -> Result<(), OpError> {
    if let Some(j) = j.as_deref_mut() {
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

/// Runs one of this module's ops; `None` when `op` is not one of them.
pub fn execute(
    op: &Op,
    trace: &mut Trace,
    mut j: Option<&mut Journal>,
) -> Option<Result<Value, OpError>> {
    Some(match op {
        Op::CreateVeth { host, peer } => create_veth(host, peer, trace, &mut j),
        Op::MoveLink { name, pid } => containerlab_net::move_link_to_netns(
            name,
            containerlab_net::NetnsTarget::Pid(*pid),
            trace,
        )
        .map(|_| Value::Done)
        .map_err(net_err),
        Op::AddAddress { dev, cidr } => parse_cidr(cidr).and_then(|(addr, len)| {
            containerlab_net::add_address(dev, addr, len, trace)
                .map(|_| Value::Done)
                .map_err(net_err)
        }),
        Op::SetLinkUp { dev } => containerlab_net::set_link_up(dev, trace)
            .map(|_| Value::Done)
            .map_err(net_err),
        Op::AddDefaultRoute { via } => match via.parse::<Ipv4Addr>() {
            Ok(gw) => containerlab_net::add_default_route(gw, trace)
                .map(|_| Value::Done)
                .map_err(net_err),
            Err(_) => Err(OpError::msg(format!("{via:?} is not an IPv4 address"))),
        },
        Op::SwitchUser { uid, gid } => switch_user(*uid, *gid, trace),
        Op::Open { path } => {
            let opened = std::fs::File::open(path);
            trace
                .record_io(
                    format!("openat(AT_FDCWD, {}, O_RDONLY)", quoted(path)),
                    opened,
                    |f| f.as_raw_fd().to_string(),
                )
                .map(|_| Value::Done)
                .map_err(OpError::from)
        }
        Op::ShmCreate { key, size } => shm_create(*key, *size, trace, &mut j),
        Op::ShmWrite { key, text } => shm_write(*key, text, trace),
        Op::ShmRead { key } => shm_read(*key),
        Op::MqOpen { name, create } => mq_open(name, *create, trace, &mut j),
        Op::LabCgroupCreate { name } => cgroup_create(name, trace, &mut j),
        Op::CgroupAdd { name, pid } => containerlab_cgroup::detect()
            .map_err(|e| OpError::msg(e.to_string()))
            .and_then(|layout| layout.open(name).map_err(cgroup_err))
            .and_then(|cg| {
                cg.add_process(nix::unistd::Pid::from_raw(*pid), trace)
                    .map_err(cgroup_err)
            })
            .map(|_| Value::Done),
        _ => return None,
    })
}

fn create_veth(
    host: &str,
    peer: &str,
    trace: &mut Trace,
    j: &mut Option<&mut Journal>,
) -> Result<Value, OpError> {
    containerlab_net::create_veth(host, peer, trace).map_err(net_err)?;
    // Both ends: whichever is later moved away, the one left in the host deletes the pair.
    if in_host_ns("net") != Some(false) {
        journal(j, Entry::Link { name: host.into() })?;
        journal(j, Entry::Link { name: peer.into() })?;
    }
    Ok(Value::Done)
}

fn switch_user(uid: u32, gid: u32, trace: &mut Trace) -> Result<Value, OpError> {
    use nix::unistd::{setgroups, setresgid, setresuid, Gid, Uid};
    trace.record("setgroups(0, [])", setgroups(&[]))?;
    let g = Gid::from_raw(gid);
    trace.record(
        format!("setresgid({gid}, {gid}, {gid})"),
        setresgid(g, g, g),
    )?;
    let u = Uid::from_raw(uid);
    trace.record(
        format!("setresuid({uid}, {uid}, {uid})"),
        setresuid(u, u, u),
    )?;
    // Changing the effective uid makes the process non-dumpable, which makes /proc/self/* root's
    // (so it could not write its own uid_map), and clears the parent-death signal: undo both.
    trace.record(
        "prctl(PR_SET_DUMPABLE, 1)",
        nix::sys::prctl::set_dumpable(true),
    )?;
    trace.record(
        "prctl(PR_SET_PDEATHSIG, SIGKILL)",
        nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL),
    )?;
    // The holder may have died between the fork and now: then nothing would kill us.
    if nix::unistd::getppid().as_raw() == 1 {
        std::process::exit(1);
    }
    Ok(Value::Done)
}

fn shm_create(
    key: i32,
    size: usize,
    trace: &mut Trace,
    j: &mut Option<&mut Journal>,
) -> Result<Value, OpError> {
    // SAFETY: shmget takes plain integers.
    let r = unsafe { libc::shmget(key, size, libc::IPC_CREAT | libc::IPC_EXCL | 0o600) };
    let id = trace.record_with(
        format!("shmget({key:#x}, {size}, IPC_CREAT|IPC_EXCL|0600)"),
        nix::errno::Errno::result(r),
        |id| id.to_string(),
    )?;
    if in_host_ns("ipc") != Some(false) {
        journal(j, Entry::SysvShm { id })?;
    }
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

fn shm_write(key: i32, text: &str, trace: &mut Trace) -> Result<Value, OpError> {
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

fn shm_read(key: i32) -> Result<Value, OpError> {
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

fn mq_open(
    name: &str,
    create: bool,
    trace: &mut Trace,
    j: &mut Option<&mut Journal>,
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
    if create && in_host_ns("ipc") != Some(false) {
        journal(j, Entry::PosixMq { name: name.into() })?;
    }
    Ok(Value::Done)
}

fn cgroup_create(
    name: &str,
    trace: &mut Trace,
    j: &mut Option<&mut Journal>,
) -> Result<Value, OpError> {
    let layout = containerlab_cgroup::detect().map_err(|e| OpError::msg(e.to_string()))?;
    super::cgroups::create_journaled(&layout, name, trace, &mut |e| match j {
        Some(j) => j.append(&e),
        None => Ok(()),
    })?;
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
