//! The transfer zc runs and traces: its file, its private network, the
//! strategies' send loops, and one traced run tying them together.

pub mod file;
pub mod net;
pub mod run;
pub mod strategy;
