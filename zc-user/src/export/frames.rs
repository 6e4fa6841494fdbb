//! The live view's screens outside a terminal: drawn with the same code into
//! a buffer, then read back as rows of styled runs for SVG, HTML and
//! asciicast. One drawing, many outputs, so an exported still or animation
//! is the TUI's layout and styles, not a second picture to keep in step.

use ratatui::{
    buffer::Buffer,
    layout::Rect,
    style::{Color, Modifier},
};
use unicode_width::UnicodeWidthStr as _;

use crate::{
    model::Strategy,
    recording::Loaded,
    tui::{
        app::{Action, App, Source, update},
        screen,
        text::Lang,
    },
};

pub const WIDTH: u16 = 80;
pub const HEIGHT: u16 = 24;

/// The style of a run of cells, reduced to what the outputs can show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Look {
    pub fg: Option<Color>,
    pub bold: bool,
    pub dim: bool,
    pub reversed: bool,
}

/// A run of cells with one look.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    pub text: String,
    pub look: Look,
}

/// A screen as rows of runs.
pub type Screen = Vec<Vec<Run>>;

/// An app over a loaded trace, labelled as a recording, every run handed in.
pub fn app_for(loaded: &Loaded, first: Strategy, lang: Lang, tour: bool, speed: f32) -> App {
    let attached = loaded
        .meta
        .probes
        .iter()
        .filter(|p| p.state == "attached")
        .count();
    let mut app = App::new(
        Source::recording(loaded, loaded.meta.created.get(..10).unwrap_or("")),
        first,
        tour,
        speed,
        lang,
        format!("probes {attached}/{}", loaded.meta.probes.len()),
    );
    // Handing in a run does not change the strategy shown: `first` stays.
    for r in &loaded.runs {
        update(&mut app, Action::RunDone(Box::new(r.clone())));
    }
    app
}

/// Draws the app into a fresh 80×24 buffer.
pub fn render(app: &App) -> Buffer {
    let area = Rect::new(0, 0, WIDTH, HEIGHT);
    let mut buf = Buffer::empty(area);
    screen::render(app, area, &mut buf);
    buf
}

/// Reads a buffer back as rows of styled runs. The cell after a wide
/// (CJK) character is a placeholder and is skipped.
pub fn screen(buf: &Buffer) -> Screen {
    let mut rows = Vec::with_capacity(buf.area.height as usize);
    for y in 0..buf.area.height {
        let mut row: Vec<Run> = Vec::new();
        let mut skip = 0;
        for x in 0..buf.area.width {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let Some(cell) = buf.cell((x, y)) else {
                continue;
            };
            let sym = cell.symbol();
            skip = sym.width().saturating_sub(1);
            let m = cell.modifier;
            let look = Look {
                fg: match cell.fg {
                    Color::Reset => None,
                    c => Some(c),
                },
                bold: m.contains(Modifier::BOLD),
                dim: m.contains(Modifier::DIM) || cell.fg == Color::DarkGray,
                reversed: m.contains(Modifier::REVERSED),
            };
            match row.last_mut() {
                Some(r) if r.look == look => r.text.push_str(sym),
                _ => row.push(Run {
                    text: sym.to_string(),
                    look,
                }),
            }
        }
        rows.push(row);
    }
    rows
}

/// A colour as CSS/SVG hex, for a dark background (the 16 ANSI colours as
/// most terminals draw them).
pub fn hex(c: Color) -> &'static str {
    match c {
        Color::Red => "#e06c75",
        Color::Green => "#98c379",
        Color::Yellow => "#e5c07b",
        Color::Blue => "#61afef",
        Color::Magenta => "#c678dd",
        Color::Cyan => "#56b6c2",
        Color::DarkGray => "#7f848e",
        Color::Gray => "#abb2bf",
        _ => "#dcdfe4",
    }
}

/// ANSI SGR parameters of a look (for asciicast).
pub fn sgr(look: Look) -> String {
    let mut p = vec!["0".to_string()];
    if look.bold {
        p.push("1".into());
    }
    if look.dim {
        p.push("2".into());
    }
    if look.reversed {
        p.push("7".into());
    }
    if let Some(c) = look.fg {
        let code = match c {
            Color::Red => "31",
            Color::Green => "32",
            Color::Yellow => "33",
            Color::Blue => "34",
            Color::Magenta => "35",
            Color::Cyan => "36",
            Color::DarkGray => "90",
            _ => "37",
        };
        p.push(code.into());
    }
    format!("\u{1b}[{}m", p.join(";"))
}
