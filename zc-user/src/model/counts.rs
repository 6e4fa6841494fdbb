//! Exact totals of one run, as the kernel counted them (summed over CPUs).

use std::collections::BTreeMap;

use zc_common::counters::{COUNTERS, Counter};

/// Per-counter totals and per-syscall totals of one traced run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Counts {
    values: Vec<u64>,
    /// Syscall number → (entries, sum of positive return values).
    pub syscalls: BTreeMap<u64, SyscallTotals>,
    /// Tasks in whose context no program of zc ran (`Counter::BlindStretches`).
    pub blind: Vec<BlindTask>,
    /// Program → runs the kernel skipped since arming (a program is not
    /// re-entered on a CPU), only programs that skipped any.
    pub missed_runs: BTreeMap<String, u64>,
    /// io_uring opcode → the demo ring's requests of it that completed
    /// without error (only opcodes that did).
    pub ring_requests: BTreeMap<u8, u64>,
}

/// A task that left a CPU with no `sched_switch` run to see it: the kernel
/// ran none of zc's programs in its context, softirqs on its stack
/// included. Named from `/proc` when the run ends.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BlindTask {
    pub tid: u32,
    /// Its process (0 when it was gone before zc asked).
    pub pid: u32,
    pub comm: String,
    /// How many of its stretches on a CPU no program saw end.
    pub stretches: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyscallTotals {
    pub calls: u64,
    pub bytes: u64,
}

impl Default for Counts {
    /// Every counter at zero (a slot for each, so `add` counts).
    fn default() -> Counts {
        Counts::new()
    }
}

impl Counts {
    pub fn new() -> Counts {
        Counts {
            values: vec![0; COUNTERS as usize],
            syscalls: BTreeMap::new(),
            blind: Vec::new(),
            missed_runs: BTreeMap::new(),
            ring_requests: BTreeMap::new(),
        }
    }

    pub fn get(&self, c: Counter) -> u64 {
        self.values.get(c as usize).copied().unwrap_or(0)
    }

    pub fn set(&mut self, c: Counter, v: u64) {
        if let Some(slot) = self.values.get_mut(c as usize) {
            *slot = v;
        }
    }

    pub fn add(&mut self, c: Counter, v: u64) {
        if let Some(slot) = self.values.get_mut(c as usize) {
            *slot += v;
        }
    }

    /// Adds every counter and syscall total of `o`.
    pub fn merge(&mut self, o: &Counts) {
        for (a, b) in self.values.iter_mut().zip(&o.values) {
            *a += b;
        }
        for (nr, t) in &o.syscalls {
            let s = self.syscalls.entry(*nr).or_default();
            s.calls += t.calls;
            s.bytes += t.bytes;
        }
        for (name, m) in &o.missed_runs {
            *self.missed_runs.entry(name.clone()).or_default() += m;
        }
        for (op, n) in &o.ring_requests {
            *self.ring_requests.entry(*op).or_default() += n;
        }
        for t in &o.blind {
            match self.blind.iter_mut().find(|b| b.tid == t.tid) {
                Some(b) => b.stretches += t.stretches,
                None => self.blind.push(t.clone()),
            }
        }
    }

    /// Calls of the syscall named `name` (0 when unknown or not called).
    pub fn calls(&self, name: &str) -> u64 {
        super::syscalls::number(name)
            .and_then(|nr| self.syscalls.get(&nr))
            .map_or(0, |t| t.calls)
    }

    /// Bytes returned by the syscall named `name`.
    pub fn bytes(&self, name: &str) -> u64 {
        super::syscalls::number(name)
            .and_then(|nr| self.syscalls.get(&nr))
            .map_or(0, |t| t.bytes)
    }

    /// Total syscalls of the sender thread.
    pub fn total_syscalls(&self) -> u64 {
        self.syscalls.values().map(|t| t.calls).sum()
    }

    /// Syscall name → calls, for reports.
    pub fn syscalls_by_name(&self) -> BTreeMap<String, u64> {
        self.syscalls
            .iter()
            .filter(|(_, t)| t.calls > 0)
            .map(|(nr, t)| (super::syscalls::name(*nr).into_owned(), t.calls))
            .collect()
    }
}
