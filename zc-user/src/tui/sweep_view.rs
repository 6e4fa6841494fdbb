//! The sweep as a chart: chunk size on a log scale across, one line per
//! strategy, the chosen figure up. Where two lines cross, one strategy
//! starts to pay off against the other.

use std::time::Duration;

use anyhow::Context as _;
use crossterm::event::{KeyCode, KeyModifiers};
use ratatui::{
    buffer::Buffer,
    layout::{Constraint, Layout, Rect},
    style::{Color, Style},
    symbols::Marker,
    text::{Line, Span},
    widgets::{Axis, Chart, Dataset, GraphType, Paragraph, Widget},
};

use super::keys::{Input, Keys};
use crate::model::sweep::{Metric, Sweep};

/// Line colours; each line also has its own marker, for monochrome.
const COLOURS: [Color; 9] = [
    Color::Red,
    Color::Magenta,
    Color::Yellow,
    Color::Green,
    Color::Cyan,
    Color::LightRed,
    Color::LightMagenta,
    Color::Blue,
    Color::Gray,
];
const MARKERS: [Marker; 4] = [Marker::Braille, Marker::Dot, Marker::Block, Marker::Bar];

/// Draws the chart of `metric` into `area`.
pub fn render(sweep: &Sweep, metric: Metric, area: Rect, buf: &mut Buffer) {
    let [title, chart, footer] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(5),
        Constraint::Length(1),
    ])
    .areas(area);
    Paragraph::new(vec![
        Line::from(format!(
            " zc sweep  {}  ({} file, median of {} runs)",
            crate::export::sweep::label(metric, crate::lang::Lang::En),
            crate::units::fmt_bytes(sweep.size_bytes),
            sweep.runs_per_point
        )),
        Line::from(Span::styled(
            if metric.traced() {
                " measured while traced; noisy on a shared machine (min-max in --no-tui and --json)"
            } else {
                " measured untraced, beside each traced run; noisy on a shared machine (min-max in --no-tui and --json)"
            },
            Style::default().fg(Color::DarkGray),
        )),
    ])
    .render(title, buf);
    let lines: Vec<Vec<(f64, f64)>> = sweep
        .strategies
        .iter()
        .map(|&s| {
            sweep
                .line(s)
                .map(|p| ((p.chunk_bytes as f64).log2(), metric.of(p).median))
                .collect()
        })
        .collect();
    let datasets: Vec<Dataset> = sweep
        .strategies
        .iter()
        .zip(&lines)
        .enumerate()
        .map(|(i, (s, data))| {
            Dataset::default()
                .name(s.name())
                .marker(MARKERS[i % MARKERS.len()])
                .graph_type(GraphType::Line)
                .style(Style::default().fg(COLOURS[i % COLOURS.len()]))
                .data(data)
        })
        .collect();
    let xs: Vec<f64> = sweep.chunks.iter().map(|c| (*c as f64).log2()).collect();
    let x0 = xs.iter().copied().fold(f64::INFINITY, f64::min);
    let x1 = xs
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max)
        .max(x0 + 1.0);
    let ymax = lines
        .iter()
        .flatten()
        .map(|(_, y)| *y)
        .fold(0.0, f64::max)
        .max(1e-9)
        * 1.1;
    let x_labels: Vec<Span> = sweep
        .chunks
        .iter()
        .map(|c| Span::raw(crate::units::fmt_bytes(*c)))
        .collect();
    let y_labels: Vec<Span> = (0..=2)
        .map(|i| Span::raw(format!("{:.1}", ymax * i as f64 / 2.0)))
        .collect();
    Chart::new(datasets)
        .x_axis(
            Axis::default()
                .title("chunk per call (log)")
                .bounds([x0, x1])
                .labels(x_labels),
        )
        .y_axis(Axis::default().bounds([0.0, ymax]).labels(y_labels))
        .hidden_legend_constraints((Constraint::Ratio(1, 2), Constraint::Ratio(1, 1)))
        .render(chart, buf);
    Paragraph::new(" m next figure   q quit").render(footer, buf);
}

/// Shows the chart until the user quits; the terminal is restored on every
/// way out (the guard's drop, a signal or a hung-up terminal, and the panic
/// hook for a panic).
pub fn show(sweep: &Sweep) -> anyhow::Result<()> {
    super::install_panic_hook();
    crate::signals::catch();
    let _guard = super::TerminalGuard::enter()?;
    let mut terminal = ratatui::Terminal::new(super::backend()).context("open the terminal")?;
    let keys = Keys::start();
    let mut metric = Metric::SenderCpu;
    loop {
        terminal
            .draw(|f| render(sweep, metric, f.area(), f.buffer_mut()))
            .context("draw the chart")?;
        let k = match keys.next(Duration::from_millis(100)) {
            None | Some(Input::Resize) => continue,
            Some(Input::Stop) => return Ok(()),
            Some(Input::Key(k)) => k,
        };
        match k.code {
            KeyCode::Char('q') | KeyCode::Esc => return Ok(()),
            KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => return Ok(()),
            KeyCode::Char('m') => metric = metric.next(),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        Strategy,
        sweep::{Point, Sample},
    };

    /// The chart draws every strategy's name in its legend and the chunk
    /// sizes on its axis, for each figure.
    #[test]
    fn the_chart_names_its_lines_and_chunks() {
        let strategies: Vec<Strategy> = Strategy::all().take(2).collect();
        let sample = |v: f64| Sample {
            sender_cpu_ns_per_gib: v,
            transfer_cpu_ns_per_gib: v,
            untraced_sender_cpu_ns_per_gib: v / 2.0,
            untraced_transfer_cpu_ns_per_gib: v / 2.0,
            syscalls_per_gib: v,
            copies_per_byte: 1.0,
            received_ok: true,
            unexplained_bytes: 0,
        };
        let mut points = Vec::new();
        for (i, &s) in strategies.iter().enumerate() {
            for c in [4096u64, 1 << 20] {
                points.push(Point::of(s, c, &[sample((i + 1) as f64 * 1e8 / c as f64)]));
            }
        }
        let sweep = Sweep {
            kernel: "6.18".into(),
            size_bytes: 1 << 26,
            runs_per_point: 1,
            chunks: vec![4096, 1 << 20],
            strategies: strategies.clone(),
            points,
            note: crate::export::sweep::NOTE,
        };
        for m in Metric::ALL {
            let area = Rect::new(0, 0, 80, 24);
            let mut buf = Buffer::empty(area);
            render(&sweep, m, area, &mut buf);
            let text: String = (0..24)
                .map(|y| (0..80).map(|x| buf[(x, y)].symbol()).collect::<String>() + "\n")
                .collect();
            for s in &strategies {
                assert!(text.contains(s.name()), "{m:?}: {}\n{text}", s.name());
            }
            assert!(text.contains("4 KiB") && text.contains("1 MiB"), "{text}");
        }
    }
}
