//! The byte ledger: every byte of the file, hop by hop, in a class.
//!
//! A file of N bytes crosses four hops on its way to the receiver. At each
//! hop every byte must be in exactly one class — copied by the CPU, mapped,
//! referenced, pinned, or (at the device) carried in pages the socket
//! already owned — and what the classes do not cover is
//! `unexplained_bytes`, never folded into a neighbour. Retransmitted and
//! dropped bytes are columns of their own: a retransmission passes the
//! device again (referencing the same pages again, with zero copy), and a
//! drop never reaches it; neither is a first transmission.
//!
//! All figures come from the in-kernel counters; a class with no evidence
//! on this kernel is labelled as inferred, with its reason.

use serde::Serialize;
use zc_common::counters::Counter as C;

use super::{PAGE_SIZE, Place, counts::Counts, facts::RunFacts, rules, stream::StreamCheck};

/// One hop of the bytes' way.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Hop {
    /// `file_to_sender`, `sender_to_socket`, `socket_to_device`, `device_to_receiver`.
    pub hop: &'static str,
    pub from: Place,
    pub to: Place,
    /// Bytes that must cross this hop: the file's size.
    pub payload_bytes: u64,
    /// Copied by the CPU.
    pub copied_bytes: u64,
    /// Mapped into the program (mmap), seen by events.
    pub mapped_bytes: u64,
    /// Mapped without an event: a large folio or a PMD mapped whole
    /// (`filemap_map_pmd` emits no `mm_filemap_map_pages`). Inferred, not seen.
    pub mapped_inferred_bytes: u64,
    /// Referenced: the same pages, no copy, proved by frags or page counts.
    pub referenced_bytes: u64,
    /// Pinned user pages (MSG_ZEROCOPY, io_uring's zero-copy send).
    pub pinned_bytes: u64,
    /// At the device: payload in pages the socket already owned (copied, or
    /// encrypted, at an earlier hop), passed on as they are.
    pub socket_pages_bytes: u64,
    /// Sealed by kernel TLS into the socket's own pages (sender to socket),
    /// or opened straight into the reader's buffer (device to receiver): a
    /// CPU pass that writes new bytes. Inferred from the kernel's record
    /// counts (`rules::tls_sealed`, `rules::tls_opened_in_place`): no
    /// tracepoint sees the cipher.
    pub encrypted_bytes: u64,
    pub decrypted_bytes: u64,
    /// At the device, of the payload: the TLS records' headers, nonces and
    /// tags, which are not the file's bytes (records sealed × 29 bytes).
    /// The hop's payload is the file plus these.
    pub tls_overhead_bytes: u64,
    /// Sent again after a loss (not part of the first transmission).
    pub retransmitted_bytes: u64,
    /// Dropped before the device: sent again by TCP, as new data when the
    /// transmit failed, or as a retransmission when it was lost unseen.
    pub dropped_bytes: u64,
    /// Of those, the bytes lost after TCP was told they left (a piece of a
    /// queued skb, or dropped by the driver): TCP had to retransmit them.
    pub lost_bytes: u64,
    /// Pinned bytes the kernel copied anyway before the peer read them (its
    /// completions say `SO_EE_CODE_ZEROCOPY_COPIED`): a CPU copy of bytes
    /// already counted as pinned here, itemized, not a second crossing.
    pub copied_anyway_bytes: u64,
    /// At the device: payload TCP's own count says passed (`tcpi_bytes_sent`,
    /// less what was dropped on the way) for which no probe event came.
    /// Measured by TCP, not by zc; ftrace and the driver's counters saw
    /// such skbs where zc's program did not (docs/evidence.md, "Unseen").
    pub unseen_bytes: u64,
    /// The same at the device's queue (`net_dev_queue`).
    pub unseen_queued_bytes: u64,
    /// Retransmissions TCP counted (`tcpi_bytes_retrans`) that no probe
    /// run saw at `tcp_retransmit_skb`.
    pub unseen_retransmitted_bytes: u64,
    /// By ranges: bytes TCP sent again as new data (after a failed
    /// transmit) that no probe run saw at the queue.
    pub unseen_resent_bytes: u64,
    /// Bytes whose events the kernel skipped: the programs that count
    /// this hop's bytes missed runs (a program is not re-entered on a CPU,
    /// and where tracepoints run preemptible a task preempted inside one
    /// holds it), and the demo's own count (its syscalls' return values)
    /// says the bytes crossed. At most the skipped runs times the most one
    /// run can count. Not classed: how they moved went unseen.
    pub skipped_bytes: u64,
    /// Moved by a device's DMA engine, no CPU: a disk's into the page
    /// cache, a NIC's out of memory onto the wire. Seen as DMA maps.
    pub dma_bytes: u64,
    /// Of the DMA bytes, the ones in the demo file's own page-cache pages
    /// (page identity at the engine): itemized, not a class of its own.
    pub dma_file_page_bytes: u64,
    /// At `memory_to_nic`: bytes of the skbs the device took that no seen
    /// map covered, because the kernel skipped runs of the map's program,
    /// within what those runs could hold (an skb each). The skbs' payload
    /// is counted whole in `dma_bytes` (the device took them, and a device
    /// reads only what was mapped); these are the maps zc did not see.
    /// Itemized, not a class.
    pub skipped_map_bytes: u64,
    /// What the classes leave unexplained (0 when the hop balances).
    pub unexplained_bytes: u64,
}

impl Hop {
    fn new(hop: &'static str, from: Place, to: Place, payload: u64) -> Hop {
        Hop {
            hop,
            from,
            to,
            payload_bytes: payload,
            copied_bytes: 0,
            mapped_bytes: 0,
            mapped_inferred_bytes: 0,
            referenced_bytes: 0,
            pinned_bytes: 0,
            socket_pages_bytes: 0,
            encrypted_bytes: 0,
            decrypted_bytes: 0,
            tls_overhead_bytes: 0,
            retransmitted_bytes: 0,
            dropped_bytes: 0,
            lost_bytes: 0,
            copied_anyway_bytes: 0,
            unseen_bytes: 0,
            unseen_queued_bytes: 0,
            unseen_retransmitted_bytes: 0,
            unseen_resent_bytes: 0,
            skipped_bytes: 0,
            dma_bytes: 0,
            dma_file_page_bytes: 0,
            skipped_map_bytes: 0,
            unexplained_bytes: 0,
        }
    }

    /// Bytes the classes account for.
    pub fn explained(&self) -> u64 {
        self.copied_bytes
            + self.mapped_bytes
            + self.mapped_inferred_bytes
            + self.referenced_bytes
            + self.pinned_bytes
            + self.socket_pages_bytes
            + self.encrypted_bytes
            + self.decrypted_bytes
            + self.dma_bytes
    }

    /// Sets `unexplained_bytes` to the gap between payload and classes
    /// (with the bytes TCP's own count vouches for, unseen), whichever way
    /// it goes (too few bytes or too many are both wrong).
    fn balance(mut self) -> Hop {
        self.unexplained_bytes = self
            .payload_bytes
            .abs_diff(self.explained() + self.unseen_bytes + self.skipped_bytes);
        self
    }

    /// Itemizes a shortfall as skipped: only when the kernel skipped `runs`
    /// runs of the programs that count this hop (each counting at most
    /// `per_run` bytes) and the demo's own count, `witness`, says the whole
    /// payload crossed. An excess, or a shortfall with no skipped run or
    /// beyond what they could hold, stays unexplained.
    fn skipped(mut self, runs: u64, per_run: u64, witness: u64) -> Hop {
        if runs > 0 && witness == self.payload_bytes {
            let short = self
                .payload_bytes
                .saturating_sub(self.explained() + self.unseen_bytes);
            self.skipped_bytes = short.min(runs.saturating_mul(per_run));
        }
        self
    }
}

/// The ledger of one run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ledger {
    pub hops: Vec<Hop>,
    pub unexplained_bytes: u64,
    pub retransmitted_bytes: u64,
    pub dropped_bytes: u64,
    /// The same bytes by their place in the TCP stream (`None` when events
    /// were lost, or the stream's start was not seen).
    pub stream: Option<StreamCheck>,
}

impl Ledger {
    /// The hops that do not add up.
    pub fn unbalanced(&self) -> impl Iterator<Item = &Hop> {
        self.hops.iter().filter(|h| h.unexplained_bytes > 0)
    }
}

/// The ledger of a run from its counters.
pub fn ledger(c: &Counts, facts: &RunFacts, stream: Option<&StreamCheck>) -> Ledger {
    let size = facts.size;
    let user_place = facts.strategy.spec().user_place;

    // 1. File → sender: read() copies, mmap maps, splice references.
    let mut h1 = Hop::new("file_to_sender", Place::PageCache, user_place, size);
    h1.copied_bytes =
        rules::FILE_READS.iter().map(|n| c.bytes(n)).sum::<u64>() + c.get(C::IoReadBytes);
    let spliced = c.get(C::SendSpliceBytes);
    h1.referenced_bytes = rules::file_spliced(c);
    if user_place == Place::Mapping {
        // Fault-around maps a window of pages per event; pages past the end
        // of the file count no byte.
        let seen = (c.get(C::FilemapMapPagesPages) * PAGE_SIZE).min(size);
        h1.mapped_bytes = seen;
        // What the program wrote from the mapping was mapped, seen or not.
        let sent = c.get(C::SendUserBytes).min(size);
        h1.mapped_inferred_bytes = sent.saturating_sub(seen);
    }
    // Each of the loop's calls (or io_uring requests) moves at most a chunk.
    let loop_bytes = c.get(C::SenderLoopBytes);
    let h1 = h1
        .skipped(
            c.get(C::SkippedSyscallRuns)
                + c.get(C::SkippedPageCacheRuns)
                + c.get(C::SkippedIoUringRuns),
            facts.chunk,
            loop_bytes,
        )
        .balance();

    // 2. Sender → socket buffer: user memory copied or pinned; spliced pages
    // referenced only as far as they were seen as frags when TCP queued the
    // skbs: the file's pages, or the user's own that vmsplice lent (any
    // other spliced byte was copied, or unknown).
    let mut h2 = Hop::new("sender_to_socket", user_place, Place::SocketBuffer, size);
    h2.copied_bytes = c.get(C::SendUserBytes);
    // Pinned only as far as the user's pages were seen as frags of
    // zero-copy skbs when TCP queued them.
    let queued_refs = c.get(C::QueueFileBytes) + c.get(C::QueueUserBytes);
    h2.pinned_bytes = c.get(C::SendPinnedBytes).min(c.get(C::QueuePinnedBytes));
    h2.referenced_bytes = spliced.min(queued_refs);
    // Spliced into kernel TLS: the cipher's input, sealed into new pages.
    h2.encrypted_bytes = rules::tls_sealed(c);
    // A reference or a pin is proved at the queue only: of the bytes spliced
    // or pinned that no queue event showed, as many as TCP says reached the
    // queue unseen are unseen here too, not unexplained.
    let unproved = spliced.saturating_sub(queued_refs + h2.encrypted_bytes)
        + c.get(C::SendPinnedBytes)
            .saturating_sub(c.get(C::QueuePinnedBytes));
    h2.unseen_bytes = unproved.min(unseen_at_queue(c));
    let h2 = h2
        .skipped(
            c.get(C::SkippedSyscallRuns) + c.get(C::SkippedSendRuns),
            facts.chunk,
            loop_bytes,
        )
        .balance();

    // 3. Socket buffer → device, first transmissions. A whole skb dropped
    // at the queue is a failed transmit that TCP hears of and sends again as
    // new data; a piece lost after TCP was told it left (or a loss past the
    // device, in the peer) is repaired by a retransmission, which passes the
    // device again.
    let retrans = c.get(C::RetransmitBytes);
    // By ranges when the run has them: each drop once, classed by what TCP
    // did next; and every byte TCP sent again as new data, not only those
    // of a drop zc saw (a failed last segment sends its whole skb again).
    // By the kernel's counters otherwise.
    let (resent, lost, dropped) = match stream {
        // Lost: what TCP had to send again and was not told of; a spare
        // copy's loss needed no repair and is itemized in `stream` alone.
        Some(s) => (
            s.resent_bytes,
            s.dropped_lost_bytes + s.dropped_unrepaired_bytes,
            s.dropped_bytes,
        ),
        None => {
            let resent = c.get(C::DropResentBytes);
            let lost = c.get(C::DropLostBytes);
            (resent, lost, resent + lost)
        }
    };
    let seg = rules::segmentation(c);
    let at_device = c.get(C::XmitPayload);
    // Under kernel TLS the device carries records: the file's bytes
    // encrypted, plus each record's header, nonce and tag.
    let overhead = rules::tls_overhead(c);
    let wire = size + overhead;
    let mut h3 = Hop::new("socket_to_device", Place::SocketBuffer, Place::Nic, wire);
    h3.tls_overhead_bytes = overhead;
    h3.copied_bytes = seg.total();
    h3.referenced_bytes = c.get(C::XmitFileBytes) + c.get(C::XmitUserBytes);
    h3.pinned_bytes = c.get(C::XmitPinnedBytes);
    h3.copied_anyway_bytes = rules::copied_anyway(c);
    h3.socket_pages_bytes =
        at_device.saturating_sub(h3.copied_bytes + h3.referenced_bytes + h3.pinned_bytes);
    h3.retransmitted_bytes = retrans;
    h3.dropped_bytes = dropped;
    h3.lost_bytes = lost;
    let queued = c.get(C::QueuePayload);
    h3.unexplained_bytes = match (c.get(C::TcpInfoRead) != 0).then(|| c.get(C::TcpBytesSent)) {
        // TCP's own count of what it handed to IP is the second source:
        // every byte once, each retransmission, and each transmit that
        // failed and went again as new data. What of it no probe run saw
        // is itemized, at the queue and at the device; TCP disagreeing
        // with zc's retransmissions and drops, or zc seeing more than TCP
        // sent, is unexplained.
        Some(sent) => {
            let tried = retrans + c.get(C::RetransmitFailedBytes);
            let tcp_retrans = c.get(C::TcpBytesRetrans);
            h3.unseen_retransmitted_bytes = tcp_retrans.saturating_sub(tried);
            let reached = sent.checked_sub(dropped);
            h3.unseen_queued_bytes = unseen_at_queue(c);
            h3.unseen_bytes = reached.map_or(0, |r| r.saturating_sub(at_device));
            // By ranges, a failed retransmission is a retransmission (TCP
            // counts it so), not a byte sent again as new data; by counters
            // its drop is among the resent.
            let again = if stream.is_some() { tried } else { retrans };
            let expected = wire + again + h3.unseen_retransmitted_bytes + resent;
            // By ranges, bytes TCP sent again as new data where no probe
            // ran (a blind task's softirq) are unseen too, as far as the
            // queue's unseen bytes, less the holes and the unseen
            // retransmissions, leave room for them.
            if let Some(s) = stream {
                h3.unseen_resent_bytes = sent.saturating_sub(expected).min(
                    h3.unseen_queued_bytes
                        .saturating_sub(s.queue_hole_bytes + h3.unseen_retransmitted_bytes),
                );
            }
            sent.abs_diff(expected + h3.unseen_resent_bytes)
                + tried.saturating_sub(tcp_retrans)
                + queued.saturating_sub(sent)
                + reached.map_or(dropped - sent, |r| at_device.saturating_sub(r))
        }
        // Without it: every byte reached the device once, plus what was
        // retransmitted, less what was lost on the way (its retransmission
        // reached it); and everything queued reached the device or was
        // dropped.
        None => (at_device + lost).abs_diff(wire + retrans) + queued.abs_diff(at_device + dropped),
    };
    if let Some(s) = stream {
        h3.unexplained_bytes += stream_unexplained(s, &h3);
    }

    // 4. Device → receiver: the receiver's own copy.
    let mut h4 = Hop::new("device_to_receiver", Place::Nic, Place::Receiver, size);
    h4.copied_bytes = c.get(C::RecvCopyBytes);
    h4.decrypted_bytes = rules::tls_opened_in_place(c);
    let h4 = h4
        .skipped(
            c.get(C::SkippedRecvCopyRuns),
            super::facts::RECEIVE_BUFFER,
            c.get(C::ReceiverReadBytes),
        )
        .balance();

    let mut hops = Vec::new();
    hops.extend(disk_dma(c));
    hops.extend([h1, h2, h3]);
    hops.extend(nic_dma(c));
    hops.extend(nic_rx_dma(c));
    hops.push(h4);
    Ledger {
        unexplained_bytes: hops.iter().map(|h| h.unexplained_bytes).sum(),
        retransmitted_bytes: retrans,
        dropped_bytes: dropped,
        hops,
        stream: stream.cloned(),
    }
}

/// The disk's engine writing the file into the page cache, where it was
/// seen doing so: every byte the page cache took in for the file
/// (`mm_filemap_add_to_page_cache`) must have come by a DMA map into one
/// of the file's pages. None where no map was seen (a warm run, a virtio
/// disk without the DMA API, a kernel without the `dma` tracepoints).
fn disk_dma(c: &Counts) -> Option<Hop> {
    if c.get(C::DiskDmaMaps) == 0 {
        return None;
    }
    let mut h = Hop::new(
        "disk_to_page_cache",
        Place::Disk,
        Place::PageCache,
        c.get(C::FilemapAddBytes),
    );
    h.dma_bytes = c.get(C::DiskDmaBytes);
    h.dma_file_page_bytes = h.dma_bytes;
    // A skipped run of a map's program leaves one request's pages unmapped
    // here; the page cache's insertions (another program) are the witness.
    let witness = h.payload_bytes;
    Some(
        h.skipped(c.get(C::SkippedDmaRuns), MAX_REQUEST_BYTES, witness)
            .balance(),
    )
}

/// The most one disk map call is taken to carry: one block request, which
/// the block layer caps by default at `BLK_DEF_MAX_SECTORS_CAP` (4 MiB in
/// 6.18's block/blk.h). A device reporting a larger optimal I/O size may
/// raise the cap: a bound, labelled as such.
const MAX_REQUEST_BYTES: u64 = 4 << 20;

/// The most one map can carry: a whole GSO skb (64 KiB).
const MAX_SKB_BYTES: u64 = 64 << 10;

/// The NIC's engine reading the skbs out of memory, where it was seen
/// doing so. Two sources must agree: every payload byte the device took
/// (`net_dev_xmit`) was in an skb its driver mapped, and the maps cover
/// each such skb exactly (`skb->len`, headers included). None where no
/// map was seen (a veth, a kernel without the `dma` tracepoints).
fn nic_dma(c: &Counts) -> Option<Hop> {
    if c.get(C::NicDmaMaps) == 0 {
        return None;
    }
    let mut h = Hop::new(
        "memory_to_nic",
        Place::SocketBuffer,
        Place::Nic,
        c.get(C::XmitPayload),
    );
    h.dma_bytes = c.get(C::NicDmaSkbPayload);
    h.dma_file_page_bytes = c.get(C::NicDmaFileBytes);
    // A map the kernel skipped the program for (7.x: a task preempted
    // inside it holds it on its CPU) leaves its skb's bytes unmapped here,
    // at most an skb's worth per skipped run; the device's own count
    // (`net_dev_xmit`, another program) is the witness that they crossed.
    let runs = c.get(C::SkippedDmaRuns);
    let mut h = h
        .skipped(runs, MAX_SKB_BYTES, c.get(C::XmitPayload))
        .balance();
    let (maps, len) = (c.get(C::NicDmaBytes), c.get(C::NicDmaSkbLen));
    let budget = runs
        .saturating_mul(MAX_SKB_BYTES)
        .saturating_sub(h.skipped_bytes);
    let excused = if maps < len {
        (len - maps).min(budget)
    } else {
        0
    };
    h.unexplained_bytes += maps.abs_diff(len) - excused;
    h.skipped_map_bytes = excused;
    Some(h)
}

/// The receiving NIC's engine writing the frames into memory, where it
/// was seen doing so: every byte of TCP payload the NIC's driver handed up
/// (`napi_gro_receive_entry`, `netif_receive_skb_entry`) must be in a
/// buffer the driver had just taken back from that NIC's engine (a
/// FROM_DEVICE unmap or sync naming its bus device, on the same CPU just
/// before). None where no such pairing was seen (a veth, a kernel without
/// the `dma` tracepoints).
fn nic_rx_dma(c: &Counts) -> Option<Hop> {
    if c.get(C::NicRxDmaFrames) == 0 {
        return None;
    }
    let mut h = Hop::new(
        "nic_to_peer",
        Place::Nic,
        Place::Peer,
        c.get(C::NicRxPayload),
    );
    h.dma_bytes = c.get(C::NicRxDmaPayload);
    // A skipped run of a hand-back's program leaves its frame unpaired: at
    // most one frame (an skb's worth, with a NIC's receive offload) per
    // run; the frames' own program is the witness that they came.
    let witness = h.payload_bytes;
    Some(
        h.skipped(c.get(C::SkippedDmaRuns), MAX_SKB_BYTES, witness)
            .balance(),
    )
}

/// What the ranges leave unexplained at the device hop: a part of the
/// file no skb seen at the queue (or the device) held, beyond what TCP's
/// own count says passed there unseen (a drop never repaired is such a
/// hole), and any byte outside the file.
fn stream_unexplained(s: &StreamCheck, h3: &Hop) -> u64 {
    s.queue_hole_bytes.saturating_sub(h3.unseen_queued_bytes)
        + s.device_hole_bytes.saturating_sub(h3.unseen_bytes)
        + s.beyond_bytes
}

/// Payload TCP handed to IP (`tcpi_bytes_sent`) that no `net_dev_queue`
/// run saw; 0 when TCP's count was not read.
fn unseen_at_queue(c: &Counts) -> u64 {
    if c.get(C::TcpInfoRead) == 0 {
        return 0;
    }
    c.get(C::TcpBytesSent)
        .saturating_sub(c.get(C::QueuePayload))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        counts::SyscallTotals,
        rules,
        synthetic::{MIB, facts},
        syscalls::number,
    };

    /// Counts of a clean read+write run: read, copied in, passed on, received.
    fn read_write() -> Counts {
        let mut c = Counts::new();
        let nr = number("read").expect("read");
        c.syscalls.insert(
            nr,
            SyscallTotals {
                calls: 16,
                bytes: MIB,
            },
        );
        c.set(C::SendUserBytes, MIB);
        c.set(C::QueuePayload, MIB);
        c.set(C::XmitPayload, MIB);
        c.set(C::RecvCopyBytes, MIB);
        c
    }

    /// The demo's own counts agree with the run: every byte sent, received.
    fn witnessed(mut c: Counts) -> Counts {
        c.set(C::SenderLoopBytes, MIB);
        c.set(C::ReceiverReadBytes, MIB);
        c
    }

    #[test]
    fn a_copy_in_a_skipped_run_is_itemized_only_with_a_witness_and_a_bound() {
        let f = facts("read-write");
        // A receive copy the kernel skipped: the receiver's reads vouch.
        let mut c = witnessed(read_write());
        c.set(C::RecvCopyBytes, MIB - 376);
        c.set(C::SkippedRecvCopyRuns, 1);
        let l = ledger(&c, &f, None);
        assert_eq!(l.hops[3].skipped_bytes, 376, "{l:?}");
        assert_eq!(l.unexplained_bytes, 0, "{l:?}");
        // No skipped run of the receive copy (a syscall's is not its): unexplained.
        c.set(C::SkippedRecvCopyRuns, 0);
        c.set(C::SkippedSyscallRuns, 1);
        let l = ledger(&c, &f, None);
        assert_eq!(l.hops[3].skipped_bytes, 0);
        assert_eq!(l.hops[3].unexplained_bytes, 376);
        // The receiver's own count disagrees: unexplained.
        c.set(C::SkippedRecvCopyRuns, 1);
        c.set(C::ReceiverReadBytes, MIB - 376);
        assert_eq!(ledger(&c, &f, None).hops[3].unexplained_bytes, 376);

        // A read whose sys_exit was skipped: one chunk short at the first
        // hop, within one run's bound; two chunks short is past it.
        let mut c = witnessed(read_write());
        let nr = number("read").expect("read");
        c.syscalls.get_mut(&nr).expect("read").bytes = MIB - f.chunk;
        c.set(C::SkippedSyscallRuns, 1);
        let l = ledger(&c, &f, None);
        assert_eq!(l.hops[0].skipped_bytes, f.chunk, "{l:?}");
        assert_eq!(l.unexplained_bytes, 0, "{l:?}");
        c.syscalls.get_mut(&nr).expect("read").bytes = MIB - 2 * f.chunk;
        let l = ledger(&c, &f, None);
        assert_eq!(l.hops[0].skipped_bytes, f.chunk);
        assert_eq!(l.hops[0].unexplained_bytes, f.chunk);
        // Too many bytes is never a skipped run's doing.
        let mut c = witnessed(read_write());
        c.set(C::RecvCopyBytes, MIB + 10);
        c.set(C::SkippedRecvCopyRuns, 1);
        let l = ledger(&c, &f, None);
        assert_eq!(
            (l.hops[3].skipped_bytes, l.hops[3].unexplained_bytes),
            (0, 10)
        );
    }

    /// The DMA hops appear where a device's engine was seen, and balance
    /// only when two sources agree: the page cache's insertions with the
    /// disk's maps, the device's skbs with the NIC's maps.
    #[test]
    fn dma_hops_hold_the_engines_to_the_other_sources() {
        let f = facts("read-write");
        let l = ledger(&read_write(), &f, None);
        assert!(
            !l.hops.iter().any(|h| h.dma_bytes > 0),
            "no engine seen, no DMA hop: {l:?}"
        );
        assert_eq!(l.hops.len(), 4);
        let mut c = read_write();
        c.set(C::FilemapAddBytes, MIB);
        c.set(C::DiskDmaMaps, 40);
        c.set(C::DiskDmaBytes, MIB);
        // 20 skbs of 1 MiB payload, 66 bytes of headers each, all mapped.
        c.set(C::NicDmaMaps, 60);
        c.set(C::NicDmaBytes, MIB + 20 * 66);
        c.set(C::NicDmaSkbs, 20);
        c.set(C::NicDmaSkbLen, MIB + 20 * 66);
        c.set(C::NicDmaSkbPayload, MIB);
        let l = ledger(&c, &f, None);
        let names: Vec<&str> = l.hops.iter().map(|h| h.hop).collect();
        assert_eq!(
            names,
            [
                "disk_to_page_cache",
                "file_to_sender",
                "sender_to_socket",
                "socket_to_device",
                "memory_to_nic",
                "device_to_receiver"
            ]
        );
        assert_eq!(l.unexplained_bytes, 0, "{l:?}");
        assert_eq!(l.hops[4].dma_bytes, MIB);
        // An skb the device took that its driver did not map.
        c.set(C::NicDmaSkbPayload, MIB - 1448);
        assert_eq!(ledger(&c, &f, None).hops[4].unexplained_bytes, 1448);
        c.set(C::NicDmaSkbPayload, MIB);
        // Maps that do not cover their skbs exactly.
        c.set(C::NicDmaBytes, MIB + 20 * 66 - 66);
        assert_eq!(ledger(&c, &f, None).hops[4].unexplained_bytes, 66);
        c.set(C::NicDmaBytes, MIB + 20 * 66);
        // The disk's engine short of what the page cache took in.
        c.set(C::DiskDmaBytes, MIB - 4096);
        assert_eq!(ledger(&c, &f, None).hops[0].unexplained_bytes, 4096);
        c.set(C::DiskDmaBytes, MIB);
        // A skipped run of the map's program: an skb unmapped, itemized
        // as skipped (within an skb per run), not unexplained.
        c.set(C::NicDmaSkbPayload, MIB - 1824);
        c.set(C::NicDmaSkbLen, MIB - 1824 + 19 * 66);
        c.set(C::NicDmaBytes, MIB - 1824 + 19 * 66);
        assert_eq!(ledger(&c, &f, None).hops[4].unexplained_bytes, 1824);
        c.set(C::SkippedDmaRuns, 1);
        let h = &ledger(&c, &f, None).hops[4];
        assert_eq!((h.skipped_bytes, h.unexplained_bytes), (1824, 0), "{h:?}");
        // Part of an skb's maps skipped: its length is short too.
        c.set(C::NicDmaSkbPayload, MIB);
        c.set(C::NicDmaSkbLen, MIB + 20 * 66);
        c.set(C::NicDmaBytes, MIB + 20 * 66 - 1000);
        let h = &ledger(&c, &f, None).hops[4];
        assert_eq!(
            (h.skipped_map_bytes, h.unexplained_bytes),
            (1000, 0),
            "{h:?}"
        );
        c.set(C::SkippedDmaRuns, 0);
        assert_eq!(ledger(&c, &f, None).hops[4].unexplained_bytes, 1000);
    }

    /// The receiving NIC's hop: every payload byte its driver handed up
    /// must have come in a buffer just taken back from its engine.
    #[test]
    fn the_receiving_nics_hop_pairs_frames_with_their_buffers() {
        let f = facts("read-write");
        let mut c = read_write();
        // Frames counted, none paired (a kernel without the dma
        // tracepoints): no hop, not a hop of unexplained bytes.
        c.set(C::NicRxFrames, 725);
        c.set(C::NicRxPayload, MIB);
        let l = ledger(&c, &f, None);
        assert!(!l.hops.iter().any(|h| h.hop == "nic_to_peer"), "{l:?}");
        c.set(C::NicRxDmaFrames, 725);
        c.set(C::NicRxDmaPayload, MIB);
        let l = ledger(&c, &f, None);
        let names: Vec<&str> = l.hops.iter().map(|h| h.hop).collect();
        assert_eq!(
            names[names.len() - 2..],
            ["nic_to_peer", "device_to_receiver"]
        );
        let rx = &l.hops[names.len() - 2];
        assert_eq!((rx.dma_bytes, rx.unexplained_bytes), (MIB, 0), "{rx:?}");
        // One frame handed up with no hand-back before it.
        c.set(C::NicRxDmaPayload, MIB - 1448);
        let l = ledger(&c, &f, None);
        let rx = l
            .hops
            .iter()
            .find(|h| h.hop == "nic_to_peer")
            .expect("the hop");
        assert_eq!(rx.unexplained_bytes, 1448, "{rx:?}");
        assert_eq!(l.unexplained_bytes, 1448);
        // Unless the kernel skipped a hand-back's program once.
        c.set(C::SkippedDmaRuns, 1);
        let l = ledger(&c, &f, None);
        let rx = l
            .hops
            .iter()
            .find(|h| h.hop == "nic_to_peer")
            .expect("the hop");
        assert_eq!((rx.skipped_bytes, rx.unexplained_bytes), (1448, 0));
    }

    #[test]
    fn a_clean_run_balances_every_hop() {
        let l = ledger(&read_write(), &facts("read-write"), None);
        assert_eq!(l.unexplained_bytes, 0, "{l:?}");
        assert_eq!(l.hops[0].copied_bytes, MIB);
        assert_eq!(l.hops[2].socket_pages_bytes, MIB);
        assert_eq!(l.unbalanced().count(), 0);
    }

    /// A sendfile over kernel TLS: the file's pages go in by reference
    /// and leave sealed in the socket's own pages, 29 bytes longer per
    /// record; the receiver's kernel opens them into its buffer. It
    /// balances only with the kernel's record counts, and only with the
    /// right ones.
    #[test]
    fn kernel_tls_balances_with_the_kernels_record_counts() {
        let records = MIB / rules::TLS_RECORD_PAYLOAD;
        let wire = MIB + records * rules::TLS_RECORD_OVERHEAD;
        let mut c = witnessed(Counts::new());
        let nr = number("sendfile").expect("sendfile");
        c.syscalls.insert(
            nr,
            SyscallTotals {
                calls: 16,
                bytes: MIB,
            },
        );
        c.set(C::SendSpliceBytes, MIB);
        c.set(C::QueuePayload, wire);
        c.set(C::XmitPayload, wire);
        c.set(C::TcpBytesSent, wire);
        c.set(C::TcpInfoRead, 1);
        c.set(C::TlsTxRecords, records);
        c.set(C::TlsRxRecords, records);
        let f = facts("sendfile-gather");
        let l = ledger(&c, &f, None);
        assert_eq!(l.unexplained_bytes, 0, "{l:?}");
        assert_eq!(l.hops[0].referenced_bytes, MIB);
        assert_eq!(
            (l.hops[1].encrypted_bytes, l.hops[1].referenced_bytes),
            (MIB, 0)
        );
        let h3 = &l.hops[2];
        assert_eq!(
            (
                h3.payload_bytes,
                h3.socket_pages_bytes,
                h3.tls_overhead_bytes
            ),
            (wire, wire, wire - MIB)
        );
        assert_eq!(l.hops[3].decrypted_bytes, MIB);

        // One record fewer than the device carried: 29 bytes unexplained.
        c.set(C::TlsTxRecords, records - 1);
        let l = ledger(&c, &f, None);
        assert_eq!(
            l.hops[2].unexplained_bytes,
            rules::TLS_RECORD_OVERHEAD,
            "{l:?}"
        );
        // No records at all: nothing was sealed, and nothing explains the
        // socket's bytes or the longer stream.
        c.set(C::TlsTxRecords, 0);
        c.set(C::TlsRxRecords, 0);
        let l = ledger(&c, &f, None);
        assert_eq!(l.hops[1].unexplained_bytes, MIB);
        assert_eq!(l.hops[3].unexplained_bytes, MIB);
        assert!(l.hops[2].unexplained_bytes > 0);
    }

    #[test]
    fn a_missing_receiver_copy_is_unexplained_at_that_hop() {
        let mut c = read_write();
        c.set(C::RecvCopyBytes, MIB - 100);
        let l = ledger(&c, &facts("read-write"), None);
        assert_eq!(l.unexplained_bytes, 100);
        let bad: Vec<_> = l.unbalanced().map(|h| h.hop).collect();
        assert_eq!(bad, ["device_to_receiver"]);
    }

    #[test]
    fn retransmits_and_drops_are_itemized_not_added_in() {
        // 10 000 bytes lost after TCP was told they left, retransmitted;
        // 5 000 dropped whole at the queue and sent again as new data; 2 000
        // sent twice by a spurious retransmission.
        let mut c = read_write();
        c.set(C::RetransmitBytes, 12_000);
        c.set(C::DropLostBytes, 10_000);
        c.set(C::DropResentBytes, 5_000);
        c.set(C::XmitPayload, MIB + 2_000);
        c.set(C::QueuePayload, MIB + 2_000 + 10_000 + 5_000);
        let l = ledger(&c, &facts("read-write"), None);
        assert_eq!(l.unexplained_bytes, 0, "{l:?}");
        assert_eq!(l.retransmitted_bytes, 12_000);
        assert_eq!(l.dropped_bytes, 15_000);
        assert_eq!(l.hops[2].lost_bytes, 10_000);
        // A retransmission nobody saw leaves its bytes unexplained.
        c.set(C::RetransmitBytes, 2_000);
        assert_eq!(
            ledger(&c, &facts("read-write"), None).unexplained_bytes,
            10_000
        );
    }

    /// By ranges, bytes TCP sent again as new data where no probe ran are
    /// unseen as far as the queue's unseen bytes leave room, and no further.
    #[test]
    fn bytes_sent_again_unseen_fit_in_what_the_queue_did_not_see() {
        let mut c = read_write();
        let again = 2_896;
        c.set(C::TcpInfoRead, 1);
        c.set(C::TcpBytesSent, MIB + again);
        c.set(C::QueuePayload, MIB);
        c.set(C::XmitPayload, MIB);
        let f = facts("read-write");
        let s = StreamCheck {
            queued_bytes: MIB,
            ..StreamCheck::default()
        };
        let l = ledger(&c, &f, Some(&s));
        assert_eq!(l.hops[2].unseen_resent_bytes, again, "{l:?}");
        // Unseen at the device as well (TCP's count says they passed).
        assert_eq!(l.hops[2].unseen_bytes, again, "{l:?}");
        assert_eq!(l.unexplained_bytes, 0, "{l:?}");
        // Part of what the queue missed is a hole of the file: only the
        // rest can be bytes sent again, and what TCP says beyond it is
        // unexplained.
        c.set(C::TcpBytesSent, MIB + 2 * again);
        let s = StreamCheck {
            queue_hole_bytes: again,
            ..s
        };
        let l = ledger(&c, &f, Some(&s));
        assert_eq!(l.hops[2].unseen_resent_bytes, again, "{l:?}");
        assert!(l.hops[2].unexplained_bytes >= again, "{l:?}");
    }

    /// TCP's count of what it sent names the skbs no probe run saw: they
    /// are itemized at the queue and the device, and the hop balances; a
    /// retransmission TCP never made, or a skb seen twice, stays
    /// unexplained.
    #[test]
    fn skbs_tcp_sent_but_no_probe_saw_are_itemized_against_tcp_info() {
        let skb = 65_160;
        let mut c = read_write();
        c.set(C::RetransmitBytes, 2_896);
        // Two skbs unseen at the queue, one of them at the device too.
        c.set(C::QueuePayload, MIB + 2_896 - 2 * skb);
        c.set(C::XmitPayload, MIB + 2_896 - skb);
        let f = facts("read-write");
        // Without TCP's count the hop cannot balance.
        assert_eq!(ledger(&c, &f, None).hops[2].unexplained_bytes, 2 * skb);
        c.set(C::TcpInfoRead, 1);
        c.set(C::TcpBytesSent, MIB + 2_896);
        c.set(C::TcpBytesRetrans, 2_896);
        let l = ledger(&c, &f, None);
        assert_eq!(l.unexplained_bytes, 0, "{l:?}");
        assert_eq!(l.hops[2].unseen_queued_bytes, 2 * skb);
        assert_eq!(l.hops[2].unseen_bytes, skb);
        // A retransmission TCP counted and no probe saw: itemized too.
        c.set(C::TcpBytesSent, MIB + 2_896 + 1_448);
        c.set(C::TcpBytesRetrans, 2_896 + 1_448);
        c.set(C::XmitPayload, MIB + 2_896 - skb + 1_448);
        let l = ledger(&c, &f, None);
        assert_eq!(l.hops[2].unseen_retransmitted_bytes, 1_448);
        assert_eq!(l.unexplained_bytes, 0, "{l:?}");
        c.set(C::XmitPayload, MIB + 2_896 - skb);
        // TCP sent less than zc says was retransmitted: unexplained.
        c.set(C::TcpBytesSent, MIB);
        c.set(C::TcpBytesRetrans, 2_896);
        assert_eq!(ledger(&c, &f, None).hops[2].unexplained_bytes, 2_896);
        // The device saw more than TCP sent: unexplained, not unseen.
        c.set(C::TcpBytesSent, MIB + 2_896);
        c.set(C::XmitPayload, MIB + 2_896 + 100);
        let l = ledger(&c, &f, None);
        assert_eq!(l.hops[2].unseen_bytes, 0);
        assert_eq!(l.hops[2].unexplained_bytes, 100);
    }

    #[test]
    fn spliced_bytes_count_as_referenced_only_as_far_as_frags_show() {
        let f = facts("sendfile-gather");
        let mut c = Counts::new();
        c.set(C::SendSpliceBytes, MIB);
        c.set(C::QueuePayload, MIB);
        c.set(C::XmitPayload, MIB);
        c.set(C::XmitFileBytes, MIB);
        c.set(C::RecvCopyBytes, MIB);
        // TCP copied instead (a route without scatter-gather): no file frags.
        let l = ledger(&c, &f, None);
        assert_eq!(l.hops[1].referenced_bytes, 0);
        assert_eq!(l.hops[1].unexplained_bytes, MIB);
        c.set(C::QueueFileBytes, MIB);
        assert_eq!(ledger(&c, &f, None).hops[1].unexplained_bytes, 0);
        // One skb no queue event showed: its frags were never seen, so its
        // references are unseen as far as TCP says it was queued, and no
        // further.
        let skb = 65_160;
        c.set(C::QueueFileBytes, MIB - skb);
        c.set(C::QueuePayload, MIB - skb);
        c.set(C::XmitFileBytes, MIB - skb);
        c.set(C::XmitPayload, MIB - skb);
        assert_eq!(ledger(&c, &f, None).hops[1].unexplained_bytes, skb);
        c.set(C::TcpInfoRead, 1);
        c.set(C::TcpBytesSent, MIB);
        let l = ledger(&c, &f, None);
        assert_eq!(l.hops[1].unseen_bytes, skb);
        assert_eq!(l.hops[1].unexplained_bytes, 0, "{l:?}");
        assert_eq!(l.hops[2].unexplained_bytes, 0, "{l:?}");
        c.set(C::QueueFileBytes, MIB - 2 * skb);
        let l = ledger(&c, &f, None);
        assert_eq!(l.hops[1].unseen_bytes, skb);
        assert_eq!(l.hops[1].unexplained_bytes, skb);
    }

    #[test]
    fn mapped_bytes_without_an_event_are_inferred_and_labelled() {
        let f = facts("mmap-write");
        let mut c = read_write();
        c.syscalls.clear();
        c.set(C::FilemapMapPagesPages, 64); // 256 KiB seen
        let l = ledger(&c, &f, None);
        assert_eq!(l.hops[0].mapped_bytes, 256 << 10);
        assert_eq!(l.hops[0].mapped_inferred_bytes, MIB - (256 << 10));
        assert_eq!(l.hops[0].unexplained_bytes, 0);
    }
}
