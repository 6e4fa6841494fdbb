//! The trace view's last line: the keys, then what tracing costs (zc's
//! eBPF time, as the kernel measured it) or the latest notice.

use ratatui::{
    buffer::Buffer,
    layout::Rect,
    widgets::{Paragraph, Widget},
};

use super::{Ctx, dim};
use crate::{lang::Lang, units::fmt_ns};

pub struct Footer<'a>(pub Ctx<'a>);

impl Widget for Footer<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.0.app;
        let state = app.shown();
        let keys = match (state.replay, self.0.lang()) {
            (true, Lang::En) => " space pause   ? help   l language   q quit",
            (false, Lang::En) => " space pause   ? help   l language   r record   q quit",
            (true, Lang::Zh) => " 空格 暂停   ? 帮助   l English   q 退出",
            (false, Lang::Zh) => " 空格 暂停   ? 帮助   l English   r 录制   q 退出",
        };
        let cost = state
            .reports
            .first()
            .map(|r| &r.tracing_cost)
            .filter(|c| c.measured)
            .map(|c| {
                format!(
                    "   · eBPF {} ({:.0} ns/run, {:.1} % of busy CPU)",
                    fmt_ns(c.ebpf_ns),
                    c.ns_per_run.unwrap_or(0.0),
                    100.0 * c.share_of_cpu.unwrap_or(0.0)
                )
            })
            .unwrap_or_default();
        let line = match app.notice() {
            Some(n) => format!("{keys}   · {n}"),
            None => format!("{keys}{cost}"),
        };
        Paragraph::new(line).style(dim()).render(area, buf);
    }
}
