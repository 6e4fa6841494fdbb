//! `zc trace`: the demo's truth for a program zc did not write. The kernel
//! follows a tree of processes (the command zc starts, or the pids given,
//! and whatever they fork), all their threads, every file, their TCP
//! sockets; the counters it keeps are the same as the demo's, summed over
//! the tree. This module runs the command, arms and disarms the tree, and
//! turns the counters into a summary and a verdict.
//!
//! Work in progress on this branch: the per-process, per-file and
//! per-socket breakdowns, the live view and the recording come next.

use std::{
    os::{fd::FromRawFd as _, unix::process::CommandExt as _},
    process::{Child, Command},
    sync::atomic::{AtomicBool, Ordering},
    time::{Duration, Instant},
};

use anyhow::{Context as _, anyhow};
use serde::Serialize;
use zc_common::counters::Counter as C;

use crate::{
    exit::Fatal,
    kernel::{layout, privilege, tracefs, tracer::Tracer},
    model::{counts::Counts, rules},
    units::fmt_bytes,
};

/// What to follow, and for how long.
pub struct Request {
    /// A command to start and follow (empty: follow `pids`).
    pub command: Vec<String>,
    pub pids: Vec<u32>,
    pub duration: Option<Duration>,
}

/// What the tree did, summed over its processes.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub command: Vec<String>,
    pub pids: Vec<u32>,
    pub elapsed_ns: u64,
    pub processes_forked: u64,
    pub syscalls: std::collections::BTreeMap<String, u64>,
    pub syscall_total: u64,
    pub mode_switches: u64,
    pub sched_switches_blocked: u64,
    pub sched_switches_preempted: u64,
    pub page_faults: u64,
    /// Bytes read()/pread()/readv() returned: files and sockets alike.
    pub read_call_bytes: u64,
    /// Sent from user memory, copied into the socket's pages.
    pub sent_copied_bytes: u64,
    /// Sent by reference (sendfile, splice).
    pub sent_referenced_bytes: u64,
    /// Sent from pinned user pages (MSG_ZEROCOPY, io_uring SEND_ZC).
    pub sent_pinned_bytes: u64,
    /// At the device: payload in file pages, in user pages, pinned, copied
    /// at segmentation.
    pub device_payload_bytes: u64,
    pub device_file_page_bytes: u64,
    pub device_segmentation_copy_bytes: u64,
    /// Copied from socket buffers into the processes' memory on receive.
    pub received_copied_bytes: u64,
    pub retransmitted_bytes: u64,
    /// Bytes sent, and CPU copies per byte sent (the send copy and the
    /// segmentation copy).
    pub verdict: String,
}

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

/// Follows the tree until the command exits, every followed process has
/// exited, the duration has passed, or Ctrl-C; returns the summary.
pub fn run(req: &Request) -> anyhow::Result<Summary> {
    let missing = privilege::missing();
    if !missing.is_empty() {
        return Err(Fatal::CannotTrace(privilege::refusal(&missing)).into());
    }
    for &pid in &req.pids {
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            return Err(Fatal::Usage(format!("no process {pid} (has it exited?)")).into());
        }
    }
    let root = tracefs::ensure().map_err(|e| Fatal::CannotTrace(format!("{e:#}")))?;
    let layout = layout::from_running_kernel().map_err(|e| Fatal::CannotTrace(e.to_string()))?;
    let mut tracer =
        Tracer::load(&layout, &root).map_err(|e| Fatal::CannotTrace(format!("{e:#}")))?;
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: the handler only stores to an atomic.
        unsafe { libc::signal(sig, on_signal as *const () as libc::sighandler_t) };
    }
    let start = Instant::now();
    let mut child = None;
    if req.command.is_empty() {
        tracer.arm_tree(&req.pids)?;
    } else {
        let (c, go) = spawn_gated(&req.command)?;
        tracer.arm_tree(&[c.id()])?;
        // The command runs only now, followed from its first instruction.
        go.release()?;
        child = Some(c);
    }
    loop {
        tracer.drain(|_| {});
        if STOP.load(Ordering::SeqCst) || req.duration.is_some_and(|d| start.elapsed() >= d) {
            break;
        }
        match child.as_mut() {
            Some(c) => {
                if c.try_wait().context("wait for the command")?.is_some() {
                    break;
                }
            }
            None => {
                if tracer.followed()?.is_empty() {
                    break;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let elapsed = start.elapsed();
    tracer.disarm()?;
    tracer.drain(|_| {});
    let counts = tracer.counts()?;
    Ok(summarize(&counts, req, elapsed))
}

/// A started command held before exec until `release`.
struct Gate(std::fs::File);

impl Gate {
    fn release(mut self) -> anyhow::Result<()> {
        use std::io::Write as _;
        self.0.write_all(b"g\n").context("let the command run")
    }
}

/// Starts `command` (as the sudo user, under sudo) held at a gate: a
/// shell that waits for a byte on descriptor 3, then execs the command in
/// the same process. zc follows that pid before the command runs. (The
/// standard library's spawn waits for the exec, so the wait cannot sit
/// between fork and exec.) The shell's few calls before its exec are in the
/// trace too.
fn spawn_gated(command: &[String]) -> anyhow::Result<(Child, Gate)> {
    let mut fds = [0i32; 2];
    // SAFETY: a valid array for two descriptors.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error()).context("make the start gate");
    }
    let (rd, wr) = (fds[0], fds[1]);
    let program = command
        .first()
        .ok_or_else(|| anyhow!("no command to run"))?;
    let mut cmd = Command::new("/bin/sh");
    cmd.args(["-c", "read -r _ <&3; exec 3<&-; exec \"$@\"", "zc-gate"])
        .args(command);
    if let (Some(uid), Some(gid)) = (env_id("SUDO_UID"), env_id("SUDO_GID")) {
        cmd.uid(uid).gid(gid);
    }
    // SAFETY: dup2 is async-signal-safe; nothing else runs between fork
    // and exec.
    unsafe {
        cmd.pre_exec(move || {
            if libc::dup2(rd, 3) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = cmd
        .spawn()
        .map_err(|e| Fatal::Usage(format!("cannot start {program}: {e}")))?;
    // SAFETY: pipe2 returned these; the read end is the child's (closed on exec).
    unsafe { libc::close(rd) };
    // SAFETY: as above; the Gate owns the write end from here.
    Ok((child, Gate(unsafe { std::fs::File::from_raw_fd(wr) })))
}

fn env_id(name: &str) -> Option<u32> {
    std::env::var(name).ok()?.parse().ok()
}

fn summarize(c: &Counts, req: &Request, elapsed: Duration) -> Summary {
    let syscall_total = c.total_syscalls();
    let seg = rules::segmentation(c);
    let copied = c.get(C::SendUserBytes);
    let referenced = c.get(C::SendSpliceBytes);
    let pinned = c.get(C::SendPinnedBytes);
    let sent = copied + referenced + pinned;
    let verdict = if sent == 0 {
        "sent nothing over TCP".to_string()
    } else {
        let pct = |v: u64| 100.0 * v as f64 / sent as f64;
        format!(
            "sent {}: {:.0} % by reference, {:.0} % copied from user memory, {:.0} % pinned; {:.2} CPU copies per byte sent",
            fmt_bytes(sent),
            pct(referenced),
            pct(copied),
            pct(pinned),
            (copied + seg.total()) as f64 / sent as f64
        )
    };
    Summary {
        command: req.command.clone(),
        pids: req.pids.clone(),
        elapsed_ns: elapsed.as_nanos() as u64,
        processes_forked: c.get(C::TreeForks),
        syscalls: c.syscalls_by_name(),
        syscall_total,
        mode_switches: 2 * syscall_total + 2 * c.get(C::FaultUser),
        sched_switches_blocked: c.get(C::SchedOutBlocked),
        sched_switches_preempted: c.get(C::SchedOutPreempted),
        page_faults: c.get(C::FaultUser) + c.get(C::FaultKernel),
        read_call_bytes: rules::FILE_READS.iter().map(|n| c.bytes(n)).sum(),
        sent_copied_bytes: copied,
        sent_referenced_bytes: referenced,
        sent_pinned_bytes: pinned,
        device_payload_bytes: c.get(C::XmitPayload),
        device_file_page_bytes: c.get(C::XmitFileBytes),
        device_segmentation_copy_bytes: seg.total(),
        received_copied_bytes: c.get(C::RecvCopyBytes),
        retransmitted_bytes: c.get(C::RetransmitBytes),
        verdict,
    }
}

impl Summary {
    pub fn text(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let what = if self.command.is_empty() {
            format!("pids {:?}", self.pids)
        } else {
            self.command.join(" ")
        };
        let _ = writeln!(
            s,
            "zc trace  {what}  ({:.2} s, {} processes forked)",
            self.elapsed_ns as f64 / 1e9,
            self.processes_forked
        );
        let _ = writeln!(s, "{}", self.verdict);
        let line = |s: &mut String, k: &str, v: String| {
            let _ = writeln!(s, "  {k:<34} {v}");
        };
        line(&mut s, "syscalls", self.syscall_total.to_string());
        line(&mut s, "mode switches", self.mode_switches.to_string());
        line(
            &mut s,
            "scheduler switches",
            format!(
                "{} blocked, {} preempted",
                self.sched_switches_blocked, self.sched_switches_preempted
            ),
        );
        line(&mut s, "page faults", self.page_faults.to_string());
        line(
            &mut s,
            "read() bytes (files and sockets)",
            fmt_bytes(self.read_call_bytes),
        );
        line(
            &mut s,
            "sent, copied from user memory",
            fmt_bytes(self.sent_copied_bytes),
        );
        line(
            &mut s,
            "sent by reference",
            fmt_bytes(self.sent_referenced_bytes),
        );
        line(
            &mut s,
            "sent from pinned pages",
            fmt_bytes(self.sent_pinned_bytes),
        );
        line(
            &mut s,
            "at the device: in file pages",
            format!(
                "{} of {}",
                fmt_bytes(self.device_file_page_bytes),
                fmt_bytes(self.device_payload_bytes)
            ),
        );
        line(
            &mut s,
            "copied at segmentation",
            fmt_bytes(self.device_segmentation_copy_bytes),
        );
        line(
            &mut s,
            "received, copied to user memory",
            fmt_bytes(self.received_copied_bytes),
        );
        line(&mut s, "retransmitted", fmt_bytes(self.retransmitted_bytes));
        let by_name: Vec<String> = self
            .syscalls
            .iter()
            .map(|(n, k)| format!("{n} {k}"))
            .collect();
        let _ = writeln!(s, "syscalls by name: {}", by_name.join(", "));
        s
    }
}
