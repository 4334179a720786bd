//! nftables rules (NAT for the bridge lesson) loaded with the `nft` tool, the way a learner
//! loads them: `nft -f -` reads a ruleset on its standard input and sends it to the kernel's
//! nf_tables over netlink as one transaction (all of it applies, or none).
//!
//! Rules live in the network namespace they were loaded in and die with it, so they need no
//! journal entry; the host's own firewall is never touched (policy rule 5).

use super::bounded::{dies_with_the_agent, wait_bounded, Waited};
use super::ops::{OpError, Value};
use super::policy;
use containerlab_trace::{quoted, Outcome, Record, Trace};
use std::io::Write;
use std::time::Duration;

/// How long `nft` may take: it loads a few rules.
const LIMIT: Duration = Duration::from_secs(10);

/// `nft -f - <<< RULESET` in this process's network namespace.
pub fn apply(ruleset: &str, trace: &mut Trace) -> Result<Value, OpError> {
    policy::host_firewall()?;
    let mut cmd = std::process::Command::new("nft");
    cmd.args(["-f", "-"]);
    dies_with_the_agent(&mut cmd);
    let call = format!(
        "execve(\"nft\", [\"nft\", \"-f\", \"-\"]) < {}",
        quoted(ruleset)
    );
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            let failed = trace.record_io(call, Err::<(), _>(e), |_| String::new());
            return Err(failed.unwrap_err().into());
        }
    };
    if let Some(mut stdin) = child.stdin.take() {
        // A write error means nft already exited; its status and stderr say why.
        let _ = stdin.write_all(ruleset.as_bytes());
    }
    let outcome = match wait_bounded(child, LIMIT, &mut |_, _| {}) {
        Ok(Waited::Finished { status, .. }) if status.success() => {
            Ok(Outcome::Returned("exited with status 0".into()))
        }
        Ok(Waited::Finished { status, stderr, .. }) => Err(OpError {
            errno: None,
            message: format!(
                "nft refused the ruleset ({status}): {}",
                String::from_utf8_lossy(&stderr).trim()
            ),
        }),
        Ok(Waited::TimedOut) => Err(OpError {
            errno: Some("ETIMEDOUT".into()),
            message: format!("nft took more than {} s and was killed", LIMIT.as_secs()),
        }),
        Err(e) => Err(OpError::msg(format!("waiting for nft: {e}"))),
    };
    match outcome {
        Ok(result) => {
            trace.records.push(Record { call, result });
            Ok(Value::Done)
        }
        Err(e) => {
            trace.records.push(Record {
                call,
                result: Outcome::Failed {
                    errno: e.errno.clone().unwrap_or_else(|| "EINVAL".into()),
                    message: e.message.clone(),
                },
            });
            Err(e)
        }
    }
}
