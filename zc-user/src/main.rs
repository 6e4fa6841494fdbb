//! The `zc` binary: parse the command line, run the command, turn any error
//! into one line and an exit code (see `exit.rs`).

use std::{io::Write as _, process::ExitCode};

use anyhow::Context as _;
use clap::Parser as _;

use zc::{
    cli::{Cli, Command, DemoArgs, StrategyArg},
    demo::{file::DemoFile, net::DemoNet, run},
    doctor,
    exit::{self, Fatal},
    kernel::{layout, privilege, tracefs, tracer::Tracer},
    model::Strategy,
    report,
};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // --help and --version are not errors: clap prints them in full.
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            return ExitCode::from(exit::OK);
        }
        // A usage error is one line; the usage itself is one `--help` away.
        Err(e) => {
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("invalid command line");
            let first = first.strip_prefix("error: ").unwrap_or(first);
            eprintln!("zc: {first} (see `zc --help`)");
            return ExitCode::from(exit::USAGE);
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) if is_broken_pipe(&e) => ExitCode::from(exit::OK),
        Err(e) => exit::report(&e),
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Doctor(args) => {
            let f = doctor::examine(!args.no_load);
            print!("{}", f.text);
            Ok(if f.can_trace || args.no_load {
                exit::OK
            } else {
                exit::CANNOT_TRACE
            })
        }
        Command::Demo(args) => demo(args),
    }
}

fn strategies(arg: StrategyArg) -> Vec<Strategy> {
    match arg {
        StrategyArg::ReadWrite => vec![Strategy::ReadWrite],
        StrategyArg::MmapWrite => vec![Strategy::MmapWrite],
        StrategyArg::Sendfile => vec![Strategy::Sendfile],
        StrategyArg::SendfileGather => vec![Strategy::SendfileGather],
        StrategyArg::All => Strategy::ALL.to_vec(),
    }
}

/// Largest file zc generates: it is written to disk and mapped whole.
const MAX_SIZE: u64 = 4 << 30;

fn demo(args: DemoArgs) -> anyhow::Result<u8> {
    // Input first: a typo should not wait for eBPF to load.
    if args.chunk == 0 {
        return Err(Fatal::Usage("--chunk must be at least 1 byte".into()).into());
    }
    if args.file.is_none() && (args.size == 0 || args.size > MAX_SIZE) {
        return Err(Fatal::Usage(format!(
            "--size must be between 1 byte and {}",
            zc::units::fmt_bytes(MAX_SIZE)
        ))
        .into());
    }
    if args.chunk > 64 << 20 {
        return Err(Fatal::Usage("--chunk must be at most 64 MiB".into()).into());
    }
    let user_file = match &args.file {
        Some(p) => Some(DemoFile::open_user(p)?),
        None => None,
    };

    // Then the machine: can we trace at all?
    let missing = privilege::missing();
    if !missing.is_empty() {
        return Err(Fatal::CannotTrace(privilege::refusal(&missing)).into());
    }
    // Before any thread exists: tracefs may need a private mount namespace.
    let tracefs_root = tracefs::ensure().map_err(|e| Fatal::CannotTrace(format!("{e:#}")))?;
    let layout = layout::from_running_kernel().map_err(|e| Fatal::CannotTrace(e.to_string()))?;
    let mut tracer =
        Tracer::load(&layout, &tracefs_root).map_err(|e| Fatal::CannotTrace(format!("{e:#}")))?;
    let blocked: Vec<String> = tracer
        .status()
        .iter()
        .filter(|p| !p.ok_for_live())
        .map(|p| {
            format!(
                "{}/{} {}",
                p.spec.attach.category(),
                p.spec.attach.name(),
                p.state
            )
        })
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
        None => DemoFile::generate(args.size, &zc::demo::file::work_dir())?,
    };
    let net =
        DemoNet::create().context("build zc's private network (two namespaces and a veth pair)")?;
    let ctx = report::Context::new(
        match &file.origin {
            zc::demo::file::Origin::Generated(d) => {
                format!("generated, unnamed, in {}", d.display())
            }
            zc::demo::file::Origin::User(p) => p.display().to_string(),
        },
        tracer.status(),
    );
    let json = args.json;
    let list = strategies(args.strategy);
    let many = list.len() > 1;
    let mut outcomes = Vec::new();
    let mut out = std::io::stdout().lock();
    for (i, strategy) in list.into_iter().enumerate() {
        if !json && many {
            eprintln!("zc: running {} ({}/4)…", strategy.name(), i + 1);
        }
        let facts = run::facts(strategy, &file, args.chunk, args.cold);
        let outcome = run::run_one(&mut tracer, &net, &file, facts)
            .with_context(|| format!("run {}", strategy.name()))?;
        if json {
            serde_json::to_writer(&mut out, &report::to_json(&outcome, &ctx))?;
            writeln!(out)?;
        } else if !many {
            write!(out, "{}", report::text(&outcome, &ctx))?;
        }
        outcomes.push(outcome);
    }
    if !json && many {
        write!(out, "{}", report::table(&outcomes, &ctx))?;
    }
    out.flush()?;
    if let Some(bad) = outcomes.iter().find(|o| !o.received_ok) {
        return Err(Fatal::TransferFailed(format!(
            "{}: the receiver got {} of {} bytes or a wrong checksum",
            bad.facts.strategy.name(),
            bad.received_bytes,
            bad.facts.size
        ))
        .into());
    }
    Ok(exit::OK)
}
