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
pub mod sweep;
pub mod table;
pub mod tree;

use std::io::Write as _;

use crate::{
    exit::{self, Fatal},
    lang::Lang,
    model::Strategy,
    recording::Loaded,
    tracefile,
};

/// The formats zc exports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Perfetto,
    Markdown,
    Csv,
    Mermaid,
    Svg,
    Cast,
    Html,
}

impl Format {
    pub const ALL: [Format; 7] = [
        Format::Perfetto,
        Format::Markdown,
        Format::Csv,
        Format::Mermaid,
        Format::Svg,
        Format::Cast,
        Format::Html,
    ];

    /// The name on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            Format::Perfetto => "perfetto",
            Format::Markdown => "markdown",
            Format::Csv => "csv",
            Format::Mermaid => "mermaid",
            Format::Svg => "svg",
            Format::Cast => "cast",
            Format::Html => "html",
        }
    }

    /// One line for `--help`.
    pub const fn help(self) -> &'static str {
        match self {
            Format::Perfetto => "Chrome trace-event JSON for Perfetto UI and chrome://tracing",
            Format::Markdown => "the measured table beside the model's, for a handout",
            Format::Csv => "the same table as CSV",
            Format::Mermaid => {
                "a Mermaid sequence diagram of one representative call (renders on GitHub)"
            }
            Format::Svg => "the diagram of one strategy as an SVG still, in the live view's layout",
            Format::Cast => {
                "an asciinema recording (asciicast v2) of the live view replaying the trace"
            }
            Format::Html => {
                "one self-contained web page that animates the trace (English and 中文)"
            }
        }
    }

    pub fn named(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// What to export, and where.
#[derive(Clone, Debug)]
pub struct Request {
    /// The trace file, or None for a bundled recording.
    pub trace: Option<std::path::PathBuf>,
    /// Which bundled recording, without a file (None: the default).
    pub bundled: Option<String>,
    pub format: Format,
    /// The output file, or None for standard output.
    pub output: Option<std::path::PathBuf>,
    /// The strategy for single-strategy formats.
    pub strategy: Option<Strategy>,
    pub lang: Lang,
}

/// Produces `format` from a loaded trace.
pub fn produce(
    loaded: &Loaded,
    format: Format,
    strategy: Strategy,
    lang: Lang,
) -> anyhow::Result<Vec<u8>> {
    Ok(match format {
        Format::Perfetto => perfetto::export(loaded)?,
        Format::Markdown => table::markdown(loaded).into_bytes(),
        Format::Csv => table::csv(loaded).into_bytes(),
        Format::Mermaid => mermaid::export(loaded, strategy)?.into_bytes(),
        Format::Svg => svg::export(loaded, strategy, lang).into_bytes(),
        Format::Cast => cast::export(loaded, lang)?.into_bytes(),
        Format::Html => html::export(loaded, strategy, lang)?.into_bytes(),
    })
}

/// The first strategy of the trace, or the one asked for if the trace has it.
pub fn pick(loaded: &Loaded, asked: Option<Strategy>) -> anyhow::Result<Strategy> {
    match asked {
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
pub fn run(req: &Request) -> anyhow::Result<u8> {
    // Check the output first: a bad path should fail before any work.
    if let Some(out) = &req.output {
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
    let loaded = crate::source::load(req.trace.as_deref(), req.bundled.as_deref())?;
    let bytes = if loaded.runs.is_empty() && !loaded.trees.is_empty() {
        // A `zc trace` recording: a foreign program has no strategy steps.
        match req.format {
            Format::Perfetto => tree::perfetto(&loaded.trees)?,
            Format::Markdown => tree::markdown(&loaded.trees).into_bytes(),
            Format::Csv => tree::csv(&loaded.trees).into_bytes(),
            Format::Mermaid | Format::Svg | Format::Cast | Format::Html => {
                return Err(Fatal::Usage(format!(
                    "{} draws a demo strategy's steps; a zc trace recording exports as {}",
                    req.format.name(),
                    tree::FORMATS
                ))
                .into());
            }
        }
    } else {
        let strategy = pick(&loaded, req.strategy)?;
        produce(&loaded, req.format, strategy, req.lang)?
    };
    match &req.output {
        Some(out) => tracefile::write_atomic(out, &bytes)?,
        None => {
            let mut o = std::io::stdout().lock();
            o.write_all(&bytes)?;
            o.flush()?;
        }
    }
    Ok(exit::OK)
}
