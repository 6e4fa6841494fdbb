//! DMA: a device's own engine reading or writing memory, no CPU copying.
//! A driver hands its device a buffer by mapping it for DMA, and the
//! kernel's `dma:dma_map_phys` tracepoint (`dma_map_page` from 6.12 until
//! 6.17 renamed it) names each map's physical address, size and direction.
//! zc attributes two kinds:
//! - a NIC's TO_DEVICE maps made while a followed skb is inside its
//!   driver's transmit (`net_dev_start_xmit` … `net_dev_xmit` on this CPU):
//!   the engine will read exactly those bytes onto the wire;
//! - FROM_DEVICE maps into a page-cache page of the demo file: a disk's
//!   engine told to write the file's pages (a cold read);
//! - FROM_DEVICE maps the receiving NIC's driver made: empty buffers for
//!   its ring, which its engine will write frames into (`nic_rx.rs`).
//!
//! `dma:dma_map_sg` maps a whole scatterlist at once (an NVMe request of
//! several segments, before 7.x moved NVMe to per-segment maps): each entry
//! names its `struct page` itself.
//!
//! Each map's page is named the way an skb frag's is, starting from the
//! physical page number: `vmemmap_base + pfn × sizeof(struct page)` is its
//! `struct page` (x86-64's virtual memory map), then head page → folio →
//! mapping and index. A veth never maps, nor does a virtio device without
//! the DMA API: the counts stay 0, and the views say why.

use aya_ebpf::{
    EbpfContext,
    cty::c_void,
    helpers::{bpf_probe_read_kernel, generated::bpf_loop},
    macros::{btf_tracepoint, map},
    maps::PerCpuArray,
    programs::BtfTracePointContext,
};
use zc_common::{
    Config, NO_PAGE,
    counters::Counter,
    event::{DmaEvent, Kind, dma_page, op},
    tracepoints as tp,
};

use crate::helpers::{
    arg, armed, config, count_net, count_sock, emit, header, kread, lay, tree_mode,
};

/// The followed skb inside its driver's transmit on this CPU, if any, and
/// the maps its transmit made so far. Per CPU: `ndo_start_xmit` runs with
/// bottom halves off, so nothing else transmits here until `net_dev_xmit`.
#[derive(Clone, Copy)]
pub struct InXmit {
    pub skb: u64,
    pub maps: u64,
    pub bytes: u64,
    pub file: u64,
    pub user: u64,
}

#[map]
pub static ZC_IN_XMIT: PerCpuArray<InXmit> = PerCpuArray::with_max_entries(1, 0);

/// `net_dev_start_xmit` of a followed skb: its maps begin.
#[inline(always)]
pub fn xmit_begins(skb: u64) {
    if let Some(p) = ZC_IN_XMIT.get_ptr_mut(0) {
        // SAFETY: per-CPU slot, only this CPU writes it.
        unsafe {
            *p = InXmit {
                skb,
                maps: 0,
                bytes: 0,
                file: 0,
                user: 0,
            }
        };
    }
}

/// `net_dev_xmit` of `skb`: its maps end. When the device took it (`took`),
/// they are counted, with the skb's length and payload beside them: every
/// byte of an skb a DMA engine reads is mapped, so the two must agree.
#[inline(always)]
pub fn xmit_ends(skb: u64, sock: u64, took: bool, len: u32, payload: u32) {
    let Some(p) = ZC_IN_XMIT.get_ptr_mut(0) else {
        return;
    };
    // SAFETY: per-CPU slot, as above.
    let slot = unsafe { &mut *p };
    if slot.skb != skb {
        return;
    }
    if took && slot.maps > 0 {
        count_net(Counter::NicDmaMaps, slot.maps);
        count_net(Counter::NicDmaBytes, slot.bytes);
        count_net(Counter::NicDmaFileBytes, slot.file);
        count_net(Counter::NicDmaUserBytes, slot.user);
        count_net(Counter::NicDmaSkbs, 1);
        count_net(Counter::NicDmaSkbLen, len as u64);
        count_net(Counter::NicDmaSkbPayload, payload as u64);
        // `zc trace`: the socket's, for its owner.
        count_sock(sock, Counter::NicDmaMaps, slot.maps);
        count_sock(sock, Counter::NicDmaBytes, slot.bytes);
    }
    slot.skb = 0;
}

/// `enum dma_data_direction` (include/linux/dma-direction.h).
const DMA_TO_DEVICE: u32 = 1;
const DMA_FROM_DEVICE: u32 = 2;

#[btf_tracepoint(function = "dma_map_phys")]
pub fn dma_map_phys(ctx: BtfTracePointContext) -> u32 {
    let _ = try_map(&ctx);
    0
}

/// The same tracepoint under its name before 6.17.
#[btf_tracepoint(function = "dma_map_page")]
pub fn dma_map_page(ctx: BtfTracePointContext) -> u32 {
    let _ = try_map(&ctx);
    0
}

fn try_map(ctx: &BtfTracePointContext) -> Result<(), i64> {
    if !armed() || lay!(valid) == 0 {
        return Ok(());
    }
    let dir: u32 = arg(ctx, tp::dma_map_phys::DIR);
    let size: u64 = arg(ctx, tp::dma_map_phys::SIZE);
    let phys: u64 = arg(ctx, tp::dma_map_phys::PHYS);
    if dir == DMA_FROM_DEVICE {
        // A fresh buffer for the receiving NIC's ring (`nic_rx.rs`).
        let rx = config(Config::NicRxDevice);
        if rx != 0 && arg::<u64>(ctx, tp::dma_map_phys::DEV) == rx {
            count_net(Counter::NicRxMaps, 1);
            count_net(Counter::NicRxMapBytes, size);
            return Ok(());
        }
    }
    one_map(dir, page_at(phys), (phys & 0xfff) as u16, size);
    Ok(())
}

/// `dma_map_sg(dev, sgl, nents, ents, dir, attrs)`: every entry of the
/// list is a map of its own page. Only a disk's (FROM_DEVICE) lists are
/// walked: the NICs zc has met map each fragment on its own.
#[btf_tracepoint(function = "dma_map_sg")]
pub fn dma_map_sg(ctx: BtfTracePointContext) -> u32 {
    let _ = try_map_sg(&ctx);
    0
}

fn try_map_sg(ctx: &BtfTracePointContext) -> Result<(), i64> {
    if !armed() || tree_mode() || lay!(valid) == 0 || lay!(sg_size) == 0 {
        return Ok(());
    }
    if arg::<u32>(ctx, tp::dma_map_sg::DIR) != DMA_FROM_DEVICE {
        return Ok(());
    }
    let nents = arg::<i32>(ctx, tp::dma_map_sg::NENTS).max(0) as u32;
    // Entry i is at `sgl + i × sizeof(scatterlist)`: the rounds share
    // nothing that changes, so the verifier checks one round once. (A
    // cursor carried from round to round cost it more than half a second
    // of loading, measured.) A list long enough to be chained (more than
    // 128 entries, `SG_CHUNK_SIZE`) is walked as far as its first link.
    // The list's address as a plain number, copied out of the context: the
    // argument itself is a typed pointer, to which the verifier allows no
    // arithmetic by an amount it does not know.
    // SAFETY: the context holds the tracepoint's arguments, one u64 each;
    // bpf_probe_read_kernel checks the address itself.
    let mut sgl: u64 = unsafe {
        bpf_probe_read_kernel((ctx.as_ptr() as *const u64).add(tp::dma_map_sg::SGL.index))
    }
    .map_err(i64::from)?;
    // SAFETY: the callback is a plain function and its context a pointer
    // to `sgl` on this stack, which outlives the call.
    unsafe {
        bpf_loop(
            nents.min(MAX_SG_ROUNDS),
            sg_round as *mut c_void,
            &mut sgl as *mut u64 as *mut c_void,
            0,
        );
    }
    Ok(())
}

/// Most entries walked: `SG_CHUNK_SIZE`, a list's entries before a chain.
const MAX_SG_ROUNDS: u32 = 128;

/// `page_link`'s low bits (include/linux/scatterlist.h).
const SG_CHAIN: u64 = 1;
const SG_END: u64 = 2;

/// Entry `i` of the list; returns 1 to stop.
extern "C" fn sg_round(i: u64, ctx: *mut c_void) -> i64 {
    // SAFETY: `try_map_sg` passes the list's start.
    let sgl = unsafe { *(ctx as *const u64) };
    let sg = sgl + i * lay!(sg_size) as u64;
    let Ok(link) = kread::<u64>(sg, lay!(sg_page_link)) else {
        return 1;
    };
    if link & SG_CHAIN != 0 {
        count_net(Counter::DmaUnnamed, 1);
        return 1;
    }
    let offset: u32 = kread(sg, lay!(sg_offset)).unwrap_or(0);
    let length: u32 = kread(sg, lay!(sg_length)).unwrap_or(0);
    // An entry may start past its page, inside a large folio.
    let page = (link & !(SG_CHAIN | SG_END)) + (offset as u64 >> 12) * lay!(page_size) as u64;
    let (what, index) = named(Some(page));
    if what == dma_page::FILE {
        count_net(Counter::DiskDmaMaps, 1);
        count_net(Counter::DiskDmaBytes, length as u64);
        emit(DmaEvent {
            h: header(Kind::Dma, op::DMA_DISK),
            size: length as u64,
            file_index: index,
            page: what,
            _pad: 0,
            offset: (offset & 0xfff) as u16,
        });
    }
    if link & SG_END != 0 {
        return 1;
    }
    0
}

/// One map of `size` bytes starting `offset` into `page` (None: not known).
#[inline(always)]
fn one_map(dir: u32, page: Option<u64>, offset: u16, size: u64) {
    if dir == DMA_TO_DEVICE {
        let Some(p) = ZC_IN_XMIT.get_ptr_mut(0) else {
            return;
        };
        // SAFETY: per-CPU slot, as above.
        let slot = unsafe { &mut *p };
        if slot.skb == 0 {
            return;
        }
        let (what, index) = named(page);
        slot.maps += 1;
        slot.bytes += size;
        match what {
            dma_page::FILE => slot.file += size,
            dma_page::USER => slot.user += size,
            dma_page::UNNAMED => count_net(Counter::DmaUnnamed, 1),
            _ => {}
        }
        emit(DmaEvent {
            h: header(Kind::Dma, op::DMA_NIC),
            size,
            file_index: index,
            page: what,
            _pad: 0,
            offset,
        });
    } else if dir == DMA_FROM_DEVICE && !tree_mode() {
        // Only a page of the demo file is the demo's: anything else is
        // another device's or another file's.
        let (what, index) = named(page);
        if what != dma_page::FILE {
            return;
        }
        count_net(Counter::DiskDmaMaps, 1);
        count_net(Counter::DiskDmaBytes, size);
        emit(DmaEvent {
            h: header(Kind::Dma, op::DMA_DISK),
            size,
            file_index: index,
            page: what,
            _pad: 0,
            offset,
        });
    }
}

/// `folio->mapping`'s low bits: bit 0 marks anonymous memory (with bit 1,
/// KSM); other tagged values are drivers' movable pages.
const MAPPING_ANON: u64 = 1;
const MAPPING_FLAGS: u64 = 3;

/// The `struct page` of physical address `phys`, where the kernel said
/// where its array of pages starts.
#[inline(always)]
fn page_at(phys: u64) -> Option<u64> {
    let base_at = config(Config::VmemmapBase);
    let page_size = lay!(page_size) as u64;
    if base_at == 0 || page_size == 0 {
        return None;
    }
    let base = kread::<u64>(base_at, 0).ok()?;
    // 4 KiB pages: x86-64's only base page size.
    Some(base + (phys >> 12) * page_size)
}

/// What `page` is, and its index in the demo file when it is one of the
/// file's page-cache pages.
#[inline(always)]
fn named(page: Option<u64>) -> (u8, u32) {
    let Some(page) = page else {
        return (dma_page::UNNAMED, NO_PAGE);
    };
    let page_size = lay!(page_size) as u64;
    let Ok(info) = kread::<u64>(page, lay!(page_compound_head)) else {
        return (dma_page::UNNAMED, NO_PAGE);
    };
    let head = if info & 1 != 0 {
        crate::device::head_of_tail(page, info)
    } else {
        page
    };
    let Ok(mapping) = kread::<u64>(head, lay!(folio_mapping)) else {
        return (dma_page::UNNAMED, NO_PAGE);
    };
    if mapping & MAPPING_FLAGS == MAPPING_ANON {
        return (dma_page::USER, NO_PAGE);
    }
    if mapping == 0 || mapping & MAPPING_FLAGS != 0 || mapping != config(Config::FileMapping) {
        return (dma_page::OTHER, NO_PAGE);
    }
    let Ok(index) = kread::<u64>(head, lay!(folio_index)) else {
        return (dma_page::FILE, NO_PAGE);
    };
    if page_size == 0 {
        return (dma_page::FILE, NO_PAGE);
    }
    (dma_page::FILE, (index + (page - head) / page_size) as u32)
}
