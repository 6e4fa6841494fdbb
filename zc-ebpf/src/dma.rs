//! DMA mappings made in the sender's context (`dma:dma_map_phys`,
//! `dma_map_sg`, tracepoints since 6.12). A real NIC or disk behind the DMA
//! API shows here; a veth and this VM's virtio disk never do, and the
//! report says so rather than draw a DMA that did not happen.

use aya_ebpf::{macros::btf_tracepoint, programs::BtfTracePointContext};
use zc_common::{
    counters::Counter,
    event::{DmaEvent, Kind, op},
    tracepoints as tp,
};

use crate::helpers::{arg, count, emit, header, in_sender};

#[btf_tracepoint(function = "dma_map_phys")]
pub fn dma_map_phys(ctx: BtfTracePointContext) -> u32 {
    let _ = try_dma(&ctx, op::DMA_MAP_PHYS);
    0
}

#[btf_tracepoint(function = "dma_map_sg")]
pub fn dma_map_sg(ctx: BtfTracePointContext) -> u32 {
    let _ = try_dma(&ctx, op::DMA_MAP_SG);
    0
}

fn try_dma(ctx: &BtfTracePointContext, op: u16) -> Result<(), i64> {
    if !in_sender() {
        return Ok(());
    }
    let size = if op == op::DMA_MAP_PHYS {
        let s: u64 = arg(ctx, tp::dma_map_phys::SIZE);
        count(Counter::DmaBytes, s);
        s
    } else {
        let ents: i32 = arg(ctx, tp::dma_map_sg::ENTS);
        ents.max(0) as u64
    };
    count(Counter::DmaMaps, 1);
    emit(DmaEvent {
        h: header(Kind::Dma, op),
        size,
    });
    Ok(())
}
