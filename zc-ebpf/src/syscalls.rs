//! User → kernel → user: `raw_syscalls:sys_enter` and `sys_exit` of the
//! sender thread. Each pair is two mode switches, the article's "context
//! switches"; the exit's return value is the bytes a read or write moved.

use aya_ebpf::{
    macros::{map, tracepoint},
    maps::LruHashMap,
    programs::TracePointContext,
};
use zc_common::{
    Config,
    counters::Counter,
    event::{Kind, SyscallEvent, op},
    tracepoints as tp,
};

use crate::helpers::{
    ZC_SYSCALL_BYTES, ZC_SYSCALLS, config, count, count_at, current_tid, emit, entry, field,
    header, in_sender, set_config, tree_mode,
};

/// The followed threads inside a syscall whose entry was counted (tid →
/// 1), so an exit whose entry came before arming (a wait that ends) is not
/// counted. By thread: `zc trace` follows many at once. LRU, since every
/// run brings new threads.
#[map]
static ZC_IN_SYSCALL: LruHashMap<u32, u8> = LruHashMap::with_max_entries(16384, 0);

/// Whether the current thread is inside a syscall whose entry was traced.
#[inline(always)]
pub fn in_syscall() -> bool {
    // SAFETY: the value is copied out at once.
    unsafe { ZC_IN_SYSCALL.get(current_tid()) }
        .copied()
        .unwrap_or(0)
        == 1
}

#[tracepoint(category = "raw_syscalls", name = "sys_enter")]
pub fn sys_enter(ctx: TracePointContext) -> u32 {
    entry!(try_sys_enter, ctx)
}

fn try_sys_enter(ctx: &TracePointContext) -> Result<(), i64> {
    if !in_sender() {
        return Ok(());
    }
    let nr: u64 = field(ctx, tp::sys_enter::ID)?;
    if !tree_mode() && nr == config(Config::EndMarker) {
        // The loop is over: stop following this thread, without counting the marker.
        set_config(Config::SenderTid, 0);
        return Ok(());
    }
    let _ = ZC_IN_SYSCALL.insert(current_tid(), 1, 0);
    count(Counter::SysEnter, 1);
    count_at(&ZC_SYSCALLS, nr, 1);
    let base = tp::sys_enter::ARGS;
    let arg = |i: usize| {
        field::<u64>(
            ctx,
            tp::Field {
                offset: base.offset + 8 * i,
                ..base
            },
        )
        .unwrap_or(0)
    };
    emit(SyscallEvent {
        h: header(Kind::Syscall, op::SYS_ENTER),
        nr,
        args: [arg(0), arg(1), arg(2)],
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
    if !in_syscall() {
        return Ok(()); // its entry was not traced
    }
    let _ = ZC_IN_SYSCALL.remove(current_tid());
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
