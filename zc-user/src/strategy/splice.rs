//! splice(2), twice per chunk: the file's pages into a pipe, then the pipe
//! into the socket. No user buffer at all: `filemap_splice_read` puts
//! references to the page-cache pages into the pipe, and `splice_to_socket`
//! hands them to `tcp_sendmsg_locked` with `MSG_SPLICE_PAGES`, which makes
//! them the skb's frags. With scatter-gather on the device they reach it by
//! reference, and nothing is copied. It is sendfile taken apart: sendfile
//! does the same through a pipe of its own, in one call.

use std::os::fd::{AsFd, AsRawFd};

use anyhow::bail;

use super::{Buffer, Expect, Mechanism, ModelRow, Spec, Transfer, arrow, io};
use crate::{
    lang::T,
    place::{Movement, Place},
};

pub const SPEC: Spec = Spec {
    name: "splice",

    title: T {
        en: "splice: file → pipe → socket",
        zh: "splice：文件 → 管道 → 套接字",
    },
    help: "splice(file → pipe) then splice(pipe → socket): page references through a pipe, \
           no CPU copy with scatter-gather",
    model: Some(ModelRow {
        source: "zc's reading of fs/splice.c (the article has no row): pages move by reference",
        code: "splice(file, pipe, len); splice(pipe, sock, len);",
        syscalls: 2,
        mode_switches: 4,
        dma_copies: 2,
        cpu_copies: 0,
    }),
    calls_per_iteration: 2,
    setup_calls: 2,
    teardown_calls: 2,
    sender_sg: true,
    buffer: Buffer::Reused,
    requires: &[Mechanism::Splice],
    user_place: Place::Pipe,
    nodes: &[
        Place::Disk,
        Place::PageCache,
        Place::Pipe,
        Place::SocketBuffer,
        Place::Nic,
    ],
    path: &[
        arrow(Place::PageCache, Movement::Reference, Place::Pipe),
        arrow(Place::Pipe, Movement::Reference, Place::SocketBuffer),
        arrow(Place::PageCache, Movement::Reference, Place::Nic),
    ],
    calls: &["pipe2", "fcntl", "splice", "close"],
    requests: &[],
    story: T {
        en: "the program never touches the bytes: pages go into a pipe, then into the socket",
        zh: "程序从不接触数据：页面先进入管道，再进入套接字",
    },
    expect: Expect {
        copies_per_byte: 0,
        pages_sent_as_frags: true,
        pages_copied: false,
        copies_pinned: false,
    },
    connect: None,
    send,
};

fn send(t: &mut Transfer<'_>) -> anyhow::Result<u64> {
    let (rd, wr) = io::pipe(t.chunk)?;
    let mut off: libc::loff_t = 0;
    while (off as u64) < t.size {
        io::iteration();
        let want = t.chunk.min(t.size - off as u64) as usize;
        io::gate();
        // SAFETY: valid descriptors and offset pointer; no output offset for a pipe.
        let n = unsafe {
            libc::splice(
                t.file.as_raw_fd(),
                &mut off,
                wr.as_raw_fd(),
                std::ptr::null_mut(),
                want,
                libc::SPLICE_F_MOVE,
            )
        };
        if n < 0 {
            if io::interrupted() {
                io::short_call();
                continue;
            }
            return Err(io::last_error("splice the file into the pipe"));
        }
        if (n as usize) < want {
            io::short_call();
        }
        if n == 0 {
            bail!(
                "splice stopped after {off} of {} bytes (was the file truncated?)",
                t.size
            );
        }
        // Empty the pipe into the socket before the next chunk.
        io::drain_pipe(rd.as_fd(), t.sock, n as usize)?;
    }
    io::close(rd);
    io::close(wr);
    Ok(off as u64)
}
