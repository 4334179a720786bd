//! File capabilities: the `security.capability` extended attribute, decoded like getcap(8).
//!
//! The attribute is a little-endian `struct vfs_cap_data`: a magic/version word whose low bit
//! is the "effective" flag, then (permitted, inheritable) 32-bit pairs, two of them for version 2
//! and 3 (version 3 adds the root uid of the user namespace it applies in).

use std::path::{Path, PathBuf};

/// Why a file's capabilities could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FileCapsError {
    #[error("{}: a path with a NUL byte", .0.display())]
    NulInPath(PathBuf),
    #[error("getxattr {}: {source}", .path.display())]
    Getxattr {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("security.capability attribute too short")]
    TooShort,
    #[error("unknown vfs_cap_data revision {0:#x}")]
    UnknownRevision(u32),
}

// From linux/capability.h; the engine's writer (`setcap`) uses the same layout.
pub const VFS_CAP_REVISION_1: u32 = 0x0100_0000;
pub const VFS_CAP_REVISION_2: u32 = 0x0200_0000;
pub const VFS_CAP_REVISION_3: u32 = 0x0300_0000;
pub const VFS_CAP_FLAGS_EFFECTIVE: u32 = 0x01;

/// The raw attribute, or None when the file has none.
pub fn raw(path: &Path) -> Result<Option<Vec<u8>>, FileCapsError> {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes())
        .map_err(|_| FileCapsError::NulInPath(path.to_path_buf()))?;
    let name = c"security.capability";
    let mut buf = vec![0u8; 64];
    // SAFETY: the buffer is valid for its length; the strings are NUL-terminated.
    let n = unsafe {
        libc::getxattr(
            c.as_ptr(),
            name.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    if n < 0 {
        let e = std::io::Error::last_os_error();
        return match e.raw_os_error() {
            Some(libc::ENODATA) => Ok(None),
            _ => Err(FileCapsError::Getxattr {
                path: path.to_path_buf(),
                source: e,
            }),
        };
    }
    buf.truncate(n as usize);
    Ok(Some(buf))
}

/// (permitted mask, inheritable mask, effective flag) of an attribute value.
pub fn parse(data: &[u8]) -> Result<(u64, u64, bool), FileCapsError> {
    let word = |i: usize| -> Option<u32> {
        data.get(i * 4..i * 4 + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let magic = word(0).ok_or(FileCapsError::TooShort)?;
    let effective = magic & VFS_CAP_FLAGS_EFFECTIVE != 0;
    let words = match magic & 0xFF00_0000 {
        VFS_CAP_REVISION_1 => 1,
        VFS_CAP_REVISION_2 | VFS_CAP_REVISION_3 => 2,
        other => return Err(FileCapsError::UnknownRevision(other)),
    };
    let (mut p, mut i) = (0u64, 0u64);
    for k in 0..words {
        p |= (word(1 + 2 * k).ok_or(FileCapsError::TooShort)? as u64) << (32 * k);
        i |= (word(2 + 2 * k).ok_or(FileCapsError::TooShort)? as u64) << (32 * k);
    }
    Ok((p, i, effective))
}

/// getcap-style text: `cap_net_raw=ep`, or `none` when the file carries no capability.
pub fn read(path: &Path) -> Result<String, FileCapsError> {
    let Some(data) = raw(path)? else {
        return Ok("none".into());
    };
    let (p, i, e) = parse(&data)?;
    let mut parts = Vec::new();
    if p != 0 {
        let flags = if e { "ep" } else { "p" };
        parts.push(format!("{}={flags}", super::caps::decode(p).join(",")));
    }
    if i != 0 {
        parts.push(format!("{}=i", super::caps::decode(i).join(",")));
    }
    Ok(if parts.is_empty() {
        "none".into()
    } else {
        parts.join(" ")
    })
}
