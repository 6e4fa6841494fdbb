//! `zc trace`'s live view: the article's diagram for a program zc did not
//! write. Each arrow carries what the kernel counted for it in the last
//! second (MiB/s) and its share of the bytes sent so far; the mode-switch
//! lane counts switches per second; panels list the top files and sockets,
//! and each process's verdict. Every figure comes from the in-kernel
//! totals, sampled four times a second: nothing here is animated from a
//! script. The view reads a [`TraceState`] and nothing else, so a recording
//! replays through the same drawing.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use crossterm::event::{KeyCode, KeyModifiers};
use ratatui::{
    buffer::Buffer,
    layout::{Constraint, Layout, Rect},
    style::{Color, Modifier, Style},
    text::Line,
    widgets::{Block, Borders, Clear, Paragraph, Widget, Wrap},
};
use unicode_width::UnicodeWidthStr as _;

use super::keys::{Input, Keys};
use crate::{
    lang::{Lang, T},
    model::tree::{Rates, TraceState},
    trace::{Live, SAMPLE_EVERY},
    units::{fmt_bytes, fmt_ns},
};

/// Rates are taken over about this much of the recent past.
const WINDOW_NS: u64 = 1_000_000_000;

/// What the view shows besides the state.
pub struct ViewOpts {
    pub lang: Lang,
    pub paused: bool,
    pub help: bool,
    /// A line for the status bar (a recording written, an error).
    pub status: String,
    /// The command's last output lines, when captured.
    pub output: Vec<String>,
}

const W_USER: T = T {
    en: "user",
    zh: "用户态",
};
const W_KERNEL: T = T {
    en: "kernel",
    zh: "内核态",
};
const W_MEMORY: T = T {
    en: " process memory ",
    zh: " 进程内存 ",
};
const W_CACHE: T = T {
    en: "page cache",
    zh: "页缓存",
};
const W_SOCKET: T = T {
    en: "socket buffer",
    zh: "套接字缓冲区",
};
const W_DEVICE: T = T {
    en: "device",
    zh: "网络设备",
};
const W_READ: T = T {
    en: "read() copy",
    zh: "read() 拷贝",
};
const W_SEND: T = T {
    en: "send copy",
    zh: "send 拷贝",
};
const W_RECV: T = T {
    en: "recv copy",
    zh: "recv 拷贝",
};
const W_REF: T = T {
    en: "by reference",
    zh: "按引用",
};
const W_OF_SENT: T = T {
    en: "of sent",
    zh: "占发送",
};

fn mib_s(bytes_per_s: f64) -> String {
    format!("{:.1} MiB/s", bytes_per_s / (1024.0 * 1024.0))
}

fn share(part: u64, whole: u64) -> String {
    if whole == 0 {
        "–".into()
    } else {
        format!("{:.0} %", 100.0 * part as f64 / whole as f64)
    }
}

/// Styles by kind of movement: copies red, references green, pinned
/// yellow, DMA blue; the glyphs differ too, for monochrome.
fn copy_style() -> Style {
    Style::default().fg(Color::Red).add_modifier(Modifier::BOLD)
}
fn ref_style() -> Style {
    Style::default()
        .fg(Color::Green)
        .add_modifier(Modifier::BOLD)
}
fn dim() -> Style {
    Style::default().fg(Color::DarkGray)
}

/// Draws the whole view.
pub fn render(state: &TraceState, opts: &ViewOpts, area: Rect, buf: &mut Buffer) {
    if area.width < 80 || area.height < 24 {
        Paragraph::new(format!(
            "zc trace needs 80×24 or more (this terminal is {}×{}); the trace goes on, q quits",
            area.width, area.height
        ))
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
    render_title(state, opts, title, buf);
    let rates = state.rates(WINDOW_NS);
    // The diagram keeps its shape and sits in the middle of wide screens.
    let dx = diagram.width.saturating_sub(78) / 2;
    render_diagram(
        state,
        &rates,
        opts.lang,
        Rect::new(
            diagram.x + dx,
            diagram.y,
            78.min(diagram.width),
            diagram.height,
        ),
        buf,
    );
    render_lane(&rates, opts.lang, lane, buf);
    render_panels(state, opts, panels, buf);
    // The verdicts, and last, when some task went unseen, a line that
    // says so: the figures above miss whatever ran on its stack.
    let unseen: Vec<String> = state
        .reports
        .iter()
        .filter_map(|r| crate::trace_report::unseen(r, opts.lang))
        .take(1)
        .collect();
    let lines: Vec<Line> = state
        .reports
        .iter()
        .flat_map(|r| crate::trace_report::verdicts(r, opts.lang))
        .take(3 - unseen.len())
        .chain(unseen)
        .map(|v| Line::from(format!(" {v}")))
        .collect();
    Paragraph::new(if lines.is_empty() {
        vec![Line::from(" no process has moved data yet")]
    } else {
        lines
    })
    .style(Style::default().add_modifier(Modifier::BOLD))
    .render(verdicts, buf);
    let keys = if state.replay {
        " space pause   ? help   l language   q quit"
    } else {
        " space pause   ? help   l language   r record   q quit"
    };
    let cost = state
        .reports
        .first()
        .map(|r| &r.tracing_cost)
        .filter(|c| c.measured)
        .map(|c| {
            format!(
                "   · eBPF {} ({:.0} ns/run, {:.1} % of busy CPU)",
                fmt_ns(c.ebpf_ns),
                c.ns_per_run.unwrap_or(0.0),
                100.0 * c.share_of_cpu.unwrap_or(0.0)
            )
        })
        .unwrap_or_default();
    let status = if opts.status.is_empty() {
        format!("{keys}{cost}")
    } else {
        format!("{keys}   · {}", opts.status)
    };
    Paragraph::new(status).style(dim()).render(footer, buf);
    if opts.help {
        render_help(area, buf);
    }
}

fn render_title(state: &TraceState, opts: &ViewOpts, area: Rect, buf: &mut Buffer) {
    let mode = if state.replay {
        "REPLAY"
    } else if state.ended.is_some() {
        "ENDED"
    } else if opts.paused {
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

fn put(buf: &mut Buffer, area: Rect, x: u16, y: u16, text: &str, style: Style) {
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
fn boxed(buf: &mut Buffer, a: Rect, x0: u16, x1: u16, y: u16, label: &str) {
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

/// The article's figure, with the tree's rates on its arrows.
fn render_diagram(state: &TraceState, r: &Rates, lang: Lang, a: Rect, buf: &mut Buffer) {
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
    label(
        buf,
        xr + 2,
        read_on,
        W_READ.get(lang),
        r.page_cache_to_user + r.other_to_user,
        format!("{} {}", share(read, sent), W_OF_SENT.get(lang)),
    );
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

fn render_lane(r: &Rates, lang: Lang, area: Rect, buf: &mut Buffer) {
    let label = match lang {
        Lang::En => "mode switches",
        Lang::Zh => "用户态/内核态切换",
    };
    Paragraph::new(format!(
        " {label} {:.0}/s ({:.0} syscalls/s, {:.0} faults/s) · blocked {:.0}/s · preempted {:.0}/s",
        r.mode_switches, r.syscalls, r.faults, r.blocked, r.preempted
    ))
    .style(Style::default().fg(Color::Cyan))
    .render(area, buf);
}

fn render_panels(state: &TraceState, opts: &ViewOpts, area: Rect, buf: &mut Buffer) {
    let [files_area, socks_area] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(area);
    let n = files_area.height.saturating_sub(2) as usize;
    let mut files: Vec<_> = state.reports.iter().flat_map(|r| r.files.iter()).collect();
    files.sort_by_key(|f| std::cmp::Reverse(f.copied_bytes + f.referenced_bytes + f.mapped_bytes));
    let w = files_area.width.saturating_sub(24) as usize;
    let zh = opts.lang == Lang::Zh;
    let lines: Vec<Line> = files
        .iter()
        .take(n)
        .map(|f| {
            let (word, bytes) = if f.referenced_bytes > 0 && f.referenced_bytes >= f.copied_bytes {
                (
                    T {
                        en: "ref",
                        zh: "引用",
                    },
                    f.referenced_bytes,
                )
            } else if f.copied_bytes > 0 {
                (
                    T {
                        en: "read",
                        zh: "读取",
                    },
                    f.copied_bytes,
                )
            } else {
                (
                    T {
                        en: "mapped",
                        zh: "映射",
                    },
                    f.mapped_bytes,
                )
            };
            let how = format!("{} {}", word.get(opts.lang), fmt_bytes(bytes));
            Line::from(format!("{:<w$} {how:>20}", tail(&f.path, w)))
        })
        .collect();
    Paragraph::new(lines)
        .block(Block::default().borders(Borders::ALL).title(if zh {
            " 文件（字节最多） "
        } else {
            " top files "
        }))
        .render(files_area, buf);
    let mut socks: Vec<_> = state
        .reports
        .iter()
        .flat_map(|r| r.sockets.iter())
        .collect();
    socks.sort_by_key(|s| std::cmp::Reverse(s.sent.total() + s.received_bytes));
    let mut lines: Vec<Line> = socks
        .iter()
        .take(n)
        .map(|s| {
            let (remote, sent, by_ref, got) = (
                tail(&s.remote, 21),
                fmt_bytes(s.sent.total()),
                share(s.sent.referenced_bytes, s.sent.total()),
                fmt_bytes(s.received_bytes),
            );
            Line::from(if zh {
                format!("{remote} 发 {sent}（引用 {by_ref}）收 {got}")
            } else {
                format!("{remote} sent {sent} ({by_ref} ref) recv {got}")
            })
        })
        .collect();
    if lines.len() < n {
        for o in opts.output.iter().rev().take(n - lines.len()).rev() {
            lines.push(Line::styled(format!("> {o}"), dim()));
        }
    }
    Paragraph::new(lines)
        .block(Block::default().borders(Borders::ALL).title(if zh {
            " 套接字（对端）· 程序输出 "
        } else {
            " top sockets (remote) · program output "
        }))
        .render(socks_area, buf);
}

fn tail(s: &str, w: usize) -> String {
    let n = s.chars().count();
    if n <= w {
        s.to_string()
    } else {
        let t: String = s.chars().skip(n + 1 - w).collect();
        format!("…{t}")
    }
}

fn render_help(area: Rect, buf: &mut Buffer) {
    let w = 64.min(area.width);
    let h = 12.min(area.height);
    let r = Rect::new(area.x + (area.width - w) / 2, area.y + 3, w, h);
    Clear.render(r, buf);
    Paragraph::new(vec![
        Line::from("Each arrow: MiB/s over the last second, and its share of"),
        Line::from("the bytes sent so far. Red: the CPU copies. Green: pages"),
        Line::from("passed by reference (the device's frags are file pages)."),
        Line::from("All figures are in-kernel totals of the followed processes."),
        Line::from(""),
        Line::from("space/p  pause the picture (tracing goes on)"),
        Line::from("l        English / 中文"),
        Line::from("r        write the recording now (--record, or zc-trace-*.zctrace)"),
        Line::from("q        stop tracing and print the report"),
        Line::from("?        this help"),
    ])
    .block(Block::default().borders(Borders::ALL).title(" help "))
    .render(r, buf);
}

/// What a key asks of either view.
enum Key {
    Quit,
    Pause,
    Help,
    Language,
    Record,
}

/// Waits up to 50 ms for a key press; `Quit` at once on a stop signal or
/// a terminal that hung up.
fn next_key(keys: &Keys) -> Option<Key> {
    let k = match keys.next(Duration::from_millis(50))? {
        Input::Key(k) => k,
        Input::Resize => return None,
        Input::Stop => return Some(Key::Quit),
    };
    match k.code {
        KeyCode::Char('q') | KeyCode::Esc => Some(Key::Quit),
        KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => Some(Key::Quit),
        KeyCode::Char(' ') | KeyCode::Char('p') => Some(Key::Pause),
        KeyCode::Char('?') | KeyCode::Char('h') => Some(Key::Help),
        KeyCode::Char('l') => Some(Key::Language),
        KeyCode::Char('r') => Some(Key::Record),
        _ => None,
    }
}

type Term = ratatui::Terminal<ratatui::backend::CrosstermBackend<std::io::Stdout>>;

/// The terminal in raw mode on the alternate screen, restored when the
/// guard drops, by the panic hook, and (signals) because both views leave
/// their loop at once.
fn open_terminal() -> anyhow::Result<(super::TerminalGuard, Term)> {
    super::install_panic_hook();
    crate::signals::catch();
    let guard = super::TerminalGuard::enter()?;
    let terminal =
        ratatui::Terminal::new(ratatui::backend::CrosstermBackend::new(std::io::stdout()))
            .context("open the terminal")?;
    Ok((guard, terminal))
}

impl ViewOpts {
    fn new(lang: Lang) -> ViewOpts {
        ViewOpts {
            lang,
            paused: false,
            help: false,
            status: String::new(),
            output: Vec::new(),
        }
    }
}

/// Runs the live view until the user quits; the trace may end first (the
/// command exits): then the last picture stays until q.
pub fn run_live(
    live: &mut Live,
    lang: Lang,
    mut record: impl FnMut(&Live) -> anyhow::Result<String>,
) -> anyhow::Result<()> {
    let (_guard, mut terminal) = open_terminal()?;
    let keys = Keys::start();
    let mut opts = ViewOpts::new(lang);
    // The picture holds the reports and the last rate window only: the
    // whole history is the recording's, not a copy per sample.
    let mut shown = live.state.view_at(None, WINDOW_NS);
    let mut next = Instant::now() + SAMPLE_EVERY;
    loop {
        if crate::signals::stopped() {
            break; // a signal: nobody may be left to press q
        }
        if live.state.ended.is_none() {
            if let Some(why) = live.should_end()? {
                live.finish(why)?;
                shown = live.state.view_at(None, WINDOW_NS);
            } else if Instant::now() >= next {
                live.sample()?;
                next += SAMPLE_EVERY;
                if !opts.paused {
                    shown = live.state.view_at(None, WINDOW_NS);
                }
            } else {
                live.look();
            }
        }
        opts.output = live.output_tail(8);
        if crate::signals::stopped() {
            break;
        }
        terminal
            .draw(|f| render(&shown, &opts, f.area(), f.buffer_mut()))
            .context("draw the trace view")?;
        match next_key(&keys) {
            Some(Key::Quit) => break,
            Some(Key::Pause) => {
                opts.paused = !opts.paused;
                shown = live.state.view_at(None, WINDOW_NS);
            }
            Some(Key::Help) => opts.help = !opts.help,
            Some(Key::Language) => opts.lang = opts.lang.toggle(),
            Some(Key::Record) => {
                opts.status = record(live).unwrap_or_else(|e| format!("not recorded: {e:#}"));
            }
            None => {}
        }
    }
    if live.state.ended.is_none() {
        // In raw mode the terminal's Ctrl-C reaches zc alone: pass it on
        // to the command zc started, as the terminal would have; a hangup
        // or SIGTERM is passed on as itself (`signals::for_the_command`).
        let sig = crate::signals::for_the_command();
        let how = match crate::signals::which() {
            Some(libc::SIGHUP) => "its terminal hung up",
            Some(libc::SIGTERM) => "stopped by SIGTERM",
            _ => "stopped from the live view",
        };
        let why = match live.signal_command(sig) {
            Some(code) => format!("{how}; the command exited with {code}"),
            None => how.into(),
        };
        live.finish(why)?;
    }
    Ok(())
}

/// Replays a recorded trace at its own pace, then holds the last picture.
pub fn run_replay(state: &TraceState, lang: Lang) -> anyhow::Result<()> {
    let (_guard, mut terminal) = open_terminal()?;
    let keys = Keys::start();
    let mut opts = ViewOpts::new(lang);
    let mut clock = Duration::ZERO;
    let mut last = Instant::now();
    loop {
        if crate::signals::stopped() {
            break;
        }
        let now = Instant::now();
        if !opts.paused {
            clock += now - last;
        }
        last = now;
        let shown = replay_at(state, clock.as_nanos() as u64);
        terminal
            .draw(|f| render(&shown, &opts, f.area(), f.buffer_mut()))
            .context("draw the trace view")?;
        match next_key(&keys) {
            Some(Key::Quit) => break,
            Some(Key::Pause) => opts.paused = !opts.paused,
            Some(Key::Help) => opts.help = !opts.help,
            Some(Key::Language) => opts.lang = opts.lang.toggle(),
            Some(Key::Record) | None => {}
        }
    }
    Ok(())
}

/// The recorded state as it was `t_ns` into the trace (the reports are the
/// final ones, labelled by the title's mode).
pub fn replay_at(state: &TraceState, t_ns: u64) -> TraceState {
    state.view_at(Some(t_ns), WINDOW_NS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        counts::Counts,
        tree::{Names, ProcCounts, Sample, SocketInfo, TreeCounts, reports},
    };
    use zc_common::counters::Counter as C;

    fn text_of(buf: &Buffer) -> String {
        let a = buf.area;
        (0..a.height)
            .map(|y| {
                (0..a.width)
                    .map(|x| buf[(x, y)].symbol())
                    .collect::<String>()
                    + "\n"
            })
            .collect()
    }

    fn state() -> TraceState {
        let mut c0 = Counts::new();
        let mut c1 = Counts::new();
        c1.add(C::ReadFileBytes, 64 << 20);
        c1.add(C::SendUserBytes, 64 << 20);
        c0.add(C::SysEnter, 0);
        let mut s1 = Counts::new();
        s1.add(C::XmitPayload, 64 << 20);
        s1.add(C::SendUserBytes, 64 << 20);
        let mut t = TreeCounts::default();
        t.procs.insert(
            7,
            ProcCounts {
                counts: c1.clone(),
                ..ProcCounts::default()
            },
        );
        t.sockets.insert(
            1,
            (
                SocketInfo {
                    cookie: 3,
                    pid: 7,
                    local: "127.0.0.1:8000".parse().expect("address"),
                    remote: "127.0.0.1:50000".parse().expect("address"),
                },
                s1.clone(),
            ),
        );
        let mut names = Names::default();
        names.comm.insert(7, "python3".into());
        TraceState {
            title: "python3 -m http.server".into(),
            samples: vec![
                Sample {
                    t_ns: 0,
                    process: c0,
                    sockets: Counts::new(),
                },
                Sample {
                    t_ns: 1_000_000_000,
                    process: c1,
                    sockets: s1,
                },
            ],
            reports: reports(&t, &[7], &[], &names, 1_000_000_000),
            ended: None,
            replay: false,
        }
    }

    fn opts(lang: Lang) -> ViewOpts {
        ViewOpts {
            lang,
            paused: false,
            help: false,
            status: String::new(),
            output: vec![],
        }
    }

    /// The arrows carry the rates of the last second and the shares, the
    /// verdict and the sockets are listed, and the picture fits 80×24.
    #[test]
    fn the_live_view_shows_rates_shares_and_the_verdict() {
        let area = Rect::new(0, 0, 80, 24);
        let mut buf = Buffer::empty(area);
        render(&state(), &opts(Lang::En), area, &mut buf);
        let text = text_of(&buf);
        assert!(text.contains("LIVE"), "{text}");
        assert!(text.contains("64.0 MiB/s"), "{text}");
        assert!(text.contains("100 % of sent"), "{text}");
        assert!(text.contains("python3[7] sent 64 MiB"), "{text}");
        assert!(text.contains("127.0.0.1:50000"), "{text}");
        assert!(
            text.contains("page cache") && text.contains("socket buffer"),
            "{text}"
        );
        let mut buf = Buffer::empty(area);
        render(&state(), &opts(Lang::Zh), area, &mut buf);
        let zh = text_of(&buf);
        assert!(zh.contains("页"), "{zh}");
        // The verdict too is said in the view's language (a wide
        // character's second cell reads as a space here).
        assert!(
            zh.replace(' ', "").contains("python3[7]发送了64MiB"),
            "{zh}"
        );
        assert!(!zh.contains(" sent "), "{zh}");
    }

    #[test]
    fn a_small_terminal_gets_a_line_not_a_broken_picture() {
        let area = Rect::new(0, 0, 60, 10);
        let mut buf = Buffer::empty(area);
        render(&state(), &opts(Lang::En), area, &mut buf);
        assert!(text_of(&buf).contains("needs 80×24"));
    }

    #[test]
    fn replay_shows_the_samples_up_to_the_clock() {
        let s = state();
        assert_eq!(replay_at(&s, 10).samples.len(), 1);
        assert_eq!(replay_at(&s, 2_000_000_000).samples.len(), 2);
    }
}
