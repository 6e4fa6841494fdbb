//! The loaded eBPF object: attach its programs, point them at the demo, read
//! back exact counters and drain the event ring buffer.
//!
//! Everything the programs hold is released by the kernel when this process's
//! file descriptors close: the programs' bpf links, the maps. So no program
//! stays attached after zc exits, on any path.

use std::os::fd::{AsFd as _, AsRawFd as _};

use anyhow::{Context as _, anyhow};
use aya::{
    Btf, Ebpf, EbpfLoader,
    maps::{Array, MapData, PerCpuArray, PerCpuValues, RingBuf},
    programs::{
        BtfTracePoint, FEntry, FExit, fentry::FEntryLink, fexit::FExitLink,
        tp_btf::BtfTracePointLink,
    },
};
use zc_common::{
    Config, MAX_SYSCALLS, RING_OPCODES,
    counters::{COUNTERS, Counter},
    event::{Header, Kind, RecvEvent, RecvFold, SkbEvent},
    maps,
};

use super::{
    layout::KernelTypes,
    probes::{Attach, Hook, PROBES, ProbeSpec, ProbeState, ProbeStatus},
    prototype,
    stats::ProgRun,
};
use crate::{
    decode::{DecodeError, Record, decode},
    model::{
        counts::{Counts, SyscallTotals},
        tree::{SocketInfo, TreeCounts},
    },
};

/// The eBPF object built by zc-user's build script.
static OBJECT: &[u8] = aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/zc-ebpf"));

/// The eBPF object this binary embeds (the floor loads it too).
pub fn object() -> &'static [u8] {
    OBJECT
}

/// The syscall the sender makes to say its transfer loop is over. getppid
/// cannot fail, has no effect, and no strategy uses it.
pub const END_MARKER: libc::c_long = libc::SYS_getppid;

/// The syscall the sender makes to say its transfer loop begins: its
/// syscalls count from the next one. The sender waits for the go in a
/// futex call the tracer was armed during, and that wait may go round
/// again (a spurious wake of its parker, a call the kernel restarts)
/// before the loop starts: such calls are the demo's, not the strategy's.
/// getpgid cannot fail for the caller itself, and no strategy uses it.
pub const START_MARKER: libc::c_long = libc::SYS_getpgid;

/// Whom and what to trace in one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    pub sender_tid: u32,
    pub receiver_tid: u32,
    /// The file, as [`Tracer::learn_file`] found it.
    pub file: FileIdentity,
    /// The demo socket's cookie (`SO_COOKIE`).
    pub sock_cookie: u64,
    /// The receiving NIC's ifindex in the receiver's namespace, over
    /// borrowed NICs; 0 over the veth.
    pub nic_rx_ifindex: u32,
    /// Fold the receiver's copies and the device's skbs in the kernel
    /// (`Config::Fold`): a run too large to show event by event
    /// (`demo::run::FOLD_FROM`).
    pub fold: bool,
}

/// Which page cache holds a file, as the kernel says: the identity the
/// programs know the demo file by. `stat`'s (device, inode) would not do:
/// btrfs reports a subvolume's device, not its super block's, and overlayfs
/// caches a file's pages in the inode of the file beneath (upper or lower).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileIdentity {
    /// The `struct address_space *` its pages live in. A kernel address:
    /// it goes back into the kernel and nowhere else.
    mapping: u64,
}

/// A file as the kernel keys it: (dev, ino).
pub type FileKeyPair = (u32, u64);

/// A path a followed process opened (see [`Tracer::take_opened`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opened {
    pub tgid: u32,
    pub path: String,
    /// (dev, ino) as the kernel keys the file; None while the call had not
    /// returned when zc looked.
    pub file: Option<(u32, u64)>,
}

/// A file's size, from its descriptor.
fn file_size(file: std::os::fd::BorrowedFd<'_>) -> anyhow::Result<u64> {
    let f = file
        .try_clone_to_owned()
        .context("duplicate the demo file's descriptor")?;
    Ok(std::fs::File::from(f)
        .metadata()
        .context("stat the demo file")?
        .len())
}

/// A program's attachment. Only dropped: dropping detaches, at once (a
/// BTF tracepoint's or a trampoline's link waits for no grace period as it
/// goes).
struct Held(#[allow(dead_code, reason = "held for its Drop")] TracingLink);

/// The links of the three hooks (all BPF tracing links underneath).
enum TracingLink {
    Tp(#[allow(dead_code, reason = "held for its Drop")] BtfTracePointLink),
    Fentry(#[allow(dead_code, reason = "held for its Drop")] FEntryLink),
    Fexit(#[allow(dead_code, reason = "held for its Drop")] FExitLink),
}

/// Removes every entry of hash map `$name` (keys `$k`, values `$v`).
macro_rules! empty {
    ($self:ident, $kind:ident, $name:expr, $k:ty, $v:ty) => {{
        let map = $self
            .ebpf
            .map_mut($name)
            .ok_or_else(|| anyhow!("eBPF object has no map {}", $name))?;
        let mut m = aya::maps::$kind::<_, $k, $v>::try_from(map)?;
        let keys: Vec<$k> = m.keys().filter_map(Result::ok).collect();
        for k in keys {
            let _ = m.remove(&k);
        }
    }};
}

/// A run's timing cost as the counter keeps it: picoseconds per run, 0
/// when not measured.
pub fn clock_ps(ns: Option<f64>) -> u64 {
    ns.map_or(0, |ns| (ns * 1000.0).round() as u64)
}

/// The loaded, attached programs and their maps.
pub struct Tracer {
    /// Declared first: detached before the programs and maps go.
    #[allow(dead_code, reason = "held for their Drop")]
    links: Vec<Held>,
    ebpf: Ebpf,
    events: RingBuf<MapData>,
    status: Vec<ProbeStatus>,
    ncpus: usize,
    /// The kernel's run-time statistics, on while zc runs (None when the
    /// kernel refused them; the cost is then reported as not measured).
    run_stats: Option<super::stats::RunStats>,
    /// What the kernel's timing adds to each run it times (ns), measured
    /// at the first arming (`stats::clock_cost`); None before, or when
    /// it could not be measured.
    clock_ns: Option<Option<f64>>,
    /// The programs' totals when the run was armed.
    at_arm: Totals,
    /// Each program's recursion misses when the run was armed.
    misses_at_arm: std::collections::BTreeMap<String, u64>,
    /// The stepping gate's flag, mapped (see `pause`).
    pause: std::sync::Arc<super::pause::PauseFlag>,
}

/// All programs' fdinfo figures, summed: eBPF time and runs, and the
/// recursion misses of the figures' programs and of the interrupt ones.
#[derive(Clone, Copy, Debug, Default)]
struct Totals {
    runs: ProgRun,
    figure_misses: u64,
    irq_misses: u64,
}

impl Totals {
    fn of(programs: &[(String, ProgRun)]) -> Totals {
        let irq = |name: &str| {
            PROBES
                .iter()
                .any(|p| p.program == name && matches!(p.attach.category(), "irq" | "irq_vectors"))
        };
        let mut t = Totals::default();
        for (name, r) in programs {
            t.runs.run_time_ns += r.run_time_ns;
            t.runs.run_cnt += r.run_cnt;
            if irq(name) {
                t.irq_misses += r.recursion_misses;
            } else {
                t.figure_misses += r.recursion_misses;
            }
        }
        t
    }

    /// What happened since `before`.
    fn since(&self, before: &Totals) -> Totals {
        Totals {
            runs: ProgRun {
                run_time_ns: self
                    .runs
                    .run_time_ns
                    .saturating_sub(before.runs.run_time_ns),
                run_cnt: self.runs.run_cnt.saturating_sub(before.runs.run_cnt),
                recursion_misses: 0,
            },
            figure_misses: self.figure_misses.saturating_sub(before.figure_misses),
            irq_misses: self.irq_misses.saturating_sub(before.irq_misses),
        }
    }
}

/// The counter of skipped runs a probe's misses go to: grouped by what
/// the probe's events count, so that the model knows which figures a
/// skipped run may have left short.
fn skipped_counter(category: &str, name: &str) -> Option<Counter> {
    Some(match (category, name) {
        ("raw_syscalls", _) => Counter::SkippedSyscallRuns,
        ("tcp", "tcp_sendmsg_locked") | ("sock", "sock_send_length") => Counter::SkippedSendRuns,
        ("skb", "skb_copy_datagram_iovec") => Counter::SkippedRecvCopyRuns,
        ("filemap", _) => Counter::SkippedPageCacheRuns,
        ("io_uring", _) => Counter::SkippedIoUringRuns,
        ("dma", _) => Counter::SkippedDmaRuns,
        _ => return None,
    })
}

/// Each program's recursion misses, by program name.
fn misses_by_program(programs: &[(String, ProgRun)]) -> std::collections::BTreeMap<String, u64> {
    programs
        .iter()
        .map(|(name, r)| (name.clone(), r.recursion_misses))
        .collect()
}

impl Tracer {
    /// Loads the object with the kernel's layout and attaches every probe
    /// the kernel allows, recording per probe attached / missing / refused.
    pub fn load(kernel: &KernelTypes, purpose: Purpose) -> anyhow::Result<Tracer> {
        raise_memlock();
        // Arming needs where the page array starts, from a listing of
        // megabytes (~0.1 s): read meanwhile, not on the way to the run.
        std::thread::spawn(super::vmemmap::base_variable);
        let t0 = std::time::Instant::now();
        // aya's loader parses the kernel's BTF as it is made, and the
        // probes need a parsed copy of their own: both at once.
        let (btf, loader) = std::thread::scope(|s| {
            let btf = s.spawn(Btf::from_sys_fs);
            let loader = EbpfLoader::new();
            (btf.join(), loader)
        });
        let btf = btf
            .map_err(|_| anyhow!("reading the kernel's BTF panicked"))?
            .context("read the kernel's BTF (/sys/kernel/btf/vmlinux)")?;
        let t_btf = t0.elapsed();
        let mut loader = loader;
        loader
            .btf(Some(&btf))
            .override_global(maps::LAYOUT, &kernel.layout, true);
        if purpose == Purpose::Demo {
            // A demo fills none of them; made full size, they cost tens
            // of milliseconds of start-up (per-CPU LRU maps are allocated
            // whole at creation).
            for name in [maps::PROC, maps::SOCK_COUNTS, maps::FILES] {
                loader.map_max_entries(name, DEMO_TREE_ENTRIES);
            }
        }
        let mut ebpf = loader
            .load(OBJECT)
            .context("load zc's eBPF object into the kernel")?;
        let t_object = t0.elapsed();
        let (links, status) = load_programs(&mut ebpf, kernel, &btf, purpose);
        if std::env::var_os("ZC_TIMING").is_some() {
            eprintln!(
                "zc: timing: BTF {:?}, maps and object {:?}, programs loaded and attached {:?}",
                t_btf,
                t_object - t_btf,
                t0.elapsed() - t_object
            );
        }
        let events = RingBuf::try_from(
            ebpf.take_map(maps::EVENTS)
                .ok_or_else(|| anyhow!("eBPF object has no map {}", maps::EVENTS))?,
        )
        .context("open the event ring buffer")?;
        let pause = super::pause::PauseFlag::open(
            ebpf.take_map(maps::GATE)
                .ok_or_else(|| anyhow!("eBPF object has no map {}", maps::GATE))?,
        )?;
        let ncpus = aya::util::nr_cpus().map_err(|(what, e)| anyhow!("{what}: {e}"))?;
        Ok(Tracer {
            links,
            ebpf,
            events,
            status,
            ncpus,
            run_stats: super::stats::enable().ok(),
            clock_ns: None,
            at_arm: Totals::default(),
            misses_at_arm: Default::default(),
            pause: std::sync::Arc::new(pause),
        })
    }

    /// The flag a stepped run's sender raises while it waits.
    pub fn pause_flag(&self) -> std::sync::Arc<super::pause::PauseFlag> {
        self.pause.clone()
    }

    pub fn status(&self) -> &[ProbeStatus] {
        &self.status
    }

    /// One of the object's array maps, by name.
    fn array<V: aya::Pod>(&mut self, name: &str) -> anyhow::Result<Array<&mut MapData, V>> {
        let map = self
            .ebpf
            .map_mut(name)
            .ok_or_else(|| anyhow!("eBPF object has no map {name}"))?;
        Ok(Array::try_from(map)?)
    }

    fn config(&mut self) -> anyhow::Result<Array<&mut MapData, u64>> {
        self.array(maps::CONFIG)
    }

    fn set(&mut self, slot: Config, value: u64) -> anyhow::Result<()> {
        self.config()?
            .set(slot as u32, value, 0)
            .with_context(|| format!("write trace config {slot:?}"))
    }

    /// Zeroes counters, points the programs at `target` and starts tracing.
    pub fn arm(&mut self, target: Target) -> anyhow::Result<()> {
        self.reset_counters()?;
        self.set(Config::Mode, zc_common::mode::DEMO)?;
        self.mark_arm();
        self.set(Config::DemoSock, 0)?;
        self.set(Config::DemoStreamStart, 0)?;
        self.set(Config::DemoCookie, target.sock_cookie)?;
        // A new socket numbers its zero-copy sends from 0.
        self.set(Config::ZcNextId, 0)?;
        self.set(Config::ZcPinnedTotal, 0)?;
        self.set(Config::DemoRing, 0)?;
        self.set(Config::HelpersSeen, 0)?;
        self.forget_helpers()?;
        self.set(Config::SenderTid, target.sender_tid as u64)?;
        self.set(Config::ReceiverTid, target.receiver_tid as u64)?;
        self.set(Config::FileMapping, target.file.mapping)?;
        self.set(Config::NicRxIfindex, target.nic_rx_ifindex as u64)?;
        self.set(Config::EndMarker, END_MARKER as u64)?;
        self.set(Config::StartMarker, START_MARKER as u64)?;
        self.set(Config::UserPagesSent, 0)?;
        self.set(Config::WalkEveryFrag, walk_every_frag())?;
        self.set(Config::PagesReferenced, 0)?;
        self.array::<RecvFold>(maps::RECV_FOLD)?
            .set(0, RecvFold::default(), 0)?;
        let empty = PerCpuValues::try_from(vec![SkbEvent::default(); self.ncpus])?;
        self.per_cpu::<SkbEvent>(maps::DEVICE_FOLD)?
            .set(0, empty, 0)
            .context("empty the device's folds")?;
        self.set(Config::Fold, target.fold as u64)?;
        self.set(
            Config::VmemmapBase,
            super::vmemmap::base_variable().unwrap_or(0),
        )?;
        self.set(Config::Armed, 1)?;
        // Every CPU's task known from here on (`cpu_visit`).
        super::cpu_visit::every_cpu();
        Ok(())
    }

    /// Asks the kernel which page cache holds `file`: this thread reads one
    /// byte of it (its last page, so no readahead runs past what an
    /// eviction after this can drop) while the programs watch it. Its
    /// descriptor names the file it opened, and the read's page-cache
    /// lookup the mapping its pages are in. Call it unarmed, before a cold
    /// run evicts the file.
    pub fn learn_file(
        &mut self,
        file: std::os::fd::BorrowedFd<'_>,
    ) -> anyhow::Result<FileIdentity> {
        let size = file_size(file)?;
        self.set(Config::LearnedOpened, 0)?;
        self.set(Config::LearnedCache, 0)?;
        self.set(Config::LearnFd, file.as_raw_fd() as u64)?;
        // SAFETY: gettid has no arguments and cannot fail.
        self.set(Config::LearnTid, unsafe { libc::gettid() } as u64)?;
        let mut byte = [0u8; 1];
        // SAFETY: a valid descriptor and a one-byte buffer of our own.
        let n = unsafe {
            libc::pread(
                file.as_raw_fd(),
                byte.as_mut_ptr().cast(),
                1,
                size.saturating_sub(1) as libc::off_t,
            )
        };
        let read = std::io::Error::last_os_error();
        self.set(Config::LearnTid, 0)?;
        if n < 0 {
            return Err(read).context("read the demo file to learn its page cache");
        }
        let config = self.config()?;
        let opened = config.get(&(Config::LearnedOpened as u32), 0)?;
        let cache = config.get(&(Config::LearnedCache as u32), 0)?;
        if opened == 0 {
            return Err(anyhow!(
                "the kernel did not show which page cache holds the demo file (its descriptor was not found)"
            ));
        }
        // The lookup's mapping where one fired (the file beneath, on a
        // stacking file system); tmpfs's reads fire none, and its pages are
        // the opened file's own.
        Ok(FileIdentity {
            mapping: if cache != 0 { cache } else { opened },
        })
    }

    /// What the kernel folded since its last folded records, as records
    /// of their own, and the slots emptied: the receiver's copies (one
    /// record, its time the first copy's) and each CPU's stretch of skbs
    /// at the device. Call it once the run has finished and been drained.
    pub fn take_folds(&mut self) -> anyhow::Result<Vec<Record>> {
        let mut out: Vec<Record> = self.take_receive_fold()?.into_iter().collect();
        let empty = PerCpuValues::try_from(vec![SkbEvent::default(); self.ncpus])?;
        let mut slots = self.per_cpu::<SkbEvent>(maps::DEVICE_FOLD)?;
        let per_cpu = slots.get(&0, 0).context("read the device's folded skbs")?;
        out.extend(per_cpu.iter().filter(|e| e.skbs > 0).map(|e| {
            // A fold names no page (only such skbs fold).
            Record::Skb(Box::new(SkbEvent {
                frag_pages: [zc_common::NO_PAGE; zc_common::MAX_FRAGS],
                ..*e
            }))
        }));
        slots.set(0, empty, 0)?;
        Ok(out)
    }

    fn take_receive_fold(&mut self) -> anyhow::Result<Option<Record>> {
        let mut slot = self.array::<RecvFold>(maps::RECV_FOLD)?;
        let f = slot
            .get(&0, 0)
            .context("read the receiver's folded copies")?;
        if f.copies == 0 {
            return Ok(None);
        }
        slot.set(0, RecvFold::default(), 0)?;
        Ok(Some(Record::Recv(RecvEvent {
            h: Header {
                ts_ns: f.first_ns,
                tid: 0,
                kind: Kind::Recv as u16,
                op: 0,
            },
            skb: 0,
            len: f.bytes as u32,
            copies: f.copies,
        })))
    }

    /// Stops tracing altogether.
    pub fn disarm(&mut self) -> anyhow::Result<()> {
        // Ends every CPU's stretch while the programs still watch, so a
        // task that held a CPU unseen until now is named (`cpu_visit`).
        super::cpu_visit::every_cpu();
        self.set(Config::Armed, 0)?;
        self.set(Config::Mode, zc_common::mode::DEMO)?;
        self.set(Config::SenderTid, 0)?;
        self.set(Config::ReceiverTid, 0)?;
        self.set(Config::DemoSock, 0)
    }

    fn per_cpu<V: aya::Pod>(&mut self, name: &str) -> anyhow::Result<PerCpuArray<&mut MapData, V>> {
        let map = self
            .ebpf
            .map_mut(name)
            .ok_or_else(|| anyhow!("eBPF object has no map {name}"))?;
        Ok(PerCpuArray::try_from(map)?)
    }

    /// Starts following the processes `tgids` and every process they fork
    /// (`zc trace`): all their threads, any file, their TCP sockets.
    pub fn arm_tree(&mut self, tgids: &[u32]) -> anyhow::Result<()> {
        self.reset_counters()?;
        self.mark_arm();
        self.forget_helpers()?;
        // A previous trace's processes: their bits go with them.
        let before = self.followed()?;
        self.set_followed_bits(&before, false)?;
        empty!(self, HashMap, maps::FOLLOWED, u32, u32);
        self.clear_tree()?;
        self.classify_syscalls()?;
        {
            let map = self
                .ebpf
                .map_mut(maps::FOLLOWED)
                .ok_or_else(|| anyhow!("eBPF object has no map {}", maps::FOLLOWED))?;
            let mut followed = aya::maps::HashMap::<_, u32, u32>::try_from(map)?;
            for &tgid in tgids {
                // Each root is its own tree; children carry their root.
                followed
                    .insert(tgid, tgid, 0)
                    .with_context(|| format!("follow process {tgid}"))?;
            }
        }
        self.set_followed_bits(tgids, true)?;
        for (slot, v) in [
            (Config::SenderTid, 0),
            (Config::ReceiverTid, 0),
            (Config::DemoSock, 0),
            (Config::DemoCookie, 0),
            (Config::DemoRing, 0),
            (Config::FileMapping, 0),
            (Config::EndMarker, u64::MAX),
            (Config::StartMarker, 0),
            (
                Config::VmemmapBase,
                super::vmemmap::base_variable().unwrap_or(0),
            ),
        ] {
            self.set(slot, v)?;
        }
        self.set(Config::Mode, zc_common::mode::TREE)?;
        self.set(Config::Armed, 1)?;
        super::cpu_visit::every_cpu();
        Ok(())
    }

    /// `zc trace`'s per-process, per-socket and per-file totals, summed over
    /// CPUs, with which sockets have closed and which counts arrived for a
    /// socket already dropped (see [`Tracer::forget_sockets`]). Kernel
    /// pointers stay here: sockets come out by their id.
    pub fn tree_read(&self) -> anyhow::Result<TreeRead> {
        use zc_common::tree::{
            FileKey, SOCK_COUNTERS, SYSCALL_BYTES, SYSCALL_CALLS, SockCounts, SockInfo, proc_slot,
        };
        let mut out = TreeCounts {
            blind: self.blind_tasks()?,
            ..TreeCounts::default()
        };
        let mut comm: [Vec<(u32, u64)>; 2] = [Vec::new(), Vec::new()];
        let map = |name: &str| {
            self.ebpf
                .map(name)
                .ok_or_else(|| anyhow!("eBPF object has no map {name}"))
        };
        let procs = aya::maps::PerCpuHashMap::<_, u64, u64>::try_from(map(maps::PROC)?)?;
        for entry in procs.iter().filter_map(Result::ok) {
            let (key, values) = entry;
            let v: u64 = values.iter().sum();
            let (tgid, slot) = ((key >> 32) as u32, key as u32);
            let proc = out.procs.entry(tgid).or_default();
            let counts = &mut proc.counts;
            if slot >= proc_slot::ROOT {
                match slot {
                    proc_slot::ROOT => proc.root = Some(v as u32),
                    proc_slot::PARENT => proc.parent = Some(v as u32),
                    proc_slot::COMM => comm[0].push((tgid, v)),
                    proc_slot::COMM_END => comm[1].push((tgid, v)),
                    proc_slot::EXITED => proc.exited = true,
                    _ => {}
                }
            } else if slot >= SYSCALL_BYTES {
                counts
                    .syscalls
                    .entry(u64::from(slot - SYSCALL_BYTES))
                    .or_default()
                    .bytes += v;
            } else if slot >= SYSCALL_CALLS {
                counts
                    .syscalls
                    .entry(u64::from(slot - SYSCALL_CALLS))
                    .or_default()
                    .calls += v;
            } else if let Some(c) = Counter::ALL.get(slot as usize) {
                counts.add(*c, v);
            }
        }
        let mut names: std::collections::BTreeMap<u32, [u8; 16]> = Default::default();
        for (half, part) in comm.iter().enumerate() {
            for (tgid, v) in part {
                let name = names.entry(*tgid).or_insert([0u8; 16]);
                name[half * 8..half * 8 + 8].copy_from_slice(&v.to_ne_bytes());
            }
        }
        for (tgid, name) in names {
            let end = name.iter().position(|b| *b == 0).unwrap_or(16);
            if let Some(p) = out.procs.get_mut(&tgid) {
                p.exit_comm = Some(String::from_utf8_lossy(&name[..end]).into_owned());
            }
        }
        let mut closed = Vec::new();
        // TCP's own counts over the socket's followed life, once it closed.
        let mut tcp = Vec::new();
        let seen = aya::maps::HashMap::<_, u64, SockInfo>::try_from(map(maps::SOCK_SEEN)?)?;
        for (id, info) in seen.iter().filter_map(Result::ok) {
            if info.closed != 0 {
                closed.push(id);
            }
            if info.tcp_read == 2 {
                tcp.push((
                    id,
                    info.tcp_sent_end.saturating_sub(info.tcp_sent_start),
                    info.tcp_retrans_end.saturating_sub(info.tcp_retrans_start),
                    info.tcp_taken_end.saturating_sub(info.tcp_taken_start),
                ));
            }
            out.sockets
                .insert(id, (SocketInfo::from_kernel(&info), Counts::new()));
        }
        let mut late = Vec::new();
        let mut counted = std::collections::HashSet::new();
        let socks =
            aya::maps::PerCpuHashMap::<_, u64, SockCounts>::try_from(map(maps::SOCK_COUNTS)?)?;
        for (id, values) in socks.iter().filter_map(Result::ok) {
            let mut counts = Counts::new();
            for cpu in values.iter() {
                for (c, v) in SOCK_COUNTERS.iter().zip(cpu.v) {
                    counts.add(*c, v);
                }
            }
            match out.sockets.get_mut(&id) {
                Some((_, c)) => {
                    *c = counts;
                    counted.insert(id);
                }
                None => late.push((id, counts)),
            }
        }
        for (id, sent, retrans, taken) in tcp {
            if let Some((_, c)) = out.sockets.get_mut(&id) {
                c.set(Counter::TcpInfoRead, 1);
                c.set(Counter::TcpBytesSent, sent);
                c.set(Counter::TcpBytesRetrans, retrans);
                c.set(Counter::TcpBytesTaken, taken);
            }
        }
        // A closed socket is dropped only once its final counts were read
        // in this same walk (a walk may miss entries the kernel changes).
        closed.retain(|id| counted.contains(id));
        let files = aya::maps::PerCpuHashMap::<_, FileKey, u64>::try_from(map(maps::FILES)?)?;
        for (key, values) in files.iter().filter_map(Result::ok) {
            let (tgid, slot) = (key.slot >> 8, key.slot & 0xff);
            let f = out.files.entry((key.dev, key.ino)).or_default();
            f.entry(tgid).or_default().add(slot, values.iter().sum());
        }
        Ok(TreeRead {
            counts: out,
            closed,
            late,
        })
    }

    /// Drops closed sockets `ids`, already read and folded by the caller,
    /// from the kernel's maps: a server that opens thousands of connections
    /// then costs each sample its open sockets only, and the maps never
    /// fill up and evict.
    pub fn forget_sockets(&mut self, ids: &[u64]) -> anyhow::Result<()> {
        use zc_common::tree::{SockCounts, SockInfo};
        {
            let map = self
                .ebpf
                .map_mut(maps::SOCK_SEEN)
                .ok_or_else(|| anyhow!("eBPF object has no map {}", maps::SOCK_SEEN))?;
            let mut seen = aya::maps::HashMap::<_, u64, SockInfo>::try_from(map)?;
            for id in ids {
                let _ = seen.remove(id);
            }
        }
        let map = self
            .ebpf
            .map_mut(maps::SOCK_COUNTS)
            .ok_or_else(|| anyhow!("eBPF object has no map {}", maps::SOCK_COUNTS))?;
        let mut counts = aya::maps::PerCpuHashMap::<_, u64, SockCounts>::try_from(map)?;
        for id in ids {
            let _ = counts.remove(id);
        }
        Ok(())
    }

    /// Tells the kernel which syscall numbers read and which pass pages by
    /// reference (the numbers are the architecture's).
    fn classify_syscalls(&mut self) -> anyhow::Result<()> {
        let map = self
            .ebpf
            .map_mut(maps::SYSCALL_CLASS)
            .ok_or_else(|| anyhow!("eBPF object has no map {}", maps::SYSCALL_CLASS))?;
        let mut class = Array::<_, u8>::try_from(map)?;
        for (nr, kind) in crate::model::syscalls::classes() {
            class
                .set(nr as u32, kind, 0)
                .with_context(|| format!("classify syscall {nr}"))?;
        }
        Ok(())
    }

    /// Empties `zc trace`'s maps of a previous trace.
    fn clear_tree(&mut self) -> anyhow::Result<()> {
        use zc_common::tree::{FileKey, SockCounts, SockInfo};
        empty!(self, HashMap, maps::SOCKS, u64, SockInfo);
        empty!(self, HashMap, maps::SOCK_SEEN, u64, SockInfo);
        empty!(self, PerCpuHashMap, maps::PROC, u64, u64);
        empty!(self, PerCpuHashMap, maps::SOCK_COUNTS, u64, SockCounts);
        empty!(self, PerCpuHashMap, maps::FILES, FileKey, u64);
        empty!(
            self,
            HashMap,
            maps::OPENED,
            u64,
            zc_common::tree::OpenedPath
        );
        use zc_common::tree::FileId;
        empty!(self, HashMap, maps::FILE_ALIAS, FileId, FileId);
        Ok(())
    }

    /// `zc trace`'s files beneath, each with the file a followed process
    /// opened (on overlayfs): ((dev, ino) beneath, (dev, ino) opened), as
    /// the kernel keys files.
    pub fn file_aliases(&self) -> anyhow::Result<Vec<(FileKeyPair, FileKeyPair)>> {
        use zc_common::tree::FileId;
        let map = self
            .ebpf
            .map(maps::FILE_ALIAS)
            .ok_or_else(|| anyhow!("eBPF object has no map {}", maps::FILE_ALIAS))?;
        let aliases = aya::maps::HashMap::<_, FileId, FileId>::try_from(map)?;
        Ok(aliases
            .iter()
            .filter_map(Result::ok)
            .map(|(b, o)| ((b.dev, b.ino), (o.dev, o.ino)))
            .collect())
    }

    /// Takes the paths the followed processes opened since the last call:
    /// (tgid, path as passed, absolute or relative to its working
    /// directory, and the file the call opened as the kernel keys it, once
    /// the call has returned). Paths cut at `OPENED_PATH_BYTES` are left out.
    pub fn take_opened(&mut self) -> anyhow::Result<Vec<Opened>> {
        use zc_common::tree::{OPENED_PATH_BYTES, OpenedPath};
        let map = self
            .ebpf
            .map_mut(maps::OPENED)
            .ok_or_else(|| anyhow!("eBPF object has no map {}", maps::OPENED))?;
        let mut opened = aya::maps::HashMap::<_, u64, OpenedPath>::try_from(map)?;
        let keys: Vec<u64> = opened.keys().filter_map(Result::ok).collect();
        let mut out = Vec::new();
        for k in keys {
            if let Ok(o) = opened.get(&k, 0) {
                // `len` leaves out the terminating NUL: a path that filled
                // the buffer may have been cut.
                let len = o.len as usize;
                if len < OPENED_PATH_BYTES - 1 {
                    let bytes = &o.path[..len];
                    out.push(Opened {
                        tgid: o.tgid,
                        path: String::from_utf8_lossy(bytes).into_owned(),
                        file: (o.file.ino != 0).then_some((o.file.dev, o.file.ino)),
                    });
                }
            }
            let _ = opened.remove(&k);
        }
        Ok(out)
    }

    /// The processes still followed (those of the tree that have not exited).
    pub fn followed(&self) -> anyhow::Result<Vec<u32>> {
        let map = self
            .ebpf
            .map(maps::FOLLOWED)
            .ok_or_else(|| anyhow!("eBPF object has no map {}", maps::FOLLOWED))?;
        let followed = aya::maps::HashMap::<_, u32, u32>::try_from(map)?;
        Ok(followed.keys().filter_map(Result::ok).collect())
    }

    /// Sets or clears the followed bit of each of `tgids` (user space only
    /// writes while the probes are disarmed, so no kernel write races it).
    fn set_followed_bits(&mut self, tgids: &[u32], on: bool) -> anyhow::Result<()> {
        let map = self
            .ebpf
            .map_mut(maps::FOLLOWED_BITS)
            .ok_or_else(|| anyhow!("eBPF object has no map {}", maps::FOLLOWED_BITS))?;
        let mut bits = Array::<_, u64>::try_from(map)?;
        for &tgid in tgids {
            let word = tgid >> 6;
            let bit = 1u64 << (tgid & 63);
            let old = bits.get(&word, 0).unwrap_or(0);
            let new = if on { old | bit } else { old & !bit };
            bits.set(word, new, 0)
                .with_context(|| format!("mark process {tgid} followed"))?;
        }
        Ok(())
    }

    /// Empties the map of the last run's kernel threads.
    fn forget_helpers(&mut self) -> anyhow::Result<()> {
        empty!(self, HashMap, maps::HELPERS, u32, u64);
        empty!(self, HashMap, maps::BLIND, u32, u64);
        Ok(())
    }

    fn reset_counters(&mut self) -> anyhow::Result<()> {
        let ncpus = self.ncpus;
        for (name, len) in [
            (maps::COUNTERS, COUNTERS),
            (maps::SYSCALLS, MAX_SYSCALLS),
            (maps::SYSCALL_BYTES, MAX_SYSCALLS),
            (maps::RING_REQUESTS, RING_OPCODES),
            (maps::CPU_NEXT, 1),
        ] {
            let mut arr = self.per_cpu::<u64>(name)?;
            for i in 0..len {
                let zeros = PerCpuValues::try_from(vec![0u64; ncpus])?;
                arr.set(i, zeros, 0)
                    .with_context(|| format!("reset {name}[{i}]"))?;
            }
        }
        Ok(())
    }

    /// Exact totals since [`Tracer::arm`], summed over CPUs.
    /// Demo-socket skbs queued and not yet transmitted, dropped or freed.
    pub fn in_flight(&self) -> anyhow::Result<usize> {
        let map = self
            .ebpf
            .map(maps::QUEUED)
            .ok_or_else(|| anyhow!("eBPF object has no map {}", maps::QUEUED))?;
        let queued: aya::maps::HashMap<_, u64, u32> = aya::maps::HashMap::try_from(map)?;
        Ok(queued.keys().filter(|k| k.is_ok()).count())
    }

    /// Each attached program's fdinfo figures so far: run time and runs
    /// (zeros when the statistics are off) and recursion misses. One read
    /// of each program's fdinfo serves both the misses and the cost.
    pub fn runs_by_program(&self) -> Vec<(String, ProgRun)> {
        self.ebpf
            .programs()
            .filter_map(|(name, p)| {
                let fd = p.fd().ok()?;
                let path = format!("/proc/self/fdinfo/{}", fd.as_fd().as_raw_fd());
                let info = std::fs::read_to_string(path).ok()?;
                Some((name.to_string(), super::stats::parse_fdinfo(&info)))
            })
            .collect()
    }

    /// The totals a run's figures are taken against, read at arming.
    fn mark_arm(&mut self) {
        // Before the totals are read: the test runs' syscalls pass zc's
        // syscall probes, and those runs must not count as the run's.
        if self.clock_ns.is_none() {
            self.clock_ns = Some(match self.run_stats {
                Some(_) => super::stats::clock_cost(&mut self.ebpf),
                None => None,
            });
        }
        let programs = self.runs_by_program();
        self.at_arm = Totals::of(&programs);
        self.misses_at_arm = misses_by_program(&programs);
    }

    /// What the kernel's timing adds to each run, in ns (see `clock_ns`).
    pub fn clock_ns(&self) -> Option<f64> {
        self.clock_ns.flatten()
    }

    /// Whether the kernel is timing zc's programs.
    pub fn measures_cost(&self) -> bool {
        self.run_stats.is_some()
    }

    /// eBPF time and runs since the run was armed, and the runs the
    /// kernel skipped meanwhile by probe (`category:name`: a program is
    /// not re-entered on a CPU), from one read of each program's fdinfo.
    pub fn runs_and_misses_since_arm(&self) -> (ProgRun, std::collections::BTreeMap<String, u64>) {
        let programs = self.runs_by_program();
        let mut missed = std::collections::BTreeMap::new();
        for (key, _, since) in self.missed_since_arm(&programs) {
            *missed.entry(key).or_default() += since;
        }
        (Totals::of(&programs).since(&self.at_arm).runs, missed)
    }

    /// Each program's skipped runs since the run was armed, where there
    /// were any: its probe's `category:name`, and the counter of skipped
    /// runs they go to (see `skipped_counter`).
    fn missed_since_arm(
        &self,
        programs: &[(String, ProgRun)],
    ) -> Vec<(String, Option<Counter>, u64)> {
        misses_by_program(programs)
            .into_iter()
            .filter_map(|(program, m)| {
                let since =
                    m.saturating_sub(self.misses_at_arm.get(&program).copied().unwrap_or(0));
                if since == 0 {
                    return None;
                }
                let probe = PROBES
                    .iter()
                    .find(|p| p.sources().any(|a| a.program == program));
                let (category, name) = probe.map_or(("", program.as_str()), |p| {
                    (p.attach.category(), p.attach.name())
                });
                let key = if category.is_empty() {
                    name.to_string()
                } else {
                    format!("{category}:{name}")
                };
                Some((key, skipped_counter(category, name), since))
            })
            .collect()
    }

    /// The sequence number of the demo socket's first stream byte, as the
    /// kernel side read it when the sender first sent (None when it did
    /// not see a send).
    pub fn stream_start(&mut self) -> anyhow::Result<Option<u32>> {
        let v = self.config()?.get(&(Config::DemoStreamStart as u32), 0)?;
        Ok((v >> 32 != 0).then_some(v as u32))
    }

    pub fn counts(&mut self) -> anyhow::Result<Counts> {
        let mut counts = Counts::new();
        {
            let arr = self.per_cpu::<u64>(maps::COUNTERS)?;
            for c in Counter::ALL {
                let v: u64 = arr.get(&(*c as u32), 0)?.iter().sum();
                counts.set(*c, v);
            }
        }
        counts.blind = self.blind_tasks()?;
        let programs = self.runs_by_program();
        let run = Totals::of(&programs).since(&self.at_arm);
        for (key, skipped, since) in self.missed_since_arm(&programs) {
            if let Some(c) = skipped {
                counts.add(c, since);
            }
            *counts.missed_runs.entry(key).or_default() += since;
        }
        counts.set(Counter::ProbeMisses, run.figure_misses);
        counts.set(Counter::IrqProbeMisses, run.irq_misses);
        counts.set(Counter::EbpfRunNs, run.runs.run_time_ns);
        counts.set(Counter::EbpfRuns, run.runs.run_cnt);
        counts.set(Counter::EbpfClockPs, clock_ps(self.clock_ns()));
        let calls: Vec<u64> = {
            let arr = self.per_cpu::<u64>(maps::SYSCALLS)?;
            (0..MAX_SYSCALLS)
                .map(|i| arr.get(&i, 0).map(|v| v.iter().sum()))
                .collect::<Result<_, _>>()?
        };
        {
            let arr = self.per_cpu::<u64>(maps::RING_REQUESTS)?;
            for op in 0..RING_OPCODES {
                let n: u64 = arr.get(&op, 0)?.iter().sum();
                if n > 0 {
                    counts.ring_requests.insert(op as u8, n);
                }
            }
        }
        let arr = self.per_cpu::<u64>(maps::SYSCALL_BYTES)?;
        for (nr, calls) in calls.into_iter().enumerate() {
            if calls > 0 {
                let bytes = arr.get(&(nr as u32), 0)?.iter().sum();
                counts
                    .syscalls
                    .insert(nr as u64, SyscallTotals { calls, bytes });
            }
        }
        Ok(counts)
    }

    /// The tasks no program saw leave a CPU since arming, named from
    /// `/proc` (a thread's comm, and its process from `Tgid:`).
    fn blind_tasks(&self) -> anyhow::Result<Vec<crate::model::counts::BlindTask>> {
        let map = self
            .ebpf
            .map(maps::BLIND)
            .ok_or_else(|| anyhow!("eBPF object has no map {}", maps::BLIND))?;
        let blind: aya::maps::HashMap<_, u32, u64> = aya::maps::HashMap::try_from(map)?;
        let mut out: Vec<_> = blind
            .iter()
            .filter_map(Result::ok)
            .map(|(tid, stretches)| {
                let comm = std::fs::read_to_string(format!("/proc/{tid}/comm"))
                    .map(|c| c.trim_end().to_owned())
                    .unwrap_or_default();
                let pid = std::fs::read_to_string(format!("/proc/{tid}/status"))
                    .ok()
                    .and_then(|s| {
                        s.lines()
                            .find_map(|l| l.strip_prefix("Tgid:"))
                            .and_then(|v| v.trim().parse().ok())
                    })
                    .unwrap_or(0);
                crate::model::counts::BlindTask {
                    tid,
                    pid,
                    comm,
                    stretches,
                }
            })
            .collect();
        out.sort_by_key(|t| t.tid);
        Ok(out)
    }

    /// Decodes every record waiting in the ring buffer.
    pub fn drain(&mut self, sink: impl FnMut(Result<Record, DecodeError>)) -> usize {
        self.drain_some(usize::MAX, sink)
    }

    /// Decodes at most `max` waiting records.
    pub fn drain_some(
        &mut self,
        max: usize,
        mut sink: impl FnMut(Result<Record, DecodeError>),
    ) -> usize {
        let mut n = 0;
        while n < max {
            let Some(item) = self.events.next() else {
                break;
            };
            sink(decode(&item));
            n += 1;
        }
        n
    }
}

/// One read of `zc trace`'s maps.
pub struct TreeRead {
    pub counts: TreeCounts,
    /// Sockets that reached `TCP_CLOSE`, and whose final counts this read
    /// holds: to be dropped from the kernel's maps.
    pub closed: Vec<u64>,
    /// Counts the kernel kept for a socket after user space dropped it
    /// (an skb that left the device after the close): to be added to it.
    pub late: Vec<(u64, Counts)>,
}

/// What the probes are loaded for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// `zc demo` and its kin: one sender, one socket, one file.
    Demo,
    /// `zc trace` (and `zc doctor`, which checks the full set): the
    /// per-process, per-socket and per-file maps at full size.
    Trace,
    /// `zc trace --no-syscalls`: the same, without the probes that only
    /// count mode switches (`ProbeSpec::for_mode_switches`).
    TraceWithoutSyscalls,
}

impl Purpose {
    /// Why `spec` is not attached for this purpose, if it is not.
    fn leaves_out(self, spec: &ProbeSpec) -> Option<&'static str> {
        match self {
            Purpose::Demo | Purpose::Trace => None,
            Purpose::TraceWithoutSyscalls => spec
                .for_mode_switches()
                .then_some("left out by --no-syscalls"),
        }
    }
}

/// Entries of the per-process, per-socket and per-file maps for a demo,
/// which writes none (a per-CPU LRU map needs a few per CPU).
const DEMO_TREE_ENTRIES: u32 = 256;

/// Loads and attaches every probe, on two threads: the verifier checks
/// programs in parallel for a privileged loader, and half of the start-up
/// is its work.
fn load_programs(
    ebpf: &mut Ebpf,
    kernel: &KernelTypes,
    btf: &Btf,
    purpose: Purpose,
) -> (Vec<Held>, Vec<ProbeStatus>) {
    let mut programs: std::collections::HashMap<&str, &mut aya::programs::Program> =
        ebpf.programs_mut().collect();
    // Each probe with its sources' programs, dealt alternately to two lanes.
    type Sources<'a> = Vec<(&'static Attach, Option<&'a mut aya::programs::Program>)>;
    let mut lanes: [Vec<(usize, &ProbeSpec, Sources)>; 2] = [Vec::new(), Vec::new()];
    type Attached = Result<(Held, Attach), ProbeState>;
    let mut results: Vec<(usize, Attached)> = Vec::new();
    for (i, spec) in PROBES.iter().enumerate() {
        if let Some(why) = purpose.leaves_out(spec) {
            results.push((i, Err(ProbeState::Untried(why.into()))));
            continue;
        }
        let sources = std::iter::once(&spec.attach)
            .chain(spec.fallbacks)
            .map(|a| (a, programs.remove(a.program)))
            .collect();
        lanes[i % 2].push((i, spec, sources));
    }
    results.extend(std::thread::scope(|s| {
        let handles: Vec<_> = lanes
            .into_iter()
            .map(|lane| {
                s.spawn(move || {
                    lane.into_iter()
                        .map(|(i, _spec, sources)| (i, attach_first(sources, kernel, btf)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join().unwrap_or_else(|_| {
                    vec![(
                        usize::MAX,
                        Err(ProbeState::Refused("loading panicked".into())),
                    )]
                })
            })
            .collect::<Vec<_>>()
    }));
    results.sort_by_key(|(i, _)| *i);
    let mut links = Vec::with_capacity(PROBES.len());
    let mut status = Vec::with_capacity(PROBES.len());
    for (spec, (_, r)) in PROBES.iter().zip(results) {
        let (state, via) = match r {
            Ok((link, via)) => {
                links.push(link);
                (ProbeState::Attached, Some(via))
            }
            Err(state) => (state, None),
        };
        status.push(ProbeStatus {
            spec: *spec,
            state,
            via,
        });
    }
    (links, status)
}

/// Attaches the first of a probe's sources that this kernel has and
/// accepts. If none does, the first source's answer stands (it names what
/// zc would read), with why each other one failed after it.
fn attach_first(
    sources: Vec<(&'static Attach, Option<&mut aya::programs::Program>)>,
    kernel: &KernelTypes,
    btf: &Btf,
) -> Result<(Held, Attach), ProbeState> {
    let mut first: Option<ProbeState> = None;
    let mut others = Vec::new();
    for (source, program) in sources {
        let tried = match program {
            None => Err(ProbeState::Refused(format!(
                "eBPF object has no program {}",
                source.program
            ))),
            Some(p) => attach_one(p, source, kernel, btf),
        };
        match tried {
            Ok(held) => return Ok((held, *source)),
            Err(e) if first.is_none() => first = Some(e),
            Err(e) => others.push(format!("{} {}: {e}", source.kind(), source.target())),
        }
    }
    let first = first.unwrap_or_else(|| ProbeState::Refused("no source".into()));
    if others.is_empty() {
        return Err(first);
    }
    let also = others.join("; ");
    Err(match first {
        ProbeState::Missing(r) => ProbeState::Missing(format!("{r}; and {also}")),
        ProbeState::Refused(r) => ProbeState::Refused(format!("{r}; and {also}")),
        other => other,
    })
}

fn attach_one(
    program: &mut aya::programs::Program,
    source: &Attach,
    kernel: &KernelTypes,
    btf: &Btf,
) -> Result<Held, ProbeState> {
    prototype::check(&kernel.btf, source)?;
    let result: anyhow::Result<Held> = (|| match source.hook {
        Hook::TpBtf => {
            let p: &mut BtfTracePoint = program.try_into()?;
            p.load(source.name(), btf)?;
            let id = p.attach()?;
            Ok(Held(TracingLink::Tp(p.take_link(id)?)))
        }
        Hook::Fentry => {
            let p: &mut FEntry = program.try_into()?;
            p.load(source.name(), btf)?;
            let id = p.attach()?;
            Ok(Held(TracingLink::Fentry(p.take_link(id)?)))
        }
        Hook::Fexit => {
            let p: &mut FExit = program.try_into()?;
            p.load(source.name(), btf)?;
            let id = p.attach()?;
            Ok(Held(TracingLink::Fexit(p.take_link(id)?)))
        }
    })();
    result.map_err(|e| {
        // A refused program's whole verifier log, for whoever asks for it
        // by naming a file (the one-line reason keeps only its end).
        if let Some(path) = std::env::var_os("ZC_VERIFIER_LOG") {
            use std::io::Write as _;
            if let Ok(mut f) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
            {
                let _ = writeln!(f, "{e:#}");
            }
        }
        ProbeState::Refused(one_line(&e))
    })
}

/// An error chain on one line, verifier logs cut to their last lines: the
/// verifier's reason, then its time, stack depth and count of what it
/// processed, and the errno.
fn one_line(e: &anyhow::Error) -> String {
    let s = e
        .chain()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(": ");
    let lines: Vec<&str> = s.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.len() > 6 {
        format!(
            "{} … {}",
            lines[0],
            lines[lines.len().saturating_sub(5).max(1)..].join(" ")
        )
    } else {
        lines.join(" ")
    }
}

/// 1 when `ZC_WALK_EVERY_FRAG` is set: the kernel side then walks every
/// skb's frags to their pages, also before the socket was given any page
/// by reference (`walk_frags` in zc-ebpf's device.rs). A check of that
/// rule, for the tests and for whoever doubts it; it costs the walk.
fn walk_every_frag() -> u64 {
    std::env::var_os("ZC_WALK_EVERY_FRAG").is_some_and(|v| v != "0") as u64
}

/// Kernels before 5.11 charge eBPF maps to RLIMIT_MEMLOCK; lift it.
fn raise_memlock() {
    let unlimited = libc::rlimit {
        rlim_cur: libc::RLIM_INFINITY,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: setrlimit with a valid pointer to a local struct.
    unsafe {
        libc::setrlimit(libc::RLIMIT_MEMLOCK, &unlimited);
    }
}

#[cfg(test)]
mod tests {
    /// Every program the probe table names, and every map user space opens,
    /// is in the object this binary embeds: a renamed program or map fails
    /// here, without root, instead of at attach time.
    #[test]
    fn object_holds_every_probe_program_and_map() {
        let obj = aya_obj::Object::parse(super::OBJECT).expect("the embedded object parses");
        for source in super::PROBES.iter().flat_map(|p| p.sources()) {
            assert!(
                obj.programs.contains_key(source.program),
                "program {} of the probe table is not in the object (has: {:?})",
                source.program,
                obj.programs.keys().collect::<Vec<_>>()
            );
        }
        for m in [
            zc_common::maps::EVENTS,
            zc_common::maps::COUNTERS,
            zc_common::maps::SYSCALLS,
            zc_common::maps::SYSCALL_BYTES,
            zc_common::maps::CONFIG,
        ] {
            assert!(obj.maps.contains_key(m), "map {m} is not in the object");
        }
        // The layout the loader writes lives in read-only data.
        assert!(
            obj.maps.keys().any(|k| k.contains("rodata")),
            "no .rodata for ZC_LAYOUT: {:?}",
            obj.maps.keys().collect::<Vec<_>>()
        );
        assert!(
            obj.programs.contains_key(zc_common::FLOOR_PROGRAM),
            "the floor's empty program is not in the object"
        );
        assert_eq!(
            obj.programs.len(),
            super::PROBES.iter().flat_map(|p| p.sources()).count() + 1,
            "the object has programs neither the probe table nor the floor attaches"
        );
    }
}
