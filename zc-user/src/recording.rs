//! Recorded runs: a run's facts, exact counters and event stream as JSON, so
//! a run can be viewed again without root or eBPF.
//!
//! Kernel addresses never leave the machine: the events are stored as the
//! decoder made them (`decode::Decoder`: skb pointers are small ids, fault
//! addresses dropped, syscall arguments only descriptors and sizes), and a
//! syscall total that holds an address is stored as 0.

use zc_common::counters::Counter;

use crate::model::{
    Strategy,
    context::Context,
    counts::{Counts, SyscallTotals},
    facts::RunFacts,
    outcome::{RunOutcome, TransferStats},
    tree::{Sample, TraceState, TreeReport},
};

use zc_trace::{Facts as StoredFacts, Run as StoredRun, Syscall as StoredSyscall, Trace};

fn to_facts(f: &RunFacts) -> StoredFacts {
    StoredFacts {
        strategy: f.strategy.name().into(),
        size: f.size,
        chunk: f.chunk,
        cold: f.cold,
        sender_sg: f.sender_sg,
        rate: f.rate,
        nic: f.nic,
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
        nic: f.nic,
    })
}

/// A run as stored: its events as the decoder made them (no kernel address
/// in them), times relative to the first event, with the report's summary
/// of it.
pub fn store_run(o: &RunOutcome, summary: serde_json::Value) -> StoredRun {
    let t0 = o.events.first().map_or(0, |e| e.t());
    let events = o
        .events
        .iter()
        .map(|e| {
            let mut e = e.clone();
            let t = e.t_mut();
            *t = t.saturating_sub(t0);
            e
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
                name: crate::model::syscalls::name(*nr).into_owned(),
                calls: t.calls,
                // A total that holds an address (mmap's return) is no count.
                bytes: crate::decode::scrub(t.bytes),
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
        stream_ranges: o.stream_ranges,
        mapped_resident: o.mapped_resident.clone(),
        missed_runs: o.counts.missed_runs.clone(),
        ring_requests: o.counts.ring_requests.clone(),
        summary,
        events,
    }
}

/// Rebuilds the in-memory outcome of a stored run: the same model code runs
/// on it as on a live run. Takes the run, so that its events move into the
/// outcome rather than being copied beside it (a large trace's events are
/// most of its memory).
pub fn load_run(mut s: StoredRun) -> Result<RunOutcome, String> {
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
    let events = std::mem::take(&mut s.events);
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
        stream_ranges: s.stream_ranges,
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
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let strategy = r.facts.strategy.clone();
            load_run(r).map_err(|msg| zc_trace::TraceError::BadRun {
                run: i + 1,
                strategy,
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
            nic: false,
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
        let back = load_run(serde_json::from_str(&json).expect("parse")).expect("loads");
        assert_eq!(back.counts.missed_runs, live.counts.missed_runs);
        assert_eq!(back.figures.ledger, live.figures.ledger);
    }

    /// A run's events are stored as they are and load as they were: the
    /// trace's event type is the model's, so nothing maps between them
    /// (times count from the run's first event).
    #[test]
    fn events_are_stored_as_they_are() {
        let rec = load(include_bytes!("../tests/fixtures/demo-1mib.json")).expect("fixture parses");
        for o in &rec.runs {
            let stored = store_run(o, serde_json::Value::Null);
            let json = serde_json::to_string(&stored).expect("json");
            let back = load_run(serde_json::from_str(&json).expect("parse")).expect("loads");
            assert_eq!(back.events, o.events, "{:?}", o.facts.strategy);
            assert_eq!(back.figures, o.figures);
            assert_eq!(back.steps, o.steps);
        }
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
        link: ctx.link.clone(),
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
