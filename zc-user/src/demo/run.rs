//! One traced run: a receiver in the peer namespace, a sender in zc's own,
//! the tracer armed exactly around the sender's transfer loop.
//!
//! The order matters for honest figures. The sender opens its socket and
//! allocates its buffer before tracing starts, so setup syscalls do not
//! count. Tracing of the sender's syscalls stops when its loop ends; its skbs
//! are followed until the receiver has every byte, because a write returns
//! once data is queued and the device transmits later.

use std::{
    io::Read as _,
    net::{SocketAddrV4, TcpListener, TcpStream},
    os::fd::AsFd,
    sync::{
        atomic::{AtomicU64, Ordering},
        mpsc,
    },
    time::{Duration, Instant},
};

use anyhow::{Context as _, anyhow};
use zc_common::counters::Counter;

use super::{
    file::DemoFile,
    net::{DemoNet, RECEIVER_ADDR},
    window,
};
use crate::{
    decode::{Decoder, Record},
    kernel::tracer::{END_MARKER, START_MARKER, Target, Tracer},
    ktls::{self, Direction},
    model::{
        PAGE_SIZE, Strategy,
        counts::Counts,
        facts::RunFacts,
        outcome::{RunOutcome, TransferStats},
    },
    strategy::{
        Ends, Transfer,
        gate::{Gate, Pause},
        resident::{self, PageRanges},
    },
};

/// Bytes the bottleneck's queue holds (`--rate`): two of its 16 KiB
/// buckets, so the queue overflows, and drops, as soon as TCP runs ahead of
/// the rate.
const RATE_QUEUE_LIMIT: u32 = 32 << 10;

/// How long a run waits, after the receiver has every byte, for skbs still
/// queued on their way to the device.
const SETTLE_LIMIT: Duration = Duration::from_millis(500);

/// CPU time of the calling thread.
fn thread_cpu_ns() -> u64 {
    cpu_ns(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// The CPU-time clock of another thread of this process.
fn cpu_clock_of(thread: libc::pthread_t) -> anyhow::Result<libc::clockid_t> {
    let mut clock: libc::clockid_t = 0;
    // SAFETY: `thread` is a live thread (its scoped handle is held); valid out pointer.
    let rc = unsafe { libc::pthread_getcpuclockid(thread, &mut clock) };
    if rc != 0 {
        return Err(std::io::Error::from_raw_os_error(rc)).context("find the sender's CPU clock");
    }
    Ok(clock)
}

/// CPU time consumed so far on `clock`.
fn cpu_ns(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: valid pointer to a local timespec.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn gettid() -> u32 {
    // SAFETY: gettid has no arguments and cannot fail.
    unsafe { libc::gettid() as u32 }
}

struct SenderDone {
    sent: u64,
    /// Calls the loop made again (`strategy::io::short_call`).
    short_calls: u64,
    /// The file pages its mapping held, if the loop mapped the file
    /// (`strategy::resident`).
    mapped_resident: Option<PageRanges>,
    elapsed_ns: u64,
    /// The sender's CPU clock just after its loop.
    cpu_ns: u64,
}

/// A stepped run: the gate its sender stops at, and who hears of the run
/// so far each time the kernel has sent new events.
pub struct Stepping<'a> {
    pub gate: &'a Gate,
    pub progress: &'a (dyn Fn(RunOutcome) + Sync),
}

/// Opens a stepped run's gate when dropped.
struct OpenOnDrop<'a>(Option<&'a Gate>);

impl Drop for OpenOnDrop<'_> {
    fn drop(&mut self) {
        if let Some(g) = self.0 {
            g.open();
        }
    }
}

/// From this size up a run is too large to show event by event, and the
/// kernel folds the receiver's copies and the skbs at the device that name
/// no page (`Config::Fold`): with scatter-gather off (sendfile) each comes
/// one segment at a time, about 47,000 of each per 64 MiB, each a record
/// to pass and keep. The view folds the middle of such a run anyway; its
/// counts stay exact. A stepped run never folds.
pub const FOLD_FROM: u64 = 64 << 20;

/// How often a stepped run reports its progress at most.
const PROGRESS_EVERY: Duration = Duration::from_millis(30);

/// Runs `strategy` once over `file`, traced when `tracer` is given (without
/// one, the same transfer runs with no eBPF program loaded: the baseline of
/// the overhead benchmark); stepped when `stepping` is given.
pub fn run_one(
    mut tracer: Option<&mut Tracer>,
    net: &DemoNet,
    file: &DemoFile,
    facts: RunFacts,
    stepping: Option<Stepping<'_>>,
) -> anyhow::Result<RunOutcome> {
    net.set_sender_sg(facts.sender_sg).with_context(|| {
        format!(
            "turn scatter-gather {} on the sending veth",
            if facts.sender_sg { "on" } else { "off" }
        )
    })?;
    net.set_sender_rate(facts.rate.map(|r| (r, RATE_QUEUE_LIMIT)))?;
    // Before a cold run evicts it: learning reads a byte of the file.
    let identity = match tracer.as_deref_mut() {
        Some(t) => Some(t.learn_file(file.fd())?),
        None => None,
    };
    if facts.cold {
        file.evict()?;
    } else {
        file.warm()?;
    }
    let resident_before = file.resident_bytes().unwrap_or(0);
    window::lock_own_code();

    // The receiver listens before the sender connects.
    let listener = net.receiver.run(|| {
        TcpListener::bind(SocketAddrV4::new(RECEIVER_ADDR, 0))
            .context("listen in the receiver namespace")
    })?;
    let port = listener.local_addr().context("receiver port")?.port();
    let sock = net.sender.run(|| {
        TcpStream::connect(SocketAddrV4::new(RECEIVER_ADDR, port))
            .context("connect to the receiver over the veth")
    })?;
    let sock_cookie = socket_cookie(&sock)?;
    // The same socket, for TCP's own counts while the sender owns `sock`.
    let tcp_view = sock.try_clone().context("duplicate the demo socket")?;
    let (conn, _) = listener
        .accept()
        .context("accept the sender's connection")?;
    drop(listener);
    if let Some(connect) = facts.strategy.spec().connect {
        connect(&Ends {
            sender: sock.as_fd(),
            receiver: conn.as_fd(),
        })
        .with_context(|| format!("prepare the connection for {}", facts.strategy.name()))?;
    }
    // The receiving end, for its record count once the receiver is done.
    let rx_view = conn.try_clone().context("duplicate the receiving socket")?;
    let tls_before = tls_records(&tcp_view, &rx_view);
    let sender_file = file.reopen()?;
    let expected_crc = file.crc;
    let size = facts.size;
    let chunk = facts.chunk;

    // Bytes the receiver has read, for a strategy that lends its buffer.
    let received = &AtomicU64::new(0);
    std::thread::scope(|scope| -> anyhow::Result<RunOutcome> {
        let (tid_tx, tid_rx) = mpsc::channel::<(char, u32, libc::pthread_t)>();

        let rtid = tid_tx.clone();
        let receiver = std::thread::Builder::new()
            .name("zc-receiver".into())
            .spawn_scoped(scope, move || -> anyhow::Result<(u64, u32)> {
                // SAFETY: pthread_self has no preconditions.
                let _ = rtid.send(('r', gettid(), unsafe { libc::pthread_self() }));
                let mut conn = conn;
                let mut crc = crc32fast::Hasher::new();
                let mut buf = vec![0u8; crate::model::facts::RECEIVE_BUFFER as usize];
                let mut got = 0u64;
                loop {
                    let n = conn.read(&mut buf).context("receive")?;
                    if n == 0 {
                        break;
                    }
                    crc.update(&buf[..n]);
                    got += n as u64;
                    received.store(got, Ordering::Release);
                }
                Ok((got, crc.finalize()))
            })
            .context("start the receiver thread")?;

        let (go_tx, go_rx) = mpsc::channel::<()>();
        let gate = stepping.as_ref().map(|s| s.gate);
        // What the loop's untraced looks raise (`strategy::resident`).
        let pause = tracer
            .as_deref()
            .map(|t| t.pause_flag() as std::sync::Arc<dyn Pause>);
        let sender = std::thread::Builder::new()
            .name("zc-sender".into())
            .spawn_scoped(scope, move || -> anyhow::Result<SenderDone> {
                // Page-aligned, so a chunk of whole pages spans whole pages.
                let len = facts.strategy.spec().buffer.len(size, chunk);
                let mut backing = vec![0u8; len + PAGE_SIZE as usize];
                let start = backing.as_ptr().align_offset(PAGE_SIZE as usize);
                let buf = &mut backing[start..start + len];
                buf.fill(1); // fault the buffer in now, not while traced
                let _ = Instant::now(); // map the vDSO page before tracing
                window::touch_stack();
                // The thread-locals the loop uses, made now (their first
                // use registers a destructor), not while traced.
                let _ = crate::strategy::io::take_short_calls();
                let _ = resident::take();
                resident::with_pause(None, || ());
                // SAFETY: pthread_self has no preconditions.
                let _ = tid_tx.send(('s', gettid(), unsafe { libc::pthread_self() }));
                // Asleep here while the tracer is armed (the main thread
                // waits until the kernel says so): this wait's return is
                // not counted, its entry was not traced.
                go_rx.recv().map_err(|_| anyhow!("run cancelled"))?;
                // The start marker: the sender's syscalls count from here.
                // SAFETY: getpgid(0) asks for the caller's own group.
                unsafe { libc::syscall(START_MARKER, 0) };
                let t0 = Instant::now();
                let spec = facts.strategy.spec();
                let mut transfer = Transfer {
                    file: sender_file.as_fd(),
                    sock: sock.as_fd(),
                    size,
                    chunk,
                    buf,
                    received,
                };
                let sent = resident::with_pause(pause, || {
                    crate::strategy::send(spec, &mut transfer, gate)
                });
                let t1 = Instant::now();
                let short_calls = crate::strategy::io::take_short_calls();
                let mapped_resident = resident::take();
                // The end marker: from here on this thread is not traced, so
                // reading its own CPU clock does not show in the trace.
                // SAFETY: getppid has no arguments and cannot fail.
                unsafe { libc::syscall(END_MARKER) };
                let cpu_ns = thread_cpu_ns();
                drop(sock);
                Ok(SenderDone {
                    sent: sent?,
                    short_calls,
                    mapped_resident,
                    elapsed_ns: (t1 - t0).as_nanos() as u64,
                    cpu_ns,
                })
            })
            .context("start the sender thread")?;

        let mut sender_tid = 0;
        let mut sender_thread: libc::pthread_t = 0;
        let mut receiver_tid = 0;
        let mut receiver_thread: libc::pthread_t = 0;
        for _ in 0..2 {
            match tid_rx.recv_timeout(Duration::from_secs(10)) {
                Ok(('s', t, pt)) => {
                    sender_tid = t;
                    sender_thread = pt;
                }
                Ok((_, t, pt)) => {
                    receiver_tid = t;
                    receiver_thread = pt;
                }
                Err(_) => return Err(anyhow!("sender or receiver thread did not start")),
            }
        }
        window::wait_until_asleep(sender_tid)?;
        if let (Some(t), Some(file)) = (tracer.as_deref_mut(), identity) {
            t.arm(Target {
                sender_tid,
                receiver_tid,
                file,
                sock_cookie,
                nic_rx_ifindex: net.nic_rx_ifindex(),
                fold: stepping.is_none() && facts.size >= FOLD_FROM,
            })?;
        }
        // The kernel's records, kept until the run ends (or a stepped run
        // reports): the stream's start, which the decoder needs, is asked
        // of the kernel then.
        let mut events: Vec<Record> = Vec::new();
        let mut bad_records = 0u64;
        // The sender is blocked in recv(): its CPU clock stands still.
        let cpu_start = cpu_ns(cpu_clock_of(sender_thread)?);
        let receiver_clock = cpu_clock_of(receiver_thread)?;
        let receiver_start = cpu_ns(receiver_clock);
        let softirq_start = softirq_ns();
        let tcp_sent_before = tcp_bytes_sent(&tcp_view);
        let _ = go_tx.send(());
        let drain = |t: &mut Option<&mut Tracer>, events: &mut Vec<Record>, bad: &mut u64| {
            t.as_deref_mut().map_or(0, |t| {
                t.drain(&mut |r: Result<Record, _>| match r {
                    Ok(e) => events.push(e),
                    Err(_) => *bad += 1,
                })
            })
        };
        // Whatever ends this run early, a stepped sender must not wait at
        // its gate for ever: the scope waits for it.
        let _open_on_exit = OpenOnDrop(stepping.as_ref().map(|s| s.gate));
        let mut reported = (0usize, Instant::now());
        while !sender.is_finished() {
            let n = drain(&mut tracer, &mut events, &mut bad_records);
            // A stepped run shows its events as the kernel makes them.
            // Once the gate is open for good the run goes on unstepped,
            // and so does its reporting: at its end.
            if let (Some(st), Some(t)) = (&stepping, tracer.as_deref_mut())
                && !st.gate.is_open()
                && events.len() > reported.0
                && reported.1.elapsed() >= PROGRESS_EVERY
            {
                let mut so_far = events.clone();
                so_far.sort_by_key(|e| e.ts_ns());
                // A report that cannot be made now is made at the next event.
                if let (Ok(counts), Ok(start)) = (t.counts(), t.stream_start()) {
                    let stats = TransferStats {
                        resident_before,
                        stepped: true,
                        stream_ranges: start.is_some(),
                        ..TransferStats::default()
                    };
                    let so_far = Decoder::run(start, &so_far);
                    (st.progress)(RunOutcome::new(facts, counts, so_far, stats));
                    reported = (events.len(), Instant::now());
                }
            }
            if n == 0 {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        // The sender closed its descriptor; this one keeps the socket
        // open for TCP's counts, so the end of the stream is said here.
        let _ = tcp_view.shutdown(std::net::Shutdown::Write);
        // The receiver's clock is read while it still runs (a finished
        // thread's clock is gone): it ends when the last byte has arrived.
        let mut receiver_cpu = 0;
        while !receiver.is_finished() {
            receiver_cpu = cpu_ns(receiver_clock).saturating_sub(receiver_start);
            if drain(&mut tracer, &mut events, &mut bad_records) == 0 {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        let softirq = softirq_ns().saturating_sub(softirq_start);
        // The receiver has every byte, but TCP may still hold skbs in a
        // queue (a retransmission the receiver no longer needs, behind a
        // bottleneck): they go on to the device, and are counted, before
        // the tracing stops.
        let settle = Instant::now();
        while settle.elapsed() < SETTLE_LIMIT
            && (tracer.as_deref().map_or(Ok(0), Tracer::in_flight)? > 0
                || (facts.rate.is_some() && net.sender_queue_len()? > 0))
        {
            drain(&mut tracer, &mut events, &mut bad_records);
            std::thread::sleep(Duration::from_millis(1));
        }
        let mut stream_start = None;
        let mut counts = match tracer {
            Some(t) => {
                t.disarm()?;
                stream_start = t.stream_start()?;
                t.drain(&mut |r: Result<Record, _>| match r {
                    Ok(e) => events.push(e),
                    Err(_) => bad_records += 1,
                });
                // The run has finished: what the kernel folded since its
                // last folded records is the run's last.
                events.extend(t.take_folds()?);
                let mut c = t.counts()?;
                if let (Some(before), Some(after)) = (tcp_sent_before, tcp_bytes_sent(&tcp_view)) {
                    c.set(Counter::TcpBytesSent, after.0.saturating_sub(before.0));
                    c.set(Counter::TcpBytesRetrans, after.1.saturating_sub(before.1));
                    c.set(Counter::TcpInfoRead, 1);
                }
                let tls_after = tls_records(&tcp_view, &rx_view);
                c.set(
                    Counter::TlsTxRecords,
                    tls_after.0.saturating_sub(tls_before.0),
                );
                c.set(
                    Counter::TlsRxRecords,
                    tls_after.1.saturating_sub(tls_before.1),
                );
                c
            }
            None => Counts::new(),
        };

        let done = sender
            .join()
            .map_err(|_| anyhow!("the sender thread panicked"))??;
        let (received_bytes, crc) = receiver
            .join()
            .map_err(|_| anyhow!("the receiver thread panicked"))??;
        // The demo's own counts: the second source for hops whose events
        // the kernel skipped.
        counts.set(Counter::SenderLoopBytes, done.sent);
        counts.set(Counter::ReceiverReadBytes, received_bytes);

        events.sort_by_key(|e| e.ts_ns());
        let stats = TransferStats {
            elapsed_ns: done.elapsed_ns,
            sender_cpu_ns: done.cpu_ns.saturating_sub(cpu_start),
            receiver_cpu_ns: receiver_cpu,
            softirq_ns: softirq,
            received_ok: received_bytes == done.sent && done.sent == size && crc == expected_crc,
            received_bytes,
            bad_records,
            resident_before,
            stepped: stepping.is_some(),
            short_calls: done.short_calls,
            stream_ranges: stream_start.is_some(),
            mapped_resident: done.mapped_resident,
        };
        // The records go as soon as they are decoded: a shadowing `let`
        // would keep them (a fifth of a large run's memory) alive while
        // the model builds its steps.
        let records = events;
        let events = Decoder::run(stream_start, &records);
        drop(records);
        Ok(RunOutcome::new(facts, counts, events, stats))
    })
}

/// The facts of a run of `strategy` over `file`; `sg` overrides the
/// strategy's own scatter-gather setting.
pub fn facts(
    strategy: Strategy,
    file: &DemoFile,
    chunk: u64,
    cold: bool,
    sg: Option<bool>,
    rate: Option<u64>,
    nic: bool,
) -> RunFacts {
    RunFacts {
        strategy,
        size: file.size,
        chunk,
        cold,
        sender_sg: sg.unwrap_or(strategy.spec().sender_sg),
        rate,
        nic,
    }
}

/// Softirq time on every CPU so far (`/proc/stat`, in clock ticks turned
/// into nanoseconds), or 0 where the file cannot be read.
fn softirq_ns() -> u64 {
    let Ok(stat) = std::fs::read_to_string("/proc/stat") else {
        return 0;
    };
    // cpu  user nice system idle iowait irq softirq ...
    let ticks: u64 = stat
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(7))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    ticks * (1_000_000_000 / hz)
}

/// TCP's count of payload bytes `sock` handed to IP so far
/// (`tcpi_bytes_sent`) and of those it retransmitted (`tcpi_bytes_retrans`,
/// which comes before it in the struct), or None where the kernel's `tcp_info` is too old
/// to hold it (before 4.19) or cannot be read.
fn tcp_bytes_sent(sock: &TcpStream) -> Option<(u64, u64)> {
    use std::os::fd::AsRawFd as _;
    // SAFETY: tcp_info is plain integers; all zero is a valid value.
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = size_of::<libc::tcp_info>() as libc::socklen_t;
    // SAFETY: a valid socket, and an out buffer of the size given.
    let r = unsafe {
        libc::getsockopt(
            sock.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            (&mut info as *mut libc::tcp_info).cast(),
            &mut len,
        )
    };
    // The kernel fills as much as it has: the field must be inside.
    let end = std::mem::offset_of!(libc::tcp_info, tcpi_bytes_sent) + size_of::<u64>();
    (r == 0 && len as usize >= end).then_some((info.tcpi_bytes_sent, info.tcpi_bytes_retrans))
}

/// Records kernel TLS has sealed on the sending end and opened on the
/// receiving end so far (0 and 0 on a plain connection).
fn tls_records(tx: &TcpStream, rx: &TcpStream) -> (u64, u64) {
    (
        ktls::records(tx.as_fd(), Direction::Transmit).unwrap_or(0),
        ktls::records(rx.as_fd(), Direction::Receive).unwrap_or(0),
    )
}

/// The socket's cookie (`SO_COOKIE`): a number the kernel gives each socket
/// once, which the eBPF side matches to know the demo socket.
fn socket_cookie(sock: &TcpStream) -> anyhow::Result<u64> {
    use std::os::fd::AsRawFd as _;
    let mut cookie = 0u64;
    let mut len = size_of::<u64>() as libc::socklen_t;
    // SAFETY: a valid socket, and an out buffer of the size given.
    let r = unsafe {
        libc::getsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_COOKIE,
            (&mut cookie as *mut u64).cast(),
            &mut len,
        )
    };
    if r != 0 {
        return Err(std::io::Error::last_os_error()).context("read the demo socket's cookie");
    }
    Ok(cookie)
}
