//! `zc trace`'s report as text: per tree, the verdicts first (what a
//! person acts on), then the copies by site, the files, the sockets with
//! their ledgers, and the processes. It reads the model only.

use std::fmt::Write as _;

use crate::{
    model::tree::{Flow, TreeReport},
    units::fmt_bytes,
};

/// What the view cannot show on this host, said once under the figures.
pub fn limits(f: &Flow) -> Vec<String> {
    let mut out = Vec::new();
    if f.dma_maps == 0 {
        out.push(
            "DMA maps: none seen. On real NICs and disks the dma:* tracepoints fire; loopback, \
             veth and virtio without the DMA API make none, so no DMA arrow is drawn."
                .into(),
        );
    }
    out
}

pub fn text(reports: &[TreeReport], why_ended: Option<&str>) -> String {
    let mut s = String::new();
    for r in reports {
        let what = if r.command.is_empty() {
            format!("pid {}", r.root)
        } else {
            r.command.join(" ")
        };
        let _ = writeln!(
            s,
            "zc trace  {what}  ({:.2} s, {} process{})",
            r.elapsed_ns as f64 / 1e9,
            r.pids.len(),
            if r.pids.len() == 1 { "" } else { "es" }
        );
        if let Some(why) = why_ended {
            let _ = writeln!(s, "ended: {why}");
        }
        for v in &r.verdict {
            let _ = writeln!(s, "  {v}");
        }
        if r.verdict.is_empty() {
            let _ = writeln!(
                s,
                "  no process of the tree moved data over TCP or out of files"
            );
        }
        let f = &r.flow;
        let _ = writeln!(s);
        let line = |s: &mut String, k: &str, v: String| {
            let _ = writeln!(s, "  {k:<38} {v}");
        };
        line(
            &mut s,
            "syscalls / mode switches",
            format!("{} / {}", f.syscall_total, f.mode_switches),
        );
        line(
            &mut s,
            "scheduler switches",
            format!(
                "{} blocked, {} preempted",
                f.sched_switches_blocked, f.sched_switches_preempted
            ),
        );
        line(
            &mut s,
            "page faults / pages mapped from files",
            format!("{} / {}", f.page_faults, f.mapped_pages),
        );
        line(&mut s, "read from disk", fmt_bytes(f.disk_read_bytes));
        let c = &f.copies;
        line(&mut s, "CPU copies", fmt_bytes(f.cpu_copy_bytes));
        line(
            &mut s,
            "  page cache -> user (read)",
            fmt_bytes(c.page_cache_to_user),
        );
        if c.other_to_user > 0 {
            line(
                &mut s,
                "  pipe, tty or tmpfs -> user (read)",
                fmt_bytes(c.other_to_user),
            );
        }
        line(
            &mut s,
            "  user -> socket buffer (write/send)",
            fmt_bytes(c.user_to_socket),
        );
        line(
            &mut s,
            "  frags -> linear at segmentation",
            fmt_bytes(c.segmentation),
        );
        line(
            &mut s,
            "  socket buffer -> user (receive)",
            fmt_bytes(c.socket_to_user),
        );
        line(
            &mut s,
            "sent",
            format!(
                "{}: {} copied, {} by reference, {} pinned, {} other",
                fmt_bytes(f.sent_bytes),
                fmt_bytes(f.sent.copied_bytes),
                fmt_bytes(f.sent.referenced_bytes),
                fmt_bytes(f.sent.pinned_bytes),
                fmt_bytes(f.sent.other_bytes)
            ),
        );
        line(
            &mut s,
            "at the device",
            format!(
                "{}, {} in file pages, {} in user pages, {} pinned; {} retransmitted",
                fmt_bytes(f.at_device.payload_bytes),
                fmt_bytes(f.at_device.file_page_bytes),
                fmt_bytes(f.at_device.user_page_bytes),
                fmt_bytes(f.at_device.pinned_page_bytes),
                fmt_bytes(f.at_device.retransmitted_bytes)
            ),
        );
        if f.completions.notifications > 0 {
            line(
                &mut s,
                "zero-copy completions",
                format!(
                    "{} notifications for {} sends, {} copied anyway",
                    f.completions.notifications, f.completions.sends, f.completions.copied_sends
                ),
            );
        }
        line(
            &mut s,
            "unexplained bytes (all sockets)",
            r.unexplained_bytes.to_string(),
        );
        if !r.files.is_empty() {
            let _ = writeln!(s, "\n  files (read = copied to user; ref = by reference)");
            for fr in r.files.iter().take(10) {
                let _ = writeln!(
                    s,
                    "    {:<40} read {:>10}  ref {:>10}  mapped {:>10}  disk {:>10}",
                    clip(&fr.path, 40),
                    fmt_bytes(fr.copied_bytes),
                    fmt_bytes(fr.referenced_bytes),
                    fmt_bytes(fr.mapped_bytes),
                    fmt_bytes(fr.disk_read_bytes)
                );
            }
            if r.files.len() > 10 {
                let _ = writeln!(s, "    … and {} more (see --json)", r.files.len() - 10);
            }
        }
        if !r.sockets.is_empty() {
            let _ = writeln!(
                s,
                "\n  sockets (ledger: sent = copied + referenced + pinned + other, against the device)"
            );
            let mut socks: Vec<_> = r.sockets.iter().collect();
            socks.sort_by_key(|x| std::cmp::Reverse(x.sent.total() + x.received_bytes));
            for so in socks.iter().take(10) {
                let _ = writeln!(
                    s,
                    "    pid {:<7} {} -> {}  sent {} ({} copied, {} ref, {} pinned)  received {}  unexplained {}",
                    so.pid,
                    so.local,
                    so.remote,
                    fmt_bytes(so.sent.total()),
                    fmt_bytes(so.sent.copied_bytes),
                    fmt_bytes(so.sent.referenced_bytes),
                    fmt_bytes(so.sent.pinned_bytes),
                    fmt_bytes(so.received_bytes),
                    so.ledger.unexplained_bytes
                );
            }
            if socks.len() > 10 {
                let _ = writeln!(s, "    … and {} more (see --json)", socks.len() - 10);
            }
        }
        if r.processes.len() > 1 {
            let _ = writeln!(s, "\n  processes");
            for p in &r.processes {
                let _ = writeln!(
                    s,
                    "    {}[{}]{}  {} syscalls, {} copied, {} sent{}",
                    p.comm,
                    p.pid,
                    p.parent
                        .map(|pp| format!(" child of {pp}"))
                        .unwrap_or_default(),
                    p.flow.syscall_total,
                    fmt_bytes(p.flow.cpu_copy_bytes),
                    fmt_bytes(p.flow.sent_bytes),
                    if p.exited { ", exited" } else { "" }
                );
            }
        }
        let by_name: Vec<String> = {
            let mut v: Vec<(&String, &u64)> = f.syscalls.iter().collect();
            v.sort_by_key(|(_, c)| std::cmp::Reverse(**c));
            v.iter().take(12).map(|(n, c)| format!("{n} {c}")).collect()
        };
        let _ = writeln!(s, "\n  syscalls by name: {}", by_name.join(", "));
        let _ = writeln!(s, "  {}", r.tracing_cost.line());
        for l in limits(f) {
            let _ = writeln!(s, "  {l}");
        }
        let _ = writeln!(s);
    }
    s
}

fn clip(s: &str, n: usize) -> String {
    let count = s.chars().count();
    if count <= n {
        s.to_string()
    } else {
        let tail: String = s.chars().skip(count - (n - 1)).collect();
        format!("…{tail}")
    }
}
