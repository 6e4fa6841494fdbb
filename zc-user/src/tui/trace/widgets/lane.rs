//! The mode-switch lane of a traced program: its user/kernel switches per
//! second, split into syscalls and faults, and how often its threads
//! blocked or were preempted. Rates of the last second, from the kernel's
//! totals.

use ratatui::{
    buffer::Buffer,
    layout::Rect,
    style::{Color, Style},
    widgets::{Paragraph, Widget},
};

use super::Ctx;
use crate::{lang::Lang, model::tree::Rates};

pub struct Lane<'a>(pub Ctx<'a>);

impl Widget for Lane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        draw(&self.0.app.rates(), self.0.lang(), area, buf);
    }
}

fn draw(r: &Rates, lang: Lang, area: Rect, buf: &mut Buffer) {
    let label = match lang {
        Lang::En => "mode switches",
        Lang::Zh => "用户态/内核态切换",
    };
    Paragraph::new(format!(
        " {label} {:.0}/s ({:.0} syscalls/s, {:.0} faults/s) · blocked {:.0}/s · preempted {:.0}/s",
        r.mode_switches, r.syscalls, r.faults, r.blocked, r.preempted
    ))
    .style(Style::default().fg(Color::Cyan))
    .render(area, buf);
}
