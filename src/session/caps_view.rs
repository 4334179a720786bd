//! The capabilities view: each lab process's capability sets, every name in them.

use super::view_words as W;
use super::views::Subjects;
use crate::i18n::fill;
use crate::inspect::{caps, process::ProcessView};
use unicode_width::UnicodeWidthStr;

/// How wide a set's lines get before the names go on a new line: the view pane at 80 columns.
const WIDTH: usize = 76;

pub(super) fn caps_view(s: &Subjects) -> Vec<String> {
    // The capabilities this kernel has (a full set is all of them, whatever their number).
    let kernel = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|t| t.trim().parse::<u8>().ok())
        .map(|last| caps::decode(u64::MAX >> (63 - u32::from(last.min(63)))))
        .unwrap_or_default();
    let mut lines = Vec::new();
    for (name, pid) in s.alive() {
        if let Some(v) = ProcessView::read(pid) {
            lines.push(fill(W::HOST_PID.get(&s.lang), &[&name, &pid]));
            for (set, names) in &v.caps {
                lines.extend(set_lines(set, names, &kernel, &s.lang));
            }
        }
    }
    lines
}

/// One set. Every name is shown (wrapped), so that Docker's 14 can be read off the view; a set
/// that lacks only a few of the kernel's capabilities names the ones it lacks, since a missing
/// `cap_net_raw` is lost in a list of forty.
fn set_lines(set: &str, names: &[String], kernel: &[String], lang: &str) -> Vec<String> {
    let head = format!(
        "  {set} {}:",
        fill(W::CAPS_COUNT.get(lang), &[&names.len()])
    );
    if names.is_empty() {
        return vec![format!("  {set}: {}", W::NO_CAPS.get(lang))];
    }
    let known = !kernel.is_empty() && names.iter().all(|n| kernel.contains(n));
    let missing: Vec<&str> = kernel
        .iter()
        .filter(|c| !names.contains(c))
        .map(|c| c.as_str())
        .collect();
    if known && missing.is_empty() {
        return vec![format!("{head} {}", W::ALL_CAPS.get(lang))];
    }
    if known && missing.len() <= 6 && names.len() > missing.len() {
        let but = fill(W::ALL_CAPS_BUT.get(lang), &[&missing.join(", ")]);
        return vec![format!("{head} {but}")];
    }
    let mut lines = vec![head];
    for (i, n) in names.iter().enumerate() {
        let word = if i + 1 < names.len() {
            format!("{n},")
        } else {
            n.clone()
        };
        let last = lines.last_mut().expect("the head line");
        if last.width() + 1 + word.width() > WIDTH {
            lines.push(format!("    {word}"));
        } else {
            last.push(' ');
            last.push_str(&word);
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &str) -> Vec<String> {
        list.split(' ').map(String::from).collect()
    }

    /// Docker's default set (moby's `oci/caps/defaults.go`), in bit order as the kernel lists it.
    const DOCKER: &str = "cap_chown cap_dac_override cap_fowner cap_fsetid cap_kill cap_setgid \
        cap_setuid cap_setpcap cap_net_bind_service cap_net_raw cap_sys_chroot cap_mknod \
        cap_audit_write cap_setfcap";

    fn kernel() -> Vec<String> {
        caps::decode(u64::MAX >> (63 - 40))
    }

    #[test]
    fn docker_s_fourteen_are_all_named_within_the_pane() {
        let docker = names(DOCKER);
        let lines = set_lines("CapBnd", &docker, &kernel(), "en");
        assert_eq!(lines[0].split(':').next(), Some("  CapBnd (14)"));
        let text = lines.join(" ");
        for cap in &docker {
            assert!(text.contains(cap.as_str()), "{cap} missing from {lines:?}");
        }
        assert!(lines.len() > 1, "{lines:?}");
        assert!(lines.iter().all(|l| l.width() <= WIDTH), "{lines:?}");
    }

    #[test]
    fn a_set_short_of_a_few_names_what_it_lacks() {
        let kernel = kernel();
        let bounded: Vec<String> = kernel
            .iter()
            .filter(|c| *c != "cap_net_raw")
            .cloned()
            .collect();
        assert_eq!(
            set_lines("CapBnd", &bounded, &kernel, "en"),
            vec!["  CapBnd (40): all the kernel has but cap_net_raw"]
        );
        assert_eq!(
            set_lines("CapEff", &kernel, &kernel, "en"),
            vec!["  CapEff (41): all the kernel has"]
        );
        assert_eq!(
            set_lines("CapInh", &[], &kernel, "ja"),
            vec!["  CapInh: (なし)"]
        );
    }

    #[test]
    fn without_the_kernel_s_list_every_name_is_still_shown() {
        let all = kernel();
        let text = set_lines("CapPrm", &all, &[], "en").join(" ");
        let shown: Vec<&str> = text
            .trim_start_matches("  CapPrm (41):")
            .split([' ', ','])
            .filter(|w| !w.is_empty())
            .collect();
        assert_eq!(shown, all.iter().map(|s| s.as_str()).collect::<Vec<_>>());
    }
}
