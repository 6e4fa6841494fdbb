//! Page faults of the sender: kernel entries the article does not count.
//! mmap's pages are mapped on first touch; when the touch happens inside
//! write()'s own copy, the fault is `page_fault_kernel` and is no mode
//! switch (the thread is already in the kernel).

use aya_ebpf::{macros::tracepoint, programs::TracePointContext};
use zc_common::{
    counters::Counter,
    event::{FaultEvent, Kind, op},
    tracepoints as tp,
};

use crate::helpers::{count, emit, field, header, in_sender};

#[tracepoint(category = "exceptions", name = "page_fault_user")]
pub fn page_fault_user(ctx: TracePointContext) -> u32 {
    let _ = try_fault(&ctx, op::FAULT_USER);
    0
}

#[tracepoint(category = "exceptions", name = "page_fault_kernel")]
pub fn page_fault_kernel(ctx: TracePointContext) -> u32 {
    let _ = try_fault(&ctx, op::FAULT_KERNEL);
    0
}

fn try_fault(ctx: &TracePointContext, op: u16) -> Result<(), i64> {
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
    emit(FaultEvent {
        h: header(Kind::Fault, op),
        address: field(ctx, tp::page_fault::ADDRESS)?,
        ip: field(ctx, tp::page_fault::IP)?,
        error_code: field(ctx, tp::page_fault::ERROR_CODE)?,
    });
    Ok(())
}
