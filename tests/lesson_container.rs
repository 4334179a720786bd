//! The capstone lesson `container` (overlay rootfs, namespaces, pivot_root, cgroup, Docker's
//! capabilities, a veth, busybox httpd inside and its port published on the host), played
//! headless as root inside a network namespace this test makes (`unshare --net`, with its `lo`
//! up as on any host), so the page is fetched over the lab's own veth and through the published
//! port on that namespace's 127.0.0.1, and no packet reaches any other interface. It must pass
//! and leave the machine as it found it: no session directory (each run has its own
//! CONTAINERLAB_RUN_DIR), no mounts, no clab links, no lab cgroups, no httpd, no proxy and no
//! agent left; also when interrupted with SIGINT mid-lesson, and when the port is taken. The
//! same holds for `container-userns`, the same container made with a user namespace first.

mod common;

use common::lesson_run::{interrupt, lab_turn, play, LabTurn, Run, Wrap};
use common::{assert_empty_dir, bin, both, parent_of, processes, wait_until};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const LESSON: &str = "container";
/// The same container made with a user namespace first.
const USERNS_LESSON: &str = "container-userns";
/// A sleep whose command line no other program uses, to find leftovers by.
const SLEEP: &str = "314.159";

/// Processes the lesson may have started and that must not survive it: the lesson's httpd
/// (daemon included), the pause's sleep, and any process whose environment names this run's
/// session directory (every agent, and everything they started).
fn leftovers(run_dir: &Path) -> Vec<(i32, String)> {
    let httpd: &[u8] = b"/bin/busybox\0httpd\0-p\080\0-h\0/var/www\0";
    let proxy: &[u8] = b"\0__proxy\0";
    let sleep = format!("sleep\0{SLEEP}\0").into_bytes();
    let dir = run_dir.to_string_lossy().into_owned().into_bytes();
    let me = std::process::id() as i32;
    processes()
        .into_iter()
        .filter(|p| p.pid != me)
        .filter(|p| {
            p.cmdline == httpd
                || p.cmdline == sleep
                || p.cmdline.windows(proxy.len()).any(|w| w == proxy)
                || p.environ.windows(dir.len()).any(|w| w == dir.as_slice())
        })
        .map(|p| (p.pid, p.command()))
        .collect()
}

/// The lesson in the test's network namespace, with `lo` up and the shell `prelude` run first.
fn play_after(prelude: &str, lesson: &str, extra: &[&str], run_dir: &Path) -> Run {
    play(Wrap::NetNsLoUp(prelude), lesson, extra, run_dir)
}

fn assert_output_has(run: &Run, wanted: &[&str]) {
    for w in wanted {
        assert!(run.output.contains(w), "{w}:\n{}", run.output);
    }
}

/// The leftover search found each of `wanted` running just before the SIGINT.
fn assert_ran_until_interrupted(during: &[(i32, String)], wanted: &[&str]) {
    for w in wanted {
        assert!(
            during.iter().any(|(_, cmd)| cmd.contains(w)),
            "{w} not running before the SIGINT: {during:?}"
        );
    }
}

/// Plays the lesson with a pause inserted after step `after` (its `sleep` run by init), runs
/// `while_paused` with the sleep's pid, and interrupts the lab; answers the finished run,
/// `while_paused`'s text added to its output, and the lesson's processes just before the
/// SIGINT.
fn interrupt_in_init(
    lesson: &str,
    after: usize,
    run_dir: &Path,
    while_paused: impl FnOnce(Option<i32>) -> String,
) -> (Run, Vec<(i32, String)>) {
    let mut during = Vec::new();
    let within = Duration::from_secs(240);
    let pause = (lesson, after, "init");
    let run = interrupt(
        Wrap::NetNsLoUp("true"),
        pause,
        SLEEP,
        run_dir,
        within,
        |s| {
            during = leftovers(run_dir);
            while_paused(s)
        },
    );
    (run, during)
}

/// Nothing of the lesson is left (processes waited for, bounded: killed processes take a
/// moment), the host is as before, and the test's network namespace holds only `lo`.
fn check_clean(t: &LabTurn, run: &Run) {
    wait_until(10, || leftovers(t.dir()).is_empty());
    assert_eq!(leftovers(t.dir()), Vec::new(), "processes survived");
    t.turn.assert_host_unchanged(&run.output);
    assert_empty_dir(t.dir());
    run.assert_net_ns_clean();
}

#[test]
fn container_lesson_passes_in_a_test_netns_and_leaves_nothing() {
    let t = lab_turn();
    let run = play_after("true", LESSON, &[], t.dir());
    assert_eq!(run.code, Some(0), "{}", run.output);
    assert!(
        run.output.contains(&format!("✓ {LESSON}:")),
        "{}",
        run.output
    );
    for fetched in [
        "✓ The host got the page from the container",
        "✓ The host got the page from its own port 8080",
        // Stopping takes the port down: the exercise's solution signals the proxy, the lab
        // waits for it, and the host's port is free.
        "✓ docker-proxy has ended",
        "✓ The host no longer listens on 0.0.0.0:8080",
        // SIGTERM from the host to an init without a handler is discarded (pid_namespaces(7)).
        "✓ init is still running: the signal was discarded",
    ] {
        assert!(run.output.contains(fetched), "{fetched}:\n{}", run.output);
    }
    // The processes view lists the httpd daemon under init, though the lesson never named it.
    assert!(
        run.output
            .lines()
            .any(|l| l.contains("└ (child)") && l.contains("httpd -p 80")),
        "{}",
        run.output
    );
    // The proxy's socket, in the host's `ss -ltnp`, named by the lab.
    assert!(
        run.output.contains("LISTEN 0.0.0.0:8080") && run.output.contains("docker-proxy (pid"),
        "{}",
        run.output
    );
    check_clean(&t, &run);
}

/// Issue #17 item 13: the capstone writes the container's OCI runtime spec (config.json), it
/// parses through the runtime spec's own types, and its values are what the lab did by hand.
#[test]
fn container_lesson_writes_a_runtime_spec_that_matches_what_it_did() {
    let t = lab_turn();
    let run = play_after("true", LESSON, &[], t.dir());
    assert_eq!(run.code, Some(0), "{}", run.output);
    assert_output_has(
        &run,
        &[
            "✓ config.json parses as an OCI runtime spec, version 1.0.2",
            "✓ root.path is the merged overlay that init pivoted into",
            "✓ hostname is init's hostname",
            "✓ linux.resources.memory.limit equals the container cgroup's memory limit  [observed 67108864 = 67108864]",
            "✓ linux.resources.pids.limit equals its pids.max  [observed 32 = 32]",
            "✓ process.capabilities.bounding is init's bounding set",
            "✓ ...effective is init's effective set",
            "✓ ...and permitted its permitted set",
            "✓ (14 of them)  [observed 14 = 14]",
            "✓ linux.namespaces lists six: the ones init has of its own",
        ],
    );
    // The bundle lived in the session directory: gone with it.
    check_clean(&t, &run);
}

#[test]
fn a_taken_host_port_fails_the_publish_step_clearly_and_leaves_nothing() {
    let t = lab_turn();
    // Something of the test's own holds port 8080 of the test's namespace for the whole run.
    let holder = "{ busybox nc -l -p 8080 </dev/null >/dev/null 2>&1 & BG=$!; sleep 0.3; }";
    // In Japanese, as a learner in a Japanese room sees it: the explanation speaks their language.
    let run = play_after(holder, LESSON, &["--lang", "ja"], t.dir());
    assert_eq!(run.code, Some(1), "{}", run.output);
    assert_output_has(
        &run,
        &[
            "bind(0.0.0.0:8080) = -1 EADDRINUSE",
            "理由: 別のプログラムがこのアドレスとポートですでに待ち受けています",
            "--var host_port=18080",
            "✓ ホストはコンテナからページを受け取った",
        ],
    );
    assert!(!run
        .output
        .contains("✓ ホストは自分のポート 8080 からページを受け取った"));
    check_clean(&t, &run);
}

#[test]
fn another_host_port_is_one_var_away() {
    let t = lab_turn();
    let run = play_after("true", LESSON, &["--var", "host_port=18080"], t.dir());
    assert_eq!(run.code, Some(0), "{}", run.output);
    assert_output_has(
        &run,
        &[
            "✓ The host got the page from its own port 18080",
            "docker run -p 18080:80",
        ],
    );
    check_clean(&t, &run);
}

/// What the learner's shell (`s` in the TUI: `containerlab __enter`) shows when it enters the
/// parent of the pause's `sleep`, the container's init, and runs `script`.
/// `extra` goes on the command line before `__enter`'s own arguments' end (`--lang`, `--note`).
fn shell_in_parent_of(sleeper: Option<i32>, extra: &[&str], script: &str) -> String {
    let Some(sleeper) = sleeper else {
        return "(no pause sleep to find init by)".into();
    };
    let init = parent_of(sleeper).expect("the sleep has a parent");
    let mut shell = Command::new(bin())
        .args(["__enter", "--pid", &init.to_string(), "--label", "init"])
        .args(extra)
        .env("SHELL", "/bin/sh")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    let mut stdin = shell.stdin.take().unwrap();
    stdin.write_all(script.as_bytes()).unwrap();
    stdin.write_all(b"\nexit\n").unwrap();
    drop(stdin);
    let out = shell.wait_with_output().unwrap();
    format!("\n--- the shell in init ---\n{}", both(&out))
}

/// Asks the shell who it is, what it may do and where it is counted: in the container's cgroup
/// namespace, init's cgroups are `/`, so every line ends in `:/` when the shell shares them.
const SHELL_PROBE: &str = "echo uid=$(id -u); grep -E '^Cap(Eff|Bnd):' /proc/self/status; \
    grep -q . /proc/self/cgroup && ! grep -v ':/$' /proc/self/cgroup && echo IN-INITS-CGROUPS; \
    mount -t tmpfs none /tmp 2>&1 && echo MOUNTED || echo MOUNT-REFUSED; \
    touch /probe-file && ls -ln /probe-file";

#[test]
fn container_lesson_interrupted_with_httpd_running_leaves_nothing() {
    let t = lab_turn();
    // After "publish" (step index 7): the overlay is mounted in init's namespace, the veth,
    // the cgroup, the httpd daemon and the proxy exist; the pause's sleep runs inside the
    // container.
    let (run, during) = interrupt_in_init(LESSON, 7, t.dir(), |sleeper| {
        shell_in_parent_of(sleeper, &[], SHELL_PROBE)
    });
    assert_eq!(run.code, Some(130), "{}", run.output);
    // The learner's shell in the container is root with Docker's 14 capabilities, counted in
    // the container's cgroup, and may not mount: like `docker exec`, not like the host's root.
    assert_output_has(
        &run,
        &[
            "uid=0",
            "CapEff:\t00000000a80425fb",
            "CapBnd:\t00000000a80425fb",
            "IN-INITS-CGROUPS",
            // /tmp exists in the image: the refusal is the missing CAP_SYS_ADMIN (EPERM, which
            // busybox words as "permission denied"), not a missing mount point.
            "mount: permission denied",
            "MOUNT-REFUSED",
            "; uid 0 gid 0, 14 capabilities like the process, in its cgroup.",
        ],
    );
    assert!(!run.output.contains("not quite like"), "{}", run.output);
    // The leftover search does find the lesson's processes while they live.
    assert_ran_until_interrupted(
        &during,
        &[
            "/bin/busybox httpd -p 80 -h /var/www",
            "sleep 314.159",
            "__agent",
            "__proxy --host-ip 0.0.0.0 --host-port 8080",
        ],
    );
    assert_output_has(&run, &["✓ The host got the page from the container"]);
    check_clean(&t, &run);
}

#[test]
fn userns_container_lesson_maps_root_and_leaves_nothing() {
    let t = lab_turn();
    let run = play_after("true", USERNS_LESSON, &[], t.dir());
    assert_eq!(run.code, Some(0), "{}", run.output);
    assert_output_has(
        &run,
        &[
            "clone(CLONE_NEWUSER|CLONE_NEWPID|SIGCHLD) = ",
            "✓ Its PID namespace belongs to that user namespace",
            "✓ init's network namespace belongs to its user namespace",
            "✓ The host sees init as uid 100000",
            "✓ init may not read the host's root-only file (EACCES)",
            "✓ Inside, /bin/busybox belongs to 65534:65534 (nobody)",
            "✓ The host got the page through its port 8080",
            "✓ On the host, in upper, it belongs to 100000:100000",
            "✓ docker-proxy has ended",
            "✓ The host no longer listens on 0.0.0.0:8080",
            &format!("✓ {USERNS_LESSON}:"),
        ],
    );
    check_clean(&t, &run);
}

#[test]
fn userns_container_interrupted_with_httpd_running_leaves_nothing() {
    let t = lab_turn();
    // After "web" (step index 5): overlay mounted by root of the user namespace, veth, cgroup,
    // httpd daemon and proxy all exist; the pause's sleep runs inside the container.
    // In Japanese, with the note the TUI passes when the process asked for had exited.
    let (run, during) = interrupt_in_init(USERNS_LESSON, 5, t.dir(), |sleeper| {
        let note = ["--lang", "ja", "--note", "web は終了していたので"];
        shell_in_parent_of(sleeper, &note, SHELL_PROBE)
    });
    assert_eq!(run.code, Some(130), "{}", run.output);
    // The learner's shell is root inside the user namespace (not the unmapped 65534), so what
    // it creates belongs to root inside: the container's root, not the host's.
    assert_output_has(
        &run,
        &[
            "uid=0",
            "IN-INITS-CGROUPS",
            " 0        0 ",
            "mount: permission denied",
            "MOUNT-REFUSED",
            "containerlab: web は終了していたので\ncontainerlab: init (PID ",
            "uid 0 gid 0、ケーパビリティはプロセスと同じ 14 個、同じ cgroup の中。",
        ],
    );
    assert!(!run.output.contains("not quite like"), "{}", run.output);
    assert_ran_until_interrupted(
        &during,
        &[
            "/bin/busybox httpd -p 80 -h /var/www",
            "sleep 314.159",
            "__proxy",
        ],
    );
    check_clean(&t, &run);
}
