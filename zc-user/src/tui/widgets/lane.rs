//! The mode-switch lane, the top half of the article's figures: user mode
//! on top, kernel mode below, each syscall a dip into the kernel labelled
//! with its name. A user-mode page fault is a dip too (an entry the program
//! did not ask for); a fault inside a syscall's copy is marked in the kernel
//! lane (no switch, the thread is already there); `z` marks the scheduler
//! taking the CPU. The lane scrolls: the latest switches stay in view.
//!
//! When the sender hands its work to a kernel thread of its own (io_uring's
//! SQ thread), a third row follows that thread: it makes no syscalls, so
//! it has no mode switches to draw; each request it takes from the
//! submission ring is a mark, the first letter of its name in the table
//! (`R` a READ, `S` a SEND_ZC). With no room for
//! the row, the title line counts them instead.

use ratatui::{buffer::Buffer, layout::Rect, widgets::Widget};

use super::Ctx;
use crate::{
    model::steps::StepKind,
    tui::{playback::Item, text},
};

pub struct Lane<'a>(pub Ctx<'a>);

/// The lanes' text up to and including plan item `upto`: the sender's
/// user and kernel rows, and its kernel thread's row with the number of
/// requests that thread took.
fn lanes(items: &[Item], upto: usize) -> (String, String, String, u64) {
    let mut user = String::from("━━");
    let mut kern = String::from("  ");
    let mut helper = String::new();
    let mut taken = 0u64;
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
                StepKind::Ring {
                    opcode,
                    complete: false,
                    helper: true,
                    ..
                } => {
                    let mark = crate::strategy::request_name(*opcode)
                        .chars()
                        .next()
                        .filter(char::is_ascii_uppercase)
                        .unwrap_or('?');
                    for _ in 0..(*count).min(8) {
                        helper.push(mark);
                    }
                    taken += count;
                }
                StepKind::SchedIn
                | StepKind::Move { .. }
                | StepKind::Block { .. }
                | StepKind::Completion { .. }
                | StepKind::Ring { .. }
                | StepKind::Thread { .. } => {}
            },
            Item::Group { calls, .. } => {
                // A stretch with no syscall (a polled ring) folds to "…".
                let s = if *calls > 0 {
                    format!(" ×{calls} ")
                } else {
                    " … ".to_string()
                };
                let w = s.chars().count();
                pad(&s, &" ".repeat(w));
            }
        }
    }
    (user, kern, helper, taken)
}

/// Whether a run handed work to a kernel thread: the lane wants a row more.
pub fn has_helper(items: &[Item]) -> bool {
    items.iter().any(|it| {
        matches!(
            it,
            Item::Step {
                kind: StepKind::Ring { helper: true, .. },
                ..
            }
        )
    })
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
        let (user, kern, helper, taken) = lanes(&played.plan.items, app.pos());
        let width = area.width.saturating_sub(8) as usize;
        let tail = |s: &str| -> String {
            let n = s.chars().count();
            s.chars().skip(n.saturating_sub(width)).collect()
        };
        buf.set_string(area.x + 1, area.y + 1, "user", t.base());
        buf.set_string(area.x + 1, area.y + 2, "kernel", t.base());
        buf.set_string(area.x + 8, area.y + 1, tail(&user), t.base());
        buf.set_string(area.x + 8, area.y + 2, tail(&kern), t.kernel_lane());
        if !has_helper(&played.plan.items) {
            return;
        }
        if area.height >= 4 {
            buf.set_string(area.x + 1, area.y + 3, "k-thr", t.base());
            buf.set_string(area.x + 8, area.y + 3, tail(&helper), t.kernel_lane());
        } else {
            let title = text::MODE_SWITCHES.get(app.lang());
            let x = area.x + 2 + unicode_width::UnicodeWidthStr::width(title) as u16 + 1;
            let note = match app.lang() {
                text::Lang::En => format!("│ its kernel thread took {taken} requests"),
                text::Lang::Zh => format!("│ 其内核线程取走 {taken} 个请求"),
            };
            buf.set_stringn(
                x,
                area.y,
                note,
                (area.x + area.width).saturating_sub(x) as usize,
                t.kernel_lane(),
            );
        }
    }
}
