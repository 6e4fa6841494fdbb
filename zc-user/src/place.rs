//! Where bytes can be on their way from a file to a socket, and how they move
//! between those places. This is the vocabulary of the article's figures:
//! every arrow on screen and every row of the ledger is one [`Movement`]
//! from one [`Place`] to another.

use serde::Serialize;

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
    /// A pipe: a ring of page references in the kernel (splice moves pages
    /// into it and out of it without copying them).
    Pipe,
    /// The socket's skbs (TCP's send queue): the article's "socket buffer".
    SocketBuffer,
    /// The network device (here a veth: software, no DMA).
    Nic,
    /// The far end of the veth pair: the skb as the peer namespace gets it.
    Peer,
    /// The receiving program's buffer, in the peer namespace.
    Receiver,
    /// The socket's error queue, where MSG_ZEROCOPY's completions wait to
    /// be read.
    ErrorQueue,
    /// An io_uring's submission and completion rings, shared by the program
    /// and the kernel.
    Rings,
}

impl Place {
    pub const fn label(self) -> &'static str {
        match self {
            Place::Disk => "disk",
            Place::PageCache => "page cache",
            Place::UserBuffer => "user buffer",
            Place::Mapping => "mapped page cache",
            Place::Pipe => "pipe",
            Place::SocketBuffer => "socket buffer",
            Place::Nic => "NIC (veth)",
            Place::Peer => "veth peer",
            Place::Receiver => "receiver",
            Place::ErrorQueue => "error queue",
            Place::Rings => "io_uring rings",
        }
    }

    /// The label for a run over two borrowed NICs (`nic`) or the veth:
    /// the device places are named for what they were.
    pub const fn label_over(self, nic: bool) -> &'static str {
        match (self, nic) {
            (Place::Nic, true) => "NIC",
            (Place::Peer, true) => "receiving NIC",
            _ => self.label(),
        }
    }

    pub const fn label_zh(self) -> &'static str {
        match self {
            Place::Disk => "磁盘",
            Place::PageCache => "页缓存",
            Place::UserBuffer => "用户缓冲区",
            Place::Mapping => "映射的页缓存",
            Place::Pipe => "管道",
            Place::SocketBuffer => "套接字缓冲区",
            Place::Nic => "网卡（veth）",
            Place::Peer => "veth 对端",
            Place::Receiver => "接收方",
            Place::ErrorQueue => "错误队列",
            Place::Rings => "io_uring 环形队列",
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
    /// The user's own pages were pinned and used in place (MSG_ZEROCOPY,
    /// io_uring's zero-copy send): no copy, and the kernel holds them until
    /// a completion says they are free.
    Pin,
    /// Handed to a software device (veth): no DMA, no copy.
    SoftwareTransmit,
    /// The CPU read them and wrote new bytes in their place, elsewhere:
    /// kernel TLS sealing plaintext into ciphertext on the way out, or
    /// opening it on the way in. A pass over every byte, like a copy, but
    /// what lands is not the same bytes.
    Cipher,
}

impl Movement {
    pub const fn label(self) -> &'static str {
        match self {
            Movement::Dma => "DMA copy",
            Movement::CpuCopy => "CPU copy",
            Movement::Reference => "page reference",
            Movement::Mapping => "mapping",
            Movement::Pin => "pinned pages",
            Movement::SoftwareTransmit => "software transmit",
            Movement::Cipher => "cipher pass",
        }
    }
}
