//! The kernel calls the engine makes, behind one trait.
//!
//! The interpreter in [`crate::interpret`] turns an [`Op`](super::ops::Op) into calls on
//! this trait and writes each into the trace. [`LiveKernel`] makes the real calls; tests use a
//! recording fake to check which calls an op makes, in which order, with which arguments, without
//! touching the machine.

use super::ops::FileStat;
use nix::mount::{MntFlags, MsFlags};
use nix::sched::CloneFlags;
use std::os::fd::AsFd;
use std::path::Path;

pub trait Syscalls {
    fn unshare(&mut self, flags: CloneFlags) -> nix::Result<()>;
    fn setns(&mut self, ns_file: &Path, flags: CloneFlags) -> nix::Result<()>;
    fn sethostname(&mut self, name: &str) -> nix::Result<()>;
    fn gethostname(&mut self) -> nix::Result<String>;
    fn mount(
        &mut self,
        source: Option<&str>,
        target: &str,
        fstype: Option<&str>,
        flags: MsFlags,
        data: Option<&str>,
    ) -> nix::Result<()>;
    fn umount2(&mut self, target: &str, flags: MntFlags) -> nix::Result<()>;
    fn mkdir_all(&mut self, path: &Path) -> std::io::Result<()>;
    fn write_file(&mut self, path: &Path, content: &str) -> std::io::Result<usize>;
    fn read_file(&mut self, path: &Path) -> std::io::Result<String>;
    fn read_dir(&mut self, path: &Path) -> std::io::Result<Vec<String>>;
    /// open(O_WRONLY|O_CREAT|O_TRUNC, 0644) and one write(2).
    fn create_file(&mut self, path: &Path, content: &str) -> std::io::Result<usize>;
    fn unlink(&mut self, path: &Path) -> std::io::Result<()>;
    /// lstat(2); see [`describe_stat`].
    fn lstat(&mut self, path: &Path) -> std::io::Result<FileStat>;
}

/// What lstat(2) says about a file (its metadata), as a [`FileStat`].
pub fn describe_stat(meta: &std::fs::Metadata) -> FileStat {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let ft = meta.file_type();
    let kind = if ft.is_dir() {
        "directory".to_string()
    } else if ft.is_file() {
        "regular file".to_string()
    } else if ft.is_symlink() {
        "symlink".to_string()
    } else if ft.is_char_device() && meta.rdev() == 0 {
        "whiteout".to_string()
    } else if ft.is_char_device() {
        format!(
            "char device {}:{}",
            libc::major(meta.rdev()),
            libc::minor(meta.rdev())
        )
    } else if ft.is_block_device() {
        format!(
            "block device {}:{}",
            libc::major(meta.rdev()),
            libc::minor(meta.rdev())
        )
    } else if ft.is_fifo() {
        "fifo".to_string()
    } else {
        "socket".to_string()
    };
    FileStat {
        kind,
        dev_major: libc::major(meta.dev()),
        dev_minor: libc::minor(meta.dev()),
        inode: meta.ino(),
        uid: meta.uid(),
        gid: meta.gid(),
    }
}

/// The real kernel.
pub struct LiveKernel;

impl Syscalls for LiveKernel {
    fn unshare(&mut self, flags: CloneFlags) -> nix::Result<()> {
        nix::sched::unshare(flags)
    }

    fn setns(&mut self, ns_file: &Path, flags: CloneFlags) -> nix::Result<()> {
        let file = std::fs::File::open(ns_file)
            .map_err(|e| nix::Error::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))?;
        nix::sched::setns(file.as_fd(), flags)
    }

    fn sethostname(&mut self, name: &str) -> nix::Result<()> {
        nix::unistd::sethostname(name)
    }

    fn gethostname(&mut self) -> nix::Result<String> {
        nix::unistd::gethostname().map(|h| h.to_string_lossy().into_owned())
    }

    fn mount(
        &mut self,
        source: Option<&str>,
        target: &str,
        fstype: Option<&str>,
        flags: MsFlags,
        data: Option<&str>,
    ) -> nix::Result<()> {
        nix::mount::mount(source, target, fstype, flags, data)
    }

    fn umount2(&mut self, target: &str, flags: MntFlags) -> nix::Result<()> {
        nix::mount::umount2(target, flags)
    }

    fn mkdir_all(&mut self, path: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(path)
    }

    fn write_file(&mut self, path: &Path, content: &str) -> std::io::Result<usize> {
        use std::io::Write;
        // One write(2) of the whole content: files such as uid_map accept exactly one write.
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .truncate(false)
            .open(path)?;
        file.write(content.as_bytes())
    }

    fn read_file(&mut self, path: &Path) -> std::io::Result<String> {
        std::fs::read_to_string(path)
    }

    fn read_dir(&mut self, path: &Path) -> std::io::Result<Vec<String>> {
        let mut names: Vec<String> = std::fs::read_dir(path)?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort_by_key(|n| natural_key(n));
        Ok(names)
    }

    fn create_file(&mut self, path: &Path, content: &str) -> std::io::Result<usize> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o644)
            .open(path)?;
        file.write(content.as_bytes())
    }

    fn unlink(&mut self, path: &Path) -> std::io::Result<()> {
        std::fs::remove_file(path)
    }

    fn lstat(&mut self, path: &Path) -> std::io::Result<FileStat> {
        Ok(describe_stat(&std::fs::symlink_metadata(path)?))
    }
}

/// Sorts `2` before `10` (as `ls /proc` readers expect) and names after numbers.
fn natural_key(s: &str) -> (u8, u64, String) {
    match s.parse::<u64>() {
        Ok(n) => (0, n, String::new()),
        Err(_) => (1, 0, s.to_string()),
    }
}

#[cfg(test)]
pub mod fake {
    //! A kernel that only writes down what it was asked, for tests of the interpreter.
    use super::*;
    use std::path::PathBuf;

    /// One call, with its arguments as the kernel would get them.
    #[derive(Debug, Clone, PartialEq)]
    pub enum Call {
        Unshare(CloneFlags),
        Setns {
            file: PathBuf,
            flags: CloneFlags,
        },
        Sethostname(String),
        Mount {
            source: Option<String>,
            target: String,
            fstype: Option<String>,
            flags: MsFlags,
            data: Option<String>,
        },
        Umount2 {
            target: String,
            flags: MntFlags,
        },
        Mkdir(PathBuf),
        WriteFile {
            path: PathBuf,
            content: String,
        },
        ReadFile(PathBuf),
        ReadDir(PathBuf),
        CreateFile {
            path: PathBuf,
            content: String,
        },
        Unlink(PathBuf),
        Lstat(PathBuf),
    }

    impl Call {
        /// The syscall's name, as [`RecordingKernel::refuse`] lists it.
        pub fn name(&self) -> &'static str {
            match self {
                Call::Unshare(_) => "unshare",
                Call::Setns { .. } => "setns",
                Call::Sethostname(_) => "sethostname",
                Call::Mount { .. } => "mount",
                Call::Umount2 { .. } => "umount2",
                Call::Mkdir(_) => "mkdir",
                Call::WriteFile { .. } => "write",
                Call::ReadFile(_) => "read",
                Call::ReadDir(_) => "getdents64",
                Call::CreateFile { .. } => "open",
                Call::Unlink(_) => "unlink",
                Call::Lstat(_) => "lstat",
            }
        }
    }

    #[derive(Default)]
    pub struct RecordingKernel {
        pub calls: Vec<Call>,
        pub hostname: String,
        /// Calls whose name is listed here fail with EPERM.
        pub refuse: Vec<&'static str>,
    }

    impl RecordingKernel {
        fn note(&mut self, call: Call) -> nix::Result<()> {
            let refused = self.refuse.contains(&call.name());
            self.calls.push(call);
            if refused {
                Err(nix::Error::EPERM)
            } else {
                Ok(())
            }
        }
    }

    impl Syscalls for RecordingKernel {
        fn unshare(&mut self, flags: CloneFlags) -> nix::Result<()> {
            self.note(Call::Unshare(flags))
        }
        fn setns(&mut self, ns_file: &Path, flags: CloneFlags) -> nix::Result<()> {
            self.note(Call::Setns {
                file: ns_file.into(),
                flags,
            })
        }
        fn sethostname(&mut self, name: &str) -> nix::Result<()> {
            self.note(Call::Sethostname(name.into()))?;
            self.hostname = name.to_string();
            Ok(())
        }
        fn gethostname(&mut self) -> nix::Result<String> {
            Ok(self.hostname.clone())
        }
        fn mount(
            &mut self,
            source: Option<&str>,
            target: &str,
            fstype: Option<&str>,
            flags: MsFlags,
            data: Option<&str>,
        ) -> nix::Result<()> {
            self.note(Call::Mount {
                source: source.map(String::from),
                target: target.into(),
                fstype: fstype.map(String::from),
                flags,
                data: data.map(String::from),
            })
        }
        fn umount2(&mut self, target: &str, flags: MntFlags) -> nix::Result<()> {
            self.note(Call::Umount2 {
                target: target.into(),
                flags,
            })
        }
        fn mkdir_all(&mut self, path: &Path) -> std::io::Result<()> {
            Ok(self.note(Call::Mkdir(path.into()))?)
        }
        fn write_file(&mut self, path: &Path, content: &str) -> std::io::Result<usize> {
            self.note(Call::WriteFile {
                path: path.into(),
                content: content.into(),
            })?;
            Ok(content.len())
        }
        fn read_file(&mut self, path: &Path) -> std::io::Result<String> {
            self.note(Call::ReadFile(path.into()))?;
            Ok(String::new())
        }
        fn read_dir(&mut self, path: &Path) -> std::io::Result<Vec<String>> {
            self.note(Call::ReadDir(path.into()))?;
            Ok(vec![])
        }
        fn create_file(&mut self, path: &Path, content: &str) -> std::io::Result<usize> {
            self.note(Call::CreateFile {
                path: path.into(),
                content: content.into(),
            })?;
            Ok(content.len())
        }
        fn unlink(&mut self, path: &Path) -> std::io::Result<()> {
            Ok(self.note(Call::Unlink(path.into()))?)
        }
        fn lstat(&mut self, path: &Path) -> std::io::Result<FileStat> {
            self.note(Call::Lstat(path.into()))?;
            Ok(FileStat::default())
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_sort_numerically_before_names() {
        let mut v = vec!["10", "self", "2", "1"];
        v.sort_by_key(|s| super::natural_key(s));
        assert_eq!(v, ["1", "2", "10", "self"]);
    }
}
