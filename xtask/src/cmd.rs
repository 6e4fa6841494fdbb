//! Running other programs: echoed commands for the steps a reader should see,
//! quiet probes for the checks behind each `ok`, and who we are running as.

use std::ffi::OsStr;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output};

use anyhow::{Context as _, Result, bail};

/// Prints a command the way a shell user would type it, `$ ENV=val prog args`,
/// so a failing CI log can be replayed by hand.
pub fn echo(cmd: &Command) {
    let mut line = String::from("$");
    for (key, val) in cmd.get_envs() {
        if let Some(val) = val {
            line.push(' ');
            line.push_str(&quote(key));
            line.push('=');
            line.push_str(&quote(val));
        }
    }
    line.push(' ');
    line.push_str(&quote(cmd.get_program()));
    for arg in cmd.get_args() {
        line.push(' ');
        line.push_str(&quote(arg));
    }
    eprintln!("{line}");
}

/// Single-quotes a word only when a shell would need it, to keep echoes short.
pub fn quote(word: &OsStr) -> String {
    let word = word.to_string_lossy();
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./=:,+@%".contains(c));
    if plain {
        word.into_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// The command line as text, for error messages.
fn describe(cmd: &Command) -> String {
    let mut text = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        text.push(' ');
        text.push_str(&quote(arg));
    }
    text
}

/// A spawn failure, with "not found" spelled out since that is the usual one.
fn spawn_error(cmd: &Command, err: io::Error) -> anyhow::Error {
    let program = cmd.get_program().to_string_lossy();
    if err.kind() == io::ErrorKind::NotFound {
        anyhow::anyhow!("`{program}` not found on PATH")
    } else {
        anyhow::Error::new(err).context(format!("could not start `{program}`"))
    }
}

/// Echoes and runs a command with inherited stdio; returns how it ended.
pub fn status(cmd: &mut Command) -> Result<ExitStatus> {
    echo(cmd);
    cmd.status().map_err(|err| spawn_error(cmd, err))
}

/// A command running beside others, its output kept until it is joined, so
/// that two commands' lines do not interleave.
pub struct Background {
    line: String,
    child: std::process::Child,
    output: std::thread::JoinHandle<Vec<u8>>,
}

/// Echoes and starts a command with its stdout and stderr captured together.
/// Takes the command by value: it holds the pipe's writing ends, which must
/// be closed in this process for the reader to see the end.
pub fn spawn_captured(mut cmd: Command) -> Result<Background> {
    use std::io::Read as _;
    echo(&cmd);
    let (mut reader, writer) = io::pipe().context("a pipe for a background command")?;
    let writer2 = writer
        .try_clone()
        .context("a pipe for a background command")?;
    let child = cmd
        .stdin(std::process::Stdio::null())
        .stdout(writer)
        .stderr(writer2)
        .spawn()
        .map_err(|err| spawn_error(&cmd, err))?;
    let line = describe(&cmd);
    drop(cmd);
    let output = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = reader.read_to_end(&mut out);
        out
    });
    Ok(Background {
        line,
        child,
        output,
    })
}

impl Background {
    /// Waits for the command, prints what it printed, and fails unless it
    /// exited successfully.
    pub fn join(mut self) -> Result<()> {
        let status = self.child.wait().context("wait for a background command")?;
        let out = self.output.join().unwrap_or_default();
        eprint!("{}", String::from_utf8_lossy(&out));
        if !status.success() {
            bail!("`{}` failed ({status})", self.line);
        }
        Ok(())
    }
}

/// Echoes and runs a command, failing unless it exits successfully.
pub fn run(cmd: &mut Command) -> Result<()> {
    let status = status(cmd)?;
    if !status.success() {
        bail!("`{}` failed ({status})", describe(cmd));
    }
    Ok(())
}

/// Runs a check quietly and captures its output; the caller judges the exit
/// status, because for probes such as `dpkg-query` "not found" is an answer.
pub fn probe(cmd: &mut Command) -> Result<Output> {
    cmd.stdin(std::process::Stdio::null());
    cmd.output().map_err(|err| spawn_error(cmd, err))
}

/// Runs a check quietly and returns its stdout, failing (with the first line
/// of its stderr) unless it succeeds.
pub fn probe_stdout(cmd: &mut Command) -> Result<String> {
    let out = probe(cmd)?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let first = stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        bail!("`{}` failed ({}): {first}", describe(cmd), out.status);
    }
    String::from_utf8(out.stdout).with_context(|| format!("`{}` printed non-UTF-8", describe(cmd)))
}

/// Effective uid, read from /proc so xtask needs no libc binding; `id -u`
/// is the fallback where /proc is not mounted.
pub fn euid() -> Option<u32> {
    if let Ok(status) = std::fs::read_to_string("/proc/self/status")
        && let Some(line) = status.lines().find(|l| l.starts_with("Uid:"))
    {
        // "Uid:\treal\teffective\tsaved\tfs"
        return line.split_whitespace().nth(2)?.parse().ok();
    }
    let out = Command::new("id").arg("-u").output().ok()?;
    String::from_utf8(out.stdout).ok()?.trim().parse().ok()
}

pub fn is_root() -> bool {
    euid() == Some(0)
}

/// First executable called `name` on PATH, like the shell would pick.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

pub fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
