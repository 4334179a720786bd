//! What travels between the front end and a sandbox's agents besides the ops themselves: the
//! request (which process runs which [`super::ops::Op`]) and the answer, a typed [`Value`] or the
//! kernel's error, always with the trace of every call the agent made.

use super::ops::Op;
use containerlab_trace::Trace;
use serde::{Deserialize, Serialize};

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
