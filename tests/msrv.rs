//! The declared minimum Rust (`rust-version` in Cargo.toml) must build the locked dependencies:
//! a dependency whose own `rust-version` is newer makes `cargo build --locked` fail on the
//! compiler we claim to support (Debian's, in vagrant/provision.sh). Runs offline, from
//! `cargo metadata` over the lockfile, for the platform we build on.

use std::process::Command;

/// `1.89` and `1.89.0` are the same version: (major, minor, patch) with a missing part as 0.
fn version(text: &str) -> (u64, u64, u64) {
    let mut parts = text.split('.').map(|p| p.parse().unwrap_or(0));
    let mut next = || parts.next().unwrap_or(0);
    (next(), next(), next())
}

fn host_triple(cargo: &str) -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| {
        // rustc sits beside cargo in every toolchain layout we use (rustup, Debian, /opt/rust).
        let dir = std::path::Path::new(cargo).parent().unwrap();
        dir.join("rustc").display().to_string()
    });
    let out = Command::new(rustc).arg("-vV").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("rustc -vV names its host")
        .to_string()
}

#[test]
fn rust_version_covers_every_locked_dependency() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(&cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .args(["--filter-platform", &host_triple(&cargo)])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ours = version(env!("CARGO_PKG_RUST_VERSION"));
    let mut newer = Vec::new();
    let mut seen = 0;
    for p in meta["packages"].as_array().unwrap() {
        if let Some(v) = p["rust_version"].as_str() {
            seen += 1;
            if version(v) > ours {
                newer.push(format!("{} {} needs {v}", p["name"], p["version"]).replace('"', ""));
            }
        }
    }
    // Many dependencies declare a rust-version; none seen would mean the metadata was not read.
    assert!(seen > 10, "only {seen} packages declare a rust-version");
    assert!(
        newer.is_empty(),
        "rust-version {} in Cargo.toml is older than: {newer:?}",
        env!("CARGO_PKG_RUST_VERSION")
    );
}

#[test]
fn provision_sh_asks_for_the_same_minimum() {
    // provision.sh reads the minimum from the Cargo.toml it builds, so the two cannot drift.
    let script = include_str!("../vagrant/provision.sh");
    assert!(
        script.contains("rust-version"),
        "provision.sh no longer reads rust-version from Cargo.toml"
    );
}
