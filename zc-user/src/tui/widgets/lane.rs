//! The mode-switch lane, the top half of the article's figures: user mode
//! on top, kernel mode below, each syscall a dip into the kernel labelled
//! with its name. A user-mode page fault is a dip too (an entry the program
//! did not ask for); a fault inside a syscall's copy is marked in the kernel
//! lane (no switch, the thread is already there); `z` marks the scheduler
//! taking the CPU. The lane scrolls: the latest switches stay in view.

use ratatui::{buffer::Buffer, layout::Rect, widgets::Widget};

use super::Ctx;
use crate::{
    model::steps::StepKind,
    tui::{playback::Item, text},
};

pub struct Lane<'a>(pub Ctx<'a>);

/// The two lanes' text, up to and including plan item `upto`.
fn lanes(items: &[Item], upto: usize) -> (String, String) {
    let mut user = String::from("━━");
    let mut kern = String::from("  ");
    let mut in_kernel = false;
    let mut pad = |ku: &str, kk: &str| {
        user.push_str(ku);
        kern.push_str(kk);
    };
    for it in items.iter().take(upto + 1) {
        match it {
            Item::Step { kind, count, .. } => match kind {
                StepKind::Enter { syscall } => {
                    let w = syscall.chars().count() + 2;
                    pad(&format!("┓{}", " ".repeat(w)), &format!("┗ {syscall} "));
                    in_kernel = true;
                }
                StepKind::Exit { .. } => {
                    pad("┏━━", "┛  ");
                    in_kernel = false;
                }
                StepKind::Fault {
                    in_kernel: true, ..
                } => pad("   ", &format!("f{:<2}", count.min(&99))),
                StepKind::Fault {
                    in_kernel: false, ..
                } => pad("┓  ┏━", "┗pf┛ "),
                StepKind::SchedOut { .. } if in_kernel => pad(" ", "z"),
                StepKind::SchedOut { .. } => pad("z", " "),
                StepKind::SchedIn
                | StepKind::Move { .. }
                | StepKind::Block { .. }
                | StepKind::Completion { .. } => {}
            },
            Item::Group { calls, .. } => {
                let s = format!(" ×{calls} ");
                let w = s.chars().count();
                pad(&s, &" ".repeat(w));
            }
        }
    }
    (user, kern)
}

impl Widget for Lane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let Ctx { app, theme: t } = self.0;
        let Some(played) = app.current() else {
            return;
        };
        buf.set_stringn(
            area.x + 1,
            area.y,
            text::MODE_SWITCHES.get(app.lang()),
            area.width.saturating_sub(1) as usize,
            t.section(),
        );
        if area.height < 3 {
            return;
        }
        let (user, kern) = lanes(&played.plan.items, app.pos());
        let width = area.width.saturating_sub(8) as usize;
        let tail = |s: &str| -> String {
            let n = s.chars().count();
            s.chars().skip(n.saturating_sub(width)).collect()
        };
        buf.set_string(area.x + 1, area.y + 1, "user", t.base());
        buf.set_string(area.x + 1, area.y + 2, "kernel", t.base());
        buf.set_string(area.x + 8, area.y + 1, tail(&user), t.base());
        buf.set_string(area.x + 8, area.y + 2, tail(&kern), t.kernel_lane());
    }
}
