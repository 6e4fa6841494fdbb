//! Types shared by zc's eBPF programs (kernel side) and the `zc` binary (user side).
//!
//! Everything here crosses the kernel/user boundary as raw bytes: through the
//! ring buffer (events), through per-CPU arrays (counters) and through the
//! loader (the kernel layout a program needs). So every struct is `#[repr(C)]`,
//! uses fixed-width integers only, writes its padding out, and has its size
//! pinned by a compile-time assertion: a layout change on one side that the
//! other side did not see fails the build instead of corrupting figures.
#![no_std]

pub mod counters;
pub mod event;
pub mod layout;
pub mod tracepoints;
pub mod tree;

/// Names of the maps, shared so neither side spells them by hand.
pub mod maps {
    /// Ring buffer of [`crate::event`] records, kernel → user.
    pub const EVENTS: &str = "ZC_EVENTS";
    /// Per-CPU `u64` counters indexed by [`crate::counters::Counter`].
    pub const COUNTERS: &str = "ZC_COUNTERS";
    /// Per-CPU `u64` syscall-entry counts of the demo thread, indexed by syscall number.
    pub const SYSCALLS: &str = "ZC_SYSCALLS";
    /// Per-CPU `u64` sums of positive syscall return values (bytes), by syscall number.
    pub const SYSCALL_BYTES: &str = "ZC_SYSCALL_BYTES";
    /// Per-CPU `u64` counts of the demo ring's requests that completed
    /// without error, by opcode (below [`crate::RING_OPCODES`]).
    pub const RING_REQUESTS: &str = "ZC_RING_REQUESTS";
    /// `u64` array indexed by [`crate::Config`]: who and what to trace.
    pub const CONFIG: &str = "ZC_CONFIG";
    /// Global (read-only data) holding [`crate::layout::KernelLayout`].
    pub const LAYOUT: &str = "ZC_LAYOUT";
    /// Demo-socket skbs queued for the device and not yet transmitted,
    /// dropped or freed: what is still in flight.
    pub const QUEUED: &str = "ZC_QUEUED";
    /// The sender's kernel threads (tid → time it last got a CPU).
    pub const HELPERS: &str = "ZC_HELPERS";
    /// Per-CPU `u64`: the task the CPU's last seen `sched_switch` gave it
    /// (tid + 1; 0 = none seen since arming).
    pub const CPU_NEXT: &str = "ZC_CPU_NEXT";
    /// Tasks that left a CPU with no `sched_switch` run to see it (tid →
    /// how many times): no program of zc ran in their context.
    pub const BLIND: &str = "ZC_BLIND";
    /// One `u64`, mapped into zc's memory (`BPF_F_MMAPABLE`): non-zero
    /// while a stepped run's sender waits for the next key press. The
    /// sender sets and clears it with a plain store, no syscall, so its
    /// waiting is never traced.
    pub const GATE: &str = "ZC_GATE";
    /// The receiver's copies folded so far ([`crate::event::RecvFold`],
    /// one slot), while `Config::Fold` is set.
    pub const RECV_FOLD: &str = "ZC_RECV_FOLD";
    /// Per CPU, the skbs at the device folded so far (a
    /// [`crate::event::SkbEvent`] whose `skbs` is 0 when empty), while
    /// `Config::Fold` is set.
    pub const DEVICE_FOLD: &str = "ZC_DEVICE_FOLD";
    /// `zc trace`: the followed processes (tgid → 1), kept up to date by
    /// `task_newtask` and `sched_process_exit` in the kernel.
    pub const FOLLOWED: &str = "ZC_FOLLOWED";
    /// `zc trace`: the same, as one bit per tgid, for the quick test.
    pub const FOLLOWED_BITS: &str = "ZC_FOLLOWED_BITS";
    /// `zc trace`: the followed processes' TCP sockets (`struct sock *` → tgid).
    pub const SOCKS: &str = "ZC_SOCKS";
    /// `zc trace`: every socket followed, by id (kept after it closes).
    pub const SOCK_SEEN: &str = "ZC_SOCK_SEEN";
    /// `zc trace`: per-process counters, keyed by [`crate::tree::proc_key`].
    pub const PROC: &str = "ZC_PROC";
    /// `zc trace`: per-socket counters, keyed by [`crate::tree::SockKey`].
    pub const SOCK_COUNTS: &str = "ZC_SOCK_COUNTS";
    /// `zc trace`: per-file counters, keyed by [`crate::tree::FileKey`].
    pub const FILES: &str = "ZC_FILES";
    /// `zc trace`: syscall number → [`crate::tree::class`], from user space.
    pub const SYSCALL_CLASS: &str = "ZC_SYSCALL_CLASS";
    /// `zc trace`: paths the followed processes opened, as they passed
    /// them ([`crate::tree::OpenedPath`]), until user space takes them.
    pub const OPENED: &str = "ZC_OPENED";
    /// `zc trace`: file beneath → file opened, for stacking file systems.
    pub const FILE_ALIAS: &str = "ZC_FILE_ALIAS";
}

/// The program that does nothing, attached by the floor benchmark where
/// zc's probes are (`zc-user/src/kernel/floor.rs`); zc never loads it.
pub const FLOOR_PROGRAM: &str = "zc_floor";

/// Ring buffer size in bytes (a power-of-two multiple of the page size).
pub const EVENTS_BYTES: u32 = 8 << 20;

/// Words of the followed-process bitmap: one bit per pid up to the
/// kernel's largest `pid_max` (2^22).
pub const FOLLOWED_WORDS: u32 = (1 << 22) / 64;

/// Highest syscall number + 1 that the per-syscall arrays cover.
pub const MAX_SYSCALLS: u32 = 512;

/// Slots of [`maps::RING_REQUESTS`]: io_uring's opcodes are a small
/// enumeration (`IORING_OP_LAST` is below 64 on every kernel zc runs on);
/// a larger one is counted nowhere but in the events.
pub const RING_OPCODES: u32 = 64;

/// Largest number of skb fragments walked per skb (`MAX_SKB_FRAGS` default).
pub const MAX_FRAGS: usize = 17;

/// A frag whose page is not a page of the demo file (`SkbEvent::frag_pages`).
pub const NO_PAGE: u32 = u32::MAX;

/// Slots of the `ZC_CONFIG` array. User space writes them before a run;
/// the kernel side writes [`Config::DemoSock`] itself, once it sees the demo
/// thread send on a TCP socket.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Config {
    /// Non-zero while a run is being traced.
    Armed = 0,
    /// Thread id of the sender (the thread that runs the strategy).
    SenderTid = 1,
    /// Thread id of the receiver in the peer namespace.
    ReceiverTid = 2,
    /// The demo file, as the kernel holds it: the `struct address_space *`
    /// its pages are cached in (learned by [`Config::LearnTid`]). Not the
    /// inode numbers `stat` gives: btrfs reports a subvolume's device, and
    /// overlayfs caches a file's pages in another file system's inode.
    /// Never exported.
    FileMapping = 3,
    /// While non-zero, the thread that is learning the demo file's
    /// identity: on its syscalls the kernel side reads the `f_mapping` of
    /// its descriptor [`Config::LearnFd`] into [`Config::LearnedOpened`],
    /// and on a page-cache lookup it makes (a read of the file) the
    /// mapping the lookup names into [`Config::LearnedCache`].
    LearnTid = 4,
    /// `struct sock *` of the demo socket, learned in the kernel. Never exported.
    DemoSock = 5,
    /// Syscall number the sender makes right after its transfer loop: on
    /// seeing it the kernel side stops attributing the sender's syscalls
    /// (and does not count the marker), so no bookkeeping call after the
    /// loop is mistaken for the strategy's.
    EndMarker = 6,
    /// Zero-copy sends of the demo socket so far: the id the kernel gives
    /// the next one (`sk_zckey` counts from 0 on a new socket, one per
    /// send call that pins).
    ZcNextId = 7,
    /// Bytes those sends pinned, in total.
    ZcPinnedTotal = 8,
    /// `struct io_ring_ctx *` of the sender's io_uring, learned in the
    /// kernel at `io_uring_create`. Never exported.
    DemoRing = 9,
    /// The demo socket's cookie (`SO_COOKIE`, from user space): the kernel
    /// side names the socket whose cookie this is, and no other.
    DemoCookie = 10,
    /// Non-zero once the sender has started a kernel thread this run: until
    /// then the probes skip the helper-thread lookups on their hot paths.
    HelpersSeen = 11,
    /// 0: the demo (one sender thread, its file, its socket). 1: `zc trace`
    /// (every thread of the followed processes, any file, their sockets).
    Mode = 12,
    /// Never written: reads 0, a value the verifier cannot know. See
    /// `opaque` in zc-ebpf's helpers.
    Zero = 13,
    /// The descriptor whose file [`Config::LearnTid`] learns.
    LearnFd = 14,
    /// Learned: the opened file's `f_mapping`. Never exported.
    LearnedOpened = 15,
    /// Learned: the mapping the read of that file looked its pages up in:
    /// the opened file's own, or on a stacking file system (overlayfs) the
    /// file beneath's. 0 when the file system's reads pass no page-cache
    /// tracepoint (tmpfs). Never exported.
    LearnedCache = 16,
    /// The demo socket's first stream byte: `tcp_sock.write_seq` when the
    /// kernel side first saw the sender send on it (nothing was written
    /// yet), plus 2^32 so that 0 means "not seen". Written by the kernel.
    DemoStreamStart = 17,
    /// The address of the kernel's `vmemmap_base` variable (from
    /// /proc/kallsyms), which holds where the array of `struct page`
    /// starts: a DMA map's physical page number indexes it. 0: unknown,
    /// and DMA maps are counted without their pages. Never exported.
    VmemmapBase = 18,
    /// The receiving NIC's `ifindex` in the receiver's namespace, during a
    /// run over borrowed NICs (`zc demo --nic`); 0 otherwise, and the
    /// receive-side DMA programs return at once.
    NicRxIfindex = 19,
    /// The receiving NIC's bus device (`struct device *`), learned in the
    /// kernel from the first frame it hands up. Never exported.
    NicRxDevice = 20,
    /// Syscall number the sender makes right before its transfer loop;
    /// non-zero until the kernel side sees it. Until then the sender's
    /// syscalls are not counted (nor the marker): its wait for the go may
    /// take another futex call after arming. 0 in `zc trace`.
    StartMarker = 21,
    /// Non-zero once a demo skb with a program's own pages in its frags
    /// (lent by vmsplice, pinned by a zero-copy send) reached the queue or
    /// the veth's peer: until then no receive copy can read such a page,
    /// the receiver's program does not walk its skbs' frags, and the peer's
    /// receive does not look for pinned pages forwarded to it. Written by
    /// the kernel.
    UserPagesSent = 22,
    /// Non-zero: walk every skb's frags, even before the demo socket was
    /// handed a page by reference or to pin (`ZC_WALK_EVERY_FRAG=1`): the
    /// check that `PagesReferenced` skips no page of a file or a program.
    WalkEveryFrag = 23,
    /// Non-zero once a send on the demo socket was given pages to take by
    /// reference or to pin (a splice, a sendpage, MSG_ZEROCOPY, a send
    /// with a `msg_ubuf`): until then every frag of its skbs is a page TCP
    /// copied into, and the skb probes do not walk them. Written by the
    /// kernel; 0 at arming.
    PagesReferenced = 24,
    /// Non-zero: the run is too large to show event by event, and the
    /// kernel folds the two most numerous kinds, their bytes and counts
    /// exact: the receiver's copies (`ZC_RECV_FOLD`, a record per
    /// `FOLD_RECV_COPIES`), and the skbs at the device that name no page
    /// (`ZC_DEVICE_FOLD`: consecutive in the stream on one CPU, a record
    /// per `FOLD_SKBS` at most).
    Fold = 25,
}

/// `Config::Mode` values.
pub mod mode {
    pub const DEMO: u64 = 0;
    pub const TREE: u64 = 1;
}

/// Number of `ZC_CONFIG` slots.
pub const CONFIG_SLOTS: u32 = 26;

/// Slots of `ZC_PIN_PREFIX`: zero-copy sends that may be outstanding at once.
pub const ZC_PREFIX_SLOTS: u32 = 1 << 16;

// SAFETY: every type below is `#[repr(C)]`, made of integers only, with its
// padding written out as fields, so any bit pattern is a valid value.
#[cfg(feature = "user")]
mod pod {
    use crate::{event::*, layout::*};
    unsafe impl aya::Pod for KernelLayout {}
    unsafe impl aya::Pod for IterKinds {}
    unsafe impl aya::Pod for Header {}
    unsafe impl aya::Pod for SyscallEvent {}
    unsafe impl aya::Pod for SchedEvent {}
    unsafe impl aya::Pod for FaultEvent {}
    unsafe impl aya::Pod for FilemapEvent {}
    unsafe impl aya::Pod for BlockEvent {}
    unsafe impl aya::Pod for SendEvent {}
    unsafe impl aya::Pod for SkbEvent {}
    unsafe impl aya::Pod for RecvEvent {}
    unsafe impl aya::Pod for RecvFold {}
    unsafe impl aya::Pod for DmaEvent {}
    unsafe impl aya::Pod for CompletionEvent {}
    unsafe impl aya::Pod for ForwardEvent {}
    unsafe impl aya::Pod for RingEvent {}
    unsafe impl aya::Pod for ThreadEvent {}
}
