//! Playback plan: a run's steps arranged for a person to follow.
//!
//! A run of 8 MiB makes hundreds of calls and thousands of skbs: no one can
//! watch them all. The plan shows the first loop iterations step by step,
//! folds the middle into one "× N more" item, and shows the last iteration
//! again. Consecutive identical movements (45 segments copied at transmit)
//! become one item with their sum. The totals of every item are kept, so the
//! "so far" figures at any position are exact for what has been played.

use crate::model::{
    Movement, Place, Strategy,
    pages::{PageRef, Touch},
    steps::{Step, StepKind},
    tally::Tally,
};

/// What a plan item shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// One step (or several identical consecutive moves folded together).
    Step {
        kind: StepKind,
        /// How many steps were folded into this one (≥ 1).
        count: u64,
        ts_ns: u64,
        evidence: &'static str,
    },
    /// The middle of a long transfer, folded: `calls` syscalls like the ones
    /// shown, and the kinds of movement made meanwhile (so the diagram can
    /// light their arrows even when a whole run folds, as an SQPOLL run does).
    Group {
        calls: u64,
        iterations: u64,
        ts_ns: u64,
        moves: Vec<MoveKind>,
    },
}

/// A kind of movement: how, from where, to where.
pub type MoveKind = (Movement, Place, Place);

/// Pages of the demo file an item touched, and how.
pub type Touched = Vec<(PageRef, Touch)>;

/// The plan of one run.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    pub items: Vec<Item>,
    /// Totals after each item (same length as `items`).
    pub so_far: Vec<Tally>,
    /// The file pages each item touched (same length as `items`): a folded
    /// item touched the pages of every step in it.
    pub touched: Vec<Touched>,
}

/// The file pages a step touched, with how.
fn touched(step: &Step) -> Touched {
    match step.kind {
        StepKind::Move {
            movement, from, to, ..
        } => match Touch::of(movement, from, to) {
            Some(t) => step.pages.iter().map(|p| (*p, t)).collect(),
            None => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// Whether a step is worth its own item in the plan (receiver copies and
/// block completions are summarised in the table instead).
fn shown(kind: &StepKind) -> bool {
    !matches!(
        kind,
        StepKind::SchedIn
            | StepKind::Move {
                to: Place::Receiver,
                ..
            }
            | StepKind::Block { .. }
    )
}

fn same_move(a: &StepKind, b: &StepKind) -> bool {
    match (a, b) {
        (
            StepKind::Move {
                movement: m1,
                from: f1,
                to: t1,
                ..
            },
            StepKind::Move {
                movement: m2,
                from: f2,
                to: t2,
                ..
            },
        ) => m1 == m2 && f1 == f2 && t1 == t2,
        (StepKind::Fault { in_kernel: a, .. }, StepKind::Fault { in_kernel: b, .. }) => a == b,
        (
            StepKind::Ring {
                opcode: o1,
                complete: c1,
                helper: h1,
                ..
            },
            StepKind::Ring {
                opcode: o2,
                complete: c2,
                helper: h2,
                ..
            },
        ) => o1 == o2 && c1 == c2 && h1 == h2,
        (StepKind::Completion { copied: a, .. }, StepKind::Completion { copied: b, .. }) => a == b,
        _ => false,
    }
}

/// A step folded with others like it: the kind (bytes summed for moves) and how many.
struct Folded {
    kind: StepKind,
    count: u64,
    ts_ns: u64,
    evidence: &'static str,
    touched: Touched,
}

impl Folded {
    fn contribution(&self) -> Tally {
        let mut one = Tally::default();
        // A folded move already carries the summed bytes; anything else
        // counts once per occurrence.
        let n = if matches!(self.kind, StepKind::Move { .. }) {
            1
        } else {
            self.count
        };
        one.add(&self.kind, n);
        one
    }
}

/// Whether a step merges with others of its kind inside a window: moves,
/// and what happens without a mode switch (io_uring requests, completions).
fn merges(kind: &StepKind) -> bool {
    matches!(
        kind,
        StepKind::Move { .. } | StepKind::Ring { .. } | StepKind::Completion { .. }
    )
}

/// Pass one: drop what is not shown, and within each window between mode
/// switches merge the steps of one kind (a sendfile's 16 references and 16
/// transmits become one of each, in order of first appearance; so do an
/// io_uring batch's requests).
fn fold_windows(steps: &[Step]) -> Vec<Folded> {
    let mut out: Vec<Folded> = Vec::new();
    let mut window_start: usize = 0;
    for step in steps.iter().filter(|s| shown(&s.kind)) {
        let is_move = merges(&step.kind);
        if !is_move {
            // A boundary, unless it repeats the previous boundary (fault after fault).
            let len = out.len();
            if let Some(last) = out.last_mut()
                && len == window_start
                && same_move(&last.kind, &step.kind)
            {
                last.count += 1;
                continue;
            }
            out.push(Folded {
                kind: step.kind.clone(),
                count: 1,
                ts_ns: step.ts_ns,
                evidence: step.evidence,
                touched: touched(step),
            });
            window_start = out.len();
            continue;
        }
        if let Some(f) = out[window_start..]
            .iter_mut()
            .find(|f| same_move(&f.kind, &step.kind))
        {
            match (&mut f.kind, &step.kind) {
                (StepKind::Move { bytes: b, .. }, StepKind::Move { bytes: add, .. }) => *b += add,
                (
                    StepKind::Completion { sends: s, .. },
                    StepKind::Completion { sends: add, .. },
                ) => *s += add,
                _ => {}
            }
            f.count += 1;
            f.touched.extend(touched(step));
        } else {
            out.push(Folded {
                kind: step.kind.clone(),
                count: 1,
                ts_ns: step.ts_ns,
                evidence: step.evidence,
                touched: touched(step),
            });
        }
    }
    out
}

/// What the plan counts iterations in: syscalls, or chunks' READs coming
/// back from an io_uring (whose syscalls a batch shares; the completions,
/// unlike the submissions, spread over the run).
fn units(f: &Folded) -> u64 {
    match f.kind {
        StepKind::Enter { .. } => 1,
        StepKind::Ring {
            opcode: zc_common::event::IORING_OP_READ,
            complete: true,
            ..
        } => f.count,
        _ => 0,
    }
}

impl Plan {
    /// Arranges `steps`: `detail` loop iterations at the start and one at
    /// the end step by step, the rest folded.
    pub fn build(strategy: Strategy, steps: &[Step], detail: u64) -> Plan {
        let spec = strategy.spec();
        let per_iter = spec.calls_per_iteration;
        let folded = fold_windows(steps);
        let total_calls: u64 = folded.iter().map(units).sum();
        // Setup calls (mmap) come before the loop, teardown (munmap) after.
        let head = spec.setup_calls + detail * per_iter;
        let tail = per_iter + spec.teardown_calls;
        let fold = total_calls > head + tail + per_iter;
        let fold_to = total_calls.saturating_sub(tail);

        let mut plan = Plan::default();
        let mut acc = Tally::default();
        let mut calls_seen = 0u64;
        // (syscalls, units, ts, moves) of the folded stretch, and its pages.
        let mut group: Option<(u64, u64, u64, Vec<MoveKind>)> = None;
        let mut group_pages = Touched::new();
        for f in folded {
            calls_seen += units(&f);
            let in_fold = fold && calls_seen > head && calls_seen <= fold_to;
            if !in_fold && let Some((calls, units, ts_ns, moves)) = group.take() {
                plan.push(
                    Item::Group {
                        calls,
                        iterations: units / per_iter.max(1),
                        ts_ns,
                        moves,
                    },
                    acc,
                    std::mem::take(&mut group_pages),
                );
            }
            acc = acc.plus(f.contribution());
            if in_fold {
                group_pages.extend(f.touched.iter().copied());
                let g = group.get_or_insert((0, 0, f.ts_ns, Vec::new()));
                if let StepKind::Move {
                    movement, from, to, ..
                } = f.kind
                    && !g.3.contains(&(movement, from, to))
                {
                    g.3.push((movement, from, to));
                }
                if matches!(f.kind, StepKind::Enter { .. }) {
                    g.0 += 1;
                }
                g.1 += units(&f);
                continue;
            }
            plan.push(
                Item::Step {
                    kind: f.kind,
                    count: f.count,
                    ts_ns: f.ts_ns,
                    evidence: f.evidence,
                },
                acc,
                f.touched,
            );
        }
        if let Some((calls, units, ts_ns, moves)) = group.take() {
            plan.push(
                Item::Group {
                    calls,
                    iterations: units / per_iter.max(1),
                    ts_ns,
                    moves,
                },
                acc,
                group_pages,
            );
        }
        plan
    }

    fn push(&mut self, item: Item, so_far: Tally, touched: Touched) {
        self.items.push(item);
        self.so_far.push(so_far);
        self.touched.push(touched);
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Movement;

    fn enter(name: &'static str) -> Step {
        Step {
            ts_ns: 0,
            kind: StepKind::Enter {
                syscall: name.into(),
            },
            evidence: "",
            pages: Vec::new(),
        }
    }
    fn exit(name: &'static str) -> Step {
        Step {
            ts_ns: 0,
            kind: StepKind::Exit {
                syscall: name.into(),
                ret: 10,
                mapping: false,
            },
            evidence: "",
            pages: Vec::new(),
        }
    }
    fn copy(from: Place, to: Place) -> Step {
        Step {
            ts_ns: 0,
            kind: StepKind::Move {
                movement: Movement::CpuCopy,
                from,
                to,
                bytes: 10,
            },
            evidence: "",
            pages: Vec::new(),
        }
    }

    fn read_write(n: usize) -> Vec<Step> {
        let mut v = Vec::new();
        for _ in 0..n {
            v.push(enter("read"));
            v.push(copy(Place::PageCache, Place::UserBuffer));
            v.push(exit("read"));
            v.push(enter("write"));
            v.push(copy(Place::UserBuffer, Place::SocketBuffer));
            v.push(exit("write"));
        }
        v
    }

    #[test]
    fn long_runs_fold_the_middle_and_keep_exact_totals() {
        let plan = Plan::build(
            Strategy::named("read-write").expect("in the table"),
            &read_write(100),
            2,
        );
        let groups: Vec<_> = plan
            .items
            .iter()
            .filter_map(|i| match i {
                Item::Group {
                    calls, iterations, ..
                } => Some((*calls, *iterations)),
                _ => None,
            })
            .collect();
        assert_eq!(groups, vec![(194, 97)]);
        let last = plan.so_far.last().copied().unwrap_or_default();
        assert_eq!(last.syscalls, 200);
        assert_eq!(last.mode_switches, 400);
        assert_eq!(last.cpu_copy_bytes, 2000);
        // Two iterations before the group, one after: 6 + 1 + 6 items.
        assert_eq!(plan.len(), 6 * 2 + 1 + 6);
        // Totals never go down along the plan.
        assert!(
            plan.so_far
                .windows(2)
                .all(|w| w[0].syscalls <= w[1].syscalls)
        );
    }

    /// On real recorded runs, the plan's final totals are the event tally:
    /// folding loses no byte and no switch.
    #[test]
    fn plans_of_recorded_runs_keep_every_total() {
        let rec = crate::recording::load(include_bytes!("../../tests/fixtures/demo-1mib.json"))
            .expect("fixture");
        assert!(!rec.runs.is_empty());
        for o in &rec.runs {
            let s = o.facts.strategy;
            let plan = Plan::build(s, &o.steps, 2);
            let last = plan.so_far.last().copied().unwrap_or_default();
            let t = o.tally;
            assert_eq!(
                (
                    last.syscalls,
                    last.mode_switches,
                    last.cpu_copy_bytes,
                    last.reference_bytes,
                    last.disk_bytes
                ),
                (
                    t.syscalls,
                    t.mode_switches,
                    t.cpu_copy_bytes,
                    t.reference_bytes,
                    t.disk_bytes
                ),
                "{}",
                s.name()
            );
            assert!(
                plan.len() < 60,
                "{}: {} items is too many to watch",
                s.name(),
                plan.len()
            );
        }
    }

    #[test]
    fn short_runs_are_not_folded() {
        let plan = Plan::build(
            Strategy::named("read-write").expect("in the table"),
            &read_write(3),
            2,
        );
        assert!(plan.items.iter().all(|i| matches!(i, Item::Step { .. })));
        assert_eq!(plan.len(), 18);
    }

    #[test]
    fn identical_moves_fold_into_one_item() {
        let mut steps = vec![enter("sendfile"), exit("sendfile")];
        for _ in 0..45 {
            steps.push(copy(Place::PageCache, Place::Nic));
        }
        let plan = Plan::build(
            Strategy::named("sendfile").expect("in the table"),
            &steps,
            2,
        );
        assert_eq!(plan.len(), 3);
        match &plan.items[2] {
            Item::Step {
                count,
                kind: StepKind::Move { bytes, .. },
                ..
            } => {
                assert_eq!(*count, 45);
                assert_eq!(*bytes, 450);
            }
            other => panic!("{other:?}"),
        }
    }
}
