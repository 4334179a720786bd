//! A test's one-line summary (how many cases, how long), printed and also kept under
//! target/tmp/summaries so that .ci/run shows it: cargo test hides a passing test's output.
//! Included by path from the crates' tests too (their unit tests have no CARGO_TARGET_TMPDIR:
//! the workspace's default target directory then).

pub fn report(name: &str, line: &str) {
    println!("{line}");
    let tmp = option_env!("CARGO_TARGET_TMPDIR")
        .unwrap_or(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/tmp"));
    let dir = std::path::Path::new(tmp).join("summaries");
    let _ = std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(dir.join(name), format!("{line}\n")));
}

/// A property-test runner for a fixed number of cases (CI time stays bounded, and the summary
/// can say how many), which writes no regression files into the source tree.
pub fn runner(cases: u32) -> proptest::test_runner::TestRunner {
    proptest::test_runner::TestRunner::new(proptest::test_runner::Config {
        cases,
        failure_persistence: None,
        ..proptest::test_runner::Config::default()
    })
}
