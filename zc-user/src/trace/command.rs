//! Starting the command to trace so that zc sees it from its first
//! instruction. The kernel follows a process from the moment its pid is in
//! `ZC_FOLLOWED`; a forked child runs at once. So the child is held at a
//! gate (a shell waiting on a pipe) until zc has written its pid, then
//! execs the command in the same process. (The standard library's spawn
//! returns only after the exec, so the wait cannot sit between fork and
//! exec in Rust.) The shell's few calls before its exec are in the trace.

use std::{
    io::Write as _,
    os::{fd::FromRawFd as _, unix::process::CommandExt as _},
    process::{Child, Command, Stdio},
};

use anyhow::Context as _;

use crate::exit::Fatal;

/// A started command held before exec until [`Gate::release`].
pub struct Gate(std::fs::File);

impl Gate {
    pub fn release(mut self) -> anyhow::Result<()> {
        self.0.write_all(b"g\n").context("let the command run")
    }
}

/// Where the command's output goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// zc's own stdout and stderr (the report prints after it).
    Inherit,
    /// Pipes the live view reads (it draws on the terminal).
    Capture,
    /// Both to zc's stderr: stdout carries zc's JSON alone.
    ToStderr,
}

/// Starts `command` held at the gate, as the sudo user under sudo.
pub fn spawn_gated(command: &[String], output: Output) -> anyhow::Result<(Child, Gate)> {
    let program = command
        .first()
        .ok_or_else(|| Fatal::Usage("no command to run".into()))?;
    if super::procs::find_program(program).is_none() {
        return Err(Fatal::NoCommand(format!("{program}: command not found")).into());
    }
    let mut fds = [0i32; 2];
    // SAFETY: a valid array for two descriptors.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error()).context("make the start gate");
    }
    let (rd, wr) = (fds[0], fds[1]);
    let mut cmd = Command::new("/bin/sh");
    cmd.args(["-c", "read -r _ <&3; exec 3<&-; exec \"$@\"", "zc-gate"])
        .args(command);
    match output {
        Output::Inherit => {}
        Output::Capture => {
            cmd.stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
        }
        Output::ToStderr => {
            use std::os::fd::AsFd as _;
            let err = std::io::stderr()
                .as_fd()
                .try_clone_to_owned()
                .context("duplicate stderr for the command")?;
            cmd.stdout(Stdio::from(err));
        }
    }
    if let (Some(uid), Some(gid)) = (env_id("SUDO_UID"), env_id("SUDO_GID")) {
        cmd.uid(uid).gid(gid);
    }
    // SAFETY: dup2 is async-signal-safe; nothing else runs between fork
    // and exec.
    unsafe {
        cmd.pre_exec(move || {
            if libc::dup2(rd, 3) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = cmd
        .spawn()
        .map_err(|e| Fatal::NoCommand(format!("cannot start {program}: {e}")))?;
    // SAFETY: pipe2 returned it; the child has its own copy (fd 3).
    unsafe { libc::close(rd) };
    // SAFETY: as above; the Gate owns the write end from here.
    Ok((child, Gate(unsafe { std::fs::File::from_raw_fd(wr) })))
}

fn env_id(name: &str) -> Option<u32> {
    std::env::var(name).ok()?.parse().ok()
}

/// The exit code a shell would report for a finished process.
pub fn code_of(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt as _;
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1)
}
