//! What a session ran on: the kernel, zc's version, the file, the probes.
//! Every view prints it beside the figures, so a reader knows where they
//! were measured (for a recording: where it was made, not where it plays).

use serde::Serialize;

/// The environment of a session's runs.
#[derive(Clone, Debug, Serialize)]
pub struct Context {
    pub kernel: String,
    pub zc_version: &'static str,
    pub file: String,
    pub probes_attached: usize,
    pub probes_total: usize,
    /// One line per probe whose evidence came from a source other than its
    /// first (an older form of its tracepoint, or the function it sits in),
    /// so that a figure from fentry is not taken for a tracepoint's.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub probe_sources: Vec<String>,
    /// What joined sender and receiver ("veth zc-tx → zc-rx", or the two
    /// borrowed NICs and their drivers).
    pub link: String,
}

impl Context {
    /// The context of runs made now, on this machine.
    pub fn here(
        file: String,
        probes_attached: usize,
        probes_total: usize,
        probe_sources: Vec<String>,
        link: String,
    ) -> Context {
        Context {
            kernel: kernel_release(),
            zc_version: env!("CARGO_PKG_VERSION"),
            file,
            probes_attached,
            probes_total,
            probe_sources,
            link,
        }
    }

    /// The context a recorded trace carries: its kernel, not this machine's.
    pub fn of_trace(meta: &zc_trace::Meta) -> Context {
        Context {
            kernel: meta.kernel.clone(),
            zc_version: env!("CARGO_PKG_VERSION"),
            file: format!(
                "{} (recorded {} by zc {})",
                meta.file, meta.created, meta.zc_version
            ),
            probes_attached: meta.probes.iter().filter(|p| p.state == "attached").count(),
            probes_total: meta.probes.len(),
            probe_sources: meta
                .probes
                .iter()
                .filter(|p| !p.source.is_empty())
                .map(|p| format!("{} from {}", p.tracepoint, p.source))
                .collect(),
            link: if meta.link.is_empty() {
                crate::demo::net::Link::Veth.to_string()
            } else {
                meta.link.clone()
            },
        }
    }
}

/// The running kernel's release.
pub fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
}
