//! The probes zc attaches, what each proves, where its evidence may come
//! from, and how attaching went.
//!
//! A probe's first source is a BTF tracepoint (`tp_btf`): the kernel calls
//! it with the tracepoint's own arguments, typed by BTF, and it reads kernel
//! structs through them at offsets read from BTF too (`layout.rs`).
//! Tracepoints come and go and change their arguments between releases, so
//! a probe may list other sources of the same evidence, tried in order when
//! the first is missing or its arguments differ: the same tracepoint in its
//! older form (another program reads it), or the kernel function the
//! tracepoint sits in (fentry/fexit). Which one a kernel gets is decided by
//! its BTF (`prototype.rs`), never by its version, and the doctor and the
//! report say which was used, with how its evidence differs. Classic (perf)
//! tracepoints are not used: each costs more per hit, and detaching one
//! waits for an RCU grace period under a global mutex, one after another,
//! which made zc's exit take a second. Kernels that refuse fentry (this
//! project's own) have every tracepoint zc needs.

use std::fmt;

use zc_common::tracepoints::{self as tp, Arg};

/// How a program hooks the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hook {
    /// A BTF tracepoint: the kernel calls the program with the
    /// tracepoint's arguments, typed by `btf_trace_<name>`. The first
    /// choice everywhere: a stable interface, cheap to attach and detach.
    TpBtf,
    /// fentry: the entry of a kernel function, its arguments typed by the
    /// function's BTF. Where a kernel lacks a tracepoint, the function it
    /// would sit in is the nearest source of the same evidence. Needs the
    /// function tracer (`CONFIG_FUNCTION_TRACER`), and a function that the
    /// compiler did not inline everywhere.
    Fentry,
    /// fexit: the same function's return, with its arguments and its
    /// return value after them.
    Fexit,
}

impl Hook {
    pub fn as_str(self) -> &'static str {
        match self {
            Hook::TpBtf => "tp_btf",
            Hook::Fentry => "fentry",
            Hook::Fexit => "fexit",
        }
    }
}

/// One source of a probe's evidence: a program, where it attaches (a
/// tracepoint `category/name`, or a function `name`), and the arguments
/// it reads.
#[derive(Clone, Copy, Debug)]
pub struct Attach {
    /// The eBPF program's function name in zc-ebpf.
    pub program: &'static str,
    pub hook: Hook,
    /// The tracepoint's category; the function's is empty.
    pub category: &'static str,
    pub name: &'static str,
    pub args: &'static [Arg],
    /// How this source's evidence differs from the probe's first source
    /// (empty for the first): what the report and the doctor say beside it.
    pub note: &'static str,
}

impl Attach {
    pub fn category(&self) -> &'static str {
        self.category
    }
    pub fn name(&self) -> &'static str {
        self.name
    }
    pub fn kind(&self) -> &'static str {
        self.hook.as_str()
    }
    /// `category/name` for a tracepoint, `name()` for a function.
    pub fn target(&self) -> String {
        match self.hook {
            Hook::TpBtf => format!("{}/{}", self.category, self.name),
            Hook::Fentry | Hook::Fexit => format!("{}()", self.name),
        }
    }
}

/// One probe: where it attaches first, where else its evidence can come
/// from on a kernel without that, and what it proves.
#[derive(Clone, Copy, Debug)]
pub struct ProbeSpec {
    /// The first source's program: the probe's name.
    pub program: &'static str,
    pub attach: Attach,
    /// Tried in order when the first source is missing or refused: the
    /// same tracepoint in an older form, or the function it sits in.
    pub fallbacks: &'static [Attach],
    /// Without it zc cannot measure its figures honestly, so it will not run live.
    pub required: bool,
    pub proves: &'static str,
}

impl ProbeSpec {
    /// Whether this probe serves only the count of mode switches: the
    /// syscalls' entry and exit, and the interrupts that take a thread out
    /// of user mode (which tell a syscall's own entry from an unasked one
    /// by the syscall probes' state). `zc trace --no-syscalls` leaves them
    /// out: `raw_syscalls` fires on every syscall of every process of the
    /// machine, followed or not, for as long as a program is attached.
    pub fn for_mode_switches(&self) -> bool {
        matches!(self.attach.category, "raw_syscalls" | "irq" | "irq_vectors")
    }

    /// Every source, the first one first.
    pub fn sources(&self) -> impl Iterator<Item = &Attach> {
        std::iter::once(&self.attach).chain(self.fallbacks)
    }
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
            program: name,
            hook: Hook::TpBtf,
            category,
            name,
            args,
            note: "",
        },
        fallbacks: &[],
        required: true,
        proves,
    }
}

const fn optional(mut p: ProbeSpec) -> ProbeSpec {
    p.required = false;
    p
}

/// The probe `p`, with `fallbacks` for kernels without its first source.
const fn or(mut p: ProbeSpec, fallbacks: &'static [Attach]) -> ProbeSpec {
    p.fallbacks = fallbacks;
    p
}

/// The same tracepoint in another form (fewer or other arguments), read
/// by a program of its own.
const fn form(
    program: &'static str,
    category: &'static str,
    name: &'static str,
    args: &'static [Arg],
    note: &'static str,
) -> Attach {
    Attach {
        program,
        hook: Hook::TpBtf,
        category,
        name,
        args,
        note,
    }
}

/// A kernel function, hooked at entry (`Hook::Fentry`) or return.
const fn function(
    program: &'static str,
    hook: Hook,
    name: &'static str,
    args: &'static [Arg],
    note: &'static str,
) -> Attach {
    Attach {
        program,
        hook,
        category: "",
        name,
        args,
        note,
    }
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
    or(
        tp(
            "sched",
            "sched_process_exit",
            tp::sched_process_exit::ARGS,
            "a traced process that ended leaves the followed tree",
        ),
        &[form(
            "sched_process_exit_live",
            "sched",
            "sched_process_exit",
            tp::sched_process_exit::ARGS_TASK,
            "the form without group_dead: a process is gone when p->signal->live is 0",
        )],
    ),
    optional(tp(
        "io_uring",
        "io_uring_create",
        tp::io_uring_create::ARGS,
        "the sender's io_uring (a kernel without io_uring has no such event)",
    )),
    optional(or(
        tp(
            "io_uring",
            "io_uring_submit_req",
            tp::io_uring_submit_req::ARGS,
            "requests submitted to that ring, and whether the SQ thread issued them",
        ),
        &[form(
            "io_uring_submit_sqe",
            "io_uring",
            "io_uring_submit_sqe",
            tp::io_uring_submit_req::ARGS,
            "the same tracepoint under its older name, io_uring_submit_sqe",
        )],
    )),
    optional(or(
        tp(
            "io_uring",
            "io_uring_complete",
            tp::io_uring_complete::ARGS,
            "completions: a READ's copy, a SEND_ZC's bytes, its notification's verdict",
        ),
        &[form(
            "io_uring_complete_fields",
            "io_uring",
            "io_uring_complete",
            tp::io_uring_complete_fields::ARGS,
            "the form with the completion's fields as arguments, not a cqe",
        )],
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
    or(
        tp(
            "filemap",
            "mm_filemap_get_pages",
            tp::filemap_range::ARGS,
            "read/splice found the file's pages in the page cache",
        ),
        &[function(
            "mm_filemap_get_pages_ret",
            Hook::Fexit,
            "filemap_get_pages",
            tp::filemap_get_pages_fn::ARGS,
            "the function's return (0: pages found), the range from iocb->ki_pos and iter->count as the tracepoint computes it",
        )],
    ),
    tp(
        "filemap",
        "mm_filemap_add_to_page_cache",
        tp::filemap_add::ARGS,
        "disk → page cache: a folio read in on a miss",
    ),
    or(
        tp(
            "filemap",
            "mm_filemap_map_pages",
            tp::filemap_range::ARGS,
            "mmap: page-cache pages mapped, not copied",
        ),
        &[function(
            "mm_filemap_map_pages_ret",
            Hook::Fexit,
            "filemap_map_pages",
            tp::filemap_map_pages_fn::ARGS,
            "the function's return once it locked the page table (vmf->pte set), the window cut at the end of the file",
        )],
    ),
    or(
        tp(
            "filemap",
            "mm_filemap_fault",
            tp::filemap_fault::ARGS,
            "mmap: a fault on the file",
        ),
        &[function(
            "mm_filemap_fault_call",
            Hook::Fentry,
            "filemap_fault",
            tp::filemap_fault_fn::ARGS,
            "the function's entry, a page past the end of the file left out as the tracepoint does",
        )],
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
    or(
        tp(
            "tcp",
            "tcp_sendmsg_locked",
            tp::tcp_sendmsg_locked::ARGS,
            "data into the socket buffer: user copy or spliced pages",
        ),
        &[function(
            "tcp_sendmsg_locked_call",
            Hook::Fentry,
            "tcp_sendmsg_locked",
            tp::tcp_sendmsg_locked_fn::ARGS,
            "the function's entry: once per call, not per pass of its loop; no tail skb or size goal",
        )],
    ),
    tp(
        "sock",
        "inet_sock_set_state",
        tp::inet_sock_set_state::ARGS,
        "a traced process's socket that closes is followed no more (zc trace)",
    ),
    or(
        tp(
            "sock",
            "sock_send_length",
            tp::sock_send_length::ARGS,
            "bytes each send queued",
        ),
        &[function(
            "sock_send_length_ret",
            Hook::Fexit,
            "tcp_sendmsg",
            tp::tcp_sendmsg_fn::ARGS,
            "TCP's sendmsg at its return: TCP sockets only, which are all zc follows",
        )],
    ),
    optional(ProbeSpec {
        program: "tcp_sendpage_call",
        attach: function(
            "tcp_sendpage_call",
            Hook::Fentry,
            "tcp_sendpage",
            tp::tcp_sendpage_fn::ARGS,
            "",
        ),
        fallbacks: &[],
        required: true,
        proves: "a page handed to TCP by reference (sendfile, splice before 6.5, which have no MSG_SPLICE_PAGES)",
    }),
    optional(ProbeSpec {
        program: "tcp_sendpage_ret",
        attach: function(
            "tcp_sendpage_ret",
            Hook::Fexit,
            "tcp_sendpage",
            tp::tcp_sendpage_fn::ARGS_RET,
            "",
        ),
        fallbacks: &[],
        required: true,
        proves: "bytes each page send queued (before 6.5)",
    }),
    optional(ProbeSpec {
        program: "do_tcp_sendpages_call",
        attach: function(
            "do_tcp_sendpages_call",
            Hook::Fentry,
            "do_tcp_sendpages",
            tp::do_tcp_sendpages_fn::ARGS,
            "",
        ),
        fallbacks: &[],
        required: true,
        proves: "the socket kernel TLS hands its records to (before 6.5, past tcp_sendpage)",
    }),
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
        "net",
        "netif_receive_skb",
        tp::net_skb::ARGS,
        "the peer's receive path begins: a packet tap on its device copies the user's pages",
    ),
    or(
        tp(
            "tcp",
            "tcp_retransmit_skb",
            tp::tcp_retransmit_skb::ARGS,
            "a retransmission: bytes that pass the device again",
        ),
        &[form(
            "tcp_retransmit_skb_sent",
            "tcp",
            "tcp_retransmit_skb",
            tp::tcp_retransmit_skb::ARGS_SENT,
            "the form without err: fired for sent retransmissions only, failed ones unseen",
        )],
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
    optional(or(
        tp(
            "dma",
            "dma_map_phys",
            tp::dma_map_phys::ARGS,
            "a NIC's engine told to read a followed skb's bytes, a disk's to write the file's \
             pages, each named by its page (silent on veth and DMA-API-less virtio)",
        ),
        &[form(
            "dma_map_page",
            "dma",
            "dma_map_page",
            tp::dma_map_phys::ARGS,
            "the same tracepoint under its name from 6.12 until 6.17",
        )],
    )),
    optional(tp(
        "dma",
        "dma_map_sg",
        tp::dma_map_sg::ARGS,
        "a scatterlist mapped at once (an NVMe read of several segments), each entry's page named",
    )),
    optional(or(
        tp(
            "dma",
            "dma_unmap_phys",
            tp::dma_handback::ARGS,
            "the receiving NIC's buffer taken back from its engine, a frame written in it \
             (`--nic` runs only)",
        ),
        &[form(
            "dma_unmap_page",
            "dma",
            "dma_unmap_page",
            tp::dma_handback::ARGS,
            "the same tracepoint under its name from 6.12 until 6.17",
        )],
    )),
    optional(tp(
        "dma",
        "dma_sync_single_for_cpu",
        tp::dma_handback::ARGS,
        "a recycled receive buffer synced for the CPU: the same hand-back, without an unmap",
    )),
    optional(tp(
        "net",
        "napi_gro_receive_entry",
        tp::rx_entry::ARGS,
        "a frame the receiving NIC's driver hands up, paired with its buffer's hand-back",
    )),
    optional(tp(
        "net",
        "netif_receive_skb_entry",
        tp::rx_entry::ARGS,
        "the same, from a driver without GRO",
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
    /// The source that attached, if one did.
    pub via: Option<Attach>,
}

impl ProbeStatus {
    /// For a probe attached through a source other than its first: where
    /// its evidence came from, and how that differs, in one line.
    pub fn substitute(&self) -> Option<String> {
        let via = self.via.as_ref()?;
        (via.program != self.spec.program).then(|| {
            format!(
                "{} from {} {}: {}",
                self.spec.attach.target(),
                via.kind(),
                via.target(),
                via.note
            )
        })
    }

    /// The source attached, or else the probe's first: what the doctor and
    /// the report name.
    pub fn source(&self) -> &Attach {
        self.via.as_ref().unwrap_or(&self.spec.attach)
    }
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
        let mut names: Vec<_> = PROBES
            .iter()
            .flat_map(|p| p.sources())
            .map(|s| s.program)
            .collect();
        let all = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all, "one program per source");
        for p in PROBES {
            assert_eq!(
                p.program, p.attach.program,
                "a probe is named by its first source"
            );
            for f in p.fallbacks {
                assert!(
                    !f.note.is_empty(),
                    "{}: say how {} differs",
                    p.program,
                    f.program
                );
            }
        }
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
