//! One run's result, built in one place: the exact counters give the
//! figures, the ordered events give the steps and their tally. Everything
//! downstream (report, live view, recordings, exports) reads a
//! [`RunOutcome`] and derives nothing from the raw events again.

use zc_common::counters::Counter;

use super::{
    classify::{Figures, classify},
    counts::Counts,
    facts::RunFacts,
    pages::{MappedCheck, PageCounts, PageMap, Touch},
    rules,
    steps::{self, Step, StepKind},
    stream,
    tally::Tally,
};
use crate::decode::Event;

/// What the transfer itself measured, apart from the kernel's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TransferStats {
    /// Wall time of the sender's loop.
    pub elapsed_ns: u64,
    /// CPU time the sender thread used in its loop.
    pub sender_cpu_ns: u64,
    /// CPU time the receiver thread used meanwhile.
    pub receiver_cpu_ns: u64,
    /// Softirq time on every CPU meanwhile (`/proc/stat`, clock ticks: coarse,
    /// and it counts the whole machine's).
    pub softirq_ns: u64,
    pub received_bytes: u64,
    /// The receiver got every byte, with the file's CRC-32.
    pub received_ok: bool,
    /// Ring-buffer records that failed to decode.
    pub bad_records: u64,
    /// Bytes of the file in the page cache just before the run.
    pub resident_before: u64,
    /// The run was stepped by hand (`zc demo --step`): its times include
    /// the waits between steps.
    pub stepped: bool,
    /// Calls the sender's loop made again because one moved less than it
    /// asked or was interrupted: the timing's, not the strategy's.
    pub short_calls: u64,
    /// The events place each skb in the TCP stream (`at`): the kernel side
    /// read where the stream starts (`tcp_sock.write_seq` before the first
    /// send), and the decoder counted from it.
    pub stream_ranges: bool,
    /// The file pages the sender's mapping of the file held as its loop
    /// ended, read from its page tables (`strategy::resident`): the pages
    /// the faults mapped. None when the loop mapped nothing, or the look
    /// failed.
    pub mapped_resident: Option<Vec<(u32, u32)>>,
}

/// Everything measured in one run.
#[derive(Clone, Debug)]
pub struct RunOutcome {
    pub facts: RunFacts,
    pub counts: Counts,
    pub figures: Figures,
    /// Decoded events in time order.
    pub events: Vec<Event>,
    /// The story of the run, from the events.
    pub steps: Vec<Step>,
    /// Totals recomputed from the steps (equal to the counters when nothing was lost).
    pub tally: Tally,
    pub elapsed_ns: u64,
    pub sender_cpu_ns: u64,
    pub receiver_cpu_ns: u64,
    pub softirq_ns: u64,
    pub received_bytes: u64,
    pub received_ok: bool,
    /// Events the ring buffer had no room for (the counters still have them).
    pub lost_events: u64,
    /// Records that failed to decode.
    pub bad_records: u64,
    /// Bytes of the file in the page cache just before the run.
    pub resident_before: u64,
    /// Stepped by hand: its times include the waits between steps.
    pub stepped: bool,
    /// Calls the sender made again after a short or interrupted one.
    pub short_calls: u64,
    pub stream_ranges: bool,
    pub mapped_resident: Option<Vec<(u32, u32)>>,
}

impl RunOutcome {
    /// CPU the whole transfer took: the sender, the receiver, the sender's
    /// kernel threads (io_uring), and softirq work on every CPU.
    pub fn transfer_cpu_ns(&self) -> u64 {
        self.sender_cpu_ns
            + self.receiver_cpu_ns
            + self.figures.io_uring.kernel_thread_cpu_ns
            + self.softirq_ns
    }

    /// The outcome of a run: `events` must be in time order.
    pub fn new(
        facts: RunFacts,
        counts: Counts,
        events: Vec<Event>,
        stats: TransferStats,
    ) -> RunOutcome {
        let steps = steps::build(facts.strategy, &events);
        let lost_events = counts.get(Counter::RingbufFull);
        // Ranges need every skb event: with one lost, a hole would be the
        // ring's, not the kernel's.
        // Under kernel TLS the stream is the records: longer than the file.
        let stream = (stats.stream_ranges && lost_events == 0)
            .then(|| stream::check(&events, facts.size + rules::tls_overhead(&counts)));
        RunOutcome {
            figures: classify(&counts, &facts, stream.as_ref()),
            tally: Tally::of(&steps),
            lost_events,
            facts,
            counts,
            events,
            steps,
            elapsed_ns: stats.elapsed_ns,
            sender_cpu_ns: stats.sender_cpu_ns,
            receiver_cpu_ns: stats.receiver_cpu_ns,
            softirq_ns: stats.softirq_ns,
            received_bytes: stats.received_bytes,
            received_ok: stats.received_ok,
            bad_records: stats.bad_records,
            resident_before: stats.resident_before,
            stepped: stats.stepped,
            short_calls: stats.short_calls,
            stream_ranges: stats.stream_ranges,
            mapped_resident: stats.mapped_resident,
        }
    }

    /// Whether the page cache's tracepoints (a lookup, a read-in, a
    /// mapping, a fault) named any page of the file in a run whose receiver
    /// got it: measured, not assumed from the file system's name.
    pub fn page_cache_seen(&self) -> bool {
        let c = &self.counts;
        let named = [
            Counter::FilemapGetPages,
            Counter::FilemapAdd,
            Counter::FilemapMapPages,
            Counter::FilemapFault,
        ]
        .iter()
        .map(|k| c.get(*k))
        .sum::<u64>();
        named > 0 || self.received_bytes == 0
    }

    /// The counts of each touch, and whether the page cache was seen at all.
    pub fn page_counts(&self) -> PageCounts {
        let (map, mapped_check) = self.page_map_checked();
        let counts = map.counts();
        let per_run = self.facts.chunk.div_ceil(super::PAGE_SIZE).max(1);
        let skipped = self
            .counts
            .get(Counter::SkippedPageCacheRuns)
            .saturating_mul(per_run);
        PageCounts {
            page_cache_seen: self.page_cache_seen(),
            mapped_check,
            unnamed_in_skipped_runs: counts.untouched.min(skipped as usize),
            ..counts
        }
    }

    /// The file's pages and what the run did to each.
    pub fn page_map(&self) -> PageMap {
        self.page_map_checked().0
    }

    /// The page map from the steps, its mapped pages taken from the page
    /// tables where the loop looked at them, and how the tracepoints'
    /// mapped pages differ from theirs.
    fn page_map_checked(&self) -> (PageMap, Option<MappedCheck>) {
        let mut map = PageMap::new(self.facts.size);
        for step in &self.steps {
            if let StepKind::Move {
                movement, from, to, ..
            } = step.kind
                && let Some(touch) = Touch::of(movement, from, to)
            {
                map.mark(&step.pages, touch);
            }
        }
        // A fault on the file names the page it was for, which the fault
        // then maps (`mm_filemap_fault`: not a step of its own, it moves
        // no bytes).
        for e in &self.events {
            if let Event::Filemap { op, index, .. } = *e
                && op == zc_common::event::op::FILEMAP_FAULT
            {
                map.mark(&super::pages::range(index, index), Touch::Mapped);
            }
        }
        let check = self
            .mapped_resident
            .as_deref()
            .map(|r| map.mapped_from_page_tables(r));
        (map, check)
    }

    /// The transfer's own measurements, as given to [`RunOutcome::new`].
    pub fn stats(&self) -> TransferStats {
        TransferStats {
            elapsed_ns: self.elapsed_ns,
            sender_cpu_ns: self.sender_cpu_ns,
            receiver_cpu_ns: self.receiver_cpu_ns,
            softirq_ns: self.softirq_ns,
            received_bytes: self.received_bytes,
            received_ok: self.received_ok,
            bad_records: self.bad_records,
            resident_before: self.resident_before,
            stepped: self.stepped,
            short_calls: self.short_calls,
            stream_ranges: self.stream_ranges,
            mapped_resident: self.mapped_resident.clone(),
        }
    }
}
