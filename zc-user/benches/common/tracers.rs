//! What the benchmarks share about tracers: bpftrace counting hits on the
//! tracepoints zc attaches to (the other tracer zc is compared with), and
//! stopping a tracer as Ctrl-C would.

use std::{
    io::{BufRead as _, BufReader},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// The tracepoints zc attaches to, as bpftrace names them.
const BPFTRACE_PROBES: &str = "tracepoint:raw_syscalls:sys_enter, tracepoint:raw_syscalls:sys_exit, \
tracepoint:sched:sched_switch, tracepoint:exceptions:page_fault_user, \
tracepoint:exceptions:page_fault_kernel, tracepoint:filemap:mm_filemap_get_pages, \
tracepoint:filemap:mm_filemap_add_to_page_cache, tracepoint:sock:sock_send_length, \
tracepoint:skb:skb_copy_datagram_iovec, tracepoint:net:net_dev_queue, \
tracepoint:net:net_dev_start_xmit, tracepoint:net:net_dev_xmit, tracepoint:net:netif_rx";

/// bpftrace counting the same tracepoints, attached; stopped on drop.
/// bpftrace attaches classic tracepoints through tracefs, which zc (all
/// `tp_btf`) never needs: where tracefs is not mounted, it is mounted for
/// bpftrace's time and unmounted after, so the host is left as it was.
pub struct Bpftrace(Child, Option<&'static str>);

const TRACEFS: &str = "/sys/kernel/tracing";

impl Bpftrace {
    pub fn start() -> anyhow::Result<Bpftrace> {
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
        Self::attach()
            .map(|c| Bpftrace(c, mounted))
            .inspect_err(|_| {
                if let Some(path) = mounted {
                    let _ = Command::new("umount").arg(path).status();
                }
            })
    }

    fn attach() -> anyhow::Result<Child> {
        let mut c = Command::new("bpftrace")
            .args([
                "-e",
                &format!("{BPFTRACE_PROBES} {{ @[probe] = count(); }}"),
            ])
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
        std::thread::sleep(Duration::from_millis(300));
        Ok(c)
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
