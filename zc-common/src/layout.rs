//! Offsets of the kernel struct fields the eBPF programs read.
//!
//! Struct layouts change between kernel versions and configs, so the eBPF
//! object carries no offsets of its own: user space reads them from the
//! running kernel's BTF (`/sys/kernel/btf/vmlinux`) and writes this struct
//! into the object's read-only data before loading it. One build therefore
//! runs on any kernel whose BTF has these fields; a kernel without one of them
//! is refused at start-up with the field's name.

/// Byte offsets (and a few sizes and enum values) read from BTF.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KernelLayout {
    // struct sk_buff
    pub skb_len: u32,
    pub skb_data_len: u32,
    pub skb_head: u32,
    pub skb_end: u32,
    pub skb_sk: u32,
    pub skb_mac_header: u32,
    pub skb_transport_header: u32,
    /// `cb`, the control buffer, which holds `struct sock_exterr_skb` on an
    /// error-queue skb.
    pub skb_cb: u32,
    /// `struct sock_exterr_skb`'s `ee` (a `struct sock_extended_err`).
    pub exterr_ee: u32,
    // struct skb_shared_info
    pub shinfo_flags: u32,
    pub shinfo_nr_frags: u32,
    pub shinfo_gso_size: u32,
    pub shinfo_gso_segs: u32,
    pub shinfo_frags: u32,
    // struct skb_frag (skb_frag_t)
    pub frag_size: u32,
    pub frag_netmem: u32,
    pub frag_len: u32,
    // struct page / struct folio
    pub page_size: u32,
    pub page_compound_head: u32,
    pub folio_mapping: u32,
    pub folio_index: u32,
    // struct address_space, struct inode, struct super_block
    pub mapping_host: u32,
    pub inode_ino: u32,
    pub inode_sb: u32,
    pub sb_dev: u32,
    // struct msghdr, struct iov_iter
    pub msghdr_flags: u32,
    pub msghdr_iter: u32,
    /// `msg_ubuf`: set by io_uring's zero-copy send (its pages are pinned).
    pub msghdr_ubuf: u32,
    pub iter_type: u32,
    pub iter_count: u32,
    /// Values of `enum iter_type` that the send path distinguishes.
    pub iter_kinds: IterKinds,
    // struct sock_common: a socket's addresses, for `zc trace`'s sockets
    pub skc_family: u32,
    pub skc_daddr: u32,
    pub skc_rcv_saddr: u32,
    pub skc_dport: u32,
    pub skc_num: u32,
    pub skc_v6_daddr: u32,
    pub skc_v6_rcv_saddr: u32,
    /// Non-zero once user space filled the struct (the programs do nothing before).
    pub valid: u32,
}

/// Values of the kernel's `enum iter_type`, read from BTF.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IterKinds {
    /// `ITER_UBUF`: one user buffer (write(), send()).
    pub ubuf: u8,
    /// `ITER_IOVEC`: user iovecs (writev(), sendmsg()).
    pub iovec: u8,
    /// `ITER_BVEC`: pages (splice, sendfile).
    pub bvec: u8,
    pub _pad: u8,
}

const _: () = assert!(size_of::<KernelLayout>() == 39 * 4);

/// `MSG_SPLICE_PAGES` (include/linux/socket.h): the message's pages are to be
/// spliced into the skb, not copied. Kernel-internal, so not in BTF.
pub const MSG_SPLICE_PAGES: u32 = 0x0800_0000;

/// `MSG_ZEROCOPY` (include/linux/socket.h): pin the user's pages instead of
/// copying them, if the socket has `SO_ZEROCOPY`.
pub const MSG_ZEROCOPY: u32 = 0x0400_0000;
