//! The `bridge` lesson (issue #17 item 12): two containers on a Linux bridge in a network
//! namespace that stands for the Docker host, MASQUERADE out to a namespace that stands for the
//! internet, and a published port as a DNAT rule. Played headless as root inside a network
//! namespace this test makes (`unshare --net`), so every packet stays between namespaces the
//! test and the lesson made. It must pass with the checks that show NAT at work, and leave the
//! machine as it found it: no session directory, no lesson processes (the two busybox httpd
//! daemons included), and nothing but `lo` in the test's network namespace: the bridge, the veth
//! pairs and the nftables rules lived in the lesson's own namespaces and went with them.

mod common;

use common::lesson_run::{lab_turn, play, Wrap};
use common::{assert_empty_dir, processes, wait_until};
use std::path::Path;

const LESSON: &str = "bridge";

/// Processes of this run still alive: any whose environment or command line names its session
/// directory (every agent, and the httpd daemons serving from the session's work directory).
fn leftovers(run_dir: &Path) -> Vec<(i32, String)> {
    let dir = run_dir.to_string_lossy().into_owned().into_bytes();
    let names_dir = |bytes: &[u8]| bytes.windows(dir.len()).any(|w| w == dir.as_slice());
    let me = std::process::id() as i32;
    processes()
        .into_iter()
        .filter(|p| p.pid != me)
        .filter(|p| names_dir(&p.environ) || names_dir(&p.cmdline))
        .map(|p| (p.pid, p.command()))
        .collect()
}

#[test]
fn bridge_lesson_shows_nat_both_ways_and_leaves_nothing() {
    let t = lab_turn();
    let run = play(Wrap::NetNsLoUp("true"), LESSON, &[], t.dir());
    assert_eq!(run.code, Some(0), "{}", run.output);
    assert!(
        run.output.contains(&format!("✓ {LESSON}:")),
        "{}",
        run.output
    );
    for key in [
        // Two containers on one bridge.
        "✓ veth1 in gw is a port of br0",
        "✓ c1's ping to 172.17.0.3 got its reply",
        // Forwarding is per network namespace, and needed.
        "✓ c1's ping to 203.0.113.80 fails",
        "✓ gw's net.ipv4.ip_forward is 1",
        // MASQUERADE: the outside saw the host's address, and conntrack shows the translation.
        "✓ inet saw the request come from gw's 203.0.113.1",
        "✓ ...not from c1's 172.17.0.2",
        "✓ ...reply direction from 203.0.113.80 port 80 to 203.0.113.1",
        // DNAT: the host's port reaches the container's httpd with no process listening on it.
        "✓ c1 answered, and saw the client's own address 203.0.113.80",
        "✓ No process listens on port 8080 in gw",
        "✓ gw's conntrack entry: sent to port 8080, answered by 172.17.0.2 port 80",
    ] {
        assert!(run.output.contains(key), "{key}:\n{}", run.output);
    }
    // The rules were loaded in gw, never in the test's network namespace.
    assert!(
        run.output
            .contains("[gw] execve(\"nft\", [\"nft\", \"-f\", \"-\"])"),
        "{}",
        run.output
    );
    wait_until(10, || leftovers(t.dir()).is_empty());
    assert_eq!(leftovers(t.dir()), Vec::new(), "processes survived");
    t.turn.assert_host_unchanged(&run.output);
    assert_empty_dir(t.dir());
    run.assert_net_ns_clean();
}
