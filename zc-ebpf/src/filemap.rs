//! The page cache, for the demo file only (matched by the `address_space`
//! its pages are cached in, as learned by a read of it): lookups (`mm_filemap_get_pages`), folios read in from disk
//! (`mm_filemap_add_to_page_cache`, the article's first DMA copy, with the
//! folio's order), pages mapped on a fault (`mm_filemap_map_pages`,
//! fault-around) and faults on the file (`mm_filemap_fault`).
//!
//! Three of those tracepoints came in 6.12. On an older kernel the same
//! evidence is read at the functions they sit in: what was handed to
//! `filemap_get_pages`, `filemap_map_pages` and `filemap_fault` names the
//! same file and the same pages, computed as the tracepoint computes them.

use aya_ebpf::{
    EbpfContext as _,
    macros::{btf_tracepoint, fentry, fexit},
    programs::{BtfTracePointContext, FEntryContext, FExitContext},
};
use zc_common::{
    Config,
    counters::Counter,
    event::{FilemapEvent, Kind, op},
    tracepoints as tp,
    tree::{file_slot, seen},
};

use crate::{
    helpers::{
        arg, armed, config, count, count_file, emit, entry, header, in_sender, inode_id, kread,
        lay, learning, set_config, tree_mode,
    },
    syscalls::saw,
};

/// The file a page-cache `mapping` caches, as the filemap records name it.
#[inline(always)]
fn file_of(mapping: u64) -> Result<(u32, u64), i64> {
    inode_id(kread(mapping, lay!(mapping_host))?)
}

/// Whose file a page-cache event is about.
#[derive(Clone, Copy)]
enum Concern {
    /// The demo file.
    Demo,
    /// A file a followed process touched (`zc trace`), named as the
    /// per-file counters name it.
    Tree { dev: u32, ino: u64 },
}

/// Whose file `mapping` is: the demo's, when it is the mapping zc learned
/// the file by (a pointer compare, no read: on btrfs and overlayfs no
/// inode number would do, see `Config::FileMapping`); for `zc trace`, any
/// file a followed process touches (these events run in the process that
/// reads, maps or faults). Decides on the cheap tests (`may_concern`)
/// before reading the inode.
#[inline(always)]
fn concern(mapping: u64) -> Result<Option<Concern>, i64> {
    if !may_concern() {
        return Ok(None);
    }
    if tree_mode() {
        let (dev, ino) = file_of(mapping)?;
        return Ok(Some(Concern::Tree { dev, ino }));
    }
    Ok((mapping == config(Config::FileMapping)).then_some(Concern::Demo))
}

/// Whether a page-cache event may concern the traced file at all, before
/// any kernel memory is read: the followed process (`zc trace`), or an
/// armed demo with its file learned. The functions hooked where a
/// tracepoint is missing run for every file's reads, so they ask this
/// first too.
#[inline(always)]
fn may_concern() -> bool {
    if tree_mode() {
        in_sender()
    } else {
        armed() && config(Config::FileMapping) != 0
    }
}

/// The learning thread's read of the demo file looked its pages up in
/// `mapping`: the page cache the file's pages live in. On most file
/// systems it is the opened file's own; overlayfs reads the file beneath
/// (upper or lower), whose mapping only this lookup names.
#[inline(always)]
fn learn_cache(mapping: u64) {
    set_config(Config::LearnedCache, mapping);
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
    let mapping: u64 = arg(ctx, tp::filemap_range::MAPPING);
    if op == op::FILEMAP_GET_PAGES && learning() {
        learn_cache(mapping);
        return Ok(());
    }
    filemap_range(
        mapping,
        arg(ctx, tp::filemap_range::INDEX),
        arg(ctx, tp::filemap_range::LAST_INDEX),
        op,
    )
}

/// Pages in the page cache of a file that is `size` bytes long: the index
/// past its last page.
#[inline(always)]
fn pages_of(size: i64) -> u64 {
    (size.max(0) as u64).div_ceil(4096)
}

/// `filemap_get_pages(iocb, iter, fbatch)` returned: on 0, the pages from
/// `ki_pos` to `ki_pos + iter->count` are in the batch, the range that
/// `mm_filemap_get_pages` names (`index`, `last_index - 1`).
#[fexit(function = "filemap_get_pages")]
pub fn mm_filemap_get_pages_ret(ctx: FExitContext) -> u32 {
    // A tracing program's context is its arguments (then, for fexit, the
    // return value) as an array of u64, as for tp_btf.
    let args = BtfTracePointContext::new(ctx.as_ptr());
    entry!(try_get_pages_ret, args)
}

fn try_get_pages_ret(ctx: &BtfTracePointContext) -> Result<(), i64> {
    let ret: i32 = arg(ctx, tp::filemap_get_pages_fn::RET);
    if ret != 0 || lay!(valid) == 0 {
        return Ok(());
    }
    let learn = learning();
    if !learn && !may_concern() {
        return Ok(());
    }
    let iocb: u64 = arg(ctx, tp::filemap_get_pages_fn::IOCB);
    let iter: u64 = arg(ctx, tp::filemap_get_pages_fn::ITER);
    let file: u64 = kread(iocb, lay!(iocb_filp))?;
    let mapping: u64 = kread(file, lay!(file_mapping))?;
    if learn {
        learn_cache(mapping);
        return Ok(());
    }
    let pos: i64 = kread(iocb, lay!(iocb_pos))?;
    let count: u64 = kread(iter, lay!(iter_count))?;
    let pos = pos.max(0) as u64;
    let last = (pos + count).div_ceil(4096);
    filemap_range(
        mapping,
        pos / 4096,
        last.saturating_sub(1),
        op::FILEMAP_GET_PAGES,
    )
}

/// The file `vmf` faults on: `vmf->vma->vm_file->f_mapping`.
#[inline(always)]
fn mapping_of_fault(vmf: u64) -> Result<u64, i64> {
    let vma: u64 = kread(vmf, lay!(vmf_vma))?;
    let file: u64 = kread(vma, lay!(vma_file))?;
    kread(file, lay!(file_mapping))
}

/// The size of the file `mapping` caches, in bytes.
#[inline(always)]
fn size_of_mapping(mapping: u64) -> Result<i64, i64> {
    let host: u64 = kread(mapping, lay!(mapping_host))?;
    kread(host, lay!(inode_size))
}

/// `filemap_map_pages(vmf, start_pgoff, end_pgoff)` returned. The
/// tracepoint fires after the page table was locked, which sets
/// `vmf->pte` (it is NULL when a fault on an empty entry gets here);
/// without an up-to-date page at the start nothing was mapped, and it
/// stays NULL.
#[fexit(function = "filemap_map_pages")]
pub fn mm_filemap_map_pages_ret(ctx: FExitContext) -> u32 {
    let args = BtfTracePointContext::new(ctx.as_ptr());
    entry!(try_map_pages_ret, args)
}

fn try_map_pages_ret(ctx: &BtfTracePointContext) -> Result<(), i64> {
    if lay!(valid) == 0 || !may_concern() {
        return Ok(());
    }
    let vmf: u64 = arg(ctx, tp::filemap_map_pages_fn::VMF);
    let pte: u64 = kread(vmf, lay!(vmf_pte))?;
    if pte == 0 {
        return Ok(());
    }
    let mapping = mapping_of_fault(vmf)?;
    let start: u64 = arg(ctx, tp::filemap_map_pages_fn::START);
    let end: u64 = arg(ctx, tp::filemap_map_pages_fn::END);
    // Cut at the file's last page, as the tracepoint's kernels do.
    let file_end = pages_of(size_of_mapping(mapping)?).saturating_sub(1);
    filemap_range(mapping, start, end.min(file_end), op::FILEMAP_MAP_PAGES)
}

fn filemap_range(mapping: u64, index: u64, last_index: u64, op: u16) -> Result<(), i64> {
    let Some(c) = concern(mapping)? else {
        return Ok(());
    };
    let pages = last_index.saturating_sub(index) + 1;
    if let Concern::Tree { dev, ino } = c {
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
    let Some(c) = concern(kread(folio, lay!(folio_mapping))?)? else {
        return Ok(());
    };
    let index: u64 = kread(folio, lay!(folio_index))?;
    let order = folio_order(folio)? & 31;
    if let Concern::Tree { dev, ino } = c {
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
    filemap_fault(
        arg(ctx, tp::filemap_fault::MAPPING),
        arg(ctx, tp::filemap_fault::INDEX),
    )
}

/// `filemap_fault(vmf)` is entered: a fault on page `vmf->pgoff` of the
/// mapped file. The tracepoint comes after the check that the page is
/// inside the file (a page past its end is SIGBUS), so this checks too.
#[fentry(function = "filemap_fault")]
pub fn mm_filemap_fault_call(ctx: FEntryContext) -> u32 {
    let args = BtfTracePointContext::new(ctx.as_ptr());
    entry!(try_fault_call, args)
}

fn try_fault_call(ctx: &BtfTracePointContext) -> Result<(), i64> {
    if lay!(valid) == 0 || !may_concern() {
        return Ok(());
    }
    let vmf: u64 = arg(ctx, tp::filemap_fault_fn::VMF);
    let mapping = mapping_of_fault(vmf)?;
    let index: u64 = kread(vmf, lay!(vmf_pgoff))?;
    if index >= pages_of(size_of_mapping(mapping)?) {
        return Ok(());
    }
    filemap_fault(mapping, index)
}

fn filemap_fault(mapping: u64, index: u64) -> Result<(), i64> {
    let Some(c) = concern(mapping)? else {
        return Ok(());
    };
    if let Concern::Tree { dev, ino } = c {
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
