//! The busybox rootfs really works under chroot(2).

mod common;

use containerlab_oci::rootfs::{build_busybox_rootfs, ensure_rootfs, use_given_rootfs, STAMP_PATH};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

fn in_chroot(root: &Path, script: &str) -> std::process::Output {
    let root = root.to_path_buf();
    let mut cmd = Command::new("/bin/sh");
    cmd.args(["-c", script])
        .env_clear()
        .env("PATH", "/bin:/sbin:/usr/bin:/usr/sbin");
    // SAFETY: chroot and chdir are async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            nix::unistd::chroot(&root)?;
            nix::unistd::chdir("/")?;
            Ok(())
        });
    }
    cmd.output().unwrap()
}

#[test]
fn chroot_into_busybox_rootfs() {
    let t = common::tmp();
    let root = t.path().join("rootfs");
    let report = build_busybox_rootfs(&root).unwrap();
    assert!(report.applets > 50, "{report:?}");
    assert_eq!(
        fs::metadata(root.join("tmp")).unwrap().permissions().mode() & 0o7777,
        0o1777
    );
    let out = in_chroot(&root, "echo ok; cat /etc/hostname; ls /var/www; id -u");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "ok\ncontainerlab\nindex.html\n0\n"
    );
}

#[test]
fn ensure_rootfs_builds_once_and_rebuilds_on_a_stale_stamp() {
    let t = common::tmp();
    let a = ensure_rootfs(t.path()).unwrap();
    let marker = a.join("marker");
    fs::write(&marker, "").unwrap();
    assert_eq!(ensure_rootfs(t.path()).unwrap(), a);
    assert!(marker.exists(), "an up-to-date rootfs is reused");
    fs::write(a.join(STAMP_PATH), "old version\n").unwrap();
    ensure_rootfs(t.path()).unwrap();
    assert!(!marker.exists(), "a stale rootfs is rebuilt");
    assert!(a.join("bin/busybox").is_file());
    // Only the rootfs remains: temporary build dirs are gone.
    let names: Vec<_> = fs::read_dir(t.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["rootfs"]);
}

#[test]
fn a_given_tarball_is_unpacked_into_the_cache() {
    let t = common::tmp();
    let root = t.path().join("src");
    build_busybox_rootfs(&root).unwrap();
    let tgz = t.path().join("mini.tar.gz");
    let gz =
        flate2::write::GzEncoder::new(fs::File::create(&tgz).unwrap(), flate2::Compression::fast());
    let mut b = tar::Builder::new(gz);
    b.follow_symlinks(false);
    b.append_dir_all(".", &root).unwrap();
    b.into_inner().unwrap().finish().unwrap();

    let cache = t.path().join("cache");
    let got = use_given_rootfs(&tgz, &cache).unwrap();
    assert!(got.starts_with(&cache));
    let out = in_chroot(&got, "echo ok");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ok\n");
    assert_eq!(use_given_rootfs(&tgz, &cache).unwrap(), got);
    // A directory is used where it is.
    assert_eq!(
        use_given_rootfs(&root, &cache).unwrap(),
        fs::canonicalize(&root).unwrap()
    );
}

#[test]
fn static_and_dynamic_binaries_are_told_apart() {
    use containerlab_oci::rootfs::{find_static_busybox, is_static_elf};
    assert!(is_static_elf(&find_static_busybox().unwrap()).unwrap());
    // /bin/sh on Debian/Ubuntu is dash, dynamically linked against libc.
    assert!(!is_static_elf(&fs::canonicalize("/bin/sh").unwrap()).unwrap());
}
