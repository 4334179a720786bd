//! The foundation, end to end on the real binary as root: lessons pass and leave the host as they
//! found it, errors have their exit codes, and a killed run is cleaned up by `cleanup`.

mod common;

use common::{
    agents, expect_exit, fixtures, lab, machine, sigint, start_slow, turn, wait_until, HostState,
};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `run lesson LESSON --headless`.
fn headless(lesson: &str) -> Command {
    let mut c = lab();
    c.args(["run", "lesson", lesson, "--headless"]);
    c
}

#[test]
fn uts_lesson_passes_and_the_host_keeps_its_hostname() {
    let turn = turn();
    let text = expect_exit(&headless("uts").output().unwrap(), 0);
    assert!(text.contains("unshare(CLONE_NEWUTS) = 0"), "{text}");
    assert!(text.contains("sethostname(\"lab\", 3) = 0"), "{text}");
    assert!(text.contains("✓ The hostname inside is lab"), "{text}");
    assert!(!text.contains('✗'), "{text}");
    turn.assert_host_unchanged(&text);
}

#[test]
fn pid_lesson_shows_pid_1_inside_beside_the_host_pid() {
    let turn = turn();
    let text = expect_exit(&headless("pid").output().unwrap(), 0);
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
    turn.assert_host_unchanged(&text);
}

#[test]
fn json_lines_and_junit_describe_the_same_checks() {
    let _m = machine();
    let out = headless("uts").args(["--format", "json"]).output().unwrap();
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
    // The stream says its format's version first; a trace is structured, with its strace line.
    assert_eq!(events[0]["event"], "stream");
    assert_eq!(events[0]["version"], 1);
    assert!(events.iter().any(|e| e["event"] == "action"
        && e["trace"][0]["call"] == "unshare(CLONE_NEWUTS)"
        && e["trace"][0]["result"]["returned"] == "0"
        && e["trace"][0]["line"] == "unshare(CLONE_NEWUTS) = 0"));

    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.xml");
    let status = headless("uts")
        .args(["--format", "junit", "-o"])
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
    let turn = turn();
    let out = headless("pid").uid(65534).gid(65534).output().unwrap();
    let text = expect_exit(&out, 3);
    assert!(text.contains("not root") && text.contains("sudo"), "{text}");
    turn.assert_host_unchanged(&text);
}

#[test]
fn unknown_lesson_is_a_usage_error() {
    let out = headless("nope").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("uts"));
}

/// `check` on `text`, written to the file `name` in a new directory (returned with it, so it
/// lives on): fails the test unless the lesson is refused with exit 2; answers the file and
/// the standard error.
fn check_refuses(name: &str, text: &str) -> (tempfile::TempDir, PathBuf, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(name);
    std::fs::write(&file, text).unwrap();
    let out = lab().arg("check").arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    (dir, file, err)
}

/// The slow fixture's text with `from` replaced by `to`.
fn slow_fixture_with(from: &str, to: &str) -> String {
    std::fs::read_to_string(fixtures().join("slow.yaml"))
        .unwrap()
        .replace(from, to)
}

#[test]
fn check_reports_a_syntax_error_with_file_line_column() {
    let (_dir, file, err) = check_refuses(
        "broken.yaml",
        "format_version: 1\nid: broken\ntitle: {en: \"unclosed\n",
    );
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
    let typo = slow_fixture_with("    actions:\n      - mkdir", "    actoins:\n      - mkdir");
    let (_dir, file, err) = check_refuses("typo.yaml", &typo);
    assert!(err.contains("unknown field `actoins`"), "{err}");
    assert!(err.contains(&format!("{}:9:", file.display())), "{err}");
}

#[test]
fn check_rejects_meaning_errors_and_accepts_the_builtin_lessons() {
    let ghost = slow_fixture_with("run: {in: init,", "run: {in: ghost,");
    let (_dir, _, err) = check_refuses("ghost.yaml", &ghost);
    assert!(err.contains("\"ghost\""));

    expect_exit(&lab().arg("check").output().unwrap(), 0);
    let out = lab()
        .arg("check")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/lessons"))
        .output()
        .unwrap();
    expect_exit(&out, 0);
}

#[test]
fn sigkill_mid_lesson_then_cleanup_leaves_the_host_as_before() {
    let turn = turn();
    let mut child = start_slow(lab());
    child.kill().unwrap(); // SIGKILL: no teardown can run in the runner
    child.wait().unwrap();
    // The agents die with their parent; the host-side mount stays for cleanup to find.
    assert!(wait_until(10, || agents().is_empty()));
    let left = HostState::capture();
    assert_ne!(
        left.mountinfo, turn.before.mountinfo,
        "the fixture's tmpfs should be left behind"
    );
    assert_ne!(left.sessions, turn.before.sessions);

    let out = lab().arg("cleanup").output().unwrap();
    let text = expect_exit(&out, 0);
    assert!(text.contains("mount on /run/containerlab/"), "{text}");
    turn.assert_host_unchanged(&text);

    let again = lab().arg("cleanup").output().unwrap();
    assert!(String::from_utf8_lossy(&again.stdout).contains("nothing to clean up"));
}

#[test]
fn sigint_mid_lesson_tears_down_and_exits_130() {
    let turn = turn();
    let mut child = start_slow(lab());
    sigint(child.id() as i32);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    turn.assert_host_unchanged("");
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
    let text = expect_exit(&out, 0);
    assert!(text.contains("UTS 名前空間"), "{text}");
    assert!(text.contains("✓ 内側のホスト名は lab"), "{text}");
    assert!(text.contains("チェック 11 件成功、0 件失敗"), "{text}");
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
