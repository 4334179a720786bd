//! Namespaces and mounts as plain kernel calls: unshare, setns, sethostname, mount, umount,
//! mkdir and file writes, each written into the trace as strace would print it.
//!
//! Everything here is a sequence of calls on [`Syscalls`], so it can be tested against a
//! recording fake; [`super::dispatch`] picks the call for an op. Before a call that would change
//! the host's mount table or files, the [`policy`] is asked.

use super::journal::{Entry, Journal};
use super::namespaces::{flags_of, Namespace};
use super::ops::{MountFlag, OpError, Propagation, Value};
use super::policy;
use super::syscalls::Syscalls;
use containerlab_trace::{quoted, Trace};
use nix::mount::{MntFlags, MsFlags};
use std::path::{Path, PathBuf};

/// Plain kernel calls, made on `sys` and written into `trace`, by one process of the sandbox.
pub struct Interpreter<'a, S: Syscalls> {
    pub sys: S,
    pub trace: &'a mut Trace,
    /// The session's work directory on the host: the only place the host's mount namespace may
    /// change (see [`policy`]).
    pub work: &'a Path,
    /// Whether this process is in the host's mount namespace now, asked before each change.
    pub in_host_mnt_ns: &'a dyn Fn() -> bool,
    pub journal: Option<&'a mut Journal>,
}

impl<S: Syscalls> Interpreter<'_, S> {
    /// Rule 1 of [`policy`], for this process as it is now.
    fn guard_host_path(&self, what: &str, path: &str) -> Result<(), OpError> {
        policy::host_mount_path(what, path, self.work, (self.in_host_mnt_ns)())
    }

    pub fn unshare(&mut self, namespaces: &[Namespace]) -> Result<Value, OpError> {
        let (flags, text) = flags_of(namespaces);
        self.trace
            .record(format!("unshare({text})"), self.sys.unshare(flags))?;
        Ok(Value::Done)
    }

    /// setns(2) into each of `pid`'s namespaces, in [`Namespace::JOIN_ORDER`].
    pub fn join(&mut self, pid: i32, namespaces: &[Namespace]) -> Result<Value, OpError> {
        for ns in Namespace::in_join_order(namespaces) {
            let file = PathBuf::from(format!("/proc/{pid}/ns/{}", ns.proc_name()));
            let (flags, text) = flags_of(&[ns]);
            self.trace.record(
                format!("setns(open({}), {text})", quoted(&file.to_string_lossy())),
                self.sys.setns(&file, flags),
            )?;
        }
        Ok(Value::Done)
    }

    pub fn set_hostname(&mut self, name: &str) -> Result<Value, OpError> {
        policy::hostname()?;
        self.trace.record(
            format!("sethostname({}, {})", quoted(name), name.len()),
            self.sys.sethostname(name),
        )?;
        Ok(Value::Done)
    }

    pub fn set_propagation(
        &mut self,
        path: &str,
        propagation: Propagation,
        recursive: bool,
    ) -> Result<Value, OpError> {
        let mut flags = match propagation {
            Propagation::Private => MsFlags::MS_PRIVATE,
            Propagation::Shared => MsFlags::MS_SHARED,
            Propagation::Slave => MsFlags::MS_SLAVE,
            Propagation::Unbindable => MsFlags::MS_UNBINDABLE,
        };
        if recursive {
            flags |= MsFlags::MS_REC;
        }
        self.guard_host_path("mount on", path)?;
        self.trace.record(
            format!(
                "mount(NULL, {}, NULL, {}, NULL)",
                quoted(path),
                ms_flag_names(flags)
            ),
            self.sys.mount(None, path, None, flags, None),
        )?;
        Ok(Value::Done)
    }

    pub fn mount(
        &mut self,
        source: &str,
        target: &str,
        fstype: Option<&str>,
        flags: &[MountFlag],
        data: Option<&str>,
    ) -> Result<Value, OpError> {
        self.guard_host_path("mount on", target)?;
        let ms = ms_flags(flags);
        self.trace.record(
            format!(
                "mount({}, {}, {}, {}, {})",
                quoted(source),
                quoted(target),
                fstype.map(quoted).unwrap_or("NULL".into()),
                ms_flag_names(ms),
                data.map(quoted).unwrap_or("NULL".into()),
            ),
            self.sys.mount(Some(source), target, fstype, ms, data),
        )?;
        if Path::new(target).starts_with(self.work) {
            if let Some(j) = self.journal.as_deref_mut() {
                j.append(&Entry::Mount {
                    target: target.into(),
                })?;
            }
        }
        Ok(Value::Done)
    }

    /// Mounts the hierarchy lab cgroups live in for the memory controller (cgroup2, or the v1
    /// `memory` tree) at `target`.
    pub fn mount_cgroup(&mut self, target: &str) -> Result<Value, OpError> {
        let (fstype, data) = super::ns_ops::cgroup_fs()?;
        self.mount(&fstype, target, Some(&fstype), &[], data.as_deref())
    }

    pub fn umount(&mut self, target: &str, detach: bool) -> Result<Value, OpError> {
        let (flags, text) = if detach {
            (MntFlags::MNT_DETACH, "MNT_DETACH")
        } else {
            (MntFlags::empty(), "0")
        };
        self.trace.record(
            format!("umount2({}, {text})", quoted(target)),
            self.sys.umount2(target, flags),
        )?;
        Ok(Value::Done)
    }

    /// A call that changes the file at `path`, refused first in the host's mount namespace
    /// outside the work directory (see [`policy`]), then traced as `call`.
    fn change_path<T>(
        &mut self,
        what: &str,
        path: &str,
        call: String,
        make: impl FnOnce(&mut S, &Path) -> std::io::Result<T>,
        shown: impl FnOnce(&T) -> String,
    ) -> Result<Value, OpError> {
        self.guard_host_path(what, path)?;
        let result = make(&mut self.sys, Path::new(path));
        self.trace.record_io(call, result, shown)?;
        Ok(Value::Done)
    }

    pub fn mkdir(&mut self, path: &str) -> Result<Value, OpError> {
        // Directories outside the work dir would be left on the learner's disk: in the host's
        // mount namespace they are refused; elsewhere they belong to a filesystem the lesson
        // mounted itself (a tmpfs, a rootfs copy), which goes away with it.
        let call = format!("mkdir({}, 0755)", quoted(path));
        self.change_path(
            "make a directory",
            path,
            call,
            |s, p| s.mkdir_all(p),
            |_| "0".into(),
        )
    }

    /// Writes a kernel interface file (uid_map, a sysctl of the lesson's namespace), or shows a
    /// read-only mount refusing a write: within [`policy::write_target`]'s rule 6.
    pub fn write_file(&mut self, path: &str, content: &str) -> Result<Value, OpError> {
        policy::write_target(path, self.work)?;
        self.trace.record_io(
            format!(
                "write(open({}), {}, {})",
                quoted(path),
                quoted(content),
                content.len()
            ),
            self.sys.write_file(Path::new(path), content),
            |n| n.to_string(),
        )?;
        Ok(Value::Done)
    }

    pub fn create_file(&mut self, path: &str, content: &str) -> Result<Value, OpError> {
        let call = format!(
            "write(open({}, O_WRONLY|O_CREAT|O_TRUNC, 0644), {}, {})",
            quoted(path),
            quoted(content),
            content.len()
        );
        let make = |s: &mut S, p: &Path| s.create_file(p, content);
        self.change_path("create", path, call, make, |n| n.to_string())
    }

    pub fn unlink(&mut self, path: &str) -> Result<Value, OpError> {
        let call = format!("unlink({})", quoted(path));
        self.change_path("unlink", path, call, |s, p| s.unlink(p), |_| "0".into())
    }

    pub fn hostname(&mut self) -> Result<Value, OpError> {
        Ok(Value::Text(self.sys.gethostname()?))
    }

    pub fn read_dir(&mut self, path: &str) -> Result<Value, OpError> {
        Ok(Value::Entries(self.sys.read_dir(Path::new(path))?))
    }

    pub fn read_file(&mut self, path: &str) -> Result<Value, OpError> {
        Ok(Value::Text(self.sys.read_file(Path::new(path))?))
    }

    pub fn stat(&mut self, path: &str) -> Result<Value, OpError> {
        Ok(Value::Stat(self.sys.lstat(Path::new(path))?))
    }
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
    use crate::syscalls::fake::{Call, RecordingKernel};
    use nix::sched::CloneFlags;

    fn in_host() -> bool {
        true
    }

    fn elsewhere() -> bool {
        false
    }

    /// An interpreter on a recording kernel, in the host's mount namespace or not.
    fn interp<'a>(
        k: RecordingKernel,
        t: &'a mut Trace,
        host: bool,
    ) -> Interpreter<'a, RecordingKernel> {
        Interpreter {
            sys: k,
            trace: t,
            work: Path::new("/run/containerlab/s/work"),
            in_host_mnt_ns: if host { &in_host } else { &elsewhere },
            journal: None,
        }
    }

    #[test]
    fn proc_mount_traces_like_strace() {
        let mut t = Trace::new();
        let mut i = interp(RecordingKernel::default(), &mut t, false);
        let flags = [MountFlag::Nosuid, MountFlag::Nodev, MountFlag::Noexec];
        i.mount("proc", "/proc", Some("proc"), &flags, None)
            .unwrap();
        assert_eq!(i.sys.calls.len(), 1);
        assert_eq!(
            t.records[0].to_string(),
            "mount(\"proc\", \"/proc\", \"proc\", MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL) = 0"
        );
    }

    #[test]
    fn a_mount_in_the_host_namespace_is_refused_before_any_call() {
        let mut t = Trace::new();
        let mut i = interp(RecordingKernel::default(), &mut t, true);
        let err = i
            .mount("tmpfs", "/mnt", Some("tmpfs"), &[], None)
            .unwrap_err();
        assert!(err.message.contains("host's mount namespace"));
        assert!(i.sys.calls.is_empty(), "no call may reach the kernel");
    }

    #[test]
    fn kernel_refusal_is_traced_and_returned() {
        let k = RecordingKernel {
            refuse: vec!["sethostname"],
            ..Default::default()
        };
        let mut t = Trace::new();
        let err = interp(k, &mut t, false).set_hostname("lab").unwrap_err();
        assert_eq!(err.errno.as_deref(), Some("EPERM"));
        assert_eq!(
            t.records[0].to_string(),
            "sethostname(\"lab\", 3) = -1 EPERM (Operation not permitted)"
        );
    }

    #[test]
    fn join_goes_user_first_and_mount_late() {
        let mut t = Trace::new();
        let mut i = interp(RecordingKernel::default(), &mut t, false);
        i.join(42, &[Namespace::Mnt, Namespace::Uts, Namespace::User])
            .unwrap();
        let setns = |file: &str, flags| Call::Setns {
            file: file.into(),
            flags,
        };
        assert_eq!(
            i.sys.calls,
            [
                setns("/proc/42/ns/user", CloneFlags::CLONE_NEWUSER),
                setns("/proc/42/ns/uts", CloneFlags::CLONE_NEWUTS),
                setns("/proc/42/ns/mnt", CloneFlags::CLONE_NEWNS),
            ]
        );
    }

    #[test]
    fn private_propagation_reads_like_mount_make_rprivate() {
        let mut t = Trace::new();
        let mut i = interp(RecordingKernel::default(), &mut t, false);
        i.set_propagation("/", Propagation::Private, true).unwrap();
        // In the host's own mount namespace, only the session's work directory may change.
        i.in_host_mnt_ns = &in_host;
        let err = i
            .set_propagation("/", Propagation::Private, true)
            .unwrap_err();
        assert!(err.message.contains("host's mount namespace"));
        assert_eq!(i.sys.calls.len(), 1);
        assert_eq!(
            t.records[0].to_string(),
            "mount(NULL, \"/\", NULL, MS_REC|MS_PRIVATE, NULL) = 0"
        );
    }

    #[test]
    fn create_file_and_unlink_read_like_the_shell_does_them() {
        let mut t = Trace::new();
        let mut i = interp(RecordingKernel::default(), &mut t, false);
        i.create_file("/m/new", "hi\n").unwrap();
        i.unlink("/m/old").unwrap();
        assert_eq!(
            i.sys.calls,
            [
                Call::CreateFile {
                    path: "/m/new".into(),
                    content: "hi\n".into(),
                },
                Call::Unlink("/m/old".into()),
            ]
        );
        assert_eq!(
            t.records[0].to_string(),
            "write(open(\"/m/new\", O_WRONLY|O_CREAT|O_TRUNC, 0644), \"hi\\n\", 3) = 3"
        );
        assert_eq!(t.records[1].to_string(), "unlink(\"/m/old\") = 0");
    }
}
