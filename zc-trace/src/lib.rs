//! zc's trace file: the runs of one `zc demo`, with their metadata, exact
//! counters, measured summary and event stream, as versioned JSON.
//!
//! This crate holds the format alone (types, reading with validation,
//! writing), with no kernel or terminal code, so the reader can be fuzzed
//! and documented on its own (docs/trace-format.md). It never holds a kernel
//! address. Its [`Event`] is also the type zc's model reads: zc's decoder
//! makes one from each kernel record, with pointers already small ids, and
//! a trace stores the model's input as it is.

use serde::{Deserialize, Serialize};

/// The `format` field of every trace.
pub const FORMAT: &str = "zc-trace";
/// The version this build writes and the newest it reads.
pub const VERSION: u32 = 7;
/// Largest trace the reader accepts.
pub const MAX_BYTES: usize = 512 << 20;

/// A trace file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    pub format: String,
    pub version: u32,
    pub meta: Meta,
    pub runs: Vec<Run>,
    /// `zc trace` recordings: programs zc did not write (version 4).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trees: Vec<TreeRun>,
}

/// One `zc trace`: the followed command or pids, the tree totals over time
/// (for the rates) and the final report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TreeRun {
    /// The command zc started, or empty when it followed running pids.
    pub command: Vec<String>,
    /// The pids each tree grew from.
    pub roots: Vec<u32>,
    pub elapsed_ns: u64,
    /// The command's exit code, when zc started it and it exited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    pub lost_events: u64,
    /// The whole tree's counters, sampled while it ran.
    pub samples: Vec<TreeSample>,
    /// `zc trace --json`'s objects, one per tree, in an array.
    pub reports: serde_json::Value,
}

/// The tree's totals at one moment: counters counted in its processes, in
/// its sockets (the device path), and its syscalls by name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeSample {
    /// Nanoseconds since the trace started.
    pub t: u64,
    pub process: std::collections::BTreeMap<String, u64>,
    pub sockets: std::collections::BTreeMap<String, u64>,
    pub syscalls: std::collections::BTreeMap<String, u64>,
}

/// Where and how the runs were made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    pub zc_version: String,
    /// UTC, RFC 3339.
    pub created: String,
    pub command_line: Vec<String>,
    pub kernel: String,
    pub arch: String,
    /// What event times mean.
    pub clock: String,
    pub file: String,
    pub size_bytes: u64,
    pub chunk_bytes: u64,
    pub cold: bool,
    pub probes: Vec<Probe>,
    /// What joined sender and receiver: zc's veth pair, or the two NICs
    /// borrowed with their drivers. Empty in older traces (the veth).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub link: String,
}

/// One probe's state when the runs were made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Probe {
    pub tracepoint: String,
    pub kind: String,
    pub required: bool,
    pub state: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// Where the probe's evidence came from when not from `tracepoint`
    /// itself (`fentry tcp_sendmsg_locked(): ...`); empty when it did.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
}

/// What a run was asked to do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facts {
    /// The strategy's stable name (`read-write`, `sendfile`, ...). The
    /// format does not list the strategies: a newer zc adds one without a
    /// new trace version, and a reader refuses a name it does not know.
    pub strategy: String,
    pub size: u64,
    pub chunk: u64,
    pub cold: bool,
    pub sender_sg: bool,
    /// The bottleneck on the sending veth, bytes per second, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<u64>,
    /// Sent over two borrowed NICs (`zc demo --nic`) instead of the veth.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub nic: bool,
}

/// One recorded run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub facts: Facts,
    /// Counter name → exact in-kernel total.
    pub counters: std::collections::BTreeMap<String, u64>,
    pub syscalls: Vec<Syscall>,
    pub elapsed_ns: u64,
    pub sender_cpu_ns: u64,
    /// CPU of the receiver thread, and softirq time on every CPU, during
    /// the transfer (absent in older traces).
    #[serde(default)]
    pub receiver_cpu_ns: u64,
    #[serde(default)]
    pub softirq_ns: u64,
    pub received_bytes: u64,
    pub received_ok: bool,
    pub lost_events: u64,
    pub bad_records: u64,
    pub resident_before: u64,
    /// Stepped by hand (`zc demo --step`): its times include the waits
    /// between steps. Absent when false.
    #[serde(default, skip_serializing_if = "is_false")]
    pub stepped: bool,
    /// Calls the sender's loop made again after one moved less than it
    /// asked (or was interrupted). Absent when 0, and in older traces.
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub short_calls: u64,
    /// The skbs carry `at`, their first byte's offset in the TCP stream
    /// (the stream's start was seen). Absent when false, and in older traces.
    #[serde(default, skip_serializing_if = "is_false")]
    pub stream_ranges: bool,
    /// The file pages the sender's mapping of the file held as its loop
    /// ended (its page tables, `/proc/self/pagemap`), as `[start, end)`
    /// ranges of page indices. Absent when the loop mapped nothing, and in
    /// older traces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapped_resident: Option<Vec<(u32, u32)>>,
    /// Probe runs the kernel skipped during the run, by tracepoint
    /// (`raw_syscalls:sys_exit`). Absent when none was, and in older traces.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub missed_runs: std::collections::BTreeMap<String, u64>,
    /// io_uring opcode → the demo ring's requests of it that completed
    /// without error. Absent when there were none, and in older traces
    /// (whose counters hold READs and SEND_ZCs only).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub ring_requests: std::collections::BTreeMap<u8, u64>,
    /// The report's JSON object for this run, as `zc demo --json` printed it.
    #[serde(default)]
    pub summary: serde_json::Value,
    pub events: Vec<Event>,
}

/// Syscall totals of a run, by name (numbers differ between architectures).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Syscall {
    pub nr: u64,
    pub name: String,
    pub calls: u64,
    pub bytes: u64,
}

/// Whose DMA engine a map was made for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DmaEngine {
    /// A NIC's, to read a packet onto the wire.
    Nic,
    /// A disk's, to write a file's page-cache page.
    Disk,
}

/// What the first page of a DMA map is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DmaPage {
    /// A page-cache page of the demo file.
    File,
    /// A program's own anonymous page.
    User,
    /// The kernel's own memory (a socket buffer's page, an skb's head).
    Kernel,
    /// Not named: the kernel did not say where its page array is.
    Unnamed,
}

/// One event. `t` is nanoseconds since the run's first event (in memory,
/// before a run is stored, the kernel's monotonic clock); `skb` is a small
/// id standing for a kernel pointer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
pub enum Event {
    SysEnter {
        t: u64,
        nr: u64,
        fd: u64,
        count: u64,
        /// Where the call's buffer lies in the file mapping the run made,
        /// in bytes from its start (an mmap'ed file's write), when it does.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        map_offset: Option<u64>,
    },
    SysExit {
        t: u64,
        nr: u64,
        ret: i64,
        /// The call returned the address of a new mapping (mmap); the
        /// address itself is not stored.
        #[serde(default, skip_serializing_if = "is_false")]
        new_mapping: bool,
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
        /// Seen at `tcp_sendpage` (a page of a sendfile or a splice, before
        /// 6.5), not at `tcp_sendmsg_locked`.
        #[serde(default, skip_serializing_if = "is_false")]
        sendpage: bool,
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
        /// Bytes and frags in a program's own anonymous pages (vmsplice,
        /// zero-copy sends); absent in traces written before they were seen.
        #[serde(default, skip_serializing_if = "is_zero")]
        user_bytes: u32,
        #[serde(default, skip_serializing_if = "is_zero_u8")]
        user_frags: u8,
        /// `[frag, page]` for each frag whose page is a page of the demo
        /// file: frag `frag` of this skb *is* page `page` of the file.
        /// Absent in traces written before zc named each frag's page.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        frag_pages: Vec<[u32; 2]>,
        /// The first payload byte's offset in the TCP stream (see
        /// `Run::stream_ranges`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<u32>,
        /// How many skbs at the device the kernel folded into this one
        /// record in a large run (version 7; absent: 1). Its lengths are
        /// their sums, `at` the first one's, `t` the last one's, and it
        /// names no page.
        #[serde(default = "one", skip_serializing_if = "is_one")]
        skbs: u32,
    },
    /// A demo-socket skb dropped (`skb:kfree_skb`), with the kernel's
    /// reason; `lost` when TCP did not hear of it and had to retransmit.
    Drop {
        t: u64,
        skb: u64,
        payload: u32,
        reason: u32,
        #[serde(default)]
        lost: bool,
        /// The first byte's offset in the TCP stream (see `Run::stream_ranges`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<u32>,
    },
    /// A retransmission (`tcp:tcp_retransmit_skb`) of `payload` bytes;
    /// `failed` when the attempt returned an error (TCP counted it all the same).
    Retransmit {
        t: u64,
        skb: u64,
        payload: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<u32>,
        #[serde(default, skip_serializing_if = "is_false")]
        failed: bool,
    },
    /// The receiver's copy of `len` bytes out of socket buffers; `copies`
    /// copies folded into one by the kernel in a large run (version 6;
    /// absent: one), whose `skb` is then 0 and `t` the first one's time.
    Recv {
        t: u64,
        skb: u64,
        len: u32,
        #[serde(default = "one", skip_serializing_if = "is_one")]
        copies: u32,
    },
    /// A device's engine told to move bytes (`dma:dma_map_phys`): a NIC's
    /// transmit map of a followed skb, or a disk's map into a page of the
    /// demo file.
    Dma {
        t: u64,
        engine: DmaEngine,
        size: u64,
        page: DmaPage,
        /// The demo file's pages the map covers, first and last, for a
        /// file page.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file_pages: Option<[u32; 2]>,
    },
    /// The veth handed a demo skb holding user pages to its peer
    /// (`net:netif_rx`): bytes still the user's pages, bytes copied on the
    /// way (version 3).
    Forward {
        t: u64,
        skb: u64,
        payload: u32,
        user_bytes: u32,
        copied_bytes: u32,
        shinfo_flags: u8,
    },
    /// A zero-copy completion the sender read from its error queue: sends
    /// `lo..=hi`, and `copied` when the kernel copied them after all
    /// (version 3).
    Completion {
        t: u64,
        lo: u32,
        hi: u32,
        bytes: u64,
        copied: bool,
    },
    /// A request on the sender's io_uring, submitted (`res` 0) or completed
    /// (version 3); `helper` when one of the sender's kernel threads (the SQ
    /// thread, an io-wq worker) did it rather than the sender.
    Ring {
        t: u64,
        complete: bool,
        user_data: u64,
        res: i32,
        cflags: u32,
        opcode: u8,
        sq_thread: bool,
        helper: bool,
    },
    /// A kernel thread the sender started, by name (version 3).
    Thread {
        t: u64,
        name: String,
    },
}

/// Binds the time field of whichever kind `$event` is, as `$t`.
macro_rules! with_time {
    ($event:expr, $t:ident => $body:expr) => {
        match $event {
            Event::SysEnter { $t, .. }
            | Event::SysExit { $t, .. }
            | Event::SchedOut { $t, .. }
            | Event::SchedIn { $t }
            | Event::Fault { $t, .. }
            | Event::Filemap { $t, .. }
            | Event::Block { $t, .. }
            | Event::TcpSendmsg { $t, .. }
            | Event::SockSend { $t, .. }
            | Event::Skb { $t, .. }
            | Event::Drop { $t, .. }
            | Event::Retransmit { $t, .. }
            | Event::Recv { $t, .. }
            | Event::Dma { $t, .. }
            | Event::Forward { $t, .. }
            | Event::Completion { $t, .. }
            | Event::Ring { $t, .. }
            | Event::Thread { $t, .. } => $body,
        }
    };
}

impl Event {
    pub fn t(&self) -> u64 {
        with_time!(self, t => *t)
    }

    /// The event's time, to shift it.
    pub fn t_mut(&mut self) -> &mut u64 {
        with_time!(self, t => t)
    }
}

/// Why a trace was refused. Each says what is wrong and where, in one line.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is {0} bytes, more than the {MAX_BYTES} a trace may have")]
    TooLarge(usize),
    #[error("not a zc trace: {0}")]
    NotATrace(String),
    #[error("truncated: the JSON ends early (line {line}, column {column})")]
    Truncated { line: usize, column: usize },
    #[error("corrupt at line {line}, column {column}: {msg}")]
    Corrupt {
        line: usize,
        column: usize,
        msg: String,
    },
    #[error("written by a newer zc (trace version {found}; this zc reads up to {VERSION})")]
    Newer { found: u32 },
    #[error("run {run} ({strategy}): {msg}")]
    BadRun {
        run: usize,
        strategy: String,
        msg: String,
    },
    #[error("the trace holds no run")]
    NoRuns,
    #[error("zc trace recording {tree}: {msg}")]
    BadTree { tree: usize, msg: String },
}

impl Trace {
    /// Reads and validates a trace from bytes.
    pub fn parse(bytes: &[u8]) -> Result<Trace, TraceError> {
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return Err(TraceError::Empty);
        }
        if bytes.len() > MAX_BYTES {
            return Err(TraceError::TooLarge(bytes.len()));
        }
        // First only the envelope, so a newer version is named as such
        // rather than as a parse error in a field this zc does not know.
        #[derive(Deserialize)]
        struct Envelope {
            format: Option<String>,
            version: Option<u32>,
        }
        let env: Envelope = serde_json::from_slice(bytes).map_err(|e| json_error(&e, true))?;
        match env.format.as_deref() {
            Some(FORMAT) => {}
            Some(other) => return Err(TraceError::NotATrace(format!("its format is {other:?}"))),
            None => {
                return Err(TraceError::NotATrace(
                    "no \"format\": \"zc-trace\" field".into(),
                ));
            }
        }
        let version = env
            .version
            .ok_or_else(|| TraceError::NotATrace("no version field".into()))?;
        if version > VERSION {
            return Err(TraceError::Newer { found: version });
        }
        let trace: Trace = serde_json::from_slice(bytes).map_err(|e| json_error(&e, false))?;
        trace.validate()?;
        Ok(trace)
    }

    /// Checks what JSON cannot: runs present, sizes sane, times ordered.
    pub fn validate(&self) -> Result<(), TraceError> {
        if self.runs.is_empty() && self.trees.is_empty() {
            return Err(TraceError::NoRuns);
        }
        for (i, t) in self.trees.iter().enumerate() {
            if let Some(w) = t.samples.windows(2).position(|w| w[0].t > w[1].t) {
                return Err(TraceError::BadTree {
                    tree: i + 1,
                    msg: format!("sample {} is earlier than the one before it", w + 2),
                });
            }
            if !t.reports.is_array() {
                return Err(TraceError::BadTree {
                    tree: i + 1,
                    msg: "its reports are not an array".into(),
                });
            }
        }
        for (i, r) in self.runs.iter().enumerate() {
            let bad = |msg: String| TraceError::BadRun {
                run: i + 1,
                strategy: r.facts.strategy.clone(),
                msg,
            };
            if r.facts.strategy.is_empty() {
                return Err(bad("the strategy has no name".into()));
            }
            if r.facts.size == 0 || r.facts.chunk == 0 {
                return Err(bad("size and chunk must be at least 1 byte".into()));
            }
            if let Some(w) = r.events.windows(2).position(|w| w[0].t() > w[1].t()) {
                return Err(bad(format!(
                    "event {} is earlier than the one before it",
                    w + 2
                )));
            }
        }
        Ok(())
    }

    /// The trace as JSON bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(self)
    }
}

fn json_error(e: &serde_json::Error, envelope: bool) -> TraceError {
    use serde_json::error::Category;
    match e.classify() {
        Category::Eof => TraceError::Truncated {
            line: e.line(),
            column: e.column(),
        },
        Category::Syntax if envelope && e.line() == 1 && e.column() <= 1 => {
            TraceError::NotATrace("it is not JSON".into())
        }
        _ => TraceError::Corrupt {
            line: e.line(),
            column: e.column(),
            msg: e
                .to_string()
                .split(" at line")
                .next()
                .unwrap_or("")
                .to_string(),
        },
    }
}

fn is_zero_u64(v: &u64) -> bool {
    *v == 0
}

fn is_false(v: &bool) -> bool {
    !*v
}

fn one() -> u32 {
    1
}

fn is_one(v: &u32) -> bool {
    *v == 1
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

fn is_zero_u8(v: &u8) -> bool {
    *v == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Trace {
        Trace {
            format: FORMAT.into(),
            version: VERSION,
            meta: Meta {
                zc_version: "0.1.0".into(),
                created: "2026-11-25T18:00:00Z".into(),
                command_line: vec!["zc".into(), "demo".into()],
                kernel: "6.18.44".into(),
                arch: "x86_64".into(),
                clock: "CLOCK_MONOTONIC".into(),
                file: "generated".into(),
                size_bytes: 4096,
                chunk_bytes: 4096,
                cold: false,
                probes: vec![],
                link: String::new(),
            },
            runs: vec![Run {
                facts: Facts {
                    strategy: "read-write".into(),
                    size: 4096,
                    chunk: 4096,
                    cold: false,
                    sender_sg: true,
                    rate: None,
                    nic: false,
                },
                counters: Default::default(),
                syscalls: vec![],
                elapsed_ns: 1,
                sender_cpu_ns: 1,
                receiver_cpu_ns: 0,
                softirq_ns: 0,
                received_bytes: 4096,
                received_ok: true,
                lost_events: 0,
                bad_records: 0,
                resident_before: 4096,
                stepped: false,
                short_calls: 0,
                stream_ranges: false,
                mapped_resident: None,
                missed_runs: Default::default(),
                ring_requests: Default::default(),
                summary: serde_json::Value::Null,
                events: vec![
                    Event::SysEnter {
                        t: 0,
                        nr: 0,
                        fd: 3,
                        count: 4096,
                        map_offset: None,
                    },
                    Event::SysExit {
                        t: 10,
                        nr: 0,
                        ret: 4096,
                        new_mapping: false,
                    },
                ],
            }],
            trees: vec![],
        }
    }

    #[test]
    fn round_trip() {
        let t = tiny();
        let bytes = t.to_bytes().expect("serialise");
        assert_eq!(Trace::parse(&bytes).expect("parse"), t);
    }

    /// A receive copy is written without `copies` when it is one, so the
    /// files of unfolded runs read as before; a fold keeps its count.
    #[test]
    fn a_folded_receive_keeps_its_count_and_a_single_one_reads_as_one() {
        let mut t = tiny();
        t.runs[0].events.extend([
            Event::Recv {
                t: 20,
                skb: 1,
                len: 1448,
                copies: 1,
            },
            Event::Recv {
                t: 30,
                skb: 0,
                len: 4096 * 1448,
                copies: 4096,
            },
        ]);
        let text = String::from_utf8(t.to_bytes().expect("bytes")).expect("utf-8");
        assert_eq!(text.matches("\"copies\"").count(), 1, "{text}");
        assert_eq!(Trace::parse(text.as_bytes()).expect("parse"), t);
        let old = r#"{"k":"recv","t":5,"skb":2,"len":100}"#;
        assert_eq!(
            serde_json::from_str::<Event>(old).expect("an older receive"),
            Event::Recv {
                t: 5,
                skb: 2,
                len: 100,
                copies: 1
            }
        );
    }

    /// An skb record is written without `skbs` when it stands for one, so
    /// unfolded runs read as before; a device fold keeps its count.
    #[test]
    fn a_folded_device_record_keeps_its_count_and_a_single_skb_reads_as_one() {
        let skb = |t: u64, payload: u32, skbs: u32| Event::Skb {
            t,
            queue: false,
            skb: 1,
            len: payload + 66 * skbs,
            data_len: 0,
            payload,
            linear_payload: payload,
            file_bytes: 0,
            first_file_index: u32::MAX,
            gso_size: 0,
            gso_segs: 0,
            nr_frags: 0,
            file_frags: 0,
            shinfo_flags: 0,
            user_bytes: 0,
            user_frags: 0,
            frag_pages: vec![],
            at: Some(0),
            skbs,
        };
        let mut t = tiny();
        t.runs[0]
            .events
            .extend([skb(20, 1448, 1), skb(30, 4096 * 1448, 4096)]);
        let text = String::from_utf8(t.to_bytes().expect("bytes")).expect("utf-8");
        assert_eq!(text.matches("\"skbs\"").count(), 1, "{text}");
        assert_eq!(Trace::parse(text.as_bytes()).expect("parse"), t);
        let old = r#"{"k":"skb","t":20,"queue":false,"skb":1,"len":1514,"data_len":0,"payload":1448,"linear_payload":1448,"file_bytes":0,"first_file_index":4294967295,"gso_size":0,"gso_segs":0,"nr_frags":0,"file_frags":0,"shinfo_flags":0,"at":0}"#;
        assert_eq!(
            serde_json::from_str::<Event>(old).expect("an older skb"),
            skb(20, 1448, 1)
        );
    }

    #[test]
    fn each_bad_input_gets_its_own_message() {
        let good = tiny().to_bytes().expect("bytes");
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (vec![], "empty"),
            (b"   \n".to_vec(), "empty"),
            (b"hello, world".to_vec(), "not JSON"),
            (good[..good.len() / 2].to_vec(), "truncated"),
            (
                br#"{"format":"other","version":1}"#.to_vec(),
                "not a zc trace",
            ),
            (br#"{"version":1}"#.to_vec(), "not a zc trace"),
            (br#"{"format":"zc-trace","version":99}"#.to_vec(), "newer"),
            (
                String::from_utf8_lossy(&good)
                    .replace("\"sender_sg\":true", "\"sender_sg\":\"maybe\"")
                    .into_bytes(),
                "corrupt",
            ),
        ];
        for (bytes, want) in cases {
            let e = Trace::parse(&bytes).expect_err(want);
            let msg = e.to_string();
            assert!(msg.contains(want), "{want}: {msg}");
            assert!(!msg.contains('\n'), "one line: {msg}");
        }
        let mut unordered = tiny();
        unordered.runs[0].events.reverse();
        let e = Trace::parse(&unordered.to_bytes().expect("bytes")).expect_err("unordered");
        assert!(e.to_string().contains("earlier"), "{e}");
        let mut none = tiny();
        none.runs.clear();
        assert!(matches!(
            Trace::parse(&none.to_bytes().expect("bytes")),
            Err(TraceError::NoRuns)
        ));
    }
}

#[cfg(test)]
mod corpus {
    /// The fuzzer's seed corpus doubles as a regression suite: the valid
    /// seeds parse, the others are refused with one line, none panics.
    #[test]
    fn seed_corpus() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/corpus/trace_reader");
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).expect("corpus folder") {
            let path = entry.expect("entry").path();
            let bytes = std::fs::read(&path).expect("seed");
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("")
                .to_string();
            let result = super::Trace::parse(&bytes);
            if name.starts_with("valid-") {
                assert!(result.is_ok(), "{name}: {:?}", result.err());
            } else {
                let e = result.expect_err(&name);
                assert!(!e.to_string().contains('\n'), "{name}: {e}");
            }
            seen += 1;
        }
        assert!(seen >= 5, "only {seen} seeds");
    }
}
