//! Block I/O behind a cold read: bios the sender submits (`block_bio_queue`
//! fires in the submitting task, so a tid identifies them) and their
//! completions (`block_rq_complete`, in interrupt context, matched by
//! device and sector). On this VM's virtio disk this is the evidence of the
//! disk → page cache DMA; no `dma:*` event fires.

use aya_ebpf::{
    macros::{btf_tracepoint, map},
    maps::LruHashMap,
    programs::BtfTracePointContext,
};
use zc_common::{
    counters::Counter,
    event::{BlockEvent, Kind, op},
    tracepoints as tp,
};

use crate::helpers::{arg, armed, count, count_net, emit, entry, header, in_sender, kread, lay};

/// Block requests the sender issued, keyed by (dev, sector), so their
/// completion (in interrupt context) can be attributed too.
#[map]
static ZC_BLOCK_INFLIGHT: LruHashMap<u64, u64> = LruHashMap::with_max_entries(4096, 0);

#[inline(always)]
fn block_key(dev: u32, sector: u64) -> u64 {
    ((dev as u64) << 44) ^ sector
}

/// The kernel's `dev_t` of a disk (`disk_devt`: `MKDEV(major, first_minor)`),
/// as the block tracepoints' records give it.
#[inline(always)]
fn disk_devt(disk: u64) -> Result<u32, i64> {
    if disk == 0 {
        return Ok(0);
    }
    let major: u32 = kread(disk, lay!(disk_major))?;
    let minor: u32 = kread(disk, lay!(disk_first_minor))?;
    Ok((major << 20) | minor)
}

/// `REQ_OP_MASK`: the operation is the low byte of `bi_opf`.
const REQ_OP_MASK: u32 = 0xff;

#[btf_tracepoint(function = "block_bio_queue")]
pub fn block_bio_queue(ctx: BtfTracePointContext) -> u32 {
    entry!(try_block_issue, ctx)
}

fn try_block_issue(ctx: &BtfTracePointContext) -> Result<(), i64> {
    if !in_sender() {
        return Ok(());
    }
    let bio: u64 = arg(ctx, tp::block_bio_queue::BIO);
    let opf: u32 = kread(bio, lay!(bio_opf))?;
    if opf & REQ_OP_MASK != lay!(req_op_read) {
        return Ok(());
    }
    // `bio_dev`: the whole disk's device, whatever partition the bio names.
    let bdev: u64 = kread(bio, lay!(bio_bdev))?;
    let dev = disk_devt(kread(bdev, lay!(bdev_disk))?)?;
    let sector: u64 = kread(bio, lay!(bio_sector))?;
    let size: u32 = kread(bio, lay!(bio_size))?;
    let nr_sector = size >> 9;
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

/// `block_rq_complete(rq, error, nr_bytes)`.
#[btf_tracepoint(function = "block_rq_complete")]
pub fn block_rq_complete(ctx: BtfTracePointContext) -> u32 {
    entry!(try_block_complete, ctx)
}

fn try_block_complete(ctx: &BtfTracePointContext) -> Result<(), i64> {
    if !armed() {
        return Ok(());
    }
    let rq: u64 = arg(ctx, tp::block_rq_complete::RQ);
    let q: u64 = kread(rq, lay!(rq_q))?;
    let dev = disk_devt(kread(q, lay!(queue_disk))?)?;
    let sector: u64 = kread(rq, lay!(rq_sector))?;
    let key = block_key(dev, sector);
    // SAFETY: the value is copied out before the entry is removed.
    if unsafe { ZC_BLOCK_INFLIGHT.get(key) }.is_none() {
        return Ok(());
    }
    let _ = ZC_BLOCK_INFLIGHT.remove(key);
    let nr_bytes: u32 = arg(ctx, tp::block_rq_complete::NR_BYTES);
    let nr_sector = nr_bytes >> 9;
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
