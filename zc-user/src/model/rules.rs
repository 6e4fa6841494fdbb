//! The copy rules: what a kernel event means for the bytes. Both the counter
//! path ([`super::classify`], exact totals) and the event path
//! ([`super::steps`], what a viewer animates) apply these, so the two can
//! never disagree on what counts as a copy.
//!
//! The rules, from the kernel's code paths (docs/evidence.md has the detail):
//! - read() on the file copies page cache → user buffer: its return bytes.
//! - a send whose iterator is user memory (ITER_UBUF/IOVEC) copies the user
//!   buffer (or the mmap'ed page cache) into TCP's own pages.
//! - a send with `MSG_SPLICE_PAGES` from a page iterator (sendfile, splice)
//!   only references the pages it is given: the page cache's, or whatever
//!   the strategy's pipe holds.
//! - before 6.5 those pages go to `tcp_sendpage` one at a time, which
//!   references them too (TCP always has scatter-gather: its route gets
//!   it with GSO, whatever the device).
//! - on a socket with kernel TLS, what a send hands over is sealed into
//!   records in the socket's own pages (`tls_push_record` →
//!   `crypto_aead_encrypt`): a CPU pass over every byte that is not a copy
//!   of them. The pages a sendfile referenced are the cipher's input; the
//!   device gets the ciphertext, 29 bytes longer per record. No tracepoint
//!   sees the cipher: its bytes are those the sends handed over, when the
//!   kernel's own record count says it sealed records ([`tls_sealed`]).
//! - vmsplice() puts references to the user's own pages into a pipe.
//! - a send with `MSG_ZEROCOPY` (or io_uring's `msg_ubuf`) pins the user's
//!   pages and makes them the skb's frags; a veth forwarding such an skb
//!   copies them anyway (`skb_copy_ubufs`), seen as user pages at the
//!   device that are not user pages at the peer.
//! - payload that was paged when TCP queued the skb (`net_dev_queue`) but
//!   linear when the device got it (`net_dev_start_xmit`) was copied by the
//!   CPU at segmentation (a device without scatter-gather); it is taken
//!   from the demo file's pages first, then from TCP's own.

use zc_common::event::source;

use zc_common::counters::Counter as C;

use super::{Movement, Place, Strategy, counts::Counts};

/// Syscalls that copy page cache → user buffer (their return is bytes read).
pub const FILE_READS: &[&str] = &["read", "pread64", "readv"];

/// Syscalls that hand user memory to a socket.
pub const SOCKET_WRITES: &[&str] = &["write", "sendto", "sendmsg", "writev"];

/// Whether a `name` call that sent nothing to the socket moved file pages
/// into the pipe of a strategy that splices through one.
pub fn is_splice_into_pipe(name: &str, sent: bool, strategy: Strategy) -> bool {
    name == "splice" && !sent && strategy.spec().splices_file_into_pipe()
}

/// Whether syscall `name` lends the user's pages to a pipe (vmsplice
/// without `SPLICE_F_GIFT`: the pipe takes references, nothing is copied).
pub fn is_lend_into_pipe(name: &str) -> bool {
    name == "vmsplice"
}

/// Bytes of file pages put into a pipe or a socket by reference: every
/// sendfile byte, and every splice() byte that did not feed the socket
/// (those came from the file, into the pipe). A pipe filled by vmsplice
/// holds user pages, so its splice() calls all feed the socket.
pub fn file_spliced(c: &Counts) -> u64 {
    let sendfile = c.bytes("sendfile");
    let from_splice = c.get(C::SendSpliceBytes).saturating_sub(sendfile);
    sendfile + c.bytes("splice").saturating_sub(from_splice)
}

/// Bytes a TLS record adds to its plaintext on the wire, for the one
/// cipher zc's kernel TLS uses (TLS 1.2, AES-GCM-128): the 5-byte record
/// header, the 8-byte explicit nonce and the 16-byte tag
/// (`TLS_HEADER_SIZE`, `TLS_CIPHER_AES_GCM_128_IV_SIZE` and `_TAG_SIZE` in
/// include/uapi/linux/tls.h; tls_sw's `init_prot_info` adds the same).
pub const TLS_RECORD_OVERHEAD: u64 = 5 + 8 + 16;

/// The most plaintext one record holds (`TLS_MAX_PAYLOAD_SIZE`).
pub const TLS_RECORD_PAYLOAD: u64 = 16 << 10;

/// What the sender's records added on the wire: the kernel's count of
/// records sealed, times their overhead (0 without kernel TLS).
pub fn tls_overhead(c: &Counts) -> u64 {
    c.get(C::TlsTxRecords) * TLS_RECORD_OVERHEAD
}

/// Bytes of the file kernel TLS sealed: every byte the sendfile or splice
/// calls handed a socket whose key sealed records, as the syscalls
/// returned them (on every kernel, with or without a send tracepoint), no
/// more than the records can hold. Inferred from the record count: no
/// probe sees the cipher.
pub fn tls_sealed(c: &Counts) -> u64 {
    file_spliced(c).min(c.get(C::TlsTxRecords) * TLS_RECORD_PAYLOAD)
}

/// Bytes the receiver's kernel opened straight into its buffer: what it
/// read that no copy event carried (`tls_decrypt_sg` writes plaintext
/// into the reader's pages, and `skb_copy_datagram_iovec` never runs), no
/// more than the records it opened hold. Inferred from the receiver's own
/// count and the record count: no probe sees the cipher.
pub fn tls_opened_in_place(c: &Counts) -> u64 {
    let records = c.get(C::TlsRxRecords);
    c.get(C::ReceiverReadBytes)
        .saturating_sub(c.get(C::RecvCopyBytes))
        .min(records * TLS_RECORD_PAYLOAD)
}

/// Whether syscall `name` reads the file into user memory.
pub fn is_file_read(name: &str) -> bool {
    FILE_READS.contains(&name)
}

/// Bytes the kernel copied anyway after the device: its completions'
/// verdict (`SO_EE_CODE_ZEROCOPY_COPIED`, with the bytes of the sends each
/// covers), bounded by the bytes that reached the device still in pinned
/// pages. A send copied before the device (at segmentation, a device
/// without scatter-gather) is marked COPIED too, but that copy is counted
/// where it was seen, once.
pub fn copied_anyway(c: &Counts) -> u64 {
    c.get(C::ZcCopiedBytes).min(c.get(C::XmitPinnedBytes))
}

/// What a send from `source` (the kernel's reading of the message iterator)
/// does to its bytes: the movement, and where the bytes come from. Spliced
/// pages come from where the strategy's path says its references into the
/// socket come from (its pipe), else from the page cache.
pub fn send_move(source: u8, strategy: Strategy) -> Option<(Movement, Place)> {
    let spec = strategy.spec();
    match source {
        source::USER => Some((Movement::CpuCopy, spec.user_place)),
        source::PINNED => Some((Movement::Pin, spec.user_place)),
        // Spliced pages go into the socket the way the strategy's path
        // says: by reference, or sealed by kernel TLS.
        source::SPLICE => Some(
            spec.path
                .iter()
                .find(|a| {
                    matches!(a.how, Movement::Reference | Movement::Cipher)
                        && a.to == Place::SocketBuffer
                })
                .map_or((Movement::Reference, Place::PageCache), |a| (a.how, a.from)),
        ),
        _ => None,
    }
}

/// Paged payload queued for the device and not transmitted yet, by what
/// its frags' pages are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pending {
    /// The demo file's page-cache pages.
    pub file: u64,
    /// A program's own anonymous pages, lent (vmsplice) or pinned
    /// (zero-copy sends).
    pub user: u64,
    /// Any other pages (TCP's own).
    pub other: u64,
}

impl Pending {
    /// Paged payload of an skb with `file` and `user` bytes in such frags.
    pub fn of(paged: u64, file: u64, user: u64) -> Pending {
        let file = file.min(paged);
        let user = user.min(paged - file);
        Pending {
            file,
            user,
            other: paged - file - user,
        }
    }

    /// Takes away what reached the device still paged.
    pub fn pass(&mut self, went: Pending) {
        self.file = self.file.saturating_sub(went.file);
        self.user = self.user.saturating_sub(went.user);
        self.other = self.other.saturating_sub(went.other);
    }

    /// Splits `linear` bytes that reached the device linear although they
    /// were queued paged: the segmentation copy, taken from the file's pages
    /// first, then the user's, then TCP's own, and removes them.
    pub fn segment(&mut self, linear: u64) -> Segmentation {
        let from_file = linear.min(self.file);
        self.file -= from_file;
        let from_user = (linear - from_file).min(self.user);
        self.user -= from_user;
        let from_other = (linear - from_file - from_user).min(self.other);
        self.other -= from_other;
        Segmentation {
            from_file,
            from_user,
            from_other,
        }
    }
}

/// The segmentation copy: paged payload queued that reached the device
/// linear, by the pages it was copied out of.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Segmentation {
    /// The demo file's page-cache pages.
    pub from_file: u64,
    /// A program's own pages.
    pub from_user: u64,
    /// TCP's own pages.
    pub from_other: u64,
}

impl Segmentation {
    pub fn total(&self) -> u64 {
        self.from_file + self.from_user + self.from_other
    }
}

/// The counter path's reading of [`Pending::segment`], over a whole run.
pub fn segmentation(c: &Counts) -> Segmentation {
    let queue_paged = c
        .get(C::QueuePayload)
        .saturating_sub(c.get(C::QueueLinearPayload));
    let xmit_paged = c
        .get(C::XmitPayload)
        .saturating_sub(c.get(C::XmitLinearPayload));
    // Paged payload queued that did not reach the device paged.
    let mut pending = Pending::of(
        queue_paged,
        c.get(C::QueueFileBytes),
        c.get(C::QueueUserBytes) + c.get(C::QueuePinnedBytes),
    );
    pending.pass(Pending::of(
        xmit_paged,
        c.get(C::XmitFileBytes),
        c.get(C::XmitUserBytes) + c.get(C::XmitPinnedBytes),
    ));
    pending.segment(
        c.get(C::XmitLinearPayload)
            .saturating_sub(c.get(C::QueueLinearPayload)),
    )
}
