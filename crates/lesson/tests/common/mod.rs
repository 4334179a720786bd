//! Mutations of a lesson file's text, shared by the loader's property tests and the binary's
//! (`tests/prop_check.rs` includes this file by path).

use proptest::prelude::*;

/// One change to a lesson's lines.
#[derive(Debug, Clone)]
pub enum Mutation {
    Drop(usize),
    Double(usize),
    Swap(usize, usize),
    Cut(usize),
    Splice(usize, usize, &'static str),
}

const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ":",
    "- ",
    "  ",
    "\t",
    "'",
    "\"",
    "{var:x}",
    "{var:",
    "{pid:ghost}",
    "{work}",
    "-1",
    "0",
    "99999999999999999999",
    "null",
    "~",
    "[]",
    "{}",
    "&a",
    "*a",
    "!!binary",
    "ü",
    "\u{0}",
    "timeout_secs: 0",
    "in: ghost",
    "expect_error: EPERM",
];

pub fn mutation() -> impl Strategy<Value = Mutation> {
    let n = 0..10_000usize;
    prop_oneof![
        n.clone().prop_map(Mutation::Drop),
        n.clone().prop_map(Mutation::Double),
        (n.clone(), n.clone()).prop_map(|(a, b)| Mutation::Swap(a, b)),
        n.clone().prop_map(Mutation::Cut),
        (n.clone(), 0..200usize, prop::sample::select(TOKENS))
            .prop_map(|(l, c, t)| Mutation::Splice(l, c, t)),
    ]
}

pub fn mutate(text: &str, mutations: &[Mutation]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for m in mutations {
        if lines.is_empty() {
            break;
        }
        let len = lines.len();
        let at = |i: usize| i % len;
        match *m {
            Mutation::Drop(i) => {
                lines.remove(at(i));
            }
            Mutation::Double(i) => {
                let l = lines[at(i)].clone();
                lines.insert(at(i), l);
            }
            Mutation::Swap(a, b) => {
                let (a, b) = (at(a), at(b));
                lines.swap(a, b);
            }
            Mutation::Cut(i) => lines.truncate(at(i)),
            Mutation::Splice(i, col, token) => {
                let line = &mut lines[at(i)];
                let mut col = col.min(line.len());
                while !line.is_char_boundary(col) {
                    col -= 1;
                }
                line.insert_str(col, token);
            }
        }
    }
    lines.join("\n")
}
