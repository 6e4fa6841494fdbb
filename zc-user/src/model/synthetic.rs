//! Synthetic runs for the tests of the model and of the views that speak
//! from it: a strategy's facts for a 1 MiB file in 64 KiB chunks, and
//! syscall totals set by name, as the kernel's counters would hold them.

use super::{
    Strategy,
    counts::{Counts, SyscallTotals},
    facts::RunFacts,
    syscalls::number,
};

pub const MIB: u64 = 1 << 20;

/// The facts of a warm 1 MiB run of the strategy called `name`.
pub fn facts(name: &str) -> RunFacts {
    let strategy = Strategy::named(name).expect("in the table");
    RunFacts {
        strategy,
        size: MIB,
        chunk: 64 << 10,
        cold: false,
        sender_sg: strategy.spec().sender_sg,
        nic: false,
        rate: None,
    }
}

/// `calls` calls of the syscall `name`, returning `bytes` in all.
pub fn with_calls(c: &mut Counts, name: &str, calls: u64, bytes: u64) {
    let nr = number(name).expect("known syscall");
    c.syscalls.insert(nr, SyscallTotals { calls, bytes });
}
