//! `zc trace`: what the kernel keeps per followed process, per socket and
//! per file. A busy server makes millions of calls, so the totals live in
//! the kernel, in per-CPU hash maps keyed by (owner, counter); the ring
//! buffer only carries a sample for the animation. Losing events never
//! changes a total.
//!
//! A process's and a file's counters share one space: a key's low 32 bits
//! are a [`crate::counters::Counter`] id, or a syscall number offset by
//! [`SYSCALL_CALLS`] (calls) or [`SYSCALL_BYTES`] (bytes returned). A
//! socket keeps its few counters in one value ([`SockCounts`]): a server
//! may have thousands.

use crate::counters::Counter;

/// Key offset of per-process syscall call counts (`+ nr`).
pub const SYSCALL_CALLS: u32 = 1 << 16;
/// Key offset of per-process syscall byte sums (`+ nr`).
pub const SYSCALL_BYTES: u32 = 2 << 16;

/// Per-process slots that are not counters: the process's tree (the pid
/// zc was asked to follow, whence it descends) and parent, written once
/// when it is forked; its name, written once when it exits (two slots of
/// 8 bytes).
pub mod proc_slot {
    pub const ROOT: u32 = 0xffff_0001;
    pub const PARENT: u32 = 0xffff_0002;
    pub const COMM: u32 = 0xffff_0003;
    pub const COMM_END: u32 = 0xffff_0004;
    /// 1 once the process exited during the trace.
    pub const EXITED: u32 = 0xffff_0005;
}

/// Per-file slots carry the process too: `tgid << 8 | file_slot`.
#[inline(always)]
pub const fn file_proc_slot(tgid: u32, slot: u32) -> u32 {
    (tgid << 8) | slot
}

/// Per-process key: `tgid << 32 | slot`.
#[inline(always)]
pub const fn proc_key(tgid: u32, slot: u32) -> u64 {
    ((tgid as u64) << 32) | slot as u64
}

/// The counters kept per socket, in the order of [`SockCounts`]'s slots:
/// what it sent and how (`sock_send_length`), its skbs at the queue and at
/// the device, its retransmissions, and what a followed reader took out of
/// it: copied, spliced or mapped.
pub const SOCK_COUNTERS: [Counter; SOCK_SLOTS] = [
    Counter::SendUserBytes,
    Counter::SendSpliceBytes,
    Counter::SendPinnedBytes,
    Counter::SendOtherBytes,
    Counter::QueueSkbs,
    Counter::QueuePayload,
    Counter::QueueLinearPayload,
    Counter::QueueFileBytes,
    Counter::QueueFileFrags,
    Counter::QueueUserBytes,
    Counter::QueuePinnedBytes,
    Counter::XmitSkbs,
    Counter::XmitPayload,
    Counter::XmitLinearPayload,
    Counter::XmitFileBytes,
    Counter::XmitFileFrags,
    Counter::XmitUserBytes,
    Counter::XmitPinnedBytes,
    Counter::Retransmits,
    Counter::RetransmitBytes,
    Counter::RecvCopies,
    Counter::RecvCopyBytes,
    Counter::RecvSplicedBytes,
    Counter::RecvMappedBytes,
    Counter::NicDmaMaps,
    Counter::NicDmaBytes,
];
pub const SOCK_SLOTS: usize = 26;

/// The slot of counter `c` in [`SockCounts`], if sockets keep it.
#[inline(always)]
pub const fn sock_slot(c: Counter) -> Option<usize> {
    let mut i = 0;
    while i < SOCK_SLOTS {
        if SOCK_COUNTERS[i] as u32 == c as u32 {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// One socket's counters, one map entry per socket (by its id), so that
/// reading a busy server's sockets costs one lookup each, not one per
/// counter.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SockCounts {
    pub v: [u64; SOCK_SLOTS],
}

impl SockCounts {
    pub const ZERO: SockCounts = SockCounts { v: [0; SOCK_SLOTS] };
}

/// Per-file key: the file's device and inode, and a [`file_slot`].
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FileKey {
    pub ino: u64,
    pub dev: u32,
    pub slot: u32,
}

/// What is counted per file.
pub mod file_slot {
    /// Bytes `read()` (and `pread`, `readv`...) copied out of its page cache.
    pub const READ_BYTES: u32 = 0;
    pub const READ_CALLS: u32 = 1;
    /// Bytes `sendfile`, `splice` or `copy_file_range` took from it by
    /// reference.
    pub const REFERENCED_BYTES: u32 = 2;
    /// Pages mapped into a followed process (`mm_filemap_map_pages`,
    /// fault-around included) and faults on the file.
    pub const MAPPED_PAGES: u32 = 3;
    pub const FAULTS: u32 = 4;
    /// Bytes read in from disk into its page cache.
    pub const DISK_BYTES: u32 = 5;
    pub const SLOTS: u32 = 6;
}

/// A followed process's TCP socket, learned at its first send or receive
/// copy: who owns it and its addresses. `id` is the time of that first
/// sighting (ns); it keys the socket's counters, so a `struct sock` that
/// the kernel reuses for another connection starts from zero.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SockInfo {
    pub id: u64,
    /// `SO_COOKIE`, once the socket has sent (0 before).
    pub cookie: u64,
    pub tgid: u32,
    /// `AF_INET` or `AF_INET6`.
    pub family: u16,
    /// Host byte order.
    pub local_port: u16,
    pub remote_port: u16,
    /// 1 once the socket reached `TCP_CLOSE`: user space then folds its
    /// counters into its own record and drops it from the kernel's maps.
    pub closed: u8,
    /// TCP's own counts read: 1 at the first sighting, 2 at the close too.
    pub tcp_read: u8,
    pub _pad: [u8; 4],
    /// IPv4 in the first 4 bytes, or IPv6.
    pub local: [u8; 16],
    pub remote: [u8; 16],
    /// `tcp_sock.bytes_sent` and `bytes_retrans` at the first sighting and
    /// at `TCP_CLOSE`: the socket's own count of what it handed to IP
    /// between the two, the second source its ledger is held against.
    pub tcp_sent_start: u64,
    pub tcp_retrans_start: u64,
    pub tcp_sent_end: u64,
    pub tcp_retrans_end: u64,
    /// What the program took from the socket (`bytes_received` less the
    /// unread `rcv_nxt - copied_seq`), at the same two moments.
    pub tcp_taken_start: u64,
    pub tcp_taken_end: u64,
}

/// The thread's current syscall, as the probes that run inside it see it:
/// whether a file's page cache served it, and whether a socket's receive
/// queue did. It tells `read()` of a file from `read()` of a socket.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SysState {
    pub ino: u64,
    pub dev: u32,
    /// Bit 0: a page-cache lookup; bit 1: a socket receive copy.
    pub seen: u32,
    /// The descriptor of the file the call reads (a read's first argument,
    /// sendfile's second), or -1: the file it opened, when the page cache
    /// it reached belongs to another (see [`FileId`]'s alias map).
    pub fd: i32,
    /// 1 once the call's file and the file beneath were compared.
    pub compared: u32,
    /// An open's entry in `ZC_OPENED`, to complete at its exit, or 0.
    pub opened: u64,
    /// The TCP socket a receive that copies nothing takes from (a splice
    /// out of it, a `TCP_ZEROCOPY_RECEIVE`), learned at the entry, before
    /// the call takes anything; 0 otherwise.
    pub sk: u64,
    /// `TCP_ZEROCOPY_RECEIVE`: the user's `struct tcp_zerocopy_receive`,
    /// whose `length` says at the exit how many bytes were mapped; 0
    /// otherwise.
    pub optval: u64,
    /// 1 from the call's counted entry to its exit, 0 after. A thread's
    /// entry stays in the map between its calls and is rewritten in place
    /// at each: an insert and a delete per syscall in an LRU hash (each
    /// taking a lock and a free-list node) cost more than the rest of the
    /// probe.
    pub inside: u32,
    pub _pad: u32,
}

impl Default for SysState {
    fn default() -> SysState {
        SysState {
            ino: 0,
            dev: 0,
            seen: 0,
            fd: -1,
            compared: 0,
            opened: 0,
            sk: 0,
            optval: 0,
            inside: 1,
            _pad: 0,
        }
    }
}

/// A file as the kernel keys it: its inode's super block's `s_dev` and
/// its `i_ino`. `zc trace` keeps, for a file whose pages live in another
/// file's cache (overlayfs), which file beneath belongs to which file
/// opened (`ZC_FILE_ALIAS`), so it can name the pages by the opened path.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FileId {
    pub ino: u64,
    pub dev: u32,
    pub _pad: u32,
}

pub mod seen {
    pub const FILE: u32 = 1;
    pub const SOCKET: u32 = 2;
}

/// What user space says a syscall number is (the `ZC_SYSCALL_CLASS` map):
/// the kernel needs it to name a read's copy, and the numbers differ
/// between architectures.
pub mod class {
    pub const OTHER: u8 = 0;
    /// read, pread64, readv, preadv, preadv2: data copied to user memory.
    pub const READ: u8 = 1;
    /// splice, copy_file_range: pages passed by reference, from the file
    /// in the first argument.
    pub const BY_REFERENCE: u8 = 2;
    /// open, creat: a path in the first argument.
    pub const OPEN: u8 = 3;
    /// openat, openat2: a directory descriptor, then a path.
    pub const OPEN_AT: u8 = 4;
    /// sendfile: by reference, from the file in the second argument.
    pub const SENDFILE: u8 = 5;
    /// getsockopt: `TCP_ZEROCOPY_RECEIVE` maps a socket's pages into the
    /// caller instead of copying them.
    pub const GETSOCKOPT: u8 = 6;
}

/// Bytes of a path kept per open (`PATH_MAX` is 4096; a longer one is cut,
/// and user space leaves it unnamed).
pub const OPENED_PATH_BYTES: usize = 256;

/// A path a followed process opened, as it passed it, read in the kernel at
/// the call's entry: user space names a file by it even when the file was
/// closed before zc looked in `/proc/PID/fd`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenedPath {
    pub tgid: u32,
    /// Bytes of `path`, without its NUL. The path is relative to the
    /// working directory (the call passed `AT_FDCWD`), or absolute.
    pub len: u32,
    /// The file the call opened, as the kernel keys it, read at its exit
    /// from the descriptor it returned (0, 0 until then, or if it failed).
    pub file: FileId,
    pub path: [u8; OPENED_PATH_BYTES],
}

const _: () = assert!(size_of::<SockCounts>() == 8 * SOCK_SLOTS);
const _: () = assert!(sock_slot(Counter::RecvCopyBytes).is_some());
const _: () = assert!(size_of::<FileKey>() == 16);
const _: () = assert!(size_of::<SockInfo>() == 112);
const _: () = assert!(size_of::<SysState>() == 56);
const _: () = assert!(size_of::<FileId>() == 16);
const _: () = assert!(size_of::<OpenedPath>() == 24 + OPENED_PATH_BYTES);

#[cfg(feature = "user")]
mod pod {
    // SAFETY: repr(C), integers only, padding written out.
    unsafe impl aya::Pod for super::SockCounts {}
    // SAFETY: as above.
    unsafe impl aya::Pod for super::FileKey {}
    // SAFETY: as above.
    unsafe impl aya::Pod for super::OpenedPath {}
    // SAFETY: as above.
    unsafe impl aya::Pod for super::FileId {}
    // SAFETY: as above.
    unsafe impl aya::Pod for super::SockInfo {}
}
