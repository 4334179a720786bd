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
/// `docker save` format), anything else that is not an OCI layout, a blob that does not match
/// its digest, a layer entry that would write outside its directory, or lessons without an
/// image. Nothing has run yet when this fails.
pub fn check(path: &Path, lessons: &[&Loaded]) -> Result<(), i32> {
    if !lessons.iter().any(|l| uses_image(&l.lesson)) {
        eprintln!(
            "containerlab: --image applies to lessons that build an image (layers); none of the chosen lessons does"
        );
        return Err(exit::USAGE);
    }
    let fail = |why: String| {
        eprintln!("containerlab: --image {}: {why}", path.display());
        Err(exit::USAGE)
    };
    let image = match containerlab_oci::image::open_layout(path) {
        Ok(image) => image,
        Err(e) => return fail(e.to_string()),
    };
    if image.layers.is_empty() {
        return fail("the image has no layers, so there is nothing to stack".into());
    }
    // Every blob the layout names must be what its digest says (a changed or truncated blob).
    match containerlab_oci::image::verify_blobs(&image.dir) {
        Ok(checks) => {
            if let Some(bad) = checks.iter().find(|c| !c.ok) {
                return fail(format!(
                    "the {} blob does not match its digest or size: the layout names {}, the \
                     bytes on disk are {}",
                    bad.role, bad.digest, bad.actual
                ));
            }
        }
        Err(e) => return fail(e.to_string()),
    }
    // A layer that names `../x` would be refused only when its step unpacks it, mid-lesson:
    // every entry of every layer is read now, before the first step.
    for (i, layer) in image.layers.iter().enumerate() {
        if let Err(e) = containerlab_oci::image::scan_layer(&layer.blob) {
            return fail(format!("layer {} ({}): {e}", i + 1, layer.digest));
        }
    }
    Ok(())
}
