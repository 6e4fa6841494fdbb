//! What tracing costs, measured in one run on this machine.
//!
//! 1. Each strategy at 256 MiB, interleaved three ways: untraced (no eBPF
//!    program loaded at all), under the floor (one empty program on each
//!    tracepoint zc attaches, `zc::kernel::floor`: what the kernel charges
//!    any eBPF tracer there before its program does anything), and traced
//!    by zc. Wall time and the whole transfer's CPU (sender, receiver, the
//!    sender's kernel threads, softirq on every CPU), medians with min–max,
//!    the ratios between the three, and zc's eBPF time as a share of the
//!    traced CPU (the kernel's own timing of each program).
//! 2. The same transfer while bpftrace counts hits on the same tracepoints,
//!    and under `strace -c -f`: the other tracers' cost, beside untraced,
//!    the floor and zc.
//! 3. A syscall storm: read+write of 256 MiB in 4 KiB calls (131,072
//!    syscalls), where per-event cost dominates, with all five.
//! 4. zc's start (BTF, maps, programs loaded and attached), its exit (every
//!    program detached) and `zc doctor`'s wall time; zc's peak RSS for an
//!    8 MiB and a 1 GiB demo.
//!
//! Prints Markdown (for docs/performance.md) with issue 22's targets
//! marked met or missed. Needs root; says SKIPPED otherwise, and says so
//! for a comparison whose tool (bpftrace, strace) is not installed.
//!
//!     cargo bench -p zc-user --bench overhead

#[path = "common/tracers.rs"]
mod tracers;

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};
use tracers::{Bpftrace, stop};

use zc::{
    kernel::{
        floor::Floor,
        layout,
        tracer::{Purpose, Tracer},
    },
    model::{Strategy, outcome::RunOutcome},
    session::{self, LiveSession},
};

const REPS: usize = 7;
const SIZE: u64 = 256 << 20;

/// Median, min and max.
fn stats(mut v: Vec<u64>) -> (u64, u64, u64) {
    v.sort_unstable();
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

fn ms((med, lo, hi): (u64, u64, u64)) -> String {
    format!(
        "{:.1} ms ({:.1}–{:.1})",
        med as f64 / 1e6,
        lo as f64 / 1e6,
        hi as f64 / 1e6
    )
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `strace -c -f` attached to every thread of this process; detached on drop.
struct Strace(Child);

impl Strace {
    fn start() -> anyhow::Result<Strace> {
        let c = Command::new("strace")
            .args(["-c", "-f", "-o", "/dev/null", "-p"])
            .arg(std::process::id().to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        std::thread::sleep(Duration::from_millis(500));
        Ok(Strace(c))
    }
}

impl Drop for Strace {
    fn drop(&mut self) {
        stop(&mut self.0, Duration::from_secs(5));
    }
}

#[derive(Default)]
struct Series {
    wall: Vec<u64>,
    cpu: Vec<u64>,
}

impl Series {
    fn push(&mut self, o: &RunOutcome) -> anyhow::Result<()> {
        anyhow::ensure!(
            o.received_ok,
            "{}: transfer not intact",
            o.facts.strategy.name()
        );
        self.wall.push(o.elapsed_ns);
        self.cpu.push(o.transfer_cpu_ns());
        Ok(())
    }
}

fn ratio(a: &[u64], b: &[u64]) -> f64 {
    stats(a.to_vec()).0 as f64 / stats(b.to_vec()).0.max(1) as f64
}

fn mark(ok: bool) -> &'static str {
    if ok { "met" } else { "**missed**" }
}

fn main() -> anyhow::Result<()> {
    if let Some(why) = session::cannot_trace_reason() {
        println!("SKIPPED overhead benchmark: {why}");
        return Ok(());
    }
    let bpftrace = have("bpftrace");
    let strace = have("strace");
    let opts = session::Options {
        size: SIZE,
        chunk: 64 << 10,
        file: None,
        cold: false,
        sg: None,
        rate: None,
        tap: None,
        nic: None,
    };
    let mut live = LiveSession::start(&opts, None)?;
    let status = live.probes().to_vec();
    // The floor's tracepoints, which bpftrace counts too.
    let floor_at = {
        let f = Floor::attach(&status, |_| true)?;
        for (what, why) in &f.left_out {
            println!("The floor leaves out {what}: {why}.\n");
        }
        f.attached.clone()
    };
    let floor_run = |live: &mut LiveSession, s: Strategy| -> anyhow::Result<RunOutcome> {
        let floor = Floor::attach(&status, |_| true)?;
        let o = live.run_untraced(s);
        drop(floor);
        o
    };
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("## Tracing overhead, {} runs each, interleaved\n", REPS);
    println!(
        "Machine: {} CPUs, kernel {}. Transfer CPU = sender + receiver + the sender's kernel threads + softirq on every CPU. \
         The floor: one empty program on each of the {} tracepoints zc attaches.\n",
        cpus,
        live.context.kernel,
        floor_at.len()
    );
    println!(
        "| 256 MiB, 64 KiB calls | wall untraced | wall, floor | wall, zc | floor ÷ untraced | zc ÷ untraced | zc ÷ floor | CPU untraced | CPU, zc | CPU: floor ÷ untraced | zc ÷ untraced | zc ÷ floor | zc's eBPF, of traced CPU | the same less the timing's own cost |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    let (mut worst_wall, mut worst_share, mut worst_programs): (f64, f64, f64) = (0.0, 0.0, 0.0);
    let mut worst_name = (String::new(), String::new(), String::new());
    let mut clock = Vec::new();
    for s in Strategy::all() {
        if live.refusal(s).is_some() {
            println!(
                "| {} | skipped: the kernel cannot run it | | | | | | | | | | | | |",
                s.name()
            );
            continue;
        }
        let (mut t, mut f, mut u) = (Series::default(), Series::default(), Series::default());
        let (mut share, mut programs) = (Vec::new(), Vec::new());
        for _ in 0..REPS {
            let traced = live.run(s)?;
            let cost = zc::report::run_cost(&traced);
            share.push((cost.share_of_cpu.unwrap_or(0.0) * 1e4) as u64);
            programs.push((cost.programs_share_of_cpu.unwrap_or(0.0) * 1e4) as u64);
            clock.extend(cost.clock_ns_per_run.map(|c| (c * 1000.0) as u64));
            t.push(&traced)?;
            f.push(&floor_run(&mut live, s)?)?;
            u.push(&live.run_untraced(s)?)?;
        }
        let w = ratio(&t.wall, &u.wall);
        if w > worst_wall {
            worst_wall = w;
            worst_name.0 = s.name().to_string();
        }
        let sh = stats(share).0 as f64 / 100.0;
        if sh > worst_share {
            worst_share = sh;
            worst_name.1 = s.name().to_string();
        }
        let own = stats(programs).0 as f64 / 100.0;
        if own > worst_programs {
            worst_programs = own;
            worst_name.2 = s.name().to_string();
        }
        println!(
            "| {} | {} | {} | {} | {:.2}× | {:.2}× | {:.2}× | {} | {} | {:.2}× | {:.2}× | {:.2}× | {:.1} % | {:.1} % |",
            s.name(),
            ms(stats(u.wall.clone())),
            ms(stats(f.wall.clone())),
            ms(stats(t.wall.clone())),
            ratio(&f.wall, &u.wall),
            w,
            ratio(&t.wall, &f.wall),
            ms(stats(u.cpu.clone())),
            ms(stats(t.cpu.clone())),
            ratio(&f.cpu, &u.cpu),
            ratio(&t.cpu, &u.cpu),
            ratio(&t.cpu, &f.cpu),
            sh,
            own
        );
    }
    if !clock.is_empty() {
        let (med, lo, hi) = stats(clock);
        println!(
            "\nThe kernel's timing of each program run (`BPF_ENABLE_STATS`) adds \
             {:.1} ns ({:.1}–{:.1}) to each run it times, measured by zc on an empty \
             program at each session's first run; the last column takes it off.",
            med as f64 / 1000.0,
            lo as f64 / 1000.0,
            hi as f64 / 1000.0
        );
    }

    // The other tracers, on the same transfers.
    let mut storm_ratio = None;
    for (label, strategy, chunk) in [
        (
            "read-write, 256 MiB, 64 KiB calls",
            "read-write",
            64u64 << 10,
        ),
        (
            "sendfile-gather, 256 MiB, 64 KiB calls",
            "sendfile-gather",
            64 << 10,
        ),
        (
            "syscall storm: read-write, 256 MiB, 4 KiB calls",
            "read-write",
            4 << 10,
        ),
    ] {
        let s = Strategy::named(strategy).ok_or_else(|| anyhow::anyhow!("no {strategy}"))?;
        live.set_chunk(chunk);
        let (mut none, mut fl, mut zc_t, mut bt, mut st) = (
            Series::default(),
            Series::default(),
            Series::default(),
            Series::default(),
            Series::default(),
        );
        for _ in 0..REPS {
            none.push(&live.run_untraced(s)?)?;
            fl.push(&floor_run(&mut live, s)?)?;
            zc_t.push(&live.run(s)?)?;
            if bpftrace {
                let guard = Bpftrace::start(&floor_at)?;
                let o = live.run_untraced(s)?;
                drop(guard);
                bt.push(&o)?;
            }
            if strace {
                let guard = Strace::start()?;
                let o = live.run_untraced(s)?;
                drop(guard);
                st.push(&o)?;
            }
        }
        println!("\n| {label} | wall, median (min–max) | ratio to untraced | ratio to the floor |");
        println!("|---|---|---|---|");
        println!("| untraced | {} | 1.00× | |", ms(stats(none.wall.clone())));
        println!(
            "| the floor: empty programs on zc's tracepoints | {} | {:.2}× | 1.00× |",
            ms(stats(fl.wall.clone())),
            ratio(&fl.wall, &none.wall)
        );
        let zr = ratio(&zc_t.wall, &none.wall);
        println!(
            "| zc | {} | {:.2}× | {:.2}× |",
            ms(stats(zc_t.wall.clone())),
            zr,
            ratio(&zc_t.wall, &fl.wall)
        );
        if chunk == 4 << 10 {
            storm_ratio = Some(zr);
        }
        if bpftrace {
            println!(
                "| bpftrace counting hits on the same tracepoints (classic) | {} | {:.2}× | {:.2}× |",
                ms(stats(bt.wall.clone())),
                ratio(&bt.wall, &none.wall),
                ratio(&bt.wall, &fl.wall)
            );
        } else {
            println!("| bpftrace | not installed | | |");
        }
        if strace {
            println!(
                "| strace -c -f | {} | {:.2}× | {:.2}× |",
                ms(stats(st.wall.clone())),
                ratio(&st.wall, &none.wall),
                ratio(&st.wall, &fl.wall)
            );
        } else {
            println!("| strace | not installed | | |");
        }
    }
    live.set_chunk(64 << 10);
    drop(live);

    // Start and exit: the probes loaded and attached, then all detached.
    let (mut start, mut exit) = (Vec::new(), Vec::new());
    for _ in 0..REPS {
        // From nothing: the kernel's BTF read and checked, then every probe.
        let t0 = Instant::now();
        let kernel = layout::running_kernel()?;
        let tracer = Tracer::load(&kernel, Purpose::Demo)?;
        start.push(t0.elapsed().as_nanos() as u64);
        let t1 = Instant::now();
        drop(tracer);
        exit.push(t1.elapsed().as_nanos() as u64);
    }
    let zc_bin = env!("CARGO_BIN_EXE_zc");
    let mut doctor = Vec::new();
    for _ in 0..REPS {
        let t0 = Instant::now();
        let st = Command::new(zc_bin)
            .arg("doctor")
            .stdout(Stdio::null())
            .status()?;
        anyhow::ensure!(st.success(), "zc doctor failed");
        doctor.push(t0.elapsed().as_nanos() as u64);
    }
    let rss = |size: &str| -> anyhow::Result<u64> {
        let out = Command::new("/usr/bin/time")
            .args([
                "-f",
                "%M",
                zc_bin,
                "demo",
                "--no-tui",
                "--strategy",
                "read-write",
                "--size",
                size,
            ])
            .stdout(Stdio::null())
            .output()?;
        let text = String::from_utf8_lossy(&out.stderr);
        Ok(text
            .lines()
            .filter_map(|l| l.trim().parse::<u64>().ok())
            .next_back()
            .unwrap_or(0))
    };
    let (small, big) = (rss("8MiB")?, rss("1GiB")?);
    let (s, e, d) = (stats(start), stats(exit), stats(doctor));
    println!("\n| zc itself | median (min–max) | target | |");
    println!("|---|---|---|---|");
    println!(
        "| start → probes attached | {} | ≤ 150 ms | {} |",
        ms(s),
        mark(s.0 <= 150_000_000)
    );
    println!(
        "| exit (every probe detached) | {} | ≤ 150 ms | {} |",
        ms(e),
        mark(e.0 <= 150_000_000)
    );
    println!(
        "| `zc doctor`, wall | {} | ≤ 400 ms | {} |",
        ms(d),
        mark(d.0 <= 400_000_000)
    );
    println!(
        "| worst wall-time ratio at 256 MiB, zc ÷ untraced ({}) | {worst_wall:.2}× | ≤ 1.10× | {} |",
        worst_name.0,
        mark(worst_wall <= 1.10)
    );
    println!(
        "| largest eBPF share of a traced 256 MiB transfer's CPU ({}) | {worst_share:.1} % | ≤ 8 % | {} |",
        worst_name.1,
        mark(worst_share <= 8.0)
    );
    println!(
        "| the same, less the timing's own cost ({}) | {worst_programs:.1} % | ≤ 8 % | {} |",
        worst_name.2,
        mark(worst_programs <= 8.0)
    );
    if let Some(r) = storm_ratio {
        println!(
            "| 4 KiB syscall storm, zc | {r:.2}× | ≤ 1.30× | {} |",
            mark(r <= 1.30)
        );
    }
    println!(
        "| peak RSS, 8 MiB / 1 GiB read-write demo | {} / {} MiB | flat in the size | {} |",
        small / 1024,
        big / 1024,
        mark(big <= small * 2)
    );
    Ok(())
}
