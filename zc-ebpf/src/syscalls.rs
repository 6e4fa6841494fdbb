//! User → kernel → user: `raw_syscalls:sys_enter` and `sys_exit` of the
//! sender thread. Each pair is two mode switches, the article's "context
//! switches"; the exit's return value is the bytes a read or write moved.
//! Both tracepoints pass the saved user registers (`pt_regs`): the entry's
//! arguments are in them, and at the exit so is the syscall's number.

use aya_ebpf::{
    helpers::{bpf_get_smp_processor_id, bpf_probe_read_user, bpf_probe_read_user_str_bytes},
    macros::{btf_tracepoint, map},
    maps::{Array, LruHashMap, PerCpuArray},
    programs::BtfTracePointContext,
};
use zc_common::{
    Config, MAX_SYSCALLS,
    counters::Counter,
    event::{Kind, SyscallEvent, op},
    tracepoints as tp,
    tree::{FileId, OpenedPath, SYSCALL_BYTES, SYSCALL_CALLS, SysState, class, file_slot, seen},
};

use crate::helpers::{
    ZC_SYSCALL_BYTES, ZC_SYSCALLS, arg, config, count, count_at, count_file, count_net, count_proc,
    count_sock, current_tgid, current_tid, emit, emit_with, entry, file_of_fd, header, in_sender,
    inode_id, kread, lay, learn_sock, learning, set_config, tree_mode,
};

/// The followed threads' current or last syscall: whether its entry was
/// counted (`inside`), so an exit whose entry came before arming (a wait
/// that ends) is not counted, and what the probes inside the call saw (see
/// `SysState`). By thread: `zc trace` follows many at once. LRU, since
/// every run brings new threads; a thread's entry is rewritten in place.
#[map]
static ZC_IN_SYSCALL: LruHashMap<u32, SysState> = LruHashMap::with_max_entries(16384, 0);

/// `zc trace`: what each syscall number is (`tree::class`), written by user
/// space, which knows the architecture's numbers.
#[map(name = "ZC_SYSCALL_CLASS")]
static ZC_SYSCALL_CLASS: Array<u8> = Array::with_max_entries(MAX_SYSCALLS, 0);

/// `zc trace`: the paths the followed processes opened, by a key unique
/// per CPU and call (the CPU in the top byte, a per-CPU count below), until
/// user space takes them at its next look. LRU: a flood of opens between
/// two looks loses the oldest, not the next.
#[map]
static ZC_OPENED: LruHashMap<u64, OpenedPath> = LruHashMap::with_max_entries(4096, 0);

/// Per-CPU room to read a path into (larger than is wise on the BPF stack)
/// and the per-CPU count of opens.
#[map]
static ZC_OPENED_SCRATCH: PerCpuArray<OpenedPath> = PerCpuArray::with_max_entries(1, 0);
#[map]
static ZC_OPENED_SEQ: PerCpuArray<u64> = PerCpuArray::with_max_entries(1, 0);

/// `zc trace`: the file a followed process opened, by the file beneath it
/// whose page cache its reads reached, where the two differ (overlayfs
/// reads a lower or upper file through `backing_file_read_iter`). Page-cache
/// events name the file beneath; user space names it by the opened one.
#[map]
static ZC_FILE_ALIAS: LruHashMap<FileId, FileId> = LruHashMap::with_max_entries(4096, 0);

/// `AT_FDCWD`: openat's "relative to the working directory".
const AT_FDCWD: i32 = -100;

/// Keeps the path a followed process passes to open/openat, as it passed
/// it: absolute, or relative to its working directory. A path relative to
/// another directory descriptor is left out (user space could not resolve
/// it later). Returns its key in `ZC_OPENED`, for the exit to complete.
#[inline(always)]
fn note_open(kind: u8, regs: u64) -> Result<u64, i64> {
    let (dirfd, ptr) = if kind == class::OPEN {
        (AT_FDCWD, kread::<u64>(regs, lay!(regs_arg0))?)
    } else {
        (
            kread::<u64>(regs, lay!(regs_arg0))? as i32,
            kread::<u64>(regs, lay!(regs_arg1))?,
        )
    };
    let Some(p) = ZC_OPENED_SCRATCH.get_ptr_mut(0) else {
        return Ok(0);
    };
    // SAFETY: this CPU's own slot, used by one program run at a time.
    let o = unsafe { &mut *p };
    // SAFETY: the helper checks the user address itself.
    let len = match unsafe { bpf_probe_read_user_str_bytes(ptr as *const u8, &mut o.path) } {
        Ok(s) => s.len() as u32,
        Err(_) => return Ok(0),
    };
    if len == 0 || (dirfd != AT_FDCWD && o.path[0] != b'/') {
        return Ok(0);
    }
    o.tgid = current_tgid();
    o.len = len;
    o.file = FileId::default();
    let Some(seq) = ZC_OPENED_SEQ.get_ptr_mut(0) else {
        return Ok(0);
    };
    // SAFETY: this CPU's own counter, as above.
    let n = unsafe {
        *seq += 1;
        *seq
    };
    // SAFETY: no arguments.
    let cpu = unsafe { bpf_get_smp_processor_id() } as u64;
    // Never 0: the count starts at 1.
    let key = (cpu << 56) | (n & ((1 << 56) - 1));
    let _ = ZC_OPENED.insert(key, o, 0);
    Ok(key)
}

/// An open returned `fd`: its entry in `ZC_OPENED` learns the file, as
/// the kernel keys it. User space then names that key by the path,
/// asking `stat` nothing (btrfs's `stat` device is a subvolume's, not the
/// super block's the page cache's events give).
#[inline(always)]
fn complete_open(key: u64, fd: i64) -> Result<(), i64> {
    let Some(o) = ZC_OPENED.get_ptr_mut(key) else {
        return Ok(());
    };
    if fd < 0 {
        let _ = ZC_OPENED.remove(key);
        return Ok(());
    }
    let file = file_of_fd(fd as u64)?;
    let (dev, ino) = inode_id(kread(file, lay!(file_inode))?)?;
    // SAFETY: an entry of this map; the value is plain data.
    unsafe { (*o).file = FileId { ino, dev, _pad: 0 } };
    Ok(())
}

/// A page-cache lookup inside a call that reads descriptor `fd` found the
/// file (`dev`, `ino`). When the file the descriptor opened is another
/// one, the file system stacks on a file beneath: say which.
#[inline(always)]
fn compare_opened(fd: i32, dev: u32, ino: u64) -> Result<(), i64> {
    let file = file_of_fd(fd as u64)?;
    let (odev, oino) = inode_id(kread(file, lay!(file_inode))?)?;
    if odev != dev || oino != ino {
        let beneath = FileId { ino, dev, _pad: 0 };
        let opened = FileId {
            ino: oino,
            dev: odev,
            _pad: 0,
        };
        let _ = ZC_FILE_ALIAS.insert(beneath, opened, 0);
    }
    Ok(())
}

/// The learning thread's first syscall: the `f_mapping` of the file its
/// descriptor `Config::LearnFd` names, the page cache the file it opened
/// would use itself (see `filemap::learn_cache` for the one it does use).
#[inline(always)]
fn learn_opened() -> Result<(), i64> {
    if !learning() || config(Config::LearnedOpened) != 0 {
        return Ok(());
    }
    let file = file_of_fd(config(Config::LearnFd))?;
    if file == 0 {
        return Ok(());
    }
    let mapping: u64 = kread(file, lay!(file_mapping))?;
    set_config(Config::LearnedOpened, mapping);
    Ok(())
}

/// Whether the current thread is inside a syscall whose entry was traced.
#[inline(always)]
pub fn in_syscall() -> bool {
    // SAFETY: one field is read.
    unsafe { ZC_IN_SYSCALL.get(current_tid()) }.is_some_and(|s| s.inside != 0)
}

/// `zc trace`: notes, inside the current syscall, that a file's page cache
/// (`seen::FILE`, with the file) or a socket (`seen::SOCKET`) served it.
#[inline(always)]
pub fn saw(what: u32, dev: u32, ino: u64) {
    if let Some(p) = ZC_IN_SYSCALL.get_ptr_mut(current_tid()) {
        // SAFETY: this thread's own entry; only it writes it.
        let s = unsafe { &mut *p };
        if s.inside == 0 {
            return;
        }
        s.seen |= what;
        if what == seen::FILE {
            s.dev = dev;
            s.ino = ino;
            if s.fd >= 0 && s.compared == 0 {
                s.compared = 1;
                let _ = compare_opened(s.fd, dev, ino);
            }
        }
    }
}

#[btf_tracepoint(function = "sys_enter")]
pub fn sys_enter(ctx: BtfTracePointContext) -> u32 {
    entry!(try_sys_enter, ctx)
}

fn try_sys_enter(ctx: &BtfTracePointContext) -> Result<(), i64> {
    if !in_sender() {
        if config(Config::LearnTid) != 0 {
            let _ = learn_opened();
        }
        return Ok(());
    }
    let nr: u64 = arg(ctx, tp::sys_enter::ID);
    if !tree_mode() {
        if nr == config(Config::EndMarker) {
            // The loop is over: stop following this thread, without
            // counting the marker.
            set_config(Config::SenderTid, 0);
            return Ok(());
        }
        let start = config(Config::StartMarker);
        if start != 0 {
            // The loop has not begun: whatever the sender calls before
            // its marker (another round of its wait for the go) is not
            // the strategy's, nor is the marker.
            if nr == start {
                set_config(Config::StartMarker, 0);
            }
            return Ok(());
        }
    }
    let mut state = SysState::default();
    // The run's total only: the tree counts calls per number below.
    count_net(Counter::SysEnter, 1);
    count_at(&ZC_SYSCALLS, nr, 1);
    if tree_mode() && nr < MAX_SYSCALLS as u64 {
        count_proc(current_tgid(), SYSCALL_CALLS + nr as u32, 1);
        let kind = ZC_SYSCALL_CLASS
            .get(nr as u32)
            .copied()
            .unwrap_or(class::OTHER);
        let regs: u64 = arg(ctx, tp::sys_enter::REGS);
        if kind == class::OPEN || kind == class::OPEN_AT {
            state.opened = note_open(kind, regs).unwrap_or(0);
        } else if kind == class::READ || kind == class::BY_REFERENCE {
            state.fd = kread::<u64>(regs, lay!(regs_arg0)).map_or(-1, |v| v as i32);
        } else if kind == class::SENDFILE {
            state.fd = kread::<u64>(regs, lay!(regs_arg1)).map_or(-1, |v| v as i32);
        } else if kind == class::GETSOCKOPT {
            let _ = note_zerocopy_receive(regs, &mut state);
        }
        if kind == class::BY_REFERENCE && state.fd >= 0 {
            // A splice out of a TCP socket: learn the socket now, before
            // the call takes its bytes, so TCP's count at the first
            // sighting does not already hold them.
            state.sk = tcp_sock_of_fd(state.fd).unwrap_or(0);
            if state.sk != 0 {
                learn_sock(state.sk, 0);
            }
        }
    }
    match ZC_IN_SYSCALL.get_ptr_mut(current_tid()) {
        // SAFETY: this thread's own entry; only it writes it.
        Some(p) => unsafe { *p = state },
        None => {
            let _ = ZC_IN_SYSCALL.insert(current_tid(), state, 0);
        }
    }
    emit_with(|| {
        let regs: u64 = arg(ctx, tp::sys_enter::REGS);
        let reg = |off: u32| kread::<u64>(regs, off).unwrap_or(0);
        SyscallEvent {
            h: header(Kind::Syscall, op::SYS_ENTER),
            nr,
            args: [
                reg(lay!(regs_arg0)),
                reg(lay!(regs_arg1)),
                reg(lay!(regs_arg2)),
            ],
            ret: 0,
        }
    });
    Ok(())
}

#[btf_tracepoint(function = "sys_exit")]
pub fn sys_exit(ctx: BtfTracePointContext) -> u32 {
    entry!(try_sys_exit, ctx)
}

fn try_sys_exit(ctx: &BtfTracePointContext) -> Result<(), i64> {
    if !in_sender() {
        return Ok(());
    }
    let Some(p) = ZC_IN_SYSCALL.get_ptr_mut(current_tid()) else {
        return Ok(()); // its entry was not traced
    };
    // SAFETY: this thread's own entry; only it writes it. Copied out, then
    // marked as left.
    let state = unsafe { *p };
    if state.inside == 0 {
        return Ok(()); // its entry was not traced
    }
    unsafe { (*p).inside = 0 };
    let nr: u64 = kread(arg(ctx, tp::sys_exit::REGS), lay!(regs_syscall_nr))?;
    let ret: i64 = arg(ctx, tp::sys_exit::RET);
    if state.opened != 0 {
        let _ = complete_open(state.opened, ret);
    }
    if state.optval != 0 && ret == 0 {
        let _ = mapped_receive(&state);
    }
    count_net(Counter::SysExit, 1);
    // Byte counts only: mmap returns an address, which must not be summed
    // (nor leave the kernel as a figure).
    if ret > 0 && ret < (1 << 40) {
        count_at(&ZC_SYSCALL_BYTES, nr, ret as u64);
        if tree_mode() {
            tree_bytes(nr, ret as u64, &state);
        }
    }
    emit(SyscallEvent {
        h: header(Kind::Syscall, op::SYS_EXIT),
        nr,
        args: [0; 3],
        ret,
    });
    Ok(())
}

/// `zc trace`: a call's bytes, by what served them. A read copies into
/// user memory whatever its source; sendfile and splice pass page-cache
/// pages on by reference.
#[inline(always)]
fn tree_bytes(nr: u64, bytes: u64, state: &SysState) {
    if nr >= MAX_SYSCALLS as u64 {
        return;
    }
    count_proc(current_tgid(), SYSCALL_BYTES + nr as u32, bytes);
    let kind = ZC_SYSCALL_CLASS
        .get(nr as u32)
        .copied()
        .unwrap_or(class::OTHER);
    let file = state.seen & seen::FILE != 0;
    if kind == class::READ {
        if file {
            count(Counter::ReadFileBytes, bytes);
            count_file(state.dev, state.ino, file_slot::READ_BYTES, bytes);
            count_file(state.dev, state.ino, file_slot::READ_CALLS, 1);
        } else if state.seen & seen::SOCKET != 0 {
            count(Counter::ReadSocketBytes, bytes);
        } else {
            count(Counter::ReadOtherBytes, bytes);
        }
    } else if (kind == class::BY_REFERENCE || kind == class::SENDFILE) && file {
        count(Counter::FileReferencedBytes, bytes);
        count_file(state.dev, state.ino, file_slot::REFERENCED_BYTES, bytes);
    } else if kind == class::BY_REFERENCE && state.sk != 0 {
        // Out of a socket into a pipe: `tcp_splice_read` hands the skbs'
        // pages to the pipe by reference, and copies only a linear head it
        // cannot share (`linear_to_page`, untraced); no probe of the copy
        // path runs.
        count(Counter::RecvSplicedBytes, bytes);
        count_sock(learn_sock(state.sk, 0), Counter::RecvSplicedBytes, bytes);
    }
}

/// `getsockopt(fd, SOL_TCP, TCP_ZEROCOPY_RECEIVE, zc, len)` at its entry:
/// keep the socket (learned before the call takes anything) and where the
/// caller's `struct tcp_zerocopy_receive` is.
#[inline(always)]
fn note_zerocopy_receive(regs: u64, state: &mut SysState) -> Result<(), i64> {
    let level: u64 = kread(regs, lay!(regs_arg1))?;
    let optname: u64 = kread(regs, lay!(regs_arg2))?;
    if level != SOL_TCP || optname != TCP_ZEROCOPY_RECEIVE {
        return Ok(());
    }
    let fd: u64 = kread(regs, lay!(regs_arg0))?;
    let sk = tcp_sock_of_fd(fd as i32)?;
    if sk != 0 {
        learn_sock(sk, 0);
        state.sk = sk;
        state.optval = kread(regs, lay!(regs_arg3))?;
    }
    Ok(())
}

/// A `TCP_ZEROCOPY_RECEIVE` that succeeded: `tcp_zerocopy_receive` left in
/// the caller's struct the bytes it mapped (`length`, after the 8-byte
/// `address`), whole pages inserted into the caller's mapping of the
/// socket. What it could not map it copied (`copybuf`, seen by the copy
/// probe) or left for a read (`recv_skip_hint`).
#[inline(always)]
fn mapped_receive(state: &SysState) -> Result<(), i64> {
    // SAFETY: a user pointer, read by the helper that may fail safely.
    let length: u32 = unsafe { bpf_probe_read_user((state.optval + 8) as *const u32)? };
    if length > 0 {
        count(Counter::RecvMappedBytes, length as u64);
        count_sock(
            learn_sock(state.sk, 0),
            Counter::RecvMappedBytes,
            length as u64,
        );
    }
    Ok(())
}

/// `SOL_TCP` (`IPPROTO_TCP`) and `TCP_ZEROCOPY_RECEIVE`, from the uapi.
const SOL_TCP: u64 = 6;
const TCP_ZEROCOPY_RECEIVE: u64 = 35;
/// `S_IFMT` and `S_IFSOCK`; `SOCK_STREAM`; `AF_INET`, `AF_INET6`.
const S_IFMT: u16 = 0o170000;
const S_IFSOCK: u16 = 0o140000;
const SOCK_STREAM: u16 = 1;
const AF_INET: u16 = 2;
const AF_INET6: u16 = 10;

/// The TCP socket behind descriptor `fd` of the current task, or 0: the
/// file's inode says socket, its `private_data` is the `struct socket`,
/// whose `sk` says TCP: an IPv4 or IPv6 stream of protocol TCP (a raw
/// socket of protocol TCP, or a netlink one numbered 6, is not; MPTCP has
/// a protocol of its own).
#[inline(always)]
fn tcp_sock_of_fd(fd: i32) -> Result<u64, i64> {
    if fd < 0 {
        return Ok(0);
    }
    let file = file_of_fd(fd as u64)?;
    if file == 0 {
        return Ok(0);
    }
    let mode: u16 = kread(kread::<u64>(file, lay!(file_inode))?, lay!(inode_mode))?;
    if mode & S_IFMT != S_IFSOCK {
        return Ok(0);
    }
    let sk: u64 = kread(
        kread::<u64>(file, lay!(file_private_data))?,
        lay!(socket_sk),
    )?;
    if sk == 0
        || kread::<u16>(sk, lay!(sk_protocol))? != SOL_TCP as u16
        || kread::<u16>(sk, lay!(sk_type))? != SOCK_STREAM
    {
        return Ok(0);
    }
    let family: u16 = kread(sk, lay!(skc_family))?;
    Ok(if family == AF_INET || family == AF_INET6 {
        sk
    } else {
        0
    })
}
