//! The terminal UI: a lesson picker and a lesson screen that plays a lesson with the same
//! session runner as headless mode.
//!
//! Threads: the main thread reads input and draws; the session thread ([`session`]) owns the
//! runner and its sandbox; the sampler thread ([`event::Sampler`]) renders live views from
//! /proc. Shells are child processes (`containerlab __enter`), never setns here.

pub mod app;
pub mod event;

pub mod terminal;
pub mod text;
pub mod ui;
pub mod widgets;
pub mod width;

use crate::exit;
use crate::i18n::fill;
use crate::lesson::schema::Lesson;
use crate::progress::{self, state_dir, Progress};
use crate::session::live::{Cmd, SessionMsg, SessionThread};
use app::{App, Effect};
use event::{AppEvent, Events, SampleRequest, Sampler};
use std::io::Write;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::Arc;

/// Colours unless NO_COLOR is set (any value) or TERM is dumb/unset.
pub fn colors_wanted() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let term = std::env::var("TERM").unwrap_or_default();
    !no_color && !term.is_empty() && term != "dumb"
}

/// Appends one line to the log file.
pub fn log(msg: &str) {
    let path = state_dir().join("containerlab.log");
    if let Some(d) = path.parent() {
        let _ = std::fs::create_dir_all(d);
    }
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
    {
        let _ = writeln!(f, "[{}] {msg}", progress::now());
    }
}

/// Runs the UI; `start` opens that lesson directly. Returns the exit code.
pub fn run(lessons: Vec<Lesson>, lang: &str, start: Option<&str>, image: Option<PathBuf>) -> i32 {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        eprintln!(
            "containerlab: the terminal UI needs a terminal; use `containerlab run lesson ID --headless`"
        );
        return exit::USAGE;
    }
    let start_index = match start {
        Some(id) => match lessons.iter().position(|l| l.id == id) {
            Some(i) => Some(i),
            None => {
                let ids: Vec<&str> = lessons.iter().map(|l| l.id.as_str()).collect();
                eprintln!(
                    "containerlab: no lesson {id:?}; lessons: {}",
                    ids.join(", ")
                );
                return exit::USAGE;
            }
        },
        None => None,
    };
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("containerlab: cannot find my own binary to start the sandbox helper: {e}");
            return exit::ENVIRONMENT;
        }
    };
    let log_path = state_dir().join("containerlab.log");
    terminal::redirect_stderr(&log_path);
    log("terminal UI started");
    // A file that cannot be read is kept as it is (the learner's or an instructor's record):
    // this run's progress stays in memory, and the status bar says why and what to do.
    let file = progress::default_path();
    let (loaded, unreadable) = match Progress::load(&file) {
        Ok(p) => (p, None),
        Err(e) => (Progress::default(), Some(e)),
    };
    let mut app = App::new(lessons, lang, loaded, colors_wanted());
    match unreadable {
        None => app.progress_file = Some(file),
        Some(e) => {
            log(&format!("progress not recorded: {e}"));
            let shown = file.display();
            app.message = Some(fill(text::PROGRESS_NOT_RECORDED.get(lang), &[&shown]));
        }
    }
    app.image = image;
    let code = match main_loop(app, &exe, start_index) {
        Ok(code) => code,
        Err(e) => {
            terminal::restore();
            terminal::unredirect_stderr();
            eprintln!("containerlab: terminal error: {e}");
            exit::ENVIRONMENT
        }
    };
    terminal::restore();
    terminal::unredirect_stderr();
    log("terminal UI ended");
    code
}

fn open_session(
    app: &App,
    index: usize,
    exe: &Path,
    interrupt: &Arc<AtomicBool>,
    tx: &Sender<SessionMsg>,
) -> SessionThread {
    let lesson = app.lessons[index].clone();
    // Only lessons that build the example image use the learner's own.
    let image = app
        .image
        .clone()
        .filter(|_| crate::image_arg::uses_image(&lesson));
    SessionThread::spawn(
        lesson,
        app.lang.clone(),
        exe.to_path_buf(),
        image,
        interrupt.clone(),
        tx.clone(),
    )
}

/// Closes the lesson: the session thread tears the sandbox down and ends; its messages still
/// queued are stale and dropped (the teardown's outcome is logged).
fn close_session(open: &mut Option<SessionThread>, rx: &Receiver<SessionMsg>) {
    if let Some(mut t) = open.take() {
        t.close();
        while let Ok(m) = rx.try_recv() {
            if let SessionMsg::Finished { undone, failures } = m {
                log(&format!("teardown: {undone} object(s) undone"));
                for f in failures {
                    log(&format!("teardown failure: {f}"));
                }
            }
        }
    }
}

fn main_loop(mut app: App, exe: &Path, start: Option<usize>) -> std::io::Result<i32> {
    let mut tui = terminal::Tui::new()?;
    // The runner's interrupt: set only when we are told to stop (signal), so a wait for the
    // sandbox ends and teardown runs.
    let interrupt = Arc::new(AtomicBool::new(false));
    let (views_tx, views_rx) = std::sync::mpsc::sync_channel::<AppEvent>(2);
    let sampler = Sampler::spawn(views_tx);
    let mut open: Option<SessionThread> = None;
    // One channel for the messages of every session: a closed session's leftovers are drained.
    let (sess_tx, sess_rx) = std::sync::mpsc::channel::<SessionMsg>();
    let mut events = Events::new(sess_rx, views_rx);
    if let Some(i) = start {
        app.open(i);
        open = Some(open_session(&app, i, exe, &interrupt, &sess_tx));
    }
    let mut dirty = true;
    let mut code = exit::OK;
    loop {
        if tui.terminate.load(Ordering::SeqCst) || tui.sigint.swap(false, Ordering::SeqCst) {
            interrupt.store(true, Ordering::SeqCst);
            code = exit::INTERRUPTED;
            break;
        }
        sampler.request(sample_request(&app));
        if dirty {
            tui.terminal.draw(|f| ui::draw(f, &app))?;
            dirty = false;
        }
        if let (Some(o), Some(l)) = (&open, &mut app.lesson) {
            if o.died() && l.error.is_none() {
                l.error = Some(fill(
                    text::SESSION_DIED.get(&app.lang),
                    &[&log_path().display()],
                ));
                l.busy = None;
                l.finished = true;
                dirty = true;
            }
        }
        let ev = events.next_event()?;
        if matches!(ev, AppEvent::Hangup) {
            // No terminal to draw on: tear down and leave.
            interrupt.store(true, Ordering::SeqCst);
            close_session(&mut open, &events.session);
            return Ok(exit::INTERRUPTED);
        }
        let (effects, redraw) = app.update(ev);
        dirty |= redraw;
        for effect in effects {
            match effect {
                Effect::Open(i) => {
                    close_session(&mut open, &events.session);
                    open = Some(open_session(&app, i, exe, &interrupt, &sess_tx));
                }
                Effect::Close => {
                    if let Some(l) = &mut app.lesson {
                        l.busy = Some(text::TEARING_DOWN.get(&app.lang).into());
                    }
                    tui.terminal.draw(|f| ui::draw(f, &app))?;
                    close_session(&mut open, &events.session);
                    app.close();
                    dirty = true;
                }
                Effect::Session(c) => {
                    if let Some(o) = &open {
                        o.send(c);
                    }
                }
                Effect::SaveProgress => {
                    let saved = match &app.progress_file {
                        Some(file) => app.progress.save(file),
                        None => Ok(()),
                    };
                    if let Err(e) = saved {
                        log(&format!("cannot save progress: {e}"));
                        app.message = Some(fill(text::CANNOT_SAVE.get(&app.lang), &[&e]));
                    }
                }
                Effect::Shell { mut pid, mut label } => {
                    let mut note = None;
                    // A process that has exited has no namespaces to enter: use the sandbox.
                    let enterable =
                        |pid: i32| std::fs::read_link(format!("/proc/{pid}/ns/mnt")).is_ok();
                    if !enterable(pid) {
                        let holder = app.lesson.as_ref().and_then(|l| {
                            l.pids
                                .get("sandbox")
                                .map(|p| (*p, format!("{}:sandbox", l.lesson.id)))
                        });
                        match holder {
                            Some((p, l)) if enterable(p) => {
                                let said =
                                    fill(text::EXITED_SHELL_IN_SANDBOX.get(&app.lang), &[&label]);
                                // Said in the shell first, where the learner is looking.
                                note = Some(said.clone());
                                app.message = Some(said);
                                pid = p;
                                label = l;
                            }
                            _ => {
                                app.message =
                                    Some(fill(text::EXITED_NOTHING.get(&app.lang), &[&label]));
                                dirty = true;
                                continue;
                            }
                        }
                    }
                    let mut req = sample_request(&app);
                    req.paused = true;
                    sampler.request(req);
                    tui.suspend();
                    let result = shell(exe, pid, &label, &app.lang, note.as_deref());
                    // A Ctrl-C typed in the shell is not meant for us.
                    tui.sigint.store(false, Ordering::SeqCst);
                    tui.resume()?;
                    dirty = true;
                    match result {
                        Ok(()) => {
                            if let Some(l) = &mut app.lesson {
                                if l.ran(l.cursor).is_some() && l.busy.is_none() {
                                    l.busy = Some(text::CHECKING.get(&app.lang).into());
                                    if let Some(o) = &open {
                                        o.send(Cmd::Judge(l.cursor));
                                    }
                                }
                            }
                        }
                        Err(e) => {
                            app.message = Some(fill(text::CANNOT_OPEN_SHELL.get(&app.lang), &[&e]))
                        }
                    }
                }
                Effect::Quit => {
                    if let Some(l) = &mut app.lesson {
                        l.busy = Some(text::TEARING_DOWN.get(&app.lang).into());
                        tui.terminal.draw(|f| ui::draw(f, &app))?;
                    }
                    close_session(&mut open, &events.session);
                    return Ok(code);
                }
            }
        }
    }
    if let Some(l) = &mut app.lesson {
        l.busy = Some(text::TEARING_DOWN.get(&app.lang).into());
        let _ = tui.terminal.draw(|f| ui::draw(f, &app));
    }
    close_session(&mut open, &events.session);
    drop(sampler);
    Ok(code)
}

fn sample_request(app: &App) -> SampleRequest {
    match &app.lesson {
        Some(l) => SampleRequest {
            generation: app.generation,
            subjects: l.subjects.clone(),
            views: l.sampled_views(),
            paused: l.pids.is_empty(),
        },
        None => SampleRequest {
            generation: app.generation,
            paused: true,
            ..Default::default()
        },
    }
}

/// Runs `containerlab __enter` with the terminal and waits for it.
fn shell(exe: &Path, pid: i32, label: &str, lang: &str, note: Option<&str>) -> std::io::Result<()> {
    let mut cmd = Command::new(exe);
    cmd.args(["--lang", lang, "__enter", "--pid"])
        .arg(pid.to_string())
        .arg("--label")
        .arg(label);
    if let Some(note) = note {
        cmd.arg("--note").arg(note);
    }
    cmd.stdin(Stdio::inherit()).stdout(Stdio::inherit());
    if let Some(fd) = terminal::real_stderr() {
        // SAFETY: the fd stays open for the whole run.
        let owned: OwnedFd = unsafe { BorrowedFd::borrow_raw(fd) }.try_clone_to_owned()?;
        cmd.stderr(Stdio::from(owned));
    }
    // Job control, as a shell does it: the child gets its own process group and the terminal's
    // foreground (so Ctrl-C and Ctrl-Z in it reach it, not us); afterwards we take it back.
    cmd.process_group(0);
    // SAFETY: signal and tcsetpgrp are async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGTTOU, libc::SIG_IGN);
            libc::tcsetpgrp(0, libc::getpid());
            libc::signal(libc::SIGTTOU, libc::SIG_DFL);
            Ok(())
        });
    }
    let status = cmd.status();
    take_foreground();
    let status = status?;
    log(&format!("shell in {label} (pid {pid}) ended: {status}"));
    Ok(())
}

/// Makes our process group the terminal's foreground again (a shell we ran may have kept it).
fn take_foreground() {
    // SAFETY: plain libc calls; SIGTTOU is ignored only around tcsetpgrp.
    unsafe {
        let old = libc::signal(libc::SIGTTOU, libc::SIG_IGN);
        libc::tcsetpgrp(0, libc::getpgrp());
        libc::signal(libc::SIGTTOU, old);
    }
}

/// For the CLI: where the log goes.
pub fn log_path() -> PathBuf {
    state_dir().join("containerlab.log")
}
