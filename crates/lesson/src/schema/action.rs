//! Actions: what the engine does in a step, each written as a one-key map
//! (`- sethostname: {name: lab}`), and the names they take from closed sets.

use super::{holder, Who};
use serde::Deserialize;

/// Defines [`Action`] and its `common` and `name` methods from one table of
/// `Variant = "yaml_name" (FieldsStruct)`, so adding an action is one line and the three can
/// never disagree (the yaml name is both serde's name and what `name()` returns).
macro_rules! actions {
    ($(#[$m:meta])* pub enum Action { $($(#[$vm:meta])* $variant:ident = $yaml:literal ($ty:ty)),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Deserialize)]
        pub enum Action {
            $($(#[$vm])* #[serde(rename = $yaml)] $variant($ty),)*
        }

        impl Action {
            /// The fields every action shares.
            pub fn common(&self) -> Common {
                match self {
                    $(Action::$variant(a) => Common {
                        process: a.process.clone(),
                        id: a.id.clone(),
                        expect_error: a.expect_error.clone(),
                        unchecked: a.unchecked.clone(),
                    },)*
                }
            }

            /// The action's name as written in lesson files.
            pub fn name(&self) -> &'static str {
                match self {
                    $(Action::$variant(_) => $yaml,)*
                }
            }
        }
    };
}

actions! {
    /// One engine action. Written as a one-key map: `- sethostname: {name: lab}`.
    /// Every action takes `in` (which process runs it; default `sandbox`), an optional `id` (so a
    /// check can look at its result), `expect_error` (an errno such as `ENOENT` when the
    /// failure is the point of the step) and `unchecked` (why no check observes its effect).
    pub enum Action {
        /// unshare(2).
        Unshare = "unshare" (Unshare),
        /// setns(2) into another sandbox process's namespaces.
        Join = "join" (Join),
        /// sethostname(2).
        Sethostname = "sethostname" (Sethostname),
        /// Change mount propagation (`mount --make-rprivate /`).
        Propagation = "propagation" (PropagationAction),
        /// mount(2): a filesystem, or a bind mount with `flags: [bind]`.
        Mount = "mount" (MountAction),
        /// umount2(2).
        Umount = "umount" (UmountAction),
        /// mkdir -p.
        Mkdir = "mkdir" (PathAction),
        /// Write text into a file (`echo TEXT > PATH`).
        WriteFile = "write_file" (WriteFileAction),
        /// fork(2) a new sandbox process that takes requests under `name`.
        Spawn = "spawn" (Spawn),
        /// A spawned process exits.
        Exit = "exit" (ExitAction),
        /// Publish a port, like `docker run -p 8080:80`: the holder listens on `listen` in its network
        /// namespace and starts a proxy process (named `name`, observable like a spawned one) that
        /// copies each connection to `to`.
        Publish = "publish" (PublishAction),
        /// Take a published port down, as Docker does when the container stops: the proxy `name`
        /// gets SIGTERM and is waited for, and the host port is free again.
        Unpublish = "unpublish" (UnpublishAction),
        /// Run a program to completion (fork, execve, wait).
        Run = "run" (RunAction),
        /// Make a lab cgroup (mkdir in every hierarchy).
        CgroupCreate = "cgroup_create" (CgroupCreateAction),
        /// Set a lab cgroup's limits.
        CgroupLimit = "cgroup_limit" (CgroupLimitAction),
        /// chroot(2).
        Chroot = "chroot" (PathAction),
        /// chdir(2).
        Chdir = "chdir" (PathAction),
        /// pivot_root(2).
        PivotRoot = "pivot_root" (PivotRootAction),
        /// Copy the lab's root filesystem (busybox, or `--rootfs`) to a directory under `{work}`.
        Rootfs = "rootfs" (PathAction),
        /// Become an ordinary user: setgroups([]), setresgid, setresuid.
        Setuid = "setuid" (SetuidAction),
        /// Bring a network interface up (only in a network namespace the lesson made).
        LinkUp = "link_up" (LinkUpAction),
        /// Copy a file (content and mode, not its extended attributes) to a path under `{work}`.
        CopyFile = "copy_file" (CopyFileAction),
        /// Give a path under `{work}` another owner (`chown -h UID:GID PATH`): a container's upper
        /// directory must belong to the uid its root is mapped to.
        Chown = "chown" (ChownAction),
        /// Change a path's permission bits (`chmod 600 PATH`); `mode` is octal text (`"0600"`).
        /// Only under `{work}`.
        Chmod = "chmod" (ChmodAction),
        /// Write a file capability (`security.capability`, v2), like `setcap cap_net_raw+ep FILE`;
        /// an empty list removes it. Only under `{work}`.
        SetFileCaps = "set_file_caps" (SetFileCapsAction),
        /// Drop capabilities from the bounding set (prctl PR_CAPBSET_DROP).
        BsetDrop = "bset_drop" (CapsAction),
        /// A capability profile (Docker's default, say): bounding, permitted, effective and
        /// inheritable sets become exactly this list.
        CapProfile = "cap_profile" (CapProfileAction),
        /// prctl(PR_SET_NO_NEW_PRIVS, 1).
        NoNewPrivs = "no_new_privs" (NoArgs),
        /// seccomp(2): the lab's subset of Docker's default seccomp profile (the syscalls that
        /// profile refuses to a container with Docker's default capabilities fail with EPERM).
        Seccomp = "seccomp" (NoArgs),
        /// Mount a block device read-only from its first moment (fsopen, fsmount with
        /// MOUNT_ATTR_RDONLY, move_mount); only in a mount namespace of the lesson's own, on a
        /// path under `{work}`.
        MountDeviceReadonly = "mount_device_readonly" (MountDeviceAction),
        /// Write an OCI image layout into `dir` (host file work): the article's example image, or
        /// with `recipe`, a part of it. `containerlab run lesson ID --image PATH` makes the
        /// `example` recipe copy the learner's own layout instead.
        ImageBuild = "image_build" (ImageBuildAction),
        /// Unpack layer `layer` (1-based, bottom first; all layers when omitted) of the layout
        /// `image` into `target/N`, one directory per layer (host file work).
        LayerUnpack = "layer_unpack" (LayerUnpackAction),
        /// Recompute the sha256 of every blob a layout refers to; fails on a mismatch.
        VerifyBlobs = "verify_blobs" (VerifyBlobsAction),
        /// Publish the layout `image` as `repository:tag` in the registry directory `root`
        /// (host file work), laid out as the distribution API's paths for a static web server.
        RegistryPush = "registry_push" (RegistryPushAction),
        /// `docker pull` from the lab's registry at `registry` (loopback, in a network
        /// namespace the lesson made), every blob verified, into the image store `store`.
        ImagePull = "image_pull" (ImagePullAction),
        /// Run a container's process with its standard output and error on pipes, each line
        /// written by a collector to `dir/NAME-json.log` as Docker's json-file driver does.
        RunLogged = "run_logged" (RunLoggedAction),
        /// `rm -r` of a directory under the work dir (`docker rm` removing a container's).
        RemoveDir = "remove_dir" (PathAction),
        /// Create or replace a file (`echo CONTENT > PATH`): open(O_CREAT|O_TRUNC) + write.
        CreateFile = "create_file" (WriteFileAction),
        /// unlink(2) (`rm PATH`).
        Unlink = "unlink" (PathAction),
        /// `ip link add HOST type veth peer name PEER`.
        CreateVeth = "create_veth" (CreateVethAction),
        /// `ip link set DEV netns PID`: move a link into a sandbox process's network namespace.
        MoveLink = "move_link" (MoveLinkAction),
        /// `ip addr add ADDRESS/PREFIX dev DEV`.
        AddAddress = "add_address" (AddAddressAction),
        /// `ip link set DEV up`.
        SetLinkUp = "set_link_up" (SetLinkUpAction),
        /// `ip link add NAME type bridge`: a virtual switch, like docker0.
        CreateBridge = "create_bridge" (CreateBridgeAction),
        /// `ip link set DEV master BRIDGE`: plug a link into a bridge.
        SetMaster = "set_master" (SetMasterAction),
        /// `nft -f -`: load an nftables ruleset, only in a network namespace the lesson made.
        Nft = "nft" (NftAction),
        /// `ip route add default via VIA`.
        DefaultRoute = "default_route" (DefaultRouteAction),
        /// setgroups([]), setresgid, setresuid: the process becomes another user (all its ids).
        SwitchUser = "switch_user" (SwitchUserAction),
        /// open(2) a file for reading: whether the kernel lets this process read it.
        ReadFile = "read_file" (PathAction),
        /// shmget(2) with IPC_CREAT|IPC_EXCL: a new System V shared memory segment.
        ShmCreate = "shm_create" (ShmCreateAction),
        /// Attach the segment with this key and write text into it.
        ShmWrite = "shm_write" (ShmWriteAction),
        /// mq_open(3) a POSIX message queue, creating it with `create: true`.
        MqOpen = "mq_open" (MqOpenAction),
        /// Make the lab cgroup `containerlab/NAME` (in every hierarchy on cgroup v1).
        LabCgroupCreate = "lab_cgroup_create" (LabCgroupCreateAction),
        /// Move a sandbox process into a lab cgroup (write its pid to cgroup.procs).
        CgroupAdd = "cgroup_add" (CgroupAddAction),
        /// Mount the cgroup hierarchy the lab cgroup lives in (cgroup2, or v1 `memory`) at `target`.
        MountCgroup = "mount_cgroup" (MountCgroupAction),
        /// socket(AF_INET, SOCK_STREAM) + bind(2) + listen(2) on `a.b.c.d:port`, closed again:
        /// may this process serve on that port?
        Bind = "bind" (BindAction),
    }
}

/// The fields of every action struct; `action_struct!` writes them into each one because serde's
/// `flatten` cannot be combined with `deny_unknown_fields`.
macro_rules! action_struct {
    ($(#[$m:meta])* $name:ident { $($(#[$fm:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            #[serde(rename = "in", default = "holder")]
            pub process: Who,
            #[serde(default)]
            pub id: Option<String>,
            #[serde(default)]
            pub expect_error: Option<String>,
            /// Why no check observes what this action does (the mutation test, tests/mutation.rs,
            /// drops each action in turn and requires a check to fail; an action whose effect is
            /// deliberately not checked says why here instead).
            #[serde(default)]
            pub unchecked: Option<String>,
            $($(#[$fm])* pub $field: $ty,)*
        }
    };
}

closed_set! {
    /// The namespace kinds as lessons name them (the /proc/PID/ns file names) for `unshare`,
    /// `join` and `spawn`.
    pub enum NsName {
        Cgroup = "cgroup",
        Ipc = "ipc",
        Mnt = "mnt",
        Net = "net",
        Pid = "pid",
        Time = "time",
        User = "user",
        Uts = "uts",
    }
}

closed_set! {
    /// Mount propagation, as `mount --make-*` sets it.
    pub enum Propagation {
        Private = "private",
        Shared = "shared",
        Slave = "slave",
        Unbindable = "unbindable",
    }
}

closed_set! {
    /// The flags a lesson may pass to mount(2).
    pub enum MountFlag {
        Bind = "bind",
        Rec = "rec",
        Rdonly = "rdonly",
        Nosuid = "nosuid",
        Nodev = "nodev",
        Noexec = "noexec",
        Remount = "remount",
    }
}

closed_set! {
    /// Which image `image_build` writes.
    pub enum ImageRecipe {
        /// The article's four Dockerfile lines on the busybox rootfs (or the `--image` layout).
        Example = "example",
        /// The example's three lines after FROM, without the base layer.
        ExampleApp = "example_app",
        /// Like `ExampleApp`, with different content for the COPYed file.
        ExampleAppEdited = "example_app_edited",
        /// The registry lesson's app (`/app/hello.sh`) on the busybox base, with labels.
        AppSmall = "app_small",
        /// The same app on busybox plus a layer of stand-ins for a distribution's packages.
        AppLarge = "app_large",
    }
}

action_struct!(
    /// The fields every action shares (see [`Action::common`]).
    #[derive(Default)]
    Common {}
);
action_struct!(Unshare { namespaces: Vec<NsName> });
action_struct!(Join {
    /// The process whose namespaces to join.
    target: Who,
    namespaces: Vec<NsName>
});
action_struct!(Sethostname { name: String });
action_struct!(PropagationAction {
    #[serde(default = "root_path")]
    path: String,
    propagation: Propagation,
    #[serde(default = "yes")]
    recursive: bool
});
action_struct!(MountAction {
    source: String,
    target: String,
    #[serde(default)]
    fstype: Option<String>,
    #[serde(default)]
    flags: Vec<MountFlag>,
    #[serde(default)]
    data: Option<String>
});
action_struct!(UmountAction {
    target: String,
    #[serde(default)]
    lazy: bool
});
action_struct!(PathAction { path: String });
action_struct!(WriteFileAction {
    path: String,
    content: String
});
action_struct!(Spawn {
    name: Who,
    /// Start the process in new namespaces (clone(2) with their CLONE_NEW* flags) instead of
    /// the spawner's: `[user, pid]` makes a process that is PID 1 of a PID namespace owned by
    /// its own new user namespace.
    #[serde(default)]
    namespaces: Vec<NsName>
});
action_struct!(PublishAction {
    /// The proxy process's name, for observations (`ns_inode: {of: NAME, ns: net}`).
    name: Who,
    /// `a.b.c.d:port` to listen on (`0.0.0.0:8080`).
    listen: String,
    /// `a.b.c.d:port` to forward to: the container's address and port.
    to: String
});
action_struct!(UnpublishAction {
    /// The proxy's name, as `publish` gave it.
    name: Who
});
action_struct!(ExitAction {
    #[serde(default)]
    code: i32
});
action_struct!(RunAction {
    /// The program and its arguments; `{work}`, `{exe}` and `{pid:NAME}` are replaced.
    argv: Vec<String>,
    /// Environment variables to set (in this order).
    #[serde(default)]
    env: Vec<EnvVar>,
    /// Start from an empty environment, as a runtime does from an image config.
    #[serde(default)]
    clear_env: bool,
    /// A cgroup made by `cgroup_create`: the child writes its pid into its cgroup.procs
    /// before execve.
    #[serde(default)]
    cgroup: Option<String>,
    /// Seconds the program may run (default [`super::DEFAULT_RUN_TIMEOUT_SECS`]); past them its
    /// process group is killed and the action fails with ETIMEDOUT.
    #[serde(default)]
    timeout_secs: Option<u64>
});
action_struct!(CgroupCreateAction { name: String });
action_struct!(CgroupLimitAction {
    name: String,
    /// memory.max (v2) / memory.limit_in_bytes (v1), in MiB.
    #[serde(default)]
    memory_max_mib: Option<u64>,
    /// No swap for the cgroup (v2 memory.swap.max = 0, v1 memory.swappiness = 0).
    #[serde(default)]
    swap_off: bool,
    #[serde(default)]
    pids_max: Option<u64>,
    /// CPU time the cgroup may use per period, in microseconds: `cpu.max` (v2) or
    /// `cpu.cfs_quota_us` (v1).
    #[serde(default)]
    cpu_quota_usec: Option<u64>,
    /// The period that quota is counted over (default 100000 µs, the kernel's own default).
    #[serde(default)]
    cpu_period_usec: Option<u64>
});
action_struct!(SetuidAction { uid: u32, gid: u32 });
action_struct!(LinkUpAction { name: String });
action_struct!(ChownAction {
    path: String,
    uid: u32,
    gid: u32
});
action_struct!(ChmodAction {
    path: String,
    /// Octal, as `chmod` takes it: `"0600"`.
    mode: String
});
action_struct!(CopyFileAction {
    from: String,
    to: String
});
action_struct!(SetFileCapsAction {
    path: String,
    caps: Vec<String>,
    #[serde(default = "yes")]
    effective: bool
});
action_struct!(CapsAction { caps: Vec<String> });
action_struct!(CapProfileAction {
    /// A runtime's list to start from (`docker`: Docker's default capabilities).
    #[serde(default)]
    base: Option<CapBase>,
    /// Capabilities in the profile besides the base's (`docker run --cap-add`), or all of them
    /// when there is no base.
    #[serde(default)]
    caps: Vec<String>
});
action_struct!(BindAction {
    /// `a.b.c.d:port`.
    address: String
});

closed_set! {
    /// A runtime's default capability list that `cap_profile` can start from.
    pub enum CapBase {
        /// Docker's (moby's `oci/caps/defaults.go`).
        Docker = "docker",
    }
}

/// Docker's default capabilities for a container's process (moby `oci/caps/defaults.go`,
/// `DefaultCapabilities`): the list `cap_profile: {base: docker}` applies.
pub const DOCKER_DEFAULT_CAPS: [&str; 14] = [
    "cap_chown",
    "cap_dac_override",
    "cap_fsetid",
    "cap_fowner",
    "cap_mknod",
    "cap_net_raw",
    "cap_setgid",
    "cap_setuid",
    "cap_setfcap",
    "cap_setpcap",
    "cap_net_bind_service",
    "cap_sys_chroot",
    "cap_kill",
    "cap_audit_write",
];

impl CapProfileAction {
    /// Every capability of the profile: the base's list, then `caps` (each once).
    pub fn all_caps(&self) -> Vec<String> {
        let base: &[&str] = match self.base {
            Some(CapBase::Docker) => &DOCKER_DEFAULT_CAPS,
            None => &[],
        };
        let mut out: Vec<String> = base.iter().map(|c| c.to_string()).collect();
        for c in &self.caps {
            if !out.contains(c) {
                out.push(c.clone());
            }
        }
        out
    }
}
action_struct!(NoArgs {});
action_struct!(MountDeviceAction {
    source: String,
    target: String,
    fstype: String
});
action_struct!(PivotRootAction {
    new_root: String,
    put_old: String
});

/// One environment variable for `run`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvVar {
    pub name: String,
    pub value: String,
}

action_struct!(ImageBuildAction {
    dir: String,
    #[serde(default = "example_recipe")]
    recipe: ImageRecipe
});
action_struct!(LayerUnpackAction {
    image: String,
    #[serde(default)]
    layer: Option<usize>,
    target: String,
    /// Leave the tar's `.wh.NAME` files as they are instead of making overlay whiteouts.
    #[serde(default)]
    keep_whiteouts: bool
});
action_struct!(VerifyBlobsAction { dir: String });
action_struct!(RegistryPushAction {
    image: String,
    root: String,
    repository: String,
    tag: String,
    /// Flip one bit of the top layer's blob after the manifest named it.
    #[serde(default)]
    tamper: bool
});
action_struct!(RunLoggedAction {
    /// The program and its arguments.
    argv: Vec<String>,
    /// The container's directory (`/var/lib/docker/containers/ID`); its last component names
    /// the log, `ID-json.log`.
    dir: String,
    /// Seconds the program may run (default [`super::DEFAULT_RUN_TIMEOUT_SECS`]).
    #[serde(default)]
    timeout_secs: Option<u64>
});
action_struct!(ImagePullAction {
    /// `127.0.0.1:PORT`: the lab's registry in the lesson's network namespace.
    registry: String,
    repository: String,
    tag: String,
    store: String
});

fn example_recipe() -> ImageRecipe {
    ImageRecipe::Example
}

action_struct!(CreateVethAction {
    host: String,
    peer: String
});
action_struct!(MoveLinkAction {
    dev: String,
    /// The sandbox process whose network namespace receives the link.
    to: Who
});
action_struct!(AddAddressAction {
    dev: String,
    /// `a.b.c.d/prefix`.
    address: String
});
action_struct!(SetLinkUpAction { dev: String });
action_struct!(CreateBridgeAction { name: String });
action_struct!(SetMasterAction {
    dev: String,
    master: String
});
action_struct!(NftAction {
    /// The ruleset in nft's own syntax, as `nft -f FILE` reads it.
    ruleset: String
});
action_struct!(DefaultRouteAction { via: String });
action_struct!(SwitchUserAction { uid: u32, gid: u32 });
action_struct!(ShmCreateAction {
    /// The IPC key, a number (placeholders allowed: `{pid:sandbox}`).
    key: String,
    #[serde(default = "page")]
    size: usize
});
action_struct!(ShmWriteAction {
    key: String,
    text: String
});
action_struct!(MqOpenAction {
    /// `/name`.
    name: String,
    #[serde(default)]
    create: bool
});
action_struct!(LabCgroupCreateAction { name: String });
action_struct!(CgroupAddAction {
    name: String,
    /// The sandbox process to move.
    member: Who
});
action_struct!(MountCgroupAction { target: String });

fn page() -> usize {
    4096
}

fn root_path() -> String {
    "/".into()
}

fn yes() -> bool {
    true
}
