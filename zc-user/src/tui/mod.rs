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
pub mod keys;
pub mod playback;
pub mod screen;
pub mod sweep_view;
pub mod text;
pub mod theme;
pub mod trace;
pub mod widgets;

use std::{
    io::Stdout,
    path::PathBuf,
    sync::{Arc, Mutex, mpsc as std_mpsc},
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

use crate::{
    model::Strategy,
    recording, report,
    session::LiveSession,
    strategy::gate::{Gate, StepUnit},
    tracefile,
};
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

/// The terminal's writer: each frame buffered whole and written at once
/// (ratatui flushes after every frame). Straight to stdout, a frame went
/// out in 1 KiB pieces, and a slow terminal, or tmux, could show half a
/// new frame over the old one.
pub(crate) type Backend = CrosstermBackend<std::io::BufWriter<Stdout>>;

pub(crate) fn backend() -> Backend {
    CrosstermBackend::new(std::io::BufWriter::with_capacity(
        1 << 16,
        std::io::stdout(),
    ))
}

/// Restores the terminal before the default panic message prints.
pub(crate) fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        previous(info);
    }));
}

/// Requests to the engine: a run, stepped by a unit or not.
enum Request {
    Run(Strategy, Option<StepUnit>),
}

/// The gate of the stepped run in progress: made by the engine (it needs
/// the kernel's pause flag), opened a step at a time by the event loop;
/// and whether the view is closing (a gate made after that opens at once).
type GateSlot = Arc<Mutex<(Option<Arc<Gate>>, bool)>>;

fn with_gate(slot: &GateSlot, f: impl FnOnce(&Gate)) {
    if let Some(g) = slot.lock().unwrap_or_else(|e| e.into_inner()).0.as_ref() {
        f(g);
    }
}

/// The view is closing: the stepped run in progress, and any the engine
/// starts from now on, run to their end without waiting.
fn close_gates(slot: &GateSlot) {
    let mut s = slot.lock().unwrap_or_else(|e| e.into_inner());
    s.1 = true;
    if let Some(g) = s.0.as_ref() {
        g.open();
    }
}

/// Runs the engine: measures each requested strategy with the live session
/// and reports back. Lives on its own thread: a run blocks for its duration.
/// A stepped run reports what the kernel did so far as its events come in.
fn engine(
    mut live: LiveSession,
    rx: std_mpsc::Receiver<Request>,
    tx: mpsc::UnboundedSender<Action>,
    slot: GateSlot,
) {
    while let Ok(Request::Run(s, step)) = rx.recv() {
        let _ = tx.send(Action::RunStarted(s));
        let result = match step {
            None => live.run(s),
            Some(unit) => {
                let gate = Arc::new(live.gate(unit));
                {
                    let mut held = slot.lock().unwrap_or_else(|e| e.into_inner());
                    if held.1 {
                        gate.open();
                    }
                    held.0 = Some(gate.clone());
                }
                let progress_tx = tx.clone();
                let progress = move |o| {
                    let _ = progress_tx.send(Action::RunProgress(Box::new(o)));
                };
                let result = live.run_stepped(s, &gate, &progress);
                slot.lock().unwrap_or_else(|e| e.into_inner()).0 = None;
                result
            }
        };
        let msg = match result {
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
    /// Live runs are stepped by this unit (`--step`).
    pub step: Option<StepUnit>,
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
        // A stepped run still in progress is not a whole run yet.
        let runs: Vec<_> = Strategy::all()
            .filter(|s| app.stepping() != Some(*s))
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

/// Asks for a strategy's run (measured live, stepped or not, or taken from
/// a recording).
type Requester = Box<dyn Fn(Strategy, Option<StepUnit>)>;

/// Runs the TUI until the user quits.
pub fn run(feed: Feed, start: Start) -> anyhow::Result<()> {
    let (tx, rx) = mpsc::unbounded_channel();
    let slot: GateSlot = Arc::default();
    let mut engine_thread = None;
    let (app, request, recorder): (App, Requester, Option<Recorder>) = match feed {
        Feed::Live(live) => {
            let probes = crate::kernel::probes::summary(live.probes());
            let source = app::Source::Live {
                kernel: live.context.kernel.clone(),
                refused: Strategy::all()
                    .filter(|s| live.refusal(*s).is_some())
                    .collect(),
            };
            let recorder = Recorder {
                meta: live.trace_meta(),
                context: live.context.clone(),
                path: start.record.clone(),
            };
            let (req_tx, req_rx) = std_mpsc::channel();
            let engine_tx = tx.clone();
            let engine_slot = slot.clone();
            engine_thread = Some(
                std::thread::Builder::new()
                    .name("zc-engine".into())
                    .spawn(move || engine(*live, req_rx, engine_tx, engine_slot))
                    .context("start the measuring thread")?,
            );
            let app = App::new(
                source,
                start.first,
                start.tour,
                start.speed,
                start.lang,
                probes,
            )
            .with_step(start.step);
            let request = Box::new(move |s, step| {
                let _ = req_tx.send(Request::Run(s, step));
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
            let source = app::Source::recording(
                &loaded,
                loaded.meta.created.get(..10).unwrap_or("").to_string(),
            );
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
            let request = Box::new(move |s: Strategy, _step: Option<StepUnit>| {
                let msg = match loaded.outcome(s) {
                    Some(o) => Action::RunDone(Box::new(o.clone())),
                    None => Action::RunFailed(s, "not in this recording".into()),
                };
                let _ = replay_tx.send(msg);
            });
            (app, request, None)
        }
    };
    // The engine and the replay hold their own senders: when they are gone,
    // the event loop hears of it.
    drop(tx);
    let mut app = app;
    app::update(&mut app, Action::HighContrast(start.high_contrast));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("start the event loop")?;
    let record_on_quit = start.record.is_some();
    let result = runtime.block_on(event_loop(
        app,
        rx,
        start.first,
        request,
        recorder,
        record_on_quit,
        slot.clone(),
    ));
    // A stepped run may be waiting for a key that will not come: let it
    // finish, then let the engine drop the session (its network, its
    // file, its probes) before the process ends.
    close_gates(&slot);
    if let Some(engine) = engine_thread {
        let t0 = Instant::now();
        while !engine.is_finished() && t0.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    result
}

async fn event_loop(
    mut app: App,
    mut engine_rx: mpsc::UnboundedReceiver<Action>,
    first: Strategy,
    request: Requester,
    recorder: Option<Recorder>,
    record_on_quit: bool,
    slot: GateSlot,
) -> anyhow::Result<()> {
    install_panic_hook();
    let _guard = TerminalGuard::enter()?;
    let mut terminal = Terminal::new(backend()).context("open the terminal")?;
    terminal.clear()?;
    crate::signals::watch_terminal();
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
    request(first, app.step_unit());
    loop {
        let action = tokio::select! {
            _ = ticker.tick() => {
                // A hung-up terminal: crossterm's reader may spin on its
                // end-of-file without a word (see `keys`); the tty's own
                // state says it.
                if keys::stop().is_some() {
                    Action::Quit
                } else {
                    let now = Instant::now();
                    let dt = now - last;
                    last = now;
                    Action::Tick(dt)
                }
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
            _ = hup.recv() => {
                crate::signals::hang_up();
                Action::Quit
            }
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
                    request(s, None);
                }
                Effect::RunStepped(s, unit) => {
                    requested.push(s);
                    request(s, Some(unit));
                }
                Effect::Step => with_gate(&slot, Gate::step),
                Effect::StepOpen => with_gate(&slot, Gate::open),
                Effect::RunMissing => {
                    for s in Strategy::all().filter(|s| app.source().offers(*s)) {
                        if app.run_of(s).is_none() && !requested.contains(&s) {
                            requested.push(s);
                            request(s, None);
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
