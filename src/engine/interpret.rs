//! Turns one [`Op`] into kernel calls, writing each call into the trace as strace would print it.
//!
//! Process management (spawn, run, exit) lives in [`super::agent`]; everything here is a plain
//! sequence of calls on [`Syscalls`], so it can be tested against a recording fake. This is also
//! where the engine refuses what would leak into the host: a mount made while still in the host's
//! mount namespace is refused unless it lands under the session's own work directory.

use super::journal::{Entry, Journal};
use super::namespaces::{flags_of, Namespace};
use super::ops::{MountFlag, Op, OpError, Propagation, Value};
use super::syscalls::Syscalls;
use containerlab_trace::{quoted, Trace};
use nix::mount::{MntFlags, MsFlags};
use std::path::{Path, PathBuf};

/// What the interpreter needs to know about where it runs.
pub struct Context<'a> {
    /// The session's work directory on the host: mounts below it are allowed anywhere.
    pub work: PathBuf,
    /// The inode of the host's mount namespace (the one the agent started in).
    pub host_mnt_ns: u64,
    /// This process's current mount namespace inode, re-read before each mount.
    pub current_mnt_ns: &'a dyn Fn() -> u64,
    pub journal: Option<&'a mut Journal>,
}

/// Runs `op`. Process-management ops are not handled here and yield an error.
pub fn execute(
    op: &Op,
    sys: &mut dyn Syscalls,
    trace: &mut Trace,
    ctx: &mut Context,
) -> Result<Value, OpError> {
    match op {
        Op::Unshare { namespaces } => {
            let (flags, text) = flags_of(namespaces);
            trace.record(format!("unshare({text})"), sys.unshare(flags))?;
            Ok(Value::Done)
        }
        Op::Join { pid, namespaces } => {
            for ns in join_order(namespaces) {
                let file = PathBuf::from(format!("/proc/{pid}/ns/{}", ns.proc_name()));
                let (flags, text) = flags_of(&[ns]);
                trace.record(
                    format!("setns(open({}), {text})", quoted(&file.to_string_lossy())),
                    sys.setns(&file, flags),
                )?;
            }
            Ok(Value::Done)
        }
        Op::SetHostname { name } => {
            guard_host_hostname()?;
            trace.record(
                format!("sethostname({}, {})", quoted(name), name.len()),
                sys.sethostname(name),
            )?;
            Ok(Value::Done)
        }
        Op::SetPropagation {
            path,
            propagation,
            recursive,
        } => {
            let mut flags = match propagation {
                Propagation::Private => MsFlags::MS_PRIVATE,
                Propagation::Shared => MsFlags::MS_SHARED,
                Propagation::Slave => MsFlags::MS_SLAVE,
                Propagation::Unbindable => MsFlags::MS_UNBINDABLE,
            };
            if *recursive {
                flags |= MsFlags::MS_REC;
            }
            guard_host_mount(path, ctx)?;
            trace.record(
                format!(
                    "mount(NULL, {}, NULL, {}, NULL)",
                    quoted(path),
                    ms_flag_names(flags)
                ),
                sys.mount(None, path, None, flags, None),
            )?;
            Ok(Value::Done)
        }
        Op::Mount {
            source,
            target,
            fstype,
            flags,
            data,
        } => {
            guard_host_mount(target, ctx)?;
            let ms = ms_flags(flags);
            trace.record(
                format!(
                    "mount({}, {}, {}, {}, {})",
                    quoted(source),
                    quoted(target),
                    fstype.as_deref().map(quoted).unwrap_or("NULL".into()),
                    ms_flag_names(ms),
                    data.as_deref().map(quoted).unwrap_or("NULL".into()),
                ),
                sys.mount(Some(source), target, fstype.as_deref(), ms, data.as_deref()),
            )?;
            if Path::new(target).starts_with(&ctx.work) {
                if let Some(j) = ctx.journal.as_deref_mut() {
                    j.append(&Entry::Mount {
                        target: target.into(),
                    })?;
                }
            }
            Ok(Value::Done)
        }
        Op::Umount { target, detach } => {
            let flags = if *detach {
                MntFlags::MNT_DETACH
            } else {
                MntFlags::empty()
            };
            let text = if *detach { "MNT_DETACH" } else { "0" };
            trace.record(
                format!("umount2({}, {text})", quoted(target)),
                sys.umount2(target, flags),
            )?;
            Ok(Value::Done)
        }
        Op::Mkdir { path } => {
            // Directories outside the work dir would be left on the learner's disk: in the host's
            // mount namespace they are refused; elsewhere they belong to a filesystem the lesson
            // mounted itself (a tmpfs, a rootfs copy), which goes away with it.
            guard_host_path("make a directory", path, ctx)?;
            trace.record_io(
                format!("mkdir({}, 0755)", quoted(path)),
                sys.mkdir_all(Path::new(path)),
                |_| "0".into(),
            )?;
            Ok(Value::Done)
        }
        Op::WriteFile { path, content } => {
            trace.record_io(
                format!(
                    "write(open({}), {}, {})",
                    quoted(path),
                    quoted(content),
                    content.len()
                ),
                sys.write_file(Path::new(path), content),
                |n| n.to_string(),
            )?;
            Ok(Value::Done)
        }
        Op::Hostname => Ok(Value::Text(sys.gethostname()?)),
        Op::ReadDir { path } => Ok(Value::Entries(sys.read_dir(Path::new(path))?)),
        Op::ReadFile { path } => Ok(Value::Text(sys.read_file(Path::new(path))?)),
        Op::ImageBuild { dir, recipe, from } => {
            super::image_ops::image_build(dir, *recipe, from.as_deref(), trace)
        }
        Op::LayerUnpack {
            image,
            layer,
            target,
            keep_whiteouts,
        } => super::image_ops::unpack(image, *layer, target, *keep_whiteouts, trace),
        Op::VerifyBlobs { dir } => super::image_ops::verify(dir, trace),
        Op::CreateFile { path, content } => {
            trace.record_io(
                format!(
                    "write(open({}, O_WRONLY|O_CREAT|O_TRUNC, 0644), {}, {})",
                    quoted(path),
                    quoted(content),
                    content.len()
                ),
                sys.create_file(Path::new(path), content),
                |n| n.to_string(),
            )?;
            Ok(Value::Done)
        }
        Op::Unlink { path } => {
            trace.record_io(
                format!("unlink({})", quoted(path)),
                sys.unlink(Path::new(path)),
                |_| "0".into(),
            )?;
            Ok(Value::Done)
        }
        Op::Stat { path } => Ok(Value::Entries(sys.lstat(Path::new(path))?)),
        Op::Spawn { .. }
        | Op::Publish { .. }
        | Op::Run { .. }
        | Op::Exit { .. }
        | Op::Unpublish { .. }
        | Op::Members
        | Op::CgroupCreate { .. }
        | Op::CgroupLimit { .. }
        | Op::Chroot { .. }
        | Op::Chdir { .. }
        | Op::PivotRoot { .. }
        | Op::Rootfs { .. }
        | Op::SetIds { .. }
        | Op::LinkUp { .. }
        | Op::CopyFile { .. }
        | Op::Chown { .. }
        | Op::SetFileCaps { .. }
        | Op::BsetDrop { .. }
        | Op::CapProfile { .. }
        | Op::NoNewPrivs => Err(OpError::msg(
            "process operations are run by the agent, not the interpreter",
        )),
        Op::MountCgroup { target } => {
            let (fstype, data) = super::ns_ops::cgroup_fs()?;
            let mount = Op::Mount {
                source: fstype.clone(),
                target: target.clone(),
                fstype: Some(fstype),
                flags: vec![],
                data,
            };
            execute(&mount, sys, trace, ctx)
        }
        other => super::ns_ops::execute(other, trace, ctx.journal.as_deref_mut())
            .unwrap_or_else(|| Err(OpError::msg("this operation is not known to the engine"))),
    }
}

/// The order `nsenter(1)` joins in: the user namespace first (it grants the rights to join the
/// others), the mount namespace late (it changes what paths mean).
fn join_order(namespaces: &[Namespace]) -> Vec<Namespace> {
    const ORDER: [Namespace; 8] = [
        Namespace::User,
        Namespace::Cgroup,
        Namespace::Ipc,
        Namespace::Uts,
        Namespace::Net,
        Namespace::Pid,
        Namespace::Mnt,
        Namespace::Time,
    ];
    ORDER
        .into_iter()
        .filter(|n| namespaces.contains(n))
        .collect()
}

/// A mount in the host's own mount namespace would change the learner's machine: only the
/// session's work directory may be used there.
fn guard_host_mount(target: &str, ctx: &Context) -> Result<(), OpError> {
    guard_host_path("mount on", target, ctx)
}

fn guard_host_path(what: &str, path: &str, ctx: &Context) -> Result<(), OpError> {
    let in_host_ns = (ctx.current_mnt_ns)() == ctx.host_mnt_ns;
    if in_host_ns && !Path::new(path).starts_with(&ctx.work) {
        return Err(OpError::msg(format!(
            "refusing to {what} {path} in the host's mount namespace: only the session's work \
             directory may change there; unshare a mount namespace (and make it private) first"
        )));
    }
    Ok(())
}

/// sethostname(2) with real root power over the host's UTS namespace would rename the machine.
/// A caller in another user namespace may try: the kernel refuses it (EPERM), which is a lesson.
fn guard_host_hostname() -> Result<(), OpError> {
    let host_uts = super::ns_ops::in_host_ns("uts") == Some(true);
    let host_user = super::ns_ops::in_host_ns("user") == Some(true);
    if host_uts && host_user {
        return Err(OpError::msg(
            "refusing to set the hostname in the host's UTS namespace: unshare a UTS namespace first",
        ));
    }
    Ok(())
}

fn ms_flags(flags: &[MountFlag]) -> MsFlags {
    flags.iter().fold(MsFlags::empty(), |acc, f| {
        acc | match f {
            MountFlag::Bind => MsFlags::MS_BIND,
            MountFlag::Rec => MsFlags::MS_REC,
            MountFlag::Rdonly => MsFlags::MS_RDONLY,
            MountFlag::Nosuid => MsFlags::MS_NOSUID,
            MountFlag::Nodev => MsFlags::MS_NODEV,
            MountFlag::Noexec => MsFlags::MS_NOEXEC,
            MountFlag::Remount => MsFlags::MS_REMOUNT,
        }
    })
}

/// mount(2) flags as C names, in the order the man page lists them.
pub fn ms_flag_names(flags: MsFlags) -> String {
    let names: &[(u64, &str)] = &[
        (MsFlags::MS_RDONLY.bits(), "MS_RDONLY"),
        (MsFlags::MS_NOSUID.bits(), "MS_NOSUID"),
        (MsFlags::MS_NODEV.bits(), "MS_NODEV"),
        (MsFlags::MS_NOEXEC.bits(), "MS_NOEXEC"),
        (MsFlags::MS_REMOUNT.bits(), "MS_REMOUNT"),
        (MsFlags::MS_BIND.bits(), "MS_BIND"),
        (MsFlags::MS_REC.bits(), "MS_REC"),
        (MsFlags::MS_UNBINDABLE.bits(), "MS_UNBINDABLE"),
        (MsFlags::MS_PRIVATE.bits(), "MS_PRIVATE"),
        (MsFlags::MS_SLAVE.bits(), "MS_SLAVE"),
        (MsFlags::MS_SHARED.bits(), "MS_SHARED"),
    ];
    containerlab_trace::flag_names(flags.bits(), names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::syscalls::fake::RecordingKernel;

    fn ctx(host: bool) -> Context<'static> {
        static HOST: fn() -> u64 = || 1;
        static OTHER: fn() -> u64 = || 2;
        Context {
            work: "/run/containerlab/s/work".into(),
            host_mnt_ns: 1,
            current_mnt_ns: if host { &HOST } else { &OTHER },
            journal: None,
        }
    }

    #[test]
    fn proc_mount_traces_like_strace() {
        let mut k = RecordingKernel::default();
        let mut t = Trace::new();
        let op = Op::Mount {
            source: "proc".into(),
            target: "/proc".into(),
            fstype: Some("proc".into()),
            flags: vec![MountFlag::Nosuid, MountFlag::Nodev, MountFlag::Noexec],
            data: None,
        };
        execute(&op, &mut k, &mut t, &mut ctx(false)).unwrap();
        assert_eq!(
            t.records[0].to_string(),
            "mount(\"proc\", \"/proc\", \"proc\", MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL) = 0"
        );
        assert_eq!(k.calls.len(), 1);
    }

    #[test]
    fn a_mount_in_the_host_namespace_is_refused_before_any_call() {
        let mut k = RecordingKernel::default();
        let mut t = Trace::new();
        let op = Op::Mount {
            source: "tmpfs".into(),
            target: "/mnt".into(),
            fstype: Some("tmpfs".into()),
            flags: vec![],
            data: None,
        };
        let err = execute(&op, &mut k, &mut t, &mut ctx(true)).unwrap_err();
        assert!(err.message.contains("host's mount namespace"));
        assert!(k.calls.is_empty(), "no call may reach the kernel");
    }

    #[test]
    fn kernel_refusal_is_traced_and_returned() {
        let mut k = RecordingKernel {
            refuse: vec!["sethostname"],
            ..Default::default()
        };
        let mut t = Trace::new();
        let op = Op::SetHostname { name: "lab".into() };
        let err = execute(&op, &mut k, &mut t, &mut ctx(false)).unwrap_err();
        assert_eq!(err.errno.as_deref(), Some("EPERM"));
        assert_eq!(
            t.records[0].to_string(),
            "sethostname(\"lab\", 3) = -1 EPERM (Operation not permitted)"
        );
    }

    #[test]
    fn join_goes_user_first_and_mount_late() {
        let mut k = RecordingKernel::default();
        let mut t = Trace::new();
        let op = Op::Join {
            pid: 42,
            namespaces: vec![Namespace::Mnt, Namespace::Uts, Namespace::User],
        };
        execute(&op, &mut k, &mut t, &mut ctx(false)).unwrap();
        let files: Vec<&str> = k
            .calls
            .iter()
            .map(|c| c.split(['(', ',']).nth(1).unwrap())
            .collect();
        assert_eq!(
            files,
            ["/proc/42/ns/user", "/proc/42/ns/uts", "/proc/42/ns/mnt"]
        );
    }

    #[test]
    fn private_propagation_reads_like_mount_make_rprivate() {
        let mut k = RecordingKernel::default();
        let mut t = Trace::new();
        let op = Op::SetPropagation {
            path: "/".into(),
            propagation: Propagation::Private,
            recursive: true,
        };
        execute(&op, &mut k, &mut t, &mut ctx(false)).unwrap();
        assert_eq!(
            t.records[0].to_string(),
            "mount(NULL, \"/\", NULL, MS_REC|MS_PRIVATE, NULL) = 0"
        );
        // In the host's own mount namespace, only the session's work directory may change.
        let err = execute(&op, &mut k, &mut t, &mut ctx(true)).unwrap_err();
        assert!(err.message.contains("host's mount namespace"));
        assert_eq!(k.calls.len(), 1);
    }

    #[test]
    fn create_file_and_unlink_read_like_the_shell_does_them() {
        let mut k = RecordingKernel::default();
        let mut t = Trace::new();
        let op = Op::CreateFile {
            path: "/m/new".into(),
            content: "hi\n".into(),
        };
        execute(&op, &mut k, &mut t, &mut ctx(false)).unwrap();
        execute(
            &Op::Unlink {
                path: "/m/old".into(),
            },
            &mut k,
            &mut t,
            &mut ctx(false),
        )
        .unwrap();
        assert_eq!(
            t.records[0].to_string(),
            "write(open(\"/m/new\", O_WRONLY|O_CREAT|O_TRUNC, 0644), \"hi\\n\", 3) = 3"
        );
        assert_eq!(t.records[1].to_string(), "unlink(\"/m/old\") = 0");
        assert_eq!(k.calls, ["create(/m/new, \"hi\\n\")", "unlink(/m/old)"]);
    }
}
