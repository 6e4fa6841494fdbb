//! DMA mappings made in the sender's context (`dma:dma_map_phys`,
//! `dma_map_sg`, tracepoints since 6.12). A real NIC or disk behind the DMA
//! API shows here; a veth and this VM's virtio disk never do, and the
//! report says so rather than draw a DMA that did not happen.

use aya_ebpf::{macros::tracepoint, programs::TracePointContext};
use zc_common::{
    counters::Counter,
    event::{DmaEvent, Kind, op},
    tracepoints as tp,
};

use crate::helpers::{count, emit, field, header, in_sender};

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
