//! The shell a learner opens inside a sandbox process (`containerlab __enter`), in words: the
//! banner that says where the shell is and what it took on from the process, and what went wrong.
//!
//! Entering is the engine's ([`crate::engine::enter`]): joining another process's namespaces,
//! root, cgroups, ids and capability bounds. This module only says what it did.

use crate::engine::enter::{self, EnterError, Entered};
use crate::i18n::fill;

crate::i18n::messages! {
    CANNOT_ENTER = "containerlab: cannot enter process {}: {}", "containerlab: プロセス {} に入れません: {}";
    PRESS_ENTER = "(press Enter to go back)", "(Enter でレッスンに戻ります)";
    BANNER = "containerlab: a shell inside {} (pid {}); namespaces joined: {}; {}. Type `exit` or Ctrl-D to go back to the lesson.",
        "containerlab: {} (PID {}) の中のシェルです。入った名前空間: {}。{}。`exit` か Ctrl-D でレッスンに戻ります。";
    HOST_NAMESPACES = "the host's namespaces", "ホストの名前空間";
    NOT_QUITE = "containerlab: warning: this shell is not quite like {}: {}",
        "containerlab: 警告: このシェルは {} と同じではありません: {}";
    LIKE = "uid {} gid {}, {} capabilities like the process", "uid {} gid {}、ケーパビリティはプロセスと同じ {} 個";
    IN_CGROUP = ", in its cgroup", "、同じ cgroup の中";
}

/// Enters `pid`'s namespaces and root and runs an interactive shell; returns its exit code.
/// `label` names the place in the prompt, `lang` is the learner's language, and `note`, if any,
/// is said before anything else.
pub fn enter(pid: i32, label: &str, lang: &str, note: Option<&str>) -> i32 {
    // A rule sets this shell apart from what an earlier one left on the terminal.
    eprintln!("\n{}", "─".repeat(60));
    if let Some(note) = note {
        eprintln!("containerlab: {note}");
    }
    let entered = enter::join(pid).and_then(|entered| {
        say_entered(&entered, pid, label, lang);
        enter::run_shell(label)
    });
    match entered {
        Ok(code) => code,
        Err(e) => cannot_enter(pid, &e, lang),
    }
}

fn cannot_enter(pid: i32, e: &EnterError, lang: &str) -> i32 {
    eprintln!("{}", fill(CANNOT_ENTER.get(lang), &[&pid, e]));
    eprintln!("{}", PRESS_ENTER.get(lang));
    let mut s = String::new();
    let _ = std::io::stdin().read_line(&mut s);
    crate::exit::ENVIRONMENT
}

/// The banner, and a warning for each way the shell could not be made like the process.
fn say_entered(entered: &Entered, pid: i32, label: &str, lang: &str) {
    let joined = if entered.joined.is_empty() {
        HOST_NAMESPACES.get(lang).to_string()
    } else {
        let names: Vec<&str> = entered.joined.iter().map(|n| n.proc_name()).collect();
        names.join(",")
    };
    let like = &entered.like;
    let mut like_text = fill(LIKE.get(lang), &[&like.uid, &like.gid, &entered.caps_kept]);
    if !like.cgroup_procs.is_empty() {
        like_text.push_str(IN_CGROUP.get(lang));
    }
    eprintln!(
        "{}",
        fill(BANNER.get(lang), &[&label, &pid, &joined, &like_text])
    );
    for e in &entered.unlike {
        eprintln!("{}", fill(NOT_QUITE.get(lang), &[&label, e]));
    }
}
