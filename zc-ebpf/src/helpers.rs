//! What every probe family shares: the maps user space reads, the kernel
//! layout it writes, and the small steps of every program (is this the
//! sender? count, then emit; read a field, counting a failure).

use aya_ebpf::bindings::{BPF_F_MMAPABLE, BPF_NOEXIST, BPF_RB_NO_WAKEUP};
use aya_ebpf::{
    Argument,
    helpers::{
        bpf_get_current_pid_tgid, bpf_get_current_task, bpf_ktime_get_ns, bpf_probe_read_kernel,
    },
    macros::map,
    maps::{Array, HashMap, LruHashMap, LruPerCpuHashMap, PerCpuArray, RingBuf},
    programs::BtfTracePointContext,
};
use zc_common::{
    CONFIG_SLOTS, Config, EVENTS_BYTES, FOLLOWED_WORDS, MAX_SYSCALLS, RING_OPCODES,
    counters::{COUNTERS, Counter},
    event::{Header, Kind},
    layout::KernelLayout,
    tracepoints as tp,
    tree::{FileKey, SockCounts, SockInfo, file_proc_slot, proc_key, sock_slot},
};

#[map(name = "ZC_EVENTS")]
static ZC_EVENTS: RingBuf = RingBuf::with_byte_size(EVENTS_BYTES, 0);

#[map(name = "ZC_COUNTERS")]
static ZC_COUNTERS: PerCpuArray<u64> = PerCpuArray::with_max_entries(COUNTERS, 0);

#[map(name = "ZC_SYSCALLS")]
pub static ZC_SYSCALLS: PerCpuArray<u64> = PerCpuArray::with_max_entries(MAX_SYSCALLS, 0);

#[map(name = "ZC_SYSCALL_BYTES")]
pub static ZC_SYSCALL_BYTES: PerCpuArray<u64> = PerCpuArray::with_max_entries(MAX_SYSCALLS, 0);

#[map(name = "ZC_RING_REQUESTS")]
pub static ZC_RING_REQUESTS: PerCpuArray<u64> = PerCpuArray::with_max_entries(RING_OPCODES, 0);

#[map(name = "ZC_CONFIG")]
pub static ZC_CONFIG: Array<u64> = Array::with_max_entries(CONFIG_SLOTS, 0);

/// Non-zero while the sender of a stepped run waits for its next step
/// (`maps::GATE`): the sender's syscalls, faults, interrupts and switches
/// are not traced meanwhile. Written by the sender through a mapping of the
/// array, so raising and lowering it takes no syscall.
#[map(name = "ZC_GATE")]
static ZC_GATE: Array<u64> = Array::with_max_entries(1, BPF_F_MMAPABLE);

/// Whether the sender is waiting at a stepped run's gate.
#[inline(always)]
pub fn gated() -> bool {
    ZC_GATE.get(0).is_some_and(|v| *v != 0)
}

/// Kernel threads the sender started (io_uring's SQ thread, io-wq
/// workers), by tid, with the time they last got a CPU (0 while off one).
/// Filled at `sched_process_fork`; emptied by user space when it arms.
#[map(name = "ZC_HELPERS")]
pub static ZC_HELPERS: HashMap<u32, u64> = HashMap::with_max_entries(64, 0);

/// Written by user space before load (read-only data); see `layout.rs`.
#[unsafe(no_mangle)]
pub static ZC_LAYOUT: KernelLayout = KernelLayout::UNSET;

/// Reads one layout field through a volatile load, so the compiler cannot
/// fold the all-zero placeholder in.
macro_rules! lay {
    ($field:ident) => {
        // SAFETY: ZC_LAYOUT is a plain static; reading it is always valid.
        unsafe { core::ptr::read_volatile(&$crate::helpers::ZC_LAYOUT.$field) }
    };
}
pub(crate) use lay;

/// Runs a `try_*` function and returns the tracepoint's 0: errors were
/// counted where they happened.
macro_rules! entry {
    ($try:ident, $ctx:expr) => {{
        let _ = $try(&$ctx);
        0
    }};
}
pub(crate) use entry;

/// Counts in the context of the followed task itself (a syscall, a fault,
/// a page-cache lookup): the run's total and, for `zc trace`, the current
/// process's own total.
#[inline(always)]
pub fn count(c: Counter, v: u64) {
    count_net(c, v);
    if tree_mode() {
        count_proc(current_tgid(), c as u32, v);
    }
}

/// Counts where the current task may be anyone (softirq, an interrupt, the
/// device's queue): the run's total only. `zc trace` attributes these to a
/// socket (`count_sock`), and the socket to its owner.
#[inline(always)]
pub fn count_net(c: Counter, v: u64) {
    if let Some(p) = ZC_COUNTERS.get_ptr_mut(c as u32) {
        // SAFETY: per-CPU slot, only this CPU writes it while we run.
        unsafe { *p += v };
    }
}

#[inline(always)]
pub fn count_at(map: &PerCpuArray<u64>, index: u64, v: u64) {
    // The verifier wants the bound; a shorter map (RING_OPCODES) fails
    // the lookup past its end, and nothing is counted.
    if index < MAX_SYSCALLS as u64
        && let Some(p) = map.get_ptr_mut(index as u32)
    {
        // SAFETY: as in `count`.
        unsafe { *p += v };
    }
}

/// `zc trace`: per-process counters, keyed by `tgid << 32 | slot`.
#[map(name = "ZC_PROC")]
static ZC_PROC: LruPerCpuHashMap<u64, u64> = LruPerCpuHashMap::with_max_entries(16384, 0);

/// `zc trace`: per-socket counters, one value per socket. User space
/// removes a socket once it closed and was read, so the map holds the open
/// sockets and those closed since the last sample.
#[map(name = "ZC_SOCK_COUNTS")]
static ZC_SOCK_COUNTS: LruPerCpuHashMap<u64, SockCounts> =
    LruPerCpuHashMap::with_max_entries(16384, 0);

/// A zeroed `SockCounts` to create a socket's entry from (kept off the
/// stack, which is small).
#[map(name = "ZC_SOCK_ZERO")]
static ZC_SOCK_ZERO: PerCpuArray<SockCounts> = PerCpuArray::with_max_entries(1, 0);

/// `zc trace`: per-file counters.
#[map(name = "ZC_FILES")]
static ZC_FILES: LruPerCpuHashMap<FileKey, u64> = LruPerCpuHashMap::with_max_entries(16384, 0);

/// Adds `v` to a per-CPU hash map's slot, creating it. An update from a
/// program writes this CPU's value only, so a slot another CPU created
/// meanwhile keeps that CPU's count.
#[inline(always)]
fn add_percpu<K>(map: &LruPerCpuHashMap<K, u64>, key: &K, v: u64) {
    if let Some(p) = map.get_ptr_mut(key) {
        // SAFETY: this CPU's value; only this CPU writes it while we run.
        unsafe { *p += v };
    } else {
        let _ = map.insert(key, v, 0);
    }
}

#[inline(always)]
pub fn count_proc(tgid: u32, slot: u32, v: u64) {
    add_percpu(&ZC_PROC, &proc_key(tgid, slot), v);
}

/// `zc trace`: the counters of socket `id` (see `SockInfo::id`), created
/// at its first count; None for the demo's socket (id 0).
#[inline(always)]
pub fn sock_counts(id: u64) -> Option<*mut SockCounts> {
    if id == 0 {
        return None;
    }
    if let Some(p) = ZC_SOCK_COUNTS.get_ptr_mut(id) {
        return Some(p);
    }
    let zero = ZC_SOCK_ZERO.get(0)?;
    // BPF_NOEXIST: another CPU may have made it meanwhile; keep that one.
    let _ = ZC_SOCK_COUNTS.insert(id, zero, u64::from(BPF_NOEXIST));
    ZC_SOCK_COUNTS.get_ptr_mut(id)
}

/// Adds `v` to counter `c` of socket `id`, if sockets keep `c`.
#[inline(always)]
pub fn add_sock(counts: *mut SockCounts, c: Counter, v: u64) {
    if let Some(slot) = sock_slot(c) {
        // SAFETY: this CPU's value of a live entry; only this CPU writes it.
        unsafe { (*counts).v[slot] += v };
    }
}

/// `zc trace`: counts for the socket `id`.
#[inline(always)]
pub fn count_sock(id: u64, c: Counter, v: u64) {
    if let Some(p) = sock_counts(id) {
        add_sock(p, c, v);
    }
}

/// A socket reached `TCP_CLOSE`: it is followed no more (its `struct sock`
/// may soon be another connection's), and its record says so.
#[inline(always)]
pub fn close_sock(sk: u64) -> bool {
    // SAFETY: the value is copied out before the entry is removed.
    let Some(info) = (unsafe { ZC_SOCKS.get(sk) }).copied() else {
        return false;
    };
    if let Some(p) = ZC_SOCK_SEEN.get_ptr_mut(info.id) {
        // TCP's counts as the socket closes: everything it ever sent, and
        // everything the program took.
        let end = tcp_counts(sk);
        // SAFETY: an entry of this map; racing writers write the same value.
        unsafe {
            if let (1, Ok((sent, retrans, taken))) = ((*p).tcp_read, end) {
                (*p).tcp_sent_end = sent;
                (*p).tcp_retrans_end = retrans;
                (*p).tcp_taken_end = taken;
                (*p).tcp_read = 2;
            }
            (*p).closed = 1;
        }
    }
    ZC_SOCKS.remove(sk).is_ok()
}

/// `zc trace`: counts for a file, by device and inode, and by the current
/// process.
#[inline(always)]
pub fn count_file(dev: u32, ino: u64, slot: u32, v: u64) {
    let key = FileKey {
        ino,
        dev,
        slot: file_proc_slot(current_tgid(), slot),
    };
    add_percpu(&ZC_FILES, &key, v);
}

#[inline(always)]
pub fn config(slot: Config) -> u64 {
    ZC_CONFIG.get(slot as u32).copied().unwrap_or(0)
}

/// `v`, as a value the verifier cannot know. A verifier before 6.7 checks
/// a `bpf_loop` callback for its first round only, with the caller's
/// state as it was before the loop, and rewrites to jumps the branches that
/// round cannot take: a branch on what an earlier round remembered (a
/// cache, a "first seen" slot) is then cut for every later round too. On
/// 6.1 that made the frag walk name one page-cache frag per skb. State the
/// rounds share starts from `opaque` values, so no round's branch is cut.
#[inline(always)]
pub fn opaque(v: u64) -> u64 {
    v | config(Config::Zero)
}

#[inline(always)]
pub fn set_config(slot: Config, v: u64) {
    if let Some(p) = ZC_CONFIG.get_ptr_mut(slot as u32) {
        // SAFETY: array slot owned by this map; racing writers write the same value.
        unsafe { *p = v };
    }
}

/// Whether the current thread is learning which page cache holds the demo
/// file (`Config::LearnTid`).
#[inline(always)]
pub fn learning() -> bool {
    let t = config(Config::LearnTid);
    t != 0 && t == current_tid() as u64
}

/// The `struct file` behind the current task's descriptor `fd`:
/// `current->files->fdt->fd[fd]`, read as `fget` would find it (without
/// the reference: the learning thread holds the file open).
#[inline(always)]
pub fn file_of_fd(fd: u64) -> Result<u64, i64> {
    // SAFETY: no arguments; the pointer is only read through kread.
    let task = unsafe { bpf_get_current_task() };
    let files: u64 = kread(task, lay!(task_files))?;
    let fdt: u64 = kread(files, lay!(files_fdt))?;
    let max: u32 = kread(fdt, lay!(fdtable_max_fds))?;
    if fd >= max as u64 {
        return Err(-9); // EBADF
    }
    let fds: u64 = kread(fdt, lay!(fdtable_fd))?;
    kread(fds + fd * 8, 0)
}

/// A file as the kernel keys it, from its inode: (`i_sb->s_dev`, or
/// `i_rdev` without a super block; `i_ino`), as the filemap tracepoints
/// name it.
#[inline(always)]
pub fn inode_id(inode: u64) -> Result<(u32, u64), i64> {
    let ino: u64 = kread(inode, lay!(inode_ino))?;
    let sb: u64 = kread(inode, lay!(inode_sb))?;
    let dev: u32 = if sb != 0 {
        kread(sb, lay!(sb_dev))?
    } else {
        kread(inode, lay!(inode_rdev))?
    };
    Ok((dev, ino))
}

#[inline(always)]
pub fn armed() -> bool {
    config(Config::Armed) != 0
}

#[inline(always)]
pub fn current_tid() -> u32 {
    bpf_get_current_pid_tgid() as u32
}

/// `zc trace`: the followed processes, by tgid. Filled by user space with
/// the first ones, then by `task_newtask` with their children; emptied by
/// `sched_process_exit` and by user space when it arms.
#[map(name = "ZC_FOLLOWED")]
pub static ZC_FOLLOWED: HashMap<u32, u32> = HashMap::with_max_entries(8192, 0);

/// `zc trace`: one bit per tgid, set while the process is followed. Every
/// syscall and scheduler switch of the machine asks "is this process
/// followed?": an array word is found without hashing, where the hash map
/// lookup made the answer cost about twice as much. `ZC_FOLLOWED` keeps
/// each process's tree.
#[map(name = "ZC_FOLLOWED_BITS")]
pub static ZC_FOLLOWED_BITS: Array<u64> = Array::with_max_entries(FOLLOWED_WORDS, 0);

/// Marks `tgid` followed or not. Another CPU may change a neighbour's bit
/// in the same word at the same time, so the bit is added or taken away
/// with an atomic add (`BPF_ATOMIC`), only when it is not yet as wanted.
#[inline(always)]
pub fn set_followed(tgid: u32, on: bool) {
    if let Some(p) = ZC_FOLLOWED_BITS.get_ptr_mut(tgid >> 6) {
        let bit = 1u64 << (tgid & 63);
        // SAFETY: an aligned u64 in the map's value area.
        let set = unsafe { core::ptr::read_volatile(p) } & bit != 0;
        if on && !set {
            // SAFETY: as above; the add is atomic.
            unsafe { atomic_add(p, bit) };
        } else if !on && set {
            // SAFETY: as above.
            unsafe { atomic_add(p, bit.wrapping_neg()) };
        }
    }
}

/// `*p += v`, atomically. The BPF target has no atomic types in `core`,
/// so the compiler's intrinsic is used there (it becomes `lock *(u64 *)`).
#[cfg(target_arch = "bpf")]
#[inline(always)]
unsafe fn atomic_add(p: *mut u64, v: u64) {
    // SAFETY: the caller passes a valid, aligned pointer.
    unsafe {
        core::intrinsics::atomic_xadd::<u64, u64, { core::intrinsics::AtomicOrdering::Relaxed }>(
            p, v,
        )
    };
}

#[cfg(not(target_arch = "bpf"))]
#[inline(always)]
unsafe fn atomic_add(p: *mut u64, v: u64) {
    // SAFETY: the caller passes a valid, aligned pointer.
    unsafe { core::sync::atomic::AtomicU64::from_ptr(p) }
        .fetch_add(v, core::sync::atomic::Ordering::Relaxed);
}

/// `zc trace`: the followed processes' TCP sockets, learned at their sends
/// (`struct sock *` → tgid), for the skb probes, which often run in softirq
/// context on behalf of another task.
#[map(name = "ZC_SOCKS")]
pub static ZC_SOCKS: LruHashMap<u64, SockInfo> = LruHashMap::with_max_entries(16384, 0);

/// `zc trace`: every socket followed during the trace, by id, kept after
/// it closes (and leaves `ZC_SOCKS`) so the report can name it.
#[map(name = "ZC_SOCK_SEEN")]
pub static ZC_SOCK_SEEN: LruHashMap<u64, SockInfo> = LruHashMap::with_max_entries(65536, 0);

/// The id `zc trace` counts socket `sk` under (0 for the demo's socket,
/// which has no per-socket counts), or None for a socket zc ignores.
#[inline(always)]
pub fn sock_id(sk: u64) -> Option<u64> {
    if sk == 0 {
        return None;
    }
    if tree_mode() {
        // SAFETY: the value is copied out at once.
        return unsafe { ZC_SOCKS.get(sk) }.map(|i| i.id);
    }
    (sk == config(Config::DemoSock)).then_some(0)
}

/// `zc trace`: follows socket `sk` of the current (followed) process from
/// now, reading its addresses; returns its id. `cookie` is 0 where the
/// caller cannot ask for it.
#[inline(always)]
pub fn learn_sock(sk: u64, cookie: u64) -> u64 {
    // SAFETY: the entry is read at once; only this socket's owner writes it.
    if let Some(p) = ZC_SOCKS.get_ptr_mut(sk) {
        unsafe {
            if (*p).cookie == 0 && cookie != 0 {
                (*p).cookie = cookie;
                let _ = ZC_SOCK_SEEN.insert((*p).id, *p, 0);
            }
            return (*p).id;
        }
    }
    let mut info = SockInfo {
        // SAFETY: helper without arguments.
        id: unsafe { bpf_ktime_get_ns() },
        cookie,
        tgid: current_tgid(),
        ..SockInfo::default()
    };
    info.family = kread(sk, lay!(skc_family)).unwrap_or(0);
    info.local_port = kread(sk, lay!(skc_num)).unwrap_or(0);
    info.remote_port = u16::from_be(kread(sk, lay!(skc_dport)).unwrap_or(0));
    if info.family == AF_INET6 {
        info.local = kread(sk, lay!(skc_v6_rcv_saddr)).unwrap_or([0; 16]);
        info.remote = kread(sk, lay!(skc_v6_daddr)).unwrap_or([0; 16]);
    } else {
        let l: [u8; 4] = kread(sk, lay!(skc_rcv_saddr)).unwrap_or([0; 4]);
        let r: [u8; 4] = kread(sk, lay!(skc_daddr)).unwrap_or([0; 4]);
        info.local[..4].copy_from_slice(&l);
        info.remote[..4].copy_from_slice(&r);
    }
    if let Ok((sent, retrans, taken)) = tcp_counts(sk) {
        info.tcp_sent_start = sent;
        info.tcp_retrans_start = retrans;
        info.tcp_taken_start = taken;
        info.tcp_read = 1;
    }
    let _ = ZC_SOCKS.insert(sk, info, 0);
    let _ = ZC_SOCK_SEEN.insert(info.id, info, 0);
    info.id
}

const AF_INET6: u16 = 10;

/// TCP's own counts for socket `sk`: payload handed to IP, of it
/// retransmitted, and payload the program took (arrived, less what waits
/// unread between `copied_seq` and `rcv_nxt`, less the FIN). The same
/// at the first sighting and at the close, so their difference is exact.
#[inline(always)]
fn tcp_counts(sk: u64) -> Result<(u64, u64, u64), i64> {
    let sent: u64 = kread(sk, lay!(tcp_bytes_sent))?;
    let retrans: u64 = kread(sk, lay!(tcp_bytes_retrans))?;
    let received: u64 = kread(sk, lay!(tcp_bytes_received))?;
    let rcv_nxt: u32 = kread(sk, lay!(tcp_rcv_nxt))?;
    let copied: u32 = kread(sk, lay!(tcp_copied_seq))?;
    let unread = rcv_nxt.wrapping_sub(copied) as u64;
    // The peer's FIN takes a sequence number: `bytes_received` counts it,
    // and so does `copied_seq` once the program read the end of the
    // stream. Read or not, it is no byte the program took. Only `tcp_fin`
    // sets SOCK_DONE: an orphaned socket in FIN_WAIT2 hands the FIN to its
    // timewait socket and never counts it.
    let flags: u64 = kread(sk, lay!(skc_flags))?;
    let fin = (flags >> (lay!(sock_done_bit) & 63)) & 1 != 0;
    let taken = received.saturating_sub(unread);
    Ok((
        sent,
        retrans,
        taken.saturating_sub((fin && unread == 0) as u64),
    ))
}

#[inline(always)]
pub fn current_tgid() -> u32 {
    (bpf_get_current_pid_tgid() >> 32) as u32
}

/// Whether zc follows a tree of processes (`zc trace`) rather than the
/// demo's one sender thread.
#[inline(always)]
pub fn tree_mode() -> bool {
    config(Config::Mode) == zc_common::mode::TREE
}

/// Whether process `tgid` is in the followed tree.
#[inline(always)]
pub fn followed(tgid: u32) -> bool {
    // SAFETY: the value is only tested for presence.
    ZC_FOLLOWED_BITS
        .get(tgid >> 6)
        .is_some_and(|w| w & (1u64 << (tgid & 63)) != 0)
}

/// True when a run is armed and the current thread is the one zc follows:
/// the demo's sender thread, or (`zc trace`) any thread of a followed process.
#[inline(always)]
pub fn in_sender() -> bool {
    if !armed() {
        return false;
    }
    if tree_mode() {
        return followed(current_tgid());
    }
    let sender = config(Config::SenderTid);
    sender != 0 && current_tid() as u64 == sender && !gated()
}

/// True when the current thread is one the sender started (its io_uring's
/// SQ thread or an io-wq worker) and a run is armed.
#[inline(always)]
pub fn in_helper() -> bool {
    // A flag first: most runs start no kernel thread, and this runs on
    // every send and every scheduler switch of the machine while armed.
    // SAFETY: the value is only tested for presence.
    armed()
        && config(Config::HelpersSeen) != 0
        && unsafe { ZC_HELPERS.get(current_tid()) }.is_some()
}

/// The sender, or work it handed to its kernel threads: the send path
/// counts both (with SQPOLL every send runs in the SQ thread).
#[inline(always)]
pub fn for_sender() -> bool {
    in_sender() || in_helper()
}

#[inline(always)]
pub fn header(kind: Kind, op: u16) -> Header {
    Header {
        // SAFETY: helper without arguments.
        ts_ns: unsafe { bpf_ktime_get_ns() },
        tid: current_tid(),
        kind: kind as u16,
        op,
    }
}

/// Puts `record` in the ring buffer, or counts that there was no room.
#[inline(always)]
pub fn emit<T: 'static>(record: T) {
    // `zc trace` draws rates from the in-kernel totals; a busy server's
    // every event through the ring buffer would cost it for nothing.
    if tree_mode() {
        return;
    }
    match ZC_EVENTS.reserve::<T>(0) {
        Some(mut entry) => {
            entry.write(record);
            // User space polls the ring buffer on its own clock and never
            // sleeps on it: a wakeup would only cost an irq_work interrupt.
            entry.submit(u64::from(BPF_RB_NO_WAKEUP));
        }
        None => count_net(Counter::RingbufFull, 1),
    }
}

/// Emits the first `len` bytes of `record`, a record whose tail is
/// optional (see `event::SKB_EVENT_SHORT`).
#[inline(always)]
pub fn emit_prefix<T: 'static>(record: &T, len: usize) {
    if tree_mode() {
        return;
    }
    // SAFETY: `len` is at most the size of `record` (the callers pass a
    // field offset), which is plain bytes.
    let bytes = unsafe { core::slice::from_raw_parts(record as *const T as *const u8, len) };
    if ZC_EVENTS
        .output::<[u8]>(bytes, u64::from(BPF_RB_NO_WAKEUP))
        .is_err()
    {
        count_net(Counter::RingbufFull, 1);
    }
}

/// Like `emit`, for a record that costs kernel reads to build: builds it
/// only when it goes to the ring buffer (not in `zc trace`).
#[inline(always)]
pub fn emit_with<T: 'static>(make: impl FnOnce() -> T) {
    if !tree_mode() {
        emit(make());
    }
}

/// Reads argument `a` of the tracepoint (its position was checked against
/// the kernel's BTF prototype before this program was loaded).
#[inline(always)]
pub fn arg<T: Argument>(ctx: &BtfTracePointContext, a: tp::Arg) -> T {
    ctx.arg(a.index)
}

/// Loads a `T` at `base + off` straight from kernel memory, with no helper
/// call. Only for a `base` the verifier knows as a BTF-typed pointer: a
/// `tp_btf` argument such as the tracepoint's `struct sk_buff *`. `off`
/// comes from `ZC_LAYOUT` in `.rodata`, which aya freezes once written, so
/// the verifier reads it as the constant it is, checks the access against
/// the kernel's BTF (the field must be there, and as wide), and the JIT
/// makes it one load with an exception-table entry: a bad address reads 0
/// instead of faulting, as `bpf_probe_read_kernel` would have failed.
#[inline(always)]
pub fn kload<T: Copy>(base: u64, off: u32) -> T {
    // SAFETY: see above; the kernel guards the load itself.
    unsafe { core::ptr::read_volatile((base + off as u64) as *const T) }
}

/// Reads a `T` at `base + off` in kernel memory, counting a failure.
#[inline(always)]
pub fn kread<T>(base: u64, off: u32) -> Result<T, i64> {
    // SAFETY: bpf_probe_read_kernel validates the address itself.
    unsafe { bpf_probe_read_kernel((base + off as u64) as *const T) }.map_err(|e| {
        count_net(Counter::ReadFailed, 1);
        i64::from(e)
    })
}
