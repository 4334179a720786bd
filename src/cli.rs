//! The command line: parses arguments, picks a mode, maps outcomes to exit codes.

mod run_cmd;

use crate::engine::{agent, cleanup};
use crate::exit;
use crate::headless::Format;
use crate::lesson::load::{self, Loaded};
use crate::lesson::text::pick_language;
use crate::lesson::validate::Severity;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "containerlab",
    version,
    about = "Learn how Linux containers work by making the real syscalls, one step at a time",
    after_help = "Start with `sudo containerlab run lesson uts --headless`, or `containerlab list`."
)]
pub struct Cli {
    /// Language of lesson texts; default from LC_ALL / LC_MESSAGES / LANG, else English.
    #[arg(long, global = true, value_enum)]
    pub lang: Option<Lang>,
    /// An extra directory (or file) of lessons, adding to or replacing the built-in ones by id.
    /// A lesson runs what it says as root: read lessons from elsewhere before passing them. A
    /// file with an error stops the command (exit 2) before anything runs.
    #[arg(long = "lessons", global = true, value_name = "DIR")]
    pub lessons: Vec<PathBuf>,
    /// Replace a lesson variable, e.g. `--var subnet=10.99.0.0/24` (see the lesson's `vars`).
    #[arg(long = "var", global = true, value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Where the learner's progress is saved (progress.json; default
    /// $XDG_STATE_HOME/containerlab, else ~/.local/state/containerlab).
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        env = "CONTAINERLAB_STATE_DIR"
    )]
    pub state_dir: Option<PathBuf>,
    /// Where running sessions keep their journals, which `cleanup` reads (default
    /// /run/containerlab).
    #[arg(long, global = true, value_name = "DIR", env = "CONTAINERLAB_RUN_DIR")]
    pub run_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The languages lesson texts come in (crate::lesson::text::LANGUAGES).
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    En,
    Ja,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ja => "ja",
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Play a lesson, or all of them.
    Run {
        #[command(subcommand)]
        what: RunWhat,
    },
    /// List the lessons: id, title, number of steps.
    List {
        /// One JSON document: {"lang", "lessons": [{"id", "title", "steps"}]}.
        #[arg(long)]
        json: bool,
    },
    /// Validate lesson files (default: the built-in lessons and any --lessons).
    Check {
        /// Lesson files or directories.
        paths: Vec<PathBuf>,
    },
    /// Print every namespace on the machine, like util-linux `lsns`.
    Ns {
        /// As `lsns -J` prints it: {"namespaces": [{"ns", "type", "nprocs", "pid", "user", "command"}]}.
        #[arg(long, short = 'J')]
        json: bool,
    },
    /// Probe this machine for what the lessons need.
    Doctor {
        /// One JSON document: {"features": [{"feature", "ok", "detail", "fix", "affects"}], "runnable", "refused"}.
        #[arg(long)]
        json: bool,
    },
    /// Print a shell completion script, e.g. `containerlab completions bash > /etc/bash_completion.d/containerlab`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `containerlab manpage | man -l -`.
    Manpage,
    /// For the project's docs: print docs/claims.md, every lesson's steps with their checks'
    /// claims and their exercises (`containerlab claims > docs/claims.md`).
    #[command(hide = true)]
    Claims,
    /// For the project's docs: print docs/glossary.md from docs/glossary.yaml.
    #[command(hide = true)]
    Glossary,
    /// Remove what crashed or killed sessions left behind (mounts, cgroups, links, processes).
    Cleanup {
        /// Also clean sessions whose owner process still runs.
        #[arg(long)]
        force: bool,
    },
    /// Internal: the sandbox helper process (started by containerlab itself).
    /// Its session paths come in the environment, so `ps` and `lsns` show a short command line.
    #[command(name = "__agent", hide = true)]
    Agent {
        #[arg(long, env = "CONTAINERLAB_AGENT_JOURNAL", hide_env = true)]
        journal: PathBuf,
        #[arg(long, env = "CONTAINERLAB_AGENT_WORK", hide_env = true)]
        work: PathBuf,
    },
    /// Internal: allocate and touch MIB MiB of memory (the cgroup lesson's workload).
    #[command(name = "__alloc", hide = true)]
    Alloc { mib: u64 },
    /// Internal: fork up to MAX sleeping children (the cgroup lesson's tame fork bomb).
    #[command(name = "__forkbomb", hide = true)]
    Forkbomb { max: u32 },
    /// Internal: join a new session keyring with keyctl(2) (the hardening lesson's refused call).
    #[command(name = "__newkeyring", hide = true)]
    Newkeyring,
    /// Internal: the userland proxy of a published port (started by a lesson's `publish`). It
    /// accepts on the listening socket it inherits as fd 3; the addresses are for `ps` to show
    /// and for it to connect to.
    #[command(name = "__proxy", hide = true)]
    Proxy {
        #[arg(long)]
        host_ip: std::net::Ipv4Addr,
        #[arg(long)]
        host_port: u16,
        #[arg(long)]
        container_ip: std::net::Ipv4Addr,
        #[arg(long)]
        container_port: u16,
    },
    /// Open the terminal UI (the default with no command), optionally at one lesson.
    Tui {
        /// Lesson id to open directly.
        lesson: Option<String>,
    },
    /// Internal: an interactive shell inside process PID's namespaces and root (the TUI's `s`).
    #[command(name = "__enter", hide = true)]
    Enter {
        #[arg(long)]
        pid: i32,
        /// Where the shell is, for its prompt.
        #[arg(long, default_value = "sandbox")]
        label: String,
        /// A line for the learner before the banner (why the shell is not where they asked).
        #[arg(long)]
        note: Option<String>,
    },
    /// Build ahead of time what lessons would build on first use (the busybox rootfs cache).
    Prepare {
        /// Cache directory (default /var/cache/containerlab); lessons read the same variable.
        #[arg(long, value_name = "DIR", env = "CONTAINERLAB_CACHE_DIR")]
        cache_dir: Option<PathBuf>,
    },
    /// Saved progress: export this learner's, or summarize many learners' exports.
    #[command(group(clap::ArgGroup::new("mode").required(true).args(["export", "summary"])))]
    Progress {
        /// Write this learner's progress as JSON (to standard output, or -o FILE).
        #[arg(long)]
        export: bool,
        /// Learner name in the export (default: $SUDO_USER or $USER).
        #[arg(long, requires = "export")]
        name: Option<String>,
        /// Write the export to this file.
        #[arg(long, short, requires = "export", value_name = "FILE")]
        output: Option<PathBuf>,
        /// Merge these exports into one table: who finished what, which checks fail most.
        #[arg(long, num_args = 1.., value_name = "FILE")]
        summary: Vec<PathBuf>,
    },
    /// Forget saved progress (all, or one lesson), then clean up leftovers of crashed runs.
    Reset {
        /// Only this lesson's progress.
        #[arg(long, value_name = "ID")]
        lesson: Option<String>,
        /// Do not ask for confirmation.
        #[arg(long, short)]
        yes: bool,
    },
    /// Create files for authors: `new lesson ID` writes a lesson skeleton that passes `check`.
    New {
        #[command(subcommand)]
        what: NewWhat,
    },
}

#[derive(Subcommand, Debug)]
pub enum NewWhat {
    /// A lesson skeleton, ID.yaml.
    Lesson {
        id: String,
        /// Directory to write it in (default: the current directory).
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum RunWhat {
    /// One lesson by id.
    Lesson {
        id: String,
        #[command(flatten)]
        opts: RunOpts,
    },
    /// Every lesson, in order.
    All {
        #[command(flatten)]
        opts: RunOpts,
    },
}

#[derive(clap::Args, Debug)]
pub struct RunOpts {
    /// Play without a screen: every step, every exercise solved; for CI.
    #[arg(long)]
    pub headless: bool,
    /// Output of a headless run.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Write the report to this file instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// The root filesystem for the chroot lesson: a directory, or an alpine minirootfs
    /// tarball (default: a static-busybox rootfs built in /var/cache/containerlab).
    #[arg(long, value_name = "PATH", env = "CONTAINERLAB_ROOTFS")]
    pub rootfs: Option<PathBuf>,
    /// Run image lessons (layers) on this OCI image layout (a directory, or a .tar of one, as
    /// `skopeo copy ... oci:DIR` writes) instead of the image the lab builds. Verified before
    /// the first step (digests, every layer entry; exit 2 if bad), but its programs run as root
    /// in the lesson's container: read an image from elsewhere before using it.
    #[arg(long, value_name = "PATH")]
    pub image: Option<PathBuf>,
    /// Stop a headless run after this many seconds (everything torn down, exit 124).
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
}

/// `containerlab ns` and `ns --json` / `ns -J`, exactly so and nothing else on the line, run
/// without clap. `ns` is timed against util-linux `lsns` (issue #19, docs/performance.md), and
/// clap building the whole command tree (every subcommand's arguments) before it looks at the
/// first word was a measurable part of a run at about 100 processes. These three forms mean the
/// same to clap (`ns` reads no global option); anything else (`--help`, a global option, a
/// typo) goes through clap as before.
fn ns_without_clap() -> Option<i32> {
    let mut args = std::env::args_os().skip(1);
    let (first, second, third) = (args.next(), args.next(), args.next());
    if first.as_deref() != Some("ns".as_ref()) || third.is_some() {
        return None;
    }
    match second.as_deref().map(|a| a.to_str()) {
        None => Some(crate::reports::ns(false)),
        Some(Some("--json" | "-J")) => Some(crate::reports::ns(true)),
        Some(_) => None,
    }
}

/// Runs the command line; returns the process exit code.
pub fn main() -> i32 {
    if let Some(code) = crate::workloads::by_program_name() {
        return code;
    }
    if let Some(code) = ns_without_clap() {
        return code;
    }
    let cli = Cli::parse();
    let lang = pick_language(cli.lang.map(Lang::code));
    // The state and run directories are read deep inside (progress, the engine's journal) from
    // these variables; an option given on the command line takes their place. No thread runs yet.
    for (var, dir) in [
        ("CONTAINERLAB_STATE_DIR", &cli.state_dir),
        ("CONTAINERLAB_RUN_DIR", &cli.run_dir),
    ] {
        if let Some(dir) = dir {
            std::env::set_var(var, dir);
        }
    }
    let mut overrides = std::collections::BTreeMap::new();
    for v in &cli.vars {
        match v.split_once('=') {
            Some((k, val)) if !k.is_empty() => {
                overrides.insert(k.to_string(), val.to_string());
            }
            _ => {
                eprintln!("containerlab: --var takes NAME=VALUE, not {v:?}");
                return exit::USAGE;
            }
        }
    }
    load::set_var_overrides(overrides);
    match cli.command {
        Some(Command::Agent { journal, work }) => {
            agent::run_holder(agent::AgentArgs { journal, work })
        }
        Some(Command::Run { what }) => run_cmd::run(what, &cli.lessons, &lang),
        Some(Command::List { json }) => match catalog(&cli.lessons) {
            Ok(lessons) => crate::reports::list(&lessons, &lang, json),
            Err(code) => code,
        },
        Some(Command::Check { paths }) => check(&paths, &cli.lessons),
        Some(Command::Ns { json }) => crate::reports::ns(json),
        Some(Command::Doctor { json }) => match catalog(&cli.lessons) {
            Ok(lessons) => crate::reports::doctor(&lessons, json),
            Err(code) => code,
        },
        Some(Command::Completions { shell }) => crate::shell_files::completions(shell),
        Some(Command::Manpage) => crate::shell_files::manpage(),
        Some(Command::Claims) => match catalog(&cli.lessons) {
            Ok(loaded) => {
                let lessons: Vec<_> = loaded.iter().map(|l| &l.lesson).collect();
                print!("{}", crate::lesson::claims::markdown(&lessons));
                exit::OK
            }
            Err(code) => code,
        },
        Some(Command::Glossary) => {
            print!("{}", crate::glossary::markdown());
            exit::OK
        }
        Some(Command::Cleanup { force }) => run_cleanup(force),
        Some(Command::Alloc { mib }) => crate::workloads::alloc(mib),
        Some(Command::Proxy {
            container_ip,
            container_port,
            ..
        }) => crate::engine::proxy::run(std::net::SocketAddrV4::new(container_ip, container_port)),
        Some(Command::Forkbomb { max }) => crate::workloads::forkbomb(max),
        Some(Command::Newkeyring) => crate::workloads::newkeyring(),
        Some(Command::Tui { lesson }) => tui(&cli.lessons, &lang, lesson.as_deref()),
        Some(Command::Enter { pid, label, note }) => {
            crate::words::shell::enter(pid, &label, &lang, note.as_deref())
        }
        None => tui(&cli.lessons, &lang, None),
        Some(Command::Prepare { cache_dir }) => crate::prepare::run(cache_dir.as_deref()),
        Some(Command::Progress {
            export,
            name,
            output,
            summary,
        }) => {
            if export {
                crate::progress_cli::export(output.as_deref(), name.as_deref())
            } else {
                match catalog(&cli.lessons) {
                    Ok(lessons) => crate::progress_cli::summary(&summary, &lessons),
                    Err(code) => code,
                }
            }
        }
        Some(Command::Reset { lesson, yes }) => crate::progress_cli::reset(lesson.as_deref(), yes),
        Some(Command::New {
            what: NewWhat::Lesson { id, dir },
        }) => crate::progress_cli::new_lesson(&id, &dir),
    }
}

/// Loads the catalog. A lesson file with an error is bad input: its errors are printed (each
/// once) and the command stops with exit 2, never falling back to a built-in lesson of the same
/// id, so an instructor's CI does not pass on a broken lesson. Warnings are for `check`.
fn catalog(extra: &[PathBuf]) -> Result<Vec<Loaded>, i32> {
    let (lessons, diags) = load::catalog(extra);
    let errors = once(diags.iter().filter(|d| d.severity == Severity::Error));
    for line in &errors {
        eprintln!("{line}");
    }
    if errors.is_empty() {
        Ok(lessons)
    } else {
        eprintln!(
            "containerlab: {} error(s) in the lesson files; nothing was run (`containerlab check` \
             lists them with the warnings)",
            errors.len()
        );
        Err(exit::USAGE)
    }
}

/// Each diagnostic once, in order: a file named twice (as a path and in --lessons, or by two
/// directories) or a problem found by two passes must not print the same line twice.
fn once<'a, D: std::fmt::Display + 'a>(diags: impl Iterator<Item = D>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    diags
        .map(|d| d.to_string())
        .filter(|line| seen.insert(line.clone()))
        .collect()
}

fn tui(extra: &[PathBuf], lang: &str, lesson: Option<&str>) -> i32 {
    let lessons: Vec<_> = match catalog(extra) {
        Ok(l) => l.into_iter().map(|l| l.lesson).collect(),
        Err(code) => return code,
    };
    crate::tui::run(lessons, lang, lesson, None)
}

fn check(paths: &[PathBuf], extra: &[PathBuf]) -> i32 {
    let mut diags = Vec::new();
    let mut files = 0;
    let mut seen = std::collections::HashSet::new();
    if paths.is_empty() {
        for (name, text) in load::BUILTIN {
            files += 1;
            diags.extend(load::load_file(&format!("<built-in>/{name}"), text).1);
        }
    }
    for path in paths.iter().chain(extra) {
        match load::lesson_files(path) {
            Ok(found) if found.is_empty() => {
                eprintln!("{}: no lesson files (*.yaml) here", path.display());
                return exit::USAGE;
            }
            Ok(found) => {
                for f in found {
                    // A file named twice (as a path and in --lessons) is checked once.
                    if !seen.insert(std::fs::canonicalize(&f).unwrap_or_else(|_| f.clone())) {
                        continue;
                    }
                    files += 1;
                    match std::fs::read_to_string(&f) {
                        Ok(text) => {
                            diags.extend(load::load_file(&f.display().to_string(), &text).1)
                        }
                        Err(e) => diags.push(crate::lesson::validate::Diagnostic::whole_file(
                            &f.display().to_string(),
                            e.to_string(),
                        )),
                    }
                }
            }
            Err(e) => {
                eprintln!("{}: {e}", path.display());
                return exit::USAGE;
            }
        }
    }
    let errors = once(diags.iter().filter(|d| d.severity == Severity::Error)).len();
    let printed = once(diags.iter());
    for line in &printed {
        eprintln!("{line}");
    }
    let warnings = printed.len() - errors;
    println!("checked {files} lesson file(s): {errors} error(s), {warnings} warning(s)");
    if errors > 0 {
        exit::USAGE
    } else {
        exit::OK
    }
}

fn run_cleanup(force: bool) -> i32 {
    if !nix::unistd::geteuid().is_root() {
        eprintln!(
            "containerlab cleanup: run as root (what the lab leaves behind needs root to remove)"
        );
        return exit::ENVIRONMENT;
    }
    let report = cleanup::cleanup(force);
    for (id, pid) in &report.skipped {
        println!("{id}: still in use by pid {pid}; left alone (use --force to clean it anyway)");
    }
    for (id, r) in &report.sessions {
        println!("{id}: {}", r.summary());
        for u in &r.undone {
            println!("  - {u}");
        }
        for u in &r.already_gone {
            println!("  · {u}: already gone");
        }
        for u in &r.in_use {
            println!("  · {u}: left, still in use");
        }
        for f in &r.failures {
            println!("  ✗ {f}");
        }
    }
    if report.sessions.is_empty() && report.skipped.is_empty() {
        println!("nothing to clean up");
    }
    if report.is_clean() {
        exit::OK
    } else {
        exit::CHECK_FAILED
    }
}

#[cfg(test)]
mod tests {
    use super::Lang;
    use clap::ValueEnum;

    #[test]
    fn lang_offers_exactly_the_languages_lessons_are_written_in() {
        let offered: Vec<&str> = Lang::value_variants().iter().map(|l| l.code()).collect();
        assert_eq!(offered, crate::lesson::text::LANGUAGES);
    }
}
