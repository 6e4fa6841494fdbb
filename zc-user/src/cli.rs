//! The command line: what a user can ask zc to do, with help that teaches.

use clap::{
    Args, Parser, Subcommand, ValueEnum,
    builder::{PossibleValue, PossibleValuesParser, TypedValueParser},
};
use std::path::PathBuf;

use crate::{export::Format, strategy::Strategy, units::parse_size};

const ABOUT: &str = "Trace, live from the kernel, where a file-to-socket transfer copies data \
and switches between user and kernel mode.";

const LONG_ABOUT: &str = "\
zc sends a file over TCP in several ways (first the four figures of the \
article \"Zero Copy I: User-Mode Perspective\") and traces each run with eBPF on kernel \
tracepoints: syscalls, page faults, the page cache, block I/O, the socket send \
path and the skbs handed to the network device. It runs the transfer itself, \
between two private network namespaces joined by a veth pair, and reports what \
really happened to the bytes beside the article's model.

Exit codes: 0 ok; 1 runtime error; 2 usage error (bad flag or input file);
3 cannot trace live here (needs root, BTF, tracepoints); 4 the
receiver did not get the file intact.";

#[derive(Debug, Parser)]
#[command(name = "zc", version, about = ABOUT, long_about = LONG_ABOUT)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a strategy, trace it, and report what the kernel did with the bytes.
    Demo(DemoArgs),
    /// Check whether this machine can trace live: root, BTF, each probe.
    Doctor(DoctorArgs),
    /// Play a recorded trace in the live view (or print its report): no root needed.
    Replay(ReplayArgs),
    /// Turn a trace into Perfetto JSON, Markdown, CSV, Mermaid, SVG, asciicast or HTML.
    Export(ExportArgs),
    /// Run strategies at several chunk sizes to find where zero copy pays off.
    Sweep(SweepArgs),
    /// Follow any program (a command, or running pids, and all they fork):
    /// its syscalls, copies and sends, summed over the tree.
    Trace(TraceArgs),
    /// Print a completion script for a shell, e.g.
    /// `zc completions bash > /etc/bash_completion.d/zc`.
    Completions(CompletionsArgs),
    /// Write zc's man pages (zc.1 and one per subcommand) into a directory,
    /// e.g. `zc man --out-dir /usr/local/share/man/man1`.
    Man(ManArgs),
}

/// `--strategy`: one strategy of the table, or all of them in turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrategyChoice {
    One(Strategy),
    All,
}

impl StrategyChoice {
    /// The one strategy chosen, or None for `all`.
    pub fn one(self) -> Option<Strategy> {
        match self {
            StrategyChoice::One(s) => Some(s),
            StrategyChoice::All => None,
        }
    }

    /// The strategies chosen, in table order.
    pub fn strategies(self) -> Vec<Strategy> {
        match self {
            StrategyChoice::One(s) => vec![s],
            StrategyChoice::All => Strategy::all().collect(),
        }
    }
}

/// The strategy names of the table (each with its help line), and `all`.
fn strategy_parser() -> impl TypedValueParser<Value = StrategyChoice> {
    PossibleValuesParser::new(
        Strategy::all()
            .map(|s| PossibleValue::new(s.name()).help(s.spec().help))
            .chain([PossibleValue::new("all").help("every strategy in turn, one table")]),
    )
    .map(|name| Strategy::named(&name).map_or(StrategyChoice::All, StrategyChoice::One))
}

/// `on` or `off`.
fn on_off_parser() -> impl TypedValueParser<Value = bool> {
    PossibleValuesParser::new(["on", "off"]).map(|v| v == "on")
}

/// The bundled recordings' names, each with where it was made.
fn bundled_parser() -> PossibleValuesParser {
    PossibleValuesParser::new(
        crate::bundled::ALL
            .iter()
            .map(|b| PossibleValue::new(b.name).help(b.made)),
    )
}

/// The export formats, each with its help line.
fn format_parser() -> impl TypedValueParser<Value = Format> {
    PossibleValuesParser::new(
        Format::ALL
            .iter()
            .map(|f| PossibleValue::new(f.name()).help(f.help())),
    )
    .map(|name| Format::named(&name).unwrap_or(Format::ALL[0]))
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Strategy to run (`all`: each in turn, one table).
    #[arg(long, short, value_parser = strategy_parser(), default_value = "read-write")]
    pub strategy: StrategyChoice,

    /// Size of the demo file zc creates (bytes, or with a unit: 4097, 64KiB, 8MiB).
    /// From 64 MiB up (a file of --file too), the kernel folds the receiver's
    /// copies (one event per 4,096) and the skbs at the device that name no
    /// page (one event per stretch of the stream); the counts stay exact.
    #[arg(long, default_value = "8MiB", value_parser = parse_size)]
    pub size: u64,

    /// Bytes per read/write/sendfile call (bytes, or with a unit).
    #[arg(long, default_value = "64KiB", value_parser = parse_size)]
    pub chunk: u64,

    /// Send this file (opened read-only) instead of a generated one; --size is ignored.
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,

    /// Scatter-gather on the sending device (the veth, or the NIC of --nic), for every strategy: `off` makes
    /// the device unable to gather pages, so the kernel copies paged skbs
    /// into linear segments at transmit (`skb_segment`). Default: each
    /// strategy's own setting (off only for `sendfile`, to stage figure 3).
    #[arg(long, value_name = "on|off", value_parser = on_off_parser())]
    pub sg: Option<bool>,
    /// Put a bottleneck on the sending device (veth or NIC): a token-bucket queue (tbf) that
    /// passes RATE bytes per second (with a unit: 10MiB = 10 MiB/s), with a
    /// 16 KiB bucket (bigger skbs are cut into pieces) and a 32 KiB queue.
    /// When TCP runs ahead of it, the queue drops and TCP sends again: the
    /// ledger itemizes dropped and retransmitted bytes, and a retransmission
    /// of spliced pages references the same pages again.
    #[arg(long, value_name = "RATE", value_parser = parse_rate)]
    pub rate: Option<u64>,
    /// Bind a packet tap to one end of the veth for every run, the socket
    /// tcpdump opens (AF_PACKET, every protocol, bound to the device). The
    /// kernel hands a tap every packet and, first, copies a zero-copy
    /// skb's pinned pages for it: on `receiver`, the copy local delivery
    /// would make comes earlier; on `sender`, the tap's clone is copied and
    /// the sends' completions say COPIED. Try it with msg-zerocopy.
    #[arg(long, value_enum, value_name = "END")]
    pub tap: Option<crate::demo::net::TapEnd>,
    /// Send over two real NICs instead of zc's veth pair, so the driver's
    /// DMA shows: TX,RX names them (cabled to each other), `auto` takes the
    /// first two free ones. zc borrows them into its own namespaces for the
    /// session; the kernel hands them back (down, without addresses) when
    /// zc ends, however it ends. Refused for an interface the host uses
    /// (addresses, default route) or a virtual one (it would be deleted).
    /// In the kernel lab: `cargo xtask lab --nic e1000e -- zc demo --nic auto`.
    #[arg(long, value_name = "TX,RX|auto")]
    pub nic: Option<crate::demo::nics::NicChoice>,
    /// Evict the file from the page cache first, so the disk → page cache
    /// transfer (the article's first DMA copy) happens and shows.
    #[arg(long)]
    pub cold: bool,

    /// Print the measured report instead of drawing the live view (the
    /// default when stdout is not a terminal).
    #[arg(long)]
    pub no_tui: bool,

    /// Playback speed of the live view: 1 is about one step a second;
    /// 0.25 is slower, 8 faster. Counters are exact whatever the speed.
    #[arg(long, default_value = "1", value_parser = parse_speed)]
    pub speed: f32,

    /// Language of the live view's narration.
    #[arg(long, value_enum, default_value = "en")]
    pub lang: LangArg,

    /// Bold, no dim grey: for projectors (also the `h` key).
    #[arg(long)]
    pub high_contrast: bool,

    /// Print one JSON object per run (implies --no-tui); the fields are a
    /// documented contract, see docs/json.md.
    #[arg(long)]
    pub json: bool,

    /// Write the measured runs to this trace file (also the `r` key in the
    /// live view); replay it anywhere with `zc replay FILE`.
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,

    /// Step the kernel by hand: the sender stops before each syscall
    /// (`call`, the default) or each loop iteration (`iteration`), and
    /// Enter lets it make exactly that much; the events stream in as the
    /// kernel makes them ("LIVE STEP"). g runs the rest, s stops stepping.
    /// The waiting is not traced: the counts equal an unstepped run's.
    /// Needs the live view and one strategy.
    #[arg(
        long,
        value_name = "UNIT",
        value_enum,
        num_args = 0..=1,
        default_missing_value = "call"
    )]
    pub step: Option<crate::strategy::gate::StepUnit>,
}

/// A trace to read: a file, or the recording compiled into zc.
#[derive(Debug, Args)]
pub struct TraceSource {
    /// A trace written by `zc demo --record` or `zc trace --record`.
    #[arg(
        value_name = "FILE",
        required_unless_present = "bundled",
        conflicts_with = "bundled"
    )]
    pub file: Option<PathBuf>,

    /// A recording shipped with zc: `veth` (the default: Linux 6.18, zc's
    /// veth pair) or `lab-dma` (Linux 7.3 in the kernel lab, two e1000e
    /// NICs and an NVMe disk: both DMA arrows measured).
    #[arg(
        long,
        value_name = "NAME",
        num_args = 0..=1,
        default_missing_value = "veth",
        value_parser = bundled_parser()
    )]
    pub bundled: Option<String>,
}

/// What to replay.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    #[command(flatten)]
    pub source: TraceSource,

    /// Strategy to start with (default: all of the trace's, in turn).
    #[arg(long, short, value_parser = strategy_parser())]
    pub strategy: Option<StrategyChoice>,

    /// Print the report instead of drawing the view.
    #[arg(long)]
    pub no_tui: bool,

    /// Print the JSON report (as `zc demo --json` did).
    #[arg(long)]
    pub json: bool,

    /// Playback speed (see `zc demo --help`).
    #[arg(long, default_value = "1", value_parser = parse_speed)]
    pub speed: f32,

    /// Language of the narration.
    #[arg(long, value_enum, default_value = "en")]
    pub lang: LangArg,

    /// Bold, no dim grey: for projectors.
    #[arg(long)]
    pub high_contrast: bool,
}

/// What to export, and where.
#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub source: TraceSource,

    /// Output format.
    #[arg(long, short, value_parser = format_parser())]
    pub format: Format,

    /// Output file (default: standard output).
    #[arg(long, short, value_name = "OUT")]
    pub output: Option<PathBuf>,

    /// The strategy for single-strategy formats (mermaid, svg); default: the first in the trace.
    #[arg(long, short, value_parser = strategy_parser())]
    pub strategy: Option<StrategyChoice>,

    /// Language of the narration in cast and html (html carries both; this picks the first shown).
    #[arg(long, value_enum, default_value = "en")]
    pub lang: LangArg,
}

/// Narration language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LangArg {
    /// English.
    En,
    /// 中文.
    Zh,
}

fn parse_rate(s: &str) -> Result<u64, String> {
    let v = parse_size(s)?;
    if v < 64 << 10 {
        return Err("rate must be at least 64KiB (bytes per second)".into());
    }
    Ok(v)
}

fn parse_speed(s: &str) -> Result<f32, String> {
    let v: f32 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if !(0.1..=64.0).contains(&v) {
        return Err("speed must be between 0.1 and 64".into());
    }
    Ok(v)
}

/// `zc trace`: the same truth for a program zc did not write.
#[derive(Debug, Args)]
#[command(after_help = "\
zc starts CMD (as the sudo user, under sudo) held at a gate until the kernel follows it, so its \
first call is traced; every process it forks is followed too. With --pid, zc follows running \
processes and what they fork from now on. Nothing is injected into them: zc only reads \
tracepoints, and CMD's exit code becomes zc's.

What is counted, per process, per file and per socket, in the kernel: syscalls and mode \
switches; CPU copies by site (page cache -> user by read(), user -> socket by write/send, \
frags -> linear at segmentation, socket -> user on receive); bytes sent by reference \
(sendfile, splice) and proved by the device's frags being file pages; pinned zero-copy sends; \
page faults and mappings; disk reads; retransmits. Nothing from other processes is counted.

The syscall tracepoints fire on every syscall of every process on the machine, followed or \
not, for as long as zc is attached: on a busy server that is most of what tracing costs. \
--no-syscalls leaves them out (and the interrupt entries, which only tell a syscall's own \
switch from an unasked one). What is then not measured, and said so: syscalls, mode switches, \
and the bytes read() copies into user memory (a read's count is its return value). Copies \
into sockets, segmentation, receives, sends by reference, faults, disk reads and DMA stay.

Examples:
  sudo zc trace -- python3 -m http.server 8000
  sudo zc trace --pid $(pgrep -o nginx) --duration 10 --no-tui
  sudo zc trace --no-syscalls --pid $(pgrep -o nginx) --duration 10 --no-tui
  sudo zc trace --json -- ./my-server > trace.json

Exit codes: the command's own when it exited; 2 bad flags; 3 cannot trace here; 5 no such \
process; 6 a kernel thread; 127 command not found.")]
pub struct TraceArgs {
    /// Follow this running process and what it forks (repeatable).
    #[arg(long = "pid", value_name = "PID")]
    pub pids: Vec<u32>,

    /// Stop after this many seconds (also stops on the command's exit or Ctrl-C).
    #[arg(long, value_name = "SECONDS")]
    pub duration: Option<f64>,

    /// Print the report instead of the live view.
    #[arg(long)]
    pub no_tui: bool,

    /// Print one JSON object per followed tree at the end, a line each.
    #[arg(long)]
    pub json: bool,

    /// Leave the syscall tracepoints out: lighter on a busy machine; no
    /// syscall, mode-switch or read() copy figures.
    #[arg(long)]
    pub no_syscalls: bool,

    /// Save the trace to FILE, for `zc replay` and `zc export`.
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,

    /// Language of the live view.
    #[arg(long, value_enum, default_value_t = LangArg::En)]
    pub lang: LangArg,

    /// The command to start and follow (after `--`).
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// `zc sweep`: the crossover points, measured.
#[derive(Debug, Args)]
#[command(
    after_help = "Each point is run --runs times; the report gives the median with its \
min-max. Each run is made twice: traced (its calls, copies and ledger) and untraced right beside \
it (its CPU only). The CPU figures are the untraced pass's, the strategy's own cost; the traced \
pass's stand beside them, zc's own cost included. Both are noisy on a shared machine: read the \
spread. In a terminal the result is a chart (m: next figure, q: quit)."
)]
pub struct SweepArgs {
    /// Strategies, comma-separated (names as for `zc demo`), or `all`.
    #[arg(long, short, default_value = "all", value_delimiter = ',', value_parser = strategy_parser())]
    pub strategy: Vec<StrategyChoice>,

    /// Chunk sizes, comma-separated (bytes, or with a unit).
    #[arg(long, value_delimiter = ',', default_value = "4KiB,16KiB,64KiB,256KiB,1MiB", value_parser = parse_size)]
    pub chunk: Vec<u64>,

    /// Size of the file each run sends.
    #[arg(long, default_value = "64MiB", value_parser = parse_size)]
    pub size: u64,

    /// Runs per point (at least 1; 5 or more for a median worth reading).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub runs: u32,

    /// Print the sweep as one JSON object instead of drawing it.
    #[arg(long)]
    pub json: bool,

    /// Print the text report instead of drawing the chart.
    #[arg(long)]
    pub no_tui: bool,

    /// Also write the chart as an SVG (sender CPU per GiB, untraced), for a slide.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,

    /// Language of the text report and the SVG chart.
    #[arg(long, value_enum, default_value = "en")]
    pub lang: LangArg,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Only print the table; skip loading the probes (no root needed).
    #[arg(long)]
    pub no_load: bool,

    /// Also run a short demo (8 MiB, read-write and sendfile-gather) and
    /// list what each eBPF program cost in it, as the kernel timed it.
    #[arg(long, conflicts_with = "no_load")]
    pub cost: bool,
}

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell whose completion script to print.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Where to write the pages (made if missing).
    #[arg(long, default_value = "target/man")]
    pub out_dir: std::path::PathBuf,
}
