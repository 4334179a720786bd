//! Checks: what a check observes of live state and what it expects the value to be.

use super::{Text, Who};
use serde::Deserialize;

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
    /// The options of the mount at a path in that process's mount namespace (`ro`,
    /// `relatime`...), a list; `not mounted` when nothing is mounted exactly there.
    MountOptions(PathOf),
    /// What became of a spawned process: `running`, `exited with status N`, `killed by SIGKILL`.
    Life(Who),
    /// The result of the action with this id: `ok`, or its errno name (`ENOENT`).
    Result(String),
    /// What a `run` action with this id printed on standard output, trimmed (for `image_pull`
    /// and `registry_push`: the lines `docker pull` and `docker push` would print).
    Output(String),
    /// A value of a cgroup this lesson made: memory_current, memory_max, memory_peak, oom_kill,
    /// limit_hits (v2 memory.events `max`, v1 memory.failcnt), pids_current, pids_max,
    /// cpu_usage_usec, cpu_max, cpu_throttled, procs (how many processes it holds).
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
    /// A container's json-file log (`{"log":…,"stream":…,"time":…}` per line) read back as
    /// `docker logs` does, as the host sees the file.
    JsonLog(JsonLogOf),
    /// A /proc/self/status field as the process itself reads it (ids as its user namespace
    /// maps them: `Uid` is `0 0 0 0` for root inside, where the host sees `100000 ...`).
    SelfStatus(StatusOf),
    /// The names of the network interfaces in that process's network namespace.
    Links(Who),
    /// The flags of one interface there (`UP`, `LOWER_UP`, `LOOPBACK`...).
    LinkFlags(DevOf),
    /// The bridge one interface there is a port of (`ip link set DEV master BR`), or `none`.
    LinkMaster(DevOf),
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
    /// How many seconds a clock read by that process is ahead of the same clock read by the
    /// lab at the same moment, rounded to the nearest second: 0 when they share the kernel's
    /// clock, a time namespace's offset for `monotonic` and `boottime` inside one.
    ClockAhead(ClockOf),
    /// The offset, in whole seconds, that /proc/PID/timens_offsets shows for a clock: the time
    /// namespace that process's children get (`monotonic` or `boottime`).
    TimensOffset(ClockOf),
    /// A field of an OCI runtime spec (`config.json`, as runc reads it) at a path on the host,
    /// read through the spec's own types: a file that does not parse as one has no value.
    RuntimeSpec(RuntimeSpecOf),
    /// A process's working directory relative to its own root (`/proc/PID/cwd` against
    /// `/proc/PID/root`, both read by the lab on the host): `/`, `/sub/dir`, or
    /// `outside its root` when the working directory is not under the root (as after a chroot
    /// without chdir).
    Cwd(Who),
    /// How many ids a process's user namespace maps: the sum of the third column (the range's
    /// length) of /proc/PID/uid_map or gid_map, so a single line `0 1000 1` is exactly 1.
    IdCount(IdMapOf),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockOf {
    pub of: Who,
    pub clock: ClockName,
}

closed_set! {
    /// The clocks clock_gettime(2) reads that a lesson compares.
    pub enum ClockName {
        /// CLOCK_MONOTONIC: time since an unspecified start (boot), not counting suspend.
        Monotonic = "monotonic",
        /// CLOCK_BOOTTIME: time since boot, suspend included (what /proc/uptime shows).
        Boottime = "boottime",
        /// CLOCK_REALTIME: the wall clock. No time namespace changes it.
        Realtime = "realtime",
    }
}

/// A field of the OCI runtime spec at `path`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeSpecOf {
    pub path: String,
    pub field: RuntimeSpecField,
}

closed_set! {
    /// The runtime-spec fields a check may read. Capability sets come as lower-case names in
    /// capability-number order (as `caps` observations decode /proc/PID/status), namespaces as
    /// the spec's `type` words (`network`, `mount`...).
    pub enum RuntimeSpecField {
        OciVersion = "oci_version",
        Hostname = "hostname",
        RootPath = "root_path",
        Args = "args",
        Cwd = "cwd",
        EnvNames = "env_names",
        Namespaces = "namespaces",
        MountDestinations = "mount_destinations",
        /// linux.resources.memory.limit, in bytes.
        MemoryLimit = "memory_limit",
        /// linux.resources.pids.limit.
        PidsLimit = "pids_limit",
        Bounding = "bounding",
        Effective = "effective",
        Permitted = "permitted",
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdMapOf {
    pub of: Who,
    pub map: IdMap,
}

closed_set! {
    /// The two id maps of a user namespace.
    pub enum IdMap {
        Uid = "uid",
        Gid = "gid",
    }
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
        PidsLimitHits = "pids_limit_hits",
        CpuUsageUsec = "cpu_usage_usec",
        /// The CPU quota and period: v2 `cpu.max` as it reads (`20000 100000`), v1
        /// `cpu.cfs_quota_us` and `cpu.cfs_period_us` put the same way.
        CpuMax = "cpu_max",
        /// How many periods the cgroup was throttled in (`nr_throttled` in cpu.stat).
        CpuThrottled = "cpu_throttled",
        Procs = "procs",
        /// The swap setting the driver uses ({cgroup_file:swap}): v2 `memory.swap.max`, v1
        /// `memory.swappiness`; 0 in both means this cgroup's memory is never swapped out.
        Swap = "swap",
        /// The controllers that work in the cgroup, space-separated: v2 its `cgroup.controllers`
        /// (what the parent's `cgroup.subtree_control` hands down), v1 the controllers of the
        /// trees it has a directory in.
        Controllers = "controllers",
    }
}

/// A container's json-file log at `path`, read as `field`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonLogOf {
    pub path: String,
    pub field: JsonLogField,
}

closed_set! {
    /// What a `json_log` observation reads from the log.
    pub enum JsonLogField {
        /// Each line as `STREAM: TEXT` (its `log` without the final newline), in file order.
        Lines = "lines",
        /// The `log` texts of the stdout lines, joined (what `docker logs` prints on stdout).
        Stdout = "stdout",
        /// The same for stderr.
        Stderr = "stderr",
        /// Each line's `time`.
        Times = "times",
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
        /// The sha256 of the config blob's bytes, computed here (the image ID is this digest).
        ConfigSha256 = "config_sha256",
        /// The config's `config.Labels`, each as `key=value`, sorted.
        Labels = "labels",
        /// The config's `rootfs.type` (`layers`).
        RootfsType = "rootfs_type",
        /// Each layer's size in bytes as stored (compressed), bottom first.
        LayerSizes = "layer_sizes",
        /// The layers' stored sizes added up.
        TotalSize = "total_size",
        /// The digest of the bottom layer (the base), as the manifest names it.
        BottomLayerDigest = "bottom_layer_digest",
        /// The digest of the top layer, as the manifest names it.
        TopLayerDigest = "top_layer_digest",
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
            Observe::LinkFlags(d) | Observe::LinkMaster(d) => Some(&d.of),
            Observe::ShmText(k) => Some(&k.of),
            Observe::CgroupPath(c) => Some(&c.of),
            Observe::ClockAhead(c) | Observe::TimensOffset(c) => Some(&c.of),
            Observe::NsInode(n) | Observe::NsOwner(n) => Some(&n.of),
            Observe::Status(s) => Some(&s.of),
            Observe::ReadDir(p)
            | Observe::File(p)
            | Observe::Propagation(p)
            | Observe::MountOptions(p)
            | Observe::Inode(p)
            | Observe::Device(p)
            | Observe::Owner(p)
            | Observe::FileType(p) => Some(&p.of),
            Observe::Environ(w) | Observe::Cwd(w) => Some(w),
            Observe::IdCount(m) => Some(&m.of),
            Observe::FileCaps(p) => Some(&p.of),
            Observe::Caps(c) => Some(&c.of),
            Observe::Result(_)
            | Observe::Output(_)
            | Observe::Ended(_)
            | Observe::Cgroup(_)
            | Observe::Image(_)
            | Observe::RuntimeSpec(_)
            | Observe::WhiteoutCount(_)
            | Observe::JsonLog(_) => None,
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
