//! `zc trace`'s model: what a tree of processes zc did not write did to
//! its bytes. The kernel counts per process, per socket and per file (see
//! `zc_common::tree`); this module turns those totals into the same
//! vocabulary as the demo: syscalls and mode switches, CPU copies by site,
//! bytes passed by reference or pinned, a ledger per socket, and one
//! verdict per process.
//!
//! The copy sites, and the evidence for each:
//! - page cache → user: a read-family call inside which a page-cache lookup
//!   of a file ran (`mm_filemap_get_pages`); its return value is the bytes;
//! - user → socket buffer: `tcp_sendmsg_locked` saw user memory, and
//!   `sock_send_length` the bytes the socket took;
//! - page cache → socket buffer at segmentation: payload that left the
//!   queue as page frags and reached the device linear;
//! - socket buffer → user: `skb_copy_datagram_iovec` in the process.
//!
//! Pure: no kernel, no root; the tracer fills [`TreeCounts`].

use std::{
    collections::{BTreeMap, BTreeSet},
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
};

use serde::{Deserialize, Serialize};
use zc_common::{
    counters::Counter as C,
    tree::{SockInfo, file_slot},
};

use super::{counts::Counts, rules};

/// What the kernel counted for the followed tree, by owner.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TreeCounts {
    pub procs: BTreeMap<u32, ProcCounts>,
    /// Socket id → who owns it and its counters.
    pub sockets: BTreeMap<u64, (SocketInfo, Counts)>,
    /// (device, inode) → process → counters.
    pub files: BTreeMap<(u32, u64), BTreeMap<u32, FileCounts>>,
    /// Tasks in whose context the kernel ran none of zc's programs.
    pub blind: Vec<super::counts::BlindTask>,
}

/// One process's counters and its place in the tree.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProcCounts {
    pub counts: Counts,
    /// The followed pid it descends from, and its parent, when it was
    /// forked during the trace (None for a pid zc was given).
    pub root: Option<u32>,
    pub parent: Option<u32>,
    /// Its name when it exited, if it did.
    pub exit_comm: Option<String>,
    pub exited: bool,
}

/// A socket as the kernel described it at its first sighting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SocketInfo {
    pub cookie: u64,
    pub pid: u32,
    pub local: SocketAddr,
    pub remote: SocketAddr,
}

impl SocketInfo {
    pub fn from_kernel(i: &SockInfo) -> SocketInfo {
        let addr = |bytes: &[u8; 16], port: u16| -> SocketAddr {
            let ip = if i.family == libc::AF_INET6 as u16 {
                IpAddr::V6(Ipv6Addr::from(*bytes))
            } else {
                IpAddr::V4(Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]))
            };
            SocketAddr::new(ip, port)
        };
        SocketInfo {
            cookie: i.cookie,
            pid: i.tgid,
            local: addr(&i.local, i.local_port),
            remote: addr(&i.remote, i.remote_port),
        }
    }
}

/// One process's use of one file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileCounts {
    pub read_bytes: u64,
    pub read_calls: u64,
    pub referenced_bytes: u64,
    pub mapped_pages: u64,
    pub faults: u64,
    pub disk_bytes: u64,
}

impl FileCounts {
    /// Adds `v` to the counter `slot` (`zc_common::tree::file_slot`).
    pub fn add(&mut self, slot: u32, v: u64) {
        match slot {
            file_slot::READ_BYTES => self.read_bytes += v,
            file_slot::READ_CALLS => self.read_calls += v,
            file_slot::REFERENCED_BYTES => self.referenced_bytes += v,
            file_slot::MAPPED_PAGES => self.mapped_pages += v,
            file_slot::FAULTS => self.faults += v,
            file_slot::DISK_BYTES => self.disk_bytes += v,
            _ => {}
        }
    }

    fn merge(&mut self, o: &FileCounts) {
        self.read_bytes += o.read_bytes;
        self.read_calls += o.read_calls;
        self.referenced_bytes += o.referenced_bytes;
        self.mapped_pages += o.mapped_pages;
        self.faults += o.faults;
        self.disk_bytes += o.disk_bytes;
    }
}

/// What the views know of the processes beyond the counters: names and
/// file paths, read from /proc while the processes lived.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Names {
    pub comm: BTreeMap<u32, String>,
    /// (device as the kernel encodes it, inode) → path.
    pub paths: BTreeMap<(u32, u64), String>,
    /// A file whose page cache served reads of another, opened one (the
    /// file beneath an overlayfs file) → that opened file.
    pub beneath: BTreeMap<(u32, u64), (u32, u64)>,
}

impl Names {
    /// The path a file is known by: its own, or the opened file's it lies
    /// beneath.
    pub fn path_of(&self, file: (u32, u64)) -> Option<&String> {
        self.paths.get(&file).or_else(|| {
            self.beneath
                .get(&file)
                .and_then(|opened| self.paths.get(opened))
        })
    }
}

/// CPU copies, by site.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Copies {
    /// read() of a file: page cache → user memory.
    pub page_cache_to_user: u64,
    /// read() of something that is neither a file's page cache nor a
    /// socket (a pipe, a terminal, tmpfs): still a copy into user memory.
    pub other_to_user: u64,
    /// write()/send() from user memory into the socket's own pages.
    pub user_to_socket: u64,
    /// Page frags copied into linear segments on the way to the device.
    pub segmentation: u64,
    /// Receive: socket buffer → user memory.
    pub socket_to_user: u64,
}

impl Copies {
    pub fn total(&self) -> u64 {
        self.page_cache_to_user
            + self.other_to_user
            + self.user_to_socket
            + self.segmentation
            + self.socket_to_user
    }

    /// The copies on the way out: all but the receive copy.
    pub fn on_send_path(&self) -> u64 {
        self.total() - self.socket_to_user
    }
}

/// Bytes the process's sockets took, by how.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sent {
    pub copied_bytes: u64,
    pub referenced_bytes: u64,
    pub pinned_bytes: u64,
    /// Kernel memory, or a source zc does not name.
    pub other_bytes: u64,
}

impl Sent {
    pub fn total(&self) -> u64 {
        self.copied_bytes + self.referenced_bytes + self.pinned_bytes + self.other_bytes
    }
}

/// Bytes the process took out of its sockets, by how. Only the copy puts
/// them through the CPU: a splice hands the skbs' pages to a pipe, and
/// `TCP_ZEROCOPY_RECEIVE` maps them into the process.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Received {
    /// `skb_copy_datagram_iovec` into its memory (a read, a recv, the
    /// small leftovers of a mapped receive).
    pub copied_bytes: u64,
    /// `splice` out of a socket into a pipe.
    pub spliced_bytes: u64,
    /// `getsockopt(TCP_ZEROCOPY_RECEIVE)`: whole pages mapped.
    pub mapped_bytes: u64,
}

impl Received {
    pub fn of(c: &Counts) -> Received {
        Received {
            copied_bytes: c.get(C::RecvCopyBytes),
            spliced_bytes: c.get(C::RecvSplicedBytes),
            mapped_bytes: c.get(C::RecvMappedBytes),
        }
    }

    pub fn total(&self) -> u64 {
        self.copied_bytes + self.spliced_bytes + self.mapped_bytes
    }
}

/// What reached the device, and how its pages prove it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AtDevice {
    pub payload_bytes: u64,
    /// In frags that are page-cache pages of a file: passed by reference.
    pub file_page_bytes: u64,
    /// In frags that are the process's own anonymous pages (vmsplice).
    pub user_page_bytes: u64,
    /// In frags that are pinned user pages (MSG_ZEROCOPY, SEND_ZC).
    pub pinned_page_bytes: u64,
    pub retransmitted_bytes: u64,
}

/// Zero-copy completions the process read (MSG_ZEROCOPY's error queue).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Completions {
    pub notifications: u64,
    pub sends: u64,
    /// Of those sends, the kernel copied anyway.
    pub copied_sends: u64,
}

/// The demo's figures, for a process or a tree.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Flow {
    pub syscalls: BTreeMap<String, u64>,
    pub syscall_total: u64,
    /// 2 per syscall + 2 per user-mode page fault, as in the demo.
    pub mode_switches: u64,
    pub sched_switches_blocked: u64,
    pub sched_switches_preempted: u64,
    /// The sum of `copies`.
    pub cpu_copy_bytes: u64,
    pub copies: Copies,
    /// Payload that reached the device in pages nobody copied.
    pub reference_bytes: u64,
    pub sent: Sent,
    pub sent_bytes: u64,
    /// The sum of `received`.
    pub received_bytes: u64,
    #[serde(default)]
    pub received: Received,
    pub at_device: AtDevice,
    pub page_faults: u64,
    pub mapped_pages: u64,
    pub disk_read_bytes: u64,
    pub completions: Completions,
    pub dma_maps: u64,
    pub dma_bytes: u64,
    /// CPU copies on the way out per byte sent (None when nothing was sent).
    pub copies_per_byte_sent: Option<f64>,
}

impl Flow {
    /// Figures from one owner's process counters (`p`, counted in its
    /// threads) and its sockets' counters (`s`, counted wherever the skb
    /// went).
    pub fn of(p: &Counts, s: &Counts) -> Flow {
        let seg = rules::segmentation(s).total();
        let copies = Copies {
            page_cache_to_user: p.get(C::ReadFileBytes),
            other_to_user: p.get(C::ReadOtherBytes),
            user_to_socket: p.get(C::SendUserBytes),
            segmentation: seg,
            socket_to_user: p.get(C::RecvCopyBytes),
        };
        let sent = Sent {
            copied_bytes: p.get(C::SendUserBytes),
            referenced_bytes: p.get(C::SendSpliceBytes),
            pinned_bytes: p.get(C::SendPinnedBytes),
            other_bytes: p.get(C::SendOtherBytes),
        };
        let at_device = AtDevice {
            payload_bytes: s.get(C::XmitPayload),
            file_page_bytes: s.get(C::XmitFileBytes),
            user_page_bytes: s.get(C::XmitUserBytes),
            pinned_page_bytes: s.get(C::XmitPinnedBytes),
            retransmitted_bytes: s.get(C::RetransmitBytes),
        };
        let syscall_total = p.total_syscalls();
        let sent_bytes = sent.total();
        Flow {
            syscalls: p.syscalls_by_name(),
            syscall_total,
            mode_switches: 2 * syscall_total + 2 * p.get(C::FaultUser),
            sched_switches_blocked: p.get(C::SchedOutBlocked),
            sched_switches_preempted: p.get(C::SchedOutPreempted),
            cpu_copy_bytes: copies.total(),
            copies,
            reference_bytes: at_device.file_page_bytes + at_device.user_page_bytes,
            sent,
            sent_bytes,
            received_bytes: Received::of(p).total(),
            received: Received::of(p),
            at_device,
            page_faults: p.get(C::FaultUser) + p.get(C::FaultKernel),
            mapped_pages: p.get(C::FilemapMapPagesPages),
            disk_read_bytes: p.get(C::FilemapAddBytes),
            completions: Completions {
                notifications: p.get(C::ZcNotifications),
                sends: p.get(C::ZcCompletedSends),
                copied_sends: p.get(C::ZcCopiedSends),
            },
            // Counted by socket, at the driver's transmit (softirq, for
            // anyone): the owner's through its sockets.
            dma_maps: s.get(C::NicDmaMaps),
            dma_bytes: s.get(C::NicDmaBytes),
            copies_per_byte_sent: (sent_bytes > 0)
                .then(|| copies.on_send_path() as f64 / sent_bytes as f64),
        }
    }
}

/// One socket's ledger: what the process handed it, against what left the
/// device for the first time. `unexplained_bytes` is 0 when they agree.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocketLedger {
    pub sent_bytes: u64,
    pub copied_bytes: u64,
    pub referenced_bytes: u64,
    pub pinned_bytes: u64,
    pub other_bytes: u64,
    /// Payload at the device, less what was retransmitted.
    pub first_transmission_bytes: u64,
    pub retransmitted_bytes: u64,
    /// First transmissions TCP counted for the socket (`tcp_sock`'s
    /// `bytes_sent` less `bytes_retrans`, from zc's first sighting of it to
    /// its close) that no probe saw at the device: sent where the kernel ran
    /// no program (docs/evidence.md, "Unseen"). 0 for a socket still open
    /// when the trace ended: TCP's count is read at the close.
    #[serde(default)]
    pub unseen_bytes: u64,
    /// Retransmissions TCP counted that no probe saw.
    #[serde(default)]
    pub unseen_retransmitted_bytes: u64,
    /// Whether TCP's own count was read (the socket closed in the trace).
    #[serde(default)]
    pub tcp_counted: bool,
    /// Receiving: what the program took out of the socket, copied into
    /// its memory (`skb_copy_datagram_iovec`), spliced into a pipe or
    /// mapped (`TCP_ZEROCOPY_RECEIVE`), against what TCP says it took
    /// (`bytes_received` less the unread, between the first sighting and
    /// the close). A socket still open at the end has no such check.
    #[serde(default)]
    pub received_copied_bytes: u64,
    #[serde(default)]
    pub received_spliced_bytes: u64,
    #[serde(default)]
    pub received_mapped_bytes: u64,
    #[serde(default)]
    pub received_by_tcp_bytes: u64,
    #[serde(default)]
    pub unexplained_received_bytes: i64,
    /// Sent but not seen at the device nor counted by TCP (positive), or
    /// seen at the device but never sent through a traced call (negative:
    /// the socket existed before the trace, or the process sent before zc
    /// followed it); zc seeing more than TCP counted adds to it.
    pub unexplained_bytes: i64,
}

impl SocketLedger {
    pub fn of(s: &Counts) -> SocketLedger {
        let sent = Sent {
            copied_bytes: s.get(C::SendUserBytes),
            referenced_bytes: s.get(C::SendSpliceBytes),
            pinned_bytes: s.get(C::SendPinnedBytes),
            other_bytes: s.get(C::SendOtherBytes),
        };
        let received = Received::of(s);
        let retrans = s.get(C::RetransmitBytes);
        let first = s.get(C::XmitPayload).saturating_sub(retrans);
        let (mut unseen, mut unseen_re, mut over) = (0, 0, 0);
        if s.get(C::TcpInfoRead) != 0 {
            let tcp_retrans = s.get(C::TcpBytesRetrans);
            let tcp_first = s.get(C::TcpBytesSent).saturating_sub(tcp_retrans);
            unseen = tcp_first.saturating_sub(first);
            unseen_re = tcp_retrans.saturating_sub(retrans);
            over = first.saturating_sub(tcp_first) + retrans.saturating_sub(tcp_retrans);
        }
        SocketLedger {
            sent_bytes: sent.total(),
            copied_bytes: sent.copied_bytes,
            referenced_bytes: sent.referenced_bytes,
            pinned_bytes: sent.pinned_bytes,
            other_bytes: sent.other_bytes,
            first_transmission_bytes: first,
            retransmitted_bytes: retrans,
            unseen_bytes: unseen,
            unseen_retransmitted_bytes: unseen_re,
            tcp_counted: s.get(C::TcpInfoRead) != 0,
            received_copied_bytes: received.copied_bytes,
            received_spliced_bytes: received.spliced_bytes,
            received_mapped_bytes: received.mapped_bytes,
            received_by_tcp_bytes: s.get(C::TcpBytesTaken),
            unexplained_received_bytes: if s.get(C::TcpInfoRead) != 0 {
                s.get(C::TcpBytesTaken) as i64 - received.total() as i64
            } else {
                0
            },
            unexplained_bytes: sent.total() as i64 - (first + unseen) as i64 + over as i64,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SocketReport {
    pub pid: u32,
    /// `SO_COOKIE`; 0 for a socket that only received during the trace.
    pub cookie: u64,
    pub local: String,
    pub remote: String,
    pub sent: Sent,
    pub received_bytes: u64,
    pub at_device: AtDevice,
    pub segmentation_copy_bytes: u64,
    pub ledger: SocketLedger,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileReport {
    /// Its path, from the processes' descriptors or mappings; `dev:inode`
    /// when no process held it open while zc looked.
    pub path: String,
    /// `major:minor` of its filesystem.
    pub dev: String,
    /// The device as the kernel encodes it, to match the counters.
    #[serde(skip)]
    pub dev_key: u32,
    pub inode: u64,
    /// read() calls and the bytes they copied out of its page cache.
    pub read_calls: u64,
    pub copied_bytes: u64,
    /// Taken by reference (sendfile, splice, copy_file_range).
    pub referenced_bytes: u64,
    pub mapped_bytes: u64,
    pub faults: u64,
    pub disk_read_bytes: u64,
    pub pids: Vec<u32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProcessReport {
    pub pid: u32,
    /// The process it was forked from, if during the trace.
    pub parent: Option<u32>,
    pub comm: String,
    pub exited: bool,
    #[serde(flatten)]
    pub flow: Flow,
    /// The file whose bytes it sent, when one file accounts for what it
    /// sent (its bytes read or referenced within half and one and a half
    /// times the bytes sent).
    pub sent_file: Option<String>,
    /// The verdict's figure: CPU copies per byte sent, counting the reads
    /// of `sent_file` (reads of other files, such as a program's own
    /// libraries, are not copies of what it sent). None if it sent nothing.
    pub copies_per_byte: Option<f64>,
}

/// One followed tree: a root pid (the command, or a `--pid`) and every
/// process it forked during the trace.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TreeReport {
    pub command: Vec<String>,
    pub root: u32,
    pub pids: Vec<u32>,
    pub elapsed_ns: u64,
    #[serde(flatten)]
    pub flow: Flow,
    /// The sum of the sockets' ledgers' `unexplained_bytes`, sending and
    /// receiving.
    pub unexplained_bytes: i64,
    pub processes: Vec<ProcessReport>,
    pub files: Vec<FileReport>,
    pub sockets: Vec<SocketReport>,
    /// zc's own eBPF time while it traced, against the machine's busy CPU
    /// time (filled by the runner, which reads the kernel's statistics).
    #[serde(default)]
    pub tracing_cost: super::cost::TracingCost,
    /// The machine's tasks in whose context the kernel ran none of zc's
    /// programs while it traced (docs/evidence.md, "Unseen").
    #[serde(default)]
    pub blind_tasks: Vec<super::counts::BlindTask>,
    /// Whether the syscall tracepoints were attached. Without them
    /// (`--no-syscalls`) the figures they alone measure are zero because
    /// nothing counted them: syscalls, mode switches, and the bytes read()
    /// copied into user memory. The views say "not traced" instead.
    #[serde(default = "traced")]
    pub syscalls_traced: bool,
    /// Runs of zc's programs the kernel skipped while it traced, by probe
    /// (`category:name`; a program is not re-entered on a CPU, and where
    /// tracepoints run preemptible a task preempted inside one holds it):
    /// what those runs would have counted is missing from the figures.
    /// Filled by the runner, like `tracing_cost`.
    #[serde(default)]
    pub probe_misses_by_program: BTreeMap<String, u64>,
}

fn traced() -> bool {
    true
}

/// Splits the counters into trees (one per root) and builds each report.
pub fn reports(
    t: &TreeCounts,
    roots: &[u32],
    command: &[String],
    names: &Names,
    elapsed_ns: u64,
) -> Vec<TreeReport> {
    roots
        .iter()
        .map(|&root| {
            let members: BTreeSet<u32> = t
                .procs
                .iter()
                .filter(|(pid, p)| **pid == root || p.root == Some(root))
                .map(|(pid, _)| *pid)
                .chain(std::iter::once(root))
                .collect();
            report(t, root, &members, command, names, elapsed_ns)
        })
        .collect()
}

fn report(
    t: &TreeCounts,
    root: u32,
    members: &BTreeSet<u32>,
    command: &[String],
    names: &Names,
    elapsed_ns: u64,
) -> TreeReport {
    let empty = ProcCounts::default();
    let mut tree_p = Counts::new();
    let mut tree_s = Counts::new();
    let mut processes = Vec::new();
    let files = files(t, members, names);
    for &pid in members {
        let pc = t.procs.get(&pid).unwrap_or(&empty);
        let mut s = Counts::new();
        for (info, c) in t.sockets.values() {
            if info.pid == pid {
                s.merge(c);
            }
        }
        tree_p.merge(&pc.counts);
        tree_s.merge(&s);
        let flow = Flow::of(&pc.counts, &s);
        // The name the kernel had as the process exited is its last one:
        // a command zc started through its gate was `sh` until it exec'd,
        // and may exit before /proc is read again.
        let comm = pc
            .exit_comm
            .clone()
            .or_else(|| names.comm.get(&pid).cloned())
            .unwrap_or_else(|| "?".into());
        let own: Vec<(String, FileCounts)> = t
            .files
            .iter()
            .filter_map(|(key, by_pid)| {
                let c = by_pid.get(&pid)?;
                let path = files
                    .iter()
                    .find(|f| (f.dev_key, f.inode) == *key)
                    .map(|f| f.path.clone())?;
                Some((path, *c))
            })
            .collect();
        let (sent_file, copies_per_byte) = sending(&flow, &own);
        processes.push(ProcessReport {
            pid,
            parent: pc.parent,
            comm,
            exited: pc.exited,
            flow,
            sent_file,
            copies_per_byte,
        });
    }
    let sockets: Vec<SocketReport> = t
        .sockets
        .values()
        .filter(|(info, _)| members.contains(&info.pid))
        .map(|(info, c)| SocketReport {
            pid: info.pid,
            cookie: info.cookie,
            local: info.local.to_string(),
            remote: info.remote.to_string(),
            sent: Sent {
                copied_bytes: c.get(C::SendUserBytes),
                referenced_bytes: c.get(C::SendSpliceBytes),
                pinned_bytes: c.get(C::SendPinnedBytes),
                other_bytes: c.get(C::SendOtherBytes),
            },
            received_bytes: Received::of(c).total(),
            at_device: Flow::of(&Counts::new(), c).at_device,
            segmentation_copy_bytes: rules::segmentation(c).total(),
            ledger: SocketLedger::of(c),
        })
        .collect();
    let flow = Flow::of(&tree_p, &tree_s);
    TreeReport {
        command: command.to_vec(),
        root,
        pids: members.iter().copied().collect(),
        elapsed_ns,
        unexplained_bytes: sockets
            .iter()
            .map(|s| s.ledger.unexplained_bytes + s.ledger.unexplained_received_bytes.abs())
            .sum(),
        flow,
        processes,
        files,
        sockets,
        tracing_cost: Default::default(),
        blind_tasks: t.blind.clone(),
        syscalls_traced: true,
        probe_misses_by_program: BTreeMap::new(),
    }
}

fn files(t: &TreeCounts, members: &BTreeSet<u32>, names: &Names) -> Vec<FileReport> {
    let mut out: Vec<FileReport> = t
        .files
        .iter()
        .filter_map(|(&(dev, ino), by_pid)| {
            let mut sum = FileCounts::default();
            let mut pids = Vec::new();
            for (pid, c) in by_pid {
                if members.contains(pid) {
                    sum.merge(c);
                    pids.push(*pid);
                }
            }
            if pids.is_empty() {
                return None;
            }
            let dev_name = format!("{}:{}", dev >> 20, dev & 0xf_ffff);
            Some(FileReport {
                path: names
                    .path_of((dev, ino))
                    .cloned()
                    .unwrap_or_else(|| format!("{dev_name}:{ino}")),
                dev: dev_name,
                dev_key: dev,
                inode: ino,
                read_calls: sum.read_calls,
                copied_bytes: sum.read_bytes,
                referenced_bytes: sum.referenced_bytes,
                mapped_bytes: sum.mapped_pages * super::PAGE_SIZE,
                faults: sum.faults,
                disk_read_bytes: sum.disk_bytes,
                pids,
            })
        })
        .collect();
    out.sort_by_key(|f| std::cmp::Reverse(f.copied_bytes + f.referenced_bytes + f.mapped_bytes));
    out
}

/// The file a process sent, if one file accounts for it, and the CPU
/// copies per byte sent counting that file's reads.
fn sending(f: &Flow, files: &[(String, FileCounts)]) -> (Option<String>, Option<f64>) {
    let sent = f.sent_bytes;
    if sent == 0 {
        return (None, None);
    }
    let file = files
        .iter()
        .map(|(p, c)| (p, c.read_bytes.max(c.referenced_bytes), c.read_bytes))
        .filter(|(_, b, _)| *b * 2 >= sent && *b <= sent + sent / 2)
        .max_by_key(|(_, b, _)| *b);
    let reads = file.map_or(0, |(_, _, r)| r);
    let copies = reads + f.copies.user_to_socket + f.copies.segmentation;
    (
        file.map(|(p, _, _)| p.clone()),
        Some(copies as f64 / sent as f64),
    )
}

/// The whole followed set's totals at one moment, for rates.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sample {
    /// Nanoseconds since the trace started.
    pub t_ns: u64,
    /// Counted in the processes' own threads.
    pub process: Counts,
    /// Counted for their sockets, wherever the skb was.
    pub sockets: Counts,
}

impl TreeCounts {
    /// Every process's and every socket's counters, summed.
    pub fn sample(&self, t_ns: u64) -> Sample {
        let mut s = Sample {
            t_ns,
            process: Counts::new(),
            sockets: Counts::new(),
        };
        for p in self.procs.values() {
            s.process.merge(&p.counts);
        }
        for (_, c) in self.sockets.values() {
            s.sockets.merge(c);
        }
        s
    }
}

/// Bytes (or events) per second between two samples: what each arrow of
/// the live view carries now.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Rates {
    pub page_cache_to_user: f64,
    pub other_to_user: f64,
    pub user_to_socket: f64,
    pub referenced: f64,
    pub pinned: f64,
    pub segmentation: f64,
    pub socket_to_user: f64,
    pub device: f64,
    pub disk: f64,
    pub syscalls: f64,
    pub mode_switches: f64,
    pub faults: f64,
    pub blocked: f64,
    pub preempted: f64,
}

impl Rates {
    pub fn between(a: &Sample, b: &Sample) -> Rates {
        let dt = b.t_ns.saturating_sub(a.t_ns) as f64 / 1e9;
        if dt <= 0.0 {
            return Rates::default();
        }
        let (fa, fb) = (
            Flow::of(&a.process, &a.sockets),
            Flow::of(&b.process, &b.sockets),
        );
        let r = |x: u64, y: u64| y.saturating_sub(x) as f64 / dt;
        Rates {
            page_cache_to_user: r(fa.copies.page_cache_to_user, fb.copies.page_cache_to_user),
            other_to_user: r(fa.copies.other_to_user, fb.copies.other_to_user),
            user_to_socket: r(fa.copies.user_to_socket, fb.copies.user_to_socket),
            referenced: r(fa.sent.referenced_bytes, fb.sent.referenced_bytes),
            pinned: r(fa.sent.pinned_bytes, fb.sent.pinned_bytes),
            segmentation: r(fa.copies.segmentation, fb.copies.segmentation),
            socket_to_user: r(fa.copies.socket_to_user, fb.copies.socket_to_user),
            device: r(fa.at_device.payload_bytes, fb.at_device.payload_bytes),
            disk: r(fa.disk_read_bytes, fb.disk_read_bytes),
            syscalls: r(fa.syscall_total, fb.syscall_total),
            mode_switches: r(fa.mode_switches, fb.mode_switches),
            faults: r(fa.page_faults, fb.page_faults),
            blocked: r(fa.sched_switches_blocked, fb.sched_switches_blocked),
            preempted: r(fa.sched_switches_preempted, fb.sched_switches_preempted),
        }
    }
}

/// What the trace view shows, live or replayed: the samples so far and the
/// latest per-tree reports.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TraceState {
    /// The command, or the pids followed.
    pub title: String,
    pub samples: Vec<Sample>,
    pub reports: Vec<TreeReport>,
    /// Why the trace ended, once it has.
    pub ended: Option<String>,
    /// Recorded, not live.
    pub replay: bool,
}

impl TraceState {
    /// The followed set's figures so far.
    pub fn totals(&self) -> Flow {
        self.samples
            .last()
            .map(|s| Flow::of(&s.process, &s.sockets))
            .unwrap_or_default()
    }

    /// Rates over about the last `window_ns`.
    pub fn rates(&self, window_ns: u64) -> Rates {
        let Some(last) = self.samples.last() else {
            return Rates::default();
        };
        let first = self
            .samples
            .iter()
            .rev()
            .find(|s| last.t_ns.saturating_sub(s.t_ns) >= window_ns)
            .or(self.samples.first());
        first.map_or_else(Rates::default, |f| Rates::between(f, last))
    }

    pub fn elapsed_ns(&self) -> u64 {
        self.samples.last().map_or(0, |s| s.t_ns)
    }

    /// Whether the syscall tracepoints were attached (see
    /// `TreeReport::syscalls_traced`).
    pub fn syscalls_traced(&self) -> bool {
        self.reports.iter().all(|r| r.syscalls_traced)
    }

    /// What a view needs at `t_ns` (None: the latest): the reports and the
    /// samples up to then, of which only the last `window_ns` and the one
    /// sample before it, all that [`TraceState::rates`] and
    /// [`TraceState::totals`] read. At least one sample is kept.
    pub fn view_at(&self, t_ns: Option<u64>, window_ns: u64) -> TraceState {
        let end = match t_ns {
            Some(t) => self
                .samples
                .iter()
                .take_while(|s| s.t_ns <= t)
                .count()
                .max(1),
            None => self.samples.len(),
        }
        .min(self.samples.len());
        let upto = &self.samples[..end];
        let start = upto.last().map_or(0, |last| {
            upto.iter()
                .rposition(|s| last.t_ns.saturating_sub(s.t_ns) >= window_ns)
                .unwrap_or(0)
        });
        TraceState {
            title: self.title.clone(),
            samples: upto[start..].to_vec(),
            reports: self.reports.clone(),
            ended: self.ended.clone(),
            replay: self.replay,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    /// A file beneath (overlayfs's lower file) takes the opened file's
    /// path; a file with a path of its own keeps it.
    #[test]
    fn a_file_beneath_is_named_by_the_file_opened() {
        let mut names = Names::default();
        let opened = (42, 7);
        let beneath = (8 << 20 | 1, 1234);
        names.paths.insert(opened, "/merged/index.html".into());
        assert_eq!(names.path_of(beneath), None);
        names.beneath.insert(beneath, opened);
        assert_eq!(
            names.path_of(beneath).map(String::as_str),
            Some("/merged/index.html")
        );
        names.paths.insert(beneath, "/lower/index.html".into());
        assert_eq!(
            names.path_of(beneath).map(String::as_str),
            Some("/lower/index.html")
        );
    }

    /// The NIC's maps are counted by socket (the driver's transmit runs
    /// for anyone, in softirq): a process owns the DMA of its sockets, and
    /// none of its own counters carries it.
    #[test]
    fn a_process_owns_the_nic_dma_of_its_sockets() {
        let p = counts(&[(C::SendUserBytes, MIB)]);
        let s = counts(&[(C::NicDmaMaps, 40), (C::NicDmaBytes, MIB + 2640)]);
        let f = Flow::of(&p, &s);
        assert_eq!((f.dma_maps, f.dma_bytes), (40, MIB + 2640));
        let f = Flow::of(&s, &Counts::new());
        assert_eq!((f.dma_maps, f.dma_bytes), (0, 0));
    }

    fn counts(pairs: &[(C, u64)]) -> Counts {
        let mut c = Counts::new();
        for (k, v) in pairs {
            c.add(*k, *v);
        }
        c
    }

    fn info(pid: u32) -> SocketInfo {
        SocketInfo {
            cookie: 7,
            pid,
            local: "127.0.0.1:8080".parse().expect("address"),
            remote: "127.0.0.1:40000".parse().expect("address"),
        }
    }

    #[test]
    fn a_copying_server_costs_two_copies_per_byte() {
        let mut t = TreeCounts::default();
        let p = counts(&[(C::ReadFileBytes, 64 * MIB), (C::SendUserBytes, 64 * MIB)]);
        t.procs.insert(
            10,
            ProcCounts {
                counts: p,
                ..ProcCounts::default()
            },
        );
        t.sockets.insert(
            1,
            (
                info(10),
                counts(&[(C::SendUserBytes, 64 * MIB), (C::XmitPayload, 64 * MIB)]),
            ),
        );
        let mut fc = BTreeMap::new();
        fc.insert(
            10,
            FileCounts {
                read_bytes: 64 * MIB,
                read_calls: 1024,
                ..FileCounts::default()
            },
        );
        t.files.insert((8 << 20 | 1, 9), fc);
        let mut names = Names::default();
        names.comm.insert(10, "python3".into());
        names.paths.insert((8 << 20 | 1, 9), "/srv/a.iso".into());
        let r = &reports(&t, &[10], &[], &names, 1)[0];
        assert_eq!(r.flow.copies_per_byte_sent, Some(2.0));
        assert_eq!(r.processes[0].copies_per_byte, Some(2.0));
        assert_eq!(r.unexplained_bytes, 0);
        assert_eq!(r.processes[0].sent_file.as_deref(), Some("/srv/a.iso"));
    }

    /// A socket's ledger is held against TCP's own count read at its
    /// close: first transmissions no probe saw are unseen, not unexplained,
    /// as far as TCP counted them; past that they stay unexplained.
    #[test]
    fn a_closed_sockets_skbs_tcp_counted_but_no_probe_saw_are_unseen() {
        let skb = 65_160;
        let mut c = counts(&[
            (C::SendSpliceBytes, 8 * MIB),
            (C::XmitPayload, 8 * MIB + 100 - skb),
            (C::RetransmitBytes, 100),
        ]);
        assert_eq!(SocketLedger::of(&c).unexplained_bytes, skb as i64);
        c.set(C::TcpInfoRead, 1);
        c.set(C::TcpBytesSent, 8 * MIB + 100 + 1448);
        c.set(C::TcpBytesRetrans, 100 + 1448);
        let l = SocketLedger::of(&c);
        assert_eq!(l.unseen_bytes, skb);
        assert_eq!(l.unseen_retransmitted_bytes, 1448);
        assert_eq!(l.unexplained_bytes, 0, "{l:?}");
        // TCP counted fewer first transmissions than the calls handed it.
        c.set(C::TcpBytesSent, 8 * MIB + 100 + 1448 - 10);
        assert_eq!(SocketLedger::of(&c).unexplained_bytes, 10);
        // The device saw more than TCP sent: unexplained, not unseen.
        c.set(C::TcpBytesSent, 8 * MIB - 2 * skb + 1448 + 100);
        let l = SocketLedger::of(&c);
        assert_eq!(l.unseen_bytes, 0);
        assert_eq!(l.unexplained_bytes, 2 * skb as i64);
    }

    /// Receiving, held against TCP: what the program took (arrived, less
    /// what waits unread) against what zc saw it copy out.
    #[test]
    fn a_closed_sockets_receive_ledger_is_held_against_what_tcp_says_was_taken() {
        let mut c = counts(&[(C::RecvCopyBytes, 4 * MIB)]);
        assert_eq!(SocketLedger::of(&c).unexplained_received_bytes, 0);
        c.set(C::TcpInfoRead, 1);
        c.set(C::TcpBytesTaken, 4 * MIB);
        assert_eq!(SocketLedger::of(&c).unexplained_received_bytes, 0);
        // Taken by a splice out of the socket, and by a mapped receive:
        // explained only once each is counted.
        c.set(C::TcpBytesTaken, 7 * MIB);
        assert_eq!(
            SocketLedger::of(&c).unexplained_received_bytes,
            3 * MIB as i64
        );
        c.set(C::RecvSplicedBytes, MIB);
        c.set(C::RecvMappedBytes, 2 * MIB);
        let l = SocketLedger::of(&c);
        assert_eq!(l.unexplained_received_bytes, 0);
        assert_eq!(
            (l.received_spliced_bytes, l.received_mapped_bytes),
            (MIB, 2 * MIB)
        );
        // One more byte taken than zc saw.
        c.set(C::TcpBytesTaken, 8 * MIB);
        let l = SocketLedger::of(&c);
        assert_eq!(l.unexplained_received_bytes, MIB as i64);
        let mut t = TreeCounts::default();
        t.procs.insert(20, ProcCounts::default());
        t.sockets.insert(5, (info(20), c));
        let r = &reports(&t, &[20], &[], &Names::default(), 1)[0];
        assert_eq!(
            r.unexplained_bytes, MIB as i64,
            "the tree's total counts it"
        );
    }

    #[test]
    fn a_sendfile_server_is_by_reference_and_names_its_file() {
        let mut t = TreeCounts::default();
        t.procs.insert(
            20,
            ProcCounts {
                counts: counts(&[(C::SendSpliceBytes, 8 * MIB)]),
                ..ProcCounts::default()
            },
        );
        t.sockets.insert(
            5,
            (
                info(20),
                counts(&[
                    (C::SendSpliceBytes, 8 * MIB),
                    (C::XmitPayload, 8 * MIB + 100),
                    (C::XmitFileBytes, 8 * MIB),
                    (C::RetransmitBytes, 100),
                ]),
            ),
        );
        let mut fc = BTreeMap::new();
        fc.insert(
            20,
            FileCounts {
                referenced_bytes: 8 * MIB,
                ..FileCounts::default()
            },
        );
        t.files.insert((8 << 20 | 1, 42), fc);
        let mut names = Names::default();
        names.comm.insert(20, "nginx".into());
        names.paths.insert((8 << 20 | 1, 42), "/srv/big.iso".into());
        let r = &reports(&t, &[20], &[], &names, 1)[0];
        assert_eq!(r.processes[0].sent_file.as_deref(), Some("/srv/big.iso"));
        assert_eq!(r.processes[0].copies_per_byte, Some(0.0));
        assert_eq!(r.sockets[0].ledger.unexplained_bytes, 0);
        assert_eq!(r.files[0].dev, "8:1");
        assert_eq!(r.flow.reference_bytes, 8 * MIB);
    }

    #[test]
    fn unsent_bytes_are_unexplained_and_trees_are_apart() {
        let mut t = TreeCounts::default();
        t.procs.insert(1, ProcCounts::default());
        t.procs.insert(
            2,
            ProcCounts {
                root: Some(1),
                parent: Some(1),
                counts: counts(&[(C::SendUserBytes, 1000)]),
                ..ProcCounts::default()
            },
        );
        t.procs.insert(3, ProcCounts::default());
        t.sockets.insert(
            9,
            (
                info(2),
                counts(&[(C::SendUserBytes, 1000), (C::XmitPayload, 400)]),
            ),
        );
        let r = reports(&t, &[1, 3], &[], &Names::default(), 1);
        assert_eq!(r[0].pids, vec![1, 2]);
        assert_eq!(r[0].unexplained_bytes, 600);
        assert_eq!(r[1].pids, vec![3]);
        assert!(r[1].sockets.is_empty());
        assert_eq!(r[1].flow.sent_bytes, 0);
    }

    /// A view keeps the rate window, not the history, and draws the same.
    #[test]
    fn a_view_holds_the_last_window_and_the_same_rates() {
        let mut st = TraceState::default();
        for k in 0..5u64 {
            let mut p = Counts::new();
            p.add(C::SendUserBytes, k * k * MIB);
            st.samples.push(Sample {
                t_ns: k * 500_000_000,
                process: p,
                sockets: Counts::new(),
            });
        }
        let v = st.view_at(None, 1_000_000_000);
        assert_eq!(v.samples.len(), 3);
        assert_eq!(v.rates(1_000_000_000), st.rates(1_000_000_000));
        assert_eq!(v.totals(), st.totals());
        assert_eq!(st.view_at(Some(0), 1_000_000_000).samples.len(), 1);
    }
}
