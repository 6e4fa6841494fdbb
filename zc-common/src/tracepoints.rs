//! The arguments zc's probes read from each tracepoint, by position.
//!
//! Every probe is a BTF tracepoint (`tp_btf`): the kernel calls it with the
//! tracepoint's own arguments (its `TP_PROTO`: an `sk_buff *`, a
//! `pt_regs *` and a syscall number, ...), before any record is formatted.
//! That is cheaper than a classic tracepoint, which first fills a record in
//! a perf buffer, and, above all, detaching one does not wait for a grace
//! period under a global mutex: a classic tracepoint's perf event does,
//! about 60 ms each, one after another.
//!
//! The positions and types below are what the eBPF side assumes. User space
//! checks each against the running kernel's BTF (the `btf_trace_<name>`
//! prototype) before loading the probe, and refuses a probe whose argument
//! differs, naming it, rather than reading garbage. A type is written as
//! the kernel's BTF spells it (`long int`, `const struct sock *`).

/// One argument a probe reads: its position in the tracepoint's prototype
/// and the type zc expects there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arg {
    pub name: &'static str,
    pub index: usize,
    pub ty: &'static str,
}

const fn a(name: &'static str, index: usize, ty: &'static str) -> Arg {
    Arg { name, index, ty }
}

/// `raw_syscalls:sys_enter(regs, id)`.
pub mod sys_enter {
    use super::*;
    pub const REGS: Arg = a("regs", 0, "struct pt_regs *");
    pub const ID: Arg = a("id", 1, "long int");
    pub const ARGS: &[Arg] = &[REGS, ID];
}
/// `raw_syscalls:sys_exit(regs, ret)`: the syscall's number is in the
/// registers (`orig_ax` on x86-64), as `syscall_get_nr` reads it.
pub mod sys_exit {
    use super::*;
    pub const REGS: Arg = a("regs", 0, "struct pt_regs *");
    pub const RET: Arg = a("ret", 1, "long int");
    pub const ARGS: &[Arg] = &[REGS, RET];
}
/// `sched:sched_switch(preempt, prev, next, prev_state)`. It runs in
/// `prev`, the task leaving the CPU.
pub mod sched_switch {
    use super::*;
    pub const PREEMPT: Arg = a("preempt", 0, "bool");
    pub const PREV: Arg = a("prev", 1, "struct task_struct *");
    pub const NEXT: Arg = a("next", 2, "struct task_struct *");
    pub const PREV_STATE: Arg = a("prev_state", 3, "unsigned int");
    pub const ARGS: &[Arg] = &[PREEMPT, PREV, NEXT, PREV_STATE];
}
/// `task:task_newtask(task, clone_flags)`.
pub mod task_newtask {
    use super::*;
    pub const TASK: Arg = a("task", 0, "struct task_struct *");
    pub const CLONE_FLAGS: Arg = a("clone_flags", 1, "u64");
    pub const ARGS: &[Arg] = &[TASK, CLONE_FLAGS];
}
/// `sched:sched_process_exit(p, group_dead)`.
pub mod sched_process_exit {
    use super::*;
    pub const TASK: Arg = a("p", 0, "struct task_struct *");
    pub const GROUP_DEAD: Arg = a("group_dead", 1, "bool");
    pub const ARGS: &[Arg] = &[TASK, GROUP_DEAD];
    /// The older form, without `group_dead`.
    pub const ARGS_TASK: &[Arg] = &[TASK];
}
/// `io_uring:io_uring_create(fd, ctx, sq_entries, cq_entries, flags)`.
pub mod io_uring_create {
    use super::*;
    pub const CTX: Arg = a("ctx", 1, "void *");
    pub const ARGS: &[Arg] = &[CTX];
}
/// `io_uring:io_uring_submit_req(req)`.
pub mod io_uring_submit_req {
    use super::*;
    pub const REQ: Arg = a("req", 0, "struct io_kiocb *");
    pub const ARGS: &[Arg] = &[REQ];
}
/// `io_uring:io_uring_complete(ctx, req, cqe)`.
pub mod io_uring_complete {
    use super::*;
    pub const CTX: Arg = a("ctx", 0, "struct io_ring_ctx *");
    pub const REQ: Arg = a("req", 1, "void *");
    pub const CQE: Arg = a("cqe", 2, "struct io_uring_cqe *");
    pub const ARGS: &[Arg] = &[CTX, REQ, CQE];
}
/// The older form, `io_uring:io_uring_complete(ctx, req, user_data, res,
/// cflags, extra1, extra2)`: the completion's fields one by one.
pub mod io_uring_complete_fields {
    use super::*;
    pub const CTX: Arg = a("ctx", 0, "void *");
    pub const REQ: Arg = a("req", 1, "void *");
    pub const USER_DATA: Arg = a("user_data", 2, "u64");
    pub const RES: Arg = a("res", 3, "int");
    pub const CFLAGS: Arg = a("cflags", 4, "unsigned int");
    pub const ARGS: &[Arg] = &[CTX, REQ, USER_DATA, RES, CFLAGS];
}
/// `exceptions:page_fault_user` and `page_fault_kernel(address, regs,
/// error_code)`.
pub mod page_fault {
    use super::*;
    pub const ADDRESS: Arg = a("address", 0, "long unsigned int");
    pub const REGS: Arg = a("regs", 1, "struct pt_regs *");
    pub const ERROR_CODE: Arg = a("error_code", 2, "long unsigned int");
    pub const ARGS: &[Arg] = &[ADDRESS, REGS, ERROR_CODE];
}
/// `filemap:mm_filemap_get_pages` and `mm_filemap_map_pages(mapping,
/// index, last_index)`.
pub mod filemap_range {
    use super::*;
    pub const MAPPING: Arg = a("mapping", 0, "struct address_space *");
    pub const INDEX: Arg = a("index", 1, "long unsigned int");
    pub const LAST_INDEX: Arg = a("last_index", 2, "long unsigned int");
    pub const ARGS: &[Arg] = &[MAPPING, INDEX, LAST_INDEX];
}
/// `filemap:mm_filemap_fault(mapping, index)`.
pub mod filemap_fault {
    use super::*;
    pub const MAPPING: Arg = a("mapping", 0, "struct address_space *");
    pub const INDEX: Arg = a("index", 1, "long unsigned int");
    pub const ARGS: &[Arg] = &[MAPPING, INDEX];
}
/// `filemap:mm_filemap_add_to_page_cache(folio)`.
pub mod filemap_add {
    use super::*;
    pub const FOLIO: Arg = a("folio", 0, "struct folio *");
    pub const ARGS: &[Arg] = &[FOLIO];
}
/// `block:block_bio_queue(bio)`: fires in the submitting task, so the
/// sender's reads are attributable by tid (request issue may happen later
/// in a kworker).
pub mod block_bio_queue {
    use super::*;
    pub const BIO: Arg = a("bio", 0, "struct bio *");
    pub const ARGS: &[Arg] = &[BIO];
}
/// `block:block_rq_complete(rq, error, nr_bytes)`.
pub mod block_rq_complete {
    use super::*;
    pub const RQ: Arg = a("rq", 0, "struct request *");
    pub const NR_BYTES: Arg = a("nr_bytes", 2, "unsigned int");
    pub const ARGS: &[Arg] = &[RQ, NR_BYTES];
}
/// `sock:sock_send_length(sk, ret, flags)`.
pub mod sock_send_length {
    use super::*;
    pub const SK: Arg = a("sk", 0, "struct sock *");
    pub const RET: Arg = a("ret", 1, "int");
    pub const ARGS: &[Arg] = &[SK, RET];
}
/// `sock:inet_sock_set_state(sk, oldstate, newstate)`: a socket changes
/// TCP state; on `TCP_CLOSE` zc stops following it, so a `struct sock` the
/// kernel reuses for another connection is not taken for the old one.
pub mod inet_sock_set_state {
    use super::*;
    pub const SK: Arg = a("sk", 0, "const struct sock *");
    pub const NEWSTATE: Arg = a("newstate", 2, "const int");
    pub const ARGS: &[Arg] = &[SK, NEWSTATE];
}
/// `skb:skb_copy_datagram_iovec(skb, len)`.
pub mod skb_copy_datagram_iovec {
    use super::*;
    pub const SKB: Arg = a("skb", 0, "const struct sk_buff *");
    pub const LEN: Arg = a("len", 1, "int");
    pub const ARGS: &[Arg] = &[SKB, LEN];
}
/// `dma:dma_map_phys(dev, phys_addr, dma_addr, size, dir, attrs)`, and
/// the same as `dma_map_page` from 6.12 until 6.17 renamed it.
pub mod dma_map_phys {
    use super::*;
    pub const DEV: Arg = a("dev", 0, "struct device *");
    pub const PHYS: Arg = a("phys_addr", 1, "phys_addr_t");
    pub const SIZE: Arg = a("size", 3, "size_t");
    pub const DIR: Arg = a("dir", 4, "enum dma_data_direction");
    pub const ARGS: &[Arg] = &[DEV, PHYS, SIZE, DIR];
}
/// `dma:dma_unmap_phys(dev, addr, size, dir, attrs)` (`dma_unmap_page`
/// from 6.12 until 6.17) and `dma:dma_sync_single_for_cpu(dev, dma_addr,
/// size, dir)`: a driver taking a buffer back from its device's engine,
/// for good or to read what the engine wrote. The same positions in both.
pub mod dma_handback {
    use super::*;
    pub const DEV: Arg = a("dev", 0, "struct device *");
    pub const SIZE: Arg = a("size", 2, "size_t");
    pub const DIR: Arg = a("dir", 3, "enum dma_data_direction");
    pub const ARGS: &[Arg] = &[DEV, SIZE, DIR];
}
/// `net:napi_gro_receive_entry(skb)` and `net:netif_receive_skb_entry(skb)`:
/// a driver handing a received frame to the stack, one call per frame.
pub mod rx_entry {
    use super::*;
    pub const SKB: Arg = a("skb", 0, "const struct sk_buff *");
    pub const ARGS: &[Arg] = &[SKB];
}
/// `dma:dma_map_sg(dev, sgl, nents, ents, dir, attrs)`: a scatterlist of
/// `nents` entries mapped at once (an NVMe request of several segments
/// before 7.x).
pub mod dma_map_sg {
    use super::*;
    pub const SGL: Arg = a("sgl", 1, "struct scatterlist *");
    pub const NENTS: Arg = a("nents", 2, "int");
    pub const DIR: Arg = a("dir", 4, "enum dma_data_direction");
    pub const ARGS: &[Arg] = &[SGL, NENTS, DIR];
}
/// `irq:irq_handler_entry(irq, action)` and `irq_vectors:*_entry(vector)`
/// (x86): the timer, IPIs, irq work. zc reads no argument: that the handler
/// runs in the sender is the fact.
pub mod irq_entry {
    use super::*;
    pub const ARGS: &[Arg] = &[];
}
/// `tcp:tcp_sendmsg_locked(sk, msg, skb, size_goal)`.
pub mod tcp_sendmsg_locked {
    use super::*;
    pub const SK: Arg = a("sk", 0, "const struct sock *");
    pub const MSG: Arg = a("msg", 1, "const struct msghdr *");
    pub const SKB: Arg = a("skb", 2, "const struct sk_buff *");
    pub const SIZE_GOAL: Arg = a("size_goal", 3, "int");
    pub const ARGS: &[Arg] = &[SK, MSG, SKB, SIZE_GOAL];
}
/// The function `tcp_sendmsg_locked(sk, msg, size)`, hooked at its entry
/// (fentry) on a kernel without the tracepoint: the same socket and
/// message, once per call rather than once per pass of its loop, and
/// without the tail skb or the size goal.
pub mod tcp_sendmsg_locked_fn {
    use super::*;
    pub const SK: Arg = a("sk", 0, "struct sock *");
    pub const MSG: Arg = a("msg", 1, "struct msghdr *");
    pub const SIZE: Arg = a("size", 2, "size_t");
    pub const ARGS: &[Arg] = &[SK, MSG, SIZE];
}
/// `filemap_get_pages(iocb, iter, fbatch)` returning `int` (fexit), where a
/// kernel has no `mm_filemap_get_pages`: the pages a read asks for are those
/// the tracepoint names, `iocb->ki_pos` to `ki_pos + iter->count`, and it
/// fires when the function returns 0. (Kernels that have the tracepoint pass
/// a count instead of the iterator: this form is refused there.)
pub mod filemap_get_pages_fn {
    use super::*;
    pub const IOCB: Arg = a("iocb", 0, "struct kiocb *");
    pub const ITER: Arg = a("iter", 1, "struct iov_iter *");
    pub const RET: Arg = a("ret", 3, "int");
    pub const ARGS: &[Arg] = &[IOCB, ITER, RET];
}
/// `filemap_map_pages(vmf, start_pgoff, end_pgoff)` returning `vm_fault_t`
/// (fexit): the fault-around window. The tracepoint fires once the page
/// table is locked, which is when `vmf->pte` is set.
pub mod filemap_map_pages_fn {
    use super::*;
    pub const VMF: Arg = a("vmf", 0, "struct vm_fault *");
    pub const START: Arg = a("start_pgoff", 1, "long unsigned int");
    pub const END: Arg = a("end_pgoff", 2, "long unsigned int");
    pub const RET: Arg = a("ret", 3, "unsigned int");
    pub const ARGS: &[Arg] = &[VMF, START, END, RET];
}
/// `filemap_fault(vmf)` at its entry (fentry): the faulting page is
/// `vmf->pgoff` of `vmf->vma->vm_file`.
pub mod filemap_fault_fn {
    use super::*;
    pub const VMF: Arg = a("vmf", 0, "struct vm_fault *");
    pub const ARGS: &[Arg] = &[VMF];
}
/// `tcp_sendmsg(sk, msg, size)` returning `int` (fexit), where a kernel has
/// no `sock_send_length`: what TCP took of one sendmsg.
pub mod tcp_sendmsg_fn {
    use super::*;
    pub const SK: Arg = a("sk", 0, "struct sock *");
    pub const RET: Arg = a("ret", 3, "int");
    pub const ARGS: &[Arg] = &[SK, RET];
}
/// `tcp_sendpage(sk, page, offset, size, flags)`, entry and return (kernels
/// before 6.5, where sendfile and splice hand TCP one page at a time).
pub mod tcp_sendpage_fn {
    use super::*;
    pub const SK: Arg = a("sk", 0, "struct sock *");
    pub const SIZE: Arg = a("size", 3, "size_t");
    pub const RET: Arg = a("ret", 5, "int");
    pub const ARGS: &[Arg] = &[SK, SIZE];
    pub const ARGS_RET: &[Arg] = &[SK, SIZE, RET];
}
/// `do_tcp_sendpages(sk, page, offset, size, flags)` entry (kernels before
/// 6.5): where kernel TLS hands TCP its sealed records (`tls_push_sg`),
/// bypassing `tcp_sendpage`.
pub mod do_tcp_sendpages_fn {
    use super::*;
    pub const SK: Arg = a("sk", 0, "struct sock *");
    pub const ARGS: &[Arg] = &[SK];
}
/// `net:net_dev_queue(skb)`, `net:netif_rx(skb)` and `net:netif_receive_skb(skb)`.
pub mod net_skb {
    use super::*;
    pub const SKB: Arg = a("skb", 0, "struct sk_buff *");
    pub const ARGS: &[Arg] = &[SKB];
}
/// `net:net_dev_start_xmit(skb, dev)`.
pub mod net_dev_start_xmit {
    use super::*;
    pub const SKB: Arg = a("skb", 0, "const struct sk_buff *");
    pub const ARGS: &[Arg] = &[SKB];
}
/// `net:net_dev_xmit(skb, rc, dev, skb_len)`.
pub mod net_dev_xmit {
    use super::*;
    pub const SKB: Arg = a("skb", 0, "struct sk_buff *");
    pub const RC: Arg = a("rc", 1, "int");
    pub const ARGS: &[Arg] = &[SKB, RC];
}
/// `tcp:tcp_retransmit_skb(sk, skb, err)`.
pub mod tcp_retransmit_skb {
    use super::*;
    pub const SK: Arg = a("sk", 0, "const struct sock *");
    pub const SKB: Arg = a("skb", 1, "const struct sk_buff *");
    pub const ERR: Arg = a("err", 2, "int");
    pub const ARGS: &[Arg] = &[SK, SKB, ERR];
    /// The older form, without `err`: it fired only on success.
    pub const ARGS_SENT: &[Arg] = &[SK, SKB];
}
/// `skb:consume_skb(skb, location)`.
pub mod consume_skb {
    use super::*;
    pub const SKB: Arg = a("skb", 0, "struct sk_buff *");
    pub const ARGS: &[Arg] = &[SKB];
}
/// `skb:kfree_skb(skb, location, reason, rx_sk)`.
pub mod kfree_skb {
    use super::*;
    pub const SKB: Arg = a("skb", 0, "struct sk_buff *");
    pub const REASON: Arg = a("reason", 2, "enum skb_drop_reason");
    pub const ARGS: &[Arg] = &[SKB, REASON];
}
