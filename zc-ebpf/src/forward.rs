//! What the veth does with an skb after the device took it: `veth_xmit` →
//! `__dev_forward_skb` → `__netif_rx`, which fires `net:netif_rx` with the
//! same skb, now the peer's, on the same CPU. The skb keeps its address,
//! so the record kept at `net_dev_start_xmit` (still pending:
//! `net_dev_xmit` fires only when `veth_xmit` returns) says what its frags
//! were a moment before.
//!
//! On the way, `__dev_forward_skb` calls `skb_orphan_frags`: a zero-copy
//! skb without `SKBFL_DONT_ORPHAN` (MSG_ZEROCOPY's) has its pinned user
//! pages copied into new pages by `skb_copy_ubufs`, the copy made anyway,
//! and the completion will say `SO_EE_CODE_ZEROCOPY_COPIED`. The proof is
//! page identity: user pages before, other pages after. Pages that were
//! lent (vmsplice) or that io_uring marked `SKBFL_DONT_ORPHAN` go on as they
//! are, to be copied (or not) on delivery.

use aya_ebpf::{macros::btf_tracepoint, programs::BtfTracePointContext};
use zc_common::{
    Config,
    counters::Counter,
    event::{ForwardEvent, Kind, SKBFL_ZEROCOPY_ENABLE},
    tracepoints as tp,
};

use crate::{
    device::{frag_pages, pending},
    helpers::{arg, armed, config, count_net, emit, header, kread, lay, set_config},
    tap::ZC_FORWARDED,
};

/// `netif_rx(skb)`.
#[btf_tracepoint(function = "netif_rx")]
pub fn netif_rx(ctx: BtfTracePointContext) -> u32 {
    let skb: u64 = arg(&ctx, tp::net_skb::SKB);
    let _ = try_forward(skb);
    0
}

fn try_forward(skb: u64) -> Result<(), i64> {
    if !armed() || skb == 0 || lay!(valid) == 0 {
        return Ok(());
    }
    let Some(p) = pending(skb) else {
        return Ok(());
    };
    // SAFETY: this CPU's slot (the veth forwards inside its transmit, on
    // the same CPU); the fields are copied out, the slot stays for
    // net_dev_xmit.
    let (user_bytes, payload, shinfo_flags) =
        unsafe { ((*p).e.user_bytes, (*p).e.payload, (*p).e.shinfo_flags) };
    if user_bytes == 0 {
        return Ok(());
    }
    let head: u64 = kread(skb, lay!(skb_head))?;
    let end: u32 = kread(skb, lay!(skb_end))?;
    let shinfo = head + end as u64;
    let nr_frags: u8 = kread(shinfo, lay!(shinfo_nr_frags))?;
    let now = frag_pages(shinfo, nr_frags);
    let kept = now.user_bytes.min(user_bytes);
    count_net(Counter::ForwardSkbs, 1);
    count_net(Counter::ForwardUserBytes, kept as u64);
    count_net(Counter::ForwardCopiedBytes, (user_bytes - kept) as u64);
    // Still the user's pinned pages: a tap on the receiving device would
    // copy them (`tap`).
    if kept > 0 && shinfo_flags & SKBFL_ZEROCOPY_ENABLE != 0 {
        // Before the entry, so `netif_receive_skb` looks for it.
        if config(Config::UserPagesSent) == 0 {
            set_config(Config::UserPagesSent, 1);
        }
        let _ = ZC_FORWARDED.insert(skb, kept, 0);
    }
    emit(ForwardEvent {
        h: header(Kind::Forward, 0),
        skb,
        payload,
        user_bytes: kept,
        copied_bytes: user_bytes - kept,
        shinfo_flags,
        _pad: [0; 3],
    });
    Ok(())
}
