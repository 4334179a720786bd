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
    /// Short name used on the command line (`containerlab run lesson uts`): lower case, digits, `-`.
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
    /// A process without privileges may create a user namespace (no sysctl or LSM forbids it).
    RootlessUserNamespaces,
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
    pub command: Option<String>,
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

/// One engine action. Written as a one-key map: `- sethostname: {name: lab}`.
/// Every action takes `in` (which process runs it; default `sandbox`), an optional `id` (so a
/// check can look at its result), and `expect_error` (an errno such as `ENOENT` when the failure
/// is the point of the step).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// unshare(2).
    Unshare(Unshare),
    /// setns(2) into another sandbox process's namespaces.
    Join(Join),
    /// sethostname(2).
    Sethostname(Sethostname),
    /// Change mount propagation (`mount --make-rprivate /`).
    Propagation(PropagationAction),
    /// mount(2): a filesystem, or a bind mount with `flags: [bind]`.
    Mount(MountAction),
    /// umount2(2).
    Umount(UmountAction),
    /// mkdir -p.
    Mkdir(PathAction),
    /// Write text into a file (`echo TEXT > PATH`).
    WriteFile(WriteFileAction),
    /// fork(2) a new sandbox process that takes requests under `name`.
    Spawn(Spawn),
    /// A spawned process exits.
    Exit(ExitAction),
    /// Run a program to completion (fork, execve, wait).
    Run(RunAction),
    /// `ip link add HOST type veth peer name PEER`.
    CreateVeth(CreateVethAction),
    /// `ip link set DEV netns PID`: move a link into a sandbox process's network namespace.
    MoveLink(MoveLinkAction),
    /// `ip addr add ADDRESS/PREFIX dev DEV`.
    AddAddress(AddAddressAction),
    /// `ip link set DEV up`.
    LinkUp(LinkUpAction),
    /// `ip route add default via VIA`.
    DefaultRoute(DefaultRouteAction),
    /// setgroups([]), setresgid, setresuid: the process becomes another user (all its ids).
    SwitchUser(SwitchUserAction),
    /// open(2) a file for reading: whether the kernel lets this process read it.
    ReadFile(PathAction),
    /// shmget(2) with IPC_CREAT|IPC_EXCL: a new System V shared memory segment.
    ShmCreate(ShmCreateAction),
    /// Attach the segment with this key and write text into it.
    ShmWrite(ShmWriteAction),
    /// mq_open(3) a POSIX message queue, creating it with `create: true`.
    MqOpen(MqOpenAction),
    /// Make the lab cgroup `containerlab/NAME` (in every hierarchy on cgroup v1).
    CgroupCreate(CgroupCreateAction),
    /// Move a sandbox process into a lab cgroup (write its pid to cgroup.procs).
    CgroupAdd(CgroupAddAction),
    /// Mount the cgroup hierarchy the lab cgroup lives in (cgroup2, or v1 `memory`) at `target`.
    MountCgroup(MountCgroupAction),
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

/// The namespace kinds as lessons name them (the /proc/PID/ns file names).
pub type NsName = crate::engine::namespaces::Namespace;

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
    propagation: crate::engine::ops::Propagation,
    #[serde(default = "yes")]
    recursive: bool
});
action_struct!(MountAction {
    source: String,
    target: String,
    #[serde(default)]
    fstype: Option<String>,
    #[serde(default)]
    flags: Vec<crate::engine::ops::MountFlag>,
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
action_struct!(Spawn { name: Who });
action_struct!(ExitAction {
    #[serde(default)]
    code: i32
});
action_struct!(RunAction {
    /// The program and its arguments; `{work}` and `{pid:NAME}` are replaced.
    argv: Vec<String>
});

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
action_struct!(LinkUpAction { dev: String });
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
action_struct!(CgroupCreateAction { name: String });
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

impl Action {
    /// The fields every action shares.
    pub fn common(&self) -> Common {
        macro_rules! c {
            ($a:expr) => {
                Common {
                    process: $a.process.clone(),
                    id: $a.id.clone(),
                    expect_error: $a.expect_error.clone(),
                }
            };
        }
        match self {
            Action::Unshare(a) => c!(a),
            Action::Join(a) => c!(a),
            Action::Sethostname(a) => c!(a),
            Action::Propagation(a) => c!(a),
            Action::Mount(a) => c!(a),
            Action::Umount(a) => c!(a),
            Action::Mkdir(a) => c!(a),
            Action::WriteFile(a) => c!(a),
            Action::Spawn(a) => c!(a),
            Action::Exit(a) => c!(a),
            Action::Run(a) => c!(a),
            Action::CreateVeth(a) => c!(a),
            Action::MoveLink(a) => c!(a),
            Action::AddAddress(a) => c!(a),
            Action::LinkUp(a) => c!(a),
            Action::DefaultRoute(a) => c!(a),
            Action::SwitchUser(a) => c!(a),
            Action::ReadFile(a) => c!(a),
            Action::ShmCreate(a) => c!(a),
            Action::ShmWrite(a) => c!(a),
            Action::MqOpen(a) => c!(a),
            Action::CgroupCreate(a) => c!(a),
            Action::CgroupAdd(a) => c!(a),
            Action::MountCgroup(a) => c!(a),
        }
    }

    /// The action's name as written in lesson files.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Unshare(_) => "unshare",
            Action::Join(_) => "join",
            Action::Sethostname(_) => "sethostname",
            Action::Propagation(_) => "propagation",
            Action::Mount(_) => "mount",
            Action::Umount(_) => "umount",
            Action::Mkdir(_) => "mkdir",
            Action::WriteFile(_) => "write_file",
            Action::Spawn(_) => "spawn",
            Action::Exit(_) => "exit",
            Action::Run(_) => "run",
            Action::CreateVeth(_) => "create_veth",
            Action::MoveLink(_) => "move_link",
            Action::AddAddress(_) => "add_address",
            Action::LinkUp(_) => "link_up",
            Action::DefaultRoute(_) => "default_route",
            Action::SwitchUser(_) => "switch_user",
            Action::ReadFile(_) => "read_file",
            Action::ShmCreate(_) => "shm_create",
            Action::ShmWrite(_) => "shm_write",
            Action::MqOpen(_) => "mq_open",
            Action::CgroupCreate(_) => "cgroup_create",
            Action::CgroupAdd(_) => "cgroup_add",
            Action::MountCgroup(_) => "mount_cgroup",
        }
    }
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pick {
    First,
    Last,
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
    /// The keys of the System V shared memory segments that process's IPC namespace holds
    /// (/proc/sysvipc/shm as it reads it).
    ShmKeys(Who),
    /// The text in the segment with this key, as that process reads it.
    ShmText(KeyOf),
    /// A process's cgroup path in the hierarchy of the lab's cgroups (the memory line on v1, the
    /// `0::` line on v2) as another process reads /proc/PID/cgroup: relative to the reader's
    /// cgroup namespace.
    CgroupPath(CgroupOf),
    /// How a `run` action with this id ended: `exited with status 0`.
    Exit(String),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DevOf {
    pub of: Who,
    pub dev: String,
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
pub struct NsOf {
    pub of: Who,
    pub ns: String,
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
            | Observe::ShmKeys(w) => Some(w),
            Observe::SelfStatus(s) => Some(&s.of),
            Observe::LinkFlags(d) => Some(&d.of),
            Observe::ShmText(k) => Some(&k.of),
            Observe::CgroupPath(c) => Some(&c.of),
            Observe::NsInode(n) => Some(&n.of),
            Observe::Status(s) => Some(&s.of),
            Observe::ReadDir(p) | Observe::File(p) | Observe::Propagation(p) => Some(&p.of),
            Observe::Result(_) | Observe::Output(_) | Observe::Exit(_) => None,
        }
    }

    /// The action id this observation refers to, for validation.
    pub fn action_id(&self) -> Option<&str> {
        match self {
            Observe::Result(id) | Observe::Output(id) | Observe::Exit(id) => Some(id),
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
