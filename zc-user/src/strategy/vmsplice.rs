//! vmsplice(2): `read()` into a buffer, lend the buffer's pages to a pipe,
//! splice the pipe into the socket.
//!
//! read() makes the one CPU copy (page cache → user buffer). vmsplice
//! without `SPLICE_F_GIFT` (`vmsplice_to_pipe` → `iter_to_pipe`) takes
//! references to the user's own anonymous pages and puts them in the pipe;
//! `splice_to_socket` hands them to TCP with `MSG_SPLICE_PAGES`, and they
//! become the skb's frags. What reaches the device is the program's memory
//! itself: `folio->mapping` carries the anonymous bit.
//!
//! The catch is the lesson: the call returns while the kernel still holds
//! the pages, and nothing tells the program when they are free. Writing the
//! buffer again too early changes bytes already "sent". So this loop reads
//! into a ring of chunks and writes a slot again only once the receiver has
//! read what it held, a signal the demo has because it owns the receiver,
//! and a real program does not.

use std::{
    os::fd::{AsFd, AsRawFd},
    sync::atomic::Ordering,
};

use super::{Buffer, Expect, Mechanism, ModelRow, Spec, Transfer, arrow, io};
use crate::{
    lang::T,
    place::{Movement, Place},
};

pub const SPEC: Spec = Spec {
    name: "vmsplice",

    title: T {
        en: "read + vmsplice + splice",
        zh: "read + vmsplice + splice（借出用户页面）",
    },
    help: "read(file, buf), vmsplice(buf → pipe), splice(pipe → socket): one CPU copy, then \
           the user's own pages travel by reference",
    model: Some(ModelRow {
        source: "zc's reading of fs/splice.c, vmsplice_to_pipe (the article has no row): \
                 read copies, the user's pages move by reference",
        code: "read(file, buf, len); vmsplice(pipe, {buf, len}); splice(pipe, sock, len);",
        syscalls: 3,
        mode_switches: 6,
        dma_copies: 2,
        cpu_copies: 1,
    }),
    calls_per_iteration: 3,
    setup_calls: 2,
    teardown_calls: 2,
    sender_sg: true,
    buffer: Buffer::Lent,
    requires: &[Mechanism::Vmsplice, Mechanism::Splice],
    user_place: Place::UserBuffer,
    nodes: &[
        Place::Disk,
        Place::PageCache,
        Place::UserBuffer,
        Place::Pipe,
        Place::SocketBuffer,
        Place::Nic,
    ],
    path: &[
        arrow(Place::PageCache, Movement::CpuCopy, Place::UserBuffer),
        arrow(Place::UserBuffer, Movement::Reference, Place::Pipe),
        arrow(Place::Pipe, Movement::Reference, Place::SocketBuffer),
        arrow(Place::UserBuffer, Movement::Reference, Place::Nic),
    ],
    calls: &["pipe2", "fcntl", "read", "vmsplice", "splice", "close"],
    requests: &[],
    story: T {
        en: "read copies the file into the buffer; vmsplice lends the buffer's pages, and the \
             skb carries them as they are. Nothing says when the buffer may be reused",
        zh: "read 把文件拷进缓冲区；vmsplice 借出缓冲区的页面，skb 原样携带它们。\
             没有任何通知告诉程序何时可以重用缓冲区",
    },
    expect: Expect {
        copies_per_byte: 1,
        pages_sent_as_frags: false,
        pages_copied: true,
        copies_pinned: false,
    },
    connect: None,
    send,
};

fn send(t: &mut Transfer<'_>) -> anyhow::Result<u64> {
    let (rd, wr) = io::pipe(t.chunk)?;
    let ring = t.buf.len() as u64;
    let mut sent = 0u64;
    while sent < t.size {
        io::iteration();
        let at = (sent % ring) as usize;
        let want = t.chunk.min(t.size - sent).min(ring - at as u64);
        // The slot last held stream bytes `sent - ring ..`: wait, without a
        // syscall, until the receiver has read them.
        while t.received.load(Ordering::Acquire) + ring < sent + want {
            std::hint::spin_loop();
        }
        let slot = &mut t.buf[at..at + want as usize];
        let n = io::read_chunk(t.file, slot, sent, t.size)?;
        let mut lent = 0usize;
        while lent < n {
            let iov = libc::iovec {
                iov_base: slot[lent..].as_mut_ptr().cast(),
                iov_len: n - lent,
            };
            io::gate();
            // SAFETY: one valid iovec over the slot's bytes just read.
            let k = unsafe { libc::vmsplice(wr.as_raw_fd(), &iov, 1, 0) };
            if k < 0 {
                if io::interrupted() {
                    io::short_call();
                    continue;
                }
                return Err(io::last_error("vmsplice the buffer into the pipe"));
            }
            io::drain_pipe(rd.as_fd(), t.sock, k as usize)?;
            lent += k as usize;
            if lent < n {
                io::short_call();
            }
        }
        sent += n as u64;
    }
    io::close(rd);
    io::close(wr);
    Ok(sent)
}
