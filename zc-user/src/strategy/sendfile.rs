//! Figures 3 and 4 of the article: `sendfile(sock, file, len);`, twice.
//!
//! Which figure a sendfile makes depends on the sending device, not on the
//! call. On a 6.18 kernel sendfile is splice underneath
//! (`do_splice_direct` → `splice_to_socket` → `tcp_sendmsg_locked` with
//! `MSG_SPLICE_PAGES`): the skb references the page-cache pages. With
//! scatter-gather off on the veth, `validate_xmit_skb` → `skb_segment` must
//! copy them into linear segments at transmit: the article's figure-3 copy,
//! staged by the device setting. With scatter-gather on, the pages reach the
//! device by reference: figure 4.

use std::os::fd::AsRawFd;

use anyhow::bail;

use super::{Buffer, Expect, Mechanism, ModelRow, Spec, Transfer, arrow, io};
use crate::{
    lang::T,
    place::{Movement, Place},
};

const NODES: &[Place] = &[
    Place::Disk,
    Place::PageCache,
    Place::UserBuffer,
    Place::SocketBuffer,
    Place::Nic,
];

pub const SPEC: Spec = Spec {
    name: "sendfile",

    title: T {
        en: "sendfile, no scatter-gather",
        zh: "sendfile（网卡不支持分散/聚集）",
    },
    help: "sendfile with scatter-gather off on the sending veth: the kernel copies \
           page-cache data into linear segments at transmit (figure 3)",
    model: Some(ModelRow {
        source: "the article (Linux Journal, \"Zero Copy I\"), figure 3",
        code: "sendfile(sock, file, len);",
        syscalls: 1,
        mode_switches: 2,
        dma_copies: 2,
        cpu_copies: 1,
    }),
    calls_per_iteration: 1,
    setup_calls: 0,
    teardown_calls: 0,
    sender_sg: false,
    buffer: Buffer::Reused,
    requires: &[Mechanism::Sendfile],
    user_place: Place::UserBuffer,
    nodes: NODES,
    path: &[
        arrow(Place::PageCache, Movement::Reference, Place::SocketBuffer),
        arrow(Place::PageCache, Movement::CpuCopy, Place::Nic),
    ],
    calls: &["sendfile"],
    requests: &[],
    story: T {
        en: "the kernel moves the file itself; a device without gather forces one copy",
        zh: "内核自己搬运文件；不支持聚集的设备迫使一次拷贝",
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

pub const GATHER_SPEC: Spec = Spec {
    name: "sendfile-gather",

    title: T {
        en: "sendfile + DMA gather",
        zh: "sendfile + DMA 聚集（零拷贝）",
    },
    help: "sendfile with scatter-gather on: the skb only references page-cache \
           pages, no CPU copy (figure 4)",
    model: Some(ModelRow {
        source: "the article (Linux Journal, \"Zero Copy I\"), figure 4",
        code: "sendfile(sock, file, len); /* NIC gathers */",
        syscalls: 1,
        mode_switches: 2,
        dma_copies: 2,
        cpu_copies: 0,
    }),
    calls_per_iteration: 1,
    setup_calls: 0,
    teardown_calls: 0,
    sender_sg: true,
    buffer: Buffer::Reused,
    requires: &[Mechanism::Sendfile],
    user_place: Place::UserBuffer,
    nodes: NODES,
    path: &[
        arrow(Place::PageCache, Movement::Reference, Place::SocketBuffer),
        arrow(Place::PageCache, Movement::Reference, Place::Nic),
    ],
    calls: &["sendfile"],
    requests: &[],
    story: T {
        en: "the skb points at the page cache's pages: nothing is copied",
        zh: "skb 直接指向页缓存的页面：没有任何拷贝",
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

/// `sendfile` in chunks until the whole file is sent (ktls-sendfile's
/// loop too: kernel TLS changes the socket, not the call).
pub(super) fn send(t: &mut Transfer<'_>) -> anyhow::Result<u64> {
    let mut off: libc::off_t = 0;
    while (off as u64) < t.size {
        io::iteration();
        let want = t.chunk.min(t.size - off as u64) as usize;
        io::gate();
        // SAFETY: `off` is a valid pointer; both descriptors are open.
        let n = unsafe { libc::sendfile(t.sock.as_raw_fd(), t.file.as_raw_fd(), &mut off, want) };
        if n < 0 {
            if io::interrupted() {
                io::short_call();
                continue;
            }
            return Err(io::last_error("sendfile to the socket"));
        }
        if (n as usize) < want {
            io::short_call();
        }
        if n == 0 {
            bail!(
                "sendfile stopped after {off} of {} bytes (was the file truncated?)",
                t.size
            );
        }
    }
    Ok(off as u64)
}
