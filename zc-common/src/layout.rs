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
    /// `page.compound_head`, or `compound_info` where it was renamed: on a
    /// tail page, bit 0 is set and the rest is the head page's address, or
    /// a mask that the page's own address is cut to (a power-of-two
    /// `struct page`); the eBPF side tells the two apart by the value.
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
    // struct pt_regs (x86-64): the syscall's first arguments, its number
    // as `syscall_get_nr` reads it, and the faulting instruction
    pub regs_arg0: u32,
    pub regs_arg1: u32,
    pub regs_arg2: u32,
    /// The fourth argument: `r10`, not `rcx`, which `syscall` overwrites.
    pub regs_arg3: u32,
    pub regs_syscall_nr: u32,
    pub regs_ip: u32,
    // struct task_struct
    pub task_pid: u32,
    pub task_comm: u32,
    /// `task_struct.signal` and `signal_struct.live`: the threads of a
    /// process not yet counted out by `do_exit` (the older
    /// `sched_process_exit` has no `group_dead`).
    pub task_signal: u32,
    pub signal_live: u32,
    // struct io_kiocb (a request), struct io_ring_ctx, struct io_uring_cqe
    pub kiocb_ctx: u32,
    pub kiocb_opcode: u32,
    /// `io_kiocb.cqe.user_data`, from the start of the request.
    pub kiocb_user_data: u32,
    pub ring_flags: u32,
    pub cqe_user_data: u32,
    pub cqe_res: u32,
    pub cqe_flags: u32,
    /// `inode.i_rdev`: the filemap tracepoints' device when an inode has no
    /// super block.
    pub inode_rdev: u32,
    // struct folio: its order, as `folio_order` computes it
    pub folio_flags: u32,
    pub folio_flags_1: u32,
    /// The bit number of `PG_head` (`enum pageflags`): a large folio.
    pub pg_head: u32,
    // struct bio, struct block_device, struct gendisk, struct request
    pub bio_bdev: u32,
    pub bio_opf: u32,
    /// `bio.bi_iter.bi_sector` and `bi_size`, from the start of the bio.
    pub bio_sector: u32,
    pub bio_size: u32,
    pub bdev_disk: u32,
    pub disk_major: u32,
    pub disk_first_minor: u32,
    /// `REQ_OP_READ` (`enum req_op`), the low byte of `bi_opf`.
    pub req_op_read: u32,
    pub rq_q: u32,
    pub rq_sector: u32,
    pub queue_disk: u32,
    // struct kiocb, file, inode, vm_fault, vm_area_struct: what the page
    // cache's functions are given, read where a kernel has no filemap
    // tracepoints and zc hooks the functions themselves.
    pub iocb_filp: u32,
    pub iocb_pos: u32,
    pub file_mapping: u32,
    pub inode_size: u32,
    pub vmf_vma: u32,
    pub vmf_pgoff: u32,
    pub vmf_pte: u32,
    pub vma_file: u32,
    /// `task_struct.exit_state`: a task that leaves its CPU dying.
    pub task_exit_state: u32,
    // task_struct.files → files_struct.fdt → fdtable.fd[fd] (below
    // max_fds): the `struct file` behind a descriptor of the current task.
    pub task_files: u32,
    /// `file.f_inode`: the inode of the file as it was opened.
    pub file_inode: u32,
    pub files_fdt: u32,
    pub fdtable_fd: u32,
    pub fdtable_max_fds: u32,
    /// `tcp_sock.bytes_sent` and `bytes_retrans`: TCP's own counts of what
    /// a socket handed to IP (`tcpi_bytes_sent`, `tcpi_bytes_retrans`),
    /// read in the kernel for sockets of other programs (`zc trace`).
    pub tcp_bytes_sent: u32,
    pub tcp_bytes_retrans: u32,
    /// `tcp_sock.bytes_received` (u64), `rcv_nxt` and `copied_seq` (u32):
    /// what arrived, less what waits unread in the receive queue, is what
    /// the program took (copied, spliced or mapped).
    pub tcp_bytes_received: u32,
    pub tcp_rcv_nxt: u32,
    pub tcp_copied_seq: u32,
    /// `sock_common.skc_flags` (`sk_flags`) and the bit of `SOCK_DONE`
    /// (enum `sock_flags`), which only `tcp_fin` sets: the peer's FIN came.
    pub skc_flags: u32,
    pub sock_done_bit: u32,
    /// `tcp_sock.write_seq`: the sequence number of the next byte written
    /// to the socket (before the first send, the stream's first byte).
    pub tcp_write_seq: u32,
    /// `tcp_skb_cb.seq`, within `sk_buff.cb`: the first sequence number of
    /// an skb TCP holds (a retransmission's, whose headers are not pushed).
    pub tcp_cb_seq: u32,
    /// `sk_buff.dev`, `net_device.ptype_all` and `net_device.nd_net`: the
    /// packet taps (tcpdump's `AF_PACKET` sockets) bound to a device.
    pub skb_dev: u32,
    pub netdev_ptype_all: u32,
    pub netdev_nd_net: u32,
    /// `net.ptype_all`: taps on every device of a namespace (since 6.15;
    /// [`NO_FIELD`] on a kernel whose BTF has no such field, where those
    /// taps sit on a global list no program can name).
    pub net_ptype_all: u32,
    /// `inode.i_mode`, `file.private_data`, `socket.sk`, and
    /// `sock.sk_protocol` and `sk_type`: the TCP socket behind a
    /// descriptor, for a receive that takes its bytes without copying them
    /// (a splice out of it, `TCP_ZEROCOPY_RECEIVE`). A raw socket opened
    /// with protocol TCP has the same `sk_protocol`; its type tells it.
    pub inode_mode: u32,
    pub file_private_data: u32,
    pub socket_sk: u32,
    pub sk_protocol: u32,
    pub sk_type: u32,
    /// `struct scatterlist`: `page_link` (the page, its low bits marking a
    /// chain link or the last entry), `offset`, `length`, and its size: a
    /// driver that maps a list for DMA (`dma_map_sg`, an NVMe read before
    /// 7.x) names its pages there.
    pub sg_page_link: u32,
    pub sg_offset: u32,
    pub sg_length: u32,
    pub sg_size: u32,
    /// `sk_buff.data`, `net_device.ifindex`, and `net_device.dev.parent`
    /// (the bus device, a PCI function, whose `struct device *` a driver's
    /// DMA maps name): a frame the receiving NIC handed up, and whether the
    /// buffer just taken back from the engine was that NIC's.
    pub skb_data: u32,
    pub netdev_ifindex: u32,
    pub netdev_dev_parent: u32,
    /// Non-zero once user space filled the struct (the programs do nothing before).
    pub valid: u32,
}

impl KernelLayout {
    /// All zero, `valid` 0: the placeholder the eBPF object is built with.
    pub const UNSET: KernelLayout = KernelLayout {
        skb_len: 0,
        skb_data_len: 0,
        skb_head: 0,
        skb_end: 0,
        skb_sk: 0,
        skb_mac_header: 0,
        skb_transport_header: 0,
        skb_cb: 0,
        exterr_ee: 0,
        shinfo_flags: 0,
        shinfo_nr_frags: 0,
        shinfo_gso_size: 0,
        shinfo_gso_segs: 0,
        shinfo_frags: 0,
        frag_size: 0,
        frag_netmem: 0,
        frag_len: 0,
        page_size: 0,
        page_compound_head: 0,
        folio_mapping: 0,
        folio_index: 0,
        mapping_host: 0,
        inode_ino: 0,
        inode_sb: 0,
        sb_dev: 0,
        msghdr_flags: 0,
        msghdr_iter: 0,
        msghdr_ubuf: 0,
        iter_type: 0,
        iter_count: 0,
        iter_kinds: IterKinds {
            ubuf: 0,
            iovec: 0,
            bvec: 0,
            _pad: 0,
        },
        skc_family: 0,
        skc_daddr: 0,
        skc_rcv_saddr: 0,
        skc_dport: 0,
        skc_num: 0,
        skc_v6_daddr: 0,
        skc_v6_rcv_saddr: 0,
        regs_arg0: 0,
        regs_arg1: 0,
        regs_arg2: 0,
        regs_arg3: 0,
        regs_syscall_nr: 0,
        regs_ip: 0,
        task_pid: 0,
        task_comm: 0,
        task_signal: 0,
        signal_live: 0,
        kiocb_ctx: 0,
        kiocb_opcode: 0,
        kiocb_user_data: 0,
        ring_flags: 0,
        cqe_user_data: 0,
        cqe_res: 0,
        cqe_flags: 0,
        inode_rdev: 0,
        folio_flags: 0,
        folio_flags_1: 0,
        pg_head: 0,
        bio_bdev: 0,
        bio_opf: 0,
        bio_sector: 0,
        bio_size: 0,
        bdev_disk: 0,
        disk_major: 0,
        disk_first_minor: 0,
        req_op_read: 0,
        rq_q: 0,
        rq_sector: 0,
        queue_disk: 0,
        iocb_filp: 0,
        iocb_pos: 0,
        file_mapping: 0,
        inode_size: 0,
        vmf_vma: 0,
        vmf_pgoff: 0,
        vmf_pte: 0,
        vma_file: 0,
        task_exit_state: 0,
        task_files: 0,
        file_inode: 0,
        files_fdt: 0,
        fdtable_fd: 0,
        fdtable_max_fds: 0,
        tcp_bytes_sent: 0,
        tcp_bytes_retrans: 0,
        tcp_bytes_received: 0,
        tcp_rcv_nxt: 0,
        tcp_copied_seq: 0,
        skc_flags: 0,
        sock_done_bit: 0,
        tcp_write_seq: 0,
        tcp_cb_seq: 0,
        skb_dev: 0,
        netdev_ptype_all: 0,
        netdev_nd_net: 0,
        net_ptype_all: NO_FIELD,
        inode_mode: 0,
        file_private_data: 0,
        socket_sk: 0,
        sk_protocol: 0,
        sk_type: 0,
        sg_page_link: 0,
        sg_offset: 0,
        sg_length: 0,
        sg_size: 0,
        skb_data: 0,
        netdev_ifindex: 0,
        netdev_dev_parent: 0,
        valid: 0,
    };
}

/// An offset for a field this kernel's BTF does not have.
pub const NO_FIELD: u32 = u32::MAX;

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

const _: () = assert!(size_of::<KernelLayout>() == 110 * 4);

/// `MSG_SPLICE_PAGES` (include/linux/socket.h): the message's pages are to be
/// spliced into the skb, not copied. Kernel-internal, so not in BTF.
pub const MSG_SPLICE_PAGES: u32 = 0x0800_0000;

/// `MSG_ZEROCOPY` (include/linux/socket.h): pin the user's pages instead of
/// copying them, if the socket has `SO_ZEROCOPY`.
pub const MSG_ZEROCOPY: u32 = 0x0400_0000;

/// `IORING_SETUP_SQPOLL` (include/uapi/linux/io_uring.h): the ring has an
/// SQ thread, which submits its requests.
pub const IORING_SETUP_SQPOLL: u32 = 1 << 1;
