//! The foundation, end to end on the real binary as root: lessons pass and leave the host as they
//! found it, errors have their exit codes, and a killed run is cleaned up by `cleanup`.

mod common;

use common::{lab, machine, session_journals, wait_until, HostState};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Stdio;

fn fixtures() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"))
}

#[test]
fn uts_lesson_passes_and_the_host_keeps_its_hostname() {
    let _m = machine();
    let before = HostState::capture();
    let out = lab()
        .args(["run", "lesson", "uts", "--headless"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("unshare(CLONE_NEWUTS) = 0"), "{text}");
    assert!(text.contains("sethostname(\"lab\", 3) = 0"), "{text}");
    assert!(text.contains("✓ The hostname inside is lab"), "{text}");
    assert!(!text.contains('✗'), "{text}");
    assert_eq!(HostState::capture(), before);
}

#[test]
fn pid_lesson_shows_pid_1_inside_beside_the_host_pid() {
    let _m = machine();
    let before = HostState::capture();
    let out = lab()
        .args(["run", "lesson", "pid", "--headless"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    // The processes view: `init  <host pid>  <host pid> 1`.
    let init_row = text
        .lines()
        .find(|l| l.trim_start_matches(['│', ' ']).starts_with("init "))
        .unwrap_or_else(|| panic!("no init row in:\n{text}"));
    let cols: Vec<&str> = init_row
        .trim_start_matches(['│', ' '])
        .split_whitespace()
        .collect();
    let host_pid: i32 = cols[1].parse().unwrap();
    assert!(host_pid > 1);
    assert_eq!(
        cols[2], cols[1],
        "NSpid starts with the host pid: {init_row}"
    );
    assert_eq!(cols[3], "1", "and ends with 1: {init_row}");
    // The mounts view tells the fresh procfs on /proc from the host's one beneath it.
    assert!(
        text.lines().any(|l| l.contains("+ /proc proc proc")),
        "{text}"
    );
    assert!(text.contains("✓ The kernel killed the other process with SIGKILL"));
    assert!(text.contains("fork() = -1 ENOMEM"));
    assert_eq!(HostState::capture(), before);
}

#[test]
fn json_lines_and_junit_describe_the_same_checks() {
    let _m = machine();
    let out = lab()
        .args(["run", "lesson", "uts", "--headless", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let events: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("every line is JSON"))
        .collect();
    let counted = events
        .iter()
        .filter(|e| e["event"] == "check" && e["phase"] != "before_solution")
        .count();
    assert!(counted >= 6);
    assert!(events
        .iter()
        .any(|e| e["event"] == "action" && e["trace"][0] == "unshare(CLONE_NEWUTS) = 0"));

    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.xml");
    let status = lab()
        .args([
            "run",
            "lesson",
            "uts",
            "--headless",
            "--format",
            "junit",
            "-o",
        ])
        .arg(&report)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let xml = std::fs::read_to_string(&report).unwrap();
    assert_eq!(xml.matches("<testcase").count(), counted, "{xml}");
    assert!(!xml.contains("<failure"));
}

#[test]
fn a_non_root_user_is_refused_with_exit_3_and_the_reason() {
    let _m = machine();
    let before = HostState::capture();
    let out = lab()
        .args(["run", "lesson", "pid", "--headless"])
        .uid(65534)
        .gid(65534)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("not root") && text.contains("sudo"), "{text}");
    assert_eq!(HostState::capture(), before);
}

#[test]
fn unknown_lesson_is_a_usage_error() {
    let out = lab()
        .args(["run", "lesson", "nope", "--headless"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("uts"));
}

#[test]
fn check_reports_a_syntax_error_with_file_line_column() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broken.yaml");
    std::fs::write(
        &file,
        "format_version: 1\nid: broken\ntitle: {en: \"unclosed\n",
    )
    .unwrap();
    let out = lab().arg("check").arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    let prefix = format!("{}:", file.display());
    let line = err
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("{err}"));
    let mut parts = line[prefix.len()..].splitn(3, ':');
    let (l, c) = (parts.next().unwrap(), parts.next().unwrap());
    assert!(l.parse::<usize>().unwrap() >= 3, "{line}");
    assert!(c.parse::<usize>().is_ok(), "{line}");
}

#[test]
fn check_names_an_unknown_field_and_where_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("typo.yaml");
    let text = std::fs::read_to_string(fixtures().join("slow.yaml"))
        .unwrap()
        .replace("    actions:\n      - mkdir", "    actoins:\n      - mkdir");
    std::fs::write(&file, text).unwrap();
    let out = lab().arg("check").arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown field `actoins`"), "{err}");
    assert!(err.contains(&format!("{}:9:", file.display())), "{err}");
}

#[test]
fn check_rejects_meaning_errors_and_accepts_the_builtin_lessons() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ghost.yaml");
    let text = std::fs::read_to_string(fixtures().join("slow.yaml"))
        .unwrap()
        .replace("run: {in: init,", "run: {in: ghost,");
    std::fs::write(&file, text).unwrap();
    let out = lab().arg("check").arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("\"ghost\""));

    let out = lab().arg("check").output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = lab()
        .arg("check")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/lessons"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The journal of the session that the runner with this pid owns (session ids start with
/// `clab-<owner pid>-`), once it exists.
fn journal_of(runner: u32) -> Option<std::path::PathBuf> {
    let prefix = format!("clab-{runner}-");
    session_journals().into_iter().find(|j| {
        j.parent()
            .and_then(|d| d.file_name())
            .is_some_and(|n| n.to_string_lossy().starts_with(&prefix))
    })
}

/// Starts the slow fixture lesson and waits until it has made its host mount and its member
/// is sleeping in the second step.
fn start_slow() -> std::process::Child {
    let child = lab()
        .args(["--lessons"])
        .arg(fixtures().join("slow.yaml"))
        .args(["run", "lesson", "slow", "--headless"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let runner = child.id();
    let journaled = || {
        journal_of(runner)
            .and_then(|j| std::fs::read_to_string(j).ok())
            .filter(|t| t.contains("\"mount\"") && t.matches("\"process\"").count() >= 2)
    };
    assert!(
        wait_until(20, || journaled().is_some()),
        "no mount and member journaled"
    );
    let init_pid = journaled()
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| e["kind"] == "process" && e["name"] == "init")
        .and_then(|e| e["pid"].as_i64())
        .expect("init journaled");
    assert!(wait_until(20, || std::process::Command::new("pgrep")
        .args(["-x", "sleep", "-P", &init_pid.to_string()])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())));
    child
}

#[test]
fn sigkill_mid_lesson_then_cleanup_leaves_the_host_as_before() {
    let _m = machine();
    let before = HostState::capture();
    let mut child = start_slow();
    child.kill().unwrap(); // SIGKILL: no teardown can run in the runner
    child.wait().unwrap();
    // The agents die with their parent; the host-side mount stays for cleanup to find.
    assert!(wait_until(10, || HostState::capture().agents.is_empty()));
    let left = HostState::capture();
    assert_ne!(
        left.mountinfo, before.mountinfo,
        "the fixture's tmpfs should be left behind"
    );
    assert_ne!(left.sessions, before.sessions);

    let out = lab().arg("cleanup").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("mount on /run/containerlab/"), "{text}");
    assert_eq!(HostState::capture(), before);

    let again = lab().arg("cleanup").output().unwrap();
    assert!(String::from_utf8_lossy(&again.stdout).contains("nothing to clean up"));
}

#[test]
fn sigint_mid_lesson_tears_down_and_exits_130() {
    let _m = machine();
    let before = HostState::capture();
    let mut child = start_slow();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert_eq!(HostState::capture(), before);
}

#[test]
fn ns_prints_the_same_rows_as_lsns() {
    let _m = machine();
    // A process alone in new UTS and IPC namespaces: a row whose every column is stable.
    let mut holder = std::process::Command::new("unshare")
        .args(["--uts", "--ipc", "sleep", "30"])
        .spawn()
        .unwrap();
    let pid = holder.id();
    assert!(wait_until(10, || std::fs::read_to_string(format!(
        "/proc/{pid}/cmdline"
    ))
    .is_ok_and(|c| c.starts_with("sleep"))));
    let uts = std::fs::metadata(format!("/proc/{pid}/ns/uts")).unwrap();
    let ino = std::os::unix::fs::MetadataExt::ino(&uts).to_string();
    let ours = lab().arg("ns").output().unwrap();
    let theirs = std::process::Command::new("lsns")
        .args(["-n", "-o", "NS,TYPE,NPROCS,PID,USER,COMMAND"])
        .output()
        .unwrap();
    holder.kill().unwrap();
    holder.wait().unwrap();
    let row = |out: &[u8]| -> Vec<String> {
        String::from_utf8_lossy(out)
            .lines()
            .find(|l| l.split_whitespace().next() == Some(ino.as_str()))
            .map(|l| l.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default()
    };
    let (a, b) = (row(&ours.stdout), row(&theirs.stdout));
    assert!(!a.is_empty(), "{}", String::from_utf8_lossy(&ours.stdout));
    assert_eq!(a, b);
    assert_eq!(a[1], "uts");
    assert_eq!(a[2], "1");
}

#[test]
fn doctor_names_the_cgroup_layout_it_finds() {
    let out = lab().arg("doctor").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let hybrid = Path::new("/sys/fs/cgroup/memory/memory.limit_in_bytes").exists()
        && Path::new("/sys/fs/cgroup/unified").exists();
    let expected = if hybrid {
        "cgroup v1 (hybrid): memory controller on /sys/fs/cgroup/memory"
    } else {
        "cgroup v2: memory controller on /sys/fs/cgroup"
    };
    assert!(text.contains(expected), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("veth") && l.contains("yes")),
        "{text}"
    );
}

#[test]
fn uts_in_japanese_prints_japanese_and_passes() {
    let _m = machine();
    let out = lab()
        .args(["--lang", "ja", "run", "lesson", "uts", "--headless"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("UTS 名前空間"), "{text}");
    assert!(text.contains("✓ 内側のホスト名は lab"), "{text}");
    assert!(text.contains("チェック 8 件成功、0 件失敗"), "{text}");
}

#[test]
fn list_shows_every_lesson_in_aligned_columns() {
    let out = lab().arg("list").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("ID "), "{text}");
    // The longest id does not push its row's columns out of line.
    assert!(
        lines.iter().any(|l| l.starts_with("container-userns ")),
        "{text}"
    );
    let title_at = lines[0].find("TITLE").unwrap();
    for l in &lines[1..] {
        let steps_end = title_at - 2;
        let digits = &l[steps_end - 1..steps_end];
        assert!(
            digits.chars().all(|c| c.is_ascii_digit()),
            "{l:?} in\n{text}"
        );
        assert_eq!(&l[steps_end..title_at], "  ", "{l:?} in\n{text}");
    }
}
