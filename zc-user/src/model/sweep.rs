//! A sweep: every chosen strategy at every chunk size, several runs each,
//! to find where zero copy pays off. Small chunks make a strategy pay per
//! call (syscalls, page pinning, completions); large ones let it pay per
//! byte (copies). The crossovers are where those costs trade places.
//!
//! Each point keeps the median of its runs with their minimum and maximum:
//! on a shared two-core machine the spread is part of the answer.
//!
//! Tracing has a cost per event, and a strategy that makes more events
//! pays more of it: measured only while traced, small differences between
//! strategies drown in zc's own work. So each run is made twice, once
//! traced (its ledger, its copies, its calls) and once untraced right
//! beside it (only the CPU clocks, which need no probe), and a point keeps
//! both CPU figures: the strategy's own, and the strategy's with zc's.

use serde::Serialize;

use super::{Strategy, outcome::RunOutcome};

const GIB: f64 = (1u64 << 30) as f64;

/// A median with the range around it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Stat {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Stat {
    /// The median (the mean of the middle two for an even count), min and
    /// max of `values`; zeros for none.
    pub fn of(values: &[f64]) -> Stat {
        if values.is_empty() {
            return Stat::default();
        }
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        };
        Stat {
            median,
            min: v[0],
            max: v[n - 1],
        }
    }
}

/// What one run contributes to its point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    /// CPU while traced.
    pub sender_cpu_ns_per_gib: f64,
    pub transfer_cpu_ns_per_gib: f64,
    /// CPU of the untraced pass beside it.
    pub untraced_sender_cpu_ns_per_gib: f64,
    pub untraced_transfer_cpu_ns_per_gib: f64,
    pub syscalls_per_gib: f64,
    pub copies_per_byte: f64,
    pub received_ok: bool,
    pub unexplained_bytes: u64,
}

impl Sample {
    /// A run measured `traced`, and the same run made `untraced`; an
    /// untraced run without a receiver's intact file spoils the sample.
    pub fn of(o: &RunOutcome, untraced: &RunOutcome) -> Sample {
        let size = o.facts.size.max(1) as f64;
        let per_gib = |v: u64| v as f64 * GIB / size;
        Sample {
            sender_cpu_ns_per_gib: per_gib(o.sender_cpu_ns),
            transfer_cpu_ns_per_gib: per_gib(o.transfer_cpu_ns()),
            untraced_sender_cpu_ns_per_gib: per_gib(untraced.sender_cpu_ns),
            untraced_transfer_cpu_ns_per_gib: per_gib(untraced.transfer_cpu_ns()),
            syscalls_per_gib: per_gib(o.figures.syscall_total),
            copies_per_byte: o.figures.cpu_copy_bytes as f64 / size,
            received_ok: o.received_ok && untraced.received_ok,
            unexplained_bytes: o.figures.ledger.unexplained_bytes,
        }
    }
}

/// One strategy at one chunk size.
#[derive(Clone, Debug, Serialize)]
pub struct Point {
    pub strategy: Strategy,
    pub chunk_bytes: u64,
    pub runs: usize,
    pub sender_cpu_ns_per_gib: Stat,
    pub transfer_cpu_ns_per_gib: Stat,
    pub untraced_sender_cpu_ns_per_gib: Stat,
    pub untraced_transfer_cpu_ns_per_gib: Stat,
    pub syscalls_per_gib: Stat,
    pub copies_per_byte: Stat,
    /// Every run's receiver got the file intact.
    pub all_intact: bool,
    /// The largest unexplained residual of any run's ledger (0 when all balance).
    pub max_unexplained_bytes: u64,
}

impl Point {
    pub fn of(strategy: Strategy, chunk_bytes: u64, samples: &[Sample]) -> Point {
        let stat = |f: fn(&Sample) -> f64| Stat::of(&samples.iter().map(f).collect::<Vec<_>>());
        Point {
            strategy,
            chunk_bytes,
            runs: samples.len(),
            sender_cpu_ns_per_gib: stat(|s| s.sender_cpu_ns_per_gib),
            transfer_cpu_ns_per_gib: stat(|s| s.transfer_cpu_ns_per_gib),
            untraced_sender_cpu_ns_per_gib: stat(|s| s.untraced_sender_cpu_ns_per_gib),
            untraced_transfer_cpu_ns_per_gib: stat(|s| s.untraced_transfer_cpu_ns_per_gib),
            syscalls_per_gib: stat(|s| s.syscalls_per_gib),
            copies_per_byte: stat(|s| s.copies_per_byte),
            all_intact: samples.iter().all(|s| s.received_ok),
            max_unexplained_bytes: samples
                .iter()
                .map(|s| s.unexplained_bytes)
                .max()
                .unwrap_or(0),
        }
    }
}

/// Which figure a chart or a table shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// The sender's CPU on the untraced pass: the strategy's own cost.
    SenderCpu,
    /// The same while traced: zc's cost included.
    SenderCpuTraced,
    TransferCpu,
    TransferCpuTraced,
    Syscalls,
    Copies,
}

impl Metric {
    pub const ALL: [Metric; 6] = [
        Metric::SenderCpu,
        Metric::SenderCpuTraced,
        Metric::TransferCpu,
        Metric::TransferCpuTraced,
        Metric::Syscalls,
        Metric::Copies,
    ];

    /// Whether the figure was measured while traced.
    pub fn traced(self) -> bool {
        match self {
            Metric::SenderCpu | Metric::TransferCpu => false,
            Metric::SenderCpuTraced
            | Metric::TransferCpuTraced
            | Metric::Syscalls
            | Metric::Copies => true,
        }
    }

    /// The point's figure in the unit of the label.
    pub fn of(self, p: &Point) -> Stat {
        let ms = |s: Stat| Stat {
            median: s.median / 1e6,
            min: s.min / 1e6,
            max: s.max / 1e6,
        };
        match self {
            Metric::SenderCpu => ms(p.untraced_sender_cpu_ns_per_gib),
            Metric::SenderCpuTraced => ms(p.sender_cpu_ns_per_gib),
            Metric::TransferCpu => ms(p.untraced_transfer_cpu_ns_per_gib),
            Metric::TransferCpuTraced => ms(p.transfer_cpu_ns_per_gib),
            Metric::Syscalls => p.syscalls_per_gib,
            Metric::Copies => p.copies_per_byte,
        }
    }

    pub fn next(self) -> Metric {
        let i = Metric::ALL.iter().position(|m| *m == self).unwrap_or(0);
        Metric::ALL[(i + 1) % Metric::ALL.len()]
    }
}

/// A whole sweep.
#[derive(Clone, Debug, Serialize)]
pub struct Sweep {
    pub kernel: String,
    pub size_bytes: u64,
    pub runs_per_point: usize,
    pub chunks: Vec<u64>,
    pub strategies: Vec<Strategy>,
    pub points: Vec<Point>,
    /// How to read the figures, as the view that made the sweep says it
    /// (`export::sweep::NOTE`, in the JSON).
    pub note: &'static str,
}

impl Sweep {
    /// The points of `strategy`, by chunk.
    pub fn line(&self, strategy: Strategy) -> impl Iterator<Item = &Point> {
        self.points.iter().filter(move |p| p.strategy == strategy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_range() {
        let s = Stat::of(&[5.0, 1.0, 3.0]);
        assert_eq!((s.median, s.min, s.max), (3.0, 1.0, 5.0));
        let s = Stat::of(&[4.0, 1.0, 3.0, 2.0]);
        assert_eq!((s.median, s.min, s.max), (2.5, 1.0, 4.0));
        assert_eq!(Stat::of(&[]), Stat::default());
    }
}
