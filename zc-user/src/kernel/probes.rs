//! The probes zc attaches, what each proves, and how attaching went.
//!
//! Every probe is a BTF tracepoint (`tp_btf`): the kernel calls it with the
//! tracepoint's own arguments, typed by BTF, and it reads kernel structs
//! through them at offsets read from BTF too (`layout.rs`). Before loading,
//! user space checks each argument a probe reads against the tracepoint's
//! prototype in the running kernel's BTF (`prototype.rs`). kprobes and
//! fentry are not used: many kernels (this project's own among them) do not
//! allow them. Classic (perf) tracepoints are not used either: each one
//! costs more per hit, and detaching one waits for an RCU grace period
//! under a global mutex, one after another, which made zc's exit take a
//! second.

use std::fmt;

use zc_common::tracepoints::{self as tp, Arg};

/// Where a probe attaches: the tracepoint `category/name`, and the
/// arguments its program reads.
#[derive(Clone, Copy, Debug)]
pub struct Attach {
    pub category: &'static str,
    pub name: &'static str,
    pub args: &'static [Arg],
}

impl Attach {
    pub fn category(&self) -> &'static str {
        self.category
    }
    pub fn name(&self) -> &'static str {
        self.name
    }
    pub fn kind(&self) -> &'static str {
        "tp_btf"
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

/// A probe on tracepoint `category/name` whose program has the tracepoint's name.
const fn tp(
    category: &'static str,
    name: &'static str,
    args: &'static [Arg],
    proves: &'static str,
) -> ProbeSpec {
    ProbeSpec {
        program: name,
        attach: Attach {
            category,
            name,
            args,
        },
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
        "raw_syscalls",
        "sys_enter",
        tp::sys_enter::ARGS,
        "user → kernel mode switch (syscall entry)",
    ),
    tp(
        "raw_syscalls",
        "sys_exit",
        tp::sys_exit::ARGS,
        "kernel → user mode switch; bytes read/written",
    ),
    tp(
        "sched",
        "sched_switch",
        tp::sched_switch::ARGS,
        "real context switches of the sender; its kernel threads' CPU time",
    ),
    tp(
        "task",
        "task_newtask",
        tp::task_newtask::ARGS,
        "kernel threads the sender starts (io_uring's SQ thread, io-wq workers); processes a traced one forks",
    ),
    tp(
        "sched",
        "sched_process_exit",
        tp::sched_process_exit::ARGS,
        "a traced process that ended leaves the followed tree",
    ),
    optional(tp(
        "io_uring",
        "io_uring_create",
        tp::io_uring_create::ARGS,
        "the sender's io_uring (a kernel without io_uring has no such event)",
    )),
    optional(tp(
        "io_uring",
        "io_uring_submit_req",
        tp::io_uring_submit_req::ARGS,
        "requests submitted to that ring, and whether the SQ thread issued them",
    )),
    optional(tp(
        "io_uring",
        "io_uring_complete",
        tp::io_uring_complete::ARGS,
        "completions: a READ's copy, a SEND_ZC's bytes, its notification's verdict",
    )),
    tp(
        "exceptions",
        "page_fault_user",
        tp::page_fault::ARGS,
        "page faults in user mode (mmap touched)",
    ),
    tp(
        "exceptions",
        "page_fault_kernel",
        tp::page_fault::ARGS,
        "page faults inside the kernel's copy",
    ),
    tp(
        "filemap",
        "mm_filemap_get_pages",
        tp::filemap_range::ARGS,
        "read/splice found the file's pages in the page cache",
    ),
    tp(
        "filemap",
        "mm_filemap_add_to_page_cache",
        tp::filemap_add::ARGS,
        "disk → page cache: a folio read in on a miss",
    ),
    tp(
        "filemap",
        "mm_filemap_map_pages",
        tp::filemap_range::ARGS,
        "mmap: page-cache pages mapped, not copied",
    ),
    tp(
        "filemap",
        "mm_filemap_fault",
        tp::filemap_fault::ARGS,
        "mmap: a fault on the file",
    ),
    tp(
        "block",
        "block_bio_queue",
        tp::block_bio_queue::ARGS,
        "disk reads the sender submitted (in its own context)",
    ),
    tp(
        "block",
        "block_rq_complete",
        tp::block_rq_complete::ARGS,
        "those requests completed (the device's transfer)",
    ),
    tp(
        "tcp",
        "tcp_sendmsg_locked",
        tp::tcp_sendmsg_locked::ARGS,
        "data into the socket buffer: user copy or spliced pages",
    ),
    tp(
        "sock",
        "inet_sock_set_state",
        tp::inet_sock_set_state::ARGS,
        "a traced process's socket that closes is followed no more (zc trace)",
    ),
    tp(
        "sock",
        "sock_send_length",
        tp::sock_send_length::ARGS,
        "bytes each send queued",
    ),
    tp(
        "net",
        "net_dev_queue",
        tp::net_skb::ARGS,
        "skb as TCP built it: linear vs page-cache frags",
    ),
    tp(
        "net",
        "net_dev_start_xmit",
        tp::net_dev_start_xmit::ARGS,
        "skb as the device got it: segmented copy or shared frags",
    ),
    tp(
        "net",
        "net_dev_xmit",
        tp::net_dev_xmit::ARGS,
        "the device accepted the skb (rc 0): a requeued skb counts once",
    ),
    tp(
        "net",
        "netif_rx",
        tp::net_skb::ARGS,
        "the veth's peer got the skb: user pages still, or copied on the way",
    ),
    tp(
        "tcp",
        "tcp_retransmit_skb",
        tp::tcp_retransmit_skb::ARGS,
        "a retransmission: bytes that pass the device again",
    ),
    tp(
        "skb",
        "consume_skb",
        tp::consume_skb::ARGS,
        "a queued skb freed after segmentation: forgotten, so its address is not mistaken later",
    ),
    tp(
        "skb",
        "kfree_skb",
        tp::kfree_skb::ARGS,
        "a dropped skb of the demo socket, with the kernel's reason",
    ),
    tp(
        "skb",
        "skb_copy_datagram_iovec",
        tp::skb_copy_datagram_iovec::ARGS,
        "the receiver's copy skb → user; the sender's zero-copy completions",
    ),
    optional(tp(
        "irq",
        "irq_handler_entry",
        tp::irq_entry::ARGS,
        "a device interrupt while the sender ran in user mode: an unasked kernel entry",
    )),
    optional(tp(
        "irq_vectors",
        "local_timer_entry",
        tp::irq_entry::ARGS,
        "the timer interrupt while the sender ran in user mode",
    )),
    optional(tp(
        "irq_vectors",
        "reschedule_entry",
        tp::irq_entry::ARGS,
        "a reschedule IPI while the sender ran in user mode",
    )),
    optional(tp(
        "irq_vectors",
        "call_function_entry",
        tp::irq_entry::ARGS,
        "a function-call IPI while the sender ran in user mode",
    )),
    optional(tp(
        "irq_vectors",
        "call_function_single_entry",
        tp::irq_entry::ARGS,
        "a single-function IPI while the sender ran in user mode",
    )),
    optional(tp(
        "irq_vectors",
        "irq_work_entry",
        tp::irq_entry::ARGS,
        "irq work while the sender ran in user mode",
    )),
    optional(tp(
        "dma",
        "dma_map_phys",
        tp::dma_map_phys::ARGS,
        "DMA mappings by a device driver (silent on veth and DMA-API-less virtio)",
    )),
    optional(tp(
        "dma",
        "dma_map_sg",
        tp::dma_map_sg::ARGS,
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
