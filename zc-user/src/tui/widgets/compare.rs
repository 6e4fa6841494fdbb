//! The compare view: every strategy of the table side by side, one row
//! each, then bar charts of the figures the lesson turns on (CPU-copied
//! bytes, mode switches, the sender's CPU per MiB), as many as the terminal
//! has room for. It is also the list strategies are picked from (↑ ↓ and
//! Enter). However many the table holds, the view keeps its first chart:
//! when the rows and one chart do not fit, it shows a page of rows, the
//! one with the selected strategy, and says which.

use ratatui::{
    buffer::Buffer,
    layout::{Constraint, Layout, Rect},
    widgets::Widget,
};

use super::Ctx;
use crate::{
    model::Movement,
    strategy::{COUNT, Strategy},
    tui::text::Lang,
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
    /// Shown only where some run saw a DMA engine.
    engines_only: bool,
}

const CHARTS: [Chart; 4] = [
    Chart {
        en: "CPU-copied bytes",
        zh: "CPU 拷贝字节",
        style: Movement::CpuCopy,
        value: |p| p.outcome.figures.cpu_copy_bytes,
        fmt: fmt_bytes,
        engines_only: false,
    },
    // The article's other copies: the engines', the same for every
    // strategy. Shown where an engine was seen (runs over NICs).
    Chart {
        en: "DMA-moved bytes: disk + NIC out + NIC in",
        zh: "DMA 搬运字节：磁盘 + 网卡发送 + 网卡接收",
        style: Movement::Dma,
        value: dma_bytes,
        fmt: fmt_bytes,
        engines_only: true,
    },
    Chart {
        en: "mode switches",
        zh: "模式切换",
        style: Movement::SoftwareTransmit,
        value: |p| p.outcome.figures.mode_switches,
        fmt: |v| v.to_string(),
        engines_only: false,
    },
    Chart {
        en: "sender CPU per MiB",
        zh: "每 MiB 发送方 CPU",
        style: Movement::Dma,
        value: cpu_per_mib,
        fmt: fmt_ns,
        engines_only: false,
    },
];

fn dma_bytes(p: &Played) -> u64 {
    let f = &p.outcome.figures;
    f.disk_dma_bytes + f.dma_bytes + f.nic_rx.dma_payload_bytes
}

/// The charts this set of runs has figures for: the DMA chart only where
/// some run saw an engine.
fn charts_for<'c>(runs: impl Iterator<Item = &'c Played>) -> Vec<&'static Chart> {
    let dma = runs.into_iter().any(|p| dma_bytes(p) > 0);
    CHARTS.iter().filter(|c| dma || !c.engines_only).collect()
}

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

/// How many strategies a page shows when `total` are to be compared in
/// `area`: all of them if they fit with a chart, else as many as fit with
/// one chart (heading, header, rows, gap, chart title, bars).
fn page_len(area: Rect, total: usize) -> usize {
    let fit = (area.height.saturating_sub(4) / 2).max(1) as usize;
    total.min(fit)
}

/// The strategies of the page that holds `selected`, pages counted from
/// the table's start.
fn page_of(selected: usize, total: usize, len: usize) -> std::ops::Range<usize> {
    let len = len.max(1);
    let start = (selected.min(total.saturating_sub(1)) / len) * len;
    start..(start + len).min(total)
}

/// The rows of the view for `n` strategies: heading, column header, one row
/// per strategy, then for each chart that fits a blank line (when there is
/// room for it) and the chart (its title and one bar per strategy).
/// Returns the areas and how many charts fit.
fn rows_for(area: Rect, n: u16, available: usize) -> (std::rc::Rc<[Rect]>, usize) {
    let room = area.height.saturating_sub(3 + n);
    let mut charts = (room / (n + 2)).min(available as u16);
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
        let selected = ctx.app.selected();
        let page = page_of(selected.index(), COUNT, page_len(area, COUNT));
        let shown: Vec<Strategy> = Strategy::all().skip(page.start).take(page.len()).collect();
        let available = charts_for(ctx.app.runs());
        let (rows, charts) = rows_for(area, shown.len() as u16, available.len());

        let size = ctx.app.runs().next().map_or(0, |p| p.outcome.facts.size);
        let mut head = match ctx.app.lang() {
            Lang::En => format!(
                " measured, {} file (the published model in brackets)",
                fmt_bytes(size)
            ),
            Lang::Zh => {
                format!(" 实测，{} 文件（方括号内为已发表的模型）", fmt_bytes(size))
            }
        };
        if page.len() < COUNT {
            head += &match ctx.app.lang() {
                Lang::En => format!(" · {}-{} of {COUNT}, ↑↓", page.start + 1, page.end),
                Lang::Zh => format!(
                    " · 第 {}-{} 项，共 {COUNT} 项，↑↓",
                    page.start + 1,
                    page.end
                ),
            };
        }
        buf.set_stringn(
            rows[0].x,
            rows[0].y,
            head,
            rows[0].width as usize,
            t.section(),
        );
        // The rows' numbers are as wide as the table's last.
        let w = COUNT.to_string().len();
        let pad = w + 2;
        let header = format!(
            "{:pad$}{}{:>11}{:>17}{:>11}{:>8}{:>9}",
            "",
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
        for (i, &s) in shown.iter().enumerate() {
            // The selected row, the one Enter picks, is marked.
            let mark = if s == selected { '›' } else { ' ' };
            let line = match ctx.app.run_of(s) {
                Some(p) => {
                    let f = &p.outcome.figures;
                    format!(
                        "{mark}{:>w$} {:<16}{:>11}{:>17}{:>11}{:>8}{:>9}",
                        s.number(),
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
                // A recording made before the strategy joined the table,
                // or a kernel without its mechanism.
                None if !ctx.app.source().offers(s) => {
                    let (en, zh) = ctx.app.source().why_missing();
                    format!(
                        "{mark}{:>w$} {:<16}  {}",
                        s.number(),
                        s.name(),
                        ctx.pick(en, zh)
                    )
                }
                None => format!("{mark}{:>w$} {:<16}{:>11}", s.number(), s.name(), "…"),
            };
            let y = rows[2].y + i as u16;
            buf.set_stringn(rows[2].x, y, line, rows[2].width as usize, t.base());
        }
        for (c, chart) in available.iter().take(charts).enumerate() {
            let r = rows[4 + 2 * c];
            buf.set_string(r.x + 1, r.y, ctx.pick(chart.en, chart.zh), t.section());
            let max = ctx.app.runs().map(chart.value).max().unwrap_or(0).max(1);
            let room = r.width.saturating_sub(32) as u64;
            for (i, &s) in shown.iter().enumerate() {
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

    /// More strategies than 80×24 holds: pages of nine, each with its
    /// chart, and every strategy on exactly one page.
    #[test]
    fn twenty_five_strategies_page_by_nine_and_keep_their_chart() {
        let body = Rect::new(0, 1, 80, 22);
        let len = page_len(body, 25);
        assert_eq!(len, 9);
        let (rows, charts) = rows_for(body, len as u16, 3);
        assert_eq!(charts, 1, "the chart stays");
        assert!(rows[4].bottom() <= body.bottom());
        let mut seen = Vec::new();
        for sel in 0..25 {
            let page = page_of(sel, 25, len);
            assert!(page.contains(&sel), "{sel} shown on its page {page:?}");
            assert!(page.len() <= len);
            if page.start == sel {
                seen.extend(page);
            }
        }
        assert_eq!(seen, (0..25).collect::<Vec<_>>());
        // All on one page when they fit.
        assert_eq!(page_of(8, 9, page_len(body, 9)), 0..9);
    }

    /// In 80×24 (22 rows between title and footer) nine strategies fit with
    /// their table and one chart; four get two charts, 120×40 all three.
    #[test]
    fn nine_strategies_fit_in_80x24() {
        let body = Rect::new(0, 1, 80, 22);
        let (rows, charts) = rows_for(body, 9, 3);
        assert_eq!(charts, 1);
        assert_eq!(rows[2].height, 9, "one row per strategy");
        assert_eq!(rows[4].height, 10, "a chart title and nine bars");
        assert!(rows[4].bottom() <= body.bottom());
        let (_, charts) = rows_for(body, 4, 3);
        assert_eq!(charts, 2);
        let (_, charts) = rows_for(Rect::new(0, 1, 120, 38), 4, 3);
        assert_eq!(charts, 3);
    }
}
