//! Property tests: the inspector reads what the kernel writes, and a kernel newer than the
//! parser, a process that exits mid-read or a mount point with odd bytes must never panic it.
//! Mountinfo tables and /proc/PID/status texts, well-formed with odd values and plain garbage,
//! come back as values. Case counts are fixed and printed.

#[path = "../../../tests/common/summary.rs"]
mod summary;

use containerlab_inspect::mounts::{diff, parse_mountinfo, render};
use containerlab_inspect::process::{status_fields, Status};
use proptest::prelude::*;
use summary::runner;

/// A field as the kernel might write it, or not: numbers, escapes (`\040`), separators, empty.
fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("-".to_string()),
        Just("\\040".to_string()),
        Just("shared:1".to_string()),
        Just("master:".to_string()),
        Just("propagate_from:x".to_string()),
        Just("unbindable".to_string()),
        any::<u32>().prop_map(|n| n.to_string()),
        "[0-9]{1,3}:[0-9]{1,3}",
        "/[a-z/ ]{0,12}",
        "\\PC{0,8}",
    ]
}

/// A mountinfo line: ten or so fields (sometimes fewer, more, or without the `-` separator).
fn mountinfo_line() -> impl Strategy<Value = String> {
    prop::collection::vec(field(), 0..14).prop_map(|f| f.join(" "))
}

#[test]
fn odd_mountinfo_tables_never_panic_the_inspector() {
    let cases = 512;
    let real = std::fs::read("/proc/self/mountinfo").unwrap();
    let strategy = (
        prop::collection::vec(mountinfo_line(), 0..6),
        prop::collection::vec(any::<u8>(), 0..200),
        0..real.len(),
    );
    runner(cases)
        .run(&strategy, |(lines, bytes, cut)| {
            let text = lines.join("\n");
            let tables = [
                parse_mountinfo(text.as_bytes()),
                parse_mountinfo(&bytes),
                // A real table cut short, as a read racing an unmount might see it.
                parse_mountinfo(&real[..cut]),
            ];
            for t in &tables {
                let _ = render(t);
                let _ = diff(&tables[2], t);
            }
            Ok(())
        })
        .unwrap();
    summary::report(
        "inspect-mountinfo",
        &format!("property: inspector, odd mountinfo tables: {cases} cases, no panic"),
    );
}

fn status_line() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just("NSpid"),
        Just("CapEff"),
        Just("CapBnd"),
        Just("CapPrm"),
        Just("Uid"),
        Just("NoNewPrivs"),
        Just(""),
    ];
    let value = prop_oneof![
        Just("ffffffffffffffff".to_string()),
        Just("1ffffffffff".to_string()),
        Just("10000000000000000".to_string()),
        Just("-1".to_string()),
        any::<u64>().prop_map(|n| format!("{n:x}")),
        "[0-9 \t]{0,20}",
        "\\PC{0,16}",
    ];
    prop_oneof![
        (key, value.clone()).prop_map(|(k, v)| format!("{k}:\t{v}")),
        value,
    ]
}

#[test]
fn odd_proc_status_texts_never_panic_the_inspector() {
    let cases = 512;
    runner(cases)
        .run(&prop::collection::vec(status_line(), 0..12), |lines| {
            let text = lines.join("\n");
            let status = Status::parse(&text);
            let _ = status_fields(&text);
            // Every decoded capability name is a real one (or the kernel's "cap_N" for a bit
            // newer than this list), never an empty string.
            for (_, names) in &status.caps {
                prop_assert!(names.iter().all(|n| !n.is_empty()));
            }
            Ok(())
        })
        .unwrap();
    summary::report(
        "inspect-status",
        &format!("property: inspector, odd /proc/PID/status texts: {cases} cases, no panic"),
    );
}
