//! The lesson format names namespaces, mount propagation, mount flags and image recipes with
//! types of its own, so it depends on no engine; the session turns them into the engine's here,
//! in one place. Plain functions rather than `From` impls: once the lesson layer is its own crate
//! the orphan rule forbids impls between its types and the engine's from this crate.

use crate::engine::namespaces::Namespace;
use crate::engine::ops::{ImageRecipe, MountFlag, Propagation};
use crate::lesson::schema as lesson;

pub fn namespace(ns: lesson::NsName) -> Namespace {
    match ns {
        lesson::NsName::Cgroup => Namespace::Cgroup,
        lesson::NsName::Ipc => Namespace::Ipc,
        lesson::NsName::Mnt => Namespace::Mnt,
        lesson::NsName::Net => Namespace::Net,
        lesson::NsName::Pid => Namespace::Pid,
        lesson::NsName::Time => Namespace::Time,
        lesson::NsName::User => Namespace::User,
        lesson::NsName::Uts => Namespace::Uts,
    }
}

pub fn namespaces(list: &[lesson::NsName]) -> Vec<Namespace> {
    list.iter().copied().map(namespace).collect()
}

pub fn propagation(p: lesson::Propagation) -> Propagation {
    match p {
        lesson::Propagation::Private => Propagation::Private,
        lesson::Propagation::Shared => Propagation::Shared,
        lesson::Propagation::Slave => Propagation::Slave,
        lesson::Propagation::Unbindable => Propagation::Unbindable,
    }
}

pub fn mount_flag(flag: lesson::MountFlag) -> MountFlag {
    match flag {
        lesson::MountFlag::Bind => MountFlag::Bind,
        lesson::MountFlag::Rec => MountFlag::Rec,
        lesson::MountFlag::Rdonly => MountFlag::Rdonly,
        lesson::MountFlag::Nosuid => MountFlag::Nosuid,
        lesson::MountFlag::Nodev => MountFlag::Nodev,
        lesson::MountFlag::Noexec => MountFlag::Noexec,
        lesson::MountFlag::Remount => MountFlag::Remount,
    }
}

pub fn mount_flags(flags: &[lesson::MountFlag]) -> Vec<MountFlag> {
    flags.iter().copied().map(mount_flag).collect()
}

pub fn image_recipe(recipe: lesson::ImageRecipe) -> ImageRecipe {
    match recipe {
        lesson::ImageRecipe::Example => ImageRecipe::Example,
        lesson::ImageRecipe::ExampleApp => ImageRecipe::ExampleApp,
        lesson::ImageRecipe::ExampleAppEdited => ImageRecipe::ExampleAppEdited,
        lesson::ImageRecipe::AppSmall => ImageRecipe::AppSmall,
        lesson::ImageRecipe::AppLarge => ImageRecipe::AppLarge,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The engine's serde name of a value (its ops travel as JSON with these names).
    fn engine_name<T: serde::Serialize>(v: T) -> String {
        serde_json::to_value(v)
            .unwrap()
            .as_str()
            .unwrap()
            .to_string()
    }

    /// A mapping that swapped two variants would compile; the names the two sides give each
    /// value would then differ.
    #[test]
    fn each_lesson_name_maps_to_the_engine_value_of_the_same_name() {
        for &ns in lesson::NsName::ALL {
            assert_eq!(namespace(ns).proc_name(), ns.as_str());
            assert_eq!(engine_name(namespace(ns)), ns.as_str());
        }
        for &p in lesson::Propagation::ALL {
            assert_eq!(engine_name(propagation(p)), p.as_str());
        }
        for &f in lesson::MountFlag::ALL {
            assert_eq!(engine_name(mount_flag(f)), f.as_str());
        }
        for &r in lesson::ImageRecipe::ALL {
            assert_eq!(engine_name(image_recipe(r)), r.as_str());
        }
        assert_eq!(lesson::NsName::ALL.len(), Namespace::ALL.len());
    }

    /// The names a lesson may observe are closed sets in the lesson format; the session's readers
    /// take them as text. Both sides must list the same names.
    #[test]
    fn observable_names_are_the_ones_the_readers_know() {
        fn names<T: ToString>(all: &[T]) -> Vec<String> {
            all.iter().map(T::to_string).collect()
        }
        let ns_links = crate::inspect::process::NS_LINKS;
        assert_eq!(names(lesson::NsLink::ALL), names(&ns_links));
        let cgroup_values = crate::engine::cgroups::VALUES;
        assert_eq!(names(lesson::CgroupValueName::ALL), names(cgroup_values));
        let image_fields = crate::session::image_facts::FIELDS;
        assert_eq!(names(lesson::ImageField::ALL), names(image_fields));
    }
}
