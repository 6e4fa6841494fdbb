//! `zc doctor`: what this machine lets zc see, probe by probe, and whether
//! the demo can run live. Never assume a user's kernel is the one zc was
//! written on: ask this one.

use std::fmt::Write as _;

use crate::kernel::{
    btf::KernelBtf,
    features, layout, privilege,
    probes::{PROBES, ProbeState, ProbeStatus},
    prototype,
    tracer::{Purpose, Tracer},
};
use crate::mechanism::Mechanism;
use crate::strategy::Strategy;

/// The doctor's findings.
pub struct Findings {
    pub text: String,
    pub can_trace: bool,
}

fn read_trim(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}

/// Checks everything; loads and attaches the probes when allowed and `load`.
pub fn examine(load: bool) -> Findings {
    let mut s = String::new();
    let mut blockers: Vec<String> = Vec::new();
    let line = |s: &mut String, k: &str, v: &str| {
        let _ = writeln!(s, "{k:<22} {v}");
    };
    line(
        &mut s,
        "kernel",
        &format!(
            "{} ({})",
            crate::model::context::kernel_release(),
            std::env::consts::ARCH
        ),
    );
    let missing = privilege::missing();
    if missing.is_empty() {
        line(&mut s, "privileges", "CAP_SYS_ADMIN and CAP_NET_ADMIN held");
    } else {
        line(
            &mut s,
            "privileges",
            &format!("missing {}", missing.join(", ")),
        );
        blockers.push(privilege::refusal(&missing));
    }
    // What the eBPF side needs besides tracepoints, asked of BTF first: on
    // a kernel too old for zc, each missing piece is one line, and the
    // layout's own complaint (a struct that came with one of them) is not
    // repeated.
    let lacking = KernelBtf::open(std::path::Path::new(layout::VMLINUX_BTF), &layout::names())
        .map(|btf| features::missing(&btf))
        .unwrap_or_default();
    if lacking.is_empty() {
        line(
            &mut s,
            "eBPF features",
            &format!(
                "{}: all present",
                features::NEEDED
                    .iter()
                    .map(|f| f.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    } else {
        line(
            &mut s,
            "eBPF features",
            &format!("{} missing: zc needs a newer kernel", lacking.len()),
        );
        for f in &lacking {
            let _ = writeln!(s, "  missing: {}", f.missing_line());
            blockers.push(f.missing_line());
        }
    }
    let kernel = layout::running_kernel();
    match &kernel {
        Ok(_) => line(
            &mut s,
            "BTF",
            &format!(
                "{} present, every struct field zc reads found",
                layout::VMLINUX_BTF
            ),
        ),
        Err(e) => {
            line(&mut s, "BTF", &format!("unusable: {e}"));
            if lacking.is_empty() {
                blockers.push(e.to_string());
            }
        }
    }
    line(
        &mut s,
        "lockdown",
        &read_trim("/sys/kernel/security/lockdown")
            .unwrap_or_else(|| "unknown (securityfs not mounted)".into()),
    );
    // mmap's fault count follows this window: one fault maps up to this
    // many bytes already in the page cache (debugfs; 64 KiB by default).
    line(
        &mut s,
        "fault_around_bytes",
        &read_trim("/sys/kernel/debug/fault_around_bytes").map_or_else(
            || {
                "not readable here (debugfs unmounted or locked down); the default is 65536"
                    .to_string()
            },
            |v| format!("{v} (mmap faults map this much of the page cache at a time)"),
        ),
    );
    line(
        &mut s,
        "perf_event_paranoid",
        &read_trim("/proc/sys/kernel/perf_event_paranoid").unwrap_or_else(|| "unknown".into()),
    );
    line(
        &mut s,
        "unprivileged_bpf",
        &match read_trim("/proc/sys/kernel/unprivileged_bpf_disabled").as_deref() {
            Some("0") => "allowed".to_string(),
            Some(v) => format!("disabled ({v}): zc needs root anyway"),
            None => "unknown".into(),
        },
    );

    mechanisms(&mut s);

    let status: Vec<ProbeStatus> = match &kernel {
        Ok(kernel) if missing.is_empty() && load => match Tracer::load(kernel, Purpose::Trace) {
            Ok(t) => t.status().to_vec(),
            Err(e) => {
                blockers.push(format!("{e:#}"));
                untried(&format!("loading failed: {e}"))
            }
        },
        // Without loading, each tracepoint's prototype is still checked.
        // Without loading, each source's prototype is still checked: the
        // first that matches is the one a load would try.
        Ok(kernel) => PROBES
            .iter()
            .map(|spec| {
                let first = prototype::check(&kernel.btf, &spec.attach);
                let matching = spec
                    .sources()
                    .find(|s| prototype::check(&kernel.btf, s).is_ok())
                    .copied();
                ProbeStatus {
                    spec: *spec,
                    state: match (matching, first) {
                        (Some(_), _) => ProbeState::Untried(if load {
                            "needs root".into()
                        } else {
                            "--no-load".into()
                        }),
                        (None, Err(state)) => state,
                        (None, Ok(())) => ProbeState::Untried("no source".into()),
                    },
                    via: matching,
                }
            })
            .collect(),
        Err(_) => untried("the kernel's BTF is unusable"),
    };
    let _ = writeln!(
        s,
        "\n{:<38} {:<10} {:<8} {:<12} proves",
        "probe", "source", "needed", "state"
    );
    for p in &status {
        let source = p.source();
        let _ = writeln!(
            s,
            "{:<38} {:<10} {:<8} {:<12} {}",
            p.spec.attach.target(),
            if source.program == p.spec.program {
                source.kind().to_string()
            } else {
                format!("{}*", source.kind())
            },
            if p.spec.required {
                "required"
            } else {
                "optional"
            },
            match p.state {
                ProbeState::Attached => "attached",
                ProbeState::Missing(_) => "missing",
                ProbeState::Refused(_) => "refused",
                ProbeState::Untried(_) => "not tried",
            },
            p.spec.proves
        );
        if !p.ok_for_live() && !matches!(p.state, ProbeState::Untried(_)) {
            blockers.push(format!("{}: {}", p.spec.attach.target(), p.state));
        }
    }
    let substitutes: Vec<String> = status
        .iter()
        .filter(|p| p.via.is_some_and(|v| v.program != p.spec.program))
        .map(|p| {
            let v = p.source();
            format!(
                "  {}: {} {} ({})",
                p.spec.attach.target(),
                v.kind(),
                v.target(),
                v.note
            )
        })
        .collect();
    if !substitutes.is_empty() {
        let _ = writeln!(
            s,
            "\n* evidence from another source than the probe's first (what differs):"
        );
        for line in substitutes {
            let _ = writeln!(s, "{line}");
        }
    }
    if status
        .iter()
        .any(|p| matches!(p.state, ProbeState::Refused(_)))
    {
        let _ = writeln!(s, "\nrefusal details:");
        for p in status
            .iter()
            .filter(|p| matches!(p.state, ProbeState::Refused(_)))
        {
            let _ = writeln!(s, "  {}: {}", p.spec.program, p.state);
        }
    }
    let tried = status.iter().any(|p| p.state == ProbeState::Attached);
    let can_trace = blockers.is_empty() && tried;
    let _ = writeln!(
        s,
        "\n{}",
        if can_trace {
            "verdict: zc can trace live here.".to_string()
        } else if blockers.is_empty() {
            "verdict: not checked live (--no-load); run `sudo zc doctor` to load and attach every probe.".to_string()
        } else {
            format!(
                "verdict: zc cannot trace live here: {}",
                blockers.join("; ")
            )
        }
    );
    Findings { text: s, can_trace }
}

/// Each mechanism after the article, whether this kernel gives it (asked of
/// the kernel), and the strategies that need it.
fn mechanisms(s: &mut String) {
    let _ = writeln!(
        s,
        "\n{:<18} {:<14} {:<34} how zc knows",
        "mechanism", "here", "strategies"
    );
    for m in Mechanism::ALL {
        let users: Vec<&str> = Strategy::all()
            .filter(|st| st.spec().requires.contains(&m))
            .map(|st| st.name())
            .collect();
        let (here, how) = match m.check() {
            Ok(how) => ("available", how),
            Err(why) => ("NOT available", why),
        };
        let _ = writeln!(
            s,
            "{:<18} {:<14} {:<34} {how}",
            m.name(),
            here,
            if users.is_empty() {
                "(none yet)".to_string()
            } else {
                users.join(", ")
            }
        );
    }
}

fn untried(reason: &str) -> Vec<ProbeStatus> {
    PROBES
        .iter()
        .map(|spec| ProbeStatus {
            spec: *spec,
            state: ProbeState::Untried(reason.to_string()),
            via: None,
        })
        .collect()
}
