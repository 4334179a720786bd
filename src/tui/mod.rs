//! The terminal UI: a lesson picker and a lesson screen that plays a lesson with the same
//! session runner as headless mode.
//!
//! Threads: the main thread reads input and draws; the session thread ([`session`]) owns the
//! runner and its sandbox; the sampler thread ([`event::Sampler`]) renders live views from
//! /proc. Shells are child processes (`containerlab __enter`), never setns here.

pub mod app;
pub mod event;
pub mod help;
pub mod pty;
pub mod shell_pane;
pub mod terminal;
pub mod text;
pub mod ui;
pub mod view_pane;
pub mod widgets;
pub mod width;
pub mod wrap;

use crate::exit;
use crate::i18n::fill;
use crate::lesson::schema::Lesson;
use crate::progress::{self, state_dir, Progress};
use crate::session::live::{Cmd, SessionMsg, SessionThread};
use app::{App, Effect};
use event::{AppEvent, Events, SampleRequest, Sampler};
use pty::{Pty, ShellEvent};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::Arc;
use std::time::Duration;

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

/// Drawings put off while keys keep coming, at most: then one is made anyway.
const MAX_SKIPPED_DRAWS: u32 = 64;

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
    let (shell_tx, shell_rx) = std::sync::mpsc::channel::<ShellEvent>();
    let mut pty: Option<Pty> = None;
    let mut events = Events::new(sess_rx, views_rx, shell_rx);
    if let Some(i) = start {
        app.open(i);
        open = Some(open_session(&app, i, exe, &interrupt, &sess_tx));
    }
    let mut dirty = true;
    let mut skipped = 0;
    let mut code = exit::OK;
    loop {
        if tui.terminate.load(Ordering::SeqCst) || tui.sigint.swap(false, Ordering::SeqCst) {
            interrupt.store(true, Ordering::SeqCst);
            code = exit::INTERRUPTED;
            break;
        }
        sampler.request(sample_request(&app));
        // Keys typed fast (or pasted into the shell) are all taken before the next drawing: one
        // drawing per key would make the text arrive slower than it was typed.
        let burst = skipped < MAX_SKIPPED_DRAWS && crossterm::event::poll(Duration::ZERO)?;
        if dirty && burst {
            skipped += 1;
        } else if dirty {
            tui.terminal.draw(|f| ui::draw(f, &app))?;
            fit_shell(&mut app, &pty);
            dirty = false;
            skipped = 0;
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
            close_shell(&mut app, &mut pty, &open);
            close_session(&mut open, &events.session);
            return Ok(exit::INTERRUPTED);
        }
        let (effects, redraw) = app.update(ev);
        dirty |= redraw;
        // The shell exited (or the pane was closed): its pty goes too.
        if app.shell.is_none() {
            close_shell(&mut app, &mut pty, &open);
        }
        for effect in effects {
            match effect {
                Effect::Open(i) => {
                    close_shell(&mut app, &mut pty, &open);
                    close_session(&mut open, &events.session);
                    open = Some(open_session(&app, i, exe, &interrupt, &sess_tx));
                }
                Effect::Close => {
                    if let Some(l) = &mut app.lesson {
                        l.busy = Some(text::TEARING_DOWN.get(&app.lang).into());
                    }
                    close_shell(&mut app, &mut pty, &open);
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
                Effect::OpenShell { pid, label, env } => {
                    // The pane is laid out before the shell starts, so it starts at its size.
                    tui.terminal.draw(|f| ui::draw(f, &app))?;
                    match open_shell(&mut app, exe, pid, label, env, &shell_tx) {
                        Ok((p, entered)) => {
                            pty = Some(p);
                            // The session watches what the shell changes on the host.
                            if let Some(o) = &open {
                                o.send(Cmd::ShellOpened(entered));
                            }
                        }
                        Err(e) => {
                            app.shell = None;
                            app.message = Some(fill(text::CANNOT_OPEN_SHELL.get(&app.lang), &[&e]));
                        }
                    }
                    dirty = true;
                }
                Effect::ShellInput(bytes) => {
                    if let Some(p) = &mut pty {
                        let _ = p.write(&bytes);
                    }
                }
                Effect::CloseShell => app.shell = None,
                Effect::Quit => {
                    close_shell(&mut app, &mut pty, &open);
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
    close_shell(&mut app, &mut pty, &open);
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
            subjects: crate::session::views::Subjects {
                focus: l.focus(),
                ..l.subjects.clone()
            },
            views: l.sampled_views(),
            paused: l.pids.is_empty(),
            busy: l.busy.is_some(),
        },
        None => SampleRequest {
            generation: app.generation,
            paused: true,
            ..Default::default()
        },
    }
}

/// Starts `containerlab __enter` into `pid` on a pty the size of the shell pane. A process that
/// has exited has no namespaces to enter: then the sandbox's holder, and the shell says so first.
fn open_shell(
    app: &mut App,
    exe: &Path,
    mut pid: i32,
    mut label: String,
    env: Vec<(String, String)>,
    out: &Sender<ShellEvent>,
) -> std::io::Result<(Pty, i32)> {
    let enterable = |pid: i32| std::fs::read_link(format!("/proc/{pid}/ns/mnt")).is_ok();
    let mut note = None;
    if !enterable(pid) {
        let holder = app.lesson.as_ref().and_then(|l| {
            l.pids
                .get("sandbox")
                .map(|p| (*p, format!("{}:sandbox", l.lesson.id)))
        });
        match holder {
            Some((p, l)) if enterable(p) => {
                let said = fill(text::EXITED_SHELL_IN_SANDBOX.get(&app.lang), &[&label]);
                note = Some(said.clone());
                app.message = Some(said);
                pid = p;
                label = l;
            }
            _ => {
                let said = fill(text::EXITED_NOTHING.get(&app.lang), &[&label]);
                return Err(std::io::Error::other(said));
            }
        }
    }
    let mut cmd = Command::new(exe);
    cmd.args(["--lang", &app.lang, "__enter", "--pid"])
        .arg(pid.to_string())
        .arg("--label")
        .arg(&label);
    if let Some(note) = &note {
        cmd.arg("--note").arg(note);
    }
    // What the pane emulates (vt100's screen follows xterm's sequences).
    cmd.env("TERM", "xterm-256color").envs(env);
    let (rows, cols) = app
        .shell
        .as_ref()
        .map(|sh| sh.drawn_size.get())
        .unwrap_or((24, 80));
    if let Some(sh) = &mut app.shell {
        sh.parser.screen_mut().set_size(rows, cols);
        sh.label = label.clone();
    }
    log(&format!("shell in {label} (pid {pid}) opened"));
    Ok((Pty::spawn(cmd, rows, cols, out.clone())?, pid))
}

/// After a drawing: the shell's terminal takes the size its pane was drawn at.
fn fit_shell(app: &mut App, pty: &Option<Pty>) {
    if let (Some(p), Some(sh)) = (pty, &mut app.shell) {
        let (rows, cols) = sh.drawn_size.get();
        if sh.parser.screen().size() != (rows, cols) {
            sh.parser.screen_mut().set_size(rows, cols);
            p.resize(rows, cols);
        }
    }
}

/// Closes the learner's shell, if open: its processes are killed before the lesson is torn down,
/// and the session journals what it changed on the host.
fn close_shell(app: &mut App, pty: &mut Option<Pty>, open: &Option<SessionThread>) {
    app.shell = None;
    if pty.take().is_some() {
        if let Some(o) = open {
            o.send(Cmd::ShellClosed);
        }
    }
}

/// For the CLI: where the log goes.
pub fn log_path() -> PathBuf {
    state_dir().join("containerlab.log")
}
