//! Exit codes, documented in `zc --help` and docs/cli.md, so scripts can tell
//! a typo from a kernel that cannot be traced.

use std::process::ExitCode;

/// Success.
pub const OK: u8 = 0;
/// Something failed while running (I/O, netlink, the kernel refused a step).
pub const RUNTIME: u8 = 1;
/// Bad command line or bad input file (clap uses 2 as well).
pub const USAGE: u8 = 2;
/// zc cannot trace live here: not root / missing capabilities, no BTF, no
/// tracefs, a required tracepoint missing, or eBPF refused.
pub const CANNOT_TRACE: u8 = 3;
/// The transfer ran but the receiver did not get the file's bytes intact.
pub const TRANSFER_FAILED: u8 = 4;

/// `zc trace --pid`: no such process (or it exited before zc could follow it).
pub const NO_PROCESS: u8 = 5;
/// `zc trace --pid`: the pid is a kernel thread, which has nothing to follow.
pub const KERNEL_THREAD: u8 = 6;
/// `zc trace -- CMD`: the command cannot be found or run (as a shell says).
pub const NO_COMMAND: u8 = 127;

/// An error that carries its own exit code. Other errors exit with [`RUNTIME`].
#[derive(Debug, thiserror::Error)]
pub enum Fatal {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    CannotTrace(String),
    #[error("{0}")]
    TransferFailed(String),
    #[error("{0}")]
    NoProcess(String),
    #[error("{0}")]
    KernelThread(String),
    #[error("{0}")]
    NoCommand(String),
}

/// The exit code for an error: the first [`Fatal`] in its chain decides.
pub fn code_for(err: &anyhow::Error) -> u8 {
    match err.chain().find_map(|e| e.downcast_ref::<Fatal>()) {
        Some(Fatal::Usage(_)) => USAGE,
        Some(Fatal::CannotTrace(_)) => CANNOT_TRACE,
        Some(Fatal::TransferFailed(_)) => TRANSFER_FAILED,
        Some(Fatal::NoProcess(_)) => NO_PROCESS,
        Some(Fatal::KernelThread(_)) => KERNEL_THREAD,
        Some(Fatal::NoCommand(_)) => NO_COMMAND,
        None => RUNTIME,
    }
}

/// Prints an error as one line (`zc: outer: inner: root cause`) and returns its code.
pub fn report(err: &anyhow::Error) -> ExitCode {
    let line = err
        .chain()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join(": ");
    eprintln!("zc: {line}");
    ExitCode::from(code_for(err))
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context as _;

    #[test]
    fn fatal_anywhere_in_chain_decides() {
        let e = Err::<(), _>(Fatal::CannotTrace("no BTF".into()))
            .context("load probes")
            .expect_err("must fail");
        assert_eq!(code_for(&e), CANNOT_TRACE);
        assert_eq!(code_for(&anyhow::anyhow!("disk full")), RUNTIME);
    }
}
