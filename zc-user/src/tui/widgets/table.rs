//! The measured table: for each figure, what playback has shown so far,
//! the exact in-kernel total, and the published model's figure (labelled
//! `model`; a dash where no source models the strategy). Its first line is
//! the byte ledger's verdict: every byte explained, or how many are not.

use ratatui::{buffer::Buffer, layout::Rect, widgets::Widget};

use super::Ctx;
use crate::{
    strategy::ModelRow,
    tui::text::{lpad, pad_to},
    units::{fmt_bytes, fmt_ns},
};

pub struct Table<'a>(pub Ctx<'a>);

fn per_mib(ns: u64, size: u64) -> String {
    if size == 0 {
        return "-".into();
    }
    fmt_ns((ns as f64 * (1u64 << 20) as f64 / size as f64) as u64)
}

impl Widget for Table<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let ctx = self.0;
        let Ctx { app, theme: t } = ctx;
        let Some(played) = app.current() else {
            return;
        };
        let o = &played.outcome;
        let f = &o.figures;
        let so_far = played
            .plan
            .so_far
            .get(app.pos())
            .copied()
            .unwrap_or_default();
        let m = app.strategy().spec().model;
        // The model's figure, or a dash where no source models this strategy.
        let model = |g: &dyn Fn(&ModelRow) -> String| m.as_ref().map_or_else(|| "-".into(), g);
        let n = o.facts.chunks();
        let size = o.facts.size;
        let rows: [(&str, String, String, String); 5] = [
            (
                ctx.pick("syscalls", "系统调用"),
                so_far.syscalls.to_string(),
                f.syscall_total.to_string(),
                model(&|a| (a.syscalls as u64 * n).to_string()),
            ),
            (
                ctx.pick("mode switches", "模式切换"),
                so_far.mode_switches.to_string(),
                f.mode_switches.to_string(),
                model(&|a| (a.mode_switches as u64 * n).to_string()),
            ),
            (
                ctx.pick("CPU-copied", "CPU 拷贝"),
                fmt_bytes(so_far.cpu_copy_bytes),
                format!(
                    "{} {:.1}x",
                    fmt_bytes(f.cpu_copy_bytes),
                    f.copy_passes(size)
                ),
                model(&|a| format!("{}x", a.cpu_copies)),
            ),
            (
                ctx.pick("by reference", "引用发送"),
                fmt_bytes(so_far.reference_bytes),
                fmt_bytes(f.reference_bytes),
                "-".into(),
            ),
            (
                ctx.pick("disk → cache", "磁盘 → 缓存"),
                fmt_bytes(so_far.disk_bytes),
                fmt_bytes(f.disk_read_bytes),
                "DMA".into(),
            ),
        ];
        let header = format!(
            "{:<15}{}{}{}",
            "",
            lpad(ctx.pick("played", "已播放"), 9),
            lpad(ctx.pick("measured", "实测"), 15),
            lpad(ctx.pick("model", "模型"), 9)
        );
        buf.set_stringn(area.x, area.y, header, area.width as usize, t.section());
        for (i, (name, played_v, total, art)) in rows.iter().enumerate() {
            let y = area.y + 1 + i as u16;
            if y >= area.y + area.height {
                return;
            }
            let line = format!("{}{:>9}{:>15}{:>9}", pad_to(name, 15), played_v, total, art);
            buf.set_stringn(area.x, y, line, area.width as usize, t.base());
        }
        if area.height > 6 {
            // The sender's CPU is read when its loop ends.
            let cpu = if ctx.app.stepping_now() {
                "–".to_string()
            } else {
                per_mib(o.sender_cpu_ns, size)
            };
            let extra = format!(
                " sched {} · faults {} · cpu {cpu}/MiB",
                f.sched_switches, f.page_faults,
            );
            buf.set_stringn(area.x, area.y + 6, extra, area.width as usize, t.dim());
        }
    }
}

/// The ledger's verdict, for the rule above the table: every byte
/// explained, or how many are not, and what TCP sent again.
pub fn ledger_line(ctx: Ctx<'_>) -> Option<(String, bool)> {
    let o = &ctx.app.current()?.outcome;
    // A stepped run in progress has sent part of the file: its ledger
    // balances only at the end.
    if ctx.app.stepping_now() {
        let got = o.tally.receiver_copy_bytes;
        return Some((
            match ctx.app.lang() {
                crate::tui::text::Lang::En => format!(
                    " ledger: run in progress, the receiver has {} of {} so far ",
                    fmt_bytes(got),
                    fmt_bytes(o.facts.size)
                ),
                crate::tui::text::Lang::Zh => format!(
                    " 字节账本：运行中，接收方已收到 {} / {} ",
                    fmt_bytes(got),
                    fmt_bytes(o.facts.size)
                ),
            },
            true,
        ));
    }
    let l = &o.figures.ledger;
    let resent = if l.retransmitted_bytes > 0 {
        format!(
            " · {} {}",
            ctx.pick("re-sent", "重传"),
            fmt_bytes(l.retransmitted_bytes)
        )
    } else {
        String::new()
    };
    // Bytes whose events the kernel skipped are not explained by an event:
    // the line says so rather than claim every byte was seen.
    let skipped: u64 = l.hops.iter().map(|h| h.skipped_bytes).sum();
    let unseen = if skipped > 0 {
        format!(
            " · {} {}",
            fmt_bytes(skipped),
            ctx.pick(
                "in probe runs the kernel skipped",
                "落在内核跳过的探针运行中"
            )
        )
    } else {
        String::new()
    };
    Some(if l.unexplained_bytes == 0 {
        (
            format!(
                " {}{resent}{unseen} ",
                ctx.pick("ledger: every byte explained", "字节账本：每个字节都有去处")
            ),
            true,
        )
    } else {
        (
            format!(
                " {} {}{resent} ",
                ctx.pick("ledger: unexplained", "字节账本：无法解释"),
                fmt_bytes(l.unexplained_bytes)
            ),
            false,
        )
    })
}
