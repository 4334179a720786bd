//! Real cgroups on the running kernel (needs root). On the development VM this is cgroup v1
//! (hybrid); on a v2 machine the same tests drive the v2 code paths.

use containerlab_cgroup::{detect, remove_tree, LabCgroup, Layout, Version};
use containerlab_trace::Trace;
use nix::unistd::Pid;
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

const MIB: u64 = 1 << 20;

/// Removes the test's cgroup even when an assertion fails.
struct Guard {
    lab: LabCgroup,
    made: Vec<PathBuf>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        let mut t = Trace::new();
        if self.lab.remove(&mut t).is_err() {
            for p in self.made.iter().rev() {
                let _ = remove_tree(p, &mut t);
            }
        }
    }
}

fn unique_name() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "clab-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

fn make_lab(layout: &Layout, trace: &mut Trace) -> Guard {
    let mut made = Vec::new();
    let lab = layout
        .create(&unique_name(), trace, &mut |p: &Path| {
            made.push(p.to_path_buf())
        })
        .unwrap();
    assert_eq!(made, lab.paths());
    for p in &made {
        assert!(
            p.is_dir(),
            "{} was reported but does not exist",
            p.display()
        );
    }
    Guard { lab, made }
}

/// Starts the workload, waiting on stdin; it begins once `go` is called.
fn workload(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_clab-cgroup-workload"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn go(mut child: Child) -> (std::process::ExitStatus, String) {
    child.stdin.take().unwrap().write_all(b"go\n").unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status,
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn pid(child: &Child) -> Pid {
    Pid::from_raw(child.id() as i32)
}

#[test]
fn over_the_memory_limit_the_kernel_kills() {
    let layout = detect().unwrap();
    let mut trace = Trace::new();
    let mut g = make_lab(&layout, &mut trace);
    let lab = &mut g.lab;
    lab.set_memory_limit(64 * MIB, &mut trace).unwrap();
    lab.disable_swap(&mut trace).unwrap();
    assert_eq!(lab.memory_max().unwrap(), Some(64 * MIB));

    let child = workload(&["alloc", "200"]);
    lab.add_process(pid(&child), &mut trace).unwrap();
    assert_eq!(lab.procs().unwrap(), vec![pid(&child)]);
    let (status, out) = go(child);

    assert_eq!(status.signal(), Some(libc::SIGKILL), "{status:?} {out}");
    assert!(lab.oom_kill_count().unwrap() >= 1);
    assert!(lab.failcnt().unwrap() > 0);
    let events = lab.memory_events().unwrap();
    assert!(events["oom_kill"] >= 1 && events["max"] > 0, "{events:?}");
    assert!(lab.memory_current().unwrap() <= 64 * MIB);
    let files = lab.files();
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    match lab.version() {
        Version::V1 => {
            assert!(names.contains(&"memory.limit_in_bytes"), "{names:?}");
            let oom = &files
                .iter()
                .find(|(n, _)| n == "memory.oom_control")
                .unwrap()
                .1;
            assert!(oom.contains("oom_kill "), "{oom}");
        }
        Version::V2 => assert!(names.contains(&"memory.events"), "{names:?}"),
    }

    // The trace shows what the learner ran, strace style.
    let limit_file = match lab.version() {
        Version::V1 => "memory.limit_in_bytes",
        Version::V2 => "memory.max",
    };
    let shown: Vec<String> = trace.records.iter().map(|r| r.to_string()).collect();
    let expected = format!(
        "write(\"{}\", \"67108864\") = 8",
        lab.memory_dir().join(limit_file).display()
    );
    assert!(shown.contains(&expected), "{shown:#?}");

    let paths = g.made.clone();
    g.lab.remove(&mut trace).unwrap();
    for p in g.lab.leaf_dirs() {
        assert!(!p.exists(), "{} is still there", p.display());
    }
    for p in &paths {
        if !p.ends_with(containerlab_cgroup::PARENT) {
            assert!(!p.exists());
        }
    }
}

#[test]
fn without_a_limit_the_same_allocation_survives() {
    let layout = detect().unwrap();
    let mut trace = Trace::new();
    let g = make_lab(&layout, &mut trace);
    assert_eq!(g.lab.memory_max().unwrap(), None);

    let child = workload(&["alloc", "200"]);
    g.lab.add_process(pid(&child), &mut trace).unwrap();
    let (status, out) = go(child);
    assert!(status.success(), "{status:?}");
    assert_eq!(out.trim(), "touched 200 MiB");
    if let Some(peak) = g.lab.memory_peak().unwrap() {
        assert!(peak >= 200 * MIB, "peak {peak}");
    }
    assert_eq!(g.lab.oom_kill_count().unwrap(), 0);
    assert!(g.lab.cpu_usage_usec().unwrap() > 0);
    assert_eq!(g.lab.pids_current().unwrap(), 0);
}

#[test]
fn pids_max_stops_a_fork_bomb() {
    let layout = detect().unwrap();
    let mut trace = Trace::new();
    let mut g = make_lab(&layout, &mut trace);
    g.lab.set_pids_max(5, &mut trace).unwrap();
    assert_eq!(g.lab.pids_max().unwrap(), Some(5));

    let child = workload(&["forkbomb", "50"]);
    g.lab.add_process(pid(&child), &mut trace).unwrap();
    assert_eq!(g.lab.pids_current().unwrap(), 1);
    let (status, out) = go(child);
    assert!(status.success(), "{status:?}");
    // The bomb itself is one of the 5, so 4 children fit.
    assert_eq!(out.trim(), "started=4 first_error=EAGAIN");
}

#[test]
fn remove_kills_what_is_left() {
    let layout = detect().unwrap();
    let mut trace = Trace::new();
    let g = make_lab(&layout, &mut trace);
    let mut sleeper = Command::new("sleep").arg("600").spawn().unwrap();
    g.lab.add_process(pid(&sleeper), &mut trace).unwrap();
    g.lab.remove(&mut trace).unwrap();
    assert_eq!(sleeper.wait().unwrap().signal(), Some(libc::SIGKILL));
    for p in g.lab.leaf_dirs() {
        assert!(!p.exists());
    }
}

/// The cgroup.kill path of removal on a real cgroup2 tree (on the hybrid VM: the unified mount,
/// which holds no controllers but has cgroup.procs and cgroup.kill).
#[test]
fn remove_tree_empties_a_real_v2_cgroup() {
    let Some(root) = detect().unwrap().unified else {
        return assert!(Path::new("/sys/fs/cgroup/memory").exists());
    };
    let top = root.join(unique_name());
    let below = top.join("clab-inner");
    std::fs::create_dir(&top).unwrap();
    struct Cleanup(PathBuf);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            let _ = remove_tree(&self.0, &mut Trace::new());
        }
    }
    let _cleanup = Cleanup(top.clone());
    std::fs::create_dir(&below).unwrap();
    let mut sleeper = Command::new("sleep").arg("600").spawn().unwrap();
    std::fs::write(below.join("cgroup.procs"), sleeper.id().to_string()).unwrap();

    // cgroup.kill exists in non-root v2 cgroups since Linux 5.14.
    let has_kill = below.join("cgroup.kill").exists();
    let mut trace = Trace::new();
    remove_tree(&top, &mut trace).unwrap();
    assert_eq!(sleeper.wait().unwrap().signal(), Some(libc::SIGKILL));
    assert!(!top.exists());
    let shown: Vec<String> = trace.records.iter().map(|r| r.to_string()).collect();
    let killed_by = if has_kill {
        format!(
            "write(\"{}\", \"1\") = 1",
            below.join("cgroup.kill").display()
        )
    } else {
        format!("kill({}, SIGKILL) = 0", sleeper.id())
    };
    assert!(shown.contains(&killed_by), "{shown:#?}");
    assert!(
        shown.ends_with(&[
            format!("rmdir(\"{}\") = 0", below.display()),
            format!("rmdir(\"{}\") = 0", top.display()),
        ]),
        "{shown:#?}"
    );
    // Gone already is fine.
    remove_tree(&top, &mut trace).unwrap();
}
