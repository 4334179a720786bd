//! The process the cgroup tests put into a cgroup: `alloc <MiB>` or `forkbomb <max>`.
//!
//! It first waits for one line on stdin, so the test can move it into the cgroup before it
//! starts charging memory or forking; then it prints what happened on stdout. With
//! `CONTAINERLAB_PACE=watchable` it goes at a pace a sampled view can follow.

use std::io::BufRead;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut go = String::new();
    let _ = std::io::stdin().lock().read_line(&mut go);
    let pace = containerlab_cgroup::Pace::from_env();
    match (
        args.first().map(String::as_str),
        args.get(1).map(|n| n.parse()),
    ) {
        (Some("alloc"), Some(Ok(mib))) => {
            match containerlab_cgroup::allocate_and_touch(mib, pace) {
                Ok(()) => println!("touched {mib} MiB"),
                Err(e) => {
                    eprintln!("allocation failed: {e}");
                    std::process::exit(1);
                }
            }
        }
        (Some("forkbomb"), Some(Ok(max))) => {
            let r = containerlab_cgroup::fork_bomb(max as u32, pace);
            let err = r
                .first_error
                .map(containerlab_trace::errno_name)
                .unwrap_or_else(|| "none".into());
            println!("started={} first_error={err}", r.started);
        }
        _ => {
            eprintln!("usage: clab-cgroup-workload alloc <MiB> | forkbomb <max>");
            std::process::exit(2);
        }
    }
}
