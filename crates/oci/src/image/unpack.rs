//! Unpacking one layer into its own directory, without ever writing outside it.
//!
//! A tar entry is only a name and some bytes, and a hostile layer can name `../../etc/passwd`, or
//! first make `link -> /etc` and then write `link/passwd`. So every path is checked before use:
//! `..` and absolute names are refused outright, and parent directories are opened with
//! `openat2(RESOLVE_BENEATH)`, which makes the *kernel* refuse any resolution (symlinks included)
//! that would leave the target directory. The last component is then created with `*at` calls
//! relative to that parent, never following a symlink there.
//!
//! Whiteouts: in the tar a deleted file is an empty `.wh.NAME`; overlayfs instead wants a 0:0
//! character device called NAME, and an opaque directory carries `trusted.overlay.opaque=y`.
//! [`Whiteouts::Overlay`] makes those (as root); [`Whiteouts::Keep`] leaves the raw tar files.

use crate::error::{Error, Result, UnsafeReason};
use nix::errno::Errno;
use nix::fcntl::AtFlags;
use nix::fcntl::{openat, openat2, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{
    fchmod, fchmodat, fstatat, makedev, mkdirat, mknodat, utimensat, FchmodatFlags, Mode, SFlag,
    UtimensatFlags,
};
use nix::sys::time::TimeSpec;
use nix::unistd::{fchown, fchownat, linkat, symlinkat, unlinkat, Gid, Uid, UnlinkatFlags};
use std::ffi::OsStr;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use xattr::FileExt;

/// What to do with whiteout entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Whiteouts {
    /// Turn them into what overlayfs understands (needs root: mknod, trusted.* xattrs).
    Overlay,
    /// Leave them as the plain files the tar holds, for the learner to look at.
    Keep,
}

/// What one layer brought, for the learner's view. Paths are absolute inside the image.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnpackReport {
    /// Paths this layer created (files, dirs, links).
    pub added: Vec<String>,
    /// Paths that already existed in the target and were replaced (or, for dirs, updated).
    pub changed: Vec<String>,
    /// Paths this layer deletes from the layers below (from `.wh.NAME`).
    pub whiteouts: Vec<String>,
    /// Directories whose lower contents this layer hides (from `.wh..wh..opq`).
    pub opaque_dirs: Vec<String>,
    /// `(path, target)` of hard links.
    pub hardlinks: Vec<(String, String)>,
    /// Entries not unpacked, with why (unknown types, xattrs a layer may not set).
    pub skipped: Vec<String>,
}

const WH: &str = ".wh.";
const OPAQUE: &str = ".wh..wh..opq";

/// Unpacks the layer `blob` (a tar, gzipped or not) into `target` (created if missing).
///
/// On an unsafe entry this stops with [`Error::UnsafeEntry`]; what came before it stays in
/// `target`, nothing is ever written outside it.
pub fn unpack_layer(blob: &Path, target: &Path, mode: Whiteouts) -> Result<UnpackReport> {
    std::fs::create_dir_all(target).map_err(Error::io(format!("mkdir {}", target.display())))?;
    let root: OwnedFd = File::open(target)
        .map_err(Error::io(format!("open {}", target.display())))?
        .into();
    let mut archive = tar::Archive::new(layer_reader(blob)?);
    let mut report = UnpackReport::default();
    let mut u = Unpacker {
        root: root.as_fd(),
        mode,
    };
    for entry in archive.entries().map_err(Error::io("read tar"))? {
        let entry = entry.map_err(Error::io("read tar entry"))?;
        u.entry(entry, &mut report)?;
    }
    Ok(report)
}

/// The tar stream of a layer blob, gunzipped when it is gzipped.
fn layer_reader(blob: &Path) -> Result<Box<dyn Read>> {
    let file = File::open(blob).map_err(Error::io(format!("open {}", blob.display())))?;
    let mut reader = BufReader::new(file);
    let magic = reader.fill_buf().map_err(Error::io("read layer"))?;
    Ok(match magic {
        [0x1f, 0x8b, ..] => Box::new(flate2::read::MultiGzDecoder::new(reader)),
        [0x28, 0xb5, 0x2f, 0xfd, ..] => {
            return Err(Error::Unsupported(
                "zstd-compressed layers (recompress with gzip)".into(),
            ))
        }
        _ => Box::new(reader),
    })
}

/// Reads every entry of the layer `blob` without writing anything, and refuses it as
/// [`unpack_layer`] would refuse it by name: a `..` or absolute path, or a hard link whose
/// target is. (What only the file system can tell, a symlink planted by an earlier entry, is
/// left to the unpacker's `RESOLVE_BENEATH`.) Answers the number of entries. Lets a front end
/// refuse a hostile image before a lesson starts instead of in the middle of it.
pub fn scan_layer(blob: &Path) -> Result<usize> {
    let mut archive = tar::Archive::new(layer_reader(blob)?);
    let mut count = 0;
    for entry in archive.entries().map_err(Error::io("read tar"))? {
        let e = entry.map_err(Error::io("read tar entry"))?;
        let raw = e.path_bytes().into_owned();
        let name = String::from_utf8_lossy(&raw).into_owned();
        let rel = clean(&raw, &name)?;
        // "./" is the root itself, which the unpacker leaves alone whatever the entry says.
        let Some(last) = rel.file_name() else {
            count += 1;
            continue;
        };
        if let Some(hidden) = last.to_string_lossy().strip_prefix(WH) {
            if matches!(hidden, "" | "." | "..") {
                return Err(unsafe_entry(&name, UnsafeReason::ParentDir));
            }
        }
        if e.header().entry_type() == tar::EntryType::Link {
            let target = e
                .link_name_bytes()
                .map(|c| c.into_owned())
                .unwrap_or_default();
            clean(&target, &name).map_err(|_| {
                unsafe_entry(
                    &name,
                    UnsafeReason::HardlinkOutside {
                        target: String::from_utf8_lossy(&target).into_owned(),
                    },
                )
            })?;
        }
        count += 1;
    }
    Ok(count)
}

/// A tar path made safe to join: relative, no `..`, no `.`.
fn clean(raw: &[u8], entry: &str) -> Result<PathBuf> {
    let p = Path::new(OsStr::from_bytes(raw));
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir => {}
            Component::ParentDir => return Err(unsafe_entry(entry, UnsafeReason::ParentDir)),
            Component::RootDir | Component::Prefix(_) => {
                return Err(unsafe_entry(entry, UnsafeReason::Absolute))
            }
        }
    }
    Ok(out)
}

fn unsafe_entry(entry: &str, reason: UnsafeReason) -> Error {
    Error::UnsafeEntry {
        entry: entry.to_string(),
        reason,
    }
}

fn shown(p: &Path) -> String {
    format!("/{}", p.display())
}

struct Unpacker<'a> {
    root: BorrowedFd<'a>,
    mode: Whiteouts,
}

impl Unpacker<'_> {
    /// Opens directory `rel` under the root, refusing any escape; creates missing directories
    /// (0755) when `create`.
    fn dir(&self, rel: &Path, entry: &str, create: bool) -> Result<OwnedFd> {
        if rel.as_os_str().is_empty() {
            return self
                .root
                .try_clone_to_owned()
                .map_err(Error::io("dup target fd"));
        }
        let how = || {
            OpenHow::new()
                .flags(OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC)
                .resolve(ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_MAGICLINKS)
        };
        match openat2(self.root, rel, how()) {
            Ok(fd) => Ok(fd),
            Err(Errno::EXDEV | Errno::ELOOP) => {
                Err(unsafe_entry(entry, UnsafeReason::EscapesThroughSymlink))
            }
            Err(Errno::ENOENT) if create => {
                let parent = self.dir(rel.parent().unwrap_or(Path::new("")), entry, true)?;
                let name = rel.file_name().unwrap_or_default();
                match mkdirat(&parent, name, Mode::from_bits_truncate(0o755)) {
                    Ok(()) | Err(Errno::EEXIST) => {}
                    Err(e) => return Err(Error::sys(format!("mkdirat {}", shown(rel)))(e)),
                }
                match openat2(self.root, rel, how()) {
                    Ok(fd) => Ok(fd),
                    Err(Errno::EXDEV | Errno::ELOOP) => {
                        Err(unsafe_entry(entry, UnsafeReason::EscapesThroughSymlink))
                    }
                    Err(e) => Err(Error::sys(format!("open {}", shown(rel)))(e)),
                }
            }
            Err(e) => Err(Error::sys(format!("open {}", shown(rel)))(e)),
        }
    }

    fn entry<R: Read>(
        &mut self,
        mut e: tar::Entry<'_, R>,
        report: &mut UnpackReport,
    ) -> Result<()> {
        let raw = e.path_bytes().into_owned();
        let name_shown = String::from_utf8_lossy(&raw).into_owned();
        let rel = clean(&raw, &name_shown)?;
        let Some(name) = rel.file_name().map(|n| n.to_os_string()) else {
            return Ok(()); // "./": the root itself
        };
        let parent_rel = rel.parent().unwrap_or(Path::new("")).to_path_buf();
        let parent = self.dir(&parent_rel, &name_shown, true)?;
        let name_str = name.to_string_lossy().into_owned();
        let h = e.header().clone();
        let etype = h.entry_type();

        // Whiteouts.
        if name_str == OPAQUE {
            report.opaque_dirs.push(shown(&parent_rel));
            if self.mode == Whiteouts::Overlay {
                File::from(parent)
                    .set_xattr("trusted.overlay.opaque", b"y")
                    .map_err(Error::io(format!(
                        "set opaque xattr on {}",
                        shown(&parent_rel)
                    )))?;
                return Ok(());
            }
        } else if let Some(hidden) = name_str.strip_prefix(WH) {
            if matches!(hidden, "" | "." | "..") {
                return Err(unsafe_entry(&name_shown, UnsafeReason::ParentDir));
            }
            report.whiteouts.push(shown(&parent_rel.join(hidden)));
            if self.mode == Whiteouts::Overlay {
                self.remove_existing(&parent, OsStr::new(hidden), false)?;
                mknodat(
                    &parent,
                    hidden,
                    SFlag::S_IFCHR,
                    Mode::empty(),
                    makedev(0, 0),
                )
                .map_err(Error::sys(format!(
                    "mknodat whiteout {}",
                    shown(&parent_rel.join(hidden))
                )))?;
                return Ok(());
            }
        }

        // Blank in some writers' hard-link entries, where it is unused anyway.
        let mode = Mode::from_bits_truncate(h.mode().unwrap_or(0o644) & 0o7777);
        // Some writers leave uid/gid blank; like GNU tar, read that as root.
        let uid = Uid::from_raw(h.uid().unwrap_or(0) as u32);
        let gid = Gid::from_raw(h.gid().unwrap_or(0) as u32);
        let mtime = TimeSpec::new(h.mtime().unwrap_or(0) as i64, 0);
        let xattrs = xattrs_of(&mut e, &name_shown, report)?;
        let is_dir = etype == tar::EntryType::Directory;
        let existed = self.remove_existing(&parent, &name, is_dir)?;
        let p = shown(&rel);
        if existed {
            report.changed.push(p.clone());
        } else {
            report.added.push(p.clone());
        }

        match etype {
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                let fd = openat(
                    &parent,
                    name.as_os_str(),
                    OFlag::O_WRONLY
                        | OFlag::O_CREAT
                        | OFlag::O_EXCL
                        | OFlag::O_NOFOLLOW
                        | OFlag::O_CLOEXEC,
                    Mode::from_bits_truncate(0o600),
                )
                .map_err(Error::sys(format!("create {p}")))?;
                let mut f = File::from(fd);
                std::io::copy(&mut e, &mut f).map_err(Error::io(format!("write {p}")))?;
                // Order matters: chown clears setuid bits and file capabilities, so it comes
                // first, then the mode, then the xattrs.
                fchown(&f, Some(uid), Some(gid)).map_err(Error::sys(format!("fchown {p}")))?;
                fchmod(&f, mode).map_err(Error::sys(format!("fchmod {p}")))?;
                set_xattrs(&f, &xattrs, &p)?;
                nix::sys::stat::futimens(&f, &mtime, &mtime)
                    .map_err(Error::sys(format!("futimens {p}")))?;
            }
            tar::EntryType::Directory => {
                if !existed {
                    mkdirat(&parent, name.as_os_str(), Mode::from_bits_truncate(0o700))
                        .map_err(Error::sys(format!("mkdirat {p}")))?;
                }
                let fd = openat(
                    &parent,
                    name.as_os_str(),
                    OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
                    Mode::empty(),
                )
                .map_err(Error::sys(format!("open {p}")))?;
                let f = File::from(fd);
                fchown(&f, Some(uid), Some(gid)).map_err(Error::sys(format!("fchown {p}")))?;
                fchmod(&f, mode).map_err(Error::sys(format!("fchmod {p}")))?;
                set_xattrs(&f, &xattrs, &p)?;
            }
            tar::EntryType::Symlink => {
                let target = e
                    .link_name_bytes()
                    .map(|c| c.into_owned())
                    .unwrap_or_default();
                // The link's text is stored, never followed here: where it points only matters
                // inside the container, where `/` is the rootfs.
                symlinkat(OsStr::from_bytes(&target), &parent, name.as_os_str())
                    .map_err(Error::sys(format!("symlinkat {p}")))?;
                fchownat(
                    &parent,
                    name.as_os_str(),
                    Some(uid),
                    Some(gid),
                    AtFlags::AT_SYMLINK_NOFOLLOW,
                )
                .map_err(Error::sys(format!("lchown {p}")))?;
                utimensat(
                    &parent,
                    name.as_os_str(),
                    &mtime,
                    &mtime,
                    UtimensatFlags::NoFollowSymlink,
                )
                .map_err(Error::sys(format!("utimensat {p}")))?;
            }
            tar::EntryType::Link => {
                let raw_target = e
                    .link_name_bytes()
                    .map(|c| c.into_owned())
                    .unwrap_or_default();
                let shown_target = String::from_utf8_lossy(&raw_target).into_owned();
                let outside = || {
                    unsafe_entry(
                        &name_shown,
                        UnsafeReason::HardlinkOutside {
                            target: shown_target.clone(),
                        },
                    )
                };
                let t = clean(&raw_target, &name_shown).map_err(|_| outside())?;
                let tname = t.file_name().ok_or_else(outside)?;
                let tparent =
                    match self.dir(t.parent().unwrap_or(Path::new("")), &name_shown, false) {
                        Ok(fd) => fd,
                        Err(Error::UnsafeEntry { .. }) => return Err(outside()),
                        Err(_) => {
                            return Err(unsafe_entry(
                                &name_shown,
                                UnsafeReason::HardlinkTargetMissing {
                                    target: shown_target,
                                },
                            ))
                        }
                    };
                match linkat(&tparent, tname, &parent, name.as_os_str(), AtFlags::empty()) {
                    Ok(()) => {}
                    Err(Errno::ENOENT) => {
                        return Err(unsafe_entry(
                            &name_shown,
                            UnsafeReason::HardlinkTargetMissing {
                                target: shown_target,
                            },
                        ))
                    }
                    Err(err) => return Err(Error::sys(format!("linkat {p}"))(err)),
                }
                report.hardlinks.push((p, shown(&t)));
            }
            tar::EntryType::Char | tar::EntryType::Block | tar::EntryType::Fifo => {
                let kind = match etype {
                    tar::EntryType::Char => SFlag::S_IFCHR,
                    tar::EntryType::Block => SFlag::S_IFBLK,
                    _ => SFlag::S_IFIFO,
                };
                let major = h.device_major().ok().flatten().unwrap_or(0);
                let minor = h.device_minor().ok().flatten().unwrap_or(0);
                mknodat(
                    &parent,
                    name.as_os_str(),
                    kind,
                    mode,
                    makedev(major.into(), minor.into()),
                )
                .map_err(Error::sys(format!("mknodat {p}")))?;
                fchownat(
                    &parent,
                    name.as_os_str(),
                    Some(uid),
                    Some(gid),
                    AtFlags::AT_SYMLINK_NOFOLLOW,
                )
                .map_err(Error::sys(format!("chown {p}")))?;
                // mknod's mode went through the umask; set it exactly.
                fchmodat(
                    &parent,
                    name.as_os_str(),
                    mode,
                    FchmodatFlags::NoFollowSymlink,
                )
                .or_else(|e| {
                    if e == Errno::EOPNOTSUPP {
                        fchmodat(
                            &parent,
                            name.as_os_str(),
                            mode,
                            FchmodatFlags::FollowSymlink,
                        )
                    } else {
                        Err(e)
                    }
                })
                .map_err(Error::sys(format!("chmod {p}")))?;
            }
            other => {
                report.added.pop();
                report
                    .skipped
                    .push(format!("{p}: tar entry type {other:?} is not unpacked"));
            }
        }
        Ok(())
    }

    /// Removes what is at `parent/name` unless both it and the new entry are directories.
    /// Returns whether something was there.
    fn remove_existing(&self, parent: &OwnedFd, name: &OsStr, new_is_dir: bool) -> Result<bool> {
        match fstatat(parent, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
            Err(Errno::ENOENT) => Ok(false),
            Err(e) => Err(Error::sys(format!("fstatat {}", name.to_string_lossy()))(e)),
            Ok(st) => {
                let is_dir =
                    SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFDIR;
                if is_dir && new_is_dir {
                    return Ok(true);
                }
                let flag = if is_dir {
                    UnlinkatFlags::RemoveDir
                } else {
                    UnlinkatFlags::NoRemoveDir
                };
                unlinkat(parent, name, flag)
                    .map_err(Error::sys(format!("unlinkat {}", name.to_string_lossy())))?;
                Ok(true)
            }
        }
    }
}

/// The entry's `SCHILY.xattr.*` PAX records that a layer may set: file capabilities and
/// `user.*`. Others (notably `trusted.overlay.*`, which would let a layer forge overlay
/// metadata) are skipped and reported.
fn xattrs_of<R: Read>(
    e: &mut tar::Entry<'_, R>,
    entry: &str,
    report: &mut UnpackReport,
) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = vec![];
    if let Some(exts) = e.pax_extensions().map_err(Error::io("read PAX header"))? {
        for ext in exts {
            let ext = ext.map_err(Error::io("read PAX record"))?;
            let Ok(key) = ext.key() else { continue };
            if let Some(name) = key.strip_prefix("SCHILY.xattr.") {
                if name == "security.capability" || name.starts_with("user.") {
                    out.push((name.to_string(), ext.value_bytes().to_vec()));
                } else {
                    report
                        .skipped
                        .push(format!("/{entry}: xattr {name} not set"));
                }
            }
        }
    }
    Ok(out)
}

fn set_xattrs(f: &File, xattrs: &[(String, Vec<u8>)], p: &str) -> Result<()> {
    for (k, v) in xattrs {
        f.set_xattr(k, v)
            .map_err(Error::io(format!("set xattr {k} on {p}")))?;
    }
    Ok(())
}
