//! Lesson actions as engine operations: the one place that maps the lesson format's words to the
//! engine's, with every placeholder filled by the session's one resolver.

use super::engine_types;
use super::placeholders::{Facts, Unresolved};
use crate::engine::ops::Op;
use crate::lesson::schema::Action;
use std::path::Path;

/// The engine operation for an action, every placeholder filled from `facts` (which also know the
/// cgroups this lesson made with `cgroup_create`, by short name); `image` is the learner's own
/// layout (`--image`), which the example recipe copies instead of building.
pub fn to_op(action: &Action, facts: &Facts, image: Option<&Path>) -> Result<Op, Unresolved> {
    let x = |s: &str| facts.resolve(s);
    let pid = |name: &str| {
        facts
            .pids
            .get(name)
            .copied()
            .ok_or_else(|| Unresolved::NoProcess(name.to_string()))
    };
    Ok(match action {
        Action::Unshare(a) => Op::Unshare {
            namespaces: engine_types::namespaces(&a.namespaces),
        },
        Action::Join(a) => Op::Join {
            pid: pid(&a.target)?,
            namespaces: engine_types::namespaces(&a.namespaces),
        },
        Action::Sethostname(a) => Op::SetHostname { name: x(&a.name)? },
        Action::Propagation(a) => Op::SetPropagation {
            path: x(&a.path)?,
            propagation: engine_types::propagation(a.propagation),
            recursive: a.recursive,
        },
        Action::Mount(a) => Op::Mount {
            source: x(&a.source)?,
            target: x(&a.target)?,
            fstype: a.fstype.clone(),
            flags: engine_types::mount_flags(&a.flags),
            data: a.data.as_deref().map(x).transpose()?,
        },
        Action::Umount(a) => Op::Umount {
            target: x(&a.target)?,
            detach: a.lazy,
        },
        Action::Mkdir(a) => Op::Mkdir { path: x(&a.path)? },
        Action::WriteFile(a) => Op::WriteFile {
            path: x(&a.path)?,
            content: x(&a.content)?,
        },
        Action::Spawn(a) => Op::Spawn {
            name: a.name.clone(),
            namespaces: engine_types::namespaces(&a.namespaces),
        },
        Action::Exit(a) => Op::Exit { code: a.code },
        Action::Unpublish(a) => Op::Unpublish {
            name: a.name.clone(),
        },
        Action::Publish(a) => Op::Publish {
            name: a.name.clone(),
            listen: x(&a.listen)?,
            to: x(&a.to)?,
        },
        Action::Run(a) => Op::Run {
            argv: a.argv.iter().map(|s| x(s)).collect::<Result<_, _>>()?,
            env: a
                .env
                .iter()
                .map(|v| Ok((v.name.clone(), x(&v.value)?)))
                .collect::<Result<_, Unresolved>>()?,
            clear_env: a.clear_env,
            cgroup: a.cgroup.clone(),
            timeout_secs: a
                .timeout_secs
                .unwrap_or(crate::lesson::schema::DEFAULT_RUN_TIMEOUT_SECS),
        },
        Action::CgroupCreate(a) => Op::CgroupCreate {
            name: a.name.clone(),
        },
        Action::CgroupLimit(a) => Op::CgroupLimit {
            name: a.name.clone(),
            memory_max: a.memory_max_mib.map(|m| m << 20),
            swap_off: a.swap_off,
            pids_max: a.pids_max,
            cpu_max: a
                .cpu_quota_usec
                .map(|quota| (quota, a.cpu_period_usec.unwrap_or(DEFAULT_CPU_PERIOD_USEC))),
        },
        Action::Chroot(a) => Op::Chroot { path: x(&a.path)? },
        Action::Chdir(a) => Op::Chdir { path: x(&a.path)? },
        Action::PivotRoot(a) => Op::PivotRoot {
            new_root: x(&a.new_root)?,
            put_old: x(&a.put_old)?,
        },
        Action::Rootfs(a) => Op::Rootfs { dest: x(&a.path)? },
        Action::Setuid(a) => Op::SetIds {
            uid: a.uid,
            gid: a.gid,
        },
        Action::LinkUp(a) => Op::SetLinkUp {
            dev: a.name.clone(),
        },
        Action::Chown(a) => Op::Chown {
            path: x(&a.path)?,
            uid: a.uid,
            gid: a.gid,
        },
        // `check` rejects a mode that is not octal; 0 would be the harmless answer anyway.
        Action::Chmod(a) => Op::Chmod {
            path: x(&a.path)?,
            mode: u32::from_str_radix(&a.mode, 8).unwrap_or(0),
        },
        Action::CopyFile(a) => Op::CopyFile {
            from: x(&a.from)?,
            to: x(&a.to)?,
        },
        Action::SetFileCaps(a) => Op::SetFileCaps {
            path: x(&a.path)?,
            caps: a.caps.clone(),
            effective: a.effective,
        },
        Action::BsetDrop(a) => Op::BsetDrop {
            caps: a.caps.clone(),
        },
        Action::CapProfile(a) => Op::CapProfile { caps: a.all_caps() },
        Action::NoNewPrivs(_) => Op::NoNewPrivs,
        Action::Seccomp(_) => Op::Seccomp,
        Action::MountDeviceReadonly(a) => Op::MountDeviceReadonly {
            source: x(&a.source)?,
            target: x(&a.target)?,
            fstype: x(&a.fstype)?,
        },
        Action::ImageBuild(a) => Op::ImageBuild {
            dir: x(&a.dir)?,
            recipe: engine_types::image_recipe(a.recipe),
            from: match a.recipe {
                crate::lesson::schema::ImageRecipe::Example => {
                    image.map(|p| p.to_string_lossy().into_owned())
                }
                _ => None,
            },
        },
        Action::LayerUnpack(a) => Op::LayerUnpack {
            image: x(&a.image)?,
            layer: a.layer,
            target: x(&a.target)?,
            keep_whiteouts: a.keep_whiteouts,
        },
        Action::VerifyBlobs(a) => Op::VerifyBlobs { dir: x(&a.dir)? },
        Action::RegistryPush(a) => Op::RegistryPush {
            image: x(&a.image)?,
            root: x(&a.root)?,
            repository: x(&a.repository)?,
            tag: x(&a.tag)?,
            tamper: a.tamper,
        },
        Action::RunLogged(a) => Op::RunLogged {
            argv: a.argv.iter().map(|s| x(s)).collect::<Result<_, _>>()?,
            dir: x(&a.dir)?,
            timeout_secs: a
                .timeout_secs
                .unwrap_or(crate::lesson::schema::DEFAULT_RUN_TIMEOUT_SECS),
        },
        Action::RemoveDir(a) => Op::RemoveDir { path: x(&a.path)? },
        Action::ImagePull(a) => Op::ImagePull {
            registry: x(&a.registry)?,
            repository: x(&a.repository)?,
            tag: x(&a.tag)?,
            store: x(&a.store)?,
        },
        Action::CreateFile(a) => Op::CreateFile {
            path: x(&a.path)?,
            content: x(&a.content)?,
        },
        Action::Unlink(a) => Op::Unlink { path: x(&a.path)? },
        Action::CreateVeth(a) => Op::CreateVeth {
            host: x(&a.host)?,
            peer: x(&a.peer)?,
        },
        Action::MoveLink(a) => Op::MoveLink {
            name: x(&a.dev)?,
            pid: pid(&a.to)?,
        },
        Action::AddAddress(a) => Op::AddAddress {
            dev: x(&a.dev)?,
            cidr: x(&a.address)?,
        },
        Action::SetLinkUp(a) => Op::SetLinkUp { dev: x(&a.dev)? },
        Action::CreateBridge(a) => Op::CreateBridge { name: x(&a.name)? },
        Action::SetMaster(a) => Op::SetMaster {
            dev: x(&a.dev)?,
            master: x(&a.master)?,
        },
        // nft's own syntax is made of braces: no `{placeholder}` is filled in a ruleset (the
        // loader's `{var:NAME}` already is).
        Action::Nft(a) => Op::Nft {
            ruleset: a.ruleset.clone(),
        },
        Action::DefaultRoute(a) => Op::AddDefaultRoute { via: x(&a.via)? },
        Action::SwitchUser(a) => Op::SetIds {
            uid: a.uid,
            gid: a.gid,
        },
        Action::ReadFile(a) => Op::Open { path: x(&a.path)? },
        Action::ShmCreate(a) => Op::ShmCreate {
            key: ipc_key(&x(&a.key)?),
            size: a.size,
        },
        Action::ShmWrite(a) => Op::ShmWrite {
            key: ipc_key(&x(&a.key)?),
            text: x(&a.text)?,
        },
        Action::MqOpen(a) => Op::MqOpen {
            name: x(&a.name)?,
            create: a.create,
        },
        Action::LabCgroupCreate(a) => Op::LabCgroupCreate { name: x(&a.name)? },
        Action::CgroupAdd(a) => Op::CgroupAdd {
            // A cgroup this lesson made with `cgroup_create` is found by its short name.
            name: match (facts.cgroups.contains(&a.name), &facts.work) {
                (true, Some(work)) => crate::engine::cgroups::full_name(
                    &crate::engine::cgroups::session_of(work),
                    &a.name,
                ),
                _ => x(&a.name)?,
            },
            pid: pid(&a.member)?,
        },
        Action::MountCgroup(a) => Op::MountCgroup {
            target: x(&a.target)?,
        },
        Action::Bind(a) => Op::Bind {
            address: x(&a.address)?,
        },
    })
}

/// The period a CPU quota is counted over when the lesson names none: the kernel's default
/// (`cpu.cfs_period_us` and v2 `cpu.max` both start at 100000 µs).
const DEFAULT_CPU_PERIOD_USEC: u64 = 100_000;

/// An IPC key written in a lesson (decimal, or `0x` hex); -1 when it is not a number, which
/// shmget then reports as an ordinary key of its own.
fn ipc_key(text: &str) -> i32 {
    let t = text.trim();
    match t.strip_prefix("0x") {
        Some(hex) => u32::from_str_radix(hex, 16).map(|v| v as i32).unwrap_or(-1),
        None => t.parse().unwrap_or(-1),
    }
}
