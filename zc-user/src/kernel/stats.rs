//! What zc's own eBPF programs cost, measured by the kernel. While a file
//! descriptor from `bpf(BPF_ENABLE_STATS, BPF_STATS_RUN_TIME)` is open, the
//! kernel times every eBPF program run (two clock reads around it) and
//! keeps, per program, `run_time_ns` and `run_cnt`, readable from the
//! program's fdinfo. That is how bpftop measures programs; zc reads its own.
//!
//! The timing is not free, and it is counted in the time it measures: the
//! kernel reads its clock before and after each run (`__bpf_prog_run`), and
//! part of both reads falls inside the measured span. An empty program,
//! timed the same way, shows that part (`clock_cost`): on this project's
//! VM about 50 ns per run, which for a probe that returns at its first
//! check is most of its measured time.

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

/// `BPF_PROG_TEST_RUN` (include/uapi/linux/bpf.h).
const BPF_PROG_TEST_RUN: libc::c_long = 10;

/// Test runs that time the clock: each is one syscall (a raw tracepoint
/// program runs once per `BPF_PROG_TEST_RUN`), about a microsecond.
const CLOCK_RUNS: u32 = 2000;

/// What the kernel's timing adds to each run it times, in nanoseconds:
/// zc's empty program (`FLOOR_PROGRAM`), loaded alone, run `CLOCK_RUNS`
/// times by `BPF_PROG_TEST_RUN`, which times each run on the same path a
/// tracepoint's run takes (`bpf_prog_run`), while `RunStats` is held. The
/// program is unloaded before this returns, so its runs never count as
/// zc's. None when the statistics are off or the kernel refused a step.
pub fn clock_cost(ebpf: &mut aya::Ebpf) -> Option<f64> {
    use std::os::fd::{AsFd as _, AsRawFd as _};
    let program: &mut aya::programs::RawTracePoint = ebpf
        .program_mut(zc_common::FLOOR_PROGRAM)?
        .try_into()
        .ok()?;
    program.load().ok()?;
    let timed = (|| {
        let fd = program.fd().ok()?.as_fd().as_raw_fd();
        // union bpf_attr's test: prog_fd first, everything else zero (no
        // context: the empty program reads none); 80 bytes cover the
        // fields up to batch_size.
        let mut attr = [0u32; 20];
        attr[0] = fd as u32;
        for _ in 0..CLOCK_RUNS {
            // SAFETY: bpf() reads and writes `size_of_val(&attr)` bytes of
            // a valid buffer.
            let rc = unsafe {
                libc::syscall(
                    libc::SYS_bpf,
                    BPF_PROG_TEST_RUN,
                    attr.as_mut_ptr(),
                    std::mem::size_of_val(&attr),
                )
            };
            if rc != 0 {
                return None;
            }
        }
        let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}")).ok()?;
        let run = parse_fdinfo(&info);
        (run.run_cnt >= u64::from(CLOCK_RUNS)).then(|| run.run_time_ns as f64 / run.run_cnt as f64)
    })();
    let _ = program.unload();
    timed
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
