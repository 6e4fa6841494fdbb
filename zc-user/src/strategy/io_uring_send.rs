//! io_uring with a plain `IORING_OP_SEND`: the copying baseline beside
//! SEND_ZC. The same batches of linked READ → send chains, sixteen chunks
//! per `io_uring_enter`, so the syscalls per chunk fall as far; but the send
//! copies the buffer into the socket's own pages, as write() does
//! (`io_send` → `sock_sendmsg` → `tcp_sendmsg_locked` with a user
//! iterator). Batching saves mode switches, not copies: the two CPU copies
//! of read + write are all still here, only made inside requests instead
//! of calls. Set beside io-uring-send-zc, it shows what the zero-copy send
//! alone changes.

use io_uring::opcode;

use super::{
    Buffer, Expect, Mechanism, ModelRow, Request, Spec, Transfer, arrow,
    io_uring::{CALLS, NODES, READ_REQUEST, SendOp, batched},
};
use crate::{
    lang::T,
    place::{Movement, Place},
};

pub const SPEC: Spec = Spec {
    name: "io-uring-send",
    title: T {
        en: "io_uring READ + SEND",
        zh: "io_uring READ + SEND（批量提交，两次拷贝）",
    },
    help: "io_uring: READ then a plain SEND, linked, 16 chunks per io_uring_enter: few \
           syscalls, but both copies of read + write (the baseline for SEND_ZC)",
    model: Some(ModelRow {
        source: "io_uring_enter(2) and io_uring_prep_send(3) (the article has no row): one \
                 enter per batch, the READ copies, the SEND copies",
        code: "sqe READ(file, buf) → link → sqe SEND(sock, buf); io_uring_enter per 16 chunks",
        syscalls: 0,
        mode_switches: 0,
        dma_copies: 2,
        cpu_copies: 2,
    }),
    calls_per_iteration: 1,
    setup_calls: 3,
    teardown_calls: 3,
    sender_sg: true,
    // A batch has sixteen chunks in flight, each in its own slot.
    buffer: Buffer::Lent,
    requires: &[Mechanism::IoUring],
    user_place: Place::UserBuffer,
    nodes: NODES,
    path: &[
        arrow(Place::PageCache, Movement::CpuCopy, Place::UserBuffer),
        arrow(Place::UserBuffer, Movement::CpuCopy, Place::SocketBuffer),
        arrow(Place::SocketBuffer, Movement::SoftwareTransmit, Place::Nic),
    ],
    calls: CALLS,
    requests: &[
        READ_REQUEST,
        Request {
            opcode: opcode::Send::CODE,
            name: "SEND",
        },
    ],
    story: T {
        en: "requests go through shared rings, sixteen chunks per syscall; the read copies \
             and the send copies again: fewer switches, the same two copies",
        zh: "请求经由共享的环形队列提交，每次系统调用处理十六个块；读取拷贝一次，发送再拷贝一次：\
             切换更少，拷贝仍是两次",
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

/// SEND with `MSG_WAITALL`: the request completes when the whole chunk is
/// in the socket (io_uring retries a short send itself).
const SEND: SendOp = SendOp {
    make: |sock, ptr, len| {
        opcode::Send::new(sock, ptr, len)
            .flags(libc::MSG_WAITALL)
            .build()
    },
    name: "SEND",
};

fn send(t: &mut Transfer<'_>) -> anyhow::Result<u64> {
    batched(t, false, SEND)
}
