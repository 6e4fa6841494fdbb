//! The legend: how each kind of arrow looks (line style carries the kind
//! even in monochrome), then the probes' state, lost events and whether the
//! receiver got the file intact.

use ratatui::{
    buffer::Buffer,
    layout::Rect,
    text::{Line, Span},
    widgets::Widget,
};

use super::Ctx;
use crate::{model::Movement, units::fmt_bytes};

pub struct Legend<'a>(pub Ctx<'a>);

/// Every kind of arrow. DMA and the CPU copy are always listed (the story
/// is about them); the others only when the run made them, five at most.
const ITEMS: [(Movement, &str, &str, &str); 7] = [
    (Movement::Dma, "══>", "DMA, no CPU", "DMA，不占 CPU"),
    (Movement::CpuCopy, "──>", "CPU copy", "CPU 拷贝"),
    (Movement::Reference, "┈┈>", "page reference", "页面引用"),
    (Movement::Mapping, "┄┄>", "mapping (mmap)", "映射 (mmap)"),
    (Movement::Pin, "╍╍>", "pinned pages", "钉住的页面"),
    (
        Movement::SoftwareTransmit,
        "~~>",
        "software xmit",
        "软件发送",
    ),
    (Movement::Cipher, "≈≈>", "cipher pass (CPU)", "加解密 (CPU)"),
];

impl Widget for Legend<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let ctx = self.0;
        let Ctx { app, theme: t } = ctx;
        let Some(played) = app.current() else {
            return;
        };
        let made = |m: Movement| {
            played
                .outcome
                .figures
                .movements
                .iter()
                .any(|f| f.movement == m)
        };
        let shown = ITEMS
            .iter()
            .filter(|(m, ..)| matches!(m, Movement::Dma | Movement::CpuCopy) || made(*m))
            .take(5);
        for (i, (m, arrow, en, zh)) in shown.enumerate() {
            if i as u16 >= area.height {
                return;
            }
            let line = Line::from(vec![
                Span::styled(format!("│ {arrow} "), t.movement(*m)),
                Span::styled(ctx.pick(en, zh), t.base()),
            ]);
            buf.set_line(area.x, area.y + i as u16, &line, area.width);
        }
        let r = &played.outcome;
        if area.height > 5 {
            let lost = r.lost_events;
            let s = format!(
                "│ {} · lost {}",
                app.probes().replace(" attached", ""),
                lost
            );
            let style = if lost > 0 { t.error() } else { t.dim() };
            buf.set_stringn(area.x, area.y + 5, s, area.width as usize, style);
        }
        if area.height > 6 {
            // A stepped run in progress: the receiver's copies so far (its
            // CRC is checked when the run ends).
            let s = if app.stepping_now() {
                format!(
                    "│ recv {} so far",
                    fmt_bytes(played.outcome.tally.receiver_copy_bytes)
                )
            } else {
                format!(
                    "│ recv {} {}",
                    fmt_bytes(r.received_bytes),
                    if r.received_ok { "ok" } else { "BAD" }
                )
            };
            buf.set_stringn(area.x, area.y + 6, s, area.width as usize, t.dim());
        }
    }
}
