//! The live view: the article's figures redrawn as measured events arrive.
//!
//! Three parts, one direction: an engine thread owns the live session and
//! measures runs on request; the app state ([`app`]) changes only through
//! `update`; the drawing ([`screen`], placing one [`widgets`] module per
//! part of the picture) reads the state and nothing else. The
//! event loop `select!`s over terminal input, engine results, a frame tick
//! and termination signals. The terminal is restored by a guard's `Drop` and
//! by a panic hook, so q, Ctrl-C, SIGTERM, a panic and an engine error all
//! leave it as they found it.

pub mod app;
pub mod playback;
pub mod screen;
pub mod sweep_view;
pub mod text;
pub mod theme;
pub mod trace_view;
pub mod widgets;

use std::{
    io::Stdout,
    path::PathBuf,
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

use crate::{model::Strategy, recording, report, session::LiveSession, tracefile};
use app::{Action, App, Effect};

/// Frames per second while animating.
const FPS: u64 = 30;

/// Restores the terminal when dropped (normal exit, error, unwinding).
pub(crate) struct TerminalGuard;

impl TerminalGuard {
    pub(crate) fn enter() -> anyhow::Result<TerminalGuard> {
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
pub(crate) fn install_panic_hook() {
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
    /// Where `r` (and quitting, when set by --record) writes the trace.
    pub record: Option<PathBuf>,
}

/// Where the runs come from.
pub enum Feed {
    /// Measured now, on request.
    Live(Box<LiveSession>),
    /// Played from a trace, labelled as a recording the whole time.
    Replay(Box<recording::Loaded>),
}

/// What the `r` key needs to write a trace of a live session.
struct Recorder {
    meta: zc_trace::Meta,
    context: crate::model::context::Context,
    path: Option<PathBuf>,
}

impl Recorder {
    fn write(&self, app: &App) -> anyhow::Result<(PathBuf, usize)> {
        let runs: Vec<_> = Strategy::all()
            .filter_map(|s| app.run_of(s).map(|p| p.outcome.clone()))
            .collect();
        if runs.is_empty() {
            anyhow::bail!("nothing measured yet");
        }
        let mut meta = self.meta.clone();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        meta.created = recording::rfc3339_utc(now);
        let path = self.path.clone().unwrap_or_else(|| {
            PathBuf::from(format!(
                "zc-{}.zctrace",
                meta.created.replace([':', '-'], "")
            ))
        });
        let trace = report::trace(meta, &runs, &self.context)?;
        tracefile::write_atomic(&path, &trace.to_bytes()?)?;
        Ok((path, runs.len()))
    }
}

/// Asks for a strategy's run (measured live, or taken from a recording).
type Requester = Box<dyn Fn(Strategy)>;

/// Runs the TUI until the user quits.
pub fn run(feed: Feed, start: Start) -> anyhow::Result<()> {
    let (tx, rx) = mpsc::unbounded_channel();
    let (app, request, recorder): (App, Requester, Option<Recorder>) = match feed {
        Feed::Live(live) => {
            let probes = crate::kernel::probes::summary(live.probes());
            let source = app::Source::Live {
                kernel: live.context.kernel.clone(),
            };
            let recorder = Recorder {
                meta: live.trace_meta(),
                context: live.context.clone(),
                path: start.record.clone(),
            };
            let (req_tx, req_rx) = std_mpsc::channel();
            let engine_tx = tx.clone();
            std::thread::Builder::new()
                .name("zc-engine".into())
                .spawn(move || engine(*live, req_rx, engine_tx))
                .context("start the measuring thread")?;
            let app = App::new(
                source,
                start.first,
                start.tour,
                start.speed,
                start.lang,
                probes,
            );
            let request = Box::new(move |s| {
                let _ = req_tx.send(Request::Run(s));
            });
            (app, request, Some(recorder))
        }
        Feed::Replay(loaded) => {
            let attached = loaded
                .meta
                .probes
                .iter()
                .filter(|p| p.state == "attached")
                .count();
            let probes = format!("probes {attached}/{}", loaded.meta.probes.len());
            let source = app::Source::Recording {
                kernel: loaded.meta.kernel.clone(),
                label: loaded.meta.created.get(..10).unwrap_or("").to_string(),
            };
            let app = App::new(
                source,
                start.first,
                start.tour,
                start.speed,
                start.lang,
                probes,
            );
            let replay_tx = tx.clone();
            // A replay "measures" by handing back the recorded run.
            let request = Box::new(move |s: Strategy| {
                let msg = match loaded.outcome(s) {
                    Some(o) => Action::RunDone(Box::new(o.clone())),
                    None => Action::RunFailed(s, "not in this recording".into()),
                };
                let _ = replay_tx.send(msg);
            });
            (app, request, None)
        }
    };
    let mut app = app;
    app::update(&mut app, Action::HighContrast(start.high_contrast));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("start the event loop")?;
    let record_on_quit = start.record.is_some();
    runtime.block_on(event_loop(
        app,
        rx,
        start.first,
        request,
        recorder,
        record_on_quit,
    ))
}

async fn event_loop(
    mut app: App,
    mut engine_rx: mpsc::UnboundedReceiver<Action>,
    first: Strategy,
    request: Requester,
    recorder: Option<Recorder>,
    record_on_quit: bool,
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
                None => Action::RunFailed(app.strategy(), "the measuring thread stopped".into()),
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
                    for s in Strategy::all() {
                        if app.run_of(s).is_none() && !requested.contains(&s) {
                            requested.push(s);
                            request(s);
                        }
                    }
                }
                Effect::Redraw => terminal.clear()?,
                Effect::Record => {
                    let notice = match &recorder {
                        Some(r) => match r.write(&app) {
                            Ok((path, n)) => format!("recorded {n} runs to {}", path.display()),
                            Err(e) => format!("not recorded: {e:#}"),
                        },
                        None => "this is a recording already".to_string(),
                    };
                    app::update(&mut app, Action::Notice(notice));
                }
            }
        }
        if app.quitting() {
            if record_on_quit && let Some(r) = &recorder {
                // After the terminal is restored, say where the trace went.
                let result = r.write(&app);
                drop(terminal);
                drop(_guard);
                match result {
                    Ok((path, n)) => eprintln!("zc: recorded {n} runs to {}", path.display()),
                    Err(e) => return Err(e.context("write the trace")),
                }
            }
            break;
        }
        terminal.draw(|f| screen::draw(f, &app))?;
        frames += 1;
        if panic_at == Some(frames) {
            panic!("deliberate panic (ZC_DEBUG_PANIC_AFTER_FRAMES) to test terminal restore");
        }
    }
    Ok(())
}
