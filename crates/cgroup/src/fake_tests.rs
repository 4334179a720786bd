//! The create / set / read paths against fake cgroup trees in a temporary directory, for both
//! versions. A fake "kernel" (the `on_created` callback) fills each new directory with the
//! control files the real kernel would make, so the v2 paths are covered on a v1 machine.

use crate::*;
use containerlab_trace::Trace;
use nix::unistd::Pid;
use std::fs;
use std::path::{Path, PathBuf};

const V2_FILES: &[(&str, &str)] = &[
    ("cgroup.procs", ""),
    ("cgroup.controllers", "memory pids cpu"),
    ("cgroup.subtree_control", ""),
    ("memory.max", "max\n"),
    ("memory.swap.max", "max\n"),
    ("memory.current", "0\n"),
    ("memory.peak", "0\n"),
    (
        "memory.events",
        "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n",
    ),
    ("pids.max", "max\n"),
    ("pids.current", "0\n"),
    ("pids.events", "max 0\n"),
    ("cpu.stat", "usage_usec 0\nuser_usec 0\nsystem_usec 0\n"),
    ("cpu.max", "max 100000\n"),
];

const V1_MEMORY: &[(&str, &str)] = &[
    ("cgroup.procs", ""),
    ("memory.limit_in_bytes", "9223372036854771712\n"),
    ("memory.usage_in_bytes", "0\n"),
    ("memory.max_usage_in_bytes", "0\n"),
    ("memory.swappiness", "60\n"),
    ("memory.failcnt", "0\n"),
    (
        "memory.oom_control",
        "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n",
    ),
];

fn fill(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        fs::write(dir.join(name), text).unwrap();
    }
}

/// Fills a new directory with the files its hierarchy's kernel would show.
fn fake_kernel(p: &Path) {
    if p.file_name().unwrap() == PARENT {
        // A v2 parent gets the full set (it hands controllers down); a v1 one only cgroup.procs.
        if p.parent().unwrap().join("cgroup.controllers").exists() {
            fill(p, V2_FILES);
        } else {
            fill(p, &[("cgroup.procs", "")]);
        }
        return;
    }
    let tree = p.parent().unwrap().parent().unwrap();
    let files: &[(&str, &str)] = match tree.file_name().unwrap().to_str().unwrap() {
        "memory" => V1_MEMORY,
        "pids" => &[
            ("cgroup.procs", ""),
            ("pids.max", "max\n"),
            ("pids.current", "0\n"),
        ],
        "cpu" => &[
            ("cgroup.procs", ""),
            ("cpu.cfs_quota_us", "-1\n"),
            ("cpu.cfs_period_us", "100000\n"),
            (
                "cpu.stat",
                "nr_periods 0\nnr_throttled 0\nthrottled_time 0\n",
            ),
        ],
        "cpuacct" => &[("cgroup.procs", ""), ("cpuacct.usage", "2500000\n")],
        _ => V2_FILES,
    };
    fill(p, files);
}

fn shown(t: &Trace) -> Vec<String> {
    t.records.iter().map(|r| r.to_string()).collect()
}

fn read(p: PathBuf) -> String {
    fs::read_to_string(p).unwrap()
}

#[test]
fn v2_create_hands_controllers_down_and_records_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("v2root");
    fs::create_dir(&root).unwrap();
    fill(
        &root,
        &[
            ("cgroup.controllers", "cpu memory pids\n"),
            ("cgroup.subtree_control", ""),
        ],
    );
    let layout = Layout::v2_at(&root);

    let mut t = Trace::new();
    let mut created = Vec::new();
    let mut lab = layout
        .create("s1", &mut t, &mut |p: &Path| {
            fake_kernel(p);
            created.push(p.to_path_buf());
        })
        .unwrap();
    let parent = root.join("containerlab");
    let leaf = parent.join("s1");
    assert_eq!(created, vec![parent.clone(), leaf.clone()]);
    assert_eq!(lab.paths(), &created[..]);
    assert_eq!(lab.leaf_dirs(), std::slice::from_ref(&leaf));
    assert_eq!(lab.version(), Version::V2);
    let r = root.display();
    assert_eq!(
        shown(&t),
        vec![
            format!("write(\"{r}/cgroup.subtree_control\", \"+memory +pids +cpu\") = 18"),
            format!("mkdir(\"{r}/containerlab\", 0755) = 0"),
            format!(
                "write(\"{r}/containerlab/cgroup.subtree_control\", \"+memory +pids +cpu\") = 18"
            ),
            format!("mkdir(\"{r}/containerlab/s1\", 0755) = 0"),
        ]
    );

    let mut t = Trace::new();
    lab.set_memory_limit(100 << 20, &mut t).unwrap();
    assert_eq!(lab.swap_setting().unwrap(), "max");
    assert_eq!(lab.disable_swap(&mut t).unwrap(), SwapOff::SwapMaxZero);
    assert_eq!(lab.swap_setting().unwrap(), "0");
    // v2: what the kernel lists in the child's cgroup.controllers (the parent's hand-down).
    assert_eq!(lab.controllers().unwrap(), ["memory", "pids", "cpu"]);
    lab.set_pids_max(5, &mut t).unwrap();
    lab.add_process(Pid::from_raw(4242), &mut t).unwrap();
    assert_eq!(read(leaf.join("memory.max")), "104857600");
    assert_eq!(read(leaf.join("memory.swap.max")), "0");
    assert_eq!(read(leaf.join("pids.max")), "5");
    assert_eq!(read(leaf.join("cgroup.procs")), "4242");
    let l = leaf.display();
    assert_eq!(
        shown(&t),
        vec![
            format!("write(\"{l}/memory.max\", \"104857600\") = 9"),
            format!("stat(\"{l}/memory.swap.max\", {{...}}) = 0"),
            format!("write(\"{l}/memory.swap.max\", \"0\") = 1"),
            format!("write(\"{l}/pids.max\", \"5\") = 1"),
            format!("write(\"{l}/cgroup.procs\", \"4242\") = 4"),
        ]
    );

    // What the kernel would report after an OOM kill.
    fs::write(
        leaf.join("memory.events"),
        "low 0\nhigh 0\nmax 7\noom 1\noom_kill 1\noom_group_kill 0\n",
    )
    .unwrap();
    fs::write(leaf.join("memory.current"), "1048576\n").unwrap();
    fs::write(
        leaf.join("cpu.stat"),
        "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n",
    )
    .unwrap();
    fs::write(leaf.join("pids.current"), "3\n").unwrap();
    // Two forks refused at pids.max, as the kernel counts them.
    fs::write(leaf.join("pids.events"), "max 2\n").unwrap();
    assert_eq!(lab.memory_max().unwrap(), Some(100 << 20));
    assert_eq!(lab.memory_current().unwrap(), 1 << 20);
    assert_eq!(lab.memory_peak().unwrap(), Some(0));
    assert_eq!(lab.oom_kill_count().unwrap(), 1);
    assert_eq!(lab.failcnt().unwrap(), 7);
    assert_eq!(lab.memory_events().unwrap()["oom"], 1);
    assert_eq!(lab.pids_current().unwrap(), 3);
    assert_eq!(lab.pids_max().unwrap(), Some(5));
    assert_eq!(lab.pids_limit_hits().unwrap(), 2);
    assert_eq!(lab.cpu_usage_usec().unwrap(), 1500);
    assert_eq!(lab.cpu_stat().unwrap()["user_usec"], 1000);
    assert_eq!(lab.procs().unwrap(), vec![Pid::from_raw(4242)]);
    let names: Vec<String> = lab.files().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "memory.max",
            "memory.swap.max",
            "memory.current",
            "memory.peak",
            "memory.events",
            "pids.max",
            "pids.current",
            "pids.events",
            "cpu.stat",
            "cpu.max",
            "cgroup.procs"
        ]
    );
    assert_eq!(lab.files()[0].1, "104857600");
    fs::write(leaf.join("pids.max"), "max\n").unwrap();
    assert_eq!(lab.pids_max().unwrap(), None);

    // A second lab shares the parent: mkdir says EEXIST, only the new leaf is reported.
    let mut t = Trace::new();
    let mut created = Vec::new();
    let lab2 = layout
        .create("s2", &mut t, &mut |p: &Path| {
            fake_kernel(p);
            created.push(p.to_path_buf());
        })
        .unwrap();
    assert_eq!(created, vec![parent.join("s2")]);
    assert_eq!(lab2.paths(), &created[..]);
    assert!(
        shown(&t)[1].ends_with("= -1 EEXIST (File exists)"),
        "{:?}",
        shown(&t)
    );

    // The same name twice is an error, and the first lab's directory stays.
    let e = layout
        .create("s1", &mut Trace::new(), &mut fake_kernel)
        .unwrap_err();
    assert_eq!(e.errno(), Some(nix::errno::Errno::EEXIST));
    assert!(e.to_string().contains("exists already"), "{e}");
    assert!(leaf.is_dir());

    // open() finds the same directories without making anything.
    let again = layout.open("s1").unwrap();
    assert_eq!(again.leaf_dirs(), &[leaf]);
}

/// A v2 root in `dir` offering memory and pids (no cpu), handing down `subtree_control`.
fn v2_memory_pids(dir: &Path, subtree_control: &str) -> Layout {
    fill(
        dir,
        &[
            ("cgroup.controllers", "memory pids\n"),
            ("cgroup.subtree_control", subtree_control),
        ],
    );
    let mut layout = Layout::v2_at(dir);
    layout.cpu = None;
    layout
}

#[test]
fn v2_without_swap_accounting_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let layout = v2_memory_pids(tmp.path(), "");
    let mut t = Trace::new();
    let mut lab = layout
        .create("s1", &mut t, &mut |p: &Path| {
            fake_kernel(p);
            let _ = fs::remove_file(p.join("memory.swap.max"));
        })
        .unwrap();
    // Without the cpu controller only memory and pids are handed down.
    assert!(
        shown(&t)[0].contains("\"+memory +pids\""),
        "{:?}",
        shown(&t)
    );
    let mut t = Trace::new();
    assert_eq!(lab.disable_swap(&mut t).unwrap(), SwapOff::NoSwapAccounting);
    assert_eq!(t.records.len(), 1);
    assert_eq!(t.records[0].errno(), Some("ENOENT"));
}

#[test]
fn invalid_names_are_refused_before_any_mkdir() {
    let layout = Layout::v2_at("/nonexistent");
    for bad in ["", ".", "..", "a/b", "x y"] {
        let mut t = Trace::new();
        let e = layout.create(bad, &mut t, &mut |_: &Path| {}).unwrap_err();
        assert!(matches!(e, Error::InvalidName { .. }), "{bad:?}: {e}");
        assert!(t.is_empty());
    }
}

#[test]
fn a_failed_create_undoes_its_directories() {
    let tmp = tempfile::tempdir().unwrap();
    // The pids tree is missing, so its mkdir fails after the memory tree's succeeded.
    fs::create_dir(tmp.path().join("memory")).unwrap();
    let layout = v1_layout(tmp.path());
    let mut t = Trace::new();
    let e = layout.create("s1", &mut t, &mut fake_kernel).unwrap_err();
    assert_eq!(e.errno(), Some(nix::errno::Errno::ENOENT));
    // Roll-back rmdirs of the fake dirs fail (they hold files) but are attempted and recorded.
    let s = shown(&t);
    assert!(s.iter().any(|l| l.starts_with("rmdir(")), "{s:?}");
}

fn v1_layout(base: &Path) -> Layout {
    let h = |n: &str| Hierarchy {
        version: Version::V1,
        mount: base.join(n),
    };
    Layout {
        memory: h("memory"),
        pids: h("pids"),
        cpu: Some(h("cpu")),
        cpuacct: Some(h("cpuacct")),
        unified: Some(base.join("unified")),
    }
}

#[test]
fn v1_makes_a_directory_per_tree_and_synthesises_events() {
    let tmp = tempfile::tempdir().unwrap();
    for n in ["memory", "pids", "cpu", "cpuacct"] {
        fs::create_dir(tmp.path().join(n)).unwrap();
    }
    let layout = v1_layout(tmp.path());
    let mut t = Trace::new();
    let mut lab = layout.create("s1", &mut t, &mut fake_kernel).unwrap();
    assert_eq!(lab.version(), Version::V1);
    assert_eq!(lab.paths().len(), 8);
    assert_eq!(lab.leaf_dirs().len(), 4);
    // No subtree_control on v1: only mkdirs.
    assert!(shown(&t).iter().all(|l| l.starts_with("mkdir(")));

    let mut t = Trace::new();
    lab.set_memory_limit(64 << 20, &mut t).unwrap();
    assert_eq!(lab.swap_setting().unwrap(), "60");
    assert_eq!(lab.disable_swap(&mut t).unwrap(), SwapOff::Swappiness0);
    assert_eq!(lab.swap_setting().unwrap(), "0");
    // v1: one tree per controller, and the cgroup has a directory in each.
    assert_eq!(
        lab.controllers().unwrap(),
        ["memory", "pids", "cpu", "cpuacct"]
    );
    lab.add_process(Pid::from_raw(77), &mut t).unwrap();
    let mem = tmp.path().join("memory/containerlab/s1");
    assert_eq!(read(mem.join("memory.limit_in_bytes")), "67108864");
    assert_eq!(read(mem.join("memory.swappiness")), "0");
    for n in ["memory", "pids", "cpu", "cpuacct"] {
        let procs = tmp.path().join(n).join("containerlab/s1/cgroup.procs");
        assert_eq!(read(procs), "77");
    }
    assert_eq!(t.records.len(), 2 + 4);

    fs::write(mem.join("memory.failcnt"), "19\n").unwrap();
    fs::write(
        mem.join("memory.oom_control"),
        "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n",
    )
    .unwrap();
    assert_eq!(lab.memory_max().unwrap(), Some(64 << 20));
    assert_eq!(lab.oom_kill_count().unwrap(), 1);
    assert_eq!(lab.failcnt().unwrap(), 19);
    let ev = lab.memory_events().unwrap();
    assert_eq!((ev["max"], ev["oom_kill"]), (19, 1));
    assert_eq!(lab.cpu_usage_usec().unwrap(), 2500);
    assert_eq!(lab.cpu_stat().unwrap()["nr_throttled"], 0);
    assert_eq!(lab.pids_max().unwrap(), None);
    let names: Vec<String> = lab.files().into_iter().map(|(n, _)| n).collect();
    assert!(
        names.contains(&"memory.oom_control".to_string()),
        "{names:?}"
    );
    assert!(names.contains(&"cpuacct.usage".to_string()), "{names:?}");
    assert!(names.contains(&"cpu.stat".to_string()), "{names:?}");

    let parents = lab_parents(&layout);
    assert_eq!(parents.len(), 4);
    assert!(parents.iter().all(|p| p.ends_with(PARENT)));
}

#[test]
fn root_handovers_name_only_what_the_root_does_not_hand_down_yet() {
    let tmp = tempfile::tempdir().unwrap();
    let layout = v2_memory_pids(tmp.path(), "pids\n");
    let file = tmp.path().join("cgroup.subtree_control");
    assert_eq!(
        layout.root_handovers(),
        vec![(file.clone(), vec!["memory".to_string()])]
    );
    // A systemd host: both handed down already, nothing to take back later.
    fs::write(&file, "cpu memory pids\n").unwrap();
    assert_eq!(layout.root_handovers(), Vec::new());
    // v1 trees have no subtree_control to change.
    let v1 = tempfile::tempdir().unwrap();
    assert_eq!(v1_layout(v1.path()).root_handovers(), Vec::new());
}

#[test]
fn cpu_quota_on_v2_is_one_file_and_on_v1_two() {
    // v2: `QUOTA PERIOD` into cpu.max, read back as written; throttling from cpu.stat.
    let tmp = tempfile::tempdir().unwrap();
    fill(tmp.path(), V2_FILES);
    let layout = Layout::v2_at(tmp.path());
    let mut lab = layout
        .create("s1", &mut Trace::new(), &mut fake_kernel)
        .unwrap();
    let leaf = tmp.path().join("containerlab/s1");
    assert_eq!(lab.cpu_max().unwrap(), "max 100000");
    let mut t = Trace::new();
    lab.set_cpu_max(20000, 100000, &mut t).unwrap();
    assert_eq!(read(leaf.join("cpu.max")), "20000 100000");
    assert_eq!(t.records.len(), 1);
    fs::write(
        leaf.join("cpu.stat"),
        "usage_usec 400000\nnr_periods 20\nnr_throttled 19\nthrottled_usec 1600000\n",
    )
    .unwrap();
    assert_eq!(lab.cpu_throttled().unwrap(), 19);

    // v1: the period first, then the quota; -1 reads as `max`.
    let tmp = tempfile::tempdir().unwrap();
    for n in ["memory", "pids", "cpu", "cpuacct"] {
        fs::create_dir(tmp.path().join(n)).unwrap();
    }
    let layout = v1_layout(tmp.path());
    let mut lab = layout
        .create("s1", &mut Trace::new(), &mut fake_kernel)
        .unwrap();
    let cpu = tmp.path().join("cpu/containerlab/s1");
    assert_eq!(lab.cpu_max().unwrap(), "max 100000");
    let mut t = Trace::new();
    lab.set_cpu_max(50000, 200000, &mut t).unwrap();
    let c = cpu.display();
    assert_eq!(
        shown(&t),
        vec![
            format!("write(\"{c}/cpu.cfs_period_us\", \"200000\") = 6"),
            format!("write(\"{c}/cpu.cfs_quota_us\", \"50000\") = 5"),
        ]
    );
    assert_eq!(lab.cpu_max().unwrap(), "50000 200000");
    assert_eq!(lab.cpu_throttled().unwrap(), 0);
}

#[test]
fn cpu_quota_without_the_cpu_controller_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let layout = v2_memory_pids(tmp.path(), "");
    let mut lab = layout
        .create("s1", &mut Trace::new(), &mut fake_kernel)
        .unwrap();
    let e = lab.set_cpu_max(1, 2, &mut Trace::new()).unwrap_err();
    assert!(e.to_string().contains("cpu"), "{e}");
}
