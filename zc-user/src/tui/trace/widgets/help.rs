//! The help overlay of the trace view: how to read the arrows, and the
//! keys, in the view's language. Any key closes it.

use ratatui::{
    buffer::Buffer,
    layout::Rect,
    text::Line,
    widgets::{Block, Borders, Clear, Paragraph, Widget},
};

use super::Ctx;
use crate::lang::Lang;

const EN: [&str; 10] = [
    "Each arrow: MiB/s over the last second, and its share of",
    "the bytes sent so far. Red: the CPU copies. Green: pages",
    "passed by reference (the device's frags are file pages).",
    "All figures are in-kernel totals of the followed processes.",
    "",
    "space/p  pause the picture (tracing goes on)",
    "l        English / 中文",
    "r        write the recording now (--record, or zc-trace-*.zctrace)",
    "q        stop tracing and print the report",
    "?        this help (any key closes it)",
];

const ZH: [&str; 10] = [
    "每个箭头：最近一秒的 MiB/s，以及占目前已发送字节的比例。",
    "红色：CPU 拷贝。绿色：按引用传递的页面（设备的分片就是",
    "文件的页面）。",
    "所有数字都是被跟踪进程在内核中的累计值。",
    "",
    "空格/p  暂停画面（跟踪继续）",
    "l       English / 中文",
    "r       立即写出录制（--record，或 zc-trace-*.zctrace）",
    "q       停止跟踪并打印报告",
    "?       本帮助（按任意键关闭）",
];

pub struct Help<'a>(pub Ctx<'a>);

impl Widget for Help<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let w = 66.min(area.width);
        let h = 12.min(area.height);
        let r = Rect::new(area.x + (area.width - w) / 2, area.y + 3, w, h);
        Clear.render(r, buf);
        let (lines, title) = match self.0.lang() {
            Lang::En => (EN, " help "),
            Lang::Zh => (ZH, " 帮助 "),
        };
        Paragraph::new(lines.into_iter().map(Line::from).collect::<Vec<_>>())
            .block(Block::default().borders(Borders::ALL).title(title))
            .render(r, buf);
    }
}
