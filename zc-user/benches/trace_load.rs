//! What `zc trace` costs a server under load: Debian's nginx (sendfile on)
//! and Python's http.server (read + send), each serving a 1 MiB file over
//! loopback to ApacheBench (`ab`, from apache2-utils), measured untraced and
//! with `zc trace --pid` attached, and with bpftrace counting hits on the
//! same tracepoints, interleaved. Reports requests per second (median,
//! min–max) and each tracer's throughput cost. ab runs on the same machine,
//! so its own syscalls pay for `raw_syscalls` being traced too. Needs root,
//! nginx, python3 and ab (bpftrace for its column); says SKIPPED otherwise.
//!
//!     cargo bench -p zc-user --bench trace_load

#[path = "../tests/common/nginx.rs"]
mod nginx;
#[path = "common/tracers.rs"]
mod tracers;

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

/// `zc trace --pid …`, returned once it follows the pids.
fn zc_trace(pids: &[u32]) -> anyhow::Result<Child> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_zc"));
    cmd.args(["trace", "--no-tui"]);
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

fn measure(name: &str, port: u16, pids: &[u32]) -> anyhow::Result<()> {
    wait_port(port)?;
    ab(port)?; // warm the page cache and the server
    let (mut plain, mut traced, mut counted) = (Vec::new(), Vec::new(), Vec::new());
    let with_bpftrace = have("bpftrace");
    for _ in 0..REPS {
        plain.push(ab(port)?);
        let zc = zc_trace(pids)?;
        let r = ab(port);
        let mut zc = zc;
        tracers::stop(&mut zc, Duration::from_secs(10));
        traced.push(r?);
        if with_bpftrace {
            let guard = tracers::Bpftrace::start()?;
            counted.push(ab(port)?);
            drop(guard);
        }
    }
    let (p, t) = (stats(plain), stats(traced));
    let range = |s: (f64, f64, f64)| format!("{:.0} ({:.0}–{:.0})", s.0, s.1, s.2);
    let cost = |s: (f64, f64, f64)| format!("{:.1} %", 100.0 * (1.0 - s.0 / p.0));
    let (b_rate, b_cost) = if counted.is_empty() {
        ("bpftrace not installed".to_string(), String::new())
    } else {
        let b = stats(counted);
        (range(b), cost(b))
    };
    println!(
        "| {name} | {} | {} | {} | {} | {} |",
        range(p),
        range(t),
        cost(t),
        b_rate,
        b_cost
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
        "| server | requests/s untraced | with zc trace | zc's cost | with bpftrace counting | bpftrace's cost |"
    );
    println!("|---|---|---|---|---|---|");
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
    let result = measure("nginx, sendfile on", port, &with_children(nginx.id()));
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
    let result = measure("python3 -m http.server", port, &[py.id()]);
    let _ = py.kill();
    let _ = py.wait();
    result
}
