//! containerlab: learn how Linux containers work by making the real syscalls.
//!
//! The dependency arrows point one way: [`engine`] (kernel objects) and [`inspect`] (read-only
//! live state) know nothing of lessons or screens; [`lesson`] is the file format; [`session`]
//! plays a lesson on the engine and emits events; [`headless`] (and the TUI) present them.

pub mod cli;
pub mod engine;
pub mod exit;
pub mod headless;
pub mod i18n;
pub mod image_arg;
pub mod inspect;
pub mod lesson;
pub mod prepare;
pub mod probe;
pub mod progress;
pub mod progress_cli;
pub mod session;
pub mod tui;
pub mod words;
pub mod workloads;
