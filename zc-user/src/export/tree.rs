//! Exports of a `zc trace` recording: the per-tree report as a Markdown
//! handout or CSV (one row per process, file and socket), and the totals
//! over time as Perfetto counter tracks, one per copy site. The demo's
//! other formats draw a strategy's steps, which a trace of a foreign
//! program does not have; they refuse in one line.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::{
    model::tree::{Flow, TraceState},
    units::fmt_bytes,
};

/// The formats a `zc trace` recording exports to.
pub const FORMATS: &str = "perfetto, markdown or csv";

pub fn markdown(trees: &[TraceState]) -> String {
    let mut s = String::new();
    for t in trees {
        let _ = writeln!(s, "# zc trace: `{}`\n", t.title);
        if let Some(e) = &t.ended {
            let _ = writeln!(s, "_{e}; {:.2} s traced_\n", t.elapsed_ns() as f64 / 1e9);
        }
        for r in &t.reports {
            for v in crate::trace_report::verdicts(r, crate::lang::Lang::En) {
                let _ = writeln!(s, "- {v}");
            }
            let _ = writeln!(
                s,
                "\n| process | syscalls | mode switches | read copies | send copies | by reference | pinned | received | copies per byte sent |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|"
            );
            for p in &r.processes {
                let f = &p.flow;
                let _ = writeln!(
                    s,
                    "| {}[{}] | {} | {} | {} | {} | {} | {} | {} | {} |",
                    p.comm,
                    p.pid,
                    f.syscall_total,
                    f.mode_switches,
                    fmt_bytes(f.copies.page_cache_to_user + f.copies.other_to_user),
                    fmt_bytes(f.copies.user_to_socket),
                    fmt_bytes(f.sent.referenced_bytes),
                    fmt_bytes(f.sent.pinned_bytes),
                    fmt_bytes(f.received_bytes),
                    p.copies_per_byte.map_or("–".into(), |c| format!("{c:.2}"))
                );
            }
            if !r.sockets.is_empty() {
                let _ = writeln!(
                    s,
                    "\n| socket | pid | sent | copied | referenced | pinned | left the device | unseen | unexplained |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|"
                );
                for so in &r.sockets {
                    let _ = writeln!(
                        s,
                        "| {} → {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                        so.local,
                        so.remote,
                        so.pid,
                        so.ledger.sent_bytes,
                        so.ledger.copied_bytes,
                        so.ledger.referenced_bytes,
                        so.ledger.pinned_bytes,
                        so.ledger.first_transmission_bytes,
                        so.ledger.unseen_bytes + so.ledger.unseen_retransmitted_bytes,
                        so.ledger.unexplained_bytes
                    );
                }
            }
            let _ = writeln!(
                s,
                "\nBytes are the kernel's own totals for the followed processes (zc {}).\n",
                env!("CARGO_PKG_VERSION")
            );
        }
    }
    s
}

pub fn csv(trees: &[TraceState]) -> String {
    let mut s = String::from(
        "kind,name,pid,syscalls,mode_switches,read_copy_bytes,send_copy_bytes,referenced_bytes,pinned_bytes,received_bytes,unexplained_bytes\n",
    );
    let q = |x: &str| format!("\"{}\"", x.replace('"', "\"\""));
    for t in trees {
        for r in &t.reports {
            for p in &r.processes {
                let f: &Flow = &p.flow;
                let _ = writeln!(
                    s,
                    "process,{},{},{},{},{},{},{},{},{},",
                    q(&p.comm),
                    p.pid,
                    f.syscall_total,
                    f.mode_switches,
                    f.copies.page_cache_to_user + f.copies.other_to_user,
                    f.copies.user_to_socket,
                    f.sent.referenced_bytes,
                    f.sent.pinned_bytes,
                    f.received_bytes
                );
            }
            for fr in &r.files {
                let _ = writeln!(
                    s,
                    "file,{},,,,{},,{},,,",
                    q(&fr.path),
                    fr.copied_bytes,
                    fr.referenced_bytes
                );
            }
            for so in &r.sockets {
                let _ = writeln!(
                    s,
                    "socket,{},{},,,,{},{},{},{},{}",
                    q(&format!("{} -> {}", so.local, so.remote)),
                    so.pid,
                    so.sent.copied_bytes,
                    so.sent.referenced_bytes,
                    so.sent.pinned_bytes,
                    so.received_bytes,
                    so.ledger.unexplained_bytes
                );
            }
        }
    }
    s
}

/// Counter tracks: the followed set's cumulative bytes per copy site and
/// its syscalls, at each sample.
pub fn perfetto(trees: &[TraceState]) -> anyhow::Result<Vec<u8>> {
    let mut ev: Vec<Value> = Vec::new();
    for (i, t) in trees.iter().enumerate() {
        let pid = i as u32 + 1;
        ev.push(json!({"ph":"M","name":"process_name","pid":pid,"args":{"name":format!("zc trace {}", t.title)}}));
        for s in &t.samples {
            let f = Flow::of(&s.process, &s.sockets);
            let ts = s.t_ns as f64 / 1000.0;
            ev.push(
                json!({"ph":"C","name":"CPU copies (bytes)","pid":pid,"ts":ts,"args":{
                "page cache -> user": f.copies.page_cache_to_user,
                "other -> user": f.copies.other_to_user,
                "user -> socket": f.copies.user_to_socket,
                "segmentation": f.copies.segmentation,
                "socket -> user": f.copies.socket_to_user}}),
            );
            ev.push(
                json!({"ph":"C","name":"sent (bytes)","pid":pid,"ts":ts,"args":{
                "copied": f.sent.copied_bytes,
                "by reference": f.sent.referenced_bytes,
                "pinned": f.sent.pinned_bytes}}),
            );
            ev.push(
                json!({"ph":"C","name":"mode switches","pid":pid,"ts":ts,"args":{
                "switches": f.mode_switches}}),
            );
        }
    }
    Ok(serde_json::to_vec(
        &json!({"traceEvents": ev, "displayTimeUnit": "ms"}),
    )?)
}
