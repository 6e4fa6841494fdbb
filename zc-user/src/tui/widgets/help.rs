//! The help overlay: every key, in the narration's language. Any key
//! closes it.

use ratatui::{
    buffer::Buffer,
    layout::{Constraint, Flex, Layout, Rect},
    style::Style,
    text::{Line, Span},
    widgets::{Block, Borders, Clear, Paragraph, Widget},
};

use super::Ctx;
use crate::strategy::Strategy;

pub struct Help<'a>(pub Ctx<'a>);

const KEYS: &[(&str, &str, &str)] = &[
    ("space", "pause / resume playback", "暂停 / 继续"),
    ("← →", "step one event back / forward", "后退 / 前进一步"),
    ("+ -", "playback speed", "播放速度"),
    ("Tab", "the next strategy in the table", "表中的下一个策略"),
    ("c", "compare every strategy", "对比所有策略"),
    (
        "↑ ↓ Enter",
        "in the comparison: pick any strategy",
        "对比视图中：选择任一策略",
    ),
    (
        "s",
        "step the kernel live (Enter, then g)",
        "实时单步内核（回车：一次调用，g：其余）",
    ),
    ("l", "English / 中文", "English / 中文"),
    ("h", "high contrast (projectors)", "高对比度（投影）"),
    ("Ctrl-L", "redraw the screen", "重绘屏幕"),
    (
        "r",
        "record the runs to a trace file",
        "把运行记录到跟踪文件",
    ),
    (
        "?",
        "this help (any key closes it)",
        "本帮助（按任意键关闭）",
    ),
    ("q  Ctrl-C", "quit", "退出"),
];

impl Widget for Help<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let ctx = self.0;
        let t = ctx.theme;
        let keys = Strategy::key_range();
        let mut lines = vec![Line::from(vec![
            Span::styled(format!(" {keys:<11}"), t.section()),
            Span::raw(ctx.pick(
                "choose a strategy and measure it again",
                "选择策略并重新测量",
            )),
        ])];
        lines.extend(KEYS.iter().map(|(k, en, zh)| {
            Line::from(vec![
                Span::styled(format!(" {k:<11}"), t.section()),
                Span::styled(ctx.pick(en, zh), Style::default()),
            ])
        }));
        let [row] = Layout::vertical([Constraint::Length(lines.len() as u16 + 2)])
            .flex(Flex::Center)
            .areas(area);
        let [r] = Layout::horizontal([Constraint::Length(60)])
            .flex(Flex::Center)
            .areas(row);
        Clear.render(r, buf);
        let block = Block::default()
            .borders(Borders::ALL)
            .title(ctx.pick(" keys ", " 按键 "))
            .style(t.base());
        let inner = block.inner(r);
        block.render(r, buf);
        Paragraph::new(lines).render(inner, buf);
    }
}
