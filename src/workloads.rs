//! The hidden `__alloc` and `__forkbomb` subcommands: workloads a lesson runs inside a lab
//! cgroup to meet its limits (see `containerlab_cgroup::allocate_and_touch` and `fork_bomb`).

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
    match containerlab_cgroup::allocate_and_touch(mib) {
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
    let r = containerlab_cgroup::fork_bomb(max);
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
