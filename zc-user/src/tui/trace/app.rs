//! The trace view's state and its one way to change, `update(&mut
//! TraceApp, Action)`, pure, as the demo's view is built: the runtime
//! turns keys, the kernel's samples and the clock into actions, and does
//! what the returned effects ask (write the recording, stop). The widgets
//! only read the app, so the whole view is testable without a terminal or
//! a kernel.
//!
//! What is shown is always a [`TraceState`]: live, the latest sample of the
//! kernel's totals (held while paused: tracing goes on underneath); in a
//! replay, the recording as it stood at the replay's clock.

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::{
    lang::Lang,
    model::tree::{Rates, TraceState},
};

/// Rates are taken over about this much of the recent past.
pub const WINDOW_NS: u64 = 1_000_000_000;

/// Where the picture comes from.
#[derive(Debug)]
enum Source {
    /// The kernel's totals, sampled now.
    Live,
    /// A recording, played at its own pace: the whole of it, and how far
    /// the replay has gone.
    Replay {
        recorded: Box<TraceState>,
        clock: Duration,
    },
}

#[derive(Debug)]
pub struct TraceApp {
    source: Source,
    shown: TraceState,
    lang: Lang,
    paused: bool,
    help: bool,
    /// The last notice for the footer (a recording written, an error).
    notice: Option<String>,
    /// The traced command's last output lines, when captured.
    output: Vec<String>,
    quit: bool,
}

/// Everything that can happen to the view.
#[derive(Debug)]
pub enum Action {
    Key(KeyEvent),
    /// A new picture of the kernel's totals (live). `ended`: the trace is
    /// over, and this last picture is shown even while paused.
    Sampled {
        state: Box<TraceState>,
        ended: bool,
    },
    /// Time passed (a replay's clock moves with it unless paused).
    Tick(Duration),
    /// The traced command's latest output lines.
    Output(Vec<String>),
    /// A line for the footer.
    Notice(String),
    /// Stop: a signal came, or the terminal went away.
    Quit,
}

/// What the view asks its runtime to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Write the recording now.
    Record,
    /// Send the latest picture (the user unpaused, or paused: what is
    /// shown is the kernel's now).
    Resample,
}

impl TraceApp {
    /// A live view, showing `first` until the next sample.
    pub fn live(first: TraceState, lang: Lang) -> TraceApp {
        TraceApp::new(Source::Live, first, lang)
    }

    /// A replay of `recorded` from its start.
    pub fn replay(recorded: TraceState, lang: Lang) -> TraceApp {
        let shown = recorded.view_at(Some(0), WINDOW_NS);
        let source = Source::Replay {
            recorded: Box::new(recorded),
            clock: Duration::ZERO,
        };
        TraceApp::new(source, shown, lang)
    }

    fn new(source: Source, shown: TraceState, lang: Lang) -> TraceApp {
        TraceApp {
            source,
            shown,
            lang,
            paused: false,
            help: false,
            notice: None,
            output: Vec::new(),
            quit: false,
        }
    }

    /// The picture.
    pub fn shown(&self) -> &TraceState {
        &self.shown
    }

    /// The picture's rates, over the last second of it.
    pub fn rates(&self) -> Rates {
        self.shown.rates(WINDOW_NS)
    }

    pub fn lang(&self) -> Lang {
        self.lang
    }

    pub fn paused(&self) -> bool {
        self.paused
    }

    pub fn help_shown(&self) -> bool {
        self.help
    }

    pub fn notice(&self) -> Option<&str> {
        self.notice.as_deref()
    }

    pub fn output(&self) -> &[String] {
        &self.output
    }

    pub fn quitting(&self) -> bool {
        self.quit
    }

    fn is_live(&self) -> bool {
        matches!(self.source, Source::Live)
    }
}

/// Applies one action; returns what the runtime should do.
pub fn update(app: &mut TraceApp, action: Action) -> Vec<Effect> {
    let mut fx = Vec::new();
    match action {
        Action::Quit => app.quit = true,
        Action::Sampled { state, ended } => {
            if ended || !app.paused {
                app.shown = *state;
            }
        }
        Action::Tick(dt) => {
            if let Source::Replay { recorded, clock } = &mut app.source
                && !app.paused
            {
                *clock += dt;
                app.shown = recorded.view_at(Some(clock.as_nanos() as u64), WINDOW_NS);
            }
        }
        Action::Output(lines) => app.output = lines,
        Action::Notice(n) => app.notice = Some(n),
        Action::Key(k) => key(app, k, &mut fx),
    }
    fx
}

fn key(app: &mut TraceApp, k: KeyEvent, fx: &mut Vec<Effect>) {
    if app.help {
        // Any key closes the help; q and Ctrl-C still quit.
        app.help = false;
        if !matches!(k.code, KeyCode::Char('q')) && !is_ctrl_c(&k) {
            return;
        }
    }
    match k.code {
        KeyCode::Char('q') | KeyCode::Esc => app.quit = true,
        _ if is_ctrl_c(&k) => app.quit = true,
        KeyCode::Char(' ') | KeyCode::Char('p') => {
            app.paused = !app.paused;
            if app.is_live() {
                fx.push(Effect::Resample);
            }
        }
        KeyCode::Char('?') | KeyCode::Char('h') => app.help = true,
        KeyCode::Char('l') => app.lang = app.lang.toggle(),
        KeyCode::Char('r') if app.is_live() => fx.push(Effect::Record),
        KeyCode::Char('r') => app.notice = Some("a replay is a recording already".into()),
        _ => {}
    }
}

fn is_ctrl_c(k: &KeyEvent) -> bool {
    k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::{
        counts::Counts,
        tree::{Names, ProcCounts, Sample, SocketInfo, TreeCounts, reports},
    };
    use zc_common::counters::Counter as C;

    /// One second of python3 sending 64 MiB it read, through one socket.
    pub(crate) fn state() -> TraceState {
        let c0 = Counts::new();
        let mut c1 = Counts::new();
        c1.add(C::ReadFileBytes, 64 << 20);
        c1.add(C::SendUserBytes, 64 << 20);
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

    fn press(app: &mut TraceApp, code: KeyCode) -> Vec<Effect> {
        update(app, Action::Key(KeyEvent::new(code, KeyModifiers::NONE)))
    }

    /// Paused, the picture holds while samples come; unpausing asks for the
    /// latest; the trace's end is shown even while paused.
    #[test]
    fn a_paused_live_view_holds_its_picture() {
        let mut app = TraceApp::live(state(), Lang::En);
        assert_eq!(press(&mut app, KeyCode::Char(' ')), vec![Effect::Resample]);
        assert!(app.paused());
        let mut later = state();
        later.title = "later".into();
        update(
            &mut app,
            Action::Sampled {
                state: Box::new(later.clone()),
                ended: false,
            },
        );
        assert_ne!(app.shown().title, "later", "held while paused");
        later.ended = Some("the command exited with 0".into());
        update(
            &mut app,
            Action::Sampled {
                state: Box::new(later),
                ended: true,
            },
        );
        assert_eq!(app.shown().title, "later", "the end is shown");
    }

    /// A replay's clock moves the picture forward, and stops while paused;
    /// it records nothing.
    #[test]
    fn a_replay_plays_at_its_clock() {
        let mut recorded = state();
        recorded.replay = true;
        let mut app = TraceApp::replay(recorded, Lang::En);
        assert_eq!(app.shown().samples.len(), 1);
        press(&mut app, KeyCode::Char('p'));
        update(&mut app, Action::Tick(Duration::from_secs(2)));
        assert_eq!(app.shown().samples.len(), 1, "paused: the clock stands");
        press(&mut app, KeyCode::Char('p'));
        update(&mut app, Action::Tick(Duration::from_secs(2)));
        assert_eq!(app.shown().samples.len(), 2);
        assert!(press(&mut app, KeyCode::Char('r')).is_empty());
        assert!(app.notice().is_some());
    }

    #[test]
    fn keys_do_what_the_help_says() {
        let mut app = TraceApp::live(state(), Lang::En);
        assert_eq!(press(&mut app, KeyCode::Char('r')), vec![Effect::Record]);
        press(&mut app, KeyCode::Char('l'));
        assert_eq!(app.lang(), Lang::Zh);
        press(&mut app, KeyCode::Char('?'));
        assert!(app.help_shown());
        press(&mut app, KeyCode::Char('x'));
        assert!(!app.help_shown(), "any key closes the help");
        assert!(!app.quitting());
        press(&mut app, KeyCode::Char('q'));
        assert!(app.quitting());
    }
}
