//! The article's figure for a program zc did not write: user memory above
//! the boundary, the page cache, the socket buffer and the device below it,
//! and on each arrow what the kernel counted for it in the last second
//! (MiB/s) with its share of the bytes sent so far. A red arrow is a CPU
//! copy, a green one pages passed by reference; an arrow nothing crossed
//! stays dim.

use ratatui::{
    buffer::Buffer,
    layout::Rect,
    style::{Color, Style},
    widgets::Widget,
};
use unicode_width::UnicodeWidthStr as _;

use super::{
    Ctx, W_CACHE, W_DEVICE, W_KERNEL, W_MEMORY, W_NOT_TRACED, W_OF_SENT, W_READ, W_RECV, W_REF,
    W_SEND, W_SOCKET, W_USER, boxed, copy_style, dim, mib_s, put, ref_style, share,
};
use crate::{
    lang::Lang,
    model::tree::{Rates, TraceState},
    units::fmt_bytes,
};

/// The figure is drawn 78 columns wide, in the middle of a wider area.
pub const WIDTH: u16 = 78;

pub struct Diagram<'a>(pub Ctx<'a>);

impl Widget for Diagram<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.0.app;
        let dx = area.width.saturating_sub(WIDTH) / 2;
        let a = Rect::new(area.x + dx, area.y, WIDTH.min(area.width), area.height);
        draw(app.shown(), &app.rates(), self.0.lang(), a, buf);
    }
}

/// The article's figure, with the tree's rates on its arrows.
fn draw(state: &TraceState, r: &Rates, lang: Lang, a: Rect, buf: &mut Buffer) {
    let f = state.totals();
    let sent = f.sent_bytes;
    // The user's memory, and the three arrows that cross the boundary:
    // read() up out of the page cache, the send copy down into the socket
    // buffer, the receive copy up out of it.
    put(buf, a, 0, 0, W_USER.get(lang), dim());
    let title = W_MEMORY.get(lang);
    let pad = 66usize.saturating_sub(title.width());
    put(
        buf,
        a,
        7,
        0,
        &format!(
            "┌{}{title}{}┐",
            "─".repeat(pad / 2),
            "─".repeat(pad - pad / 2)
        ),
        Style::default(),
    );
    put(
        buf,
        a,
        7,
        1,
        &format!("└{}┘", "─".repeat(66)),
        Style::default(),
    );
    let (xr, xs, xv) = (13u16, 38u16, 56u16);
    let read_on = r.page_cache_to_user + r.other_to_user > 0.0
        || f.copies.page_cache_to_user + f.copies.other_to_user > 0;
    let send_on = r.user_to_socket > 0.0 || f.copies.user_to_socket > 0;
    let recv_on = r.socket_to_user > 0.0 || f.copies.socket_to_user > 0;
    let arrow = |on: bool| if on { copy_style() } else { dim() };
    put(buf, a, xr, 1, "▲", arrow(read_on));
    put(buf, a, xs, 1, "┬", arrow(send_on));
    put(buf, a, xv, 1, "▲", arrow(recv_on));
    for y in 2..6 {
        put(buf, a, xr, y, "║", arrow(read_on));
        put(buf, a, xs, y, "║", arrow(send_on));
        put(buf, a, xv, y, "║", arrow(recv_on));
    }
    let label = |buf: &mut Buffer, x: u16, on: bool, name: &str, rate: f64, note: String| {
        put(buf, a, x, 2, name, arrow(on));
        put(buf, a, x, 3, &mib_s(rate), Style::default());
        put(buf, a, x, 4, &note, dim());
    };
    let read = f.copies.page_cache_to_user + f.copies.other_to_user;
    if state.syscalls_traced() {
        label(
            buf,
            xr + 2,
            read_on,
            W_READ.get(lang),
            r.page_cache_to_user + r.other_to_user,
            format!("{} {}", share(read, sent), W_OF_SENT.get(lang)),
        );
    } else {
        // A read's bytes are its return value: without sys_exit, no count.
        put(buf, a, xr + 2, 2, W_READ.get(lang), dim());
        put(buf, a, xr + 2, 3, W_NOT_TRACED.get(lang), Style::default());
        put(buf, a, xr + 2, 4, "--no-syscalls", dim());
    }
    label(
        buf,
        xs + 2,
        send_on,
        W_SEND.get(lang),
        r.user_to_socket,
        format!(
            "{} {}",
            share(f.copies.user_to_socket, sent),
            W_OF_SENT.get(lang)
        ),
    );
    label(
        buf,
        xv + 2,
        recv_on,
        W_RECV.get(lang),
        r.socket_to_user,
        format!("{} in", fmt_bytes(f.copies.socket_to_user)),
    );
    // The boundary the syscalls cross.
    let boundary: String = (0..78)
        .map(|i| if i % 2 == 0 { '─' } else { ' ' })
        .collect();
    put(buf, a, 0, 5, &boundary, dim());
    put(buf, a, xr, 5, "║", arrow(read_on));
    put(buf, a, xs, 5, "║", arrow(send_on));
    put(buf, a, xv, 5, "║", arrow(recv_on));
    put(buf, a, 0, 6, W_KERNEL.get(lang), dim());
    // The kernel's three places, and what flows between them.
    boxed(buf, a, 7, 22, 6, W_CACHE.get(lang));
    boxed(buf, a, 32, 60, 6, W_SOCKET.get(lang));
    boxed(buf, a, 66, 77, 6, W_DEVICE.get(lang));
    put(buf, a, xr, 6, "╨", arrow(read_on));
    put(buf, a, xs, 6, "▼", arrow(send_on));
    put(buf, a, xv, 6, "╨", arrow(recv_on));
    let ref_on = r.referenced > 0.0 || f.sent.referenced_bytes > 0;
    let ref_st = if ref_on { ref_style() } else { dim() };
    put(buf, a, 23, 7, "════════►", ref_st);
    let dev_on = r.device > 0.0 || f.at_device.payload_bytes > 0;
    put(
        buf,
        a,
        61,
        7,
        "────►",
        if dev_on { Style::default() } else { dim() },
    );
    let disk_on = r.disk > 0.0 || f.disk_read_bytes > 0;
    put(
        buf,
        a,
        0,
        7,
        "disk══►",
        if disk_on {
            Style::default().fg(Color::Blue)
        } else {
            dim()
        },
    );
    // Under the boxes: the reference arrow's figures, and what the
    // device's frags prove.
    put(buf, a, 0, 8, &mib_s(r.disk).replace(" MiB/s", "M/s"), dim());
    put(
        buf,
        a,
        9,
        9,
        &format!(
            "{} {} {}",
            W_REF.get(lang),
            mib_s(r.referenced),
            share(f.sent.referenced_bytes, sent)
        ),
        ref_st,
    );
    put(
        buf,
        a,
        46,
        9,
        &format!(
            "→ {} · {} file pages",
            mib_s(r.device),
            share(f.at_device.file_page_bytes, f.at_device.payload_bytes)
        ),
        dim(),
    );
    let dma = if f.dma_maps == 0 {
        "no DMA maps on this host".to_string()
    } else {
        format!("DMA {}", fmt_bytes(f.dma_bytes))
    };
    let extra = format!(
        "pinned {} {} · segmentation {} · retransmitted {} · {dma}",
        mib_s(r.pinned),
        share(f.sent.pinned_bytes, sent),
        mib_s(r.segmentation),
        fmt_bytes(f.at_device.retransmitted_bytes)
    );
    put(buf, a, 0, 10, &extra, dim());
}
