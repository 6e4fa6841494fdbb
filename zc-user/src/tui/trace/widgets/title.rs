//! The trace view's title line: the command, whether the picture is live,
//! paused, ended or replayed, how long the trace has run, and how many
//! processes it follows.

use ratatui::{
    buffer::Buffer,
    layout::Rect,
    style::{Modifier, Style},
    widgets::{Paragraph, Widget},
};

use super::Ctx;
use crate::model::tree::TraceState;

pub struct Title<'a>(pub Ctx<'a>);

impl Widget for Title<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.0.app;
        draw(app.shown(), app.paused(), area, buf);
    }
}

fn draw(state: &TraceState, paused: bool, area: Rect, buf: &mut Buffer) {
    let mode = if state.replay {
        "REPLAY"
    } else if state.ended.is_some() {
        "ENDED"
    } else if paused {
        "PAUSED"
    } else {
        "LIVE"
    };
    let procs: usize = state.reports.iter().map(|r| r.pids.len()).sum();
    let mut text = format!(
        " zc trace  {}   {mode}  {:.1} s  {procs} process{}",
        state.title,
        state.elapsed_ns() as f64 / 1e9,
        if procs == 1 { "" } else { "es" }
    );
    if let Some(why) = &state.ended {
        text.push_str(&format!("  · {why}"));
    }
    Paragraph::new(text)
        .style(Style::default().add_modifier(Modifier::REVERSED))
        .render(area, buf);
}
