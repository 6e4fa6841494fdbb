//! The socket send path: `tcp_sendmsg_locked` (its message header tells
//! where the data comes from) and `sock:sock_send_length` (how much the
//! socket took).
//!
//! The source decides copy or not: user memory (ITER_UBUF/IOVEC) is copied
//! into TCP's own pages, unless the send asked for zero copy
//! (`MSG_ZEROCOPY`, with an io_uring `msg_ubuf` or `SO_ZEROCOPY`), which pins the user's pages
//! instead; pages spliced in (ITER_BVEC with `MSG_SPLICE_PAGES`: sendfile,
//! splice) are referenced. Whether a reference really reached the device is
//! proved later, by the frags themselves (see `device.rs`).
//!
//! Before 6.5 sendfile and splice did not go through `sendmsg` at all: the
//! pipe's pages went to `tcp_sendpage`, one page per call, which references
//! the page (`do_tcp_sendpages`). And `sock_send_length` came in 6.3:
//! before it, what TCP took of a send is `tcp_sendmsg`'s return.

use aya_ebpf::{
    EbpfContext as _,
    cty::c_void,
    helpers::bpf_get_socket_cookie,
    macros::{btf_tracepoint, fentry, fexit, map},
    maps::{Array, LruHashMap},
    programs::{BtfTracePointContext, FEntryContext, FExitContext},
};
use zc_common::{
    Config, ZC_PREFIX_SLOTS,
    counters::Counter,
    event::{Kind, SendEvent, op, source},
    layout::{MSG_SPLICE_PAGES, MSG_ZEROCOPY},
    tracepoints as tp,
};

use crate::helpers::{
    arg, armed, close_sock, config, count, count_net, count_sock, current_tid, emit, entry,
    for_sender, header, kload, kread, lay, learn_sock, set_config, sock_id, tree_mode,
};

/// What the current sendmsg's data comes from, by thread: set at
/// `tcp_sendmsg_locked` and read at `sock_send_length`, which run in that
/// order in the same thread (the sender, or its io_uring's SQ thread). An
/// LRU map: every run has new threads, and a full plain hash map would
/// refuse the next run's entry (a sweep of 225 runs found that).
#[map]
static ZC_SEND_SOURCE: LruHashMap<u32, u64> = LruHashMap::with_max_entries(1024, 0);

/// Bytes pinned by zero-copy sends 0..=id, at `id % ZC_PREFIX_SLOTS`: a
/// completion for sends lo..=hi then covers `prefix[hi] - prefix[lo - 1]`
/// bytes, with no loop. Written by the sender thread only.
#[map]
pub static ZC_PIN_PREFIX: Array<u64> = Array::with_max_entries(ZC_PREFIX_SLOTS, 0);

/// `tcp_sendmsg_locked(sk, msg, skb, size_goal)`.
#[btf_tracepoint(function = "tcp_sendmsg_locked")]
pub fn tcp_sendmsg_locked(ctx: BtfTracePointContext) -> u32 {
    entry!(try_tcp_sendmsg_locked, ctx)
}

fn try_tcp_sendmsg_locked(ctx: &BtfTracePointContext) -> Result<(), i64> {
    if !for_sender() || lay!(valid) == 0 {
        return Ok(());
    }
    sendmsg(
        arg(ctx, tp::tcp_sendmsg_locked::SK),
        arg(ctx, tp::tcp_sendmsg_locked::MSG),
        arg(ctx, tp::tcp_sendmsg_locked::SKB),
        arg(ctx, tp::tcp_sendmsg_locked::SIZE_GOAL),
    )
}

/// The function `tcp_sendmsg_locked(sk, msg, size)` at its entry, where a
/// kernel has no such tracepoint: one event per call, no tail skb, no size
/// goal (0 for both: "not known").
#[fentry(function = "tcp_sendmsg_locked")]
pub fn tcp_sendmsg_locked_call(ctx: FEntryContext) -> u32 {
    // A tracing program's context is its arguments as an array of u64,
    // for fentry as for tp_btf.
    let args = BtfTracePointContext::new(ctx.as_ptr());
    entry!(try_tcp_sendmsg_locked_call, args)
}

fn try_tcp_sendmsg_locked_call(ctx: &BtfTracePointContext) -> Result<(), i64> {
    if !for_sender() || lay!(valid) == 0 {
        return Ok(());
    }
    sendmsg(
        arg(ctx, tp::tcp_sendmsg_locked_fn::SK),
        arg(ctx, tp::tcp_sendmsg_locked_fn::MSG),
        0,
        0,
    )
}

/// Whether `sk`, a send's typed `struct sock *` argument, is followed. The
/// demo socket is the one whose cookie user space gave
/// (`bpf_get_socket_cookie` on the typed argument): its first send, by the
/// sender or its SQ thread, names its pointer for the skb probes.
#[inline(always)]
fn follow_send(sk: u64) -> bool {
    let demo = config(Config::DemoSock);
    if tree_mode() {
        // Every TCP socket of a followed process is followed.
        // SAFETY: as below: the typed `struct sock *` argument.
        let cookie = unsafe { bpf_get_socket_cookie(sk as *mut c_void) };
        learn_sock(sk, cookie);
    } else if demo == 0 {
        // SAFETY: `sk` is the hook's `struct sock *` argument, which the
        // verifier knows by its BTF type.
        let cookie = unsafe { bpf_get_socket_cookie(sk as *mut c_void) };
        if cookie == 0 || cookie != config(Config::DemoCookie) {
            return false;
        }
        set_config(Config::DemoSock, sk);
        // Nothing was written to the socket yet: `write_seq` is the
        // stream's first byte, the origin of every skb's range.
        if let Ok(seq) = kread::<u32>(sk, lay!(tcp_write_seq)) {
            set_config(Config::DemoStreamStart, seq as u64 | 1 << 32);
        }
    } else if sk != demo {
        return false;
    }
    true
}

/// Notes the source of the current thread's send. A thread's entry stays
/// between its sends and is rewritten in place: an LRU insert per send
/// takes a lock and a free-list node; the first send of a thread inserts.
#[inline(always)]
fn set_source(src: u8) {
    match ZC_SEND_SOURCE.get_ptr_mut(current_tid()) {
        // SAFETY: this thread's own entry; only it writes it.
        Some(p) => unsafe { *p = src as u64 },
        None => {
            let _ = ZC_SEND_SOURCE.insert(current_tid(), src as u64, 0);
        }
    }
}

/// The source the current thread's send in progress was given.
#[inline(always)]
fn current_source() -> u8 {
    // SAFETY: the value is copied out at once.
    unsafe { ZC_SEND_SOURCE.get(current_tid()) }
        .copied()
        .unwrap_or(0) as u8
}

#[inline(always)]
fn sendmsg(sk: u64, msg: u64, skb: u64, size_goal: i32) -> Result<(), i64> {
    if !follow_send(sk) {
        return Ok(());
    }
    // `msg` and `skb` are the hook's BTF-typed arguments: plain loads at
    // offsets the verifier checks against `struct msghdr` (its `msg_iter`
    // embedded) and `struct sk_buff` (see `kload`).
    let flags: u32 = kload(msg, lay!(msghdr_flags));
    let ubuf: u64 = kload(msg, lay!(msghdr_ubuf));
    let iter_type: u8 = kload(msg, lay!(msghdr_iter) + lay!(iter_type));
    let left: u64 = kload(msg, lay!(msghdr_iter) + lay!(iter_count));
    let splice = flags & MSG_SPLICE_PAGES != 0;
    let kinds = lay!(iter_kinds);
    let user = iter_type == kinds.ubuf || iter_type == kinds.iovec;
    // TCP pins only with MSG_ZEROCOPY (plus msg_ubuf or SO_ZEROCOPY, and SG
    // on the route): a send that asks is counted as pinned, and the frags
    // at the device are what prove it.
    let src = if user && flags & MSG_ZEROCOPY != 0 {
        source::PINNED
    } else if user {
        source::USER
    } else if splice && iter_type == kinds.bvec {
        source::SPLICE
    } else {
        source::OTHER
    };
    set_source(src);
    // A page to take by reference or to pin: from here on the skb probes
    // walk this socket's frags (`device::walk_frags`).
    if (src != source::USER || ubuf != 0) && config(Config::PagesReferenced) == 0 {
        set_config(Config::PagesReferenced, 1);
    }
    let skb_len: u32 = if skb != 0 {
        kload(skb, lay!(skb_len))
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
        source: src,
        ubuf: (ubuf != 0) as u8,
    });
    Ok(())
}

/// `sock_send_length(sk, ret, flags)`.
#[btf_tracepoint(function = "sock_send_length")]
pub fn sock_send_length(ctx: BtfTracePointContext) -> u32 {
    entry!(try_sock_send_length, ctx)
}

fn try_sock_send_length(ctx: &BtfTracePointContext) -> Result<(), i64> {
    send_length(
        arg(ctx, tp::sock_send_length::SK),
        arg(ctx, tp::sock_send_length::RET),
    )
}

/// `tcp_sendmsg(sk, msg, size)` returned, where a kernel has no
/// `sock_send_length` (before 6.3): the same socket and the same count.
#[fexit(function = "tcp_sendmsg")]
pub fn sock_send_length_ret(ctx: FExitContext) -> u32 {
    // A tracing program's context is its arguments, then for fexit the
    // return value, as an array of u64, as for tp_btf.
    let args = BtfTracePointContext::new(ctx.as_ptr());
    entry!(try_tcp_sendmsg_ret, args)
}

fn try_tcp_sendmsg_ret(ctx: &BtfTracePointContext) -> Result<(), i64> {
    send_length(
        arg(ctx, tp::tcp_sendmsg_fn::SK),
        arg(ctx, tp::tcp_sendmsg_fn::RET),
    )
}

/// `tcp_sendpage(sk, page, offset, size, flags)` is entered (before 6.5):
/// one page of a sendfile or a splice, handed to TCP by reference. Told as
/// a send of a page iterator with `MSG_SPLICE_PAGES`, which is what later
/// kernels make of the same call; counted apart, so the report can name
/// the kernel function.
#[fentry(function = "tcp_sendpage")]
pub fn tcp_sendpage_call(ctx: FEntryContext) -> u32 {
    let args = BtfTracePointContext::new(ctx.as_ptr());
    entry!(try_sendpage_call, args)
}

fn try_sendpage_call(ctx: &BtfTracePointContext) -> Result<(), i64> {
    if !for_sender() || lay!(valid) == 0 {
        return Ok(());
    }
    let sk: u64 = arg(ctx, tp::tcp_sendpage_fn::SK);
    if !follow_send(sk) {
        return Ok(());
    }
    let size: u64 = arg(ctx, tp::tcp_sendpage_fn::SIZE);
    set_source(source::SPLICE);
    if config(Config::PagesReferenced) == 0 {
        set_config(Config::PagesReferenced, 1);
    }
    count(Counter::TcpSendmsg, 1);
    count(Counter::TcpSendpage, 1);
    emit(SendEvent {
        h: header(Kind::Send, op::SEND_TCP_SENDPAGE),
        skb: 0,
        ret: 0,
        skb_len: 0,
        msg_left: size as u32,
        size_goal: 0,
        iter_type: lay!(iter_kinds).bvec,
        splice: 1,
        source: source::SPLICE,
        ubuf: 0,
    });
    Ok(())
}

/// `do_tcp_sendpages(sk, page, offset, size, flags)` is entered (before
/// 6.5): kernel TLS hands TCP its records here, past `tcp_sendpage`, so
/// this is where the demo socket under TLS is first seen and named for the
/// skb probes. Nothing is counted: the bytes are ciphertext, and a plain
/// sendfile's pages were counted at `tcp_sendpage` already.
#[fentry(function = "do_tcp_sendpages")]
pub fn do_tcp_sendpages_call(ctx: FEntryContext) -> u32 {
    let args = BtfTracePointContext::new(ctx.as_ptr());
    entry!(try_do_tcp_sendpages, args)
}

fn try_do_tcp_sendpages(ctx: &BtfTracePointContext) -> Result<(), i64> {
    if !for_sender() || lay!(valid) == 0 {
        return Ok(());
    }
    follow_send(arg(ctx, tp::do_tcp_sendpages_fn::SK));
    Ok(())
}

/// `tcp_sendpage` returned: the bytes of the page TCP took, as
/// `sock_send_length` counts them on later kernels.
#[fexit(function = "tcp_sendpage")]
pub fn tcp_sendpage_ret(ctx: FExitContext) -> u32 {
    let args = BtfTracePointContext::new(ctx.as_ptr());
    entry!(try_sendpage_ret, args)
}

fn try_sendpage_ret(ctx: &BtfTracePointContext) -> Result<(), i64> {
    send_length(
        arg(ctx, tp::tcp_sendpage_fn::SK),
        arg(ctx, tp::tcp_sendpage_fn::RET),
    )
}

/// A send on `sk` returned `ret`: what the socket took, by the source its
/// send was given.
#[inline(always)]
fn send_length(sk: u64, ret: i32) -> Result<(), i64> {
    if !for_sender() {
        return Ok(());
    }
    let Some(sock) = sock_id(sk) else {
        return Ok(());
    };
    count(Counter::SockSend, 1);
    let src = current_source();
    if ret > 0 && src == source::PINNED && !tree_mode() {
        // This send took the next zero-copy id: remember its bytes.
        let id = config(Config::ZcNextId);
        let total = config(Config::ZcPinnedTotal) + ret as u64;
        if let Some(p) = ZC_PIN_PREFIX.get_ptr_mut((id % ZC_PREFIX_SLOTS as u64) as u32) {
            // SAFETY: array slot; only the sender thread writes this map.
            unsafe { *p = total };
        }
        set_config(Config::ZcNextId, id + 1);
        set_config(Config::ZcPinnedTotal, total);
    }
    if ret > 0 {
        let c = match src {
            source::USER => Counter::SendUserBytes,
            source::SPLICE => Counter::SendSpliceBytes,
            source::PINNED => Counter::SendPinnedBytes,
            _ => Counter::SendOtherBytes,
        };
        count(c, ret as u64);
        count_sock(sock, c, ret as u64);
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
        source: src,
        ubuf: 0,
    });
    Ok(())
}

/// `inet_sock_set_state(sk, oldstate, newstate)`: a followed socket that
/// reaches `TCP_CLOSE` is followed no more. Its `struct sock` may soon be
/// another connection's, perhaps a process zc does not follow. Only TCP
/// sockets are ever followed, so any protocol's close may be looked up.
#[btf_tracepoint(function = "inet_sock_set_state")]
pub fn inet_sock_set_state(ctx: BtfTracePointContext) -> u32 {
    entry!(try_set_state, ctx)
}

/// `TCP_CLOSE` (include/net/tcp_states.h).
const TCP_CLOSE: i32 = 7;

fn try_set_state(ctx: &BtfTracePointContext) -> Result<(), i64> {
    if !armed() || !tree_mode() {
        return Ok(());
    }
    let state: i32 = arg(ctx, tp::inet_sock_set_state::NEWSTATE);
    if state != TCP_CLOSE {
        return Ok(());
    }
    let sk: u64 = arg(ctx, tp::inet_sock_set_state::SK);
    if close_sock(sk) {
        count_net(Counter::SocketsClosed, 1);
    }
    Ok(())
}
