//! Two lessons on one machine at once (two learners on a VM, one learner with two terminals):
//! most host objects are named per session (cgroups, work directories, IPC keys and queue names
//! from the holder's pid), but a lesson's link names are written in the lesson. When a link the
//! lesson makes already exists, this finds whether a *running* session made it, so the learner
//! is told "another lesson is using it now" instead of "something was left behind".

use crate::engine::journal::{Entry, Journal};
use crate::engine::rundir::RunDir;

/// The running session other than `own` (a session id) that journaled link `name`, with its
/// front end's pid.
pub fn link_owner(name: &str, own: &str) -> Option<(String, i32)> {
    RunDir::all().into_iter().find_map(|run| {
        if run.id == own {
            return None;
        }
        let owner = run.owner().filter(|o| o.alive())?;
        let entries = Journal::read(&run.journal_path()).ok()?;
        entries
            .iter()
            .any(|e| matches!(e, Entry::Link { name: n } if n == name))
            .then(|| (run.id.clone(), owner.pid))
    })
}

/// The learner's explanation of a link name taken by a running session, in `lang`.
pub fn taken_by(name: &str, session: &str, pid: i32, lang: &str) -> String {
    if lang == "ja" {
        return format!(
            "リンク {name} は今動いているセッション {session} (containerlab の pid {pid}) \
             のものです。このレッスンの別のコピーか別のレッスンが、このネットワーク名前空間で同じ\
             リンク名を使っています。そちらを先に終えるか、このレッスンを専用のネットワーク名前空間で\
             動かしてください (`sudo unshare --net containerlab ...`)。残骸ではないので cleanup \
             では直りません。"
        );
    }
    format!(
        "link {name} belongs to session {session} (containerlab pid {pid}), which is running \
         now: another copy of this lesson, or another lesson, uses the same link name in this \
         network namespace. Finish that one first, or run this one in a network namespace of \
         its own (`sudo unshare --net containerlab ...`). Nothing was left behind: cleanup would \
         not help."
    )
}
