//! `zc export`: a trace turned into material for a class — Perfetto JSON,
//! a Markdown or CSV table, a Mermaid sequence diagram, an SVG still, an
//! asciinema recording and a self-contained web page. Every format reads the
//! same model the live view reads; none measures anything.

pub mod cast;
pub mod frames;
pub mod html;
pub mod mermaid;
pub mod perfetto;
pub mod svg;
pub mod table;

use std::io::Write as _;

use crate::{
    cli::{ExportArgs, ExportFormat, LangArg, StrategyArg},
    exit::{self, Fatal},
    model::Strategy,
    recording::{self, Loaded},
    tracefile,
    tui::text::Lang,
};

/// Produces `format` from a loaded trace.
pub fn produce(
    loaded: &Loaded,
    format: ExportFormat,
    strategy: Strategy,
    lang: Lang,
) -> anyhow::Result<Vec<u8>> {
    Ok(match format {
        ExportFormat::Perfetto => perfetto::export(loaded)?,
        ExportFormat::Markdown => table::markdown(loaded).into_bytes(),
        ExportFormat::Csv => table::csv(loaded).into_bytes(),
        ExportFormat::Mermaid => mermaid::export(loaded, strategy)?.into_bytes(),
        ExportFormat::Svg => svg::export(loaded, strategy, lang).into_bytes(),
        ExportFormat::Cast => cast::export(loaded, lang)?.into_bytes(),
        ExportFormat::Html => html::export(loaded, lang)?.into_bytes(),
    })
}

/// The first strategy of the trace, or the one asked for if the trace has it.
pub fn pick(loaded: &Loaded, asked: Option<StrategyArg>) -> anyhow::Result<Strategy> {
    let want = match asked {
        None | Some(StrategyArg::All) => None,
        Some(StrategyArg::ReadWrite) => Some(Strategy::ReadWrite),
        Some(StrategyArg::MmapWrite) => Some(Strategy::MmapWrite),
        Some(StrategyArg::Sendfile) => Some(Strategy::Sendfile),
        Some(StrategyArg::SendfileGather) => Some(Strategy::SendfileGather),
    };
    match want {
        Some(s) if loaded.outcome(s).is_some() => Ok(s),
        Some(s) => Err(Fatal::Usage(format!("the trace has no {} run", s.name())).into()),
        None => loaded
            .runs
            .first()
            .map(|r| r.facts.strategy)
            .ok_or_else(|| Fatal::Usage("the trace holds no run".into()).into()),
    }
}

/// `zc export`.
pub fn run(args: &ExportArgs) -> anyhow::Result<u8> {
    // Check the output first: a bad path should fail before any work.
    if let Some(out) = &args.output {
        let dir = match out.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => std::path::PathBuf::from("."),
        };
        if !dir.is_dir() {
            return Err(Fatal::Usage(format!(
                "cannot write {}: {} is not a directory",
                out.display(),
                dir.display()
            ))
            .into());
        }
        if out.is_dir() {
            return Err(
                Fatal::Usage(format!("cannot write {}: it is a directory", out.display())).into(),
            );
        }
    }
    let loaded = recording::load_source(args.source.file.as_deref())?;
    let strategy = pick(&loaded, args.strategy)?;
    let lang = match args.lang {
        LangArg::En => Lang::En,
        LangArg::Zh => Lang::Zh,
    };
    let bytes = produce(&loaded, args.format, strategy, lang)?;
    match &args.output {
        Some(out) => tracefile::write_atomic(out, &bytes)?,
        None => {
            let mut o = std::io::stdout().lock();
            o.write_all(&bytes)?;
            o.flush()?;
        }
    }
    Ok(exit::OK)
}
