//! The model: what happened to which bytes, from kernel evidence.
//!
//! Two inputs, one vocabulary. [`counts::Counts`] holds the exact in-kernel
//! totals of a run; [`classify`] turns them into the figures of the report
//! (copies, references, DMA, switches). [`steps`] turns the ordered event
//! stream into the steps a viewer animates, each a movement of bytes between
//! two [`Place`]s with the events that prove it. Both apply the same copy
//! rules ([`rules`]). [`outcome::RunOutcome`] ties one run's results together
//! and is built in one place; the views only read it. Everything here is
//! pure: no kernel, no root, testable from synthetic input.

pub mod classify;
pub mod context;
pub mod cost;
pub mod counts;
pub mod facts;
pub mod ledger;
pub mod outcome;
pub mod pages;
pub mod rules;
pub mod steps;
pub mod stream;
pub mod sweep;
#[cfg(test)]
pub mod synthetic;
pub mod syscalls;
pub mod tally;
pub mod tree;

pub use crate::place::{Movement, Place};
pub use crate::strategy::Strategy;

/// Page size assumed for page counts (x86_64 and most arm64).
pub const PAGE_SIZE: u64 = 4096;
