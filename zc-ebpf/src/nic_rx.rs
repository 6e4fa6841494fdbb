//! The receiving NIC's engine: frames written into memory by DMA.
//!
//! A receiving driver keeps a ring of empty buffers mapped FROM_DEVICE
//! (`dma_map_phys`, made ahead of any packet), and the NIC's engine writes
//! each frame into the next one. Before the CPU may read a frame, the
//! driver takes its buffer back from the device: it unmaps it
//! (`dma_unmap_phys`, `dma_unmap_page` before 6.17) or syncs it for the CPU
//! (`dma_sync_single_for_cpu`, a driver that recycles its pages). Then it
//! hands the frame to the stack (`napi_gro_receive_entry`, or
//! `netif_receive_skb_entry` for a driver without GRO). Both happen in the
//! driver's NAPI poll, one frame after another on one CPU, with bottom
//! halves off: a per-CPU slot pairs each frame with the hand-back before
//! it, and the pairing holds only when the hand-back named the bus device
//! of the very NIC the frame came from (`skb->dev->dev.parent`).
//!
//! A frame handed up with no such hand-back before it was not shown to
//! have been written by the engine; the ledger says so in bytes. The ring's
//! refills are counted too: maps and their bytes (`dma.rs`).

use aya_ebpf::{
    macros::{btf_tracepoint, map},
    maps::PerCpuArray,
    programs::BtfTracePointContext,
};
use zc_common::{Config, counters::Counter, tracepoints as tp};

use crate::helpers::{arg, armed, config, count_net, kread, lay, set_config};

/// The buffer the driver last took back from a device on this CPU.
#[derive(Clone, Copy)]
pub struct Taken {
    pub dev: u64,
    pub size: u64,
}

#[map]
static ZC_RX_TAKEN: PerCpuArray<Taken> = PerCpuArray::with_max_entries(1, 0);

/// `enum dma_data_direction`'s FROM_DEVICE (include/linux/dma-direction.h).
const DMA_FROM_DEVICE: u32 = 2;

#[btf_tracepoint(function = "dma_unmap_phys")]
pub fn dma_unmap_phys(ctx: BtfTracePointContext) -> u32 {
    taken_back(&ctx);
    0
}

/// The same tracepoint under its name before 6.17.
#[btf_tracepoint(function = "dma_unmap_page")]
pub fn dma_unmap_page(ctx: BtfTracePointContext) -> u32 {
    taken_back(&ctx);
    0
}

#[btf_tracepoint(function = "dma_sync_single_for_cpu")]
pub fn dma_sync_single_for_cpu(ctx: BtfTracePointContext) -> u32 {
    taken_back(&ctx);
    0
}

#[inline(always)]
fn taken_back(ctx: &BtfTracePointContext) {
    if config(Config::NicRxIfindex) == 0 || !armed() {
        return;
    }
    if arg::<u32>(ctx, tp::dma_handback::DIR) != DMA_FROM_DEVICE {
        return;
    }
    let dev: u64 = arg(ctx, tp::dma_handback::DEV);
    // Once the receiving NIC is known, no other device's hand-back (a
    // disk's completion in a hard interrupt, between the NIC's unmap and
    // its frame) may take the slot.
    let rx = config(Config::NicRxDevice);
    if rx != 0 && dev != rx {
        return;
    }
    if let Some(p) = ZC_RX_TAKEN.get_ptr_mut(0) {
        // SAFETY: per-CPU slot, only this CPU writes it.
        unsafe {
            *p = Taken {
                dev,
                size: arg(ctx, tp::dma_handback::SIZE),
            }
        };
    }
}

#[btf_tracepoint(function = "napi_gro_receive_entry")]
pub fn napi_gro_receive_entry(ctx: BtfTracePointContext) -> u32 {
    let _ = frame(arg(&ctx, tp::rx_entry::SKB));
    0
}

#[btf_tracepoint(function = "netif_receive_skb_entry")]
pub fn netif_receive_skb_entry(ctx: BtfTracePointContext) -> u32 {
    let _ = frame(arg(&ctx, tp::rx_entry::SKB));
    0
}

/// IPv4's protocol number for TCP.
const IPPROTO_TCP: u8 = 6;

fn frame(skb: u64) -> Result<(), i64> {
    let want = config(Config::NicRxIfindex);
    if want == 0 || skb == 0 || !armed() || lay!(valid) == 0 {
        return Ok(());
    }
    let dev: u64 = kread(skb, lay!(skb_dev))?;
    if kread::<u32>(dev, lay!(netdev_ifindex))? as u64 != want {
        return Ok(());
    }
    // A NIC has a bus device behind it; a virtual device has none.
    let parent: u64 = kread(dev, lay!(netdev_dev_parent))?;
    if parent == 0 {
        return Ok(());
    }
    if config(Config::NicRxDevice) != parent {
        set_config(Config::NicRxDevice, parent);
    }
    let payload = tcp_payload(skb).unwrap_or(0);
    count_net(Counter::NicRxFrames, 1);
    count_net(Counter::NicRxPayload, payload);
    let Some(p) = ZC_RX_TAKEN.get_ptr_mut(0) else {
        return Ok(());
    };
    // SAFETY: per-CPU slot, as above.
    let slot = unsafe { &mut *p };
    if slot.dev == parent {
        count_net(Counter::NicRxDmaFrames, 1);
        count_net(Counter::NicRxDmaPayload, payload);
        count_net(Counter::NicRxDmaBufferBytes, slot.size);
    }
    // One hand-back pairs with one frame.
    slot.dev = 0;
    Ok(())
}

/// The TCP payload of an IPv4 frame whose network header is at
/// `skb->data` (the driver's `eth_type_trans` pulled the Ethernet
/// header): total length less both headers. From the headers, not from
/// `skb->len`, which counts the padding of a short frame.
#[inline(always)]
fn tcp_payload(skb: u64) -> Result<u64, i64> {
    let data: u64 = kread(skb, lay!(skb_data))?;
    let ip: [u8; 10] = kread(data, 0)?;
    if ip[0] >> 4 != 4 || ip[9] != IPPROTO_TCP {
        return Ok(0);
    }
    let ihl = (ip[0] & 0xf) as u64 * 4;
    let total = u16::from_be_bytes([ip[2], ip[3]]) as u64;
    let doff: u8 = kread(data + ihl, 12)?;
    let tcp = (doff >> 4) as u64 * 4;
    Ok(total.saturating_sub(ihl + tcp))
}
