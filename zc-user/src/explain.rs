//! What a run's figures mean, in sentences: where the measurement parts
//! from the published model's row, and the facts a reader would otherwise
//! miss (faults the article does not count, a copy made at segmentation
//! rather than in the call, pinned pages the kernel copied anyway).
//!
//! This is a view. The model measures and classifies ([`crate::model`]);
//! the sentences are made here, from its figures, in English and in
//! Chinese, and every rule reads the measurement, never the strategy's
//! name. The report, the JSON (in English) and the exports print them.

use crate::{
    lang::Lang,
    model::cost::TracingCost,
    model::{
        Movement, Place,
        classify::{CopySite, Figures},
        facts::RunFacts,
    },
    units::{fmt_bytes, fmt_ns},
};

/// One sentence in the language asked for.
fn say(lang: Lang, en: String, zh: String) -> String {
    match lang {
        Lang::En => en,
        Lang::Zh => zh,
    }
}

/// One line per way the measurement differs from the model's row (or, for
/// a strategy no source models, per fact a reader would otherwise miss),
/// saying why.
pub fn differences(f: &Figures, facts: &RunFacts, lang: Lang) -> Vec<String> {
    let spec = facts.strategy.spec();
    let chunks = facts.chunks().max(1);
    let mut out = Vec::new();
    let per_chunk = f.syscall_total as f64 / chunks as f64;
    if let Some(m) = spec.model
        && (per_chunk - m.syscalls as f64).abs() > 0.05
    {
        let by_name: Vec<String> = f
            .syscalls
            .iter()
            .map(|(n, k)| format!("{n} ×{k}"))
            .collect();
        let by_name = by_name.join(", ");
        let why = if m.syscalls == 0 {
            (
                "the model gives no call to a chunk: a batch shares its calls",
                "模型不给单个块分配调用：一批请求共用调用",
            )
        } else if spec.setup_calls + spec.teardown_calls > 0 {
            (
                "some calls are made once per file, around the loop the model counts per buffer",
                "有些调用每个文件只做一次，在模型按缓冲区计数的循环之外",
            )
        } else {
            (
                "short transfers needed extra calls",
                "传输不足一块时需要额外的调用",
            )
        };
        out.push(say(
            lang,
            format!(
                "syscalls: {per_chunk:.2} per chunk vs the model's {} ({}): {by_name}",
                m.syscalls, why.0
            ),
            format!(
                "系统调用：每块 {per_chunk:.2} 次，模型为 {} 次（{}）：{by_name}",
                m.syscalls, why.1
            ),
        ));
    }
    if f.page_faults > 0 {
        out.push(say(
            lang,
            format!(
                "{} page faults ({} in user mode, {} inside the kernel's copy): kernel entries the article does not count",
                f.page_faults, f.page_faults_user, f.page_faults_kernel
            ),
            format!(
                "{} 次缺页（{} 次在用户态，{} 次在内核拷贝之中）：文章没有计入的内核入口",
                f.page_faults, f.page_faults_user, f.page_faults_kernel
            ),
        ));
    }
    if f.disk_read_bytes == 0 {
        out.push(if facts.cold {
            say(
                lang,
                "no disk read although the cache was evicted (the file system may not use the page cache)".into(),
                "缓存已清空却没有磁盘读取（该文件系统可能不经过页缓存）".into(),
            )
        } else {
            say(
                lang,
                "no disk → page cache DMA: the file was already in the page cache (warm run; try --cold)".into(),
                "没有磁盘 → 页缓存的 DMA：文件已在页缓存中（热缓存运行；可试 --cold）".into(),
            )
        });
    } else if f.disk_dma_maps == 0 {
        out.push(say(
            lang,
            "disk → page cache shown by page-cache insertions and block requests; no DMA map into the file's pages was seen (a virtio disk without the DMA API, or a kernel without the dma tracepoints)".into(),
            "磁盘 → 页缓存由页缓存插入和块请求证明；没有看到映射到文件页面的 DMA（virtio 磁盘不经过 DMA API，或内核没有 dma 跟踪点）".into(),
        ));
    } else {
        let (b, n) = (fmt_bytes(f.disk_dma_bytes), f.disk_dma_maps);
        out.push(say(
            lang,
            format!("the disk's DMA engine wrote {b} straight into the file's page-cache pages ({n} maps, each page named): the article's first DMA copy, measured"),
            format!("磁盘的 DMA 引擎把 {b} 直接写进文件的页缓存页面（{n} 次映射，逐页可辨）：文章中的第一次 DMA 拷贝，已测得"),
        ));
    }
    out.push(if f.dma_maps > 0 {
        let (b, n, file) = (
            fmt_bytes(f.dma_bytes),
            f.dma_maps,
            fmt_bytes(f.nic_dma_file_bytes),
        );
        say(
            lang,
            format!("the NIC's DMA engine read {b} out of memory ({n} maps by its driver); {file} of it straight from the file's page-cache pages"),
            format!("网卡的 DMA 引擎从内存读出 {b}（驱动做了 {n} 次映射）；其中 {file} 直接来自文件的页缓存页面"),
        )
    } else if facts.nic {
        say(
            lang,
            "no NIC DMA map was seen: this kernel has no dma tracepoint, or the NIC's driver does not use the DMA API".into(),
            "没有看到网卡的 DMA 映射：这个内核没有 dma 跟踪点，或网卡驱动不经过 DMA API".into(),
        )
    } else {
        say(
            lang,
            "no NIC DMA: the veth is a software device; the skb is handed to the peer in memory (try --nic on two real NICs)".into(),
            "没有网卡 DMA：veth 是软件设备，skb 在内存中直接交给对端（可在两块真实网卡上试 --nic）".into(),
        )
    });
    if facts.nic {
        let rx = &f.nic_rx;
        out.push(if rx.dma_frames > 0 {
            let (b, n, all, maps) = (
                fmt_bytes(rx.dma_payload_bytes),
                rx.dma_frames,
                rx.frames,
                rx.maps,
            );
            say(
                lang,
                format!("the receiving NIC's DMA engine wrote {b} of the stream into memory: {n} of {all} frames came in a buffer its driver had just taken back from it, and the driver mapped {maps} fresh buffers for its ring"),
                format!("接收端网卡的 DMA 引擎把数据流中的 {b} 写进内存：{all} 个帧中有 {n} 个所在的缓冲区刚被驱动从网卡收回；驱动还为接收环映射了 {maps} 个新缓冲区"),
            )
        } else {
            say(
                lang,
                "the receiving NIC's engine was not seen: no buffer hand-back (dma unmap or sync) was paired with a frame on this kernel".into(),
                "没有看到接收端网卡的 DMA 引擎：这个内核上没有任何缓冲区收回（dma unmap 或 sync）与帧配对".into(),
            )
        });
    }
    let segmentation: u64 = f
        .movements
        .iter()
        .filter(|m| m.movement == Movement::CpuCopy && m.to == Place::Nic)
        .map(|m| m.bytes)
        .sum();
    if segmentation > 0 {
        let seg = fmt_bytes(segmentation);
        out.push(say(
            lang,
            format!(
                "{seg} copied by the CPU at segmentation (skb_segment, scatter-gather {} on the sending {}), not inside the send call: the copy comes from the device setting",
                if facts.sender_sg { "on" } else { "off" },
                if facts.nic { "NIC" } else { "veth" }
            ),
            format!(
                "{seg} 在分段时由 CPU 拷贝（skb_segment，发送端{}的分散/聚集{}），不在发送调用之内：这次拷贝来自设备设置",
                if facts.nic { "网卡" } else { " veth " },
                if facts.sender_sg { "开启" } else { "关闭" }
            ),
        ));
    }
    let at_device = |from: Place| -> u64 {
        f.movements
            .iter()
            .filter(|m| m.movement == Movement::Reference && m.from == from && m.to == Place::Nic)
            .map(|m| m.bytes)
            .sum()
    };
    let (file_frags, user_frags) = (at_device(Place::PageCache), at_device(Place::UserBuffer));
    if file_frags > 0 && segmentation == 0 {
        let b = fmt_bytes(file_frags);
        out.push(say(
            lang,
            format!(
                "{b} reached the device as page-cache frags (SKBFL_SHARED_FRAG): no CPU copy on the way"
            ),
            format!("{b} 以页缓存分片（SKBFL_SHARED_FRAG）到达设备：途中没有 CPU 拷贝"),
        ));
    }
    if user_frags > 0 {
        let b = fmt_bytes(user_frags);
        out.push(say(
            lang,
            format!(
                "{b} reached the device as the sender's own anonymous pages: the skb frags are its buffer, not a copy of it"
            ),
            format!("{b} 以发送方自己的匿名页到达设备：skb 的分片就是它的缓冲区，而不是副本"),
        ));
    }
    if f.zerocopy.user_pages_at_receiver_bytes > 0 {
        let b = fmt_bytes(f.zerocopy.user_pages_at_receiver_bytes);
        out.push(say(
            lang,
            format!(
                "the receiver copied {b} straight out of the sender's own pages: nothing copied them on the way"
            ),
            format!("接收方直接从发送方自己的页面拷走了 {b}：途中没有任何拷贝"),
        ));
    }
    let r = &f.io_uring;
    if r.submitted > 0 {
        let enters = f.syscalls.get("io_uring_enter").copied().unwrap_or(0);
        let by_name: Vec<String> = r
            .completed
            .iter()
            .map(|(name, n)| format!("{n} {name}"))
            .collect();
        let by_name = by_name.join(", ");
        let per = f.syscall_total as f64 / chunks as f64;
        out.push(say(
            lang,
            format!(
                "{} io_uring requests ({by_name}) with {enters} io_uring_enter calls: {per:.2} syscalls per chunk, batched",
                r.submitted
            ),
            format!(
                "{} 个 io_uring 请求（{by_name}），{enters} 次 io_uring_enter：每块 {per:.2} 次系统调用，批量提交",
                r.submitted
            ),
        ));
    }
    if r.submitted_by_sq_thread > 0 || r.kernel_thread_cpu_ns > 0 {
        let ms = r.kernel_thread_cpu_ns as f64 / 1e6;
        out.push(say(
            lang,
            format!(
                "the sender's kernel threads ({}) issued {} of the {} requests and ran {ms:.2} ms on a CPU: the work moved out of the sender's syscalls, it did not vanish",
                r.kernel_threads, r.submitted_by_sq_thread, r.submitted
            ),
            format!(
                "发送方的内核线程（{} 个）发出了 {} 个请求中的 {} 个，在 CPU 上运行了 {ms:.2} 毫秒：工作从发送方的系统调用中移走了，并没有消失",
                r.kernel_threads, r.submitted, r.submitted_by_sq_thread
            ),
        ));
    }
    let z = &f.zerocopy;
    if z.notifications > 0 {
        let calls: u64 = ["recvmsg", "poll"]
            .iter()
            .map(|n| f.syscalls.get(*n).copied().unwrap_or(0))
            .sum();
        let how = if calls > 0 {
            say(
                lang,
                format!(
                    "read with {calls} recvmsg/poll calls: the price of knowing when the buffer is free again"
                ),
                format!("用 {calls} 次 recvmsg/poll 读取：这是得知缓冲区何时重新空闲的代价"),
            )
        } else {
            say(
                lang,
                "posted in the completion ring, with no call of their own".into(),
                "放在完成队列中，无需专门的调用".into(),
            )
        };
        let b = fmt_bytes(z.completed_bytes);
        out.push(say(
            lang,
            format!(
                "{} completion notifications cover {} sends ({b}), {how}",
                z.notifications, z.completed_sends
            ),
            format!(
                "{} 个完成通知覆盖 {} 次发送（{b}），{how}",
                z.notifications, z.completed_sends
            ),
        ));
    }
    if z.copied_bytes > f.copied_anyway_bytes {
        let b = fmt_bytes(z.copied_bytes - f.copied_anyway_bytes);
        out.push(say(
            lang,
            format!(
                "{b} of sends marked COPIED reached the device already copied (at segmentation): that copy is counted once, where it was seen"
            ),
            format!("标记为 COPIED 的发送中有 {b} 到达设备时已被拷贝（在分段时）：这次拷贝只在看到它的地方计一次"),
        ));
    }
    if f.copied_anyway_bytes > 0 {
        out.push(copied_anyway(f, lang));
    }
    if f.sched_switches > 0 {
        out.push(say(
            lang,
            format!(
                "{} scheduler switches ({} blocked, e.g. on a full socket buffer; {} preempted while runnable): real context switches, apart from the mode switches the article counts",
                f.sched_switches, f.sched_blocked, f.sched_preempted
            ),
            format!(
                "{} 次调度切换（{} 次阻塞，例如套接字缓冲区已满；{} 次在可运行时被抢占）：真正的上下文切换，不同于文章计算的模式切换",
                f.sched_switches, f.sched_blocked, f.sched_preempted
            ),
        ));
    }
    out
}

/// Where pinned pages were copied anyway, and what says so.
fn copied_anyway(f: &Figures, lang: Lang) -> String {
    let z = &f.zerocopy;
    let anyway = fmt_bytes(f.copied_anyway_bytes);
    let (copied, all) = (z.copied_notifications, z.notifications);
    match z.copy_site {
        CopySite::VethForward => say(
            lang,
            format!(
                "{anyway} of pinned pages copied anyway by the veth's forward (skb_copy_ubufs): the peer got other pages than the device; {copied} of {all} notifications say COPIED"
            ),
            format!(
                "被钉住的页面中有 {anyway} 在 veth 转发时仍被拷贝（skb_copy_ubufs）：对端拿到的页面不是设备上的那些；{all} 个通知中有 {copied} 个标记为 COPIED"
            ),
        ),
        CopySite::SendTap => {
            let (tap, past) = (
                fmt_bytes(z.tap_sent_bytes),
                fmt_bytes(z.user_pages_past_veth_bytes),
            );
            say(
                lang,
                format!(
                    "{tap} of pinned pages went out while a packet tap was bound to the sending device (seen); the kernel's code says its clone is copied for the tap (dev_queue_xmit_nit → skb_orphan_frags_rx), a CPU copy that marks the sends COPIED, while the original goes on in the sender's pages ({past} past the veth, seen) to be copied again on delivery. {copied} of {all} notifications say COPIED"
                ),
                format!(
                    "发送设备上绑定了抓包器时，有 {tap} 的钉住页面被发出（已观测）；内核代码表明，为抓包器复制的克隆会被拷贝（dev_queue_xmit_nit → skb_orphan_frags_rx），这次 CPU 拷贝使发送被标记为 COPIED，而原始 skb 仍带着发送方的页面继续前进（越过 veth 的有 {past}，已观测），在投递时再被拷贝一次。{all} 个通知中有 {copied} 个标记为 COPIED"
                ),
            )
        }
        CopySite::ReceiveTap => {
            let tap = fmt_bytes(z.tap_received_bytes);
            say(
                lang,
                format!(
                    "{anyway} of pinned pages copied anyway, for the packet tap on the receiving device: {tap} reached it still in the sender's pages (seen), and the kernel's code says deliver_skb copies them for the tap before IP sees them (the copy local delivery would have made, moved earlier); {copied} of {all} notifications say COPIED"
                ),
                format!(
                    "被钉住的页面中有 {anyway} 仍被拷贝，为的是接收设备上的抓包器：{tap} 到达那里时仍是发送方的页面（已观测），内核代码表明 deliver_skb 在 IP 层看到之前为抓包器拷贝它们（本地投递本来也要做的拷贝，只是提前了）；{all} 个通知中有 {copied} 个标记为 COPIED"
                ),
            )
        }
        CopySite::LocalDelivery | CopySite::None => {
            let (past, read) = (
                fmt_bytes(z.user_pages_past_veth_bytes),
                fmt_bytes(z.user_pages_at_receiver_bytes),
            );
            say(
                lang,
                format!(
                    "{anyway} of pinned pages copied anyway, past the veth: the peer still got the sender's own pages ({past}), the receiver read {read} of its bytes from them, so the copy came on local delivery (skb_orphan_frags_rx); {copied} of {all} notifications say COPIED"
                ),
                format!(
                    "被钉住的页面中有 {anyway} 在越过 veth 之后仍被拷贝：对端拿到的仍是发送方自己的页面（{past}），接收方从中读取了 {read}，所以拷贝发生在本地投递时（skb_orphan_frags_rx）；{all} 个通知中有 {copied} 个标记为 COPIED"
                ),
            )
        }
    }
}

/// zc's own cost in one line, for the reports and the status bar.
pub fn tracing_cost(t: &TracingCost) -> String {
    if !t.measured {
        return "tracing cost: not measured (the kernel did not time zc's programs, or an older \
                recording)"
            .into();
    }
    let mut s = format!(
        "tracing cost: {} of eBPF over {} probe runs ({:.0} ns each)",
        fmt_ns(t.ebpf_ns),
        group(t.probe_runs),
        t.ns_per_run.unwrap_or(0.0)
    );
    if let Some(share) = t.share_of_cpu {
        // The runs are every task's while armed: against a short run's own
        // CPU this can pass 100 %.
        s.push_str(&format!(", {:.1} % of {}", 100.0 * share, t.cpu_of));
    }
    if let (Some(clock), Some(programs)) = (t.clock_ns_per_run, t.programs_ns) {
        s.push_str(&format!(
            "; the timing itself takes {clock:.0} ns of each run (an empty program timed the \
             same way), so zc's programs took {}",
            fmt_ns(programs)
        ));
        if let Some(share) = t.programs_share_of_cpu {
            s.push_str(&format!(" ({:.1} %)", 100.0 * share));
        }
    }
    s
}

/// 14210 → "14,210".
fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        classify::classify,
        counts::Counts,
        synthetic::{MIB, facts, with_calls},
    };
    use zc_common::counters::Counter as C;

    /// Every sentence comes in both languages, one for one, and the
    /// figures in them are the same.
    fn both(f: &Figures, fx: &RunFacts) -> Vec<String> {
        let (en, zh) = (differences(f, fx, Lang::En), differences(f, fx, Lang::Zh));
        assert_eq!(en.len(), zh.len(), "{en:?} / {zh:?}");
        let digits = |s: &str| -> Vec<String> {
            s.split(|c: char| !c.is_ascii_digit())
                .filter(|d| !d.is_empty())
                .map(String::from)
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect()
        };
        for (e, z) in en.iter().zip(&zh) {
            assert_eq!(digits(e), digits(z), "{e} / {z}");
        }
        en
    }

    #[test]
    fn a_warm_run_says_the_file_was_cached() {
        let mut c = Counts::new();
        with_calls(&mut c, "read", 16, MIB);
        with_calls(&mut c, "write", 16, MIB);
        c.set(C::SendUserBytes, MIB);
        let fx = facts("read-write");
        let f = classify(&c, &fx, None);
        assert!(both(&f, &fx).iter().any(|d| d.contains("warm run")));
    }

    #[test]
    fn faults_and_once_per_file_calls_are_named() {
        let mut c = Counts::new();
        with_calls(&mut c, "mmap", 1, 0x7f00_0000_0000);
        with_calls(&mut c, "write", 16, MIB);
        with_calls(&mut c, "munmap", 1, 0);
        c.set(C::SendUserBytes, MIB);
        c.set(C::FaultKernel, 16);
        c.set(C::FilemapMapPages, 16);
        c.set(C::FilemapMapPagesPages, 256);
        let fx = facts("mmap-write");
        let d = both(&classify(&c, &fx, None), &fx);
        assert!(d.iter().any(|l| l.contains("mmap ×1")), "{d:?}");
        assert!(d.iter().any(|l| l.contains("16 page faults")), "{d:?}");
    }

    #[test]
    fn a_cold_run_without_dma_events_says_why() {
        let mut c = Counts::new();
        c.set(C::FilemapAdd, 8);
        c.set(C::FilemapAddBytes, MIB);
        let mut fx = facts("read-write");
        fx.cold = true;
        let d = both(&classify(&c, &fx, None), &fx);
        assert!(
            d.iter().any(|d| d.contains("no DMA map into the file")),
            "{d:?}"
        );
    }

    /// A ring's requests are named as the table names them, whatever
    /// opcodes they are.
    #[test]
    fn ring_requests_are_named_by_the_table() {
        use zc_common::event::{IORING_OP_READ, IORING_OP_SEND_ZC};
        let mut c = Counts::new();
        with_calls(&mut c, "io_uring_enter", 1, 0);
        c.set(C::IoSubmits, 32);
        c.ring_requests.insert(IORING_OP_READ, 16);
        c.ring_requests.insert(IORING_OP_SEND_ZC, 16);
        let fx = facts("io-uring-send-zc");
        let d = both(&classify(&c, &fx, None), &fx);
        assert!(
            d.iter().any(|l| l.contains("(16 READ, 16 SEND_ZC)")),
            "{d:?}"
        );
    }

    /// The copy made anyway is told where it was made, in both languages.
    #[test]
    fn pinned_pages_copied_anyway_are_placed() {
        let mut c = Counts::new();
        c.set(C::ZcCopiedBytes, MIB);
        c.set(C::XmitPinnedBytes, MIB);
        c.set(C::ForwardCopiedBytes, MIB);
        c.set(C::ZcNotifications, 4);
        c.set(C::ZcCopiedNotifications, 4);
        let fx = facts("msg-zerocopy");
        let d = both(&classify(&c, &fx, None), &fx);
        assert!(d.iter().any(|l| l.contains("skb_copy_ubufs")), "{d:?}");
    }

    #[test]
    fn the_cost_line_gives_time_runs_each_and_share() {
        use zc_common::counters::Counter as C;
        let mut c = Counts::new();
        c.set(C::EbpfRunNs, 1_900_000);
        c.set(C::EbpfRuns, 14_210);
        let line = tracing_cost(&TracingCost::of(&c, 237_500_000, "the run's CPU"));
        assert!(line.contains("14,210 probe runs"), "{line}");
        assert!(line.contains("(134 ns each)"), "{line}");
        assert!(line.contains("0.8 % of the run's CPU"), "{line}");
        assert!(tracing_cost(&TracingCost::of(&Counts::new(), 1, "x")).contains("not measured"));
        assert!(!line.contains("timing itself"), "{line}");
        c.set(C::EbpfClockPs, 50_000);
        let line = tracing_cost(&TracingCost::of(&c, 237_500_000, "the run's CPU"));
        assert!(line.contains("takes 50 ns of each run"), "{line}");
        // 1.9 ms less 14,210 × 50 ns.
        assert!(line.contains("took 1.19 ms (0.5 %)"), "{line}");
    }
}
