//! A root filesystem for `chroot(2)`, built offline.
//!
//! `chroot(2)` changes what `/` means for one process: afterwards every absolute path it opens is
//! looked up inside the new directory. For a shell to still work there, that directory must hold
//! everything the shell needs: the program, and (if it is dynamically linked) its loader and
//! libraries. A *static* busybox needs nothing else, which is why the lab uses one: a single file
//! that is `sh`, `ls`, `ps`, `httpd` and ~300 other tools, chosen by the name it was started as.
//! The other names are just symlinks to it. A few files in `/etc` make tools like `id` and
//! `hostname` say sensible things, and empty `proc/`, `sys/`, `dev/` are where later lessons mount
//! the kernel's own filesystems.

use crate::error::{Error, Result};
use crate::image::unpack::{unpack_layer, Whiteouts};
use crate::sha;
use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Bump when what [`build_busybox_rootfs`] writes changes, so cached copies are rebuilt.
pub const ROOTFS_VERSION: &str = "containerlab-rootfs 1";

/// Where the version stamp lives inside a built rootfs (visible to the learner on purpose).
pub const STAMP_PATH: &str = "etc/containerlab-rootfs-version";

/// What [`build_busybox_rootfs`] made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootfsReport {
    pub dest: PathBuf,
    /// The busybox binary that was copied in.
    pub busybox: PathBuf,
    /// How many applet symlinks point at `/bin/busybox`.
    pub applets: usize,
}

/// Finds a statically linked busybox: `/bin/busybox` first, then `busybox` on `$PATH`.
pub fn find_static_busybox() -> Result<PathBuf> {
    let mut candidates = vec![PathBuf::from("/bin/busybox")];
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path).map(|d| d.join("busybox")));
    }
    let mut dynamic = None;
    for c in candidates.into_iter().filter(|c| c.is_file()) {
        if is_static_elf(&c)? {
            return Ok(c);
        }
        dynamic.get_or_insert(c);
    }
    match dynamic {
        Some(path) => Err(Error::BusyboxNotStatic { path }),
        None => Err(Error::BusyboxNotFound),
    }
}

/// A static ELF has no `PT_INTERP` program header (no dynamic loader to start it) and no
/// `DT_NEEDED` libraries: the kernel can run it in an otherwise empty root.
pub fn is_static_elf(path: &Path) -> Result<bool> {
    let bytes = fs::read(path).map_err(Error::io(format!("read {}", path.display())))?;
    let elf = goblin::elf::Elf::parse(&bytes).map_err(|e| Error::Io {
        what: format!("{} is not an ELF binary", path.display()),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()),
    })?;
    Ok(elf.interpreter.is_none() && elf.libraries.is_empty())
}

/// Builds a busybox root filesystem in `dest` (which must not exist yet, or be empty).
pub fn build_busybox_rootfs(dest: &Path) -> Result<RootfsReport> {
    let busybox = find_static_busybox()?;
    let mkdir = |rel: &str, mode: u32| -> Result<()> {
        let p = dest.join(rel);
        fs::create_dir_all(&p).map_err(Error::io(format!("mkdir {}", p.display())))?;
        // set_permissions, not the mkdir mode: the umask would strip the sticky /tmp bits.
        fs::set_permissions(&p, fs::Permissions::from_mode(mode))
            .map_err(Error::io(format!("chmod {}", p.display())))
    };
    mkdir("", 0o755)?;
    for d in [
        "bin", "sbin", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev", "var/www",
    ] {
        mkdir(d, 0o755)?;
    }
    mkdir("tmp", 0o1777)?;
    mkdir("root", 0o700)?;

    let target = dest.join("bin/busybox");
    fs::copy(&busybox, &target).map_err(Error::io(format!("copy {}", busybox.display())))?;
    fs::set_permissions(&target, fs::Permissions::from_mode(0o755))
        .map_err(Error::io("chmod bin/busybox"))?;

    // `--list-full` names each applet with its usual directory (bin/ls, usr/sbin/chroot, ...).
    let out = Command::new(&busybox)
        .arg("--list-full")
        .output()
        .map_err(Error::io(format!("run {} --list-full", busybox.display())))?;
    let mut applets = 0;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let rel = line.trim().trim_start_matches('/');
        if rel.is_empty() || rel == "bin/busybox" || rel.split('/').any(|c| c == "..") {
            continue;
        }
        let link = dest.join(rel);
        if let Some(parent) = link.parent() {
            fs::create_dir_all(parent).map_err(Error::io(format!("mkdir {}", parent.display())))?;
        }
        // Relative, so the link also works when the rootfs is looked at from outside a chroot.
        let depth = rel.matches('/').count();
        let to = format!("{}bin/busybox", "../".repeat(depth));
        match symlink(&to, &link) {
            Ok(()) => applets += 1,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::io(format!("symlink {}", link.display()))(e)),
        }
    }

    let files: [(&str, &str, u32); 8] = [
        (
            "etc/passwd",
            "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
            0o644,
        ),
        ("etc/group", "root:x:0:\nnogroup:x:65534:\n", 0o644),
        ("etc/hostname", "containerlab\n", 0o644),
        (
            "etc/os-release",
            "NAME=\"containerlab busybox\"\nID=containerlab\nPRETTY_NAME=\"containerlab (busybox rootfs)\"\nHOME_URL=\"https://github.com/containerlab\"\n",
            0o644,
        ),
        ("etc/issue", "Welcome to the containerlab rootfs\n", 0o644),
        (
            "var/www/index.html",
            "<!doctype html>\n<title>containerlab</title>\n<h1>Hello from inside the container</h1>\n",
            0o644,
        ),
        ("root/.profile", "export PS1='lab# '\n", 0o644),
        (STAMP_PATH, "", 0o644),
    ];
    for (rel, content, mode) in files {
        let content = if rel == STAMP_PATH {
            stamp_for(&busybox)
        } else {
            content.to_string()
        };
        let p = dest.join(rel);
        fs::write(&p, content).map_err(Error::io(format!("write {}", p.display())))?;
        fs::set_permissions(&p, fs::Permissions::from_mode(mode))
            .map_err(Error::io(format!("chmod {}", p.display())))?;
    }
    Ok(RootfsReport {
        dest: dest.to_path_buf(),
        busybox,
        applets,
    })
}

fn stamp_for(busybox: &Path) -> String {
    let size = fs::metadata(busybox).map(|m| m.len()).unwrap_or(0);
    format!("{ROOTFS_VERSION}\nbusybox {} {size}\n", busybox.display())
}

/// Returns `cache_dir/rootfs`, building it first when it is missing or was built by another
/// version of this code (or from another busybox). The build happens in a temporary directory
/// next to it that is renamed into place, so a crash never leaves a half-built rootfs behind.
pub fn ensure_rootfs(cache_dir: &Path) -> Result<PathBuf> {
    let dest = cache_dir.join("rootfs");
    let busybox = find_static_busybox()?;
    let want = stamp_for(&busybox);
    if fs::read_to_string(dest.join(STAMP_PATH)).ok().as_deref() == Some(want.as_str()) {
        return Ok(dest);
    }
    fs::create_dir_all(cache_dir).map_err(Error::io(format!("mkdir {}", cache_dir.display())))?;
    let tmp = tempfile::Builder::new()
        .prefix(".rootfs.tmp-")
        .tempdir_in(cache_dir)
        .map_err(Error::io("create temporary rootfs dir"))?;
    build_busybox_rootfs(tmp.path())?;
    install_atomically(tmp, &dest)?;
    Ok(dest)
}

/// Puts the finished `tmp` at `dest`. If `dest` exists, `renameat2(RENAME_EXCHANGE)` swaps the
/// two in one step (readers see either the old or the new tree, never neither), then the old
/// one, now at the temporary name, is deleted when `tmp` drops.
fn install_atomically(tmp: tempfile::TempDir, dest: &Path) -> Result<()> {
    use nix::fcntl::{renameat2, RenameFlags, AT_FDCWD};
    if dest.symlink_metadata().is_ok() {
        renameat2(
            AT_FDCWD,
            tmp.path(),
            AT_FDCWD,
            dest,
            RenameFlags::RENAME_EXCHANGE,
        )
        .map_err(Error::sys(format!(
            "renameat2(RENAME_EXCHANGE) {}",
            dest.display()
        )))?;
        // `tmp` now holds the old tree and removes it on drop.
        drop(tmp);
    } else {
        let path = tmp.keep();
        fs::rename(&path, dest).map_err(Error::io(format!("rename to {}", dest.display())))?;
    }
    Ok(())
}

/// Uses a root filesystem the learner brought: a directory is used where it is; a tarball (an
/// alpine-minirootfs `.tar.gz`, say) is unpacked safely into `cache_dir/given-<hash>` once and
/// reused after that.
pub fn use_given_rootfs(path: &Path, cache_dir: &Path) -> Result<PathBuf> {
    let meta = fs::metadata(path).map_err(Error::io(format!("stat {}", path.display())))?;
    if meta.is_dir() {
        if dest_has_shell(path) {
            return fs::canonicalize(path)
                .map_err(Error::io(format!("resolve {}", path.display())));
        }
        return Err(Error::NotARootfs {
            path: path.to_path_buf(),
        });
    }
    let file = fs::File::open(path).map_err(Error::io(format!("open {}", path.display())))?;
    let (digest, _) =
        sha::digest_reader(file).map_err(Error::io(format!("read {}", path.display())))?;
    let dest = cache_dir.join(format!("given-{}", &digest["sha256:".len()..][..16]));
    // The name is a hash of the tarball, so an existing directory is already the right content.
    if dest.is_dir() {
        return Ok(dest);
    }
    fs::create_dir_all(cache_dir).map_err(Error::io(format!("mkdir {}", cache_dir.display())))?;
    let tmp = tempfile::Builder::new()
        .prefix(".given.tmp-")
        .tempdir_in(cache_dir)
        .map_err(Error::io("create temporary rootfs dir"))?;
    unpack_layer(path, tmp.path(), Whiteouts::Keep)?;
    if !dest_has_shell(tmp.path()) {
        return Err(Error::NotARootfs {
            path: path.to_path_buf(),
        });
    }
    install_atomically(tmp, &dest)?;
    Ok(dest)
}

fn dest_has_shell(root: &Path) -> bool {
    root.join("bin/sh").symlink_metadata().is_ok()
}
