//! The lesson file format (version 1), as serde types. docs/lesson-format.md documents it for
//! authors; every struct here rejects unknown fields so a typo is an error with its location,
//! never a silently ignored key.

use super::text::Text;
use serde::Deserialize;

/// An enum over a closed set of names, written once as `Variant = "name"` pairs: serde reads the
/// names (any other word is a parse error with its line, column and the allowed names), `ALL`
/// lists them in table order, and `as_str`/Display give the name back. Lesson files name these
/// sets themselves, so the format depends on no engine type. Defined before the `mod` lines below
/// because a `macro_rules!` is visible only to code after it.
macro_rules! closed_set {
    ($(#[$m:meta])* pub enum $name:ident { $($(#[$vm:meta])* $variant:ident = $text:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Deserialize, serde::Serialize)]
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

mod action;
mod observe;
// The actions and the checks are defined in their own files; the format is still one namespace,
// `schema::Action`, `schema::Observe`, as before.
pub use action::*;
pub use observe::*;

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
    /// The cpu controller (v2 `cpu.max`, v1 `cpu.cfs_quota_us`).
    CgroupCpu,
    /// Time namespaces (Linux 5.6+: /proc/self/ns/time).
    TimeNamespaces,
    /// A Linux bridge can be created (the bridge driver, built in or loadable).
    Bridge,
    /// The `nft` tool, and nf_tables with NAT (masquerade) and conntrack's
    /// /proc/net/nf_conntrack, usable in a network namespace of the lab's.
    Nftables,
    /// The host's `/` is a disk filesystem (ext4, xfs) mounted straight from a block device,
    /// which a privileged container can mount read-only (`{root_device:source}`).
    RootBlockDevice,
}

impl Requirement {
    /// Every requirement, in the order `doctor` lists them.
    pub const ALL: [Requirement; 16] = [
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
        Requirement::CgroupCpu,
        Requirement::TimeNamespaces,
        Requirement::Bridge,
        Requirement::Nftables,
        Requirement::RootBlockDevice,
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
    /// Seconds the shell may run (default [`DEFAULT_RUN_TIMEOUT_SECS`]); past them its process
    /// group is killed and the solution counts as failed.
    #[serde(default)]
    pub timeout_secs: Option<u64>,
}

/// How long a `run` action or an exercise's solution may run when the lesson does not say:
/// long enough for every built-in workload (the slowest, a memory hog under a limit, takes about
/// a second), short enough that a program that never ends is noticed in a CI log.
pub const DEFAULT_RUN_TIMEOUT_SECS: u64 = 30;

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
