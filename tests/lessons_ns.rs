//! The namespace lessons (mount, net, user, ipc, cgroupns), played headless as root on the real
//! kernel: each must pass, and leave the machine exactly as it found it, also when interrupted
//! with SIGINT in the middle (exit code 130).
//!
//! Each run gets its own session base directory (CONTAINERLAB_RUN_DIR), so sessions of other
//! tests running at the same time are never mistaken for leftovers; it must be empty afterwards.
//! The mount lesson runs in a mount namespace this test makes, with `/` made rshared there (as
//! systemd does), and that namespace's mountinfo must be byte-identical afterwards. The net
//! lesson runs in a network namespace this test makes, so no packet reaches any other interface.

mod common;

use common::lesson_run::{interrupt, lab_turn, play, LabTurn, Run, Wrap};
use common::{assert_empty_dir, bin, sleepers, wait_until};
use std::process::Command;
use std::time::Duration;

/// A sleep whose command line no other program uses, to find leftovers by.
const SLEEP: &str = "271.828";

/// The host is as before, the run's session directory empty, and no pause sleep survived
/// (waited for, bounded: SIGKILLed processes take a moment to exit).
fn check_clean(t: &LabTurn, run: &Run) {
    t.turn.assert_host_unchanged(&run.output);
    assert_empty_dir(t.dir());
    wait_until(10, || sleepers(SLEEP).is_empty());
    assert_eq!(sleepers(SLEEP), Vec::<i32>::new(), "a sleep survived");
}

fn full(wrap: Wrap, lesson: &str) -> Run {
    let t = lab_turn();
    let run = play(wrap, lesson, &[], t.dir());
    assert_eq!(run.code, Some(0), "{}", run.output);
    assert!(
        run.output.contains(&format!("✓ {lesson}:")),
        "{}",
        run.output
    );
    check_clean(&t, &run);
    run
}

fn interrupted(wrap: Wrap, lesson: &str, after: usize, who: &str) -> Run {
    let t = lab_turn();
    let within = Duration::from_secs(120);
    let run = interrupt(wrap, (lesson, after, who), SLEEP, t.dir(), within, |_| {
        String::new()
    });
    assert_eq!(run.code, Some(130), "{}", run.output);
    check_clean(&t, &run);
    run
}

#[test]
fn mount_lesson_passes_with_rshared_root_and_leaves_mountinfo_identical() {
    let run = full(Wrap::RsharedMountNs, "mount");
    run.assert_mountinfo_kept();
    // The leak demonstration really reached the (test's) host table.
    assert!(run.output.contains("✓ The host's mount table has it too"));
}

#[test]
fn mount_lesson_interrupted_with_a_leaked_mount_cleans_up() {
    // After step 3 ("leak") box's mount is in the host's table too.
    let run = interrupted(Wrap::RsharedMountNs, "mount", 2, "box");
    run.assert_mountinfo_kept();
}

#[test]
fn mount_lesson_passes_with_private_root() {
    full(Wrap::Direct, "mount");
}

#[test]
fn net_lesson_passes_in_a_test_netns() {
    let run = full(Wrap::NetNs, "net");
    run.assert_net_ns_clean();
}

/// A host with a way out, like a learner's machine: a link of its own (a veth pair made in the
/// test's network namespace, so nothing leaves it) and a default route through it.
const HOST_WITH_DEFAULT_ROUTE: &str = "ip link add up0 type veth peer name up1 && \
     ip link set up0 up && ip link set up1 up && ip addr add 192.0.2.1/24 dev up0 && \
     ip route add default via 192.0.2.254";

#[test]
fn net_lesson_shows_the_hosts_default_route_and_what_a_failed_ping_said() {
    let run = full(Wrap::NetNsLoUp(HOST_WITH_DEFAULT_ROUTE), "net");
    let out = &run.output;
    // The host's view shows its default route and counts the routes it leaves out (the
    // up0 subnet's), where it used to say "(no routes)".
    assert!(out.contains("│   default via 192.0.2.254 dev up0"), "{out}");
    assert!(out.contains("(+ 1 other route of the host)"), "{out}");
    // Step 8's ping fails: below its "exited with status 2" comes what it printed.
    let failed = "wait4(child) = exited with status 2\n  │ [box] what it printed:\n  │   ping: connect: Network is unreachable";
    assert_eq!(out.matches(failed).count(), 2, "steps 1 and 8: {out}");
}

#[test]
fn net_lesson_interrupted_deletes_the_veth() {
    // After "address": the veth pair exists, one end in box.
    let run = interrupted(Wrap::NetNs, "net", 5, "box");
    run.assert_net_ns_clean();
}

#[test]
fn user_lesson_passes() {
    full(Wrap::Direct, "user");
}

#[test]
fn user_lesson_interrupted_kills_the_unprivileged_member() {
    // After "drop": `rootless` runs as uid 1000, which clears its parent-death signal.
    interrupted(Wrap::Direct, "user", 5, "rootless");
}

#[test]
fn ipc_lesson_passes() {
    full(Wrap::Direct, "ipc");
}

#[test]
fn ipc_lesson_interrupted_removes_host_ipc_objects() {
    // After "join": host segment and queue exist, and others inside box's namespace.
    interrupted(Wrap::Direct, "ipc", 4, "peer");
}

#[test]
fn cgroupns_lesson_passes() {
    full(Wrap::Direct, "cgroupns");
}

#[test]
fn cgroupns_lesson_interrupted_removes_the_lab_cgroup() {
    // After "unshare": box lives in the lab cgroup.
    interrupted(Wrap::Direct, "cgroupns", 1, "box");
}

#[test]
fn lessons_check_clean() {
    let out = Command::new(bin())
        .args(["check", concat!(env!("CARGO_MANIFEST_DIR"), "/lessons")])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    for line in err.lines() {
        assert!(line.contains("translation"), "unexpected finding: {line}");
    }
}
