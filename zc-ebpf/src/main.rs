//! zc's eBPF programs: one thin entry per tracepoint, each calling a `try_*`
//! function that never panics.
//!
//! Attribution happens here, in the kernel, by identity rather than by
//! process name: the sender thread's tid for syscalls, faults, scheduler
//! switches and block requests; the demo file's (s_dev, i_ino) for page-cache
//! events; the demo socket (`struct sock *`, learned from the sender's own
//! sends) for skbs, which are often transmitted from softirq context on
//! behalf of some other task; the receiver's tid for its copy.
//!
//! Every event first bumps exact per-CPU counters, then tries to put a record
//! in the ring buffer. A full ring buffer costs animation detail, never totals.
#![no_std]
#![no_main]

use aya_ebpf::{
    helpers::{bpf_get_current_pid_tgid, bpf_ktime_get_ns, bpf_probe_read_kernel},
    macros::{btf_tracepoint, map, tracepoint},
    maps::{Array, HashMap, PerCpuArray, RingBuf},
    programs::{BtfTracePointContext, TracePointContext},
};
use zc_common::{
    CONFIG_SLOTS, Config, EVENTS_BYTES, MAX_FRAGS, MAX_SYSCALLS,
    counters::{COUNTERS, Counter},
    event::*,
    layout::{KernelLayout, MSG_SPLICE_PAGES},
    tracepoints as tp,
};

#[map(name = "ZC_EVENTS")]
static ZC_EVENTS: RingBuf = RingBuf::with_byte_size(EVENTS_BYTES, 0);

#[map(name = "ZC_COUNTERS")]
static ZC_COUNTERS: PerCpuArray<u64> = PerCpuArray::with_max_entries(COUNTERS, 0);

#[map(name = "ZC_SYSCALLS")]
static ZC_SYSCALLS: PerCpuArray<u64> = PerCpuArray::with_max_entries(MAX_SYSCALLS, 0);

#[map(name = "ZC_SYSCALL_BYTES")]
static ZC_SYSCALL_BYTES: PerCpuArray<u64> = PerCpuArray::with_max_entries(MAX_SYSCALLS, 0);

#[map(name = "ZC_CONFIG")]
static ZC_CONFIG: Array<u64> = Array::with_max_entries(CONFIG_SLOTS, 0);

/// Block requests the sender issued, keyed by (dev, sector), so their
/// completion (in interrupt context) can be attributed too.
#[map]
static ZC_BLOCK_INFLIGHT: HashMap<u64, u64> = HashMap::with_max_entries(4096, 0);

/// What the current sendmsg's data comes from, set at `tcp_sendmsg_locked`
/// and read at `sock_send_length` (both run in the sender thread, in order).
/// 1 while the sender is inside a syscall whose entry was counted, so an
/// exit whose entry came before arming (a wait that ends) is not counted.
#[map]
static ZC_IN_SYSCALL: Array<u64> = Array::with_max_entries(1, 0);

#[map]
static ZC_SEND_SOURCE: Array<u64> = Array::with_max_entries(1, 0);

const SOURCE_USER: u64 = source::USER as u64;
const SOURCE_SPLICE: u64 = source::SPLICE as u64;
const SOURCE_OTHER: u64 = source::OTHER as u64;

/// Written by user space before load (read-only data); see `layout.rs`.
#[unsafe(no_mangle)]
static ZC_LAYOUT: KernelLayout = KernelLayout {
    skb_len: 0,
    skb_data_len: 0,
    skb_head: 0,
    skb_end: 0,
    skb_sk: 0,
    skb_mac_header: 0,
    skb_transport_header: 0,
    shinfo_flags: 0,
    shinfo_nr_frags: 0,
    shinfo_gso_size: 0,
    shinfo_gso_segs: 0,
    shinfo_frags: 0,
    frag_size: 0,
    frag_netmem: 0,
    frag_len: 0,
    page_size: 0,
    page_compound_head: 0,
    folio_mapping: 0,
    folio_index: 0,
    mapping_host: 0,
    inode_ino: 0,
    inode_sb: 0,
    sb_dev: 0,
    msghdr_flags: 0,
    msghdr_iter: 0,
    iter_type: 0,
    iter_count: 0,
    iter_kinds: zc_common::layout::IterKinds {
        ubuf: 0,
        iovec: 0,
        bvec: 0,
        _pad: 0,
    },
    valid: 0,
};

/// Reads one layout field through a volatile load, so the compiler cannot
/// fold the all-zero placeholder in.
macro_rules! lay {
    ($field:ident) => {
        // SAFETY: ZC_LAYOUT is a plain static; reading it is always valid.
        unsafe { core::ptr::read_volatile(&ZC_LAYOUT.$field) }
    };
}

// ---------------------------------------------------------------- helpers

#[inline(always)]
fn count(c: Counter, v: u64) {
    if let Some(p) = ZC_COUNTERS.get_ptr_mut(c as u32) {
        // SAFETY: per-CPU slot, only this CPU writes it while we run.
        unsafe { *p += v };
    }
}

#[inline(always)]
fn count_at(map: &PerCpuArray<u64>, index: u64, v: u64) {
    if index < MAX_SYSCALLS as u64
        && let Some(p) = map.get_ptr_mut(index as u32)
    {
        // SAFETY: as in `count`.
        unsafe { *p += v };
    }
}

#[inline(always)]
fn config(slot: Config) -> u64 {
    ZC_CONFIG.get(slot as u32).copied().unwrap_or(0)
}

#[inline(always)]
fn armed() -> bool {
    config(Config::Armed) != 0
}

#[inline(always)]
fn current_tid() -> u32 {
    bpf_get_current_pid_tgid() as u32
}

/// True when the current thread is the sender and a run is armed.
#[inline(always)]
fn in_sender() -> bool {
    let sender = config(Config::SenderTid);
    armed() && sender != 0 && current_tid() as u64 == sender
}

#[inline(always)]
fn header(kind: Kind, op: u16) -> Header {
    Header {
        // SAFETY: helper without arguments.
        ts_ns: unsafe { bpf_ktime_get_ns() },
        tid: current_tid(),
        kind: kind as u16,
        op,
    }
}

#[inline(always)]
fn emit<T: 'static>(record: T) {
    match ZC_EVENTS.reserve::<T>(0) {
        Some(mut entry) => {
            entry.write(record);
            entry.submit(0);
        }
        None => count(Counter::RingbufFull, 1),
    }
}

#[inline(always)]
fn field<T>(ctx: &TracePointContext, f: tp::Field) -> Result<T, i64> {
    // SAFETY: the offset was checked against the kernel's format file before
    // this program was attached; a bad read returns an error, never UB.
    unsafe { ctx.read_at::<T>(f.offset) }.map_err(|e| e as i64)
}

/// Reads a `T` at `base + off` in kernel memory, counting failures.
#[inline(always)]
fn kread<T>(base: u64, off: u32) -> Result<T, i64> {
    // SAFETY: bpf_probe_read_kernel validates the address itself.
    unsafe { bpf_probe_read_kernel((base + off as u64) as *const T) }.map_err(|e| {
        count(Counter::ReadFailed, 1);
        e as i64
    })
}

macro_rules! entry {
    ($try:ident, $ctx:expr) => {{
        let _ = $try(&$ctx);
        0
    }};
}

// ---------------------------------------------------------------- syscalls

#[tracepoint(category = "raw_syscalls", name = "sys_enter")]
pub fn sys_enter(ctx: TracePointContext) -> u32 {
    entry!(try_sys_enter, ctx)
}

fn try_sys_enter(ctx: &TracePointContext) -> Result<(), i64> {
    if !in_sender() {
        return Ok(());
    }
    let nr: u64 = field(ctx, tp::sys_enter::ID)?;
    if nr == config(Config::EndMarker) {
        // The loop is over: stop following this thread, without counting the marker.
        if let Some(p) = ZC_CONFIG.get_ptr_mut(Config::SenderTid as u32) {
            // SAFETY: array slot owned by this map.
            unsafe { *p = 0 };
        }
        return Ok(());
    }
    if let Some(p) = ZC_IN_SYSCALL.get_ptr_mut(0) {
        // SAFETY: single slot, only the sender thread writes it while armed.
        unsafe { *p = 1 };
    }
    count(Counter::SysEnter, 1);
    count_at(&ZC_SYSCALLS, nr, 1);
    let base = tp::sys_enter::ARGS.offset;
    // SAFETY: args[0..3] lie inside the checked `args` field.
    let args = unsafe {
        [
            ctx.read_at::<u64>(base).unwrap_or(0),
            ctx.read_at::<u64>(base + 8).unwrap_or(0),
            ctx.read_at::<u64>(base + 16).unwrap_or(0),
        ]
    };
    emit(SyscallEvent {
        h: header(Kind::Syscall, op::SYS_ENTER),
        nr,
        args,
        ret: 0,
    });
    Ok(())
}

#[tracepoint(category = "raw_syscalls", name = "sys_exit")]
pub fn sys_exit(ctx: TracePointContext) -> u32 {
    entry!(try_sys_exit, ctx)
}

fn try_sys_exit(ctx: &TracePointContext) -> Result<(), i64> {
    if !in_sender() {
        return Ok(());
    }
    match ZC_IN_SYSCALL.get_ptr_mut(0) {
        // SAFETY: as in try_sys_enter.
        Some(p) if unsafe { *p } == 1 => unsafe { *p = 0 },
        _ => return Ok(()), // its entry was not traced
    }
    let nr: u64 = field(ctx, tp::sys_exit::ID)?;
    let ret: i64 = field(ctx, tp::sys_exit::RET)?;
    count(Counter::SysExit, 1);
    // Byte counts only: mmap returns an address, which must not be summed
    // (nor leave the kernel as a figure).
    if ret > 0 && ret < (1 << 40) {
        count_at(&ZC_SYSCALL_BYTES, nr, ret as u64);
    }
    emit(SyscallEvent {
        h: header(Kind::Syscall, op::SYS_EXIT),
        nr,
        args: [0; 3],
        ret,
    });
    Ok(())
}

// ---------------------------------------------------------------- scheduler

#[tracepoint(category = "sched", name = "sched_switch")]
pub fn sched_switch(ctx: TracePointContext) -> u32 {
    entry!(try_sched_switch, ctx)
}

fn try_sched_switch(ctx: &TracePointContext) -> Result<(), i64> {
    let sender = config(Config::SenderTid);
    if !armed() || sender == 0 {
        return Ok(());
    }
    let prev: u32 = field(ctx, tp::sched_switch::PREV_PID)?;
    let next: u32 = field(ctx, tp::sched_switch::NEXT_PID)?;
    let op = if prev as u64 == sender {
        op::SCHED_OUT
    } else if next as u64 == sender {
        op::SCHED_IN
    } else {
        return Ok(());
    };
    let prev_state: u64 = field(ctx, tp::sched_switch::PREV_STATE)?;
    if op == op::SCHED_OUT {
        count(Counter::SchedOut, 1);
        if prev_state != 0 {
            count(Counter::SchedOutBlocked, 1);
        }
    }
    emit(SchedEvent {
        h: header(Kind::Sched, op),
        prev_pid: prev,
        next_pid: next,
        prev_state,
    });
    Ok(())
}

// ---------------------------------------------------------------- page faults

#[tracepoint(category = "exceptions", name = "page_fault_user")]
pub fn page_fault_user(ctx: TracePointContext) -> u32 {
    let _ = try_fault(&ctx, op::FAULT_USER);
    0
}

#[tracepoint(category = "exceptions", name = "page_fault_kernel")]
pub fn page_fault_kernel(ctx: TracePointContext) -> u32 {
    let _ = try_fault(&ctx, op::FAULT_KERNEL);
    0
}

fn try_fault(ctx: &TracePointContext, op: u16) -> Result<(), i64> {
    if !in_sender() {
        return Ok(());
    }
    count(
        if op == op::FAULT_USER {
            Counter::FaultUser
        } else {
            Counter::FaultKernel
        },
        1,
    );
    emit(FaultEvent {
        h: header(Kind::Fault, op),
        address: field(ctx, tp::page_fault::ADDRESS)?,
        ip: field(ctx, tp::page_fault::IP)?,
        error_code: field(ctx, tp::page_fault::ERROR_CODE)?,
    });
    Ok(())
}

// ---------------------------------------------------------------- page cache

#[inline(always)]
fn is_demo_file(dev: u32, ino: u64) -> bool {
    let want_ino = config(Config::FileIno);
    armed() && want_ino != 0 && ino == want_ino && dev as u64 == config(Config::FileDev)
}

#[tracepoint(category = "filemap", name = "mm_filemap_get_pages")]
pub fn mm_filemap_get_pages(ctx: TracePointContext) -> u32 {
    let _ = try_filemap_range(&ctx, op::FILEMAP_GET_PAGES);
    0
}

#[tracepoint(category = "filemap", name = "mm_filemap_map_pages")]
pub fn mm_filemap_map_pages(ctx: TracePointContext) -> u32 {
    let _ = try_filemap_range(&ctx, op::FILEMAP_MAP_PAGES);
    0
}

fn try_filemap_range(ctx: &TracePointContext, op: u16) -> Result<(), i64> {
    let ino: u64 = field(ctx, tp::filemap_range::I_INO)?;
    let dev: u32 = field(ctx, tp::filemap_range::S_DEV)?;
    if !is_demo_file(dev, ino) {
        return Ok(());
    }
    let index: u64 = field(ctx, tp::filemap_range::INDEX)?;
    let last_index: u64 = field(ctx, tp::filemap_range::LAST_INDEX)?;
    let pages = last_index.saturating_sub(index) + 1;
    if op == op::FILEMAP_GET_PAGES {
        count(Counter::FilemapGetPages, 1);
        count(Counter::FilemapGetPagesPages, pages);
    } else {
        count(Counter::FilemapMapPages, 1);
        count(Counter::FilemapMapPagesPages, pages);
    }
    emit(FilemapEvent {
        h: header(Kind::Filemap, op),
        index,
        last_index,
        order: 0,
        _pad: 0,
    });
    Ok(())
}

#[tracepoint(category = "filemap", name = "mm_filemap_add_to_page_cache")]
pub fn mm_filemap_add_to_page_cache(ctx: TracePointContext) -> u32 {
    entry!(try_filemap_add, ctx)
}

fn try_filemap_add(ctx: &TracePointContext) -> Result<(), i64> {
    let ino: u64 = field(ctx, tp::filemap_add::I_INO)?;
    let dev: u32 = field(ctx, tp::filemap_add::S_DEV)?;
    if !is_demo_file(dev, ino) {
        return Ok(());
    }
    let index: u64 = field(ctx, tp::filemap_add::INDEX)?;
    let order: u8 = field(ctx, tp::filemap_add::ORDER)?;
    let order = (order & 31) as u32;
    count(Counter::FilemapAdd, 1);
    count(Counter::FilemapAddBytes, 4096u64 << order);
    emit(FilemapEvent {
        h: header(Kind::Filemap, op::FILEMAP_ADD),
        index,
        last_index: index + (1u64 << order) - 1,
        order,
        _pad: 0,
    });
    Ok(())
}

#[tracepoint(category = "filemap", name = "mm_filemap_fault")]
pub fn mm_filemap_fault(ctx: TracePointContext) -> u32 {
    entry!(try_filemap_fault, ctx)
}

fn try_filemap_fault(ctx: &TracePointContext) -> Result<(), i64> {
    let ino: u64 = field(ctx, tp::filemap_fault::I_INO)?;
    let dev: u32 = field(ctx, tp::filemap_fault::S_DEV)?;
    if !is_demo_file(dev, ino) {
        return Ok(());
    }
    let index: u64 = field(ctx, tp::filemap_fault::INDEX)?;
    count(Counter::FilemapFault, 1);
    emit(FilemapEvent {
        h: header(Kind::Filemap, op::FILEMAP_FAULT),
        index,
        last_index: index,
        order: 0,
        _pad: 0,
    });
    Ok(())
}

// ---------------------------------------------------------------- block I/O

#[inline(always)]
fn block_key(dev: u32, sector: u64) -> u64 {
    ((dev as u64) << 44) ^ sector
}

#[tracepoint(category = "block", name = "block_bio_queue")]
pub fn block_bio_queue(ctx: TracePointContext) -> u32 {
    entry!(try_block_issue, ctx)
}

fn try_block_issue(ctx: &TracePointContext) -> Result<(), i64> {
    if !in_sender() {
        return Ok(());
    }
    let rwbs: [u8; 4] = field(ctx, tp::block_bio_queue::RWBS)?;
    // rwbs is e.g. "R", "RA", "FR": a read has an 'R' among its first letters.
    if rwbs[0] != b'R' && rwbs[1] != b'R' {
        return Ok(());
    }
    let dev: u32 = field(ctx, tp::block_bio_queue::DEV)?;
    let sector: u64 = field(ctx, tp::block_bio_queue::SECTOR)?;
    let nr_sector: u32 = field(ctx, tp::block_bio_queue::NR_SECTOR)?;
    let bytes = nr_sector.saturating_mul(512);
    count(Counter::BlockIssue, 1);
    count(Counter::BlockIssueBytes, bytes as u64);
    let _ = ZC_BLOCK_INFLIGHT.insert(&block_key(dev, sector), &(nr_sector as u64), 0);
    emit(BlockEvent {
        h: header(Kind::Block, op::BLOCK_ISSUE),
        sector,
        dev,
        nr_sector,
        bytes,
        _pad: 0,
    });
    Ok(())
}

#[tracepoint(category = "block", name = "block_rq_complete")]
pub fn block_rq_complete(ctx: TracePointContext) -> u32 {
    entry!(try_block_complete, ctx)
}

fn try_block_complete(ctx: &TracePointContext) -> Result<(), i64> {
    if !armed() {
        return Ok(());
    }
    let dev: u32 = field(ctx, tp::block_rq_complete::DEV)?;
    let sector: u64 = field(ctx, tp::block_rq_complete::SECTOR)?;
    let key = block_key(dev, sector);
    // SAFETY: the value is copied out before the entry is removed.
    if unsafe { ZC_BLOCK_INFLIGHT.get(&key) }.is_none() {
        return Ok(());
    }
    let _ = ZC_BLOCK_INFLIGHT.remove(&key);
    let nr_sector: u32 = field(ctx, tp::block_rq_complete::NR_SECTOR)?;
    count(Counter::BlockComplete, 1);
    count(Counter::BlockCompleteSectors, nr_sector as u64);
    emit(BlockEvent {
        h: header(Kind::Block, op::BLOCK_COMPLETE),
        sector,
        dev,
        nr_sector,
        bytes: 0,
        _pad: 0,
    });
    Ok(())
}

// ---------------------------------------------------------------- socket send

/// `tcp_sendmsg_locked(sk, msg, skb, size_goal)`, typed through BTF so the
/// message's iterator (user memory or page-cache pages) can be read.
#[btf_tracepoint(function = "tcp_sendmsg_locked")]
pub fn tcp_sendmsg_locked(ctx: BtfTracePointContext) -> u32 {
    entry!(try_tcp_sendmsg_locked, ctx)
}

fn try_tcp_sendmsg_locked(ctx: &BtfTracePointContext) -> Result<(), i64> {
    if !in_sender() || lay!(valid) == 0 {
        return Ok(());
    }
    let sk: u64 = ctx.arg(0);
    let msg: u64 = ctx.arg(1);
    let skb: u64 = ctx.arg(2);
    let size_goal: i32 = ctx.arg(3);
    // The sender has one TCP socket: its first send names it.
    if config(Config::DemoSock) == 0
        && let Some(p) = ZC_CONFIG.get_ptr_mut(Config::DemoSock as u32)
    {
        // SAFETY: array slot owned by this map; racing writers write the same value.
        unsafe { *p = sk };
    }
    let flags: u32 = kread(msg, lay!(msghdr_flags))?;
    let iter = msg + lay!(msghdr_iter) as u64;
    let iter_type: u8 = kread(iter, lay!(iter_type))?;
    let left: u64 = kread(iter, lay!(iter_count))?;
    let splice = flags & MSG_SPLICE_PAGES != 0;
    let kinds = lay!(iter_kinds);
    let source = if iter_type == kinds.ubuf || iter_type == kinds.iovec {
        SOURCE_USER
    } else if splice && iter_type == kinds.bvec {
        SOURCE_SPLICE
    } else {
        SOURCE_OTHER
    };
    if let Some(p) = ZC_SEND_SOURCE.get_ptr_mut(0) {
        // SAFETY: single slot, written and read by the sender thread only.
        unsafe { *p = source };
    }
    let skb_len: u32 = if skb != 0 {
        kread(skb, lay!(skb_len)).unwrap_or(0)
    } else {
        0
    };
    count(Counter::TcpSendmsg, 1);
    emit(SendEvent {
        h: header(Kind::Send, op::SEND_TCP_SENDMSG),
        skb,
        ret: 0,
        skb_len,
        msg_left: left as u32,
        size_goal: size_goal as u32,
        iter_type,
        splice: splice as u8,
        source: source as u8,
        _pad: 0,
    });
    Ok(())
}

#[tracepoint(category = "sock", name = "sock_send_length")]
pub fn sock_send_length(ctx: TracePointContext) -> u32 {
    entry!(try_sock_send_length, ctx)
}

fn try_sock_send_length(ctx: &TracePointContext) -> Result<(), i64> {
    if !in_sender() {
        return Ok(());
    }
    let sk: u64 = field(ctx, tp::sock_send_length::SK)?;
    if sk == 0 || sk != config(Config::DemoSock) {
        return Ok(());
    }
    let ret: i32 = field(ctx, tp::sock_send_length::RET)?;
    count(Counter::SockSend, 1);
    if ret > 0 {
        let source = ZC_SEND_SOURCE.get(0).copied().unwrap_or(0);
        let c = match source {
            SOURCE_USER => Counter::SendUserBytes,
            SOURCE_SPLICE => Counter::SendSpliceBytes,
            _ => Counter::SendOtherBytes,
        };
        count(c, ret as u64);
    }
    emit(SendEvent {
        h: header(Kind::Send, op::SEND_SOCK_LENGTH),
        skb: 0,
        ret: ret as i64,
        skb_len: 0,
        msg_left: 0,
        size_goal: 0,
        iter_type: 0,
        splice: 0,
        source: ZC_SEND_SOURCE.get(0).copied().unwrap_or(0) as u8,
        _pad: 0,
    });
    Ok(())
}

// ---------------------------------------------------------------- skb to device

#[btf_tracepoint(function = "net_dev_queue")]
pub fn net_dev_queue(ctx: BtfTracePointContext) -> u32 {
    let skb: u64 = ctx.arg(0);
    let _ = try_skb(skb, op::SKB_QUEUE);
    0
}

#[btf_tracepoint(function = "net_dev_start_xmit")]
pub fn net_dev_start_xmit(ctx: BtfTracePointContext) -> u32 {
    let skb: u64 = ctx.arg(0);
    let _ = try_skb(skb, op::SKB_XMIT);
    0
}

/// What one skb frag points at.
struct FileFrags {
    frags: u8,
    bytes: u32,
    first_index: u32,
}

/// Walks the skb's frags and counts those whose page is a page-cache page of
/// the demo file: frag → page → head page (compound_head) → folio->mapping →
/// mapping->host (inode) → (i_sb->s_dev, i_ino).
#[inline(always)]
fn file_frags(shinfo: u64, nr_frags: u8) -> FileFrags {
    let mut out = FileFrags {
        frags: 0,
        bytes: 0,
        first_index: u32::MAX,
    };
    let want_ino = config(Config::FileIno);
    let want_dev = config(Config::FileDev);
    let frags = shinfo + lay!(shinfo_frags) as u64;
    let frag_size = lay!(frag_size) as u64;
    let page_size = lay!(page_size) as u64;
    for i in 0..MAX_FRAGS {
        if i as u8 >= nr_frags {
            break;
        }
        let frag = frags + i as u64 * frag_size;
        let Ok(netmem) = kread::<u64>(frag, lay!(frag_netmem)) else {
            continue;
        };
        // Bit 0 marks net_iov memory (devmem), which is never a file page.
        if netmem & 1 != 0 || netmem == 0 {
            continue;
        }
        let flen: u32 = kread(frag, lay!(frag_len)).unwrap_or(0);
        let page = netmem;
        let head = match kread::<u64>(page, lay!(page_compound_head)) {
            Ok(ch) if ch & 1 != 0 => ch - 1,
            Ok(_) => page,
            Err(_) => continue,
        };
        let Ok(mapping) = kread::<u64>(head, lay!(folio_mapping)) else {
            continue;
        };
        // Anonymous and movable mappings tag the low bits: not a file.
        if mapping == 0 || mapping & 3 != 0 {
            continue;
        }
        let Ok(host) = kread::<u64>(mapping, lay!(mapping_host)) else {
            continue;
        };
        let Ok(ino) = kread::<u64>(host, lay!(inode_ino)) else {
            continue;
        };
        if ino != want_ino {
            continue;
        }
        let Ok(sb) = kread::<u64>(host, lay!(inode_sb)) else {
            continue;
        };
        let Ok(dev) = kread::<u32>(sb, lay!(sb_dev)) else {
            continue;
        };
        if dev as u64 != want_dev {
            continue;
        }
        out.frags += 1;
        out.bytes += flen;
        if out.first_index == u32::MAX
            && let Ok(index) = kread::<u64>(head, lay!(folio_index))
            && page_size != 0
        {
            out.first_index = (index + (page - head) / page_size) as u32;
        }
    }
    out
}

fn try_skb(skb: u64, op: u16) -> Result<(), i64> {
    let demo = config(Config::DemoSock);
    if !armed() || demo == 0 || skb == 0 || lay!(valid) == 0 {
        return Ok(());
    }
    let sk: u64 = kread(skb, lay!(skb_sk))?;
    if sk != demo {
        return Ok(());
    }
    let len: u32 = kread(skb, lay!(skb_len))?;
    let data_len: u32 = kread(skb, lay!(skb_data_len))?;
    let head: u64 = kread(skb, lay!(skb_head))?;
    let end: u32 = kread(skb, lay!(skb_end))?;
    let mac: u16 = kread(skb, lay!(skb_mac_header))?;
    let th: u16 = kread(skb, lay!(skb_transport_header))?;
    if th == u16::MAX || mac == u16::MAX || th < mac {
        return Ok(());
    }
    // TCP data offset: upper nibble of byte 12 of the TCP header, in words.
    let doff: u8 = kread(head, th as u32 + 12)?;
    let headers = (th - mac) as u32 + ((doff >> 4) as u32) * 4;
    if len <= headers {
        return Ok(()); // a bare ACK or control segment: no payload to follow
    }
    let payload = len - headers;
    let linear_payload = (len - data_len).saturating_sub(headers);
    let shinfo = head + end as u64;
    let nr_frags: u8 = kread(shinfo, lay!(shinfo_nr_frags))?;
    let shinfo_flags: u8 = kread(shinfo, lay!(shinfo_flags))?;
    let gso_size: u16 = kread(shinfo, lay!(shinfo_gso_size)).unwrap_or(0);
    let gso_segs: u16 = kread(shinfo, lay!(shinfo_gso_segs)).unwrap_or(0);
    let ff = file_frags(shinfo, nr_frags);
    let shared = shinfo_flags & SKBFL_SHARED_FRAG != 0;
    if op == op::SKB_QUEUE {
        count(Counter::QueueSkbs, 1);
        count(Counter::QueuePayload, payload as u64);
        count(Counter::QueueLinearPayload, linear_payload as u64);
        count(Counter::QueueFileBytes, ff.bytes as u64);
        count(Counter::QueueFileFrags, ff.frags as u64);
        count(Counter::QueueSharedFrag, shared as u64);
    } else {
        count(Counter::XmitSkbs, 1);
        count(Counter::XmitPayload, payload as u64);
        count(Counter::XmitLinearPayload, linear_payload as u64);
        count(Counter::XmitFileBytes, ff.bytes as u64);
        count(Counter::XmitFileFrags, ff.frags as u64);
        count(Counter::XmitSharedFrag, shared as u64);
    }
    emit(SkbEvent {
        h: header(Kind::Skb, op),
        skb,
        len,
        data_len,
        payload,
        linear_payload,
        file_bytes: ff.bytes,
        first_file_index: ff.first_index,
        gso_size,
        gso_segs,
        nr_frags,
        file_frags: ff.frags,
        shinfo_flags,
        _pad: 0,
    });
    Ok(())
}

// ---------------------------------------------------------------- receiver

#[tracepoint(category = "skb", name = "skb_copy_datagram_iovec")]
pub fn skb_copy_datagram_iovec(ctx: TracePointContext) -> u32 {
    entry!(try_recv_copy, ctx)
}

fn try_recv_copy(ctx: &TracePointContext) -> Result<(), i64> {
    let receiver = config(Config::ReceiverTid);
    if !armed() || receiver == 0 || current_tid() as u64 != receiver {
        return Ok(());
    }
    let skb: u64 = field(ctx, tp::skb_copy_datagram_iovec::SKBADDR)?;
    let len: i32 = field(ctx, tp::skb_copy_datagram_iovec::LEN)?;
    let len = if len > 0 { len as u32 } else { 0 };
    count(Counter::RecvCopies, 1);
    count(Counter::RecvCopyBytes, len as u64);
    emit(RecvEvent {
        h: header(Kind::Recv, 0),
        skb,
        len,
        _pad: 0,
    });
    Ok(())
}

// ---------------------------------------------------------------- DMA

#[tracepoint(category = "dma", name = "dma_map_phys")]
pub fn dma_map_phys(ctx: TracePointContext) -> u32 {
    let _ = try_dma(&ctx, op::DMA_MAP_PHYS);
    0
}

#[tracepoint(category = "dma", name = "dma_map_sg")]
pub fn dma_map_sg(ctx: TracePointContext) -> u32 {
    let _ = try_dma(&ctx, op::DMA_MAP_SG);
    0
}

fn try_dma(ctx: &TracePointContext, op: u16) -> Result<(), i64> {
    if !in_sender() {
        return Ok(());
    }
    let size = if op == op::DMA_MAP_PHYS {
        let s: u64 = field(ctx, tp::dma_map_phys::SIZE)?;
        count(Counter::DmaBytes, s);
        s
    } else {
        let ents: i32 = field(ctx, tp::dma_map_sg::FULL_ENTS)?;
        ents.max(0) as u64
    };
    count(Counter::DmaMaps, 1);
    emit(DmaEvent {
        h: header(Kind::Dma, op),
        size,
    });
    Ok(())
}

#[cfg(not(test))]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    loop {}
}

#[unsafe(link_section = "license")]
#[unsafe(no_mangle)]
static LICENSE: [u8; 4] = *b"GPL\0";
