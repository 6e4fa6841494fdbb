//! The floor: a program that does nothing. A tracepoint with no program on
//! it is a patched-out branch; with one, every hit calls into the BPF
//! dispatcher (`__bpf_trace_run`: a recursion guard, RCU, the program's
//! run context), whatever the program then does. That part of tracing's
//! cost belongs to the kernel, not to zc. The floor benchmark attaches
//! this program to exactly the tracepoints zc's probes use, as a raw
//! tracepoint: one program, attached many times, through the same
//! `bpf_raw_tp` path and dispatcher a `tp_btf` program runs through. zc
//! itself loads it only unattached, to time the kernel's timing: test runs
//! of a program that does nothing show what the clock reads around each
//! run add to it (`kernel::stats::clock_cost` in zc-user).

use aya_ebpf::{macros::raw_tracepoint, programs::RawTracePointContext};

#[raw_tracepoint]
pub fn zc_floor(_ctx: RawTracePointContext) -> i32 {
    0
}
