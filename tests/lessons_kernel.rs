//! The lessons on what a container shares and what it may do (kernel, time, cpu,
//! least-privilege), played headless as root on the real kernel: each passes with the checks
//! that carry its point, and leaves the host exactly as it found it (mounts, links, cgroups,
//! hostname, session directories). The lessons that mount or bind run with `/` made rshared in a
//! mount namespace of the test's own, whose mountinfo must be byte-identical afterwards; the
//! others in a network namespace of the test's own, so no port or address they touch is the
//! machine's.

mod common;

use common::lesson_run::{play, LabTurn, Run, Wrap};
use common::{assert_empty_dir, turn};

/// A turn on the machine with a session base directory that uid 1000 may traverse (the
/// least-privilege lesson's process works under it as that user; a fresh tempdir is 0700).
fn lab_turn() -> LabTurn {
    use std::os::unix::fs::PermissionsExt;
    let run_dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(run_dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    LabTurn {
        turn: turn(),
        run_dir,
    }
}

/// Plays `lesson` to the end: it passes, every claim in `key_checks` is reported as passed,
/// and nothing is left on the host.
fn passes_with(wrap: Wrap, lesson: &str, key_checks: &[&str]) -> Run {
    let t = lab_turn();
    let run = play(wrap, lesson, &[], t.dir());
    run.assert_passed_with(lesson, key_checks);
    t.turn.assert_host_unchanged(&run.output);
    assert_empty_dir(t.dir());
    run
}

/// Issue #17 item 1 (article 0.2): inside a container-like sandbox, the kernel is the host's.
#[test]
fn kernel_lesson_shows_the_host_kernel_inside_the_sandbox() {
    let run = passes_with(
        Wrap::RsharedMountNs,
        "kernel",
        &[
            "Its /proc lists its own PID 1",
            "`uname -r` in box prints the host's kernel release",
            "box reads the host's boot id",
            "box's /proc/sys/fs/file-max is the host's",
            "box's /proc/sys/kernel/hostname reads box",
            "box's /proc/modules shows what the host's shows",
            "box's CLOCK_BOOTTIME is the host's (0 s apart)",
        ],
    );
    run.assert_mountinfo_kept();
}

/// Issue #17 item 14: the time namespace's offsets, and the clocks they shift and do not.
#[test]
fn time_lesson_shifts_monotonic_and_boottime_but_not_realtime() {
    let run = passes_with(
        Wrap::NetNs,
        "time",
        &[
            "Its time_for_children is a new namespace",
            "timens_offsets shows monotonic 86400",
            "inside's CLOCK_MONOTONIC is 86400 s ahead of the host's",
            "inside's CLOCK_BOOTTIME is 604800 s ahead",
            "inside's CLOCK_REALTIME is the host's: the date is not namespaced",
            "Writing the offsets now fails with EACCES",
        ],
    );
    run.assert_net_ns_clean();
}

/// Issue #17 item 11 (article 1.2): a CPU quota throttles a busy loop.
#[test]
fn cpu_lesson_throttles_the_loop_in_the_limited_cgroup() {
    let run = passes_with(
        Wrap::NetNs,
        "cpu",
        &[
            "slow's quota reads 20000 per 100000",
            "free was never throttled",
            "slow was throttled: nr_throttled is above 0",
            "...but got less than 1 s of CPU in its 2 s (less than half a CPU)",
        ],
    );
    run.assert_net_ns_clean();
}

/// Issue #17 items 6 and 7 (article 4.2): USER 1000, and --cap-add NET_ADMIN.
#[test]
fn least_privilege_lesson_refuses_uid_1000_and_adds_one_capability() {
    let run = passes_with(
        Wrap::RsharedMountNs,
        "least-privilege",
        &[
            "app runs as uid 1000",
            "Its CapEff is 0",
            "Binding port 80 fails with EACCES",
            "Reading secret fails with EACCES",
            "Rewriting etc/hostname fails with EACCES",
            "sethostname fails with EPERM",
            "plain's ip addr add fails with EPERM",
            "netadmin has 15 capabilities",
            "box's network namespace now has 192.0.2.1/24",
            "netadmin's mount fails with EPERM",
        ],
    );
    run.assert_mountinfo_kept();
}
