//! `containerlab run lesson ID` / `run all`: picks the lessons, opens the TUI or plays them
//! headless into the chosen report format, and maps the outcomes to the exit code.

use super::{catalog, RunOpts, RunWhat};
use crate::exit;
use crate::headless::{Format, JsonSink, JunitSink, TextSink};
use crate::lesson::load::Loaded;
use crate::session::events::Sink;
use crate::session::play::{play, PlayOutcome};
use std::path::PathBuf;

pub(super) fn run(what: RunWhat, extra: &[PathBuf], lang: &str) -> i32 {
    let lessons = match catalog(extra) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let single = matches!(what, RunWhat::Lesson { .. });
    let (chosen, opts): (Vec<&Loaded>, RunOpts) = match what {
        RunWhat::Lesson { id, opts } => match lessons.iter().find(|l| l.lesson.id == id) {
            Some(l) => (vec![l], opts),
            None => {
                let ids: Vec<&str> = lessons.iter().map(|l| l.lesson.id.as_str()).collect();
                eprintln!(
                    "containerlab: no lesson {id:?}; lessons: {}",
                    ids.join(", ")
                );
                return exit::USAGE;
            }
        },
        RunWhat::All { opts } => (lessons.iter().collect(), opts),
    };
    if let Some(rootfs) = &opts.rootfs {
        // Read by the sandbox helper (inherited environment), before any thread is started.
        std::env::set_var("CONTAINERLAB_ROOTFS", rootfs);
    }
    if let Some(path) = &opts.image {
        if let Err(code) = crate::image_arg::check(path, &chosen) {
            return code;
        }
    }
    if !opts.headless {
        // `run lesson X` opens X; `run all` opens the picker. Both take --image and --rootfs.
        let start = single.then(|| chosen[0].lesson.id.clone());
        let all: Vec<_> = lessons.iter().map(|l| l.lesson.clone()).collect();
        return crate::tui::run(all, lang, start.as_deref(), opts.image.clone());
    }
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("containerlab: cannot find my own binary to start the sandbox helper: {e}");
            return exit::ENVIRONMENT;
        }
    };
    let stop = crate::safety::Stop::install(opts.timeout.map(std::time::Duration::from_secs));
    let interrupt = stop.interrupt.clone();
    let write_failed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let out: Box<dyn std::io::Write> = match &opts.output {
        Some(path) => match std::fs::File::create(path) {
            Ok(f) => Box::new(crate::headless::Noticed::new(f, write_failed.clone())),
            Err(e) => {
                eprintln!("containerlab: {}: {e}", path.display());
                return exit::USAGE;
            }
        },
        None => Box::new(std::io::stdout()),
    };
    let mut junit = JunitSink::default();
    let mut text;
    let mut json;
    let sink: &mut dyn Sink = match opts.format {
        Format::Text => {
            text = TextSink::new(out, lang);
            &mut text
        }
        Format::Json => {
            json = JsonSink::new(out);
            &mut json
        }
        Format::Junit => &mut junit,
    };
    // Headless runs record the learner's progress too (src/progress.rs).
    let outcomes = crate::progress_cli::recorded(sink, |sink| {
        let mut outcomes = Vec::new();
        for loaded in chosen {
            let image = opts
                .image
                .as_deref()
                .filter(|_| crate::image_arg::uses_image(&loaded.lesson));
            let outcome = play(&loaded.lesson, lang, &exe, interrupt.clone(), image, sink);
            outcomes.push(outcome);
            if outcome == PlayOutcome::Interrupted {
                break;
            }
        }
        outcomes
    });
    if opts.format == Format::Junit {
        let xml = junit.finish();
        let written = match &opts.output {
            Some(path) => std::fs::write(path, xml),
            None => {
                println!("{xml}");
                Ok(())
            }
        };
        if let Err(e) = written {
            eprintln!("containerlab: cannot write the report: {e}");
            write_failed.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }
    if write_failed.load(std::sync::atomic::Ordering::Relaxed) {
        // A CI job must not pass on a report nobody can read.
        return exit::ENVIRONMENT.max(exit_code(&outcomes));
    }
    match exit_code(&outcomes) {
        exit::INTERRUPTED => stop.interrupted_exit(),
        code => code,
    }
}

/// The run's exit code: interrupted beats failed beats refused.
fn exit_code(outcomes: &[PlayOutcome]) -> i32 {
    if outcomes.contains(&PlayOutcome::Interrupted) {
        exit::INTERRUPTED
    } else if outcomes.contains(&PlayOutcome::Failed) {
        exit::CHECK_FAILED
    } else if outcomes.contains(&PlayOutcome::Refused) {
        exit::ENVIRONMENT
    } else {
        exit::OK
    }
}
