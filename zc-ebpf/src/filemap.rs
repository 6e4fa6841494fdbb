//! The page cache, for the demo file only (matched by its `s_dev` and
//! `i_ino`): lookups (`mm_filemap_get_pages`), folios read in from disk
//! (`mm_filemap_add_to_page_cache`, the article's first DMA copy, with the
//! folio's order), pages mapped on a fault (`mm_filemap_map_pages`,
//! fault-around) and faults on the file (`mm_filemap_fault`).

use aya_ebpf::{macros::tracepoint, programs::TracePointContext};
use zc_common::{
    Config,
    counters::Counter,
    event::{FilemapEvent, Kind, op},
    tracepoints as tp,
    tree::{file_slot, seen},
};

use crate::{
    helpers::{armed, config, count, count_file, emit, entry, field, header, in_sender, tree_mode},
    syscalls::saw,
};

/// The demo's file; for `zc trace`, any file a followed process touches
/// (these events run in the process that reads, maps or faults).
#[inline(always)]
pub fn is_demo_file(dev: u32, ino: u64) -> bool {
    if tree_mode() {
        return in_sender();
    }
    let want_ino = config(Config::FileIno);
    armed() && want_ino != 0 && ino == want_ino && dev as u64 == config(Config::FileDev)
}

#[tracepoint(category = "filemap", name = "mm_filemap_get_pages")]
pub fn mm_filemap_get_pages(ctx: TracePointContext) -> u32 {
    let _ = try_filemap_range(&ctx, op::FILEMAP_GET_PAGES);
    0
}

#[tracepoint(category = "filemap", name = "mm_filemap_map_pages")]
pub fn mm_filemap_map_pages(ctx: TracePointContext) -> u32 {
    let _ = try_filemap_range(&ctx, op::FILEMAP_MAP_PAGES);
    0
}

fn try_filemap_range(ctx: &TracePointContext, op: u16) -> Result<(), i64> {
    let ino: u64 = field(ctx, tp::filemap_range::I_INO)?;
    let dev: u32 = field(ctx, tp::filemap_range::S_DEV)?;
    if !is_demo_file(dev, ino) {
        return Ok(());
    }
    let index: u64 = field(ctx, tp::filemap_range::INDEX)?;
    let last_index: u64 = field(ctx, tp::filemap_range::LAST_INDEX)?;
    let pages = last_index.saturating_sub(index) + 1;
    if tree_mode() {
        if op == op::FILEMAP_GET_PAGES {
            saw(seen::FILE, dev, ino);
        } else {
            count_file(dev, ino, file_slot::MAPPED_PAGES, pages);
        }
    }
    if op == op::FILEMAP_GET_PAGES {
        count(Counter::FilemapGetPages, 1);
        count(Counter::FilemapGetPagesPages, pages);
    } else {
        count(Counter::FilemapMapPages, 1);
        count(Counter::FilemapMapPagesPages, pages);
    }
    emit(FilemapEvent {
        h: header(Kind::Filemap, op),
        index,
        last_index,
        order: 0,
        _pad: 0,
    });
    Ok(())
}

#[tracepoint(category = "filemap", name = "mm_filemap_add_to_page_cache")]
pub fn mm_filemap_add_to_page_cache(ctx: TracePointContext) -> u32 {
    entry!(try_filemap_add, ctx)
}

fn try_filemap_add(ctx: &TracePointContext) -> Result<(), i64> {
    let ino: u64 = field(ctx, tp::filemap_add::I_INO)?;
    let dev: u32 = field(ctx, tp::filemap_add::S_DEV)?;
    if !is_demo_file(dev, ino) {
        return Ok(());
    }
    let index: u64 = field(ctx, tp::filemap_add::INDEX)?;
    let order: u8 = field(ctx, tp::filemap_add::ORDER)?;
    let order = (order & 31) as u32;
    if tree_mode() {
        count_file(dev, ino, file_slot::DISK_BYTES, 4096u64 << order);
    }
    count(Counter::FilemapAdd, 1);
    count(Counter::FilemapAddBytes, 4096u64 << order);
    emit(FilemapEvent {
        h: header(Kind::Filemap, op::FILEMAP_ADD),
        index,
        last_index: index + (1u64 << order) - 1,
        order,
        _pad: 0,
    });
    Ok(())
}

#[tracepoint(category = "filemap", name = "mm_filemap_fault")]
pub fn mm_filemap_fault(ctx: TracePointContext) -> u32 {
    entry!(try_filemap_fault, ctx)
}

fn try_filemap_fault(ctx: &TracePointContext) -> Result<(), i64> {
    let ino: u64 = field(ctx, tp::filemap_fault::I_INO)?;
    let dev: u32 = field(ctx, tp::filemap_fault::S_DEV)?;
    if !is_demo_file(dev, ino) {
        return Ok(());
    }
    let index: u64 = field(ctx, tp::filemap_fault::INDEX)?;
    if tree_mode() {
        count_file(dev, ino, file_slot::FAULTS, 1);
    }
    count(Counter::FilemapFault, 1);
    emit(FilemapEvent {
        h: header(Kind::Filemap, op::FILEMAP_FAULT),
        index,
        last_index: index,
        order: 0,
        _pad: 0,
    });
    Ok(())
}
