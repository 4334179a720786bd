//! Property tests: no lesson file, however broken, panics the loader (what `check`, `list` and
//! `run` all go through). Arbitrary YAML documents, arbitrary text, and the built-in lessons with
//! random mutations (lines dropped, doubled, swapped, cut; tokens spliced in) must each come back
//! as a lesson or as diagnostics, never as a panic. Case counts are fixed and printed.

mod common;
#[path = "../../../tests/common/summary.rs"]
mod summary;

use containerlab_lesson::load::{load_file, BUILTIN};
use proptest::prelude::*;
use summary::runner;

/// A YAML value of any shape, with the format's own keys among the names so that documents get
/// past the first level.
fn yaml_value() -> impl Strategy<Value = serde_yaml::Value> {
    let key = prop_oneof![
        Just("format_version".to_string()),
        Just("id".to_string()),
        Just("steps".to_string()),
        Just("actions".to_string()),
        Just("checks".to_string()),
        Just("title".to_string()),
        Just("en".to_string()),
        Just("vars".to_string()),
        Just("exercise".to_string()),
        Just("run".to_string()),
        Just("timeout_secs".to_string()),
        "[a-z_]{1,8}",
    ];
    let leaf = prop_oneof![
        Just(serde_yaml::Value::Null),
        any::<bool>().prop_map(serde_yaml::Value::Bool),
        any::<i64>().prop_map(|n| serde_yaml::Value::Number(n.into())),
        any::<f64>().prop_map(|n| serde_yaml::Value::Number(n.into())),
        ".{0,12}".prop_map(serde_yaml::Value::String),
        Just(serde_yaml::Value::String("{var:x}".into())),
        Just(serde_yaml::Value::String("{pid:ghost}".into())),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_yaml::Value::Sequence),
            prop::collection::vec((key.clone(), inner), 0..6).prop_map(|kv| {
                serde_yaml::Value::Mapping(
                    kv.into_iter()
                        .map(|(k, v)| (serde_yaml::Value::String(k), v))
                        .collect(),
                )
            }),
        ]
    })
}

#[test]
fn arbitrary_yaml_documents_never_panic_the_loader() {
    let cases = 512;
    runner(cases)
        .run(&yaml_value(), |v| {
            let text = serde_yaml::to_string(&v).unwrap();
            let _ = load_file("arbitrary.yaml", &text);
            Ok(())
        })
        .unwrap();
    summary::report(
        "lesson-arbitrary-YAML-documents",
        &format!("property: lesson loader, arbitrary YAML documents: {cases} cases, no panic"),
    );
}

#[test]
fn arbitrary_text_never_panics_the_loader() {
    let cases = 512;
    runner(cases)
        .run(&".{0,400}", |text| {
            let _ = load_file("text.yaml", &text);
            Ok(())
        })
        .unwrap();
    summary::report(
        "lesson-arbitrary-text",
        &format!("property: lesson loader, arbitrary text: {cases} cases, no panic"),
    );
}

#[test]
fn mutated_builtin_lessons_never_panic_the_loader() {
    let cases = 512;
    let strategy = (
        prop::sample::select(BUILTIN),
        prop::collection::vec(common::mutation(), 1..4),
    );
    runner(cases)
        .run(&strategy, |((name, text), mutations)| {
            let _ = load_file(name, &common::mutate(text, &mutations));
            Ok(())
        })
        .unwrap();
    summary::report(
        "lesson-mutated-built-in-lessons",
        &format!("property: lesson loader, mutated built-in lessons: {cases} cases, no panic"),
    );
}
