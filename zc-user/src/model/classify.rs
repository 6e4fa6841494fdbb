//! Counts → the figures of the report: which bytes were copied by the CPU,
//! which only referenced, which came from disk, and how often the sender
//! crossed into the kernel. The copy rules are [`super::rules`], shared with
//! the event path; on top of them:
//! - frags whose page is a page-cache page of the demo file at
//!   `net_dev_start_xmit` reached the device by reference.
//! - folios added to the page cache for the demo file came from disk.

use std::collections::BTreeMap;

use serde::Serialize;
use zc_common::counters::Counter as C;

use super::{Movement, Place, counts::Counts, facts::RunFacts, rules, stream::StreamCheck};

/// Page size assumed for page counts in reports (x86_64 and most arm64).
pub const PAGE: u64 = super::PAGE_SIZE;

/// One movement of bytes with its measured size and the evidence for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MovementFigure {
    pub movement: Movement,
    pub from: Place,
    pub to: Place,
    pub bytes: u64,
    /// Operations that moved them, counted in `ops_unit`.
    pub ops: u64,
    /// What one operation is: `calls`, `folios`, `skbs`, `frags`, ...
    pub ops_unit: &'static str,
    /// Where in the kernel it happens.
    pub site: &'static str,
    /// Which events prove it.
    pub evidence: &'static str,
}

/// The measured figures of one run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Figures {
    pub syscalls: BTreeMap<String, u64>,
    pub syscall_total: u64,
    /// User↔kernel mode switches: two per syscall and two per user page fault.
    pub mode_switches: u64,
    pub sched_switches: u64,
    /// Switches where the sender had to wait (blocked).
    pub sched_blocked: u64,
    /// Switches where the sender was preempted while runnable.
    pub sched_preempted: u64,
    pub page_faults: u64,
    pub page_faults_user: u64,
    pub page_faults_kernel: u64,
    /// Interrupts taken while the sender was on the CPU outside a traced
    /// syscall: kernel entries it did not ask for, kept apart from the mode
    /// switches.
    pub async_entries: u64,
    /// Probe runs the kernel skipped (recursion on a CPU): events never seen.
    pub probe_misses: u64,
    /// The same, by program (only those that skipped a run).
    pub missed_runs: std::collections::BTreeMap<String, u64>,
    /// Tasks in whose context the kernel ran none of zc's programs, and how
    /// many of their stretches on a CPU went unseen.
    pub blind_tasks: Vec<super::counts::BlindTask>,
    pub cpu_copy_bytes: u64,
    pub reference_bytes: u64,
    /// Payload that reached the device in the sender's pinned pages.
    pub pinned_bytes: u64,
    /// Of that, copied by the kernel anyway before the peer got it.
    pub copied_anyway_bytes: u64,
    /// The zero-copy completions the sender read.
    pub zerocopy: Completions,
    /// The sender's io_uring and the kernel threads that worked for it.
    pub io_uring: Ring,
    pub disk_read_bytes: u64,
    pub block_read_bytes: u64,
    /// The NIC's engine: transmit maps of the demo's skbs and their bytes
    /// (0 on a veth).
    pub dma_maps: u64,
    pub dma_bytes: u64,
    /// Of those bytes, the ones the engine read straight from the demo
    /// file's page-cache pages, and from a program's own pages.
    pub nic_dma_file_bytes: u64,
    pub nic_dma_user_bytes: u64,
    /// The disk's engine: maps into the demo file's page-cache pages.
    pub disk_dma_maps: u64,
    pub disk_dma_bytes: u64,
    /// Maps whose page zc could not name.
    pub dma_unnamed: u64,
    /// The receiving NIC's engine (over borrowed NICs only).
    pub nic_rx: NicRx,
    pub receiver_copy_bytes: u64,
    pub skbs_queued: u64,
    pub skbs_transmitted: u64,
    pub file_frags_at_queue: u64,
    pub file_frags_at_device: u64,
    pub shared_frag_skbs_at_device: u64,
    pub movements: Vec<MovementFigure>,
    /// Every byte of the file, hop by hop.
    pub ledger: super::ledger::Ledger,
}

/// The receiving NIC: the frames its driver handed up, and which of them
/// came in a buffer just taken back from its own engine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NicRx {
    pub frames: u64,
    pub payload_bytes: u64,
    /// Frames paired with a hand-back of the NIC's own buffer, their
    /// payload (what the engine wrote of the stream) and the buffers'
    /// size.
    pub dma_frames: u64,
    pub dma_payload_bytes: u64,
    pub dma_buffer_bytes: u64,
    /// Fresh buffers the driver mapped for its ring.
    pub maps: u64,
    pub map_bytes: u64,
}

/// Where the kernel copied a zero-copy send's pages anyway, as page
/// identity at the veth's peer shows it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CopySite {
    /// Nothing was copied anyway.
    #[default]
    None,
    /// The veth's forward: the peer got other pages than the device.
    VethForward,
    /// After the veth: the peer got the user's own pages, so the copy came
    /// on local delivery (`skb_orphan_frags_rx`, the kernel's code says).
    LocalDelivery,
    /// A packet tap (tcpdump) on the receiving device: the peer's receive
    /// path copied the pages for it, before IP saw the skb.
    ReceiveTap,
    /// A packet tap on the sending device: its clone was copied, which
    /// marked the sends COPIED; the original went on in the user's pages.
    SendTap,
}

impl CopySite {
    pub fn kernel_path(self) -> &'static str {
        match self {
            CopySite::None => "",
            CopySite::VethForward => {
                "veth_xmit → __dev_forward_skb → skb_orphan_frags → skb_copy_ubufs"
            }
            CopySite::LocalDelivery => {
                "past the veth, on local delivery: ip_local_deliver_finish → skb_orphan_frags_rx → skb_copy_ubufs"
            }
            CopySite::ReceiveTap => {
                "past the veth, for the tap on the receiving device: __netif_receive_skb_core → deliver_skb → skb_orphan_frags_rx → skb_copy_ubufs"
            }
            CopySite::SendTap => {
                "at the sending device, for its tap: dev_queue_xmit_nit → deliver_skb (a clone) → skb_orphan_frags_rx → skb_copy_ubufs"
            }
        }
    }
}

/// Where the copy made anyway happened, from the forward counters.
pub fn copy_anyway_site(c: &Counts) -> CopySite {
    // In the order the skb meets them: the sending device's tap, the
    // veth's forward, the receiving device's tap, local delivery.
    if rules::copied_anyway(c) == 0 {
        CopySite::None
    } else if c.get(C::TapSendBytes) > 0 {
        CopySite::SendTap
    } else if c.get(C::ForwardCopiedBytes) > 0 {
        CopySite::VethForward
    } else if c.get(C::TapRecvBytes) > 0 {
        CopySite::ReceiveTap
    } else {
        CopySite::LocalDelivery
    }
}

/// What went through the sender's io_uring, and who did the work.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Ring {
    /// Requests submitted, and of them those the SQ thread issued (SQPOLL).
    pub submitted: u64,
    pub submitted_by_sq_thread: u64,
    /// Requests completed without error, by name (as the table's
    /// strategies name their opcodes; an opcode none of them submits, by
    /// number).
    pub completed: BTreeMap<String, u64>,
    /// READ completions, SEND_ZC completions (not their notifications),
    /// failed requests.
    pub reads: u64,
    pub sends_zc: u64,
    pub failed: u64,
    /// Kernel threads the sender started, their time on a CPU and their
    /// switches off one.
    pub kernel_threads: u64,
    pub kernel_thread_cpu_ns: u64,
    pub kernel_thread_sched_switches: u64,
}

/// Zero-copy completions read from the error queue, as the kernel wrote them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Completions {
    /// Notifications read (each covers a range of sends).
    pub notifications: u64,
    /// Sends they cover, and the bytes those sends pinned.
    pub completed_sends: u64,
    pub completed_bytes: u64,
    /// Notifications marked `SO_EE_CODE_ZEROCOPY_COPIED`, their sends and bytes.
    pub copied_notifications: u64,
    pub copied_sends: u64,
    pub copied_bytes: u64,
    /// Where the copy made anyway happened (page identity at the veth's peer).
    pub copy_site: CopySite,
    /// Bytes at the veth's peer still in the sender's pages, and copied by the veth.
    pub user_pages_past_veth_bytes: u64,
    pub copied_by_veth_bytes: u64,
    /// Bytes the receiver copied straight out of the sender's own pages
    /// (page identity at its `skb_copy_datagram_iovec`).
    pub user_pages_at_receiver_bytes: u64,
    /// Pinned bytes the sending device took while a packet tap was bound
    /// to it (its clone of them was copied), and pinned bytes that reached
    /// the receiving device's tap still in the user's pages.
    pub tap_sent_bytes: u64,
    pub tap_received_bytes: u64,
}

impl Figures {
    /// Bytes the CPU copied, per byte of the file (the article's "CPU copies").
    pub fn copy_passes(&self, size: u64) -> f64 {
        if size == 0 {
            0.0
        } else {
            self.cpu_copy_bytes as f64 / size as f64
        }
    }
}

/// Turns a run's counts (and its stream check, when it has one) into its
/// figures.
pub fn classify(c: &Counts, facts: &RunFacts, stream: Option<&StreamCheck>) -> Figures {
    let mut movements = Vec::new();
    let mut push = |movement, from, to, bytes, (ops, ops_unit), site, evidence| {
        if bytes > 0 || ops > 0 {
            movements.push(MovementFigure {
                movement,
                from,
                to,
                bytes,
                ops,
                ops_unit,
                site,
                evidence,
            });
        }
    };

    // Disk → page cache (only on a miss).
    let disk = c.get(C::FilemapAddBytes);
    push(
        Movement::Dma,
        Place::Disk,
        Place::PageCache,
        disk,
        (c.get(C::FilemapAdd), "folios"),
        "readahead into the page cache",
        "filemap:mm_filemap_add_to_page_cache + block:block_bio_queue + block_rq_complete",
    );

    // mmap: pages mapped on fault, not copied.
    let mapped_pages = c.get(C::FilemapMapPagesPages);
    let file_faults = c.get(C::FilemapFault) + c.get(C::FilemapMapPages);
    if facts.strategy.spec().user_place == Place::Mapping || file_faults > 0 {
        push(
            Movement::Mapping,
            Place::PageCache,
            Place::Mapping,
            mapped_pages * PAGE,
            (file_faults, "fault-around events"),
            "page fault → filemap_map_pages (fault-around)",
            "exceptions:page_fault_* + filemap:mm_filemap_map_pages/fault",
        );
    }

    // read(): page cache → user buffer.
    let read_bytes: u64 = rules::FILE_READS.iter().map(|n| c.bytes(n)).sum();
    let read_calls: u64 = rules::FILE_READS.iter().map(|n| c.calls(n)).sum();
    push(
        Movement::CpuCopy,
        Place::PageCache,
        Place::UserBuffer,
        read_bytes,
        (if read_bytes > 0 { read_calls } else { 0 }, "calls"),
        "read() → filemap_read → copy_to_user",
        "raw_syscalls:sys_exit(read).ret + filemap:mm_filemap_get_pages",
    );

    // io_uring's READ: the same copy, made inside the kernel by whichever
    // thread issued it (no read() call shows it).
    let ring_read = c.get(C::IoReadBytes);
    push(
        Movement::CpuCopy,
        Place::PageCache,
        Place::UserBuffer,
        ring_read,
        (
            if ring_read > 0 { c.get(C::IoReads) } else { 0 },
            "requests",
        ),
        "IORING_OP_READ → io_read → filemap_read → copy_to_user",
        "io_uring:io_uring_complete (IORING_OP_READ).res",
    );

    // write()/send() from user memory: user buffer (or mapping) → socket buffer.
    let user_send = c.get(C::SendUserBytes);
    let send_from = facts.strategy.spec().user_place;
    let write_calls: u64 = rules::SOCKET_WRITES.iter().map(|n| c.calls(n)).sum();
    // Sends made through a ring are no syscall: counted as the socket saw them.
    let ops = match (user_send, write_calls) {
        (0, _) => (0, "calls"),
        (_, 0) => (c.get(C::SockSend), "sends"),
        (_, n) => (n, "calls"),
    };
    push(
        Movement::CpuCopy,
        send_from,
        Place::SocketBuffer,
        user_send,
        ops,
        "tcp_sendmsg_locked → skb_copy_to_page_nocache",
        "tcp:tcp_sendmsg_locked (ITER_UBUF) + sock:sock_send_length.ret",
    );

    // splice through a pipe: file pages into the pipe, by reference.
    let splice = c.get(C::SendSpliceBytes);
    let through_pipe = facts.strategy.spec().uses(Place::Pipe);
    if through_pipe {
        push(
            Movement::Reference,
            Place::PageCache,
            Place::Pipe,
            rules::file_spliced(c),
            (
                if rules::file_spliced(c) > 0 {
                    c.get(C::FilemapGetPages)
                } else {
                    0
                },
                "page-cache lookups",
            ),
            "splice(file → pipe) → filemap_splice_read: page references into the pipe",
            "raw_syscalls:sys_exit(splice).ret + filemap:mm_filemap_get_pages",
        );
        // vmsplice: the user's own pages into the pipe, by reference.
        push(
            Movement::Reference,
            Place::UserBuffer,
            Place::Pipe,
            c.bytes("vmsplice"),
            (c.calls("vmsplice"), "calls"),
            "vmsplice → iter_to_pipe: references to the user's pages into the pipe",
            "raw_syscalls:sys_exit(vmsplice).ret",
        );
    }

    // Kernel TLS: the spliced pages are the cipher's input, sealed into
    // records in the socket's own pages. Counted by the kernel's records.
    let sealed = rules::tls_sealed(c);
    push(
        Movement::Cipher,
        Place::PageCache,
        Place::SocketBuffer,
        sealed,
        (c.get(C::TlsTxRecords), "records"),
        "tls_sw_sendmsg → tls_push_record → crypto_aead_encrypt: page-cache pages in, \
         ciphertext out into the socket's own pages",
        "the socket's TLS_TX record sequence (getsockopt SOL_TLS) before and after, and \
         raw_syscalls:sys_exit(sendfile).ret; no tracepoint on the cipher",
    );
    let splice = splice.saturating_sub(sealed);

    // sendfile/splice: the skb references the spliced pages; before 6.5,
    // page by page through tcp_sendpage.
    let by_page = c.get(C::TcpSendpage) > 0;
    let spliced_from = if through_pipe {
        Place::Pipe
    } else {
        Place::PageCache
    };
    push(
        Movement::Reference,
        spliced_from,
        Place::SocketBuffer,
        splice,
        (if splice > 0 { c.get(C::SockSend) } else { 0 }, "sends"),
        if by_page {
            "generic_splice_sendpage → tcp_sendpage → do_tcp_sendpages: the page referenced"
        } else {
            "splice_to_socket → tcp_sendmsg_locked(MSG_SPLICE_PAGES)"
        },
        if by_page {
            "tcp_sendpage() entry + return"
        } else {
            "tcp:tcp_sendmsg_locked (ITER_BVEC, MSG_SPLICE_PAGES) + sock:sock_send_length.ret"
        },
    );

    // Segmentation for a device without scatter-gather: paged → linear,
    // by the pages the copy is made from.
    let seg = rules::segmentation(c);
    let seg_copy = seg.total();
    let seg_ops = c.get(C::XmitSkbs);
    for (from, bytes, evidence) in [
        (
            Place::PageCache,
            seg.from_file,
            "net:net_dev_queue (paged, page-cache frags) vs net:net_dev_start_xmit (linear)",
        ),
        (
            Place::UserBuffer,
            seg.from_user,
            "net:net_dev_queue (paged, anonymous-page frags) vs net:net_dev_start_xmit (linear)",
        ),
        (
            Place::SocketBuffer,
            seg.from_other,
            "net:net_dev_queue (paged) vs net:net_dev_start_xmit (linear)",
        ),
    ] {
        push(
            Movement::CpuCopy,
            from,
            Place::Nic,
            bytes,
            (if bytes > 0 { seg_ops } else { 0 }, "skbs"),
            "validate_xmit_skb → skb_segment (device lacks scatter-gather)",
            evidence,
        );
    }

    // Page-cache pages that reached the device by reference.
    let file_reference = c.get(C::XmitFileBytes);
    push(
        Movement::Reference,
        Place::PageCache,
        Place::Nic,
        file_reference,
        (c.get(C::XmitFileFrags), "frags"),
        "dev_hard_start_xmit with frags pointing at page-cache pages",
        "net:net_dev_start_xmit frags → page → folio->mapping->host = demo inode",
    );
    // The sender's pinned pages: taken by the socket, and at the device.
    push(
        Movement::Pin,
        facts.strategy.spec().user_place,
        Place::SocketBuffer,
        c.get(C::SendPinnedBytes),
        (
            if c.get(C::SendPinnedBytes) > 0 {
                c.get(C::SockSend)
            } else {
                0
            },
            "sends",
        ),
        "tcp_sendmsg_locked(MSG_ZEROCOPY) → skb_zerocopy_iter_stream: user pages pinned as frags",
        "tcp:tcp_sendmsg_locked (ITER_UBUF, MSG_ZEROCOPY) + sock:sock_send_length.ret",
    );
    let pinned = c.get(C::XmitPinnedBytes);
    push(
        Movement::Pin,
        Place::UserBuffer,
        Place::Nic,
        pinned,
        (if pinned > 0 { c.get(C::XmitSkbs) } else { 0 }, "skbs"),
        "dev_hard_start_xmit with frags pointing at the sender's pinned pages",
        "net:net_dev_start_xmit: SKBFL_ZEROCOPY_ENABLE, frags → folio->mapping tagged anonymous",
    );
    // The copy made anyway: the kernel's own verdict on each completed
    // send (SO_EE_CODE_ZEROCOPY_COPIED), with the bytes those sends pinned.
    // Where it happened is measured by page identity at the veth's peer.
    let copied_anyway = rules::copied_anyway(c);
    let site = copy_anyway_site(c);
    push(
        Movement::CpuCopy,
        Place::UserBuffer,
        Place::Peer,
        copied_anyway,
        (c.get(C::ZcCopiedNotifications), "notifications"),
        site.kernel_path(),
        "the completions' COPIED verdict (sock_extended_err on the error queue, or the io_uring \
         notification's res) + net:netif_rx frags vs net:net_dev_start_xmit frags",
    );

    // The sender's own pages that reached the device by reference.
    let user_reference = c.get(C::XmitUserBytes);
    push(
        Movement::Reference,
        Place::UserBuffer,
        Place::Nic,
        user_reference,
        (
            if user_reference > 0 {
                c.get(C::XmitSkbs)
            } else {
                0
            },
            "skbs",
        ),
        "dev_hard_start_xmit with frags pointing at the sender's anonymous pages",
        "net:net_dev_start_xmit frags → page → folio->mapping tagged anonymous",
    );
    let reference = file_reference + user_reference;

    // What the device got. A NIC's engine reads what its driver mapped;
    // a veth copies nothing and does no DMA.
    let dma_payload = c.get(C::NicDmaSkbPayload);
    push(
        Movement::Dma,
        Place::SocketBuffer,
        Place::Nic,
        dma_payload,
        (c.get(C::NicDmaMaps), "maps"),
        "the driver's transmit maps the skb for the NIC's engine (ndo_start_xmit → dma_map_phys)",
        "dma:dma_map_phys TO_DEVICE between net:net_dev_start_xmit and net_dev_xmit, each \
         map's page named (physical page → struct page → folio->mapping)",
    );
    push(
        Movement::SoftwareTransmit,
        Place::SocketBuffer,
        Place::Nic,
        c.get(C::XmitPayload).saturating_sub(dma_payload),
        (
            c.get(C::XmitSkbs).saturating_sub(c.get(C::NicDmaSkbs)),
            "skbs",
        ),
        if facts.nic {
            "the NIC's driver took the skb, and no DMA map of it was seen"
        } else {
            "veth_xmit: the skb moves to the peer in memory"
        },
        "net:net_dev_start_xmit",
    );

    // The receiver's kernel TLS opened records straight into its buffer.
    let opened = rules::tls_opened_in_place(c);
    push(
        Movement::Cipher,
        Place::SocketBuffer,
        Place::Receiver,
        opened,
        (c.get(C::TlsRxRecords), "records"),
        "tls_sw_recvmsg → tls_decrypt_sg: the reader's pages are the cipher's output",
        "the socket's TLS_RX record sequence (getsockopt SOL_TLS) before and after, and the \
         receiver's reads less skb:skb_copy_datagram_iovec; no tracepoint on the cipher",
    );

    let cpu_copy_bytes = read_bytes + ring_read + user_send + seg_copy + copied_anyway;
    let syscall_total = c.total_syscalls();
    Figures {
        syscalls: c.syscalls_by_name(),
        syscall_total,
        mode_switches: 2 * syscall_total + 2 * c.get(C::FaultUser),
        sched_switches: c.get(C::SchedOut),
        sched_blocked: c.get(C::SchedOutBlocked),
        sched_preempted: c.get(C::SchedOutPreempted),
        ledger: super::ledger::ledger(c, facts, stream),
        page_faults: c.get(C::FaultUser) + c.get(C::FaultKernel),
        page_faults_user: c.get(C::FaultUser),
        page_faults_kernel: c.get(C::FaultKernel),
        async_entries: c.get(C::AsyncEntries),
        probe_misses: c.get(C::ProbeMisses),
        missed_runs: c.missed_runs.clone(),
        blind_tasks: c.blind.clone(),
        cpu_copy_bytes,
        reference_bytes: reference,
        pinned_bytes: pinned,
        copied_anyway_bytes: copied_anyway,
        io_uring: Ring {
            submitted: c.get(C::IoSubmits),
            submitted_by_sq_thread: c.get(C::IoSqThreadSubmits),
            completed: c
                .ring_requests
                .iter()
                .map(|(op, n)| (crate::strategy::request_name(*op).into_owned(), *n))
                .collect(),
            reads: c.get(C::IoReads),
            sends_zc: c.get(C::IoSendZc),
            failed: c.get(C::IoFailed),
            kernel_threads: c.get(C::HelperThreads),
            kernel_thread_cpu_ns: c.get(C::HelperCpuNs),
            kernel_thread_sched_switches: c.get(C::HelperSchedOut),
        },
        zerocopy: Completions {
            notifications: c.get(C::ZcNotifications),
            completed_sends: c.get(C::ZcCompletedSends),
            completed_bytes: c.get(C::ZcCompletedBytes),
            copied_notifications: c.get(C::ZcCopiedNotifications),
            copied_sends: c.get(C::ZcCopiedSends),
            copied_bytes: c.get(C::ZcCopiedBytes),
            copy_site: site,
            user_pages_past_veth_bytes: c.get(C::ForwardUserBytes),
            copied_by_veth_bytes: c.get(C::ForwardCopiedBytes),
            user_pages_at_receiver_bytes: c.get(C::RecvUserPageBytes),
            tap_sent_bytes: c.get(C::TapSendBytes),
            tap_received_bytes: c.get(C::TapRecvBytes),
        },
        disk_read_bytes: disk,
        block_read_bytes: c.get(C::BlockIssueBytes),
        dma_maps: c.get(C::NicDmaMaps),
        dma_bytes: c.get(C::NicDmaBytes),
        nic_dma_file_bytes: c.get(C::NicDmaFileBytes),
        nic_dma_user_bytes: c.get(C::NicDmaUserBytes),
        disk_dma_maps: c.get(C::DiskDmaMaps),
        disk_dma_bytes: c.get(C::DiskDmaBytes),
        dma_unnamed: c.get(C::DmaUnnamed),
        nic_rx: NicRx {
            frames: c.get(C::NicRxFrames),
            payload_bytes: c.get(C::NicRxPayload),
            dma_frames: c.get(C::NicRxDmaFrames),
            dma_payload_bytes: c.get(C::NicRxDmaPayload),
            dma_buffer_bytes: c.get(C::NicRxDmaBufferBytes),
            maps: c.get(C::NicRxMaps),
            map_bytes: c.get(C::NicRxMapBytes),
        },
        receiver_copy_bytes: c.get(C::RecvCopyBytes),
        skbs_queued: c.get(C::QueueSkbs),
        skbs_transmitted: c.get(C::XmitSkbs),
        file_frags_at_queue: c.get(C::QueueFileFrags),
        file_frags_at_device: c.get(C::XmitFileFrags),
        shared_frag_skbs_at_device: c.get(C::XmitSharedFrag),
        movements,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::synthetic::{MIB, facts, with_calls};

    #[test]
    fn read_write_copies_twice() {
        let mut c = Counts::new();
        with_calls(&mut c, "read", 16, MIB);
        with_calls(&mut c, "write", 16, MIB);
        c.set(C::SendUserBytes, MIB);
        c.set(C::QueuePayload, MIB);
        c.set(C::XmitPayload, MIB);
        c.set(C::XmitSkbs, 20);
        let f = classify(&c, &facts("read-write"), None);
        assert_eq!(f.cpu_copy_bytes, 2 * MIB);
        assert_eq!(f.copy_passes(MIB), 2.0);
        assert_eq!(f.mode_switches, 64);
        assert_eq!(f.reference_bytes, 0);
    }

    #[test]
    fn sendfile_without_sg_copies_at_segmentation_from_page_cache() {
        let mut c = Counts::new();
        with_calls(&mut c, "sendfile", 16, MIB);
        c.set(C::SendSpliceBytes, MIB);
        c.set(C::QueuePayload, MIB);
        c.set(C::QueueFileBytes, MIB);
        c.set(C::XmitPayload, MIB);
        c.set(C::XmitLinearPayload, MIB);
        c.set(C::XmitSkbs, 720);
        let f = classify(&c, &facts("sendfile"), None);
        assert_eq!(f.cpu_copy_bytes, MIB);
        assert_eq!(f.reference_bytes, 0);
        let seg = f
            .movements
            .iter()
            .find(|m| m.movement == Movement::CpuCopy && m.to == Place::Nic)
            .expect("segmentation copy");
        assert_eq!(seg.from, Place::PageCache);
        assert_eq!(seg.ops, 720);
    }

    #[test]
    fn sendfile_gather_only_references() {
        let mut c = Counts::new();
        with_calls(&mut c, "sendfile", 16, MIB);
        c.set(C::SendSpliceBytes, MIB);
        c.set(C::QueuePayload, MIB);
        c.set(C::QueueFileBytes, MIB);
        c.set(C::XmitPayload, MIB);
        c.set(C::XmitFileBytes, MIB);
        c.set(C::XmitFileFrags, 256);
        let f = classify(&c, &facts("sendfile-gather"), None);
        assert_eq!(f.cpu_copy_bytes, 0);
        assert_eq!(f.reference_bytes, MIB);
        assert_eq!(f.mode_switches, 32);
    }

    #[test]
    fn mmap_write_copies_once_and_counts_faults() {
        let mut c = Counts::new();
        with_calls(&mut c, "mmap", 1, 0x7f00_0000_0000);
        with_calls(&mut c, "write", 16, MIB);
        with_calls(&mut c, "munmap", 1, 0);
        c.set(C::SendUserBytes, MIB);
        c.set(C::FaultKernel, 16);
        c.set(C::FilemapMapPages, 16);
        c.set(C::FilemapMapPagesPages, 256);
        let fx = facts("mmap-write");
        let f = classify(&c, &fx, None);
        assert_eq!(f.cpu_copy_bytes, MIB);
        assert_eq!(f.page_faults, 16);
        // Kernel-mode faults are not mode switches.
        assert_eq!(f.mode_switches, 36);
    }

    #[test]
    fn cold_run_reports_disk_bytes() {
        let mut c = Counts::new();
        c.set(C::FilemapAdd, 8);
        c.set(C::FilemapAddBytes, MIB);
        let mut fx = facts("read-write");
        fx.cold = true;
        let f = classify(&c, &fx, None);
        assert_eq!(f.disk_read_bytes, MIB);
    }

    /// The copy made anyway is placed where the skb met it first: the
    /// sending device's tap, the veth's forward, the receiving device's
    /// tap, local delivery; and nowhere when nothing was copied anyway.
    #[test]
    fn the_copy_site_is_the_first_the_skb_met() {
        let mut c = Counts::new();
        assert_eq!(copy_anyway_site(&c), CopySite::None);
        c.set(C::TapRecvBytes, MIB);
        assert_eq!(copy_anyway_site(&c), CopySite::None, "a tap, no copy");
        c.set(C::ZcCopiedBytes, MIB);
        c.set(C::XmitPinnedBytes, MIB);
        assert_eq!(copy_anyway_site(&c), CopySite::ReceiveTap);
        c.set(C::TapRecvBytes, 0);
        assert_eq!(copy_anyway_site(&c), CopySite::LocalDelivery);
        c.set(C::TapRecvBytes, MIB);
        c.set(C::ForwardCopiedBytes, MIB);
        assert_eq!(copy_anyway_site(&c), CopySite::VethForward);
        c.set(C::TapSendBytes, MIB);
        assert_eq!(copy_anyway_site(&c), CopySite::SendTap);
    }
}
