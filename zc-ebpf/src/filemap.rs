//! The page cache, for the demo file only (matched by its `s_dev` and
//! `i_ino`): lookups (`mm_filemap_get_pages`), folios read in from disk
//! (`mm_filemap_add_to_page_cache`, the article's first DMA copy, with the
//! folio's order), pages mapped on a fault (`mm_filemap_map_pages`,
//! fault-around) and faults on the file (`mm_filemap_fault`).

use aya_ebpf::{macros::btf_tracepoint, programs::BtfTracePointContext};
use zc_common::{
    Config,
    counters::Counter,
    event::{FilemapEvent, Kind, op},
    tracepoints as tp,
    tree::{file_slot, seen},
};

use crate::{
    helpers::{
        arg, armed, config, count, count_file, emit, entry, header, in_sender, kread, lay,
        tree_mode,
    },
    syscalls::saw,
};

/// The file a page-cache `mapping` caches, as the filemap records name it:
/// its inode's (`i_sb->s_dev`, or `i_rdev` without a super block; `i_ino`).
#[inline(always)]
fn file_of(mapping: u64) -> Result<(u32, u64), i64> {
    let host: u64 = kread(mapping, lay!(mapping_host))?;
    let ino: u64 = kread(host, lay!(inode_ino))?;
    let sb: u64 = kread(host, lay!(inode_sb))?;
    let dev: u32 = if sb != 0 {
        kread(sb, lay!(sb_dev))?
    } else {
        kread(host, lay!(inode_rdev))?
    };
    Ok((dev, ino))
}

/// The file of `mapping` if it is the demo's file; for `zc trace`, any file
/// a followed process touches (these events run in the process that reads,
/// maps or faults). Decides on the cheap tests before reading the inode.
#[inline(always)]
fn demo_file(mapping: u64) -> Result<Option<(u32, u64)>, i64> {
    if tree_mode() {
        return if in_sender() {
            file_of(mapping).map(Some)
        } else {
            Ok(None)
        };
    }
    let want_ino = config(Config::FileIno);
    if !armed() || want_ino == 0 {
        return Ok(None);
    }
    let (dev, ino) = file_of(mapping)?;
    Ok((ino == want_ino && dev as u64 == config(Config::FileDev)).then_some((dev, ino)))
}

#[btf_tracepoint(function = "mm_filemap_get_pages")]
pub fn mm_filemap_get_pages(ctx: BtfTracePointContext) -> u32 {
    let _ = try_filemap_range(&ctx, op::FILEMAP_GET_PAGES);
    0
}

#[btf_tracepoint(function = "mm_filemap_map_pages")]
pub fn mm_filemap_map_pages(ctx: BtfTracePointContext) -> u32 {
    let _ = try_filemap_range(&ctx, op::FILEMAP_MAP_PAGES);
    0
}

fn try_filemap_range(ctx: &BtfTracePointContext, op: u16) -> Result<(), i64> {
    let Some((dev, ino)) = demo_file(arg(ctx, tp::filemap_range::MAPPING))? else {
        return Ok(());
    };
    let index: u64 = arg(ctx, tp::filemap_range::INDEX);
    let last_index: u64 = arg(ctx, tp::filemap_range::LAST_INDEX);
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

#[btf_tracepoint(function = "mm_filemap_add_to_page_cache")]
pub fn mm_filemap_add_to_page_cache(ctx: BtfTracePointContext) -> u32 {
    entry!(try_filemap_add, ctx)
}

/// A folio's order, as `folio_order` computes it: 0 unless the folio is
/// large (`PG_head` set), else the low byte of `_flags_1`.
#[inline(always)]
fn folio_order(folio: u64) -> Result<u32, i64> {
    let flags: u64 = kread(folio, lay!(folio_flags))?;
    if flags & (1u64 << (lay!(pg_head) & 63)) == 0 {
        return Ok(0);
    }
    let flags_1: u64 = kread(folio, lay!(folio_flags_1))?;
    Ok((flags_1 & 0xff) as u32)
}

fn try_filemap_add(ctx: &BtfTracePointContext) -> Result<(), i64> {
    let folio: u64 = arg(ctx, tp::filemap_add::FOLIO);
    let Some((dev, ino)) = demo_file(kread(folio, lay!(folio_mapping))?)? else {
        return Ok(());
    };
    let index: u64 = kread(folio, lay!(folio_index))?;
    let order = folio_order(folio)? & 31;
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

#[btf_tracepoint(function = "mm_filemap_fault")]
pub fn mm_filemap_fault(ctx: BtfTracePointContext) -> u32 {
    entry!(try_filemap_fault, ctx)
}

fn try_filemap_fault(ctx: &BtfTracePointContext) -> Result<(), i64> {
    let Some((dev, ino)) = demo_file(arg(ctx, tp::filemap_fault::MAPPING))? else {
        return Ok(());
    };
    let index: u64 = arg(ctx, tp::filemap_fault::INDEX);
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
