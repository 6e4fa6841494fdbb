//! Block I/O behind a cold read: bios the sender submits (`block_bio_queue`
//! fires in the submitting task, so a tid identifies them) and their
//! completions (`block_rq_complete`, in interrupt context, matched by
//! device and sector). On this VM's virtio disk this is the evidence of the
//! disk → page cache DMA; no `dma:*` event fires.

use aya_ebpf::{
    macros::{map, tracepoint},
    maps::LruHashMap,
    programs::TracePointContext,
};
use zc_common::{
    counters::Counter,
    event::{BlockEvent, Kind, op},
    tracepoints as tp,
};

use crate::helpers::{armed, count, count_net, emit, entry, field, header, in_sender};

/// Block requests the sender issued, keyed by (dev, sector), so their
/// completion (in interrupt context) can be attributed too.
#[map]
static ZC_BLOCK_INFLIGHT: LruHashMap<u64, u64> = LruHashMap::with_max_entries(4096, 0);

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
    let _ = ZC_BLOCK_INFLIGHT.insert(block_key(dev, sector), nr_sector as u64, 0);
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
    if unsafe { ZC_BLOCK_INFLIGHT.get(key) }.is_none() {
        return Ok(());
    }
    let _ = ZC_BLOCK_INFLIGHT.remove(key);
    let nr_sector: u32 = field(ctx, tp::block_rq_complete::NR_SECTOR)?;
    count_net(Counter::BlockComplete, 1);
    count_net(Counter::BlockCompleteSectors, nr_sector as u64);
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
