//! Image work the holder does on host files: building (or importing) an OCI image layout,
//! checking its blobs, unpacking its layers. None of this is a single syscall, so each piece of
//! work is written into the trace as one summary line in strace's shape
//! (`unpack(blobs/sha256/ab12…, "/run/…/layers/1") = 42 entries`), so a step still shows what
//! happened and with which result.

use super::ops::{ImageRecipe, OpError, Value};
use containerlab_oci::image::registry::{self, HttpFetch};
use containerlab_oci::image::{
    build_layout, open_layout, unpack_layer, verify_blobs, Change, Recipe, Whiteouts,
};
use containerlab_trace::{quoted, Outcome, Record, Trace};
use std::path::{Path, PathBuf};

/// `sha256:0123456789ab…`: enough of a digest to recognise it.
pub fn short(digest: &str) -> String {
    let (algo, hex) = digest.split_once(':').unwrap_or(("", digest));
    if hex.len() > 12 {
        format!("{algo}:{}…", &hex[..12])
    } else {
        digest.to_string()
    }
}

fn oci_err(e: containerlab_oci::Error) -> OpError {
    OpError::msg(e.to_string())
}

fn note(trace: &mut Trace, call: String, result: Result<String, &OpError>) {
    trace.records.push(Record {
        call,
        result: match result {
            Ok(v) => Outcome::Returned(v),
            Err(e) => Outcome::Failed {
                errno: e.errno.clone().unwrap_or_else(|| "error".into()),
                message: e.message.clone(),
            },
        },
    });
}

/// The recipe for `which`, as build steps.
pub fn recipe(which: ImageRecipe) -> Recipe {
    let mut r = Recipe::article_example();
    match which {
        ImageRecipe::Example => {}
        ImageRecipe::ExampleApp => {
            r.steps.remove(0);
            r.reference = "containerlab/article-app:latest".into();
        }
        ImageRecipe::AppSmall => return Recipe::app_small(),
        ImageRecipe::AppLarge => return Recipe::app_large(),
        ImageRecipe::ExampleAppEdited => {
            r.steps.remove(0);
            r.reference = "containerlab/article-app:edited".into();
            if let Some(step) = r.steps.last_mut() {
                step.changes = vec![Change::AddFile {
                    path: "/myapp/hoge.txt".into(),
                    content: b"hoge, edited\n".to_vec(),
                    mode: 0o644,
                }];
            }
        }
    }
    r
}

/// Builds the image (or imports the learner's) into `dir`.
pub fn image_build(
    dir: &str,
    which: ImageRecipe,
    from: Option<&str>,
    trace: &mut Trace,
) -> Result<Value, OpError> {
    let dir_path = Path::new(dir);
    if let (Some(src), ImageRecipe::Example) = (from, which) {
        let call = format!("import({}, {})", quoted(src), quoted(dir));
        let result = import_layout(Path::new(src), dir_path).and_then(|_| {
            let image = open_layout(dir_path).map_err(oci_err)?;
            Ok(format!(
                "{} layer(s), manifest {}",
                image.layers.len(),
                short(&image.manifest_digest)
            ))
        });
        note(trace, call, result.as_ref().map(|s| s.to_string()));
        return result.map(Value::Text);
    }
    let base = PathBuf::from(format!("{dir}.rootfs"));
    let recipe = recipe(which);
    let needs_base = recipe
        .steps
        .iter()
        .any(|s| s.changes.contains(&Change::AddBaseRootfs));
    if needs_base {
        let call = format!("build_busybox_rootfs({})", quoted(&base.to_string_lossy()));
        let built = containerlab_oci::rootfs::build_busybox_rootfs(&base).map_err(oci_err);
        note(
            trace,
            call,
            built
                .as_ref()
                .map(|r| format!("busybox + {} applet links", r.applets)),
        );
        built?;
    }
    // The reference tells the builds apart: the edited recipe's lines read the same (as a
    // Dockerfile's would), only what its COPY brings differs.
    let call = format!(
        "build_layout({}, {}, {:?})",
        quoted(dir),
        quoted(&recipe.reference),
        recipe
            .steps
            .iter()
            .map(|s| &s.created_by)
            .collect::<Vec<_>>()
    );
    let built = build_layout(dir_path, &base, &recipe).map_err(oci_err);
    note(
        trace,
        call,
        built.as_ref().map(|b| {
            let layers: Vec<String> = b.layers.iter().map(|l| short(&l.digest)).collect();
            format!(
                "manifest {}, layers [{}]",
                short(&b.manifest_digest),
                layers.join(", ")
            )
        }),
    );
    built.map(|b| Value::Text(b.manifest_digest))
}

/// Copies a layout directory, or unpacks a layout `.tar`, into `dest`.
fn import_layout(src: &Path, dest: &Path) -> Result<(), OpError> {
    let meta =
        std::fs::metadata(src).map_err(|e| OpError::msg(format!("{}: {e}", src.display())))?;
    if meta.is_dir() {
        copy_tree(src, dest).map_err(|e| OpError::msg(format!("copy {}: {e}", src.display())))
    } else {
        unpack_layer(src, dest, Whiteouts::Keep)
            .map(|_| ())
            .map_err(oci_err)
    }
}

/// Regular files and directories only: a layout holds nothing else (symlinks are refused).
fn copy_tree(src: &Path, dest: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dest)?;
    for entry in std::fs::read_dir(src)? {
        let entry = entry?;
        let ft = entry.file_type()?;
        let to = dest.join(entry.file_name());
        if ft.is_dir() {
            copy_tree(&entry.path(), &to)?;
        } else if ft.is_file() {
            std::fs::copy(entry.path(), &to)?;
        } else {
            return Err(std::io::Error::other(format!(
                "{} is neither a file nor a directory",
                entry.path().display()
            )));
        }
    }
    Ok(())
}

/// Recomputes every blob's digest; fails when one does not match.
pub fn verify(dir: &str, trace: &mut Trace) -> Result<Value, OpError> {
    let checks = verify_blobs(Path::new(dir)).map_err(oci_err)?;
    let mut bad = Vec::new();
    let mut lines = Vec::new();
    for c in &checks {
        let call = format!(
            "sha256(blobs/sha256/{}) [{}]",
            short(&c.digest)
                .trim_start_matches("sha256:")
                .trim_end_matches('…'),
            c.role
        );
        let shown = if c.ok {
            format!("{} ✓", short(&c.actual))
        } else {
            bad.push(c.role.clone());
            // Not "✗": that mark is a failed check's in every report, and a lesson may verify
            // a tampered copy on purpose.
            format!(
                "{} ≠ {}: the blob changed",
                short(&c.actual),
                short(&c.digest)
            )
        };
        note(trace, call, Ok(shown.clone()));
        lines.push(format!("{} {}", c.role, shown));
    }
    if bad.is_empty() {
        Ok(Value::Entries(lines))
    } else {
        // EBADMSG ("Bad message"): the data is not what its name promises. An errno name so a
        // lesson can expect the failure (`expect_error: EBADMSG`) and a check can see it.
        Err(OpError {
            errno: Some("EBADMSG".into()),
            message: format!(
                "digest mismatch: {} (the blob was changed after it was named)",
                bad.join(", ")
            ),
        })
    }
}

/// Unpacks one layer, or all, into `target/N`.
pub fn unpack(
    image: &str,
    layer: Option<usize>,
    target: &str,
    keep_whiteouts: bool,
    trace: &mut Trace,
) -> Result<Value, OpError> {
    let opened = open_layout(Path::new(image)).map_err(oci_err)?;
    let indexes: Vec<usize> = match layer {
        Some(n) if n >= 1 && n <= opened.layers.len() => vec![n],
        Some(n) => {
            return Err(OpError::msg(format!(
                "the image has {} layer(s); there is no layer {n}",
                opened.layers.len()
            )))
        }
        None => (1..=opened.layers.len()).collect(),
    };
    let mode = if keep_whiteouts {
        Whiteouts::Keep
    } else {
        Whiteouts::Overlay
    };
    let mut dirs = Vec::new();
    for n in indexes {
        let info = &opened.layers[n - 1];
        let dest = Path::new(target).join(n.to_string());
        let call = format!(
            "unpack(blobs/sha256/{}, {})",
            short(&info.digest)
                .trim_start_matches("sha256:")
                .trim_end_matches('…'),
            quoted(&dest.to_string_lossy())
        );
        let result = unpack_layer(&info.blob, &dest, mode).map_err(oci_err);
        note(
            trace,
            call,
            result.as_ref().map(|r| {
                let mut s = format!(
                    "{} entries ({} added, {} replaced",
                    r.added.len() + r.changed.len() + r.whiteouts.len() + r.opaque_dirs.len(),
                    r.added.len(),
                    r.changed.len()
                );
                if !r.whiteouts.is_empty() {
                    let kind = if keep_whiteouts {
                        "kept as .wh. files"
                    } else {
                        "as 0:0 char devices"
                    };
                    s.push_str(&format!(", whiteouts {} {kind}", r.whiteouts.join(" ")));
                }
                if !r.opaque_dirs.is_empty() {
                    s.push_str(&format!(", opaque {}", r.opaque_dirs.join(" ")));
                }
                if !r.hardlinks.is_empty() {
                    s.push_str(&format!(", {} hard link(s)", r.hardlinks.len()));
                }
                s.push(')');
                s
            }),
        );
        result?;
        dirs.push(dest);
    }
    Ok(Value::Layers(dirs))
}

/// Publishes a layout in the registry directory `root` (`docker push`, to a registry whose
/// storage is a directory a static web server serves).
pub fn registry_push(
    image: &str,
    root: &str,
    repository: &str,
    tag: &str,
    tamper: bool,
    trace: &mut Trace,
) -> Result<Value, OpError> {
    let call = format!(
        "push({}, {}, \"{repository}:{tag}\"{})",
        quoted(image),
        quoted(root),
        if tamper { ", tamper top layer" } else { "" }
    );
    let pushed = registry::push_to_dir(Path::new(image), Path::new(root), repository, tag, tamper)
        .map_err(oci_err);
    note(trace, call, pushed.as_ref().map(|p| p.lines.join("; ")));
    pushed.map(|p| Value::Text(p.lines.join("\n")))
}

/// `docker pull`: one trace line per GET the pull made or skipped, the output `docker pull`
/// prints as the value (what `output: ID` reads).
pub fn image_pull(
    address: &str,
    repository: &str,
    tag: &str,
    store: &str,
    trace: &mut Trace,
) -> Result<Value, OpError> {
    let mut fetch = Recorded {
        inner: HttpFetch::new(address),
        trace,
    };
    let mut lines = vec![];
    let pulled = registry::pull(&mut fetch, repository, tag, Path::new(store), &mut |l| {
        lines.push(l)
    });
    let call = format!("pull(\"{address}/{repository}:{tag}\", {})", quoted(store));
    match pulled {
        Ok(p) => {
            for (digest, fate) in &p.layers {
                if *fate == registry::BlobFate::AlreadyExists {
                    trace.records.push(Record {
                        call: format!("stat(blobs/sha256/{})", short(digest)),
                        result: Outcome::Returned(
                            "in the store: Already exists, not requested".into(),
                        ),
                    });
                }
            }
            note(
                trace,
                call,
                Ok(format!("manifest {}", short(&p.manifest_digest))),
            );
            Ok(Value::Text(lines.join("\n")))
        }
        Err(e) => {
            let errno = match e {
                registry::PullError::Verification { .. } => Some("EBADMSG".to_string()),
                _ => None,
            };
            let err = OpError {
                errno,
                message: e.to_string(),
            };
            note(trace, call, Err(&err));
            Err(err)
        }
    }
}

/// The pull's client, writing each GET into the trace with what came back.
struct Recorded<'t> {
    inner: HttpFetch,
    trace: &'t mut Trace,
}

impl registry::Fetch for Recorded<'_> {
    fn get(&mut self, path: &str, accept: Option<&str>) -> Result<Vec<u8>, String> {
        let got = self.inner.get(path, accept);
        let shown = match path.rsplit_once("/sha256:") {
            Some((head, hex)) => format!("{head}/{}", short(&format!("sha256:{hex}"))),
            None => path.to_string(),
        };
        self.trace.records.push(Record {
            call: format!("GET {shown}"),
            result: match &got {
                Ok(body) => Outcome::Returned(format!("200, {} bytes", body.len())),
                Err(e) => Outcome::Failed {
                    errno: "error".into(),
                    message: e.clone(),
                },
            },
        });
        got
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_shortened_for_the_trace() {
        assert_eq!(short("sha256:0123456789abcdef0123"), "sha256:0123456789ab…");
        assert_eq!(short("sha256:ab"), "sha256:ab");
    }

    #[test]
    fn edited_recipe_differs_only_in_the_copied_file() {
        let a = recipe(ImageRecipe::ExampleApp);
        let b = recipe(ImageRecipe::ExampleAppEdited);
        assert_eq!(a.steps.len(), 3);
        assert_eq!(a.steps[..2], b.steps[..2]);
        assert_ne!(a.steps[2], b.steps[2]);
    }
}
