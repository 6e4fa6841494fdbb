//! A sweep as people read it: a text table per strategy, and an SVG line
//! chart of one figure against the chunk size, in English or Chinese. The
//! model ([`crate::model::sweep`]) holds the medians and ranges; this view
//! only lays them out and names them.

use crate::{
    lang::Lang,
    model::sweep::{Metric, Stat, Sweep},
    tui::text::lpad,
    units::fmt_bytes,
};

/// What every sweep says about its own figures.
pub const NOTE: &str = "medians with min-max over the runs of each point, on whatever machine \
    ran it; each run is made twice, traced and untraced beside it: CPU figures are the untraced \
    pass's (the strategy's own cost), and beside them the traced pass's (zc's cost included); \
    calls and copies are counted while traced. On a shared 2-core machine they are noisy, and \
    the spread is shown, not hidden";

/// [`NOTE`], in Chinese.
const NOTE_ZH: &str = "每个点为多次运行的中位数及最小到最大范围，机器不同结果不同；\
    每次运行做两遍，一遍跟踪、一遍紧挨着不跟踪：CPU 数字取不跟踪的那一遍（策略本身的开销），\
    旁边给出跟踪那一遍的（含 zc 自身的开销）；系统调用和拷贝在跟踪下计数。\
    在共享的双核机器上波动较大，范围照实给出，不加隐藏";

fn pick(lang: Lang, en: &'static str, zh: &'static str) -> &'static str {
    match lang {
        Lang::En => en,
        Lang::Zh => zh,
    }
}

/// What a chart of `metric` shows, and in which unit.
pub fn label(metric: Metric, lang: Lang) -> &'static str {
    match (metric, lang) {
        (Metric::SenderCpu, Lang::En) => "sender CPU untraced, ms per GiB",
        (Metric::SenderCpu, Lang::Zh) => "发送方 CPU（不跟踪），每 GiB 毫秒",
        (Metric::SenderCpuTraced, Lang::En) => "sender CPU while traced, ms per GiB",
        (Metric::SenderCpuTraced, Lang::Zh) => "发送方 CPU（跟踪中），每 GiB 毫秒",
        (Metric::TransferCpu, Lang::En) => {
            "whole transfer CPU untraced (sender, receiver, kernel threads, softirq), ms per GiB"
        }
        (Metric::TransferCpu, Lang::Zh) => {
            "整个传输的 CPU（不跟踪；发送方、接收方、内核线程、软中断），每 GiB 毫秒"
        }
        (Metric::TransferCpuTraced, Lang::En) => {
            "whole transfer CPU while traced (sender, receiver, kernel threads, softirq), ms per GiB"
        }
        (Metric::TransferCpuTraced, Lang::Zh) => {
            "整个传输的 CPU（跟踪中；发送方、接收方、内核线程、软中断），每 GiB 毫秒"
        }
        (Metric::Syscalls, Lang::En) => "syscalls per GiB",
        (Metric::Syscalls, Lang::Zh) => "每 GiB 系统调用次数",
        (Metric::Copies, Lang::En) => "CPU copies per byte",
        (Metric::Copies, Lang::Zh) => "每字节 CPU 拷贝次数",
    }
}

/// The text report: one table per strategy.
pub fn text(sweep: &Sweep, lang: Lang) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let (size, runs) = (fmt_bytes(sweep.size_bytes), sweep.runs_per_point);
    let _ = match lang {
        Lang::En => writeln!(
            s,
            "zc sweep  {size} file, {runs} runs per point, linux {}\n({NOTE})",
            sweep.kernel
        ),
        Lang::Zh => writeln!(
            s,
            "zc sweep  {size} 文件，每个点 {runs} 次运行，linux {}\n（{NOTE_ZH}）",
            sweep.kernel
        ),
    };
    for &st in &sweep.strategies {
        let _ = writeln!(s, "\n{}", st.name());
        let heads = match lang {
            Lang::En => [
                "chunk",
                "sender ms/GiB",
                "traced",
                "transfer ms/GiB",
                "traced",
                "syscalls/GiB",
                "copies/B",
            ],
            Lang::Zh => [
                "块",
                "发送方 ms/GiB",
                "跟踪中",
                "全程 ms/GiB",
                "跟踪中",
                "系统调用/GiB",
                "拷贝/字节",
            ],
        };
        let _ = writeln!(
            s,
            "  {}  {}  {}  {}  {}  {}  {}",
            lpad(heads[0], 8),
            lpad(heads[1], 22),
            lpad(heads[2], 22),
            lpad(heads[3], 22),
            lpad(heads[4], 22),
            lpad(heads[5], 16),
            lpad(heads[6], 11)
        );
        for p in sweep.line(st) {
            let range = |m: Metric| {
                let v = m.of(p);
                format!("{:.1} ({:.1}-{:.1})", v.median, v.min, v.max)
            };
            let _ = writeln!(
                s,
                "  {:>8}  {:>22}  {:>22}  {:>22}  {:>22}  {:>16.0}  {:>11.2}{}",
                fmt_bytes(p.chunk_bytes),
                range(Metric::SenderCpu),
                range(Metric::SenderCpuTraced),
                range(Metric::TransferCpu),
                range(Metric::TransferCpuTraced),
                p.syscalls_per_gib.median,
                p.copies_per_byte.median,
                if p.all_intact && p.max_unexplained_bytes == 0 {
                    ""
                } else {
                    match lang {
                        Lang::En => "  (a run was not intact or did not balance)",
                        Lang::Zh => "  （有一次运行数据不完整或账目不平）",
                    }
                }
            );
        }
    }
    s
}

/// The sweep as an SVG line chart of `metric`: chunk size on a log
/// scale, one line per strategy, a bar from min to max at each point.
pub fn svg(sweep: &Sweep, metric: Metric, lang: Lang) -> String {
    use std::fmt::Write as _;
    const W: f64 = 900.0;
    const H: f64 = 520.0;
    const L: f64 = 80.0;
    const R: f64 = 220.0;
    const T: f64 = 50.0;
    const B: f64 = 60.0;
    let xs: Vec<f64> = sweep.chunks.iter().map(|c| (*c as f64).log2()).collect();
    let (x0, x1) = (
        xs.iter().copied().fold(f64::INFINITY, f64::min),
        xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    );
    let (step, ymax) = round_axis(
        sweep
            .points
            .iter()
            .map(|p| metric.of(p).max)
            .fold(0.0, f64::max),
    );
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
        r#"<text x="{L}" y="24" font-size="15">{} — zc sweep, {} {}, linux {}</text>"#,
        xml(label(metric, lang)),
        fmt_bytes(sweep.size_bytes),
        pick(lang, "file", "文件"),
        xml(&sweep.kernel)
    );
    let runs = sweep.runs_per_point;
    let _ = writeln!(
        s,
        r#"<text x="{L}" y="40" font-size="11" fill="gray">{}</text>"#,
        match (lang, metric.traced()) {
            (Lang::En, true) =>
                format!("median of {runs} runs, bars min-max; measured while traced"),
            (Lang::En, false) => format!(
                "median of {runs} runs, bars min-max; measured on an untraced pass beside each traced run"
            ),
            (Lang::Zh, true) => format!("{runs} 次运行的中位数，竖线为最小到最大；在跟踪下测得"),
            (Lang::Zh, false) => {
                format!("{runs} 次运行的中位数，竖线为最小到最大；在每次跟踪运行旁不跟踪测得")
            }
        }
    );
    // Axes, ticks and their labels.
    let _ = writeln!(
        s,
        r#"<path d="M{L} {T} V{} H{}" stroke="black" fill="none"/>"#,
        H - B,
        W - R
    );
    for &c in &sweep.chunks {
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{}" text-anchor="middle">{}</text>"#,
            px(c),
            H - B + 18.0,
            fmt_bytes(c)
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{}" text-anchor="middle">{}</text>"#,
        L + (W - L - R) / 2.0,
        H - 15.0,
        pick(
            lang,
            "chunk per call (log scale)",
            "每次调用的块大小（对数刻度）"
        )
    );
    let ticks = (ymax / step).round() as u32;
    for i in 0..=ticks {
        let v = step * i as f64;
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
    for (i, &st) in sweep.strategies.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let dash = ["", "6 3", "2 3", "8 3 2 3"][i % 4];
        let pts: Vec<(f64, Stat)> = sweep
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

/// A step of 1, 2 or 5 times a power of ten, and the axis's top: the
/// first multiple of the step at or above `max`. The largest such step that
/// still gives four steps or more, so every tick is a round number and
/// there are four to eight of them.
fn round_axis(max: f64) -> (f64, f64) {
    if !max.is_finite() || max <= 0.0 {
        return (0.25, 1.0);
    }
    let power = 10f64.powf((max / 5.0).log10().floor());
    let step = [10.0, 5.0, 2.0, 1.0]
        .into_iter()
        .map(|m| m * power)
        .find(|s| (max / s).ceil() >= 4.0)
        .unwrap_or(power);
    (step, (max / step).ceil().max(1.0) * step)
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
    use crate::model::{
        Strategy,
        sweep::{Point, Sample},
    };

    fn sweep() -> Sweep {
        let st = Strategy::first();
        let sample = |cpu: f64| Sample {
            sender_cpu_ns_per_gib: cpu,
            transfer_cpu_ns_per_gib: cpu * 2.0,
            untraced_sender_cpu_ns_per_gib: cpu / 2.0,
            untraced_transfer_cpu_ns_per_gib: cpu,
            syscalls_per_gib: 1000.0,
            copies_per_byte: 2.0,
            received_ok: true,
            unexplained_bytes: 0,
        };
        Sweep {
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
        }
    }

    #[test]
    fn the_svg_has_a_line_per_strategy_and_a_bar_per_point() {
        let sweep = sweep();
        for lang in [Lang::En, Lang::Zh] {
            let svg = svg(&sweep, Metric::SenderCpu, lang);
            assert!(svg.starts_with("<svg"), "{svg}");
            assert_eq!(svg.matches("<circle").count(), 2);
            assert!(svg.contains(Strategy::first().name()));
            assert!(svg.contains("4 KiB") && svg.contains("64 KiB"), "{svg}");
            assert!(svg.contains(label(Metric::SenderCpu, lang)), "{svg}");
        }
    }

    /// The same medians and ranges in both languages, untraced and traced.
    #[test]
    fn the_text_gives_medians_with_their_range() {
        let sweep = sweep();
        for lang in [Lang::En, Lang::Zh] {
            let t = text(&sweep, lang);
            assert!(t.contains("350.0 (300.0-400.0)"), "{t}");
            assert!(t.contains("175.0 (150.0-200.0)"), "{t}");
        }
        assert!(text(&sweep, Lang::Zh).contains("中位数"));
    }

    /// Every tick is a round number, the top at or above the largest value.
    #[test]
    fn axis_ticks_are_round() {
        for (max, step, top) in [
            (563.0, 100.0, 600.0),
            (8331.0, 2000.0, 10000.0),
            (2.0, 0.5, 2.0),
            (0.37, 0.1, 0.4),
            (1.0, 0.2, 1.0),
        ] {
            let (s, t) = round_axis(max);
            assert!(
                (s - step).abs() < 1e-9 && (t - top).abs() < 1e-9,
                "{max}: {s} {t}"
            );
        }
        let svg = svg(&sweep(), Metric::SenderCpu, Lang::En);
        assert!(svg.contains("untraced pass"), "{svg}");
    }
}
