//! `skb:skb_copy_datagram_iovec`, the copy of an skb's data to a program,
//! seen in two threads:
//! - the receiver's: its own copy, skb → user buffer, the last hop of the
//!   ledger, kept apart from the sender's figures the article counts; and
//!   what the skb's frags are as it copies (the sender's own pages, or
//!   not), the last word on where a zero-copy send was copied;
//! - the sender's: a zero-copy completion read from the socket's error
//!   queue (`recvmsg(MSG_ERRQUEUE)` → `ip_recv_error` copies the
//!   notification skb, 0 bytes long). The skb's control buffer holds a
//!   `struct sock_exterr_skb`, whose `sock_extended_err` gives the range of
//!   sends completed and whether the kernel copied them after all.

use aya_ebpf::{
    helpers::bpf_ktime_get_ns,
    macros::{btf_tracepoint, map},
    maps::Array,
    programs::BtfTracePointContext,
};
use zc_common::{
    Config, ZC_PREFIX_SLOTS,
    counters::Counter,
    event::{
        CompletionEvent, FOLD_RECV_BYTES, FOLD_RECV_COPIES, Kind, RecvEvent, RecvFold,
        SO_EE_CODE_ZEROCOPY_COPIED, SO_EE_ORIGIN_ZEROCOPY,
    },
    tracepoints as tp,
};

use crate::device::frag_pages;
use crate::helpers::{
    add_sock, arg, armed, config, count, current_tid, emit, entry, header, in_sender, kread, lay,
    learn_sock, sock_counts, tree_mode,
};
use crate::send::ZC_PIN_PREFIX;
use crate::syscalls::saw;

/// `skb_copy_datagram_iovec(skb, len)`.
#[btf_tracepoint(function = "skb_copy_datagram_iovec")]
pub fn skb_copy_datagram_iovec(ctx: BtfTracePointContext) -> u32 {
    if in_sender() {
        let _ = try_completion(&ctx);
        // `zc trace`: a followed process's own receive copies count too.
        if !tree_mode() {
            return 0;
        }
    }
    entry!(try_recv_copy, ctx)
}

fn try_recv_copy(ctx: &BtfTracePointContext) -> Result<(), i64> {
    let receiver = config(Config::ReceiverTid);
    let ours = if tree_mode() {
        in_sender()
    } else {
        armed() && receiver != 0 && current_tid() as u64 == receiver
    };
    if !ours {
        return Ok(());
    }
    let skb: u64 = arg(ctx, tp::skb_copy_datagram_iovec::SKB);
    let len: i32 = arg(ctx, tp::skb_copy_datagram_iovec::LEN);
    let len = if len > 0 { len as u32 } else { 0 };
    count(Counter::RecvCopies, 1);
    count(Counter::RecvCopyBytes, len as u64);
    if tree_mode() {
        // A followed process reads from this socket: follow it, so its
        // sends are counted even before its first one names it.
        if lay!(valid) != 0
            && let Ok(sk) = kread::<u64>(skb, lay!(skb_sk))
            && sk != 0
            && let Some(p) = sock_counts(learn_sock(sk, 0))
        {
            add_sock(p, Counter::RecvCopies, 1);
            add_sock(p, Counter::RecvCopyBytes, len as u64);
        }
        saw(zc_common::tree::seen::SOCKET, 0, 0);
    }
    // Page identity at the last hop: is the receiver copying out of the
    // sender's own pages (nothing copied them on the way)? Only asked once
    // such pages were sent (`zc trace` always asks).
    if lay!(valid) != 0
        && (tree_mode() || config(Config::UserPagesSent) != 0)
        && let Ok(head) = kread::<u64>(skb, lay!(skb_head))
        && let Ok(end) = kread::<u32>(skb, lay!(skb_end))
        && let Ok(nr_frags) = kread::<u8>(head + end as u64, lay!(shinfo_nr_frags))
        && crate::device::walk_frags(nr_frags)
    {
        let pages = frag_pages(head + end as u64, nr_frags);
        count(Counter::RecvUserPageBytes, pages.user_bytes.min(len) as u64);
    }
    if config(Config::Fold) != 0 && !tree_mode() {
        fold(len);
        return Ok(());
    }
    emit(RecvEvent {
        h: header(Kind::Recv, 0),
        skb,
        len,
        copies: 1,
    });
    Ok(())
}

/// The receiver's copies, folded: a run too large to show copy by copy
/// sends one record per `FOLD_RECV_COPIES` of them, with their bytes and
/// the first one's time. Only the receiver thread gets here, one CPU at a
/// time, so the one slot needs no lock; zc reads what is left in it when
/// the run ends.
#[map]
pub static ZC_RECV_FOLD: Array<RecvFold> = Array::with_max_entries(1, 0);

#[inline(always)]
fn fold(len: u32) {
    let Some(f) = ZC_RECV_FOLD.get_ptr_mut(0) else {
        return;
    };
    // SAFETY: the map's one slot, written by this thread only (above).
    let f = unsafe { &mut *f };
    if f.copies == 0 {
        // SAFETY: helper without arguments.
        f.first_ns = unsafe { bpf_ktime_get_ns() };
    }
    f.copies += 1;
    f.bytes += len as u64;
    if f.copies >= FOLD_RECV_COPIES || f.bytes >= FOLD_RECV_BYTES {
        let mut h = header(Kind::Recv, 0);
        h.ts_ns = f.first_ns;
        emit(RecvEvent {
            h,
            skb: 0,
            len: f.bytes as u32,
            copies: f.copies,
        });
        *f = RecvFold::default();
    }
}

/// `struct sock_extended_err`: `ee_errno` (u32), `ee_origin`, `ee_type`,
/// `ee_code`, `ee_pad` (u8 each), `ee_info` (u32), `ee_data` (u32).
const EE_ORIGIN: u32 = 4;
const EE_CODE: u32 = 6;
const EE_INFO: u32 = 8;
const EE_DATA: u32 = 12;

fn try_completion(ctx: &BtfTracePointContext) -> Result<(), i64> {
    if lay!(valid) == 0 {
        return Ok(());
    }
    let skb: u64 = arg(ctx, tp::skb_copy_datagram_iovec::SKB);
    let ee = skb + lay!(skb_cb) as u64 + lay!(exterr_ee) as u64;
    let origin: u8 = kread(ee, EE_ORIGIN)?;
    if origin != SO_EE_ORIGIN_ZEROCOPY {
        return Ok(());
    }
    let code: u8 = kread(ee, EE_CODE)?;
    let lo: u32 = kread(ee, EE_INFO)?;
    let hi: u32 = kread(ee, EE_DATA)?;
    let sends = hi.wrapping_sub(lo) as u64 + 1;
    let prefix = |id: u32| -> u64 {
        ZC_PIN_PREFIX
            .get(id % ZC_PREFIX_SLOTS)
            .copied()
            .unwrap_or(0)
    };
    // The prefix map holds the demo socket's sends; `zc trace` follows many
    // sockets at once and counts completions by sends only.
    let before = if lo == 0 { 0 } else { prefix(lo - 1) };
    let bytes = if tree_mode() {
        0
    } else {
        prefix(hi).saturating_sub(before)
    };
    count(Counter::ZcNotifications, 1);
    count(Counter::ZcCompletedSends, sends);
    count(Counter::ZcCompletedBytes, bytes);
    if code & SO_EE_CODE_ZEROCOPY_COPIED != 0 {
        count(Counter::ZcCopiedNotifications, 1);
        count(Counter::ZcCopiedSends, sends);
        count(Counter::ZcCopiedBytes, bytes);
    }
    emit(CompletionEvent {
        h: header(Kind::Completion, 0),
        lo,
        hi,
        bytes,
        code,
        _pad: [0; 7],
    });
    Ok(())
}
