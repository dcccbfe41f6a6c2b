//! What the CUR and limits benchmarks share: running the tool as a child and reading its
//! resource usage (peak resident memory) when it is reaped.

use std::process::Command;
use std::time::{Duration, Instant};

/// Runs `cmd` to its end: its exit code, its resource usage and the wall time.
pub fn run_with_usage(cmd: &mut Command) -> Option<(i32, libc::rusage, Duration)> {
    let started = Instant::now();
    // Reaped by wait4 below, which also gives the child's resource usage.
    #[allow(clippy::zombie_processes)]
    let child = cmd.spawn().ok()?;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain old data filled by wait4 for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = started.elapsed();
    if waited != pid {
        return None;
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    Some((code, usage, wall))
}
