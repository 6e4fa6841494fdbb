//! What each traced process did, in a sentence (the report's verdicts, in
//! the view's language), and last, when some task ran where no program of
//! zc could see it, a line that says so: the figures above miss whatever
//! ran on its stack.

use ratatui::{
    buffer::Buffer,
    layout::Rect,
    style::{Modifier, Style},
    text::Line,
    widgets::{Paragraph, Widget},
};

use super::Ctx;
use crate::lang::Lang;

pub struct Verdicts<'a>(pub Ctx<'a>);

impl Widget for Verdicts<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (state, lang) = (self.0.app.shown(), self.0.lang());
        let room = area.height as usize;
        let unseen: Vec<String> = state
            .reports
            .iter()
            .filter_map(|r| crate::trace_report::unseen(r, lang))
            .take(1)
            .chain(
                state
                    .reports
                    .iter()
                    .filter_map(|r| crate::trace_report::not_traced(r, lang))
                    .take(1),
            )
            .collect();
        let lines: Vec<Line> = state
            .reports
            .iter()
            .flat_map(|r| crate::trace_report::verdicts(r, lang))
            .take(room.saturating_sub(unseen.len()))
            .chain(unseen)
            .map(|v| Line::from(format!(" {v}")))
            .collect();
        let none = match lang {
            Lang::En => " no process has moved data yet",
            Lang::Zh => " 还没有进程搬运数据",
        };
        Paragraph::new(if lines.is_empty() {
            vec![Line::from(none)]
        } else {
            lines
        })
        .style(Style::default().add_modifier(Modifier::BOLD))
        .render(area, buf);
    }
}
