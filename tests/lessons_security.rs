//! The lessons of the defences and the doors around a container (hardening, privileged,
//! volumes; issue #17 items 8-10), played headless as root on the real kernel with `/` made
//! rshared in a mount namespace this test makes (as systemd does): each passes with the checks
//! that carry its point, and leaves that namespace's mountinfo byte-identical, the machine as it
//! was and its session directory empty, also when interrupted with SIGINT while its objects
//! exist (a seccomp'd process, the host's disk mounted read-only, a read-only bind of `/`).
//!
//! The privileged lesson needs the host's `/` on a block device: where there is none, the test
//! asserts the refusal (exit 3, the reason) instead, which is what a learner gets there.

mod common;

use common::lesson_run::{interrupt, lab_turn, play, LabTurn, Run, Wrap};
use common::{assert_empty_dir, parent_of, sleepers, wait_until};
use std::time::Duration;

/// A sleep whose command line no other program uses, to find leftovers by.
const SLEEP: &str = "314.159";

fn check_clean(t: &LabTurn, run: &Run) {
    t.turn.assert_host_unchanged(&run.output);
    assert_empty_dir(t.dir());
    wait_until(10, || sleepers(SLEEP).is_empty());
    assert_eq!(sleepers(SLEEP), Vec::<i32>::new(), "a sleep survived");
    run.assert_mountinfo_kept();
}

/// Plays `lesson` to the end; every claim in `key` must be reported as passed.
fn full(lesson: &str, key: &[&str]) -> Run {
    let t = lab_turn();
    let run = play(Wrap::RsharedMountNs, lesson, &[], t.dir());
    run.assert_passed_with(lesson, key);
    assert!(run.output.contains(" 0 failed"), "{}", run.output);
    check_clean(&t, &run);
    run
}

/// Interrupts `lesson` while `who` sleeps after step `after` (0-based count of steps played);
/// `at_pause` gets the sleep's pid and says what it saw. Returns the run's output and that.
fn interrupted_with(
    lesson: &str,
    after: usize,
    who: &str,
    at_pause: impl FnOnce(Option<i32>) -> String,
) -> String {
    let t = lab_turn();
    let within = Duration::from_secs(120);
    let run = interrupt(
        Wrap::RsharedMountNs,
        (lesson, after, who),
        SLEEP,
        t.dir(),
        within,
        at_pause,
    );
    assert_eq!(run.code, Some(130), "{}", run.output);
    check_clean(&t, &run);
    run.output
}

fn interrupted(lesson: &str, after: usize, who: &str) {
    interrupted_with(lesson, after, who, |_| String::new());
}

fn has_root_block_device() -> bool {
    containerlab::inspect::mounts::root_block_device().is_some()
}

#[test]
fn hardening_masks_paths_makes_proc_sys_read_only_and_seccomp_refuses_unshare_and_keyctl() {
    full(
        "hardening",
        &[
            "In box, /proc/timer_list is the character device 1:3 (/dev/null)",
            "In box, /sys/firmware is an empty directory",
            "Writing /proc/sys/kernel/hostname fails with EROFS",
            "box's /proc/PID/status shows Seccomp: 2 (filter mode)",
            "box still has cap_sys_admin in its effective set",
            "unshare(CLONE_NEWUTS) fails with EPERM",
            "keyctl now fails with EPERM",
        ],
    );
}

#[test]
fn hardening_interrupted_with_a_seccomped_process_cleans_up_and_its_shell_is_filtered_too() {
    // After "seccomp": box runs under the filter, with its masks and read-only /proc/sys. A
    // learner's shell entering it (the TUI's `s`, `containerlab __enter`) takes the filter on,
    // as `docker exec` does: keyctl and unshare fail there too.
    let seen = interrupted_with("hardening", 3, "box", |sleeper| {
        let sleeper = sleeper.expect("the pause's sleep runs");
        let lab = common::bin();
        let typed = format!(
            "'{}' __newkeyring; unshare --uts true; grep Seccomp /proc/self/status; exit\n",
            lab.display()
        );
        let mut shell = std::process::Command::new(&lab)
            .args([
                "__enter",
                "--pid",
                &parent_of(sleeper)
                    .expect("box, the sleep's parent")
                    .to_string(),
            ])
            .args(["--label", "box"])
            .env("SHELL", "/bin/sh")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        shell
            .stdin
            .take()
            .unwrap()
            .write_all(typed.as_bytes())
            .unwrap();
        let out = shell.wait_with_output().unwrap();
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    for wanted in [
        "keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL) failed: EPERM",
        "unshare failed: Operation not permitted",
        "Seccomp:\t2",
    ] {
        assert!(seen.contains(wanted), "{wanted:?} not in:\n{seen}");
    }
}

#[test]
fn privileged_reads_the_hosts_disk_read_only_and_docker_defaults_are_refused() {
    if !has_root_block_device() {
        let t = lab_turn();
        let run = play(Wrap::RsharedMountNs, "privileged", &[], t.dir());
        assert_eq!(run.code, Some(3), "{}", run.output);
        assert!(
            run.output.contains("cannot run lesson privileged"),
            "{}",
            run.output
        );
        assert_empty_dir(t.dir());
        return;
    }
    full(
        "privileged",
        &[
            "priv reads the host's /etc/passwd through the disk",
            "...on the same filesystem as the host's / (same device number)",
            "The mount is read-only",
            "Opening the host's /etc/passwd for writing through it fails with EROFS",
            "The host's mount table does not show it (the namespace is private)",
            "Its mount of the disk fails with EPERM",
        ],
    );
}

#[test]
fn privileged_interrupted_with_the_disk_mounted_cleans_up() {
    if !has_root_block_device() {
        // The lesson is refused before anything runs: the test above asserts that.
        return;
    }
    // After "privileged-mount": the host's disk is mounted read-only in priv's namespace.
    interrupted("privileged", 1, "priv");
}

#[test]
fn volumes_bind_the_host_dir_share_the_host_root_read_only_and_the_net_namespace() {
    full(
        "volumes",
        &[
            "The host's $WORK/volume/note.txt holds what app wrote",
            "escape's /host/etc/passwd has the host's /etc/passwd's content",
            "Opening /host/etc/passwd for writing fails with EROFS",
            "hostnet's network namespace is the host's (same inode)",
        ],
    );
}

#[test]
fn volumes_interrupted_with_the_host_root_bound_cleans_up() {
    // After "host-root": escape has the host's / read-only at /host.
    interrupted("volumes", 4, "escape");
}
