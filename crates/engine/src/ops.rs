//! The engine's vocabulary: what a front end can ask a sandbox process to do, and what it answers.
//!
//! Requests travel as one JSON object per line to the sandbox's agent process (see
//! [`crate::agent`]), which makes the syscalls and answers with the [`Reply`]: the value,
//! or the kernel's error, and always the trace of every call it made.

use super::namespaces::Namespace;
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
        )
    }
}

/// What a request carries over the wire: which process runs it, and the op.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Request {
    pub target: String,
    pub op: Op,
}

/// The life of one process the sandbox started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum Life {
    Running,
    Exited { code: i32 },
    Killed { signal: String },
}

impl std::fmt::Display for Life {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Life::Running => write!(f, "running"),
            Life::Exited { code } => write!(f, "exited with status {code}"),
            Life::Killed { signal } => write!(f, "killed by {signal}"),
        }
    }
}

/// One process of the sandbox, as the holder knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub name: String,
    /// Its PID as the host sees it.
    pub pid: i32,
    pub life: Life,
}

/// What lstat(2) says about a file, as the caller's mount and user namespaces show it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileStat {
    /// Its type in words: `directory`, `regular file`, `char device 1:3`, ... A 0:0 character
    /// device is named `whiteout`, as overlayfs reads it.
    pub kind: String,
    /// The device the file is on (st_dev): an overlay mount has its own.
    pub dev_major: u32,
    pub dev_minor: u32,
    pub inode: u64,
    /// Its owner as the caller's user namespace maps it (65534, the overflow id, for an owner
    /// that has no mapping there).
    pub uid: u32,
    pub gid: u32,
}

impl FileStat {
    /// `major:minor`, as `stat -c %Hd:%Ld` prints it.
    pub fn device(&self) -> String {
        format!("{}:{}", self.dev_major, self.dev_minor)
    }

    /// `uid:gid`.
    pub fn owner(&self) -> String {
        format!("{}:{}", self.uid, self.gid)
    }
}

/// A successful answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum Value {
    Done,
    Pid(i32),
    Text(String),
    /// The names in a directory.
    Entries(Vec<String>),
    Stat(FileStat),
    /// The directories layers were unpacked into, in manifest order.
    Layers(Vec<std::path::PathBuf>),
    Finished {
        life: Life,
        stdout: String,
        stderr: String,
    },
    Members(Vec<Member>),
}

/// A failed answer: the kernel's errno (when there is one) and a sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpError {
    pub errno: Option<String>,
    pub message: String,
}

impl std::fmt::Display for OpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.errno {
            Some(e) => write!(f, "{} ({e})", self.message),
            None => write!(f, "{}", self.message),
        }
    }
}

impl From<nix::Error> for OpError {
    fn from(e: nix::Error) -> Self {
        OpError {
            errno: Some(containerlab_trace::errno_name(e)),
            message: e.desc().to_string(),
        }
    }
}

impl From<std::io::Error> for OpError {
    fn from(e: std::io::Error) -> Self {
        match e.raw_os_error() {
            Some(code) => nix::Error::from_raw(code).into(),
            None => OpError {
                errno: None,
                message: e.to_string(),
            },
        }
    }
}

impl OpError {
    pub fn msg(message: impl Into<String>) -> Self {
        OpError {
            errno: None,
            message: message.into(),
        }
    }
}

/// The whole answer to one request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reply {
    pub trace: Trace,
    pub result: Result<Value, OpError>,
}
