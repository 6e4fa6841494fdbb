//! One strategy's diagram as an SVG still for slides: the live view's last
//! frame of that run, in its layout and styles, on a dark background.

use std::fmt::Write as _;

use super::frames::{self, HEIGHT, WIDTH};
use crate::{
    model::Strategy,
    recording::Loaded,
    tui::{
        app::{Action, update},
        text::Lang,
    },
};

const CELL_W: f32 = 9.0;
const CELL_H: f32 = 18.0;
const BG: &str = "#1e2127";
const FG: &str = "#dcdfe4";

pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The SVG of `strategy`'s screen at the end of its run.
pub fn export(loaded: &Loaded, strategy: Strategy, lang: Lang) -> String {
    let mut app = frames::app_for(loaded, strategy, lang, false, 1.0);
    let last = app.current().map_or(0, |p| p.plan.len().saturating_sub(1));
    update(
        &mut app,
        Action::Seek {
            pos: last,
            anim: 1.0,
        },
    );
    let screen = frames::screen(&frames::render(&app));
    let (w, h) = (WIDTH as f32 * CELL_W, HEIGHT as f32 * CELL_H);
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="15">"#
    );
    let _ = writeln!(
        s,
        "<title>zc: {} on Linux {} (recorded {}), measured</title>",
        escape(strategy.name()),
        escape(&loaded.meta.kernel),
        escape(&loaded.meta.created)
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="{BG}"/>"#);
    for (y, row) in screen.iter().enumerate() {
        let mut x = 0usize;
        let baseline = (y as f32 + 0.78) * CELL_H;
        for run in row {
            use unicode_width::UnicodeWidthStr as _;
            let cols = run.text.width();
            let fg = run.look.fg.map_or(FG, frames::hex);
            let (fill, back) = if run.look.reversed {
                (BG, Some(fg))
            } else {
                (fg, None)
            };
            if let Some(b) = back {
                let _ = writeln!(
                    s,
                    r#"<rect x="{}" y="{}" width="{}" height="{CELL_H}" fill="{b}"/>"#,
                    x as f32 * CELL_W,
                    y as f32 * CELL_H,
                    cols as f32 * CELL_W
                );
            }
            if !run.text.trim().is_empty() {
                let weight = if run.look.bold {
                    r#" font-weight="bold""#
                } else {
                    ""
                };
                let opacity = if run.look.dim && run.look.fg.is_none() {
                    r#" opacity="0.55""#
                } else {
                    ""
                };
                let _ = writeln!(
                    s,
                    r#"<text x="{}" y="{baseline}" fill="{fill}"{weight}{opacity} textLength="{}" lengthAdjust="spacingAndGlyphs" xml:space="preserve">{}</text>"#,
                    x as f32 * CELL_W,
                    cols as f32 * CELL_W,
                    escape(&run.text)
                );
            }
            x += cols;
        }
    }
    s.push_str("</svg>\n");
    s
}
