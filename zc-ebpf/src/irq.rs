//! Kernel entries the program did not ask for: an interrupt (a device IRQ,
//! the local timer, an IPI) that arrives while the sender runs in user mode
//! takes it into the kernel and back, like a syscall but unasked. These
//! handlers run in the interrupted task's context, so "the current thread is
//! the sender, and it is not inside a syscall" means the interrupt came from
//! its user mode. Counted apart from syscalls, never added to them.

use aya_ebpf::{macros::btf_tracepoint, programs::BtfTracePointContext};
use zc_common::counters::Counter;

use crate::{
    helpers::{count, in_sender},
    syscalls::in_syscall,
};

#[inline(always)]
fn try_entry() -> u32 {
    if in_sender() && !in_syscall() {
        count(Counter::AsyncEntries, 1);
    }
    0
}

#[btf_tracepoint(function = "irq_handler_entry")]
pub fn irq_handler_entry(_ctx: BtfTracePointContext) -> u32 {
    try_entry()
}

#[btf_tracepoint(function = "local_timer_entry")]
pub fn local_timer_entry(_ctx: BtfTracePointContext) -> u32 {
    try_entry()
}

#[btf_tracepoint(function = "reschedule_entry")]
pub fn reschedule_entry(_ctx: BtfTracePointContext) -> u32 {
    try_entry()
}

#[btf_tracepoint(function = "call_function_entry")]
pub fn call_function_entry(_ctx: BtfTracePointContext) -> u32 {
    try_entry()
}

#[btf_tracepoint(function = "call_function_single_entry")]
pub fn call_function_single_entry(_ctx: BtfTracePointContext) -> u32 {
    try_entry()
}

#[btf_tracepoint(function = "irq_work_entry")]
pub fn irq_work_entry(_ctx: BtfTracePointContext) -> u32 {
    try_entry()
}
