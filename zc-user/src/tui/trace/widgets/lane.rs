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
        let traced = self.0.app.shown().syscalls_traced();
        draw(&self.0.app.rates(), traced, self.0.lang(), area, buf);
    }
}

fn draw(r: &Rates, syscalls_traced: bool, lang: Lang, area: Rect, buf: &mut Buffer) {
    let label = match lang {
        Lang::En => "mode switches",
        Lang::Zh => "用户态/内核态切换",
    };
    let switches = if syscalls_traced {
        format!(
            "{:.0}/s ({:.0} syscalls/s, {:.0} faults/s)",
            r.mode_switches, r.syscalls, r.faults
        )
    } else {
        // Faults are still counted; syscalls, and so the total, are not.
        match lang {
            Lang::En => format!("not traced (--no-syscalls; {:.0} faults/s)", r.faults),
            Lang::Zh => format!("未跟踪（--no-syscalls；缺页 {:.0}/s）", r.faults),
        }
    };
    Paragraph::new(format!(
        " {label} {switches} · blocked {:.0}/s · preempted {:.0}/s",
        r.blocked, r.preempted
    ))
    .style(Style::default().fg(Color::Cyan))
    .render(area, buf);
}
