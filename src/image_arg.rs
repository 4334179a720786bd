//! `--image PATH`: the learner's own OCI image for the image lessons, checked before anything
//! runs, so a wrong file is a usage error (exit 2) with the reason, not a failed step later.

use crate::exit;
use crate::lesson::load::Loaded;
use crate::lesson::schema::{Action, Lesson};
use std::path::Path;

/// Whether a lesson builds the example image, which `--image` replaces.
pub fn uses_image(lesson: &Lesson) -> bool {
    lesson.steps.iter().flat_map(|s| &s.actions).any(|a| {
        matches!(a, Action::ImageBuild(b) if b.recipe == crate::lesson::schema::ImageRecipe::Example)
    })
}

/// Opens the layout once (a `.tar` is unpacked into a temporary directory and removed again)
/// and returns the exit code to stop with when it is not usable: a Docker archive (the old
/// `docker save` format), anything else that is not an OCI layout, or lessons without an image.
pub fn check(path: &Path, lessons: &[&Loaded]) -> Result<(), i32> {
    if !lessons.iter().any(|l| uses_image(&l.lesson)) {
        eprintln!(
            "containerlab: --image applies to lessons that build an image (layers); none of the chosen lessons does"
        );
        return Err(exit::USAGE);
    }
    match containerlab_oci::image::open_layout(path) {
        Ok(image) if image.layers.is_empty() => {
            eprintln!(
                "containerlab: --image {}: the image has no layers, so there is nothing to stack",
                path.display()
            );
            Err(exit::USAGE)
        }
        Ok(_) => Ok(()),
        Err(e) => {
            eprintln!("containerlab: --image {}: {e}", path.display());
            Err(exit::USAGE)
        }
    }
}
