//! Chrome trace-event JSON (opens in Perfetto UI and chrome://tracing).
//!
//! One process per run. Track 1 is the sender thread: a slice per syscall
//! (user → kernel → user), instants for faults and scheduler switches.
//! Track 2 is the receiver: a slice per copy out of an skb. Track 3 is the
//! bytes: a slice per movement (CPU copy, reference, DMA, transmit) with its
//! bytes, kind, source, destination and evidence in args. A counter track
//! sums the CPU-copied bytes. Times are microseconds since the run's first
//! event; runs are laid one after another.

use serde_json::{Value, json};

use crate::{
    model::{Movement, Place, steps::StepKind},
    recording::Loaded,
};

const SENDER: u32 = 1;
const RECEIVER: u32 = 2;
const BYTES: u32 = 3;

fn us(ns: u64) -> f64 {
    ns as f64 / 1000.0
}

pub fn export(loaded: &Loaded) -> anyhow::Result<Vec<u8>> {
    let mut ev: Vec<Value> = Vec::new();
    let mut offset_ns = 0u64;
    for (i, run) in loaded.runs.iter().enumerate() {
        let pid = i as u32 + 1;
        let name = run.facts.strategy.name();
        let nic = run.facts.nic;
        ev.push(
            json!({"ph":"M","name":"process_name","pid":pid,"args":{"name":format!("zc {name}")}}),
        );
        ev.push(json!({"ph":"M","name":"process_sort_index","pid":pid,"args":{"sort_index":pid}}));
        for (tid, tname) in [
            (SENDER, "sender: user/kernel"),
            (RECEIVER, "receiver"),
            (BYTES, "bytes moved"),
        ] {
            ev.push(
                json!({"ph":"M","name":"thread_name","pid":pid,"tid":tid,"args":{"name":tname}}),
            );
        }
        let t0 = run.events.first().map_or(0, |e| e.t());
        let at = |ts: u64| us(ts.saturating_sub(t0) + offset_ns);
        let mut open: Option<(String, u64)> = None;
        let mut copied = 0u64;
        let mut last_ts = t0;
        for s in &run.steps {
            last_ts = last_ts.max(s.ts_ns);
            match &s.kind {
                StepKind::Enter { syscall } => open = Some((syscall.to_string(), s.ts_ns)),
                StepKind::Exit { syscall, ret, .. } => {
                    let start = open.take().map_or(s.ts_ns, |(_, t)| t);
                    ev.push(json!({
                        "ph":"X","cat":"syscall","name":syscall,"pid":pid,"tid":SENDER,
                        "ts":at(start),"dur":us(s.ts_ns.saturating_sub(start)),
                        "args":{"ret":ret,"mode_switches":2,"evidence":"raw_syscalls:sys_enter/sys_exit"}
                    }));
                }
                StepKind::Fault { in_kernel, .. } => ev.push(json!({
                    "ph":"i","s":"t","cat":"fault","pid":pid,"tid":SENDER,"ts":at(s.ts_ns),
                    "name": if *in_kernel { "page fault (in kernel)" } else { "page fault (user)" },
                    "args":{"evidence":s.evidence}
                })),
                StepKind::SchedOut { blocked } => ev.push(json!({
                    "ph":"i","s":"t","cat":"sched","pid":pid,"tid":SENDER,"ts":at(s.ts_ns),
                    "name": if *blocked { "context switch (blocked)" } else { "context switch (preempted)" },
                    "args":{"evidence":s.evidence}
                })),
                StepKind::Move { movement, from, to, bytes } => {
                    let tid = if *to == Place::Receiver { RECEIVER } else { BYTES };
                    ev.push(json!({
                        "ph":"X","cat":kind_name(*movement),"pid":pid,"tid":tid,"ts":at(s.ts_ns),"dur":1,
                        "name":format!("{} {} → {}", movement.label(), from.label_over(nic), to.label_over(nic)),
                        "args":{"bytes":bytes,"kind":kind_name(*movement),"from":from.label_over(nic),"to":to.label_over(nic),"evidence":s.evidence}
                    }));
                    if *movement == Movement::CpuCopy && *to != Place::Receiver {
                        copied += bytes;
                        ev.push(json!({"ph":"C","name":"CPU-copied bytes","pid":pid,"ts":at(s.ts_ns),"args":{"bytes":copied}}));
                    }
                }
                StepKind::SchedIn
                | StepKind::Block { .. }
                | StepKind::Completion { .. }
                | StepKind::Ring { .. }
                | StepKind::Thread { .. } => {}
            }
        }
        offset_ns += last_ts.saturating_sub(t0) + 1_000_000;
    }
    let doc = json!({
        "displayTimeUnit": "ns",
        "traceEvents": ev,
        "metadata": {
            "source": "zc (zero-copy tracer)",
            "kernel": loaded.meta.kernel,
            "recorded": loaded.meta.created,
            "zc_version": loaded.meta.zc_version,
            "note": "every slice is a measured kernel event; times are µs since each run's first event"
        }
    });
    Ok(serde_json::to_vec(&doc)?)
}

fn kind_name(m: Movement) -> &'static str {
    match m {
        Movement::Dma => "dma",
        Movement::CpuCopy => "cpu_copy",
        Movement::Reference => "reference",
        Movement::Mapping => "mapping",
        Movement::Pin => "pin",
        Movement::SoftwareTransmit => "software_transmit",
        Movement::Cipher => "cipher",
    }
}
