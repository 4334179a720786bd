//! Property tests: cgroup files with odd contents (a kernel newer than the parser, a counter past
//! 2^63, an empty file, garbage) never panic the readers, and odd mountinfo and /proc/cgroups
//! texts never panic the layout detection. A fake v2 tree in a temporary directory stands for the
//! kernel, so this runs on any machine. Case counts are fixed and printed.

#[path = "../../../tests/common/summary.rs"]
mod summary;

use containerlab_cgroup::Layout;
use containerlab_trace::Trace;
use proptest::prelude::*;
use std::path::Path;
use summary::runner;

/// What a cgroup file might hold.
fn content() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("max\n".to_string()),
        Just("18446744073709551615\n".to_string()),
        Just("18446744073709551616\n".to_string()),
        Just("-1\n".to_string()),
        Just("max 3\noom 1\noom_kill 2\n".to_string()),
        Just("max\n3\n".to_string()),
        Just("a b c\n".to_string()),
        any::<u64>().prop_map(|n| format!("{n}\n")),
        "[a-z_]{1,8} [0-9]{1,25}\n",
        "\\PC{0,30}",
    ]
}

/// Every file a reader below opens, in the order the readers come.
const FILES: &[&str] = &[
    "memory.current",
    "memory.peak",
    "memory.max",
    "memory.events",
    "pids.current",
    "pids.max",
    "cpu.stat",
    "cgroup.procs",
    "memory.swap.max",
];

#[test]
fn odd_cgroup_files_never_panic_the_readers() {
    let cases = 256;
    let strategy = prop::collection::vec(content(), FILES.len());
    // The readers must really have been reached, not only the creation.
    let created = std::cell::Cell::new(0);
    runner(cases)
        .run(&strategy, |contents| {
            let tmp = tempfile::tempdir().unwrap();
            let root = tmp.path();
            std::fs::write(root.join("cgroup.controllers"), "cpu memory pids\n").unwrap();
            std::fs::write(root.join("cgroup.subtree_control"), "").unwrap();
            let layout = Layout::v2_at(root);
            let mut fill = |p: &Path| {
                // What the lab's parent directory must show to hand controllers down.
                let _ = std::fs::write(p.join("cgroup.controllers"), "cpu memory pids\n");
                let _ = std::fs::write(p.join("cgroup.subtree_control"), "");
                for (name, text) in FILES.iter().zip(&contents) {
                    let _ = std::fs::write(p.join(name), text);
                }
            };
            let Ok(lab) = layout.create("p", &mut Trace::new(), &mut fill) else {
                return Ok(());
            };
            created.set(created.get() + 1);
            let _ = lab.memory_current();
            let _ = lab.memory_peak();
            let _ = lab.memory_max();
            let _ = lab.memory_events();
            let _ = lab.oom_kill_count();
            let _ = lab.failcnt();
            let _ = lab.pids_current();
            let _ = lab.pids_max();
            let _ = lab.cpu_usage_usec();
            let _ = lab.cpu_stat();
            let _ = lab.procs();
            let _ = lab.files();
            Ok(())
        })
        .unwrap();
    assert!(created.get() > cases / 2, "{} created", created.get());
    summary::report(
        "cgroup-files",
        &format!("property: cgroup readers, odd cgroup files: {cases} cases, no panic"),
    );
}

#[test]
fn odd_mountinfo_and_proc_cgroups_never_panic_detection() {
    let cases = 256;
    let line = prop_oneof![
        Just("35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory".to_string()),
        Just("41 31 0:38 / /sys/fs/cgroup rw shared:9 - cgroup2 cgroup2 rw".to_string()),
        Just("41 31 0:38 / /sys/fs/cgroup rw - cgroup2".to_string()),
        Just("#subsys_name\thierarchy\tnum_cgroups\tenabled".to_string()),
        Just("memory\t9\t100\t1".to_string()),
        Just("pids\tx\t\t".to_string()),
        "\\PC{0,40}",
    ];
    let text = || prop::collection::vec(line.clone(), 0..6).prop_map(|l| l.join("\n"));
    let strategy = (text(), prop::option::of(text()), content());
    runner(cases)
        .run(&strategy, |(mountinfo, cgroups, controllers)| {
            let read = move |_: &Path| Ok(controllers.clone());
            if let Ok(layout) = Layout::detect_from(&mountinfo, cgroups.as_deref(), &read) {
                let _ = layout.describe();
                let _ = layout.controllers();
            }
            Ok(())
        })
        .unwrap();
    summary::report(
        "cgroup-detect",
        &format!(
            "property: cgroup detection, odd mountinfo and /proc/cgroups: {cases} cases, no panic"
        ),
    );
}
