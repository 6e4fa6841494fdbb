//! Ring-buffer bytes → kernel records, length-checked → plain events.
//!
//! The kernel side writes `#[repr(C)]` records from `zc_common::event`. A
//! record is accepted only if its kind is known and it is exactly the size of
//! its struct; anything else is counted as malformed, never guessed at.
//!
//! A run's records then become plain events ([`Event`], the trace format's
//! own type), once, by a [`Decoder`]: the model reads those, and a trace
//! stores them as they are. The decoder is where kernel addresses stop: an
//! skb or a request is a small id from here on, a call's buffer an offset
//! into the file's mapping, a packet's sequence number its offset in the
//! stream, a fault no address at all.

use std::collections::HashMap;

use zc_common::{MAX_FRAGS, NO_PAGE, event::*};

/// One event of a run, as the model reads it and a trace stores it.
pub use zc_trace::Event;

/// One kernel record, decoded. The skb record, the largest by far (it names
/// each frag's page), is boxed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    Syscall(SyscallEvent),
    Sched(SchedEvent),
    Fault(FaultEvent),
    Filemap(FilemapEvent),
    Block(BlockEvent),
    Send(SendEvent),
    Skb(Box<SkbEvent>),
    Recv(RecvEvent),
    Dma(DmaEvent),
    Completion(CompletionEvent),
    Forward(ForwardEvent),
    Ring(RingEvent),
    Thread(ThreadEvent),
}

// A run keeps its records in memory until it ends: one more byte here is a
// megabyte in a million-event run.
const _: () = assert!(size_of::<Record>() <= 64);

impl Record {
    pub fn header(&self) -> &Header {
        match self {
            Record::Syscall(e) => &e.h,
            Record::Sched(e) => &e.h,
            Record::Fault(e) => &e.h,
            Record::Filemap(e) => &e.h,
            Record::Block(e) => &e.h,
            Record::Send(e) => &e.h,
            Record::Skb(e) => &e.h,
            Record::Recv(e) => &e.h,
            Record::Dma(e) => &e.h,
            Record::Completion(e) => &e.h,
            Record::Forward(e) => &e.h,
            Record::Ring(e) => &e.h,
            Record::Thread(e) => &e.h,
        }
    }

    pub fn ts_ns(&self) -> u64 {
        self.header().ts_ns
    }
}

/// Why a record was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("record of {0} bytes is shorter than a header")]
    Short(usize),
    #[error("unknown record kind {0}")]
    UnknownKind(u16),
    #[error("record of kind {kind:?} has {got} bytes, expected {want}")]
    BadLength { kind: Kind, got: usize, want: usize },
}

/// Reads a `T` from the start of `bytes` if the length matches exactly.
fn read_exact<T: Copy>(bytes: &[u8], kind: Kind) -> Result<T, DecodeError> {
    let want = size_of::<T>();
    if bytes.len() != want {
        return Err(DecodeError::BadLength {
            kind,
            got: bytes.len(),
            want,
        });
    }
    // SAFETY: the length equals size_of::<T>(), T is a repr(C) integer-only
    // record (any bit pattern is valid), and read_unaligned has no alignment
    // requirement.
    Ok(unsafe { std::ptr::read_unaligned(bytes.as_ptr().cast::<T>()) })
}

/// An skb record, whole or without its page list (`SKB_EVENT_SHORT`:
/// none of its frags is a page of the demo file).
fn read_skb(bytes: &[u8]) -> Result<SkbEvent, DecodeError> {
    if bytes.len() != SKB_EVENT_SHORT {
        return read_exact(bytes, Kind::Skb);
    }
    let mut e = SkbEvent {
        frag_pages: [NO_PAGE; MAX_FRAGS],
        ..SkbEvent::default()
    };
    // SAFETY: the first SKB_EVENT_SHORT bytes of the repr(C), integer-only
    // SkbEvent are overwritten with as many bytes; any bit pattern is valid.
    unsafe {
        std::ptr::copy_nonoverlapping(
            bytes.as_ptr(),
            (&mut e as *mut SkbEvent).cast::<u8>(),
            SKB_EVENT_SHORT,
        )
    };
    Ok(e)
}

/// Decodes one ring-buffer record.
pub fn decode(bytes: &[u8]) -> Result<Record, DecodeError> {
    if bytes.len() < size_of::<Header>() {
        return Err(DecodeError::Short(bytes.len()));
    }
    let raw_kind = u16::from_ne_bytes([bytes[12], bytes[13]]);
    let kind = Kind::from_u16(raw_kind).ok_or(DecodeError::UnknownKind(raw_kind))?;
    Ok(match kind {
        Kind::Syscall => Record::Syscall(read_exact(bytes, kind)?),
        Kind::Sched => Record::Sched(read_exact(bytes, kind)?),
        Kind::Fault => Record::Fault(read_exact(bytes, kind)?),
        Kind::Filemap => Record::Filemap(read_exact(bytes, kind)?),
        Kind::Block => Record::Block(read_exact(bytes, kind)?),
        Kind::Send => Record::Send(read_exact(bytes, kind)?),
        Kind::Skb => Record::Skb(Box::new(read_skb(bytes)?)),
        Kind::Recv => Record::Recv(read_exact(bytes, kind)?),
        Kind::Dma => Record::Dma(read_exact(bytes, kind)?),
        Kind::Completion => Record::Completion(read_exact(bytes, kind)?),
        Kind::Forward => Record::Forward(read_exact(bytes, kind)?),
        Kind::Ring => Record::Ring(read_exact(bytes, kind)?),
        Kind::Thread => Record::Thread(read_exact(bytes, kind)?),
    })
}

/// Values above this are addresses (a mapping mmap returned, a kernel
/// pointer), never byte counts or descriptors.
const ADDRESS_LIKE: u64 = 1 << 40;

/// Drops a value that looks like an address.
pub fn scrub(v: u64) -> u64 {
    if v > ADDRESS_LIKE { 0 } else { v }
}

/// Turns one run's records, in time order, into plain events.
#[derive(Debug, Default)]
pub struct Decoder {
    /// Kernel pointers (skbs, io_uring requests) → small ids, in order of
    /// first use.
    ids: HashMap<u64, u64>,
    /// The address of the file mapping the run made (mmap), kept only to
    /// tell where a later call's buffer lies in it.
    map_base: Option<u64>,
    /// The stream's first sequence number, once the kernel has said it:
    /// skbs are told by their offset from it.
    stream_start: Option<u32>,
}

impl Decoder {
    /// A decoder for a run whose TCP stream starts at sequence number
    /// `stream_start`, if known (without it, skbs carry no offset).
    pub fn new(stream_start: Option<u32>) -> Decoder {
        Decoder {
            stream_start,
            ..Decoder::default()
        }
    }

    /// Every record of a run, in order.
    pub fn run(stream_start: Option<u32>, records: &[Record]) -> Vec<Event> {
        let mut d = Decoder::new(stream_start);
        records.iter().map(|r| d.event(r)).collect()
    }

    fn id(&mut self, ptr: u64) -> u64 {
        if ptr == 0 {
            return 0;
        }
        let next = self.ids.len() as u64 + 1;
        *self.ids.entry(ptr).or_insert(next)
    }

    fn at(&self, seq: u32) -> Option<u32> {
        self.stream_start.map(|start| seq.wrapping_sub(start))
    }

    /// Where `buf` lies in the file mapping, if it does.
    fn map_offset(&self, buf: u64) -> Option<u64> {
        let base = self.map_base?;
        buf.checked_sub(base).filter(|off| *off < ADDRESS_LIKE)
    }

    /// The plain event of one record.
    pub fn event(&mut self, r: &Record) -> Event {
        let t = r.ts_ns();
        match r {
            Record::Syscall(s) if s.h.op == op::SYS_ENTER => Event::SysEnter {
                t,
                nr: s.nr,
                fd: scrub(s.args[0]),
                count: scrub(s.args[2]),
                map_offset: self.map_offset(s.args[1]),
            },
            Record::Syscall(s) => {
                let address = s.ret as u64 > ADDRESS_LIKE && s.ret > 0;
                let new_mapping = address && crate::model::syscalls::name(s.nr) == "mmap";
                if new_mapping {
                    self.map_base = Some(s.ret as u64);
                }
                Event::SysExit {
                    t,
                    nr: s.nr,
                    ret: if address { 0 } else { s.ret },
                    new_mapping,
                }
            }
            Record::Sched(s) if s.h.op == op::SCHED_OUT => Event::SchedOut {
                t,
                blocked: sched_blocked(s.prev_state),
            },
            Record::Sched(_) => Event::SchedIn { t },
            Record::Fault(f) => Event::Fault {
                t,
                kernel: f.h.op == op::FAULT_KERNEL,
            },
            Record::Filemap(f) => Event::Filemap {
                t,
                op: f.h.op,
                index: f.index,
                last_index: f.last_index,
                order: f.order,
            },
            Record::Block(b) => Event::Block {
                t,
                issue: b.h.op == op::BLOCK_ISSUE,
                sector: b.sector,
                nr_sector: b.nr_sector,
                bytes: b.bytes,
            },
            Record::Send(s)
                if s.h.op == op::SEND_TCP_SENDMSG || s.h.op == op::SEND_TCP_SENDPAGE =>
            {
                Event::TcpSendmsg {
                    t,
                    skb: self.id(s.skb),
                    skb_len: s.skb_len,
                    msg_left: s.msg_left,
                    size_goal: s.size_goal,
                    iter_type: s.iter_type,
                    splice: s.splice != 0,
                    source: s.source,
                    sendpage: s.h.op == op::SEND_TCP_SENDPAGE,
                }
            }
            Record::Send(s) => Event::SockSend {
                t,
                ret: s.ret,
                source: s.source,
            },
            Record::Skb(s) if s.h.op == op::SKB_DROP || s.h.op == op::SKB_LOST => Event::Drop {
                t,
                skb: self.id(s.skb),
                payload: s.payload,
                reason: s.reason,
                lost: s.h.op == op::SKB_LOST,
                at: self.at(s.seq),
            },
            Record::Skb(s) if s.h.op == op::SKB_RETRANSMIT => Event::Retransmit {
                t,
                skb: self.id(s.skb),
                payload: s.payload,
                at: self.at(s.seq),
                failed: s.reason != 0,
            },
            Record::Skb(s) => Event::Skb {
                t,
                queue: s.h.op == op::SKB_QUEUE,
                skb: self.id(s.skb),
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
                at: self.at(s.seq),
                skbs: s.skbs.max(1),
            },
            Record::Recv(r) => Event::Recv {
                t,
                skb: self.id(r.skb),
                len: r.len,
                copies: r.copies.max(1),
            },
            Record::Dma(d) => Event::Dma {
                t,
                engine: if d.h.op == op::DMA_DISK {
                    zc_trace::DmaEngine::Disk
                } else {
                    zc_trace::DmaEngine::Nic
                },
                size: d.size,
                page: match d.page {
                    dma_page::FILE => zc_trace::DmaPage::File,
                    dma_page::USER => zc_trace::DmaPage::User,
                    dma_page::UNNAMED => zc_trace::DmaPage::Unnamed,
                    _ => zc_trace::DmaPage::Kernel,
                },
                // Pages of one folio are consecutive in the file as in memory.
                file_pages: (d.file_index != NO_PAGE).then(|| {
                    let span = (d.offset as u64 + d.size.max(1) - 1) / 4096;
                    [d.file_index, d.file_index.saturating_add(span as u32)]
                }),
            },
            Record::Forward(f) => Event::Forward {
                t,
                skb: self.id(f.skb),
                payload: f.payload,
                user_bytes: f.user_bytes,
                copied_bytes: f.copied_bytes,
                shinfo_flags: f.shinfo_flags,
            },
            Record::Ring(r) => Event::Ring {
                t,
                complete: r.h.op == op::RING_COMPLETE,
                user_data: self.id(r.user_data),
                res: r.res,
                cflags: r.cflags,
                opcode: r.opcode,
                sq_thread: r.sq_thread != 0,
                helper: r.helper != 0,
            },
            Record::Thread(th) => Event::Thread {
                t,
                name: String::from_utf8_lossy(&th.comm)
                    .split('\0')
                    .next()
                    .unwrap_or("")
                    .to_string(),
            },
            Record::Completion(c) => Event::Completion {
                t,
                lo: c.lo,
                hi: c.hi,
                bytes: c.bytes,
                copied: c.code & SO_EE_CODE_ZEROCOPY_COPIED != 0,
            },
        }
    }
}

/// Test and fixture helper: the bytes of a record, as the kernel writes them.
pub fn encode<T: Copy>(record: &T) -> Vec<u8> {
    // SAFETY: T is a repr(C) record without uninitialised padding (padding is
    // written out as fields), so all of its bytes are initialised.
    unsafe { std::slice::from_raw_parts((record as *const T).cast::<u8>(), size_of::<T>()) }
        .to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hdr(kind: Kind, op: u16) -> Header {
        Header {
            ts_ns: 42,
            tid: 7,
            kind: kind as u16,
            op,
        }
    }

    #[test]
    fn round_trips_each_kind() {
        let sys = SyscallEvent {
            h: hdr(Kind::Syscall, op::SYS_EXIT),
            nr: 1,
            args: [3, 4, 5],
            ret: 65536,
        };
        assert_eq!(decode(&encode(&sys)), Ok(Record::Syscall(sys)));
        let skb = SkbEvent {
            h: hdr(Kind::Skb, op::SKB_XMIT),
            skb: 0xffff_8880_dead_beef,
            len: 65226,
            data_len: 65160,
            payload: 65160,
            file_bytes: 65160,
            nr_frags: 17,
            file_frags: 17,
            shinfo_flags: SKBFL_SHARED_FRAG,
            ..Default::default()
        };
        assert_eq!(decode(&encode(&skb)), Ok(Record::Skb(Box::new(skb))));
        // Without its page list: the same record, every frag naming no page.
        let short = &encode(&skb)[..SKB_EVENT_SHORT];
        let want = SkbEvent {
            frag_pages: [zc_common::NO_PAGE; zc_common::MAX_FRAGS],
            ..skb
        };
        assert_eq!(decode(short), Ok(Record::Skb(Box::new(want))));
    }

    /// A DMA map leaves the kernel as what its page is: the file's pages it
    /// covers (from its first page, offset and size), or none.
    #[test]
    fn a_dma_map_names_the_file_pages_it_covers() {
        let mut d = Decoder::new(None);
        let map = |op, page, index, offset, size| {
            Record::Dma(DmaEvent {
                h: hdr(Kind::Dma, op),
                size,
                file_index: index,
                page,
                _pad: 0,
                offset,
            })
        };
        let nic = map(op::DMA_NIC, dma_page::FILE, 17, 0x800, 4096);
        assert_eq!(
            d.event(&nic),
            Event::Dma {
                t: 42,
                engine: zc_trace::DmaEngine::Nic,
                size: 4096,
                page: zc_trace::DmaPage::File,
                file_pages: Some([17, 18]),
            }
        );
        let disk = map(op::DMA_DISK, dma_page::FILE, 0, 0, 65536);
        assert!(matches!(
            d.event(&disk),
            Event::Dma {
                engine: zc_trace::DmaEngine::Disk,
                file_pages: Some([0, 15]),
                ..
            }
        ));
        let head = map(op::DMA_NIC, dma_page::OTHER, NO_PAGE, 0x40, 66);
        assert!(matches!(
            d.event(&head),
            Event::Dma {
                page: zc_trace::DmaPage::Kernel,
                file_pages: None,
                ..
            }
        ));
    }

    /// Kernel pointers become small ids, the same pointer the same id, and
    /// no plain event (nor its JSON) holds one.
    #[test]
    fn pointers_become_small_ids() {
        let mut d = Decoder::new(None);
        let skb = |t, ptr| {
            Record::Skb(Box::new(SkbEvent {
                h: hdr(Kind::Skb, op::SKB_XMIT),
                skb: ptr,
                payload: 100 + t,
                ..Default::default()
            }))
        };
        let ids: Vec<u64> = [
            0xffff_8880_1234_5678,
            0xffff_8880_0000_0001,
            0xffff_8880_1234_5678,
        ]
        .into_iter()
        .enumerate()
        .map(|(i, p)| match d.event(&skb(i as u32, p)) {
            Event::Skb { skb, .. } => skb,
            other => panic!("{other:?}"),
        })
        .collect();
        assert_eq!(ids, [1, 2, 1]);
        let json = serde_json::to_string(&d.event(&skb(9, 0xffff_8880_1234_5678))).expect("json");
        assert!(
            !json.contains(&0xffff_8880_1234_5678u64.to_string()),
            "{json}"
        );
    }

    /// mmap's address is dropped, and a later call into the mapping keeps
    /// its offset there, not its address; a munmap'd mapping's offsets are
    /// the model's to ignore.
    #[test]
    fn a_mapping_is_told_by_offset_never_by_address() {
        let mut d = Decoder::new(None);
        let base = 0x7f12_3456_0000u64;
        let nr = |n| crate::model::syscalls::number(n).expect("known");
        let mmap = Record::Syscall(SyscallEvent {
            h: hdr(Kind::Syscall, op::SYS_EXIT),
            nr: nr("mmap"),
            args: [0; 3],
            ret: base as i64,
        });
        assert_eq!(
            d.event(&mmap),
            Event::SysExit {
                t: 42,
                nr: nr("mmap"),
                ret: 0,
                new_mapping: true,
            }
        );
        let write = Record::Syscall(SyscallEvent {
            h: hdr(Kind::Syscall, op::SYS_ENTER),
            nr: nr("write"),
            args: [5, base + 17 * 4096, 4096],
            ret: 0,
        });
        let e = d.event(&write);
        assert_eq!(
            e,
            Event::SysEnter {
                t: 42,
                nr: nr("write"),
                fd: 5,
                count: 4096,
                map_offset: Some(17 * 4096),
            }
        );
        let json = serde_json::to_string(&e).expect("json");
        assert!(!json.contains(&base.to_string()), "{json}");
        // A buffer outside any mapping has no offset, and a pointer-sized
        // argument is no descriptor or size.
        let other = Record::Syscall(SyscallEvent {
            h: hdr(Kind::Syscall, op::SYS_ENTER),
            nr: nr("read"),
            args: [0xffff_8880_0000_0000, 0x1000, 0xffff_8880_0000_0000],
            ret: 0,
        });
        assert!(matches!(
            Decoder::new(None).event(&other),
            Event::SysEnter {
                fd: 0,
                count: 0,
                map_offset: None,
                ..
            }
        ));
    }

    /// Each skb is placed by its offset from the stream's first byte, across
    /// the 32-bit wrap, never by its sequence number; with the start not
    /// known, by none; and a failed retransmission stays failed.
    #[test]
    fn skbs_are_placed_by_their_offset_in_the_stream() {
        let start = 0xffff_f000u32;
        let rec = |op, off: u32, reason| {
            Record::Skb(Box::new(SkbEvent {
                h: hdr(Kind::Skb, op),
                skb: 0xffff_8880_0000_1000,
                payload: 1000,
                seq: start.wrapping_add(off),
                reason,
                ..Default::default()
            }))
        };
        let mut d = Decoder::new(Some(start));
        assert!(matches!(
            d.event(&rec(op::SKB_QUEUE, 0x10_0000, 0)),
            Event::Skb {
                queue: true,
                at: Some(0x10_0000),
                ..
            }
        ));
        assert!(matches!(
            d.event(&rec(op::SKB_LOST, 5, 0)),
            Event::Drop {
                lost: true,
                at: Some(5),
                ..
            }
        ));
        let e = d.event(&rec(op::SKB_RETRANSMIT, 7, 1));
        assert!(matches!(
            e,
            Event::Retransmit {
                failed: true,
                at: Some(7),
                ..
            }
        ));
        assert!(
            !serde_json::to_string(&e)
                .expect("json")
                .contains(&start.to_string())
        );
        assert!(matches!(
            Decoder::new(None).event(&rec(op::SKB_XMIT, 0, 0)),
            Event::Skb {
                queue: false,
                at: None,
                ..
            }
        ));
    }

    /// A page handed to TCP through tcp_sendpage says so; a send through
    /// tcp_sendmsg_locked does not.
    #[test]
    fn the_send_function_is_kept() {
        for (op, sendpage) in [(op::SEND_TCP_SENDPAGE, true), (op::SEND_TCP_SENDMSG, false)] {
            let send = Record::Send(SendEvent {
                h: hdr(Kind::Send, op),
                msg_left: 4096,
                splice: 1,
                source: source::SPLICE,
                ..Default::default()
            });
            let e = Decoder::new(None).event(&send);
            assert!(
                matches!(e, Event::TcpSendmsg { sendpage: s, splice: true, .. } if s == sendpage),
                "{e:?}"
            );
        }
    }

    #[test]
    fn rejects_short_unknown_and_wrong_length() {
        assert_eq!(decode(&[0u8; 4]), Err(DecodeError::Short(4)));
        let mut bad = encode(&hdr(Kind::Syscall, 0));
        bad[12] = 99;
        assert_eq!(decode(&bad), Err(DecodeError::UnknownKind(99)));
        let truncated = encode(&SyscallEvent {
            h: hdr(Kind::Syscall, 0),
            ..Default::default()
        });
        assert!(matches!(
            decode(&truncated[..40]),
            Err(DecodeError::BadLength { want: 56, .. })
        ));
    }
}
