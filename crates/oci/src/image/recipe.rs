//! A build recipe: what a Dockerfile says, as data.
//!
//! Each Dockerfile line that changes files becomes one layer. Here that is one [`Step`]: the line
//! as it would appear in `docker history` (`created_by`) and the file changes it makes.

use std::path::PathBuf;

/// One file-system change a step makes. Paths are absolute inside the image (`/etc/motd`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Everything in the base rootfs given to [`super::build_layout`] (the `FROM` layer).
    AddBaseRootfs,
    /// Every file under host directory `from`, placed at `to` in the image.
    AddTree { from: PathBuf, to: String },
    /// One regular file.
    AddFile {
        path: String,
        content: Vec<u8>,
        mode: u32,
    },
    /// One directory with this mode (parents get 0755). `mkdir -p` on an existing directory
    /// still puts it in the layer, with the mode it already had (1777 for `/tmp`).
    AddDir { path: String, mode: u32 },
    /// Deletes a file a lower layer has: recorded as the whiteout `.wh.NAME` next to it.
    Delete { path: String },
    /// Hides everything lower layers had in `dir`: recorded as `dir/.wh..wh..opq`.
    Opaque { dir: String },
    /// A second name for a file this same step adds (a tar hard link entry).
    Hardlink { path: String, target: String },
}

/// One Dockerfile line and what it changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub created_by: String,
    pub changes: Vec<Change>,
}

/// An image to build: its name and the ordered steps, one layer each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipe {
    /// Stored as the `org.opencontainers.image.ref.name` annotation in index.json.
    pub reference: String,
    pub steps: Vec<Step>,
    /// The Dockerfile's `LABEL key=value` lines: the config's `config.Labels`.
    pub labels: Vec<(String, String)>,
}

impl Recipe {
    /// The image from the article's chapter 2, whose Dockerfile is:
    ///
    /// ```dockerfile
    /// FROM containerlab-busybox
    /// RUN mkdir -p /tmp /var/lib/apt/lists
    /// RUN rm /etc/issue && echo lab-app > /etc/hostname && echo 'hello from layer 3' > /etc/motd
    /// COPY myapp/hoge.txt /myapp/hoge.txt
    /// ```
    pub fn article_example() -> Recipe {
        let file = |path: &str, content: &str| Change::AddFile {
            path: path.into(),
            content: content.as_bytes().to_vec(),
            mode: 0o644,
        };
        Recipe {
            reference: "containerlab/article:latest".into(),
            steps: vec![
                Step {
                    created_by: "FROM containerlab-busybox (ADD rootfs /)".into(),
                    changes: vec![Change::AddBaseRootfs],
                },
                Step {
                    created_by: "/bin/sh -c mkdir -p /tmp /var/lib/apt/lists".into(),
                    changes: vec![
                        Change::AddDir {
                            path: "/tmp".into(),
                            mode: 0o1777,
                        },
                        Change::AddDir {
                            path: "/var/lib/apt/lists".into(),
                            mode: 0o755,
                        },
                    ],
                },
                Step {
                    created_by: "/bin/sh -c rm /etc/issue && echo lab-app > /etc/hostname && echo 'hello from layer 3' > /etc/motd".into(),
                    changes: vec![
                        Change::Delete {
                            path: "/etc/issue".into(),
                        },
                        file("/etc/hostname", "lab-app\n"),
                        file("/etc/motd", "hello from layer 3\n"),
                    ],
                },
                Step {
                    created_by: "COPY myapp/hoge.txt /myapp/hoge.txt".into(),
                    changes: vec![file("/myapp/hoge.txt", "hoge\n")],
                },
            ],
            labels: vec![],
        }
    }
}

/// The app of the registry lesson: one script, copied on top of whatever base it is built on.
/// The same bytes make the same layer, so both bases share its digest.
fn app_step() -> Step {
    Step {
        created_by: "COPY app/hello.sh /app/hello.sh".into(),
        changes: vec![Change::AddFile {
            path: "/app/hello.sh".into(),
            content: b"#!/bin/sh\necho hello from the app\n".to_vec(),
            mode: 0o755,
        }],
    }
}

fn base_step() -> Step {
    Step {
        created_by: "FROM containerlab-busybox (ADD rootfs /)".into(),
        changes: vec![Change::AddBaseRootfs],
    }
}

fn app_labels(base: &str) -> Vec<(String, String)> {
    vec![
        ("org.opencontainers.image.title".into(), "lab-app".into()),
        ("org.opencontainers.image.base.name".into(), base.into()),
    ]
}

/// The packages a distribution base brings, by name: what the larger base stands in for.
pub const STANDIN_PACKAGES: [&str; 4] = ["curl", "perl-base", "python3-minimal", "libssl3"];

/// Bytes standing in for a package's code: deterministic (a sha256 counter stream, so every
/// build makes the same layer) and incompressible (so gzip does not hide the size).
fn standin_bytes(name: &str, len: usize) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut out = Vec::with_capacity(len + 32);
    let mut counter = 0u64;
    while out.len() < len {
        let mut h = Sha256::new();
        h.update(name.as_bytes());
        h.update(counter.to_le_bytes());
        out.extend_from_slice(&h.finalize());
        counter += 1;
    }
    out.truncate(len);
    out
}

impl Recipe {
    /// The registry lesson's small image: the app on the busybox base.
    ///
    /// ```dockerfile
    /// FROM containerlab-busybox
    /// LABEL org.opencontainers.image.title=lab-app org.opencontainers.image.base.name=containerlab-busybox
    /// COPY app/hello.sh /app/hello.sh
    /// ```
    pub fn app_small() -> Recipe {
        Recipe {
            reference: "lab/app:small".into(),
            steps: vec![base_step(), app_step()],
            labels: app_labels("containerlab-busybox"),
        }
    }

    /// The same app on a larger base: busybox plus a layer of stand-ins for a distribution's
    /// packages (a dpkg status file naming them, their docs, 2 MiB of "code" each, and a
    /// `/usr/bin/curl` that only says it is a stand-in).
    pub fn app_large() -> Recipe {
        let mut changes = vec![];
        let mut status = String::new();
        for name in STANDIN_PACKAGES {
            status.push_str(&format!(
                "Package: {name}\nStatus: install ok installed\nDescription: stand-in the lab made\n\n"
            ));
            changes.push(Change::AddFile {
                path: format!("/usr/share/doc/{name}/copyright"),
                content: format!("{name}: a stand-in package the lab made\n").into_bytes(),
                mode: 0o644,
            });
            changes.push(Change::AddFile {
                path: format!("/usr/lib/standin/{name}.so"),
                content: standin_bytes(name, 2 * 1024 * 1024),
                mode: 0o644,
            });
        }
        changes.push(Change::AddFile {
            path: "/var/lib/dpkg/status".into(),
            content: status.into_bytes(),
            mode: 0o644,
        });
        changes.push(Change::AddFile {
            path: "/usr/bin/curl".into(),
            content: b"#!/bin/sh\necho 'curl: a stand-in the lab made for the curl package'\n"
                .to_vec(),
            mode: 0o755,
        });
        Recipe {
            reference: "lab/app:large".into(),
            steps: vec![
                base_step(),
                Step {
                    created_by: format!(
                        "/bin/sh -c apt-get install -y {}",
                        STANDIN_PACKAGES.join(" ")
                    ),
                    changes,
                },
                app_step(),
            ],
            labels: app_labels("containerlab-busybox-with-packages"),
        }
    }
}
