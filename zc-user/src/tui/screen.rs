//! The whole screen, placed with ratatui's `Layout` and drawn from the app
//! state alone: title bar, then the diagram view (mode-switch lane, copy
//! diagram, narration, the ledger's verdict, the measured table beside the
//! legend, and on a large terminal the file's page map) or the compare
//! view, then the footer; the help overlay on top. A terminal smaller than
//! 80×24 gets a sentence instead.
//!
//! The screen uses the room it has: at 80×24 the compact picture; from
//! 120×40 the large one (boxes that say what they hold, arrows that carry
//! their bytes, a third line of narration) and the page map below the
//! table, in the rows left (a few at 120×40, most of the screen at 200×50).

use ratatui::{
    Frame,
    buffer::Buffer,
    layout::{Constraint, Layout, Rect},
    text::Line,
    widgets::{Paragraph, Widget},
};

use super::{
    app::{App, View},
    text,
    theme::Theme,
    widgets::{
        Ctx, compare::Compare, diagram, diagram::Diagram, footer::Footer, help::Help, lane::Lane,
        legend::Legend, narration::Narration, page_map::PageMapView, table, table::Table,
        title::Title, too_small::TooSmall,
    },
};

pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;

/// The table's width: the legend takes the rest.
const TABLE_WIDTH: u16 = 50;
/// Rows the table and legend take when the page map is below them.
const TABLE_HEIGHT: u16 = 8;

/// From this size on, the large picture.
pub const LARGE: (u16, u16) = (120, 40);
/// Rows the page map needs at least: its title, two rows of cells, its
/// legend and its caption.
const PAGE_MAP_MIN_HEIGHT: u16 = 5;

fn at_least(area: Rect, (w, h): (u16, u16)) -> bool {
    area.width >= w && area.height >= h
}

pub fn theme(app: &App) -> Theme {
    Theme::from_env(app.high_contrast())
}

/// Draws the app into a frame.
pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    render(app, area, frame.buffer_mut());
}

/// Draws the app into a buffer (the same code serves the terminal, the
/// exporters and the tests).
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let t = theme(app);
    let ctx = Ctx { app, theme: &t };
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        TooSmall(ctx).render(area, buf);
        return;
    }
    let [title, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    Title(ctx).render(title, buf);
    match app.view() {
        View::Diagram => diagram_view(ctx, body, area, buf),
        View::Compare => Compare(ctx).render(body, buf),
    }
    Footer(ctx).render(footer, buf);
    if app.help_shown() {
        Help(ctx).render(area, buf);
    }
}

fn diagram_view(ctx: Ctx<'_>, area: Rect, screen: Rect, buf: &mut Buffer) {
    let (app, t) = (ctx.app, ctx.theme);
    let Some(diagram) = Diagram::of(ctx) else {
        let msg = match app.error() {
            Some(e) => Line::styled(format!(" {e}"), t.error()),
            None if app.stepping_now() => Line::styled(
                format!(
                    " {}",
                    text::waits_before_first_call(app.strategy().name(), app.lang())
                ),
                t.base(),
            ),
            None => Line::styled(
                format!(
                    " {} {}…",
                    text::MEASURING.get(app.lang()),
                    app.strategy().name()
                ),
                t.base(),
            ),
        };
        Paragraph::new(msg).render(area, buf);
        return;
    };
    // A run that handed work to a kernel thread gets its row when there is
    // room to spare (the lane says the rest on its title line otherwise).
    let helper_row = area.height > 22
        && app
            .current()
            .is_some_and(|p| super::widgets::lane::has_helper(&p.plan.items));
    let large = at_least(screen, LARGE);
    let picture_height = if large {
        diagram::LARGE_HEIGHT
    } else {
        diagram::HEIGHT
    };
    // The page map takes whatever room the rest leaves, when it is enough
    // for a few rows of pages (at 120×40 a few rows, at 200×50 most of the screen).
    let fixed = 3 + helper_row as u16 + picture_height + 2 + large as u16 + 1 + TABLE_HEIGHT;
    let pages = large && area.height >= fixed + PAGE_MAP_MIN_HEIGHT;
    let [lane, picture, narration, rule, bottom, page_map] = Layout::vertical([
        Constraint::Length(3 + helper_row as u16),
        Constraint::Length(picture_height),
        Constraint::Length(2 + large as u16),
        Constraint::Length(1),
        if pages {
            Constraint::Length(TABLE_HEIGHT)
        } else {
            Constraint::Min(0)
        },
        if pages {
            Constraint::Min(0)
        } else {
            Constraint::Length(0)
        },
    ])
    .areas(area);
    Lane(ctx).render(lane, buf);
    // The picture centres itself in the width it is given.
    let picture = if large {
        picture
    } else {
        let [p] = Layout::horizontal([Constraint::Length(diagram::WIDTH)])
            .flex(ratatui::layout::Flex::Center)
            .areas(picture);
        p
    };
    (&diagram).render(picture, buf);
    if pages {
        let [_, map, _] = Layout::horizontal([
            Constraint::Length(1),
            Constraint::Min(0),
            Constraint::Length(1),
        ])
        .areas(page_map);
        PageMapView(ctx).render(map, buf);
    }
    Narration(ctx).render(narration, buf);
    // The rule between the story and the figures carries the ledger's verdict.
    let line = "─".repeat(rule.width as usize);
    buf.set_string(rule.x, rule.y, &line, t.dim());
    if let Some((verdict, balanced)) = table::ledger_line(ctx) {
        let style = if balanced { t.dim() } else { t.error() };
        buf.set_stringn(rule.x + 2, rule.y, verdict, rule.width as usize - 2, style);
    }
    let [table, gap, legend] = Layout::horizontal([
        Constraint::Length(TABLE_WIDTH),
        Constraint::Length(1),
        Constraint::Min(0),
    ])
    .areas(bottom);
    let _ = gap;
    Table(ctx).render(table, buf);
    Legend(ctx).render(legend, buf);
}
