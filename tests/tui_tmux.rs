//! End to end: the real binary's terminal UI driven in tmux, as a learner would. Opens the pid
//! lesson, runs every step with Enter, sees PID 1 / NSpid in the live view and every step's
//! checks pass, quits; then nothing is left behind and the terminal is back to the shell.
//! Root test (the lesson makes namespaces). Also: the layers lesson opened on a learner's own
//! image (`run lesson layers --image DIR`) imports that image.

mod common;

use common::tmux::{running, setup, Setup, Tmux};
use common::{assert_empty_dir, children_of, wait_until};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

#[test]
fn pid_lesson_in_tmux() {
    let Setup {
        exe, state, rundir, ..
    } = &setup(true);
    let (tmux, pane_pid) = Tmux::start(state.path(), rundir.path());

    tmux.keys(&[&format!("{} tui pid", exe.display()), "Enter"]);
    tmux.wait_for("the first step", |s| {
        s.contains("step 1/9") && s.contains("Press Enter to run this step")
    });
    let alt = tmux.run(&["display-message", "-p", "-t", "e2e", "#{alternate_on}"]);
    assert_eq!(
        String::from_utf8_lossy(&alt.stdout).trim(),
        "1",
        "the UI uses the alternate screen"
    );
    let tui_pid = *children_of(pane_pid)
        .first()
        .expect("the TUI runs under the shell");

    for step in 1..=9 {
        tmux.keys(&["Enter"]);
        let header = format!("step {step}/9");
        // The exercises (a /proc of init's own, SIGKILL to PID 1): solved by their solution,
        // shown with S and run with S again.
        if step == 5 || step == 8 {
            tmux.wait_for(&format!("exercise {step} to wait"), |s| {
                let first = s.lines().next().unwrap_or("");
                first.contains(&header) && first.contains("your turn")
            });
            tmux.keys(&["S"]);
            tmux.wait_for("the solution shown", |s| s.contains("Solution: "));
            tmux.keys(&["S"]);
        }
        let s = tmux.wait_for(&format!("step {step} to pass"), |s| {
            let first = s.lines().next().unwrap_or("");
            first.contains(&header) && (first.contains("passed ✓") || first.contains("fail"))
        });
        let first = s.lines().next().unwrap();
        assert!(first.contains("step passed ✓"), "step {step} failed:\n{s}");
        assert!(!s.contains('✗'), "a failed check on step {step}:\n{s}");
        if step == 1 {
            // The live processes view: init's NSpid has its host PID and 1.
            let s = tmux.wait_for("init in the processes view", |s| {
                s.lines().any(|l| l.contains("init") && l.contains(" 1 "))
            });
            assert!(s.contains("NSpid"), "{s}");
            let row = s
                .lines()
                .find(|l| l.contains("│init "))
                .expect("an init row");
            let init = row.split("│init ").nth(1).unwrap();
            let mut cols: Vec<&str> = vec!["init"];
            cols.extend(init.split_whitespace());
            // NAME HOST-PID NSpid... : NSpid starts with the host PID and ends with 1.
            assert_eq!(cols[2], cols[1], "{init}");
            assert_eq!(cols[3], "1", "{init}");
        }
    }

    // Leave the lesson (teardown), then the picker shows it done; quit.
    tmux.keys(&["q"]);
    tmux.wait_for("the lesson list", |s| {
        s.contains("done ✓") && s.contains("Lessons")
    });
    tmux.keys(&["Escape"]);
    tmux.wait_for_prompt();
    let alt = tmux.run(&["display-message", "-p", "-t", "e2e", "#{alternate_on}"]);
    assert_eq!(
        String::from_utf8_lossy(&alt.stdout).trim(),
        "0",
        "alternate screen left"
    );

    // Nothing left behind.
    assert!(
        wait_until(30, || !Path::new(&format!("/proc/{tui_pid}")).exists()),
        "the TUI did not exit"
    );
    assert_eq!(
        running(exe),
        Vec::<i32>::new(),
        "containerlab processes left"
    );
    assert_empty_dir(rundir.path());
    let stray = std::fs::read_dir("/run/containerlab")
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(&format!("clab-{tui_pid}-"))
        });
    assert!(!stray, "a session of the TUI in /run/containerlab");
    // The terminal modes are back: the shell still echoes what is typed.
    tmux.keys(&["echo restored-$((40+2))", "Enter"]);
    tmux.wait_for("the shell to echo", |s| s.contains("restored-42"));
    // Progress was saved.
    let progress =
        std::fs::read_to_string(state.path().join("containerlab/progress.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&progress).unwrap();
    assert_eq!(v["format"], "containerlab-progress", "{progress}");
    assert!(v["lessons"]["pid"]["completed"].is_string(), "{progress}");
    assert_eq!(v["lessons"]["pid"]["runs"], 1, "{progress}");
    // One file for both front ends: the instructor's export reads what the TUI wrote.
    let export = Command::new(exe)
        .env("XDG_STATE_HOME", state.path())
        .env_remove("CONTAINERLAB_STATE_DIR")
        .args(["progress", "--export", "--name", "e2e"])
        .output()
        .unwrap();
    assert!(export.status.success(), "{export:?}");
    let exported: serde_json::Value = serde_json::from_slice(&export.stdout).unwrap();
    assert_eq!(exported["learner"], "e2e");
    assert!(exported["lessons"]["pid"]["completed"].is_string());
    // Logs went to the file, not the screen.
    assert!(state.path().join("containerlab/containerlab.log").exists());
}

#[test]
fn an_unreadable_progress_file_is_reported_and_kept() {
    let Setup {
        exe, state, rundir, ..
    } = &setup(false);
    let file = state.path().join("containerlab/progress.json");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    // Not this format (a development build's): someone's record all the same.
    let foreign = "{\"lessons\":{\"uts\":{\"steps_done\":[0,1]}}}\n";
    std::fs::write(&file, foreign).unwrap();
    let (tmux, _) = Tmux::start(state.path(), rundir.path());

    tmux.keys(&[&format!("{} tui", exe.display()), "Enter"]);
    tmux.wait_for("the warning in the status bar", |s| {
        s.contains("Lessons") && s.contains("progress not recorded")
    });
    // Resetting a lesson would save progress: with an unreadable file it saves nothing.
    tmux.keys(&["C-r"]);
    tmux.wait_for("the reset question", |s| s.contains("Forget your progress"));
    tmux.keys(&["y"]);
    tmux.wait_for("the reset done", |s| s.contains("reset"));
    tmux.keys(&["Escape"]);
    tmux.wait_for_prompt();
    assert_eq!(std::fs::read_to_string(&file).unwrap(), foreign);
    let log = std::fs::read_to_string(state.path().join("containerlab/containerlab.log")).unwrap();
    assert!(log.contains("not a containerlab progress file"), "{log}");
}

#[test]
fn layers_lesson_in_tmux_imports_the_learners_own_image() {
    let Setup {
        exe, state, rundir, ..
    } = &setup(true);
    let images = tempfile::Builder::new()
        .prefix("img")
        .tempdir_in("/tmp")
        .unwrap();
    let layout = common::oci::hand_layout(images.path());
    let (tmux, _) = Tmux::start(state.path(), rundir.path());

    tmux.keys(&[
        &format!(
            "{} run lesson layers --image {}",
            exe.display(),
            layout.display()
        ),
        "Enter",
    ]);
    tmux.wait_for("the first step", |s| {
        s.contains("step 1/") && s.contains("Press Enter to run this step")
    });
    tmux.keys(&["Enter"]);
    // The step's trace: the lab imported this layout instead of building its own image.
    let s = tmux.wait_for("the image step to run", |s| {
        s.lines().next().unwrap_or("").contains("passed ✓") || s.contains("fail")
    });
    assert!(s.lines().next().unwrap().contains("step passed ✓"), "{s}");
    let flat: String = s.split_whitespace().collect();
    let imported = format!("import(\"{}", layout.display());
    assert!(flat.contains(&imported), "{imported} not on screen:\n{s}");
    assert!(!s.contains("build_busybox_rootfs"), "{s}");

    tmux.keys(&["q"]);
    tmux.wait_for("the lesson list", |s| s.contains("Lessons"));
    tmux.keys(&["Escape"]);
    tmux.wait_for_prompt();
    assert!(
        wait_until(30, || running(exe).is_empty()),
        "containerlab processes left"
    );
    assert_empty_dir(rundir.path());
}

/// At 80x24, `/` then `cgroup` then Enter opens the cgroup lesson, not cgroupns (listed before
/// it): the lesson whose id is what was typed wins.
#[test]
fn typing_cgroup_in_the_filter_opens_the_cgroup_lesson() {
    let Setup {
        exe, state, rundir, ..
    } = &setup(true);
    let (tmux, _) = Tmux::start_sized(state.path(), rundir.path(), 80, 24);
    tmux.keys(&[&format!("{} tui", exe.display()), "Enter"]);
    tmux.wait_for("the lesson list", |s| s.contains("Lessons"));
    tmux.keys(&["/"]);
    tmux.keys(&["-l", "cgroup"]);
    tmux.wait_for("the filter typed", |s| s.contains("cgroup_"));
    tmux.keys(&["Enter"]);
    let s = tmux.wait_for("a lesson opened", |s| {
        s.lines().next().unwrap_or("").contains("step 1/")
    });
    let header = s.lines().next().unwrap();
    assert!(header.trim_start().starts_with("cgroup ·"), "{s}");
    tmux.wait_for("the sandbox started", |s| {
        s.lines().next().unwrap_or("").contains("not run yet")
    });
    tmux.keys(&["q"]);
    tmux.wait_for("the lesson list again", |s| s.contains("Lessons"));
    // Esc clears the filter, then quits.
    tmux.keys(&["Escape"]);
    tmux.wait_for("the filter cleared", |s| s.contains("(/ to filter)"));
    tmux.keys(&["Escape"]);
    tmux.wait_for_prompt();
    assert!(
        wait_until(30, || running(exe).is_empty()),
        "containerlab processes left"
    );
    assert_empty_dir(rundir.path());
}

/// An exercise as a learner does it in the shell pane.
struct Exercise<'a> {
    /// How the TUI is started, `{exe}` standing for the binary.
    launch: &'a str,
    /// The lesson's number of steps, and the exercise's (1-based).
    steps: usize,
    step: usize,
    /// The process the shell enters, as its prompt names it (`uts:sandbox`).
    shell: &'a str,
    /// What the learner types, and a part of the answer that must not show before.
    typed: &'a str,
    answer: &'a str,
    /// The claim of the check that turns ✓.
    claim: &'a str,
    /// The key that picks the live view that shows it, and how to see it there.
    view_key: &'a str,
    in_view: fn(&str) -> bool,
}

/// Plays `ex` at 80x24 and at 160x48: `s` opens the shell in the lesson screen, what is typed
/// there turns the check ✓ without leaving the shell, the live view shows the change, `exit`
/// gives the keys back to the lesson; then nothing is left and the host keeps its hostname.
fn exercise_in_the_shell_pane(ex: &Exercise) {
    let Setup {
        exe, state, rundir, ..
    } = &setup(true);
    let host = nix::unistd::gethostname().unwrap();
    for (w, h) in [(80u16, 24u16), (160, 48)] {
        let (tmux, _) = Tmux::start_sized(state.path(), rundir.path(), w, h);
        let launch = ex.launch.replace("{exe}", &exe.display().to_string());
        tmux.keys(&[&launch, "Enter"]);
        // The header says "not run yet" once the session is idle (it says what it is busy with).
        let shown = |step: String| {
            move |s: &str| {
                let header = s.lines().next().unwrap_or("");
                header.contains(&step) && header.contains("not run yet")
            }
        };
        let of = |n: usize| format!("step {n}/{}", ex.steps);
        tmux.wait_for("the sandbox to start", shown(of(1)));
        // Straight to the exercise (the sandbox replays the steps before it), then run it.
        tmux.keys(&["g", &ex.step.to_string(), "Enter"]);
        tmux.wait_for("the exercise shown", shown(of(ex.step)));
        tmux.keys(&["Enter"]);
        let s = tmux.wait_for("the exercise to start", |s| s.contains("your turn"));
        assert!(
            !s.contains(ex.answer),
            "the answer shows before the learner tries:\n{s}"
        );
        tmux.keys(&["s"]);
        let prompt = format!("[containerlab {}", ex.shell);
        tmux.wait_for("the shell's prompt", |s| {
            s.contains(&prompt) && s.contains("Ctrl-G")
        });
        tmux.keys(&[ex.typed, "Enter"]);
        let typed = Instant::now();
        let ticked = format!("✓ {}", ex.claim);
        let s = tmux.wait_for("the check to turn ✓ while the shell is open", |s| {
            s.contains(&ticked)
        });
        eprintln!("{w}x{h}: ✓ {} ms after Enter", typed.elapsed().as_millis());
        assert!(s.contains("✓ solved!"), "{s}");
        assert!(
            s.contains("Ctrl-G: back to the lesson"),
            "the shell still has the keys:\n{s}"
        );
        // The live view. On a narrow screen it shares its pane with the shell: `v` shows it.
        tmux.keys(&["C-g"]);
        if w < 120 {
            tmux.keys(&["v"]);
        }
        tmux.keys(&[ex.view_key]);
        tmux.wait_for("the change in the live view", ex.in_view);
        // Ctrl-G: back to the shell (shown again); `exit` closes it, the keys are the lesson's.
        tmux.keys(&["C-g"]);
        tmux.keys(&["exit", "Enter"]);
        let s = tmux.wait_for("the shell to close", |s| s.contains("the shell closed"));
        assert!(!s.contains(&prompt), "{s}");
        tmux.keys(&["q"]);
        tmux.wait_for("the lesson list", |s| s.contains("Lessons"));
        tmux.keys(&["q"]);
        tmux.wait_for_prompt();
        assert!(
            wait_until(30, || running(exe).is_empty()),
            "containerlab processes left"
        );
        assert_empty_dir(rundir.path());
        assert_eq!(nix::unistd::gethostname().unwrap(), host);
    }
}

#[test]
fn uts_exercise_typed_in_the_shell_pane() {
    exercise_in_the_shell_pane(&Exercise {
        launch: "{exe} tui uts",
        steps: 5,
        step: 4,
        shell: "uts:sandbox",
        typed: "hostname mybox",
        answer: "--uts hostname mybox",
        claim: "The hostname inside is mybox",
        // The ns inodes view shows each process's hostname: the lesson's first view, `1` at
        // every step.
        view_key: "1",
        in_view: |s| {
            s.lines()
                .any(|l| l.contains("(hostname)") && l.contains("mybox"))
        },
    });
}

/// The net lesson's first exercise, in a network namespace the test makes (no packet leaves it).
#[test]
fn net_exercise_typed_in_the_shell_pane() {
    exercise_in_the_shell_pane(&Exercise {
        launch: "unshare --net sh -c 'ip link set lo up; {exe} tui net'",
        steps: 10,
        step: 2,
        shell: "net:box",
        typed: "ip link set lo up",
        answer: "ip link set lo up",
        claim: "lo is UP in box",
        // The step's own view (net): box's lo is up.
        view_key: "1",
        in_view: |s| s.contains("LOOPBACK,UP"),
    });
}

/// Puts the machine's hostname back if a test that changes it fails half-way.
struct HostnameGuard(std::ffi::OsString);

impl Drop for HostnameGuard {
    fn drop(&mut self) {
        if nix::unistd::gethostname().ok().as_ref() != Some(&self.0) {
            let _ = nix::unistd::sethostname(&self.0);
        }
    }
}

/// In the pid lesson's first step the lesson's processes still share the host's mount and UTS
/// namespaces, so a mount or a hostname typed in the learner's shell changes the machine. The
/// shell says so, and whatever it did there is undone when the lesson is left, and also when the
/// terminal is killed with the shell open.
#[test]
fn what_a_host_sharing_shell_changes_is_undone() {
    let Setup {
        exe, state, rundir, ..
    } = &setup(true);
    let host = HostnameGuard(nix::unistd::gethostname().unwrap());
    let target = tempfile::tempdir().unwrap();
    let mounted = || {
        std::fs::read_to_string("/proc/self/mountinfo")
            .unwrap()
            .lines()
            .any(|l| l.contains(&*target.path().to_string_lossy()))
    };
    for leave_by_killing_the_terminal in [false, true] {
        let (tmux, _) = Tmux::start_sized(state.path(), rundir.path(), 120, 40);
        tmux.keys(&[&format!("{} tui pid", exe.display()), "Enter"]);
        tmux.wait_for("the first step", |s| {
            s.contains("Press Enter to run this step")
        });
        tmux.keys(&["Enter"]);
        tmux.wait_for("step 1 to pass", |s| {
            s.lines().next().unwrap_or("").contains("passed ✓")
        });
        tmux.keys(&["s"]);
        tmux.wait_for("the warning", |s| s.contains("shares the HOST's mnt"));
        let typed = format!(
            "mount -t tmpfs clab-learner {} && hostname clab-learner-host",
            target.path().display()
        );
        tmux.keys(&[&typed, "Enter"]);
        assert!(
            wait_until(20, mounted),
            "the learner's mount did not happen"
        );
        assert!(wait_until(20, || {
            nix::unistd::gethostname().unwrap() == "clab-learner-host"
        }));
        if leave_by_killing_the_terminal {
            drop(tmux);
        } else {
            tmux.keys(&["C-g"]);
            tmux.keys(&["q"]);
            tmux.wait_for("the lesson list", |s| s.contains("Lessons"));
            tmux.keys(&["q"]);
            tmux.wait_for_prompt();
        }
        assert!(wait_until(30, || !mounted()), "the learner's mount is left");
        assert!(
            wait_until(30, || nix::unistd::gethostname().unwrap() == host.0),
            "the hostname was not put back"
        );
        assert!(
            wait_until(30, || running(exe).is_empty()),
            "containerlab processes left"
        );
        assert_empty_dir(rundir.path());
    }
}
