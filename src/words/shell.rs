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
    BANNER = "containerlab: a shell inside {} (pid {}); namespaces joined: {}; {}. Ctrl-G goes back to the lesson, `exit` or Ctrl-D closes the shell.",
        "containerlab: {} (PID {}) の中のシェルです。入った名前空間: {}。{}。Ctrl-G でレッスンに戻り、`exit` か Ctrl-D でシェルを閉じます。";
    SHARES_HOST = "containerlab: ⚠ this shell shares the HOST's {} namespace: what you change here changes this machine. Mounts made here are undone when the lesson ends.",
        "containerlab: ⚠ このシェルはホストの {} 名前空間を共有しています: ここでの変更はこのマシンを変えます。ここでのマウントはレッスンの終わりに元に戻します。";
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
    if let Some(note) = note {
        say(&format!("containerlab: {note}"));
    }
    let entered = enter::join(pid).and_then(|entered| {
        say_entered(&entered, pid, label, lang);
        // The prompt says it too, on every line the learner types.
        let shared = host_shared(&entered);
        let label = match shared.is_empty() {
            true => label.to_string(),
            false => format!("{label} HOST:{}", shared.join(",")),
        };
        enter::run_shell(&label)
    });
    match entered {
        Ok(code) => code,
        Err(e) => cannot_enter(pid, &e, lang),
    }
}

/// Of the namespaces that make a shell touch the machine (mounts, links and routes, the
/// hostname), those the shell still shares with the host: the ones it did not have to join.
/// (`__enter` starts in the host's namespaces: the lab's front end runs there.)
fn host_shared(entered: &Entered) -> Vec<&'static str> {
    use crate::engine::namespaces::Namespace;
    [Namespace::Mnt, Namespace::Net, Namespace::Uts]
        .into_iter()
        .filter(|ns| !entered.joined.contains(ns))
        .map(|ns| ns.proc_name())
        .collect()
}

/// A line for the learner, wrapped at words to the terminal's width (a terminal cuts a long
/// line anywhere, in the middle of a word).
fn say(text: &str) {
    // SAFETY: TIOCGWINSZ fills one winsize, or fails and leaves it zeroed.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    let asked = unsafe { libc::ioctl(2, libc::TIOCGWINSZ, &mut ws) };
    if asked != 0 || ws.ws_col < 20 {
        // Not a terminal (a pipe, a log): one line, as written.
        eprintln!("{text}");
        return;
    }
    for line in crate::tui::wrap::wrap(text, ws.ws_col as usize) {
        eprintln!("{line}");
    }
}

fn cannot_enter(pid: i32, e: &EnterError, lang: &str) -> i32 {
    say(&fill(CANNOT_ENTER.get(lang), &[&pid, e]));
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
    say(&fill(
        BANNER.get(lang),
        &[&label, &pid, &joined, &like_text],
    ));
    let shared = host_shared(entered);
    if !shared.is_empty() {
        say(&fill(SHARES_HOST.get(lang), &[&shared.join(", ")]));
    }
    for e in &entered.unlike {
        say(&fill(NOT_QUITE.get(lang), &[&label, e]));
    }
}
