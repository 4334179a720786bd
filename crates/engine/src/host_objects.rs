//! Removing the host objects that other modules create: cgroups, network links, IPC objects.
//!
//! Each function treats "already gone" as success, because teardown and `cleanup` may both try,
//! and says which it was: a report that called a dead process "removed" would mislead.

use std::path::{Path, PathBuf};

/// How undoing one journaled object went, when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Undone {
    /// Removed (killed, detached, deleted, set back) now.
    Now,
    /// Nothing was left to undo: the process had died, the veth went with its namespace, the
    /// hostname was already back.
    AlreadyGone,
    /// Left in place because something else uses it now (another session's cgroups below the
    /// shared parent, a controller in use below the root).
    InUse,
}

/// Why one journaled object could not be undone (its text goes into the teardown report).
#[derive(Debug, thiserror::Error)]
pub enum UndoError {
    #[error("kill: {0}")]
    Kill(nix::Error),
    #[error("still running 5 s after SIGKILL")]
    StillRunning,
    #[error("umount2: {0}")]
    Umount(nix::Error),
    #[error("still mounted after 16 detaches")]
    StillMounted,
    #[error("remove: {0}")]
    Remove(std::io::Error),
    #[error("write {}: {source}", .file.display())]
    Controllers {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("rmdir: {0}")]
    Rmdir(std::io::Error),
    #[error(transparent)]
    Cgroup(#[from] containerlab_cgroup::Error),
    #[error(transparent)]
    Link(#[from] containerlab_net::NetError),
    #[error("shmctl(IPC_RMID): {0}")]
    Shmctl(nix::Error),
    #[error("mq_unlink: {0}")]
    MqUnlink(nix::Error),
    #[error("mountinfo: {0}")]
    Mountinfo(String),
    #[error("another mount covers it; left in place")]
    Covered,
    #[error("hostname: {0}")]
    Hostname(nix::Error),
}

/// Writes `-memory -pids` (say) to a `cgroup.subtree_control` the lab wrote `+memory +pids` to.
/// EBUSY means some other cgroup below uses a controller now (another session's, or one made
/// since): it must stay on, and then it is not ours to take back.
pub fn take_back_controllers(file: &Path, controllers: &[String]) -> Result<Undone, UndoError> {
    let line: Vec<String> = controllers.iter().map(|c| format!("-{c}")).collect();
    match std::fs::write(file, line.join(" ")) {
        Ok(()) => Ok(Undone::Now),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Undone::AlreadyGone),
        Err(e) if e.raw_os_error() == Some(libc::EBUSY) => Ok(Undone::InUse),
        Err(source) => Err(UndoError::Controllers {
            file: file.to_path_buf(),
            source,
        }),
    }
}

pub fn remove_cgroup(path: &Path) -> Result<Undone, UndoError> {
    if !path.exists() {
        return Ok(Undone::AlreadyGone);
    }
    let mut trace = containerlab_trace::Trace::new();
    // The shared `containerlab` parent may hold other sessions' cgroups: only rmdir it, and
    // leave it when it is still in use. Our own cgroups are emptied (SIGKILL) and removed.
    if path
        .file_name()
        .is_some_and(|n| n == containerlab_cgroup::PARENT)
    {
        return match std::fs::remove_dir(path) {
            Ok(()) => Ok(Undone::Now),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(Undone::AlreadyGone),
            Err(e) if matches!(e.raw_os_error(), Some(libc::EBUSY) | Some(libc::ENOTEMPTY)) => {
                Ok(Undone::InUse)
            }
            Err(e) => Err(UndoError::Rmdir(e)),
        };
    }
    containerlab_cgroup::remove_tree(path, &mut trace)?;
    Ok(Undone::Now)
}

/// Deletes a link in this process's network namespace (one end of a veth takes the other along).
pub fn delete_link(name: &str) -> Result<Undone, UndoError> {
    let mut trace = containerlab_trace::Trace::new();
    match containerlab_net::delete_link(name, &mut trace) {
        Ok(()) => Ok(Undone::Now),
        Err(e) if e.is_no_such_device() => Ok(Undone::AlreadyGone),
        Err(e) => Err(e.into()),
    }
}

pub fn remove_shm(id: i32) -> Result<Undone, UndoError> {
    // SAFETY: shmctl with IPC_RMID and a null buffer only marks the segment for removal.
    let r = unsafe { libc::shmctl(id, libc::IPC_RMID, std::ptr::null_mut()) };
    match nix::errno::Errno::result(r) {
        Ok(_) => Ok(Undone::Now),
        Err(nix::Error::EINVAL) | Err(nix::Error::EIDRM) => Ok(Undone::AlreadyGone),
        Err(e) => Err(UndoError::Shmctl(e)),
    }
}

pub fn unlink_mq(name: &str) -> Result<Undone, UndoError> {
    match nix::mqueue::mq_unlink(name) {
        Ok(()) => Ok(Undone::Now),
        Err(nix::Error::ENOENT) => Ok(Undone::AlreadyGone),
        Err(e) => Err(UndoError::MqUnlink(e)),
    }
}
