//! The live view's widgets, one per file, each drawn from the app state
//! alone (no I/O, no locks, no allocation that outlives the frame). The
//! screen (`super::screen`) places them with ratatui's `Layout`; the
//! exporters draw through the same widgets.

pub mod compare;
pub mod diagram;
pub mod footer;
pub mod help;
pub mod lane;
pub mod legend;
pub mod narration;
pub mod page_map;
pub mod table;
pub mod title;
pub mod too_small;

use super::{app::App, text::Lang, theme::Theme};

/// What every widget reads: the app's state and the theme of this frame.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub app: &'a App,
    pub theme: &'a Theme,
}

impl Ctx<'_> {
    /// `en` or `zh`, as the app's language says.
    pub fn pick(&self, en: &'static str, zh: &'static str) -> &'static str {
        match self.app.lang() {
            Lang::En => en,
            Lang::Zh => zh,
        }
    }
}
