//! A sweep: every chosen strategy at every chunk size, several runs each,
//! to find where zero copy pays off. Small chunks make a strategy pay per
//! call (syscalls, page pinning, completions); large ones let it pay per
//! byte (copies). The crossovers are where those costs trade places.
//!
//! Each point keeps the median of its runs with their minimum and maximum:
//! on a shared two-core machine the spread is part of the answer.

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
    pub sender_cpu_ns_per_gib: f64,
    pub transfer_cpu_ns_per_gib: f64,
    pub syscalls_per_gib: f64,
    pub copies_per_byte: f64,
    pub received_ok: bool,
    pub unexplained_bytes: u64,
}

impl Sample {
    pub fn of(o: &RunOutcome) -> Sample {
        let size = o.facts.size.max(1) as f64;
        let per_gib = |v: u64| v as f64 * GIB / size;
        Sample {
            sender_cpu_ns_per_gib: per_gib(o.sender_cpu_ns),
            transfer_cpu_ns_per_gib: per_gib(o.transfer_cpu_ns()),
            syscalls_per_gib: per_gib(o.figures.syscall_total),
            copies_per_byte: o.figures.cpu_copy_bytes as f64 / size,
            received_ok: o.received_ok,
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
    SenderCpu,
    TransferCpu,
    Syscalls,
    Copies,
}

impl Metric {
    pub const ALL: [Metric; 4] = [
        Metric::SenderCpu,
        Metric::TransferCpu,
        Metric::Syscalls,
        Metric::Copies,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Metric::SenderCpu => "sender CPU, ms per GiB",
            Metric::TransferCpu => {
                "whole transfer CPU (sender, receiver, kernel threads, softirq), ms per GiB"
            }
            Metric::Syscalls => "syscalls per GiB",
            Metric::Copies => "CPU copies per byte",
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
            Metric::SenderCpu => ms(p.sender_cpu_ns_per_gib),
            Metric::TransferCpu => ms(p.transfer_cpu_ns_per_gib),
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
    /// How to read the figures.
    pub note: &'static str,
}

/// What every sweep says about its own figures.
pub const NOTE: &str = "medians with min-max over the runs of each point, measured while traced \
    (zc's own cost included), on whatever machine ran it: on a shared 2-core machine they are \
    noisy, and the spread is shown, not hidden";

impl Sweep {
    /// The points of `strategy`, by chunk.
    pub fn line(&self, strategy: Strategy) -> impl Iterator<Item = &Point> {
        self.points.iter().filter(move |p| p.strategy == strategy)
    }

    /// The text report: one table per strategy.
    pub fn text(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "zc sweep  {} file, {} runs per point, linux {}",
            crate::units::fmt_bytes(self.size_bytes),
            self.runs_per_point,
            self.kernel
        );
        let _ = writeln!(s, "({})", NOTE);
        for &st in &self.strategies {
            let _ = writeln!(s, "\n{}", st.name());
            let _ = writeln!(
                s,
                "  {:>8}  {:>22}  {:>22}  {:>16}  {:>11}",
                "chunk", "sender ms/GiB", "transfer ms/GiB", "syscalls/GiB", "copies/B"
            );
            for p in self.line(st) {
                let range = |m: Metric| {
                    let v = m.of(p);
                    format!("{:.1} ({:.1}-{:.1})", v.median, v.min, v.max)
                };
                let _ = writeln!(
                    s,
                    "  {:>8}  {:>22}  {:>22}  {:>16.0}  {:>11.2}{}",
                    crate::units::fmt_bytes(p.chunk_bytes),
                    range(Metric::SenderCpu),
                    range(Metric::TransferCpu),
                    p.syscalls_per_gib.median,
                    p.copies_per_byte.median,
                    if p.all_intact && p.max_unexplained_bytes == 0 {
                        ""
                    } else {
                        "  (a run was not intact or did not balance)"
                    }
                );
            }
        }
        s
    }

    /// The sweep as an SVG line chart of `metric`: chunk size on a log
    /// scale, one line per strategy, a bar from min to max at each point.
    pub fn svg(&self, metric: Metric) -> String {
        use std::fmt::Write as _;
        const W: f64 = 900.0;
        const H: f64 = 520.0;
        const L: f64 = 80.0;
        const R: f64 = 220.0;
        const T: f64 = 50.0;
        const B: f64 = 60.0;
        let xs: Vec<f64> = self.chunks.iter().map(|c| (*c as f64).log2()).collect();
        let (x0, x1) = (
            xs.iter().copied().fold(f64::INFINITY, f64::min),
            xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        );
        let ymax = self
            .points
            .iter()
            .map(|p| metric.of(p).max)
            .fold(0.0, f64::max)
            .max(1e-9)
            * 1.1;
        // Inset from the axes, so the first and last points stand clear.
        const INSET: f64 = 24.0;
        let px = |c: u64| {
            let x = (c as f64).log2();
            L + INSET
                + if x1 > x0 {
                    (x - x0) / (x1 - x0) * (W - L - R - 2.0 * INSET)
                } else {
                    (W - L - R) / 2.0 - INSET
                }
        };
        let py = |v: f64| H - B - v / ymax * (H - T - B);
        let mut s = String::new();
        let _ = writeln!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="monospace" font-size="13">"#
        );
        let _ = writeln!(s, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
        let _ = writeln!(
            s,
            r#"<text x="{L}" y="24" font-size="15">{} — zc sweep, {} file, linux {}</text>"#,
            xml(metric.label()),
            crate::units::fmt_bytes(self.size_bytes),
            xml(&self.kernel)
        );
        let _ = writeln!(
            s,
            r#"<text x="{L}" y="40" font-size="11" fill="gray">median of {} runs, bars min-max; measured while traced</text>"#,
            self.runs_per_point
        );
        // Axes, ticks and their labels.
        let _ = writeln!(
            s,
            r#"<path d="M{L} {T} V{} H{}" stroke="black" fill="none"/>"#,
            H - B,
            W - R
        );
        for &c in &self.chunks {
            let _ = writeln!(
                s,
                r#"<text x="{:.1}" y="{}" text-anchor="middle">{}</text>"#,
                px(c),
                H - B + 18.0,
                crate::units::fmt_bytes(c)
            );
        }
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{}" text-anchor="middle">chunk per call (log scale)</text>"#,
            L + (W - L - R) / 2.0,
            H - 15.0
        );
        for i in 0..=4 {
            let v = ymax * i as f64 / 4.0;
            let _ = writeln!(
                s,
                r#"<text x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
                L - 6.0,
                py(v) + 4.0,
                short(v)
            );
        }
        // One line per strategy; dashes tell them apart without colour.
        const COLOURS: [&str; 9] = [
            "#d62728", "#9467bd", "#ff7f0e", "#2ca02c", "#17becf", "#8c564b", "#e377c2", "#1f77b4",
            "#7f7f7f",
        ];
        for (i, &st) in self.strategies.iter().enumerate() {
            let colour = COLOURS[i % COLOURS.len()];
            let dash = ["", "6 3", "2 3", "8 3 2 3"][i % 4];
            let pts: Vec<(f64, Stat)> = self
                .line(st)
                .map(|p| (px(p.chunk_bytes), metric.of(p)))
                .collect();
            let path: Vec<String> = pts
                .iter()
                .enumerate()
                .map(|(k, (x, v))| {
                    format!(
                        "{}{x:.1} {:.1}",
                        if k == 0 { "M" } else { "L" },
                        py(v.median)
                    )
                })
                .collect();
            let _ = writeln!(
                s,
                r#"<path d="{}" stroke="{colour}" stroke-width="2" stroke-dasharray="{dash}" fill="none"/>"#,
                path.join(" ")
            );
            for (x, v) in &pts {
                let _ = writeln!(
                    s,
                    r#"<path d="M{x:.1} {:.1} V{:.1}" stroke="{colour}"/><circle cx="{x:.1}" cy="{:.1}" r="3" fill="{colour}"/>"#,
                    py(v.min),
                    py(v.max),
                    py(v.median)
                );
            }
            let ly = T + 18.0 * i as f64;
            let _ = writeln!(
                s,
                r#"<path d="M{} {ly} h24" stroke="{colour}" stroke-width="2" stroke-dasharray="{dash}"/><text x="{}" y="{:.1}">{}</text>"#,
                W - R + 16.0,
                W - R + 46.0,
                ly + 4.0,
                st.name()
            );
        }
        let _ = writeln!(s, "</svg>");
        s
    }
}

fn short(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if v >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if v >= 10.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
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

    #[test]
    fn the_svg_has_a_line_per_strategy_and_a_bar_per_point() {
        let st = Strategy::first();
        let sample = |cpu: f64| Sample {
            sender_cpu_ns_per_gib: cpu,
            transfer_cpu_ns_per_gib: cpu * 2.0,
            syscalls_per_gib: 1000.0,
            copies_per_byte: 2.0,
            received_ok: true,
            unexplained_bytes: 0,
        };
        let sweep = Sweep {
            kernel: "6.18".into(),
            size_bytes: 1 << 20,
            runs_per_point: 2,
            chunks: vec![4096, 65536],
            strategies: vec![st],
            points: vec![
                Point::of(st, 4096, &[sample(3e8), sample(4e8)]),
                Point::of(st, 65536, &[sample(1e8), sample(2e8)]),
            ],
            note: NOTE,
        };
        let svg = sweep.svg(Metric::SenderCpu);
        assert!(svg.starts_with("<svg"), "{svg}");
        assert_eq!(svg.matches("<circle").count(), 2);
        assert!(svg.contains(st.name()));
        assert!(svg.contains("4 KiB") && svg.contains("64 KiB"), "{svg}");
        assert!(
            sweep.text().contains("350.0 (300.0-400.0)"),
            "{}",
            sweep.text()
        );
    }
}
