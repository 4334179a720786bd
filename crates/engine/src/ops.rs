//! Every operation a front end can ask a sandbox process to do, what it carries, and — matched
//! once, in [`Agent::dispatch`] — which kernel calls it becomes.
//!
//! Requests travel as one JSON object per line to the sandbox's agent process (see
//! [`crate::agent`]), which makes the calls and answers with the [`Reply`] ([`super::reply`]):
//! the value, or the kernel's error, and always the trace of every call it made.
//!
//! The dispatch is a single `match` with no catch-all arm, so a new variant of [`Op`] does not
//! compile until it is given its calls. Most ops are a few syscalls with no state
//! ([`super::interpret`] on the [`super::syscalls::Syscalls`] trait, [`super::ns_ops`],
//! [`super::privs`], ...); starting, stopping and listing processes needs what the agent
//! remembers of its members.

use super::agent::{run_program, Agent};
use super::interpret::Interpreter;
use super::namespaces::Namespace;
pub use super::reply::{FileStat, Life, Member, OpError, Reply, Request, Value};
use super::syscalls::LiveKernel;
use super::{cgroups, chroot, device_mount, image_ops, json_log, ns_ops, policy, privs, seccomp};
use containerlab_trace::Trace;
use serde::{Deserialize, Serialize};

/// Mount propagation, as `mount --make-*` sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Propagation {
    Private,
    Shared,
    Slave,
    Unbindable,
}

/// The flags a lesson may pass to mount(2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MountFlag {
    Bind,
    Rec,
    Rdonly,
    Nosuid,
    Nodev,
    Noexec,
    Remount,
}

/// One operation, run by one process of the sandbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// unshare(2): move this process into new namespaces.
    Unshare { namespaces: Vec<Namespace> },
    /// setns(2): join the namespaces of another process of the sandbox.
    Join {
        pid: i32,
        namespaces: Vec<Namespace>,
    },
    /// sethostname(2) in this process's UTS namespace.
    SetHostname { name: String },
    /// mount(NULL, path, NULL, MS_REC?|MS_<propagation>, NULL).
    SetPropagation {
        path: String,
        propagation: Propagation,
        recursive: bool,
    },
    /// mount(2) of any filesystem, or a bind mount.
    Mount {
        source: String,
        target: String,
        fstype: Option<String>,
        flags: Vec<MountFlag>,
        data: Option<String>,
    },
    /// umount2(2).
    Umount { target: String, detach: bool },
    /// mkdir(2), with parents; `host_visible` journals it so teardown removes it.
    Mkdir { path: String },
    /// Write a file (uid_map, cgroup files, sysctl), as `echo CONTENT > PATH` would.
    WriteFile { path: String, content: String },
    /// fork(2) a new agent process; the holder keeps a channel to it under `name`. With
    /// `namespaces`, clone(2) with those CLONE_NEW* flags instead: the child starts in new
    /// namespaces while its parent stays where it is (how runtimes start a container's init).
    Spawn {
        name: String,
        #[serde(default)]
        namespaces: Vec<Namespace>,
    },
    /// Publish a port (`docker run -p`): listen on `listen` (`a.b.c.d:port`) in this process's
    /// network namespace and start a proxy process, named `name`, that copies each connection
    /// to `to`. The holder only.
    Publish {
        name: String,
        listen: String,
        to: String,
    },
    /// Run a program to completion in this process's namespaces (fork + execve + wait).
    Run {
        argv: Vec<String>,
        #[serde(default)]
        env: Vec<(String, String)>,
        /// Start from an empty environment: only `env` is set.
        #[serde(default)]
        clear_env: bool,
        /// A lab cgroup the child writes its own pid into (cgroup.procs) before execve.
        #[serde(default)]
        cgroup: Option<String>,
        /// Seconds the program may run; past them its process group is killed and the run fails
        /// with ETIMEDOUT, so a workload that never ends cannot hang the lesson.
        timeout_secs: u64,
    },
    /// exit(2) this process (an agent that is not the holder).
    Exit { code: i32 },
    /// SIGTERM to the proxy of a published port, waited for (the holder only).
    Unpublish { name: String },
    /// uname(2): this process's hostname. Read-only.
    Hostname,
    /// List a directory as this process sees it (its root and mount namespace). Read-only.
    ReadDir { path: String },
    /// Read a file as this process sees it. Read-only.
    ReadFile { path: String },
    /// What became of every process this holder started. Read-only.
    Members,
    /// mkdir a lab cgroup (`containerlab/<session>-<name>`) in every hierarchy.
    CgroupCreate { name: String },
    /// Write a lab cgroup's limits: memory, swap off, pids.
    CgroupLimit {
        name: String,
        memory_max: Option<u64>,
        swap_off: bool,
        pids_max: Option<u64>,
        /// (quota, period) in microseconds: v2 `cpu.max`, v1 `cpu.cfs_quota_us`/`cfs_period_us`.
        #[serde(default)]
        cpu_max: Option<(u64, u64)>,
    },
    /// chroot(2).
    Chroot { path: String },
    /// chdir(2).
    Chdir { path: String },
    /// pivot_root(2).
    PivotRoot { new_root: String, put_old: String },
    /// Copy (or build) the lab's rootfs into `dest` (under the session's work dir).
    Rootfs { dest: String },
    /// setgroups(0, []), setresgid, setresuid: become another user, with no extra groups. Then
    /// PR_SET_DUMPABLE and the parent-death signal, which the change of ids cleared, are set again.
    SetIds { uid: u32, gid: u32 },
    /// lchown(2) a path under the work dir.
    Chown { path: String, uid: u32, gid: u32 },
    /// chmod(2) a path under the work dir.
    Chmod { path: String, mode: u32 },
    /// Copy a file to a path under the work dir (content and mode, no xattrs).
    CopyFile { from: String, to: String },
    /// Write (or, with no caps, remove) a file's `security.capability` xattr (v2).
    SetFileCaps {
        path: String,
        caps: Vec<String>,
        effective: bool,
    },
    /// prctl(PR_CAPBSET_DROP) for each capability.
    BsetDrop { caps: Vec<String> },
    /// Bounding set cut to `caps`, then permitted/effective/inheritable = `caps`.
    CapProfile { caps: Vec<String> },
    /// prctl(PR_SET_NO_NEW_PRIVS, 1).
    NoNewPrivs,
    /// seccomp(2): the lab's subset of Docker's default profile ([`super::seccomp`]).
    Seccomp,
    /// A block device mounted read-only from its first moment (fsopen, fsmount with
    /// MOUNT_ATTR_RDONLY, move_mount): `--privileged` reading the host's disk.
    MountDeviceReadonly {
        source: String,
        target: String,
        fstype: String,
    },
    /// Host file work by the holder: write an OCI image layout into `dir`, built from `recipe`,
    /// or copied from the layout (directory or `.tar`) the learner gave with `--image`.
    ImageBuild {
        dir: String,
        recipe: ImageRecipe,
        #[serde(default)]
        from: Option<String>,
    },
    /// Host file work by the holder: unpack layer `layer` (1-based, manifest order; `None` =
    /// every layer) of the layout `image` into `target/N`, whiteouts as overlayfs wants them
    /// (`keep_whiteouts` leaves the tar's `.wh.` files as they are).
    LayerUnpack {
        image: String,
        layer: Option<usize>,
        target: String,
        keep_whiteouts: bool,
    },
    /// Host file work by the holder: recompute the sha256 of every blob the layout refers to.
    VerifyBlobs { dir: String },
    /// Host file work by the holder: publish the layout `image` as `repository:tag` under
    /// `root`, laid out as the distribution API's paths (`v2/NAME/manifests/TAG`,
    /// `v2/NAME/blobs/DIGEST`) for a static web server; `tamper` flips one bit of the top
    /// layer's blob after the manifest named it.
    RegistryPush {
        image: String,
        root: String,
        repository: String,
        tag: String,
        tamper: bool,
    },
    /// A container's process run with its standard output and error on pipes, a collector
    /// writing each line to `dir/NAME-json.log` as Docker's json-file log driver does
    /// (`{"log":"…\n","stream":"stdout","time":"…"}`); NAME is `dir`'s last component.
    RunLogged {
        argv: Vec<String>,
        dir: String,
        timeout_secs: u64,
    },
    /// `rm -r` of a directory under the work dir (`docker rm` removing a container's directory).
    RemoveDir { path: String },
    /// `docker pull`: HTTP GETs to the registry at `registry` (a loopback `address:port`, from a
    /// network namespace the lesson made), every blob verified, into the image store `store`.
    ImagePull {
        registry: String,
        repository: String,
        tag: String,
        store: String,
    },
    /// open(O_WRONLY|O_CREAT|O_TRUNC) + write(2): what the shell's `echo CONTENT > PATH` does.
    CreateFile { path: String, content: String },
    /// unlink(2).
    Unlink { path: String },
    /// lstat(2) as this process sees the path: a [`FileStat`]. Read-only.
    Stat { path: String },
    /// `ip link add HOST type veth peer name PEER` in this process's network namespace.
    CreateVeth { host: String, peer: String },
    /// `ip link set NAME netns PID`.
    MoveLink { name: String, pid: i32 },
    /// `ip addr add CIDR dev DEV`.
    AddAddress { dev: String, cidr: String },
    /// `ip link add NAME type bridge` in this process's network namespace.
    CreateBridge { name: String },
    /// `ip link set DEV master BRIDGE`.
    SetMaster { dev: String, master: String },
    /// `nft -f -` with this ruleset, only in a network namespace the lesson made.
    Nft { ruleset: String },
    /// `ip link set DEV up` (in the host's network namespace: only a link this session made).
    SetLinkUp { dev: String },
    /// `ip route add default via VIA`.
    AddDefaultRoute { via: String },
    /// open(2) a file for reading (and close it): may the caller read it?
    Open { path: String },
    /// shmget(key, size, IPC_CREAT|IPC_EXCL|0600): a System V shared memory segment.
    ShmCreate { key: i32, size: usize },
    /// shmat + copy `text` into the segment with this key + shmdt.
    ShmWrite { key: i32, text: String },
    /// The text in the segment with this key (up to the first NUL). Read-only.
    ShmRead { key: i32 },
    /// mq_open(2) a POSIX message queue (creating it with O_CREAT|O_EXCL when `create`).
    MqOpen { name: String, create: bool },
    /// Make a lab cgroup `containerlab/NAME` in every hierarchy (cgroup crate).
    LabCgroupCreate { name: String },
    /// Move process `pid` into the lab cgroup `NAME`.
    CgroupAdd { name: String, pid: i32 },
    /// Mount the cgroup hierarchy the lab cgroup lives in (cgroup2, or v1 memory) at `target`.
    MountCgroup { target: String },
    /// socket + bind + listen on `address` (`a.b.c.d:port`), then close: may this process
    /// serve on that port?
    Bind { address: String },
    /// clock_gettime(2) of `clock` in this process (its time namespace): `SECONDS.NANOS`.
    /// Read-only.
    ReadClock { clock: Clock },
}

/// The clocks [`Op::ReadClock`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Clock {
    Monotonic,
    Boottime,
    Realtime,
}

/// Which image [`Op::ImageBuild`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageRecipe {
    /// The article's four Dockerfile lines on the busybox rootfs (or the `--image` layout).
    Example,
    /// The example's three lines after FROM, without the base layer.
    ExampleApp,
    /// Like `ExampleApp`, with different content for the COPYed file.
    ExampleAppEdited,
    /// The registry lesson's app on the busybox base.
    AppSmall,
    /// The same app on busybox plus a layer of stand-ins for a distribution's packages.
    AppLarge,
}

impl Op {
    /// Read-only questions, whose calls are not part of what a step "did".
    pub fn is_query(&self) -> bool {
        matches!(
            self,
            Op::Hostname
                | Op::ReadDir { .. }
                | Op::ReadFile { .. }
                | Op::Members
                | Op::Stat { .. }
                | Op::ShmRead { .. }
                | Op::ReadClock { .. }
        )
    }
}

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
                run_program(argv, env, *clear_env, &files, limit, trace, None)
            }
            Op::RunLogged {
                argv,
                dir,
                timeout_secs,
            } => {
                policy::work_file(dir, &work)?;
                let mut collector = json_log::Collector::create(std::path::Path::new(dir), trace)?;
                let limit = std::time::Duration::from_secs(*timeout_secs);
                run_program(argv, &[], false, &[], limit, trace, Some(&mut collector))
            }
            Op::RemoveDir { path } => {
                policy::work_file(path, &work)?;
                json_log::remove_dir(path, trace)
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
                cpu_max,
            } => cgroups::limit(
                &work,
                name,
                *memory_max,
                *swap_off,
                *pids_max,
                *cpu_max,
                trace,
            ),
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
            Op::Chmod { path, mode } => privs::chmod(path, *mode, &work, trace),
            Op::SetFileCaps {
                path,
                caps,
                effective,
            } => privs::set_file_caps(path, caps, *effective, &work, trace),
            Op::BsetDrop { caps } => privs::bset_drop(caps, trace),
            Op::CapProfile { caps } => privs::apply_profile(caps, trace),
            Op::NoNewPrivs => privs::no_new_privs(trace),
            Op::Seccomp => seccomp::install(trace),
            Op::MountDeviceReadonly {
                source,
                target,
                fstype,
            } => {
                policy::device_mount(source, target, &work, in_host_mnt_ns())?;
                device_mount::mount_readonly(source, target, fstype, trace)
            }

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
            Op::RegistryPush {
                image,
                root,
                repository,
                tag,
                tamper,
            } => {
                policy::work_file(root, &work)?;
                image_ops::registry_push(image, root, repository, tag, *tamper, trace)
            }
            Op::ImagePull {
                registry,
                repository,
                tag,
                store,
            } => {
                policy::work_file(store, &work)?;
                policy::registry_address(registry)?;
                image_ops::image_pull(registry, repository, tag, store, trace)
            }

            // Network links.
            Op::CreateVeth { host, peer } => {
                ns_ops::create_veth(host, peer, trace, &mut self.journal)
            }
            Op::MoveLink { name, pid } => ns_ops::move_link(name, *pid, trace, &self.journal),
            Op::AddAddress { dev, cidr } => ns_ops::add_address(dev, cidr, trace, &self.journal),
            Op::CreateBridge { name } => ns_ops::create_bridge(name, trace, &mut self.journal),
            Op::SetMaster { dev, master } => ns_ops::set_master(dev, master, trace, &self.journal),
            Op::Nft { ruleset } => super::firewall::apply(ruleset, trace),
            Op::SetLinkUp { dev } => ns_ops::set_link_up(dev, trace, &self.journal),
            Op::AddDefaultRoute { via } => ns_ops::add_default_route(via, trace),
            Op::Bind { address } => ns_ops::bind(address, trace),
            Op::ReadClock { clock } => ns_ops::read_clock(*clock),

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
