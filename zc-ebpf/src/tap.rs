//! Packet taps: what tcpdump costs a zero-copy send.
//!
//! A packet socket (`AF_PACKET`, what tcpdump opens) bound to a device sits
//! on that device's `ptype_all` list; bound to every device, on its
//! namespace's. The kernel hands each tap every packet: on transmit,
//! `dev_queue_xmit_nit` gives it a clone; on receive,
//! `__netif_receive_skb_core` gives it the skb itself. Either way
//! `deliver_skb` first calls `skb_orphan_frags_rx`, which copies a
//! zero-copy skb's user pages into the kernel's own (`skb_copy_ubufs`): the
//! tap brings back a copy that zero copy had saved. On transmit the copy is
//! the clone's, but the clone shares the send's completion (`ubuf_info`),
//! now marked COPIED, and the original still reaches the receiver in the
//! sender's pages.
//!
//! No tracepoint fires at the copy itself. zc sees its condition instead:
//! a demo skb in the user's pinned pages, on a device with a tap.

use aya_ebpf::{
    macros::{btf_tracepoint, map},
    maps::LruHashMap,
    programs::BtfTracePointContext,
};
use zc_common::{
    Config, counters::Counter, event::SKBFL_ZEROCOPY_ENABLE, layout::NO_FIELD, tracepoints as tp,
};

use crate::helpers::{arg, armed, config, count_net, kread, lay, tree_mode};

/// Demo skbs the veth handed to its peer still in the user's pinned pages
/// (`net:netif_rx`), with those bytes: the receive side looks them up by
/// address.
#[map]
pub static ZC_FORWARDED: LruHashMap<u64, u32> = LruHashMap::with_max_entries(4096, 0);

/// Whether a list head is not empty: its `next` is not itself.
#[inline(always)]
fn listed(head: u64) -> bool {
    kread::<u64>(head, 0).is_ok_and(|next| next != head)
}

/// Whether a packet tap is bound to device `dev`, or to every device of
/// its namespace (where the kernel's BTF has that list).
#[inline(always)]
pub fn has_tap(dev: u64) -> bool {
    if dev == 0 {
        return false;
    }
    if listed(dev + lay!(netdev_ptype_all) as u64) {
        return true;
    }
    let off = lay!(net_ptype_all);
    if off == NO_FIELD {
        return false;
    }
    match kread::<u64>(dev, lay!(netdev_nd_net)) {
        Ok(net) if net != 0 => listed(net + off as u64),
        _ => false,
    }
}

/// At the sending device (`net_dev_start_xmit`, after `dev_queue_xmit_nit`
/// ran): a zero-copy demo skb on a device with a tap.
#[inline(always)]
pub fn at_send(skb: u64, user_bytes: u32, shinfo_flags: u8) {
    if user_bytes == 0 || shinfo_flags & SKBFL_ZEROCOPY_ENABLE == 0 {
        return;
    }
    if has_tap(kread::<u64>(skb, lay!(skb_dev)).unwrap_or(0)) {
        count_net(Counter::TapSendSkbs, 1);
        count_net(Counter::TapSendBytes, user_bytes as u64);
    }
}

/// `netif_receive_skb(skb)`: the peer's receive path begins
/// (`__netif_receive_skb_core`), before any tap or IP sees the skb.
#[btf_tracepoint(function = "netif_receive_skb")]
pub fn netif_receive_skb(ctx: BtfTracePointContext) -> u32 {
    let skb: u64 = arg(&ctx, tp::net_skb::SKB);
    // Until a forwarded skb kept pinned user pages (which `forward` notes
    // in `UserPagesSent` before it records one), the map is empty: this
    // runs for every skb the peer receives, and a hash lookup is most of
    // its cost.
    if !armed() || tree_mode() || skb == 0 || lay!(valid) == 0 || config(Config::UserPagesSent) == 0
    {
        return 0;
    }
    // SAFETY: the value is copied out before the entry is removed.
    let Some(bytes) = (unsafe { ZC_FORWARDED.get(skb) }).copied() else {
        return 0;
    };
    let _ = ZC_FORWARDED.remove(skb);
    if has_tap(kread::<u64>(skb, lay!(skb_dev)).unwrap_or(0)) {
        count_net(Counter::TapRecvSkbs, 1);
        count_net(Counter::TapRecvBytes, bytes as u64);
    }
    0
}
