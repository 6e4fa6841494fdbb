//! Events → steps: the ordered story of a run, one mode switch or one
//! movement of bytes at a time, each tied to the event that proves it.
//!
//! This is what a viewer animates. It is built from the event stream, which
//! can lose detail when the ring buffer fills; the report's totals come from
//! the in-kernel counters instead ([`super::classify`]). Both apply the same
//! [`super::rules`]; with no lost events the two agree, and the live tests
//! check that they do.

use zc_common::{
    NO_PAGE,
    event::{
        IORING_CQE_F_NOTIF, IORING_NOTIF_USAGE_ZC_COPIED, IORING_OP_READ, IORING_OP_SEND_ZC,
        RingEvent, SKBFL_ZEROCOPY_ENABLE, SO_EE_CODE_ZEROCOPY_COPIED, SkbEvent, op, sched_blocked,
    },
};

use super::{
    Movement, PAGE_SIZE, Place, Strategy,
    pages::{self, PageQueue, PageRef, SkbQueue, StepPages},
    rules, syscalls,
};
use crate::decode::Event;

/// What happened at one step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepKind {
    /// User → kernel: the sender entered a syscall.
    Enter { syscall: String },
    /// Kernel → user: the syscall returned `ret`.
    Exit { syscall: String, ret: i64 },
    /// A page fault; `in_kernel` when it hit inside a syscall's copy (no mode switch).
    Fault { in_kernel: bool, address: u64 },
    /// The scheduler took the CPU from the sender (`blocked`: it had to wait).
    SchedOut { blocked: bool },
    /// The sender got a CPU back.
    SchedIn,
    /// Bytes moved.
    Move {
        movement: Movement,
        from: Place,
        to: Place,
        bytes: u64,
    },
    /// A block request for the demo file: issued, or completed (sectors).
    Block { issue: bool, bytes: u64 },
    /// The sender read a zero-copy completion: `sends` sends are done, and
    /// `copied` when the kernel says it copied them after all.
    Completion { sends: u64, copied: bool },
    /// A request on the sender's io_uring, submitted or completed, by the
    /// sender or (`helper`) by one of its kernel threads.
    Ring {
        opcode: u8,
        complete: bool,
        helper: bool,
        res: i64,
    },
    /// The sender started a kernel thread (io_uring's SQ thread, a worker).
    Thread { name: String },
}

/// One step with its time and its evidence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub ts_ns: u64,
    pub kind: StepKind,
    /// The tracepoint(s) that prove it.
    pub evidence: &'static str,
    /// The pages of the demo file it touched, where the evidence names them.
    pub pages: StepPages,
}

/// The frags of an skb that are pages of the demo file, with their place
/// in the skb.
fn frag_pages(e: &SkbEvent) -> StepPages {
    (0u8..)
        .zip(e.frag_pages)
        .filter(|(_, page)| *page != NO_PAGE)
        .map(|(frag, page)| PageRef {
            page,
            frag: Some(frag),
        })
        .collect()
}

/// The steps of `events` (in time order) for a run of `strategy`.
pub fn build(strategy: Strategy, events: &[Event]) -> Vec<Step> {
    let mut b = StepBuilder::new(strategy);
    for e in events {
        b.push(e);
    }
    b.steps
}

/// Builds steps from events fed in time order.
#[derive(Debug)]
struct StepBuilder {
    strategy: Strategy,
    send_source: u8,
    /// The send in progress came through `tcp_sendpage`.
    send_by_page: bool,
    /// Index of the step of the message being sent, until its size is known.
    open_send: Option<usize>,
    /// Paged payload TCP queued that the device has not taken yet.
    pending: rules::Pending,
    /// The syscall in progress sent to the socket.
    sent_in_call: bool,
    /// Bytes that reached the device in pinned pages, and of them those a
    /// completion said were copied anyway.
    pinned_at_device: u64,
    copied_anyway: u64,
    /// Bytes each io_uring SEND_ZC sent, by user_data, until its notification.
    ring_sent: std::collections::HashMap<u64, u64>,
    /// Pages the last read or splice asked the page cache for
    /// (`mm_filemap_get_pages`), not yet given to a step.
    fetched: StepPages,
    /// The file pages whose bytes the user buffer holds, and those the
    /// strategy's pipe holds, in the order they will leave.
    buffer: PageQueue,
    pipe: PageQueue,
    /// File pages in skbs queued for the device, not yet transmitted.
    queued: SkbQueue,
    /// Bytes of the file read (or spliced, or sent) so far.
    read_off: u64,
    /// The address mmap returned for the file, and where in that mapping
    /// the call in progress reads (its buffer argument, less the base).
    map_base: Option<u64>,
    map_at: Option<u64>,
    steps: Vec<Step>,
}

/// Offsets into a mapping are below this; a larger value is an address.
const MAPPING_SPAN: u64 = 1 << 40;

const SEND_EVIDENCE: &str = "tcp:tcp_sendmsg_locked (message iterator) + sock:sock_send_length";
/// The same, where the kernel handed TCP a page at a time (before 6.5).
const SENDPAGE_EVIDENCE: &str = "tcp_sendpage() entry (the page, by reference) + its return";

impl StepBuilder {
    fn new(strategy: Strategy) -> StepBuilder {
        StepBuilder {
            strategy,
            send_source: 0,
            open_send: None,
            pending: rules::Pending::default(),
            sent_in_call: false,
            send_by_page: false,
            pinned_at_device: 0,
            copied_anyway: 0,
            ring_sent: Default::default(),
            fetched: Vec::new(),
            buffer: PageQueue::default(),
            pipe: PageQueue::default(),
            queued: SkbQueue::default(),
            read_off: 0,
            map_base: None,
            map_at: None,
            steps: Vec::new(),
        }
    }

    fn step(&mut self, ts_ns: u64, kind: StepKind, evidence: &'static str) {
        self.steps.push(Step {
            ts_ns,
            kind,
            evidence,
            pages: Vec::new(),
        });
    }

    fn moved(
        &mut self,
        ts: u64,
        movement: Movement,
        from: Place,
        to: Place,
        bytes: u64,
        ev: &'static str,
    ) {
        self.moved_pages(ts, (movement, from, to), bytes, ev, Vec::new());
    }

    /// A movement of `bytes` and the file pages it carried.
    fn moved_pages(
        &mut self,
        ts: u64,
        (movement, from, to): (Movement, Place, Place),
        bytes: u64,
        ev: &'static str,
        pages: StepPages,
    ) {
        if bytes > 0 {
            self.steps.push(Step {
                ts_ns: ts,
                kind: StepKind::Move {
                    movement,
                    from,
                    to,
                    bytes,
                },
                evidence: ev,
                pages,
            });
        }
    }

    /// What the send in progress was seen at.
    fn send_evidence(&self) -> &'static str {
        if self.send_by_page {
            SENDPAGE_EVIDENCE
        } else {
            SEND_EVIDENCE
        }
    }

    /// The pages a read of `bytes` copied. The loops read the file in
    /// order, so the read took the file's bytes from those read so far to
    /// these plus `bytes`: every page of that range, once the page cache
    /// was seen serving the file (a lookup named pages not yet taken).
    /// The lookups alone would miss some: `filemap_get_pages` returns a
    /// batch whose last folio is not yet up to date less that folio, by
    /// its error path, which passes no tracepoint (mm/filemap.c); only the
    /// next lookup, for that folio, is named. The user buffer holds them
    /// next. Pages looked up beyond the range stay for the next call: a
    /// short read, or a kernel that hands a sendfile's chunk to TCP one
    /// page at a time (`tcp_sendpage`, before 6.5), takes the rest later.
    /// Without any lookup (tmpfs reads pass none) no page is named.
    fn read_pages(&mut self, bytes: u64) -> StepPages {
        let mut pages = std::mem::take(&mut self.fetched);
        pages.sort_by_key(|p| p.page);
        pages.dedup_by_key(|p| p.page);
        let first = self.read_off / PAGE_SIZE;
        self.read_off += bytes;
        if bytes == 0 {
            // Nothing was taken: every page looked up waits for the next.
            self.fetched = pages;
            return Vec::new();
        }
        let last = (self.read_off - 1) / PAGE_SIZE;
        let at = pages.partition_point(|p| u64::from(p.page) <= last);
        self.fetched = pages.split_off(at);
        if pages.is_empty() && self.fetched.is_empty() {
            return pages;
        }
        pages::range(first, last)
    }

    /// The pages a send of `bytes` from `from` carried into the socket.
    fn send_pages(&mut self, from: Place, bytes: u64) -> StepPages {
        match from {
            Place::PageCache => self.read_pages(bytes),
            Place::UserBuffer => self.buffer.take(bytes),
            Place::Pipe => self.pipe.take(bytes),
            // A write from the mapping copies the pages under its buffer:
            // the file is mapped from offset 0, so offset / 4 KiB is the
            // page's index in the file.
            Place::Mapping => match self.map_at {
                Some(off) if bytes > 0 => {
                    self.map_at = Some(off + bytes);
                    pages::range(off / PAGE_SIZE, (off + bytes - 1) / PAGE_SIZE)
                }
                _ => Vec::new(),
            },
            _ => Vec::new(),
        }
    }

    /// An io_uring request's step, and what its completion moved: a READ's
    /// copy into the user buffer, a notification's verdict.
    fn ring(&mut self, ts: u64, e: &RingEvent) {
        let complete = e.h.op == op::RING_COMPLETE;
        if complete && e.cflags & IORING_CQE_F_NOTIF != 0 {
            // A notification: its own step says what it means.
            let bytes = self.ring_sent.remove(&e.user_data).unwrap_or(0);
            let copied = e.res as u32 & IORING_NOTIF_USAGE_ZC_COPIED != 0;
            let ev = "io_uring:io_uring_complete (IORING_CQE_F_NOTIF).res";
            self.completion(ts, 1, copied, bytes, ev);
            return;
        }
        self.step(
            ts,
            StepKind::Ring {
                opcode: e.opcode,
                complete,
                helper: e.helper != 0,
                res: e.res as i64,
            },
            if complete {
                "io_uring:io_uring_complete"
            } else {
                "io_uring:io_uring_submit_req"
            },
        );
        if !complete || e.res < 0 {
            return;
        }
        if e.opcode == IORING_OP_READ {
            let pages = self.read_pages(e.res as u64);
            self.buffer.push(&pages);
            self.moved_pages(
                ts,
                (Movement::CpuCopy, Place::PageCache, Place::UserBuffer),
                e.res as u64,
                "io_uring:io_uring_complete (IORING_OP_READ).res + filemap:mm_filemap_get_pages",
                pages,
            );
        } else if e.opcode == IORING_OP_SEND_ZC {
            self.ring_sent.insert(e.user_data, e.res as u64);
        }
    }

    /// A zero-copy completion: its step, and the copy made anyway if the
    /// kernel says so. Only bytes that reached the device in pinned pages
    /// can have been copied after it (rules::copied_anyway).
    fn completion(&mut self, ts: u64, sends: u64, copied: bool, bytes: u64, ev: &'static str) {
        self.step(ts, StepKind::Completion { sends, copied }, ev);
        if copied {
            let bytes = bytes.min(self.pinned_at_device - self.copied_anyway);
            self.copied_anyway += bytes;
            self.moved(
                ts,
                Movement::CpuCopy,
                Place::UserBuffer,
                Place::Peer,
                bytes,
                "the completion says COPIED: bytes of the sends it covers",
            );
        }
    }

    /// Feeds one event; events must come in timestamp order.
    fn push(&mut self, event: &Event) {
        let ts = event.ts_ns();
        match event {
            Event::Syscall(e) if e.h.op == op::SYS_ENTER => {
                self.sent_in_call = false;
                self.map_at = self
                    .map_base
                    .and_then(|base| e.args[1].checked_sub(base))
                    .filter(|off| *off < MAPPING_SPAN);
                let syscall = syscalls::name(e.nr);
                self.step(ts, StepKind::Enter { syscall }, "raw_syscalls:sys_enter");
            }
            Event::Syscall(e) => {
                let syscall = syscalls::name(e.nr);
                match syscall.as_str() {
                    "mmap" if e.ret as u64 > MAPPING_SPAN => self.map_base = Some(e.ret as u64),
                    "munmap" => self.map_base = None,
                    _ => {}
                }
                if rules::is_file_read(&syscall) && e.ret > 0 {
                    let pages = self.read_pages(e.ret as u64);
                    self.buffer.push(&pages);
                    self.moved_pages(
                        ts,
                        (Movement::CpuCopy, Place::PageCache, Place::UserBuffer),
                        e.ret as u64,
                        "raw_syscalls:sys_exit(read).ret + filemap:mm_filemap_get_pages",
                        pages,
                    );
                }
                // vmsplice lends the user's pages to the pipe.
                if rules::is_lend_into_pipe(&syscall) && e.ret > 0 {
                    let pages = self.buffer.take(e.ret as u64);
                    self.pipe.push(&pages);
                    self.moved_pages(
                        ts,
                        (Movement::Reference, Place::UserBuffer, Place::Pipe),
                        e.ret as u64,
                        "raw_syscalls:sys_exit(vmsplice).ret",
                        pages,
                    );
                }
                // A splice that sent nothing to the socket moved file pages
                // into the strategy's pipe, by reference.
                if rules::is_splice_into_pipe(&syscall, self.sent_in_call, self.strategy)
                    && e.ret > 0
                {
                    let pages = self.read_pages(e.ret as u64);
                    self.pipe.push(&pages);
                    self.moved_pages(
                        ts,
                        (Movement::Reference, Place::PageCache, Place::Pipe),
                        e.ret as u64,
                        "raw_syscalls:sys_exit(splice).ret + filemap:mm_filemap_get_pages",
                        pages,
                    );
                }
                self.step(
                    ts,
                    StepKind::Exit {
                        syscall,
                        ret: e.ret,
                    },
                    "raw_syscalls:sys_exit",
                );
            }
            Event::Fault(e) => {
                let in_kernel = e.h.op == op::FAULT_KERNEL;
                self.step(
                    ts,
                    StepKind::Fault {
                        in_kernel,
                        address: e.address,
                    },
                    if in_kernel {
                        "exceptions:page_fault_kernel"
                    } else {
                        "exceptions:page_fault_user"
                    },
                );
            }
            Event::Sched(e) if e.h.op == op::SCHED_OUT => self.step(
                ts,
                StepKind::SchedOut {
                    blocked: sched_blocked(e.prev_state),
                },
                "sched:sched_switch",
            ),
            Event::Sched(_) => self.step(ts, StepKind::SchedIn, "sched:sched_switch"),
            Event::Filemap(e) => match e.h.op {
                op::FILEMAP_ADD => {
                    let pages = 1u64 << e.order.min(20);
                    self.moved_pages(
                        ts,
                        (Movement::Dma, Place::Disk, Place::PageCache),
                        pages * PAGE_SIZE,
                        "filemap:mm_filemap_add_to_page_cache",
                        pages::range(e.index, e.index + pages - 1),
                    )
                }
                op::FILEMAP_MAP_PAGES => self.moved_pages(
                    ts,
                    (Movement::Mapping, Place::PageCache, Place::Mapping),
                    (e.last_index.saturating_sub(e.index) + 1) * PAGE_SIZE,
                    "filemap:mm_filemap_map_pages",
                    pages::range(e.index, e.last_index),
                ),
                // The range a read or a splice takes from the cache: its
                // copy or its references, at the syscall's exit or the
                // send, carry these pages.
                op::FILEMAP_GET_PAGES => self
                    .fetched
                    .extend(pages::range(e.index, e.last_index.max(e.index))),
                _ => {}
            },
            Event::Block(e) => self.step(
                ts,
                StepKind::Block {
                    issue: e.h.op == op::BLOCK_ISSUE,
                    bytes: if e.h.op == op::BLOCK_ISSUE {
                        e.bytes as u64
                    } else {
                        e.nr_sector as u64 * 512
                    },
                },
                "block:block_bio_queue + block_rq_complete",
            ),
            Event::Send(e) if e.h.op == op::SEND_TCP_SENDMSG || e.h.op == op::SEND_TCP_SENDPAGE => {
                self.send_source = e.source;
                self.send_by_page = e.h.op == op::SEND_TCP_SENDPAGE;
                self.sent_in_call = true;
                // The data enters the skb here, at the start of the message,
                // before any of it is transmitted; its size is known only at
                // sock_send_length, which fills this step in.
                if self.open_send.is_none()
                    && let Some((movement, from)) = rules::send_move(e.source, self.strategy)
                {
                    self.open_send = Some(self.steps.len());
                    self.step(
                        ts,
                        StepKind::Move {
                            movement,
                            from,
                            to: Place::SocketBuffer,
                            bytes: 0,
                        },
                        self.send_evidence(),
                    );
                }
            }
            Event::Send(e) => {
                let bytes = e.ret.max(0) as u64;
                match self.open_send.take() {
                    Some(i) if bytes > 0 => {
                        let from = match self.steps.get(i) {
                            Some(Step {
                                kind: StepKind::Move { from, .. },
                                ..
                            }) => *from,
                            _ => Place::Receiver,
                        };
                        let pages = self.send_pages(from, bytes);
                        if let Some(Step {
                            kind: StepKind::Move { bytes: b, .. },
                            pages: p,
                            ..
                        }) = self.steps.get_mut(i)
                        {
                            *b = bytes;
                            *p = pages;
                        }
                    }
                    Some(i) => {
                        self.steps.remove(i);
                    }
                    None => {
                        if let Some((movement, from)) =
                            rules::send_move(self.send_source, self.strategy)
                        {
                            let pages = self.send_pages(from, bytes);
                            self.moved_pages(
                                ts,
                                (movement, from, Place::SocketBuffer),
                                bytes,
                                self.send_evidence(),
                                pages,
                            );
                        }
                    }
                }
            }
            Event::Skb(e) if e.h.op == op::SKB_QUEUE => {
                let paged = e.payload.saturating_sub(e.linear_payload) as u64;
                let queued = rules::Pending::of(paged, e.file_bytes as u64, e.user_bytes as u64);
                self.pending.file += queued.file;
                self.pending.user += queued.user;
                self.pending.other += queued.other;
                self.queued.push(e.skb, frag_pages(e), queued.file);
            }
            Event::Skb(e) if e.h.op == op::SKB_XMIT => {
                let linear = e.linear_payload as u64;
                let paged = e.payload.saturating_sub(e.linear_payload) as u64;
                let went = rules::Pending::of(paged, e.file_bytes as u64, e.user_bytes as u64);
                // Paged data that went through untouched leaves the pending pools.
                self.pending.pass(went);
                let frags = frag_pages(e);
                // The file bytes that went by reference leave the queue as
                // they leave the byte pools; the frags name their pages.
                self.queued.take(went.file);
                let seg = self.pending.segment(linear);
                const SEG: &str = "net:net_dev_queue (paged) → net:net_dev_start_xmit (linear)";
                // The file pages queued first are the ones segmented first.
                let seg_pages = self.queued.take(seg.from_file);
                self.moved_pages(
                    ts,
                    (Movement::CpuCopy, Place::PageCache, Place::Nic),
                    seg.from_file,
                    SEG,
                    seg_pages,
                );
                for (from, bytes) in [
                    (Place::UserBuffer, seg.from_user),
                    (Place::SocketBuffer, seg.from_other),
                ] {
                    self.moved(ts, Movement::CpuCopy, from, Place::Nic, bytes, SEG);
                }
                self.moved_pages(
                    ts,
                    (Movement::Reference, Place::PageCache, Place::Nic),
                    went.file,
                    "net:net_dev_start_xmit frags = demo file pages",
                    frags,
                );
                // The user's pages in a zero-copy skb are pinned; others lent.
                let pinned = e.shinfo_flags & SKBFL_ZEROCOPY_ENABLE != 0;
                if pinned {
                    self.pinned_at_device += went.user;
                }
                self.moved(
                    ts,
                    if pinned {
                        Movement::Pin
                    } else {
                        Movement::Reference
                    },
                    Place::UserBuffer,
                    Place::Nic,
                    went.user,
                    "net:net_dev_start_xmit frags = the sender's anonymous pages",
                );
                self.moved(
                    ts,
                    Movement::SoftwareTransmit,
                    Place::SocketBuffer,
                    Place::Nic,
                    e.payload as u64,
                    "net:net_dev_start_xmit",
                );
            }
            // Drops and retransmissions are itemized in the ledger; they
            // move no new byte of the file. A whole skb dropped before the
            // device takes its pages out of the queue.
            Event::Skb(e) if e.h.op == op::SKB_DROP => self.queued.dropped(e.skb),
            Event::Skb(_) => {}
            Event::Thread(e) => self.step(
                ts,
                StepKind::Thread {
                    name: String::from_utf8_lossy(&e.comm)
                        .split('\0')
                        .next()
                        .unwrap_or("")
                        .to_string(),
                },
                "task:task_newtask (in the sender)",
            ),
            Event::Ring(e) => self.ring(ts, e),
            // Where a copy made anyway happened is evidence for the report;
            // the copy itself is counted once, from the kernel's verdict.
            Event::Forward(_) => {}
            Event::Completion(e) => self.completion(
                ts,
                e.hi.wrapping_sub(e.lo) as u64 + 1,
                e.code & SO_EE_CODE_ZEROCOPY_COPIED != 0,
                e.bytes,
                "skb:skb_copy_datagram_iovec (sender, error queue) → sock_extended_err",
            ),
            Event::Recv(e) => self.moved(
                ts,
                Movement::CpuCopy,
                Place::SocketBuffer,
                Place::Receiver,
                e.len as u64,
                "skb:skb_copy_datagram_iovec",
            ),
            Event::Dma(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tally::Tally;

    fn named(name: &str) -> Strategy {
        Strategy::named(name).expect("a strategy of the table")
    }

    impl StepBuilder {
        fn tally(&self) -> Tally {
            Tally::of(&self.steps)
        }
        fn steps(&self) -> &[Step] {
            &self.steps
        }
    }
    use zc_common::event::*;

    fn h(ts: u64, kind: Kind, op: u16) -> Header {
        Header {
            ts_ns: ts,
            tid: 1,
            kind: kind as u16,
            op,
        }
    }

    fn sys(ts: u64, name: &str, op: u16, ret: i64) -> Event {
        Event::Syscall(SyscallEvent {
            h: h(ts, Kind::Syscall, op),
            nr: syscalls::number(name).expect("known"),
            args: [0; 3],
            ret,
        })
    }

    fn send(ts: u64, src: u8, ret: i64) -> [Event; 2] {
        [
            Event::Send(SendEvent {
                h: h(ts, Kind::Send, op::SEND_TCP_SENDMSG),
                source: src,
                ..Default::default()
            }),
            Event::Send(SendEvent {
                h: h(ts + 1, Kind::Send, op::SEND_SOCK_LENGTH),
                ret,
                ..Default::default()
            }),
        ]
    }

    fn skb(ts: u64, op: u16, payload: u32, linear: u32, file: u32) -> Event {
        Event::Skb(Box::new(SkbEvent {
            h: h(ts, Kind::Skb, op),
            payload,
            linear_payload: linear,
            file_bytes: file,
            ..Default::default()
        }))
    }

    #[test]
    fn read_write_pair_is_four_switches_and_two_copies() {
        let mut b = StepBuilder::new(named("read-write"));
        let mut evs = vec![
            sys(1, "read", op::SYS_ENTER, 0),
            sys(2, "read", op::SYS_EXIT, 4096),
        ];
        evs.push(sys(3, "write", op::SYS_ENTER, 0));
        evs.extend(send(4, source::USER, 4096));
        evs.push(sys(6, "write", op::SYS_EXIT, 4096));
        evs.push(skb(7, op::SKB_QUEUE, 4096, 0, 0));
        evs.push(skb(8, op::SKB_XMIT, 4096, 0, 0));
        for e in &evs {
            b.push(e);
        }
        let t = b.tally();
        assert_eq!(t.syscalls, 2);
        assert_eq!(t.mode_switches, 4);
        assert_eq!(t.cpu_copy_bytes, 8192);
        assert_eq!(t.reference_bytes, 0);
        let copies: Vec<_> = b
            .steps()
            .iter()
            .filter_map(|s| match &s.kind {
                StepKind::Move {
                    movement: Movement::CpuCopy,
                    from,
                    to,
                    ..
                } => Some((*from, *to)),
                _ => None,
            })
            .collect();
        assert_eq!(
            copies,
            vec![
                (Place::PageCache, Place::UserBuffer),
                (Place::UserBuffer, Place::SocketBuffer)
            ]
        );
    }

    #[test]
    fn sendfile_segmentation_copy_is_attributed_to_page_cache() {
        let mut b = StepBuilder::new(named("sendfile"));
        let mut evs = vec![sys(1, "sendfile", op::SYS_ENTER, 0)];
        evs.extend(send(2, source::SPLICE, 65536));
        evs.push(sys(4, "sendfile", op::SYS_EXIT, 65536));
        evs.push(skb(5, op::SKB_QUEUE, 65536, 0, 65536));
        for i in 0..45 {
            evs.push(skb(6 + i, op::SKB_XMIT, 1448, 1448, 0));
        }
        evs.push(skb(60, op::SKB_XMIT, 376, 376, 0));
        for e in &evs {
            b.push(e);
        }
        let t = b.tally();
        assert_eq!(t.cpu_copy_bytes, 65536);
        assert_eq!(t.reference_bytes, 0);
        assert_eq!(t.mode_switches, 2);
        assert!(b.steps().iter().any(|s| matches!(
            s.kind,
            StepKind::Move {
                movement: Movement::Reference,
                to: Place::SocketBuffer,
                ..
            }
        )));
    }

    #[test]
    fn gather_references_reach_the_device() {
        let mut b = StepBuilder::new(named("sendfile-gather"));
        for e in send(1, source::SPLICE, 65536) {
            b.push(&e);
        }
        b.push(&skb(3, op::SKB_QUEUE, 65536, 0, 65536));
        b.push(&skb(4, op::SKB_XMIT, 65536, 0, 65536));
        let t = b.tally();
        assert_eq!(t.cpu_copy_bytes, 0);
        assert_eq!(t.reference_bytes, 65536);
    }

    #[test]
    fn a_chunk_sent_page_by_page_names_each_page_once() {
        // Before 6.5, sendfile looks up a 64 KiB chunk once and hands TCP
        // its 16 pages one call at a time (tcp_sendpage).
        let mut b = StepBuilder::new(named("sendfile-gather"));
        b.push(&Event::Filemap(FilemapEvent {
            h: h(1, Kind::Filemap, op::FILEMAP_GET_PAGES),
            index: 0,
            last_index: 15,
            ..Default::default()
        }));
        for i in 0..16 {
            let [mut call, ret] = send(2 + 2 * i, source::SPLICE, 4096);
            if let Event::Send(e) = &mut call {
                e.h.op = op::SEND_TCP_SENDPAGE;
            }
            b.push(&call);
            b.push(&ret);
        }
        // Each step names the function the kernel used.
        assert!(
            b.steps()
                .iter()
                .filter(|s| matches!(s.kind, StepKind::Move { .. }))
                .all(|s| s.evidence == SENDPAGE_EVIDENCE)
        );
        let named: Vec<Vec<u32>> = b
            .steps()
            .iter()
            .filter(|s| {
                matches!(
                    s.kind,
                    StepKind::Move {
                        to: Place::SocketBuffer,
                        ..
                    }
                )
            })
            .map(|s| s.pages.iter().map(|p| p.page).collect())
            .collect();
        let expected: Vec<Vec<u32>> = (0..16).map(|p| vec![p]).collect();
        assert_eq!(named, expected);
    }

    /// A read whose first lookup took the error path (a batch of 16
    /// folios, the last not up to date: 15 returned, no tracepoint) and
    /// whose second named the last page alone copied all 16 pages.
    #[test]
    fn a_read_names_every_page_it_returned_though_a_lookup_went_unnamed() {
        let mut b = StepBuilder::new(named("read-write"));
        b.push(&sys(1, "read", op::SYS_ENTER, 0));
        b.push(&Event::Filemap(FilemapEvent {
            h: h(2, Kind::Filemap, op::FILEMAP_GET_PAGES),
            index: 15,
            last_index: 15,
            ..Default::default()
        }));
        b.push(&sys(3, "read", op::SYS_EXIT, 16 * 4096));
        let copied: Vec<u32> = b
            .steps()
            .iter()
            .filter(|s| {
                matches!(
                    s.kind,
                    StepKind::Move {
                        movement: Movement::CpuCopy,
                        ..
                    }
                )
            })
            .flat_map(|s| s.pages.iter().map(|p| p.page))
            .collect();
        assert_eq!(copied, (0..16).collect::<Vec<u32>>());
        // With no lookup at all (tmpfs), nothing is named.
        let mut b = StepBuilder::new(named("read-write"));
        b.push(&sys(1, "read", op::SYS_ENTER, 0));
        b.push(&sys(2, "read", op::SYS_EXIT, 4096));
        assert!(b.steps().iter().all(|s| s.pages.is_empty()));
        // A read that returned nothing takes no page: the one looked up
        // is the next read's.
        let mut b = StepBuilder::new(named("read-write"));
        b.push(&Event::Filemap(FilemapEvent {
            h: h(1, Kind::Filemap, op::FILEMAP_GET_PAGES),
            index: 0,
            last_index: 0,
            ..Default::default()
        }));
        b.push(&sys(2, "read", op::SYS_EXIT, 0));
        assert!(b.steps().iter().all(|s| s.pages.is_empty()));
        b.push(&sys(3, "read", op::SYS_EXIT, 4096));
        let named: Vec<u32> = b
            .steps()
            .iter()
            .flat_map(|s| s.pages.iter().map(|p| p.page))
            .collect();
        assert_eq!(named, vec![0]);
    }

    #[test]
    fn receiver_copy_is_kept_apart() {
        let mut b = StepBuilder::new(named("read-write"));
        b.push(&Event::Recv(RecvEvent {
            h: h(1, Kind::Recv, 0),
            len: 1000,
            ..Default::default()
        }));
        assert_eq!(b.tally().receiver_copy_bytes, 1000);
        assert_eq!(b.tally().cpu_copy_bytes, 0);
    }

    #[test]
    fn user_fault_switches_mode_kernel_fault_does_not() {
        let mut b = StepBuilder::new(named("mmap-write"));
        for (i, op) in [op::FAULT_USER, op::FAULT_KERNEL].into_iter().enumerate() {
            b.push(&Event::Fault(FaultEvent {
                h: h(i as u64, Kind::Fault, op),
                ..Default::default()
            }));
        }
        assert_eq!(b.tally().page_faults, 2);
        assert_eq!(b.tally().mode_switches, 2);
    }
}
