//! Removing the host objects that other modules create: cgroups, network links, IPC objects.
//!
//! Each function treats "already gone" as success, because teardown and `cleanup` may both try.

use std::path::Path;

/// Writes `-memory -pids` (say) to a `cgroup.subtree_control` the lab wrote `+memory +pids` to.
/// EBUSY means some other cgroup below uses a controller now (another session's, or one made
/// since): it must stay on, and then it is not ours to take back.
pub fn take_back_controllers(file: &Path, controllers: &[String]) -> Result<(), String> {
    let line: Vec<String> = controllers.iter().map(|c| format!("-{c}")).collect();
    match std::fs::write(file, line.join(" ")) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) if e.raw_os_error() == Some(libc::EBUSY) => Ok(()),
        Err(e) => Err(format!("write {}: {e}", file.display())),
    }
}

pub fn remove_cgroup(path: &Path) -> Result<(), String> {
    if !path.exists() {
        return Ok(());
    }
    let mut trace = containerlab_trace::Trace::new();
    // The shared `containerlab` parent may hold other sessions' cgroups: only rmdir it, and
    // leave it when it is still in use. Our own cgroups are emptied (SIGKILL) and removed.
    if path
        .file_name()
        .is_some_and(|n| n == containerlab_cgroup::PARENT)
    {
        return match std::fs::remove_dir(path) {
            Ok(()) => Ok(()),
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::EBUSY) | Some(libc::ENOTEMPTY) | Some(libc::ENOENT)
                ) =>
            {
                Ok(())
            }
            Err(e) => Err(format!("rmdir: {e}")),
        };
    }
    containerlab_cgroup::remove_tree(path, &mut trace).map_err(|e| e.to_string())
}

/// Deletes a link in this process's network namespace (one end of a veth takes the other along).
pub fn delete_link(name: &str) -> Result<(), String> {
    let mut trace = containerlab_trace::Trace::new();
    match containerlab_net::delete_link(name, &mut trace) {
        Ok(()) => Ok(()),
        Err(e) if e.is_no_such_device() => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

pub fn remove_shm(id: i32) -> Result<(), String> {
    // SAFETY: shmctl with IPC_RMID and a null buffer only marks the segment for removal.
    let r = unsafe { libc::shmctl(id, libc::IPC_RMID, std::ptr::null_mut()) };
    match nix::errno::Errno::result(r) {
        Ok(_) | Err(nix::Error::EINVAL) | Err(nix::Error::EIDRM) => Ok(()),
        Err(e) => Err(format!("shmctl(IPC_RMID): {e}")),
    }
}

pub fn unlink_mq(name: &str) -> Result<(), String> {
    match nix::mqueue::mq_unlink(name) {
        Ok(()) | Err(nix::Error::ENOENT) => Ok(()),
        Err(e) => Err(format!("mq_unlink: {e}")),
    }
}
