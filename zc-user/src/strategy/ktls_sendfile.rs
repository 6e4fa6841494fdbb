//! sendfile through kernel TLS: the same call as sendfile-gather, on a
//! socket whose kernel encrypts (`TCP_ULP` "tls", an AES-GCM-128 key; the
//! receiver's socket decrypts with the same key).
//!
//! The call still hands the page cache's pages over by reference
//! (`splice_to_socket` → `tls_sw_sendmsg` → `sk_msg_page_add`), and the
//! program never touches the bytes: the user copy stays saved. But the
//! pages cannot go to the device as they are. `tls_push_record` seals each
//! record of up to 16 KiB with `crypto_aead_encrypt`, reading the file's
//! pages and writing ciphertext into pages of the socket's own
//! (`sk_page_frag`), and it is those that TCP sends. A CPU pass over every
//! byte, then, that is not a copy; and the device sees the file's bytes
//! plus 29 per record, in pages that are not the file's.

use super::{Buffer, Ends, Expect, Mechanism, Spec, arrow, sendfile};
use crate::{
    ktls::{self, Direction},
    lang::T,
    place::{Movement, Place},
};

pub const SPEC: Spec = Spec {
    name: "ktls-sendfile",
    title: T {
        en: "sendfile + kernel TLS",
        zh: "sendfile + 内核 TLS",
    },
    help: "sendfile on a kernel-TLS socket: no copy into user memory, but the kernel \
           encrypts every byte into pages of its own",
    model: None,
    calls_per_iteration: 1,
    setup_calls: 0,
    teardown_calls: 0,
    sender_sg: true,
    buffer: Buffer::Reused,
    requires: &[Mechanism::Sendfile, Mechanism::Ktls],
    user_place: Place::UserBuffer,
    nodes: &[
        Place::Disk,
        Place::PageCache,
        Place::UserBuffer,
        Place::SocketBuffer,
        Place::Nic,
    ],
    path: &[
        arrow(Place::PageCache, Movement::Cipher, Place::SocketBuffer),
        arrow(Place::SocketBuffer, Movement::SoftwareTransmit, Place::Nic),
    ],
    calls: &["sendfile"],
    requests: &[],
    story: T {
        en: "the kernel seals the file's pages into records of its own: no copy, but the \
             cipher passes over every byte",
        zh: "内核把文件的页面加密封装进自己的页面：没有拷贝，但加密要过每一个字节",
    },
    expect: Expect {
        copies_per_byte: 0,
        pages_sent_as_frags: false,
        pages_copied: false,
        copies_pinned: false,
    },
    connect: Some(connect),
    send: sendfile::send,
};

/// Both ends under kernel TLS, with the same key: the sender's seals, the
/// receiver's opens.
fn connect(ends: &Ends<'_>) -> anyhow::Result<()> {
    ktls::attach(ends.sender, Direction::Transmit)?;
    ktls::attach(ends.receiver, Direction::Receive)
}
