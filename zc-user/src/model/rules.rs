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
//!   only references the page-cache pages.
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
    name == "splice" && !sent && strategy.spec().user_place == Place::Pipe
}

/// Whether syscall `name` reads the file into user memory.
pub fn is_file_read(name: &str) -> bool {
    FILE_READS.contains(&name)
}

/// What a send from `source` (the kernel's reading of the message iterator)
/// does to its bytes: the movement, and where the bytes come from. Spliced
/// pages come from the page cache, or from the pipe a strategy splices
/// through.
pub fn send_move(source: u8, strategy: Strategy) -> Option<(Movement, Place)> {
    let from = strategy.spec().user_place;
    match source {
        source::USER => Some((Movement::CpuCopy, from)),
        source::SPLICE if from == Place::Pipe => Some((Movement::Reference, Place::Pipe)),
        source::SPLICE => Some((Movement::Reference, Place::PageCache)),
        _ => None,
    }
}

/// Paged payload queued for the device and not transmitted yet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pending {
    /// In frags that are the demo file's page-cache pages.
    pub file: u64,
    /// In any other frags (TCP's own pages).
    pub other: u64,
}

impl Pending {
    /// Splits `linear` bytes that reached the device linear although they
    /// were queued paged: the segmentation copy, taken from the file's pages
    /// first. Returns (from the file, from other pages) and removes both.
    pub fn segment(&mut self, linear: u64) -> (u64, u64) {
        let from_file = linear.min(self.file);
        self.file -= from_file;
        let from_other = (linear - from_file).min(self.other);
        self.other -= from_other;
        (from_file, from_other)
    }
}

/// The segmentation copy of a run, from its counters: paged payload queued
/// that reached the device linear.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Segmentation {
    /// Copied out of the demo file's page-cache pages.
    pub from_file: u64,
    /// Copied out of TCP's own pages.
    pub from_other: u64,
}

/// The counter path's reading of [`Pending::segment`], over a whole run.
pub fn segmentation(c: &Counts) -> Segmentation {
    let queue_paged = c
        .get(C::QueuePayload)
        .saturating_sub(c.get(C::QueueLinearPayload));
    let xmit_paged = c
        .get(C::XmitPayload)
        .saturating_sub(c.get(C::XmitLinearPayload));
    let queue_file = c.get(C::QueueFileBytes).min(queue_paged);
    let xmit_file = c.get(C::XmitFileBytes).min(xmit_paged);
    // Paged payload queued that did not reach the device paged.
    let mut pending = Pending {
        file: queue_file.saturating_sub(xmit_file),
        other: (queue_paged - queue_file).saturating_sub(xmit_paged - xmit_file),
    };
    let (from_file, from_other) = pending.segment(
        c.get(C::XmitLinearPayload)
            .saturating_sub(c.get(C::QueueLinearPayload)),
    );
    Segmentation {
        from_file,
        from_other,
    }
}
