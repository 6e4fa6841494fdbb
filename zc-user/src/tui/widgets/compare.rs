//! The compare view: every strategy of the table side by side, one row
//! each, then bar charts of the figures the lesson turns on (CPU-copied
//! bytes, mode switches, the sender's CPU per MiB), as many as the terminal
//! has room for. Nine strategies fit in 80×24: the table and one chart.

use ratatui::{
    buffer::Buffer,
    layout::{Constraint, Layout, Rect},
    widgets::Widget,
};

use super::Ctx;
use crate::{
    model::Movement,
    strategy::{COUNT, Strategy},
    tui::{app::Played, text::pad_to},
    units::{fmt_bytes, fmt_ns},
};

pub struct Compare<'a>(pub Ctx<'a>);

type Figure = fn(&Played) -> u64;

/// A bar chart: title in both languages, the arrow style its bars take, the
/// figure and how to print it.
struct Chart {
    en: &'static str,
    zh: &'static str,
    style: Movement,
    value: Figure,
    fmt: fn(u64) -> String,
}

const CHARTS: [Chart; 3] = [
    Chart {
        en: "CPU-copied bytes",
        zh: "CPU 拷贝字节",
        style: Movement::CpuCopy,
        value: |p| p.outcome.figures.cpu_copy_bytes,
        fmt: fmt_bytes,
    },
    Chart {
        en: "mode switches",
        zh: "模式切换",
        style: Movement::SoftwareTransmit,
        value: |p| p.outcome.figures.mode_switches,
        fmt: |v| v.to_string(),
    },
    Chart {
        en: "sender CPU per MiB",
        zh: "每 MiB 发送方 CPU",
        style: Movement::Dma,
        value: cpu_per_mib,
        fmt: fmt_ns,
    },
];

fn cpu_per_mib(p: &Played) -> u64 {
    let size = p.outcome.facts.size.max(1);
    (p.outcome.sender_cpu_ns as f64 * (1u64 << 20) as f64 / size as f64) as u64
}

/// `figure [model]`, or `figure [-]` where no source models the strategy.
fn with_model(
    p: &Played,
    figure: String,
    model: impl Fn(&crate::strategy::ModelRow) -> String,
) -> String {
    let m = p.outcome.facts.strategy.spec().model;
    format!(
        "{figure} [{}]",
        m.as_ref().map_or_else(|| "-".into(), model)
    )
}

/// The rows of the view for `n` strategies: heading, column header, one row
/// per strategy, then for each chart that fits a blank line (when there is
/// room for it) and the chart (its title and one bar per strategy).
/// Returns the areas and how many charts fit.
fn rows_for(area: Rect, n: u16) -> (std::rc::Rc<[Rect]>, usize) {
    let room = area.height.saturating_sub(3 + n);
    let mut charts = (room / (n + 2)).min(CHARTS.len() as u16);
    // Short of room for the blank line, one chart still fits without it.
    let gap = if charts == 0 && room > n { 0 } else { 1 };
    if charts == 0 && room > n {
        charts = 1;
    }
    let mut constraints = vec![
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(n),
    ];
    for _ in 0..charts {
        constraints.push(Constraint::Length(gap));
        constraints.push(Constraint::Length(n + 1));
    }
    constraints.push(Constraint::Min(0));
    (Layout::vertical(constraints).split(area), charts as usize)
}

impl Widget for Compare<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let ctx = self.0;
        let t = ctx.theme;
        let (rows, charts) = rows_for(area, COUNT as u16);

        let size = ctx.app.runs().next().map_or(0, |p| p.outcome.facts.size);
        let head = match ctx.app.lang() {
            crate::tui::text::Lang::En => format!(
                " measured, {} file (the published model in brackets)",
                fmt_bytes(size)
            ),
            crate::tui::text::Lang::Zh => {
                format!(" 实测，{} 文件（方括号内为已发表的模型）", fmt_bytes(size))
            }
        };
        buf.set_stringn(
            rows[0].x,
            rows[0].y,
            head,
            rows[0].width as usize,
            t.section(),
        );
        let header = format!(
            "   {}{:>11}{:>17}{:>11}{:>8}{:>9}",
            pad_to(ctx.pick("strategy", "策略"), 16),
            ctx.pick("syscalls", "系统调用"),
            ctx.pick("CPU-copied", "CPU 拷贝"),
            ctx.pick("by ref", "引用"),
            ctx.pick("faults", "缺页"),
            ctx.pick("unexpl", "未解释"),
        );
        buf.set_stringn(
            rows[1].x,
            rows[1].y,
            header,
            rows[1].width as usize,
            t.section(),
        );
        for (i, s) in Strategy::all().enumerate() {
            let line = match ctx.app.run_of(s) {
                Some(p) => {
                    let f = &p.outcome.figures;
                    format!(
                        " {} {:<16}{:>11}{:>17}{:>11}{:>8}{:>9}",
                        s.spec().key,
                        s.name(),
                        with_model(p, f.syscall_total.to_string(), |m| {
                            (m.syscalls as u64 * p.outcome.facts.chunks()).to_string()
                        }),
                        with_model(p, fmt_bytes(f.cpu_copy_bytes), |m| {
                            format!("{}x", m.cpu_copies)
                        }),
                        fmt_bytes(f.reference_bytes),
                        f.page_faults,
                        f.ledger.unexplained_bytes
                    )
                }
                None => format!(" {} {:<16}{:>11}", s.spec().key, s.name(), "…"),
            };
            let y = rows[2].y + i as u16;
            buf.set_stringn(rows[2].x, y, line, rows[2].width as usize, t.base());
        }
        for (c, chart) in CHARTS.iter().take(charts).enumerate() {
            let r = rows[4 + 2 * c];
            buf.set_string(r.x + 1, r.y, ctx.pick(chart.en, chart.zh), t.section());
            let max = ctx.app.runs().map(chart.value).max().unwrap_or(0).max(1);
            let room = r.width.saturating_sub(32) as u64;
            for (i, s) in Strategy::all().enumerate() {
                let y = r.y + 1 + i as u16;
                buf.set_string(r.x + 2, y, format!("{:<16}", s.name()), t.base());
                let (bar, v) = match ctx.app.run_of(s) {
                    Some(p) => {
                        let v = (chart.value)(p);
                        let w = (v * room / max) as usize;
                        let bar = if w == 0 {
                            "·".to_string()
                        } else {
                            "█".repeat(w)
                        };
                        (bar, (chart.fmt)(v))
                    }
                    None => ("…".to_string(), String::new()),
                };
                buf.set_string(r.x + 19, y, &bar, t.movement(chart.style));
                buf.set_string(r.x + 20 + bar.chars().count() as u16, y, v, t.dim());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// In 80×24 (22 rows between title and footer) nine strategies fit with
    /// their table and one chart; four get two charts, 120×40 all three.
    #[test]
    fn nine_strategies_fit_in_80x24() {
        let body = Rect::new(0, 1, 80, 22);
        let (rows, charts) = rows_for(body, 9);
        assert_eq!(charts, 1);
        assert_eq!(rows[2].height, 9, "one row per strategy");
        assert_eq!(rows[4].height, 10, "a chart title and nine bars");
        assert!(rows[4].bottom() <= body.bottom());
        let (_, charts) = rows_for(body, 4);
        assert_eq!(charts, 2);
        let (_, charts) = rows_for(Rect::new(0, 1, 120, 38), 4);
        assert_eq!(charts, 3);
    }
}
