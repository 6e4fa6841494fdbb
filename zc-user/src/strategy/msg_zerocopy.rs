//! MSG_ZEROCOPY: `read()` into a buffer, `send(MSG_ZEROCOPY)`, and
//! completions read from the socket's error queue.
//!
//! With `SO_ZEROCOPY` on the socket, `tcp_sendmsg_locked` pins the user's
//! pages (`skb_zerocopy_iter_stream`) and makes them the skb's frags,
//! marked `SKBFL_ZEROCOPY_ENABLE`, instead of copying them. The send call
//! returns while the kernel still holds the pages; when the last skb that
//! uses them is freed, the kernel queues a notification on the error queue
//! naming the range of sends that are done. That is what vmsplice lacks:
//! the program is told when its buffer is free, at the price of extra
//! syscalls to read the notifications.
//!
//! To a receiver on the same host the kernel copies anyway. Not at the
//! veth: the skb carries `SKBFL_DONT_ORPHAN`, so `__dev_forward_skb`'s
//! `skb_orphan_frags` leaves the pinned pages alone, and zc sees them still
//! in the skb the peer gets. On local delivery, `ip_local_deliver_finish` →
//! `skb_orphan_frags_rx` → `skb_copy_ubufs` copies them, and the
//! notification carries `SO_EE_CODE_ZEROCOPY_COPIED`. A program on a real
//! NIC sending to another host gets the zero copy it asked for.
//!
//! The loop reads into a ring of chunks and, before it writes the ring
//! again from the start, waits until every send so far is complete.

use std::os::fd::{AsRawFd, BorrowedFd};

use anyhow::{Context as _, bail};

use super::{Buffer, Expect, Mechanism, ModelRow, Spec, Transfer, arrow, io};
use crate::{
    lang::T,
    place::{Movement, Place},
};

pub const SPEC: Spec = Spec {
    name: "msg-zerocopy",

    title: T {
        en: "read + send(MSG_ZEROCOPY)",
        zh: "read + send(MSG_ZEROCOPY)（钉住用户页面）",
    },
    help: "read(file, buf), send(sock, buf, MSG_ZEROCOPY), completions from the error queue: \
           the send pins the user's pages, but a receiver on this host makes the kernel copy them anyway",
    model: Some(ModelRow {
        source: "the kernel's Documentation/networking/msg_zerocopy.rst (the article has no row): \
                 the send pins user pages instead of copying; completions arrive on the error queue",
        code: "read(file, buf, len); send(sock, buf, len, MSG_ZEROCOPY); recvmsg(sock, MSG_ERRQUEUE);",
        syscalls: 2,
        mode_switches: 4,
        dma_copies: 2,
        cpu_copies: 1,
    }),
    calls_per_iteration: 2,
    setup_calls: 1,
    teardown_calls: 0,
    sender_sg: true,
    buffer: Buffer::Lent,
    requires: &[Mechanism::MsgZerocopy],
    user_place: Place::UserBuffer,
    nodes: &[
        Place::Disk,
        Place::PageCache,
        Place::UserBuffer,
        Place::SocketBuffer,
        Place::Nic,
        Place::ErrorQueue,
    ],
    path: &[
        arrow(Place::PageCache, Movement::CpuCopy, Place::UserBuffer),
        arrow(Place::UserBuffer, Movement::Pin, Place::SocketBuffer),
        arrow(Place::UserBuffer, Movement::Pin, Place::Nic),
    ],
    calls: &["setsockopt", "read", "sendto", "recvmsg", "poll"],
    requests: &[],
    story: T {
        en: "read copies the file into the buffer; the send pins the buffer's pages instead of \
             copying them, and the error queue says when they are free",
        zh: "read 把文件拷进缓冲区；发送时钉住缓冲区的页面而不是拷贝，错误队列会告知何时释放",
    },
    expect: Expect {
        copies_per_byte: 2,
        pages_sent_as_frags: false,
        pages_copied: true,
        copies_pinned: true,
    },
    connect: None,
    send,
};

/// How long to wait for a completion before calling the run stuck.
const COMPLETION_WAIT_MS: libc::c_int = 10_000;

fn send(t: &mut Transfer<'_>) -> anyhow::Result<u64> {
    let one: libc::c_int = 1;
    io::gate();
    // SAFETY: a valid socket and a c_int option value of the right size.
    let rc = unsafe {
        libc::setsockopt(
            t.sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_ZEROCOPY,
            (&one as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(io::last_error("turn on SO_ZEROCOPY"));
    }
    let ring = t.buf.len() as u64;
    let mut done = Completed::default();
    let mut issued = 0u32; // zero-copy sends so far: the kernel's ids 0..issued
    let mut sent = 0u64;
    while sent < t.size {
        io::iteration();
        let at = (sent % ring) as usize;
        if at == 0 && sent > 0 {
            // The ring starts over: every page in it must be free again.
            done.wait_for(t.sock, issued)?;
        }
        let want = t.chunk.min(t.size - sent).min(ring - at as u64) as usize;
        let slot = &mut t.buf[at..at + want];
        let n = io::read_chunk(t.file, slot, sent, t.size)?;
        let mut data = &slot[..n];
        while !data.is_empty() {
            io::gate();
            // SAFETY: data is a valid slice for its length.
            let m = unsafe {
                libc::send(
                    t.sock.as_raw_fd(),
                    data.as_ptr().cast(),
                    data.len(),
                    libc::MSG_ZEROCOPY,
                )
            };
            if m < 0 {
                if io::interrupted() {
                    io::short_call();
                    continue;
                }
                // The socket's option memory is full of pending
                // notifications: read some, then send again.
                if std::io::Error::last_os_error().raw_os_error() == Some(libc::ENOBUFS) {
                    io::short_call();
                    done.wait_for(t.sock, done.sends + 1)?;
                    continue;
                }
                return Err(io::last_error("send with MSG_ZEROCOPY"));
            }
            issued = issued.wrapping_add(1);
            data = &data[m as usize..];
            if !data.is_empty() {
                io::short_call();
            }
        }
        sent += n as u64;
    }
    // Every notification read inside the traced run, so the verdict is whole.
    done.wait_for(t.sock, issued)?;
    Ok(sent)
}

/// The completions read so far.
#[derive(Default)]
struct Completed {
    /// Sends the notifications covered. Each send completes once, so when
    /// this equals the sends issued, every page is free.
    sends: u32,
}

impl Completed {
    /// Reads notifications until `target` sends are complete, waiting for
    /// the error queue when it is empty.
    fn wait_for(&mut self, sock: BorrowedFd<'_>, target: u32) -> anyhow::Result<()> {
        while self.sends < target {
            if !self.read_one(sock)? {
                let mut p = libc::pollfd {
                    fd: sock.as_raw_fd(),
                    events: 0, // POLLERR is always reported: the error queue
                    revents: 0,
                };
                io::gate();
                // SAFETY: one valid pollfd.
                let r = unsafe { libc::poll(&mut p, 1, COMPLETION_WAIT_MS) };
                if r < 0 && !io::interrupted() {
                    return Err(io::last_error("wait for a zero-copy completion"));
                }
                if r == 0 {
                    bail!(
                        "no zero-copy completion within {} s ({} of {target} sends complete)",
                        COMPLETION_WAIT_MS / 1000,
                        self.sends
                    );
                }
            }
        }
        Ok(())
    }

    /// Reads one message from the error queue; false when it is empty.
    fn read_one(&mut self, sock: BorrowedFd<'_>) -> anyhow::Result<bool> {
        let mut control = [0u64; 16]; // aligned for cmsghdr
        // SAFETY: an all-zero msghdr is valid: no name, no data.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = size_of_val(&control);
        io::gate();
        // SAFETY: a valid socket and msghdr.
        let r = unsafe { libc::recvmsg(sock.as_raw_fd(), &mut msg, libc::MSG_ERRQUEUE) };
        if r < 0 {
            let e = std::io::Error::last_os_error();
            return match e.raw_os_error() {
                Some(libc::EAGAIN) => Ok(false),
                Some(libc::EINTR) => Ok(true),
                _ => Err(e).context("read the error queue"),
            };
        }
        // SAFETY: the kernel filled `control`; the CMSG macros stay inside it.
        let mut cmsg = unsafe { libc::CMSG_FIRSTHDR(&msg) };
        while !cmsg.is_null() {
            // SAFETY: cmsg points at a header inside `control`.
            let (level, kind) = unsafe { ((*cmsg).cmsg_level, (*cmsg).cmsg_type) };
            if (level, kind) == (libc::SOL_IP, libc::IP_RECVERR)
                || (level, kind) == (libc::SOL_IPV6, libc::IPV6_RECVERR)
            {
                // SAFETY: an IP_RECVERR message carries a sock_extended_err.
                let ee = unsafe {
                    std::ptr::read_unaligned(
                        libc::CMSG_DATA(cmsg).cast::<libc::sock_extended_err>(),
                    )
                };
                if ee.ee_origin == zc_common::event::SO_EE_ORIGIN_ZEROCOPY {
                    self.sends = self
                        .sends
                        .wrapping_add(ee.ee_data.wrapping_sub(ee.ee_info).wrapping_add(1));
                }
            }
            // SAFETY: as above.
            cmsg = unsafe { libc::CMSG_NXTHDR(&msg, cmsg) };
        }
        Ok(true)
    }
}
