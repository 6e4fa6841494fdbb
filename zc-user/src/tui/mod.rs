//! The live view: the article's figures redrawn as measured events arrive.
//!
//! Three parts, one direction: an engine thread owns the live session and
//! measures runs on request; the app state ([`app`]) changes only through
//! `update`; the drawing ([`draw`]) reads the state and nothing else. The
//! event loop `select!`s over terminal input, engine results, a frame tick
//! and termination signals. The terminal is restored by a guard's `Drop` and
//! by a panic hook, so q, Ctrl-C, SIGTERM, a panic and an engine error all
//! leave it as they found it.

pub mod app;
pub mod diagram;
pub mod draw;
pub mod playback;
pub mod text;
pub mod theme;

use std::{
    io::Stdout,
    sync::mpsc as std_mpsc,
    time::{Duration, Instant},
};

use anyhow::Context as _;
use crossterm::{
    cursor,
    event::{Event as TermEvent, EventStream, KeyEventKind},
    execute,
    terminal::{self, EnterAlternateScreen, LeaveAlternateScreen},
};
use futures::StreamExt as _;
use ratatui::{Terminal, backend::CrosstermBackend};
use tokio::sync::mpsc;

use crate::{model::Strategy, session::LiveSession};
use app::{Action, App, Effect};

/// Frames per second while animating.
const FPS: u64 = 30;

/// Restores the terminal when dropped (normal exit, error, unwinding).
struct TerminalGuard;

impl TerminalGuard {
    fn enter() -> anyhow::Result<TerminalGuard> {
        terminal::enable_raw_mode().context("switch the terminal to raw mode")?;
        let guard = TerminalGuard;
        execute!(std::io::stdout(), EnterAlternateScreen, cursor::Hide)
            .context("enter the alternate screen")?;
        Ok(guard)
    }
}

fn restore_terminal() {
    let _ = terminal::disable_raw_mode();
    let _ = execute!(std::io::stdout(), LeaveAlternateScreen, cursor::Show);
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// Restores the terminal before the default panic message prints.
fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        previous(info);
    }));
}

/// Requests to the engine.
enum Request {
    Run(Strategy),
}

/// Runs the engine: measures each requested strategy with the live session
/// and reports back. Lives on its own thread: a run blocks for its duration.
fn engine(
    mut live: LiveSession,
    rx: std_mpsc::Receiver<Request>,
    tx: mpsc::UnboundedSender<Action>,
) {
    while let Ok(Request::Run(s)) = rx.recv() {
        let _ = tx.send(Action::RunStarted(s));
        let msg = match live.run(s) {
            Ok(o) => Action::RunDone(Box::new(o)),
            Err(e) => Action::RunFailed(s, format!("{e:#}")),
        };
        if tx.send(msg).is_err() {
            break;
        }
    }
}

/// How the TUI starts.
pub struct Start {
    pub first: Strategy,
    pub tour: bool,
    pub speed: f32,
    pub lang: text::Lang,
    pub high_contrast: bool,
}

/// Runs the live TUI until the user quits.
pub fn run_live(live: LiveSession, start: Start) -> anyhow::Result<()> {
    let probes = crate::kernel::probes::summary(live.probes());
    let source = app::Source::Live {
        kernel: live.context.kernel.clone(),
    };
    let mut app = App::new(
        source,
        start.first,
        start.tour,
        start.speed,
        start.lang,
        probes,
    );
    app.high_contrast = start.high_contrast;
    let (req_tx, req_rx) = std_mpsc::channel();
    let (tx, rx) = mpsc::unbounded_channel();
    let engine_tx = tx.clone();
    std::thread::Builder::new()
        .name("zc-engine".into())
        .spawn(move || engine(live, req_rx, engine_tx))
        .context("start the measuring thread")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("start the event loop")?;
    let first = start.first;
    runtime.block_on(event_loop(app, rx, first, move |s| {
        let _ = req_tx.send(Request::Run(s));
    }))
}

async fn event_loop(
    mut app: App,
    mut engine_rx: mpsc::UnboundedReceiver<Action>,
    first: Strategy,
    request: impl Fn(Strategy),
) -> anyhow::Result<()> {
    install_panic_hook();
    let _guard = TerminalGuard::enter()?;
    let mut terminal: Terminal<CrosstermBackend<Stdout>> =
        Terminal::new(CrosstermBackend::new(std::io::stdout())).context("open the terminal")?;
    terminal.clear()?;
    let mut input = EventStream::new();
    let mut ticker = tokio::time::interval(Duration::from_millis(1000 / FPS));
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    let mut int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    let mut last = Instant::now();
    // A deliberate panic after a few frames, so tests can check that a panic
    // restores the terminal (see tests/tmux.rs). Never set in normal use.
    let panic_at: Option<u32> = std::env::var("ZC_DEBUG_PANIC_AFTER_FRAMES")
        .ok()
        .and_then(|v| v.parse().ok());
    let mut frames = 0u32;
    // Strategies asked of the engine and not reported yet (the engine
    // measures them one at a time, in order).
    let mut requested: Vec<Strategy> = vec![first];
    request(first);
    loop {
        let action = tokio::select! {
            _ = ticker.tick() => {
                let now = Instant::now();
                let dt = now - last;
                last = now;
                Action::Tick(dt)
            }
            ev = input.next() => match ev {
                Some(Ok(TermEvent::Key(k))) if k.kind != KeyEventKind::Release => Action::Key(k),
                Some(Ok(TermEvent::Resize(..))) => {
                    terminal.autoresize()?;
                    continue;
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(e).context("read the terminal"),
                None => Action::Quit,
            },
            msg = engine_rx.recv() => match msg {
                Some(a) => a,
                None => Action::RunFailed(app.strategy, "the measuring thread stopped".into()),
            },
            _ = term.recv() => Action::Quit,
            _ = hup.recv() => Action::Quit,
            _ = int.recv() => Action::Quit,
        };
        if let Action::RunDone(o) = &action {
            requested.retain(|s| *s != o.facts.strategy);
        }
        if let Action::RunFailed(f, _) = &action {
            requested.retain(|s| s != f);
        }
        for effect in app::update(&mut app, action) {
            match effect {
                Effect::Run(s) => {
                    requested.push(s);
                    request(s);
                }
                Effect::RunMissing => {
                    for s in Strategy::ALL {
                        if !app.runs.contains_key(&s) && !requested.contains(&s) {
                            requested.push(s);
                            request(s);
                        }
                    }
                }
                Effect::Redraw => terminal.clear()?,
            }
        }
        if app.quit {
            break;
        }
        terminal.draw(|f| draw::draw(f, &app))?;
        frames += 1;
        if panic_at == Some(frames) {
            panic!("deliberate panic (ZC_DEBUG_PANIC_AFTER_FRAMES) to test terminal restore");
        }
    }
    Ok(())
}
