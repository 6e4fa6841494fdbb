//! Figure 1 of the article: `read(file, buf, len); write(sock, buf, len);`.
//!
//! read() copies page cache → user buffer (`filemap_read` → `copy_to_user`);
//! write() copies user buffer → TCP's own pages (`tcp_sendmsg_locked` →
//! `skb_copy_to_page_nocache`). Two CPU copies and four mode switches per
//! buffer: the cost everything after it tries to remove.

use super::{Buffer, Expect, ModelRow, Spec, Transfer, arrow, io};
use crate::{
    lang::T,
    place::{Movement, Place},
};

pub const SPEC: Spec = Spec {
    name: "read-write",

    title: T {
        en: "read + write",
        zh: "read + write（两次 CPU 拷贝）",
    },
    help: "read(file, buf) then write(sock, buf): two CPU copies per chunk",
    model: Some(ModelRow {
        source: "the article (Linux Journal, \"Zero Copy I\"), figure 1",
        code: "read(file, buf, len); write(sock, buf, len);",
        syscalls: 2,
        mode_switches: 4,
        dma_copies: 2,
        cpu_copies: 2,
    }),
    calls_per_iteration: 2,
    setup_calls: 0,
    teardown_calls: 0,
    sender_sg: true,
    buffer: Buffer::Reused,
    requires: &[],
    user_place: Place::UserBuffer,
    nodes: &[
        Place::Disk,
        Place::PageCache,
        Place::UserBuffer,
        Place::SocketBuffer,
        Place::Nic,
    ],
    path: &[
        arrow(Place::PageCache, Movement::CpuCopy, Place::UserBuffer),
        arrow(Place::UserBuffer, Movement::CpuCopy, Place::SocketBuffer),
        arrow(Place::SocketBuffer, Movement::SoftwareTransmit, Place::Nic),
    ],
    calls: &["read", "write"],
    requests: &[],
    story: T {
        en: "the file passes through the program's own buffer: copied in, copied out",
        zh: "文件数据经过程序自己的缓冲区：拷进来，再拷出去",
    },
    expect: Expect {
        copies_per_byte: 2,
        pages_sent_as_frags: false,
        pages_copied: true,
        copies_pinned: false,
    },
    connect: None,
    send,
};

fn send(t: &mut Transfer<'_>) -> anyhow::Result<u64> {
    let mut sent = 0u64;
    while sent < t.size {
        io::iteration();
        let want = t.buf.len().min((t.size - sent) as usize);
        let n = io::read_chunk(t.file, &mut t.buf[..want], sent, t.size)?;
        io::write_all(t.sock, &t.buf[..n])?;
        sent += n as u64;
    }
    Ok(sent)
}
