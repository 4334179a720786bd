//! Privilege operations: user ids, capability sets, file capabilities and no_new_privs.
//!
//! Each is one or a few syscalls, traced as strace prints them. What they change belongs to the
//! calling process (ids, capability sets, no_new_privs) or to objects under the session's work
//! directory (copied binaries and their `security.capability` attribute), so teardown needs no
//! more than killing the process and removing the session directory (see [`policy`], rule 4).

use super::ops::{OpError, Value};
use super::policy;
use containerlab_inspect::{caps as capnames, filecaps};
use containerlab_trace::{quoted, Trace};
use std::path::Path;

fn errno_result(r: libc::c_long) -> nix::Result<libc::c_long> {
    nix::errno::Errno::result(r)
}

/// setgroups([]), setresgid, setresuid: become another user, with no extra groups. Leaving
/// uid 0 clears the permitted and effective capability sets (unless SECBIT_KEEP_CAPS is set).
///
/// Changing the effective uid also makes the process non-dumpable, which makes /proc/self/* root's
/// (so it could not write its own uid_map), and clears the parent-death signal, by which the
/// sandbox's processes die with the front end: both are set again.
pub fn set_ids(uid: u32, gid: u32, trace: &mut Trace) -> Result<Value, OpError> {
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

/// Copies a file's content and mode (not its extended attributes, so not its capabilities).
pub fn copy_file(from: &str, to: &str, work: &Path, trace: &mut Trace) -> Result<Value, OpError> {
    policy::work_file(to, work)?;
    trace.record_io(
        format!("copy_file_range({}, {})", quoted(from), quoted(to)),
        std::fs::copy(from, to),
        |n| n.to_string(),
    )?;
    Ok(Value::Done)
}

/// lchown(2) of a path under the work dir: `chown -h UID:GID PATH`.
pub fn chown(
    path: &str,
    uid: u32,
    gid: u32,
    work: &Path,
    trace: &mut Trace,
) -> Result<Value, OpError> {
    policy::work_file(path, work)?;
    trace.record_io(
        format!("lchown({}, {uid}, {gid})", quoted(path)),
        std::os::unix::fs::lchown(path, Some(uid), Some(gid)),
        |_| "0".into(),
    )?;
    Ok(Value::Done)
}

/// chmod(2) a path under the work dir (`chmod 600 FILE`).
pub fn chmod(path: &str, mode: u32, work: &Path, trace: &mut Trace) -> Result<Value, OpError> {
    use std::os::unix::fs::PermissionsExt;
    policy::work_file(path, work)?;
    trace.record_io(
        format!("chmod({}, {mode:04o})", quoted(path)),
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)),
        |_| "0".into(),
    )?;
    Ok(Value::Done)
}

fn mask_of(names: &[String]) -> Result<u64, OpError> {
    names.iter().try_fold(0u64, |m, n| {
        capnames::bit_of(n)
            .map(|b| m | (1u64 << b))
            .ok_or_else(|| OpError::msg(format!("unknown capability {n:?}")))
    })
}

/// A version 2 `security.capability` value (see [`filecaps`] for the layout): these
/// capabilities permitted (and effective, if `effective`), none inheritable.
pub fn encode_v2(permitted: u64, effective: bool) -> Vec<u8> {
    let magic = filecaps::VFS_CAP_REVISION_2
        | if effective {
            filecaps::VFS_CAP_FLAGS_EFFECTIVE
        } else {
            0
        };
    let mut out = Vec::with_capacity(20);
    for w in [magic, permitted as u32, 0, (permitted >> 32) as u32, 0] {
        out.extend_from_slice(&w.to_le_bytes());
    }
    out
}

/// setxattr(path, "security.capability", v2 data): what `setcap cap_net_raw+ep FILE` writes.
/// An empty list removes the attribute.
pub fn set_file_caps(
    path: &str,
    caps: &[String],
    effective: bool,
    work: &Path,
    trace: &mut Trace,
) -> Result<Value, OpError> {
    policy::work_file(path, work)?;
    let c = std::ffi::CString::new(path).map_err(|e| OpError::msg(e.to_string()))?;
    let name = c"security.capability";
    if caps.is_empty() {
        // SAFETY: NUL-terminated strings.
        let r = unsafe { libc::removexattr(c.as_ptr(), name.as_ptr()) };
        trace.record(
            format!("removexattr({}, \"security.capability\")", quoted(path)),
            errno_result(r as libc::c_long),
        )?;
        return Ok(Value::Done);
    }
    let data = encode_v2(mask_of(caps)?, effective);
    // SAFETY: the buffer is valid for its length; NUL-terminated strings.
    let r = unsafe {
        libc::setxattr(
            c.as_ptr(),
            name.as_ptr(),
            data.as_ptr().cast(),
            data.len(),
            0,
        )
    };
    let shown = format!("{}={}", caps.join(","), if effective { "ep" } else { "p" });
    trace.record(
        format!(
            "setxattr({}, \"security.capability\", {{VFS_CAP_REVISION_2, {shown}}}, {}, 0)",
            quoted(path),
            data.len()
        ),
        errno_result(r as libc::c_long),
    )?;
    Ok(Value::Done)
}

fn capbset_drop(bit: u8, name: &str, trace: &mut Trace) -> Result<(), OpError> {
    // SAFETY: prctl with integer arguments only.
    let r = unsafe { libc::prctl(libc::PR_CAPBSET_DROP, bit as libc::c_ulong, 0, 0, 0) };
    trace.record(
        format!("prctl(PR_CAPBSET_DROP, {})", name.to_uppercase()),
        errno_result(r as libc::c_long),
    )?;
    Ok(())
}

/// Drops capabilities from the bounding set: no later execve can gain them, even as root.
pub fn bset_drop(caps: &[String], trace: &mut Trace) -> Result<Value, OpError> {
    for name in caps {
        let bit = capnames::bit_of(name)
            .ok_or_else(|| OpError::msg(format!("unknown capability {name:?}")))?;
        capbset_drop(bit, name, trace)?;
    }
    Ok(Value::Done)
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

fn capset(eff: u64, prm: u64, inh: u64, trace: &mut Trace) -> Result<(), OpError> {
    let mut hdr = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let data = [
        CapData {
            effective: eff as u32,
            permitted: prm as u32,
            inheritable: inh as u32,
        },
        CapData {
            effective: (eff >> 32) as u32,
            permitted: (prm >> 32) as u32,
            inheritable: (inh >> 32) as u32,
        },
    ];
    // SAFETY: header and two data structs as capset(2) version 3 expects.
    let r = unsafe { libc::syscall(libc::SYS_capset, &mut hdr as *mut CapHeader, data.as_ptr()) };
    let names = |m: u64| {
        let n = capnames::decode(m);
        if n.is_empty() {
            "0".to_string()
        } else {
            format!("{} caps", n.len())
        }
    };
    trace.record(
        format!(
            "capset({{_LINUX_CAPABILITY_VERSION_3, 0}}, {{effective={}, permitted={}, inheritable={}}})",
            names(eff),
            names(prm),
            names(inh)
        ),
        errno_result(r),
    )?;
    Ok(())
}

/// Applies a capability profile as runtimes do: everything outside `caps` is dropped from the
/// bounding set, then the permitted and effective sets become exactly `caps`, the inheritable
/// set empty.
pub fn apply_profile(caps: &[String], trace: &mut Trace) -> Result<Value, OpError> {
    let keep = mask_of(caps)?;
    let last_cap = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse::<u8>().ok())
        .unwrap_or(40);
    for bit in 0..=last_cap {
        if keep & (1u64 << bit) == 0 {
            let name = capnames::decode(1u64 << bit)
                .pop()
                .unwrap_or_else(|| format!("cap_{bit}"));
            capbset_drop(bit, &name, trace)?;
        }
    }
    // Inheritable stays empty, as runc gets it from Docker since 20.10.14 (CVE-2022-24769).
    capset(keep, keep, 0, trace)?;
    Ok(Value::Done)
}

/// prctl(PR_SET_NO_NEW_PRIVS, 1): no execve can add privileges any more (setuid bits and file
/// capabilities are ignored), for this process and all its descendants.
pub fn no_new_privs(trace: &mut Trace) -> Result<Value, OpError> {
    // SAFETY: prctl with integer arguments only.
    let r = unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) };
    trace.record(
        "prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)",
        errno_result(r as libc::c_long),
    )?;
    Ok(Value::Done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_round_trip() {
        let data = encode_v2(1 << 13, true);
        assert_eq!(data.len(), 20);
        assert_eq!(filecaps::parse(&data).unwrap(), (1 << 13, 0, true));
    }
}
