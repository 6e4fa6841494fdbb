//! An asciinema recording (asciicast v2) of the live view replaying the
//! trace: the tour through every strategy in it, ending on the compare view,
//! frame by frame, as the TUI would draw it at ×4 speed.

use std::{fmt::Write as _, time::Duration};

use serde_json::json;

use super::frames::{self, HEIGHT, Screen, WIDTH};
use crate::{
    recording::Loaded,
    tui::{
        app::{Action, View, update},
        text::Lang,
    },
};

/// Frames per second of the recording.
const FPS: f64 = 8.0;
/// Playback speed of the tour.
const SPEED: f32 = 4.0;
/// The recording never runs longer than this.
const MAX_SECONDS: f64 = 600.0;

fn ansi(screen: &Screen) -> String {
    let mut out = String::from("\u{1b}[H");
    for (y, row) in screen.iter().enumerate() {
        let _ = write!(out, "\u{1b}[{};1H", y + 1);
        for run in row {
            out.push_str(&frames::sgr(run.look));
            out.push_str(&run.text);
        }
        out.push_str("\u{1b}[0m");
    }
    out
}

pub fn export(loaded: &Loaded, lang: Lang) -> anyhow::Result<String> {
    let first = loaded
        .runs
        .first()
        .map(|r| r.facts.strategy)
        .ok_or_else(|| anyhow::anyhow!("the trace holds no run"))?;
    // The tour goes through whatever runs the trace holds, in table order,
    // then compares them.
    let first = crate::model::Strategy::all()
        .find(|s| loaded.outcome(*s).is_some())
        .unwrap_or(first);
    let tour = true;
    let mut app = frames::app_for(loaded, first, lang, tour, SPEED);
    let header = json!({
        "version": 2,
        "width": WIDTH,
        "height": HEIGHT,
        "title": format!("zc replay: recorded on Linux {} at {}", loaded.meta.kernel, loaded.meta.created),
        "env": {"TERM": "xterm-256color"},
    });
    let mut out = serde_json::to_string(&header)?;
    out.push('\n');
    let mut last: Option<Screen> = None;
    let mut t = 0.0f64;
    let mut after_end = 0.0f64;
    let dt = 1.0 / FPS;
    // Clear once, hide the cursor, as the TUI does.
    out.push_str(&serde_json::to_string(&json!([
        0.0,
        "o",
        "\u{1b}[2J\u{1b}[?25l"
    ]))?);
    out.push('\n');
    while t < MAX_SECONDS {
        let screen = frames::screen(&frames::render(&app));
        if last.as_ref() != Some(&screen) {
            out.push_str(&serde_json::to_string(&json!([t, "o", ansi(&screen)]))?);
            out.push('\n');
            last = Some(screen);
        }
        let done = if app.touring() {
            false
        } else {
            app.view() == View::Compare || app.at_end()
        };
        if done {
            after_end += dt;
            if after_end > 3.0 {
                break;
            }
        }
        update(&mut app, Action::Tick(Duration::from_secs_f64(dt)));
        t += dt;
    }
    out.push_str(&serde_json::to_string(&json!([
        t,
        "o",
        "\u{1b}[0m\u{1b}[?25h"
    ]))?);
    out.push('\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Strategy;

    /// A trace of a few strategies still gets its tour: those, in table
    /// order, then the comparison.
    #[test]
    fn a_trace_of_some_strategies_tours_what_it_holds() {
        let mut loaded =
            crate::recording::load(include_bytes!("../../tests/fixtures/demo-1mib.json"))
                .expect("fixture parses");
        let held: Vec<Strategy> = Strategy::all()
            .filter(|s| loaded.outcome(*s).is_some())
            .collect();
        let keep = [held[1], held[held.len() - 1]];
        loaded.runs.retain(|r| keep.contains(&r.facts.strategy));
        let cast = export(&loaded, Lang::En).expect("a cast");
        let title = |s: Strategy| s.spec().title.en;
        let first_at = |s: Strategy| cast.find(title(s));
        let (a, b) = (first_at(keep[0]), first_at(keep[1]));
        assert!(a.is_some() && b.is_some(), "both toured");
        assert!(a < b, "in table order");
        assert!(
            first_at(held[0]).is_none(),
            "a strategy not held is not played"
        );
        let last = cast.lines().rev().nth(1).expect("a last frame");
        assert!(last.contains("compare"), "ends on the comparison");
    }
}
