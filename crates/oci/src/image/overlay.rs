//! Stacking unpacked layers with overlayfs.
//!
//! overlayfs shows several directories as one. `lowerdir=A:B:C` lists read-only layers, and the
//! LEFTMOST is the TOP: a file in A hides the same path in B and C. So the list is the reverse of
//! the manifest order (the manifest lists the bottom layer first). Writes go to `upperdir`; a
//! changed lower file is first copied up, and a deleted one gets a whiteout in upper. `workdir`
//! is overlayfs' scratch space and must be an empty directory on the same filesystem as upper.

use containerlab_trace::{quoted, Trace};
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use std::path::{Path, PathBuf};

/// Escapes the characters overlayfs' option parser treats specially (`\`, `:` and `,`).
fn escape(p: &Path) -> String {
    let mut s = String::new();
    for c in p.to_string_lossy().chars() {
        if matches!(c, '\\' | ':' | ',') {
            s.push('\\');
        }
        s.push(c);
    }
    s
}

/// The `data` argument of `mount(2)` for an overlay: `lowerdir=TOP:...:BOTTOM,upperdir=..,workdir=..`.
///
/// `lowers` must be given TOP FIRST (reverse manifest order): overlayfs gives the leftmost
/// lowerdir priority.
pub fn overlay_mount_data(lowers: &[PathBuf], upper: &Path, work: &Path) -> String {
    let lower: Vec<String> = lowers.iter().map(|p| escape(p)).collect();
    format!(
        "lowerdir={},upperdir={},workdir={}",
        lower.join(":"),
        escape(upper),
        escape(work)
    )
}

/// `mount("overlay", target, "overlay", 0, data)`, recorded in `trace`.
pub fn mount_overlay(target: &Path, data: &str, trace: &mut Trace) -> nix::Result<()> {
    trace.record(
        format!(
            "mount(\"overlay\", {}, \"overlay\", 0, {})",
            quoted(&target.to_string_lossy()),
            quoted(data)
        ),
        mount(
            Some("overlay"),
            target,
            Some("overlay"),
            MsFlags::empty(),
            Some(data),
        ),
    )
}

/// `umount2(target, 0)`, recorded in `trace`.
pub fn umount_overlay(target: &Path, trace: &mut Trace) -> nix::Result<()> {
    trace.record(
        format!("umount2({}, 0)", quoted(&target.to_string_lossy())),
        umount2(target, MntFlags::empty()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_layer_comes_first_and_separators_are_escaped() {
        let data = overlay_mount_data(
            &[PathBuf::from("/l/top"), PathBuf::from("/l/a:b,c")],
            Path::new("/u"),
            Path::new("/w"),
        );
        assert_eq!(data, r"lowerdir=/l/top:/l/a\:b\,c,upperdir=/u,workdir=/w");
    }
}
