//! The panels under the diagram: the files the traced processes moved the
//! most bytes of (read, referenced, mapped), and their sockets by bytes,
//! with the command's last output lines where room is left.

use ratatui::{
    buffer::Buffer,
    layout::{Constraint, Layout, Rect},
    text::Line,
    widgets::{Block, Borders, Paragraph, Widget},
};

use super::{Ctx, dim, share, tail};
use crate::{
    lang::{Lang, T},
    model::tree::TraceState,
    units::fmt_bytes,
};

pub struct Panels<'a>(pub Ctx<'a>);

impl Widget for Panels<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.0.app;
        draw(app.shown(), self.0.lang(), app.output(), area, buf);
    }
}

fn draw(state: &TraceState, lang: Lang, output: &[String], area: Rect, buf: &mut Buffer) {
    let [files_area, socks_area] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(area);
    let n = files_area.height.saturating_sub(2) as usize;
    let mut files: Vec<_> = state.reports.iter().flat_map(|r| r.files.iter()).collect();
    files.sort_by_key(|f| std::cmp::Reverse(f.copied_bytes + f.referenced_bytes + f.mapped_bytes));
    let w = files_area.width.saturating_sub(24) as usize;
    let zh = lang == Lang::Zh;
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
            let how = format!("{} {}", word.get(lang), fmt_bytes(bytes));
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
        for o in output.iter().rev().take(n - lines.len()).rev() {
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
