//! Styles. The kind of an arrow is carried by its shape and label first
//! (═ DMA, ─ CPU copy, ┈ reference, ┄ mapping, ~ software transmit), colour
//! second, so the picture reads in monochrome, in 16 colours and on a
//! projector (high contrast: no dim grey, everything bold).

use ratatui::style::{Color, Modifier, Style};

use crate::model::Movement;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
    pub high_contrast: bool,
}

impl Theme {
    /// Colour unless `NO_COLOR` is set (https://no-color.org).
    pub fn from_env(high_contrast: bool) -> Theme {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Theme {
            color: !no_color,
            high_contrast,
        }
    }

    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::default().fg(c)
        } else {
            Style::default()
        }
    }

    pub fn base(&self) -> Style {
        if self.high_contrast {
            Style::default().add_modifier(Modifier::BOLD)
        } else {
            Style::default()
        }
    }

    /// Things with no event yet.
    pub fn dim(&self) -> Style {
        if self.high_contrast {
            Style::default()
        } else if self.color {
            Style::default().fg(Color::DarkGray)
        } else {
            Style::default().add_modifier(Modifier::DIM)
        }
    }

    pub fn title(&self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)
    }

    pub fn section(&self) -> Style {
        self.base().add_modifier(Modifier::BOLD)
    }

    /// The item being played now.
    pub fn active(&self) -> Style {
        self.base()
            .add_modifier(Modifier::BOLD | Modifier::REVERSED)
    }

    pub fn badge(&self) -> Style {
        self.fg(Color::Yellow)
            .add_modifier(Modifier::BOLD | Modifier::REVERSED)
    }

    pub fn error(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    pub fn movement(&self, m: Movement) -> Style {
        let c = match m {
            Movement::Dma => Color::Blue,
            Movement::CpuCopy => Color::Red,
            Movement::Reference => Color::Green,
            Movement::Mapping => Color::Magenta,
            Movement::Pin => Color::LightGreen,
            Movement::SoftwareTransmit => Color::Cyan,
            Movement::Cipher => Color::LightYellow,
        };
        let s = self.base().patch(self.fg(c));
        if self.high_contrast || !self.color {
            s.add_modifier(Modifier::BOLD)
        } else {
            s
        }
    }

    pub fn kernel_lane(&self) -> Style {
        self.base().patch(self.fg(Color::Yellow))
    }
}

/// Line characters per movement: (horizontal, vertical, head right, head down).
pub fn strokes(m: Movement) -> (char, char, char, char) {
    match m {
        Movement::Dma => ('═', '║', '>', 'v'),
        Movement::CpuCopy => ('─', '│', '>', 'v'),
        Movement::Reference => ('┈', '┊', '>', 'v'),
        Movement::Mapping => ('┄', '┆', '>', 'v'),
        Movement::Pin => ('╍', '╏', '>', 'v'),
        Movement::SoftwareTransmit => ('~', '~', '>', 'v'),
        Movement::Cipher => ('≈', '≈', '>', 'v'),
    }
}
