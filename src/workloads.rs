//! The hidden `__alloc`, `__forkbomb` and `__newkeyring` subcommands: workloads a lesson runs
//! inside a lab cgroup to meet its limits (see `containerlab_cgroup::allocate_and_touch` and
//! `fork_bomb`), and one syscall a seccomp filter refuses (keyctl; keyutils' `keyctl` tool is not
//! on every machine). A learner's shell has them under friendly names too: `alloc MIB`,
//! `forkbomb MAX` and `newkeyring` are links to this binary in the session's tools directory,
//! which [`by_program_name`] recognises.
//! The workloads go at a watchable pace when the session asks for it (`CONTAINERLAB_PACE`, see
//! [`containerlab_cgroup::Pace`]).

use containerlab_cgroup::Pace;
use std::io::Write;

/// Peak resident memory of this process (VmHWM), as /proc/self/status prints it.
fn vm_hwm() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l["VmHWM:".len()..].trim().to_string())
        })
        .unwrap_or_else(|| "?".into())
}

/// Touches `mib` MiB; prints before and after, so a kill in between shows in the output.
pub fn alloc(mib: u64) -> i32 {
    println!("touching {mib} MiB");
    let _ = std::io::stdout().flush();
    match containerlab_cgroup::allocate_and_touch(mib, Pace::from_env()) {
        Ok(()) => {
            let kib: u64 = vm_hwm()
                .split_whitespace()
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            println!("touched {mib} MiB; peak resident memory {} MiB", kib >> 10);
            0
        }
        Err(e) => {
            eprintln!("allocation failed: {e}");
            1
        }
    }
}

/// Forks up to `max` sleeping children; prints how far it got.
pub fn forkbomb(max: u32) -> i32 {
    let r = containerlab_cgroup::fork_bomb(max, Pace::from_env());
    match r.first_error {
        Some(e) => println!(
            "forked {} children, then fork() failed with {}",
            r.started,
            containerlab_trace::errno_name(e)
        ),
        None => println!("forked {} children (all {max} asked for)", r.started),
    }
    0
}

/// keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL), as `keyctl new_session` does: this process gets a
/// new anonymous session keyring (gone when it exits). Docker's seccomp profile refuses keyctl,
/// since the kernel's keyrings are not namespaced.
pub fn newkeyring() -> i32 {
    const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;
    // SAFETY: keyctl with an integer operation and a NULL name.
    let r = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            KEYCTL_JOIN_SESSION_KEYRING,
            std::ptr::null::<libc::c_char>(),
        )
    };
    if r < 0 {
        let e = nix::errno::Errno::last();
        println!(
            "keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL) failed: {} ({})",
            containerlab_trace::errno_name(e),
            e.desc()
        );
        1
    } else {
        println!("keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL) = {r}: a new session keyring");
        0
    }
}

/// The names a learner's shell finds the workloads under (links to this binary).
pub const TOOL_NAMES: [&str; 3] = ["alloc", "forkbomb", "newkeyring"];

/// When this binary was started as `alloc` or `forkbomb` (through a link of the session's tools
/// directory), runs that workload with its one numeric argument and returns the exit code.
pub fn by_program_name() -> Option<i32> {
    let mut args = std::env::args();
    let program = args.next()?;
    let name = std::path::Path::new(&program)
        .file_name()?
        .to_str()?
        .to_string();
    if !TOOL_NAMES.contains(&name.as_str()) {
        return None;
    }
    if name == "newkeyring" {
        return Some(newkeyring());
    }
    let usage = |what: &str| {
        eprintln!("usage: {name} {what}");
        Some(crate::exit::USAGE)
    };
    let arg = args.next().and_then(|a| a.parse::<u64>().ok());
    match (name.as_str(), arg) {
        ("alloc", Some(mib)) => Some(alloc(mib)),
        ("alloc", None) => usage("MIB   (touch that many MiB of memory)"),
        (_, Some(max)) => Some(forkbomb(max.min(u64::from(u32::MAX)) as u32)),
        (_, None) => usage("MAX   (fork up to MAX sleeping children)"),
    }
}
