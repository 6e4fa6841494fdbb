//! What tracing costs the transfer: each strategy run live with zc's eBPF
//! programs attached and with none loaded at all, interleaved, on the same
//! file and network. Reports medians and the traced / untraced ratio of the
//! sender's CPU time and of the loop's wall time, measured in this one run.
//! Needs root; says SKIPPED otherwise.
//!
//!     cargo bench -p zc-user --bench overhead

use zc::{model::Strategy, session};

const REPS: usize = 7;

fn median(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v[v.len() / 2]
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
        "{:<16} {:>12} {:>12} {:>7}   {:>12} {:>12} {:>7}",
        "8 MiB, median", "cpu traced", "untraced", "ratio", "wall traced", "untraced", "ratio"
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
        let (ct, cu, wt, wu) = (median(cpu_t), median(cpu_u), median(wall_t), median(wall_u));
        println!(
            "{:<16} {:>10.2}ms {:>10.2}ms {:>6.2}x   {:>10.2}ms {:>10.2}ms {:>6.2}x",
            s.name(),
            ct as f64 / 1e6,
            cu as f64 / 1e6,
            ct as f64 / cu.max(1) as f64,
            wt as f64 / 1e6,
            wu as f64 / 1e6,
            wt as f64 / wu.max(1) as f64
        );
    }
    println!(
        "(traced: 18 probes attached and following the demo; untraced: no eBPF program loaded)"
    );
    Ok(())
}
