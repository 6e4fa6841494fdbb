//! The TUI's state and its one way to change: `update(&mut App, Action)`.
//! Pure: no terminal, no kernel, no clock of its own; time arrives as
//! `Action::Tick` with the elapsed duration, so tests can drive it exactly.
//! The state's fields are private: widgets read it through its accessors,
//! and everything else (keys, the runtime, the exporters, the tests) changes
//! it only through an [`Action`].

use std::{collections::HashMap, time::Duration};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::{playback::Plan, text::Lang};
use crate::{
    model::{Strategy, outcome::RunOutcome},
    strategy::gate::StepUnit,
};

/// Steps shown in detail at the start of a run.
const DETAIL_ITERATIONS: u64 = 2;
/// Seconds one plan item takes at speed ×1.
const STEP_SECONDS: f32 = 0.9;
/// Playback speeds offered by + and -.
pub const SPEEDS: [f32; 9] = [0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0];
/// Pause between strategies on the tour, in seconds.
const TOUR_PAUSE: f32 = 2.5;

/// Where the runs come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// Measured now by this process, on a kernel that refuses the
    /// strategies in `refused` (a mechanism it lacks).
    Live {
        kernel: String,
        refused: Vec<Strategy>,
    },
    /// Played from a recording made elsewhere, which holds runs of `held`
    /// (in table order: a trace need not hold every strategy).
    Recording {
        kernel: String,
        label: String,
        held: Vec<Strategy>,
    },
}

impl Source {
    /// A trace's runs, played back under `label`.
    pub fn recording(loaded: &crate::recording::Loaded, label: impl Into<String>) -> Source {
        Source::Recording {
            kernel: loaded.meta.kernel.clone(),
            label: label.into(),
            held: Strategy::all()
                .filter(|s| loaded.outcome(*s).is_some())
                .collect(),
        }
    }

    /// Whether a run of `s` can be had: measured live, or in the trace.
    pub fn offers(&self, s: Strategy) -> bool {
        match self {
            Source::Live { refused, .. } => !refused.contains(&s),
            Source::Recording { held, .. } => held.contains(&s),
        }
    }

    /// Why a strategy it does not offer is missing, in English and Chinese.
    pub fn why_missing(&self) -> (&'static str, &'static str) {
        match self {
            Source::Live { .. } => ("this kernel cannot run it", "此内核无法运行"),
            Source::Recording { .. } => ("not in this recording", "此录制中没有"),
        }
    }
}

/// A run with its playback plan.
#[derive(Debug)]
pub struct Played {
    pub outcome: RunOutcome,
    pub plan: Plan,
    /// Bytes each arrow of the diagram moved in the whole run (computed
    /// once here, not at every frame).
    pub edge_bytes: Vec<(super::widgets::diagram::Edge, u64)>,
}

impl Played {
    pub fn new(outcome: RunOutcome) -> Played {
        let plan = Plan::build(outcome.facts.strategy, &outcome.steps, DETAIL_ITERATIONS);
        Played::of(outcome, plan)
    }

    fn of(outcome: RunOutcome, plan: Plan) -> Played {
        let edge_bytes = super::widgets::diagram::edge_bytes(&outcome.steps);
        Played {
            outcome,
            plan,
            edge_bytes,
        }
    }

    /// A stepped run: every step shown, nothing folded.
    pub fn stepped(outcome: RunOutcome) -> Played {
        let plan = Plan::build(outcome.facts.strategy, &outcome.steps, u64::MAX / 4);
        Played::of(outcome, plan)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    Diagram,
    Compare,
}

/// Something the app asks its runtime to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Measure this strategy (again).
    Run(Strategy),
    /// Measure every strategy not measured yet.
    RunMissing,
    /// Clear and redraw the whole terminal.
    Redraw,
    /// Write the runs measured so far to a trace file.
    Record,
    /// Measure this strategy stepped: its sender stops before each call
    /// (or iteration) until [`Effect::Step`].
    RunStepped(Strategy, StepUnit),
    /// Let the stepped run's sender make one more call (or iteration).
    Step,
    /// Let the stepped run go on to its end without stopping.
    StepOpen,
}

/// Everything that can happen to the app.
#[derive(Debug)]
pub enum Action {
    Tick(Duration),
    Key(KeyEvent),
    RunStarted(Strategy),
    /// A stepped run so far, as the kernel's events came in.
    RunProgress(Box<RunOutcome>),
    RunDone(Box<RunOutcome>),
    RunFailed(Strategy, String),
    /// A one-line message for the footer (e.g. where a trace was written).
    Notice(String),
    /// Show this strategy's run (already measured, or being measured)
    /// from its first step, without asking for a new measurement.
    Show(Strategy),
    /// Stand at plan item `pos`, `anim` (0..=1) of the way through its
    /// animation: how a slide, a frame of a web page or a test picks its
    /// moment (playback goes on from there unless paused).
    Seek {
        pos: usize,
        anim: f32,
    },
    /// The compare view, or the diagram.
    ShowView(View),
    /// Bold, no dim grey (projectors).
    HighContrast(bool),
    Quit,
}

#[derive(Debug)]
pub struct App {
    source: Source,
    strategy: Strategy,
    /// The compare view's selected row: the strategy Enter picks.
    selected: Strategy,
    runs: HashMap<Strategy, Played>,
    /// Index of the plan item being played.
    pos: usize,
    /// Progress of the current item's animation, 0..=1.
    anim: f32,
    paused: bool,
    speed: usize,
    view: View,
    lang: Lang,
    help: bool,
    high_contrast: bool,
    /// The strategy being measured right now.
    measuring: Option<Strategy>,
    error: Option<String>,
    /// Play every strategy one after another, then compare.
    tour: bool,
    tour_wait: f32,
    probes: String,
    /// The last message for the footer.
    notice: Option<String>,
    quit: bool,
    /// Live runs are stepped, by this unit (`--step`, or the `s` key).
    step: Option<StepUnit>,
    /// The strategy whose stepped run is in progress.
    stepping: Option<Strategy>,
}

impl App {
    pub fn new(
        source: Source,
        first: Strategy,
        tour: bool,
        speed: f32,
        lang: Lang,
        probes: String,
    ) -> App {
        let speed = SPEEDS
            .iter()
            .enumerate()
            .min_by(|a, b| (a.1 - speed).abs().total_cmp(&(b.1 - speed).abs()))
            .map_or(3, |(i, _)| i);
        App {
            source,
            strategy: first,
            selected: first,
            runs: HashMap::new(),
            pos: 0,
            anim: 0.0,
            paused: false,
            speed,
            view: View::Diagram,
            lang,
            help: false,
            high_contrast: false,
            measuring: None,
            error: None,
            tour,
            tour_wait: 0.0,
            probes,
            notice: None,
            quit: false,
            step: None,
            stepping: None,
        }
    }

    /// Runs measured live from now on are stepped by `unit` (`--step`);
    /// the first one, already asked for, too.
    pub fn with_step(mut self, unit: Option<StepUnit>) -> App {
        self.step = unit;
        if unit.is_some() {
            self.stepping = Some(self.strategy);
        }
        self
    }

    /// Asks for a stepped run of `s`: the view shows it from its first call.
    fn start_stepping(&mut self, s: Strategy, unit: StepUnit, fx: &mut Vec<Effect>) {
        self.runs.remove(&s);
        self.stepping = Some(s);
        self.pos = 0;
        self.anim = 0.0;
        fx.push(Effect::RunStepped(s, unit));
    }

    /// The unit live runs are stepped by, if they are.
    pub fn step_unit(&self) -> Option<StepUnit> {
        self.step
    }

    /// Whether the run shown is a stepped run still in progress.
    pub fn stepping_now(&self) -> bool {
        self.stepping == Some(self.strategy)
    }

    /// The strategy whose stepped run is in progress (its run so far is
    /// not a whole run: it is neither recorded nor compared).
    pub fn stepping(&self) -> Option<Strategy> {
        self.stepping
    }

    pub fn current(&self) -> Option<&Played> {
        self.runs.get(&self.strategy)
    }

    /// The run of `s`, if measured (a stepped run still in progress is not
    /// measured yet: only the diagram shows it).
    pub fn run_of(&self, s: Strategy) -> Option<&Played> {
        self.runs.get(&s).filter(|_| self.stepping != Some(s))
    }

    /// Every measured run, in table order.
    pub fn runs(&self) -> impl Iterator<Item = &Played> {
        Strategy::all()
            .filter(|s| self.stepping != Some(*s))
            .filter_map(|s| self.runs.get(&s))
    }

    pub fn source(&self) -> &Source {
        &self.source
    }

    pub fn strategy(&self) -> Strategy {
        self.strategy
    }

    /// The compare view's selected row.
    pub fn selected(&self) -> Strategy {
        self.selected
    }

    /// Index of the plan item being played.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Progress of the current item's animation, 0..=1.
    pub fn anim(&self) -> f32 {
        self.anim
    }

    pub fn paused(&self) -> bool {
        self.paused
    }

    pub fn view(&self) -> View {
        self.view
    }

    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// Whether the help overlay is shown.
    pub fn help_shown(&self) -> bool {
        self.help
    }

    pub fn high_contrast(&self) -> bool {
        self.high_contrast
    }

    pub fn measuring(&self) -> Option<Strategy> {
        self.measuring
    }

    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    pub fn notice(&self) -> Option<&str> {
        self.notice.as_deref()
    }

    /// The probes' state, in one line.
    pub fn probes(&self) -> &str {
        &self.probes
    }

    pub fn touring(&self) -> bool {
        self.tour
    }

    pub fn quitting(&self) -> bool {
        self.quit
    }

    pub fn speed_label(&self) -> String {
        let s = SPEEDS[self.speed];
        if s >= 1.0 {
            format!("x{}", s as u32)
        } else {
            format!("x1/{}", (1.0 / s).round() as u32)
        }
    }

    fn plan_len(&self) -> usize {
        self.current().map_or(0, |p| p.plan.len())
    }

    pub fn at_end(&self) -> bool {
        let n = self.plan_len();
        n > 0 && self.pos + 1 >= n && self.anim >= 1.0
    }

    fn select(&mut self, s: Strategy) {
        self.strategy = s;
        self.selected = s;
        self.pos = 0;
        self.anim = 0.0;
        self.view = View::Diagram;
    }
}

/// Applies one action; returns what the runtime should do.
pub fn update(app: &mut App, action: Action) -> Vec<Effect> {
    let mut fx = Vec::new();
    match action {
        Action::Quit => app.quit = true,
        Action::Tick(dt) => tick(app, dt.as_secs_f32(), &mut fx),
        Action::RunStarted(s) => app.measuring = Some(s),
        Action::RunProgress(outcome) => {
            let s = outcome.facts.strategy;
            app.error = None;
            let before = app.runs.get(&s).map_or(0, |p| p.plan.len());
            let played = Played::stepped(*outcome);
            let now = played.plan.len();
            app.stepping = Some(s);
            // Events with no step yet (the receiver waking, a switch): the
            // view keeps saying that the sender waits for its first call.
            if now == 0 {
                return fx;
            }
            app.runs.insert(s, played);
            if s == app.strategy && now > before {
                // What the kernel just did animates from its first new step.
                app.pos = before.min(now - 1);
                app.anim = 0.0;
            }
            app.paused = false;
        }
        Action::RunDone(outcome) => {
            let s = outcome.facts.strategy;
            app.measuring = None;
            app.error = None;
            // A run asked for before stepping began ends as an ordinary
            // run and leaves the stepped one waiting for its turn.
            let stepped = outcome.stepped;
            if stepped && app.stepping == Some(s) {
                app.stepping = None;
            }
            if stepped {
                // Watched call by call already: stand at its end.
                let played = Played::stepped(*outcome);
                let end = played.plan.len().saturating_sub(1);
                app.runs.insert(s, played);
                if s == app.strategy {
                    app.pos = end;
                    app.anim = 1.0;
                }
            } else {
                app.runs.insert(s, Played::new(*outcome));
                if s == app.strategy {
                    app.pos = 0;
                    app.anim = 0.0;
                }
            }
        }
        Action::RunFailed(s, e) => {
            app.measuring = None;
            // The stepped run that failed leaves no partial run behind.
            if app.stepping == Some(s) {
                app.stepping = None;
                app.runs.remove(&s);
            }
            app.error = Some(format!("{}: {e}", s.name()));
            app.notice = app.error.clone();
        }
        Action::Notice(n) => app.notice = Some(n),
        Action::Key(k) => key(app, k, &mut fx),
        Action::Show(s) => {
            app.tour = false;
            app.select(s);
        }
        Action::Seek { pos, anim } => {
            app.pos = pos.min(app.plan_len().saturating_sub(1));
            app.anim = anim.clamp(0.0, 1.0);
        }
        Action::ShowView(v) => {
            app.tour = false;
            app.view = v;
        }
        Action::HighContrast(on) => app.high_contrast = on,
    }
    fx
}

fn tick(app: &mut App, dt: f32, fx: &mut Vec<Effect>) {
    if app.paused || app.view != View::Diagram {
        return;
    }
    let n = app.plan_len();
    if n == 0 {
        return;
    }
    if app.at_end() {
        if app.tour {
            app.tour_wait += dt;
            if app.tour_wait >= TOUR_PAUSE {
                app.tour_wait = 0.0;
                // The next strategy the source has: a trace may hold few.
                let next = Strategy::all()
                    .skip(app.strategy.index() + 1)
                    .find(|s| app.source.offers(*s));
                match next {
                    Some(next) => {
                        app.select(next);
                        if !app.runs.contains_key(&next) {
                            fx.push(Effect::Run(next));
                        }
                    }
                    None => {
                        app.tour = false;
                        app.view = View::Compare;
                        fx.push(Effect::RunMissing);
                    }
                }
            }
        }
        return;
    }
    app.anim += dt * SPEEDS[app.speed] / STEP_SECONDS;
    while app.anim >= 1.0 && app.pos + 1 < n {
        app.anim -= 1.0;
        app.pos += 1;
    }
    if app.pos + 1 >= n {
        app.anim = app.anim.min(1.0);
    }
}

fn key(app: &mut App, k: KeyEvent, fx: &mut Vec<Effect>) {
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    if app.help {
        // Any key closes the help overlay; q and Ctrl-C still quit.
        match k.code {
            KeyCode::Char('q') => app.quit = true,
            KeyCode::Char('c') if ctrl => app.quit = true,
            _ => app.help = false,
        }
        return;
    }
    // A stepped run in progress: the kernel goes one call further per key.
    if app.stepping_now() {
        match k.code {
            KeyCode::Enter | KeyCode::Right | KeyCode::Char('n') => {
                fx.push(Effect::Step);
                return;
            }
            KeyCode::Char('g') => {
                fx.push(Effect::StepOpen);
                return;
            }
            _ => {}
        }
    }
    match k.code {
        KeyCode::Char('c') if ctrl => app.quit = true,
        KeyCode::Char('l') if ctrl => fx.push(Effect::Redraw),
        KeyCode::Char('q') | KeyCode::Esc => app.quit = true,
        KeyCode::Char(' ') => app.paused = !app.paused,
        KeyCode::Char('s') => match (&app.source, app.step) {
            (Source::Recording { .. }, _) => {
                app.notice =
                    Some("stepping runs the kernel: it needs a live run (zc demo --step)".into())
            }
            (Source::Live { .. }, None) if app.measuring.is_some() => {
                app.notice = Some("wait for the run in progress, then press s".into())
            }
            (Source::Live { .. }, None) => {
                app.tour = false;
                app.step = Some(StepUnit::Call);
                app.view = View::Diagram;
                app.start_stepping(app.strategy, StepUnit::Call, fx);
            }
            (Source::Live { .. }, Some(_)) => {
                app.step = None;
                if app.stepping.is_some() {
                    fx.push(Effect::StepOpen);
                }
            }
        },
        KeyCode::Right => {
            app.paused = true;
            if app.pos + 1 < app.plan_len() {
                app.pos += 1;
            }
            app.anim = 1.0;
        }
        KeyCode::Left => {
            app.paused = true;
            app.pos = app.pos.saturating_sub(1);
            app.anim = 1.0;
        }
        KeyCode::Char('+') | KeyCode::Char('=') => {
            app.speed = (app.speed + 1).min(SPEEDS.len() - 1)
        }
        KeyCode::Char('-') | KeyCode::Char('_') => app.speed = app.speed.saturating_sub(1),
        KeyCode::Char('c') => {
            app.tour = false;
            app.view = match app.view {
                View::Diagram => {
                    fx.push(Effect::RunMissing);
                    app.selected = app.strategy;
                    View::Compare
                }
                View::Compare => View::Diagram,
            };
        }
        // The compare view is the list every strategy is picked from.
        KeyCode::Up if app.view == View::Compare => app.selected = app.selected.cycle(false),
        KeyCode::Down if app.view == View::Compare => app.selected = app.selected.cycle(true),
        KeyCode::Enter if app.view == View::Compare => pick(app, app.selected, fx),
        // Tab goes through the whole table, however long.
        KeyCode::Tab => pick(app, app.strategy.cycle(true), fx),
        KeyCode::BackTab => pick(app, app.strategy.cycle(false), fx),
        KeyCode::Char('l') => app.lang = app.lang.toggle(),
        KeyCode::Char('h') => app.high_contrast = !app.high_contrast,
        KeyCode::Char('?') => app.help = true,
        KeyCode::Char('r') => fx.push(Effect::Record),
        KeyCode::Char(c) => {
            if let Some(s) = Strategy::by_key(c) {
                pick(app, s, fx);
            }
        }
        _ => {}
    }
}

/// A strategy picked (its digit, Tab, or Enter on the compare list): shown,
/// and measured (stepped, when runs are).
fn pick(app: &mut App, s: Strategy, fx: &mut Vec<Effect>) {
    if !app.source.offers(s) {
        app.notice = Some(format!("{}: {}", s.name(), app.source.why_missing().0));
        return;
    }
    if app.stepping.is_some() {
        app.notice = Some("a stepped run is in progress: g runs it to its end".into());
        return;
    }
    app.tour = false;
    app.select(s);
    match (&app.source, app.step) {
        (Source::Live { .. }, Some(unit)) => app.start_stepping(s, unit, fx),
        _ => fx.push(Effect::Run(s)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn fixture_app() -> App {
        let rec = crate::recording::load(include_bytes!("../../tests/fixtures/demo-1mib.json"))
            .expect("fixture parses");
        let mut app = App::new(
            Source::recording(&rec, "fixture"),
            Strategy::named("read-write").expect("in the table"),
            false,
            1.0,
            Lang::En,
            "probes 18/18".into(),
        );
        for o in &rec.runs {
            update(&mut app, Action::RunDone(Box::new(o.clone())));
        }
        app
    }

    fn press(app: &mut App, code: KeyCode) -> Vec<Effect> {
        update(app, Action::Key(KeyEvent::new(code, KeyModifiers::NONE)))
    }

    /// A live app stepping read-write, fed the fixture's run a few events
    /// at a time as a stepped run's progress would come.
    #[test]
    fn a_stepped_run_grows_as_its_events_come_and_keys_step_the_kernel() {
        let rec = crate::recording::load(include_bytes!("../../tests/fixtures/demo-1mib.json"))
            .expect("fixture parses");
        let rw = Strategy::named("read-write").expect("in the table");
        let whole = rec.outcome(rw).expect("run present").clone();
        let mut app = App::new(
            Source::Live {
                kernel: "6.18".into(),
                refused: Vec::new(),
            },
            rw,
            false,
            1.0,
            Lang::En,
            String::new(),
        )
        .with_step(Some(StepUnit::Call));
        assert!(app.stepping_now(), "the first run is stepped");
        assert_eq!(press(&mut app, KeyCode::Enter), vec![Effect::Step]);
        assert_eq!(press(&mut app, KeyCode::Right), vec![Effect::Step]);
        // The kernel's events so far: the first quarter, then half.
        let part = |n: usize| {
            let events = whole.events[..n].to_vec();
            RunOutcome::new(whole.facts, whole.counts.clone(), events, whole.stats())
        };
        let quarter = whole.events.len() / 4;
        update(&mut app, Action::RunProgress(Box::new(part(quarter))));
        let first_len = app.current().expect("shown").plan.len();
        assert!(first_len > 0);
        update(&mut app, Action::RunProgress(Box::new(part(2 * quarter))));
        let second_len = app.current().expect("shown").plan.len();
        assert!(second_len > first_len, "the plan grew with the events");
        assert_eq!(app.pos(), first_len, "the first new step animates next");
        // Nothing folds in a stepped run: every call is its own item.
        assert!(
            !app.current()
                .expect("shown")
                .plan
                .items
                .iter()
                .any(|i| matches!(i, crate::tui::playback::Item::Group { .. }))
        );
        // Another strategy must wait for this run; g lets it finish.
        press(&mut app, KeyCode::Char('3'));
        assert_eq!(app.strategy(), rw);
        assert!(app.notice().is_some_and(|n| n.contains("g runs it")));
        assert_eq!(press(&mut app, KeyCode::Char('g')), vec![Effect::StepOpen]);
        let mut done = whole;
        done.stepped = true;
        update(&mut app, Action::RunDone(Box::new(done)));
        assert!(!app.stepping_now());
        assert!(app.at_end(), "a stepped run ends where it was watched");
        // The next run of a strategy is stepped too, until s turns it off.
        let fx = press(&mut app, KeyCode::Char('2'));
        assert!(
            matches!(fx[..], [Effect::RunStepped(_, StepUnit::Call)]),
            "{fx:?}"
        );
    }

    #[test]
    fn stepping_a_recording_is_refused_with_a_reason() {
        let mut app = fixture_app();
        assert!(press(&mut app, KeyCode::Char('s')).is_empty());
        assert!(app.notice().is_some_and(|n| n.contains("live run")));
        assert!(!app.stepping_now());
    }

    #[test]
    fn playback_advances_with_time_and_pauses() {
        let mut app = fixture_app();
        update(
            &mut app,
            Action::Tick(Duration::from_secs_f32(STEP_SECONDS * 2.5)),
        );
        assert_eq!(app.pos, 2);
        press(&mut app, KeyCode::Char(' '));
        update(&mut app, Action::Tick(Duration::from_secs(10)));
        assert_eq!(app.pos, 2, "paused playback moved");
        press(&mut app, KeyCode::Right);
        assert_eq!(app.pos, 3);
        press(&mut app, KeyCode::Left);
        press(&mut app, KeyCode::Left);
        assert_eq!(app.pos, 1);
    }

    #[test]
    fn keys_select_strategies_speed_language_and_views() {
        let mut app = fixture_app();
        assert_eq!(
            press(&mut app, KeyCode::Char('3')),
            vec![Effect::Run(
                Strategy::named("sendfile").expect("in the table")
            )]
        );
        assert_eq!(
            app.strategy,
            Strategy::named("sendfile").expect("in the table")
        );
        let s = app.speed;
        press(&mut app, KeyCode::Char('+'));
        assert_eq!(app.speed, s + 1);
        press(&mut app, KeyCode::Char('l'));
        assert_eq!(app.lang, Lang::Zh);
        assert_eq!(
            press(&mut app, KeyCode::Char('c')),
            vec![Effect::RunMissing]
        );
        assert_eq!(app.view, View::Compare);
        press(&mut app, KeyCode::Char('?'));
        assert!(app.help);
        press(&mut app, KeyCode::Char('x'));
        assert!(!app.help);
        press(&mut app, KeyCode::Char('q'));
        assert!(app.quit);
    }

    /// The compare view is the list: ↑ ↓ move through the whole table,
    /// Enter picks; Tab does the same from the diagram, wrapping round.
    #[test]
    fn any_strategy_is_picked_from_the_list_or_with_tab() {
        // Live: every strategy of the table can be measured.
        let first = Strategy::first();
        let mut app = App::new(
            Source::Live {
                kernel: "6.18".into(),
                refused: Vec::new(),
            },
            first,
            false,
            1.0,
            Lang::En,
            "probes".into(),
        );
        press(&mut app, KeyCode::Char('c'));
        assert_eq!((app.view, app.selected()), (View::Compare, first));
        press(&mut app, KeyCode::Up);
        let last = Strategy::all().last().expect("a table");
        assert_eq!(app.selected(), last, "up from the first wraps to the last");
        let fx = press(&mut app, KeyCode::Enter);
        assert_eq!(fx, vec![Effect::Run(last)]);
        assert_eq!((app.view, app.strategy()), (View::Diagram, last));
        let fx = press(&mut app, KeyCode::Tab);
        assert_eq!(fx, vec![Effect::Run(first)]);
        assert_eq!(app.strategy(), first);
        press(&mut app, KeyCode::BackTab);
        assert_eq!(app.strategy(), last);
    }

    /// A trace that holds a few strategies: the tour plays those, in table
    /// order, then compares; the others are refused in a line, not asked for.
    #[test]
    fn a_trace_of_some_strategies_tours_those() {
        let mut rec = crate::recording::load(include_bytes!("../../tests/fixtures/demo-1mib.json"))
            .expect("fixture parses");
        let keep: Vec<Strategy> = Strategy::all()
            .filter(|s| rec.outcome(*s).is_some())
            .skip(1)
            .step_by(3)
            .collect();
        rec.runs.retain(|r| keep.contains(&r.facts.strategy));
        let mut app = App::new(
            Source::recording(&rec, "part"),
            keep[0],
            true,
            1.0,
            Lang::En,
            "probes".into(),
        );
        for o in &rec.runs {
            update(&mut app, Action::RunDone(Box::new(o.clone())));
        }
        let mut shown = vec![app.strategy()];
        while app.view == View::Diagram {
            let n = app.current().map_or(0, |p| p.plan.len());
            let step = Duration::from_secs_f32(STEP_SECONDS * (n as f32 + 1.0));
            assert!(update(&mut app, Action::Tick(step)).is_empty());
            let fx = update(
                &mut app,
                Action::Tick(Duration::from_secs_f32(TOUR_PAUSE + 0.1)),
            );
            assert!(!fx.contains(&Effect::Run(app.strategy())), "{fx:?}");
            if app.view == View::Diagram {
                shown.push(app.strategy());
            }
        }
        assert_eq!(shown, keep, "the tour plays what the trace holds");
        let missing = Strategy::first();
        update(&mut app, Action::ShowView(View::Diagram));
        let fx = press(&mut app, KeyCode::Char(missing.key().expect("a digit")));
        assert!(fx.is_empty(), "{fx:?}");
        assert!(
            app.notice()
                .is_some_and(|n| n.contains("not in this recording"))
        );
    }

    #[test]
    fn tour_moves_to_the_next_strategy_then_compares() {
        let mut app = fixture_app();
        app.tour = true;
        for _ in Strategy::all() {
            let n = app.current().map_or(0, |p| p.plan.len());
            update(
                &mut app,
                Action::Tick(Duration::from_secs_f32(STEP_SECONDS * (n as f32 + 1.0))),
            );
            update(
                &mut app,
                Action::Tick(Duration::from_secs_f32(TOUR_PAUSE + 0.1)),
            );
        }
        assert_eq!(app.view, View::Compare);
        assert!(!app.tour);
    }
}
