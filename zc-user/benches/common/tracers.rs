//! What the benchmarks share about tracers: bpftrace counting hits on the
//! tracepoints zc attaches to (the other tracer zc is compared with), and
//! stopping a tracer as Ctrl-C would. The floor (empty programs on the
//! same tracepoints) is `zc::kernel::floor`.

use std::{
    io::{BufRead as _, BufReader},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// bpftrace counting hits on the tracepoints zc attached (the floor's
/// list, `category/name`), attached; stopped on drop. bpftrace 0.17 knows
/// only classic tracepoints, which fill a perf record per hit, where zc's
/// and the floor's raw ones do not: its column carries that cost too.
/// bpftrace attaches them through tracefs, which zc (all `tp_btf`) never
/// needs: where tracefs is not mounted, it is mounted for bpftrace's time
/// and unmounted after, so the host is left as it was.
pub struct Bpftrace(Child, Option<&'static str>);

const TRACEFS: &str = "/sys/kernel/tracing";

impl Bpftrace {
    pub fn start(tracepoints: &[String]) -> anyhow::Result<Bpftrace> {
        let mounted = if std::path::Path::new(TRACEFS).join("events").exists() {
            None
        } else {
            let ok = Command::new("mount")
                .args(["-t", "tracefs", "tracefs", TRACEFS])
                .status()
                .is_ok_and(|s| s.success());
            anyhow::ensure!(
                ok,
                "bpftrace needs tracefs, and {TRACEFS} could not be mounted"
            );
            Some(TRACEFS)
        };
        Self::attach(tracepoints)
            .map(|c| Bpftrace(c, mounted))
            .inspect_err(|_| {
                if let Some(path) = mounted {
                    let _ = Command::new("umount").arg(path).status();
                }
            })
    }

    fn attach(tracepoints: &[String]) -> anyhow::Result<Child> {
        let probes = tracepoints
            .iter()
            .map(|t| format!("tracepoint:{}", t.replace('/', ":")))
            .collect::<Vec<_>>()
            .join(", ");
        let mut c = Command::new("bpftrace")
            .args(["-e", &format!("{probes} {{ @[probe] = count(); }}")])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let out = c
            .stdout
            .take()
            .ok_or_else(|| anyhow::anyhow!("bpftrace stdout"))?;
        let mut line = String::new();
        BufReader::new(out).read_line(&mut line)?;
        if !line.contains("Attaching") {
            stop(&mut c, Duration::from_secs(5));
            anyhow::bail!("bpftrace did not attach: {line}");
        }
        // bpftrace says "Attaching" before it attaches: wait until the
        // kernel lists each of its tracepoints (bpftool perf show).
        let t0 = Instant::now();
        loop {
            let on = attached_by(c.id());
            if on >= tracepoints.len() {
                return Ok(c);
            }
            if t0.elapsed() > Duration::from_secs(60) {
                stop(&mut c, Duration::from_secs(5));
                anyhow::bail!(
                    "bpftrace attached {on} of {} tracepoints in 60 s",
                    tracepoints.len()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Bpftrace {
    fn drop(&mut self) {
        stop(&mut self.0, Duration::from_secs(5));
        if let Some(path) = self.1 {
            let _ = Command::new("umount").arg(path).status();
        }
    }
}

/// Tracepoints process `pid` has a BPF program on, from bpftool.
fn attached_by(pid: u32) -> usize {
    let out = Command::new("bpftool")
        .args(["-j", "perf", "show"])
        .output()
        .map(|o| o.stdout)
        .unwrap_or_default();
    serde_json::from_slice::<serde_json::Value>(&out)
        .ok()
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter(|e| e["pid"].as_u64() == Some(pid.into()) && e["fd_type"] == "tracepoint")
        .count()
}

/// Stops a tracer as Ctrl-C would; kills it if it has not gone `within`.
pub fn stop(child: &mut Child, within: Duration) {
    // SAFETY: kill on our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let t0 = Instant::now();
    while t0.elapsed() < within {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}
