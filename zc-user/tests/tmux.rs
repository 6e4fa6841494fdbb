//! End to end in a real terminal: the real binary, live, inside tmux (80×24),
//! driven with keys and read back as a person would see it. Needs root (the
//! demo traces live) and tmux (`cargo xtask setup` installs it); without
//! root it says SKIPPED loudly, and fails under ZC_REQUIRE_LIVE=1.

mod common;
use common::live_or_skip;

use std::{
    path::Path,
    process::Command,
    sync::{
        Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A private tmux server with one 80×24 session running zc.
struct Tmux {
    socket: String,
}

impl Tmux {
    /// A tmux server of its own (a fresh socket each time: a server being
    /// killed must not race the next one).
    fn new() -> Tmux {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        Tmux {
            socket: format!("zc-test-{}-{n}", std::process::id()),
        }
    }

    /// Starts zc with `args` as the pane's own process (no shell): zc is
    /// then the session leader of its terminal.
    fn start_alone(args: &str) -> Tmux {
        let t = Tmux::new();
        let cmd = format!("{} {args}", env!("CARGO_BIN_EXE_zc"));
        t.run(&[
            "new-session",
            "-d",
            "-x",
            "80",
            "-y",
            "24",
            "-s",
            "zc",
            &cmd,
        ]);
        t
    }

    fn start(args: &str) -> Tmux {
        Tmux::start_in(args, Path::new("."))
    }

    /// Starts zc with `args` in directory `cwd`.
    fn start_in(args: &str, cwd: &Path) -> Tmux {
        Tmux::start_with("", args, cwd)
    }

    /// Starts `{prefix}zc {args}` (prefix: environment or a wrapper such as
    /// setpriv) in `cwd`. The shell prints zc's exit status after zc has left
    /// the alternate screen, which proves the normal screen is back, then
    /// waits, so the pane and its screen outlive zc.
    fn start_with(prefix: &str, args: &str, cwd: &Path) -> Tmux {
        let t = Tmux::new();
        let cmd = format!(
            "{prefix}{} {args}; echo ZC-EXIT=$?; sleep 30",
            env!("CARGO_BIN_EXE_zc")
        );
        let cwd = cwd.to_str().expect("utf-8 path");
        t.run(&[
            "new-session",
            "-d",
            "-x",
            "80",
            "-y",
            "24",
            "-s",
            "zc",
            "-c",
            cwd,
            &cmd,
        ]);
        t
    }

    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .env_remove("TMUX")
            .env("TERM", "xterm-256color")
            .output()
            .expect("tmux is needed (cargo xtask setup installs it)");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "zc"])
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "zc"];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    fn format(&self, f: &str) -> String {
        self.run(&["display-message", "-p", "-t", "zc", f])
            .trim()
            .to_string()
    }

    /// Waits until the screen satisfies `pred`, or fails with the last screen.
    fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {what}; screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits for zc to exit and returns its exit status, as the shell saw it.
    fn wait_exit(&self) -> String {
        let s = self.wait_for("zc to exit", |s| s.contains("ZC-EXIT="));
        let after = s.split("ZC-EXIT=").nth(1).unwrap_or("");
        after.chars().take_while(|c| c.is_ascii_digit()).collect()
    }

    /// The pid of zc (the pane runs a shell that runs zc).
    fn zc_pid(&self) -> String {
        let shell = self.format("#{pane_pid}");
        let out = Command::new("ps")
            .args(["-o", "pid=", "--ppid", &shell])
            .output()
            .expect("ps");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
    }
}

fn step_of(screen: &str) -> Option<u32> {
    let i = screen.find("step ")?;
    screen[i + 5..].split('/').next()?.trim().parse().ok()
}

#[test]
fn a_person_runs_the_demo_presses_keys_and_quits() {
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    if !live_or_skip("a_person_runs_the_demo_presses_keys_and_quits") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let t = Tmux::start_in(
        "demo --strategy read-write --size 1MiB --speed 4",
        dir.path(),
    );
    let s = t.wait_for("the diagram", |s| {
        s.contains("read + write") && s.contains("MODE SWITCHES")
    });
    for label in [
        "MODE SWITCHES",
        "page cache",
        "user buffer",
        "socket buffer",
        "veth",
        "CPU copy",
        "LIVE",
    ] {
        assert!(s.contains(label), "{label} missing:\n{s}");
    }
    // Playback moves on by itself.
    let first = step_of(&s).expect("step counter");
    let s = t.wait_for("playback to advance", |s| {
        step_of(s).is_some_and(|n| n > first + 1)
    });
    assert!(s.contains("played"), "{s}");

    // Space pauses, with a visible badge; nothing moves while paused.
    t.keys(&["Space"]);
    let s = t.wait_for("PAUSED", |s| s.contains("PAUSED"));
    let paused_at = step_of(&s);
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(
        step_of(&t.screen()),
        paused_at,
        "playback moved while paused"
    );
    // → steps one forward.
    t.keys(&["Right"]);
    t.wait_for("one step forward", |s| {
        step_of(s) == paused_at.map(|n| n + 1)
    });

    // ? shows help listing every key; any key closes it.
    t.keys(&["?"]);
    let s = t.wait_for("help", |s| s.contains("keys") && s.contains("this help"));
    for k in ["space", "compare", "speed", "quit", "中文"] {
        assert!(s.contains(k), "help lacks {k}:\n{s}");
    }
    t.keys(&["x"]);
    t.wait_for("help closed", |s| !s.contains("this help"));

    // l switches the language.
    t.keys(&["l"]);
    t.wait_for("Chinese", |s| s.contains("模式切换"));
    t.keys(&["l"]);
    t.wait_for("English again", |s| s.contains("MODE SWITCHES"));

    // r records the runs measured so far to a trace file.
    t.keys(&["r"]);
    let s = t.wait_for("the recording notice", |s| s.contains("recorded "));
    assert!(s.contains(".zctrace"), "{s}");

    // c compares every strategy, measuring the missing ones; its list
    // pages when the table outgrows 80×24, keeping the chart. Going down
    // the list (↓, wrapping round) shows every strategy measured.
    t.keys(&["c"]);
    let names: Vec<&str> = zc::strategy::Strategy::all().map(|s| s.name()).collect();
    let mut seen: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
    for _ in &names {
        // The chart is part of the condition: tmux may be read while a
        // frame is still arriving, and the row comes before the chart.
        let s = t.wait_for("the selected row measured, below it the chart", |s| {
            s.contains("compare")
                && s.lines()
                    .any(|l| l.trim_start().starts_with('›') && !l.contains('…'))
                && s.contains("CPU-copied bytes")
        });
        seen.extend(names.iter().filter(|n| s.contains(**n)));
        t.keys(&["Down"]);
    }
    assert_eq!(seen.len(), names.len(), "every strategy shown: {seen:?}");

    // q quits cleanly, leaving the alternate screen and showing the cursor.
    t.keys(&["q"]);
    assert_eq!(t.wait_exit(), "0", "zc exited with an error");
    assert_eq!(
        t.format("#{alternate_on}"),
        "0",
        "terminal left in the alternate screen"
    );
    assert_eq!(t.format("#{cursor_flag}"), "1", "cursor left hidden");
    assert!(
        !t.screen().contains("MODE SWITCHES"),
        "the TUI is still on screen"
    );

    // The trace r wrote replays without root, with the figures measured.
    let trace = std::fs::read_dir(dir.path())
        .expect("ls")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "zctrace"))
        .expect("r wrote a .zctrace file");
    let runs = common::replay_json(&trace);
    assert_eq!(runs[0]["strategy"], "read-write");
}

/// The "syscalls" row's measured column: what the kernel has counted.
fn measured_syscalls(screen: &str) -> Option<u64> {
    let row = screen.lines().find(|l| l.starts_with("syscalls"))?;
    row.split_whitespace().nth(2)?.parse().ok()
}

/// `zc demo --step`: the kernel makes one call per Enter, and its events
/// stream in as it makes them; the counters advance by exactly one call per
/// press and stand still in between. g runs the rest, and the whole run's
/// counts are an unstepped run's.
#[test]
fn a_person_steps_the_kernel_one_call_at_a_time() {
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    if !live_or_skip("a_person_steps_the_kernel_one_call_at_a_time") {
        return;
    }
    let before = common::host_state();
    let t = Tmux::start("demo --step --strategy read-write --size 256KiB");
    let s = t.wait_for("the stepped run to wait", |s| {
        s.contains("LIVE STEP") && s.contains("before its first call")
    });
    assert!(
        s.contains("Enter next call"),
        "the footer names the key:
{s}"
    );
    for k in 1..=3u64 {
        t.keys(&["Enter"]);
        let s = t.wait_for(&format!("call {k} counted"), |s| {
            measured_syscalls(s) == Some(k)
        });
        assert!(s.contains("LIVE STEP"), "{s}");
        // The sender waits again: nothing more is counted until the next press.
        std::thread::sleep(Duration::from_millis(800));
        let s = t.screen();
        assert_eq!(
            measured_syscalls(&s),
            Some(k),
            "moved without a key:
{s}"
        );
    }
    // The three calls were read, write, read, in that order, on the lane.
    let s = t.screen();
    assert!(s.contains("read") && s.contains("write"), "{s}");
    t.keys(&["g"]);
    let s = t.wait_for("the run to end", |s| s.contains("every byte explained"));
    // 256 KiB in 64 KiB chunks: 4 reads and 4 writes, as unstepped.
    assert_eq!(measured_syscalls(&s), Some(8), "{s}");
    assert!(
        !s.contains("LIVE STEP"),
        "still stepping after the run:
{s}"
    );
    t.keys(&["q"]);
    assert_eq!(t.wait_exit(), "0", "zc exited with an error");
    assert_eq!(common::host_state(), before, "zc left something behind");
}

/// Quitting while the sender waits at the gate lets it finish and cleans
/// up: nothing is left behind, and zc exits at once.
#[test]
fn quitting_a_stepped_run_leaves_nothing_behind() {
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    if !live_or_skip("quitting_a_stepped_run_leaves_nothing_behind") {
        return;
    }
    let before = common::host_state();
    let t = Tmux::start("demo --step --strategy splice --size 256KiB");
    t.wait_for("the stepped run to wait", |s| s.contains("LIVE STEP"));
    t.keys(&["Enter"]);
    t.wait_for("the first call", |s| measured_syscalls(s) == Some(1));
    let t0 = Instant::now();
    t.keys(&["q"]);
    assert_eq!(t.wait_exit(), "0", "zc exited with an error");
    assert!(
        t0.elapsed() < Duration::from_secs(10),
        "quitting took {:?}",
        t0.elapsed()
    );
    assert_eq!(common::host_state(), before, "zc left something behind");
}

/// Where zc cannot trace, it says why and offers the bundled recording,
/// which then plays labelled RECORDING.
#[test]
fn without_privileges_demo_offers_the_bundled_recording() {
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    if !live_or_skip("without_privileges_demo_offers_the_bundled_recording") {
        return;
    }
    // Root with every capability dropped cannot trace.
    let t = Tmux::start_with(
        "setpriv --inh-caps=-all --ambient-caps=-all --bounding-set=-all -- ",
        "demo",
        Path::new("."),
    );
    let s = t.wait_for("the offer", |s| s.contains("[Y/n]"));
    assert!(s.contains("needs root"), "{s}");
    t.keys(&["Enter"]);
    let s = t.wait_for("the recording playing", |s| s.contains("MODE SWITCHES"));
    assert!(s.contains("RECORDING"), "not labelled as a recording:\n{s}");
    assert!(!s.contains("LIVE"), "{s}");
    t.keys(&["q"]);
    assert_eq!(t.wait_exit(), "0");
}

/// Sends zc SIGTERM, waits for it to exit, and checks it left the
/// alternate screen and showed the cursor again.
fn terminate_and_check_the_terminal(t: &Tmux) {
    let pid = t.zc_pid();
    let ok = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(ok.success(), "kill -TERM {pid}");
    t.wait_exit();
    assert_eq!(
        t.format("#{alternate_on}"),
        "0",
        "terminal left in the alternate screen"
    );
    assert_eq!(t.format("#{cursor_flag}"), "1", "cursor left hidden");
}

#[test]
fn sigterm_restores_the_terminal() {
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    if !live_or_skip("sigterm_restores_the_terminal") {
        return;
    }
    let t = Tmux::start("demo --strategy sendfile --size 256KiB");
    t.wait_for("the diagram", |s| s.contains("MODE SWITCHES"));
    terminate_and_check_the_terminal(&t);
    // And nothing of zc is left on the host.
    let links: Vec<_> = std::fs::read_dir("/sys/class/net")
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        !links.iter().any(|n: &String| n.starts_with("zc-")),
        "{links:?}"
    );
}

#[test]
fn ctrl_c_and_a_panic_restore_the_terminal() {
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    if !live_or_skip("ctrl_c_and_a_panic_restore_the_terminal") {
        return;
    }
    let t = Tmux::start("demo --strategy mmap-write --size 256KiB");
    t.wait_for("the diagram", |s| {
        s.contains("mmap + write") && s.contains("MODE SWITCHES")
    });
    t.keys(&["C-c"]);
    assert_eq!(t.wait_exit(), "0");
    assert_eq!(t.format("#{alternate_on}"), "0");
    assert_eq!(t.format("#{cursor_flag}"), "1");
    drop(t);

    // Same again, with a deliberate panic after a few frames.
    let t = Tmux::start_with(
        "RUST_BACKTRACE=0 ZC_DEBUG_PANIC_AFTER_FRAMES=20 ",
        "demo --strategy read-write --size 256KiB",
        Path::new("."),
    );
    let code = t.wait_exit();
    assert_eq!(code, "101", "a panic exits 101");
    assert_eq!(
        t.format("#{alternate_on}"),
        "0",
        "panic left the alternate screen on"
    );
    assert_eq!(
        t.format("#{cursor_flag}"),
        "1",
        "panic left the cursor hidden"
    );
    let s = t.screen();
    assert!(
        s.contains("deliberate panic"),
        "the panic message shows on the normal screen:\n{s}"
    );
}

#[test]
fn without_a_terminal_demo_prints_the_report() {
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    if !live_or_skip("without_a_terminal_demo_prints_the_report") {
        return;
    }
    // Output to a pipe: the headless report, not escape codes.
    let out = Command::new(env!("CARGO_BIN_EXE_zc"))
        .args(["demo", "--strategy", "read-write", "--size", "256KiB"])
        .output()
        .expect("run zc");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("measured (kernel)") && !text.contains('\u{1b}'),
        "{text}"
    );
}

/// Record → replay shows the same screen: a live run and its replay, paused
/// at the same steps, draw the same picture (all but the LIVE/RECORDING title).
#[test]
fn replay_draws_the_same_screens_as_the_live_run() {
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    if !live_or_skip("replay_draws_the_same_screens_as_the_live_run") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let trace = dir.path().join("s.zctrace");
    let trace_s = trace.to_str().expect("utf-8");
    let live = Tmux::start(&format!(
        "demo --strategy sendfile --size 512KiB --record {trace_s}"
    ));
    live.wait_for("the live diagram", |s| {
        s.contains("MODE SWITCHES") && s.contains("LIVE")
    });
    let screens_at = |t: &Tmux| -> Vec<String> {
        t.keys(&["Space"]);
        t.wait_for("pause", |s| s.contains("PAUSED"));
        for _ in 0..60 {
            t.keys(&["Left"]);
        }
        t.wait_for("the first step", |s| step_of(s) == Some(1));
        let mut out = Vec::new();
        for n in 1..=6u32 {
            let s = t.wait_for("the step", |s| step_of(s) == Some(n));
            // Everything below the title bar.
            out.push(s.lines().skip(1).collect::<Vec<_>>().join("\n"));
            t.keys(&["Right"]);
        }
        out
    };
    let live_screens = screens_at(&live);
    live.keys(&["q"]);
    assert_eq!(live.wait_exit(), "0");
    assert!(trace.exists(), "--record wrote nothing");
    let replay = Tmux::start(&format!("replay {trace_s}"));
    replay.wait_for("the replay", |s| {
        s.contains("MODE SWITCHES") && s.contains("RECORDING")
    });
    let replay_screens = screens_at(&replay);
    for (i, (a, b)) in live_screens.iter().zip(&replay_screens).enumerate() {
        assert_eq!(a, b, "step {}: live and replay differ", i + 1);
    }
    replay.keys(&["q"]);
    assert_eq!(replay.wait_exit(), "0");
}

/// `zc sweep` in a terminal draws its chart (every strategy's line named,
/// the chunk sizes on the axis), `m` changes the figure, and SIGTERM
/// restores the terminal.
#[test]
fn sweep_draws_its_chart_and_a_signal_restores_the_terminal() {
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    if !live_or_skip("sweep_draws_its_chart_and_a_signal_restores_the_terminal") {
        return;
    }
    let t = Tmux::start(
        "sweep --strategy read-write,sendfile-gather --chunk 16KiB,256KiB --size 1MiB --runs 1",
    );
    let s = t.wait_for("the chart", |s| {
        s.contains("zc sweep") && s.contains("m next figure")
    });
    for label in [
        "read-write",
        "sendfile-gather",
        "16 KiB",
        "256 KiB",
        "sender CPU untraced",
    ] {
        assert!(s.contains(label), "{label} missing:\n{s}");
    }
    // The next figure: the same, measured while traced.
    t.keys(&["m"]);
    t.wait_for("the next figure", |s| s.contains("sender CPU while traced"));
    terminate_and_check_the_terminal(&t);
}

/// `zc trace`'s live view on a real server: the diagram fills in with the
/// server's own copies while curl fetches a file, the keys pause, switch
/// language and record, and q stops the trace, passes the interrupt on to
/// the server zc started, and restores the terminal.
#[test]
fn trace_view_fills_in_from_a_real_server() {
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    if !live_or_skip("trace_view_fills_in_from_a_real_server") {
        return;
    }
    let dir = tempfile::tempdir_in("/var/tmp").expect("tempdir");
    std::fs::write(dir.path().join("payload.bin"), vec![0x5au8; 16 << 20]).expect("file");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let python = if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    };
    let t = Tmux::start_in(
        &format!("trace -- {python} -m http.server {port} --bind 127.0.0.1"),
        dir.path(),
    );
    t.wait_for("the live diagram", |s| {
        s.contains("LIVE") && s.contains("process memory") && s.contains("page cache")
    });
    let t0 = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "the server never listened"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let st = Command::new("curl")
        .args(["-sf", "-o", "/dev/null", "--limit-rate", "32M"])
        .arg(format!("http://127.0.0.1:{port}/payload.bin"))
        .status()
        .expect("curl (cargo xtask setup installs it)");
    assert!(st.success());
    let s = t.wait_for("the server's verdict", |s| {
        s.contains("python3[") && s.contains("sent 16 MiB")
    });
    assert!(s.contains("read() copy") && s.contains("send copy"), "{s}");
    assert!(s.contains("payload.bin"), "the file is named:\n{s}");
    t.keys(&["p"]);
    t.wait_for("paused", |s| s.contains("PAUSED"));
    t.keys(&["l"]);
    t.wait_for("Chinese labels", |s| s.contains("页"));
    t.keys(&["r"]);
    t.wait_for("recorded", |s| s.contains("recorded to"));
    t.keys(&["q"]);
    assert_eq!(t.wait_exit(), "0");
    assert_eq!(t.format("#{alternate_on}"), "0", "alternate screen left on");
    assert_eq!(t.format("#{cursor_flag}"), "1", "cursor left hidden");
    let recorded = std::fs::read_dir(dir.path())
        .expect("dir")
        .flatten()
        .any(|e| e.file_name().to_string_lossy().ends_with(".zctrace"));
    assert!(recorded, "r wrote no recording");
    // The server got the interrupt and is gone.
    let t0 = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "the server still runs"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A signal ends `zc trace`'s live view at once, with the terminal
/// restored: after a hang-up nobody is left to press q (a view that waited
/// for a key once spun a CPU for 40 minutes after its tmux server went).
#[test]
fn a_signal_ends_the_trace_view() {
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    if !live_or_skip("a_signal_ends_the_trace_view") {
        return;
    }
    let t = Tmux::start("trace -- sleep 60");
    t.wait_for("the live diagram", |s| {
        s.contains("LIVE") && s.contains("page cache")
    });
    terminate_and_check_the_terminal(&t);
}

/// Whether process `pid` still runs (a zombie has ended: it waits for a
/// parent that may be gone with the tmux server).
fn running(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .and_then(|(_, r)| r.split_whitespace().next().map(|st| st != "Z"))
        })
        .unwrap_or(false)
}

/// Every view leaves within a second when its terminal goes away (the
/// tmux server killed: the tty hangs up under zc, which is the pane's own
/// process, its session leader): nothing is left behind, the traced
/// command gets the SIGHUP a shell would have passed on, and no CPU is
/// left spinning (a view that waited inside crossterm once spun for good).
#[test]
fn every_view_leaves_when_its_terminal_hangs_up() {
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    if !live_or_skip("every_view_leaves_when_its_terminal_hangs_up") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let rec = dir.path().join("rec.zctrace");
    let rec = rec.to_str().expect("utf-8 path");
    let before = common::host_state();
    // Something to replay first.
    let made = Command::new(env!("CARGO_BIN_EXE_zc"))
        .args([
            "demo",
            "--no-tui",
            "--strategy",
            "sendfile",
            "--size",
            "256KiB",
        ])
        .args(["--record", rec])
        .output()
        .expect("zc demo --record");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let views: [(&str, String, &str); 4] = [
        ("demo", "demo --size 256KiB".into(), "MODE SWITCHES"),
        (
            "stepped demo",
            "demo --step --strategy splice --size 256KiB".into(),
            "LIVE STEP",
        ),
        ("trace", "trace -- sleep 1000".into(), "LIVE"),
        ("replay", format!("replay {rec}"), "RECORDING"),
    ];
    for (name, args, shown) in views {
        let t = Tmux::start_alone(&args);
        t.wait_for(name, |s| s.contains(shown));
        let zc = t.format("#{pane_pid}");
        // The command zc traces, if any: zc's child.
        let out = Command::new("ps")
            .args(["-o", "pid=", "--ppid", &zc])
            .output()
            .expect("ps");
        let children: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        t.run(&["kill-server"]);
        let t0 = Instant::now();
        while running(&zc) && t0.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(10));
        }
        let took = t0.elapsed();
        assert!(
            !running(&zc),
            "{name}: zc still runs 5 s after its terminal went"
        );
        assert!(
            took < Duration::from_secs(1),
            "{name}: zc took {took:?} to leave"
        );
        for c in &children {
            let t1 = Instant::now();
            while running(c) && t1.elapsed() < Duration::from_secs(2) {
                std::thread::sleep(Duration::from_millis(10));
            }
            assert!(
                !running(c),
                "{name}: the traced command {c} was left running"
            );
        }
        assert_eq!(
            common::host_state(),
            before,
            "{name}: zc left something behind"
        );
    }
}
