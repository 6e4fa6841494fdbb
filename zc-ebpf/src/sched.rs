//! Real context switches: `sched:sched_switch` where the sender leaves or
//! gets a CPU. A preempted thread (runnable, `prev_state` 0 or
//! `TASK_REPORT_MAX`) is counted apart from one that blocked and had to
//! wait (a sleep state in `prev_state & 0xff`), e.g. on a full socket buffer.

use aya_ebpf::{macros::tracepoint, programs::TracePointContext};
use zc_common::{
    Config,
    counters::Counter,
    event::{Kind, SchedEvent, op, sched_blocked},
    tracepoints as tp,
};

use crate::helpers::{armed, config, count, emit, entry, field, header};

#[tracepoint(category = "sched", name = "sched_switch")]
pub fn sched_switch(ctx: TracePointContext) -> u32 {
    entry!(try_sched_switch, ctx)
}

fn try_sched_switch(ctx: &TracePointContext) -> Result<(), i64> {
    let sender = config(Config::SenderTid);
    if !armed() || sender == 0 {
        return Ok(());
    }
    let prev: u32 = field(ctx, tp::sched_switch::PREV_PID)?;
    let next: u32 = field(ctx, tp::sched_switch::NEXT_PID)?;
    let op = if prev as u64 == sender {
        op::SCHED_OUT
    } else if next as u64 == sender {
        op::SCHED_IN
    } else {
        return Ok(());
    };
    let prev_state: u64 = field(ctx, tp::sched_switch::PREV_STATE)?;
    if op == op::SCHED_OUT {
        count(Counter::SchedOut, 1);
        count(
            if sched_blocked(prev_state) {
                Counter::SchedOutBlocked
            } else {
                Counter::SchedOutPreempted
            },
            1,
        );
    }
    emit(SchedEvent {
        h: header(Kind::Sched, op),
        prev_pid: prev,
        next_pid: next,
        prev_state,
    });
    Ok(())
}
