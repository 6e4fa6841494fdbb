//! The `zc` binary: parse the command line, run the command, turn any error
//! into one line and an exit code (see `exit.rs`).

use std::{
    io::{IsTerminal as _, Write as _},
    process::ExitCode,
};

use clap::Parser as _;

use zc::{
    cli::{
        Cli, Command, DemoArgs, ExportArgs, LangArg, ReplayArgs, StrategyChoice, SweepArgs,
        TraceArgs,
    },
    doctor,
    exit::{self, Fatal},
    export,
    lang::Lang,
    model::{Strategy, context::Context, outcome::RunOutcome},
    report,
    session::{self, LiveSession},
    tracefile, tui,
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
            // A value outside a list names the list, on the same line.
            let values = text
                .lines()
                .map(str::trim)
                .find(|l| l.starts_with("[possible values:"))
                .map(|l| format!(" {l}"))
                .unwrap_or_default();
            eprintln!("zc: {first}{values} (see `zc --help`)");
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
            if !f.can_trace && !args.no_load {
                return Ok(exit::CANNOT_TRACE);
            }
            if args.cost {
                print!("{}", doctor_cost()?);
            }
            Ok(exit::OK)
        }
        Command::Demo(args) => demo(args),
        Command::Replay(args) => replay(args),
        Command::Export(args) => export_trace(args),
        Command::Sweep(args) => sweep(args),
        Command::Trace(args) => trace(args),
        Command::Completions(args) => {
            use std::io::Write as _;
            let mut cmd = <Cli as clap::CommandFactory>::command();
            // Into a buffer first: the generator panics on a closed pipe.
            let mut script = Vec::new();
            clap_complete::generate(args.shell, &mut cmd, "zc", &mut script);
            std::io::stdout().write_all(&script)?;
            Ok(exit::OK)
        }
        Command::Man(args) => man(&args.out_dir),
    }
}

/// Writes zc.1 and a page per subcommand (zc-demo.1, ...) with clap_mangen.
fn man(dir: &std::path::Path) -> anyhow::Result<u8> {
    use anyhow::Context as _;
    std::fs::create_dir_all(dir).with_context(|| format!("make {}", dir.display()))?;
    let cmd = <Cli as clap::CommandFactory>::command();
    let mut pages = vec![("zc".to_string(), cmd.clone())];
    for sub in cmd.get_subcommands() {
        let name = format!("zc-{}", sub.get_name());
        let bin = format!("zc {}", sub.get_name());
        pages.push((name.clone(), sub.clone().display_name(name).bin_name(bin)));
    }
    for (name, page) in pages {
        let path = dir.join(format!("{name}.1"));
        let mut out = Vec::new();
        clap_mangen::Man::new(page)
            .render(&mut out)
            .with_context(|| format!("render {name}.1"))?;
        std::fs::write(&path, out).with_context(|| format!("write {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(exit::OK)
}

/// `zc doctor --cost`: each program's share of zc's eBPF time in a short
/// demo, as the kernel timed it.
fn doctor_cost() -> anyhow::Result<String> {
    use std::fmt::Write as _;
    let opts = session::Options {
        size: 8 << 20,
        chunk: 64 << 10,
        file: None,
        cold: false,
        sg: None,
        rate: None,
        tap: None,
        nic: None,
    };
    let mut live = LiveSession::start(&opts, None)?;
    if !live.measures_cost() {
        return Ok("\ncost: not measured (the kernel refused BPF_ENABLE_STATS)\n".into());
    }
    let before = live.runs_by_program();
    let mut cpu = 0;
    let strategies = ["read-write", "sendfile-gather"];
    for name in strategies {
        let s = Strategy::named(name).ok_or_else(|| anyhow::anyhow!("no strategy {name}"))?;
        cpu += live.run(s)?.transfer_cpu_ns();
    }
    let after = live.runs_by_program();
    let mut rows: Vec<(String, u64, u64)> = after
        .iter()
        .map(|(n, a)| {
            let b = before
                .iter()
                .find(|(m, _)| m == n)
                .map(|(_, r)| *r)
                .unwrap_or_default();
            (
                n.clone(),
                a.run_time_ns.saturating_sub(b.run_time_ns),
                a.run_cnt.saturating_sub(b.run_cnt),
            )
        })
        .filter(|(_, _, runs)| *runs > 0)
        .collect();
    rows.sort_by_key(|(_, ns, _)| std::cmp::Reverse(*ns));
    let total: u64 = rows.iter().map(|(_, ns, _)| ns).sum();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "\ncost of each probe in an 8 MiB demo ({}), as the kernel timed it:",
        strategies.join(" and ")
    );
    let _ = writeln!(
        s,
        "  {:<24} {:>10} {:>12} {:>9} {:>8}",
        "program", "runs", "eBPF time", "ns/run", "share"
    );
    for (n, ns, runs) in &rows {
        let _ = writeln!(
            s,
            "  {n:<24} {runs:>10} {:>12} {:>9.0} {:>7.1}%",
            zc::units::fmt_ns(*ns),
            *ns as f64 / *runs as f64,
            100.0 * *ns as f64 / total.max(1) as f64
        );
    }
    let _ = writeln!(
        s,
        "  all: {} of eBPF while loaded (between the runs too, and in every task the probes \
         fire for), against {:.1} % of the two transfers' own CPU ({})",
        zc::units::fmt_ns(total),
        100.0 * total as f64 / cpu.max(1) as f64,
        zc::units::fmt_ns(cpu)
    );
    if let Some(clock) = live.clock_ns() {
        let runs: u64 = rows.iter().map(|(_, _, runs)| runs).sum();
        let timing = (clock * runs as f64) as u64;
        let _ = writeln!(
            s,
            "  of which the timing itself: {clock:.0} ns of each run (an empty program timed \
             the same way), {} in all; zc's programs' own work: {}",
            zc::units::fmt_ns(timing),
            zc::units::fmt_ns(total.saturating_sub(timing))
        );
    }
    Ok(s)
}

fn export_trace(args: ExportArgs) -> anyhow::Result<u8> {
    export::run(&export::Request {
        trace: args.source.file,
        bundled: args.source.bundled,
        format: args.format,
        output: args.output,
        strategy: args.strategy.and_then(|c| c.one()),
        lang: lang_of(args.lang),
    })
}

fn demo(args: DemoArgs) -> anyhow::Result<u8> {
    let opts = session::Options {
        size: args.size,
        chunk: args.chunk,
        file: args.file.clone(),
        cold: args.cold,
        sg: args.sg,
        rate: args.rate,
        tap: args.tap,
        nic: args.nic.clone(),
    };
    // Input first: a typo should not wait for eBPF to load.
    let user_file = session::check_input(&opts)?;
    let json = args.json;
    let list = runnable(&args.strategy)?;
    let interactive = std::io::stdout().is_terminal() && std::io::stdin().is_terminal();
    let tui_wanted = !args.no_tui && !json && interactive;
    if args.step.is_some() {
        if !tui_wanted {
            return Err(Fatal::Usage(
                "--step needs the live view: a terminal, and neither --no-tui nor --json".into(),
            )
            .into());
        }
        if list.len() != 1 {
            return Err(
                Fatal::Usage("--step steps one strategy: pick it with --strategy".into()).into(),
            );
        }
        if let Some(reason) = session::cannot_trace_reason() {
            return Err(
                Fatal::CannotTrace(format!("--step runs the kernel live: {reason}")).into(),
            );
        }
    }
    if let Some(reason) = session::cannot_trace_reason()
        && tui_wanted
        && offer_bundled(&reason)?
    {
        let loaded = zc::bundled::load(None)?;
        let start = start_of(&list, args.speed, args.lang, args.high_contrast, None, None);
        tui::run(tui::Feed::Replay(Box::new(loaded)), start)?;
        return Ok(exit::OK);
    }
    let mut live = LiveSession::start(&opts, user_file).map_err(|e| {
        if exit::code_for(&e) == exit::CANNOT_TRACE {
            // Still one line: why, then what to do instead.
            let why = e
                .chain()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(": ");
            Fatal::CannotTrace(format!(
                "{why} (`zc replay --bundled` plays a recording made by zc on Linux 6.18)"
            ))
            .into()
        } else {
            e
        }
    })?;
    if tui_wanted {
        let start = start_of(
            &list,
            args.speed,
            args.lang,
            args.high_contrast,
            args.record.clone(),
            args.step,
        );
        tui::run(tui::Feed::Live(Box::new(live)), start)?;
        return Ok(exit::OK);
    }
    let many = list.len() > 1;
    let total = list.len();
    let mut outcomes = Vec::new();
    let mut out = std::io::stdout().lock();
    for (i, strategy) in list.into_iter().enumerate() {
        if !json && many {
            eprintln!("zc: running {} ({}/{})…", strategy.name(), i + 1, total);
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
    if let Some(path) = &args.record {
        let trace = report::trace(live.trace_meta(), &outcomes, &live.context)?;
        tracefile::write_atomic(path, &trace.to_bytes()?)?;
        eprintln!("zc: recorded {} runs to {}", outcomes.len(), path.display());
    }
    transfer_verdict(&outcomes)
}

/// The strategies asked for that this kernel can run. One strategy that
/// cannot is refused (exit 3); from `all`, those that cannot are skipped,
/// each with its reason.
fn runnable(choice: &StrategyChoice) -> anyhow::Result<Vec<Strategy>> {
    let mut list = Vec::new();
    for s in choice.strategies() {
        match s.refusal() {
            None => list.push(s),
            Some(why) if choice.one().is_some() => return Err(Fatal::CannotTrace(why).into()),
            Some(why) => eprintln!("zc: skipping {why}"),
        }
    }
    Ok(list)
}

/// `zc sweep`: every chosen strategy at every chunk size, `--runs` times.
fn sweep(args: SweepArgs) -> anyhow::Result<u8> {
    use zc::{
        export::sweep::NOTE,
        model::sweep::{Metric, Point, Sample, Sweep},
    };
    let mut wanted: Vec<Strategy> = args.strategy.iter().flat_map(|c| c.strategies()).collect();
    wanted.sort();
    wanted.dedup();
    let mut chunks = args.chunk.clone();
    chunks.sort_unstable();
    chunks.dedup();
    for &chunk in &chunks {
        session::check_input(&session::Options {
            size: args.size,
            chunk,
            file: None,
            cold: false,
            sg: None,
            rate: None,
            tap: None,
            nic: None,
        })?;
    }
    let one = if wanted.len() == 1 {
        StrategyChoice::One(wanted[0])
    } else {
        StrategyChoice::All
    };
    let strategies: Vec<Strategy> = match one {
        StrategyChoice::One(_) => runnable(&one)?,
        StrategyChoice::All => wanted
            .into_iter()
            .filter(|s| match s.refusal() {
                None => true,
                Some(why) => {
                    eprintln!("zc: skipping {why}");
                    false
                }
            })
            .collect(),
    };
    let opts = session::Options {
        size: args.size,
        chunk: chunks[0],
        file: None,
        cold: false,
        sg: None,
        rate: None,
        tap: None,
        nic: None,
    };
    let mut live = LiveSession::start(&opts, None)?;
    let runs = args.runs as usize;
    let total = chunks.len() * strategies.len() * runs;
    let mut done = 0;
    let mut points = Vec::new();
    for &chunk in &chunks {
        live.set_chunk(chunk);
        for &s in &strategies {
            let mut samples = Vec::with_capacity(runs);
            for r in 0..runs {
                done += 1;
                eprint!(
                    "\rzc: sweep {done}/{total}: {} at {} a call, run {}/{runs}, traced and untraced        ",
                    s.name(),
                    zc::units::fmt_bytes(chunk),
                    r + 1
                );
                // The untraced pass goes first every other run, so neither
                // always finds the machine as the other left it. Only the
                // figures stay: a sweep keeps no events.
                let (traced, untraced) = if r % 2 == 0 {
                    let t = live.run(s)?;
                    (t, live.run_untraced(s)?)
                } else {
                    let u = live.run_untraced(s)?;
                    (live.run(s)?, u)
                };
                samples.push(Sample::of(&traced, &untraced));
            }
            points.push(Point::of(s, chunk, &samples));
        }
    }
    eprintln!();
    let sweep = Sweep {
        kernel: live.context.kernel.clone(),
        size_bytes: args.size,
        runs_per_point: runs,
        chunks,
        strategies,
        points,
        note: NOTE,
    };
    drop(live);
    if let Some(path) = &args.svg {
        tracefile::write_atomic(
            path,
            zc::export::sweep::svg(&sweep, Metric::SenderCpu, lang_of(args.lang)).as_bytes(),
        )?;
        eprintln!("zc: wrote the chart to {}", path.display());
    }
    let interactive = std::io::stdout().is_terminal() && std::io::stdin().is_terminal();
    if args.json {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer(&mut out, &sweep)?;
        writeln!(out)?;
    } else if interactive && !args.no_tui {
        tui::sweep_view::show(&sweep)?;
    } else {
        print!("{}", zc::export::sweep::text(&sweep, lang_of(args.lang)));
    }
    Ok(if sweep.points.iter().all(|p| p.all_intact) {
        exit::OK
    } else {
        exit::TRANSFER_FAILED
    })
}

/// `zc trace`: follow a command or pids, then print what the tree did.
fn trace(args: TraceArgs) -> anyhow::Result<u8> {
    if args.command.is_empty() == args.pids.is_empty() {
        return Err(
            Fatal::Usage("give a command after `--`, or --pid PID (not both)".into()).into(),
        );
    }
    let duration = match args.duration {
        Some(d) if !(d > 0.0 && d.is_finite()) => {
            return Err(Fatal::Usage(format!(
                "--duration must be a positive number of seconds, not {d}"
            ))
            .into());
        }
        d => d.map(std::time::Duration::from_secs_f64),
    };
    if let Some(path) = &args.record {
        tracefile::check_writable(path)?;
    }
    let interactive = std::io::stdout().is_terminal() && std::io::stdin().is_terminal();
    let tui_wanted = !args.no_tui && !args.json && interactive;
    let mut live = zc::trace::start(&zc::trace::Request {
        command: args.command,
        pids: args.pids,
        duration,
        syscalls: !args.no_syscalls,
        output: if tui_wanted {
            zc::trace::command::Output::Capture
        } else if args.json {
            zc::trace::command::Output::ToStderr
        } else {
            zc::trace::command::Output::Inherit
        },
    })?;
    if tui_wanted {
        let target = args.record.clone();
        tui::trace::run_live(&mut live, lang_of(args.lang), |l| {
            let path = target
                .clone()
                .unwrap_or_else(zc::trace::default_record_path);
            write_tree_recording(l, &path)?;
            Ok(format!("recorded to {}", path.display()))
        })?;
    } else {
        eprintln!(
            "zc: tracing {} (Ctrl-C ends the trace and prints the report)",
            live.state.title
        );
        zc::trace::run_headless(&mut live)?;
    }
    if let Some(path) = &args.record {
        write_tree_recording(&live, path)?;
        eprintln!("zc: trace recorded to {}", path.display());
    }
    print_trees(&live.state, args.json)?;
    if let Some(pid) = live.running_command() {
        eprintln!("zc: stopped tracing; the command (pid {pid}) is still running");
    }
    // The traced command's exit code is passed through.
    Ok(live.exit_code.map_or(exit::OK, |c| c.clamp(0, 255) as u8))
}

/// Writes a `zc trace` recording (atomically: no half-written file).
fn write_tree_recording(live: &zc::trace::Live, path: &std::path::Path) -> anyhow::Result<()> {
    let tree =
        zc::recording::store_tree(&live.state, live.roots(), live.command(), live.exit_code)?;
    let ctx = Context::here(String::new(), 0, 0, Vec::new(), String::new());
    let mut meta = zc::recording::meta(&ctx, live.probes(), 0, 0, false);
    meta.file = "(zc trace: the followed programs' own files)".into();
    meta.clock = "nanoseconds since the trace started (CLOCK_MONOTONIC)".into();
    let trace = zc_trace::Trace {
        format: zc_trace::FORMAT.into(),
        version: zc_trace::VERSION,
        meta,
        runs: vec![],
        trees: vec![tree],
    };
    tracefile::write_atomic(path, &trace.to_bytes()?)
}

fn lang_of(l: LangArg) -> Lang {
    match l {
        LangArg::En => Lang::En,
        LangArg::Zh => Lang::Zh,
    }
}

fn start_of(
    list: &[Strategy],
    speed: f32,
    lang: LangArg,
    high_contrast: bool,
    record: Option<std::path::PathBuf>,
    step: Option<zc::strategy::gate::StepUnit>,
) -> tui::Start {
    tui::Start {
        first: list.first().copied().unwrap_or(Strategy::first()),
        tour: list.len() > 1,
        speed,
        lang: lang_of(lang),
        high_contrast,
        record,
        step,
    }
}

/// Says why zc cannot trace, and asks whether to play the bundled recording.
fn offer_bundled(reason: &str) -> anyhow::Result<bool> {
    eprintln!("zc: {reason}");
    eprint!(
        "zc: play the recording made by zc on Linux 6.18 instead (labelled RECORDING on screen)? [Y/n] "
    );
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    let yes = matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "" | "y" | "yes"
    );
    if !yes {
        return Err(Fatal::CannotTrace(reason.to_string()).into());
    }
    Ok(true)
}

fn replay(args: ReplayArgs) -> anyhow::Result<u8> {
    let loaded = zc::source::load(args.source.file.as_deref(), args.source.bundled.as_deref())?;
    if loaded.runs.is_empty() && !loaded.trees.is_empty() {
        return replay_trees(&loaded.trees, &args);
    }
    let mut list: Vec<Strategy> = Strategy::all()
        .filter(|s| loaded.outcome(*s).is_some())
        .collect();
    if let Some(s) = args.strategy {
        let want = s.strategies();
        list.retain(|s| want.contains(s));
        if list.is_empty() {
            return Err(Fatal::Usage("that strategy is not in this trace".into()).into());
        }
    }
    let interactive = std::io::stdout().is_terminal() && std::io::stdin().is_terminal();
    if !args.no_tui && !args.json && interactive {
        let start = start_of(&list, args.speed, args.lang, args.high_contrast, None, None);
        tui::run(tui::Feed::Replay(Box::new(loaded)), start)?;
        return Ok(exit::OK);
    }
    let ctx = Context::of_trace(&loaded.meta);
    let outcomes: Vec<RunOutcome> = list
        .iter()
        .filter_map(|s| loaded.outcome(*s).cloned())
        .collect();
    let mut out = std::io::stdout().lock();
    if args.json {
        for o in &outcomes {
            serde_json::to_writer(&mut out, &report::to_json(o, &ctx))?;
            writeln!(out)?;
        }
    } else if outcomes.len() == 1 {
        write!(out, "{}", report::text(&outcomes[0], &ctx))?;
    } else {
        write!(out, "{}", report::table(&outcomes, &ctx))?;
    }
    out.flush()?;
    Ok(exit::OK)
}

/// Replays `zc trace` recordings: the live view at the recorded pace, or
/// the recorded report.
fn replay_trees(trees: &[zc::model::tree::TraceState], args: &ReplayArgs) -> anyhow::Result<u8> {
    let interactive = std::io::stdout().is_terminal() && std::io::stdin().is_terminal();
    if !args.no_tui && !args.json && interactive {
        for t in trees {
            tui::trace::run_replay(t, lang_of(args.lang))?;
        }
        return Ok(exit::OK);
    }
    for t in trees {
        print_trees(t, args.json)?;
    }
    Ok(exit::OK)
}

/// `zc trace`'s reports on stdout: JSON Lines (one object per followed
/// tree, as `zc demo --json` prints one per run), or the text report.
fn print_trees(state: &zc::model::tree::TraceState, json: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        for r in &state.reports {
            serde_json::to_writer(&mut out, &zc::trace_report::json(r)?)?;
            writeln!(out)?;
        }
    } else {
        write!(
            out,
            "{}",
            zc::trace_report::text(&state.reports, state.ended.as_deref())
        )?;
    }
    out.flush()?;
    Ok(())
}

/// Exit code 4 when any receiver did not get the file intact.
fn transfer_verdict(outcomes: &[RunOutcome]) -> anyhow::Result<u8> {
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
