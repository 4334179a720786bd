//! containerlab: learn how Linux containers work by making the real syscalls.
//!
//! The dependency arrows point one way: [`engine`] (kernel objects) and [`inspect`] (read-only
//! live state) know nothing of lessons or screens; [`lesson`] is the file format; [`session`]
//! plays a lesson on the engine and emits events; [`headless`] (and the TUI) present them, and
//! [`words`] says in the learner's language what the engine did. The engine and the inspector are
//! crates of their own (`containerlab-engine`, `containerlab-inspect`), so the compiler holds
//! those arrows: neither can name anything of the lesson, session or screen layers.

pub mod cli;
pub use containerlab_engine as engine;
pub mod exit;
pub mod glossary;
pub mod headless;
pub mod i18n;
pub mod image_arg;
pub use containerlab_inspect as inspect;
// The lesson format is its own crate (it depends on no other part of the lab); re-exported
// under its old name so `crate::lesson::...` paths keep working.
pub use containerlab_lesson as lesson;
pub mod prepare;
pub mod probe;
pub mod progress;
pub mod progress_cli;
pub mod reports;
pub mod safety;
pub mod session;
pub mod shell_files;
pub mod tui;
pub mod words;
pub mod workloads;
