//! Ring-buffer records, one struct per kind of kernel evidence.
//!
//! Each record starts with a [`Header`]; `kind` says which struct follows and
//! `op` which tracepoint of that family fired. Records carry raw kernel
//! pointers (skb addresses) so user space can tell skbs apart; user space
//! turns them into small ids before anything leaves the machine.

/// Which struct a record is.
#[repr(u16)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Syscall = 1,
    Sched = 2,
    Fault = 3,
    Filemap = 4,
    Block = 5,
    Send = 6,
    Skb = 7,
    Recv = 8,
    Dma = 9,
    Completion = 10,
    Forward = 11,
    Ring = 12,
    Thread = 13,
}

impl Kind {
    pub const fn from_u16(v: u16) -> Option<Kind> {
        Some(match v {
            1 => Kind::Syscall,
            2 => Kind::Sched,
            3 => Kind::Fault,
            4 => Kind::Filemap,
            5 => Kind::Block,
            6 => Kind::Send,
            7 => Kind::Skb,
            8 => Kind::Recv,
            9 => Kind::Dma,
            10 => Kind::Completion,
            11 => Kind::Forward,
            12 => Kind::Ring,
            13 => Kind::Thread,
            _ => return None,
        })
    }
}

/// `op` values, per kind.
pub mod op {
    pub const SYS_ENTER: u16 = 0;
    pub const SYS_EXIT: u16 = 1;

    pub const SCHED_OUT: u16 = 0;
    pub const SCHED_IN: u16 = 1;

    pub const FAULT_USER: u16 = 0;
    pub const FAULT_KERNEL: u16 = 1;

    pub const FILEMAP_GET_PAGES: u16 = 0;
    pub const FILEMAP_ADD: u16 = 1;
    pub const FILEMAP_MAP_PAGES: u16 = 2;
    pub const FILEMAP_FAULT: u16 = 3;

    pub const BLOCK_ISSUE: u16 = 0;
    pub const BLOCK_COMPLETE: u16 = 1;

    pub const SEND_TCP_SENDMSG: u16 = 0;
    pub const SEND_SOCK_LENGTH: u16 = 1;
    /// A page handed to `tcp_sendpage` (before 6.5): the same record as
    /// `SEND_TCP_SENDMSG`, from another function.
    pub const SEND_TCP_SENDPAGE: u16 = 2;

    pub const SKB_QUEUE: u16 = 0;
    pub const SKB_XMIT: u16 = 1;
    /// A whole queued skb dropped before the device (`skb:kfree_skb`); TCP
    /// sends its bytes again as new data. The reason is in `SkbEvent::reason`.
    pub const SKB_DROP: u16 = 2;
    /// A retransmission (`tcp:tcp_retransmit_skb`): payload in `payload`,
    /// `reason` the attempt's error as a `u32` (0: it went out).
    pub const SKB_RETRANSMIT: u16 = 3;
    /// Payload dropped without `kfree_skb` finding the queued skb whole (a
    /// piece of a segmented skb, or an skb the driver refused with rc ≠ 0).
    /// Whether TCP heard of it, the ledger by ranges reads from what TCP
    /// did next: a retransmission, or the same bytes again as new data.
    pub const SKB_LOST: u16 = 4;

    pub const RING_SUBMIT: u16 = 0;
    pub const RING_COMPLETE: u16 = 1;

    /// A NIC's transmit map of a followed skb's bytes.
    pub const DMA_NIC: u16 = 0;
    /// A disk's map into a page-cache page of the demo file.
    pub const DMA_DISK: u16 = 1;
}

/// Common start of every record.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Header {
    /// `bpf_ktime_get_ns()`: CLOCK_MONOTONIC, nanoseconds.
    pub ts_ns: u64,
    /// Thread the event fired in (may be a softirq's host thread for skb events).
    pub tid: u32,
    pub kind: u16,
    pub op: u16,
}

/// `raw_syscalls:sys_enter` / `sys_exit` of the sender thread.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyscallEvent {
    pub h: Header,
    /// Syscall number (architecture-specific).
    pub nr: u64,
    /// First three arguments at entry (fd, buffer, count for read/write).
    pub args: [u64; 3],
    /// Return value at exit (bytes or -errno).
    pub ret: i64,
}

/// `sched:sched_switch` where the sender thread leaves or takes a CPU.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SchedEvent {
    pub h: Header,
    pub prev_pid: u32,
    pub next_pid: u32,
    /// 0 = preempted while runnable; otherwise the thread blocked.
    pub prev_state: u64,
}

/// `exceptions:page_fault_user` / `page_fault_kernel` of the sender thread.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultEvent {
    pub h: Header,
    pub address: u64,
    pub ip: u64,
    pub error_code: u64,
}

/// `filemap:*` events on the demo file's inode.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FilemapEvent {
    pub h: Header,
    /// First page index.
    pub index: u64,
    /// Last page index (equal to `index` for single-page events).
    pub last_index: u64,
    /// Folio order for `add_to_page_cache` (bytes = 4096 << order), else 0.
    pub order: u32,
    pub _pad: u32,
}

/// `block:block_bio_queue` (sender submits a read) / `block_rq_complete`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlockEvent {
    pub h: Header,
    pub sector: u64,
    pub dev: u32,
    pub nr_sector: u32,
    /// Bytes at issue; 0 at completion (the tracepoint has sectors there).
    pub bytes: u32,
    pub _pad: u32,
}

/// `tcp:tcp_sendmsg_locked` (one per loop iteration) and `sock:sock_send_length`
/// (one per sendmsg) on the demo socket.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SendEvent {
    pub h: Header,
    /// Tail skb before this iteration's data (tcp_sendmsg_locked only).
    pub skb: u64,
    /// Bytes accepted by the socket (sock_send_length only).
    pub ret: i64,
    pub skb_len: u32,
    /// Bytes of the message still to queue.
    pub msg_left: u32,
    pub size_goal: u32,
    /// The message iterator's kind; see [`crate::layout::IterKinds`].
    pub iter_type: u8,
    /// 1 when `msg_flags` has `MSG_SPLICE_PAGES`.
    pub splice: u8,
    /// The kernel's reading of the data's source: see [`source`].
    pub source: u8,
    /// 1 when `msg_ubuf` is set: io_uring owns the pages' completion.
    pub ubuf: u8,
}

/// `SendEvent::source` values.
pub mod source {
    /// User memory (ITER_UBUF / ITER_IOVEC): the CPU copies it into the skb.
    pub const USER: u8 = 1;
    /// Pages spliced in (ITER_BVEC with MSG_SPLICE_PAGES): referenced, not copied.
    pub const SPLICE: u8 = 2;
    /// Anything else (kernel vectors, ...).
    pub const OTHER: u8 = 3;
    /// User memory sent with `MSG_ZEROCOPY` or an io_uring `msg_ubuf`: pinned, not copied.
    pub const PINNED: u8 = 4;
}

/// `net:net_dev_queue` / `net_dev_start_xmit` for a demo-socket skb, with
/// what its fragments point at.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SkbEvent {
    pub h: Header,
    pub skb: u64,
    pub len: u32,
    pub data_len: u32,
    /// TCP payload bytes (len minus L2/L3/L4 headers).
    pub payload: u32,
    /// Payload bytes in the linear area.
    pub linear_payload: u32,
    /// Bytes of frags whose page belongs to the demo file.
    pub file_bytes: u32,
    /// Page index in the demo file of the first such frag, or `u32::MAX`.
    pub first_file_index: u32,
    pub gso_size: u16,
    pub gso_segs: u16,
    pub nr_frags: u8,
    pub file_frags: u8,
    /// `skb_shinfo(skb)->flags` (`SKBFL_SHARED_FRAG` = 0x2).
    pub shinfo_flags: u8,
    /// Frags whose page is anonymous memory (a user's own pages).
    pub user_frags: u8,
    /// `enum skb_drop_reason` for a drop, else 0.
    pub reason: u32,
    /// Bytes of those frags.
    pub user_bytes: u32,
    /// The TCP sequence number of the skb's first payload byte: from the
    /// TCP header where the skb has one (queue, device, drop), from TCP's
    /// own control block (`TCP_SKB_CB(skb)->seq`) for a retransmission.
    /// Less the socket's first sequence number, it is the byte's place in
    /// the stream: this is how the ledger checks ranges, not only sums.
    pub seq: u32,
    /// How many skbs this record stands for: 1 (or 0, written by programs
    /// that leave it unset), or more for skbs at the device folded in the
    /// kernel (`Config::Fold`, `ZC_DEVICE_FOLD`). A fold's lengths are its
    /// skbs' sums, its `seq` the first one's, and its header time the last
    /// one's: its bytes are one unbroken range of the stream.
    pub skbs: u32,
    /// For each frag (up to `MAX_FRAGS`), the index in the demo file of the
    /// page it points at, or `u32::MAX` when it is not a page of that file.
    /// Filled in the demo only: this is the proof by page identity.
    pub frag_pages: [u32; crate::MAX_FRAGS],
    pub _pad: u32,
}

/// Skbs one folded device record holds at most.
pub const FOLD_SKBS: u32 = 4096;
/// A device fold also ends before its lengths reach this: they stay
/// within the record's `u32`s (an skb is at most 64 KiB, or 512 KiB with
/// BIG TCP).
pub const FOLD_SKB_BYTES: u32 = 1 << 31;

/// `skb:skb_copy_datagram_iovec` in the receiver thread: its CPU copy.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecvEvent {
    pub h: Header,
    /// The skb copied; 0 for a fold of several.
    pub skb: u64,
    /// Bytes copied.
    pub len: u32,
    /// How many copies this record stands for: 1, or more for a fold made
    /// in the kernel (`Config::Fold`), whose header time is its first
    /// copy's.
    pub copies: u32,
}

/// The receiver's copies folded so far (`ZC_RECV_FOLD`, one slot): written
/// only by the receiver thread, emitted as one `RecvEvent` when it holds
/// `FOLD_RECV_COPIES` copies, and read by zc for the rest at the run's end.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecvFold {
    /// The first copy's time (`bpf_ktime_get_ns`).
    pub first_ns: u64,
    pub bytes: u64,
    pub copies: u32,
    pub _pad: u32,
}

/// Copies one folded record holds at most.
pub const FOLD_RECV_COPIES: u32 = 4096;
/// A fold also ends once it holds this many bytes: one copy's length is
/// an `int`, so the fold's bytes always fit the record's `u32`.
pub const FOLD_RECV_BYTES: u64 = 1 << 31;

/// The veth handed a demo skb that held user pages to its peer
/// (`net:netif_rx`, same skb): what its frags are now, after
/// `__dev_forward_skb` (which copies a zero-copy skb's pinned pages).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ForwardEvent {
    pub h: Header,
    pub skb: u64,
    /// Payload of the skb at the device.
    pub payload: u32,
    /// Bytes still in the user's own pages after the forward.
    pub user_bytes: u32,
    /// Bytes that were user pages at the device and are not any more: the
    /// kernel copied them on the way (`skb_copy_ubufs`).
    pub copied_bytes: u32,
    /// `skb_shinfo(skb)->flags` at the device.
    pub shinfo_flags: u8,
    pub _pad: [u8; 3],
}

/// A request on the sender's io_uring: submitted (`io_uring_submit_req`)
/// or completed (`io_uring_complete`), in whatever thread did it.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RingEvent {
    pub h: Header,
    pub user_data: u64,
    /// The completion's result (bytes, or -errno); 0 at submission.
    pub res: i32,
    /// The completion's flags (`IORING_CQE_F_*`); 0 at submission.
    pub cflags: u32,
    pub opcode: u8,
    /// 1 when the SQ thread (SQPOLL) submitted it.
    pub sq_thread: u8,
    /// 1 when one of the sender's kernel threads did this, not the sender.
    pub helper: u8,
    pub _pad: [u8; 5],
}

/// `IORING_OP_READ` and `IORING_OP_SEND_ZC` (include/uapi/linux/io_uring.h:
/// user ABI, stable).
pub const IORING_OP_READ: u8 = 22;
pub const IORING_OP_SEND_ZC: u8 = 47;
/// `IORING_CQE_F_MORE`: another completion (the notification) will follow.
pub const IORING_CQE_F_MORE: u32 = 1 << 1;
/// `IORING_CQE_F_NOTIF`: this completion is a zero-copy notification.
pub const IORING_CQE_F_NOTIF: u32 = 1 << 3;
/// In a notification's `res` with `IORING_SEND_ZC_REPORT_USAGE`: the data
/// was copied, not sent from the user's pages.
pub const IORING_NOTIF_USAGE_ZC_COPIED: u32 = 1 << 31;

/// A kernel thread the sender started (`sched_process_fork`): io_uring's
/// SQ thread or an io-wq worker, followed from then on.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ThreadEvent {
    pub h: Header,
    pub tid: u32,
    pub _pad: u32,
    /// Its name (`iou-sqp-<pid>`, `iou-wrk-<pid>`), NUL-padded.
    pub comm: [u8; 16],
}

/// A zero-copy completion the sender read from its socket's error queue
/// (`skb:skb_copy_datagram_iovec` in the sender thread, on a notification
/// skb whose `sock_extended_err` has origin `SO_EE_ORIGIN_ZEROCOPY`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CompletionEvent {
    pub h: Header,
    /// First and last zero-copy send the notification covers (`ee_info`,
    /// `ee_data`): a range, since the kernel merges consecutive ones.
    pub lo: u32,
    pub hi: u32,
    /// Bytes those sends pinned (from the kernel side's record of each send).
    pub bytes: u64,
    /// `ee_code`: `SO_EE_CODE_ZEROCOPY_COPIED` (1) when the kernel copied
    /// the pages after all.
    pub code: u8,
    pub _pad: [u8; 7],
}

/// `SO_EE_ORIGIN_ZEROCOPY` (include/uapi/linux/errqueue.h).
pub const SO_EE_ORIGIN_ZEROCOPY: u8 = 5;
/// `SO_EE_CODE_ZEROCOPY_COPIED`: the data was copied, not sent from the
/// user's pages.
pub const SO_EE_CODE_ZEROCOPY_COPIED: u8 = 1;

/// One DMA map zc attributes (`dma:dma_map_phys`, or `dma_map_page`
/// before 6.17): `op` says whose engine ([`op::DMA_NIC`], [`op::DMA_DISK`]).
/// The physical address stays in the kernel; only what it is leaves.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DmaEvent {
    pub h: Header,
    /// Bytes mapped.
    pub size: u64,
    /// The first page's index in the demo file, or `NO_PAGE`.
    pub file_index: u32,
    /// What the first page is: [`dma_page::FILE`], [`dma_page::USER`],
    /// [`dma_page::OTHER`] (a kernel buffer), [`dma_page::UNNAMED`].
    pub page: u8,
    pub _pad: u8,
    /// Where in its first page the map starts (the address's low 12 bits:
    /// an offset, not an address).
    pub offset: u16,
}

/// `DmaEvent::page` values.
pub mod dma_page {
    pub const OTHER: u8 = 0;
    pub const FILE: u8 = 1;
    pub const USER: u8 = 2;
    pub const UNNAMED: u8 = 3;
}

const _: () = assert!(size_of::<Header>() == 16);
const _: () = assert!(size_of::<SyscallEvent>() == 56);
const _: () = assert!(size_of::<SchedEvent>() == 32);
const _: () = assert!(size_of::<FaultEvent>() == 40);
const _: () = assert!(size_of::<FilemapEvent>() == 40);
const _: () = assert!(size_of::<BlockEvent>() == 40);
const _: () = assert!(size_of::<SendEvent>() == 48);
const _: () = assert!(size_of::<SkbEvent>() == 144);

/// An skb record whose frags name no page of the demo file ends before
/// `frag_pages`: the kernel sends these first bytes only, so the many skbs
/// that carry no file page (a segment, TCP's own pages) cost what they did
/// before the page map.
pub const SKB_EVENT_SHORT: usize = core::mem::offset_of!(SkbEvent, frag_pages);
const _: () = assert!(SKB_EVENT_SHORT == 72);
const _: () = assert!(size_of::<RecvEvent>() == 32);
const _: () = assert!(size_of::<DmaEvent>() == 32);

/// The `prev_state` a `sched_switch` record reports for a task leaving its
/// CPU (`__trace_sched_switch_state`): `TASK_REPORT_MAX` (0x100) when it
/// was preempted, else one bit for its state, 0 while runnable. The task's
/// `__state` and `exit_state` are folded as 6.18's `__task_state_index`
/// does, with masks: idle (`TASK_IDLE` among other bits) is reported as
/// idle, a frozen task or one waiting on an rtlock as uninterruptible, a
/// dying one as dead or zombie. 6.1's kernel tested `TASK_IDLE` and
/// `TASK_RTLOCK_WAIT` by equality and knew no `TASK_FROZEN` there, so its
/// own record calls a frozen task runnable; zc calls it blocked on every
/// kernel, which is what it was.
pub const fn sched_report_state(preempt: bool, state: u32, exit_state: u32) -> u64 {
    // include/linux/sched.h
    const TASK_UNINTERRUPTIBLE: u32 = 0x2;
    const TASK_REPORT: u32 = 0x7f;
    const TASK_REPORT_IDLE: u32 = TASK_REPORT + 1;
    const TASK_REPORT_MAX: u64 = (TASK_REPORT_IDLE as u64) << 1;
    const TASK_IDLE: u32 = TASK_UNINTERRUPTIBLE | 0x400; // | TASK_NOLOAD
    const TASK_RTLOCK_WAIT: u32 = 0x1000;
    const TASK_FROZEN: u32 = 0x8000;
    if preempt {
        return TASK_REPORT_MAX;
    }
    let mut s = (state | exit_state) & TASK_REPORT;
    if state & TASK_IDLE == TASK_IDLE {
        s = TASK_REPORT_IDLE;
    }
    if state & (TASK_RTLOCK_WAIT | TASK_FROZEN) != 0 {
        s = TASK_UNINTERRUPTIBLE;
    }
    // fls(s) as one bit, as the record has it.
    if s == 0 {
        0
    } else {
        1u64 << (31 - s.leading_zeros())
    }
}

/// Whether a `sched_switch` `prev_state` means the task blocked (had to
/// wait) rather than being preempted: the kernel reports a preempted task
/// as `TASK_REPORT_MAX` (0x100), and a runnable one as 0, so only the low
/// byte's sleep states mean blocked.
pub const fn sched_blocked(prev_state: u64) -> bool {
    prev_state & 0xff != 0
}

/// `SKBFL_SHARED_FRAG`: the skb's frags may be shared with (written by) others,
/// as page-cache pages spliced in are.
pub const SKBFL_SHARED_FRAG: u8 = 0x2;

/// `SKBFL_ZEROCOPY_ENABLE`: the skb's user pages are pinned for a zero-copy
/// send and a completion will say when they are free.
pub const SKBFL_ZEROCOPY_ENABLE: u8 = 0x1;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn switched_out_states_read_as_the_kernel_folds_them() {
        let blocked = |state, exit| sched_blocked(sched_report_state(false, state, exit));
        // Runnable, and preempted whatever the state.
        assert_eq!(sched_report_state(false, 0, 0), 0);
        assert_eq!(sched_report_state(true, 0x1, 0), 0x100);
        assert!(!sched_blocked(0x100));
        // A plain sleep is its own bit.
        assert_eq!(sched_report_state(false, 0x1, 0), 0x1);
        assert_eq!(sched_report_state(false, 0x2, 0), 0x2);
        // Frozen (0x8000): uninterruptible, not runnable (it was, by the
        // mask of the low bits alone).
        assert_eq!(sched_report_state(false, 0x8000, 0), 0x2);
        assert!(blocked(0x8000, 0));
        // TASK_IDLE with another bit set is idle still (equality missed it).
        assert_eq!(sched_report_state(false, 0x402, 0), 0x80);
        assert_eq!(sched_report_state(false, 0x402 | 0x2000, 0), 0x80);
        // An rtlock wait among other bits is uninterruptible.
        assert_eq!(sched_report_state(false, 0x1000 | 0x2000, 0), 0x2);
        // A dying task is reported by its exit_state (EXIT_ZOMBIE 0x20).
        assert_eq!(sched_report_state(false, 0, 0x20), 0x20);
        assert!(blocked(0, 0x20));
    }
}
