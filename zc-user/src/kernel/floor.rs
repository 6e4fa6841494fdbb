//! The floor: what the kernel charges for a program on each of zc's
//! tracepoints before the program does anything.
//!
//! A tracepoint nobody listens to is a static branch the CPU skips. Attach
//! a program and every hit calls through the tracepoint's probe list into
//! the BPF dispatcher (`__bpf_trace_run`: a per-program recursion guard,
//! the run context, RCU), and only then into the program. That much any
//! eBPF tracer on the same tracepoints pays, bpftrace included; what zc's
//! programs do on top is zc's own cost. To tell the two apart, the floor
//! benchmark attaches one empty program (`zc-ebpf/src/floor.rs`) to exactly
//! the tracepoints zc attached on this kernel, and measures the transfer
//! with it beside the same transfer untraced and traced by zc.
//!
//! The empty program is a raw tracepoint. A `tp_btf` program is bound to
//! one tracepoint when it is loaded, so an empty `tp_btf` program would
//! have to be loaded once per tracepoint; a raw tracepoint program is
//! loaded once and attached to each by name. Both attach through
//! `bpf_raw_tp_link` and run through the same dispatcher, so the kernel's
//! share per hit is the same. One difference: the recursion guard is per
//! program, so a hit nested in another hit on the same CPU (an interrupt's
//! tracepoint inside a syscall's) is skipped, not run, under the floor.
//! Sources zc reads from a kernel function (fentry/fexit, where a kernel
//! lacks the tracepoint) have no floor here, and are named as such.

use std::os::fd::{AsFd as _, AsRawFd as _};

use anyhow::{Context as _, anyhow};
use aya::{Ebpf, EbpfLoader, programs::RawTracePoint};
use zc_common::FLOOR_PROGRAM;

use super::{
    probes::{Hook, ProbeSpec, ProbeState, ProbeStatus},
    stats::{ProgRun, parse_fdinfo},
};

/// The empty program, attached to a set of tracepoints until dropped.
pub struct Floor {
    /// Holds the program and its links: dropping it detaches every one.
    ebpf: Ebpf,
    /// `category/name` of each tracepoint the floor is attached to.
    pub attached: Vec<String>,
    /// The probes zc attached that the floor could not stand in for, each
    /// with why.
    pub left_out: Vec<(String, String)>,
}

impl Floor {
    /// Attaches the empty program wherever zc's probes in `status` are
    /// attached and `keep` says so (`zc trace --no-syscalls` keeps every
    /// probe but the syscalls').
    pub fn attach(
        status: &[ProbeStatus],
        keep: impl Fn(&ProbeSpec) -> bool,
    ) -> anyhow::Result<Floor> {
        let mut ebpf = EbpfLoader::new()
            .load(super::tracer::object())
            .context("load zc's eBPF object for the floor")?;
        let program: &mut RawTracePoint = ebpf
            .program_mut(FLOOR_PROGRAM)
            .ok_or_else(|| anyhow!("eBPF object has no program {FLOOR_PROGRAM}"))?
            .try_into()?;
        program.load().context("load the empty program")?;
        let (mut attached, mut left_out) = (Vec::new(), Vec::new());
        for s in status {
            if s.state != ProbeState::Attached || !keep(&s.spec) {
                continue;
            }
            let source = s.source();
            match source.hook {
                Hook::TpBtf => {
                    program.attach(source.name()).with_context(|| {
                        format!("attach the empty program to {}", source.target())
                    })?;
                    attached.push(source.target());
                }
                Hook::Fentry | Hook::Fexit => left_out.push((
                    source.target(),
                    format!(
                        "zc reads it from {}, a kernel function, not a tracepoint",
                        source.kind()
                    ),
                )),
            }
        }
        Ok(Floor {
            ebpf,
            attached,
            left_out,
        })
    }

    /// The empty program's runs so far (run time and runs are zero unless
    /// the kernel's statistics are on), from its fdinfo.
    pub fn runs(&self) -> anyhow::Result<ProgRun> {
        let p = self
            .ebpf
            .program(FLOOR_PROGRAM)
            .ok_or_else(|| anyhow!("no program {FLOOR_PROGRAM}"))?;
        let fd = p.fd()?;
        let info =
            std::fs::read_to_string(format!("/proc/self/fdinfo/{}", fd.as_fd().as_raw_fd()))?;
        Ok(parse_fdinfo(&info))
    }
}
