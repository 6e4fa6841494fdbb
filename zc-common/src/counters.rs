//! In-kernel counters: exact totals that survive a full ring buffer.
//!
//! Every traced event bumps one or more per-CPU counters before it tries to
//! reserve ring-buffer space. The event stream may lose detail under load;
//! these totals never do. User space sums the per-CPU slots after a run.

macro_rules! counters {
    ($( $(#[$doc:meta])* $name:ident ),* $(,)?) => {
        /// Index of a counter in the `ZC_COUNTERS` per-CPU array.
        #[repr(u32)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Counter { $( $(#[$doc])* $name ),* }

        impl Counter {
            /// Every counter, in index order.
            pub const ALL: &'static [Counter] = &[ $( Counter::$name ),* ];
            /// The counter's name, for reports and tests.
            pub const fn name(self) -> &'static str {
                match self { $( Counter::$name => stringify!($name) ),* }
            }
        }
    };
}

counters! {
    /// Syscall entries of the sender thread.
    SysEnter,
    /// Syscall exits of the sender thread.
    SysExit,
    /// The sender thread was switched off its CPU (`sched_switch` prev).
    SchedOut,
    /// Of those, switches where the sender blocked: it had to wait (a sleep
    /// state in `prev_state & 0xff`).
    SchedOutBlocked,
    /// Of those, switches where the sender was preempted while runnable
    /// (`prev_state` is 0, or `TASK_REPORT_MAX` = 0x100 on preemption).
    SchedOutPreempted,
    /// User-mode page faults of the sender thread.
    FaultUser,
    /// Kernel-mode page faults of the sender thread (e.g. inside write()'s copy).
    FaultKernel,
    /// Interrupts (device IRQs, the timer, IPIs) taken while the sender was
    /// on the CPU outside any traced syscall: kernel entries the program
    /// never asked for, counted apart from syscalls.
    AsyncEntries,
    /// `mm_filemap_get_pages` on the demo file.
    FilemapGetPages,
    /// Pages spanned by those lookups.
    FilemapGetPagesPages,
    /// `mm_filemap_add_to_page_cache` on the demo file: folios read in from disk.
    FilemapAdd,
    /// Bytes of those folios.
    FilemapAddBytes,
    /// `mm_filemap_map_pages` on the demo file (fault-around mapping).
    FilemapMapPages,
    /// Pages spanned by those mappings.
    FilemapMapPagesPages,
    /// `mm_filemap_fault` on the demo file.
    FilemapFault,
    /// Block I/O (bios) the sender thread submitted for reading.
    BlockIssue,
    /// Bytes of those requests.
    BlockIssueBytes,
    /// Completions of requests the sender thread issued.
    BlockComplete,
    /// Sectors of those completions.
    BlockCompleteSectors,
    /// `tcp_sendmsg_locked` iterations on the demo socket.
    TcpSendmsg,
    /// `tcp_sendpage` calls on the demo socket (kernels before 6.5, where
    /// sendfile and splice hand TCP one page at a time).
    TcpSendpage,
    /// `sock_send_length` on the demo socket.
    SockSend,
    /// Bytes sent from a user-memory iterator (ITER_UBUF/IOVEC): copied by the CPU.
    SendUserBytes,
    /// Bytes sent with `MSG_SPLICE_PAGES` from a page iterator: page references.
    SendSpliceBytes,
    /// Bytes sent from user memory with `MSG_ZEROCOPY` or `msg_ubuf` (io_uring):
    /// the pages are pinned, not copied.
    SendPinnedBytes,
    /// Bytes sent from any other iterator kind.
    SendOtherBytes,
    /// Demo-socket skbs with payload at `net_dev_queue` (as TCP built them).
    QueueSkbs,
    /// TCP payload bytes at `net_dev_queue`.
    QueuePayload,
    /// Payload bytes in the linear (head) area at `net_dev_queue`.
    QueueLinearPayload,
    /// Payload bytes held in frags whose page belongs to the demo file.
    QueueFileBytes,
    /// Such frags.
    QueueFileFrags,
    /// Skbs with `SKBFL_SHARED_FRAG` set at `net_dev_queue`.
    QueueSharedFrag,
    /// Payload bytes held in frags whose page is anonymous memory: a user's
    /// own pages, lent by vmsplice.
    QueueUserBytes,
    /// The same in a zero-copy skb (`SKBFL_ZEROCOPY_ENABLE`): the user's
    /// pages, pinned (MSG_ZEROCOPY, io_uring's zero-copy send).
    QueuePinnedBytes,
    /// Demo-socket skbs with payload the device accepted: `net_dev_start_xmit`
    /// followed by `net_dev_xmit` with rc 0 (a requeued skb counts once).
    XmitSkbs,
    /// TCP payload bytes at `net_dev_start_xmit`.
    XmitPayload,
    /// Payload bytes in the linear area at `net_dev_start_xmit`.
    XmitLinearPayload,
    /// Payload bytes in frags whose page belongs to the demo file.
    XmitFileBytes,
    /// Such frags.
    XmitFileFrags,
    /// Skbs with `SKBFL_SHARED_FRAG` set at `net_dev_start_xmit`.
    XmitSharedFrag,
    /// Payload bytes in frags that are a user's anonymous pages.
    XmitUserBytes,
    /// The same in a zero-copy skb: pinned user pages.
    XmitPinnedBytes,
    /// Demo skbs the veth handed to its peer (`net:netif_rx`) that held the
    /// user's pages at `net_dev_start_xmit`.
    ForwardSkbs,
    /// Bytes of those that were still the user's pages after the forward.
    ForwardUserBytes,
    /// Bytes of those that were not: `__dev_forward_skb` → `skb_orphan_frags`
    /// → `skb_copy_ubufs` copied them into new pages (the copy made anyway).
    ForwardCopiedBytes,
    /// Zero-copy demo skbs the sending device took while a packet tap
    /// (tcpdump) was bound to it, and their user-page bytes:
    /// `dev_queue_xmit_nit` hands the tap a clone, and `deliver_skb` →
    /// `skb_orphan_frags_rx` copies the clone's pinned pages, which marks
    /// the send's completion COPIED.
    TapSendSkbs,
    TapSendBytes,
    /// Demo skbs still in the user's pages at `net:netif_receive_skb` on a
    /// device with a packet tap, and those bytes: `deliver_skb` copies them
    /// for the tap, before IP sees the skb.
    TapRecvSkbs,
    TapRecvBytes,
    /// Of the bytes the receiver copied out of skbs, those in frags that
    /// were a program's anonymous pages (the sender's own, never copied on
    /// the way), at most each copy's length.
    RecvUserPageBytes,
    /// Zero-copy notifications the sender read from its error queue.
    ZcNotifications,
    /// Sends those notifications cover (their ranges, summed), and the
    /// bytes those sends pinned.
    ZcCompletedSends,
    ZcCompletedBytes,
    /// Notifications with `SO_EE_CODE_ZEROCOPY_COPIED`, their sends and
    /// bytes: the kernel copied those bytes after all.
    ZcCopiedNotifications,
    ZcCopiedSends,
    ZcCopiedBytes,
    /// Demo-socket skbs the driver refused with `NETDEV_TX_BUSY`: requeued,
    /// they pass the device again later.
    XmitRefused,
    /// Payload bytes of those.
    XmitRefusedBytes,
    /// Skbs with more frags than the walk reads (`MAX_FRAGS`): their file
    /// bytes beyond the walk are not seen.
    FragWalkTruncated,
    /// `tcp:tcp_retransmit_skb` on the demo socket (err 0).
    Retransmits,
    /// Payload bytes of those retransmissions.
    RetransmitBytes,
    /// Retransmissions that failed to leave (err != 0), and their bytes.
    RetransmitsFailed,
    RetransmitFailedBytes,
    /// Whole demo-socket skbs dropped before the device, as queued: the
    /// transmit failed, TCP was told, and it sends those bytes again as new
    /// data (`skb:kfree_skb` of an skb seen at `net_dev_queue`).
    DropsResent,
    /// Payload bytes of those.
    DropResentBytes,
    /// Payload lost on the way after TCP was told it left: a piece of a
    /// queued skb dropped (a qdisc that segments, like tbf), or an skb the
    /// driver dropped (`net_dev_xmit` rc neither 0 nor busy). TCP retransmits it.
    DropsLost,
    /// Payload bytes of those.
    DropLostBytes,
    /// Of the lost skbs, those the driver dropped (`net_dev_xmit` rc neither
    /// 0 nor busy), and their payload bytes.
    XmitDropped,
    XmitDroppedBytes,
    /// `skb_copy_datagram_iovec` in the receiver thread.
    RecvCopies,
    /// Bytes of those copies.
    RecvCopyBytes,
    /// `dma:dma_map_phys` (`dma_map_page` before 6.17) TO_DEVICE maps a
    /// NIC's driver made while a followed skb was in its transmit
    /// (between `net_dev_start_xmit` and `net_dev_xmit` on one CPU), for
    /// skbs the device took.
    NicDmaMaps,
    /// Bytes of those maps: what the NIC's engine was told to read.
    NicDmaBytes,
    /// Of those bytes, the ones in page-cache pages of the demo file (page
    /// identity: the map's physical page → `struct page` → folio->mapping).
    NicDmaFileBytes,
    /// Of those bytes, the ones in a program's anonymous pages.
    NicDmaUserBytes,
    /// Followed skbs the device took whose transmit made at least one map,
    /// their `skb->len` (headers and payload), and their payload.
    NicDmaSkbs,
    NicDmaSkbLen,
    NicDmaSkbPayload,
    /// FROM_DEVICE maps into page-cache pages of the demo file: a disk's
    /// engine told to write the file's pages (a cold read), and their bytes.
    /// A scatterlist counts one map per entry (each is its own segment).
    DiskDmaMaps,
    DiskDmaBytes,
    /// The receiving NIC (`Config::NicRxIfindex`): frames its driver handed
    /// up (`napi_gro_receive_entry`, `netif_receive_skb_entry`), and their
    /// TCP payload.
    NicRxFrames,
    NicRxPayload,
    /// Of those frames, the ones whose buffer the driver had just taken
    /// back from that NIC's engine on the same CPU (a FROM_DEVICE
    /// `dma_unmap_phys` or `dma_sync_single_for_cpu` naming the NIC's own
    /// bus device), their payload, and the buffers' size: the bytes the
    /// engine wrote into memory.
    NicRxDmaFrames,
    NicRxDmaPayload,
    NicRxDmaBufferBytes,
    /// FROM_DEVICE maps the receiving NIC's driver made (fresh buffers for
    /// its ring), and their bytes.
    NicRxMaps,
    NicRxMapBytes,
    /// DMA maps of the kinds above whose page zc could not name (no
    /// `vmemmap_base` to turn a physical address into its `struct page`),
    /// and scatterlists chained past their first 128 entries (walked that
    /// far).
    DmaUnnamed,
    /// Events that found the ring buffer full (detail lost, totals kept).
    RingbufFull,
    /// Kernel memory reads that failed (a skb or page field could not be read).
    ReadFailed,
    /// Tracepoint record fields that could not be read.
    FieldReadFailed,
    /// Kernel threads the sender started (io_uring's SQ thread `iou-sqp-*`,
    /// its io-wq workers `iou-wrk-*`), seen at `sched_process_fork`.
    HelperThreads,
    /// Their time on a CPU while the run was armed (from `sched_switch`).
    HelperCpuNs,
    /// Their scheduler switches off a CPU.
    HelperSchedOut,
    /// Requests submitted to the sender's io_uring (`io_uring_submit_req`).
    IoSubmits,
    /// Of those, issued by the SQ thread (SQPOLL) rather than by the sender.
    IoSqThreadSubmits,
    /// Completions of `IORING_OP_READ` on the ring, and the bytes they read:
    /// the page cache → user buffer copy, made inside the kernel.
    IoReads,
    IoReadBytes,
    /// Completions of `IORING_OP_SEND_ZC` requests (not their notifications).
    IoSendZc,
    /// Requests that failed (a negative `res`), other than notifications.
    IoFailed,
    /// `zc trace`: processes that joined the followed tree (forked by one of
    /// its processes), and followed processes that exited.
    TreeForks,
    TreeExits,
    /// `zc trace`: bytes that read-family calls returned, by what served
    /// them (seen inside the call): a file's page cache (the article's
    /// page cache → user copy), a socket (also in `RecvCopyBytes`), or
    /// neither (a pipe, a terminal, tmpfs, which has no page-cache event).
    ReadFileBytes,
    ReadSocketBytes,
    ReadOtherBytes,
    /// `zc trace`: bytes sendfile, splice or copy_file_range returned when
    /// a file's page cache served them: passed on by reference.
    FileReferencedBytes,
    /// `zc trace`: followed sockets closed during the trace.
    SocketsClosed,
    /// Probe runs the kernel skipped: a program already running on a CPU
    /// is not re-entered (an interrupt or softirq that hits the same
    /// tracepoint meanwhile goes unseen). Filled by user space from each
    /// program's `recursion_misses`; the kernel side never counts it. These
    /// are the programs whose events feed the figures and the ledger.
    ProbeMisses,
    /// The same for the interrupt probes: `AsyncEntries` may be short by this.
    IrqProbeMisses,
    /// zc's own cost: time the kernel spent running zc's eBPF programs
    /// during the run, and how many times they ran (`BPF_ENABLE_STATS`,
    /// each program's `run_time_ns` and `run_cnt`). Filled by user space.
    EbpfRunNs,
    EbpfRuns,
    /// What the kernel's timing itself adds to each run it times, in
    /// picoseconds: an empty program's run time under the same statistics
    /// (`BPF_PROG_TEST_RUN`, measured once per session). Part of
    /// `EbpfRunNs`; 0 when not measured. Filled by user space.
    EbpfClockPs,
    /// TCP's own count of the payload bytes the demo socket handed to IP
    /// during the run (`TCP_INFO`'s `tcpi_bytes_sent`, counted in
    /// `__tcp_transmit_skb` for each transmit: first, again after a failed
    /// transmit, retransmitted), and 1 in `TcpInfoRead` when the kernel
    /// gave it. Filled by user space: the second source the device hop
    /// is checked against.
    TcpBytesSent,
    TcpInfoRead,
    /// TCP's own count of retransmitted payload (`tcpi_bytes_retrans`:
    /// every retransmission tried, sent or failed). Filled by user space.
    TcpBytesRetrans,
    /// TCP's own count of the payload the program took from the socket
    /// (`tcp_sock.bytes_received` less what waits unread, `rcv_nxt -
    /// copied_seq`). Filled by user space, for `zc trace`'s sockets.
    TcpBytesTaken,
    /// Stretches of a CPU's time in which no program of zc ran in the
    /// running task's context: a `sched_switch` whose leaving task is not
    /// the one the CPU's last seen switch gave it to. The kernel ran no
    /// program for that task's switch away, nor for anything on its stack
    /// meanwhile, softirqs included (docs/evidence.md, "Unseen").
    BlindStretches,
    /// `zc trace`: bytes a followed process took out of a TCP socket
    /// without copying them into its memory: spliced into a pipe
    /// (`splice` from the socket, whose return value is the bytes moved),
    /// and mapped into its address space (`getsockopt`
    /// `TCP_ZEROCOPY_RECEIVE`, whose `length` says what was mapped).
    RecvSplicedBytes,
    RecvMappedBytes,
    /// Of `ProbeMisses`, by what the skipped programs count: the syscall
    /// programs (`raw_syscalls:sys_enter`, `sys_exit`), the send programs
    /// (`tcp:tcp_sendmsg_locked`, `sock:sock_send_length`), the receive
    /// copy (`skb:skb_copy_datagram_iovec`), the page cache's (`filemap:*`)
    /// and io_uring's. A kernel whose tracepoints run preemptible (7.x,
    /// lazy preemption) skips a program for a task whenever another task
    /// was preempted inside it on the same CPU. Filled by user space.
    SkippedSyscallRuns,
    SkippedSendRuns,
    SkippedRecvCopyRuns,
    SkippedPageCacheRuns,
    SkippedIoUringRuns,
    /// The DMA programs' (`dma:*`): a skipped map leaves the NIC's or the
    /// disk's engine short of what the other source says crossed.
    SkippedDmaRuns,
    /// The demo's own counts, in user space, from its syscalls' return
    /// values: the bytes the sender's loop moved, and the bytes the
    /// receiver's reads returned. The second source for the hops whose
    /// events a skipped run may have taken. Filled by user space.
    SenderLoopBytes,
    ReceiverReadBytes,
    /// TLS records the kernel sealed on the sender's socket and opened on
    /// the receiver's during the run: how far each end's record sequence
    /// number (`getsockopt(SOL_TLS, TLS_TX / TLS_RX)`, `rec_seq`) moved.
    /// The kernel's own count of encryption and decryption passes, which no
    /// tracepoint shows (net/tls has tracepoints for offload devices only).
    /// 0 on a connection without kernel TLS. Filled by user space.
    TlsTxRecords,
    TlsRxRecords,
    /// Skbs whose record at `net_dev_start_xmit` was the one `net_dev_queue`
    /// had just made on the same CPU (the same skb, its shape unchanged):
    /// frags not walked twice. A measure of zc's own work, not of the bytes.
    XmitWalksSaved,
    /// Skbs whose record at `net_dev_start_xmit` found no free slot on its
    /// CPU: more transmits nested in one another than `PENDING_SLOTS` (a
    /// tunnel on a tunnel...). Their device hop goes unrecorded, and their
    /// bytes show as unseen at the device; this says why.
    XmitPendingFull,
    /// Skbs with frags sent before the demo socket was given any page by
    /// reference or to pin: their frags are TCP's own copies, and were not
    /// walked to their pages. Zc's own work, saved.
    FragWalksSkipped,
}

/// Number of counter slots.
pub const COUNTERS: u32 = Counter::ALL.len() as u32;
