//! `zc trace`'s live view: the article's diagram for a program zc did not
//! write. Each arrow carries what the kernel counted for it in the last
//! second (MiB/s) and its share of the bytes sent so far; the mode-switch
//! lane counts switches per second; panels list the top files and sockets,
//! and each process's verdict. Every figure comes from the in-kernel
//! totals, sampled four times a second: nothing here is animated from a
//! script.
//!
//! Built as the demo's view is: the state and its one way to change
//! (`app`: `update(&mut TraceApp, Action)`, pure), the layout (`screen`),
//! one widget per file (`widgets/`), and this runtime, which alone touches
//! the terminal, the keys and the kernel's samples. The terminal guard,
//! the panic hook and the key thread are the demo's own.

pub mod app;
pub mod screen;
pub mod widgets;

use std::time::{Duration, Instant};

use anyhow::Context as _;

use self::app::{Action, Effect, TraceApp, WINDOW_NS, update};
use super::keys::{Input, Keys};
use crate::{
    lang::Lang,
    model::tree::TraceState,
    trace::{Live, SAMPLE_EVERY},
};

type Term = ratatui::Terminal<super::Backend>;

/// The terminal in raw mode on the alternate screen, restored when the
/// guard drops, by the panic hook, and (signals) because both loops leave
/// at once.
fn open_terminal() -> anyhow::Result<(super::TerminalGuard, Term)> {
    super::install_panic_hook();
    crate::signals::catch();
    let guard = super::TerminalGuard::enter()?;
    let terminal = ratatui::Terminal::new(super::backend()).context("open the terminal")?;
    Ok((guard, terminal))
}

/// What the key thread heard in the last 50 ms, as an action.
fn next_action(keys: &Keys) -> Option<Action> {
    match keys.next(Duration::from_millis(50))? {
        Input::Key(k) => Some(Action::Key(k)),
        Input::Resize => None,
        Input::Stop => Some(Action::Quit),
    }
}

/// The picture of the kernel's totals now: the reports and the last rate
/// window only (the whole history is the recording's, not a copy per
/// sample).
fn picture(live: &Live) -> Box<TraceState> {
    Box::new(live.state.view_at(None, WINDOW_NS))
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
    let mut app = TraceApp::live(*picture(live), lang);
    let mut next = Instant::now() + SAMPLE_EVERY;
    loop {
        if crate::signals::stopped() {
            break; // a signal: nobody may be left to press q
        }
        if live.state.ended.is_none() {
            if let Some(why) = live.should_end()? {
                live.finish(why)?;
                let state = picture(live);
                update(&mut app, Action::Sampled { state, ended: true });
            } else if Instant::now() >= next {
                live.sample()?;
                next += SAMPLE_EVERY;
                let state = picture(live);
                update(
                    &mut app,
                    Action::Sampled {
                        state,
                        ended: false,
                    },
                );
            } else {
                live.look();
            }
        }
        update(&mut app, Action::Output(live.output_tail(8)));
        if crate::signals::stopped() {
            break;
        }
        terminal
            .draw(|f| screen::draw(&app, f.area(), f.buffer_mut()))
            .context("draw the trace view")?;
        let Some(action) = next_action(&keys) else {
            continue;
        };
        for effect in update(&mut app, action) {
            match effect {
                Effect::Record => {
                    let n = record(live).unwrap_or_else(|e| format!("not recorded: {e:#}"));
                    update(&mut app, Action::Notice(n));
                }
                Effect::Resample => {
                    let ended = live.state.ended.is_some();
                    let state = picture(live);
                    update(&mut app, Action::Sampled { state, ended });
                }
            }
        }
        if app.quitting() {
            break;
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
    let mut app = TraceApp::replay(state.clone(), lang);
    let mut last = Instant::now();
    loop {
        if crate::signals::stopped() {
            break;
        }
        let now = Instant::now();
        update(&mut app, Action::Tick(now - last));
        last = now;
        terminal
            .draw(|f| screen::draw(&app, f.area(), f.buffer_mut()))
            .context("draw the trace view")?;
        if let Some(action) = next_action(&keys) {
            // A replay asks for nothing: it records nothing, samples nothing.
            let _ = update(&mut app, action);
        }
        if app.quitting() {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use ratatui::{buffer::Buffer, layout::Rect};

    use super::*;
    use crate::tui::trace::app::tests::state;

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

    fn drawn(app: &TraceApp, w: u16, h: u16) -> String {
        let area = Rect::new(0, 0, w, h);
        let mut buf = Buffer::empty(area);
        screen::draw(app, area, &mut buf);
        text_of(&buf)
    }

    /// The arrows carry the rates of the last second and the shares, the
    /// verdict and the sockets are listed, and the picture fits 80×24.
    #[test]
    fn the_live_view_shows_rates_shares_and_the_verdict() {
        let text = drawn(&TraceApp::live(state(), Lang::En), 80, 24);
        assert!(text.contains("LIVE"), "{text}");
        assert!(text.contains("64.0 MiB/s"), "{text}");
        assert!(text.contains("100 % of sent"), "{text}");
        assert!(text.contains("python3[7] sent 64 MiB"), "{text}");
        assert!(text.contains("127.0.0.1:50000"), "{text}");
        assert!(
            text.contains("page cache") && text.contains("socket buffer"),
            "{text}"
        );
        let zh = drawn(&TraceApp::live(state(), Lang::Zh), 80, 24);
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
        let text = drawn(&TraceApp::live(state(), Lang::En), 60, 10);
        assert!(text.contains("needs 80×24"), "{text}");
    }

    /// The help speaks the view's language, and goes with any key.
    #[test]
    fn the_help_overlay_speaks_the_views_language() {
        use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
        let mut app = TraceApp::live(state(), Lang::Zh);
        let key = |c| Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
        update(&mut app, key('?'));
        // A wide character's second cell reads as a space here.
        let text = drawn(&app, 80, 24).replace(' ', "");
        assert!(text.contains("每个箭头"), "{text}");
        update(&mut app, key('x'));
        assert!(!drawn(&app, 80, 24).replace(' ', "").contains("每个箭头"));
    }
}
