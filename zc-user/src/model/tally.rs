//! Running totals over steps: what the event stream says happened, summed.
//!
//! One set of sums serves two purposes. Over a whole run it cross-checks the
//! in-kernel counters (they must agree when no event was lost). Over a
//! prefix of a playback plan it is the "played so far" column of the live
//! view, exact at every position.

use super::{
    Movement, Place,
    steps::{Step, StepKind},
};

/// Totals of a sequence of steps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub syscalls: u64,
    pub mode_switches: u64,
    pub cpu_copy_bytes: u64,
    pub reference_bytes: u64,
    pub pinned_bytes: u64,
    pub disk_bytes: u64,
    pub receiver_copy_bytes: u64,
    pub page_faults: u64,
    pub sched_switches: u64,
}

impl Tally {
    /// The totals of `steps`.
    pub fn of(steps: &[Step]) -> Tally {
        let mut t = Tally::default();
        for s in steps {
            t.add(&s.kind, 1);
        }
        t
    }

    /// Adds `count` occurrences of `kind`. A move's bytes are taken as they
    /// are (a folded move already carries the sum of the moves it stands for).
    pub fn add(&mut self, kind: &StepKind, count: u64) {
        match kind {
            StepKind::Enter { .. } => {
                self.syscalls += count;
                self.mode_switches += count;
            }
            StepKind::Exit { .. } => self.mode_switches += count,
            StepKind::Fault { in_kernel, .. } => {
                self.page_faults += count;
                // A fault inside a syscall's copy is already in kernel mode.
                if !in_kernel {
                    self.mode_switches += 2 * count;
                }
            }
            StepKind::SchedOut { .. } => self.sched_switches += count,
            StepKind::Move {
                movement,
                from,
                to,
                bytes,
            } => match (movement, to) {
                (Movement::CpuCopy, Place::Receiver) => self.receiver_copy_bytes += bytes,
                (Movement::CpuCopy, _) => self.cpu_copy_bytes += bytes,
                (Movement::Reference, Place::Nic) => self.reference_bytes += bytes,
                (Movement::Pin, Place::Nic) => self.pinned_bytes += bytes,
                (Movement::Dma, _) if *from == Place::Disk => self.disk_bytes += bytes,
                _ => {}
            },
            StepKind::SchedIn
            | StepKind::Block { .. }
            | StepKind::Completion { .. }
            | StepKind::Ring { .. }
            | StepKind::Thread { .. } => {}
        }
    }

    /// The sum of two tallies.
    pub fn plus(self, o: Tally) -> Tally {
        Tally {
            syscalls: self.syscalls + o.syscalls,
            mode_switches: self.mode_switches + o.mode_switches,
            cpu_copy_bytes: self.cpu_copy_bytes + o.cpu_copy_bytes,
            reference_bytes: self.reference_bytes + o.reference_bytes,
            pinned_bytes: self.pinned_bytes + o.pinned_bytes,
            disk_bytes: self.disk_bytes + o.disk_bytes,
            receiver_copy_bytes: self.receiver_copy_bytes + o.receiver_copy_bytes,
            page_faults: self.page_faults + o.page_faults,
            sched_switches: self.sched_switches + o.sched_switches,
        }
    }
}
