//! One sentence for the step being played (what moved, and why it matters),
//! and under it when it fits, the time since the run's start and the
//! tracepoints that prove the step.

use ratatui::{
    buffer::Buffer,
    layout::Rect,
    text::{Line, Span},
    widgets::{Paragraph, Widget, Wrap},
};
use unicode_width::UnicodeWidthStr as _;

use super::{Ctx, page_map};
use crate::{
    tui::{playback::Item, text},
    units::fmt_ns,
};

pub struct Narration<'a>(pub Ctx<'a>);

fn fmt_us(ns: u64) -> String {
    if ns < 10_000_000 {
        format!("{} µs", ns / 1000)
    } else {
        fmt_ns(ns)
    }
}

impl Widget for Narration<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let Ctx { app, theme: t } = self.0;
        let Some(played) = app.current() else {
            return;
        };
        let item = played.plan.items.get(app.pos());
        let line = match item {
            // A stepped run's last step is where the kernel stands: narrate it.
            _ if app.at_end() && !app.stepping_now() => text::done(app.lang()),
            Some(it) => text::narrate(it, app.lang()),
            None => String::new(),
        };
        let ts = match item {
            Some(Item::Step { ts_ns, .. }) | Some(Item::Group { ts_ns, .. }) => {
                let t0 = played.outcome.events.first().map_or(0, |e| e.t());
                format!("t+{} ", fmt_us(ts_ns.saturating_sub(t0)))
            }
            None => String::new(),
        };
        let evidence = match item {
            Some(Item::Step { evidence, .. }) if !evidence.is_empty() => {
                format!("  [{evidence}]")
            }
            _ => String::new(),
        };
        let mut lines = vec![Line::from(vec![
            Span::styled("> ", t.section()),
            Span::styled(line.clone(), t.base()),
        ])];
        // When the device sent file pages as frags, the page that proves
        // it: under the sentence, before the evidence when both fit.
        let proof = played
            .plan
            .touched
            .get(app.pos())
            .filter(|_| !app.at_end() || app.stepping_now())
            .and_then(|touched| page_map::proof(touched, app.lang()));
        let fits = line.width() + 2 <= area.width as usize;
        if let Some(proof) = proof.filter(|_| fits) {
            lines.push(Line::styled(format!("  {proof}"), t.base()));
        }
        // A stepped run's sender may be preempted on its way to its first
        // gate (a measured step): it still waits before its first call,
        // and the screen keeps saying so.
        if app.stepping_now()
            && played.outcome.tally.syscalls == 0
            && lines.len() < area.height as usize
        {
            lines.push(Line::styled(
                format!(
                    "  {}",
                    text::waits_before_first_call(app.strategy().name(), app.lang())
                ),
                t.base(),
            ));
        } else if fits && lines.len() < area.height as usize {
            // The evidence line only when the narration fits on one line.
            lines.push(Line::from(vec![
                Span::styled(format!("  {ts}"), t.dim()),
                Span::styled(evidence, t.dim()),
            ]));
        }
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .render(area, buf);
    }
}
