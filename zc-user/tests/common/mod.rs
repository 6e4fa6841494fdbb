//! What the root-only tests share: whether this process can trace, and the
//! rule for when it cannot (a loud SKIPPED line, or a failure when
//! `ZC_REQUIRE_LIVE=1`, which `cargo xtask test` sets when run as root).
#![allow(dead_code, reason = "each test file uses part of it")]

pub mod fs;
pub mod nginx;

/// The process holds CAP_SYS_ADMIN (21) and CAP_NET_ADMIN (12).
pub fn can_trace() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let eff = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .unwrap_or(0);
    eff & (1 << 21) != 0 && eff & (1 << 12) != 0
}

/// Whether a missing prerequisite must fail the test instead of skipping it.
pub fn required() -> bool {
    std::env::var("ZC_REQUIRE_LIVE").as_deref() == Ok("1")
}

/// Says loudly that `test` cannot run here because of `why`, or fails.
pub fn skip(test: &str, why: &str) {
    if required() {
        panic!("{test}: ZC_REQUIRE_LIVE=1 but {why}");
    }
    say_skipped(test, why);
}

/// Says loudly that part of a test could not run here (the rest did): a
/// skip that is not the test's prerequisite, so never a failure.
pub fn skip_part(test: &str, why: &str) {
    say_skipped(test, why);
}

/// Straight to stderr (the harness captures eprintln! of passing tests, and
/// a skip must never be silent), and to the file `cargo xtask test` counts.
fn say_skipped(test: &str, why: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
    if let Some(path) = std::env::var_os("ZC_SKIP_LOG")
        && let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
    {
        let _ = writeln!(f, "{test}: {why}");
    }
}

/// True when the test can trace live; otherwise skips (or fails) loudly.
pub fn live_or_skip(test: &str) -> bool {
    if can_trace() {
        return true;
    }
    skip(
        test,
        "it needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN) to trace live",
    );
    false
}

/// The measured fields of a run's JSON that a replay must reproduce exactly.
pub const REPLAYED_FIGURES: &[&str] = &[
    "strategy",
    "syscalls",
    "mode_switches",
    "sched_switches",
    "page_faults",
    "cpu_copy_bytes",
    "reference_bytes",
    "disk_read_bytes",
    "dma_bytes",
    "received_bytes",
    "received_ok",
    "elapsed_ns",
    "sender_cpu_ns",
    "lost_events",
    "receiver_copy_bytes",
    "movements",
    "differences",
    "event_check",
];

/// The runs of a trace as `zc replay --json` prints them (no root needed).
pub fn replay_json(trace: &std::path::Path) -> Vec<serde_json::Value> {
    zc_json_lines(&["replay".as_ref(), "--json".as_ref(), trace.as_os_str()])
}

/// `zc ARGS`, which must succeed, and its output: one JSON object per line.
#[allow(dead_code)] // not every test binary runs zc this way
pub fn zc_json_lines(args: &[&std::ffi::OsStr]) -> Vec<serde_json::Value> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_zc"))
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run zc");
    assert!(
        out.status.success(),
        "zc {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

/// The strategies of the table this kernel can run, in table order (what
/// `zc demo --strategy all` runs); each one it cannot is named, loudly, as
/// a part of `test` skipped here (kernel TLS on a kernel without
/// `CONFIG_TLS`: the kernel matrix runs it in the lab).
pub fn runnable(test: &str) -> Vec<zc::model::Strategy> {
    zc::model::Strategy::all()
        .filter(|s| match s.refusal() {
            None => true,
            Some(why) => {
                skip_part(test, &why);
                false
            }
        })
        .collect()
}

/// The strategies in table order, from the table itself: the only list.
#[allow(
    dead_code,
    reason = "not every test crate that shares this module asks"
)]
pub fn strategies() -> Vec<&'static str> {
    zc::model::Strategy::all().map(|s| s.name()).collect()
}

use std::{collections::BTreeSet, process::Command};

use serde_json::Value;

/// What the host holds that zc must not leave behind.
#[derive(Debug, PartialEq, Eq)]
pub struct HostState {
    pub net_namespaces: BTreeSet<String>,
    pub zc_links: BTreeSet<String>,
    pub bpf_programs: BTreeSet<u64>,
    pub tracefs_mounts: usize,
}

pub fn host_state() -> HostState {
    let mut net_namespaces = BTreeSet::new();
    if let Ok(procs) = std::fs::read_dir("/proc") {
        for p in procs.flatten() {
            if let Ok(tasks) = std::fs::read_dir(p.path().join("task")) {
                for t in tasks.flatten() {
                    if let Ok(l) = std::fs::read_link(t.path().join("ns/net")) {
                        net_namespaces.insert(l.to_string_lossy().into_owned());
                    }
                }
            }
        }
    }
    if let Ok(named) = std::fs::read_dir("/run/netns") {
        for n in named.flatten() {
            net_namespaces.insert(format!("named:{}", n.file_name().to_string_lossy()));
        }
    }
    let zc_links = std::fs::read_dir("/sys/class/net")
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("zc-"))
                .collect()
        })
        .unwrap_or_default();
    let bpf_programs = bpf_program_ids();
    let tracefs_mounts = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(" - tracefs "))
        .count();
    HostState {
        net_namespaces,
        zc_links,
        bpf_programs,
        tracefs_mounts,
    }
}

/// Ids of the loaded eBPF programs that are zc's (by name, which the kernel
/// keeps to 15 characters), from bpftool (installed by `cargo xtask setup`):
/// another tool's programs coming and going on the host are not zc's leftovers.
///
/// A program whose last link and descriptor closed is detached at once, but
/// the kernel frees it after an RCU grace period, so it may still be listed
/// for some milliseconds after zc exits. Waits up to a second for zc's
/// programs to be gone before answering: one still there then is a leftover.
pub fn bpf_program_ids() -> BTreeSet<u64> {
    bpf_program_ids_within(std::time::Duration::from_secs(1))
}

/// The same, waiting up to `within` for them to be gone.
#[allow(dead_code)] // not every test binary waits for another zc
pub fn bpf_program_ids_within(within: std::time::Duration) -> BTreeSet<u64> {
    let deadline = std::time::Instant::now() + within;
    loop {
        let ids = bpf_program_ids_now();
        if ids.is_empty() || std::time::Instant::now() >= deadline {
            return ids;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

fn bpf_program_ids_now() -> BTreeSet<u64> {
    zc_programs_loaded().into_iter().map(|(id, _)| id).collect()
}

/// The loaded eBPF programs that are zc's, by id and name, from bpftool.
/// The kernel keeps 15 characters of a name; bpftool gives the whole one
/// from the program's BTF where it has it, and either is matched.
pub fn zc_programs_loaded() -> Vec<(u64, String)> {
    let out = Command::new("bpftool")
        .args(["-j", "prog", "show"])
        .output()
        .expect("bpftool is needed by the live tests (cargo xtask setup installs it)");
    let v: Value = serde_json::from_slice(&out.stdout).expect("bpftool JSON");
    let ours: Vec<&str> = zc::kernel::probes::PROBES
        .iter()
        .flat_map(|p| p.sources())
        .map(|s| s.program)
        .chain([zc_common::FLOOR_PROGRAM])
        .collect();
    let is_ours = |n: &str| {
        ours.iter()
            .any(|o| *o == n || (n.len() == 15 && o.starts_with(n)))
    };
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| Some((p["id"].as_u64()?, p["name"].as_str()?.to_string())))
                .filter(|(_, n)| is_ours(n))
                .collect()
        })
        .unwrap_or_default()
}
