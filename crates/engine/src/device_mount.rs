//! A block device mounted read-only from its first moment, with the new mount API.
//!
//! Why not mount(2) with MS_RDONLY: the host's root filesystem is already mounted read-write,
//! and asking for its superblock read-only would change the superblock's state, which the
//! kernel refuses with EBUSY ("Can't mount, would change RO state", fs/super.c). The new API
//! separates the two: `fsconfig(FSCONFIG_CMD_CREATE)` finds the existing superblock as it is,
//! and `fsmount(..., MOUNT_ATTR_RDONLY)` makes a mount of it that is read-only before it is
//! attached anywhere, so no write can go through it at any moment. `move_mount` then attaches
//! it; the policy allows that only in a mount namespace of the lesson's own, so the mount dies
//! with that namespace.

use super::reply::{OpError, Value};
use containerlab_trace::{quoted, Trace};
use nix::errno::Errno;
use std::ffi::CString;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

// Kernel uapi values (include/uapi/linux/mount.h).
const FSOPEN_CLOEXEC: libc::c_uint = 0x1;
const FSCONFIG_SET_STRING: libc::c_uint = 1;
const FSCONFIG_CMD_CREATE: libc::c_uint = 6;
const FSMOUNT_CLOEXEC: libc::c_uint = 0x1;
const MOUNT_ATTR_RDONLY: libc::c_uint = 0x1;
const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 0x4;

fn c(s: &str) -> Result<CString, OpError> {
    CString::new(s).map_err(|_| OpError::msg(format!("{s:?} contains a NUL byte")))
}

/// A syscall's result: a new file descriptor, or errno.
fn fd_result(r: libc::c_long) -> nix::Result<OwnedFd> {
    if r < 0 {
        Err(Errno::last())
    } else {
        // SAFETY: the kernel just returned this descriptor to us and nothing else owns it.
        Ok(unsafe { OwnedFd::from_raw_fd(r as i32) })
    }
}

fn unit_result(r: libc::c_long) -> nix::Result<()> {
    Errno::result(r).map(drop)
}

/// fsopen + fsconfig(source) + fsconfig(create) + fsmount(MOUNT_ATTR_RDONLY) + move_mount.
pub fn mount_readonly(
    source: &str,
    target: &str,
    fstype: &str,
    trace: &mut Trace,
) -> Result<Value, OpError> {
    use std::os::fd::AsRawFd;
    let (c_fstype, c_key, c_source, c_empty) = (c(fstype)?, c("source")?, c(source)?, c("")?);
    let c_target = CString::new(std::path::Path::new(target).as_os_str().as_bytes())
        .map_err(|_| OpError::msg("target contains a NUL byte"))?;
    // SAFETY: each call gets NUL-terminated strings that outlive it and integer flags.
    let fs = trace.record(
        format!("fsopen({}, FSOPEN_CLOEXEC)", quoted(fstype)),
        fd_result(unsafe { libc::syscall(libc::SYS_fsopen, c_fstype.as_ptr(), FSOPEN_CLOEXEC) }),
    )?;
    let fsfd = fs.as_raw_fd();
    trace.record(
        format!(
            "fsconfig({fsfd}, FSCONFIG_SET_STRING, \"source\", {}, 0)",
            quoted(source)
        ),
        unit_result(unsafe {
            libc::syscall(
                libc::SYS_fsconfig,
                fsfd,
                FSCONFIG_SET_STRING,
                c_key.as_ptr(),
                c_source.as_ptr(),
                0,
            )
        }),
    )?;
    trace.record(
        format!("fsconfig({fsfd}, FSCONFIG_CMD_CREATE, NULL, NULL, 0)"),
        unit_result(unsafe {
            libc::syscall(
                libc::SYS_fsconfig,
                fsfd,
                FSCONFIG_CMD_CREATE,
                std::ptr::null::<libc::c_char>(),
                std::ptr::null::<libc::c_char>(),
                0,
            )
        }),
    )?;
    let mnt = trace.record(
        format!("fsmount({fsfd}, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY)"),
        fd_result(unsafe {
            libc::syscall(libc::SYS_fsmount, fsfd, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY)
        }),
    )?;
    let mntfd = mnt.as_raw_fd();
    trace.record(
        format!(
            "move_mount({mntfd}, \"\", AT_FDCWD, {}, MOVE_MOUNT_F_EMPTY_PATH)",
            quoted(target)
        ),
        unit_result(unsafe {
            libc::syscall(
                libc::SYS_move_mount,
                mntfd,
                c_empty.as_ptr(),
                libc::AT_FDCWD,
                c_target.as_ptr(),
                MOVE_MOUNT_F_EMPTY_PATH,
            )
        }),
    )?;
    Ok(Value::Done)
}
