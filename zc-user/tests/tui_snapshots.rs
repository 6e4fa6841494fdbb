//! What the live view draws, for each strategy at fixed points of its
//! playback, rendered through ratatui's TestBackend from a run recorded live
//! by zc (tests/fixtures/demo-1mib.json: 1 MiB, 64 KiB chunks, Linux 6.18).
//! No root, no terminal needed. `cargo insta review` to inspect changes.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::{Terminal, backend::TestBackend};
use zc::{
    model::{Strategy, steps::StepKind},
    recording,
    tui::{
        app::{Action, App, Source, View, update},
        playback::Item,
        screen,
        text::Lang,
    },
};

fn app(strategy: Strategy, lang: Lang) -> App {
    let rec = recording::load(include_bytes!("fixtures/demo-1mib.json")).expect("fixture parses");
    let mut app = App::new(
        Source::recording(&rec, "fixture"),
        strategy,
        false,
        1.0,
        lang,
        "probes 18/18 attached".into(),
    );
    for o in &rec.runs {
        update(&mut app, Action::RunDone(Box::new(o.clone())));
    }
    app
}

/// The strategies the fixture holds, in table order: a strategy added to
/// the table gets its screens once the fixture is recorded again
/// (`cargo xtask fixtures`), and breaks nothing before.
fn recorded() -> Vec<Strategy> {
    let rec = recording::load(include_bytes!("fixtures/demo-1mib.json")).expect("fixture parses");
    let held: Vec<Strategy> = Strategy::all()
        .filter(|s| rec.outcome(*s).is_some())
        .collect();
    assert!(!held.is_empty(), "the fixture holds no run");
    held
}

fn screen(app: &App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
    t.draw(|f| screen::draw(f, app)).expect("draw");
    t.backend().to_string()
}

/// The first item that moves bytes (a copy or a reference), mid-animation.
fn first_move(app: &mut App) {
    let plan = &app.current().expect("run").plan;
    let pos = plan
        .items
        .iter()
        .position(|i| {
            matches!(
                i,
                Item::Step {
                    kind: StepKind::Move { .. },
                    ..
                }
            )
        })
        .expect("a move");
    update(app, Action::Seek { pos, anim: 0.5 });
    update(
        app,
        Action::Key(KeyEvent::new(KeyCode::Char(' '), KeyModifiers::NONE)),
    );
    assert!(app.paused());
}

fn at_end(app: &mut App) {
    let pos = app.current().expect("run").plan.len() - 1;
    update(app, Action::Seek { pos, anim: 1.0 });
}

fn name(s: Strategy) -> &'static str {
    s.name()
}

/// What docs/screens.md says of a strategy's screens, from the table (its
/// number, title, its story and the model's source): the snapshot carries
/// it, so `cargo xtask screens` keeps no list of its own.
fn section(s: Strategy) -> String {
    let spec = s.spec();
    let source = spec
        .model
        .as_ref()
        .map_or(String::new(), |m| format!(" (model: {})", m.source));
    let story = spec.story.en;
    let mut chars = story.chars();
    let first = chars.next().map(|c| c.to_uppercase().to_string());
    format!(
        "{}. {}\n{}{}{source}",
        s.number(),
        spec.title.en,
        first.unwrap_or_default(),
        chars.as_str()
    )
}

#[test]
fn each_strategy_first_copy_80x24() {
    for s in recorded() {
        let mut a = app(s, Lang::En);
        first_move(&mut a);
        insta::with_settings!({ description => section(s) }, {
            insta::assert_snapshot!(format!("first_move_80x24_{}", name(s)), screen(&a, 80, 24));
        });
    }
}

#[test]
fn each_strategy_end_of_run_80x24() {
    for s in recorded() {
        let mut a = app(s, Lang::En);
        at_end(&mut a);
        insta::assert_snapshot!(format!("end_80x24_{}", name(s)), screen(&a, 80, 24));
    }
}

#[test]
fn large_terminal_120x40() {
    let mut a = app(
        Strategy::named("sendfile-gather").expect("in the table"),
        Lang::En,
    );
    first_move(&mut a);
    insta::assert_snapshot!(screen(&a, 120, 40));
}

/// The first item whose steps sent file pages as skb frags.
fn first_gather(app: &mut App) {
    let plan = &app.current().expect("run").plan;
    let pos = plan
        .touched
        .iter()
        .position(|t| t.iter().any(|(p, _)| p.frag.is_some()))
        .expect("an skb whose frags are file pages");
    update(app, Action::Seek { pos, anim: 1.0 });
    update(
        app,
        Action::Key(KeyEvent::new(KeyCode::Char(' '), KeyModifiers::NONE)),
    );
}

#[test]
fn large_terminal_200x50_each_strategy_at_the_end() {
    for s in recorded() {
        let mut a = app(s, Lang::En);
        at_end(&mut a);
        insta::assert_snapshot!(format!("end_200x50_{}", name(s)), screen(&a, 200, 50));
    }
}

#[test]
fn large_terminal_200x50_the_device_sends_a_page_of_the_file() {
    let mut a = app(
        Strategy::named("sendfile-gather").expect("in the table"),
        Lang::En,
    );
    first_gather(&mut a);
    let s = screen(&a, 200, 50);
    assert!(s.contains("of this skb is page"), "{s}");
    insta::assert_snapshot!(s);
}

#[test]
fn chinese_narration() {
    let mut a = app(Strategy::named("sendfile").expect("in the table"), Lang::Zh);
    first_move(&mut a);
    insta::assert_snapshot!(screen(&a, 80, 24));
}

#[test]
fn compare_view() {
    let mut a = app(
        Strategy::named("read-write").expect("in the table"),
        Lang::En,
    );
    update(&mut a, Action::ShowView(View::Compare));
    insta::assert_snapshot!(screen(&a, 80, 24));
}

#[test]
fn help_overlay() {
    let mut a = app(
        Strategy::named("read-write").expect("in the table"),
        Lang::En,
    );
    update(
        &mut a,
        Action::Key(KeyEvent::new(KeyCode::Char('?'), KeyModifiers::NONE)),
    );
    insta::assert_snapshot!(screen(&a, 80, 24));
}

#[test]
fn too_small_terminal_says_so() {
    let a = app(
        Strategy::named("read-write").expect("in the table"),
        Lang::En,
    );
    let s = screen(&a, 60, 20);
    assert!(s.contains("at least 80×24"), "{s}");
    insta::assert_snapshot!(s);
}

#[test]
fn empty_state_before_the_first_measurement() {
    let mut a = App::new(
        Source::Live {
            kernel: "6.18.44".into(),
            refused: Vec::new(),
        },
        Strategy::named("read-write").expect("in the table"),
        true,
        1.0,
        Lang::En,
        "probes 18/18 attached".into(),
    );
    update(
        &mut a,
        Action::RunStarted(Strategy::named("read-write").expect("in the table")),
    );
    insta::assert_snapshot!(screen(&a, 80, 24));
}

/// Facts a person would check on the screen, independent of snapshots.
#[test]
fn screens_carry_the_measured_story() {
    let mut a = app(Strategy::named("sendfile").expect("in the table"), Lang::En);
    at_end(&mut a);
    let s = screen(&a, 80, 24);
    assert!(s.contains("sendfile, no scatter-gather"));
    assert!(s.contains("CPU copy"), "segmentation copy arrow labelled");
    assert!(s.contains("by reference"));
    assert!(s.contains("1.0x"), "1× copied at segmentation");
    let mut g = app(
        Strategy::named("sendfile-gather").expect("in the table"),
        Lang::En,
    );
    at_end(&mut g);
    let s = screen(&g, 80, 24);
    assert!(s.contains("pages by reference (gather)"));
    assert!(s.contains("0 B 0.0x"), "{s}");
}

/// The page map of each recorded run, against the file itself: the
/// fixture's file has 256 pages, and what each strategy did to them is the
/// article's table, page by page, as each strategy's own `expect` says.
#[test]
fn the_page_map_tells_the_strategies_apart() {
    let rec = recording::load(include_bytes!("fixtures/demo-1mib.json")).expect("fixture parses");
    for s in recorded() {
        let e = s.spec().expect;
        let (sent, copied, pinned) = (e.pages_sent_as_frags, e.pages_copied, e.copies_pinned);
        let o = rec.outcome(s).expect("recorded");
        let p = o.page_map().counts();
        let all = (o.facts.size / 4096) as usize;
        assert_eq!(p.file_pages, all);
        assert_eq!(p.skb_frag_at_device == all, sent, "{}: {p:?}", s.name());
        assert_eq!(p.copied == all, copied, "{}: {p:?}", s.name());
        assert_eq!(p.copy_pinned == all, pinned, "{}: {p:?}", s.name());
        assert_eq!(p.untouched, 0, "{}: {p:?}", s.name());
    }
}

/// The live view of a stepped run (`zc demo --step`) of `s`, on the
/// fixture's kernel, before any of its events.
fn stepping_app(rec: &recording::Loaded, s: Strategy) -> App {
    App::new(
        Source::Live {
            kernel: rec.meta.kernel.clone(),
            refused: Vec::new(),
        },
        s,
        false,
        1.0,
        Lang::En,
        "probes 18/18 attached".into(),
    )
    .with_step(Some(zc::strategy::gate::StepUnit::Call))
}

/// A stepped run in progress (`zc demo --step`): LIVE STEP, the calls the
/// kernel has made so far, the ledger waiting for the run's end, and the
/// keys that step it.
#[test]
fn a_stepped_run_in_progress_80x24() {
    use zc::model::outcome::RunOutcome;
    let rec = recording::load(include_bytes!("fixtures/demo-1mib.json")).expect("fixture parses");
    let s = Strategy::named("read-write").expect("in the table");
    let whole = rec.outcome(s).expect("run present");
    let mut a = stepping_app(&rec, s);
    // The events of the first three calls (read, write, read).
    let enters: Vec<usize> = whole
        .events
        .iter()
        .enumerate()
        .filter(|(_, e)| matches!(e, zc::decode::Event::SysEnter { .. }))
        .map(|(i, _)| i)
        .collect();
    let cut = enters[3];
    let so_far = RunOutcome::new(
        whole.facts,
        whole.counts.clone(),
        whole.events[..cut].to_vec(),
        whole.stats(),
    );
    update(&mut a, Action::RunProgress(Box::new(so_far)));
    let pos = a.current().expect("shown").plan.len() - 1;
    update(&mut a, Action::Seek { pos, anim: 1.0 });
    let screen = screen(&a, 80, 24);
    assert!(screen.contains("LIVE STEP"), "{screen}");
    assert!(screen.contains("Enter next call"), "{screen}");
    assert!(screen.contains("run in progress"), "{screen}");
    insta::assert_snapshot!(screen);
}

/// A stepped run whose sender the scheduler preempted on its way to its
/// first gate: that switch is a measured step, and the screen shows it,
/// and still says the sender waits before its first call.
#[test]
fn a_stepped_run_preempted_before_its_first_call_still_says_it_waits() {
    use zc::{decode::Event, model::outcome::RunOutcome};
    let rec = recording::load(include_bytes!("fixtures/demo-1mib.json")).expect("fixture parses");
    let s = Strategy::named("read-write").expect("in the table");
    let whole = rec.outcome(s).expect("run present");
    let mut a = stepping_app(&rec, s);
    let so_far = RunOutcome::new(
        whole.facts,
        whole.counts.clone(),
        vec![Event::SchedOut {
            t: 1,
            blocked: false,
        }],
        whole.stats(),
    );
    update(&mut a, Action::RunProgress(Box::new(so_far)));
    let screen = screen(&a, 80, 24);
    assert!(screen.contains("preempts the sender"), "{screen}");
    assert!(screen.contains("before its first call"), "{screen}");
}

/// The lab's recording (two e1000e NICs, the file cold on NVMe): for the
/// first strategy whose NIC read the file's own pages, the whole figure at
/// the end (both DMA arrows, with their bytes), and the step where the
/// NIC's engine reads a page of the file, named in the page map's caption.
#[test]
fn the_lab_recording_shows_both_dma_arrows_and_the_nic_reading_a_page() {
    let rec = zc::bundled::load(Some("lab-dma")).expect("bundled lab recording");
    let s = Strategy::all()
        .find(|s| {
            rec.outcome(*s)
                .is_some_and(|o| o.figures.nic_dma_file_bytes > 0)
        })
        .expect("a run whose NIC read the file's pages");
    let mut a = App::new(
        Source::recording(&rec, "lab-dma"),
        s,
        false,
        1.0,
        Lang::En,
        "probes attached".into(),
    );
    for o in &rec.runs {
        update(&mut a, Action::RunDone(Box::new(o.clone())));
    }
    at_end(&mut a);
    let end = screen(&a, 200, 50);
    assert!(end.contains("NIC DMA") && end.contains("DMA"), "{end}");
    insta::assert_snapshot!("lab_dma_end_200x50", end);
    let plan = &a.current().expect("run").plan;
    let pos = plan
        .touched
        .iter()
        .position(|t| {
            t.iter()
                .any(|(_, touch)| *touch == zc::model::pages::Touch::NicDma)
        })
        .expect("a step where the NIC's engine read a page of the file");
    update(&mut a, Action::Seek { pos, anim: 1.0 });
    update(
        &mut a,
        Action::Key(KeyEvent::new(KeyCode::Char(' '), KeyModifiers::NONE)),
    );
    let step = screen(&a, 200, 50);
    assert!(step.contains("the NIC's DMA read page"), "{step}");
    insta::assert_snapshot!("lab_dma_nic_reads_a_page_200x50", step);
    // The compare view charts the engines' bytes beside the CPU's.
    update(&mut a, Action::ShowView(View::Compare));
    let compare = screen(&a, 120, 50);
    assert!(compare.contains("DMA-moved bytes"), "{compare}");
    insta::assert_snapshot!("lab_dma_compare_120x50", compare);
}

/// Over the veth no engine is seen, and the compare view has no DMA chart
/// to show zeros in.
#[test]
fn the_compare_view_charts_dma_only_where_an_engine_was_seen() {
    let mut a = app(
        Strategy::named("read-write").expect("in the table"),
        Lang::En,
    );
    update(&mut a, Action::ShowView(View::Compare));
    let s = screen(&a, 120, 60);
    assert!(s.contains("CPU-copied bytes"), "{s}");
    assert!(!s.contains("DMA-moved"), "{s}");
}
