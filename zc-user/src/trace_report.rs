//! `zc trace`'s report as text: per tree, the verdicts first (what a
//! person acts on), then the copies by site, the files, the sockets with
//! their ledgers, and the processes. It reads the model only.
//!
//! The verdicts are said here, from the model's figures, in English and
//! Chinese alike: the report and the JSON say them in English, the live
//! view in the language it shows.

use std::fmt::Write as _;

use crate::{
    lang::Lang,
    model::tree::{Flow, ProcessReport, Received, TreeReport},
    units::fmt_bytes,
};

/// One line a person can act on, per process that moved data: how much it
/// sent, how, and what that cost in CPU copies; or what it received.
pub fn verdicts(r: &TreeReport, lang: Lang) -> Vec<String> {
    r.processes
        .iter()
        .filter(|p| p.flow.sent_bytes > 0 || p.flow.received_bytes > 0)
        .map(|p| verdict_in(r, p, lang))
        .collect()
}

/// A process's verdict in its tree: without the syscall tracepoints its
/// copies per byte leave read()'s out, and the verdict says so.
fn verdict_in(r: &TreeReport, p: &ProcessReport, lang: Lang) -> String {
    let v = verdict(p, lang);
    match (r.syscalls_traced, lang) {
        (true, _) => v,
        (false, Lang::En) => format!("{v}; read() not traced"),
        (false, Lang::Zh) => format!("{v}；read() 未跟踪"),
    }
}

/// The tasks in whose context the kernel ran no program of zc, in one line
/// (None when every task was seen): what they did, softirqs on their stack
/// included, no probe saw.
pub fn unseen(r: &TreeReport, lang: Lang) -> Option<String> {
    let who = blind_names(r)?;
    Some(match lang {
        Lang::En => format!(
            "unseen: the kernel ran no zc program in the context of {who}; what ran on their stack, softirqs included, no probe saw"
        ),
        Lang::Zh => format!(
            "看不见：内核在 {who} 的上下文里不运行 zc 的程序；在它们栈上运行的一切（包括软中断）任何探针都看不到"
        ),
    })
}

/// What a trace without the syscall tracepoints did not measure, in one
/// line (None when they were attached).
pub fn not_traced(r: &TreeReport, lang: Lang) -> Option<String> {
    (!r.syscalls_traced).then(|| match lang {
        Lang::En => "not traced (--no-syscalls): syscalls, mode switches, and what only a \
                     syscall's return value tells: read()'s copies into user memory (left out \
                     of the copy totals), files' read and by-reference bytes, receives by \
                     splice or TCP_ZEROCOPY_RECEIVE"
            .to_string(),
        Lang::Zh => {
            "未跟踪（--no-syscalls）：系统调用、模式切换，以及只有系统调用的返回值才能说明的：\
                     read() 拷入用户内存的字节（不计入拷贝总数）、各文件读取和按引用传递的字节、\
                     经 splice 或 TCP_ZEROCOPY_RECEIVE 的接收"
                .to_string()
        }
    })
}

/// The tasks no program of zc ran for, as `comm[tid] of pid P`, or None.
fn blind_names(r: &TreeReport) -> Option<String> {
    let who: Vec<String> = r
        .blind_tasks
        .iter()
        .map(|t| format!("{}[{}] of pid {}", t.comm, t.tid, t.pid))
        .collect();
    (!who.is_empty()).then(|| who.join(", "))
}

/// A tree's report as JSON, with each process's verdict and the tree's
/// verdicts in English.
pub fn json(r: &TreeReport) -> serde_json::Result<serde_json::Value> {
    let mut v = serde_json::to_value(r)?;
    if let Some(procs) = v["processes"].as_array_mut() {
        for (pv, p) in procs.iter_mut().zip(&r.processes) {
            pv["verdict"] = verdict_in(r, p, Lang::En).into();
        }
    }
    v["verdict"] = verdicts(r, Lang::En).into();
    Ok(v)
}

/// One process's verdict.
pub fn verdict(p: &ProcessReport, lang: Lang) -> String {
    let zh = lang == Lang::Zh;
    let f = &p.flow;
    let who = format!("{}[{}]", p.comm, p.pid);
    let sent = f.sent_bytes;
    let received = (f.received_bytes > 0).then(|| receiving(&f.received, lang));
    if sent == 0 {
        return if let Some(got) = received {
            if zh {
                format!("{who} 没有经 TCP 发送；{got}")
            } else {
                format!("{who} sent nothing over TCP; {got}")
            }
        } else if f.copies.page_cache_to_user > 0 {
            let read = fmt_bytes(f.copies.page_cache_to_user);
            if zh {
                format!("{who} 没有经 TCP 发送；read() 从文件拷出 {read} 到用户内存")
            } else {
                format!(
                    "{who} sent nothing over TCP; read() copied {read} out of files into user memory"
                )
            }
        } else if zh {
            format!("{who} 没有经 TCP 发送")
        } else {
            format!("{who} sent nothing over TCP")
        };
    }
    let pct = |v: u64| 100.0 * v as f64 / sent as f64;
    let s = &f.sent;
    // The call the process made most of, among `names`.
    let calls = |names: &[&str]| -> Option<String> {
        names
            .iter()
            .filter_map(|n| f.syscalls.get(*n).map(|c| (*n, *c)))
            .min_by_key(|(_, c)| std::cmp::Reverse(*c))
            .map(|(n, _)| n.to_string())
    };
    let mut how = Vec::new();
    if s.referenced_bytes > 0 {
        let share = pct(s.referenced_bytes);
        let by = calls(&["sendfile", "splice", "copy_file_range"]);
        how.push(match (zh, by) {
            (false, Some(by)) => format!("{share:.0} % by reference ({by})"),
            (false, None) => format!("{share:.0} % by reference"),
            (true, Some(by)) => format!("{share:.0} % 以引用传递（{by}）"),
            (true, None) => format!("{share:.0} % 以引用传递"),
        });
    }
    if s.pinned_bytes > 0 {
        let share = pct(s.pinned_bytes);
        how.push(if zh {
            format!("{share:.0} % 来自钉住（pin）的用户页")
        } else {
            format!("{share:.0} % from pinned pages")
        });
    }
    // Headers and the like: a copy too small to show as a share.
    if s.copied_bytes > 0 && pct(s.copied_bytes) >= 0.5 {
        let read_it = p.sent_file.is_some() && s.copied_bytes * 2 > sent;
        if read_it {
            let send = calls(&["write", "writev", "sendto", "sendmsg", "send"])
                .unwrap_or_else(|| "send".into());
            how.push(if zh {
                format!("read() 把它拷进用户内存，{send}() 再拷进 socket 缓冲区")
            } else {
                format!("read() copied it into user memory, {send}() copied it into socket buffers")
            });
        } else {
            let share = pct(s.copied_bytes);
            how.push(if zh {
                format!("{share:.0} % 从用户内存拷贝")
            } else {
                format!("{share:.0} % copied from user memory")
            });
        }
    }
    if s.other_bytes > 0 {
        let share = pct(s.other_bytes);
        how.push(if zh {
            format!("{share:.0} % 来自内核内存")
        } else {
            format!("{share:.0} % from kernel memory")
        });
    }
    let cpb = p.copies_per_byte.unwrap_or(0.0);
    let cpb = if cpb < 0.005 { 0.0 } else { cpb };
    let amount = fmt_bytes(sent);
    if zh {
        let of = p
            .sent_file
            .as_deref()
            .map(|f| format!("（{f}）"))
            .unwrap_or_default();
        let copies = if cpb == 0.0 {
            "每字节 0 次 CPU 拷贝".to_string()
        } else {
            format!("每字节 {cpb:.2} 次 CPU 拷贝")
        };
        let got = received.map(|g| format!("；{g}")).unwrap_or_default();
        format!(
            "{who} 发送了 {amount}{of}：{}，{copies}{got}",
            how.join("，")
        )
    } else {
        let of = p
            .sent_file
            .as_deref()
            .map(|f| format!(" of {f}"))
            .unwrap_or_default();
        let copies = if cpb == 0.0 {
            "0 CPU copies per byte".to_string()
        } else {
            format!("{cpb:.2} CPU copies per byte")
        };
        let got = received.map(|g| format!("; {g}")).unwrap_or_default();
        format!("{who} sent {amount}{of}: {}, {copies}{got}", how.join(", "))
    }
}

/// What a process took out of its sockets, and how: one way named as
/// such, several as shares of the whole.
fn receiving(r: &Received, lang: Lang) -> String {
    let zh = lang == Lang::Zh;
    let total = r.total();
    let ways = [
        (r.copied_bytes, "copied into user memory", "拷进了用户内存"),
        (r.spliced_bytes, "spliced into a pipe", "经 splice 移进管道"),
        (
            r.mapped_bytes,
            "mapped into its memory (TCP_ZEROCOPY_RECEIVE)",
            "映射进它的内存（TCP_ZEROCOPY_RECEIVE）",
        ),
    ];
    let used: Vec<_> = ways.iter().filter(|(b, _, _)| *b > 0).collect();
    let got = fmt_bytes(total);
    if let [(_, en, cn)] = used[..] {
        return if zh {
            format!("收到 {got}，{cn}")
        } else {
            format!("received {got}, {en}")
        };
    }
    let share = |b: u64| 100.0 * b as f64 / total as f64;
    let parts: Vec<String> = used
        .iter()
        .map(|(b, en, cn)| format!("{:.0} % {}", share(*b), if zh { cn } else { en }))
        .collect();
    if zh {
        format!("收到 {got}：{}", parts.join("，"))
    } else {
        format!("received {got}: {}", parts.join(", "))
    }
}

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
        let said = verdicts(r, Lang::En);
        for v in not_traced(r, Lang::En).iter().chain(&said) {
            let _ = writeln!(s, "  {v}");
        }
        if said.is_empty() {
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
        let untraced = || "not traced (--no-syscalls)".to_string();
        line(
            &mut s,
            "syscalls / mode switches",
            if r.syscalls_traced {
                format!("{} / {}", f.syscall_total, f.mode_switches)
            } else {
                untraced()
            },
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
        line(
            &mut s,
            "CPU copies",
            if r.syscalls_traced {
                fmt_bytes(f.cpu_copy_bytes)
            } else {
                format!("{} and read()'s, not traced", fmt_bytes(f.cpu_copy_bytes))
            },
        );
        line(
            &mut s,
            "  page cache -> user (read)",
            if r.syscalls_traced {
                fmt_bytes(c.page_cache_to_user)
            } else {
                untraced()
            },
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
        if let Some(who) = blind_names(r) {
            line(
                &mut s,
                "unseen by every probe",
                format!(
                    "{who}: the kernel ran no zc program in their context, softirqs on their stack included"
                ),
            );
        }
        if !r.probe_misses_by_program.is_empty() {
            let which: Vec<String> = r
                .probe_misses_by_program
                .iter()
                .map(|(p, n)| format!("{p} {n}x"))
                .collect();
            line(
                &mut s,
                "probe runs the kernel skipped",
                format!(
                    "{}: what they would have counted is missing from the figures (a program is not re-entered on a CPU)",
                    which.join(", ")
                ),
            );
        }
        if !r.files.is_empty() {
            let _ = writeln!(s, "\n  files (read = copied to user; ref = by reference)");
            // A file's read and by-reference bytes are its calls' return values.
            let by_call = |b: u64| {
                if r.syscalls_traced {
                    fmt_bytes(b)
                } else {
                    "—".into()
                }
            };
            for fr in r.files.iter().take(10) {
                let _ = writeln!(
                    s,
                    "    {:<40} read {:>10}  ref {:>10}  mapped {:>10}  disk {:>10}",
                    clip(&fr.path, 40),
                    by_call(fr.copied_bytes),
                    by_call(fr.referenced_bytes),
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
                let l = &so.ledger;
                if l.received_spliced_bytes + l.received_mapped_bytes > 0 {
                    let _ = writeln!(
                        s,
                        "      received {}: {} copied, {} spliced, {} mapped",
                        fmt_bytes(so.received_bytes),
                        fmt_bytes(l.received_copied_bytes),
                        fmt_bytes(l.received_spliced_bytes),
                        fmt_bytes(l.received_mapped_bytes),
                    );
                }
                if l.tcp_counted && l.unexplained_received_bytes != 0 {
                    let _ = writeln!(
                        s,
                        "      received: TCP says the program took {} and zc saw {} copied, spliced or mapped out: {} unexplained",
                        fmt_bytes(l.received_by_tcp_bytes),
                        fmt_bytes(so.received_bytes),
                        l.unexplained_received_bytes
                    );
                }
                if l.unseen_bytes + l.unseen_retransmitted_bytes > 0 {
                    let _ = writeln!(
                        s,
                        "      unseen: {} sent and {} retransmitted by TCP's own count (tcp_sock bytes_sent, bytes_retrans at the close) with no probe event: sent where the kernel ran no program (docs/evidence.md, \"Unseen\")",
                        fmt_bytes(l.unseen_bytes),
                        fmt_bytes(l.unseen_retransmitted_bytes)
                    );
                }
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
                    "    {}[{}]{}  {}, {} copied, {} sent{}",
                    p.comm,
                    p.pid,
                    p.parent
                        .map(|pp| format!(" child of {pp}"))
                        .unwrap_or_default(),
                    if r.syscalls_traced {
                        format!("{} syscalls", p.flow.syscall_total)
                    } else {
                        "syscalls not traced".into()
                    },
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
        if r.syscalls_traced {
            let _ = writeln!(s, "\n  syscalls by name: {}", by_name.join(", "));
        } else {
            let _ = writeln!(s);
        }
        let _ = writeln!(s, "  {}", crate::explain::tracing_cost(&r.tracing_cost));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tree::Sent;

    const MIB: u64 = 1 << 20;

    fn process(comm: &str, pid: u32, flow: Flow, file: Option<&str>, cpb: f64) -> ProcessReport {
        ProcessReport {
            pid,
            parent: None,
            comm: comm.into(),
            exited: false,
            flow,
            sent_file: file.map(str::to_owned),
            copies_per_byte: Some(cpb),
        }
    }

    /// A server that reads its file and writes it: both copies, named,
    /// in each language, from the same figures.
    #[test]
    fn a_reading_server_is_told_in_both_languages() {
        let mut f = Flow {
            sent_bytes: 64 * MIB,
            sent: Sent {
                copied_bytes: 64 * MIB,
                ..Sent::default()
            },
            ..Flow::default()
        };
        f.syscalls.insert("read".into(), 1024);
        f.syscalls.insert("sendto".into(), 1024);
        let p = process("python3", 10, f, Some("/srv/a.iso"), 2.0);
        assert_eq!(
            verdict(&p, Lang::En),
            "python3[10] sent 64 MiB of /srv/a.iso: read() copied it into user memory, \
             sendto() copied it into socket buffers, 2.00 CPU copies per byte"
        );
        assert_eq!(
            verdict(&p, Lang::Zh),
            "python3[10] 发送了 64 MiB（/srv/a.iso）：read() 把它拷进用户内存，\
             sendto() 再拷进 socket 缓冲区，每字节 2.00 次 CPU 拷贝"
        );
    }

    #[test]
    fn a_sendfile_server_is_by_reference_in_both_languages() {
        let mut f = Flow {
            sent_bytes: 8 * MIB,
            sent: Sent {
                referenced_bytes: 8 * MIB,
                ..Sent::default()
            },
            ..Flow::default()
        };
        f.syscalls.insert("sendfile".into(), 2);
        let p = process("nginx", 20, f, Some("/srv/big.iso"), 0.0);
        assert_eq!(
            verdict(&p, Lang::En),
            "nginx[20] sent 8 MiB of /srv/big.iso: 100 % by reference (sendfile), 0 CPU copies per byte"
        );
        assert_eq!(
            verdict(&p, Lang::Zh),
            "nginx[20] 发送了 8 MiB（/srv/big.iso）：100 % 以引用传递（sendfile），每字节 0 次 CPU 拷贝"
        );
    }

    /// A process that sends a little and receives a lot (iperf3 -R) is
    /// told both, in each language.
    #[test]
    fn a_mostly_receiving_client_is_told_what_it_received() {
        let mut f = Flow {
            sent_bytes: 545,
            sent: Sent {
                copied_bytes: 545,
                ..Sent::default()
            },
            received_bytes: 5 << 30,
            received: Received {
                copied_bytes: 5 << 30,
                ..Received::default()
            },
            ..Flow::default()
        };
        f.syscalls.insert("write".into(), 12);
        let p = process("iperf3", 30, f, None, 1.0);
        assert_eq!(
            verdict(&p, Lang::En),
            "iperf3[30] sent 545 B: 100 % copied from user memory, 1.00 CPU copies per byte; \
             received 5 GiB, copied into user memory"
        );
        assert_eq!(
            verdict(&p, Lang::Zh),
            "iperf3[30] 发送了 545 B：100 % 从用户内存拷贝，每字节 1.00 次 CPU 拷贝；\
             收到 5 GiB，拷进了用户内存"
        );
    }

    /// Bytes taken without a copy are named by how, each as a share when
    /// there are several ways.
    #[test]
    fn a_receive_by_splice_or_mapping_says_so() {
        let flow = |r: Received| Flow {
            received_bytes: r.total(),
            received: r,
            ..Flow::default()
        };
        let spliced = flow(Received {
            spliced_bytes: 8 * MIB,
            ..Received::default()
        });
        let p = process("python3", 7, spliced, None, 0.0);
        assert_eq!(
            verdict(&p, Lang::En),
            "python3[7] sent nothing over TCP; received 8 MiB, spliced into a pipe"
        );
        assert_eq!(
            verdict(&p, Lang::Zh),
            "python3[7] 没有经 TCP 发送；收到 8 MiB，经 splice 移进管道"
        );
        let mixed = flow(Received {
            copied_bytes: MIB,
            mapped_bytes: 3 * MIB,
            ..Received::default()
        });
        let p = process("python3", 7, mixed, None, 0.0);
        assert_eq!(
            verdict(&p, Lang::En),
            "python3[7] sent nothing over TCP; received 4 MiB: 25 % copied into user memory, \
             75 % mapped into its memory (TCP_ZEROCOPY_RECEIVE)"
        );
        assert_eq!(
            verdict(&p, Lang::Zh),
            "python3[7] 没有经 TCP 发送；收到 4 MiB：25 % 拷进了用户内存，\
             75 % 映射进它的内存（TCP_ZEROCOPY_RECEIVE）"
        );
    }

    /// The JSON keeps its English verdicts, per process and per tree, and
    /// a process that moved nothing has no line in the tree's.
    #[test]
    fn the_json_carries_the_english_verdicts() {
        let f = Flow {
            received_bytes: MIB,
            received: Received {
                copied_bytes: MIB,
                ..Received::default()
            },
            ..Flow::default()
        };
        let r = TreeReport {
            command: vec![],
            root: 1,
            pids: vec![1, 2],
            elapsed_ns: 1,
            flow: Flow::default(),
            unexplained_bytes: 0,
            processes: vec![
                process("curl", 1, f, None, 0.0),
                process("idle", 2, Flow::default(), None, 0.0),
            ],
            files: vec![],
            sockets: vec![],
            tracing_cost: Default::default(),
            blind_tasks: vec![],
            syscalls_traced: true,
            probe_misses_by_program: Default::default(),
        };
        assert_eq!(unseen(&r, Lang::En), None);
        let v = json(&r).expect("json");
        let said = "curl[1] sent nothing over TCP; received 1 MiB, copied into user memory";
        assert_eq!(v["processes"][0]["verdict"], said);
        assert_eq!(v["verdict"], serde_json::json!([said]));
        assert!(verdicts(&r, Lang::Zh)[0].contains("收到 1 MiB"));
    }

    /// Runs the kernel skipped are named in the text and carried in the
    /// JSON; a trace without any says nothing of them.
    #[test]
    fn skipped_probe_runs_are_named_in_the_text_and_the_json() {
        let mut r = TreeReport {
            command: vec!["nginx".into()],
            root: 1,
            pids: vec![1],
            elapsed_ns: 1,
            flow: Flow::default(),
            unexplained_bytes: 0,
            processes: vec![],
            files: vec![],
            sockets: vec![],
            tracing_cost: Default::default(),
            blind_tasks: vec![],
            syscalls_traced: true,
            probe_misses_by_program: [("dma:dma_map_phys".to_string(), 3)].into(),
        };
        let t = text(std::slice::from_ref(&r), None);
        assert!(
            t.lines()
                .any(|l| l.contains("probe runs the kernel skipped")
                    && l.contains("dma:dma_map_phys 3x")),
            "{t}"
        );
        let v = json(&r).expect("json");
        assert_eq!(v["probe_misses_by_program"]["dma:dma_map_phys"], 3);
        r.probe_misses_by_program.clear();
        let t = text(std::slice::from_ref(&r), None);
        assert!(!t.contains("skipped"), "{t}");
    }

    /// A task no program ran for is named in both languages.
    #[test]
    fn unseen_tasks_are_named_in_both_languages() {
        let r = TreeReport {
            command: vec![],
            root: 1,
            pids: vec![1],
            elapsed_ns: 1,
            flow: Flow::default(),
            unexplained_bytes: 0,
            processes: vec![],
            files: vec![],
            sockets: vec![],
            tracing_cost: Default::default(),
            syscalls_traced: true,
            probe_misses_by_program: Default::default(),
            blind_tasks: vec![crate::model::counts::BlindTask {
                tid: 69,
                pid: 1,
                comm: "tokio-rt-worker".into(),
                stretches: 4,
            }],
        };
        let en = unseen(&r, Lang::En).expect("a line");
        assert!(en.contains("tokio-rt-worker[69]"), "{en}");
        let zh = unseen(&r, Lang::Zh).expect("a line");
        assert!(
            zh.contains("tokio-rt-worker[69]") && zh.contains("看不见"),
            "{zh}"
        );
    }

    /// Without the syscall tracepoints, the figures only they measure are
    /// said to be untraced, in the text, in both languages and in the
    /// JSON, never printed as zeros; a report recorded before the flag
    /// existed reads as traced.
    #[test]
    fn a_trace_without_syscalls_says_what_it_did_not_measure() {
        let mut f = Flow {
            syscall_total: 0,
            ..Flow::default()
        };
        f.syscalls.clear();
        let mut r = TreeReport {
            command: vec!["nginx".into()],
            root: 1,
            pids: vec![1],
            elapsed_ns: 1,
            flow: f,
            unexplained_bytes: 0,
            processes: vec![],
            files: vec![],
            sockets: vec![],
            tracing_cost: Default::default(),
            blind_tasks: vec![],
            syscalls_traced: false,
            probe_misses_by_program: Default::default(),
        };
        let text = text(std::slice::from_ref(&r), None);
        assert!(
            text.lines()
                .any(|l| l.trim_start().starts_with("syscalls / mode switches")
                    && l.trim_end().ends_with("not traced (--no-syscalls)")),
            "{text}"
        );
        assert!(
            text.lines()
                .filter(|l| l.contains("syscalls") || l.contains("(read)"))
                .all(|l| !l.contains("0 B") && !l.contains("0 /")),
            "{text}"
        );
        assert!(!text.contains("syscalls by name"), "{text}");
        assert!(text.contains("read()'s, not traced"), "{text}");
        assert!(not_traced(&r, Lang::Zh).is_some_and(|l| l.contains("未跟踪")));
        let v = json(&r).expect("json");
        assert_eq!(v["syscalls_traced"], false);
        let mut old = v.clone();
        old.as_object_mut()
            .expect("object")
            .remove("syscalls_traced");
        old.as_object_mut().expect("object").remove("verdict");
        let back: TreeReport = serde_json::from_value(old).expect("an older report reads");
        assert!(back.syscalls_traced);
        r.syscalls_traced = true;
        assert_eq!(not_traced(&r, Lang::En), None);
    }
}
