//! The Vagrant / Lima provisioning, tested for real: vagrant/provision.sh runs twice in a fresh
//! debootstrapped Debian 12 chroot (tests/provision/run.sh; root; needs debootstrap and the
//! Debian mirror on first run, then works from /var/cache/containerlab-provision), and the files
//! around it are checked: shellcheck-clean scripts, a Vagrantfile that parses and asks for the
//! right box, providers and provisioner, and a lima.yaml that runs the same script.

mod common;

use std::path::Path;
use std::process::Command;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn run(cmd: &mut Command) -> (i32, String) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn provisioning_scripts_are_shellcheck_clean() {
    let (code, text) = run(Command::new("shellcheck")
        .current_dir(repo())
        .args(["vagrant/provision.sh", "tests/provision/run.sh"]));
    assert_eq!(code, 0, "{text}");
}

#[test]
fn the_vagrantfile_parses_and_asks_for_debian_12_on_both_providers() {
    let (code, text) = run(Command::new("ruby")
        .args(["-c"])
        .arg(repo().join("vagrant/Vagrantfile")));
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("Syntax OK"), "{text}");

    // Evaluate it against a stand-in for Vagrant's API: what does it configure?
    let stub = repo().join("tests/provision/vagrantfile_stub.rb");
    let vagrantfile = repo().join("vagrant/Vagrantfile");
    let (code, text) = run(Command::new("ruby")
        .arg(&stub)
        .arg(&vagrantfile)
        .env_remove("CONTAINERLAB_BINARY")
        .env_remove("CONTAINERLAB_BOX"));
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("vm.box = \"debian/bookworm64\""), "{text}");
    assert!(text.contains("vm.box_version = \"12."), "{text}");
    assert!(text.contains("provider virtualbox\n"), "{text}");
    // The VirtualBox name is the checkout's own, so two checkouts do not collide.
    let checkout = repo().file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        text.contains(&format!(
            "provider virtualbox: name = \"containerlab-{checkout}-"
        )),
        "{text}"
    );
    assert!(text.contains("provider libvirt\n"), "{text}");
    // The whole checkout (not just vagrant/) is synced, without build output.
    let sync = text
        .lines()
        .find(|l| l.contains("type: \"rsync\""))
        .unwrap_or_else(|| panic!("no rsync synced folder:\n{text}"));
    assert!(
        sync.contains(&format!("{:?}, \"/vagrant\"", repo().display().to_string())),
        "{sync}"
    );
    assert!(sync.contains("\"target/\""), "{sync}");
    // The container lesson's published port reaches the laptop's browser, on loopback only.
    assert!(
        text.contains(
            r#"vm.network("forwarded_port", guest: 8080, host: 8080, host_ip: "127.0.0.1", auto_correct: true)"#
        ),
        "{text}"
    );
    assert!(
        text.contains(
            r#"path: "provision.sh", args: ["--source", "/vagrant", "--user", "vagrant"], env: {}"#
        ),
        "{text}"
    );

    // CONTAINERLAB_BINARY and CONTAINERLAB_BOX reach the VM.
    let (code, text) = run(Command::new("ruby")
        .arg(&stub)
        .arg(&vagrantfile)
        .env("CONTAINERLAB_BINARY", "/vagrant/dist/containerlab")
        .env("CONTAINERLAB_BOX", "example/arm64-bookworm"));
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains(r#"env: {"CONTAINERLAB_BINARY"=>"/vagrant/dist/containerlab"}"#),
        "{text}"
    );
    assert!(
        text.contains("vm.box = \"example/arm64-bookworm\""),
        "{text}"
    );
    // The pinned version belongs to the default box only.
    assert!(!text.contains("vm.box_version"), "{text}");
}

#[test]
fn the_lima_config_runs_the_same_script_on_arm64_and_amd64() {
    let text = std::fs::read_to_string(repo().join("vagrant/lima.yaml")).unwrap();
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let arches: Vec<&str> = doc["images"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|i| i["arch"].as_str().unwrap())
        .collect();
    assert!(
        arches.contains(&"aarch64") && arches.contains(&"x86_64"),
        "{arches:?}"
    );
    for image in doc["images"].as_sequence().unwrap() {
        let location = image["location"].as_str().unwrap();
        assert!(location.contains("debian-12-"));
        // A dated image is checked against its digest; only the `latest` fallback has none.
        if !location.contains("/latest/") {
            let digest = image["digest"].as_str().unwrap_or_default();
            assert!(digest.starts_with("sha512:"), "{location}: {digest:?}");
        }
    }
    // vz and virtiofs exist on macOS only; Lima picks them there by itself.
    assert!(doc.get("vmType").is_none() && doc.get("mountType").is_none());
    assert_eq!(
        doc["mounts"][0]["mountPoint"].as_str(),
        Some("/mnt/containerlab")
    );
    let script = doc["provision"][0]["script"].as_str().unwrap();
    assert_eq!(doc["provision"][0]["mode"].as_str(), Some("system"));
    assert!(
        script.contains("/mnt/containerlab/vagrant/provision.sh")
            || script.contains("$src/vagrant/provision.sh")
    );
    // The embedded script is itself valid shell.
    let (code, out) = run(Command::new("bash").args(["-n", "-c", script]));
    assert_eq!(code, 0, "{out}");
}

#[test]
fn provision_sh_twice_in_a_fresh_debian_12_chroot() {
    // Mount-table snapshots compare machine-wide state: take turns with the other root tests.
    let _m = common::machine();
    let work = tempfile::Builder::new()
        .prefix("containerlab-provision-test.")
        .tempdir_in("/var/tmp")
        .unwrap();
    let mountinfo_mentions_work = || {
        std::fs::read_to_string("/proc/self/mountinfo")
            .unwrap()
            .contains(&work.path().display().to_string())
    };
    let (code, text) = run(Command::new("bash")
        .arg(repo().join("tests/provision/run.sh"))
        .arg("--binary")
        .arg(common::bin())
        .arg("--work")
        .arg(work.path()));
    // The timings, for the log of `cargo test -- --nocapture`.
    for line in text.lines().filter(|l| l.contains("TIMING")) {
        println!("{line}");
    }
    assert_eq!(code, 0, "{text}");
    assert!(text.trim_end().ends_with("PROVISION-TEST: PASS"), "{text}");
    for claim in [
        "ok: the second run changed nothing",
        "ok: the second run installed no package",
        "ok: doctor: root yes",
        "ok: doctor: busybox yes",
        "ok: doctor: ping yes",
        "ok: the busybox rootfs cache was built",
        "ok: a login shell greets the learner",
        "ok: the uts lesson passes inside",
        "ok: the build tools were installed for a source build",
        "ok: the toolchain in /opt/rust was found and its version accepted",
        "ok: cargo built a locked release in the source tree",
        "ok: the built binary is the one on PATH",
    ] {
        assert!(text.contains(claim), "missing {claim:?} in:\n{text}");
    }
    // Its /proc, /sys and /dev mounts were in a namespace of its own and are gone; so is the
    // root filesystem.
    assert!(!mountinfo_mentions_work());
    assert!(!work.path().join("rootfs").exists());
}
