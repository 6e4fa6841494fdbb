//! The probes zc attaches, what each proves, and how attaching went.
//!
//! Every probe is a tracepoint: classic ones (stable record layout, checked
//! against tracefs) or BTF tracepoints (`tp_btf`, typed arguments, for the
//! probes that must read kernel structs: the skb and the message being sent).
//! kprobes and fentry are not used: many kernels (this project's own among
//! them) do not allow them.

use std::fmt;

use zc_common::tracepoints::{self as tp, Field};

/// How a probe attaches.
#[derive(Clone, Copy, Debug)]
pub enum Attach {
    /// A classic tracepoint, `category/name`, whose record fields zc reads.
    Tracepoint {
        category: &'static str,
        name: &'static str,
        fields: &'static [Field],
    },
    /// A BTF tracepoint (tp_btf) on the tracepoint `name` in `category`.
    BtfTracepoint {
        category: &'static str,
        name: &'static str,
    },
}

impl Attach {
    pub fn category(&self) -> &'static str {
        match self {
            Attach::Tracepoint { category, .. } | Attach::BtfTracepoint { category, .. } => {
                category
            }
        }
    }
    pub fn name(&self) -> &'static str {
        match self {
            Attach::Tracepoint { name, .. } | Attach::BtfTracepoint { name, .. } => name,
        }
    }
    pub fn kind(&self) -> &'static str {
        match self {
            Attach::Tracepoint { .. } => "tracepoint",
            Attach::BtfTracepoint { .. } => "tp_btf",
        }
    }
}

/// One probe: its program in the eBPF object, where it attaches, what it proves.
#[derive(Clone, Copy, Debug)]
pub struct ProbeSpec {
    /// The eBPF program's function name in zc-ebpf.
    pub program: &'static str,
    pub attach: Attach,
    /// Without it zc cannot measure its figures honestly, so it will not run live.
    pub required: bool,
    pub proves: &'static str,
}

const fn tp(
    program: &'static str,
    category: &'static str,
    name: &'static str,
    fields: &'static [Field],
    proves: &'static str,
) -> ProbeSpec {
    ProbeSpec {
        program,
        attach: Attach::Tracepoint {
            category,
            name,
            fields,
        },
        required: true,
        proves,
    }
}

const fn btf(
    program: &'static str,
    category: &'static str,
    name: &'static str,
    proves: &'static str,
) -> ProbeSpec {
    ProbeSpec {
        program,
        attach: Attach::BtfTracepoint { category, name },
        required: true,
        proves,
    }
}

const fn optional(mut p: ProbeSpec) -> ProbeSpec {
    p.required = false;
    p
}

/// Every probe, in the order the report lists them.
pub const PROBES: &[ProbeSpec] = &[
    tp(
        "sys_enter",
        "raw_syscalls",
        "sys_enter",
        tp::sys_enter::FIELDS,
        "user → kernel mode switch (syscall entry)",
    ),
    tp(
        "sys_exit",
        "raw_syscalls",
        "sys_exit",
        tp::sys_exit::FIELDS,
        "kernel → user mode switch; bytes read/written",
    ),
    tp(
        "sched_switch",
        "sched",
        "sched_switch",
        tp::sched_switch::FIELDS,
        "real context switches of the sender; its kernel threads' CPU time",
    ),
    tp(
        "task_newtask",
        "task",
        "task_newtask",
        tp::task_newtask::FIELDS,
        "kernel threads the sender starts (io_uring's SQ thread, io-wq workers); processes a traced one forks",
    ),
    tp(
        "sched_process_exit",
        "sched",
        "sched_process_exit",
        tp::sched_process_exit::FIELDS,
        "a traced process that ended leaves the followed tree",
    ),
    optional(tp(
        "io_uring_create",
        "io_uring",
        "io_uring_create",
        tp::io_uring_create::FIELDS,
        "the sender's io_uring (a kernel without io_uring has no such event)",
    )),
    optional(tp(
        "io_uring_submit_req",
        "io_uring",
        "io_uring_submit_req",
        tp::io_uring_submit_req::FIELDS,
        "requests submitted to that ring, and whether the SQ thread issued them",
    )),
    optional(tp(
        "io_uring_complete",
        "io_uring",
        "io_uring_complete",
        tp::io_uring_complete::FIELDS,
        "completions: a READ's copy, a SEND_ZC's bytes, its notification's verdict",
    )),
    tp(
        "page_fault_user",
        "exceptions",
        "page_fault_user",
        tp::page_fault::FIELDS,
        "page faults in user mode (mmap touched)",
    ),
    tp(
        "page_fault_kernel",
        "exceptions",
        "page_fault_kernel",
        tp::page_fault::FIELDS,
        "page faults inside the kernel's copy",
    ),
    tp(
        "mm_filemap_get_pages",
        "filemap",
        "mm_filemap_get_pages",
        tp::filemap_range::FIELDS,
        "read/splice found the file's pages in the page cache",
    ),
    tp(
        "mm_filemap_add_to_page_cache",
        "filemap",
        "mm_filemap_add_to_page_cache",
        tp::filemap_add::FIELDS,
        "disk → page cache: a folio read in on a miss",
    ),
    tp(
        "mm_filemap_map_pages",
        "filemap",
        "mm_filemap_map_pages",
        tp::filemap_range::FIELDS,
        "mmap: page-cache pages mapped, not copied",
    ),
    tp(
        "mm_filemap_fault",
        "filemap",
        "mm_filemap_fault",
        tp::filemap_fault::FIELDS,
        "mmap: a fault on the file",
    ),
    tp(
        "block_bio_queue",
        "block",
        "block_bio_queue",
        tp::block_bio_queue::FIELDS,
        "disk reads the sender submitted (in its own context)",
    ),
    tp(
        "block_rq_complete",
        "block",
        "block_rq_complete",
        tp::block_rq_complete::FIELDS,
        "those requests completed (the device's transfer)",
    ),
    btf(
        "tcp_sendmsg_locked",
        "tcp",
        "tcp_sendmsg_locked",
        "data into the socket buffer: user copy or spliced pages",
    ),
    tp(
        "inet_sock_set_state",
        "sock",
        "inet_sock_set_state",
        tp::inet_sock_set_state::FIELDS,
        "a traced process's socket that closes is followed no more (zc trace)",
    ),
    tp(
        "sock_send_length",
        "sock",
        "sock_send_length",
        tp::sock_send_length::FIELDS,
        "bytes each send queued",
    ),
    btf(
        "net_dev_queue",
        "net",
        "net_dev_queue",
        "skb as TCP built it: linear vs page-cache frags",
    ),
    btf(
        "net_dev_start_xmit",
        "net",
        "net_dev_start_xmit",
        "skb as the device got it: segmented copy or shared frags",
    ),
    btf(
        "net_dev_xmit",
        "net",
        "net_dev_xmit",
        "the device accepted the skb (rc 0): a requeued skb counts once",
    ),
    btf(
        "netif_rx",
        "net",
        "netif_rx",
        "the veth's peer got the skb: user pages still, or copied on the way",
    ),
    btf(
        "tcp_retransmit_skb",
        "tcp",
        "tcp_retransmit_skb",
        "a retransmission: bytes that pass the device again",
    ),
    btf(
        "consume_skb",
        "skb",
        "consume_skb",
        "a queued skb freed after segmentation: forgotten, so its address is not mistaken later",
    ),
    btf(
        "kfree_skb",
        "skb",
        "kfree_skb",
        "a dropped skb of the demo socket, with the kernel's reason",
    ),
    tp(
        "skb_copy_datagram_iovec",
        "skb",
        "skb_copy_datagram_iovec",
        tp::skb_copy_datagram_iovec::FIELDS,
        "the receiver's copy skb → user; the sender's zero-copy completions",
    ),
    optional(tp(
        "irq_handler_entry",
        "irq",
        "irq_handler_entry",
        tp::irq_handler_entry::FIELDS,
        "a device interrupt while the sender ran in user mode: an unasked kernel entry",
    )),
    optional(tp(
        "local_timer_entry",
        "irq_vectors",
        "local_timer_entry",
        tp::irq_vector_entry::FIELDS,
        "the timer interrupt while the sender ran in user mode",
    )),
    optional(tp(
        "reschedule_entry",
        "irq_vectors",
        "reschedule_entry",
        tp::irq_vector_entry::FIELDS,
        "a reschedule IPI while the sender ran in user mode",
    )),
    optional(tp(
        "call_function_entry",
        "irq_vectors",
        "call_function_entry",
        tp::irq_vector_entry::FIELDS,
        "a function-call IPI while the sender ran in user mode",
    )),
    optional(tp(
        "call_function_single_entry",
        "irq_vectors",
        "call_function_single_entry",
        tp::irq_vector_entry::FIELDS,
        "a single-function IPI while the sender ran in user mode",
    )),
    optional(tp(
        "irq_work_entry",
        "irq_vectors",
        "irq_work_entry",
        tp::irq_vector_entry::FIELDS,
        "irq work while the sender ran in user mode",
    )),
    optional(tp(
        "dma_map_phys",
        "dma",
        "dma_map_phys",
        tp::dma_map_phys::FIELDS,
        "DMA mappings by a device driver (silent on veth and DMA-API-less virtio)",
    )),
    optional(tp(
        "dma_map_sg",
        "dma",
        "dma_map_sg",
        tp::dma_map_sg::FIELDS,
        "scatter-gather DMA mappings",
    )),
];

/// How attaching one probe went.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", content = "reason", rename_all = "lowercase")]
pub enum ProbeState {
    Attached,
    /// The kernel does not have this tracepoint.
    Missing(String),
    /// The tracepoint exists but loading or attaching failed.
    Refused(String),
    /// Not tried (e.g. `zc doctor --no-load`, or not root).
    Untried(String),
}

impl fmt::Display for ProbeState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProbeState::Attached => write!(f, "attached"),
            ProbeState::Missing(r) => write!(f, "missing: {r}"),
            ProbeState::Refused(r) => write!(f, "refused: {r}"),
            ProbeState::Untried(r) => write!(f, "not tried: {r}"),
        }
    }
}

/// A probe and how it went.
#[derive(Clone, Debug)]
pub struct ProbeStatus {
    pub spec: ProbeSpec,
    pub state: ProbeState,
}

impl ProbeStatus {
    /// Attached, or not needed.
    pub fn ok_for_live(&self) -> bool {
        self.state == ProbeState::Attached || !self.spec.required
    }
}

/// "attached N of M" summary for status lines.
pub fn summary(status: &[ProbeStatus]) -> String {
    let attached = status
        .iter()
        .filter(|s| s.state == ProbeState::Attached)
        .count();
    format!("probes {attached}/{} attached", status.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn program_names_are_unique_and_every_category_of_the_brief_is_covered() {
        let mut names: Vec<_> = PROBES.iter().map(|p| p.program).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), PROBES.len());
        for cat in [
            "raw_syscalls",
            "sched",
            "exceptions",
            "filemap",
            "block",
            "tcp",
            "sock",
            "net",
            "skb",
            "dma",
        ] {
            assert!(PROBES.iter().any(|p| p.attach.category() == cat), "{cat}");
        }
    }
}
