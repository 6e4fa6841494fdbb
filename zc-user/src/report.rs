//! The headless views of a run: a text report a person reads, and JSON a
//! script reads (one object per run, a documented contract: docs/json.md).
//! Both only read the model; nothing here measures or changes anything.

use std::fmt::Write as _;

use serde::Serialize;

use crate::{
    explain::differences,
    lang::Lang,
    model::cost::TracingCost,
    model::{
        Movement,
        classify::{Completions, MovementFigure, Ring},
        context::Context,
        ledger::Hop,
        outcome::RunOutcome,
        pages::PageCounts,
    },
    strategy::ModelRow,
    units::{fmt_bytes, fmt_ns},
};

/// A published model's row scaled to this run, for side-by-side figures.
#[derive(Clone, Debug, Serialize)]
pub struct ModelForRun {
    #[serde(flatten)]
    pub per_buffer: ModelRow,
    pub buffers: u64,
    pub expected_syscalls: u64,
    pub expected_mode_switches: u64,
    pub expected_cpu_copy_bytes: u64,
    pub expected_dma_copy_bytes: u64,
    pub note: &'static str,
}

/// The model's expectation for this run, if a source models the strategy.
pub fn model_for(o: &RunOutcome) -> Option<ModelForRun> {
    let a = o.facts.strategy.spec().model?;
    let n = o.facts.chunks();
    Some(ModelForRun {
        per_buffer: a,
        buffers: n,
        expected_syscalls: a.syscalls as u64 * n,
        expected_mode_switches: a.mode_switches as u64 * n,
        expected_cpu_copy_bytes: a.cpu_copies as u64 * o.facts.size,
        expected_dma_copy_bytes: a.dma_copies as u64 * o.facts.size,
        note: "a published model (see source), not a measurement",
    })
}

/// `[expected]` from the model, or `[-]` where no source models the strategy.
fn bracket(o: &RunOutcome, f: impl Fn(&ModelForRun) -> String) -> String {
    model_for(o).map_or_else(|| "[-]".into(), |m| format!("[{}]", f(&m)))
}

/// Totals rebuilt from the event stream, beside whether they match the
/// in-kernel counters. They must match when no event was lost.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct EventCheck {
    pub cpu_copy_bytes: u64,
    pub reference_bytes: u64,
    pub pinned_bytes: u64,
    pub mode_switches: u64,
    pub disk_bytes: u64,
    pub receiver_copy_bytes: u64,
    pub agrees: bool,
}

impl EventCheck {
    pub fn of(o: &RunOutcome) -> EventCheck {
        let t = o.tally;
        let f = &o.figures;
        EventCheck {
            cpu_copy_bytes: t.cpu_copy_bytes,
            reference_bytes: t.reference_bytes,
            pinned_bytes: t.pinned_bytes,
            mode_switches: t.mode_switches,
            disk_bytes: t.disk_bytes,
            receiver_copy_bytes: t.receiver_copy_bytes,
            agrees: t.cpu_copy_bytes == f.cpu_copy_bytes
                && t.reference_bytes == f.reference_bytes
                && t.pinned_bytes == f.pinned_bytes
                && t.mode_switches == f.mode_switches
                && t.disk_bytes == f.disk_read_bytes
                && t.receiver_copy_bytes == f.receiver_copy_bytes,
        }
    }
}

/// The JSON object of one run.
#[derive(Debug, Serialize)]
pub struct RunJson<'a> {
    pub strategy: &'static str,
    pub size_bytes: u64,
    pub chunk_bytes: u64,
    pub cold: bool,
    pub sender_scatter_gather: bool,
    pub syscalls: &'a std::collections::BTreeMap<String, u64>,
    pub syscall_total: u64,
    /// Of those, calls made again after one moved less than it asked or
    /// was interrupted: how many depends on the timing.
    pub short_calls: u64,
    pub mode_switches: u64,
    pub sched_switches: u64,
    pub sched_switches_preempted: u64,
    pub sched_switches_blocked: u64,
    pub page_faults: u64,
    pub page_faults_user: u64,
    pub page_faults_kernel: u64,
    pub async_kernel_entries: u64,
    pub cpu_copy_bytes: u64,
    pub reference_bytes: u64,
    /// Payload that reached the device in the sender's pinned pages.
    pub pinned_bytes: u64,
    /// Of it, copied by the kernel anyway (the veth's `skb_copy_ubufs`).
    pub copied_anyway_bytes: u64,
    /// Zero-copy completions: the error queue's, or io_uring's notifications.
    pub zerocopy_completions: Completions,
    /// The sender's io_uring and its kernel threads.
    pub io_uring: Ring,
    pub disk_read_bytes: u64,
    pub block_read_bytes: u64,
    /// The NIC's engine: transmit maps of the demo's skbs, their bytes,
    /// and the bytes that were the file's own page-cache pages.
    pub dma_bytes: u64,
    pub dma_maps: u64,
    pub nic_dma_file_bytes: u64,
    pub nic_dma_user_bytes: u64,
    /// The disk's engine: maps into the file's page-cache pages.
    pub disk_dma_bytes: u64,
    pub disk_dma_maps: u64,
    /// The receiving NIC's engine: frames handed up, those shown written
    /// by DMA, the ring's refills.
    pub nic_rx: crate::model::classify::NicRx,
    /// Sent over two borrowed NICs (`--nic`) rather than the veth.
    pub nic: bool,
    pub receiver_copy_bytes: u64,
    pub received_bytes: u64,
    pub received_ok: bool,
    pub resident_before_bytes: u64,
    pub elapsed_ns: u64,
    pub sender_cpu_ns: u64,
    /// Stepped by hand (`zc demo --step`): the times above include the
    /// waits between steps; the counts do not.
    pub stepped: bool,
    /// The receiver thread's CPU, and softirq time on every CPU (clock
    /// ticks, the whole machine's), during the transfer.
    pub receiver_cpu_ns: u64,
    pub softirq_ns: u64,
    /// Sender + receiver + the sender's kernel threads + softirq.
    pub transfer_cpu_ns: u64,
    pub lost_events: u64,
    /// Probe runs the kernel skipped (a program is not re-entered on a CPU).
    pub probe_misses: u64,
    /// The same, by program: which events went unseen.
    pub probe_misses_by_program: std::collections::BTreeMap<String, u64>,
    /// Tasks in whose context no program of zc ran (see docs/evidence.md,
    /// "Unseen").
    pub blind_tasks: Vec<crate::model::counts::BlindTask>,
    /// zc's own cost: its eBPF programs' run time, measured by the kernel.
    pub tracing_cost: TracingCost,
    pub events: usize,
    pub skbs_queued: u64,
    pub skbs_transmitted: u64,
    pub file_frags_at_device: u64,
    pub shared_frag_skbs_at_device: u64,
    /// The file's pages by what touched them (docs/json.md).
    pub pages: PageCounts,
    pub movements: &'a [MovementFigure],
    /// Every byte of the file, hop by hop (docs/json.md).
    pub ledger: &'a [Hop],
    /// Sum of the hops' unexplained bytes: 0 when every byte is explained.
    pub unexplained_bytes: u64,
    pub retransmitted_bytes: u64,
    pub dropped_bytes: u64,
    /// The TCP stream by sequence ranges: holes at the queue and the device,
    /// drops by what TCP did next (docs/json.md). Null when events were lost.
    pub stream: Option<&'a crate::model::stream::StreamCheck>,
    /// The same totals recomputed from the event stream (see docs/json.md).
    pub event_check: EventCheck,
    pub differences: Vec<String>,
    /// The published model's expectation, or null where none exists.
    pub model: Option<ModelForRun>,
    pub context: &'a Context,
}

/// zc's own cost in a run, against the transfer's CPU.
pub fn run_cost(o: &RunOutcome) -> TracingCost {
    TracingCost::of(
        &o.counts,
        o.transfer_cpu_ns(),
        "the transfer's CPU (sender, receiver, kernel threads, softirq)",
    )
}

pub fn to_json<'a>(o: &'a RunOutcome, ctx: &'a Context) -> RunJson<'a> {
    let f = &o.figures;
    RunJson {
        strategy: o.facts.strategy.name(),
        size_bytes: o.facts.size,
        chunk_bytes: o.facts.chunk,
        cold: o.facts.cold,
        sender_scatter_gather: o.facts.sender_sg,
        syscalls: &f.syscalls,
        syscall_total: f.syscall_total,
        short_calls: o.short_calls,
        mode_switches: f.mode_switches,
        sched_switches: f.sched_switches,
        sched_switches_preempted: f.sched_preempted,
        sched_switches_blocked: f.sched_blocked,
        page_faults: f.page_faults,
        page_faults_user: f.page_faults_user,
        page_faults_kernel: f.page_faults_kernel,
        async_kernel_entries: f.async_entries,
        cpu_copy_bytes: f.cpu_copy_bytes,
        reference_bytes: f.reference_bytes,
        pinned_bytes: f.pinned_bytes,
        copied_anyway_bytes: f.copied_anyway_bytes,
        zerocopy_completions: f.zerocopy,
        io_uring: f.io_uring.clone(),
        disk_read_bytes: f.disk_read_bytes,
        block_read_bytes: f.block_read_bytes,
        dma_bytes: f.dma_bytes,
        dma_maps: f.dma_maps,
        nic_dma_file_bytes: f.nic_dma_file_bytes,
        nic_dma_user_bytes: f.nic_dma_user_bytes,
        disk_dma_bytes: f.disk_dma_bytes,
        disk_dma_maps: f.disk_dma_maps,
        nic_rx: f.nic_rx,
        nic: o.facts.nic,
        receiver_copy_bytes: f.receiver_copy_bytes,
        received_bytes: o.received_bytes,
        received_ok: o.received_ok,
        resident_before_bytes: o.resident_before,
        elapsed_ns: o.elapsed_ns,
        sender_cpu_ns: o.sender_cpu_ns,
        stepped: o.stepped,
        receiver_cpu_ns: o.receiver_cpu_ns,
        softirq_ns: o.softirq_ns,
        transfer_cpu_ns: o.transfer_cpu_ns(),
        lost_events: o.lost_events,
        probe_misses: f.probe_misses,
        probe_misses_by_program: f.missed_runs.clone(),
        blind_tasks: f.blind_tasks.clone(),
        tracing_cost: run_cost(o),
        events: o.events.len(),
        skbs_queued: f.skbs_queued,
        skbs_transmitted: f.skbs_transmitted,
        file_frags_at_device: f.file_frags_at_device,
        shared_frag_skbs_at_device: f.shared_frag_skbs_at_device,
        pages: o.page_counts(),
        movements: &f.movements,
        ledger: &f.ledger.hops,
        unexplained_bytes: f.ledger.unexplained_bytes,
        retransmitted_bytes: f.ledger.retransmitted_bytes,
        dropped_bytes: f.ledger.dropped_bytes,
        stream: f.ledger.stream.as_ref(),
        event_check: EventCheck::of(o),
        differences: differences(f, &o.facts, Lang::En),
        model: model_for(o),
        context: ctx,
    }
}

/// The file's pages by what touched them, each named by an event that
/// carries its index.
fn pages_line(p: &PageCounts) -> String {
    let unnamed = if p.page_cache_seen {
        "named by no event"
    } else {
        "not seen: this file system's reads pass no page-cache tracepoint (tmpfs), so its pages are named only where the device's frags show them"
    };
    let line = format!(
        "pages of the file ({}): {} sent by the device as skb frags (the page cache's own pages), {} copied by the CPU, {} copied into a pinned buffer, {} mapped, {} referenced, {} read from disk, {} {unnamed}",
        p.file_pages,
        p.skb_frag_at_device,
        p.copied,
        p.copy_pinned,
        p.mapped,
        p.referenced,
        p.read_from_disk,
        p.untouched
    );
    let line = if p.unnamed_in_skipped_runs > 0 {
        format!(
            "{line} (of which {} may have been named in probe runs the kernel skipped)",
            p.unnamed_in_skipped_runs
        )
    } else {
        line
    };
    match p.mapped_check {
        Some(m) => format!(
            "{line}\n  mapped, as the page tables of the sender's mapping held them at the loop's end: {}; the tracepoints named {} more (a fault-around window names pages it could not map) and missed {} (a fault maps its whole folio, or a PMD, with no event)",
            m.resident, m.named_not_mapped, m.mapped_unnamed
        ),
        None => line,
    }
}

fn syscall_list(o: &RunOutcome) -> String {
    o.figures
        .syscalls
        .iter()
        .map(|(n, c)| format!("{n} {c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A place's name in a run's report: the device is the veth's, unless the
/// run went over borrowed NICs.
fn place_label(p: crate::model::Place, nic: bool) -> &'static str {
    match p {
        crate::model::Place::Nic if nic => "NIC",
        _ => p.label(),
    }
}

fn movement_line(m: &MovementFigure, nic: bool) -> String {
    let arrow = match m.movement {
        Movement::Dma => "══>",
        Movement::CpuCopy => "──>",
        Movement::Reference => "┈┈>",
        Movement::Mapping => "⇢",
        Movement::Pin => "╍╍>",
        Movement::SoftwareTransmit => "~~>",
        Movement::Cipher => "≈≈>",
    };
    format!(
        "  {:<17} {:>16} {arrow} {:<15} {:>9} in {:>5} {:<7} {}\n  {:<17} {:>16}     proof: {}",
        m.movement.label(),
        place_label(m.from, nic),
        place_label(m.to, nic),
        fmt_bytes(m.bytes),
        m.ops,
        m.ops_unit,
        m.site,
        "",
        "",
        m.evidence
    )
}

fn per_mib(ns: u64, size: u64) -> String {
    if size == 0 {
        return "-".into();
    }
    fmt_ns((ns as f64 * (1 << 20) as f64 / size as f64) as u64)
}

/// The byte ledger as a table: one row per hop, one column per class.
fn write_ledger(
    s: &mut String,
    l: &crate::model::ledger::Ledger,
    misses: &std::collections::BTreeMap<String, u64>,
    blind: &[crate::model::counts::BlindTask],
) {
    let _ = writeln!(
        s,
        "byte ledger (every byte of the file, hop by hop; unexplained should be 0):"
    );
    let _ = writeln!(
        s,
        "  {:<20} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>11}",
        "hop",
        "payload",
        "copied",
        "mapped",
        "ref'd",
        "pinned",
        "skb pages",
        "re-sent",
        "dropped",
        "unexplained"
    );
    for h in &l.hops {
        let mapped = if h.mapped_inferred_bytes > 0 {
            format!(
                "{}+{}i",
                fmt_bytes(h.mapped_bytes),
                fmt_bytes(h.mapped_inferred_bytes)
            )
        } else {
            fmt_bytes(h.mapped_bytes)
        };
        let _ = writeln!(
            s,
            "  {:<20} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>11}",
            h.hop,
            fmt_bytes(h.payload_bytes),
            fmt_bytes(h.copied_bytes),
            mapped,
            fmt_bytes(h.referenced_bytes),
            fmt_bytes(h.pinned_bytes),
            fmt_bytes(h.socket_pages_bytes),
            fmt_bytes(h.retransmitted_bytes),
            fmt_bytes(h.dropped_bytes),
            h.unexplained_bytes
        );
    }
    if l.hops.iter().any(|h| h.mapped_inferred_bytes > 0) {
        let _ = writeln!(
            s,
            "  (i: mapped without an event, inferred: a large folio or PMD mapped whole emits no mm_filemap_map_pages)"
        );
    }
    for h in l.hops.iter().filter(|h| h.copied_anyway_bytes > 0) {
        let _ = writeln!(
            s,
            "  {}: of the pinned bytes, {} were copied anyway by the kernel (a CPU copy, counted in CPU-copied bytes)",
            h.hop,
            fmt_bytes(h.copied_anyway_bytes)
        );
    }
    // The DMA hops' one class, measured by the drivers' maps.
    for h in l.hops.iter().filter(|h| h.dma_bytes > 0) {
        let _ = writeln!(
            s,
            "  {}: {} moved by the device's DMA engine (dma:dma_map_phys), {} of it in the file's own page-cache pages",
            h.hop,
            fmt_bytes(h.dma_bytes),
            fmt_bytes(h.dma_file_page_bytes)
        );
    }
    // Kernel TLS's classes, inferred from the kernel's record counts.
    for h in &l.hops {
        if h.encrypted_bytes > 0 {
            let _ = writeln!(
                s,
                "  {}: {} sealed by kernel TLS into the socket's own pages: a CPU pass over every byte, not a copy (inferred from the socket's record count: no tracepoint sees the cipher)",
                h.hop,
                fmt_bytes(h.encrypted_bytes)
            );
        }
        if h.tls_overhead_bytes > 0 {
            let _ = writeln!(
                s,
                "  {}: of the payload, {} are the TLS records' headers, nonces and tags, not the file's bytes ({} B per record)",
                h.hop,
                fmt_bytes(h.tls_overhead_bytes),
                crate::model::rules::TLS_RECORD_OVERHEAD
            );
        }
        if h.decrypted_bytes > 0 {
            let _ = writeln!(
                s,
                "  {}: {} opened by kernel TLS straight into the receiver's buffer (inferred: its reads less the copies seen, within its record count)",
                h.hop,
                fmt_bytes(h.decrypted_bytes)
            );
        }
    }
    for h in l
        .hops
        .iter()
        .filter(|h| h.unseen_bytes + h.unseen_queued_bytes + h.unseen_retransmitted_bytes > 0)
    {
        let _ = if h.unseen_queued_bytes + h.unseen_retransmitted_bytes > 0 {
            writeln!(
                s,
                "  {}: {} at the queue, {} at the device and {} retransmitted were counted by TCP (tcpi_bytes_sent, tcpi_bytes_retrans) with no probe event for them",
                h.hop,
                fmt_bytes(h.unseen_queued_bytes),
                fmt_bytes(h.unseen_bytes),
                fmt_bytes(h.unseen_retransmitted_bytes)
            )
        } else {
            writeln!(
                s,
                "  {}: {} went into skbs TCP queued with no probe event, so no frag showed how",
                h.hop,
                fmt_bytes(h.unseen_bytes)
            )
        };
    }
    if let Some(st) = &l.stream {
        write_stream(s, st);
    }
    if !blind.is_empty() {
        let who: Vec<String> = blind
            .iter()
            .map(|t| format!("{}[{}] of pid {} ({}x)", t.comm, t.tid, t.pid, t.stretches))
            .collect();
        let _ = writeln!(
            s,
            "  unseen: the kernel ran no zc program in the context of {}; what the kernel did on their stack meanwhile, softirqs included, passed every probe unseen (see docs/evidence.md, \"Unseen\")",
            who.join(", ")
        );
    }
    for h in l.unbalanced() {
        let _ = writeln!(
            s,
            "  UNBALANCED {}: {} bytes unexplained",
            h.hop, h.unexplained_bytes
        );
    }
    for h in l.hops.iter().filter(|h| h.skipped_bytes > 0) {
        let _ = writeln!(
            s,
            "  {}: {} went unseen in probe runs the kernel skipped; the demo's own count (its calls' return values) says they crossed",
            h.hop,
            fmt_bytes(h.skipped_bytes)
        );
    }
    for h in l.hops.iter().filter(|h| h.skipped_map_bytes > 0) {
        let _ = writeln!(
            s,
            "  {}: maps covering {} of the skbs the device took went unseen in probe runs the kernel skipped; the skbs' own lengths say they were mapped",
            h.hop,
            fmt_bytes(h.skipped_map_bytes)
        );
    }
    let skipped = l
        .hops
        .iter()
        .any(|h| h.skipped_bytes > 0 || h.skipped_map_bytes > 0);
    if (l.unexplained_bytes > 0 || skipped) && !misses.is_empty() {
        let which: Vec<String> = misses.iter().map(|(p, n)| format!("{p} {n}x")).collect();
        let _ = writeln!(
            s,
            "  the kernel skipped probe runs (a program is not re-entered on a CPU; one preempted inside it holds it): {}; those events were never seen",
            which.join(", ")
        );
    }
}

/// The ledger's second view: the file laid out by TCP sequence numbers.
fn write_stream(s: &mut String, st: &crate::model::stream::StreamCheck) {
    let holes = |h: &[[u64; 2]]| {
        h.iter()
            .map(|[a, b]| format!("[{a}, {b})"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(
        s,
        "  by TCP sequence numbers: {} of the file held by skbs at the queue; {} in retransmission attempts (failed ones too, as TCP counts them), {} sent again as new data",
        fmt_bytes(st.queued_bytes),
        fmt_bytes(st.retransmitted_bytes),
        fmt_bytes(st.resent_bytes)
    );
    if st.queue_hole_bytes + st.device_hole_bytes > 0 {
        let _ = writeln!(
            s,
            "    never seen at the queue: {} ({}); at the device: {} ({})",
            fmt_bytes(st.queue_hole_bytes),
            holes(&st.queue_holes),
            fmt_bytes(st.device_hole_bytes),
            holes(&st.device_holes)
        );
    }
    if st.dropped_bytes > 0 {
        let _ = writeln!(
            s,
            "    dropped {}: {} lost after TCP was told they left (retransmitted), {} in attempts TCP saw fail (sent again), {} spare copies of bytes another skb delivered, {} never sent again by an skb zc saw",
            fmt_bytes(st.dropped_bytes),
            fmt_bytes(st.dropped_lost_bytes),
            fmt_bytes(st.dropped_failed_bytes),
            fmt_bytes(st.dropped_spare_bytes),
            fmt_bytes(st.dropped_unrepaired_bytes)
        );
    }
    if st.repeated_drop_events + st.beyond_bytes > 0 {
        let _ = writeln!(
            s,
            "    {} drop events repeated one already counted; {} outside the file",
            st.repeated_drop_events,
            fmt_bytes(st.beyond_bytes)
        );
    }
}

/// The full text report of one run.
pub fn text(o: &RunOutcome, ctx: &Context) -> String {
    let f = &o.figures;
    let m = model_for(o);
    // The model's cell, or a dash where no source models this strategy.
    let model = |f: &dyn Fn(&ModelForRun) -> String| m.as_ref().map_or_else(|| "-".into(), f);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "zc  {}  — {}",
        o.facts.strategy.name(),
        m.as_ref().map_or_else(
            || "no published model for this strategy".to_string(),
            |m| format!("{}: {}", m.per_buffer.source, m.per_buffer.code)
        )
    );
    let _ = writeln!(
        s,
        "    {} file in {} chunks ({} buffers), {} cache, sending {} scatter-gather {}, linux {}",
        fmt_bytes(o.facts.size),
        fmt_bytes(o.facts.chunk),
        o.facts.chunks(),
        if o.facts.cold { "cold" } else { "warm" },
        if o.facts.nic { "NIC" } else { "veth" },
        if o.facts.sender_sg { "on" } else { "off" },
        ctx.kernel
    );
    let _ = writeln!(
        s,
        "{:<28} {:>24}   {:>22}",
        "", "measured (kernel)", "model"
    );
    let row = |s: &mut String, k: &str, m: String, a: String| {
        let _ = writeln!(s, "{k:<28} {m:>24}   {a:>22}");
    };
    row(
        &mut s,
        "syscalls",
        f.syscall_total.to_string(),
        model(&|m| m.expected_syscalls.to_string()),
    );
    row(
        &mut s,
        "user/kernel mode switches",
        f.mode_switches.to_string(),
        model(&|m| m.expected_mode_switches.to_string()),
    );
    row(
        &mut s,
        "scheduler switches",
        format!(
            "{} ({} blocked, {} preempted)",
            f.sched_switches, f.sched_blocked, f.sched_preempted
        ),
        "not counted".into(),
    );
    row(
        &mut s,
        "page faults",
        format!(
            "{} ({} user, {} kernel)",
            f.page_faults, f.page_faults_user, f.page_faults_kernel
        ),
        "not counted".into(),
    );
    row(
        &mut s,
        "interrupts outside syscalls",
        f.async_entries.to_string(),
        "not counted".into(),
    );
    row(
        &mut s,
        "CPU-copied bytes",
        format!(
            "{} ({:.2}×)",
            fmt_bytes(f.cpu_copy_bytes),
            f.copy_passes(o.facts.size)
        ),
        model(&|m| {
            format!(
                "{} ({}×)",
                fmt_bytes(m.expected_cpu_copy_bytes),
                m.per_buffer.cpu_copies
            )
        }),
    );
    row(
        &mut s,
        "sent by page reference",
        fmt_bytes(f.reference_bytes),
        "".into(),
    );
    row(
        &mut s,
        "disk → page cache",
        fmt_bytes(f.disk_read_bytes),
        format!("{} (DMA)", fmt_bytes(o.facts.size)),
    );
    row(
        &mut s,
        "disk DMA into the file's pages",
        if f.disk_dma_maps > 0 {
            format!(
                "{} in {} maps",
                fmt_bytes(f.disk_dma_bytes),
                f.disk_dma_maps
            )
        } else {
            "none seen".into()
        },
        "".into(),
    );
    row(
        &mut s,
        "socket buffer → NIC",
        if f.dma_maps > 0 {
            format!(
                "DMA {} in {} maps, {} of it the file's own pages",
                fmt_bytes(f.dma_bytes),
                f.dma_maps,
                fmt_bytes(f.nic_dma_file_bytes)
            )
        } else if o.facts.nic {
            "NIC, no DMA map seen".into()
        } else {
            "software (veth)".into()
        },
        format!("{} (DMA)", fmt_bytes(o.facts.size)),
    );
    if o.facts.nic {
        let rx = &f.nic_rx;
        row(
            &mut s,
            "NIC → receiver's memory",
            if rx.dma_frames > 0 {
                format!(
                    "DMA {} of {} payload, {} of {} frames; {} refill maps",
                    fmt_bytes(rx.dma_payload_bytes),
                    fmt_bytes(rx.payload_bytes),
                    rx.dma_frames,
                    rx.frames,
                    rx.maps
                )
            } else {
                format!("{} frames, no DMA hand-back seen", rx.frames)
            },
            "(DMA)".into(),
        );
    }
    row(
        &mut s,
        "skbs queued → transmitted",
        format!("{} → {}", f.skbs_queued, f.skbs_transmitted),
        "".into(),
    );
    row(
        &mut s,
        "elapsed / sender CPU",
        format!("{} / {}", fmt_ns(o.elapsed_ns), fmt_ns(o.sender_cpu_ns)),
        if o.stepped {
            "stepped: incl. the waits".into()
        } else {
            "".into()
        },
    );
    row(
        &mut s,
        "sender CPU per MiB",
        per_mib(o.sender_cpu_ns, o.facts.size),
        "".into(),
    );
    let _ = writeln!(s, "syscalls by name: {}", syscall_list(o));
    let _ = writeln!(s, "{}", crate::explain::tracing_cost(&run_cost(o)));
    let _ = writeln!(
        s,
        "where the bytes went (each line proved by the named events):"
    );
    for m in &f.movements {
        let _ = writeln!(s, "{}", movement_line(m, o.facts.nic));
    }
    let _ = writeln!(s, "{}", pages_line(&o.page_counts()));
    write_ledger(&mut s, &f.ledger, &f.missed_runs, &f.blind_tasks);
    let _ = writeln!(s, "why the figures differ from the model:");
    for d in differences(f, &o.facts, Lang::En) {
        let _ = writeln!(s, "  - {d}");
    }
    let _ = writeln!(
        s,
        "receiver: {} of {} bytes, {}; its own copy skb → user: {} (not counted above: the model counts the sender)",
        o.received_bytes,
        o.facts.size,
        if o.received_ok {
            "intact (CRC-32 matches)"
        } else {
            "NOT INTACT"
        },
        fmt_bytes(f.receiver_copy_bytes)
    );
    for source in &ctx.probe_sources {
        let _ = writeln!(s, "probe from another source: {source}");
    }
    let _ = writeln!(
        s,
        "probes {}/{} attached, {} events, lost events {}{}",
        ctx.probes_attached,
        ctx.probes_total,
        o.events.len(),
        o.lost_events,
        if o.lost_events > 0 {
            " (detail only: the totals above are exact in-kernel counts)"
        } else {
            ""
        }
    );
    s
}

/// A DMA engine's cell: its bytes where it was seen; else why not.
pub fn engine_cell(seen: bool, bytes: u64, nic: bool) -> String {
    match (seen, nic) {
        (true, _) => fmt_bytes(bytes),
        (false, true) => "not seen".into(),
        (false, false) => "none: veth".into(),
    }
}

/// One table of several runs, strategy per column, article rows beside.
pub fn table(runs: &[RunOutcome], ctx: &Context) -> String {
    let mut s = String::new();
    let Some(first) = runs.first() else {
        return s;
    };
    let _ = writeln!(
        s,
        "zc  {} file, {} chunks, {} cache, {}, linux {} — measured (the published model in brackets)",
        fmt_bytes(first.facts.size),
        fmt_bytes(first.facts.chunk),
        if first.facts.cold { "cold" } else { "warm" },
        if ctx.link.is_empty() {
            "veth"
        } else {
            &ctx.link
        },
        ctx.kernel
    );
    type Cell = fn(&RunOutcome) -> String;
    let rows: [(&str, Cell); 18] = [
        ("syscalls", |r| {
            format!(
                "{} {}",
                r.figures.syscall_total,
                bracket(r, |m| m.expected_syscalls.to_string())
            )
        }),
        ("mode switches", |r| {
            format!(
                "{} {}",
                r.figures.mode_switches,
                bracket(r, |m| m.expected_mode_switches.to_string())
            )
        }),
        ("scheduler switches", |r| {
            r.figures.sched_switches.to_string()
        }),
        ("page faults", |r| r.figures.page_faults.to_string()),
        ("CPU-copied bytes", |r| {
            format!(
                "{} {}",
                fmt_bytes(r.figures.cpu_copy_bytes),
                bracket(r, |m| fmt_bytes(m.expected_cpu_copy_bytes))
            )
        }),
        ("CPU copies per byte", |r| {
            format!(
                "{:.2} {}",
                r.figures.copy_passes(r.facts.size),
                bracket(r, |m| m.per_buffer.cpu_copies.to_string())
            )
        }),
        ("sent by reference", |r| {
            fmt_bytes(r.figures.reference_bytes)
        }),
        ("sent in pinned pages", |r| {
            fmt_bytes(r.figures.pinned_bytes)
        }),
        ("disk → page cache", |r| {
            fmt_bytes(r.figures.disk_read_bytes)
        }),
        ("NIC DMA out", |r| {
            let f = &r.figures;
            engine_cell(f.dma_maps > 0, f.dma_bytes, r.facts.nic)
        }),
        ("NIC DMA in", |r| {
            let rx = &r.figures.nic_rx;
            engine_cell(rx.dma_frames > 0, rx.dma_payload_bytes, r.facts.nic)
        }),
        ("retransmitted", |r| {
            fmt_bytes(r.figures.ledger.retransmitted_bytes)
        }),
        ("unexplained bytes", |r| {
            r.figures.ledger.unexplained_bytes.to_string()
        }),
        ("sender CPU / MiB", |r| {
            per_mib(r.sender_cpu_ns, r.facts.size)
        }),
        ("elapsed", |r| fmt_ns(r.elapsed_ns)),
        ("received intact", |r| {
            if r.received_ok {
                "yes".into()
            } else {
                "NO".into()
            }
        }),
        ("lost events", |r| r.lost_events.to_string()),
        ("zc's eBPF time", |r| {
            let c = run_cost(r);
            match c.ns_per_run {
                Some(each) if c.measured => format!("{} {each:.0}ns/run", fmt_ns(c.ebpf_ns)),
                _ => "not measured".into(),
            }
        }),
    ];
    // Three runs side by side fit an 80-column terminal.
    for (i, block) in runs.chunks(3).enumerate() {
        if i > 0 {
            let _ = writeln!(s);
        }
        let _ = write!(s, "{:<22}", "");
        for r in block {
            let _ = write!(s, " {:>18}", r.facts.strategy.name());
        }
        let _ = writeln!(s);
        for (name, cell) in rows {
            let _ = write!(s, "{name:<22}");
            for r in block {
                let _ = write!(s, " {:>18}", cell(r));
            }
            let _ = writeln!(s);
        }
    }
    let _ = writeln!(s, "CPU-copied bytes:");
    let max = runs
        .iter()
        .map(|r| r.figures.cpu_copy_bytes)
        .max()
        .unwrap_or(0)
        .max(1);
    for r in runs {
        let width = (r.figures.cpu_copy_bytes * 40 / max) as usize;
        let bar = if width == 0 {
            "·".to_string()
        } else {
            "█".repeat(width)
        };
        let _ = writeln!(s, "  {:<16} {bar}", r.facts.strategy.name());
    }
    let _ = writeln!(
        s,
        "probes {}/{} attached. Run one strategy (--strategy NAME) for where each copy happens and the events that prove it.",
        ctx.probes_attached, ctx.probes_total
    );
    s
}

/// The trace of `runs`, each stored with the JSON object its report prints.
pub fn trace(
    meta: zc_trace::Meta,
    runs: &[RunOutcome],
    ctx: &Context,
) -> anyhow::Result<zc_trace::Trace> {
    crate::recording::trace_of(meta, runs, |r| serde_json::to_value(to_json(r, ctx)))
}
