//! One self-contained web page that draws the article's figure as vector
//! graphics and animates it from the recorded events: the boxes, the
//! user/kernel boundary, one arrow per kind of movement styled by kind, the
//! mode-switch lane, the measured table beside the model, and the file's
//! page map. Controls: play, pause, step back and forward, speed, strategy
//! and language. No network access (styles, script and data are inside the
//! file) and no terminal in it: it is a figure for a projector, not a
//! picture of the live view (the `svg` export is that).
//!
//! The page is drawn from the same playback plan the live view plays, so
//! each step of the page is an item of the plan, with its narration, its
//! evidence, the totals so far and the pages it touched. The page reads its
//! starting point from the URL fragment (`#s=sendfile&p=3&lang=zh&play=0`),
//! so every step is addressable.

use serde_json::{Value, json};

use super::svg::escape;
use crate::{
    model::{Place, Strategy, outcome::RunOutcome, pages::Touch, steps::StepKind, tally::Tally},
    recording::Loaded,
    report::model_for,
    tui::{
        app::Played,
        playback::{Item, Touched},
        text::{self, Lang},
        widgets::{
            diagram::{Edge, label_of, touched},
            page_map::{proof, touch_name},
        },
    },
};

const LANGS: [Lang; 2] = [Lang::En, Lang::Zh];

/// `[english, chinese]`.
fn both(f: impl Fn(Lang) -> String) -> Value {
    json!(LANGS.map(f))
}

/// A place's name, as the JSON report spells it (`Place`'s serde name).
fn place_name(p: Place) -> String {
    serde_json::to_value(p)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The figures the table shows, in one order: syscalls, mode switches,
/// CPU-copied bytes, bytes by reference, bytes pinned, disk → page cache.
fn tally_row(t: &Tally) -> Value {
    json!([
        t.syscalls,
        t.mode_switches,
        t.cpu_copy_bytes,
        t.reference_bytes,
        t.pinned_bytes,
        t.disk_bytes
    ])
}

/// The pages an item touched, as `[first, last, touch]` runs.
fn page_runs(touched: &Touched) -> Value {
    let mut v: Vec<(u8, u32)> = touched.iter().map(|(p, t)| (*t as u8, p.page)).collect();
    v.sort_unstable();
    v.dedup();
    let mut runs: Vec<[u32; 3]> = Vec::new();
    for (t, p) in v {
        match runs.last_mut() {
            Some(r) if r[2] == t as u32 && r[1] + 1 == p => r[1] = p,
            _ => runs.push([p, p, t as u32]),
        }
    }
    json!(runs)
}

fn item_data(item: &Item, t0: u64, so_far: &Tally, touched: &Touched) -> Value {
    let edges: Vec<&str> = Edge::of_item(item).into_iter().map(Edge::name).collect();
    let places = touched_places(item);
    let (kind, call, bytes, count, ts, evidence) = match item {
        Item::Group { calls, ts_ns, .. } => ("group", String::new(), 0, *calls, *ts_ns, ""),
        Item::Step {
            kind,
            count,
            ts_ns,
            evidence,
        } => {
            let (k, call, bytes) = match kind {
                StepKind::Enter { syscall } => ("enter", syscall.to_string(), 0),
                StepKind::Exit { syscall, .. } => ("exit", syscall.to_string(), 0),
                StepKind::Move { bytes, .. } => ("move", String::new(), *bytes),
                StepKind::Fault { in_kernel, .. } => (
                    if *in_kernel { "kfault" } else { "fault" },
                    String::new(),
                    0,
                ),
                StepKind::SchedOut { .. } => ("sched", String::new(), 0),
                StepKind::SchedIn => ("sched_in", String::new(), 0),
                StepKind::Block { bytes, .. } => ("block", String::new(), *bytes),
                StepKind::Completion { .. } => ("completion", String::new(), 0),
                StepKind::Ring { .. } => ("ring", String::new(), 0),
                StepKind::Thread { name } => ("thread", name.clone(), 0),
            };
            (k, call, bytes, *count, *ts_ns, *evidence)
        }
    };
    json!({
        "k": kind,
        "call": call,
        "edges": edges,
        "places": places,
        "bytes": bytes,
        "n": count,
        "t": ts.saturating_sub(t0) / 1000,
        "ev": evidence,
        "say": both(|l| text::narrate(item, l)),
        "proof": proof(touched, Lang::En).map(|_| both(|l| proof(touched, l).unwrap_or_default())),
        "tally": tally_row(so_far),
        "pages": page_runs(touched),
    })
}

fn touched_places(item: &Item) -> Vec<String> {
    touched(item).1.into_iter().map(place_name).collect()
}

fn run_data(o: &RunOutcome) -> Value {
    let s = o.facts.strategy;
    let spec = s.spec();
    let played = Played::new(o.clone());
    let t0 = o.events.first().map_or(0, |e| e.t());
    let items: Vec<Value> = played
        .plan
        .items
        .iter()
        .zip(&played.plan.so_far)
        .zip(&played.plan.touched)
        .map(|((item, so_far), touched)| item_data(item, t0, so_far, touched))
        .collect();
    let f = &o.figures;
    let pins = spec.pins();
    let mut boxes: Vec<Value> = Vec::new();
    for place in [
        Place::Disk,
        Place::PageCache,
        Place::UserBuffer,
        Place::Mapping,
        Place::Pipe,
        Place::SocketBuffer,
        Place::Nic,
        Place::ErrorQueue,
        Place::Rings,
    ] {
        let shown = match place {
            // The user box is always drawn (a strategy that never uses it
            // shows it faint): the buffer, or the mapping that takes its place.
            Place::UserBuffer => !spec.uses(Place::Mapping),
            Place::Mapping | Place::Pipe | Place::ErrorQueue | Place::Rings => spec.uses(place),
            _ => true,
        };
        if !shown {
            continue;
        }
        let label = |l: Lang| match (place, pins, l) {
            (Place::UserBuffer, true, Lang::En) => "pinned buffer".to_string(),
            (Place::UserBuffer, true, Lang::Zh) => "钉住的缓冲区".to_string(),
            (Place::Nic, _, _) if o.facts.nic => "NIC".to_string(),
            _ => label_of(place, l).to_string(),
        };
        boxes.push(json!({
            "id": place_name(place),
            "label": both(label),
            "used": spec.uses(place) || matches!(place, Place::Disk | Place::PageCache | Place::SocketBuffer | Place::Nic),
        }));
    }
    let model = model_for(o).map(|m| {
        json!([
            m.expected_syscalls,
            m.expected_mode_switches,
            m.expected_cpu_copy_bytes,
            Value::Null,
            Value::Null,
            // The model's DMA copies include this one (disk → kernel buffer).
            if m.per_buffer.dma_copies > 0 {
                "DMA"
            } else {
                "-"
            }
        ])
    });
    let pages = o.page_counts();
    let moved: serde_json::Map<String, Value> = played
        .edge_bytes
        .iter()
        .map(|(e, b)| (e.name().to_string(), json!(b)))
        .collect();
    json!({
        "moved": moved,
        "name": s.name(),
        "title": both(|l| text::strategy_title(s, l).to_string()),
        "code": spec.model.map(|m| m.code).unwrap_or(""),
        "source": spec.model.map(|m| m.source).unwrap_or(""),
        "size": o.facts.size,
        "chunk": o.facts.chunk,
        "cold": o.facts.cold,
        "boxes": boxes,
        "items": items,
        "measured": [
            f.syscall_total,
            f.mode_switches,
            f.cpu_copy_bytes,
            f.reference_bytes,
            f.pinned_bytes,
            f.disk_read_bytes
        ],
        "model": model,
        "unexplained": f.ledger.unexplained_bytes,
        "received_ok": o.received_ok,
        "file_pages": pages.file_pages,
    })
}

/// The page, opening at `first`'s run in `lang`.
pub fn export(loaded: &Loaded, first: Strategy, lang: Lang) -> anyhow::Result<String> {
    // A run with nothing to play (no step was recorded) has no figure.
    let runs: Vec<Value> = Strategy::all()
        .filter_map(|s| loaded.outcome(s))
        .filter(|o| !o.steps.is_empty())
        .map(run_data)
        .collect();
    if runs.is_empty() {
        return Err(
            crate::exit::Fatal::Usage("the trace holds no run with steps to draw".into()).into(),
        );
    }
    let touches: Vec<Value> = Touch::ALL
        .iter()
        .map(|t| both(|l| touch_name(*t, l).to_string()))
        .collect();
    let data = json!({
        "kernel": loaded.meta.kernel,
        "created": loaded.meta.created,
        "zc_version": loaded.meta.zc_version,
        "lang": if lang == Lang::Zh { "zh" } else { "en" },
        "start": first.name(),
        "touches": touches,
        "runs": runs,
    });
    // `</` cannot appear inside the script element.
    let data = serde_json::to_string(&data)?.replace("</", "<\\/");
    let title = format!(
        "zc: zero copy, measured on Linux {}",
        escape(&loaded.meta.kernel)
    );
    Ok(PAGE.replace("{{TITLE}}", &title).replace("{{DATA}}", &data))
}

const PAGE: &str = include_str!("figure.html");

#[cfg(test)]
mod tests {
    use super::*;

    /// Every arrow the live view can draw has a kind, a label, a path and a
    /// label position on the page (a new movement that forgot one would be
    /// drawn nowhere).
    #[test]
    fn the_page_draws_every_edge() {
        for table in ["var KIND", "var LABEL", "var PATH", "var LPOS"] {
            let start = PAGE.find(table).expect("table on the page");
            let body = &PAGE[start..start + PAGE[start..].find("};").expect("its end")];
            for e in Edge::ALL {
                assert!(
                    body.contains(&format!("{}:", e.name())),
                    "{table} lacks {}",
                    e.name()
                );
            }
        }
    }
}
