//! Everything the UI reacts to, merged into one stream: keys, mouse and resizes from the
//! terminal, messages from the session thread, views from the sampler thread, and ticks.
//!
//! The sampler renders the live views off the drawing thread: the draw loop never reads /proc.

use crate::lesson::schema::View;
use crate::session::census::{render_live, Census};
use crate::session::live::SessionMsg;
use crate::session::views::RenderedView;
use crossterm::event::{self, Event as TermEvent, KeyEvent, KeyEventKind, MouseEvent};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often views are sampled (at most).
pub const SAMPLE_EVERY: Duration = Duration::from_millis(250);
/// How often while a step runs: its workload may be making `memory.current` or
/// `pids.current` climb (at a watchable pace, see `containerlab_cgroup::Pace`), and a learner
/// should see it climb, not jump. Steps are short, so the extra samples cost little.
pub const SAMPLE_EVERY_BUSY: Duration = Duration::from_millis(80);
/// The pause between samples is at least this many times the time a sample took.
const CPU_BUDGET_FACTOR: u32 = 64;
/// The same while a step runs (a few seconds at most).
const CPU_BUDGET_FACTOR_BUSY: u32 = 16;

#[derive(Debug, Clone)]
pub enum AppEvent {
    Key(KeyEvent),
    Mouse(MouseEvent),
    /// The terminal went away (hung up): leave, tearing down.
    Hangup,
    Resize,
    Tick,
    Session(SessionMsg),
    /// What the learner's shell printed, or that it exited.
    Shell(crate::tui::pty::ShellEvent),
    /// Freshly sampled views; `generation` tells which request they answer.
    Views {
        generation: u64,
        views: Vec<RenderedView>,
    },
}

/// What the sampler should render: the views of these processes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SampleRequest {
    pub generation: u64,
    pub subjects: crate::session::views::Subjects,
    pub views: Vec<View>,
    /// Nothing to sample (picker screen, shell open).
    pub paused: bool,
    /// The session is running a step: sample more often ([`SAMPLE_EVERY_BUSY`]).
    pub busy: bool,
}

struct Shared {
    request: Mutex<SampleRequest>,
    wake: Condvar,
    stop: AtomicBool,
}

/// The sampler thread: every [`SAMPLE_EVERY`] ([`SAMPLE_EVERY_BUSY`] while a step runs; at once
/// after a new request) it renders the
/// requested views and sends them; an unchanged result is not sent again.
pub struct Sampler {
    shared: Arc<Shared>,
    handle: Option<JoinHandle<()>>,
}

impl Sampler {
    pub fn spawn(out: SyncSender<AppEvent>) -> Sampler {
        let shared = Arc::new(Shared {
            request: Mutex::new(SampleRequest {
                paused: true,
                ..Default::default()
            }),
            wake: Condvar::new(),
            stop: AtomicBool::new(false),
        });
        let s = shared.clone();
        let handle = std::thread::Builder::new()
            .name("sampler".into())
            .spawn(move || sample_loop(&s, out))
            .expect("spawn the sampler thread");
        Sampler {
            shared,
            handle: Some(handle),
        }
    }

    /// Replaces the request (if it changed) and wakes the sampler.
    pub fn request(&self, req: SampleRequest) {
        let mut cur = self
            .shared
            .request
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if *cur != req {
            *cur = req;
            self.shared.wake.notify_one();
        }
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.wake.notify_one();
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn sample_loop(shared: &Shared, out: SyncSender<AppEvent>) {
    let mut census = Census::default();
    let mut last: Option<(u64, Vec<RenderedView>)> = None;
    let mut seen_generation = u64::MAX;
    let mut every = SAMPLE_EVERY;
    loop {
        let req = {
            let guard = shared.request.lock().unwrap_or_else(|e| e.into_inner());
            let timeout = if guard.generation != seen_generation {
                Duration::ZERO
            } else {
                every
            };
            let (guard, _) = shared
                .wake
                .wait_timeout(guard, timeout)
                .unwrap_or_else(|e| e.into_inner());
            guard.clone()
        };
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        seen_generation = req.generation;
        if req.paused || req.views.is_empty() {
            continue;
        }
        let subjects = &req.subjects;
        let started = Instant::now();
        let views: Vec<RenderedView> = req
            .views
            .iter()
            .map(|v| render_live(*v, subjects, &mut census))
            .collect();
        // Stay within a CPU budget: a view that is slow to render (the namespaces table scans
        // every process on a busy machine) is sampled less often, never above ~1.5% of a core.
        every = match req.busy {
            true => SAMPLE_EVERY_BUSY.max(started.elapsed() * CPU_BUDGET_FACTOR_BUSY),
            false => SAMPLE_EVERY.max(started.elapsed() * CPU_BUDGET_FACTOR),
        };
        if last.as_ref() == Some(&(req.generation, views.clone())) {
            continue;
        }
        last = Some((req.generation, views.clone()));
        // A full channel means the UI has not caught up: drop this sample, a newer one follows.
        let _ = out.try_send(AppEvent::Views {
            generation: req.generation,
            views,
        });
    }
}

/// The merged stream.
pub struct Events {
    pub session: Receiver<SessionMsg>,
    pub views: Receiver<AppEvent>,
    pub shell: Receiver<crate::tui::pty::ShellEvent>,
    last_tick: Instant,
}

/// How long one wait for terminal input lasts before the channels are looked at again.
const POLL: Duration = Duration::from_millis(50);
/// Ticks drive the spinner while the session works.
const TICK: Duration = Duration::from_millis(200);

impl Events {
    pub fn new(
        session: Receiver<SessionMsg>,
        views: Receiver<AppEvent>,
        shell: Receiver<crate::tui::pty::ShellEvent>,
    ) -> Events {
        Events {
            session,
            views,
            shell,
            last_tick: Instant::now(),
        }
    }

    /// The next event; blocks at most about [`TICK`].
    pub fn next_event(&mut self) -> std::io::Result<AppEvent> {
        loop {
            match self.session.try_recv() {
                Ok(m) => return Ok(AppEvent::Session(m)),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => {}
            }
            if let Ok(v) = self.views.try_recv() {
                return Ok(v);
            }
            if let Ok(out) = self.shell.try_recv() {
                return Ok(AppEvent::Shell(out));
            }
            // Wait for input ourselves first: crossterm's reader spins forever on a hung-up
            // terminal (its read loop retries EOF/EIO), so it is only asked once input is there.
            match wait_input(POLL) {
                Input::Hangup => return Ok(AppEvent::Hangup),
                Input::Ready | Input::None => {}
            }
            if event::poll(Duration::ZERO)? {
                match event::read()? {
                    TermEvent::Key(k) if k.kind != KeyEventKind::Release => {
                        return Ok(AppEvent::Key(k))
                    }
                    TermEvent::Mouse(m) => return Ok(AppEvent::Mouse(m)),
                    TermEvent::Resize(..) => return Ok(AppEvent::Resize),
                    _ => {}
                }
            }
            if self.last_tick.elapsed() >= TICK {
                self.last_tick = Instant::now();
                return Ok(AppEvent::Tick);
            }
        }
    }
}

enum Input {
    Ready,
    None,
    Hangup,
}

/// poll(2) on the terminal (stdin) for up to `timeout`.
fn wait_input(timeout: Duration) -> Input {
    let mut fds = [libc::pollfd {
        fd: 0,
        events: libc::POLLIN,
        revents: 0,
    }];
    // SAFETY: one valid pollfd.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), 1, timeout.as_millis() as libc::c_int) };
    if n <= 0 {
        return Input::None;
    }
    let r = fds[0].revents;
    if r & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0 {
        Input::Hangup
    } else {
        Input::Ready
    }
}
