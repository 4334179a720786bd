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
        }
    }
}
