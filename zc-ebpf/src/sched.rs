//! Real context switches: `sched:sched_switch` where the sender leaves or
//! gets a CPU. A preempted thread (runnable, `prev_state` 0 or
//! `TASK_REPORT_MAX`) is counted apart from one that blocked and had to
//! wait (a sleep state in `prev_state & 0xff`), e.g. on a full socket buffer;
//! a frozen task, an idle one and a dying one are folded in as the kernel's
//! own record folds them (`zc_common::event::sched_report_state`).
//!
//! The threads the sender starts are followed too: `task:task_newtask` in
//! the sender is io_uring starting its SQ thread or an io-wq worker
//! (`create_io_thread`, which `sched_process_fork` does not report), kernel
//! threads of the sender's process that make no syscalls. Their time on a
//! CPU is where the work of an SQPOLL ring went.

use aya_ebpf::{
    macros::{btf_tracepoint, map},
    maps::{HashMap, PerCpuArray},
    programs::BtfTracePointContext,
};
use zc_common::{
    Config,
    counters::Counter,
    event::{Kind, SchedEvent, ThreadEvent, op, sched_blocked, sched_report_state},
    tracepoints as tp,
    tree::proc_slot,
};

use crate::helpers::{
    ZC_FOLLOWED, ZC_HELPERS, arg, armed, config, count, count_net, count_proc, current_tgid,
    current_tid, emit, entry, followed, for_sender, gated, header, kread, lay, set_config,
    set_followed, tree_mode,
};

#[btf_tracepoint(function = "sched_switch")]
pub fn sched_switch(ctx: BtfTracePointContext) -> u32 {
    entry!(try_sched_switch, ctx)
}

/// The `prev_state` of the classic record, from the tracepoint's arguments
/// and the leaving task's `exit_state` (`event::sched_report_state`).
#[inline(always)]
fn report_state(ctx: &BtfTracePointContext) -> u64 {
    let preempt: u64 = arg(ctx, tp::sched_switch::PREEMPT);
    let raw: u64 = arg(ctx, tp::sched_switch::PREV_STATE);
    let prev: u64 = arg(ctx, tp::sched_switch::PREV);
    let exit_state: u32 = if preempt & 0xff == 0 {
        kread(prev, lay!(task_exit_state)).unwrap_or(0)
    } else {
        0
    };
    sched_report_state(preempt & 0xff != 0, raw as u32, exit_state)
}

/// The pid of a task the tracepoint passed.
#[inline(always)]
fn pid_of(task: u64) -> Result<u32, i64> {
    kread(task, lay!(task_pid))
}

/// The task each CPU's last seen switch gave it, as tid + 1 (0: none yet).
#[map(name = "ZC_CPU_NEXT")]
static ZC_CPU_NEXT: PerCpuArray<u64> = PerCpuArray::with_max_entries(1, 0);

/// Tasks whose switch away no run of this program saw, and how often.
#[map(name = "ZC_BLIND")]
static ZC_BLIND: HashMap<u32, u64> = HashMap::with_max_entries(64, 0);

/// A switch away from a task other than the one this CPU was last given
/// means the kernel ran none of zc's programs for that task's own switch
/// away: a task in whose context BPF does not run (on some hosts, by the
/// host's choice). Whatever ran on its stack meanwhile, softirqs included,
/// was invisible; the run says so.
#[inline(always)]
fn check_blind(prev: u32, next: u32) {
    let Some(p) = ZC_CPU_NEXT.get_ptr_mut(0) else {
        return;
    };
    // SAFETY: this CPU's slot; a switch does not nest on its CPU.
    let last = unsafe { *p };
    if last != 0 && last - 1 != prev as u64 {
        let tid = (last - 1) as u32;
        count_net(Counter::BlindStretches, 1);
        match ZC_BLIND.get_ptr_mut(tid) {
            // SAFETY: a live entry; two CPUs may add at once, so atomically.
            Some(n) => unsafe {
                core::intrinsics::atomic_xadd::<
                    u64,
                    u64,
                    { core::intrinsics::AtomicOrdering::Relaxed },
                >(n, 1);
            },
            None => {
                let _ = ZC_BLIND.insert(tid, 1u64, 0);
            }
        }
    }
    // SAFETY: as above.
    unsafe { *p = next as u64 + 1 };
}

fn try_sched_switch(ctx: &BtfTracePointContext) -> Result<(), i64> {
    if !armed() {
        return Ok(());
    }
    // The switch runs in the task leaving the CPU: `prev` is the current one.
    let prev = current_tid();
    let next = pid_of(arg(ctx, tp::sched_switch::NEXT))?;
    check_blind(prev, next);
    if tree_mode() {
        // The switch runs in the thread that leaves the CPU: its process
        // is the current one.
        if followed(current_tgid()) {
            switched_out(report_state(ctx));
        }
        return Ok(());
    }
    let sender = config(Config::SenderTid);
    if sender == 0 {
        return Ok(());
    }
    helper_time(prev, next);
    // A stepped run's sender sleeping at its gate: not the strategy's.
    if (prev as u64 == sender || next as u64 == sender) && gated() {
        return Ok(());
    }
    let op = if prev as u64 == sender {
        op::SCHED_OUT
    } else if next as u64 == sender {
        op::SCHED_IN
    } else {
        return Ok(());
    };
    let prev_state = report_state(ctx);
    if op == op::SCHED_OUT {
        switched_out(prev_state);
    }
    emit(SchedEvent {
        h: header(Kind::Sched, op),
        prev_pid: prev,
        next_pid: next,
        prev_state,
    });
    Ok(())
}

/// Counts a followed thread leaving its CPU, blocked or preempted.
#[inline(always)]
fn switched_out(prev_state: u64) {
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

/// A helper thread's time on a CPU: from the switch that gives it one to the
/// switch that takes it away.
#[inline(always)]
fn helper_time(prev: u32, next: u32) {
    if config(Config::HelpersSeen) == 0 {
        return; // no kernel thread this run: no lookup on every switch
    }
    // SAFETY: ktime has no arguments.
    let now = unsafe { aya_ebpf::helpers::bpf_ktime_get_ns() };
    if let Some(p) = ZC_HELPERS.get_ptr_mut(prev) {
        // SAFETY: the entry exists; only switches of this thread write it.
        let since = unsafe { *p };
        if since != 0 {
            count(Counter::HelperCpuNs, now.saturating_sub(since));
        }
        count(Counter::HelperSchedOut, 1);
        // SAFETY: as above.
        unsafe { *p = 0 };
    }
    if let Some(p) = ZC_HELPERS.get_ptr_mut(next) {
        // SAFETY: as above.
        unsafe { *p = now };
    }
}

/// `task_newtask(task, clone_flags)`, in the thread that creates the task:
/// a thread the sender (or one of its followed threads) starts is followed
/// from now.
#[btf_tracepoint(function = "task_newtask")]
pub fn task_newtask(ctx: BtfTracePointContext) -> u32 {
    entry!(try_newtask, ctx)
}

fn try_newtask(ctx: &BtfTracePointContext) -> Result<(), i64> {
    if tree_mode() {
        return follow_child(ctx);
    }
    // The sender's threads, and theirs: an SQ thread starts io-wq workers.
    if !for_sender() {
        return Ok(());
    }
    let task: u64 = arg(ctx, tp::task_newtask::TASK);
    let child = pid_of(task)?;
    let comm: [u8; 16] = kread(task, lay!(task_comm))?;
    let _ = ZC_HELPERS.insert(child, 0, 0);
    set_config(Config::HelpersSeen, 1);
    count(Counter::HelperThreads, 1);
    emit(ThreadEvent {
        h: header(Kind::Thread, 0),
        tid: child,
        _pad: 0,
        comm,
    });
    Ok(())
}

/// `CLONE_THREAD`: the new task is a thread of its creator's process.
const CLONE_THREAD: u64 = 0x0001_0000;

/// `zc trace`: a process a followed process forks joins the tree (its pid
/// is its tgid); a new thread is followed already, by its process.
#[inline(always)]
fn follow_child(ctx: &BtfTracePointContext) -> Result<(), i64> {
    if !armed() || !followed(current_tgid()) {
        return Ok(());
    }
    let flags: u64 = arg(ctx, tp::task_newtask::CLONE_FLAGS);
    if flags & CLONE_THREAD != 0 {
        return Ok(());
    }
    let child = pid_of(arg(ctx, tp::task_newtask::TASK))?;
    let parent = current_tgid();
    // SAFETY: the value is copied out at once.
    let root = unsafe { ZC_FOLLOWED.get(parent) }
        .copied()
        .unwrap_or(parent);
    let _ = ZC_FOLLOWED.insert(child, root, 0);
    set_followed(child, true);
    count_proc(child, proc_slot::ROOT, root as u64);
    count_proc(child, proc_slot::PARENT, parent as u64);
    count(Counter::TreeForks, 1);
    Ok(())
}

/// `sched_process_exit(p, group_dead)`: the last thread of a followed
/// process is gone, so the process leaves the tree (its pid may be reused
/// by a stranger).
#[btf_tracepoint(function = "sched_process_exit")]
pub fn sched_process_exit(ctx: BtfTracePointContext) -> u32 {
    entry!(try_exit, ctx)
}

fn try_exit(ctx: &BtfTracePointContext) -> Result<(), i64> {
    if !armed() || !tree_mode() {
        return Ok(());
    }
    let group_dead: u64 = arg(ctx, tp::sched_process_exit::GROUP_DEAD);
    process_exit(ctx, group_dead & 0xff != 0)
}

/// The older form, `sched_process_exit(p)`, fired after `do_exit` has
/// counted the thread out of `p->signal->live`: a count of 0 means every
/// thread of the process has passed that point. More than one thread may
/// see 0; the first one takes the process out of the tree, the others find
/// it gone.
#[btf_tracepoint(function = "sched_process_exit")]
pub fn sched_process_exit_live(ctx: BtfTracePointContext) -> u32 {
    entry!(try_exit_live, ctx)
}

fn try_exit_live(ctx: &BtfTracePointContext) -> Result<(), i64> {
    if !armed() || !tree_mode() {
        return Ok(());
    }
    let task: u64 = arg(ctx, tp::sched_process_exit::TASK);
    let signal: u64 = kread(task, lay!(task_signal))?;
    let live: i32 = kread(signal, lay!(signal_live))?;
    process_exit(ctx, live == 0)
}

#[inline(always)]
fn process_exit(ctx: &BtfTracePointContext, group_dead: bool) -> Result<(), i64> {
    let tgid = current_tgid();
    if group_dead && followed(tgid) {
        let _ = ZC_FOLLOWED.remove(tgid);
        set_followed(tgid, false);
        count(Counter::TreeExits, 1);
        // Its last name: after an exec, not the one it was forked with.
        let task: u64 = arg(ctx, tp::sched_process_exit::TASK);
        let comm: [u64; 2] = kread(task, lay!(task_comm))?;
        count_proc(tgid, proc_slot::COMM, comm[0]);
        count_proc(tgid, proc_slot::COMM_END, comm[1]);
        count_proc(tgid, proc_slot::EXITED, 1);
    }
    Ok(())
}
