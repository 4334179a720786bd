//! Helpers of the tests that play whole lessons as root and check that nothing is left behind:
//! what the host holds of the lab's kinds (links, cgroups), and a lesson rewritten with a pause
//! step, to interrupt it at a chosen point.

use std::path::Path;
use std::process::Command;

/// A file's text, or "" if it cannot be read.
pub fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// The names of the lab's links (`clab*`) in this network namespace.
pub fn clab_links() -> Vec<String> {
    let out = Command::new("ip").args(["-o", "link"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split(':').nth(1).map(|n| n.trim().to_string()))
        .filter(|n| n.starts_with("clab"))
        .collect()
}

/// Every lab cgroup directory (`containerlab*`, `clab*`, the cgroupns lesson's `cgns-*`) under
/// /sys/fs/cgroup, sorted.
pub fn lab_cgroups() -> Vec<String> {
    let out = Command::new("find")
        .args([
            "/sys/fs/cgroup",
            "-maxdepth",
            "4",
            "-type",
            "d",
            "(",
            "-name",
            "containerlab*",
            "-o",
            "-name",
            "clab*",
            "-o",
            "-name",
            "cgns-*",
            ")",
        ])
        .output()
        .expect("find");
    let mut v: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

/// Fails the test if `dir` (a run's session base directory) still holds anything.
pub fn assert_empty_dir(dir: &Path) {
    let left: Vec<_> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "session directories left: {left:?}");
}

pub fn require_root() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "these tests make namespaces and must run as root"
    );
}

/// A copy of built-in lesson `lesson` with one more step after step `after`: titled `marker`,
/// `who` runs `sleep SLEEP`, long enough to be interrupted in. The copy is written to a new
/// directory (for `--lessons`) that lives as long as the returned handle.
pub fn lesson_with_pause(
    lesson: &str,
    after: usize,
    who: &str,
    marker: &str,
    sleep: &str,
) -> tempfile::TempDir {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("lessons")
        .join(format!("{lesson}.yaml"));
    let mut text = std::fs::read_to_string(path).unwrap();
    let value: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    // Put the variables in now: `uid: {var:x}` is not YAML we could write back as it was.
    if let Some(vars) = value.get("vars").and_then(|v| v.as_mapping()) {
        for (k, v) in vars {
            let v = match v {
                serde_yaml::Value::String(s) => s.clone(),
                other => serde_yaml::to_string(other).unwrap().trim().to_string(),
            };
            text = text.replace(&format!("{{var:{}}}", k.as_str().unwrap()), &v);
        }
    }
    let mut value: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let map = value.as_mapping_mut().unwrap();
    map.remove("vars");
    let step: serde_yaml::Value = serde_yaml::from_str(&format!(
        "id: pause\ntitle: {{en: {marker}}}\ntext: {{en: waits}}\n\
         actions:\n  - run: {{in: {who}, argv: [sleep, \"{sleep}\"]}}\n"
    ))
    .unwrap();
    map.get_mut("steps")
        .unwrap()
        .as_sequence_mut()
        .unwrap()
        .insert(after + 1, step);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(format!("{lesson}.yaml")),
        serde_yaml::to_string(&value).unwrap(),
    )
    .unwrap();
    dir
}
