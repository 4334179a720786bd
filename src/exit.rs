//! Exit codes, one meaning each, so CI and scripts can tell what went wrong.

/// Every check passed.
pub const OK: i32 = 0;
/// The lesson ran, and at least one check failed (or a step's action failed unexpectedly).
pub const CHECK_FAILED: i32 = 1;
/// A lesson file or the command line is wrong.
pub const USAGE: i32 = 2;
/// This machine cannot run it: not root, or a kernel feature or tool is missing.
pub const ENVIRONMENT: i32 = 3;
/// Interrupted by Ctrl-C; everything was torn down. 128 + SIGINT, as shells report it. SIGTERM
/// and SIGHUP tear down the same way and exit 128 + their number (143, 129).
pub const INTERRUPTED: i32 = 130;
/// A headless run passed its `--timeout`; everything was torn down. 124, as timeout(1) exits.
pub const TIMED_OUT: i32 = 124;
