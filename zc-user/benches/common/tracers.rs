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
pub struct Bpftrace(Child);

impl Bpftrace {
    pub fn start() -> anyhow::Result<Bpftrace> {
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
        anyhow::ensure!(
            line.contains("Attaching"),
            "bpftrace did not attach: {line}"
        );
        std::thread::sleep(Duration::from_millis(300));
        Ok(Bpftrace(c))
    }
}

impl Drop for Bpftrace {
    fn drop(&mut self) {
        stop(&mut self.0, Duration::from_secs(5));
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
