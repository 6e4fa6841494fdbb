//! Events → steps: the ordered story of a run, one mode switch or one
//! movement of bytes at a time, each tied to the event that proves it.
//!
//! This is what a viewer animates. It is built from the event stream, which
//! can lose detail when the ring buffer fills; the report's totals come from
//! the in-kernel counters instead ([`super::classify`]). Both apply the same
//! [`super::rules`]; with no lost events the two agree, and the live tests
//! check that they do.

use std::borrow::Cow;

use zc_common::event::{
    IORING_CQE_F_NOTIF, IORING_NOTIF_USAGE_ZC_COPIED, IORING_OP_READ, IORING_OP_SEND_ZC,
    SKBFL_ZEROCOPY_ENABLE, op,
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
    Enter { syscall: Cow<'static, str> },
    /// Kernel → user: the syscall returned `ret`, or (`mapping`) the
    /// address of a new mapping, which is not kept.
    Exit {
        syscall: Cow<'static, str>,
        ret: i64,
        mapping: bool,
    },
    /// A page fault; `in_kernel` when it hit inside a syscall's copy (no mode switch).
    Fault { in_kernel: bool },
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

/// The frags of an skb that are pages of the demo file (`[frag, page]`),
/// with their place in the skb.
fn file_pages(frag_pages: &[[u32; 2]]) -> StepPages {
    frag_pages
        .iter()
        .map(|&[frag, page]| PageRef {
            page,
            frag: Some(frag as u8),
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
    /// The file is mapped (mmap returned, munmap not yet), and where in that
    /// mapping the call in progress reads.
    mapped: bool,
    map_at: Option<u64>,
    steps: Vec<Step>,
}

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
            mapped: false,
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
    #[allow(clippy::too_many_arguments, reason = "the event's own fields")]
    fn ring(
        &mut self,
        ts: u64,
        complete: bool,
        user_data: u64,
        res: i32,
        cflags: u32,
        opcode: u8,
        helper: bool,
    ) {
        if complete && cflags & IORING_CQE_F_NOTIF != 0 {
            // A notification: its own step says what it means.
            let bytes = self.ring_sent.remove(&user_data).unwrap_or(0);
            let copied = res as u32 & IORING_NOTIF_USAGE_ZC_COPIED != 0;
            let ev = "io_uring:io_uring_complete (IORING_CQE_F_NOTIF).res";
            self.completion(ts, 1, copied, bytes, ev);
            return;
        }
        self.step(
            ts,
            StepKind::Ring {
                opcode,
                complete,
                helper,
                res: res as i64,
            },
            if complete {
                "io_uring:io_uring_complete"
            } else {
                "io_uring:io_uring_submit_req"
            },
        );
        if !complete || res < 0 {
            return;
        }
        if opcode == IORING_OP_READ {
            let pages = self.read_pages(res as u64);
            self.buffer.push(&pages);
            self.moved_pages(
                ts,
                (Movement::CpuCopy, Place::PageCache, Place::UserBuffer),
                res as u64,
                "io_uring:io_uring_complete (IORING_OP_READ).res + filemap:mm_filemap_get_pages",
                pages,
            );
        } else if opcode == IORING_OP_SEND_ZC {
            self.ring_sent.insert(user_data, res as u64);
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
        let ts = event.t();
        match event {
            &Event::SysEnter { nr, map_offset, .. } => {
                self.sent_in_call = false;
                self.map_at = map_offset.filter(|_| self.mapped);
                let syscall = syscalls::name(nr);
                self.step(ts, StepKind::Enter { syscall }, "raw_syscalls:sys_enter");
            }
            &Event::SysExit {
                nr,
                ret,
                new_mapping,
                ..
            } => {
                let syscall = syscalls::name(nr);
                if new_mapping {
                    self.mapped = true;
                } else if syscall == "munmap" {
                    self.mapped = false;
                }
                if rules::is_file_read(&syscall) && ret > 0 {
                    let pages = self.read_pages(ret as u64);
                    self.buffer.push(&pages);
                    self.moved_pages(
                        ts,
                        (Movement::CpuCopy, Place::PageCache, Place::UserBuffer),
                        ret as u64,
                        "raw_syscalls:sys_exit(read).ret + filemap:mm_filemap_get_pages",
                        pages,
                    );
                }
                // vmsplice lends the user's pages to the pipe.
                if rules::is_lend_into_pipe(&syscall) && ret > 0 {
                    let pages = self.buffer.take(ret as u64);
                    self.pipe.push(&pages);
                    self.moved_pages(
                        ts,
                        (Movement::Reference, Place::UserBuffer, Place::Pipe),
                        ret as u64,
                        "raw_syscalls:sys_exit(vmsplice).ret",
                        pages,
                    );
                }
                // A splice that sent nothing to the socket moved file pages
                // into the strategy's pipe, by reference.
                if rules::is_splice_into_pipe(&syscall, self.sent_in_call, self.strategy) && ret > 0
                {
                    let pages = self.read_pages(ret as u64);
                    self.pipe.push(&pages);
                    self.moved_pages(
                        ts,
                        (Movement::Reference, Place::PageCache, Place::Pipe),
                        ret as u64,
                        "raw_syscalls:sys_exit(splice).ret + filemap:mm_filemap_get_pages",
                        pages,
                    );
                }
                self.step(
                    ts,
                    StepKind::Exit {
                        syscall,
                        ret,
                        mapping: new_mapping,
                    },
                    "raw_syscalls:sys_exit",
                );
            }
            &Event::Fault { kernel, .. } => self.step(
                ts,
                StepKind::Fault { in_kernel: kernel },
                if kernel {
                    "exceptions:page_fault_kernel"
                } else {
                    "exceptions:page_fault_user"
                },
            ),
            &Event::SchedOut { blocked, .. } => {
                self.step(ts, StepKind::SchedOut { blocked }, "sched:sched_switch")
            }
            Event::SchedIn { .. } => self.step(ts, StepKind::SchedIn, "sched:sched_switch"),
            &Event::Filemap {
                op,
                index,
                last_index,
                order,
                ..
            } => match op {
                op::FILEMAP_ADD => {
                    let pages = 1u64 << order.min(20);
                    self.moved_pages(
                        ts,
                        (Movement::Dma, Place::Disk, Place::PageCache),
                        pages * PAGE_SIZE,
                        "filemap:mm_filemap_add_to_page_cache",
                        pages::range(index, index + pages - 1),
                    )
                }
                op::FILEMAP_MAP_PAGES => self.moved_pages(
                    ts,
                    (Movement::Mapping, Place::PageCache, Place::Mapping),
                    (last_index.saturating_sub(index) + 1) * PAGE_SIZE,
                    "filemap:mm_filemap_map_pages",
                    pages::range(index, last_index),
                ),
                // The range a read or a splice takes from the cache: its
                // copy or its references, at the syscall's exit or the
                // send, carry these pages.
                op::FILEMAP_GET_PAGES => self
                    .fetched
                    .extend(pages::range(index, last_index.max(index))),
                _ => {}
            },
            &Event::Block {
                issue,
                nr_sector,
                bytes,
                ..
            } => self.step(
                ts,
                StepKind::Block {
                    issue,
                    bytes: if issue {
                        bytes as u64
                    } else {
                        nr_sector as u64 * 512
                    },
                },
                "block:block_bio_queue + block_rq_complete",
            ),
            &Event::TcpSendmsg {
                source, sendpage, ..
            } => {
                self.send_source = source;
                self.send_by_page = sendpage;
                self.sent_in_call = true;
                // The data enters the skb here, at the start of the message,
                // before any of it is transmitted; its size is known only at
                // sock_send_length, which fills this step in.
                if self.open_send.is_none()
                    && let Some((movement, from)) = rules::send_move(source, self.strategy)
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
            &Event::SockSend { ret, .. } => {
                let bytes = ret.max(0) as u64;
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
            Event::Skb {
                queue: true,
                skb,
                payload,
                linear_payload,
                file_bytes,
                user_bytes,
                frag_pages,
                ..
            } => {
                let paged = payload.saturating_sub(*linear_payload) as u64;
                let queued = rules::Pending::of(paged, *file_bytes as u64, *user_bytes as u64);
                self.pending.file += queued.file;
                self.pending.user += queued.user;
                self.pending.other += queued.other;
                self.queued.push(*skb, file_pages(frag_pages), queued.file);
            }
            Event::Skb {
                queue: false,
                payload,
                linear_payload,
                file_bytes,
                user_bytes,
                shinfo_flags,
                frag_pages,
                skbs,
                ..
            } => {
                // A fold of many skbs (a large run) is one step, its bytes
                // their sum; it names no page, so only its pools move.
                let folded = *skbs > 1;
                let linear = *linear_payload as u64;
                let paged = payload.saturating_sub(*linear_payload) as u64;
                let went = rules::Pending::of(paged, *file_bytes as u64, *user_bytes as u64);
                // Paged data that went through untouched leaves the pending pools.
                self.pending.pass(went);
                let frags = file_pages(frag_pages);
                // The file bytes that went by reference leave the queue as
                // they leave the byte pools; the frags name their pages.
                self.queued.take(went.file);
                let seg = self.pending.segment(linear);
                let seg_evidence = if folded {
                    "net:net_dev_queue (paged) → net:net_dev_start_xmit (linear), skbs folded in the kernel"
                } else {
                    "net:net_dev_queue (paged) → net:net_dev_start_xmit (linear)"
                };
                // The file pages queued first are the ones segmented first.
                let seg_pages = self.queued.take(seg.from_file);
                self.moved_pages(
                    ts,
                    (Movement::CpuCopy, Place::PageCache, Place::Nic),
                    seg.from_file,
                    seg_evidence,
                    seg_pages,
                );
                for (from, bytes) in [
                    (Place::UserBuffer, seg.from_user),
                    (Place::SocketBuffer, seg.from_other),
                ] {
                    self.moved(ts, Movement::CpuCopy, from, Place::Nic, bytes, seg_evidence);
                }
                self.moved_pages(
                    ts,
                    (Movement::Reference, Place::PageCache, Place::Nic),
                    went.file,
                    "net:net_dev_start_xmit frags = demo file pages",
                    frags,
                );
                // The user's pages in a zero-copy skb are pinned; others lent.
                let pinned = shinfo_flags & SKBFL_ZEROCOPY_ENABLE != 0;
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
                    *payload as u64,
                    if folded {
                        "net:net_dev_start_xmit, skbs folded in the kernel"
                    } else {
                        "net:net_dev_start_xmit"
                    },
                );
            }
            // Drops and retransmissions are itemized in the ledger; they
            // move no new byte of the file. A whole skb dropped before the
            // device takes its pages out of the queue.
            &Event::Drop {
                skb, lost: false, ..
            } => self.queued.dropped(skb),
            Event::Drop { .. } | Event::Retransmit { .. } => {}
            Event::Thread { name, .. } => self.step(
                ts,
                StepKind::Thread { name: name.clone() },
                "task:task_newtask (in the sender)",
            ),
            &Event::Ring {
                complete,
                user_data,
                res,
                cflags,
                opcode,
                helper,
                ..
            } => self.ring(ts, complete, user_data, res, cflags, opcode, helper),
            // Where a copy made anyway happened is evidence for the report;
            // the copy itself is counted once, from the kernel's verdict.
            Event::Forward { .. } => {}
            &Event::Completion {
                lo,
                hi,
                bytes,
                copied,
                ..
            } => self.completion(
                ts,
                hi.wrapping_sub(lo) as u64 + 1,
                copied,
                bytes,
                "skb:skb_copy_datagram_iovec (sender, error queue) → sock_extended_err",
            ),
            &Event::Recv { len, copies, .. } => self.moved(
                ts,
                Movement::CpuCopy,
                Place::SocketBuffer,
                Place::Receiver,
                len as u64,
                if copies > 1 {
                    "skb:skb_copy_datagram_iovec, copies folded in the kernel"
                } else {
                    "skb:skb_copy_datagram_iovec"
                },
            ),
            // The NIC's engine reading an skb's bytes: the file's own pages
            // when the map names them. The disk's maps are the page cache's
            // insertions above, already a step each; the ledger holds the
            // two to each other.
            &Event::Dma {
                engine: zc_trace::DmaEngine::Nic,
                size,
                file_pages,
                ..
            } => self.moved_pages(
                ts,
                (Movement::Dma, Place::SocketBuffer, Place::Nic),
                size,
                "dma:dma_map_phys TO_DEVICE in the driver's transmit → struct page → folio",
                file_pages.map_or_else(StepPages::default, |[a, b]| {
                    pages::range(a as u64, b as u64)
                }),
            ),
            Event::Dma {
                engine: zc_trace::DmaEngine::Disk,
                ..
            } => {}
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
        /// Feeds a kernel record, decoded as a live run decodes it.
        fn rec(&mut self, r: &Record) {
            self.push(&Decoder::new(None).event(r));
        }
    }
    use crate::decode::{Decoder, Record};
    use zc_common::event::*;

    fn h(ts: u64, kind: Kind, op: u16) -> Header {
        Header {
            ts_ns: ts,
            tid: 1,
            kind: kind as u16,
            op,
        }
    }

    fn sys(ts: u64, name: &str, op: u16, ret: i64) -> Record {
        Record::Syscall(SyscallEvent {
            h: h(ts, Kind::Syscall, op),
            nr: syscalls::number(name).expect("known"),
            args: [0; 3],
            ret,
        })
    }

    fn send(ts: u64, src: u8, ret: i64) -> [Record; 2] {
        [
            Record::Send(SendEvent {
                h: h(ts, Kind::Send, op::SEND_TCP_SENDMSG),
                source: src,
                ..Default::default()
            }),
            Record::Send(SendEvent {
                h: h(ts + 1, Kind::Send, op::SEND_SOCK_LENGTH),
                ret,
                ..Default::default()
            }),
        ]
    }

    fn skb(ts: u64, op: u16, payload: u32, linear: u32, file: u32) -> Record {
        Record::Skb(Box::new(SkbEvent {
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
            b.rec(e);
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
            b.rec(e);
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

    /// The NIC's engine reading a file page is a DMA move to the NIC that
    /// names the page; reading the socket's own memory names none; the
    /// disk's maps add no step (the page cache's insertions are its steps).
    #[test]
    fn the_nics_engine_names_the_file_page_it_reads() {
        let mut b = StepBuilder::new(named("sendfile-gather"));
        let map = |ts, engine, page, file_pages| Event::Dma {
            t: ts,
            engine,
            size: 4096,
            page,
            file_pages,
        };
        use zc_trace::{DmaEngine as E, DmaPage as P};
        b.push(&map(1, E::Nic, P::File, Some([17, 17])));
        b.push(&map(2, E::Nic, P::Kernel, None));
        b.push(&map(3, E::Disk, P::File, Some([0, 0])));
        let steps = b.steps();
        assert_eq!(steps.len(), 2, "{steps:?}");
        assert_eq!(
            steps[0].kind,
            StepKind::Move {
                movement: Movement::Dma,
                from: Place::SocketBuffer,
                to: Place::Nic,
                bytes: 4096
            }
        );
        assert_eq!(
            steps[0].pages.iter().map(|p| p.page).collect::<Vec<_>>(),
            [17]
        );
        assert!(steps[1].pages.is_empty());
        assert_eq!(
            crate::model::pages::Touch::of(Movement::Dma, Place::SocketBuffer, Place::Nic),
            Some(crate::model::pages::Touch::NicDma)
        );
    }

    #[test]
    fn gather_references_reach_the_device() {
        let mut b = StepBuilder::new(named("sendfile-gather"));
        for e in send(1, source::SPLICE, 65536) {
            b.rec(&e);
        }
        b.rec(&skb(3, op::SKB_QUEUE, 65536, 0, 65536));
        b.rec(&skb(4, op::SKB_XMIT, 65536, 0, 65536));
        let t = b.tally();
        assert_eq!(t.cpu_copy_bytes, 0);
        assert_eq!(t.reference_bytes, 65536);
    }

    #[test]
    fn a_chunk_sent_page_by_page_names_each_page_once() {
        // Before 6.5, sendfile looks up a 64 KiB chunk once and hands TCP
        // its 16 pages one call at a time (tcp_sendpage).
        let mut b = StepBuilder::new(named("sendfile-gather"));
        b.rec(&Record::Filemap(FilemapEvent {
            h: h(1, Kind::Filemap, op::FILEMAP_GET_PAGES),
            index: 0,
            last_index: 15,
            ..Default::default()
        }));
        for i in 0..16 {
            let [mut call, ret] = send(2 + 2 * i, source::SPLICE, 4096);
            if let Record::Send(e) = &mut call {
                e.h.op = op::SEND_TCP_SENDPAGE;
            }
            b.rec(&call);
            b.rec(&ret);
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
        b.rec(&sys(1, "read", op::SYS_ENTER, 0));
        b.rec(&Record::Filemap(FilemapEvent {
            h: h(2, Kind::Filemap, op::FILEMAP_GET_PAGES),
            index: 15,
            last_index: 15,
            ..Default::default()
        }));
        b.rec(&sys(3, "read", op::SYS_EXIT, 16 * 4096));
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
        b.rec(&sys(1, "read", op::SYS_ENTER, 0));
        b.rec(&sys(2, "read", op::SYS_EXIT, 4096));
        assert!(b.steps().iter().all(|s| s.pages.is_empty()));
        // A read that returned nothing takes no page: the one looked up
        // is the next read's.
        let mut b = StepBuilder::new(named("read-write"));
        b.rec(&Record::Filemap(FilemapEvent {
            h: h(1, Kind::Filemap, op::FILEMAP_GET_PAGES),
            index: 0,
            last_index: 0,
            ..Default::default()
        }));
        b.rec(&sys(2, "read", op::SYS_EXIT, 0));
        assert!(b.steps().iter().all(|s| s.pages.is_empty()));
        b.rec(&sys(3, "read", op::SYS_EXIT, 4096));
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
        b.rec(&Record::Recv(RecvEvent {
            h: h(1, Kind::Recv, 0),
            len: 1000,
            ..Default::default()
        }));
        assert_eq!(b.tally().receiver_copy_bytes, 1000);
        assert_eq!(b.tally().cpu_copy_bytes, 0);
    }

    #[test]
    fn a_fold_of_receive_copies_is_one_step_with_every_byte() {
        let mut b = StepBuilder::new(named("sendfile"));
        b.rec(&Record::Recv(RecvEvent {
            h: h(1, Kind::Recv, 0),
            len: 4096 * 1448,
            copies: 4096,
            ..Default::default()
        }));
        assert_eq!(b.steps().len(), 1);
        assert_eq!(b.tally().receiver_copy_bytes, 4096 * 1448);
        assert!(b.steps()[0].evidence.contains("folded"));
    }

    #[test]
    fn user_fault_switches_mode_kernel_fault_does_not() {
        let mut b = StepBuilder::new(named("mmap-write"));
        for (i, op) in [op::FAULT_USER, op::FAULT_KERNEL].into_iter().enumerate() {
            b.rec(&Record::Fault(FaultEvent {
                h: h(i as u64, Kind::Fault, op),
                ..Default::default()
            }));
        }
        assert_eq!(b.tally().page_faults, 2);
        assert_eq!(b.tally().mode_switches, 2);
    }
}
