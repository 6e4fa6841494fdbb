//! What zc's own eBPF programs cost, measured by the kernel. While a file
//! descriptor from `bpf(BPF_ENABLE_STATS, BPF_STATS_RUN_TIME)` is open, the
//! kernel times every eBPF program run (two clock reads around it) and
//! keeps, per program, `run_time_ns` and `run_cnt`, readable from the
//! program's fdinfo. That is how bpftop measures programs; zc reads its own.

use std::os::fd::{FromRawFd as _, OwnedFd};

/// `BPF_ENABLE_STATS` (include/uapi/linux/bpf.h) and `BPF_STATS_RUN_TIME`.
const BPF_ENABLE_STATS: libc::c_long = 32;
const BPF_STATS_RUN_TIME: u32 = 0;

/// Run-time statistics, on while this is held.
pub struct RunStats(
    #[allow(dead_code, reason = "held: closing it turns the statistics off")] OwnedFd,
);

/// Turns the kernel's eBPF run-time statistics on, or says why not.
pub fn enable() -> Result<RunStats, String> {
    // union bpf_attr's enable_stats: { __u32 type; }, the rest zero.
    let attr = [BPF_STATS_RUN_TIME, 0u32];
    // SAFETY: bpf() reads `size_of_val(&attr)` bytes from a valid buffer.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            BPF_ENABLE_STATS,
            attr.as_ptr(),
            std::mem::size_of_val(&attr),
        )
    };
    if fd < 0 {
        return Err(format!(
            "BPF_ENABLE_STATS: {}",
            std::io::Error::last_os_error()
        ));
    }
    // SAFETY: the kernel returned a new descriptor that nothing else owns.
    Ok(RunStats(unsafe { OwnedFd::from_raw_fd(fd as i32) }))
}

/// One program's totals so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProgRun {
    pub run_time_ns: u64,
    pub run_cnt: u64,
    /// Runs the kernel skipped: a program is not re-entered on a CPU.
    pub recursion_misses: u64,
}

/// Reads `run_time_ns`, `run_cnt` and `recursion_misses` from a program's
/// fdinfo text.
pub fn parse_fdinfo(text: &str) -> ProgRun {
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    ProgRun {
        run_time_ns: field("run_time_ns:"),
        run_cnt: field("run_cnt:"),
        recursion_misses: field("recursion_misses:"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fdinfo_fields_are_read_and_missing_ones_are_zero() {
        let text = "pos:\t0\nflags:\t02000002\nprog_type:\t5\nrun_time_ns:\t123456\nrun_cnt:\t789\nrecursion_misses:\t3\n";
        assert_eq!(
            parse_fdinfo(text),
            ProgRun {
                run_time_ns: 123_456,
                run_cnt: 789,
                recursion_misses: 3
            }
        );
        assert_eq!(parse_fdinfo("pos:\t0\n"), ProgRun::default());
    }
}
