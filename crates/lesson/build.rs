//! Embeds the built-in lessons (lessons/*.yaml) into the binary, so a copied or `cargo install`ed
//! containerlab finds them from any directory.

use std::fmt::Write;
use std::path::Path;

fn main() {
    // Read at run time: a build script compiled for one checkout must not embed another's lessons.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    // The lessons live at the top of the repository, where authors look for them.
    let dir = Path::new(&manifest_dir).join("../../lessons");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("../../lessons/ exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    let mut out = String::from("/// (file name, contents) of every built-in lesson.\npub const BUILTIN: &[(&str, &str)] = &[\n");
    for f in files {
        println!("cargo:rerun-if-changed={}", f.display());
        let name = f.file_name().unwrap().to_string_lossy();
        writeln!(
            out,
            "    ({name:?}, include_str!({:?})),",
            f.display().to_string()
        )
        .unwrap();
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("builtin_lessons.rs");
    std::fs::write(dest, out).unwrap();
}
