//! What `zc trace` costs a server under load: Debian's nginx (sendfile on)
//! and Python's http.server (read + send), each serving a 1 MiB file over
//! loopback to ApacheBench (`ab`, from apache2-utils). Interleaved, each
//! round: untraced; under the floor (an empty program on each tracepoint
//! `zc trace` attaches, `zc::kernel::floor`); with `zc trace --pid`; the
//! floor without the syscall tracepoints; `zc trace --no-syscalls`; and
//! bpftrace counting hits on the same tracepoints. Reports requests per
//! second (median, min–max), each one's throughput cost, and zc against
//! its floor (the floor's rate ÷ zc's: issue 22's target is ≤ 1.2). ab runs
//! on the same machine, so its own syscalls pay for `raw_syscalls` being
//! traced too, as every process of a real machine does. Needs root, nginx,
//! python3 and ab (bpftrace for its column); says SKIPPED otherwise.
//!
//!     cargo bench -p zc-user --bench trace_load

#[path = "../tests/common/nginx.rs"]
mod nginx;
#[path = "common/tracers.rs"]
mod tracers;

use zc::kernel::{
    floor::Floor,
    probes::{ProbeSpec, ProbeStatus},
    tracer::{Purpose, Tracer},
};

use std::{
    io::{BufRead as _, BufReader},
    net::{TcpListener, TcpStream},
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

const REPS: usize = 7;

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn wait_port(port: u16) -> anyhow::Result<()> {
    let t0 = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        anyhow::ensure!(
            t0.elapsed() < Duration::from_secs(20),
            "nothing listens on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// Requests per second that `ab` measured.
fn ab(port: u16) -> anyhow::Result<f64> {
    let out = Command::new("ab")
        .args(["-q", "-n", "600", "-c", "4"])
        .arg(format!("http://127.0.0.1:{port}/payload.bin"))
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("Requests per second:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("ab printed no rate: {text}"))
}

/// `zc trace --pid …` (with `extra` flags), returned once it follows the pids.
fn zc_trace(pids: &[u32], extra: &[&str]) -> anyhow::Result<Child> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_zc"));
    cmd.args(["trace", "--no-tui"]).args(extra);
    for p in pids {
        cmd.args(["--pid", &p.to_string()]);
    }
    let mut c = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn()?;
    let err = c.stderr.take().ok_or_else(|| anyhow::anyhow!("stderr"))?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            if line.starts_with("zc: tracing") {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(30))
        .map_err(|_| anyhow::anyhow!("zc trace did not start"))?;
    Ok(c)
}

/// The pids of `pid` and its children (nginx's master and workers).
fn with_children(pid: u32) -> Vec<u32> {
    let kids =
        std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
    std::iter::once(pid)
        .chain(kids.split_whitespace().filter_map(|k| k.parse().ok()))
        .collect()
}

fn stats(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(|a, b| a.total_cmp(b));
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

/// Requests per second under `zc trace --pid` with `extra` flags.
fn ab_traced(port: u16, pids: &[u32], extra: &[&str]) -> anyhow::Result<f64> {
    let mut zc = zc_trace(pids, extra)?;
    let r = ab(port);
    tracers::stop(&mut zc, Duration::from_secs(10));
    r
}

/// Requests per second with the empty program on the probes `keep` keeps.
fn ab_floor(
    port: u16,
    status: &[ProbeStatus],
    keep: impl Fn(&ProbeSpec) -> bool,
) -> anyhow::Result<f64> {
    let floor = Floor::attach(status, keep)?;
    let r = ab(port);
    drop(floor);
    r
}

fn measure(name: &str, port: u16, pids: &[u32], status: &[ProbeStatus]) -> anyhow::Result<()> {
    wait_port(port)?;
    ab(port)?; // warm the page cache and the server
    let all = |_: &ProbeSpec| true;
    let light = |p: &ProbeSpec| !p.for_mode_switches();
    let tracepoints = Floor::attach(status, all)?.attached.clone();
    let [
        mut plain,
        mut floor,
        mut traced,
        mut floor_light,
        mut light_traced,
        mut counted,
    ]: [Vec<f64>; 6] = Default::default();
    let with_bpftrace = have("bpftrace");
    for _ in 0..REPS {
        plain.push(ab(port)?);
        floor.push(ab_floor(port, status, all)?);
        traced.push(ab_traced(port, pids, &[])?);
        floor_light.push(ab_floor(port, status, light)?);
        light_traced.push(ab_traced(port, pids, &["--no-syscalls"])?);
        if with_bpftrace {
            let guard = tracers::Bpftrace::start(&tracepoints)?;
            counted.push(ab(port)?);
            drop(guard);
        }
    }
    let p = stats(plain);
    let cell = |v: Vec<f64>| {
        let s = stats(v);
        format!(
            "{:.0} ({:.0}–{:.0}), {:.1} %",
            s.0,
            s.1,
            s.2,
            100.0 * (1.0 - s.0 / p.0)
        )
    };
    let over = |zc: &[f64], floor: &[f64]| {
        let r = stats(floor.to_vec()).0 / stats(zc.to_vec()).0;
        format!("{r:.2}× {}", if r <= 1.2 { "met" } else { "**missed**" })
    };
    println!(
        "| {name} | {:.0} ({:.0}–{:.0}) | {} | {} | {} | {} | {} | {} | {} |",
        p.0,
        p.1,
        p.2,
        cell(floor.clone()),
        cell(traced.clone()),
        over(&traced, &floor),
        cell(floor_light.clone()),
        cell(light_traced.clone()),
        over(&light_traced, &floor_light),
        if counted.is_empty() {
            "bpftrace not installed".to_string()
        } else {
            cell(counted)
        }
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    if let Some(why) = zc::session::cannot_trace_reason() {
        println!("SKIPPED trace_load benchmark: {why}");
        return Ok(());
    }
    for tool in ["nginx", "ab", "python3"] {
        if !have(tool) {
            println!("SKIPPED trace_load benchmark: {tool} is not installed");
            return Ok(());
        }
    }
    let dir = tempfile::tempdir_in("/var/tmp")?;
    std::fs::write(dir.path().join("payload.bin"), vec![0x5au8; 1 << 20])?;
    println!(
        "## `zc trace` on a server under load: ab -n 600 -c 4, 1 MiB file, {REPS} interleaved pairs\n"
    );
    println!(
        "Each cell: requests/s, median (min–max), and the throughput lost against untraced. \
         \"÷ floor\": the floor's rate ÷ zc's, target ≤ 1.2.\n"
    );
    println!(
        "| server | untraced | the floor | zc trace | ÷ floor | the floor without syscalls | zc trace --no-syscalls | ÷ its floor | bpftrace counting (classic tracepoints) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    // The probes `zc trace` attaches on this kernel, for the floor.
    let status = {
        let kernel = zc::kernel::layout::running_kernel()?;
        Tracer::load(&kernel, Purpose::Trace)?.status().to_vec()
    };
    let port = free_port()?;
    let conf = dir.path().join("nginx.conf");
    std::fs::write(&conf, nginx::conf(dir.path(), dir.path(), port))?;
    let mut nginx = Command::new("nginx")
        .arg("-c")
        .arg(&conf)
        .arg("-p")
        .arg(dir.path())
        .stderr(Stdio::null())
        .spawn()?;
    wait_port(port)?;
    let result = measure(
        "nginx, sendfile on",
        port,
        &with_children(nginx.id()),
        &status,
    );
    // SAFETY: kill on our own child.
    unsafe { libc::kill(nginx.id() as i32, libc::SIGQUIT) };
    let _ = nginx.wait();
    result?;
    let port = free_port()?;
    let python = if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    };
    let mut py = Command::new(python)
        .args([
            "-m",
            "http.server",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
        ])
        .arg("--directory")
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let result = measure("python3 -m http.server", port, &[py.id()], &status);
    let _ = py.kill();
    let _ = py.wait();
    result
}
