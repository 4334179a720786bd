//! The figures of docs/performance.md, printed, not asserted (a shared CI machine's timings are
//! no verdict). Needs root (a lesson step runs for real); run it under the machine lock:
//!
//!   flock /tmp/clab-root.lock cargo bench --bench figures
//!
//! At the machine's own process count, and again with sleeping processes added up to 2,000:
//! `containerlab ns` against `lsns`, one sample of every live view, the TUI's first frame (the
//! lesson list drawn into ratatui's TestBackend at 80x24, from loading the lessons on), and a
//! lesson step's cost over the syscalls it makes.

use containerlab::inspect::namespaces;
use containerlab::lesson::load;
use containerlab::lesson::schema::View;
use containerlab::session::census::{render_live, Census};
use containerlab::session::events::Collect;
use containerlab::session::player::StepMode;
use containerlab::session::runner::Runner;
use containerlab::session::views::{render, Subjects};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 7;

/// The median of `RUNS` timings of `f`.
fn median(mut f: impl FnMut()) -> Duration {
    let mut t: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    t.sort();
    t[RUNS / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// Sleeping processes in a process group of their own, under a shell that is not ours (so they
/// are nobody's lab children); killed and reaped when dropped, also when a measurement panics.
struct Sleepers(Option<Child>);

impl Drop for Sleepers {
    fn drop(&mut self) {
        if let Some(mut shell) = self.0.take() {
            let group = nix::unistd::Pid::from_raw(-(shell.id() as i32));
            let _ = nix::sys::signal::kill(group, nix::sys::signal::Signal::SIGKILL);
            let _ = shell.wait();
        }
    }
}

fn spawn_until(total: usize) -> Sleepers {
    use std::os::unix::process::CommandExt;
    let need = total.saturating_sub(namespaces::pids().len());
    if need == 0 {
        return Sleepers(None);
    }
    let shell = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "i=0; while [ $i -lt {need} ]; do sleep 600 & i=$((i+1)); done; echo up; wait"
        ))
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn sh");
    let mut s = Sleepers(Some(shell));
    // The shell says `up` once every sleep has been started.
    let mut line = String::new();
    let stdout = s.0.as_mut().unwrap().stdout.take().unwrap();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).unwrap();
    assert_eq!(line.trim(), "up");
    s
}

fn ns_vs_lsns() {
    let lab = env!("CARGO_BIN_EXE_containerlab");
    let run = |cmd: &mut Command| {
        let out = cmd.output().expect("run");
        assert!(out.status.success());
    };
    let ours = median(|| run(Command::new(lab).arg("ns")));
    let lsns = median(|| run(&mut Command::new("lsns")));
    println!(
        "  ns: {} / lsns: {} = {:.2}x",
        ms(ours),
        ms(lsns),
        ours.as_secs_f64() / lsns.as_secs_f64()
    );
}

fn views() {
    let subjects = Subjects {
        pids: [("sandbox".to_string(), std::process::id() as i32)].into(),
        lang: "en".into(),
        ..Subjects::default()
    };
    let mut line = Vec::new();
    // Every view: the TUI's own list, the one its number keys choose from, sampled the way the
    // TUI's sampler does it (samples in a row, one census kept between them).
    let mut census = Census::default();
    for view in containerlab::tui::app::ALL_VIEWS {
        let took = median(|| {
            let rendered = render_live(view, &subjects, &mut census);
            assert!(!rendered.title.is_empty());
        });
        line.push(format!("{view:?} {}", ms(took)));
    }
    println!("  one sample of each view in the TUI: {}", line.join(", "));
    // A step's own views (headless output, a step's results) count afresh every time.
    let fresh = median(|| {
        render(View::Namespaces, &subjects);
    });
    println!(
        "  a step's Namespaces view (machine-wide count taken afresh): {}",
        ms(fresh)
    );
}

fn first_frame() {
    use ratatui::{backend::TestBackend, Terminal};
    let took = median(|| {
        let (lessons, _) = load::catalog(&[]);
        let lessons = lessons.into_iter().map(|l| l.lesson).collect();
        let app = containerlab::tui::app::App::new(
            lessons,
            "en",
            containerlab::progress::Progress::default(),
            true,
        );
        let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
        t.draw(|f| containerlab::tui::ui::draw(f, &app)).unwrap();
    });
    println!(
        "  TUI first frame (load lessons, App, draw 80x24 TestBackend): {}",
        ms(took)
    );
}

/// The same in a real terminal: `containerlab` started in a detached 80x24 tmux pane, until
/// the lesson list shows (tmux's own round trips, a few ms, are included).
fn first_frame_in_tmux() {
    // A server of its own, so nobody's tmux sessions are touched.
    let tmux = |args: &[&str]| {
        Command::new("tmux")
            .args(["-L", "clab-figures"])
            .args(args)
            .output()
    };
    if tmux(&["-V"]).is_err() {
        println!("  TUI first frame in tmux: skipped (no tmux)");
        return;
    }
    let state = std::env::temp_dir().join(format!("clab-figures-{}", std::process::id()));
    let lab = env!("CARGO_BIN_EXE_containerlab");
    let session = format!("figures-{}", std::process::id());
    let mut took = Vec::new();
    for _ in 0..RUNS {
        let command = format!("CONTAINERLAB_STATE_DIR={} {lab}", state.display());
        let start = Instant::now();
        let new = [
            "new-session",
            "-d",
            "-x",
            "80",
            "-y",
            "24",
            "-s",
            &session,
            &command,
        ];
        assert!(tmux(&new).unwrap().status.success());
        loop {
            let pane = tmux(&["capture-pane", "-p", "-t", &session]).unwrap();
            if String::from_utf8_lossy(&pane.stdout).contains("uts") {
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(10), "no lesson list");
        }
        took.push(start.elapsed());
        let _ = tmux(&["kill-session", "-t", &session]);
    }
    let _ = tmux(&["kill-server"]);
    let _ = std::fs::remove_dir_all(&state);
    took.sort();
    println!(
        "  TUI first frame in tmux (start to lesson list): {}",
        ms(took[RUNS / 2])
    );
}

/// The uts lesson's `unshare` step played through the session (agent request, trace, checks,
/// views) against what it asks of the kernel done directly: fork, unshare(CLONE_NEWUTS), exit,
/// wait.
fn step_overhead() {
    let (lessons, _) = load::catalog(&[]);
    let uts = lessons
        .into_iter()
        .find(|l| l.lesson.id == "uts")
        .expect("the uts lesson")
        .lesson;
    let index = uts.steps.iter().position(|s| s.id == "unshare").unwrap();
    let exe = std::path::PathBuf::from(env!("CARGO_BIN_EXE_containerlab"));
    let mut steps = Vec::new();
    for _ in 0..RUNS {
        let interrupt = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut runner = Runner::start(uts.clone(), "en", &exe, interrupt).expect("start");
        let mut sink = Collect::default();
        for i in 0..index {
            runner.play_step(i, StepMode::Solved, &mut sink).unwrap();
        }
        let start = Instant::now();
        let result = runner
            .play_step(index, StepMode::Solved, &mut sink)
            .unwrap();
        steps.push(start.elapsed());
        assert!(result.passed(), "{result:?}");
        let report = runner.finish();
        assert!(report.failures.is_empty());
    }
    steps.sort();
    let step = steps[RUNS / 2];
    let direct = median(|| {
        use nix::sched::{unshare, CloneFlags};
        use nix::unistd::{fork, ForkResult};
        // SAFETY: the child only makes one syscall and exits without touching shared state.
        match unsafe { fork() }.unwrap() {
            ForkResult::Child => {
                let ok = unshare(CloneFlags::CLONE_NEWUTS).is_ok();
                unsafe { libc::_exit(if ok { 0 } else { 1 }) }
            }
            ForkResult::Parent { child } => {
                let status = nix::sys::wait::waitpid(child, None).unwrap();
                assert!(matches!(status, nix::sys::wait::WaitStatus::Exited(_, 0)));
            }
        }
    });
    println!(
        "  uts step `unshare` played: {} (with its checks and views); fork+unshare+exit directly: {}; overhead {}",
        ms(step),
        ms(direct),
        ms(step.saturating_sub(direct))
    );
}

fn main() {
    // `cargo bench` passes --bench; a filter argument is not supported and ignored.
    if !nix::unistd::geteuid().is_root() {
        eprintln!("figures: run as root (a lesson step runs for real)");
        std::process::exit(3);
    }
    println!("containerlab figures ({} runs each, median)", RUNS);
    for target in [0, 2000] {
        let _sleepers = spawn_until(target);
        println!("at {} processes:", namespaces::pids().len());
        ns_vs_lsns();
        views();
        first_frame();
        first_frame_in_tmux();
        step_overhead();
    }
}
