//! Recorded runs: a run's facts, exact counters and event stream as JSON, so
//! a run can be viewed again without root or eBPF.
//!
//! Kernel addresses never leave the machine: skb pointers become small ids
//! in order of first appearance, fault addresses and instruction pointers are
//! dropped, and syscall arguments keep only descriptors and sizes.

use std::collections::{BTreeMap, HashMap};

use anyhow::{Context as _, bail};
use serde::{Deserialize, Serialize};
use zc_common::{counters::Counter, event::*};

use crate::{
    decode::Event,
    demo::run::RunOutcome,
    model::{
        Strategy,
        classify::{RunFacts, classify},
        counts::{Counts, SyscallTotals},
        steps::StepBuilder,
    },
};

/// Format name and version written in every file.
pub const FORMAT: &str = "zc-trace";
pub const VERSION: u32 = 1;

/// One event, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
pub enum StoredEvent {
    SysEnter {
        t: u64,
        nr: u64,
        fd: u64,
        count: u64,
    },
    SysExit {
        t: u64,
        nr: u64,
        ret: i64,
    },
    SchedOut {
        t: u64,
        blocked: bool,
    },
    SchedIn {
        t: u64,
    },
    Fault {
        t: u64,
        kernel: bool,
    },
    Filemap {
        t: u64,
        op: u16,
        index: u64,
        last_index: u64,
        order: u32,
    },
    Block {
        t: u64,
        issue: bool,
        sector: u64,
        nr_sector: u32,
        bytes: u32,
    },
    TcpSendmsg {
        t: u64,
        skb: u64,
        skb_len: u32,
        msg_left: u32,
        size_goal: u32,
        iter_type: u8,
        splice: bool,
        source: u8,
    },
    SockSend {
        t: u64,
        ret: i64,
        source: u8,
    },
    Skb {
        t: u64,
        queue: bool,
        skb: u64,
        len: u32,
        data_len: u32,
        payload: u32,
        linear_payload: u32,
        file_bytes: u32,
        first_file_index: u32,
        gso_size: u16,
        gso_segs: u16,
        nr_frags: u8,
        file_frags: u8,
        shinfo_flags: u8,
    },
    Recv {
        t: u64,
        skb: u64,
        len: u32,
    },
    Dma {
        t: u64,
        sg: bool,
        size: u64,
    },
}

/// One recorded run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoredRun {
    pub facts: RunFacts,
    /// Counter name → exact total.
    pub counters: BTreeMap<String, u64>,
    /// Syscall number → (name, calls, bytes), for the architecture recorded on.
    pub syscalls: Vec<StoredSyscall>,
    pub elapsed_ns: u64,
    pub sender_cpu_ns: u64,
    pub received_bytes: u64,
    pub received_ok: bool,
    pub lost_events: u64,
    pub bad_records: u64,
    pub resident_before: u64,
    pub events: Vec<StoredEvent>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoredSyscall {
    pub nr: u64,
    pub name: String,
    pub calls: u64,
    pub bytes: u64,
}

/// A file of recorded runs.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Recording {
    pub format: String,
    pub version: u32,
    pub kernel: String,
    pub zc_version: String,
    pub runs: Vec<StoredRun>,
}

/// Gives each distinct kernel pointer a small id, in order of first use.
#[derive(Default)]
struct Ids(HashMap<u64, u64>);

impl Ids {
    fn of(&mut self, ptr: u64) -> u64 {
        if ptr == 0 {
            return 0;
        }
        let next = self.0.len() as u64 + 1;
        *self.0.entry(ptr).or_insert(next)
    }
}

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
        },
        Event::Syscall(s) => StoredEvent::SysExit {
            t,
            nr: s.nr,
            ret: if s.ret > ADDRESS_LIKE { 0 } else { s.ret },
        },
        Event::Sched(s) if s.h.op == op::SCHED_OUT => StoredEvent::SchedOut {
            t,
            blocked: s.prev_state != 0,
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
        Event::Send(s) if s.h.op == op::SEND_TCP_SENDMSG => StoredEvent::TcpSendmsg {
            t,
            skb: ids.of(s.skb),
            skb_len: s.skb_len,
            msg_left: s.msg_left,
            size_goal: s.size_goal,
            iter_type: s.iter_type,
            splice: s.splice != 0,
            source: s.source,
        },
        Event::Send(s) => StoredEvent::SockSend {
            t,
            ret: s.ret,
            source: s.source,
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
        StoredEvent::SysEnter { t, nr, fd, count } => Event::Syscall(SyscallEvent {
            h: h(t, Kind::Syscall, op::SYS_ENTER),
            nr,
            args: [fd, 0, count],
            ret: 0,
        }),
        StoredEvent::SysExit { t, nr, ret } => Event::Syscall(SyscallEvent {
            h: h(t, Kind::Syscall, op::SYS_EXIT),
            nr,
            args: [0; 3],
            ret,
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
        } => Event::Send(SendEvent {
            h: h(t, Kind::Send, op::SEND_TCP_SENDMSG),
            skb,
            ret: 0,
            skb_len,
            msg_left,
            size_goal,
            iter_type,
            splice: splice as u8,
            source,
            _pad: 0,
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
        } => Event::Skb(SkbEvent {
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
            _pad: 0,
        }),
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
    }
}

/// A run as stored: pointers replaced by ids, times relative to the first event.
pub fn store_run(o: &RunOutcome) -> StoredRun {
    let mut ids = Ids::default();
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
        facts: o.facts,
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
        received_bytes: o.received_bytes,
        received_ok: o.received_ok,
        lost_events: o.lost_events,
        bad_records: o.bad_records,
        resident_before: o.resident_before,
        events,
    }
}

fn shift_time(e: &mut StoredEvent, t0: u64) {
    let t = match e {
        StoredEvent::SysEnter { t, .. }
        | StoredEvent::SysExit { t, .. }
        | StoredEvent::SchedOut { t, .. }
        | StoredEvent::SchedIn { t }
        | StoredEvent::Fault { t, .. }
        | StoredEvent::Filemap { t, .. }
        | StoredEvent::Block { t, .. }
        | StoredEvent::TcpSendmsg { t, .. }
        | StoredEvent::SockSend { t, .. }
        | StoredEvent::Skb { t, .. }
        | StoredEvent::Recv { t, .. }
        | StoredEvent::Dma { t, .. } => t,
    };
    *t = t.saturating_sub(t0);
}

/// Rebuilds the in-memory outcome of a stored run: the same model code runs
/// on it as on a live run.
pub fn load_run(s: &StoredRun) -> anyhow::Result<RunOutcome> {
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
    let mut events: Vec<Event> = s.events.iter().map(load_event).collect();
    if events.windows(2).any(|w| w[0].ts_ns() > w[1].ts_ns()) {
        bail!("events are not in time order");
    }
    events.sort_by_key(|e| e.ts_ns());
    let mut steps = StepBuilder::new(s.facts.strategy);
    for e in &events {
        steps.push(e);
    }
    Ok(RunOutcome {
        facts: s.facts,
        figures: classify(&counts, &s.facts),
        counts,
        tally: steps.tally(),
        events,
        elapsed_ns: s.elapsed_ns,
        sender_cpu_ns: s.sender_cpu_ns,
        received_bytes: s.received_bytes,
        received_ok: s.received_ok,
        lost_events: s.lost_events,
        bad_records: s.bad_records,
        resident_before: s.resident_before,
    })
}

impl Recording {
    pub fn new(kernel: String, runs: &[RunOutcome]) -> Recording {
        Recording {
            format: FORMAT.into(),
            version: VERSION,
            kernel,
            zc_version: env!("CARGO_PKG_VERSION").into(),
            runs: runs.iter().map(store_run).collect(),
        }
    }

    /// Parses a recording, refusing other formats and newer versions.
    pub fn parse(text: &str) -> anyhow::Result<Recording> {
        let r: Recording =
            serde_json::from_str(text).context("not a zc recording (JSON parse failed)")?;
        if r.format != FORMAT {
            bail!("not a zc recording (format {:?})", r.format);
        }
        if r.version > VERSION {
            bail!(
                "recording version {} is newer than this zc understands ({VERSION})",
                r.version
            );
        }
        Ok(r)
    }

    /// The run of `strategy`, rebuilt.
    pub fn outcome(&self, strategy: Strategy) -> Option<anyhow::Result<RunOutcome>> {
        self.runs
            .iter()
            .find(|r| r.facts.strategy == strategy)
            .map(load_run)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_become_small_ids_and_round_trip() {
        let mut ids = Ids::default();
        let skb = Event::Skb(SkbEvent {
            h: h(5, Kind::Skb, op::SKB_XMIT),
            skb: 0xffff_8880_1234_5678,
            payload: 100,
            ..Default::default()
        });
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
                ret: 0
            }
        );
    }

    #[test]
    fn refuses_other_formats_and_newer_versions() {
        assert!(Recording::parse("{}").is_err());
        assert!(Recording::parse("not json").is_err());
        let newer = format!(
            r#"{{"format":"zc-trace","version":{},"kernel":"x","zc_version":"0","runs":[]}}"#,
            VERSION + 1
        );
        let e = Recording::parse(&newer).expect_err("newer");
        assert!(e.to_string().contains("newer"), "{e}");
    }
}
