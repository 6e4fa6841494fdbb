//! zc's own cost: how long the kernel spent running zc's eBPF programs
//! during a run, measured by the kernel itself (`BPF_ENABLE_STATS`: each
//! program's `run_time_ns` and `run_cnt`), against the CPU the run used. A
//! tracer that teaches about wasted CPU says what it wastes.
//!
//! The runs are every run of zc's programs on the machine while armed: a
//! probe on `sched_switch` runs for every task, and most runs end at the
//! first check (not the followed thread). That is the cost zc imposes.

use serde::{Deserialize, Serialize};
use zc_common::counters::Counter as C;

use super::counts::Counts;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TracingCost {
    /// False when the kernel did not time the programs (it refused
    /// `BPF_ENABLE_STATS`) or the recording predates the measurement.
    pub measured: bool,
    /// Time spent in zc's eBPF programs.
    pub ebpf_ns: u64,
    /// Runs of zc's programs (one per tracepoint hit while attached).
    pub probe_runs: u64,
    pub ns_per_run: Option<f64>,
    /// The CPU time it is compared with, and the share.
    pub cpu_ns: u64,
    pub share_of_cpu: Option<f64>,
    /// What `cpu_ns` is.
    pub cpu_of: String,
    /// What the kernel's timing itself adds to each run, measured on an
    /// empty program (`kernel::stats::clock_cost`); it is inside `ebpf_ns`.
    #[serde(default)]
    pub clock_ns_per_run: Option<f64>,
    /// `ebpf_ns` less the timing's share (`probe_runs` × the above): the
    /// time zc's programs' own instructions took, and its share.
    #[serde(default)]
    pub programs_ns: Option<u64>,
    #[serde(default)]
    pub programs_share_of_cpu: Option<f64>,
}

impl TracingCost {
    /// The cost counted in `c`, against `cpu_ns` of CPU time (`cpu_of`
    /// says whose).
    pub fn of(c: &Counts, cpu_ns: u64, cpu_of: &str) -> TracingCost {
        let (ns, runs) = (c.get(C::EbpfRunNs), c.get(C::EbpfRuns));
        let clock_ps = c.get(C::EbpfClockPs);
        let clock = (runs > 0 && clock_ps > 0).then_some(clock_ps as f64 / 1000.0);
        let programs_ns = clock.map(|_| ns.saturating_sub(runs.saturating_mul(clock_ps) / 1000));
        TracingCost {
            measured: runs > 0,
            ebpf_ns: ns,
            probe_runs: runs,
            ns_per_run: (runs > 0).then(|| ns as f64 / runs as f64),
            cpu_ns,
            share_of_cpu: (runs > 0 && cpu_ns > 0).then(|| ns as f64 / cpu_ns as f64),
            cpu_of: cpu_of.to_string(),
            clock_ns_per_run: clock,
            programs_ns,
            programs_share_of_cpu: programs_ns
                .filter(|_| cpu_ns > 0)
                .map(|p| p as f64 / cpu_ns as f64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_runs_each_and_share_are_measured() {
        let mut c = Counts::new();
        c.set(C::EbpfRunNs, 1_900_000);
        c.set(C::EbpfRuns, 14_210);
        let t = TracingCost::of(&c, 237_500_000, "the run's CPU");
        assert!(t.measured);
        assert_eq!(t.probe_runs, 14_210);
        assert_eq!(t.ns_per_run.map(f64::round), Some(134.0));
        assert!((t.share_of_cpu.expect("a share") - 0.008).abs() < 1e-9);
        assert!(!TracingCost::of(&Counts::new(), 1, "x").measured);
        assert_eq!(t.programs_ns, None, "no clock measured, nothing taken off");
    }

    #[test]
    fn the_timing_is_taken_off_per_run() {
        let mut c = Counts::new();
        c.set(C::EbpfRunNs, 1_900_000);
        c.set(C::EbpfRuns, 14_210);
        c.set(C::EbpfClockPs, 50_500);
        let t = TracingCost::of(&c, 237_500_000, "the run's CPU");
        assert_eq!(t.clock_ns_per_run, Some(50.5));
        // 14,210 runs × 50.5 ns = 717,605 ns of timing.
        assert_eq!(t.programs_ns, Some(1_900_000 - 717_605));
        let share = t.programs_share_of_cpu.expect("a share");
        assert!((share - 1_182_395.0 / 237_500_000.0).abs() < 1e-12);
        // A clock dearer than the runs (a noisy calibration) leaves 0, not
        // a wrapped figure.
        c.set(C::EbpfClockPs, 500_000);
        assert_eq!(TracingCost::of(&c, 1, "x").programs_ns, Some(0));
    }
}
