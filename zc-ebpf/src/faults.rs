//! Page faults of the sender: kernel entries the article does not count.
//! mmap's pages are mapped on first touch; when the touch happens inside
//! write()'s own copy, the fault is `page_fault_kernel` and is no mode
//! switch (the thread is already in the kernel).

use aya_ebpf::{macros::btf_tracepoint, programs::BtfTracePointContext};
use zc_common::{
    counters::Counter,
    event::{FaultEvent, Kind, op},
    tracepoints as tp,
};

use crate::helpers::{arg, count, emit_with, header, in_sender, kread, lay};

#[btf_tracepoint(function = "page_fault_user")]
pub fn page_fault_user(ctx: BtfTracePointContext) -> u32 {
    let _ = try_fault(&ctx, op::FAULT_USER);
    0
}

#[btf_tracepoint(function = "page_fault_kernel")]
pub fn page_fault_kernel(ctx: BtfTracePointContext) -> u32 {
    let _ = try_fault(&ctx, op::FAULT_KERNEL);
    0
}

fn try_fault(ctx: &BtfTracePointContext, op: u16) -> Result<(), i64> {
    if !in_sender() {
        return Ok(());
    }
    count(
        if op == op::FAULT_USER {
            Counter::FaultUser
        } else {
            Counter::FaultKernel
        },
        1,
    );
    emit_with(|| FaultEvent {
        h: header(Kind::Fault, op),
        address: arg(ctx, tp::page_fault::ADDRESS),
        ip: kread(arg(ctx, tp::page_fault::REGS), lay!(regs_ip)).unwrap_or(0),
        error_code: arg(ctx, tp::page_fault::ERROR_CODE),
    });
    Ok(())
}
