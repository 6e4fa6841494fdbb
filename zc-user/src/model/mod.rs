//! The model: what happened to which bytes, from kernel evidence.
//!
//! Two inputs, one vocabulary. [`counts::Counts`] holds the exact in-kernel
//! totals of a run; [`classify`] turns them into the figures of the report
//! (copies, references, DMA, switches). [`steps`] turns the ordered event
//! stream into the steps a viewer animates, each a movement of bytes between
//! two [`Place`]s with the events that prove it. Both are pure: no kernel, no
//! root, testable from synthetic input.

pub mod article;
pub mod classify;
pub mod counts;
pub mod steps;
pub mod syscalls;

use serde::{Deserialize, Serialize};

/// Where bytes can be, in the article's picture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Place {
    /// The storage device holding the file.
    Disk,
    /// The page cache: the article's "kernel buffer".
    PageCache,
    /// The program's own buffer, in user space.
    UserBuffer,
    /// Page-cache pages mapped into the program (mmap): shared, not copied.
    Mapping,
    /// The socket's skbs (TCP's send queue): the article's "socket buffer".
    SocketBuffer,
    /// The network device (here a veth: software, no DMA).
    Nic,
    /// The receiving program's buffer, in the peer namespace.
    Receiver,
}

impl Place {
    pub const fn label(self) -> &'static str {
        match self {
            Place::Disk => "disk",
            Place::PageCache => "page cache",
            Place::UserBuffer => "user buffer",
            Place::Mapping => "mapped page cache",
            Place::SocketBuffer => "socket buffer",
            Place::Nic => "NIC (veth)",
            Place::Receiver => "receiver",
        }
    }
}

/// How bytes moved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Movement {
    /// A device copied them without the CPU (disk → page cache on a miss).
    Dma,
    /// The CPU copied them.
    CpuCopy,
    /// Nothing was copied: a structure now points at the same pages.
    Reference,
    /// Pages were mapped into the program's address space (mmap).
    Mapping,
    /// Handed to a software device (veth): no DMA, no copy.
    SoftwareTransmit,
}

impl Movement {
    pub const fn label(self) -> &'static str {
        match self {
            Movement::Dma => "DMA copy",
            Movement::CpuCopy => "CPU copy",
            Movement::Reference => "page reference",
            Movement::Mapping => "mapping",
            Movement::SoftwareTransmit => "software transmit",
        }
    }
}

/// The article's four strategies (more come later: splice, MSG_ZEROCOPY, io_uring).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    ReadWrite,
    MmapWrite,
    Sendfile,
    SendfileGather,
}

impl Strategy {
    pub const ALL: [Strategy; 4] = [
        Strategy::ReadWrite,
        Strategy::MmapWrite,
        Strategy::Sendfile,
        Strategy::SendfileGather,
    ];

    /// The name used on the command line and in JSON.
    pub const fn name(self) -> &'static str {
        match self {
            Strategy::ReadWrite => "read-write",
            Strategy::MmapWrite => "mmap-write",
            Strategy::Sendfile => "sendfile",
            Strategy::SendfileGather => "sendfile-gather",
        }
    }

    /// Scatter-gather on the sending veth for this strategy. Only plain
    /// `sendfile` turns it off: that is how a 6.18 kernel is made to do the
    /// article's figure-3 copy (at segmentation, for a device that cannot gather).
    pub const fn sender_sg(self) -> bool {
        !matches!(self, Strategy::Sendfile)
    }
}
