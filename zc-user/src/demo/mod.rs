//! The transfer zc runs and traces: its file, its private network, and one
//! traced run tying them to a strategy's send loop (`crate::strategy`).

pub mod file;
pub mod guard;
pub mod net;
pub mod nics;
pub mod run;
pub mod window;
