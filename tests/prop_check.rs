//! Property test through the binary: `containerlab check` on arbitrary text and on mutated
//! built-in lessons exits 0 (valid) or 2 (errors reported), never anything else: no panic (101),
//! no crash by a signal. Fewer cases than the loader's own property tests (each is a process);
//! the count is fixed and printed.

mod common;
#[path = "../crates/lesson/tests/common/mod.rs"]
mod mutations;

use containerlab::lesson::load::BUILTIN;
use proptest::prelude::*;

#[test]
fn check_exits_0_or_2_on_any_lesson_file() {
    let cases = 64;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lesson.yaml");
    let strategy = prop_oneof![
        (
            prop::sample::select(BUILTIN),
            prop::collection::vec(mutations::mutation(), 1..4)
        )
            .prop_map(|((_, text), m)| mutations::mutate(text, &m)),
        ".{0,300}",
    ];
    let seen = std::cell::RefCell::new(std::collections::BTreeSet::new());
    common::summary::runner(cases)
        .run(&strategy, |text| {
            std::fs::write(&file, &text).unwrap();
            let out = common::lab().arg("check").arg(&file).output().unwrap();
            let code = out.status.code();
            prop_assert!(
                matches!(code, Some(0) | Some(2)),
                "exit {:?}:\n{}",
                out.status,
                common::both(&out)
            );
            seen.borrow_mut().insert(code);
            Ok(())
        })
        .unwrap();
    // Mutations that leave a lesson valid and ones that break it both came up.
    assert_eq!(seen.borrow().len(), 2, "{:?}", seen.borrow());
    common::summary::report(
        "check-binary",
        &format!("property: `containerlab check` on mutated and arbitrary files: {cases} cases, exit 0 or 2 only"),
    );
}
