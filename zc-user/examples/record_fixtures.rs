//! Records the fixture the TUI's snapshot tests and the benchmark replay:
//! each strategy run live on a 1 MiB file, stored without kernel addresses.
//! Needs root.
//!
//!     sudo -E cargo xtask fixtures
//!
//! (which runs `cargo run --release -p zc-user --example record_fixtures`).
//!
//! Writes zc-user/tests/fixtures/demo-1mib.json.

use zc::{model::Strategy, report, session, tracefile};

fn main() -> anyhow::Result<()> {
    let opts = session::Options {
        size: 1 << 20,
        chunk: 64 << 10,
        file: None,
        cold: false,
        sg: None,
        rate: None,
        tap: None,
        nic: None,
    };
    let mut live = session::LiveSession::start(&opts, None)?;
    let mut runs = Vec::new();
    for s in Strategy::all() {
        let o = live.run(s)?;
        anyhow::ensure!(
            o.received_ok && o.lost_events == 0,
            "{} run not clean",
            s.name()
        );
        runs.push(o);
    }
    let trace = report::trace(live.trace_meta(), &runs, &live.context)?;
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/demo-1mib.json");
    tracefile::write_atomic(std::path::Path::new(path), &trace.to_bytes()?)?;
    eprintln!("wrote {path}");
    Ok(())
}
