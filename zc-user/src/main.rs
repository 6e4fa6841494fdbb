//! The `zc` binary: parse the command line, run the command, turn any error
//! into one line and an exit code (see `exit.rs`).

use std::{
    io::{IsTerminal as _, Write as _},
    process::ExitCode,
};

use clap::Parser as _;

use zc::{
    cli::{Cli, Command, DemoArgs, LangArg, StrategyArg},
    demo::run,
    doctor,
    exit::{self, Fatal},
    model::Strategy,
    report,
    session::{self, LiveSession},
    tui,
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

fn demo(args: DemoArgs) -> anyhow::Result<u8> {
    let opts = session::Options {
        size: args.size,
        chunk: args.chunk,
        file: args.file.clone(),
        cold: args.cold,
    };
    // Input first: a typo should not wait for eBPF to load.
    let user_file = session::check_input(&opts)?;
    let mut live = LiveSession::start(&opts, user_file)?;
    let json = args.json;
    let list = strategies(args.strategy);
    let interactive = std::io::stdout().is_terminal() && std::io::stdin().is_terminal();
    if !args.no_tui && !json && interactive {
        let start = tui::Start {
            first: list.first().copied().unwrap_or(Strategy::ReadWrite),
            tour: list.len() > 1,
            speed: args.speed,
            lang: match args.lang {
                LangArg::En => tui::text::Lang::En,
                LangArg::Zh => tui::text::Lang::Zh,
            },
            high_contrast: args.high_contrast,
        };
        tui::run_live(live, start)?;
        return Ok(exit::OK);
    }
    let many = list.len() > 1;
    let mut outcomes = Vec::new();
    let mut out = std::io::stdout().lock();
    for (i, strategy) in list.into_iter().enumerate() {
        if !json && many {
            eprintln!("zc: running {} ({}/4)…", strategy.name(), i + 1);
        }
        let outcome = live.run(strategy)?;
        if json {
            serde_json::to_writer(&mut out, &report::to_json(&outcome, &live.context))?;
            writeln!(out)?;
        } else if !many {
            write!(out, "{}", report::text(&outcome, &live.context))?;
        }
        outcomes.push(outcome);
    }
    if !json && many {
        write!(out, "{}", report::table(&outcomes, &live.context))?;
    }
    out.flush()?;
    transfer_verdict(&outcomes)
}

/// Exit code 4 when any receiver did not get the file intact.
fn transfer_verdict(outcomes: &[run::RunOutcome]) -> anyhow::Result<u8> {
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
