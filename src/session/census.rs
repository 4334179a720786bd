//! The machine-wide namespace count the TUI's sampler keeps from one sample to the next.
//!
//! Counting every process's namespaces reads eight links per process (16,000 calls, ~25 ms at
//! 2,000 processes). The rows the namespaces view shows and their `*` marks are read afresh each
//! sample from the lab's processes (a few calls); the count behind NPROCS and PID is taken again
//! when it is a second old or lacks a namespace the lab's processes are in (one the step just
//! made). A step's own views (headless output, a step's results) always count afresh.

use super::views::{namespaces_view_from, render, RenderedView, Subjects};
use crate::inspect::namespaces::{self, NsRow};
use crate::lesson::schema::View;
use std::time::{Duration, Instant};

#[derive(Debug, Default)]
pub struct Census {
    taken: Option<Instant>,
    rows: Vec<NsRow>,
}

impl Census {
    const MAX_AGE: Duration = Duration::from_secs(1);

    fn rows(&mut self, wanted: &[u64]) -> Vec<NsRow> {
        let young = self.taken.is_some_and(|t| t.elapsed() < Self::MAX_AGE);
        let covers = wanted
            .iter()
            .all(|ino| self.rows.iter().any(|r| r.ns == *ino));
        if !(young && covers) {
            self.rows = namespaces::table();
            self.taken = Some(Instant::now());
        }
        self.rows.clone()
    }
}

/// [`render`] for a sampler that samples again and again: the same views, the namespaces
/// table's machine-wide count kept in `census` for up to a second.
pub fn render_live(view: View, subjects: &Subjects, census: &mut Census) -> RenderedView {
    match view {
        View::Namespaces => RenderedView::new(
            view,
            namespaces_view_from(subjects, |wanted| census.rows(wanted)),
            &subjects.focus,
        ),
        _ => render(view, subjects),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A process in a UTS namespace of its own (util-linux `unshare`), killed when dropped.
    struct Unshared(std::process::Child);

    impl Drop for Unshared {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    /// The process and its new namespace's inode, once it is in it.
    fn process_in_new_uts() -> (Unshared, i32, u64) {
        let host = namespaces::own_ns_inode("uts").unwrap();
        let child = std::process::Command::new("unshare")
            .args(["--uts", "sleep", "30"])
            .spawn()
            .expect("unshare(1) from util-linux");
        let pid = child.id() as i32;
        let child = Unshared(child);
        for _ in 0..500 {
            match namespaces::ns_inode(pid, "uts") {
                Some(ino) if ino != host => return (child, pid, ino),
                _ => std::thread::sleep(Duration::from_millis(10)),
            }
        }
        panic!("unshare --uts did not leave the host's UTS namespace within 5 s");
    }

    #[test]
    fn a_namespace_made_after_the_count_is_counted_at_the_next_sample() {
        let me = std::process::id() as i32;
        let mut subjects = Subjects {
            pids: [("sandbox".to_string(), me)].into(),
            lang: "en".into(),
            ..Subjects::default()
        };
        let mut census = Census::default();
        render_live(View::Namespaces, &subjects, &mut census);
        let (_child, pid, ino) = process_in_new_uts();
        subjects.pids.insert("other".into(), pid);
        // Well within the second a count is kept: the new namespace makes it count again.
        let lines = render_live(View::Namespaces, &subjects, &mut census).lines;
        let row = lines
            .iter()
            .find(|l| l.contains(&ino.to_string()))
            .unwrap_or_else(|| panic!("no row for uts:[{ino}] in {lines:#?}"));
        assert!(row.starts_with('*'), "made by the lab, marked: {row}");
        let fields: Vec<&str> = row[1..].split_whitespace().collect();
        assert_eq!(fields[1], "uts", "{row}");
        assert_eq!(fields[2], "1", "one process in it, counted: {row}");
    }

    #[test]
    fn a_kept_count_is_used_again_within_the_second() {
        let me = std::process::id() as i32;
        let subjects = Subjects {
            pids: [("sandbox".to_string(), me)].into(),
            ..Subjects::default()
        };
        let mut census = Census::default();
        render_live(View::Namespaces, &subjects, &mut census);
        let first = census.taken;
        render_live(View::Namespaces, &subjects, &mut census);
        assert_eq!(
            census.taken, first,
            "counted again although nothing new and young"
        );
        census.taken = census.taken.map(|t| t - Census::MAX_AGE);
        render_live(View::Namespaces, &subjects, &mut census);
        assert_ne!(census.taken, first, "a count a second old is taken again");
    }
}
