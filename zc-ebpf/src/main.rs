//! zc's eBPF programs, one module per probe family, each program a thin
//! entry calling a `try_*` function that never panics.
//!
//! Attribution happens here, in the kernel, by identity rather than by
//! process name: the sender thread's tid for syscalls, faults, scheduler
//! switches and block requests; the demo file's page cache (its
//! `address_space`, learned from a read of it) for page-cache events; the
//! demo socket for skbs, which are often transmitted from softirq context
//! on behalf of some other task (its cookie, from user space, is matched
//! with `bpf_get_socket_cookie` at its first send, and its `struct sock *`
//! then against `skb->sk`); the sender's io_uring by its
//! ring, and the kernel threads the sender starts by their tids; the
//! receiver's tid for its copy.
//!
//! Every event first bumps exact per-CPU counters, then tries to put a record
//! in the ring buffer. A full ring buffer costs animation detail, never
//! totals; every read that fails is counted too.
//!
//! The crate builds for the BPF target (the real object) and, as an empty
//! program, for the host, so `cargo build --workspace` and clippy work.
#![cfg_attr(target_arch = "bpf", no_std)]
#![cfg_attr(target_arch = "bpf", no_main)]
// For `atomic_xadd`: the BPF target has no atomic read-modify-write in `core`.
#![cfg_attr(target_arch = "bpf", feature(core_intrinsics))]
#![cfg_attr(target_arch = "bpf", allow(internal_features))]

mod block;
mod device;
mod dma;
mod faults;
mod filemap;
mod floor;
mod forward;
mod helpers;
mod irq;
mod nic_rx;
mod receive;
mod sched;
mod send;
mod syscalls;
mod tap;
mod uring;

#[cfg(target_arch = "bpf")]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    loop {}
}

#[cfg(not(target_arch = "bpf"))]
fn main() {}

#[unsafe(link_section = "license")]
#[unsafe(no_mangle)]
static LICENSE: [u8; 4] = *b"GPL\0";
