//! Recorded runs: a run's facts, exact counters and event stream as JSON, so
//! a run can be viewed again without root or eBPF.
//!
//! Kernel addresses never leave the machine: skb pointers become small ids
//! in order of first appearance, fault addresses and instruction pointers are
//! dropped, and syscall arguments keep only descriptors and sizes.

use std::collections::HashMap;

use zc_common::{MAX_FRAGS, NO_PAGE, counters::Counter, event::*};

use crate::{
    decode::Event,
    model::{
        Strategy,
        context::Context,
        counts::{Counts, SyscallTotals},
        facts::RunFacts,
        outcome::{RunOutcome, TransferStats},
        tree::{Sample, TraceState, TreeReport},
    },
};

use zc_trace::{
    Event as StoredEvent, Facts as StoredFacts, Run as StoredRun, Syscall as StoredSyscall, Trace,
};

fn to_facts(f: &RunFacts) -> StoredFacts {
    StoredFacts {
        strategy: f.strategy.name().into(),
        size: f.size,
        chunk: f.chunk,
        cold: f.cold,
        sender_sg: f.sender_sg,
        rate: f.rate,
    }
}

/// The stored facts back, refused when this zc does not know the strategy.
fn from_facts(f: &StoredFacts) -> Result<RunFacts, String> {
    let strategy = Strategy::named(&f.strategy).ok_or_else(|| {
        format!(
            "strategy {:?} is unknown to this zc (it knows {})",
            f.strategy,
            Strategy::names()
        )
    })?;
    Ok(RunFacts {
        strategy,
        size: f.size,
        chunk: f.chunk,
        cold: f.cold,
        sender_sg: f.sender_sg,
        rate: f.rate,
    })
}

/// Gives each distinct kernel pointer a small id, in order of first use.
#[derive(Default)]
struct Ids {
    ptrs: HashMap<u64, u64>,
    /// The address of the file mapping the run made (mmap), kept only to
    /// store where a later call's buffer lies in it.
    map_base: Option<u64>,
    /// The stream's first sequence number: skbs are stored by their offset
    /// from it, not by the number itself.
    stream_start: Option<u32>,
}

impl Ids {
    fn at(&self, seq: u32) -> Option<u32> {
        self.stream_start.map(|start| seq.wrapping_sub(start))
    }

    fn of(&mut self, ptr: u64) -> u64 {
        if ptr == 0 {
            return 0;
        }
        let next = self.ptrs.len() as u64 + 1;
        *self.ptrs.entry(ptr).or_insert(next)
    }

    /// Where `buf` lies in the file mapping, if it does.
    fn map_offset(&self, buf: u64) -> Option<u64> {
        let base = self.map_base?;
        buf.checked_sub(base)
            .filter(|off| *off < ADDRESS_LIKE as u64)
    }
}

/// Where a loaded recording says its file mapping starts: an address only
/// in form, so that calls into the mapping find their offsets again.
pub const RECORDED_MAP_BASE: u64 = 0x7f00_0000_0000;

/// Return values above this are addresses (mmap), not byte counts.
const ADDRESS_LIKE: i64 = 1 << 40;

/// Drops a value that looks like an address (a user mapping, a kernel pointer).
fn scrub(v: u64) -> u64 {
    if v > ADDRESS_LIKE as u64 { 0 } else { v }
}

fn store_event(e: &Event, ids: &mut Ids) -> StoredEvent {
    let t = e.ts_ns();
    match e {
        Event::Syscall(s) if s.h.op == op::SYS_ENTER => StoredEvent::SysEnter {
            t,
            nr: s.nr,
            fd: scrub(s.args[0]),
            count: scrub(s.args[2]),
            map_offset: ids.map_offset(s.args[1]),
        },
        Event::Syscall(s) => {
            let new_mapping = s.ret > ADDRESS_LIKE && crate::model::syscalls::name(s.nr) == "mmap";
            if new_mapping {
                ids.map_base = Some(s.ret as u64);
            }
            StoredEvent::SysExit {
                t,
                nr: s.nr,
                ret: if s.ret > ADDRESS_LIKE { 0 } else { s.ret },
                new_mapping,
            }
        }
        Event::Sched(s) if s.h.op == op::SCHED_OUT => StoredEvent::SchedOut {
            t,
            blocked: sched_blocked(s.prev_state),
        },
        Event::Sched(_) => StoredEvent::SchedIn { t },
        Event::Fault(f) => StoredEvent::Fault {
            t,
            kernel: f.h.op == op::FAULT_KERNEL,
        },
        Event::Filemap(f) => StoredEvent::Filemap {
            t,
            op: f.h.op,
            index: f.index,
            last_index: f.last_index,
            order: f.order,
        },
        Event::Block(b) => StoredEvent::Block {
            t,
            issue: b.h.op == op::BLOCK_ISSUE,
            sector: b.sector,
            nr_sector: b.nr_sector,
            bytes: b.bytes,
        },
        Event::Send(s) if s.h.op == op::SEND_TCP_SENDMSG || s.h.op == op::SEND_TCP_SENDPAGE => {
            StoredEvent::TcpSendmsg {
                t,
                skb: ids.of(s.skb),
                skb_len: s.skb_len,
                msg_left: s.msg_left,
                size_goal: s.size_goal,
                iter_type: s.iter_type,
                splice: s.splice != 0,
                source: s.source,
                sendpage: s.h.op == op::SEND_TCP_SENDPAGE,
            }
        }
        Event::Send(s) => StoredEvent::SockSend {
            t,
            ret: s.ret,
            source: s.source,
        },
        Event::Skb(s) if s.h.op == op::SKB_DROP || s.h.op == op::SKB_LOST => StoredEvent::Drop {
            t,
            skb: ids.of(s.skb),
            payload: s.payload,
            reason: s.reason,
            lost: s.h.op == op::SKB_LOST,
            at: ids.at(s.seq),
        },
        Event::Skb(s) if s.h.op == op::SKB_RETRANSMIT => StoredEvent::Retransmit {
            t,
            skb: ids.of(s.skb),
            payload: s.payload,
            at: ids.at(s.seq),
            failed: s.reason != 0,
        },
        Event::Skb(s) => StoredEvent::Skb {
            t,
            queue: s.h.op == op::SKB_QUEUE,
            skb: ids.of(s.skb),
            len: s.len,
            data_len: s.data_len,
            payload: s.payload,
            linear_payload: s.linear_payload,
            file_bytes: s.file_bytes,
            first_file_index: s.first_file_index,
            gso_size: s.gso_size,
            gso_segs: s.gso_segs,
            nr_frags: s.nr_frags,
            file_frags: s.file_frags,
            shinfo_flags: s.shinfo_flags,
            user_bytes: s.user_bytes,
            user_frags: s.user_frags,
            frag_pages: s
                .frag_pages
                .iter()
                .zip(0u32..)
                .filter(|(page, _)| **page != NO_PAGE)
                .map(|(page, frag)| [frag, *page])
                .collect(),
            at: ids.at(s.seq),
        },
        Event::Recv(r) => StoredEvent::Recv {
            t,
            skb: ids.of(r.skb),
            len: r.len,
        },
        Event::Dma(d) => StoredEvent::Dma {
            t,
            sg: d.h.op == op::DMA_MAP_SG,
            size: d.size,
        },
        Event::Forward(f) => StoredEvent::Forward {
            t,
            skb: ids.of(f.skb),
            payload: f.payload,
            user_bytes: f.user_bytes,
            copied_bytes: f.copied_bytes,
            shinfo_flags: f.shinfo_flags,
        },
        Event::Ring(r) => StoredEvent::Ring {
            t,
            complete: r.h.op == op::RING_COMPLETE,
            user_data: ids.of(r.user_data),
            res: r.res,
            cflags: r.cflags,
            opcode: r.opcode,
            sq_thread: r.sq_thread != 0,
            helper: r.helper != 0,
        },
        Event::Thread(th) => StoredEvent::Thread {
            t,
            name: String::from_utf8_lossy(&th.comm)
                .trim_end_matches('\0')
                .split('\0')
                .next()
                .unwrap_or("")
                .to_string(),
        },
        Event::Completion(c) => StoredEvent::Completion {
            t,
            lo: c.lo,
            hi: c.hi,
            bytes: c.bytes,
            copied: c.code & SO_EE_CODE_ZEROCOPY_COPIED != 0,
        },
    }
}

fn h(t: u64, kind: Kind, op: u16) -> Header {
    Header {
        ts_ns: t,
        tid: 0,
        kind: kind as u16,
        op,
    }
}

/// Back to the in-memory event the model consumes (pointers are ids now).
pub fn load_event(e: &StoredEvent) -> Event {
    match *e {
        StoredEvent::SysEnter {
            t,
            nr,
            fd,
            count,
            map_offset,
        } => Event::Syscall(SyscallEvent {
            h: h(t, Kind::Syscall, op::SYS_ENTER),
            nr,
            args: [
                fd,
                map_offset.map_or(0, |off| RECORDED_MAP_BASE + off),
                count,
            ],
            ret: 0,
        }),
        StoredEvent::SysExit {
            t,
            nr,
            ret,
            new_mapping,
        } => Event::Syscall(SyscallEvent {
            h: h(t, Kind::Syscall, op::SYS_EXIT),
            nr,
            args: [0; 3],
            ret: if new_mapping {
                RECORDED_MAP_BASE as i64
            } else {
                ret
            },
        }),
        StoredEvent::SchedOut { t, blocked } => Event::Sched(SchedEvent {
            h: h(t, Kind::Sched, op::SCHED_OUT),
            prev_state: blocked as u64,
            ..Default::default()
        }),
        StoredEvent::SchedIn { t } => Event::Sched(SchedEvent {
            h: h(t, Kind::Sched, op::SCHED_IN),
            ..Default::default()
        }),
        StoredEvent::Fault { t, kernel } => Event::Fault(FaultEvent {
            h: h(
                t,
                Kind::Fault,
                if kernel {
                    op::FAULT_KERNEL
                } else {
                    op::FAULT_USER
                },
            ),
            ..Default::default()
        }),
        StoredEvent::Filemap {
            t,
            op,
            index,
            last_index,
            order,
        } => Event::Filemap(FilemapEvent {
            h: h(t, Kind::Filemap, op),
            index,
            last_index,
            order,
            _pad: 0,
        }),
        StoredEvent::Block {
            t,
            issue,
            sector,
            nr_sector,
            bytes,
        } => Event::Block(BlockEvent {
            h: h(
                t,
                Kind::Block,
                if issue {
                    op::BLOCK_ISSUE
                } else {
                    op::BLOCK_COMPLETE
                },
            ),
            sector,
            dev: 0,
            nr_sector,
            bytes,
            _pad: 0,
        }),
        StoredEvent::TcpSendmsg {
            t,
            skb,
            skb_len,
            msg_left,
            size_goal,
            iter_type,
            splice,
            source,
            sendpage,
        } => Event::Send(SendEvent {
            h: h(
                t,
                Kind::Send,
                if sendpage {
                    op::SEND_TCP_SENDPAGE
                } else {
                    op::SEND_TCP_SENDMSG
                },
            ),
            skb,
            ret: 0,
            skb_len,
            msg_left,
            size_goal,
            iter_type,
            splice: splice as u8,
            source,
            ubuf: 0,
        }),
        StoredEvent::SockSend { t, ret, source } => Event::Send(SendEvent {
            h: h(t, Kind::Send, op::SEND_SOCK_LENGTH),
            ret,
            source,
            ..Default::default()
        }),
        StoredEvent::Skb {
            t,
            queue,
            skb,
            len,
            data_len,
            payload,
            linear_payload,
            file_bytes,
            first_file_index,
            gso_size,
            gso_segs,
            nr_frags,
            file_frags,
            shinfo_flags,
            user_bytes,
            user_frags,
            ref frag_pages,
            at,
        } => Event::Skb(Box::new(SkbEvent {
            h: h(
                t,
                Kind::Skb,
                if queue { op::SKB_QUEUE } else { op::SKB_XMIT },
            ),
            skb,
            len,
            data_len,
            payload,
            linear_payload,
            file_bytes,
            first_file_index,
            gso_size,
            gso_segs,
            nr_frags,
            file_frags,
            shinfo_flags,
            user_frags,
            reason: 0,
            user_bytes,
            frag_pages: {
                let mut pages = [NO_PAGE; MAX_FRAGS];
                for &[frag, page] in frag_pages {
                    if let Some(slot) = pages.get_mut(frag as usize) {
                        *slot = page;
                    }
                }
                pages
            },
            seq: at.unwrap_or(0),
        })),
        StoredEvent::Drop {
            t,
            skb,
            payload,
            reason,
            lost,
            at,
        } => Event::Skb(Box::new(SkbEvent {
            h: h(t, Kind::Skb, if lost { op::SKB_LOST } else { op::SKB_DROP }),
            skb,
            payload,
            reason,
            seq: at.unwrap_or(0),
            ..Default::default()
        })),
        StoredEvent::Retransmit {
            t,
            skb,
            payload,
            at,
            failed,
        } => Event::Skb(Box::new(SkbEvent {
            h: h(t, Kind::Skb, op::SKB_RETRANSMIT),
            skb,
            payload,
            len: payload,
            seq: at.unwrap_or(0),
            // The error itself is not kept: failed or not is what counts.
            reason: u32::from(failed),
            ..Default::default()
        })),
        StoredEvent::Recv { t, skb, len } => Event::Recv(RecvEvent {
            h: h(t, Kind::Recv, 0),
            skb,
            len,
            _pad: 0,
        }),
        StoredEvent::Dma { t, sg, size } => Event::Dma(DmaEvent {
            h: h(
                t,
                Kind::Dma,
                if sg { op::DMA_MAP_SG } else { op::DMA_MAP_PHYS },
            ),
            size,
        }),
        StoredEvent::Forward {
            t,
            skb,
            payload,
            user_bytes,
            copied_bytes,
            shinfo_flags,
        } => Event::Forward(ForwardEvent {
            h: h(t, Kind::Forward, 0),
            skb,
            payload,
            user_bytes,
            copied_bytes,
            shinfo_flags,
            _pad: [0; 3],
        }),
        StoredEvent::Ring {
            t,
            complete,
            user_data,
            res,
            cflags,
            opcode,
            sq_thread,
            helper,
        } => Event::Ring(RingEvent {
            h: h(
                t,
                Kind::Ring,
                if complete {
                    op::RING_COMPLETE
                } else {
                    op::RING_SUBMIT
                },
            ),
            user_data,
            res,
            cflags,
            opcode,
            sq_thread: sq_thread as u8,
            helper: helper as u8,
            _pad: [0; 5],
        }),
        StoredEvent::Thread { t, ref name } => {
            let mut comm = [0u8; 16];
            for (c, b) in comm.iter_mut().zip(name.bytes().take(15)) {
                *c = b;
            }
            Event::Thread(ThreadEvent {
                h: h(t, Kind::Thread, 0),
                tid: 0,
                _pad: 0,
                comm,
            })
        }
        StoredEvent::Completion {
            t,
            lo,
            hi,
            bytes,
            copied,
        } => Event::Completion(CompletionEvent {
            h: h(t, Kind::Completion, 0),
            lo,
            hi,
            bytes,
            code: if copied {
                SO_EE_CODE_ZEROCOPY_COPIED
            } else {
                0
            },
            _pad: [0; 7],
        }),
    }
}

/// A run as stored: pointers replaced by ids, times relative to the first
/// event, with the report's summary of it.
pub fn store_run(o: &RunOutcome, summary: serde_json::Value) -> StoredRun {
    let mut ids = Ids {
        stream_start: o.stream_start,
        ..Ids::default()
    };
    let t0 = o.events.first().map_or(0, |e| e.ts_ns());
    let events = o
        .events
        .iter()
        .map(|e| {
            let mut s = store_event(e, &mut ids);
            shift_time(&mut s, t0);
            s
        })
        .collect();
    StoredRun {
        facts: to_facts(&o.facts),
        counters: Counter::ALL
            .iter()
            .map(|c| (c.name().to_string(), o.counts.get(*c)))
            .collect(),
        syscalls: o
            .counts
            .syscalls
            .iter()
            .map(|(nr, t)| StoredSyscall {
                nr: *nr,
                name: crate::model::syscalls::name(*nr),
                calls: t.calls,
                bytes: scrub(t.bytes),
            })
            .collect(),
        elapsed_ns: o.elapsed_ns,
        sender_cpu_ns: o.sender_cpu_ns,
        receiver_cpu_ns: o.receiver_cpu_ns,
        softirq_ns: o.softirq_ns,
        received_bytes: o.received_bytes,
        received_ok: o.received_ok,
        lost_events: o.lost_events,
        bad_records: o.bad_records,
        resident_before: o.resident_before,
        stepped: o.stepped,
        short_calls: o.short_calls,
        stream_ranges: o.stream_start.is_some(),
        mapped_resident: o.mapped_resident.clone(),
        missed_runs: o.counts.missed_runs.clone(),
        ring_requests: o.counts.ring_requests.clone(),
        summary,
        events,
    }
}

fn shift_time(e: &mut StoredEvent, t0: u64) {
    let t = e.t_mut();
    *t = t.saturating_sub(t0);
}

/// Rebuilds the in-memory outcome of a stored run: the same model code runs
/// on it as on a live run.
pub fn load_run(s: &StoredRun) -> Result<RunOutcome, String> {
    let facts = from_facts(&s.facts)?;
    let mut counts = Counts::new();
    for (name, v) in &s.counters {
        if let Some(c) = Counter::ALL.iter().find(|c| c.name() == name) {
            counts.set(*c, *v);
        }
    }
    for sc in &s.syscalls {
        // Names, not numbers, carry across architectures.
        let nr = crate::model::syscalls::number(&sc.name).unwrap_or(sc.nr);
        counts.syscalls.insert(
            nr,
            SyscallTotals {
                calls: sc.calls,
                bytes: sc.bytes,
            },
        );
    }
    counts.missed_runs = s.missed_runs.clone();
    counts.ring_requests = s.ring_requests.clone();
    if counts.ring_requests.is_empty() {
        // An older trace counted the two opcodes zc's rings then submitted.
        use zc_common::event::{IORING_OP_READ, IORING_OP_SEND_ZC};
        for (op, c) in [
            (IORING_OP_READ, Counter::IoReads),
            (IORING_OP_SEND_ZC, Counter::IoSendZc),
        ] {
            if counts.get(c) > 0 {
                counts.ring_requests.insert(op, counts.get(c));
            }
        }
    }
    // The trace reader checked the events are in time order.
    let events: Vec<Event> = s.events.iter().map(load_event).collect();
    let stats = TransferStats {
        elapsed_ns: s.elapsed_ns,
        sender_cpu_ns: s.sender_cpu_ns,
        receiver_cpu_ns: s.receiver_cpu_ns,
        softirq_ns: s.softirq_ns,
        received_bytes: s.received_bytes,
        received_ok: s.received_ok,
        bad_records: s.bad_records,
        resident_before: s.resident_before,
        stepped: s.stepped,
        short_calls: s.short_calls,
        // Stored by offset: the stream starts at 0.
        stream_start: s.stream_ranges.then_some(0),
        mapped_resident: s.mapped_resident.clone(),
    };
    Ok(RunOutcome::new(facts, counts, events, stats))
}

/// Counters by name, the non-zero ones only.
fn counters_by_name(c: &Counts) -> std::collections::BTreeMap<String, u64> {
    Counter::ALL
        .iter()
        .filter(|k| c.get(**k) != 0)
        .map(|k| (k.name().to_string(), c.get(*k)))
        .collect()
}

fn counts_from_names(m: &std::collections::BTreeMap<String, u64>) -> Counts {
    let mut counts = Counts::new();
    for (name, v) in m {
        if let Some(c) = Counter::ALL.iter().find(|c| c.name() == name) {
            counts.set(*c, *v);
        }
    }
    counts
}

/// A `zc trace` for the file: its samples (counters by name, syscalls by
/// name) and its reports as JSON. Nothing in it is a kernel address:
/// sockets are named by cookie and addresses, files by path or dev:inode.
pub fn store_tree(
    state: &TraceState,
    roots: &[u32],
    command: &[String],
    exit_code: Option<i32>,
) -> Result<zc_trace::TreeRun, serde_json::Error> {
    Ok(zc_trace::TreeRun {
        command: command.to_vec(),
        roots: roots.to_vec(),
        elapsed_ns: state.elapsed_ns(),
        exit_code,
        lost_events: 0,
        samples: state
            .samples
            .iter()
            .map(|s| zc_trace::TreeSample {
                t: s.t_ns,
                process: counters_by_name(&s.process),
                sockets: counters_by_name(&s.sockets),
                syscalls: s.process.syscalls_by_name(),
            })
            .collect(),
        reports: serde_json::to_value(&state.reports)?,
    })
}

/// A stored `zc trace` back as the view's state.
pub fn load_tree(t: &zc_trace::TreeRun) -> Result<TraceState, String> {
    let reports: Vec<TreeReport> =
        serde_json::from_value(t.reports.clone()).map_err(|e| format!("its reports: {e}"))?;
    let samples = t
        .samples
        .iter()
        .map(|s| {
            let mut process = counts_from_names(&s.process);
            for (name, calls) in &s.syscalls {
                if let Some(nr) = crate::model::syscalls::number(name) {
                    process.syscalls.insert(
                        nr,
                        SyscallTotals {
                            calls: *calls,
                            bytes: 0,
                        },
                    );
                }
            }
            Sample {
                t_ns: s.t,
                process,
                sockets: counts_from_names(&s.sockets),
            }
        })
        .collect();
    let title = if t.command.is_empty() {
        format!("pid {:?}", t.roots)
    } else {
        t.command.join(" ")
    };
    Ok(TraceState {
        title,
        samples,
        reports,
        ended: Some(match t.exit_code {
            Some(c) => format!("recorded; the command exited with {c}"),
            None => "recorded".into(),
        }),
        replay: true,
    })
}

/// A trace read back: its metadata and its runs, rebuilt for the model.
#[derive(Debug)]
pub struct Loaded {
    pub meta: zc_trace::Meta,
    pub runs: Vec<RunOutcome>,
    /// `zc trace` recordings.
    pub trees: Vec<TraceState>,
}

impl Loaded {
    /// The last run of `strategy` in the trace.
    pub fn outcome(&self, strategy: Strategy) -> Option<&RunOutcome> {
        self.runs
            .iter()
            .rev()
            .find(|r| r.facts.strategy == strategy)
    }
}

/// Reads a trace (validated by zc-trace) and rebuilds its runs.
pub fn load(bytes: &[u8]) -> Result<Loaded, zc_trace::TraceError> {
    let trace = Trace::parse(bytes)?;
    let runs = trace
        .runs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            load_run(r).map_err(|msg| zc_trace::TraceError::BadRun {
                run: i + 1,
                strategy: r.facts.strategy.clone(),
                msg,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let trees = trace
        .trees
        .iter()
        .enumerate()
        .map(|(i, t)| {
            load_tree(t).map_err(|msg| zc_trace::TraceError::BadTree { tree: i + 1, msg })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Loaded {
        runs,
        meta: trace.meta,
        trees,
    })
}

/// The trace of `runs`, with `meta`; `summary` gives each run the JSON
/// object its report printed (the caller's view, so this module does not
/// depend on the report).
pub fn trace_of(
    meta: zc_trace::Meta,
    runs: &[RunOutcome],
    summary: impl Fn(&RunOutcome) -> Result<serde_json::Value, serde_json::Error>,
) -> anyhow::Result<Trace> {
    let stored = runs
        .iter()
        .map(|r| Ok(store_run(r, summary(r)?)))
        .collect::<Result<Vec<_>, serde_json::Error>>()?;
    Ok(Trace {
        format: zc_trace::FORMAT.into(),
        version: zc_trace::VERSION,
        meta,
        runs: stored,
        trees: vec![],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_become_small_ids_and_round_trip() {
        let mut ids = Ids::default();
        let skb = Event::Skb(Box::new(SkbEvent {
            h: h(5, Kind::Skb, op::SKB_XMIT),
            skb: 0xffff_8880_1234_5678,
            payload: 100,
            ..Default::default()
        }));
        let stored = store_event(&skb, &mut ids);
        let json = serde_json::to_string(&stored).expect("json");
        assert!(
            !json.contains(&0xffff_8880_1234_5678u64.to_string()),
            "{json}"
        );
        let back = load_event(&serde_json::from_str(&json).expect("parse"));
        match back {
            Event::Skb(s) => {
                assert_eq!(s.skb, 1);
                assert_eq!(s.payload, 100);
            }
            other => panic!("{other:?}"),
        }
        // The same pointer keeps its id; another gets the next one.
        assert_eq!(ids.of(0xffff_8880_1234_5678), 1);
        assert_eq!(ids.of(0xffff_8880_0000_0001), 2);
    }

    /// A run whose receive copy the kernel skipped replays with the same
    /// skipped runs, by tracepoint, and the same ledger.
    #[test]
    fn skipped_probe_runs_survive_a_round_trip() {
        use crate::model::{Strategy, counts::Counts, facts::RunFacts, outcome::TransferStats};
        let strategy = Strategy::named("read-write").expect("in the table");
        let facts = RunFacts {
            strategy,
            size: 1 << 20,
            chunk: 64 << 10,
            cold: false,
            sender_sg: true,
            rate: None,
        };
        let mut c = Counts::new();
        c.set(Counter::RecvCopyBytes, (1 << 20) - 376);
        c.set(Counter::ReceiverReadBytes, 1 << 20);
        c.set(Counter::SkippedRecvCopyRuns, 1);
        c.missed_runs
            .insert("skb:skb_copy_datagram_iovec".into(), 1);
        let stats = TransferStats {
            received_bytes: 1 << 20,
            ..Default::default()
        };
        let live = RunOutcome::new(facts, c, vec![], stats);
        assert_eq!(live.figures.ledger.hops[3].skipped_bytes, 376);
        let json = serde_json::to_string(&store_run(&live, serde_json::Value::Null)).expect("json");
        let back = load_run(&serde_json::from_str(&json).expect("parse")).expect("loads");
        assert_eq!(back.counts.missed_runs, live.counts.missed_runs);
        assert_eq!(back.figures.ledger, live.figures.ledger);
    }

    /// A trace keeps each skb's place in the stream, as an offset from the
    /// stream's start (never the sequence number itself), and a failed
    /// retransmission stays failed: the replayed ranges are the live ones.
    #[test]
    fn stream_offsets_survive_without_the_sequence_numbers() {
        let start = 0xfff0_0000u32;
        let mut ids = Ids {
            stream_start: Some(start),
            ..Ids::default()
        };
        let at = |t, op, off: u32, reason| {
            Event::Skb(Box::new(SkbEvent {
                h: h(t, Kind::Skb, op),
                skb: 0xffff_8880_0000_1000 + t,
                payload: 1000,
                seq: start.wrapping_add(off),
                reason,
                ..Default::default()
            }))
        };
        let live = vec![
            at(1, op::SKB_QUEUE, 0, 0),
            at(2, op::SKB_LOST, 0, 0),
            at(3, op::SKB_QUEUE, 0, 0),
            at(4, op::SKB_RETRANSMIT, 0, 7),
            at(5, op::SKB_QUEUE, 0x10_0000, 0),
        ];
        let back: Vec<Event> = live
            .iter()
            .map(|e| {
                let json = serde_json::to_string(&store_event(e, &mut ids)).expect("json");
                assert!(!json.contains(&start.to_string()), "{json}");
                load_event(&serde_json::from_str(&json).expect("parse"))
            })
            .collect();
        let size = 0x10_0000 + 1000;
        let want = crate::model::stream::check(&live, size, start);
        assert_eq!(crate::model::stream::check(&back, size, 0), want);
        // Lost by the first attempt, then sent again by a retransmission.
        assert_eq!(want.dropped_lost_bytes, 1000, "{want:?}");
        assert_eq!(want.retransmitted_bytes, 1000, "{want:?}");
    }
    /// A page sent through tcp_sendpage stays one after a round trip, and
    /// a send through tcp_sendmsg_locked writes no `sendpage` at all.
    #[test]
    fn the_send_function_survives_a_round_trip() {
        for (op, written) in [(op::SEND_TCP_SENDPAGE, true), (op::SEND_TCP_SENDMSG, false)] {
            let mut ids = Ids::default();
            let send = Event::Send(SendEvent {
                h: h(3, Kind::Send, op),
                msg_left: 4096,
                splice: 1,
                source: zc_common::event::source::SPLICE,
                ..Default::default()
            });
            let json = serde_json::to_string(&store_event(&send, &mut ids)).expect("json");
            assert_eq!(json.contains("sendpage"), written, "{json}");
            match load_event(&serde_json::from_str(&json).expect("parse")) {
                Event::Send(e) => assert_eq!(e.h.op, op),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn addresses_are_dropped() {
        let mut ids = Ids::default();
        let mmap_ret = Event::Syscall(SyscallEvent {
            h: h(1, Kind::Syscall, op::SYS_EXIT),
            nr: 9,
            args: [0; 3],
            ret: 0x7f12_3456_7000,
        });
        assert_eq!(
            store_event(&mmap_ret, &mut ids),
            StoredEvent::SysExit {
                t: 1,
                nr: 9,
                ret: 0,
                new_mapping: true,
            }
        );
    }

    /// A write into the file mapping keeps its offset, not its address,
    /// and finds the same page of the file after a round trip.
    #[test]
    fn mapping_offsets_survive_without_the_address() {
        let mut ids = Ids::default();
        let base = 0x7f12_3456_0000u64;
        let mmap_ret = Event::Syscall(SyscallEvent {
            h: h(1, Kind::Syscall, op::SYS_EXIT),
            nr: crate::model::syscalls::number("mmap").expect("known"),
            args: [0; 3],
            ret: base as i64,
        });
        let write = Event::Syscall(SyscallEvent {
            h: h(2, Kind::Syscall, op::SYS_ENTER),
            nr: crate::model::syscalls::number("write").expect("known"),
            args: [5, base + 17 * 4096, 4096],
            ret: 0,
        });
        let stored = [
            store_event(&mmap_ret, &mut ids),
            store_event(&write, &mut ids),
        ];
        let json = serde_json::to_string(&stored).expect("serializes");
        assert!(!json.contains(&base.to_string()), "{json}");
        assert!(json.contains("\"map_offset\":69632"), "{json}");
        let Event::Syscall(back) = load_event(&stored[1]) else {
            panic!("a syscall")
        };
        let Event::Syscall(mapped) = load_event(&stored[0]) else {
            panic!("a syscall")
        };
        assert_eq!(back.args[1] - mapped.ret as u64, 17 * 4096);
    }

    /// The bundled fixture holds no number that looks like an address.
    #[test]
    fn fixture_has_no_kernel_addresses() {
        fn walk(v: &serde_json::Value, max: &mut u64) {
            match v {
                serde_json::Value::Number(n) => *max = (*max).max(n.as_u64().unwrap_or(0)),
                serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, max)),
                serde_json::Value::Object(o) => o.values().for_each(|x| walk(x, max)),
                _ => {}
            }
        }
        let v: serde_json::Value =
            serde_json::from_str(include_str!("../tests/fixtures/demo-1mib.json"))
                .expect("fixture is JSON");
        let mut max = 0;
        walk(&v, &mut max);
        assert!(max < 1 << 40, "a value of {max:#x} looks like an address");
    }
}

/// The metadata of a trace made now by this process.
pub fn meta(
    ctx: &Context,
    probes: &[crate::kernel::probes::ProbeStatus],
    size: u64,
    chunk: u64,
    cold: bool,
) -> zc_trace::Meta {
    use crate::kernel::probes::ProbeState;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    zc_trace::Meta {
        zc_version: env!("CARGO_PKG_VERSION").into(),
        created: rfc3339_utc(now),
        command_line: std::env::args().collect(),
        kernel: ctx.kernel.clone(),
        arch: std::env::consts::ARCH.into(),
        clock: "CLOCK_MONOTONIC (bpf_ktime_get_ns), nanoseconds since each run's first event"
            .into(),
        file: ctx.file.clone(),
        size_bytes: size,
        chunk_bytes: chunk,
        cold,
        probes: probes
            .iter()
            .map(|p| {
                let (state, reason) = match &p.state {
                    ProbeState::Attached => ("attached", String::new()),
                    ProbeState::Missing(r) => ("missing", r.clone()),
                    ProbeState::Refused(r) => ("refused", r.clone()),
                    ProbeState::Untried(r) => ("not tried", r.clone()),
                };
                zc_trace::Probe {
                    tracepoint: p.spec.attach.target(),
                    kind: p.source().kind().into(),
                    required: p.spec.required,
                    state: state.into(),
                    reason,
                    source: p
                        .substitute()
                        .and_then(|s| s.split_once(" from ").map(|(_, from)| from.to_string()))
                        .unwrap_or_default(),
                }
            })
            .collect(),
    }
}

/// Seconds since the epoch as an RFC 3339 UTC time (civil-from-days).
pub fn rfc3339_utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod time_tests {
    #[test]
    fn rfc3339() {
        assert_eq!(super::rfc3339_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(super::rfc3339_utc(1_795_631_103), "2026-11-25T18:25:03Z");
    }
}
