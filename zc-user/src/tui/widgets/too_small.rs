//! What a terminal too small for the diagram gets instead: a sentence
//! saying so, with its size, never a garbled picture.

use ratatui::{
    buffer::Buffer,
    layout::Rect,
    widgets::{Paragraph, Widget, Wrap},
};

use super::Ctx;
use crate::tui::text;

pub struct TooSmall<'a>(pub Ctx<'a>);

impl Widget for TooSmall<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let ctx = self.0;
        let msg = format!(
            "{} {}×{}. {}",
            text::TOO_SMALL.get(ctx.app.lang()),
            area.width,
            area.height,
            ctx.pick(
                "Enlarge it, or press q to quit.",
                "请放大终端，或按 q 退出。"
            )
        );
        Paragraph::new(msg)
            .style(ctx.theme.base())
            .wrap(Wrap { trim: true })
            .render(area, buf);
    }
}
