//! The lab on a cgroup-v2-only kernel: boots Debian's kernel under qemu with cgroup_no_v1=all
//! (tests/vm/run-in-vm.sh), its `/` ext4 on the virtio disk /dev/vda like a learner's VM, and
//! plays every built-in lesson headless inside with `run all`, after `doctor`.
//! Needs qemu-system-x86, busybox-static, cpio and e2fsprogs (tests/run.sh installs them); the
//! kernel package is fetched with apt-get download on first use and cached in
//! /var/cache/containerlab-vm.

mod common;

use containerlab::lesson::load::catalog;
use std::process::Command;

#[test]
fn every_lesson_passes_on_a_cgroup_v2_only_kernel() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vm/run-in-vm.sh");
    // The caps lesson needs iputils ping with its file capability and capsh: the host's are
    // copied in (without extended attributes), and the capability is given back inside. The
    // lessons' commands and solutions use util-linux's tools, which busybox lacks (findmnt,
    // ipcmk) or has with fewer options: a learner's Debian has them, so the guest gets them too.
    // The bridge lesson loads its NAT rules with nftables' `nft` (its libraries come along).
    // The root's cgroup.subtree_control is compared before and after: the lab hands memory and
    // pids down from it to make its cgroups, and must take them back.
    let guest = "export PATH=/usr/local/bin:$PATH; setcap cap_net_raw+ep /usr/local/bin/ping; \
                 before=$(cat /sys/fs/cgroup/cgroup.subtree_control); \
                 containerlab doctor; containerlab run all --headless > /tmp/run.txt 2>&1; rc=$?; \
                 grep -E '^(✓|✗) |✗|refused|cannot run' /tmp/run.txt; \
                 after=$(cat /sys/fs/cgroup/cgroup.subtree_control); \
                 echo \"root subtree_control before=[$before] after=[$after]\"; exit $rc";
    let tools: Vec<String> = [
        "ping", "capsh", "setcap", "unshare", "nsenter", "findmnt", "ipcmk", "ipcs", "ipcrm", "nft",
    ]
    .iter()
    .flat_map(|t| {
        let path = ["/usr/bin", "/usr/sbin", "/bin", "/sbin"]
            .iter()
            .map(|d| std::path::Path::new(d).join(t))
            .find(|p| p.is_file())
            .unwrap_or_else(|| {
                panic!(
                    "{t} is needed on the host (iputils-ping, libcap2-bin, util-linux, nftables)"
                )
            });
        ["--file".to_string(), path.display().to_string()]
    })
    .collect();
    let out = Command::new("bash")
        .arg(script)
        .args([
            "--cgroup",
            "v2",
            "--mem",
            "1536",
            "--timeout",
            "600",
            "--file",
        ])
        .arg(common::bin())
        .args(&tools)
        .args(["--", "sh", "-c", guest])
        .output()
        .expect("run the VM harness");
    // The guest's `/` is ext4 on /dev/vda, so no lesson is refused (the privileged one needs the
    // root on a block device): `run all` must run every lesson, pass them all and exit 0.
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(0),
        "`run all --headless` in the guest:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!text.contains("cannot run lesson"), "{text}");
    assert!(
        text.contains("cgroup v2"),
        "doctor names cgroup v2:\n{text}"
    );
    // Every built-in lesson, privileged included, ran and passed.
    let lessons = catalog(&[]).0;
    assert!(
        lessons.len() > 20,
        "the built-in catalog: {}",
        lessons.len()
    );
    for loaded in &lessons {
        let id = &loaded.lesson.id;
        assert!(text.contains(&format!("✓ {id}:")), "lesson {id}:\n{text}");
    }
    // doctor's probe found the root device the privileged lesson mounts: the guest's disk.
    assert!(
        text.contains("/ is ext4 on the block device /dev/vda"),
        "doctor names /dev/vda:\n{text}"
    );
    assert!(!text.contains("✗"), "{text}");
    let line = text
        .lines()
        .find(|l| l.starts_with("root subtree_control"))
        .unwrap_or_else(|| panic!("no subtree_control line:\n{text}"));
    let (before, after) = line.split_once(" after=").unwrap();
    assert_eq!(
        before.trim_start_matches("root subtree_control before="),
        after,
        "the host's root cgroup was left changed"
    );
}
