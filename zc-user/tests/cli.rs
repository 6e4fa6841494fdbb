//! The binary's promises on bad input: one clear line on stderr, a
//! documented non-zero exit code, never a panic. None of these need root.

mod common;

use std::process::{Command, Output};

fn zc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zc"))
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("run zc")
}

fn assert_one_line_error(out: &Output, code: i32, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "stderr: {stderr}");
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "not one line: {stderr:?}"
    );
    assert!(stderr.starts_with("zc: "), "{stderr:?}");
    assert!(stderr.contains(needle), "{stderr:?} lacks {needle:?}");
    assert!(!stderr.contains("panicked"), "{stderr:?}");
    assert!(
        out.stdout.is_empty(),
        "stdout: {:?}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn unknown_flag_is_a_usage_error() {
    assert_one_line_error(&zc(&["demo", "--bogus"]), 2, "--bogus");
}

#[test]
fn unknown_strategy_is_a_usage_error() {
    assert_one_line_error(
        &zc(&["demo", "--strategy", "carrier-pigeon"]),
        2,
        "carrier-pigeon",
    );
}

#[test]
fn bad_sizes_are_usage_errors() {
    assert_one_line_error(&zc(&["demo", "--size", "12 parsecs"]), 2, "unknown unit");
    assert_one_line_error(&zc(&["demo", "--chunk", "0"]), 2, "--chunk");
    assert_one_line_error(&zc(&["demo", "--size", "0"]), 2, "--size");
}

#[test]
fn missing_file_is_a_usage_error() {
    assert_one_line_error(
        &zc(&["demo", "--file", "/nonexistent/zc-test-file"]),
        2,
        "no such file",
    );
}

#[test]
fn directory_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_str().expect("utf-8 path");
    assert_one_line_error(&zc(&["demo", "--file", path]), 2, "is a directory");
}

#[test]
fn empty_file_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("empty");
    std::fs::write(&path, b"").expect("write");
    assert_one_line_error(
        &zc(&["demo", "--file", path.to_str().expect("utf-8")]),
        2,
        "empty",
    );
}

#[test]
fn help_teaches_and_exits_zero() {
    let out = zc(&["demo", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    // Every strategy of the table is named, with the options a first run needs.
    for needle in common::strategies()
        .into_iter()
        .chain(["--cold", "--json", "64KiB"])
    {
        assert!(text.contains(needle), "help lacks {needle}");
    }
    let top = String::from_utf8_lossy(&zc(&["--help"]).stdout).to_string();
    assert!(top.contains("Exit codes"), "{top}");
}

/// Without the capabilities to trace (dropped with setpriv when the test
/// runs as root), zc says so in one line and exits 3.
#[test]
fn no_capabilities_cannot_trace() {
    let bin = env!("CARGO_BIN_EXE_zc");
    let is_root = std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false);
    let out = if is_root {
        let o = Command::new("setpriv")
            .args([
                "--inh-caps=-all",
                "--ambient-caps=-all",
                "--bounding-set=-all",
                "--",
                bin,
            ])
            .args(["demo", "--size", "64KiB"])
            .output();
        match o {
            Ok(o) => o,
            Err(e) => panic!("setpriv (util-linux) is needed to drop capabilities: {e}"),
        }
    } else {
        zc(&["demo", "--size", "64KiB"])
    };
    assert_one_line_error(&out, 3, "needs root");
}

/// `zc trace`'s bad input: each its own exit code and one line, with or
/// without root, and nothing started.
#[test]
fn trace_bad_input_has_distinct_exit_codes() {
    assert_one_line_error(
        &zc(&["trace", "--", "zc-no-such-command-anywhere"]),
        127,
        "command not found",
    );
    // A pid beyond pid_max cannot exist.
    assert_one_line_error(
        &zc(&["trace", "--pid", "4194305", "--no-tui"]),
        5,
        "no process 4194305",
    );
    if std::path::Path::new("/proc/2/stat").exists() {
        assert_one_line_error(
            &zc(&["trace", "--pid", "2", "--no-tui"]),
            6,
            "kernel thread",
        );
    } else {
        common::skip_part(
            "the kernel-thread case of zc trace --pid",
            "no /proc/2 here",
        );
    }
    assert_one_line_error(
        &zc(&["trace", "--duration", "0", "--", "true"]),
        2,
        "--duration",
    );
    assert_one_line_error(&zc(&["trace"]), 2, "--pid");
    assert_one_line_error(&zc(&["trace", "--pid", "1", "--", "true"]), 2, "not both");
}

/// `zc completions SHELL` prints a script that knows the subcommands and
/// their flags; an unknown shell is one line and exit 2.
#[test]
fn completions_know_the_subcommands_and_refuse_an_unknown_shell() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef zc"),
        ("fish", "complete -c zc"),
    ] {
        let out = zc(&["completions", shell]);
        assert!(out.status.success(), "{shell}: {:?}", out.status);
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(script.contains(marker), "{shell} script lacks {marker:?}");
        for word in ["demo", "trace", "doctor", "strategy", "pid"] {
            assert!(script.contains(word), "{shell} script lacks {word}");
        }
    }
    assert_one_line_error(&zc(&["completions", "tcsh"]), 2, "tcsh");
}

/// The man pages come from the CLI's own definition: one per subcommand,
/// each with its flags and its synopsis as typed. (Written where the test
/// says, so this needs no root and leaves nothing.)
#[test]
fn man_pages_are_written_from_the_cli() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = zc(&["man", "--out-dir", dir.path().to_str().expect("utf-8")]);
    assert!(out.status.success(), "{:?}", out);
    let page = |name: &str| {
        std::fs::read_to_string(dir.path().join(format!("{name}.1")))
            .unwrap_or_else(|e| panic!("{name}.1: {e}"))
    };
    assert!(page("zc").contains(".TH zc 1"));
    let trace = page("zc-trace");
    assert!(
        trace.contains(".TH zc\\-trace 1") || trace.contains(".TH zc-trace 1"),
        "{trace}"
    );
    assert!(trace.contains("zc trace"), "synopsis as typed: {trace}");
    assert!(trace.contains("\\-\\-pid"), "{trace}");
    for sub in [
        "demo",
        "doctor",
        "replay",
        "export",
        "sweep",
        "completions",
        "man",
    ] {
        assert!(
            page(&format!("zc-{sub}")).contains(".SH NAME"),
            "zc-{sub}.1"
        );
    }
}

/// Stepping runs the kernel under a person's keys: without the live view,
/// or over several strategies, it is refused in one line before anything
/// loads; an unknown unit is a usage error too.
#[test]
fn step_needs_the_live_view_and_one_strategy() {
    let out = zc(&["demo", "--step", "--json"]);
    assert_one_line_error(&out, 2, "--step needs the live view");
    let out = zc(&["demo", "--step", "iteration", "--no-tui"]);
    assert_one_line_error(&out, 2, "--step needs the live view");
    let out = zc(&["demo", "--step", "sometimes"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("iteration"));
    let help = zc(&["demo", "--help"]);
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(
        text.contains("--step") && text.contains("LIVE STEP"),
        "{text}"
    );
}

#[test]
fn a_nic_argument_that_is_not_two_names_is_a_usage_error() {
    assert_one_line_error(&zc(&["demo", "--nic", "eth0"]), 2, "TX,RX");
    assert_one_line_error(&zc(&["demo", "--nic", "eth0,eth0"]), 2, "both ends");
}

/// Interfaces zc must not borrow are refused before anything loads, in one
/// line, with nothing left behind: a missing one, the loopback, and a veth
/// (the kernel would delete it, not return it). Needs root: refusing is
/// the borrowing's first step, after the privilege check.
#[test]
fn interfaces_the_host_needs_or_would_lose_are_refused() {
    if !common::live_or_skip("interfaces_the_host_needs_or_would_lose_are_refused") {
        return;
    }
    let before = common::host_state();
    assert_one_line_error(
        &zc(&["demo", "--no-tui", "--nic", "zc-nope0,zc-nope1"]),
        2,
        "cannot borrow zc-nope0: there is no such interface",
    );
    assert_one_line_error(
        &zc(&["demo", "--no-tui", "--nic", "lo,zc-nope1"]),
        2,
        "cannot borrow lo: it is the loopback device",
    );
    // A veth of the host's own, made by the test and deleted after.
    let ip = |args: &[&str]| {
        Command::new("ip")
            .args(args)
            .status()
            .is_ok_and(|s| s.success())
    };
    if !ip(&[
        "link", "add", "zctvA", "type", "veth", "peer", "name", "zctvB",
    ]) {
        common::skip_part(
            "interfaces_the_host_needs_or_would_lose_are_refused",
            "`ip link add ... type veth` failed: the veth refusal is not checked",
        );
        return;
    }
    let out = zc(&["demo", "--no-tui", "--nic", "zctvA,zctvB"]);
    let both_back = ["zctvA", "zctvB"]
        .iter()
        .all(|n| std::path::Path::new("/sys/class/net").join(n).exists());
    ip(&["link", "del", "zctvA"]);
    assert_one_line_error(&out, 2, "it is a virtual device (veth)");
    assert!(both_back, "a refused veth must stay where it was");
    let after = common::host_state();
    assert_eq!(
        before.bpf_programs, after.bpf_programs,
        "a program left attached"
    );
    assert_eq!(
        before.net_namespaces, after.net_namespaces,
        "a namespace left"
    );
}
