//! zc: trace, live from the kernel, where a file-to-socket transfer copies
//! data and switches between user and kernel mode.
//!
//! Data flows one way: kernel event (ring buffer) → [`decode`] → [`model`]
//! (what happened to which bytes) → views ([`report`], [`tui`], [`export`],
//! and the sentences they share, [`explain`]).
//! The kernel-facing code lives in [`kernel`], the transfer itself in
//! [`demo`], and the ways to send a file in one table, [`strategy`].

pub mod bundled;
pub mod cli;
pub mod decode;
pub mod demo;
pub mod doctor;
pub mod exit;
pub mod explain;
pub mod export;
pub mod kernel;
pub mod ktls;
pub mod lang;
pub mod mechanism;
pub mod model;
pub mod place;
pub mod recording;
pub mod report;
pub mod session;
pub mod signals;
pub mod source;
pub mod strategy;
pub mod trace;
pub mod trace_report;
pub mod tracefile;
pub mod tui;
pub mod units;

/// Says loudly that a test could not run here. Written to stderr directly,
/// not through `eprintln!`, so the test harness cannot capture it away: a
/// skipped test is never silent. Under `cargo xtask test` it is also
/// appended to the file `ZC_SKIP_LOG` names, which the summary counts.
#[cfg(test)]
pub(crate) fn skipped(msg: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "SKIPPED {msg}");
    if let Some(path) = std::env::var_os("ZC_SKIP_LOG")
        && let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
    {
        let _ = writeln!(f, "{msg}");
    }
}
