//! Field offsets of the classic tracepoints zc reads, as the eBPF side expects
//! them.
//!
//! Classic tracepoint records have a layout published in
//! `/sys/kernel/tracing/events/<category>/<name>/format`. These records are
//! far more stable than kernel structs, so the eBPF programs read them at
//! fixed offsets; user space checks every offset below against the running
//! kernel's format file before attaching, and refuses a probe whose layout
//! differs (naming the field) rather than reading garbage.

/// One field of a tracepoint record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub offset: usize,
    pub size: usize,
}

const fn f(name: &'static str, offset: usize, size: usize) -> Field {
    Field { name, offset, size }
}

pub mod sys_enter {
    use super::*;
    pub const ID: Field = f("id", 8, 8);
    pub const ARGS: Field = f("args", 16, 48);
    pub const FIELDS: &[Field] = &[ID, ARGS];
}
pub mod sys_exit {
    use super::*;
    pub const ID: Field = f("id", 8, 8);
    pub const RET: Field = f("ret", 16, 8);
    pub const FIELDS: &[Field] = &[ID, RET];
}
pub mod sched_switch {
    use super::*;
    pub const PREV_PID: Field = f("prev_pid", 24, 4);
    pub const PREV_STATE: Field = f("prev_state", 32, 8);
    pub const NEXT_PID: Field = f("next_pid", 56, 4);
    pub const FIELDS: &[Field] = &[PREV_PID, PREV_STATE, NEXT_PID];
}
/// Both `page_fault_user` and `page_fault_kernel`.
pub mod page_fault {
    use super::*;
    pub const ADDRESS: Field = f("address", 8, 8);
    pub const IP: Field = f("ip", 16, 8);
    pub const ERROR_CODE: Field = f("error_code", 24, 8);
    pub const FIELDS: &[Field] = &[ADDRESS, IP, ERROR_CODE];
}
/// `mm_filemap_get_pages` and `mm_filemap_map_pages`.
pub mod filemap_range {
    use super::*;
    pub const I_INO: Field = f("i_ino", 8, 8);
    pub const S_DEV: Field = f("s_dev", 16, 4);
    pub const INDEX: Field = f("index", 24, 8);
    pub const LAST_INDEX: Field = f("last_index", 32, 8);
    pub const FIELDS: &[Field] = &[I_INO, S_DEV, INDEX, LAST_INDEX];
}
pub mod filemap_fault {
    use super::*;
    pub const I_INO: Field = f("i_ino", 8, 8);
    pub const S_DEV: Field = f("s_dev", 16, 4);
    pub const INDEX: Field = f("index", 24, 8);
    pub const FIELDS: &[Field] = &[I_INO, S_DEV, INDEX];
}
pub mod filemap_add {
    use super::*;
    pub const I_INO: Field = f("i_ino", 16, 8);
    pub const INDEX: Field = f("index", 24, 8);
    pub const S_DEV: Field = f("s_dev", 32, 4);
    pub const ORDER: Field = f("order", 36, 1);
    pub const FIELDS: &[Field] = &[I_INO, INDEX, S_DEV, ORDER];
}
/// `block_bio_queue`: fires in the submitting task, so the sender's reads are
/// attributable by tid (request issue may happen later in a kworker).
pub mod block_bio_queue {
    use super::*;
    pub const DEV: Field = f("dev", 8, 4);
    pub const SECTOR: Field = f("sector", 16, 8);
    pub const NR_SECTOR: Field = f("nr_sector", 24, 4);
    pub const RWBS: Field = f("rwbs", 28, 10);
    pub const FIELDS: &[Field] = &[DEV, SECTOR, NR_SECTOR, RWBS];
}
pub mod block_rq_complete {
    use super::*;
    pub const DEV: Field = f("dev", 8, 4);
    pub const SECTOR: Field = f("sector", 16, 8);
    pub const NR_SECTOR: Field = f("nr_sector", 24, 4);
    pub const FIELDS: &[Field] = &[DEV, SECTOR, NR_SECTOR];
}
pub mod sock_send_length {
    use super::*;
    pub const SK: Field = f("sk", 8, 8);
    pub const RET: Field = f("ret", 20, 4);
    pub const FIELDS: &[Field] = &[SK, RET];
}
pub mod skb_copy_datagram_iovec {
    use super::*;
    pub const SKBADDR: Field = f("skbaddr", 8, 8);
    pub const LEN: Field = f("len", 16, 4);
    pub const FIELDS: &[Field] = &[SKBADDR, LEN];
}
pub mod dma_map_phys {
    use super::*;
    pub const SIZE: Field = f("size", 32, 8);
    pub const FIELDS: &[Field] = &[SIZE];
}
pub mod dma_map_sg {
    use super::*;
    pub const FULL_ENTS: Field = f("full_ents", 16, 4);
    pub const FIELDS: &[Field] = &[FULL_ENTS];
}
/// `irq:irq_handler_entry`: a device interrupt's handler runs.
pub mod irq_handler_entry {
    use super::*;
    pub const IRQ: Field = f("irq", 8, 4);
    pub const FIELDS: &[Field] = &[IRQ];
}
/// `irq_vectors:*_entry` (x86): the timer, IPIs, irq work.
pub mod irq_vector_entry {
    use super::*;
    pub const VECTOR: Field = f("vector", 8, 4);
    pub const FIELDS: &[Field] = &[VECTOR];
}
pub mod task_newtask {
    use super::*;
    pub const PID: Field = f("pid", 8, 4);
    pub const COMM: Field = f("comm", 12, 16);
    pub const CLONE_FLAGS: Field = f("clone_flags", 32, 8);
    pub const FIELDS: &[Field] = &[PID, COMM, CLONE_FLAGS];
}
pub mod sched_process_exit {
    use super::*;
    pub const COMM: Field = f("comm", 8, 16);
    pub const PID: Field = f("pid", 24, 4);
    pub const GROUP_DEAD: Field = f("group_dead", 32, 1);
    pub const FIELDS: &[Field] = &[COMM, PID, GROUP_DEAD];
}
pub mod io_uring_create {
    use super::*;
    pub const CTX: Field = f("ctx", 16, 8);
    pub const FLAGS: Field = f("flags", 32, 4);
    pub const FIELDS: &[Field] = &[CTX, FLAGS];
}
pub mod io_uring_submit_req {
    use super::*;
    pub const CTX: Field = f("ctx", 8, 8);
    pub const REQ: Field = f("req", 16, 8);
    pub const USER_DATA: Field = f("user_data", 24, 8);
    pub const OPCODE: Field = f("opcode", 32, 1);
    pub const SQ_THREAD: Field = f("sq_thread", 48, 1);
    pub const FIELDS: &[Field] = &[CTX, REQ, USER_DATA, OPCODE, SQ_THREAD];
}
pub mod io_uring_complete {
    use super::*;
    pub const CTX: Field = f("ctx", 8, 8);
    pub const REQ: Field = f("req", 16, 8);
    pub const USER_DATA: Field = f("user_data", 24, 8);
    pub const RES: Field = f("res", 32, 4);
    pub const CFLAGS: Field = f("cflags", 36, 4);
    pub const FIELDS: &[Field] = &[CTX, REQ, USER_DATA, RES, CFLAGS];
}
/// `sock:inet_sock_set_state`: a socket changes TCP state; on
/// `TCP_CLOSE` zc stops following it, so a `struct sock` the kernel reuses
/// for another connection is not taken for the old one.
pub mod inet_sock_set_state {
    use super::*;
    pub const SKADDR: Field = f("skaddr", 8, 8);
    pub const NEWSTATE: Field = f("newstate", 20, 4);
    pub const PROTOCOL: Field = f("protocol", 30, 2);
    pub const FIELDS: &[Field] = &[SKADDR, NEWSTATE, PROTOCOL];
}
