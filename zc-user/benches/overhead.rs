//! What tracing costs the transfer: each strategy run live with zc's eBPF
//! programs attached and with none loaded at all, interleaved, on the same
//! file and network. Reports medians and the traced / untraced ratio of the
//! sender's CPU time and of the loop's wall time, measured in this one run.
//! Needs root; says SKIPPED otherwise.
//!
//!     cargo bench -p zc-user --bench overhead

use zc::{model::Strategy, session};

const REPS: usize = 7;

/// Median, min and max.
fn stats(mut v: Vec<u64>) -> (u64, u64, u64) {
    v.sort_unstable();
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

/// "1.23ms (1.10–1.50)" for nanoseconds.
fn ms((med, lo, hi): (u64, u64, u64)) -> String {
    format!(
        "{:.2}ms ({:.2}–{:.2})",
        med as f64 / 1e6,
        lo as f64 / 1e6,
        hi as f64 / 1e6
    )
}

fn main() -> anyhow::Result<()> {
    if let Some(why) = session::cannot_trace_reason() {
        println!("SKIPPED overhead benchmark: {why}");
        return Ok(());
    }
    let opts = session::Options {
        size: 8 << 20,
        chunk: 64 << 10,
        file: None,
        cold: false,
        sg: None,
        rate: None,
    };
    let mut live = session::LiveSession::start(&opts, None)?;
    println!(
        "{:<16} {:>24} {:>24} {:>6}   {:>24} {:>24} {:>6}",
        "8 MiB, median (min–max)",
        "cpu traced",
        "untraced",
        "ratio",
        "wall traced",
        "untraced",
        "ratio"
    );
    for s in Strategy::all() {
        let (mut cpu_t, mut cpu_u, mut wall_t, mut wall_u) = (vec![], vec![], vec![], vec![]);
        for _ in 0..REPS {
            let t = live.run(s)?;
            let u = live.run_untraced(s)?;
            anyhow::ensure!(
                t.received_ok && u.received_ok,
                "{}: transfer not intact",
                s.name()
            );
            cpu_t.push(t.sender_cpu_ns);
            cpu_u.push(u.sender_cpu_ns);
            wall_t.push(t.elapsed_ns);
            wall_u.push(u.elapsed_ns);
        }
        let (ct, cu, wt, wu) = (stats(cpu_t), stats(cpu_u), stats(wall_t), stats(wall_u));
        println!(
            "{:<16} {:>24} {:>24} {:>5.2}x   {:>24} {:>24} {:>5.2}x",
            s.name(),
            ms(ct),
            ms(cu),
            ct.0 as f64 / cu.0.max(1) as f64,
            ms(wt),
            ms(wu),
            wt.0 as f64 / wu.0.max(1) as f64
        );
    }
    let attached = live
        .probes()
        .iter()
        .filter(|p| p.state == zc::kernel::probes::ProbeState::Attached)
        .count();
    println!(
        "(traced: {attached} probes attached and following the demo; untraced: no eBPF program loaded; {REPS} runs each, interleaved)"
    );
    Ok(())
}
