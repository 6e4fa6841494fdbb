//! The footer: the keys, what is being measured, or the last notice (where
//! a trace was written, why a run failed).

use ratatui::{buffer::Buffer, layout::Rect, widgets::Widget};

use super::Ctx;
use crate::{
    strategy::{Strategy, gate::StepUnit},
    tui::text,
};

pub struct Footer<'a>(pub Ctx<'a>);

impl Widget for Footer<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let Ctx { app, theme: t } = self.0;
        let keys = Strategy::key_range();
        let mut s = match app.lang() {
            text::Lang::En => format!(
                " {keys} strategy  space pause  \u{2190}\u{2192} step  +- speed  c compare  l \u{4e2d}\u{6587}  ? help  q quit"
            ),
            text::Lang::Zh => format!(
                " {keys} 策略  空格 暂停  \u{2190}\u{2192} 单步  +- 速度  c 对比  l English  ? 帮助  q 退出"
            ),
        };
        if app.stepping_now() {
            let unit = match (app.step_unit(), app.lang()) {
                (Some(StepUnit::Iteration), text::Lang::En) => "next iteration",
                (Some(StepUnit::Iteration), text::Lang::Zh) => "下一轮循环",
                (_, text::Lang::En) => "next call",
                (_, text::Lang::Zh) => "下一次调用",
            };
            s = match app.lang() {
                text::Lang::En => format!(
                    " Enter {unit}  g run to the end  s stop stepping  l \u{4e2d}\u{6587}  ? help  q quit"
                ),
                text::Lang::Zh => {
                    format!(" 回车 {unit}  g 运行到底  s 停止单步  l English  ? 帮助  q 退出")
                }
            };
        } else if let Some(m) = app.measuring() {
            s = format!(
                " {} {}… {}",
                text::MEASURING.get(app.lang()),
                m.name(),
                s.trim_start()
            );
        }
        let mut style = t.dim();
        if app.measuring().is_none()
            && let Some(n) = app.notice()
        {
            s = format!(" {n}");
            style = t.base();
        }
        // zc's own cost, where the line has room for it after the keys.
        if let Some(played) = app.current() {
            let o = &played.outcome;
            let cost = crate::model::cost::TracingCost::of(&o.counts, o.transfer_cpu_ns(), "CPU");
            if cost.measured {
                let c = format!(
                    "eBPF {} · {:.0} ns/run · {:.1} % of CPU ",
                    crate::units::fmt_ns(cost.ebpf_ns),
                    cost.ns_per_run.unwrap_or(0.0),
                    100.0 * cost.share_of_cpu.unwrap_or(0.0)
                );
                let used = unicode_width::UnicodeWidthStr::width(s.as_str());
                let w = unicode_width::UnicodeWidthStr::width(c.as_str());
                if used + w + 2 <= area.width as usize {
                    buf.set_string(area.x + area.width - w as u16, area.y, &c, t.dim());
                }
            }
        }
        buf.set_stringn(area.x, area.y, &s, area.width as usize, style);
    }
}
