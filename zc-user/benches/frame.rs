//! Benchmarks of the view, from a run recorded live (tests/fixtures):
//! - the time to draw one 80×24 frame, against the 33 ms a 30 FPS view allows;
//! - the pipeline from decoded events to a frame (steps → plan → draw), per
//!   event, against the rate the kernel produced those events in the run.
//!
//! Figures are ratios measured in this one run, so they travel between
//! machines better than absolute times. `cargo bench -p zc-user --bench frame`.

use std::time::{Duration, Instant};

use ratatui::{Terminal, backend::TestBackend};
use zc::{
    model::Strategy,
    recording,
    tui::{
        app::{Action, App, Source, update},
        playback::Plan,
        screen,
        text::Lang,
    },
};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

fn main() {
    let rec = recording::load(include_bytes!("../tests/fixtures/demo-1mib.json")).expect("fixture");
    let mut app = App::new(
        Source::recording(&rec, "bench"),
        Strategy::named("read-write").expect("in the table"),
        false,
        1.0,
        Lang::En,
        "probes 18/18".into(),
    );
    let outcomes: Vec<_> = Strategy::all()
        .filter_map(|s| rec.outcome(s).cloned())
        .collect();
    for o in &outcomes {
        update(&mut app, Action::RunDone(Box::new(o.clone())));
    }
    let mut term = Terminal::new(TestBackend::new(80, 24)).expect("terminal");
    println!(
        "{:<16} {:>12} {:>14} {:>16} {:>18}",
        "strategy", "frame (med)", "of 33 ms", "events→frame/ev", "kernel rate ratio"
    );
    for o in &outcomes {
        let s = &o.facts.strategy;
        update(&mut app, Action::Show(*s));
        let n = app.current().expect("run").plan.len();
        update(
            &mut app,
            Action::Seek {
                pos: n / 2,
                anim: 0.5,
            },
        );
        let mut frames = Vec::with_capacity(2000);
        for _ in 0..2000 {
            let t = Instant::now();
            term.draw(|f| screen::draw(f, &app)).expect("draw");
            frames.push(t.elapsed());
        }
        let frame = median(frames);

        // Decoded events → steps → plan → one frame, as a new run arrives.
        let mut runs = Vec::with_capacity(200);
        for _ in 0..200 {
            let t = Instant::now();
            let steps = zc::model::steps::build(*s, &o.events);
            let plan = Plan::build(*s, &steps, 2);
            std::hint::black_box(&plan);
            runs.push(t.elapsed());
        }
        let pipeline = median(runs) + frame;
        let per_event = pipeline.as_nanos() as f64 / o.events.len().max(1) as f64;
        // How fast the kernel produced these events during the run.
        let span = o
            .events
            .last()
            .map_or(1, |e| e.t())
            .saturating_sub(o.events.first().map_or(0, |e| e.t()))
            .max(1);
        let kernel_ns_per_event = span as f64 / o.events.len().max(1) as f64;
        println!(
            "{:<16} {:>10.1}µs {:>13.4}x {:>14.0}ns {:>17.2}x",
            s.name(),
            frame.as_nanos() as f64 / 1000.0,
            frame.as_secs_f64() / (1.0 / 30.0),
            per_event,
            kernel_ns_per_event / per_event,
        );
    }
    println!(
        "(of 33 ms: share of a 30 FPS frame budget; kernel rate ratio > 1: the pipeline outpaces the kernel's event rate)"
    );
}
