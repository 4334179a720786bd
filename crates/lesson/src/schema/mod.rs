//! The lesson file format (version 1), as serde types. docs/lesson-format.md documents it for
//! authors; every struct here rejects unknown fields so a typo is an error with its location,
//! never a silently ignored key.

use super::text::Text;
use serde::Deserialize;

/// The format version this build reads.
pub const FORMAT_VERSION: u32 = 1;

/// The process of the sandbox that runs an action or is observed: `sandbox` (the holder, which
/// lives for the whole lesson), `host` (the lab's own process, outside every new namespace; only
/// for observations), or a name given to `spawn`.
pub type Who = String;

fn holder() -> Who {
    "sandbox".into()
}

/// A whole lesson file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lesson {
    /// Must be 1.
    pub format_version: u32,
    /// Short name used on the command line (`containerlab run lesson uts`): lower case, digits, `-`,
    /// starting with a letter (see [`super::validate::is_lesson_id`]).
    pub id: String,
    /// Orders lessons in lists; lower first.
    #[serde(default)]
    pub order: u32,
    pub title: Text,
    /// What the lesson is about, shown before the first step.
    pub intro: Text,
    /// Kernel features and tools the lesson needs; checked before anything runs.
    #[serde(default)]
    pub requires: Vec<Requirement>,
    pub steps: Vec<Step>,
    /// Shown after the last step.
    #[serde(default)]
    pub outro: Option<Text>,
    /// Values used in several places (addresses, a subnet), written once: every `{var:NAME}` in
    /// the file is replaced by the value before the lesson is read.
    #[serde(default)]
    pub vars: std::collections::BTreeMap<String, String>,
}

/// Something the machine must offer for a lesson to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Requirement {
    Root,
    UserNamespaces,
    CgroupMemory,
    CgroupPids,
    Overlayfs,
    Veth,
    Busybox,
    Ping,
    /// capsh (libcap2-bin), to compare the lab's decoding with.
    Capsh,
    /// ping carries cap_net_raw as a file capability (not setuid root).
    PingFileCapability,
    /// A process without privileges may create a user namespace (no sysctl or LSM forbids it).
    RootlessUserNamespaces,
}

impl Requirement {
    /// Every requirement, in the order `doctor` lists them.
    pub const ALL: [Requirement; 11] = [
        Requirement::Root,
        Requirement::UserNamespaces,
        Requirement::CgroupMemory,
        Requirement::CgroupPids,
        Requirement::Overlayfs,
        Requirement::Veth,
        Requirement::Busybox,
        Requirement::Ping,
        Requirement::Capsh,
        Requirement::PingFileCapability,
        Requirement::RootlessUserNamespaces,
    ];
}

/// One step: text to read, the command a person would type, what the lab does, what it shows,
/// and what it checks.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Unique within the lesson.
    pub id: String,
    pub title: Text,
    pub text: Text,
    /// The shell command a person would type to do this step by hand (`unshare --uts sh`).
    #[serde(default)]
    pub command: Option<CommandLine>,
    /// What the engine does, in order. The first failure stops the step (unless expected).
    #[serde(
        default,
        deserialize_with = "serde_yaml::with::singleton_map_recursive::deserialize"
    )]
    pub actions: Vec<Action>,
    /// Live views that matter for this step.
    #[serde(default)]
    pub views: Vec<View>,
    /// Claims about live state, verified after the actions (and after an exercise's solution).
    #[serde(default)]
    pub checks: Vec<Check>,
    /// Makes the step an exercise for the learner; its checks fail until it is solved.
    #[serde(default)]
    pub exercise: Option<Exercise>,
}

/// A live view beside the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum View {
    /// The lsns-style table, the lesson's own namespaces marked.
    Namespaces,
    /// /proc/PID/ns/* inodes of every sandbox process beside the host's.
    NsInodes,
    /// Selected /proc/PID/status fields (NSpid, Uid, Cap*) of every sandbox process.
    Status,
    /// Every sandbox process: name, host PID, PID inside, state.
    Processes,
    /// The sandbox's mount table, with its differences from the host's.
    Mounts,
    /// uid_map / gid_map / setgroups of every sandbox process.
    IdMaps,
    /// Capability sets decoded by name.
    Caps,
    /// /proc/PID/cgroup of every sandbox process.
    Cgroups,
    /// Links, addresses and routes (`ip -br link`, `ip -br addr`, `ip route`) of the host and of
    /// every sandbox process in a network namespace of its own.
    Net,
    /// The files of the cgroups this lesson made (limits, usage, events), as the driver names them.
    Cgroup,
    /// The OCI layout the lesson's last `image_build` (example recipe) wrote: index.json,
    /// manifest and config, key fields only (mediaType, digests, diff_ids, history).
    Image,
    /// What each unpacked layer directory holds (from the last `layer_unpack` of all layers).
    Layers,
}

/// An exercise: the learner does the step's work in the shell; hints get more specific.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exercise {
    /// What the learner is asked to do.
    pub task: Text,
    /// Shown one at a time, each more specific than the last.
    pub hints: Vec<Text>,
    /// A shell command that solves it, run in the namespaces of `in` (hidden until asked for).
    pub solution: Shell,
}

/// A shell command run inside a sandbox process's namespaces with `/bin/sh -c`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shell {
    #[serde(rename = "in", default = "holder")]
    pub process: Who,
    pub shell: String,
}

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
    /// check can look at its result), and `expect_error` (an errno such as `ENOENT` when the
    /// failure is the point of the step).
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
        /// Write a file capability (`security.capability`, v2), like `setcap cap_net_raw+ep FILE`;
        /// an empty list removes it. Only under `{work}`.
        SetFileCaps = "set_file_caps" (SetFileCapsAction),
        /// Drop capabilities from the bounding set (prctl PR_CAPBSET_DROP).
        BsetDrop = "bset_drop" (CapsAction),
        /// A capability profile (Docker's default, say): bounding, permitted, effective and
        /// inheritable sets become exactly this list.
        CapProfile = "cap_profile" (CapsAction),
        /// prctl(PR_SET_NO_NEW_PRIVS, 1).
        NoNewPrivs = "no_new_privs" (NoArgs),
        /// Write an OCI image layout into `dir` (host file work): the article's example image, or
        /// with `recipe`, a part of it. `containerlab run lesson ID --image PATH` makes the
        /// `example` recipe copy the learner's own layout instead.
        ImageBuild = "image_build" (ImageBuildAction),
        /// Unpack layer `layer` (1-based, bottom first; all layers when omitted) of the layout
        /// `image` into `target/N`, one directory per layer (host file work).
        LayerUnpack = "layer_unpack" (LayerUnpackAction),
        /// Recompute the sha256 of every blob a layout refers to; fails on a mismatch.
        VerifyBlobs = "verify_blobs" (VerifyBlobsAction),
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
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Common {
    #[serde(rename = "in", default = "holder")]
    pub process: Who,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub expect_error: Option<String>,
}

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
            $($(#[$fm])* pub $field: $ty,)*
        }
    };
}

/// An enum over a closed set of names, written once as `Variant = "name"` pairs: serde reads the
/// names (any other word is a parse error with its line, column and the allowed names), `ALL`
/// lists them in table order, and `as_str`/Display give the name back. Lesson files name these
/// sets themselves, so the format depends on no engine type.
macro_rules! closed_set {
    ($(#[$m:meta])* pub enum $name:ident { $($(#[$vm:meta])* $variant:ident = $text:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, serde::Serialize)]
        pub enum $name {
            $($(#[$vm])* #[serde(rename = $text)] $variant,)*
        }

        impl $name {
            /// Every name, in the order the table lists them.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The name as lesson files write it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
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
    /// A file under /proc/PID/ns/ that an observation reads: a namespace kind, or the
    /// `*_for_children` link that names the namespace the process's next children get.
    pub enum NsLink {
        Cgroup = "cgroup",
        Ipc = "ipc",
        Mnt = "mnt",
        Net = "net",
        Pid = "pid",
        PidForChildren = "pid_for_children",
        Time = "time",
        TimeForChildren = "time_for_children",
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
    }
}

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
    cgroup: Option<String>
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
    pids_max: Option<u64>
});
action_struct!(SetuidAction { uid: u32, gid: u32 });
action_struct!(LinkUpAction { name: String });
action_struct!(ChownAction {
    path: String,
    uid: u32,
    gid: u32
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
action_struct!(NoArgs {});
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

/// A claim about live state: observe a value, compare it with an expectation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    /// Unique within the lesson.
    pub id: String,
    /// The sentence the learner reads ("the hostname inside is lab").
    pub claim: Text,
    #[serde(deserialize_with = "serde_yaml::with::singleton_map_recursive::deserialize")]
    pub observe: Observe,
    /// Reduce a list before comparing: its first or last element, or its length.
    #[serde(default)]
    pub pick: Option<Pick>,
    #[serde(deserialize_with = "serde_yaml::with::singleton_map_recursive::deserialize")]
    pub expect: Expect,
    /// Why the claim holds; shown when it does not, to explain what was expected.
    #[serde(default)]
    pub why: Option<Text>,
    /// The claim is about the lab's own example image: it is not judged when the learner runs
    /// the lesson on an image of their own (`--image`).
    #[serde(default)]
    pub example_only: bool,
}

/// A step's command line: one string for every language (`unshare --uts sh`), or a map by
/// language when its `# comment` is worth translating (`{en: "kill $INIT   # or docker stop",
/// ja: "kill $INIT   # docker stop でも同じ"}`); a missing language falls back to English.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum CommandLine {
    Same(String),
    PerLanguage(Text),
}

impl CommandLine {
    pub fn get(&self, lang: &str) -> &str {
        match self {
            CommandLine::Same(s) => s,
            CommandLine::PerLanguage(t) => t.get(lang),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pick {
    First,
    Last,
    /// Every item but the last: the layers below the top one, say.
    AllButLast,
    Count,
}

/// What a check looks at. Written as a one-key map: `observe: {hostname: sandbox}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Observe {
    /// The hostname as that process sees it (its UTS namespace).
    Hostname(Who),
    /// The inode of /proc/PID/ns/<ns> (`pid_for_children` too).
    NsInode(NsOf),
    /// NSpid from /proc/PID/status: the PID in each namespace, outermost first.
    Nspid(Who),
    /// The process's PID as the host sees it.
    Pid(Who),
    /// Any /proc/PID/status field, as text (`Uid`, `CapEff`, `NoNewPrivs`).
    Status(StatusOf),
    /// The numeric entries of /proc as that process sees it: the PIDs its /proc shows.
    ProcPids(Who),
    /// The entries of a directory as that process sees it.
    ReadDir(PathOf),
    /// A file's content as that process sees it, trimmed.
    File(PathOf),
    /// Mount points in that process's mount namespace.
    MountPoints(Who),
    /// The propagation of the mount at a path in that process's mount namespace
    /// (`shared:N`, `private`, ...), or `not mounted`.
    Propagation(PathOf),
    /// What became of a spawned process: `running`, `exited with status N`, `killed by SIGKILL`.
    Life(Who),
    /// The result of the action with this id: `ok`, or its errno name (`ENOENT`).
    Result(String),
    /// What a `run` action with this id printed on standard output, trimmed.
    Output(String),
    /// A value of a cgroup this lesson made: memory_current, memory_max, memory_peak, oom_kill,
    /// limit_hits (v2 memory.events `max`, v1 memory.failcnt), pids_current, pids_max,
    /// cpu_usage_usec, procs (how many processes it holds).
    Cgroup(CgroupValue),
    /// How a `run` action with this id ended: `exited with status N` or `killed by SIGKILL`.
    Ended(String),
    /// The names of a process's environment variables (/proc/PID/environ).
    Environ(Who),
    /// A file's `security.capability` extended attribute, decoded like getcap(8)
    /// (`cap_net_raw=ep`), or `none`.
    FileCaps(PathOf),
    /// A capability set of a process decoded by name: `set` is effective, permitted,
    /// inheritable, bounding or ambient.
    Caps(CapsOf),
    /// A field of the OCI image layout in a directory, read as a runtime reads it (index.json →
    /// manifest → config).
    Image(ImageOf),
    /// The inode number of a path as that process sees it (lstat, through its mounts).
    Inode(PathOf),
    /// A path's owner as `uid:gid`, as that process sees it: ids as its user namespace maps them
    /// (65534:65534 for an owner with no mapping there).
    Owner(PathOf),
    /// The inode of the user namespace that owns one of a process's namespaces (`ns: net`);
    /// compare it with `ns_inode: {of: P, ns: user}`.
    NsOwner(NsOf),
    /// The device (`major:minor`) a path is on, as that process sees it.
    Device(PathOf),
    /// What a path is, as that process sees it: `regular file`, `directory`, `symlink`,
    /// `whiteout` (a 0:0 character device, overlayfs' mark of a deleted file), or `missing`.
    FileType(PathOf),
    /// How many overlay whiteouts (0:0 character devices) are under a directory, recursively,
    /// as the host sees it.
    WhiteoutCount(String),
    /// A /proc/self/status field as the process itself reads it (ids as its user namespace
    /// maps them: `Uid` is `0 0 0 0` for root inside, where the host sees `100000 ...`).
    SelfStatus(StatusOf),
    /// The names of the network interfaces in that process's network namespace.
    Links(Who),
    /// The flags of one interface there (`UP`, `LOWER_UP`, `LOOPBACK`...).
    LinkFlags(DevOf),
    /// Every address there, as `a.b.c.d/prefix`.
    Addresses(Who),
    /// The IPv4 routes there, one `ip route` line each.
    Routes(Who),
    /// The TCP sockets listening there (`ss -ltn`), as `a.b.c.d:port` (IPv6: `[addr]:port`).
    Listening(Who),
    /// The port numbers of those sockets, each once: `80` whether a server listens on
    /// 0.0.0.0:80, [::]:80 or both.
    ListeningPorts(Who),
    /// The keys of the System V shared memory segments that process's IPC namespace holds
    /// (/proc/sysvipc/shm as it reads it).
    ShmKeys(Who),
    /// The text in the segment with this key, as that process reads it.
    ShmText(KeyOf),
    /// A process's cgroup path in the hierarchy of the lab's cgroups (the memory line on v1, the
    /// `0::` line on v2) as another process reads /proc/PID/cgroup: relative to the reader's
    /// cgroup namespace.
    CgroupPath(CgroupOf),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DevOf {
    pub of: Who,
    pub dev: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapsOf {
    pub of: Who,
    pub set: CapSet,
}

closed_set! {
    /// A process's capability sets, as `caps: {of, set}` names them.
    pub enum CapSet {
        Effective = "effective",
        Permitted = "permitted",
        Inheritable = "inheritable",
        Bounding = "bounding",
        Ambient = "ambient",
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyOf {
    pub of: Who,
    pub key: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CgroupOf {
    pub of: Who,
    /// Who reads /proc/PID/cgroup (default: the process itself).
    #[serde(default)]
    pub seen_by: Option<Who>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CgroupValue {
    pub name: String,
    pub value: CgroupValueName,
}

closed_set! {
    /// The values a check may read from a lab cgroup (see [`Observe::Cgroup`]).
    pub enum CgroupValueName {
        MemoryCurrent = "memory_current",
        MemoryMax = "memory_max",
        MemoryPeak = "memory_peak",
        OomKill = "oom_kill",
        LimitHits = "limit_hits",
        PidsCurrent = "pids_current",
        PidsMax = "pids_max",
        CpuUsageUsec = "cpu_usage_usec",
        Procs = "procs",
    }
}

/// A field of the OCI image layout in `dir`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageOf {
    pub dir: String,
    pub field: ImageField,
}

closed_set! {
    /// The image fields a check may read.
    pub enum ImageField {
        LayerCount = "layer_count",
        IndexMediaType = "index_media_type",
        ManifestDigest = "manifest_digest",
        ManifestMediaType = "manifest_media_type",
        ConfigDigest = "config_digest",
        ConfigMediaType = "config_media_type",
        LayerDigests = "layer_digests",
        LayerMediaTypes = "layer_media_types",
        DiffIds = "diff_ids",
        CreatedBy = "created_by",
        /// How many `.wh.` entries the layer tars hold, opaque markers excluded.
        WhiteoutEntries = "whiteout_entries",
        /// Manifest + config + layers.
        BlobCount = "blob_count",
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NsOf {
    pub of: Who,
    pub ns: NsLink,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusOf {
    pub of: Who,
    pub field: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathOf {
    pub of: Who,
    pub path: String,
}

/// What the observed value must be. Exactly one key.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    Equals(Literal),
    NotEquals(Literal),
    /// Equal to another observation made at the same moment.
    Same(Observe),
    /// Different from another observation made at the same moment.
    Differs(Observe),
    /// A list has this element, or a text has this substring.
    Contains(Literal),
    NotContains(Literal),
    /// Contains the value of another observation.
    ContainsObserved(Observe),
    NotContainsObserved(Observe),
    AtLeast(i64),
    AtMost(i64),
}

/// A literal in an expectation: a number or a text.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Literal {
    Number(i64),
    Text(String),
}

impl std::fmt::Display for Literal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Literal::Number(n) => write!(f, "{n}"),
            Literal::Text(s) => write!(f, "{s}"),
        }
    }
}

impl Observe {
    /// The sandbox processes this observation refers to, for validation.
    pub fn who(&self) -> Option<&str> {
        match self {
            Observe::Hostname(w)
            | Observe::Nspid(w)
            | Observe::Pid(w)
            | Observe::ProcPids(w)
            | Observe::MountPoints(w)
            | Observe::Life(w)
            | Observe::Links(w)
            | Observe::Addresses(w)
            | Observe::Routes(w)
            | Observe::Listening(w)
            | Observe::ListeningPorts(w)
            | Observe::ShmKeys(w) => Some(w),
            Observe::SelfStatus(s) => Some(&s.of),
            Observe::LinkFlags(d) => Some(&d.of),
            Observe::ShmText(k) => Some(&k.of),
            Observe::CgroupPath(c) => Some(&c.of),
            Observe::NsInode(n) | Observe::NsOwner(n) => Some(&n.of),
            Observe::Status(s) => Some(&s.of),
            Observe::ReadDir(p)
            | Observe::File(p)
            | Observe::Propagation(p)
            | Observe::Inode(p)
            | Observe::Device(p)
            | Observe::Owner(p)
            | Observe::FileType(p) => Some(&p.of),
            Observe::Environ(w) => Some(w),
            Observe::FileCaps(p) => Some(&p.of),
            Observe::Caps(c) => Some(&c.of),
            Observe::Result(_)
            | Observe::Output(_)
            | Observe::Ended(_)
            | Observe::Cgroup(_)
            | Observe::Image(_)
            | Observe::WhiteoutCount(_) => None,
        }
    }

    /// The action id this observation refers to, for validation.
    pub fn action_id(&self) -> Option<&str> {
        match self {
            Observe::Result(id) | Observe::Output(id) | Observe::Ended(id) => Some(id),
            _ => None,
        }
    }
}

impl Expect {
    /// The other observation an expectation compares with, if any.
    pub fn observed(&self) -> Option<&Observe> {
        match self {
            Expect::Same(o)
            | Expect::Differs(o)
            | Expect::ContainsObserved(o)
            | Expect::NotContainsObserved(o) => Some(o),
            _ => None,
        }
    }
}
