//! A live session: everything a traced run needs, set up once and reused
//! for every strategy the user asks for (the report runs four in turn, the
//! TUI reruns one on a key press).

use anyhow::Context as _;

use crate::{
    demo::{
        file::{DemoFile, Origin, work_dir},
        net::DemoNet,
        run,
    },
    exit::Fatal,
    kernel::{
        layout, privilege,
        probes::ProbeState,
        tracer::{Purpose, Tracer},
    },
    model::{Strategy, context::Context, outcome::RunOutcome},
    strategy::gate::{Gate, StepUnit},
};

/// What a session sends and how.
#[derive(Clone, Debug)]
pub struct Options {
    pub size: u64,
    pub chunk: u64,
    pub file: Option<std::path::PathBuf>,
    pub cold: bool,
    /// Scatter-gather on the sending veth for every run, instead of each
    /// strategy's own setting.
    pub sg: Option<bool>,
    /// A bottleneck on the sending veth, bytes per second.
    pub rate: Option<u64>,
    /// A packet tap bound to one end of the veth for the whole session.
    pub tap: Option<crate::demo::net::TapEnd>,
    /// Two NICs to borrow instead of the veth (`--nic`).
    pub nic: Option<crate::demo::nics::NicChoice>,
}

/// The loaded probes, the private network and the demo file.
pub struct LiveSession {
    /// None only while a run goes untraced (see `run_untraced`).
    tracer: Option<Tracer>,
    status: Vec<crate::kernel::probes::ProbeStatus>,
    /// Kept to load the probes again after an untraced run.
    kernel: layout::KernelTypes,
    net: DemoNet,
    file: DemoFile,
    chunk: u64,
    cold: bool,
    sg: Option<bool>,
    rate: Option<u64>,
    /// Held open for the session: its taps see every run.
    _tap: Option<crate::demo::net::PacketTap>,
    pub context: Context,
}

/// Checks that don't need the kernel: bad input fails before eBPF loads.
pub fn check_input(opts: &Options) -> anyhow::Result<Option<DemoFile>> {
    const MAX_SIZE: u64 = 4 << 30;
    if opts.chunk == 0 {
        return Err(Fatal::Usage("--chunk must be at least 1 byte".into()).into());
    }
    if opts.chunk > 64 << 20 {
        return Err(Fatal::Usage("--chunk must be at most 64 MiB".into()).into());
    }
    if opts.file.is_none() && (opts.size == 0 || opts.size > MAX_SIZE) {
        return Err(Fatal::Usage(format!(
            "--size must be between 1 byte and {}",
            crate::units::fmt_bytes(MAX_SIZE)
        ))
        .into());
    }
    opts.file.as_deref().map(DemoFile::open_user).transpose()
}

/// Why this process cannot trace live, if it cannot (one line), checked
/// without touching the kernel.
pub fn cannot_trace_reason() -> Option<String> {
    let missing = privilege::missing();
    (!missing.is_empty()).then(|| privilege::refusal(&missing))
}

impl LiveSession {
    /// Sets everything up: the kernel's types, the probes, the network.
    pub fn start(opts: &Options, user_file: Option<DemoFile>) -> anyhow::Result<LiveSession> {
        if let Some(reason) = cannot_trace_reason() {
            return Err(Fatal::CannotTrace(reason).into());
        }
        // The network first: a refused --nic is bad input, told before
        // eBPF loads.
        let net = match &opts.nic {
            None => DemoNet::create()
                .context("build zc's private network (two namespaces and a veth pair)")?,
            Some(choice) => DemoNet::borrow(choice)?,
        };
        let kernel = layout::running_kernel().map_err(|e| Fatal::CannotTrace(e.to_string()))?;
        let tracer = Tracer::load(&kernel, Purpose::Demo)
            .map_err(|e| Fatal::CannotTrace(format!("{e:#}")))?;
        let blocked: Vec<String> = tracer
            .status()
            .iter()
            .filter(|p| !p.ok_for_live())
            .map(|p| format!("{} {}", p.spec.attach.target(), p.state))
            .collect();
        if !blocked.is_empty() {
            return Err(Fatal::CannotTrace(format!(
                "required probes unavailable, so the figures would be wrong: {} (see `zc doctor`)",
                blocked.join("; ")
            ))
            .into());
        }
        let file = match user_file {
            Some(f) => f,
            None => DemoFile::generate(opts.size, &work_dir())?,
        };
        let tap = opts.tap.map(|end| net.tap(end)).transpose()?;
        let context = Context::here(
            match &file.origin {
                Origin::Generated(d) => format!("generated, unnamed, in {}", d.display()),
                Origin::User(p) => p.display().to_string(),
            },
            tracer
                .status()
                .iter()
                .filter(|p| p.state == ProbeState::Attached)
                .count(),
            tracer.status().len(),
            tracer
                .status()
                .iter()
                .filter_map(|p| p.substitute())
                .collect(),
            net.link.to_string(),
        );
        Ok(LiveSession {
            status: tracer.status().to_vec(),
            tracer: Some(tracer),
            kernel,
            net,
            file,
            chunk: opts.chunk,
            cold: opts.cold,
            sg: opts.sg,
            rate: opts.rate,
            _tap: tap,
            context,
        })
    }

    /// Runs one strategy, traced.
    pub fn run(&mut self, strategy: Strategy) -> anyhow::Result<RunOutcome> {
        self.run_traced(strategy, None)
    }

    /// Runs one strategy traced and stepped: its sender stops before each
    /// syscall (or iteration, as `unit` says) until `gate` lets it go on,
    /// and `progress` hears of the run so far as the kernel's events come.
    pub fn run_stepped(
        &mut self,
        strategy: Strategy,
        gate: &Gate,
        progress: &(dyn Fn(RunOutcome) + Sync),
    ) -> anyhow::Result<RunOutcome> {
        self.run_traced(strategy, Some(run::Stepping { gate, progress }))
    }

    /// A gate for a stepped run, wired to the kernel's pause flag.
    pub fn gate(&self, unit: StepUnit) -> Gate {
        let pause = self
            .tracer
            .as_ref()
            .map(|t| t.pause_flag() as std::sync::Arc<dyn crate::strategy::gate::Pause>);
        Gate::new(unit, pause)
    }

    fn run_traced(
        &mut self,
        strategy: Strategy,
        stepping: Option<run::Stepping<'_>>,
    ) -> anyhow::Result<RunOutcome> {
        if let Some(why) = self.refusal(strategy) {
            return Err(Fatal::CannotTrace(why).into());
        }
        let facts = self.facts(strategy);
        let tracer = self
            .tracer
            .as_mut()
            .ok_or_else(|| anyhow::anyhow!("the probes are not loaded"))?;
        run::run_one(Some(tracer), &self.net, &self.file, facts, stepping)
            .with_context(|| format!("run {}", strategy.name()))
    }

    /// What a run of `strategy` is asked to do in this session.
    fn facts(&self, strategy: Strategy) -> crate::model::facts::RunFacts {
        run::facts(
            strategy,
            &self.file,
            self.chunk,
            self.cold,
            self.sg,
            self.rate,
            self.net.link != crate::demo::net::Link::Veth,
        )
    }

    /// Runs one strategy with every eBPF program detached and unloaded, then
    /// loads them again: the untraced baseline of the overhead benchmark.
    pub fn run_untraced(&mut self, strategy: Strategy) -> anyhow::Result<RunOutcome> {
        let facts = self.facts(strategy);
        // Dropping the tracer closes every link and map: nothing is attached.
        drop(self.tracer.take());
        let result = run::run_one(None, &self.net, &self.file, facts, None);
        self.tracer = Some(Tracer::load(&self.kernel, Purpose::Demo)?);
        result.with_context(|| format!("run {} untraced", strategy.name()))
    }

    /// Each program's run time and runs so far (`kernel::stats`).
    pub fn runs_by_program(&self) -> Vec<(String, crate::kernel::stats::ProgRun)> {
        self.tracer
            .as_ref()
            .map(|t| t.runs_by_program())
            .unwrap_or_default()
    }

    /// What the kernel's timing adds to each run it times, in ns, once a
    /// run was armed (`kernel::stats::clock_cost`).
    pub fn clock_ns(&self) -> Option<f64> {
        self.tracer.as_ref().and_then(|t| t.clock_ns())
    }

    /// Whether the kernel times zc's programs.
    pub fn measures_cost(&self) -> bool {
        self.tracer.as_ref().is_some_and(|t| t.measures_cost())
    }

    /// Sends in `chunk`-byte calls from now on (a sweep changes it between runs).
    pub fn set_chunk(&mut self, chunk: u64) {
        self.chunk = chunk;
    }

    pub fn probes(&self) -> &[crate::kernel::probes::ProbeStatus] {
        &self.status
    }

    /// Why `strategy` cannot run here, if it cannot: the kernel refuses a
    /// mechanism it needs, or the probes that prove that mechanism's work
    /// did not attach (its figures would be wrong). One line.
    pub fn refusal(&self, strategy: Strategy) -> Option<String> {
        strategy.refusal().or_else(|| {
            strategy.spec().requires.iter().find_map(|m| {
                m.probes()
                    .iter()
                    .find(|program| {
                        !self
                            .status
                            .iter()
                            .any(|p| p.spec.program == **program && p.state == ProbeState::Attached)
                    })
                    .map(|program| {
                        format!(
                            "{} needs the {program} probe to show {}'s work, and it did not attach (see `zc doctor`)",
                            strategy.name(),
                            m.name()
                        )
                    })
            })
        })
    }

    /// The metadata a trace of this session's runs carries.
    pub fn trace_meta(&self) -> zc_trace::Meta {
        crate::recording::meta(
            &self.context,
            self.probes(),
            self.size(),
            self.chunk,
            self.cold,
        )
    }

    /// Size of the file being sent.
    pub fn size(&self) -> u64 {
        self.file.size
    }

    pub fn chunk(&self) -> u64 {
        self.chunk
    }

    pub fn cold(&self) -> bool {
        self.cold
    }
}
