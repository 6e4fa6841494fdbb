//! The measured table beside the published model's row (the article's, for
//! its four strategies), as Markdown (for a handout) and CSV (for a
//! spreadsheet). Where no source models a strategy, the model's cells say
//! so rather than show a number.

use std::fmt::Write as _;

use crate::{
    explain::differences,
    lang::Lang,
    model::outcome::RunOutcome,
    recording::Loaded,
    report::{engine_cell, model_for},
    units::{fmt_bytes, fmt_ns},
};

fn cpu_per_mib(o: &RunOutcome) -> u64 {
    (o.sender_cpu_ns as f64 * (1u64 << 20) as f64 / o.facts.size.max(1) as f64) as u64
}

/// The three engines' bytes, each measured, or why not: the disk's into
/// the file's pages, the sending NIC's and the receiving NIC's.
fn dma_cells(o: &RunOutcome) -> String {
    let (f, nic) = (&o.figures, o.facts.nic);
    let disk = if f.disk_dma_maps > 0 {
        fmt_bytes(f.disk_dma_bytes)
    } else {
        "not seen".into()
    };
    format!(
        "{disk} / {} / {}",
        engine_cell(f.dma_maps > 0, f.dma_bytes, nic),
        engine_cell(f.nic_rx.dma_frames > 0, f.nic_rx.dma_payload_bytes, nic)
    )
}

pub fn markdown(l: &Loaded) -> String {
    let m = &l.meta;
    let mut s = String::new();
    let _ = writeln!(s, "# Zero copy, measured\n");
    let _ = writeln!(
        s,
        "Recorded by zc {} on Linux {} ({}) at {}: {} file in {} chunks, {} cache, over {}. \
Figures are counted in the kernel; the published model (for the first four, the article \"Zero Copy I: User-Mode Perspective\") is in brackets, `-` where none exists.\n",
        m.zc_version,
        m.kernel,
        m.arch,
        m.created,
        fmt_bytes(m.size_bytes),
        fmt_bytes(m.chunk_bytes),
        if m.cold { "cold" } else { "warm" },
        if m.link.is_empty() {
            "a veth pair"
        } else {
            &m.link
        }
    );
    let _ = writeln!(
        s,
        "| strategy | syscalls | mode switches | CPU-copied | CPU copies per byte | by reference | disk → page cache | DMA: disk / NIC out / NIC in | page faults | scheduler switches | sender CPU per MiB | received intact |"
    );
    let _ = writeln!(
        s,
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|"
    );
    for o in &l.runs {
        let f = &o.figures;
        let m = model_for(o);
        let model = |f: &dyn Fn(&crate::report::ModelForRun) -> String| {
            m.as_ref().map_or_else(|| "-".into(), f)
        };
        let _ = writeln!(
            s,
            "| {} | {} [{}] | {} [{}] | {} [{}] | {:.2} [{}] | {} | {} | {} | {} | {} | {} | {} |",
            o.facts.strategy.name(),
            f.syscall_total,
            model(&|m| m.expected_syscalls.to_string()),
            f.mode_switches,
            model(&|m| m.expected_mode_switches.to_string()),
            fmt_bytes(f.cpu_copy_bytes),
            model(&|m| fmt_bytes(m.expected_cpu_copy_bytes)),
            f.copy_passes(o.facts.size),
            model(&|m| m.per_buffer.cpu_copies.to_string()),
            fmt_bytes(f.reference_bytes),
            fmt_bytes(f.disk_read_bytes),
            dma_cells(o),
            f.page_faults,
            f.sched_switches,
            fmt_ns(cpu_per_mib(o)),
            if o.received_ok { "yes" } else { "**no**" }
        );
    }
    let _ = writeln!(s, "\n## Why the figures differ from the model\n");
    for o in &l.runs {
        let _ = writeln!(s, "**{}**\n", o.facts.strategy.name());
        for d in differences(&o.figures, &o.facts, Lang::En) {
            let _ = writeln!(s, "- {d}");
        }
        let _ = writeln!(s);
    }
    s
}

pub fn csv(l: &Loaded) -> String {
    let mut s = String::from(
        "strategy,size_bytes,chunk_bytes,cold,syscalls,model_syscalls,mode_switches,model_mode_switches,\
cpu_copy_bytes,model_cpu_copy_bytes,reference_bytes,disk_read_bytes,page_faults,sched_switches,\
sender_cpu_ns,elapsed_ns,received_ok,kernel,disk_dma_bytes,nic_dma_bytes,nic_dma_file_bytes,nic_rx_dma_bytes\n",
    );
    for o in &l.runs {
        let f = &o.figures;
        let m = model_for(o);
        // An empty cell where no source models the strategy.
        let model = |f: fn(&crate::report::ModelForRun) -> u64| {
            m.as_ref().map_or_else(String::new, |m| f(m).to_string())
        };
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            o.facts.strategy.name(),
            o.facts.size,
            o.facts.chunk,
            o.facts.cold,
            f.syscall_total,
            model(|m| m.expected_syscalls),
            f.mode_switches,
            model(|m| m.expected_mode_switches),
            f.cpu_copy_bytes,
            model(|m| m.expected_cpu_copy_bytes),
            f.reference_bytes,
            f.disk_read_bytes,
            f.page_faults,
            f.sched_switches,
            o.sender_cpu_ns,
            o.elapsed_ns,
            o.received_ok,
            l.meta.kernel.replace(',', " "),
            f.disk_dma_bytes,
            f.dma_bytes,
            f.nic_dma_file_bytes,
            f.nic_rx.dma_payload_bytes
        );
    }
    s
}
