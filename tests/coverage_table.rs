//! README's table of the article's sections and the steps that show them stays true: every
//! numbered section of chapters 1–4 (and 0.2, one kernel under every container) has a row with at
//! least one step, and every `lesson:step` named there is a step of a built-in lesson.

use containerlab::lesson::load::catalog;

/// The article's numbered sections that the lab shows (chapters 1–4, and 0.2), as its headings
/// number them. Chapters 0.1 (history) and 5–7 (merits, use cases, summary) have nothing to run.
const SECTIONS: [&str; 13] = [
    "0.2", "1.1", "1.2", "1.3", "1.4", "2.1", "2.2", "2.3", "3", "4.1", "4.2", "4.3", "4.4",
];

/// (section number, the `lesson:step` names of its row) for each row of README's table.
fn rows() -> Vec<(String, Vec<String>)> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let table = readme
        .split("### The article, section by section")
        .nth(1)
        .expect("README has the article's table");
    table
        .lines()
        .skip_while(|l| !l.starts_with("| section"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let section = cells[1].split_whitespace().next().unwrap_or("").to_string();
            let steps = cells[3]
                .split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_string)
                .collect();
            (section, steps)
        })
        .collect()
}

#[test]
fn every_section_has_steps_and_every_step_named_exists() {
    let (lessons, diags) = catalog(&[]);
    assert!(diags.is_empty(), "{diags:?}");
    let rows = rows();
    let numbers: Vec<&str> = rows.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(numbers, SECTIONS, "one row per section, in order");
    let mut named = 0;
    for (section, steps) in &rows {
        assert!(!steps.is_empty(), "section {section} shows no step");
        for name in steps {
            let (lesson, step) = name
                .split_once(':')
                .unwrap_or_else(|| panic!("{section}: {name:?} is not lesson:step"));
            let l = lessons
                .iter()
                .find(|l| l.lesson.id == lesson)
                .unwrap_or_else(|| panic!("{section}: no lesson {lesson:?}"));
            assert!(
                l.lesson.steps.iter().any(|s| s.id == step),
                "{section}: lesson {lesson} has no step {step:?}"
            );
            named += 1;
        }
    }
    assert!(named >= SECTIONS.len());
}
