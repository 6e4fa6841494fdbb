//! The title bar: which strategy, live or recorded, on which kernel, the
//! playback position and speed, and a PAUSED badge that a person at the
//! back of the room can see.

use ratatui::{buffer::Buffer, layout::Rect, widgets::Widget};
use unicode_width::UnicodeWidthStr as _;

use super::Ctx;
use crate::tui::{
    app::{Source, View},
    text,
};

pub struct Title<'a>(pub Ctx<'a>);

/// "6.18.44-fc-v782" → "6.18.44": the rest is build noise on a projector.
fn short_kernel(k: &str) -> &str {
    k.split('-').next().unwrap_or(k)
}

impl Widget for Title<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let Ctx { app, theme: t } = self.0;
        buf.set_style(area, t.title());
        let (tag, kernel) = match app.source() {
            // A stepped run: the kernel makes each call as the key is pressed.
            Source::Live { kernel, .. } if app.stepping_now() => {
                ("LIVE STEP".to_string(), kernel.as_str())
            }
            Source::Live { kernel, .. } => ("LIVE".to_string(), kernel.as_str()),
            Source::Recording { kernel, label, .. } => {
                (format!("RECORDING {label}"), kernel.as_str())
            }
        };
        let left = match app.view() {
            View::Diagram => format!(
                " zc  {} {}  {tag} linux {}",
                app.strategy().number(),
                text::strategy_title(app.strategy(), app.lang()),
                short_kernel(kernel)
            ),
            View::Compare => format!(" zc  compare  {tag} linux {}", short_kernel(kernel)),
        };
        let step = match app.current() {
            Some(p) if app.view() == View::Diagram => {
                format!("step {}/{}", app.pos() + 1, p.plan.len())
            }
            _ => String::new(),
        };
        let right = format!("{step}  {} ", app.speed_label());
        let badge = if app.paused() {
            text::PAUSED.get(app.lang())
        } else {
            ""
        };
        let right_w = (right.width() + badge.width() + 1) as u16;
        let rx = area.x + area.width.saturating_sub(right.width() as u16);
        // The left part gives way to the step counter and the PAUSED badge.
        buf.set_stringn(
            area.x,
            area.y,
            &left,
            area.width.saturating_sub(right_w) as usize,
            t.title(),
        );
        buf.set_string(rx, area.y, &right, t.title());
        if app.paused() {
            let px = rx.saturating_sub(badge.width() as u16 + 1);
            buf.set_string(px, area.y, badge, t.badge());
        }
    }
}
