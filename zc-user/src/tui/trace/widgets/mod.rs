//! `zc trace`'s widgets, one per file, each drawing one part of the
//! screen from the app's state (never from the kernel): the title, the
//! article's diagram with rates on its arrows, the mode-switch lane, the
//! top files and sockets, the verdicts and the help. What they share is
//! here: their words in both languages, the styles of a copy and a
//! reference, and how a figure is printed.

pub mod diagram;
pub mod footer;
pub mod help;
pub mod lane;
pub mod panels;
pub mod title;
pub mod verdicts;

use ratatui::{
    buffer::Buffer,
    layout::Rect,
    style::{Color, Modifier, Style},
};
use unicode_width::UnicodeWidthStr as _;

use super::app::TraceApp;
use crate::lang::{Lang, T};

/// What every widget reads: the app, and the language it speaks.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub app: &'a TraceApp,
}

impl Ctx<'_> {
    pub fn lang(&self) -> Lang {
        self.app.lang()
    }
}

pub(super) const W_USER: T = T {
    en: "user",
    zh: "用户态",
};
pub(super) const W_KERNEL: T = T {
    en: "kernel",
    zh: "内核态",
};
pub(super) const W_MEMORY: T = T {
    en: " process memory ",
    zh: " 进程内存 ",
};
pub(super) const W_CACHE: T = T {
    en: "page cache",
    zh: "页缓存",
};
pub(super) const W_SOCKET: T = T {
    en: "socket buffer",
    zh: "套接字缓冲区",
};
pub(super) const W_DEVICE: T = T {
    en: "device",
    zh: "网络设备",
};
pub(super) const W_READ: T = T {
    en: "read() copy",
    zh: "read() 拷贝",
};
pub(super) const W_SEND: T = T {
    en: "send copy",
    zh: "send 拷贝",
};
pub(super) const W_RECV: T = T {
    en: "recv copy",
    zh: "recv 拷贝",
};
pub(super) const W_REF: T = T {
    en: "by reference",
    zh: "按引用",
};
pub(super) const W_OF_SENT: T = T {
    en: "of sent",
    zh: "占发送",
};
pub(super) const W_NOT_TRACED: T = T {
    en: "not traced",
    zh: "未跟踪",
};

pub(super) fn mib_s(bytes_per_s: f64) -> String {
    format!("{:.1} MiB/s", bytes_per_s / (1024.0 * 1024.0))
}

pub(super) fn share(part: u64, whole: u64) -> String {
    if whole == 0 {
        "–".into()
    } else {
        format!("{:.0} %", 100.0 * part as f64 / whole as f64)
    }
}

/// Styles by kind of movement: copies red, references green, pinned
/// yellow, DMA blue; the glyphs differ too, for monochrome.
pub(super) fn copy_style() -> Style {
    Style::default().fg(Color::Red).add_modifier(Modifier::BOLD)
}
pub(super) fn ref_style() -> Style {
    Style::default()
        .fg(Color::Green)
        .add_modifier(Modifier::BOLD)
}
pub(super) fn dim() -> Style {
    Style::default().fg(Color::DarkGray)
}

pub(super) fn put(buf: &mut Buffer, area: Rect, x: u16, y: u16, text: &str, style: Style) {
    if x < area.width && y < area.height {
        buf.set_stringn(
            area.x + x,
            area.y + y,
            text,
            (area.width - x) as usize,
            style,
        );
    }
}

/// A box with a centred label, from column `x0` to `x1` inclusive.
pub(super) fn boxed(buf: &mut Buffer, a: Rect, x0: u16, x1: u16, y: u16, label: &str) {
    let w = (x1 - x0 - 1) as usize;
    put(
        buf,
        a,
        x0,
        y,
        &format!("┌{}┐", "─".repeat(w)),
        Style::default(),
    );
    let lw = label.width();
    let pad = w.saturating_sub(lw);
    put(
        buf,
        a,
        x0,
        y + 1,
        &format!(
            "│{}{label}{}│",
            " ".repeat(pad / 2),
            " ".repeat(pad - pad / 2)
        ),
        Style::default(),
    );
    put(
        buf,
        a,
        x0,
        y + 2,
        &format!("└{}┘", "─".repeat(w)),
        Style::default(),
    );
}

pub(super) fn tail(s: &str, w: usize) -> String {
    let n = s.chars().count();
    if n <= w {
        s.to_string()
    } else {
        let t: String = s.chars().skip(n + 1 - w).collect();
        format!("…{t}")
    }
}
