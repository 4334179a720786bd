//! Every operation, matched once: which kernel calls each [`Op`] becomes.
//!
//! A process of the sandbox answers one op at a time. Most ops are a few syscalls with no state
//! ([`super::interpret`], [`super::ns_ops`], [`super::privs`], ...); starting, stopping and
//! listing processes needs what the agent remembers of its members. This single `match` has no
//! catch-all arm, so adding an op to [`Op`] does not compile until it is given its calls here.

use super::agent::{run_program, Agent};
use super::interpret::Interpreter;
use super::namespaces::Namespace;
use super::ops::{Op, OpError, Value};
use super::syscalls::LiveKernel;
use super::{cgroups, chroot, image_ops, ns_ops, policy, privs};
use containerlab_trace::Trace;

/// The interpreter's question "still in the host's mount namespace?"; unknown counts as yes.
fn in_host_mnt_ns() -> bool {
    policy::in_host_ns(Namespace::Mnt) != Some(false)
}

impl Agent {
    /// The plain kernel calls of [`super::interpret`], on the real kernel, for this process.
    fn interpreter<'a>(&'a mut self, trace: &'a mut Trace) -> Interpreter<'a, LiveKernel> {
        Interpreter {
            sys: LiveKernel,
            trace,
            work: &self.work,
            in_host_mnt_ns: &in_host_mnt_ns,
            journal: Some(&mut self.journal),
        }
    }

    /// Runs `op` in this process, writing every call into `trace`.
    pub(super) fn dispatch(&mut self, op: &Op, trace: &mut Trace) -> Result<Value, OpError> {
        let work = self.work.clone();
        match op {
            // Namespaces and mounts.
            Op::Unshare { namespaces } => self.interpreter(trace).unshare(namespaces),
            Op::Join { pid, namespaces } => self.interpreter(trace).join(*pid, namespaces),
            Op::SetHostname { name } => self.interpreter(trace).set_hostname(name),
            Op::SetPropagation {
                path,
                propagation,
                recursive,
            } => self
                .interpreter(trace)
                .set_propagation(path, *propagation, *recursive),
            Op::Mount {
                source,
                target,
                fstype,
                flags,
                data,
            } => self.interpreter(trace).mount(
                source,
                target,
                fstype.as_deref(),
                flags,
                data.as_deref(),
            ),
            Op::MountCgroup { target } => self.interpreter(trace).mount_cgroup(target),
            Op::Umount { target, detach } => self.interpreter(trace).umount(target, *detach),
            Op::Mkdir { path } => self.interpreter(trace).mkdir(path),
            Op::WriteFile { path, content } => self.interpreter(trace).write_file(path, content),
            Op::CreateFile { path, content } => self.interpreter(trace).create_file(path, content),
            Op::Unlink { path } => self.interpreter(trace).unlink(path),
            Op::Hostname => self.interpreter(trace).hostname(),
            Op::ReadDir { path } => self.interpreter(trace).read_dir(path),
            Op::ReadFile { path } => self.interpreter(trace).read_file(path),
            Op::Stat { path } => self.interpreter(trace).stat(path),
            Op::Open { path } => ns_ops::open(path, trace),

            // Processes: the agent's own state.
            Op::Spawn { name, namespaces } => self.spawn(name, namespaces, trace),
            Op::Publish { name, listen, to } => self.publish(name, listen, to, trace),
            Op::Unpublish { name } => self.unpublish(name, trace),
            Op::Run {
                argv,
                env,
                clear_env,
                cgroup,
                timeout_secs,
            } => {
                let files = match cgroup {
                    Some(name) => cgroups::procs_files(&work, name)?,
                    None => Vec::new(),
                };
                let limit = std::time::Duration::from_secs(*timeout_secs);
                run_program(argv, env, *clear_env, &files, limit, trace)
            }
            Op::Exit { code } => self.exit(*code, trace),
            Op::Members => Ok(Value::Members(self.member_list())),

            // Cgroups.
            Op::CgroupCreate { name } => cgroups::create(&work, name, &mut self.journal, trace),
            Op::CgroupLimit {
                name,
                memory_max,
                swap_off,
                pids_max,
            } => cgroups::limit(&work, name, *memory_max, *swap_off, *pids_max, trace),
            Op::LabCgroupCreate { name } => ns_ops::cgroup_create(name, trace, &mut self.journal),
            Op::CgroupAdd { name, pid } => ns_ops::cgroup_add(name, *pid, trace),

            // Roots.
            Op::Chroot { path } => chroot::chroot(path, trace),
            Op::Chdir { path } => chroot::chdir(path, trace),
            Op::PivotRoot { new_root, put_old } => chroot::pivot_root(new_root, put_old, trace),
            Op::Rootfs { dest } => chroot::copy_rootfs(dest, &work, trace),

            // Credentials and capabilities.
            Op::SetIds { uid, gid } => privs::set_ids(*uid, *gid, trace),
            Op::CopyFile { from, to } => privs::copy_file(from, to, &work, trace),
            Op::Chown { path, uid, gid } => privs::chown(path, *uid, *gid, &work, trace),
            Op::SetFileCaps {
                path,
                caps,
                effective,
            } => privs::set_file_caps(path, caps, *effective, &work, trace),
            Op::BsetDrop { caps } => privs::bset_drop(caps, trace),
            Op::CapProfile { caps } => privs::apply_profile(caps, trace),
            Op::NoNewPrivs => privs::no_new_privs(trace),

            // Images: host file work by the holder, under the work directory only.
            Op::ImageBuild { dir, recipe, from } => {
                policy::work_file(dir, &work)?;
                image_ops::image_build(dir, *recipe, from.as_deref(), trace)
            }
            Op::LayerUnpack {
                image,
                layer,
                target,
                keep_whiteouts,
            } => {
                policy::work_file(target, &work)?;
                image_ops::unpack(image, *layer, target, *keep_whiteouts, trace)
            }
            Op::VerifyBlobs { dir } => image_ops::verify(dir, trace),

            // Network links.
            Op::CreateVeth { host, peer } => {
                ns_ops::create_veth(host, peer, trace, &mut self.journal)
            }
            Op::MoveLink { name, pid } => ns_ops::move_link(name, *pid, trace, &self.journal),
            Op::AddAddress { dev, cidr } => ns_ops::add_address(dev, cidr, trace, &self.journal),
            Op::SetLinkUp { dev } => ns_ops::set_link_up(dev, trace, &self.journal),
            Op::AddDefaultRoute { via } => ns_ops::add_default_route(via, trace),

            // IPC objects.
            Op::ShmCreate { key, size } => {
                ns_ops::shm_create(*key, *size, trace, &mut self.journal)
            }
            Op::ShmWrite { key, text } => ns_ops::shm_write(*key, text, trace),
            Op::ShmRead { key } => ns_ops::shm_read(*key),
            Op::MqOpen { name, create } => ns_ops::mq_open(name, *create, trace, &mut self.journal),
        }
    }
}
