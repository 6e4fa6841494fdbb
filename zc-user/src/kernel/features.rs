//! What zc's eBPF side needs from a kernel besides tracepoints and struct
//! fields: program and map types, a helper, a kind of memory.
//!
//! Each is asked of the kernel's own BTF, which carries the enums the BPF
//! syscall takes (`enum bpf_attach_type`, `enum bpf_map_type`, `enum
//! bpf_func_id`): a kernel that knows a helper lists it there. The Linux
//! release each came with is only said, for the reader; it decides nothing.
//! A kernel older than zc serves gets one line per thing it lacks, instead
//! of the first verifier error.

use btf_rs::Type;

use super::btf::KernelBtf;

/// How a feature shows in BTF.
#[derive(Clone, Copy, Debug)]
pub enum Evidence {
    /// A value of a named enum.
    Enumerator {
        ty: &'static str,
        value: &'static str,
    },
    /// A struct the kernel defines.
    Struct(&'static str),
}

/// One thing zc needs.
#[derive(Clone, Copy, Debug)]
pub struct Feature {
    pub name: &'static str,
    /// The Linux release that brought it: said, never tested.
    pub since: &'static str,
    pub why: &'static str,
    pub evidence: Evidence,
}

impl Feature {
    /// Where BTF would show it, for the line that says it is missing.
    fn sought(&self) -> String {
        match self.evidence {
            Evidence::Enumerator { ty, value } => format!("no {value} in enum {ty}"),
            Evidence::Struct(s) => format!("no struct {s}"),
        }
    }

    /// The one line for a kernel that lacks it.
    pub fn missing_line(&self) -> String {
        format!(
            "{} (Linux {}): {}; this kernel's BTF has {}",
            self.name,
            self.since,
            self.why,
            self.sought()
        )
    }
}

/// Everything zc needs, in the order a reader meets it.
pub const NEEDED: &[Feature] = &[
    Feature {
        name: "BTF tracepoints (tp_btf)",
        since: "5.5",
        why: "every probe's first source",
        evidence: Evidence::Enumerator {
            ty: "bpf_attach_type",
            value: "BPF_TRACE_RAW_TP",
        },
    },
    Feature {
        name: "BPF ring buffer",
        since: "5.8",
        why: "the events stream to zc through it",
        evidence: Evidence::Enumerator {
            ty: "bpf_map_type",
            value: "BPF_MAP_TYPE_RINGBUF",
        },
    },
    Feature {
        name: "BPF links for tracing programs",
        since: "5.8",
        why: "they detach at once when zc exits",
        evidence: Evidence::Enumerator {
            ty: "bpf_link_type",
            value: "BPF_LINK_TYPE_TRACING",
        },
    },
    Feature {
        name: "bpf_loop",
        since: "5.17",
        why: "the walk over an skb's frags to their pages",
        evidence: Evidence::Enumerator {
            ty: "bpf_func_id",
            value: "BPF_FUNC_loop",
        },
    },
    Feature {
        name: "folios",
        since: "5.16",
        why: "page-cache pages are named by their folio (index, order, mapping)",
        evidence: Evidence::Struct("folio"),
    },
];

/// The BTF names the checks look up (indexed with the layout's).
pub fn names() -> impl Iterator<Item = &'static str> {
    NEEDED.iter().map(|f| match f.evidence {
        Evidence::Enumerator { ty, .. } => ty,
        Evidence::Struct(s) => s,
    })
}

/// Whether the kernel whose BTF this is has `f`.
pub fn has(btf: &KernelBtf, f: &Feature) -> bool {
    let types = match f.evidence {
        Evidence::Enumerator { ty, .. } | Evidence::Struct(ty) => {
            btf.types_named(ty).unwrap_or_default()
        }
    };
    types.iter().any(|t| match (f.evidence, t) {
        (Evidence::Struct(_), Type::Struct(s)) => !s.members.is_empty(),
        (Evidence::Enumerator { value, .. }, Type::Enum(e)) => e
            .members
            .iter()
            .any(|m| btf.resolve_name(m).is_ok_and(|n| n == value)),
        (Evidence::Enumerator { value, .. }, Type::Enum64(e)) => e
            .members
            .iter()
            .any(|m| btf.resolve_name(m).is_ok_and(|n| n == value)),
        _ => false,
    })
}

/// What this kernel lacks of `NEEDED`.
pub fn missing(btf: &KernelBtf) -> Vec<&'static Feature> {
    NEEDED.iter().filter(|f| !has(btf, f)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::layout::{VMLINUX_BTF, names as layout_names};

    #[test]
    fn the_running_kernel_has_every_feature_and_a_made_up_one_is_missing() {
        let Ok(btf) = KernelBtf::open(std::path::Path::new(VMLINUX_BTF), &layout_names()) else {
            crate::skipped(&format!("(no readable {VMLINUX_BTF})"));
            return;
        };
        assert!(missing(&btf).is_empty(), "{:?}", missing(&btf));
        let invented = Feature {
            name: "a helper from the future",
            since: "99.0",
            why: "nothing",
            evidence: Evidence::Enumerator {
                ty: "bpf_func_id",
                value: "BPF_FUNC_zc_never",
            },
        };
        assert!(!has(&btf, &invented));
        let line = invented.missing_line();
        assert_eq!(
            line,
            "a helper from the future (Linux 99.0): nothing; this kernel's BTF has no BPF_FUNC_zc_never in enum bpf_func_id"
        );
        assert!(!has(
            &btf,
            &Feature {
                evidence: Evidence::Struct("zc_no_such_struct"),
                ..invented
            }
        ));
    }
}
