//! What can go wrong, in words a learner can act on.
//!
//! Detection problems ([`Unsupported`]) mean this machine cannot run the cgroup lesson at all;
//! [`Error`] is a single cgroup operation the kernel refused, carrying the path, the errno and a
//! hint about the usual cause.

use std::io;
use std::path::PathBuf;

/// Why the cgroup lesson cannot run on this machine.
#[derive(Debug, thiserror::Error)]
pub enum Unsupported {
    #[error(
        "no cgroup filesystem is mounted (no `cgroup` or `cgroup2` line in /proc/self/mountinfo); \
         mount the unified hierarchy with `mount -t cgroup2 none /sys/fs/cgroup` and try again"
    )]
    NoCgroupFs,
    #[error(
        "the memory controller is not available: {detail}; on cgroup v2 it must be listed in \
         /sys/fs/cgroup/cgroup.controllers (boot without `cgroup_disable=memory`), on cgroup v1 \
         mount it with `mount -t cgroup -o memory none /sys/fs/cgroup/memory`"
    )]
    NoMemoryController { detail: String },
    #[error(
        "the pids controller is not available: {detail}; on cgroup v2 it must be listed in \
         /sys/fs/cgroup/cgroup.controllers, on cgroup v1 mount it with \
         `mount -t cgroup -o pids none /sys/fs/cgroup/pids`"
    )]
    NoPidsController { detail: String },
    #[error("could not read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("could not parse {path}: {message}")]
    Parse { path: PathBuf, message: String },
}

/// A cgroup operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{op} {path}: {source}{hint}")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
        /// Empty, or `"; "` followed by the likely cause and what to do.
        hint: String,
    },
    #[error("{path} holds {content:?}, which is not what this kernel interface should contain")]
    Parse { path: PathBuf, content: String },
    #[error(
        "{name:?} is not a usable cgroup name: use letters, digits, `-` or `_` (no `/`, not `.`)"
    )]
    InvalidName { name: String },
    #[error(
        "{path} still holds processes {pids:?} after they were sent SIGKILL; \
         they may be stuck in the kernel (state D): wait and remove it again"
    )]
    StillPopulated { path: PathBuf, pids: Vec<i32> },
    #[error(
        "refusing to remove {path}: only directories named `containerlab` or starting with \
         `clab` (and what lies below them) are removed, so nothing else on the machine is killed"
    )]
    NotOurs { path: PathBuf },
    #[error("the {controller} controller is not set up for this lab cgroup")]
    NoController { controller: &'static str },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps an I/O error on a cgroup file with a hint for the errno the kernel gave.
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        let path = path.into();
        let hint = hint_for(op, &path, &source);
        Error::Io {
            op,
            path,
            source,
            hint,
        }
    }

    /// The errno behind this error, if the kernel gave one.
    pub fn errno(&self) -> Option<nix::errno::Errno> {
        match self {
            Error::Io { source, .. } => source.raw_os_error().map(nix::errno::Errno::from_raw),
            _ => None,
        }
    }
}

fn hint_for(op: &str, path: &std::path::Path, e: &io::Error) -> String {
    use nix::errno::Errno;
    let file = path.file_name().and_then(|f| f.to_str()).unwrap_or("");
    let errno = e.raw_os_error().map(Errno::from_raw);
    let text = match errno {
        Some(Errno::EACCES) | Some(Errno::EPERM) => {
            "cgroup files belong to root: run the lab as root (sudo)"
        }
        Some(Errno::EROFS) => "the cgroup filesystem is mounted read-only (inside a container?)",
        Some(Errno::EBUSY) if file == "cgroup.subtree_control" => {
            "the no-internal-processes rule: a cgroup that holds processes cannot hand \
             controllers to children; move its processes into a leaf cgroup first"
        }
        Some(Errno::EBUSY) if op == "rmdir" => "the cgroup still holds processes or children",
        Some(Errno::EBUSY) if file == "cgroup.procs" => {
            "the no-internal-processes rule: this cgroup hands controllers to children, so it \
             cannot hold processes itself"
        }
        Some(Errno::EINVAL) if file == "memory.memsw.limit_in_bytes" => {
            "memory+swap must be at least the memory limit: set memory.limit_in_bytes first"
        }
        Some(Errno::ENOENT) if op == "write" || op == "read" => {
            "this kernel does not offer that cgroup file (controller not enabled here?)"
        }
        Some(Errno::EEXIST) => "a cgroup of that name exists already (left over? run cleanup)",
        Some(Errno::ENOTEMPTY) => "the cgroup still has child cgroups",
        _ => return String::new(),
    };
    format!("; {text}")
}
