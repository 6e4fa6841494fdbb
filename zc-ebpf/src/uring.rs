//! The sender's io_uring, followed by its ring (`struct io_ring_ctx *`),
//! whatever thread does the work: the sender inside `io_uring_enter`, the
//! SQ thread with SQPOLL, or an io-wq worker.
//!
//! - `io_uring:io_uring_create` in the sender names the ring.
//! - `io_uring:io_uring_submit_req`: each request, and whether the SQ thread
//!   issued it (`io_uring_submit_sqe` before 6.2, the same request first).
//! - `io_uring:io_uring_complete`: each completion. A READ's result is the
//!   page cache → user buffer copy made inside the kernel (no read() call
//!   shows it); a SEND_ZC's result is the bytes its notification will
//!   cover; the notification (`IORING_CQE_F_NOTIF`) says, with
//!   `IORING_SEND_ZC_REPORT_USAGE`, whether the kernel copied them anyway.

use aya_ebpf::{
    macros::{btf_tracepoint, map},
    maps::LruHashMap,
    programs::BtfTracePointContext,
};
use zc_common::{
    Config,
    counters::Counter,
    event::{
        IORING_CQE_F_NOTIF, IORING_NOTIF_USAGE_ZC_COPIED, IORING_OP_READ, IORING_OP_SEND_ZC, Kind,
        RingEvent, op,
    },
    layout::IORING_SETUP_SQPOLL,
    tracepoints as tp,
};

use crate::helpers::{
    ZC_RING_REQUESTS, arg, armed, config, count, count_at, emit, entry, for_sender, header,
    in_helper, kread, lay, set_config,
};

/// Opcode of each request in flight on the demo ring, by request.
#[map]
static ZC_RING_OPS: LruHashMap<u64, u8> = LruHashMap::with_max_entries(16384, 0);

/// Bytes a SEND_ZC request sent, by its `user_data`, until its
/// notification (which carries the same `user_data`) arrives.
#[map]
static ZC_RING_SENT: LruHashMap<u64, u64> = LruHashMap::with_max_entries(16384, 0);

#[btf_tracepoint(function = "io_uring_create")]
pub fn io_uring_create(ctx: BtfTracePointContext) -> u32 {
    entry!(try_create, ctx)
}

fn try_create(ctx: &BtfTracePointContext) -> Result<(), i64> {
    if !for_sender() {
        return Ok(());
    }
    let ring: u64 = arg(ctx, tp::io_uring_create::CTX);
    set_config(Config::DemoRing, ring);
    Ok(())
}

/// Whether `ctx` is the sender's ring, during a run.
#[inline(always)]
fn demo_ring(ring: u64) -> bool {
    let demo = config(Config::DemoRing);
    armed() && demo != 0 && ring == demo
}

#[btf_tracepoint(function = "io_uring_submit_req")]
pub fn io_uring_submit_req(ctx: BtfTracePointContext) -> u32 {
    entry!(try_submit, ctx)
}

/// The same tracepoint under its name before 6.2, `io_uring_submit_sqe(req,
/// force_nonblock)`: the request comes first there too.
#[btf_tracepoint(function = "io_uring_submit_sqe")]
pub fn io_uring_submit_sqe(ctx: BtfTracePointContext) -> u32 {
    entry!(try_submit, ctx)
}

fn try_submit(ctx: &BtfTracePointContext) -> Result<(), i64> {
    if config(Config::DemoRing) == 0 {
        return Ok(()); // no ring this run: nothing to read
    }
    let req: u64 = arg(ctx, tp::io_uring_submit_req::REQ);
    let ring: u64 = kread(req, lay!(kiocb_ctx))?;
    if !demo_ring(ring) {
        return Ok(());
    }
    let user_data: u64 = kread(req, lay!(kiocb_user_data))?;
    let opcode: u8 = kread(req, lay!(kiocb_opcode))?;
    // As the record has it: the ring has an SQ thread.
    let ring_flags: u32 = kread(ring, lay!(ring_flags))?;
    let sq_thread = (ring_flags & IORING_SETUP_SQPOLL != 0) as u8;
    let _ = ZC_RING_OPS.insert(req, opcode, 0);
    count(Counter::IoSubmits, 1);
    count(Counter::IoSqThreadSubmits, (sq_thread != 0) as u64);
    emit(RingEvent {
        h: header(Kind::Ring, op::RING_SUBMIT),
        user_data,
        res: 0,
        cflags: 0,
        opcode,
        sq_thread,
        helper: in_helper() as u8,
        _pad: [0; 5],
    });
    Ok(())
}

/// `io_uring_complete(ctx, req, cqe)`: the completion as it is posted.
#[btf_tracepoint(function = "io_uring_complete")]
pub fn io_uring_complete(ctx: BtfTracePointContext) -> u32 {
    entry!(try_complete, ctx)
}

fn try_complete(ctx: &BtfTracePointContext) -> Result<(), i64> {
    if !demo_ring(arg(ctx, tp::io_uring_complete::CTX)) {
        return Ok(());
    }
    let req: u64 = arg(ctx, tp::io_uring_complete::REQ);
    let cqe: u64 = arg(ctx, tp::io_uring_complete::CQE);
    let user_data: u64 = kread(cqe, lay!(cqe_user_data))?;
    let res: i32 = kread(cqe, lay!(cqe_res))?;
    let cflags: u32 = kread(cqe, lay!(cqe_flags))?;
    complete(req, user_data, res, cflags)
}

/// The older form, `io_uring_complete(ctx, req, user_data, res, cflags,
/// extra1, extra2)`: the same completion, its fields passed one by one
/// (the kernel fires it just before it writes them into the CQE).
#[btf_tracepoint(function = "io_uring_complete")]
pub fn io_uring_complete_fields(ctx: BtfTracePointContext) -> u32 {
    entry!(try_complete_fields, ctx)
}

fn try_complete_fields(ctx: &BtfTracePointContext) -> Result<(), i64> {
    use tp::io_uring_complete_fields as f;
    if !demo_ring(arg(ctx, f::CTX)) {
        return Ok(());
    }
    complete(
        arg(ctx, f::REQ),
        arg(ctx, f::USER_DATA),
        arg(ctx, f::RES),
        arg(ctx, f::CFLAGS),
    )
}

#[inline(always)]
fn complete(req: u64, user_data: u64, res: i32, cflags: u32) -> Result<(), i64> {
    let opcode = if cflags & IORING_CQE_F_NOTIF != 0 {
        // A notification is a request of its own, posted for the send.
        notification(user_data, res as u32);
        IORING_OP_SEND_ZC
    } else {
        // SAFETY: the value is copied out before the entry is removed.
        let opcode = unsafe { ZC_RING_OPS.get(req) }.copied().unwrap_or(0);
        let _ = ZC_RING_OPS.remove(req);
        if res >= 0 {
            count_at(&ZC_RING_REQUESTS, u64::from(opcode), 1);
        }
        if res < 0 {
            count(Counter::IoFailed, 1);
        } else if opcode == IORING_OP_READ {
            count(Counter::IoReads, 1);
            count(Counter::IoReadBytes, res as u64);
        } else if opcode == IORING_OP_SEND_ZC {
            count(Counter::IoSendZc, 1);
            let _ = ZC_RING_SENT.insert(user_data, res as u64, 0);
        }
        opcode
    };
    emit(RingEvent {
        h: header(Kind::Ring, op::RING_COMPLETE),
        user_data,
        res,
        cflags,
        opcode,
        sq_thread: 0,
        helper: in_helper() as u8,
        _pad: [0; 5],
    });
    Ok(())
}

/// A SEND_ZC notification: the request's pages are free. Counted with the
/// error queue's completions, one send each.
#[inline(always)]
fn notification(user_data: u64, res: u32) {
    // SAFETY: the value is copied out before the entry is removed.
    let bytes = unsafe { ZC_RING_SENT.get(user_data) }.copied().unwrap_or(0);
    let _ = ZC_RING_SENT.remove(user_data);
    count(Counter::ZcNotifications, 1);
    count(Counter::ZcCompletedSends, 1);
    count(Counter::ZcCompletedBytes, bytes);
    if res & IORING_NOTIF_USAGE_ZC_COPIED != 0 {
        count(Counter::ZcCopiedNotifications, 1);
        count(Counter::ZcCopiedSends, 1);
        count(Counter::ZcCopiedBytes, bytes);
    }
}
