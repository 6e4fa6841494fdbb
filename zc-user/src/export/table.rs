//! The measured table beside the article's row, as Markdown (for a handout)
//! and CSV (for a spreadsheet).

use std::fmt::Write as _;

use crate::{
    demo::run::RunOutcome,
    model::{article, classify::differences},
    recording::Loaded,
    units::{fmt_bytes, fmt_ns},
};

fn cpu_per_mib(o: &RunOutcome) -> u64 {
    (o.sender_cpu_ns as f64 * (1u64 << 20) as f64 / o.facts.size.max(1) as f64) as u64
}

pub fn markdown(l: &Loaded) -> String {
    let m = &l.meta;
    let mut s = String::new();
    let _ = writeln!(s, "# Zero copy, measured\n");
    let _ = writeln!(
        s,
        "Recorded by zc {} on Linux {} ({}) at {}: {} file in {} chunks, {} cache, over a veth pair. \
Figures are counted in the kernel; the article's model (\"Zero Copy I: User-Mode Perspective\") is in brackets.\n",
        m.zc_version,
        m.kernel,
        m.arch,
        m.created,
        fmt_bytes(m.size_bytes),
        fmt_bytes(m.chunk_bytes),
        if m.cold { "cold" } else { "warm" }
    );
    let _ = writeln!(
        s,
        "| strategy | syscalls | mode switches | CPU-copied | CPU copies per byte | by reference | disk → page cache | page faults | scheduler switches | sender CPU per MiB | received intact |"
    );
    let _ = writeln!(
        s,
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|"
    );
    for o in &l.runs {
        let f = &o.figures;
        let a = article::row(o.facts.strategy);
        let n = o.facts.chunks();
        let _ = writeln!(
            s,
            "| {} | {} [{}] | {} [{}] | {} [{}] | {:.2} [{}] | {} | {} | {} | {} | {} | {} |",
            o.facts.strategy.name(),
            f.syscall_total,
            a.syscalls as u64 * n,
            f.mode_switches,
            a.mode_switches as u64 * n,
            fmt_bytes(f.cpu_copy_bytes),
            fmt_bytes(a.cpu_copies as u64 * o.facts.size),
            f.copy_passes(o.facts.size),
            a.cpu_copies,
            fmt_bytes(f.reference_bytes),
            fmt_bytes(f.disk_read_bytes),
            f.page_faults,
            f.sched_switches,
            fmt_ns(cpu_per_mib(o)),
            if o.received_ok { "yes" } else { "**no**" }
        );
    }
    let _ = writeln!(s, "\n## Why the figures differ from the article\n");
    for o in &l.runs {
        let _ = writeln!(s, "**{}**\n", o.facts.strategy.name());
        for d in differences(&o.figures, &o.facts) {
            let _ = writeln!(s, "- {d}");
        }
        let _ = writeln!(s);
    }
    s
}

pub fn csv(l: &Loaded) -> String {
    let mut s = String::from(
        "strategy,size_bytes,chunk_bytes,cold,syscalls,article_syscalls,mode_switches,article_mode_switches,\
cpu_copy_bytes,article_cpu_copy_bytes,reference_bytes,disk_read_bytes,page_faults,sched_switches,\
sender_cpu_ns,elapsed_ns,received_ok,kernel\n",
    );
    for o in &l.runs {
        let f = &o.figures;
        let a = article::row(o.facts.strategy);
        let n = o.facts.chunks();
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            o.facts.strategy.name(),
            o.facts.size,
            o.facts.chunk,
            o.facts.cold,
            f.syscall_total,
            a.syscalls as u64 * n,
            f.mode_switches,
            a.mode_switches as u64 * n,
            f.cpu_copy_bytes,
            a.cpu_copies as u64 * o.facts.size,
            f.reference_bytes,
            f.disk_read_bytes,
            f.page_faults,
            f.sched_switches,
            o.sender_cpu_ns,
            o.elapsed_ns,
            o.received_ok,
            l.meta.kernel.replace(',', " ")
        );
    }
    s
}
