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

use common::bin;
use common::lesson_run::{
    assert_empty_dir, clab_links, lab_cgroups, lesson_with_pause, read, require_root,
};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const LESSON: &str = "container";
/// The same container made with a user namespace first.
const USERNS_LESSON: &str = "container-userns";
const MARKER: &str = "interrupt-me-now";
/// A sleep whose command line no other program uses, to find leftovers by.
const SLEEP: &str = "314.159";

fn pids() -> Vec<i32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .collect()
}

fn cmdline(pid: i32) -> Vec<u8> {
    std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default()
}

/// Processes the lesson may have started and that must not survive it: the lesson's httpd
/// (daemon included), the pause's sleep, and any process whose environment names this run's
/// session directory (every agent, and everything they started).
fn leftovers(run_dir: &Path) -> Vec<(i32, String)> {
    let httpd: &[u8] = b"/bin/busybox\0httpd\0-p\080\0-h\0/var/www\0";
    let proxy: &[u8] = b"\0__proxy\0";
    let sleep = format!("sleep\0{SLEEP}\0").into_bytes();
    let dir = run_dir.to_string_lossy().into_owned().into_bytes();
    let me = std::process::id() as i32;
    pids()
        .into_iter()
        .filter(|&pid| pid != me)
        .filter(|&pid| {
            let cmd = cmdline(pid);
            let env = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
            cmd == httpd
                || cmd == sleep
                || cmd.windows(proxy.len()).any(|w| w == proxy)
                || env.windows(dir.len()).any(|w| w == dir.as_slice())
        })
        .map(|pid| {
            (
                pid,
                String::from_utf8_lossy(&cmdline(pid)).replace('\0', " "),
            )
        })
        .collect()
}

/// Waits (bounded) for the lesson's processes to be gone: killed processes take a moment.
fn assert_no_leftover_process(run_dir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !leftovers(run_dir).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(leftovers(run_dir), Vec::new(), "processes survived");
}

#[derive(Debug, PartialEq)]
struct HostState {
    mountinfo: String,
    links: Vec<String>,
    cgroups: Vec<String>,
    hostname: String,
}

fn host_state() -> HostState {
    HostState {
        mountinfo: read("/proc/self/mountinfo"),
        links: clab_links(),
        cgroups: lab_cgroups(),
        hostname: read("/proc/sys/kernel/hostname"),
    }
}

struct Run {
    code: Option<i32>,
    output: String,
    /// The links of the test's network namespace, listed after the lab exited.
    scratch: tempfile::TempDir,
    /// The lesson's processes just before the SIGINT (interrupted runs only).
    during: Vec<(i32, String)>,
}

/// The binary inside `unshare --net` (run first: `prelude`, after bringing `lo` up; a
/// background process it starts with `BG=$!` is stopped at the end); the namespace's links are
/// saved when it exits.
fn command(args: &[String], run_dir: &Path, scratch: &Path) -> Command {
    command_after("true", args, run_dir, scratch)
}

fn command_after(prelude: &str, args: &[String], run_dir: &Path, scratch: &Path) -> Command {
    let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
    let lab = format!("'{}' {}", bin().display(), quoted.join(" "));
    let mut c = Command::new("unshare");
    c.args(["--net", "--", "sh", "-c"]);
    c.arg(format!(
        "BG=; ip link set lo up && {prelude} && {lab}; rc=$?; \
         [ -z \"$BG\" ] || {{ kill $BG; wait $BG; }} 2>/dev/null; \
         ip -o link > {}/links; exit $rc",
        scratch.display()
    ));
    c.env("CONTAINERLAB_RUN_DIR", run_dir)
        .env("CONTAINERLAB_STATE_DIR", common::STATE_DIR)
        .env("LANG", "C")
        .stdin(Stdio::null());
    c
}

fn output_of(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn play(lesson: &str, run_dir: &Path) -> Run {
    play_with(lesson, &[], "true", run_dir)
}

/// `run lesson LESSON --headless EXTRA...` after the shell `prelude`, to the end.
fn play_with(lesson: &str, extra: &[&str], prelude: &str, run_dir: &Path) -> Run {
    let scratch = tempfile::tempdir().unwrap();
    let args: Vec<String> = ["run", "lesson", lesson, "--headless"]
        .iter()
        .chain(extra)
        .map(|s| s.to_string())
        .collect();
    let out = command_after(prelude, &args, run_dir, scratch.path())
        .output()
        .unwrap();
    Run {
        code: out.status.code(),
        output: output_of(&out),
        scratch,
        during: Vec::new(),
    }
}

fn assert_output_has(run: &Run, wanted: &[&str]) {
    for w in wanted {
        assert!(run.output.contains(w), "{w}:\n{}", run.output);
    }
}

/// The leftover search found each of `wanted` running just before the SIGINT.
fn assert_ran_until_interrupted(run: &Run, wanted: &[&str]) {
    for w in wanted {
        assert!(
            run.during.iter().any(|(_, cmd)| cmd.contains(w)),
            "{w} not running before the SIGINT: {:?}",
            run.during
        );
    }
}

/// Plays the lesson with a pause inserted, runs `while_paused` with the pause's `sleep` (its
/// pid, if found), sends SIGINT to the front end (the child of the wrapping shell) while the
/// `sleep` runs, and returns the finished run, `while_paused`'s text added to its output.
fn interrupt(
    lesson: &str,
    after: usize,
    who: &str,
    run_dir: &Path,
    while_paused: impl FnOnce(Option<i32>) -> String,
) -> Run {
    let lessons = lesson_with_pause(lesson, after, who, MARKER, SLEEP);
    let scratch = tempfile::tempdir().unwrap();
    let args: Vec<String> = vec![
        "--lessons".into(),
        lessons.path().display().to_string(),
        "run".into(),
        "lesson".into(),
        lesson.into(),
        "--headless".into(),
    ];
    let mut child = command(&args, run_dir, scratch.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains(MARKER) {
                let _ = tx.send(());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let seen = rx.recv_timeout(Duration::from_secs(240)).is_ok();
    let mut during = Vec::new();
    let mut paused_output = String::new();
    if seen {
        // Only a trigger: wait (bounded) until the sleep runs, then interrupt.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            during = leftovers(run_dir);
            let sleeping = during.iter().any(|(_, c)| c.contains(SLEEP));
            if sleeping || Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let sleeper = during
            .iter()
            .find(|(_, c)| c.contains(SLEEP))
            .map(|(pid, _)| *pid);
        paused_output = while_paused(sleeper);
        let spawned = child.id();
        let front: i32 = read(&format!("/proc/{spawned}/task/{spawned}/children"))
            .split_whitespace()
            .next()
            .and_then(|p| p.parse().ok())
            .expect("the shell runs containerlab");
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(front),
            nix::sys::signal::Signal::SIGINT,
        )
        .unwrap();
    }
    let status = child.wait().unwrap();
    let mut output = reader.join().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    output.push_str(&err);
    output.push_str(&paused_output);
    assert!(seen, "the pause step never started:\n{output}");
    Run {
        code: status.code(),
        output,
        scratch,
        during,
    }
}

fn assert_net_ns_clean(run: &Run) {
    let links = std::fs::read_to_string(run.scratch.path().join("links")).unwrap_or_default();
    let names: Vec<&str> = links
        .lines()
        .filter_map(|l| l.split(':').nth(1).map(str::trim))
        .collect();
    assert_eq!(names, ["lo"], "{}", run.output);
}

fn check_clean(before: &HostState, run_dir: &Path, run: &Run) {
    assert_no_leftover_process(run_dir);
    let after = host_state();
    assert_eq!(before, &after, "host changed:\n{}", run.output);
    assert_empty_dir(run_dir);
    assert_net_ns_clean(run);
}

/// The tests compare host-wide state, so they run one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn container_lesson_passes_in_a_test_netns_and_leaves_nothing() {
    let _one = serial();
    require_root();
    let run_dir = tempfile::tempdir().unwrap();
    let before = host_state();
    let run = play(LESSON, run_dir.path());
    assert_eq!(run.code, Some(0), "{}", run.output);
    assert!(
        run.output.contains(&format!("✓ {LESSON}:")),
        "{}",
        run.output
    );
    for fetched in [
        "✓ The host got the page from the container",
        "✓ The host got the page from its own port 8080",
        // `docker stop` takes the port down: the proxy is signalled and waited for.
        "✓ docker-proxy has ended: the published port is taken down",
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
    check_clean(&before, run_dir.path(), &run);
}

#[test]
fn a_taken_host_port_fails_the_publish_step_clearly_and_leaves_nothing() {
    let _one = serial();
    require_root();
    let run_dir = tempfile::tempdir().unwrap();
    let before = host_state();
    // Something of the test's own holds port 8080 of the test's namespace for the whole run.
    let holder = "{ busybox nc -l -p 8080 </dev/null >/dev/null 2>&1 & BG=$!; sleep 0.3; }";
    // In Japanese, as a learner in a Japanese room sees it: the explanation speaks their language.
    let run = play_with(LESSON, &["--lang", "ja"], holder, run_dir.path());
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
    check_clean(&before, run_dir.path(), &run);
}

#[test]
fn another_host_port_is_one_var_away() {
    let _one = serial();
    require_root();
    let run_dir = tempfile::tempdir().unwrap();
    let before = host_state();
    let run = play_with(
        LESSON,
        &["--var", "host_port=18080"],
        "true",
        run_dir.path(),
    );
    assert_eq!(run.code, Some(0), "{}", run.output);
    assert_output_has(
        &run,
        &[
            "✓ The host got the page from its own port 18080",
            "docker run -p 18080:80",
        ],
    );
    check_clean(&before, run_dir.path(), &run);
}

/// What the learner's shell (`s` in the TUI: `containerlab __enter`) shows when it enters the
/// parent of the pause's `sleep`, the container's init, and runs `script`.
/// `extra` goes on the command line before `__enter`'s own arguments' end (`--lang`, `--note`).
fn shell_in_parent_of(sleeper: Option<i32>, extra: &[&str], script: &str) -> String {
    let Some(sleeper) = sleeper else {
        return "(no pause sleep to find init by)".into();
    };
    let init = read(&format!("/proc/{sleeper}/stat"))
        .rsplit(") ")
        .next()
        .and_then(|rest| rest.split_whitespace().nth(1)?.parse::<i32>().ok())
        .expect("the sleep has a parent");
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
    format!("\n--- the shell in init ---\n{}", output_of(&out))
}

/// Asks the shell who it is, what it may do and where it is counted: in the container's cgroup
/// namespace, init's cgroups are `/`, so every line ends in `:/` when the shell shares them.
const SHELL_PROBE: &str = "echo uid=$(id -u); grep -E '^Cap(Eff|Bnd):' /proc/self/status; \
    grep -q . /proc/self/cgroup && ! grep -v ':/$' /proc/self/cgroup && echo IN-INITS-CGROUPS; \
    mount -t tmpfs none /tmp 2>&1 && echo MOUNTED || echo MOUNT-REFUSED; \
    touch /probe-file && ls -ln /probe-file";

#[test]
fn container_lesson_interrupted_with_httpd_running_leaves_nothing() {
    let _one = serial();
    require_root();
    let run_dir = tempfile::tempdir().unwrap();
    let before = host_state();
    // After "publish" (step index 7): the overlay is mounted in init's namespace, the veth,
    // the cgroup, the httpd daemon and the proxy exist; the pause's sleep runs inside the
    // container.
    let run = interrupt(LESSON, 7, "init", run_dir.path(), |sleeper| {
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
        &run,
        &[
            "/bin/busybox httpd -p 80 -h /var/www",
            "sleep 314.159",
            "__agent",
            "__proxy --host-ip 0.0.0.0 --host-port 8080",
        ],
    );
    assert_output_has(&run, &["✓ The host got the page from the container"]);
    check_clean(&before, run_dir.path(), &run);
}

#[test]
fn userns_container_lesson_maps_root_and_leaves_nothing() {
    let _one = serial();
    require_root();
    let run_dir = tempfile::tempdir().unwrap();
    let before = host_state();
    let run = play(USERNS_LESSON, run_dir.path());
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
            "✓ docker-proxy has ended: the published port is taken down",
            &format!("✓ {USERNS_LESSON}:"),
        ],
    );
    check_clean(&before, run_dir.path(), &run);
}

#[test]
fn userns_container_interrupted_with_httpd_running_leaves_nothing() {
    let _one = serial();
    require_root();
    let run_dir = tempfile::tempdir().unwrap();
    let before = host_state();
    // After "web" (step index 5): overlay mounted by root of the user namespace, veth, cgroup,
    // httpd daemon and proxy all exist; the pause's sleep runs inside the container.
    // In Japanese, with the note the TUI passes when the process asked for had exited.
    let run = interrupt(USERNS_LESSON, 5, "init", run_dir.path(), |sleeper| {
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
        &run,
        &[
            "/bin/busybox httpd -p 80 -h /var/www",
            "sleep 314.159",
            "__proxy",
        ],
    );
    check_clean(&before, run_dir.path(), &run);
}
