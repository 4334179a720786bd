//! A registry, the way `docker push` leaves one and `docker pull` reads it: the OCI distribution
//! API's read side over plain HTTP.
//!
//! The API a pull uses is three GETs, and every path is a plain file:
//!
//! ```text
//! GET /v2/                              200: "this is a registry, API v2"
//! GET /v2/<name>/manifests/<tag>        the manifest (also by its digest)
//! GET /v2/<name>/blobs/<digest>         the config and each layer, by digest
//! ```
//!
//! So [`push_to_dir`] lays out a directory that any static web server (the lab uses busybox
//! httpd) serves as a read-only registry. [`pull`] is the client: the manifest by tag, then
//! each blob by digest, each one hashed and compared with the digest that named it before it
//! enters the store; a blob the store already holds is not fetched again ("Already exists").
//!
//! The store is an image store in the OCI layout's shape: `blobs/sha256/` shared by every image
//! pulled into it, and per image `images/<name>_<tag>/` holding oci-layout, an index.json for
//! that one image and a `blobs` symlink to the shared blobs, so each image opens as a layout.

use super::open::open_layout;
use crate::error::{Error, Result};
use crate::sha;
use oci_spec::image::{DescriptorBuilder, Digest, ImageManifest, MediaType};
use std::fs;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The largest blob a pull accepts (the lab's images are a few MiB).
const MAX_BLOB: u64 = 256 * 1024 * 1024;

/// What [`push_to_dir`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    pub manifest_digest: String,
    /// One line per blob, as `docker push` prints them (`1a2b3c4d5e6f: Pushed`).
    pub lines: Vec<String>,
}

/// How one blob of a pull went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobFate {
    /// Fetched and verified.
    Fetched,
    /// Already in the store: not requested.
    AlreadyExists,
}

/// What [`pull`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pulled {
    pub manifest_digest: String,
    pub config_digest: String,
    /// Each layer's digest and fate, bottom first.
    pub layers: Vec<(String, BlobFate)>,
    /// The image's own layout directory in the store.
    pub image_dir: PathBuf,
}

/// `1a2b3c4d5e6f`: the short id `docker pull` and `docker push` print for a blob.
pub fn short_id(digest: &str) -> String {
    let hex = digest.trim_start_matches("sha256:");
    hex[..hex.len().min(12)].to_string()
}

fn check_repository(name: &str) -> Result<()> {
    // The distribution spec's grammar, reduced to what can never climb out of a directory.
    let ok = !name.is_empty()
        && name.split('/').all(|c| {
            !c.is_empty()
                && c.chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || "._-".contains(ch))
                && c != "."
                && c != ".."
        });
    if ok {
        Ok(())
    } else {
        Err(Error::Unsupported(format!(
            "repository name {name:?} (lowercase letters, digits, `._-`, components joined by `/`)"
        )))
    }
}

fn check_tag(tag: &str) -> Result<()> {
    let ok = !tag.is_empty()
        && tag.len() <= 128
        && !tag.starts_with(['.', '-'])
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(Error::Unsupported(format!("tag {tag:?}")))
    }
}

/// Where an image pulled as `repository:tag` lives in the store (`lab/app`, `small` →
/// `images/lab-app_small`).
pub fn image_dir(store: &Path, repository: &str, tag: &str) -> PathBuf {
    store
        .join("images")
        .join(format!("{}_{tag}", repository.replace('/', "-")))
}

fn copy(from: &Path, to: &Path) -> Result<()> {
    fs::copy(from, to).map(|_| ()).map_err(Error::io(format!(
        "copy {} to {}",
        from.display(),
        to.display()
    )))
}

/// Publishes the image in the layout `layout` as `repository:tag` under `root`, the way a
/// registry stores it for the three GETs above. With `tamper_top_layer`, the top layer's bytes
/// are changed after the manifest named them (one bit of its last byte flipped): a blob that no
/// longer matches its digest, for a pull to refuse.
pub fn push_to_dir(
    layout: &Path,
    root: &Path,
    repository: &str,
    tag: &str,
    tamper_top_layer: bool,
) -> Result<Pushed> {
    check_repository(repository)?;
    check_tag(tag)?;
    let image = open_layout(layout)?;
    let v2 = root.join("v2");
    let repo = v2.join(repository);
    let manifests = repo.join("manifests");
    let blobs = repo.join("blobs");
    for d in [&manifests, &blobs] {
        fs::create_dir_all(d).map_err(Error::io(format!("mkdir {}", d.display())))?;
    }
    // `GET /v2/` answers 200 with an empty JSON object, as the spec's version check wants;
    // busybox httpd serves a directory's index.html.
    let index_html = v2.join("index.html");
    fs::write(&index_html, "{}\n").map_err(Error::io(format!("write {}", index_html.display())))?;

    let mut lines = vec![];
    let mut blob_names = vec![];
    for l in &image.layers {
        blob_names.push((l.digest.clone(), l.blob.clone()));
    }
    let config = image.manifest.config().digest().to_string();
    blob_names.push((
        config.clone(),
        image
            .dir
            .join("blobs/sha256")
            .join(config.trim_start_matches("sha256:")),
    ));
    for (digest, from) in &blob_names {
        let to = blobs.join(digest);
        if to.exists() {
            lines.push(format!("{}: Layer already exists", short_id(digest)));
            continue;
        }
        copy(from, &to)?;
        lines.push(format!("{}: Pushed", short_id(digest)));
    }
    if tamper_top_layer {
        if let Some(top) = image.layers.last() {
            let path = blobs.join(&top.digest);
            let mut bytes =
                fs::read(&path).map_err(Error::io(format!("read {}", path.display())))?;
            if let Some(b) = bytes.last_mut() {
                *b ^= 1;
            }
            fs::write(&path, bytes).map_err(Error::io(format!("write {}", path.display())))?;
            lines.push(format!(
                "{}: changed after the push (one bit)",
                short_id(&top.digest)
            ));
        }
    }
    let manifest_blob = image
        .dir
        .join("blobs/sha256")
        .join(image.manifest_digest.trim_start_matches("sha256:"));
    copy(&manifest_blob, &manifests.join(tag))?;
    copy(&manifest_blob, &manifests.join(&image.manifest_digest))?;
    let size = fs::metadata(&manifest_blob)
        .map_err(Error::io(format!("stat {}", manifest_blob.display())))?
        .len();
    lines.push(format!(
        "{tag}: digest: {} size: {size}",
        image.manifest_digest
    ));
    Ok(Pushed {
        manifest_digest: image.manifest_digest.clone(),
        lines,
    })
}

/// An HTTP GET: the body, or why not. The lab's client is ureq; tests may answer from memory.
pub trait Fetch {
    fn get(&mut self, path: &str, accept: Option<&str>) -> std::result::Result<Vec<u8>, String>;
}

/// ureq against `http://ADDRESS`: no proxy (an `http_proxy` in the environment must not send a
/// lesson's requests anywhere else), a bounded time, every non-200 an error.
pub struct HttpFetch {
    base: String,
    agent: ureq::Agent,
}

impl HttpFetch {
    pub fn new(address: &str) -> HttpFetch {
        let config = ureq::Agent::config_builder()
            .proxy(None)
            .http_status_as_error(true)
            .timeout_global(Some(std::time::Duration::from_secs(20)))
            .build();
        HttpFetch {
            base: format!("http://{address}"),
            agent: ureq::Agent::new_with_config(config),
        }
    }
}

impl Fetch for HttpFetch {
    fn get(&mut self, path: &str, accept: Option<&str>) -> std::result::Result<Vec<u8>, String> {
        let url = format!("{}{path}", self.base);
        let mut req = self.agent.get(&url);
        if let Some(a) = accept {
            req = req.header("Accept", a);
        }
        let mut resp = req.call().map_err(|e| format!("GET {url}: {e}"))?;
        resp.body_mut()
            .with_config()
            .limit(MAX_BLOB)
            .read_to_vec()
            .map_err(|e| format!("GET {url}: {e}"))
    }
}

/// Why a pull stopped.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error("{0}")]
    Fetch(String),
    /// The bytes a registry sent do not hash to the digest that named them.
    #[error("filesystem layer verification failed for digest {digest}: the {size} bytes received hash to {actual}; nothing of it was stored")]
    Verification {
        digest: String,
        actual: String,
        size: u64,
    },
    #[error(transparent)]
    Oci(#[from] Error),
}

fn blob_file(store: &Path, digest: &str) -> PathBuf {
    store
        .join("blobs/sha256")
        .join(digest.trim_start_matches("sha256:"))
}

/// Pulls `repository:tag` through `fetch` into the image store `store`: `GET /v2/`, the
/// manifest, then the config and each layer by digest (those the store lacks), each verified
/// (sha256 and size) before it is written. `log` gets each line `docker pull` would print, as
/// it happens.
pub fn pull(
    fetch: &mut dyn Fetch,
    repository: &str,
    tag: &str,
    store: &Path,
    log: &mut dyn FnMut(String),
) -> std::result::Result<Pulled, PullError> {
    check_repository(repository)?;
    check_tag(tag)?;
    let blobs = store.join("blobs/sha256");
    fs::create_dir_all(&blobs).map_err(Error::io(format!("mkdir {}", blobs.display())))?;
    fetch.get("/v2/", None).map_err(PullError::Fetch)?;
    log(format!("{tag}: Pulling from {repository}"));
    let manifest_bytes = fetch
        .get(
            &format!("/v2/{repository}/manifests/{tag}"),
            Some("application/vnd.oci.image.manifest.v1+json"),
        )
        .map_err(PullError::Fetch)?;
    let manifest = ImageManifest::from_reader(manifest_bytes.as_slice())
        .map_err(Error::spec("parse the manifest the registry sent"))?;
    let manifest_digest = sha::digest_of(&manifest_bytes);

    let mut wanted = vec![(
        manifest.config().digest().to_string(),
        manifest.config().size(),
        false,
    )];
    for l in manifest.layers() {
        wanted.push((l.digest().to_string(), l.size(), true));
    }
    let mut layers = vec![];
    for (digest, size, is_layer) in wanted {
        Digest::from_str(&digest).map_err(Error::spec("digest in the manifest"))?;
        if !digest.starts_with("sha256:") {
            return Err(Error::Unsupported(format!("digest {digest} (only sha256)")).into());
        }
        let file = blob_file(store, &digest);
        let fate = if file.is_file() {
            BlobFate::AlreadyExists
        } else {
            let bytes = fetch
                .get(&format!("/v2/{repository}/blobs/{digest}"), None)
                .map_err(PullError::Fetch)?;
            let actual = sha::digest_of(&bytes);
            if actual != digest || bytes.len() as u64 != size {
                return Err(PullError::Verification {
                    digest,
                    actual,
                    size: bytes.len() as u64,
                });
            }
            // Written under a temporary name and renamed: a blob in the store is always whole.
            let partial = file.with_extension("partial");
            fs::write(&partial, &bytes)
                .map_err(Error::io(format!("write {}", partial.display())))?;
            fs::rename(&partial, &file)
                .map_err(Error::io(format!("rename {}", partial.display())))?;
            BlobFate::Fetched
        };
        if is_layer {
            log(format!(
                "{}: {}",
                short_id(&digest),
                match fate {
                    BlobFate::Fetched => "Pull complete",
                    BlobFate::AlreadyExists => "Already exists",
                }
            ));
            layers.push((digest, fate));
        }
    }
    fs::write(blob_file(store, &manifest_digest), &manifest_bytes)
        .map_err(Error::io("write the manifest blob"))?;

    let dir = image_dir(store, repository, tag);
    fs::create_dir_all(&dir).map_err(Error::io(format!("mkdir {}", dir.display())))?;
    let link = dir.join("blobs");
    if fs::symlink_metadata(&link).is_err() {
        std::os::unix::fs::symlink("../../blobs", &link)
            .map_err(Error::io(format!("symlink {}", link.display())))?;
    }
    let desc = DescriptorBuilder::default()
        .media_type(MediaType::ImageManifest)
        .digest(Digest::from_str(&manifest_digest).map_err(Error::spec("digest"))?)
        .size(manifest_bytes.len() as u64)
        .build()
        .map_err(Error::spec("descriptor"))?;
    super::build::write_index_and_layout(&dir, desc, &format!("{repository}:{tag}"))?;
    log(format!("Digest: {manifest_digest}"));
    log(format!(
        "Status: Downloaded newer image for {repository}:{tag}"
    ));
    Ok(Pulled {
        manifest_digest,
        config_digest: manifest.config().digest().to_string(),
        layers,
        image_dir: dir,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::{build_layout, Change, Recipe, Step};

    /// A registry answered from the directory `push_to_dir` wrote, recording each path asked.
    struct DirFetch {
        root: PathBuf,
        asked: Vec<String>,
    }

    impl Fetch for DirFetch {
        fn get(&mut self, path: &str, _: Option<&str>) -> std::result::Result<Vec<u8>, String> {
            self.asked.push(path.to_string());
            let mut p = self.root.join(path.trim_start_matches('/'));
            if p.is_dir() {
                p = p.join("index.html");
            }
            fs::read(&p).map_err(|e| format!("404 {path}: {e}"))
        }
    }

    fn recipe(reference: &str, top: &str) -> Recipe {
        let file = |path: &str, content: &str| Change::AddFile {
            path: path.into(),
            content: content.as_bytes().to_vec(),
            mode: 0o644,
        };
        Recipe {
            reference: reference.into(),
            steps: vec![
                Step {
                    created_by: "base".into(),
                    changes: vec![file("/etc/base", "base\n")],
                },
                Step {
                    created_by: "top".into(),
                    changes: vec![file("/top", top)],
                },
            ],
            labels: vec![("a".into(), "1".into()), ("b".into(), "2".into())],
        }
    }

    #[test]
    fn a_second_pull_skips_the_shared_layer_and_a_tampered_blob_is_refused() {
        let t = tempfile::tempdir().unwrap();
        let (one, two, bad) = (
            t.path().join("one"),
            t.path().join("two"),
            t.path().join("bad"),
        );
        build_layout(&one, t.path(), &recipe("x:one", "one\n")).unwrap();
        build_layout(&two, t.path(), &recipe("x:two", "two\n")).unwrap();
        build_layout(&bad, t.path(), &recipe("x:bad", "bad\n")).unwrap();
        let root = t.path().join("registry");
        push_to_dir(&one, &root, "lab/app", "one", false).unwrap();
        let pushed = push_to_dir(&two, &root, "lab/app", "two", false).unwrap();
        assert!(
            pushed.lines[0].ends_with("Layer already exists"),
            "{pushed:?}"
        );
        push_to_dir(&bad, &root, "lab/bad", "latest", true).unwrap();

        let store = t.path().join("store");
        let mut f = DirFetch {
            root: root.clone(),
            asked: vec![],
        };
        let mut lines = vec![];
        let first = pull(&mut f, "lab/app", "one", &store, &mut |l| lines.push(l)).unwrap();
        assert!(first
            .layers
            .iter()
            .all(|(_, fate)| *fate == BlobFate::Fetched));
        assert_eq!(f.asked[0], "/v2/");
        let opened = open_layout(&first.image_dir).unwrap();
        assert_eq!(opened.manifest_digest, first.manifest_digest);
        assert_eq!(
            crate::image::verify_blobs(&first.image_dir).unwrap().len(),
            4
        );

        f.asked.clear();
        let second = pull(&mut f, "lab/app", "two", &store, &mut |l| lines.push(l)).unwrap();
        assert_eq!(second.layers[0].1, BlobFate::AlreadyExists);
        assert_eq!(second.layers[1].1, BlobFate::Fetched);
        let base = &second.layers[0].0;
        assert!(
            !f.asked.iter().any(|p| p.contains(base.as_str())),
            "{:?}",
            f.asked
        );
        assert!(
            lines.iter().any(|l| l.ends_with("Already exists")),
            "{lines:?}"
        );

        let err = pull(&mut f, "lab/bad", "latest", &store, &mut |_| {}).unwrap_err();
        let PullError::Verification { digest, .. } = &err else {
            panic!("{err}");
        };
        assert!(!blob_file(&store, digest).exists());
        assert!(!image_dir(&store, "lab/bad", "latest").exists());
    }

    #[test]
    fn names_that_could_climb_out_are_refused() {
        let t = tempfile::tempdir().unwrap();
        for (repo, tag) in [
            ("../x", "t"),
            ("a//b", "t"),
            ("A", "t"),
            ("a", "../t"),
            ("a", ""),
        ] {
            assert!(
                push_to_dir(t.path(), t.path(), repo, tag, false).is_err(),
                "{repo}:{tag}"
            );
        }
    }

    #[test]
    fn labels_make_the_same_config_bytes_every_time() {
        let t = tempfile::tempdir().unwrap();
        let a = build_layout(&t.path().join("a"), t.path(), &recipe("x:a", "same\n")).unwrap();
        let b = build_layout(&t.path().join("b"), t.path(), &recipe("x:a", "same\n")).unwrap();
        assert_eq!(a.config_digest, b.config_digest);
    }
}
