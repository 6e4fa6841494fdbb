//! Where the trace view's widgets go: the title, the diagram (78 columns,
//! centred), the lane, the panels taking what room is left, three lines of
//! verdicts and the footer; the help over them. Below 80×24 the view says
//! so in a line and tracing goes on.

use ratatui::{
    buffer::Buffer,
    layout::{Constraint, Layout, Rect},
    widgets::{Paragraph, Widget, Wrap},
};

use super::{
    app::TraceApp,
    widgets::{
        Ctx, diagram::Diagram, footer::Footer, help::Help, lane::Lane, panels::Panels,
        title::Title, verdicts::Verdicts,
    },
};
use crate::lang::Lang;

/// Draws the whole view from the app.
pub fn draw(app: &TraceApp, area: Rect, buf: &mut Buffer) {
    if area.width < 80 || area.height < 24 {
        let line = match app.lang() {
            Lang::En => format!(
                "zc trace needs 80×24 or more (this terminal is {}×{}); the trace goes on, q quits",
                area.width, area.height
            ),
            Lang::Zh => format!(
                "zc trace 需要至少 80×24 的终端（当前为 {}×{}）；跟踪继续，按 q 退出",
                area.width, area.height
            ),
        };
        Paragraph::new(line)
            .wrap(Wrap { trim: true })
            .render(area, buf);
        return;
    }
    let [title, diagram, lane, panels, verdicts, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(11),
        Constraint::Length(1),
        Constraint::Min(5),
        Constraint::Length(3),
        Constraint::Length(1),
    ])
    .areas(area);
    let ctx = Ctx { app };
    Title(ctx).render(title, buf);
    Diagram(ctx).render(diagram, buf);
    Lane(ctx).render(lane, buf);
    Panels(ctx).render(panels, buf);
    Verdicts(ctx).render(verdicts, buf);
    Footer(ctx).render(footer, buf);
    if app.help_shown() {
        Help(ctx).render(area, buf);
    }
}
