//! The skb's way to the device, for the demo socket's skbs only (matched
//! by `skb->sk`, since transmit often runs in softirq context on behalf of
//! another task):
//! - `net_dev_queue`: the skb as TCP built it (paged, or linear);
//! - `net_dev_start_xmit` then `net_dev_xmit`: what the device accepted,
//!   after software segmentation. Counted at `net_dev_xmit` with rc 0 only,
//!   so an skb requeued on `NETDEV_TX_BUSY` (which passes start_xmit twice)
//!   counts once;
//! - `tcp:tcp_retransmit_skb`: a retransmission, which passes queue and
//!   device again and is itemized, not added to the first transmission;
//! - `skb:kfree_skb`: a drop, with the kernel's reason.
//!
//! Each frag is walked to its page: frag → page → head page
//! (compound_head) → folio->mapping → inode, to prove whether it is a page
//! of the demo file (a reference, not a copy), or a program's own anonymous
//! page (lent by vmsplice, pinned by a zero-copy send).

use aya_ebpf::{
    cty::c_void,
    helpers::{bpf_probe_read_kernel_buf, generated::bpf_loop},
    macros::{btf_tracepoint, map},
    maps::{LruHashMap, PerCpuArray},
    programs::BtfTracePointContext,
};
use zc_common::{
    Config, MAX_FRAGS, NO_PAGE,
    counters::Counter,
    event::{
        FOLD_SKB_BYTES, FOLD_SKBS, Kind, SKB_EVENT_SHORT, SKBFL_SHARED_FRAG, SKBFL_ZEROCOPY_ENABLE,
        SkbEvent, op,
    },
    tracepoints as tp,
};

use crate::helpers::{
    add_sock, arg, armed, config, count_net, count_sock, emit, emit_prefix, header, kload, kread,
    lay, opaque, set_config, sock_counts, sock_id, tree_mode,
};

/// Demo-socket skbs queued (`net_dev_queue`) and not yet transmitted or
/// dropped, so a drop can tell a whole queued skb (the transmit failed and
/// TCP was told) from a piece of one (lost after TCP was told it left).
#[map(name = "ZC_QUEUED")]
static ZC_QUEUED: LruHashMap<u64, u32> = LruHashMap::with_max_entries(16384, 0);

/// `NETDEV_TX_BUSY`: the driver refused the skb; it is requeued.
const NETDEV_TX_BUSY: i32 = 0x10;

/// What `net_dev_start_xmit` saw of a followed skb, and (`zc trace`) its
/// socket's id, held until `net_dev_xmit` says whether the device took it.
/// The socket is named before the driver runs: loopback and veth orphan
/// the skb (`skb->sk = NULL`) as they pass it on.
#[derive(Clone, Copy)]
pub struct Pending {
    /// The skb this slot holds, 0 when free.
    pub skb: u64,
    pub e: SkbEvent,
    pub sock: u64,
}

/// Transmits under way on one CPU. The two tracepoints bracket the
/// driver's `ndo_start_xmit` in `xmit_one`, whose one caller runs with
/// bottom halves off: on one CPU, with no other transmit through them in
/// between but one nested inside (a tunnel's device queueing on the one
/// beneath, up to `XMIT_RECURSION_LIMIT` deep). An interrupt may run in
/// between, but does not transmit through `xmit_one` (netpoll calls the
/// driver directly).
/// So a per-CPU slot holds the record, looked up by skb among a few, where
/// a hash keyed by skb cost an insert and a delete per skb, each under a
/// bucket lock.
pub const PENDING_SLOTS: u32 = 4;

#[map]
pub static ZC_XMIT_PENDING: PerCpuArray<Pending> = PerCpuArray::with_max_entries(PENDING_SLOTS, 0);

/// This CPU's slot holding `skb` (0: a free slot), if there is one.
#[inline(always)]
pub fn pending(skb: u64) -> Option<*mut Pending> {
    for i in 0..PENDING_SLOTS {
        if let Some(p) = ZC_XMIT_PENDING.get_ptr_mut(i) {
            // SAFETY: this CPU's slot; transmits through `xmit_one` on a
            // CPU nest, never interleave.
            if unsafe { (*p).skb } == skb {
                return Some(p);
            }
        }
    }
    None
}

/// The counters one place on the skb's way fills: skbs, payload, linear
/// payload, file bytes and frags, skbs with shared frags, user-page bytes
/// lent (vmsplice) and pinned (a zero-copy skb).
struct SkbCounters([Counter; 8]);

const AT_QUEUE: SkbCounters = SkbCounters([
    Counter::QueueSkbs,
    Counter::QueuePayload,
    Counter::QueueLinearPayload,
    Counter::QueueFileBytes,
    Counter::QueueFileFrags,
    Counter::QueueSharedFrag,
    Counter::QueueUserBytes,
    Counter::QueuePinnedBytes,
]);

const AT_DEVICE: SkbCounters = SkbCounters([
    Counter::XmitSkbs,
    Counter::XmitPayload,
    Counter::XmitLinearPayload,
    Counter::XmitFileBytes,
    Counter::XmitFileFrags,
    Counter::XmitSharedFrag,
    Counter::XmitUserBytes,
    Counter::XmitPinnedBytes,
]);

#[inline(always)]
fn count_skb(c: &SkbCounters, e: &SkbEvent, sock: u64) {
    let [
        skbs,
        payload,
        linear,
        file_bytes,
        file_frags,
        shared,
        user_bytes,
        pinned_bytes,
    ] = c.0;
    count_net(skbs, 1);
    count_net(payload, e.payload as u64);
    count_net(linear, e.linear_payload as u64);
    count_net(file_bytes, e.file_bytes as u64);
    count_net(file_frags, e.file_frags as u64);
    count_net(shared, (e.shinfo_flags & SKBFL_SHARED_FRAG != 0) as u64);
    // The user's pages of a zero-copy skb are pinned; others were lent.
    let pinned = e.shinfo_flags & SKBFL_ZEROCOPY_ENABLE != 0;
    if pinned {
        count_net(pinned_bytes, e.user_bytes as u64);
    } else {
        count_net(user_bytes, e.user_bytes as u64);
    }
    // `zc trace`: the same, for the socket (whose owner user space knows).
    // One lookup for all of them.
    if let Some(p) = sock_counts(sock) {
        add_sock(p, skbs, 1);
        add_sock(p, payload, e.payload as u64);
        add_sock(p, linear, e.linear_payload as u64);
        add_sock(p, file_bytes, e.file_bytes as u64);
        add_sock(p, file_frags, e.file_frags as u64);
        let user = if pinned { pinned_bytes } else { user_bytes };
        add_sock(p, user, e.user_bytes as u64);
    }
}

/// Keeps `net_dev_queue`'s record of `skb` for the device (`device_skb`).
#[inline(always)]
fn remember_queued(skb: u64, sock: u64, shape: Shape, e: &SkbEvent) {
    if e.user_bytes > 0 && config(Config::UserPagesSent) == 0 {
        set_config(Config::UserPagesSent, 1);
    }
    let Some(q) = ZC_LAST_QUEUED.get_ptr_mut(0) else {
        return;
    };
    // SAFETY: this CPU's slot; programs do not nest on a CPU.
    let q = unsafe { &mut *q };
    q.skb = skb;
    q.sock = sock;
    q.shape = shape;
    q.e = *e;
}

#[btf_tracepoint(function = "net_dev_queue")]
pub fn net_dev_queue(ctx: BtfTracePointContext) -> u32 {
    let skb: u64 = arg(&ctx, tp::net_skb::SKB);
    if let Some(q) = ZC_LAST_QUEUED.get_ptr_mut(0) {
        // SAFETY: this CPU's slot; the queue and the device's program run
        // with bottom halves off, so neither nests on a CPU. Whatever this
        // CPU queued before is no longer the skb its device gets next.
        unsafe { (*q).skb = 0 };
    }
    if let Ok(Some((e, sock, shape))) = demo_skb_shaped(skb, op::SKB_QUEUE) {
        remember_queued(skb, sock, shape, &e);
        let _ = ZC_QUEUED.insert(skb, e.payload, 0);
        if let Some(p) = ZC_PIECES.get_ptr_mut(0) {
            // SAFETY: per-CPU slot; a new skb starts a new count of pieces.
            unsafe { *p = [0; 3] };
        }
        count_skb(&AT_QUEUE, &e, sock);
        emit_skb(e);
    }
    0
}

#[btf_tracepoint(function = "net_dev_start_xmit")]
pub fn net_dev_start_xmit(ctx: BtfTracePointContext) -> u32 {
    let skb: u64 = arg(&ctx, tp::net_dev_start_xmit::SKB);
    if let Ok(Some((e, sock))) = device_skb(skb) {
        crate::tap::at_send(skb, e.user_bytes, e.shinfo_flags);
        match pending(0) {
            // SAFETY: a free slot of this CPU (see `pending`).
            Some(p) => unsafe { *p = Pending { skb, e, sock } },
            None => count_net(Counter::XmitPendingFull, 1),
        }
        crate::dma::xmit_begins(skb);
    }
    0
}

/// `net_dev_xmit(skb, rc, dev, skb_len)`.
#[btf_tracepoint(function = "net_dev_xmit")]
pub fn net_dev_xmit(ctx: BtfTracePointContext) -> u32 {
    let skb: u64 = arg(&ctx, tp::net_dev_xmit::SKB);
    let rc: i32 = arg(&ctx, tp::net_dev_xmit::RC);
    if skb == 0 {
        return 0;
    }
    let Some(p) = pending(skb) else {
        return 0;
    };
    // SAFETY: this CPU's slot: copied out, then freed.
    let Pending { e, sock, .. } = unsafe { *p };
    unsafe { (*p).skb = 0 };
    crate::dma::xmit_ends(skb, sock, rc == 0, e.len, e.payload);
    if rc == NETDEV_TX_BUSY {
        count_net(Counter::XmitRefused, 1);
        count_net(Counter::XmitRefusedBytes, e.payload as u64);
        return 0;
    }
    // Most skbs here were never queued as they are (the segments of a
    // queued one): a lookup takes no lock, a delete takes the bucket's.
    // SAFETY: only whether the entry exists is read.
    if unsafe { ZC_QUEUED.get(skb) }.is_some() {
        let _ = ZC_QUEUED.remove(skb);
    }
    if rc != 0 {
        // The driver consumed it without sending it (a veth's peer backlog
        // was full: `enqueue_to_backlog` freed it, and `skb:kfree_skb` left
        // it to this rc, so it is counted once). Whether TCP heard of it
        // depends on the path (no qdisc: the rc reaches `tcp_transmit_skb`,
        // which sends the bytes again as new data; a qdisc: it does not,
        // and TCP retransmits): the ledger by ranges tells them apart by
        // what TCP did next.
        count_net(Counter::DropsLost, 1);
        count_net(Counter::DropLostBytes, e.payload as u64);
        count_net(Counter::XmitDropped, 1);
        count_net(Counter::XmitDroppedBytes, e.payload as u64);
        emit_prefix(
            &SkbEvent {
                h: header(Kind::Skb, op::SKB_LOST),
                ..e
            },
            SKB_EVENT_SHORT,
        );
        return 0;
    }
    count_skb(&AT_DEVICE, &e, sock);
    if config(Config::Fold) != 0 && !tree_mode() {
        fold(e);
    } else {
        emit_skb(e);
    }
    0
}

/// Per CPU, the skbs the device took folded so far, as one record whose
/// `skbs` is 0 when the slot is empty. A run too large to show skb by skb
/// (`Config::Fold`) sends one record for a stretch of them: with
/// scatter-gather off, each 64 KiB skb reaches the device as some 45
/// segments, one record each otherwise. Per CPU because a device's
/// transmit runs with bottom halves off (it neither nests nor migrates);
/// zc reads every CPU's rest when the run ends.
#[map]
pub static ZC_DEVICE_FOLD: PerCpuArray<SkbEvent> = PerCpuArray::with_max_entries(1, 0);

/// Folds `e` into this CPU's stretch, or sends the stretch and starts
/// another. Only skbs that name no page fold (the page map needs each
/// frag's page), and only the next bytes of the stream: a stretch is one
/// unbroken range, which the ledger by ranges reads as it reads one skb.
/// A stretch's time is its last skb's, so that it sorts after the queue
/// records of every skb in it.
#[inline(always)]
fn fold(e: SkbEvent) {
    let Some(f) = ZC_DEVICE_FOLD.get_ptr_mut(0) else {
        emit_skb(e);
        return;
    };
    // SAFETY: this CPU's slot (above).
    let f = unsafe { &mut *f };
    let foldable = e.file_frags == 0 && e.user_frags == 0;
    if f.skbs > 0 {
        if foldable
            && e.seq == f.seq.wrapping_add(f.payload)
            && e.shinfo_flags == f.shinfo_flags
            && f.skbs < FOLD_SKBS
            && f.len < FOLD_SKB_BYTES - e.len
        {
            f.h.ts_ns = e.h.ts_ns;
            f.len += e.len;
            f.data_len += e.data_len;
            f.payload += e.payload;
            f.linear_payload += e.linear_payload;
            f.skbs += 1;
            return;
        }
        emit_prefix(&*f, SKB_EVENT_SHORT);
        f.skbs = 0;
    }
    if foldable {
        *f = SkbEvent { skbs: 1, ..e };
    } else {
        emit_skb(e);
    }
}

/// Pieces of a segmented skb dropped on this CPU since its last demo
/// `net_dev_queue`: [bytes counted as lost, pieces counted as lost, bytes
/// still expected]. When a qdisc that segments (tbf) drops every piece, it
/// frees the original too and fails the transmit, which TCP hears of (it
/// sends the bytes again as new data): those pieces were not lost. They are
/// freed in the same call, before or after the original; this slot lets
/// either order come out right.
#[map]
static ZC_PIECES: PerCpuArray<[u64; 3]> = PerCpuArray::with_max_entries(1, 0);

/// `kfree_skb(skb, location, reason, rx_sk)`: a demo-socket skb with payload
/// dropped on its way out: whole, as queued (TCP was told and sends the
/// bytes again as new data), or a piece of a queued one (lost: TCP
/// retransmits it).
#[btf_tracepoint(function = "kfree_skb")]
pub fn kfree_skb(ctx: BtfTracePointContext) -> u32 {
    let skb: u64 = arg(&ctx, tp::kfree_skb::SKB);
    let reason: u32 = arg(&ctx, tp::kfree_skb::REASON);
    if !armed() || skb == 0 || lay!(valid) == 0 {
        return 0;
    }
    // Freed inside the driver's transmit (between `net_dev_start_xmit` and
    // `net_dev_xmit`): the driver's rc says what became of it, and
    // `net_dev_xmit` counts it. Counting it here too would count one drop
    // twice.
    if pending(skb).is_some() {
        return 0;
    }
    // A queued skb is looked up first: once segmented, the original no
    // longer points at its socket (its segments took it over).
    // SAFETY: the value is copied out before the entry is removed.
    if let Some(payload) = unsafe { ZC_QUEUED.get(skb) }.copied() {
        let _ = ZC_QUEUED.remove(skb);
        let sk = kread::<u64>(skb, lay!(skb_sk)).unwrap_or(0);
        // Still the queued skb: segmented (its socket went to its pieces),
        // or whole with the payload it was queued with.
        let same = sk == 0
            || matches!(demo_skb(skb, op::SKB_DROP), Ok(Some((e, _))) if e.payload == payload);
        if same {
            let seq = header_seq(skb).unwrap_or(0);
            return whole_drop(skb, sk, payload, reason, seq);
        }
    }
    if let Ok(Some((mut e, _))) = demo_skb(skb, op::SKB_LOST) {
        let bytes = e.payload as u64;
        if let Some(p) = ZC_PIECES.get_ptr_mut(0) {
            // SAFETY: per-CPU slot; the pieces of one skb are freed on the
            // CPU that queued it, in the same call.
            let slot = unsafe { &mut *p };
            if slot[2] > 0 {
                // A piece of a failed transmit already counted as a whole.
                slot[2] = slot[2].saturating_sub(bytes);
                return 0;
            }
            slot[0] += bytes;
            slot[1] += 1;
        }
        e.reason = reason;
        count_net(Counter::DropsLost, 1);
        count_net(Counter::DropLostBytes, bytes);
        emit_skb(e);
    }
    0
}

/// A whole queued skb dropped: the transmit failed and TCP heard of it.
#[inline(always)]
fn whole_drop(skb: u64, sk: u64, payload: u32, reason: u32, seq: u32) -> u32 {
    if sk == 0
        && let Some(p) = ZC_PIECES.get_ptr_mut(0)
    {
        // Segmented, and every piece dropped: those freed already were
        // counted as lost (take them back), the rest are still to come.
        // SAFETY: per-CPU slot, as above.
        let slot = unsafe { &mut *p };
        let seen = slot[0].min(payload as u64);
        count_net(Counter::DropsLost, slot[1].wrapping_neg());
        count_net(Counter::DropLostBytes, seen.wrapping_neg());
        *slot = [0, 0, payload as u64 - seen];
    }
    count_net(Counter::DropsResent, 1);
    count_net(Counter::DropResentBytes, payload as u64);
    emit(SkbEvent {
        h: header(Kind::Skb, op::SKB_DROP),
        skb,
        payload,
        reason,
        seq,
        ..SkbEvent::default()
    });
    0
}

/// The sequence number in an skb's TCP header (big-endian, 4 bytes in).
/// `skb` must be the tracepoint's own argument (see `kload`).
#[inline(always)]
fn header_seq(skb: u64) -> Result<u32, i64> {
    let head: u64 = kload(skb, lay!(skb_head));
    let th: u16 = kload(skb, lay!(skb_transport_header));
    if th == u16::MAX {
        return Err(0);
    }
    Ok(u32::from_be(kread(head, th as u32 + 4)?))
}

/// `consume_skb(skb, location)`: an skb freed normally. A queued skb that
/// was segmented (by the device path or a qdisc) ends here, not at the
/// device: its entry goes, so a later skb at the same address is not
/// mistaken for it.
#[btf_tracepoint(function = "consume_skb")]
pub fn consume_skb(ctx: BtfTracePointContext) -> u32 {
    let skb: u64 = arg(&ctx, tp::consume_skb::SKB);
    // A lookup first: it takes no lock, where a delete takes the bucket's
    // even for a key that is not there, and this runs for every skb the
    // machine frees.
    // SAFETY: only whether the entry exists is read.
    if armed() && skb != 0 && unsafe { ZC_QUEUED.get(skb) }.is_some() {
        let _ = ZC_QUEUED.remove(skb);
    }
    0
}

/// `tcp_retransmit_skb(sk, skb, err)`: the skb is TCP's own (headers not
/// pushed yet), so its length is the payload sent again.
#[btf_tracepoint(function = "tcp_retransmit_skb")]
pub fn tcp_retransmit_skb(ctx: BtfTracePointContext) -> u32 {
    let _ = try_retransmit(&ctx);
    0
}

fn try_retransmit(ctx: &BtfTracePointContext) -> Result<(), i64> {
    retransmit(
        arg(ctx, tp::tcp_retransmit_skb::SK),
        arg(ctx, tp::tcp_retransmit_skb::SKB),
        arg(ctx, tp::tcp_retransmit_skb::ERR),
    )
}

/// The older form, `tcp_retransmit_skb(sk, skb)`: the kernel fires it only
/// when a retransmission went out (`__tcp_retransmit_skb`, under `if
/// (likely(!err))`), so every hit is one that succeeded, and failures are
/// not seen at all.
#[btf_tracepoint(function = "tcp_retransmit_skb")]
pub fn tcp_retransmit_skb_sent(ctx: BtfTracePointContext) -> u32 {
    let _ = retransmit(
        arg(&ctx, tp::tcp_retransmit_skb::SK),
        arg(&ctx, tp::tcp_retransmit_skb::SKB),
        0,
    );
    0
}

#[inline(always)]
fn retransmit(sk: u64, skb: u64, err: i32) -> Result<(), i64> {
    if !armed() || lay!(valid) == 0 {
        return Ok(());
    }
    let Some(sock) = sock_id(sk) else {
        return Ok(());
    };
    if skb == 0 {
        return Ok(());
    }
    // -EBUSY: the first transmission is still in a queue of this host
    // (`skb_still_in_host_queue`), and `__tcp_retransmit_skb` gave up
    // before sending or counting anything: no attempt at all.
    if err == -16 {
        return Ok(());
    }
    let len: u32 = kread(skb, lay!(skb_len))?;
    // TCP's own skb: its range is in the control block, not a header.
    let seq: u32 = kread(skb, lay!(skb_cb) + lay!(tcp_cb_seq))?;
    if err != 0 {
        count_net(Counter::RetransmitsFailed, 1);
        count_net(Counter::RetransmitFailedBytes, len as u64);
    } else {
        count_net(Counter::Retransmits, 1);
        count_net(Counter::RetransmitBytes, len as u64);
        count_sock(sock, Counter::Retransmits, 1);
        count_sock(sock, Counter::RetransmitBytes, len as u64);
    }
    // A failed attempt passed the queue too, and TCP counted it
    // (`bytes_retrans`): the ranges need it, with its error.
    emit_prefix(
        &SkbEvent {
            h: header(Kind::Skb, op::SKB_RETRANSMIT),
            skb,
            len,
            payload: len,
            seq,
            reason: err as u32,
            ..SkbEvent::default()
        },
        SKB_EVENT_SHORT,
    );
    Ok(())
}

/// An skb's record: whole when its frags name pages of the demo file,
/// without the page list otherwise (`event::SKB_EVENT_SHORT`).
#[inline(always)]
fn emit_skb(e: SkbEvent) {
    if e.file_frags > 0 {
        emit(e);
    } else {
        emit_prefix(&e, SKB_EVENT_SHORT);
    }
}

/// What an skb's frags point at.
pub struct FragPages {
    /// Frags that are page-cache pages of the demo file, and their bytes.
    frags: u8,
    bytes: u32,
    first_index: u32,
    /// Each frag's page index in the demo file, or `NO_PAGE` (demo only).
    pages: [u32; MAX_FRAGS],
    /// Frags that are anonymous pages (a program's own memory), and bytes.
    pub user_frags: u8,
    pub user_bytes: u32,
}

impl FragPages {
    /// No frag is a page of a file or of a program (see `walk_frags`).
    const OWN: FragPages = FragPages {
        frags: 0,
        bytes: 0,
        first_index: NO_PAGE,
        pages: [NO_PAGE; MAX_FRAGS],
        user_frags: 0,
        user_bytes: 0,
    };
}

/// Whether an skb's frags are to be walked to their pages. TCP puts
/// another's page in an skb only when a send hands it one: a splice or a
/// sendpage (sendfile, splice, vmsplice's pipe: `MSG_SPLICE_PAGES`), or a
/// zero-copy send that pins the program's pages. Until the demo socket's
/// send probes saw such a send (`Config::PagesReferenced`), every frag is
/// a page TCP copied into and the walk would find nothing: read-write's
/// and mmap-write's skbs are not walked. `zc trace` follows many sockets
/// and walks always. The skb's own flags cannot decide it: TCP sets
/// `SKBFL_SHARED_FRAG` where it takes a page, but moving frags between
/// skbs (`skb_shift` when it collapses or grows an skb, `pskb_copy` of a
/// clone) did not carry the flag on until recent stable fixes.
/// `Config::WalkEveryFrag` walks anyway, to check the rule.
#[inline(always)]
pub fn walk_frags(nr_frags: u8) -> bool {
    if nr_frags == 0 {
        return false;
    }
    if !tree_mode() && config(Config::PagesReferenced) == 0 && config(Config::WalkEveryFrag) == 0 {
        count_net(Counter::FragWalksSkipped, 1);
        return false;
    }
    true
}

/// `folio->mapping`'s low bits: bit 0 marks anonymous memory; with bit 1
/// too it is KSM (merged anonymous pages, not a program's own buffer).
const MAPPING_ANON: u64 = 1;
const MAPPING_FLAGS: u64 = 3;

/// Walks the skb's frags to their pages: frag → page → head page
/// (compound_head) → folio->mapping. A mapping tagged anonymous is a user's
/// own memory (vmsplice, MSG_ZEROCOPY); an untagged one is a file's page
/// cache, and it is the demo file when it is the mapping zc learned the
/// file by (`Config::FileMapping`).
///
/// One frag per round of `bpf_loop`: the verifier then checks a round once,
/// where an unrolled walk of `MAX_FRAGS` frags cost it about 60 ms per
/// program at load (the kernel inlines the loop, so it costs no more to run).
#[inline(always)]
pub fn frag_pages(shinfo: u64, nr_frags: u8) -> FragPages {
    let frags = shinfo + lay!(shinfo_frags) as u64;
    // The frags array, read whole in one call: a round then takes its
    // frag's page and length from this copy, not from two reads of its own.
    // The array always has room for `MAX_FRAGS` (`MAX_SKB_FRAGS` is 17 or
    // more), so reading all of it stays inside `skb_shared_info`.
    // A program may be interrupted by another that walks frags too (a
    // receive copy in process context, by a softirq that transmits): each
    // walk on a CPU takes the next buffer of this CPU's stack of them, and
    // gives it back when done. Nesting is last in, first out, so a plain
    // per-CPU count is enough.
    let depth = ZC_FRAG_DEPTH.get_ptr_mut(0);
    let slot =
        depth.map_or(FRAG_BUFS, |d| {
            // SAFETY: this CPU's count; the add is atomic, since where programs
            // run preemptible two tasks' walks on a CPU need not nest (their
            // buffers are then told apart by `FragBuf::from`). The add's own
            // result would need BPF's fetch form, which the generic CPU lacks.
            unsafe {
                core::intrinsics::atomic_xadd::<
                    u32,
                    u32,
                    { core::intrinsics::AtomicOrdering::Relaxed },
                >(d, 1);
                core::ptr::read_volatile(d).wrapping_sub(1)
            }
        });
    let fits = lay!(frag_size) as usize * MAX_FRAGS <= FRAG_BUF_BYTES;
    if let Some(b) = ZC_FRAG_BUF.get_ptr_mut(slot) {
        // SAFETY: this walk's buffer (see above); the helper checks the
        // kernel address. A failed or impossible read leaves it marked
        // unfilled, and the rounds read each frag themselves.
        unsafe {
            (*b).from =
                if fits && bpf_probe_read_kernel_buf(frags as *const u8, &mut (*b).bytes).is_ok() {
                    frags
                } else {
                    0
                };
            (*b).folio = 0;
        }
    }
    // The walk's state keeps its shape: a round finds its buffer by this
    // CPU's depth, not through it. (A field added here moved the state's
    // stack slots, and 6.16's verifier then refused a fill after the loop:
    // "invalid size of register fill".)
    let mut walk = FragWalk {
        frags,
        want_mapping: config(Config::FileMapping),
        any_file: tree_mode(),
        out: FragPages {
            frags: 0,
            bytes: 0,
            // Opaque: a branch of the rounds depends on it (see `opaque`).
            first_index: opaque(NO_PAGE as u64) as u32,
            pages: [NO_PAGE; MAX_FRAGS],
            user_frags: 0,
            user_bytes: 0,
        },
    };
    if nr_frags as usize > MAX_FRAGS {
        count_net(Counter::FragWalkTruncated, 1);
    }
    let rounds = (nr_frags as u32).min(MAX_FRAGS as u32);
    // SAFETY: the callback is a plain function and its context a pointer to
    // `walk` on this stack, which outlives the call.
    unsafe {
        bpf_loop(
            rounds,
            frag_round as *mut c_void,
            &mut walk as *mut FragWalk as *mut c_void,
            0,
        );
    }
    if let Some(d) = depth {
        // SAFETY: as above; gives back the one this walk took.
        unsafe {
            core::intrinsics::atomic_xadd::<u32, u32, { core::intrinsics::AtomicOrdering::Relaxed }>(
                d,
                u32::MAX,
            );
        }
    }
    walk.out
}

/// A tail page's head, from its `compound_head`/`compound_info` word (bit
/// 0 set). The word is either the head's address plus 1, or, where
/// `struct page` is a power of two in size and the vmemmap is optimized,
/// a mask plus 1 that cuts the tail's own address down to the head's
/// (`_compound_head` in include/linux/page-flags.h). A mask is ones from
/// the top down to the folio's size; no `struct page` lives at such an
/// address, so the value itself says which it is.
#[inline(always)]
pub fn head_of_tail(page: u64, info: u64) -> u64 {
    let word = info & !1;
    let low = !word;
    // `low + 1` is a power of two exactly when `word` is ones then zeros.
    if low & low.wrapping_add(1) == 0 {
        page & word
    } else {
        info - 1
    }
}

/// Room for the frags array: `MAX_FRAGS` frags of up to 16 bytes
/// (`skb_frag_t` is a `netmem_ref` or a page pointer, then length and
/// offset).
const FRAG_BUF_BYTES: usize = MAX_FRAGS * 16;

/// Walks that may be under way at once on a CPU: a process's, a softirq's
/// that interrupted it, a hard interrupt's. A walk deeper than that reads
/// each frag from the kernel instead.
const FRAG_BUFS: u32 = 3;

/// A copy of an skb's frags array, and the kernel address it was copied
/// from (0: none). A round uses it only if that address is its walk's:
/// where programs run preemptible (7.x), another task's walk may take the
/// same buffer meanwhile, and its rounds then read the kernel instead.
pub struct FragBuf {
    from: u64,
    bytes: [u8; FRAG_BUF_BYTES],
    /// The folio (head page) of the frag walked last, 0 for none yet, and
    /// its mapping and index (`NO_INDEX`: not read). The skb holds its
    /// pages, so a folio seen earlier in the walk is still the same one.
    folio: u64,
    mapping: u64,
    index: u64,
}

/// A folio's index not read yet.
const NO_INDEX: u64 = u64::MAX;

/// This CPU's copies of the frags arrays being walked, one per walk under
/// way (too big for the stack beside the walk's own state).
#[map]
static ZC_FRAG_BUF: PerCpuArray<FragBuf> = PerCpuArray::with_max_entries(FRAG_BUFS, 0);

/// How many walks are under way on this CPU.
#[map]
static ZC_FRAG_DEPTH: PerCpuArray<u32> = PerCpuArray::with_max_entries(1, 0);

/// The state `frag_round` works on.
struct FragWalk {
    frags: u64,
    want_mapping: u64,
    any_file: bool,
    out: FragPages,
}

/// One frag of the walk; `i` is its index. Returns 0: go on.
extern "C" fn frag_round(i: u64, ctx: *mut c_void) -> i64 {
    // SAFETY: `frag_pages` passes its own `FragWalk`.
    let walk = unsafe { &mut *(ctx as *mut FragWalk) };
    frag_one(walk, i);
    0
}

/// This walk's buffer: the deepest one taken on this CPU (a walk that
/// interrupted this one has given its own back by now), if it holds this
/// walk's frags; null otherwise. A pointer, not an `Option`: an `Option`
/// of a raw pointer carries the pointer beside its tag, LLVM reads that
/// slot on the `None` path too, and 6.1's verifier refuses the read of a
/// stack slot never written ("invalid read from stack").
#[inline(always)]
fn walk_buf(walk: &FragWalk) -> *mut FragBuf {
    // SAFETY: this CPU's count.
    let depth = ZC_FRAG_DEPTH.get(0).map_or(0, |d| *d);
    let Some(buf) = depth
        .checked_sub(1)
        .and_then(|slot| ZC_FRAG_BUF.get_ptr_mut(slot))
    else {
        return core::ptr::null_mut();
    };
    // SAFETY: this CPU's buffer, filled by `frag_pages` for a walk.
    if unsafe { (*buf).from } == walk.frags {
        buf
    } else {
        core::ptr::null_mut()
    }
}

/// A frag's page and length: from the copy of the array where there is
/// one, else read from the kernel.
#[inline(always)]
fn frag_at(walk: &FragWalk, buf: *mut FragBuf, i: u64) -> Option<(u64, u32)> {
    let at = i as usize * lay!(frag_size) as usize;
    if !buf.is_null() {
        // SAFETY: this walk's buffer (see `walk_buf`).
        let buf = unsafe { &*buf };
        let (n, l) = (
            at + lay!(frag_netmem) as usize,
            at + lay!(frag_len) as usize,
        );
        let netmem = u64::from_ne_bytes(buf.bytes.get(n..n + 8)?.try_into().ok()?);
        let len = u32::from_ne_bytes(buf.bytes.get(l..l + 4)?.try_into().ok()?);
        return Some((netmem, len));
    }
    let frag = walk.frags + at as u64;
    let netmem = kread::<u64>(frag, lay!(frag_netmem)).ok()?;
    Some((netmem, kread(frag, lay!(frag_len)).unwrap_or(0)))
}

#[inline(always)]
fn frag_one(walk: &mut FragWalk, i: u64) {
    if i >= MAX_FRAGS as u64 {
        return;
    }
    let buf = walk_buf(walk);
    let Some((netmem, flen)) = frag_at(walk, buf, i) else {
        return;
    };
    // Bit 0 marks net_iov memory (devmem), which is never a file page.
    if netmem & 1 != 0 || netmem == 0 {
        return;
    }
    let page = netmem;
    let head = match kread::<u64>(page, lay!(page_compound_head)) {
        Ok(info) if info & 1 != 0 => head_of_tail(page, info),
        Ok(_) => page,
        Err(_) => return,
    };
    // A large folio holds many frags' pages (a file's page cache on a
    // file system that makes them; ext4 does since 6.16): the folio's
    // mapping and index are read once for the frags that follow in it.
    // SAFETY (the buffer's three uses below): this walk's buffer (see
    // `walk_buf`), when not null.
    let (mapping, mut index) = if !buf.is_null() && unsafe { (*buf).folio } == head {
        unsafe { ((*buf).mapping, (*buf).index) }
    } else {
        let Ok(mapping) = kread::<u64>(head, lay!(folio_mapping)) else {
            return;
        };
        if !buf.is_null() {
            unsafe { ((*buf).folio, (*buf).mapping, (*buf).index) = (head, mapping, NO_INDEX) };
        }
        (mapping, NO_INDEX)
    };
    if mapping & MAPPING_FLAGS == MAPPING_ANON {
        walk.out.user_frags += 1;
        walk.out.user_bytes += flen;
        return;
    }
    // Movable (driver) pages tag the low bits too: not a file.
    if mapping == 0 || mapping & MAPPING_FLAGS != 0 {
        return;
    }
    if !walk.any_file && mapping != walk.want_mapping {
        return;
    }
    let out = &mut walk.out;
    out.frags += 1;
    out.bytes += flen;
    // `zc trace` counts bytes only; the demo names each frag's page.
    if walk.any_file && out.first_index != NO_PAGE {
        return;
    }
    // The page's index in the file: its folio's index plus its place in
    // the folio (struct pages of a folio are consecutive).
    let page_size = lay!(page_size) as u64;
    if page_size == 0 {
        return;
    }
    if index == NO_INDEX {
        let Ok(x) = kread::<u64>(head, lay!(folio_index)) else {
            return;
        };
        index = x;
        if !buf.is_null() {
            unsafe { (*buf).index = index };
        }
    }
    let at = (index + (page - head) / page_size) as u32;
    if out.first_index == NO_PAGE {
        out.first_index = at;
    }
    if let Some(slot) = out.pages.get_mut(i as usize) {
        *slot = at;
    }
}

/// The record of a demo-socket skb with TCP payload, or None for another
/// socket's skb or a bare ACK.
#[inline(always)]
fn demo_skb(skb: u64, op: u16) -> Result<Option<(SkbEvent, u64)>, i64> {
    Ok(demo_skb_shaped(skb, op)?.map(|(e, sock, _)| (e, sock)))
}

/// `demo_skb`, with the shape it read.
#[inline(always)]
fn demo_skb_shaped(skb: u64, op: u16) -> Result<Option<(SkbEvent, u64, Shape)>, i64> {
    if !armed() || skb == 0 || lay!(valid) == 0 {
        return Ok(None);
    }
    let sk: u64 = kload(skb, lay!(skb_sk));
    // The socket's id (`zc trace`; 0 for the demo socket), looked up once.
    let Some(sock) = sock_id(sk) else {
        return Ok(None);
    };
    let shape = Shape::of(skb)?;
    Ok(skb_record(skb, op, &shape)?.map(|e| (e, sock, shape)))
}

/// What says an skb is still the one just seen: its lengths, its buffer,
/// and its shared info's frag count, flags and GSO fields. Frags swapped
/// for copies (`skb_copy_ubufs`, under a packet tap) clear the zero-copy
/// flags; a linearized or reallocated skb has another length or buffer.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Shape {
    len: u32,
    data_len: u32,
    head: u64,
    end: u32,
    nr_frags: u8,
    shinfo_flags: u8,
    gso_size: u16,
    gso_segs: u16,
}

impl Shape {
    #[inline(always)]
    /// `skb` must be the tracepoint's own argument (see `kload`).
    fn of(skb: u64) -> Result<Shape, i64> {
        let head: u64 = kload(skb, lay!(skb_head));
        let end: u32 = kload(skb, lay!(skb_end));
        let shinfo = head + end as u64;
        let (nr_frags, shinfo_flags, gso_size, gso_segs) = shinfo_head(shinfo)?;
        Ok(Shape {
            len: kload(skb, lay!(skb_len)),
            data_len: kload(skb, lay!(skb_data_len)),
            head,
            end,
            nr_frags,
            shinfo_flags,
            gso_size,
            gso_segs,
        })
    }
}

/// The first fields of an skb's shared info: frag count, flags, GSO size
/// and segments. The shared info sits past the skb's buffer (`head +
/// end`), which the verifier knows only as bytes, so each field costs a
/// helper call; they sit together at its start, so one call of 16 bytes
/// reads all four. Where the kernel's BTF puts one outside that window,
/// the fields are read one by one. The offsets are constants to the
/// verifier (`.rodata`, frozen), so the branch not taken is dead code.
#[inline(always)]
fn shinfo_head(shinfo: u64) -> Result<(u8, u8, u16, u16), i64> {
    let base = lay!(shinfo_flags);
    let frags = lay!(shinfo_nr_frags).wrapping_sub(base) as usize;
    let size = lay!(shinfo_gso_size).wrapping_sub(base) as usize;
    let segs = lay!(shinfo_gso_segs).wrapping_sub(base) as usize;
    const W: usize = 16;
    if frags < W && size < W - 1 && segs < W - 1 {
        let w: [u8; W] = kread(shinfo, base)?;
        let u16_at = |i: usize| u16::from_ne_bytes([w[i], w[i + 1]]);
        return Ok((w[frags], w[0], u16_at(size), u16_at(segs)));
    }
    Ok((
        kread(shinfo, lay!(shinfo_nr_frags))?,
        kread(shinfo, base)?,
        kread(shinfo, lay!(shinfo_gso_size)).unwrap_or(0),
        kread(shinfo, lay!(shinfo_gso_segs)).unwrap_or(0),
    ))
}

/// The two TCP header fields an skb's record needs, read in one call: the
/// sequence number (big-endian, 4 bytes in) and the data offset (upper
/// nibble of byte 12, in words). The header is in the skb's buffer, which
/// the verifier knows only as bytes.
#[repr(C)]
#[derive(Clone, Copy)]
struct TcpSeqDoff {
    seq: u32,
    ack: u32,
    doff: u8,
}

/// The demo skb `net_dev_queue` last recorded on this CPU. Without a qdisc
/// (a veth's `noqueue`, the demo's usual path) the same skb reaches
/// `net_dev_start_xmit` next, on this CPU, within the same call: if its
/// shape is unchanged its record is the queue's, frag walk and all, and
/// the device's program reads six fields instead of walking it again.
#[derive(Clone, Copy)]
struct Queued {
    skb: u64,
    sock: u64,
    shape: Shape,
    e: SkbEvent,
}

#[map]
static ZC_LAST_QUEUED: PerCpuArray<Queued> = PerCpuArray::with_max_entries(1, 0);

/// The record `net_dev_start_xmit` makes of `skb`: the queue's, when this
/// CPU just queued it and it is unchanged, else read afresh.
#[inline(always)]
fn device_skb(skb: u64) -> Result<Option<(SkbEvent, u64)>, i64> {
    if let Some(q) = ZC_LAST_QUEUED.get_ptr_mut(0) {
        // SAFETY: this CPU's slot; programs do not nest on a CPU.
        let q = unsafe { &mut *q };
        if q.skb == skb && skb != 0 && armed() {
            q.skb = 0;
            // The same shape and the same first sequence number: the same
            // bytes. (A freed skb's memory, and its buffer, may come back
            // as the next skb, queued on another CPU behind a qdisc and sent
            // from this one: its sequence number is not the old one's, or
            // it carries the same bytes of the file again.)
            if Shape::of(skb).is_ok_and(|s| s == q.shape)
                && header_seq(skb).is_ok_and(|seq| seq == q.e.seq)
            {
                count_net(Counter::XmitWalksSaved, 1);
                let e = SkbEvent {
                    h: header(Kind::Skb, op::SKB_XMIT),
                    ..q.e
                };
                return Ok(Some((e, q.sock)));
            }
        }
    }
    demo_skb(skb, op::SKB_XMIT)
}

/// The record of a followed socket's skb of shape `shape`, or None for a
/// bare ACK.
#[inline(always)]
fn skb_record(skb: u64, op: u16, shape: &Shape) -> Result<Option<SkbEvent>, i64> {
    let Shape {
        len,
        data_len,
        head,
        end,
        nr_frags,
        shinfo_flags,
        gso_size,
        gso_segs,
    } = *shape;
    let mac: u16 = kload(skb, lay!(skb_mac_header));
    let th: u16 = kload(skb, lay!(skb_transport_header));
    if th == u16::MAX || mac == u16::MAX || th < mac {
        return Ok(None);
    }
    let tcp: TcpSeqDoff = kread(head, th as u32 + 4)?;
    let headers = (th - mac) as u32 + ((tcp.doff >> 4) as u32) * 4;
    if len <= headers {
        return Ok(None); // a bare ACK or control segment: no payload to follow
    }
    let payload = len - headers;
    let seq = u32::from_be(tcp.seq);
    let linear_payload = (len - data_len).saturating_sub(headers);
    let shinfo = head + end as u64;
    let ff = if walk_frags(nr_frags) {
        frag_pages(shinfo, nr_frags)
    } else {
        FragPages::OWN
    };
    Ok(Some(SkbEvent {
        h: header(Kind::Skb, op),
        skb,
        len,
        data_len,
        payload,
        linear_payload,
        file_bytes: ff.bytes,
        first_file_index: ff.first_index,
        gso_size,
        gso_segs,
        nr_frags,
        file_frags: ff.frags,
        shinfo_flags,
        user_frags: ff.user_frags,
        reason: 0,
        user_bytes: ff.user_bytes,
        seq,
        skbs: 1,
        frag_pages: ff.pages,
        _pad: 0,
    }))
}
