//! Two lessons on one machine at once, as root: two learners on one VM, or one learner with two
//! terminals. Both runs share one network namespace (a test's own, `lo` up), as they would share
//! the host's. The overlap is made certain with the test hook: the first run stops mid-lesson
//! (every object it made still there), the second plays whole, then the first plays on.
//!
//! Two different lessons: both pass (the two container lessons both publish a port: the second
//! takes another one, `--var host_port=18080`, as their texts say). Two copies of one lesson:
//! both pass, except where the lesson names its network links itself (net, container,
//! container-userns): two links of one name cannot exist in one network namespace, and the
//! second copy then says clearly that a running session holds the name. Afterwards nothing of
//! either run is left.

mod common;

use common::{both, leftovers, turn, Leftovers, STATE_DIR};
use containerlab::lesson::load::{catalog, Loaded};
use containerlab::lesson::schema::Action;
use containerlab::lesson::validate::Severity;
use containerlab::session::test_hook::{RESUME, VARIABLE};
use std::path::Path;
use std::process::{Command, Stdio};

/// The step after which the held run stops: the one that makes the lesson's link (so the link
/// exists while the other run plays), else the middle one.
fn hold_at(l: &Loaded) -> String {
    let steps = &l.lesson.steps;
    let veth = steps
        .iter()
        .position(|s| s.actions.iter().any(|a| matches!(a, Action::CreateVeth(_))));
    format!("{}:checks", veth.unwrap_or(steps.len() / 2))
}

/// The lesson makes a veth pair from the holder, in the network namespace it was started in
/// (where two copies would ask for the same link names); a lesson that makes its links inside
/// network namespaces of its own (the bridge lesson's `gw`) does not.
fn names_links(l: &Loaded) -> bool {
    l.lesson.steps.iter().any(|s| {
        s.actions
            .iter()
            .any(|a| matches!(a, Action::CreateVeth(v) if v.process == "sandbox"))
    })
}

/// A shell in a new network namespace with `lo` up that runs `held` until the hook stops it,
/// then `other` whole, then lets `held` play on; answers (held's output and exit code, other's).
fn overlap(held: (&str, &str), other: &[&str], run_dir: &Path) -> ((String, i32), (String, i32)) {
    let scratch = tempfile::tempdir().unwrap();
    let resume = scratch.path().join("resume");
    let (a_out, b_out) = (scratch.path().join("a"), scratch.path().join("b"));
    let bin = common::bin();
    let script = format!(
        "ip link set lo up || exit 99
         {bin} run lesson {lesson} --headless > {a} 2>&1 & A=$!
         # Wait (bounded) until the held run stops at its step.
         i=0; until grep -q 'containerlab-test: stopped at' {a}; do
           i=$((i+1)); [ $i -gt 1200 ] && {{ kill $A; exit 98; }}; sleep 0.05; done
         env -u {var} {bin} {other} > {b} 2>&1; rb=$?
         touch {resume}
         wait $A; ra=$?
         echo \"$ra $rb\"",
        bin = bin.display(),
        lesson = held.0,
        a = a_out.display(),
        b = b_out.display(),
        var = VARIABLE,
        other = other.join(" "),
        resume = resume.display(),
    );
    let out = Command::new("unshare")
        .args(["--net", "--", "sh", "-c", &script])
        .env(VARIABLE, held.1)
        .env(RESUME, &resume)
        .env("CONTAINERLAB_RUN_DIR", run_dir)
        .env("CONTAINERLAB_STATE_DIR", STATE_DIR)
        .env("LANG", "C")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let codes = String::from_utf8_lossy(&out.stdout);
    let mut codes = codes
        .split_whitespace()
        .map(|c| c.parse::<i32>().unwrap_or(-1));
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    let (ra, rb) = (codes.next(), codes.next());
    assert!(ra.is_some() && rb.is_some(), "{}", both(&out));
    ((read(&a_out), ra.unwrap()), (read(&b_out), rb.unwrap()))
}

fn lessons() -> Vec<Loaded> {
    let (lessons, diags) = catalog(&[]);
    assert!(
        diags.iter().all(|d| d.severity != Severity::Error),
        "{diags:?}"
    );
    assert!(lessons.len() >= 13);
    lessons
}

#[test]
fn two_different_lessons_at_once_both_pass_and_leave_nothing() {
    let t = turn();
    let lessons = lessons();
    for (i, a) in lessons.iter().enumerate() {
        let b = &lessons[(i + 1) % lessons.len()];
        let run_dir = tempfile::tempdir().unwrap();
        let mut other = vec!["run", "lesson", b.lesson.id.as_str(), "--headless"];
        if b.lesson.vars.contains_key("host_port") && a.lesson.vars.contains_key("host_port") {
            other.extend(["--var", "host_port=18080"]);
        }
        let ((a_out, ra), (b_out, rb)) =
            overlap((&a.lesson.id, &hold_at(a)), &other, run_dir.path());
        let ids = format!("{} held, {} whole", a.lesson.id, b.lesson.id);
        assert_eq!((ra, rb), (0, 0), "{ids}:\n{a_out}\n----\n{b_out}");
        assert_eq!(leftovers(run_dir.path()), Leftovers::default(), "{ids}");
        t.assert_host_unchanged(&ids);
    }
}

#[test]
fn two_copies_of_a_lesson_at_once_both_pass_or_the_second_says_the_link_is_taken() {
    let t = turn();
    for l in lessons() {
        let id = l.lesson.id.as_str();
        let run_dir = tempfile::tempdir().unwrap();
        let other = ["run", "lesson", id, "--headless"];
        let ((a_out, ra), (b_out, rb)) = overlap((id, &hold_at(&l)), &other, run_dir.path());
        assert_eq!(ra, 0, "{id}, the held copy:\n{a_out}\n----\n{b_out}");
        if names_links(&l) {
            assert_eq!(rb, 1, "{id}, the second copy:\n{b_out}");
            assert!(b_out.contains("which is running now"), "{id}:\n{b_out}");
            assert!(b_out.contains("EEXIST"), "{id}:\n{b_out}");
        } else {
            assert_eq!(rb, 0, "{id}, the second copy:\n{b_out}");
        }
        assert_eq!(leftovers(run_dir.path()), Leftovers::default(), "{id}");
        t.assert_host_unchanged(id);
    }
}
