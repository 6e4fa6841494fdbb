//! The whole screen, drawn from the app state alone (no I/O, no locks):
//! title bar, mode-switch lane, copy diagram, narration, the measured table
//! beside the article's row, legend and probe status, footer. Also the
//! compare view, the help overlay, and a clear message when the terminal is
//! too small.

use ratatui::{
    Frame,
    buffer::Buffer,
    layout::Rect,
    style::Style,
    text::{Line, Span},
    widgets::{Block, Borders, Clear, Paragraph, Widget, Wrap},
};

use super::{
    app::{App, Played, Source, View},
    diagram::{self, Diagram, Edge, EdgeState},
    playback::Item,
    text::{self, Lang},
    text::{lpad, pad_to},
    theme::Theme,
};
use crate::{
    model::{Movement, Strategy, steps::StepKind},
    units::{fmt_bytes, fmt_ns},
};

pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;

pub fn theme(app: &App) -> Theme {
    Theme::from_env(app.high_contrast)
}

/// Draws the app into a frame.
pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    render(app, area, frame.buffer_mut());
}

/// Draws the app into a buffer (the same code serves the terminal and tests).
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let t = theme(app);
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        too_small(app, area, buf, &t);
        return;
    }
    title(app, Rect { height: 1, ..area }, buf, &t);
    let body = Rect {
        y: area.y + 1,
        height: area.height - 2,
        ..area
    };
    match app.view {
        View::Diagram => diagram_view(app, body, buf, &t),
        View::Compare => compare_view(app, body, buf, &t),
    }
    footer(
        app,
        Rect {
            y: area.y + area.height - 1,
            height: 1,
            ..area
        },
        buf,
        &t,
    );
    if app.help {
        help(app, area, buf, &t);
    }
}

fn too_small(app: &App, area: Rect, buf: &mut Buffer, t: &Theme) {
    let msg = format!(
        "{} {}×{}. {}",
        text::TOO_SMALL.get(app.lang),
        area.width,
        area.height,
        match app.lang {
            Lang::En => "Enlarge it, or press q to quit.",
            Lang::Zh => "请放大终端，或按 q 退出。",
        }
    );
    Paragraph::new(msg)
        .style(t.base())
        .wrap(Wrap { trim: true })
        .render(area, buf);
}

fn title(app: &App, area: Rect, buf: &mut Buffer, t: &Theme) {
    buf.set_style(area, t.title());
    let n = app.strategy.index() + 1;
    let (tag, kernel) = match &app.source {
        Source::Live { kernel } => ("LIVE".to_string(), kernel.clone()),
        Source::Recording { kernel, label } => (format!("RECORDING {label}"), kernel.clone()),
    };
    let left = match app.view {
        View::Diagram => format!(
            " zc  {n} {}  {tag} linux {}",
            text::strategy_title(app.strategy, app.lang),
            short_kernel(&kernel)
        ),
        View::Compare => format!(" zc  compare  {tag} linux {}", short_kernel(&kernel)),
    };
    let step = match app.current() {
        Some(p) if app.view == View::Diagram => format!("step {}/{}", app.pos + 1, p.plan.len()),
        _ => String::new(),
    };
    use unicode_width::UnicodeWidthStr as _;
    let right = format!("{step}  {} ", app.speed_label());
    let badge = if app.paused {
        text::PAUSED.get(app.lang)
    } else {
        ""
    };
    let right_w = (right.width() + badge.width() + 1) as u16;
    let rx = area.x + area.width.saturating_sub(right.width() as u16);
    // The left part gives way to the step counter and the PAUSED badge.
    buf.set_stringn(
        area.x,
        area.y,
        &left,
        area.width.saturating_sub(right_w) as usize,
        t.title(),
    );
    buf.set_string(rx, area.y, &right, t.title());
    if app.paused {
        let px = rx.saturating_sub(badge.width() as u16 + 1);
        buf.set_string(px, area.y, badge, t.badge());
    }
}

fn short_kernel(k: &str) -> &str {
    // "6.18.44-fc-v782" → "6.18.44": the rest is build noise on a projector.
    k.split('-').next().unwrap_or(k)
}

fn footer(app: &App, area: Rect, buf: &mut Buffer, t: &Theme) {
    let mut s = text::FOOTER.get(app.lang).to_string();
    if let Some(m) = app.measuring {
        s = format!(
            " {} {}… {}",
            text::MEASURING.get(app.lang),
            m.name(),
            s.trim_start()
        );
    }
    let mut style = t.dim();
    if app.measuring.is_none()
        && let Some(n) = &app.notice
    {
        s = format!(" {n}");
        style = t.base();
    }
    buf.set_stringn(area.x, area.y, &s, area.width as usize, style);
}

fn diagram_view(app: &App, area: Rect, buf: &mut Buffer, t: &Theme) {
    let Some(played) = app.current() else {
        let msg = match (&app.error, app.measuring) {
            (Some(e), _) => Line::styled(format!(" {e}"), t.error()),
            (None, _) => Line::styled(
                format!(
                    " {} {}…",
                    text::MEASURING.get(app.lang),
                    app.strategy.name()
                ),
                t.base(),
            ),
        };
        Paragraph::new(msg).render(area, buf);
        return;
    };
    let item = played.plan.items.get(app.pos);
    lane(app, played, Rect { height: 3, ..area }, buf, t);
    let d = diagram_state(app, played, item, t);
    (&d).render(
        Rect {
            y: area.y + 3,
            height: diagram::HEIGHT,
            ..area
        },
        buf,
    );
    let ny = area.y + 3 + diagram::HEIGHT;
    narration(
        app,
        played,
        item,
        Rect {
            y: ny,
            height: 2,
            ..area
        },
        buf,
        t,
    );
    let sep = "─".repeat(area.width as usize);
    buf.set_string(area.x, ny + 2, &sep, t.dim());
    let rest = Rect {
        y: ny + 3,
        height: area.height.saturating_sub(3 + diagram::HEIGHT + 3),
        ..area
    };
    table(app, played, Rect { width: 50, ..rest }, buf, t);
    legend(
        app,
        played,
        Rect {
            x: rest.x + 51,
            width: rest.width.saturating_sub(51),
            ..rest
        },
        buf,
        t,
    );
}

fn diagram_state<'a>(
    app: &App,
    played: &'a Played,
    item: Option<&'a Item>,
    t: &Theme,
) -> Diagram<'a> {
    let mut edges: Vec<(Edge, EdgeState)> = Vec::new();
    let mut seen_places = Vec::new();
    for (i, it) in played.plan.items.iter().enumerate() {
        let (edge, places) = diagram::touched(it);
        let Some(edge) = edge else { continue };
        let state = if i < app.pos {
            EdgeState::Done
        } else if i == app.pos {
            EdgeState::Active(app.anim)
        } else {
            EdgeState::Pending
        };
        if i <= app.pos {
            seen_places.extend(places);
        }
        match edges.iter_mut().find(|(e, _)| *e == edge) {
            // The most advanced state wins: active over done over pending.
            Some((_, s)) => {
                if matches!(state, EdgeState::Active(_))
                    || (*s == EdgeState::Pending && state == EdgeState::Done)
                {
                    *s = state;
                }
            }
            None => edges.push((edge, state)),
        }
    }
    // Draw active last so it sits on top where paths cross.
    edges.sort_by_key(|(_, s)| match s {
        EdgeState::Pending => 0,
        EdgeState::Done => 1,
        EdgeState::Active(_) => 2,
    });
    let active_places = item.map(|i| diagram::touched(i).1).unwrap_or_default();
    Diagram {
        strategy: app.strategy,
        lang: app.lang,
        theme: *t,
        edges,
        active_places,
        seen_places,
        warm: !played.outcome.facts.cold,
        current: item,
    }
}

/// The mode-switch lane: user mode on top, kernel mode below, each syscall
/// a dip labelled with its name, faults and scheduler switches marked.
fn lane(app: &App, played: &Played, area: Rect, buf: &mut Buffer, t: &Theme) {
    buf.set_string(
        area.x + 1,
        area.y,
        text::MODE_SWITCHES.get(app.lang),
        t.section(),
    );
    let mut user = String::from("━━");
    let mut kern = String::from("  ");
    let mut in_kernel = false;
    let pad = |u: &mut String, k: &mut String, ku: &str, kk: &str| {
        u.push_str(ku);
        k.push_str(kk);
    };
    for it in played.plan.items.iter().take(app.pos + 1) {
        match it {
            Item::Step { kind, count, .. } => match kind {
                StepKind::Enter { syscall } => {
                    let w = syscall.chars().count() + 2;
                    pad(
                        &mut user,
                        &mut kern,
                        &format!("┓{}", " ".repeat(w)),
                        &format!("┗ {syscall} "),
                    );
                    in_kernel = true;
                }
                StepKind::Exit { .. } => {
                    pad(&mut user, &mut kern, "┏━━", "┛  ");
                    in_kernel = false;
                }
                StepKind::Fault {
                    in_kernel: true, ..
                } => {
                    pad(
                        &mut user,
                        &mut kern,
                        &" ".repeat(3),
                        &format!("f{:<2}", count.min(&99)),
                    );
                }
                StepKind::Fault {
                    in_kernel: false, ..
                } => {
                    pad(&mut user, &mut kern, "┓  ┏━", "┗pf┛ ");
                }
                StepKind::SchedOut { .. } => {
                    if in_kernel {
                        pad(&mut user, &mut kern, " ", "z");
                    } else {
                        pad(&mut user, &mut kern, "z", " ");
                    }
                }
                _ => {}
            },
            Item::Group { calls, .. } => {
                let s = format!(" ×{calls} ");
                let w = s.chars().count();
                pad(&mut user, &mut kern, &s, &" ".repeat(w));
            }
        }
    }
    let width = area.width.saturating_sub(8) as usize;
    let tail = |s: &str| -> String {
        let n = s.chars().count();
        s.chars().skip(n.saturating_sub(width)).collect()
    };
    buf.set_string(area.x + 1, area.y + 1, "user", t.base());
    buf.set_string(area.x + 1, area.y + 2, "kernel", t.base());
    buf.set_string(area.x + 8, area.y + 1, tail(&user), t.base());
    buf.set_string(area.x + 8, area.y + 2, tail(&kern), t.kernel_lane());
}

fn narration(
    app: &App,
    played: &Played,
    item: Option<&Item>,
    area: Rect,
    buf: &mut Buffer,
    t: &Theme,
) {
    let line = match item {
        _ if app.at_end() => text::DONE.get(app.lang).to_string(),
        Some(it) => text::narrate(it, app.lang),
        None => String::new(),
    };
    let ts = match item {
        Some(Item::Step { ts_ns, .. }) | Some(Item::Group { ts_ns, .. }) => {
            let t0 = played.outcome.events.first().map_or(0, |e| e.ts_ns());
            format!("t+{} ", fmt_us(ts_ns.saturating_sub(t0)))
        }
        None => String::new(),
    };
    let evidence = match item {
        Some(Item::Step { evidence, .. }) if !evidence.is_empty() => format!("  [{evidence}]"),
        _ => String::new(),
    };
    use unicode_width::UnicodeWidthStr as _;
    let mut lines = vec![Line::from(vec![
        Span::styled("> ", t.section()),
        Span::styled(line.clone(), t.base()),
    ])];
    // The evidence line only when the narration fits on one line.
    if line.width() + 2 <= area.width as usize {
        lines.push(Line::from(vec![
            Span::styled(format!("  {ts}"), t.dim()),
            Span::styled(evidence, t.dim()),
        ]));
    }
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .render(area, buf);
}

fn fmt_us(ns: u64) -> String {
    if ns < 10_000_000 {
        format!("{} µs", ns / 1000)
    } else {
        fmt_ns(ns)
    }
}

fn table(app: &App, played: &Played, area: Rect, buf: &mut Buffer, t: &Theme) {
    let f = &played.outcome.figures;
    let so_far = played.plan.so_far.get(app.pos).copied().unwrap_or_default();
    let a = app.strategy.spec().model;
    // The model's figure, or a dash where no source models this strategy.
    let model =
        |f: &dyn Fn(&crate::strategy::ModelRow) -> String| a.as_ref().map_or_else(|| "-".into(), f);
    let n = played.outcome.facts.chunks();
    let size = played.outcome.facts.size;
    let (h_played, h_total, h_article) = match app.lang {
        Lang::En => ("played", "measured", "model"),
        Lang::Zh => ("已播放", "实测", "模型"),
    };
    let rows: [(&str, &str, String, String, String); 5] = [
        (
            "syscalls",
            "系统调用",
            so_far.syscalls.to_string(),
            f.syscall_total.to_string(),
            model(&|a| (a.syscalls as u64 * n).to_string()),
        ),
        (
            "mode switches",
            "模式切换",
            so_far.mode_switches.to_string(),
            f.mode_switches.to_string(),
            model(&|a| (a.mode_switches as u64 * n).to_string()),
        ),
        (
            "CPU-copied",
            "CPU 拷贝",
            fmt_bytes(so_far.cpu_copy_bytes),
            format!(
                "{} {:.1}x",
                fmt_bytes(f.cpu_copy_bytes),
                f.copy_passes(size)
            ),
            model(&|a| format!("{}x", a.cpu_copies)),
        ),
        (
            "by reference",
            "引用发送",
            fmt_bytes(so_far.reference_bytes),
            fmt_bytes(f.reference_bytes),
            "-".into(),
        ),
        (
            "disk → cache",
            "磁盘 → 缓存",
            fmt_bytes(so_far.disk_bytes),
            fmt_bytes(f.disk_read_bytes),
            "DMA".into(),
        ),
    ];
    buf.set_stringn(
        area.x,
        area.y,
        format!(
            "{:<15}{}{}{}",
            "",
            lpad(h_played, 9),
            lpad(h_total, 15),
            lpad(h_article, 9)
        ),
        area.width as usize,
        t.section(),
    );
    for (i, (en, zh, played_v, total, art)) in rows.iter().enumerate() {
        let name = if app.lang == Lang::En { *en } else { *zh };
        let line = format!("{}{:>9}{:>15}{:>9}", pad_to(name, 15), played_v, total, art);
        buf.set_stringn(
            area.x,
            area.y + 1 + i as u16,
            line,
            area.width as usize,
            t.base(),
        );
    }
    let extra = format!(
        " sched {} · faults {} · cpu {}/MiB",
        f.sched_switches,
        f.page_faults,
        per_mib(played.outcome.sender_cpu_ns, size)
    );
    if area.height > 6 {
        buf.set_stringn(area.x, area.y + 6, extra, area.width as usize, t.dim());
    }
}

fn per_mib(ns: u64, size: u64) -> String {
    if size == 0 {
        return "-".into();
    }
    fmt_ns((ns as f64 * (1u64 << 20) as f64 / size as f64) as u64)
}

fn legend(app: &App, played: &Played, area: Rect, buf: &mut Buffer, t: &Theme) {
    let items = [
        (Movement::Dma, "══>", "DMA, no CPU", "DMA，不占 CPU"),
        (Movement::CpuCopy, "──>", "CPU copy", "CPU 拷贝"),
        (Movement::Reference, "┈┈>", "page reference", "页面引用"),
        (Movement::Mapping, "┄┄>", "mapping (mmap)", "映射 (mmap)"),
        (
            Movement::SoftwareTransmit,
            "~~>",
            "software xmit",
            "软件发送",
        ),
    ];
    for (i, (m, arrow, en, zh)) in items.iter().enumerate() {
        if i as u16 >= area.height {
            break;
        }
        let line = Line::from(vec![
            Span::styled(format!("│ {arrow} "), t.movement(*m)),
            Span::styled(if app.lang == Lang::En { *en } else { *zh }, t.base()),
        ]);
        buf.set_line(area.x, area.y + i as u16, &line, area.width);
    }
    if area.height > 5 {
        let lost = played.outcome.lost_events;
        let s = format!("│ {} · lost {}", app.probes.replace(" attached", ""), lost);
        buf.set_stringn(
            area.x,
            area.y + 5,
            s,
            area.width as usize,
            if lost > 0 { t.error() } else { t.dim() },
        );
    }
    if area.height > 6 {
        let r = &played.outcome;
        let s = format!(
            "│ recv {} {}",
            fmt_bytes(r.received_bytes),
            if r.received_ok { "ok" } else { "BAD" }
        );
        buf.set_stringn(area.x, area.y + 6, s, area.width as usize, t.dim());
    }
}

fn compare_view(app: &App, area: Rect, buf: &mut Buffer, t: &Theme) {
    let runs: Vec<(Strategy, Option<&Played>)> =
        Strategy::all().map(|s| (s, app.runs.get(&s))).collect();
    let size = runs
        .iter()
        .find_map(|(_, p)| p.map(|p| p.outcome.facts.size))
        .unwrap_or(0);
    let head = match app.lang {
        Lang::En => format!(
            " measured, {} file (the published model in brackets)",
            fmt_bytes(size)
        ),
        Lang::Zh => format!(" 实测，{} 文件（方括号内为已发表的模型）", fmt_bytes(size)),
    };
    buf.set_stringn(area.x, area.y, head, area.width as usize, t.section());
    let mut header = format!("{:<15}", "");
    for (s, _) in &runs {
        header.push_str(&format!("{:>16}", s.name()));
    }
    buf.set_stringn(area.x, area.y + 1, header, area.width as usize, t.section());
    type Cell = fn(&Played) -> String;
    let rows: [(&str, &str, Cell); 4] = [
        ("syscalls", "系统调用", |p| {
            let m = p.outcome.facts.strategy.spec().model;
            format!(
                "{} [{}]",
                p.outcome.figures.syscall_total,
                m.map_or_else(
                    || "-".into(),
                    |m| (m.syscalls as u64 * p.outcome.facts.chunks()).to_string()
                )
            )
        }),
        ("CPU-copied", "CPU 拷贝", |p| {
            let m = p.outcome.facts.strategy.spec().model;
            format!(
                "{} [{}]",
                fmt_bytes(p.outcome.figures.cpu_copy_bytes),
                m.map_or_else(|| "-".into(), |m| format!("{}x", m.cpu_copies))
            )
        }),
        ("by reference", "引用发送", |p| {
            fmt_bytes(p.outcome.figures.reference_bytes)
        }),
        ("page faults", "缺页", |p| {
            p.outcome.figures.page_faults.to_string()
        }),
    ];
    for (i, (en, zh, cell)) in rows.iter().enumerate() {
        let mut line = pad_to(if app.lang == Lang::En { en } else { zh }, 15);
        for (_, p) in &runs {
            line.push_str(&format!("{:>16}", p.map_or_else(|| "…".to_string(), cell)));
        }
        buf.set_stringn(
            area.x,
            area.y + 2 + i as u16,
            line,
            area.width as usize,
            t.base(),
        );
    }
    type Chart = (
        &'static str,
        &'static str,
        Movement,
        fn(&Played) -> u64,
        fn(u64) -> String,
    );
    let charts: [Chart; 3] = [
        (
            "CPU-copied bytes",
            "CPU 拷贝字节",
            Movement::CpuCopy,
            |p| p.outcome.figures.cpu_copy_bytes,
            fmt_bytes,
        ),
        (
            "mode switches",
            "模式切换",
            Movement::SoftwareTransmit,
            |p| p.outcome.figures.mode_switches,
            |v| v.to_string(),
        ),
        (
            "sender CPU per MiB",
            "每 MiB 发送方 CPU",
            Movement::Dma,
            |p| cpu_per_mib(p),
            |v| fmt_ns(v),
        ),
    ];
    let mut y = area.y + 7;
    for (en, zh, m, value, fmt) in charts {
        if y + 5 > area.y + area.height {
            break;
        }
        buf.set_string(
            area.x + 1,
            y,
            if app.lang == Lang::En { en } else { zh },
            t.section(),
        );
        let max = runs
            .iter()
            .filter_map(|(_, p)| p.map(value))
            .max()
            .unwrap_or(0)
            .max(1);
        for (i, (s, p)) in runs.iter().enumerate() {
            let yy = y + 1 + i as u16;
            buf.set_string(area.x + 2, yy, format!("{:<16}", s.name()), t.base());
            let (bar, v) = match p {
                Some(p) => {
                    let v = value(p);
                    let w = (v * 40 / max) as usize;
                    (
                        if w == 0 {
                            "·".to_string()
                        } else {
                            "█".repeat(w)
                        },
                        fmt(v),
                    )
                }
                None => ("…".to_string(), String::new()),
            };
            buf.set_string(area.x + 19, yy, &bar, t.movement(m));
            buf.set_string(area.x + 20 + bar.chars().count() as u16, yy, v, t.dim());
        }
        y += 5;
    }
}

fn cpu_per_mib(p: &Played) -> u64 {
    let size = p.outcome.facts.size.max(1);
    (p.outcome.sender_cpu_ns as f64 * (1u64 << 20) as f64 / size as f64) as u64
}

fn help(app: &App, area: Rect, buf: &mut Buffer, t: &Theme) {
    let lines: &[(&str, &str, &str)] = &[
        (
            "1 2 3 4",
            "choose a strategy and measure it again",
            "选择策略并重新测量",
        ),
        ("space", "pause / resume playback", "暂停 / 继续"),
        ("← →", "step one event back / forward", "后退 / 前进一步"),
        ("+ -", "playback speed", "播放速度"),
        ("c", "compare the four strategies", "对比四种策略"),
        ("l", "English / 中文", "English / 中文"),
        ("h", "high contrast (projectors)", "高对比度（投影）"),
        ("Ctrl-L", "redraw the screen", "重绘屏幕"),
        (
            "r",
            "record the runs to a trace file",
            "把运行记录到跟踪文件",
        ),
        (
            "?",
            "this help (any key closes it)",
            "本帮助（按任意键关闭）",
        ),
        ("q  Ctrl-C", "quit", "退出"),
    ];
    let w = 60.min(area.width);
    let h = (lines.len() as u16 + 2).min(area.height);
    let r = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    };
    Clear.render(r, buf);
    let title = match app.lang {
        Lang::En => " keys ",
        Lang::Zh => " 按键 ",
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .title(title)
        .style(t.base());
    let inner = block.inner(r);
    block.render(r, buf);
    let text: Vec<Line> = lines
        .iter()
        .map(|(k, en, zh)| {
            Line::from(vec![
                Span::styled(format!(" {k:<11}"), t.section()),
                Span::styled(
                    if app.lang == Lang::En { *en } else { *zh },
                    Style::default(),
                ),
            ])
        })
        .collect();
    Paragraph::new(text).render(inner, buf);
}
