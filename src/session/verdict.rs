//! Verdicts: an observed value compared with what a check expects, and the value as the learner
//! sees it. Pure functions of their inputs: nothing here reads the machine, so the session's
//! other parts (observations, image facts) can all build on it.

use crate::i18n::fill;
use crate::lesson::schema::{Expect, Literal, Pick};
use std::fmt;

/// An observed value.
#[derive(Debug, Clone, PartialEq)]
pub enum Observed {
    Number(i64),
    Text(String),
    List(Vec<Observed>),
    /// Nothing could be read; the text says why (the process has exited, say).
    Missing(String),
}

/// How many items of a list a check shows before `… N more`.
const SHOWN_ITEMS: usize = 12;

crate::i18n::messages! {
    MORE = "… {} more", "… ほか {} 個";
    NOTHING = "(nothing: {})", "(なし: {})";
    CONTAINS = "contains {}", "{} を含む";
    NOT_CONTAINS = "does not contain {}", "{} を含まない";
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text("en"))
    }
}

impl Observed {
    /// The value as a check shows it, its own words in `lang`.
    pub fn text(&self, lang: &str) -> String {
        match self {
            Observed::Number(n) => n.to_string(),
            Observed::Text(s) => format!("{s:?}"),
            Observed::List(items) => {
                let mut shown: Vec<String> = items
                    .iter()
                    .take(SHOWN_ITEMS)
                    .map(|i| i.text(lang))
                    .collect();
                let more = items.len().saturating_sub(SHOWN_ITEMS);
                if more > 0 {
                    shown.push(fill(MORE.get(lang), &[&more]));
                }
                format!("[{}]", shown.join(", "))
            }
            Observed::Missing(why) => fill(NOTHING.get(lang), &[why]),
        }
    }
}

impl Observed {
    fn plain(&self) -> String {
        match self {
            Observed::Text(s) => s.clone(),
            other => other.to_string(),
        }
    }

    fn from_literal(l: &Literal) -> Observed {
        match l {
            Literal::Number(n) => Observed::Number(*n),
            Literal::Text(s) => Observed::Text(s.clone()),
        }
    }
}

/// Applies a `pick` to an observed list.
pub fn pick(value: Observed, pick: Option<Pick>) -> Observed {
    match (pick, value) {
        (None, v) => v,
        (Some(Pick::Count), Observed::List(items)) => Observed::Number(items.len() as i64),
        (Some(Pick::AllButLast), Observed::List(mut items)) => {
            items.pop();
            Observed::List(items)
        }
        (Some(Pick::First), Observed::List(items)) => items
            .into_iter()
            .next()
            .unwrap_or(Observed::Missing("the list is empty".into())),
        (Some(Pick::Last), Observed::List(items)) => items
            .into_iter()
            .last()
            .unwrap_or(Observed::Missing("the list is empty".into())),
        // A single value is its own first and last element: `pick` applies to lists only.
        (Some(_), other) => other,
    }
}

/// The observed value as a check shows it. A long list is cut after its first items; when the
/// check looks for one item further down, that item is shown in its place in the list, so the
/// learner sees the PID the check found (or did not find where it should be).
pub fn shown(observed: &Observed, expect: &Expect, other: Option<&Observed>, lang: &str) -> String {
    let needle = match expect {
        Expect::Contains(l) | Expect::NotContains(l) => Some(Observed::from_literal(l)),
        Expect::ContainsObserved(_) | Expect::NotContainsObserved(_) => other.cloned(),
        _ => None,
    };
    let (Observed::List(items), Some(needle)) = (observed, needle) else {
        return observed.text(lang);
    };
    let found = items
        .iter()
        .position(|i| !matches!(needle, Observed::Missing(_)) && i.plain() == needle.plain());
    match found {
        Some(at) if at >= SHOWN_ITEMS => {
            let mut shown: Vec<String> =
                items[..SHOWN_ITEMS].iter().map(|i| i.text(lang)).collect();
            let between = at - SHOWN_ITEMS;
            let after = items.len() - at - 1;
            if between > 0 {
                shown.push(fill(MORE.get(lang), &[&between]));
            }
            shown.push(items[at].text(lang));
            if after > 0 {
                shown.push(fill(MORE.get(lang), &[&after]));
            }
            format!("[{}]", shown.join(", "))
        }
        _ => observed.text(lang),
    }
}

/// The verdict: passed or not, and the expectation in words.
pub fn judge(
    observed: &Observed,
    expect: &Expect,
    other: Option<&Observed>,
    lang: &str,
) -> (bool, String) {
    let same = |a: &Observed, b: &Observed| match (a, b) {
        (Observed::Missing(_), _) | (_, Observed::Missing(_)) => false,
        _ => a.plain() == b.plain(),
    };
    let contains = |hay: &Observed, needle: &Observed| match hay {
        Observed::List(items) => items.iter().any(|i| same(i, needle)),
        Observed::Text(t) => t.contains(&needle.plain()),
        _ => false,
    };
    let number = |o: &Observed| match o {
        Observed::Number(n) => Some(*n),
        Observed::Text(t) => t.trim().parse().ok(),
        _ => None,
    };
    let missing = matches!(observed, Observed::Missing(_));
    let other_v = || {
        other
            .cloned()
            .unwrap_or(Observed::Missing("not observed".into()))
    };
    match expect {
        Expect::Equals(l) => (same(observed, &Observed::from_literal(l)), format!("= {l}")),
        Expect::NotEquals(l) => (
            !missing && !same(observed, &Observed::from_literal(l)),
            format!("≠ {l}"),
        ),
        Expect::Same(_) => {
            let o = other_v();
            (same(observed, &o), format!("= {}", o.text(lang)))
        }
        Expect::Differs(_) => {
            let o = other_v();
            (
                !missing && !matches!(o, Observed::Missing(_)) && !same(observed, &o),
                format!("≠ {}", o.text(lang)),
            )
        }
        Expect::Contains(l) => (
            contains(observed, &Observed::from_literal(l)),
            fill(CONTAINS.get(lang), &[l]),
        ),
        Expect::NotContains(l) => (
            !missing && !contains(observed, &Observed::from_literal(l)),
            fill(NOT_CONTAINS.get(lang), &[l]),
        ),
        Expect::ContainsObserved(_) => {
            let o = other_v();
            (
                contains(observed, &o),
                fill(CONTAINS.get(lang), &[&o.text(lang)]),
            )
        }
        Expect::NotContainsObserved(_) => {
            let o = other_v();
            (
                !missing && !matches!(o, Observed::Missing(_)) && !contains(observed, &o),
                fill(NOT_CONTAINS.get(lang), &[&o.text(lang)]),
            )
        }
        Expect::AtLeast(n) => (number(observed).is_some_and(|v| v >= *n), format!("≥ {n}")),
        Expect::AtMost(n) => (number(observed).is_some_and(|v| v <= *n), format!("≤ {n}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lesson::schema::Observe;

    #[test]
    fn numbers_and_texts_compare_by_value() {
        let (ok, shown) = judge(
            &Observed::Number(1),
            &Expect::Equals(Literal::Number(1)),
            None,
            "en",
        );
        assert!(ok);
        assert_eq!(shown, "= 1");
        let (ok, _) = judge(
            &Observed::Text("lab".into()),
            &Expect::Equals(Literal::Text("lab".into())),
            None,
            "en",
        );
        assert!(ok);
    }

    #[test]
    fn a_long_list_shows_the_item_a_check_looks_for() {
        let pids = Observed::List((1..=70).map(Observed::Number).collect());
        let wanted = Expect::Contains(Literal::Number(60));
        assert_eq!(
            shown(&pids, &wanted, None, "en"),
            "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, … 47 more, 60, … 10 more]"
        );
        let host = Observed::Number(70);
        assert_eq!(
            shown(
                &pids,
                &Expect::ContainsObserved(crate::lesson::schema::Observe::Result("pid".into())),
                Some(&host),
                "en"
            ),
            "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, … 57 more, 70]"
        );
        // Within the first items, or absent: the list as usual.
        let near = Expect::Contains(Literal::Number(3));
        assert_eq!(shown(&pids, &near, None, "en"), pids.to_string());
        let absent = Expect::Contains(Literal::Number(99));
        assert!(shown(&pids, &absent, None, "en").ends_with(", … 58 more]"));
        // In a Japanese room, the list's own words are Japanese.
        assert_eq!(
            shown(&pids, &wanted, None, "ja"),
            "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, … ほか 47 個, 60, … ほか 10 個]"
        );
        assert_eq!(judge(&pids, &wanted, None, "ja").1, "60 を含む");
    }

    #[test]
    fn a_missing_value_never_passes_a_negative_check() {
        let gone = Observed::Missing("process exited".into());
        let (ok, _) = judge(&gone, &Expect::NotEquals(Literal::Number(1)), None, "en");
        assert!(!ok);
        let (ok, _) = judge(
            &gone,
            &Expect::Differs(Observe::Pid("x".into())),
            Some(&Observed::Number(3)),
            "en",
        );
        assert!(!ok);
    }

    #[test]
    fn pick_reduces_lists() {
        let l = Observed::List(vec![Observed::Number(4242), Observed::Number(1)]);
        assert_eq!(pick(l.clone(), Some(Pick::Last)), Observed::Number(1));
        assert_eq!(pick(l.clone(), Some(Pick::First)), Observed::Number(4242));
        assert_eq!(
            pick(l.clone(), Some(Pick::AllButLast)),
            Observed::List(vec![Observed::Number(4242)])
        );
        assert_eq!(pick(l, Some(Pick::Count)), Observed::Number(2));
        let (ok, _) = judge(
            &Observed::List(vec![Observed::Number(1)]),
            &Expect::Contains(Literal::Number(1)),
            None,
            "en",
        );
        assert!(ok);
    }
}
