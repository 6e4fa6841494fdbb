//! io_uring: `IORING_OP_READ` into a buffer, then `IORING_OP_SEND_ZC` of
//! that buffer, linked, sixteen chunks to a batch; with or without
//! `IORING_SETUP_SQPOLL`.
//!
//! The program writes requests into a submission ring it shares with the
//! kernel and reads results from a completion ring. One `io_uring_enter`
//! hands the kernel a whole batch, so the syscalls per chunk fall far below
//! one. The READ still copies page cache → user buffer (inside the kernel,
//! with no read() call to show it: zc counts it from the completion). The
//! SEND_ZC pins the buffer's pages like MSG_ZEROCOPY, and a second
//! completion, the notification, says when they are free and, with
//! `IORING_SEND_ZC_REPORT_USAGE`, whether the kernel copied them after all.
//!
//! With SQPOLL a kernel thread of the sender's process (`iou-sqp-<pid>`)
//! polls the submission ring, so the sender makes almost no syscalls at all.
//! The work does not vanish: it moves to that thread, on another CPU, and
//! the sender spins on the completion ring instead of sleeping in the
//! kernel.
//!
//! The batched loop, [`batched`], takes the send request as a parameter
//! ([`SendOp`]): a strategy that sends through a ring some other way uses
//! it with its own.

use std::os::fd::AsRawFd;

use anyhow::{Context as _, bail};
use io_uring::{IoUring, cqueue, opcode, squeue, types::Fd};
use zc_common::event::IORING_NOTIF_USAGE_ZC_COPIED;

use super::{Arrow, Buffer, Expect, Mechanism, ModelRow, Request, Spec, Transfer, arrow, io};
use crate::{
    lang::T,
    place::{Movement, Place},
};

/// The boxes of a strategy that sends through a ring (shared with the
/// other io_uring strategies).
pub(super) const NODES: &[Place] = &[
    Place::Disk,
    Place::PageCache,
    Place::UserBuffer,
    Place::SocketBuffer,
    Place::Nic,
    Place::Rings,
];

/// READ copies into the buffer, SEND_ZC pins it: MSG_ZEROCOPY's path,
/// through the rings.
const PATH: &[Arrow] = &[
    arrow(Place::PageCache, Movement::CpuCopy, Place::UserBuffer),
    arrow(Place::UserBuffer, Movement::Pin, Place::SocketBuffer),
    arrow(Place::UserBuffer, Movement::Pin, Place::Nic),
];

/// The ring is set up (io_uring_setup and its two mappings), entered, and
/// torn down; the sender's own work is all in requests (the same for every
/// strategy that uses [`batched`]).
pub(super) const CALLS: &[&str] = &[
    "io_uring_setup",
    "mmap",
    "io_uring_enter",
    "munmap",
    "close",
];

/// The READ that starts every chain of [`batched`].
pub(super) const READ_REQUEST: Request = Request {
    opcode: opcode::Read::CODE,
    name: "READ",
};

const REQUESTS: &[Request] = &[
    READ_REQUEST,
    Request {
        opcode: opcode::SendZc::CODE,
        name: "SEND_ZC",
    },
];

/// What the kernel's documentation leads one to expect per chunk: the
/// enter calls are shared by a batch, so none belongs to a chunk.
const MODEL: ModelRow = ModelRow {
    source: "io_uring_enter(2) and io_uring_prep_send_zc(3) (the article has no row): one \
             enter per batch, the READ copies, SEND_ZC pins",
    code: "sqe READ(file, buf) → link → sqe SEND_ZC(sock, buf, REPORT_USAGE); \
           io_uring_enter per 16 chunks",
    syscalls: 0,
    mode_switches: 0,
    dma_copies: 2,
    cpu_copies: 1,
};

pub const SPEC: Spec = Spec {
    name: "io-uring-send-zc",

    title: T {
        en: "io_uring READ + SEND_ZC",
        zh: "io_uring READ + SEND_ZC（批量提交）",
    },
    help: "io_uring: READ then SEND_ZC (report usage), linked, 16 chunks per io_uring_enter: \
           few syscalls, pinned pages, a notification per send",
    model: Some(MODEL),
    calls_per_iteration: 1,
    setup_calls: 3,
    teardown_calls: 3,
    sender_sg: true,
    buffer: Buffer::Lent,
    requires: &[Mechanism::IoUring, Mechanism::IoUringSendZc],
    user_place: Place::UserBuffer,
    nodes: NODES,
    path: PATH,
    calls: CALLS,
    requests: REQUESTS,
    story: T {
        en: "requests go through shared rings, sixteen chunks per syscall; the read still \
             copies, the send pins, and a notification returns the pages",
        zh: "请求经由共享的环形队列提交，每次系统调用处理十六个块；读取仍要拷贝，发送钉住页面，\
             通知归还页面",
    },
    expect: Expect {
        copies_per_byte: 2,
        pages_sent_as_frags: false,
        pages_copied: true,
        copies_pinned: true,
    },
    connect: None,
    send: send_entered,
};

pub const SQPOLL_SPEC: Spec = Spec {
    name: "io-uring-sqpoll",

    title: T {
        en: "io_uring with SQPOLL",
        zh: "io_uring + SQPOLL（内核线程轮询）",
    },
    help: "the same with IORING_SETUP_SQPOLL: a kernel thread (iou-sqp) takes the requests, \
           the sender makes almost no syscalls and spins on the completion ring",
    model: Some(MODEL),
    calls_per_iteration: 1,
    setup_calls: 3,
    teardown_calls: 3,
    sender_sg: true,
    buffer: Buffer::Lent,
    requires: &[
        Mechanism::IoUring,
        Mechanism::IoUringSendZc,
        Mechanism::IoUringSqpoll,
    ],
    user_place: Place::UserBuffer,
    nodes: NODES,
    path: PATH,
    calls: CALLS,
    requests: REQUESTS,
    story: T {
        en: "a kernel thread polls the submission ring: the sender's syscalls all but vanish, \
             and the work moves to that thread on another CPU",
        zh: "内核线程轮询提交队列：发送方的系统调用几乎消失，工作转移到另一个 CPU 上的那个线程",
    },
    expect: Expect {
        copies_per_byte: 2,
        pages_sent_as_frags: false,
        pages_copied: true,
        copies_pinned: true,
    },
    connect: None,
    send: send_polled,
};

/// Chunks per batch: one READ and one send each.
const BATCH: u64 = 16;
/// Notifications that may be outstanding before the loop waits for some,
/// well inside the completion ring.
const MAX_PENDING: u64 = 1024;
const CQ_ENTRIES: u32 = 4096;
/// `IORING_SEND_ZC_REPORT_USAGE` (include/uapi/linux/io_uring.h).
const SEND_ZC_REPORT_USAGE: u16 = 1 << 3;
/// The SQ thread sleeps after this long without work; longer than a run.
const SQ_IDLE_MS: u32 = 2000;

/// `user_data`: the request's kind in the top bits, its chunk's index in
/// the bits above 32 (unique, so the kernel side can pair a send with its
/// notification), its length in the low 32.
const READ: u64 = 1 << 62;
const SEND: u64 = 2 << 62;
const LEN: u64 = 0xffff_ffff;

/// The send request of a batch's chunk: how to make it, and its name in
/// errors.
#[derive(Clone, Copy)]
pub(super) struct SendOp {
    /// The request for `len` bytes at `ptr` on `sock` (the loop links it
    /// and tags it).
    pub make: fn(sock: Fd, ptr: *const u8, len: u32) -> squeue::Entry,
    pub name: &'static str,
}

/// SEND_ZC, asking whether the kernel copied anyway.
const SEND_ZC: SendOp = SendOp {
    make: |sock, ptr, len| {
        opcode::SendZc::new(sock, ptr, len)
            .flags(libc::MSG_WAITALL)
            .zc_flags(SEND_ZC_REPORT_USAGE)
            .build()
    },
    name: "SEND_ZC",
};

fn send_entered(t: &mut Transfer<'_>) -> anyhow::Result<u64> {
    batched(t, false, SEND_ZC)
}

fn send_polled(t: &mut Transfer<'_>) -> anyhow::Result<u64> {
    batched(t, true, SEND_ZC)
}

/// What the loop has seen come back.
#[derive(Default)]
struct Reaped {
    /// READ and send completions of the batch in flight.
    batch: u64,
    /// Notifications still to come.
    pending: u64,
    copied: u64,
}

/// Sends the file in batches of READ → `op` chains, through an io_uring
/// entered for each batch, or polled by an SQ thread (`sqpoll`). The buffer
/// is a ring of chunks (`Buffer::Lent`): a batch's chunks are in flight at
/// once, each in its own slot.
pub(super) fn batched(t: &mut Transfer<'_>, sqpoll: bool, op: SendOp) -> anyhow::Result<u64> {
    let mut builder = IoUring::builder();
    builder.setup_cqsize(CQ_ENTRIES);
    if sqpoll {
        builder.setup_sqpoll(SQ_IDLE_MS);
    }
    io::gate();
    let mut ring: IoUring = builder
        .build((2 * BATCH) as u32)
        .context("set up an io_uring")?;
    let ring_len = t.buf.len() as u64;
    let base = t.buf.as_mut_ptr();
    let (file, sock) = (Fd(t.file.as_raw_fd()), Fd(t.sock.as_raw_fd()));
    let mut r = Reaped::default();
    let mut off = 0u64;
    while off < t.size {
        io::iteration();
        if off.is_multiple_of(ring_len) && off > 0 {
            // The ring of chunks starts over: every page must be free.
            wait(&mut ring, &mut r, sqpoll, op, |r| r.pending == 0)?;
        }
        if r.pending >= MAX_PENDING {
            wait(&mut ring, &mut r, sqpoll, op, |r| {
                r.pending < MAX_PENDING / 2
            })?;
        }
        let mut n = 0u64;
        // The whole batch becomes visible to the kernel at once, when `sq`
        // is dropped: an SQ thread must not see half a chain.
        let mut sq = ring.submission();
        while n < BATCH && off < t.size {
            let at = off % ring_len;
            let want = t.chunk.min(t.size - off).min(ring_len - at);
            // SAFETY: `at + want` is inside the buffer, which outlives the
            // ring's use of it (every notification is awaited below).
            let ptr = unsafe { base.add(at as usize) };
            // One chain per batch (READ → SEND_ZC → READ → ...): a stream
            // socket must get its sends in order, and requests that are
            // not linked may run in any order.
            let last =
                n + 1 == BATCH || off + want >= t.size || (off + want).is_multiple_of(ring_len);
            let chunk_id = (off / t.chunk.max(1)) << 32;
            let read = opcode::Read::new(file, ptr, want as u32)
                .offset(off)
                .build()
                .flags(squeue::Flags::IO_LINK)
                .user_data(READ | chunk_id | want);
            let send = (op.make)(sock, ptr, want as u32)
                .flags(if last {
                    squeue::Flags::empty()
                } else {
                    squeue::Flags::IO_LINK
                })
                .user_data(SEND | chunk_id | want);
            // SAFETY: the entries point at the buffer, valid as above.
            unsafe {
                sq.push(&read).context("queue a READ")?;
                sq.push(&send)
                    .with_context(|| format!("queue a {}", op.name))?;
            }
            off += want;
            n += 1;
            if off.is_multiple_of(ring_len) {
                break;
            }
        }
        drop(sq);
        r.batch = 0;
        io::gate();
        if sqpoll {
            // Only wakes the SQ thread (a syscall) if it went to sleep.
            ring.submit().context("submit to the io_uring")?;
        } else {
            ring.submit_and_wait((2 * n) as usize)
                .context("submit to the io_uring")?;
        }
        wait(&mut ring, &mut r, sqpoll, op, |r| r.batch >= 2 * n)?;
    }
    // Every notification inside the traced run, so the verdict is whole.
    wait(&mut ring, &mut r, sqpoll, op, |r| r.pending == 0)?;
    // The ring's teardown (its mappings, its descriptor) is one step.
    io::gate();
    drop(ring);
    Ok(off)
}

/// Reaps completions until `done` holds: in the kernel without SQPOLL
/// (io_uring_enter waits), spinning on the completion ring with it.
fn wait(
    ring: &mut IoUring,
    r: &mut Reaped,
    sqpoll: bool,
    op: SendOp,
    done: impl Fn(&Reaped) -> bool,
) -> anyhow::Result<()> {
    loop {
        for cqe in ring.completion() {
            reap(&cqe, r, op)?;
        }
        if done(r) {
            return Ok(());
        }
        if sqpoll {
            std::hint::spin_loop();
        } else {
            io::gate();
            ring.submit_and_wait(1)
                .context("wait for io_uring completions")?;
        }
    }
}

fn reap(cqe: &cqueue::Entry, r: &mut Reaped, op: SendOp) -> anyhow::Result<()> {
    let flags = cqe.flags();
    if cqueue::notif(flags) {
        r.pending -= 1;
        if cqe.result() as u32 & IORING_NOTIF_USAGE_ZC_COPIED != 0 {
            r.copied += 1;
        }
        return Ok(());
    }
    let res = cqe.result();
    let data = cqe.user_data();
    if res < 0 {
        let what = if data & SEND != 0 { op.name } else { "READ" };
        return Err(std::io::Error::from_raw_os_error(-res))
            .with_context(|| format!("io_uring {what} failed"));
    }
    if data & SEND != 0 {
        if res as u64 != data & LEN {
            bail!("{} sent {res} of {} bytes", op.name, data & LEN);
        }
        // Only a zero-copy send says more is to come: its notification.
        if cqueue::more(flags) {
            r.pending += 1;
        }
    } else if res as u64 != data & LEN {
        bail!(
            "READ got {res} of {} bytes (was the file truncated?)",
            data & LEN
        );
    }
    r.batch += 1;
    Ok(())
}
