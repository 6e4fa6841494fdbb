//! The command line: what a user can ask zc to do, with help that teaches.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

use crate::units::parse_size;

const ABOUT: &str = "Trace, live from the kernel, where a file-to-socket transfer copies data \
and switches between user and kernel mode.";

const LONG_ABOUT: &str = "\
zc sends a file over TCP four ways (the four figures of the article \
\"Zero Copy I: User-Mode Perspective\") and traces each run with eBPF on kernel \
tracepoints: syscalls, page faults, the page cache, block I/O, the socket send \
path and the skbs handed to the network device. It runs the transfer itself, \
between two private network namespaces joined by a veth pair, and reports what \
really happened to the bytes beside the article's model.

Exit codes: 0 ok; 1 runtime error; 2 usage error (bad flag or input file);
3 cannot trace live here (needs root, BTF, tracefs, tracepoints); 4 the
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
    /// Check whether this machine can trace live: root, BTF, tracefs, each probe.
    Doctor(DoctorArgs),
    /// Play a recorded trace in the live view (or print its report): no root needed.
    Replay(ReplayArgs),
    /// Turn a trace into Perfetto JSON, Markdown, CSV, Mermaid, SVG, asciicast or HTML.
    Export(ExportArgs),
}

/// One of the article's ways to send a file to a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StrategyArg {
    /// read(file, buf) then write(sock, buf): two CPU copies per chunk.
    ReadWrite,
    /// mmap the file, write(sock, mapping): one CPU copy, plus page faults.
    MmapWrite,
    /// sendfile with scatter-gather off on the sending veth: the kernel copies
    /// page-cache data into linear segments at transmit (figure 3).
    Sendfile,
    /// sendfile with scatter-gather on: the skb only references page-cache
    /// pages, no CPU copy (figure 4).
    SendfileGather,
    /// The four strategies in turn, one table.
    All,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Strategy to run.
    #[arg(long, short, value_enum, default_value = "read-write")]
    pub strategy: StrategyArg,

    /// Size of the demo file zc creates (bytes, or with a unit: 4097, 64KiB, 8MiB).
    #[arg(long, default_value = "8MiB", value_parser = parse_size)]
    pub size: u64,

    /// Bytes per read/write/sendfile call (bytes, or with a unit).
    #[arg(long, default_value = "64KiB", value_parser = parse_size)]
    pub chunk: u64,

    /// Send this file (opened read-only) instead of a generated one; --size is ignored.
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,

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
}

/// A trace to read: a file, or the recording compiled into zc.
#[derive(Debug, Args)]
pub struct TraceSource {
    /// A trace written by `zc demo --record`.
    #[arg(
        value_name = "FILE",
        required_unless_present = "bundled",
        conflicts_with = "bundled"
    )]
    pub file: Option<PathBuf>,

    /// The recording shipped with zc (made by zc on Linux 6.18).
    #[arg(long)]
    pub bundled: bool,
}

/// What to replay.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    #[command(flatten)]
    pub source: TraceSource,

    /// Strategy to start with (default: all of the trace's, in turn).
    #[arg(long, short, value_enum)]
    pub strategy: Option<StrategyArg>,

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

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// Chrome trace-event JSON for Perfetto UI and chrome://tracing.
    Perfetto,
    /// The measured table beside the article's, for a handout.
    Markdown,
    /// The same table as CSV.
    Csv,
    /// A Mermaid sequence diagram of one representative call (renders on GitHub).
    Mermaid,
    /// The diagram of one strategy as an SVG still, in the live view's layout.
    Svg,
    /// An asciinema recording (asciicast v2) of the live view replaying the trace.
    Cast,
    /// One self-contained web page that animates the trace (English and 中文).
    Html,
}

/// What to export, and where.
#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub source: TraceSource,

    /// Output format.
    #[arg(long, short, value_enum)]
    pub format: ExportFormat,

    /// Output file (default: standard output).
    #[arg(long, short, value_name = "OUT")]
    pub output: Option<PathBuf>,

    /// The strategy for single-strategy formats (mermaid, svg); default: the first in the trace.
    #[arg(long, short, value_enum)]
    pub strategy: Option<StrategyArg>,

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

fn parse_speed(s: &str) -> Result<f32, String> {
    let v: f32 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if !(0.1..=64.0).contains(&v) {
        return Err("speed must be between 0.1 and 64".into());
    }
    Ok(v)
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Only print the table; skip loading the probes (no root needed).
    #[arg(long)]
    pub no_load: bool,
}
