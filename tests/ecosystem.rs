//! What scripts, shells and authors meet outside the lessons: `ns --json` read as `lsns -J`,
//! `list`/`doctor --json`, completions and the man page, `--lang` checked, plain-string texts.

mod common;

use common::{expect_exit, lab};
use serde_json::Value;
use std::collections::BTreeSet;
use std::process::Command;

fn json_of(args: &[&str]) -> Value {
    let out = lab().args(args).output().unwrap();
    // doctor exits 3 when some feature is missing here: still a full document.
    assert!(
        matches!(out.status.code(), Some(0 | 3)),
        "{}",
        common::both(&out)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn pairs(doc: &Value) -> BTreeSet<(u64, String)> {
    doc["namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["ns"].as_u64().unwrap(),
                n["type"].as_str().unwrap().into(),
            )
        })
        .collect()
}

fn lsns_json() -> Value {
    let out = Command::new("lsns").arg("-J").output().unwrap();
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn ns_json_reads_like_lsns_json_and_lists_the_same_namespaces() {
    let before = lsns_json();
    let ours = json_of(&["ns", "--json"]);
    let after = lsns_json();
    // The same field names and JSON types, row for row.
    let fields = |row: &Value| -> Vec<(String, bool)> {
        let mut f: Vec<_> = row
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.is_number()))
            .collect();
        f.sort();
        f
    };
    assert_eq!(
        fields(&ours["namespaces"][0]),
        fields(&before["namespaces"][0])
    );
    // Namespaces that lived through both lsns runs are in ours (others come and go while other
    // tests run).
    let stable: BTreeSet<_> = pairs(&before)
        .intersection(&pairs(&after))
        .cloned()
        .collect();
    let ours = pairs(&ours);
    let missing: Vec<_> = stable.difference(&ours).collect();
    assert!(
        !stable.is_empty() && missing.is_empty(),
        "missing: {missing:?}"
    );
}

#[test]
fn list_and_doctor_speak_json() {
    let list = json_of(&["list", "--json"]);
    let ids: Vec<&str> = list["lessons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"uts") && ids.contains(&"container"),
        "{ids:?}"
    );
    assert!(list["lessons"][0]["steps"].as_u64().unwrap() > 0);
    let doctor = json_of(&["doctor", "--json"]);
    let root = doctor["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["feature"] == "root")
        .expect("a root row");
    assert_eq!(root["ok"], Value::Bool(nix::unistd::geteuid().is_root()));
}

#[test]
fn completions_and_man_page_come_from_the_command_line() {
    for shell in ["bash", "zsh", "fish"] {
        let out = expect_exit(&lab().args(["completions", shell]).output().unwrap(), 0);
        assert!(
            out.contains("doctor") && out.contains("lang"),
            "{shell}: {out}"
        );
    }
    let man = expect_exit(&lab().arg("manpage").output().unwrap(), 0);
    assert!(man.contains(".TH containerlab 1"), "{man}");
}

#[test]
fn an_unknown_language_is_a_usage_error() {
    let out = lab().args(["--lang", "xx", "list"]).output().unwrap();
    expect_exit(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("possible values: en, ja"));
    expect_exit(&lab().args(["--lang", "ja", "list"]).output().unwrap(), 0);
}

#[test]
fn help_shows_the_environment_variables() {
    let help = expect_exit(&lab().arg("--help").output().unwrap(), 0);
    for var in ["CONTAINERLAB_STATE_DIR", "CONTAINERLAB_RUN_DIR"] {
        assert!(help.contains(&format!("[env: {var}")), "{help}");
    }
}

#[test]
fn check_takes_a_plain_title_as_english_and_says_each_error_once() {
    let dir = tempfile::tempdir().unwrap();
    expect_exit(
        &lab()
            .args(["new", "lesson", "plain", "--dir"])
            .arg(dir.path())
            .output()
            .unwrap(),
        0,
    );
    let file = dir.path().join("plain.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    let start = text.find("\ntitle:").expect("a lesson title") + 1;
    let end = start + text[start..].find("\nintro:").unwrap();
    std::fs::write(
        &file,
        format!("{}title: Plain{}", &text[..start], &text[end..]),
    )
    .unwrap();
    let out = lab().arg("check").arg(&file).output().unwrap();
    expect_exit(&out, 0);
    let listed = lab()
        .arg("--lessons")
        .arg(&file)
        .args(["list"])
        .output()
        .unwrap();
    assert!(expect_exit(&listed, 0).contains("Plain"));

    // A wrong type: one line, saying what to write instead, even with the file named twice.
    std::fs::write(
        &file,
        text.replacen("\ntitle:", "\ntitle: [a, b]\nold_title:", 1),
    )
    .unwrap();
    let out = lab()
        .arg("check")
        .arg(&file)
        .arg("--lessons")
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    expect_exit(&out, 2);
    assert_eq!(stderr.matches("e.g. `title: Hello`").count(), 1, "{stderr}");
}

#[test]
fn a_report_that_cannot_be_written_fails_the_run() {
    common::require_root();
    let _m = common::machine();
    // /dev/full takes the open and refuses every write (ENOSPC), like a full disk.
    for format in ["json", "junit"] {
        let out = lab()
            .args(["run", "lesson", "uts", "--headless", "--format", format])
            .args(["-o", "/dev/full"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(3), "{format}: {stderr}");
    }
}

/// `ns` writes its table in one write: to a full disk that is an error, said on stderr with
/// exit 3 (it was a panic in `println!`).
#[test]
fn ns_says_when_its_table_cannot_be_written() {
    let full = lab()
        .arg("ns")
        .stdout(std::fs::File::create("/dev/full").unwrap())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&full.stderr).into_owned();
    assert_eq!(full.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("writing the table"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// The binary carries GCC's unwinder (libgcc_eh) instead of loading libgcc_s.so.1 at every start
/// (src/main.rs says why). What the dynamic loader would load, it lists under
/// `LD_TRACE_LOADED_OBJECTS` (what `ldd` does) without running the program; and a panic must still
/// unwind to the runtime (exit 101, not an abort) with a backtrace that names the function. The
/// panic used is `println!` to a full disk in `list`.
#[test]
fn the_binary_carries_its_own_unwinder() {
    let loaded = lab().env("LD_TRACE_LOADED_OBJECTS", "1").output().unwrap();
    let libraries = String::from_utf8_lossy(&loaded.stdout).into_owned();
    assert!(libraries.contains("libc.so.6"), "{libraries}");
    assert!(!libraries.contains("libgcc_s"), "{libraries}");

    let panicked = lab()
        .arg("list")
        .env("RUST_BACKTRACE", "1")
        .stdout(std::fs::File::create("/dev/full").unwrap())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&panicked.stderr).into_owned();
    assert_eq!(panicked.status.code(), Some(101), "{stderr}");
    assert!(stderr.contains("stack backtrace:"), "{stderr}");
    assert!(stderr.contains("containerlab::reports::list"), "{stderr}");
}
