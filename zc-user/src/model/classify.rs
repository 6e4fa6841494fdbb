//! Counts → the figures of the report: which bytes were copied by the CPU,
//! which only referenced, which came from disk, and how often the sender
//! crossed into the kernel.
//!
//! The rules, from the kernel's code paths (docs/evidence.md has the detail):
//! - `read()` on the file copies page cache → user buffer: its return bytes.
//! - a send whose iterator is user memory (ITER_UBUF/IOVEC) copies user
//!   buffer (or the mmap'ed page cache) → TCP's pages: `sock_send_length` bytes.
//! - a send with `MSG_SPLICE_PAGES` from a page iterator (sendfile/splice)
//!   only references page-cache pages from the skb.
//! - payload that was paged when TCP queued the skb (`net_dev_queue`) but
//!   linear when the device got it (`net_dev_start_xmit`) was copied by the
//!   CPU at segmentation (a device without scatter-gather).
//! - frags whose page is a page-cache page of the demo file at
//!   `net_dev_start_xmit` reached the device by reference.
//! - folios added to the page cache for the demo file came from disk.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use zc_common::counters::Counter as C;

use super::{Movement, Place, Strategy, article, counts::Counts};

/// Page size assumed for page counts in reports (x86_64 and most arm64).
pub const PAGE: u64 = 4096;

/// What a run was asked to do (not measured).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunFacts {
    pub strategy: Strategy,
    pub size: u64,
    pub chunk: u64,
    pub cold: bool,
    pub sender_sg: bool,
}

impl RunFacts {
    /// Buffers the file is sent in: ceil(size / chunk).
    pub fn chunks(&self) -> u64 {
        if self.chunk == 0 {
            0
        } else {
            self.size.div_ceil(self.chunk)
        }
    }
}

/// One movement of bytes with its measured size and the evidence for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MovementFigure {
    pub movement: Movement,
    pub from: Place,
    pub to: Place,
    pub bytes: u64,
    /// Operations (calls, skbs, folios, faults) that moved them.
    pub ops: u64,
    /// Where in the kernel it happens.
    pub site: &'static str,
    /// Which events prove it.
    pub evidence: &'static str,
}

/// The measured figures of one run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Figures {
    pub syscalls: BTreeMap<String, u64>,
    pub syscall_total: u64,
    /// User↔kernel mode switches: two per syscall and two per user page fault.
    pub mode_switches: u64,
    pub sched_switches: u64,
    pub sched_blocked: u64,
    pub page_faults: u64,
    pub page_faults_user: u64,
    pub page_faults_kernel: u64,
    pub cpu_copies: u64,
    pub cpu_copy_bytes: u64,
    pub reference_bytes: u64,
    pub disk_read_bytes: u64,
    pub block_read_bytes: u64,
    pub dma_maps: u64,
    pub dma_bytes: u64,
    pub receiver_copy_bytes: u64,
    pub skbs_queued: u64,
    pub skbs_transmitted: u64,
    pub file_frags_at_queue: u64,
    pub file_frags_at_device: u64,
    pub shared_frag_skbs_at_device: u64,
    pub movements: Vec<MovementFigure>,
}

impl Figures {
    /// Bytes the CPU copied, per byte of the file (the article's "CPU copies").
    pub fn copy_passes(&self, size: u64) -> f64 {
        if size == 0 {
            0.0
        } else {
            self.cpu_copy_bytes as f64 / size as f64
        }
    }
}

/// Turns a run's counts into its figures.
pub fn classify(c: &Counts, facts: &RunFacts) -> Figures {
    let mut movements = Vec::new();
    let mut push = |movement, from, to, bytes, ops, site, evidence| {
        if bytes > 0 || ops > 0 {
            movements.push(MovementFigure {
                movement,
                from,
                to,
                bytes,
                ops,
                site,
                evidence,
            });
        }
    };

    // Disk → page cache (only on a miss).
    let disk = c.get(C::FilemapAddBytes);
    push(
        Movement::Dma,
        Place::Disk,
        Place::PageCache,
        disk,
        c.get(C::FilemapAdd),
        "readahead into the page cache",
        "filemap:mm_filemap_add_to_page_cache + block:block_bio_queue + block_rq_complete",
    );

    // mmap: pages mapped on fault, not copied.
    let mapped_pages = c.get(C::FilemapMapPagesPages);
    let file_faults = c.get(C::FilemapFault) + c.get(C::FilemapMapPages);
    if facts.strategy == Strategy::MmapWrite || file_faults > 0 {
        push(
            Movement::Mapping,
            Place::PageCache,
            Place::Mapping,
            mapped_pages * PAGE,
            file_faults,
            "page fault → filemap_map_pages (fault-around)",
            "exceptions:page_fault_* + filemap:mm_filemap_map_pages/fault",
        );
    }

    // read(): page cache → user buffer.
    let read_bytes = c.bytes("read") + c.bytes("pread64") + c.bytes("readv");
    let read_calls = c.calls("read") + c.calls("pread64") + c.calls("readv");
    push(
        Movement::CpuCopy,
        Place::PageCache,
        Place::UserBuffer,
        read_bytes,
        if read_bytes > 0 { read_calls } else { 0 },
        "read() → filemap_read → copy_to_user",
        "raw_syscalls:sys_exit(read).ret + filemap:mm_filemap_get_pages",
    );

    // write()/send() from user memory: user buffer (or mapping) → socket buffer.
    let user_send = c.get(C::SendUserBytes);
    let send_from = if facts.strategy == Strategy::MmapWrite {
        Place::Mapping
    } else {
        Place::UserBuffer
    };
    let write_calls = c.calls("write") + c.calls("sendto") + c.calls("sendmsg") + c.calls("writev");
    push(
        Movement::CpuCopy,
        send_from,
        Place::SocketBuffer,
        user_send,
        if user_send > 0 { write_calls } else { 0 },
        "tcp_sendmsg_locked → skb_copy_to_page_nocache",
        "tcp:tcp_sendmsg_locked (ITER_UBUF) + sock:sock_send_length.ret",
    );

    // sendfile/splice: the skb references page-cache pages.
    let splice = c.get(C::SendSpliceBytes);
    push(
        Movement::Reference,
        Place::PageCache,
        Place::SocketBuffer,
        splice,
        if splice > 0 { c.get(C::SockSend) } else { 0 },
        "splice_to_socket → tcp_sendmsg_locked(MSG_SPLICE_PAGES)",
        "tcp:tcp_sendmsg_locked (ITER_BVEC, MSG_SPLICE_PAGES) + sock:sock_send_length.ret",
    );

    // Segmentation for a device without scatter-gather: paged → linear.
    let queue_paged = c
        .get(C::QueuePayload)
        .saturating_sub(c.get(C::QueueLinearPayload));
    let seg_copy = c
        .get(C::XmitLinearPayload)
        .saturating_sub(c.get(C::QueueLinearPayload))
        .min(queue_paged);
    let seg_from_cache = seg_copy.min(
        c.get(C::QueueFileBytes)
            .saturating_sub(c.get(C::XmitFileBytes)),
    );
    let seg_ops = if seg_copy > 0 { c.get(C::XmitSkbs) } else { 0 };
    push(
        Movement::CpuCopy,
        Place::PageCache,
        Place::Nic,
        seg_from_cache,
        if seg_from_cache > 0 { seg_ops } else { 0 },
        "validate_xmit_skb → skb_segment (device lacks scatter-gather)",
        "net:net_dev_queue (paged, page-cache frags) vs net:net_dev_start_xmit (linear)",
    );
    push(
        Movement::CpuCopy,
        Place::SocketBuffer,
        Place::Nic,
        seg_copy - seg_from_cache,
        if seg_copy > seg_from_cache {
            seg_ops
        } else {
            0
        },
        "validate_xmit_skb → skb_segment (device lacks scatter-gather)",
        "net:net_dev_queue (paged) vs net:net_dev_start_xmit (linear)",
    );

    // Page-cache pages that reached the device by reference.
    let reference = c.get(C::XmitFileBytes);
    push(
        Movement::Reference,
        Place::PageCache,
        Place::Nic,
        reference,
        c.get(C::XmitFileFrags),
        "dev_hard_start_xmit with frags pointing at page-cache pages",
        "net:net_dev_start_xmit frags → page → folio->mapping->host = demo inode",
    );

    // What the device got: a veth copies nothing and does no DMA.
    push(
        Movement::SoftwareTransmit,
        Place::SocketBuffer,
        Place::Nic,
        c.get(C::XmitPayload),
        c.get(C::XmitSkbs),
        "veth_xmit: the skb moves to the peer in memory",
        "net:net_dev_start_xmit",
    );

    let cpu_copy_bytes = read_bytes + user_send + seg_copy;
    let cpu_copies = movements
        .iter()
        .filter(|m| m.movement == Movement::CpuCopy)
        .map(|m| m.ops)
        .sum();
    let syscall_total = c.total_syscalls();
    Figures {
        syscalls: c.syscalls_by_name(),
        syscall_total,
        mode_switches: 2 * syscall_total + 2 * c.get(C::FaultUser),
        sched_switches: c.get(C::SchedOut),
        sched_blocked: c.get(C::SchedOutBlocked),
        page_faults: c.get(C::FaultUser) + c.get(C::FaultKernel),
        page_faults_user: c.get(C::FaultUser),
        page_faults_kernel: c.get(C::FaultKernel),
        cpu_copies,
        cpu_copy_bytes,
        reference_bytes: reference,
        disk_read_bytes: disk,
        block_read_bytes: c.get(C::BlockIssueBytes),
        dma_maps: c.get(C::DmaMaps),
        dma_bytes: c.get(C::DmaBytes),
        receiver_copy_bytes: c.get(C::RecvCopyBytes),
        skbs_queued: c.get(C::QueueSkbs),
        skbs_transmitted: c.get(C::XmitSkbs),
        file_frags_at_queue: c.get(C::QueueFileFrags),
        file_frags_at_device: c.get(C::XmitFileFrags),
        shared_frag_skbs_at_device: c.get(C::XmitSharedFrag),
        movements,
    }
}

/// One line per way the measurement differs from the article's row, saying why.
pub fn differences(f: &Figures, facts: &RunFacts) -> Vec<String> {
    let a = article::row(facts.strategy);
    let chunks = facts.chunks().max(1);
    let mut out = Vec::new();
    let per_chunk = f.syscall_total as f64 / chunks as f64;
    if (per_chunk - a.syscalls as f64).abs() > 0.05 {
        let extra: Vec<String> = f
            .syscalls
            .iter()
            .filter(|(n, _)| !matches!(n.as_str(), "read" | "write" | "sendfile"))
            .map(|(n, k)| format!("{n} ×{k}"))
            .collect();
        out.push(format!(
            "syscalls: {per_chunk:.2} per chunk vs the article's {}{}",
            a.syscalls,
            if extra.is_empty() {
                " (short transfers needed extra calls)".to_string()
            } else {
                format!(" — once per file: {}", extra.join(", "))
            }
        ));
    }
    if f.page_faults > 0 {
        out.push(format!(
            "{} page faults ({} in user mode, {} inside the kernel's copy): kernel entries the article does not count",
            f.page_faults, f.page_faults_user, f.page_faults_kernel
        ));
    }
    if f.disk_read_bytes == 0 {
        out.push(if facts.cold {
            "no disk read although the cache was evicted (the file system may not use the page cache)".into()
        } else {
            "no disk → page cache DMA: the file was already in the page cache (warm run; try --cold)".into()
        });
    } else if f.dma_maps == 0 {
        out.push(
            "disk → page cache shown by page-cache insertions and block requests; no dma:* event fired (a virtio disk without the DMA API)".into(),
        );
    }
    out.push(
        "no NIC DMA: the veth is a software device; the skb is handed to the peer in memory".into(),
    );
    match facts.strategy {
        Strategy::Sendfile => out.push(
            "the CPU copy is at segmentation (skb_segment, scatter-gather off), not inside sendfile(): on a 6.18 kernel sendfile only references pages".into(),
        ),
        Strategy::SendfileGather if f.reference_bytes > 0 => out.push(
            "no CPU copy: the skbs carry page-cache pages as frags (SKBFL_SHARED_FRAG) straight to the device".into(),
        ),
        _ => {}
    }
    if f.sched_switches > 0 {
        out.push(format!(
            "{} scheduler switches ({} blocked, e.g. on a full socket buffer): real context switches, apart from the mode switches the article counts",
            f.sched_switches, f.sched_blocked
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::counts::SyscallTotals;
    use crate::model::syscalls::number;

    const MIB: u64 = 1 << 20;

    fn facts(strategy: Strategy) -> RunFacts {
        RunFacts {
            strategy,
            size: MIB,
            chunk: 64 << 10,
            cold: false,
            sender_sg: strategy.sender_sg(),
        }
    }

    fn with_calls(c: &mut Counts, name: &str, calls: u64, bytes: u64) {
        let nr = number(name).expect("known syscall");
        c.syscalls.insert(nr, SyscallTotals { calls, bytes });
    }

    #[test]
    fn read_write_copies_twice() {
        let mut c = Counts::new();
        with_calls(&mut c, "read", 16, MIB);
        with_calls(&mut c, "write", 16, MIB);
        c.set(C::SendUserBytes, MIB);
        c.set(C::QueuePayload, MIB);
        c.set(C::XmitPayload, MIB);
        c.set(C::XmitSkbs, 20);
        let f = classify(&c, &facts(Strategy::ReadWrite));
        assert_eq!(f.cpu_copy_bytes, 2 * MIB);
        assert_eq!(f.copy_passes(MIB), 2.0);
        assert_eq!(f.cpu_copies, 32);
        assert_eq!(f.mode_switches, 64);
        assert_eq!(f.reference_bytes, 0);
        assert!(
            differences(&f, &facts(Strategy::ReadWrite))
                .iter()
                .any(|d| d.contains("warm run"))
        );
    }

    #[test]
    fn sendfile_without_sg_copies_at_segmentation_from_page_cache() {
        let mut c = Counts::new();
        with_calls(&mut c, "sendfile", 16, MIB);
        c.set(C::SendSpliceBytes, MIB);
        c.set(C::QueuePayload, MIB);
        c.set(C::QueueFileBytes, MIB);
        c.set(C::XmitPayload, MIB);
        c.set(C::XmitLinearPayload, MIB);
        c.set(C::XmitSkbs, 720);
        let f = classify(&c, &facts(Strategy::Sendfile));
        assert_eq!(f.cpu_copy_bytes, MIB);
        assert_eq!(f.reference_bytes, 0);
        let seg = f
            .movements
            .iter()
            .find(|m| m.movement == Movement::CpuCopy && m.to == Place::Nic)
            .expect("segmentation copy");
        assert_eq!(seg.from, Place::PageCache);
        assert_eq!(seg.ops, 720);
    }

    #[test]
    fn sendfile_gather_only_references() {
        let mut c = Counts::new();
        with_calls(&mut c, "sendfile", 16, MIB);
        c.set(C::SendSpliceBytes, MIB);
        c.set(C::QueuePayload, MIB);
        c.set(C::QueueFileBytes, MIB);
        c.set(C::XmitPayload, MIB);
        c.set(C::XmitFileBytes, MIB);
        c.set(C::XmitFileFrags, 256);
        let f = classify(&c, &facts(Strategy::SendfileGather));
        assert_eq!(f.cpu_copy_bytes, 0);
        assert_eq!(f.cpu_copies, 0);
        assert_eq!(f.reference_bytes, MIB);
        assert_eq!(f.mode_switches, 32);
    }

    #[test]
    fn mmap_write_copies_once_and_counts_faults() {
        let mut c = Counts::new();
        with_calls(&mut c, "mmap", 1, 0x7f00_0000_0000);
        with_calls(&mut c, "write", 16, MIB);
        with_calls(&mut c, "munmap", 1, 0);
        c.set(C::SendUserBytes, MIB);
        c.set(C::FaultKernel, 16);
        c.set(C::FilemapMapPages, 16);
        c.set(C::FilemapMapPagesPages, 256);
        let fx = facts(Strategy::MmapWrite);
        let f = classify(&c, &fx);
        assert_eq!(f.cpu_copy_bytes, MIB);
        assert_eq!(f.page_faults, 16);
        // Kernel-mode faults are not mode switches.
        assert_eq!(f.mode_switches, 36);
        let d = differences(&f, &fx);
        assert!(d.iter().any(|l| l.contains("mmap ×1")), "{d:?}");
        assert!(d.iter().any(|l| l.contains("16 page faults")), "{d:?}");
    }

    #[test]
    fn cold_run_reports_disk_bytes() {
        let mut c = Counts::new();
        c.set(C::FilemapAdd, 8);
        c.set(C::FilemapAddBytes, MIB);
        let mut fx = facts(Strategy::ReadWrite);
        fx.cold = true;
        let f = classify(&c, &fx);
        assert_eq!(f.disk_read_bytes, MIB);
        assert!(
            differences(&f, &fx)
                .iter()
                .any(|d| d.contains("no dma:* event"))
        );
    }
}
