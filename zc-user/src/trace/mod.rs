//! `zc trace`: the demo's truth for programs zc did not write. The kernel
//! follows a set of processes (the command zc starts, or the pids given,
//! and whatever they fork): every thread, every file, their TCP sockets.
//! It counts per process, per socket and per file, in the kernel, so a busy
//! server costs a few map updates per event and nothing is lost when user
//! space is slow. This module starts the command, arms and disarms the
//! kernel side, samples the totals a few times a second, and hands them to
//! a view: the live view, the report, or JSON.

pub mod command;
pub mod procs;

use std::{
    path::PathBuf,
    process::Child,
    time::{Duration, Instant},
};

use anyhow::Context as _;

use crate::{
    exit::Fatal,
    kernel::{
        layout, privilege,
        probes::ProbeStatus,
        tracer::{Purpose, Tracer},
    },
    model::tree::{Names, TraceState, TreeCounts, reports},
};

/// How often the totals are read while tracing.
pub const SAMPLE_EVERY: Duration = Duration::from_millis(250);

/// What to follow, and for how long.
pub struct Request {
    /// A command to start and follow (empty: follow `pids`).
    pub command: Vec<String>,
    pub pids: Vec<u32>,
    pub duration: Option<Duration>,
    /// Whether the syscall tracepoints are attached (`--no-syscalls`: not).
    pub syscalls: bool,
    /// Where the command's output goes.
    pub output: command::Output,
}

/// A trace in progress: the loaded probes, the followed set, the samples.
pub struct Live {
    tracer: Tracer,
    start: Instant,
    child: Option<Child>,
    roots: Vec<u32>,
    command: Vec<String>,
    duration: Option<Duration>,
    /// Whether the syscall tracepoints are attached.
    syscalls: bool,
    names: Names,
    counts: TreeCounts,
    /// Sockets read for the last time and dropped from the kernel's maps.
    dropped: std::collections::HashSet<u64>,
    /// The view's model, kept up to date by [`Live::sample`].
    pub state: TraceState,
    /// The command's exit code, once it exited.
    pub exit_code: Option<i32>,
    /// The command's output, when captured: the last lines.
    pub output: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    disarmed: bool,
    last_look: Instant,
    busy_at_start: u64,
}

/// How often /proc is read for names between samples.
const LOOK_EVERY: Duration = Duration::from_millis(100);

/// Checks the request, loads the probes, starts or attaches, and arms.
pub fn start(req: &Request) -> anyhow::Result<Live> {
    // Bad input first: a typo gets its own answer, with or without root.
    for &pid in &req.pids {
        procs::check_pid(pid)?;
    }
    if let Some(program) = req.command.first()
        && procs::find_program(program).is_none()
    {
        return Err(Fatal::NoCommand(format!("{program}: command not found")).into());
    }
    let missing = privilege::missing();
    if !missing.is_empty() {
        return Err(Fatal::CannotTrace(privilege::refusal(&missing)).into());
    }
    let kernel = layout::running_kernel().map_err(|e| Fatal::CannotTrace(e.to_string()))?;
    let purpose = if req.syscalls {
        Purpose::Trace
    } else {
        Purpose::TraceWithoutSyscalls
    };
    let mut tracer =
        Tracer::load(&kernel, purpose).map_err(|e| Fatal::CannotTrace(format!("{e:#}")))?;
    crate::signals::catch();
    let output = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let (child, roots) = if req.command.is_empty() {
        tracer.arm_tree(&req.pids)?;
        // A pid may have exited between the check and the arming.
        for &pid in &req.pids {
            if procs::gone(pid) {
                let _ = tracer.disarm();
                return Err(Fatal::NoProcess(format!("process {pid} exited")).into());
            }
        }
        (None, req.pids.clone())
    } else {
        let (mut c, go) = command::spawn_gated(&req.command, req.output)?;
        tracer.arm_tree(&[c.id()])?;
        if req.output == command::Output::Capture {
            collect_output(&mut c, &output);
        }
        // The command runs only now, followed from its first instruction.
        go.release()?;
        let id = c.id();
        (Some(c), vec![id])
    };
    let title = if req.command.is_empty() {
        format!(
            "pid {}",
            roots
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )
    } else {
        req.command.join(" ")
    };
    let mut live = Live {
        tracer,
        start: Instant::now(),
        child,
        roots,
        command: req.command.clone(),
        duration: req.duration,
        names: Names::default(),
        counts: TreeCounts::default(),
        dropped: Default::default(),
        syscalls: req.syscalls,
        state: TraceState {
            title,
            ..TraceState::default()
        },
        exit_code: None,
        output,
        disarmed: false,
        last_look: Instant::now() - LOOK_EVERY,
        busy_at_start: procs::busy_cpu_ns(),
    };
    live.sample()?;
    Ok(live)
}

/// Reads the command's output in two threads, keeping the last lines.
fn collect_output(child: &mut Child, lines: &std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::BufRead as _;
    fn keep(
        r: impl std::io::Read + Send + 'static,
        lines: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    ) {
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(r).lines().map_while(Result::ok) {
                if let Ok(mut l) = lines.lock() {
                    l.push(line);
                    let n = l.len();
                    if n > 50 {
                        l.drain(..n - 50);
                    }
                }
            }
        });
    }
    if let Some(out) = child.stdout.take() {
        keep(out, lines.clone());
    }
    if let Some(err) = child.stderr.take() {
        keep(err, lines.clone());
    }
}

impl Live {
    /// Reads /proc for the followed processes' names and open files. Run
    /// more often than [`Live::sample`]: a file a server sends in a few
    /// milliseconds is named only if zc looks while it is open.
    pub fn look(&mut self) {
        if self.last_look.elapsed() < LOOK_EVERY {
            return;
        }
        self.last_look = Instant::now();
        // The paths opened since the last look first: a file opened and
        // closed between two looks is in no /proc/PID/fd.
        for o in self.tracer.take_opened().unwrap_or_default() {
            procs::name_opened(&mut self.names, o.tgid, &o.path, o.file);
        }
        for (beneath, opened) in self.tracer.file_aliases().unwrap_or_default() {
            self.names.beneath.insert(beneath, opened);
        }
        let followed = self.tracer.followed().unwrap_or_default();
        procs::refresh(&mut self.names, &followed);
    }

    /// Reads the kernel's totals into `counts`. A socket that closed is read
    /// one last time, kept here, and dropped from the kernel's maps, so
    /// that a server's thousands of connections do not fill them (and each
    /// sample reads the open sockets only).
    fn read_kernel(&mut self) -> anyhow::Result<()> {
        let read = self.tracer.tree_read()?;
        self.counts.procs = read.counts.procs;
        self.counts.files = read.counts.files;
        self.counts.blind = read.counts.blind;
        for (id, socket) in read.counts.sockets {
            self.counts.sockets.insert(id, socket);
        }
        let mut forget = read.closed;
        for (id, counts) in read.late {
            // A map walk can miss entries the kernel changes meanwhile: a
            // socket's counts without its record this time are its totals,
            // unless it was dropped already and these came after.
            match self.counts.sockets.get_mut(&id) {
                Some((_, c)) if self.dropped.contains(&id) => {
                    c.merge(&counts);
                    forget.push(id);
                }
                Some((_, c)) => *c = counts,
                // Not named yet: left in the kernel until its record is read.
                None => {}
            }
        }
        if !forget.is_empty() {
            self.tracer.forget_sockets(&forget)?;
            self.dropped.extend(forget);
        }
        Ok(())
    }

    /// Reads the kernel's totals and /proc's names, and updates the state.
    pub fn sample(&mut self) -> anyhow::Result<()> {
        let t_ns = self.start.elapsed().as_nanos() as u64;
        self.last_look = Instant::now() - LOOK_EVERY;
        self.look();
        self.read_kernel()?;
        self.state.samples.push(self.counts.sample(t_ns));
        self.state.reports = reports(&self.counts, &self.roots, &self.command, &self.names, t_ns);
        // zc's own cost so far, against the machine's busy CPU time.
        let (run, missed) = self.tracer.runs_and_misses_since_arm();
        let mut c = crate::model::counts::Counts::new();
        c.set(zc_common::counters::Counter::EbpfRunNs, run.run_time_ns);
        c.set(zc_common::counters::Counter::EbpfRuns, run.run_cnt);
        c.set(
            zc_common::counters::Counter::EbpfClockPs,
            crate::kernel::tracer::clock_ps(self.tracer.clock_ns()),
        );
        let cost = crate::model::cost::TracingCost::of(
            &c,
            procs::busy_cpu_ns().saturating_sub(self.busy_at_start),
            "the machine's busy CPU time while tracing",
        );
        for r in &mut self.state.reports {
            r.tracing_cost = cost.clone();
            r.syscalls_traced = self.syscalls;
            r.probe_misses_by_program = missed.clone();
        }
        Ok(())
    }

    /// Why the trace should end now, if it should: the command exited,
    /// every followed process exited, the duration passed, or a signal.
    pub fn should_end(&mut self) -> anyhow::Result<Option<String>> {
        if let Some(sig) = crate::signals::which() {
            return Ok(Some(match sig {
                libc::SIGHUP => "its terminal hung up".into(),
                libc::SIGTERM => "stopped by SIGTERM".into(),
                _ => "stopped by a signal".into(),
            }));
        }
        if let Some(d) = self.duration
            && self.start.elapsed() >= d
        {
            return Ok(Some(format!("{:.1} s passed", d.as_secs_f64())));
        }
        match self.child.as_mut() {
            Some(c) => {
                if let Some(status) = c.try_wait().context("wait for the command")? {
                    let code = command::code_of(status);
                    self.exit_code = Some(code);
                    return Ok(Some(format!("the command exited with {code}")));
                }
            }
            None => {
                if self.tracer.followed()?.is_empty() {
                    return Ok(Some("every followed process exited".into()));
                }
            }
        }
        Ok(None)
    }

    /// Stops following, takes the last sample, and records why it ended.
    pub fn finish(&mut self, why: String) -> anyhow::Result<()> {
        if !self.disarmed {
            // The last totals first, then the kernel side stops counting.
            self.sample()?;
            self.tracer.disarm()?;
            self.disarmed = true;
        }
        self.state.ended = Some(why);
        Ok(())
    }

    /// Sends `sig` to the command zc started (SIGINT as a terminal's
    /// Ctrl-C would, SIGHUP as a shell whose terminal hung up does, SIGTERM
    /// as `sudo` passes it on), and waits up to two seconds for it; returns
    /// its exit code if it exited. Nothing is sent to processes given by
    /// `--pid`.
    pub fn signal_command(&mut self, sig: i32) -> Option<i32> {
        let c = self.child.as_mut()?;
        if !matches!(c.try_wait(), Ok(None)) {
            return self.exit_code;
        }
        // SAFETY: kill on the child zc started and has not reaped.
        unsafe { libc::kill(c.id() as i32, sig) };
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(2) {
            if let Ok(Some(status)) = c.try_wait() {
                self.exit_code = Some(command::code_of(status));
                return self.exit_code;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// The command, if zc started it and it is still running.
    pub fn running_command(&mut self) -> Option<u32> {
        let c = self.child.as_mut()?;
        matches!(c.try_wait(), Ok(None)).then(|| c.id())
    }

    /// The probes and their states, for a recording's metadata.
    pub fn probes(&self) -> &[ProbeStatus] {
        self.tracer.status()
    }

    pub fn roots(&self) -> &[u32] {
        &self.roots
    }

    pub fn command(&self) -> &[String] {
        &self.command
    }

    /// Output lines of the command, when captured.
    pub fn output_tail(&self, n: usize) -> Vec<String> {
        self.output
            .lock()
            .map(|l| l[l.len().saturating_sub(n)..].to_vec())
            .unwrap_or_default()
    }
}

/// Runs a trace with no view: until it ends, sampling as it goes.
pub fn run_headless(live: &mut Live) -> anyhow::Result<()> {
    let mut next = Instant::now() + SAMPLE_EVERY;
    let why = loop {
        if let Some(why) = live.should_end()? {
            // The command shares zc's terminal here: a Ctrl-C reached it
            // too, but SIGHUP (zc is the session leader, or its shell
            // passed it on) and SIGTERM were zc's alone.
            if let Some(sig) = crate::signals::which()
                && sig != libc::SIGINT
            {
                crate::signals::forget_terminal_if_hung_up();
                live.signal_command(sig);
            }
            break why;
        }
        if Instant::now() >= next {
            live.sample()?;
            next += SAMPLE_EVERY;
        } else {
            live.look();
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    live.finish(why)
}

/// Where `r` writes a recording when no `--record` was given.
pub fn default_record_path() -> PathBuf {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    PathBuf::from(format!("zc-trace-{now}.zctrace"))
}
