//! The one seccomp filter the lab installs: a subset of Docker's default profile.
//!
//! Docker's profile (moby `profiles/seccomp/default.json`) is an allow-list: more than 300 named
//! syscalls are allowed, some more only when the container has a given capability, and every
//! other syscall fails with EPERM (`defaultAction: SCMP_ACT_ERRNO`, `defaultErrnoRet: 1`). The
//! lab's filter is the other side of that list for the calls that matter most: the syscalls that
//! profile refuses to a container with Docker's default capabilities fail with EPERM, everything
//! else is allowed. (Docker also refuses `clone` with namespace flags and answers `clone3` with
//! ENOSYS; the lab leaves clone out, since its agents fork.) The filter does not look at
//! capabilities: a process with CAP_SYS_ADMIN is refused all the same, which is the point of a
//! second layer.
//!
//! Installed with seccomp(2) directly rather than `seccompiler::apply_filter`, which would also
//! set no_new_privs: like runc without `noNewPrivileges`, the lab relies on CAP_SYS_ADMIN to be
//! allowed to install it, so NoNewPrivs stays 0 in /proc/PID/status.

use super::reply::{OpError, Value};
use containerlab_trace::Trace;
use seccompiler::{BpfProgram, SeccompAction, SeccompFilter};
use std::collections::BTreeMap;

/// The syscalls the filter refuses, by name as strace prints them.
pub const REFUSED: [(&str, libc::c_long); 30] = [
    ("unshare", libc::SYS_unshare),
    ("setns", libc::SYS_setns),
    ("mount", libc::SYS_mount),
    ("umount2", libc::SYS_umount2),
    ("pivot_root", libc::SYS_pivot_root),
    ("fsopen", libc::SYS_fsopen),
    ("fsconfig", libc::SYS_fsconfig),
    ("fsmount", libc::SYS_fsmount),
    ("fspick", libc::SYS_fspick),
    ("move_mount", libc::SYS_move_mount),
    ("open_tree", libc::SYS_open_tree),
    ("mount_setattr", libc::SYS_mount_setattr),
    ("keyctl", libc::SYS_keyctl),
    ("add_key", libc::SYS_add_key),
    ("request_key", libc::SYS_request_key),
    ("bpf", libc::SYS_bpf),
    ("perf_event_open", libc::SYS_perf_event_open),
    ("sethostname", libc::SYS_sethostname),
    ("setdomainname", libc::SYS_setdomainname),
    ("syslog", libc::SYS_syslog),
    ("quotactl", libc::SYS_quotactl),
    ("init_module", libc::SYS_init_module),
    ("finit_module", libc::SYS_finit_module),
    ("delete_module", libc::SYS_delete_module),
    ("kexec_load", libc::SYS_kexec_load),
    ("reboot", libc::SYS_reboot),
    ("swapon", libc::SYS_swapon),
    ("swapoff", libc::SYS_swapoff),
    ("acct", libc::SYS_acct),
    ("open_by_handle_at", libc::SYS_open_by_handle_at),
];

/// Compiles the filter for this machine's architecture.
fn program() -> Result<BpfProgram, String> {
    let rules: BTreeMap<i64, Vec<seccompiler::SeccompRule>> = REFUSED
        .iter()
        // c_long is i32 on 32-bit targets, where the cast is not a no-op.
        .map(|(_, nr)| {
            #[allow(clippy::unnecessary_cast)]
            let nr = *nr as i64;
            (nr, Vec::new())
        })
        .collect();
    let arch = std::env::consts::ARCH
        .try_into()
        .map_err(|e| format!("seccomp: {e}"))?;
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        arch,
    )
    .map_err(|e| format!("seccomp: {e}"))?;
    BpfProgram::try_from(filter).map_err(|e| format!("seccomp: {e}"))
}

/// seccomp(SECCOMP_SET_MODE_FILTER, TSYNC, prog): this process (every thread) and everything it
/// starts from now on run under the filter. It cannot be removed.
pub fn install(trace: &mut Trace) -> Result<Value, OpError> {
    let prog = program().map_err(|message| OpError {
        errno: None,
        message,
    })?;
    let fprog = libc::sock_fprog {
        len: prog.len() as libc::c_ushort,
        // seccompiler's sock_filter is #[repr(C)] with the kernel's layout (code, jt, jf, k).
        filter: prog.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: `fprog` points at `prog`, which lives until the call returns; the kernel copies it.
    let r = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            libc::SECCOMP_FILTER_FLAG_TSYNC,
            &fprog as *const libc::sock_fprog,
        )
    };
    let names: Vec<&str> = REFUSED.iter().map(|(n, _)| *n).collect();
    let call = format!(
        "seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, {{{} instructions: {} -> ERRNO(EPERM), else ALLOW}})",
        prog.len(),
        names.join(" ")
    );
    trace.record(call, errno_result(r))?;
    Ok(Value::Done)
}

/// The same filter for a process that is about to become a learner's shell in a seccomp'd
/// process (`docker exec` runs under the container's profile too). Untraced.
pub fn install_quietly() -> Result<(), String> {
    let mut trace = Trace::new();
    install(&mut trace).map(|_| ()).map_err(|e| e.to_string())
}

fn errno_result(r: libc::c_long) -> nix::Result<()> {
    if r < 0 {
        Err(nix::errno::Errno::last())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiles_for_this_machine() {
        let prog = program().unwrap();
        // One check of the architecture, one load, one comparison per syscall at least.
        assert!(prog.len() > REFUSED.len(), "{} instructions", prog.len());
    }

    #[test]
    fn refuses_docker_defaults_hallmarks() {
        let names: Vec<&str> = REFUSED.iter().map(|(n, _)| *n).collect();
        for n in ["unshare", "keyctl", "mount", "setns", "bpf"] {
            assert!(names.contains(&n), "{n}");
        }
        for n in [
            "read", "write", "execve", "clone", "wait4", "chroot", "capset",
        ] {
            assert!(!names.contains(&n), "{n} must stay allowed");
        }
    }
}
