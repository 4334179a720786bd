//! The session: plays a lesson on the engine, one step at a time, and reports what happened as
//! [`events::Event`]s. Headless output and the TUI are both just sinks for these events, so a
//! lesson behaves the same in both.

mod caps_view;
pub mod census;
mod collision;
pub mod engine_types;
pub mod events;
pub mod explore;
pub mod focus;
pub mod host_changes;
pub mod image_facts;
pub mod image_views;
pub mod json_log;
pub mod live;
pub mod observe;
pub mod placeholders;
pub mod play;
pub mod player;
pub mod runner;
pub mod test_hook;
pub mod to_op;
pub mod verdict;
mod view_words;
pub mod views;
