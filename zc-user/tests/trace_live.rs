//! Live tests of `zc trace` against programs from Debian's packages that
//! nobody in this project wrote: Python's `http.server` (which copies each
//! byte twice) and nginx with `sendfile on` (which copies none), fetched
//! with curl over loopback. The figures are checked against what the
//! programs are known to do and against a second source: the bytes curl
//! received, the device's frags, the per-socket ledger.
//!
//! They need root and eBPF, nginx-light, python3 and curl (`cargo xtask
//! setup` installs them). Without root each test says SKIPPED loudly, or
//! fails under `ZC_REQUIRE_LIVE=1`.

mod common;
use common::{host_state, live_or_skip, skip};

use std::{
    io::{BufRead as _, BufReader},
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::Mutex,
    time::{Duration, Instant},
};

use serde_json::Value;

static LIVE: Mutex<()> = Mutex::new(());

fn zc_exe() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_zc"))
}

/// Debian's python3, not a version manager's shim.
fn python() -> &'static str {
    if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Skips (or fails under ZC_REQUIRE_LIVE) unless root and `programs` are here.
fn ready(test: &str, programs: &[&str]) -> bool {
    if !live_or_skip(test) {
        return false;
    }
    for p in programs {
        if !have(p) {
            skip(
                test,
                &format!("{p} is not installed (cargo xtask setup installs it)"),
            );
            return false;
        }
    }
    true
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn wait_port(port: u16) {
    let t0 = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "nothing listens on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A directory on a disk filesystem (tmpfs has no page-cache events) with
/// one file of `size` pseudo-random bytes.
fn served(size: usize) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir_in("/var/tmp").expect("tempdir");
    let file = dir.path().join("payload.bin");
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let bytes: Vec<u8> = (0..size)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    std::fs::write(&file, bytes).expect("write the served file");
    (dir, file)
}

/// curl's copy of `url`, compared with `file`.
fn fetch_and_compare(url: &str, file: &Path, extra: &[&str]) {
    let out = tempfile::NamedTempFile::new_in("/var/tmp").expect("tempfile");
    let st = Command::new("curl")
        .args(["-sf", "-o"])
        .arg(out.path())
        .args(extra)
        .arg(url)
        .status()
        .expect("run curl");
    assert!(st.success(), "curl {url}: {st}");
    assert!(
        std::fs::read(out.path()).expect("read") == std::fs::read(file).expect("read"),
        "curl got other bytes than {}",
        file.display()
    );
}

/// `zc trace ARGS`, started in the background; returns once zc says it
/// follows its processes.
fn zc_trace(args: &[&str]) -> Reaped {
    let mut child = Command::new(zc_exe())
        .arg("trace")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start zc trace");
    let err = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut told = false;
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            eprintln!("[zc] {line}");
            if !told && line.starts_with("zc: tracing") {
                let _ = tx.send(());
                told = true;
            }
        }
    });
    let child = Reaped(Some(child));
    rx.recv_timeout(Duration::from_secs(30))
        .expect("zc trace did not start following");
    child
}

/// A child that is interrupted, then killed, and reaped when dropped: a
/// test that fails half-way leaves no server (or zc, or the command zc
/// started, which gets the interrupt) running after it.
struct Reaped(Option<Child>);

impl Reaped {
    fn id(&self) -> u32 {
        self.0.as_ref().map_or(0, Child::id)
    }
    fn take(mut self) -> Child {
        self.0.take().expect("a child")
    }
}

impl Drop for Reaped {
    fn drop(&mut self) {
        let Some(mut c) = self.0.take() else { return };
        // SAFETY: kill on a child we started and have not reaped.
        unsafe { libc::kill(c.id() as i32, libc::SIGINT) };
        let t0 = Instant::now();
        while matches!(c.try_wait(), Ok(None)) && t0.elapsed() < Duration::from_secs(3) {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = c.kill();
        let _ = c.wait();
    }
}

/// Python's http.server on `port`, serving `dir`, started by the test (not
/// by zc), reaped when dropped.
fn http_server(port: u16, dir: &Path) -> Reaped {
    let c = Command::new(python())
        .args([
            "-m",
            "http.server",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
        ])
        .arg("--directory")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start http.server");
    Reaped(Some(c))
}

/// One JSON object per line.
fn json_lines(bytes: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

/// Ends a trace as Ctrl-C would, and reads its JSON: one object per tree.
fn stop(zc: Reaped) -> Vec<Value> {
    let zc = zc.take();
    // SAFETY: kill on a child we started.
    unsafe { libc::kill(zc.id() as i32, libc::SIGINT) };
    // Its output is read while it exits: a report larger than the pipe's
    // buffer would otherwise keep it from exiting.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(zc.wait_with_output());
    });
    let out = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("zc did not stop")
        .expect("zc output");
    assert!(out.status.success(), "zc trace exited {}", out.status);
    json_lines(&out.stdout)
}

fn u(v: &Value, path: &[&str]) -> u64 {
    let mut x = v;
    for k in path {
        x = &x[*k];
    }
    x.as_u64()
        .unwrap_or_else(|| panic!("{} is not a number in {v}", path.join(".")))
}

/// nginx, run from `dir` under `zc trace --json` and serving `root`; curl
/// (with `curl_args`) fetches `root/payload.bin` and compares it with the
/// file. Returns the trace's one tree, nginx stopped.
fn nginx_traced(dir: &Path, root: &Path, curl_args: &[&str]) -> Value {
    nginx_traced_with(dir, root, "", |port| {
        fetch_and_compare(
            &format!("http://127.0.0.1:{port}/payload.bin"),
            &root.join("payload.bin"),
            curl_args,
        )
    })
}

/// nginx, run from `dir` under `zc trace --json`, serving `root` with
/// `server` directives added; `client` talks to it on the port it is
/// given. Returns the trace's one tree, nginx stopped.
fn nginx_traced_with(dir: &Path, root: &Path, server: &str, client: impl FnOnce(u16)) -> Value {
    let port = free_port();
    let conf = dir.join("nginx.conf");
    std::fs::write(&conf, common::nginx::conf_with(dir, root, port, server)).expect("nginx.conf");
    let zc = zc_trace(&[
        "--json",
        "--",
        "nginx",
        "-c",
        conf.to_str().expect("utf-8"),
        "-p",
        dir.to_str().expect("utf-8"),
    ]);
    wait_port(port);
    client(port);
    let trees = stop(zc);
    kill_pid(u(&trees[0], &["root"]), libc::SIGQUIT);
    trees.into_iter().next().expect("a tree")
}

/// The process of the tree that sent the most.
fn sender(tree: &Value) -> &Value {
    tree["processes"]
        .as_array()
        .expect("processes")
        .iter()
        .max_by_key(|p| p["sent_bytes"].as_u64().unwrap_or(0))
        .expect("a process")
}

/// Every followed socket balances: what the process handed it left the
/// device, once, to the byte.
fn assert_sockets_balance(tree: &Value) {
    let socks = tree["sockets"].as_array().expect("sockets");
    assert!(!socks.is_empty(), "no socket followed: {tree}");
    for s in socks {
        assert_eq!(
            s["ledger"]["unexplained_bytes"].as_i64(),
            Some(0),
            "socket {} -> {}: {}",
            s["local"],
            s["remote"],
            s["ledger"]
        );
    }
    assert_eq!(tree["unexplained_bytes"].as_i64(), Some(0));
    // Bytes TCP counted and no probe saw come with the task in whose
    // context the kernel ran no program.
    let unseen: u64 = socks
        .iter()
        .map(|s| {
            u(s, &["ledger", "unseen_bytes"]) + u(s, &["ledger", "unseen_retransmitted_bytes"])
        })
        .sum();
    let blind = tree["blind_tasks"].as_array().expect("blind_tasks");
    assert!(
        unseen == 0 || !blind.is_empty(),
        "{unseen} bytes unseen and no task named"
    );
}

fn kill_pid(pid: u64, sig: i32) {
    // SAFETY: kill with a pid the test started (directly or through zc).
    unsafe { libc::kill(pid as i32, sig) };
}

/// Python's http.server reads the file into user memory and sends it from
/// there: 2 CPU copies per byte of the served file. zc starts it through a
/// shell that forks it, so the sending process is a child zc must follow.
/// The recording replays with the same verdict.
#[test]
fn python_http_server_copies_twice_per_byte_in_a_forked_child() {
    let _g = LIVE.lock().unwrap_or_else(|e| e.into_inner());
    if !ready(
        "python_http_server_copies_twice_per_byte_in_a_forked_child",
        &["curl"],
    ) {
        return;
    }
    let size = 16 << 20;
    let (dir, file) = served(size);
    let port = free_port();
    let rec = dir.path().join("trace.zctrace");
    let script = format!(
        "{} -m http.server {port} --bind 127.0.0.1 --directory {} & wait",
        python(),
        dir.path().display()
    );
    let zc = zc_trace(&[
        "--json",
        "--record",
        rec.to_str().expect("utf-8"),
        "--",
        "/bin/sh",
        "-c",
        &script,
    ]);
    wait_port(port);
    // At full speed: the file is open for a few milliseconds, between two
    // of zc's looks in /proc/PID/fd, so its name must come from the path
    // python passed to openat, read in the kernel.
    fetch_and_compare(&format!("http://127.0.0.1:{port}/payload.bin"), &file, &[]);
    let trees = stop(zc);
    assert_eq!(trees.len(), 1);
    let t = &trees[0];
    let p = sender(t);
    kill_pid(u(p, &["pid"]), libc::SIGTERM);
    kill_pid(u(t, &["root"]), libc::SIGTERM);
    // Followed into the child the shell forked.
    assert_eq!(p["parent"].as_u64(), t["root"].as_u64(), "{p}");
    assert!(
        p["comm"].as_str().unwrap_or("").starts_with("python"),
        "{p}"
    );
    let sent = u(p, &["sent_bytes"]);
    assert!(sent >= size as u64 && sent < size as u64 + 4096, "{p}");
    let cpb = p["copies_per_byte"].as_f64().expect("copies per byte");
    assert!((1.9..=2.1).contains(&cpb), "{cpb}: {p}");
    assert!(
        p["sent_file"]
            .as_str()
            .unwrap_or("")
            .ends_with("payload.bin"),
        "{p}"
    );
    // The two copies, each measured at its own site.
    assert!(
        u(p, &["copies", "page_cache_to_user"]) >= size as u64,
        "{p}"
    );
    assert!(u(p, &["sent", "copied_bytes"]) >= size as u64, "{p}");
    assert!(u(p, &["at_device", "file_page_bytes"]) == 0, "{p}");
    assert!(
        p["verdict"]
            .as_str()
            .unwrap_or("")
            .contains("2.00 CPU copies per byte"),
        "{p}"
    );
    assert_sockets_balance(t);
    // The recording replays with the same verdict.
    let out = Command::new(zc_exe())
        .args(["replay", "--no-tui"])
        .arg(&rec)
        .output()
        .expect("zc replay");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(p["verdict"].as_str().expect("verdict")),
        "{text}"
    );
    let raw = std::fs::read_to_string(&rec).expect("recording");
    assert!(!raw.contains("ffff8"), "a kernel address in the recording");
    // It exports as a handout, with the socket ledger; formats that draw a
    // demo strategy's steps refuse in one line.
    let export = |format: &str| {
        Command::new(zc_exe())
            .args(["export", "--format", format])
            .arg(&rec)
            .output()
            .expect("zc export")
    };
    let md = export("markdown");
    assert!(md.status.success());
    let md = String::from_utf8_lossy(&md.stdout);
    assert!(md.contains(p["verdict"].as_str().expect("verdict")), "{md}");
    assert!(md.contains("| unexplained |"), "{md}");
    let svg = export("svg");
    assert_eq!(svg.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&svg.stderr).lines().count(), 1);
}

/// `--no-syscalls`: the kernel holds none of zc's syscall programs while
/// it traces (bpftool, the second source), the send copy and the socket
/// ledger are measured as before, and what only the syscall tracepoints
/// measure is said to be untraced rather than counted as zero.
#[test]
fn a_trace_without_syscalls_leaves_them_unattached_and_still_balances() {
    let _g = LIVE.lock().unwrap_or_else(|e| e.into_inner());
    if !ready(
        "a_trace_without_syscalls_leaves_them_unattached_and_still_balances",
        &["curl"],
    ) {
        return;
    }
    let size = 8 << 20;
    let (dir, file) = served(size);
    let port = free_port();
    let script = format!(
        "exec {} -m http.server {port} --bind 127.0.0.1 --directory {}",
        python(),
        dir.path().display()
    );
    // bpftool lists every program loaded, not this zc's alone, and an
    // earlier test's zc (one in a tmux pane, say) may still be exiting:
    // its sys_enter was once still listed here. So none of zc's programs
    // may be loaded when this one starts.
    let earlier = common::bpf_program_ids_within(std::time::Duration::from_secs(10));
    assert!(
        earlier.is_empty(),
        "programs of an earlier zc are still loaded: {earlier:?}"
    );
    let zc = zc_trace(&["--json", "--no-syscalls", "--", "/bin/sh", "-c", &script]);
    let loaded: Vec<String> = common::zc_programs_loaded()
        .into_iter()
        .map(|(_, n)| n)
        .collect();
    for (name, attached) in [
        ("sys_enter", false),
        ("sys_exit", false),
        ("local_timer_entry", false),
        ("net_dev_queue", true),
        ("tcp_sendmsg_locked", true),
    ] {
        assert_eq!(
            loaded.iter().any(|n| n == name),
            attached,
            "{name} loaded: {loaded:?}"
        );
    }
    wait_port(port);
    fetch_and_compare(&format!("http://127.0.0.1:{port}/payload.bin"), &file, &[]);
    let trees = stop(zc);
    let t = &trees[0];
    kill_pid(u(t, &["root"]), libc::SIGTERM);
    assert_eq!(t["syscalls_traced"], false, "{t}");
    assert_eq!(u(t, &["syscall_total"]), 0, "{t}");
    let p = sender(t);
    let sent = u(p, &["sent_bytes"]);
    assert!(sent >= size as u64 && sent < size as u64 + 4096, "{p}");
    // The copy into the socket is TCP's own tracepoint's, not a syscall's.
    assert!(u(p, &["sent", "copied_bytes"]) >= size as u64, "{p}");
    assert!(u(p, &["copies", "user_to_socket"]) >= size as u64, "{p}");
    assert_eq!(u(p, &["copies", "page_cache_to_user"]), 0, "{p}");
    assert!(
        p["verdict"]
            .as_str()
            .unwrap_or("")
            .ends_with("read() not traced"),
        "{p}"
    );
    assert_sockets_balance(t);
}

/// nginx with `sendfile on`: the worker nginx forks sends the file by
/// reference, and the device's frags are the file's own pages.
#[test]
fn nginx_sendfile_sends_by_reference() {
    let _g = LIVE.lock().unwrap_or_else(|e| e.into_inner());
    if !ready("nginx_sendfile_sends_by_reference", &["nginx", "curl"]) {
        return;
    }
    let size = 32 << 20;
    let (dir, _) = served(size);
    // Slow enough that the file is open while zc looks for its name.
    let tree = nginx_traced(dir.path(), dir.path(), &["--limit-rate", "64M"]);
    let t = &tree;
    // TCP's own count, read in the kernel as the socket closed, is the
    // second source: every byte the worker handed its socket is a first
    // transmission that TCP counted and a probe saw, or one it counted and
    // none saw (unseen).
    let sock = counted_socket(t, "sent_bytes");
    let l = &sock["ledger"];
    assert_eq!(
        u(l, &["first_transmission_bytes"]) + u(l, &["unseen_bytes"]),
        u(l, &["sent_bytes"]),
        "{sock}"
    );
    let p = sender(t);
    assert_eq!(p["parent"].as_u64(), t["root"].as_u64(), "the worker: {p}");
    let sent = u(p, &["sent_bytes"]);
    assert!(sent >= size as u64, "{p}");
    let referenced = u(p, &["sent", "referenced_bytes"]);
    assert!(referenced as f64 >= 0.9 * sent as f64, "{p}");
    // The second source: the skbs at the device hold the file's pages.
    assert!(
        u(p, &["at_device", "file_page_bytes"]) as f64 >= 0.9 * size as f64,
        "{p}"
    );
    assert!(p["copies_per_byte"].as_f64().expect("cpb") < 0.01, "{p}");
    assert!(
        p["sent_file"]
            .as_str()
            .unwrap_or("")
            .ends_with("payload.bin"),
        "{p}"
    );
    assert!(
        p["verdict"]
            .as_str()
            .unwrap_or("")
            .contains("100 % by reference (sendfile), 0 CPU copies per byte"),
        "{p}"
    );
    assert_sockets_balance(t);
}

/// `--pid` on a server that runs already: zc follows it while a second,
/// untraced server sends at the same time; the second one's bytes are
/// nowhere in the report. After zc detaches, the server still serves, and
/// no eBPF program of zc's is left.
#[test]
fn a_running_server_is_followed_alone_and_left_serving() {
    let _g = LIVE.lock().unwrap_or_else(|e| e.into_inner());
    if !ready(
        "a_running_server_is_followed_alone_and_left_serving",
        &["curl"],
    ) {
        return;
    }
    let size = 8 << 20;
    let (dir_a, file_a) = served(size);
    let (dir_b, file_b) = served(size + 4096);
    let (port_a, port_b) = (free_port(), free_port());
    let a = http_server(port_a, dir_a.path());
    let _b = http_server(port_b, dir_b.path());
    wait_port(port_a);
    wait_port(port_b);
    let before = host_state();
    let zc = zc_trace(&["--json", "--pid", &a.id().to_string()]);
    let url_b = format!("http://127.0.0.1:{port_b}/payload.bin");
    let other = std::thread::spawn(move || {
        for _ in 0..3 {
            fetch_and_compare(&url_b, &file_b, &[]);
        }
    });
    fetch_and_compare(
        &format!("http://127.0.0.1:{port_a}/payload.bin"),
        &file_a,
        &[],
    );
    other.join().expect("the untraced transfer");
    let trees = stop(zc);
    let t = &trees[0];
    assert_eq!(u(t, &["root"]), a.id() as u64);
    let sent = u(t, &["sent_bytes"]);
    assert!(
        sent >= size as u64 && sent < size as u64 + 4096,
        "the traced server sent {sent}, not its one file: the other's bytes leaked in? {t}"
    );
    for s in t["sockets"].as_array().expect("sockets") {
        let local = s["local"].as_str().unwrap_or("");
        assert!(
            local.ends_with(&format!(":{port_a}")),
            "a socket that is not the traced server's: {s}"
        );
    }
    assert_sockets_balance(t);
    // Detached: it still serves, and zc left nothing attached.
    fetch_and_compare(
        &format!("http://127.0.0.1:{port_a}/payload.bin"),
        &file_a,
        &[],
    );
    assert_eq!(host_state(), before, "zc trace left something behind");
}

/// A server that takes thousands of short connections: every one is listed
/// with its own balanced ledger, and the sockets' bytes add up to the
/// process's. Before closed sockets were dropped from the kernel's maps,
/// 5000 connections (an entry per socket and figure, ten figures or more
/// each) overflowed the per-socket LRU map, which then evicted counts.
#[test]
fn thousands_of_connections_are_each_counted() {
    let _g = LIVE.lock().unwrap_or_else(|e| e.into_inner());
    if !ready("thousands_of_connections_are_each_counted", &[]) {
        return;
    }
    const REQUESTS: usize = 5000;
    let size = 16 << 10;
    let (dir, _file) = served(size);
    let port = free_port();
    let server = http_server(port, dir.path());
    wait_port(port);
    let zc = zc_trace(&["--json", "--pid", &server.id().to_string()]);
    let mut received = 0u64;
    for _ in 0..REQUESTS {
        use std::io::{Read as _, Write as _};
        let mut c = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        c.write_all(b"GET /payload.bin HTTP/1.0\r\n\r\n")
            .expect("request");
        let mut body = Vec::new();
        c.read_to_end(&mut body).expect("response");
        assert!(body.len() > size, "a short response: {} bytes", body.len());
        received += body.len() as u64;
    }
    let trees = stop(zc);
    let t = &trees[0];
    let socks = t["sockets"].as_array().expect("sockets");
    assert_eq!(socks.len(), REQUESTS, "one socket per connection");
    let per_socket: u64 = socks.iter().map(|s| u(s, &["ledger", "sent_bytes"])).sum();
    assert_eq!(
        per_socket,
        u(t, &["sent_bytes"]),
        "the sockets add up to the tree"
    );
    // Second source: what the client read is what the server sent.
    assert_eq!(per_socket, received, "bytes the client received");
    assert_eq!(
        t["unexplained_bytes"].as_i64(),
        Some(0),
        "{}",
        t["unexplained_bytes"]
    );
    assert_sockets_balance(t);
    drop(server);
}

/// A command that exits ends the trace: the report prints, and the
/// command's exit code is zc's. A `--pid` that exits ends it too.
#[test]
fn the_trace_ends_with_its_programs_and_passes_their_exit_code() {
    let _g = LIVE.lock().unwrap_or_else(|e| e.into_inner());
    if !ready(
        "the_trace_ends_with_its_programs_and_passes_their_exit_code",
        &[],
    ) {
        return;
    }
    let out = Command::new(zc_exe())
        .args([
            "trace",
            "--json",
            "--",
            "/bin/sh",
            "-c",
            "cat /etc/hostname >/dev/null; exit 7",
        ])
        .output()
        .expect("zc trace");
    assert_eq!(
        out.status.code(),
        Some(7),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let trees = json_lines(&out.stdout);
    assert_eq!(trees.len(), 1, "one tree, one line");
    let t = &trees[0];
    // sh forked cat (or exec'd it): at least one process read the file.
    assert!(u(t, &["copies", "page_cache_to_user"]) > 0, "{t}");
    assert!(u(t, &["syscall_total"]) > 10, "{t}");
    let mut sleeper = Command::new("sleep").arg("1").spawn().expect("sleep");
    let t0 = Instant::now();
    let out = Command::new(zc_exe())
        .args(["trace", "--no-tui", "--pid", &sleeper.id().to_string()])
        .output()
        .expect("zc trace --pid");
    let _ = sleeper.wait();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("every followed process exited"), "{text}");
    assert!(t0.elapsed() < Duration::from_secs(10));
}

/// Files are named as the process opened them, on file systems where
/// `stat` would not find the kernel's key: nginx serving from overlayfs
/// (its pages live in the lower file's inode, on another file system)
/// and `cat` reading from a btrfs subvolume (whose `stat` device is the
/// subvolume's, not the super block's the page cache names).
#[test]
fn files_are_named_as_opened_on_overlayfs_and_btrfs() {
    const NAME: &str = "files_are_named_as_opened_on_overlayfs_and_btrfs";
    let _g = LIVE.lock().unwrap_or_else(|e| e.into_inner());
    if !ready(NAME, &["nginx", "curl"]) {
        return;
    }
    let size = 8 << 20;
    let mut m = common::fs::Mounts::new();
    let dir = tempfile::tempdir_in("/var/tmp").expect("tempdir");
    let (merged, lower) = match m.overlay(dir.path()) {
        Ok(o) => o,
        Err(common::fs::Unavailable(why)) => {
            common::skip(NAME, &why);
            return;
        }
    };
    common::fs::write_file(&lower.join("payload.bin"), size);
    let tree = nginx_traced(dir.path(), &merged, &[]);
    let p = sender(&tree);
    let served_path = merged.join("payload.bin").display().to_string();
    assert_eq!(p["sent_file"].as_str(), Some(served_path.as_str()), "{p}");
    assert!(u(p, &["sent", "referenced_bytes"]) >= size, "{p}");
    assert!(u(p, &["at_device", "file_page_bytes"]) >= size, "{p}");

    match m.btrfs_subvolume() {
        Ok(sub) => {
            let file = sub.join("f");
            common::fs::write_file(&file, size);
            let out = Command::new(zc_exe())
                .args(["trace", "--json", "--", "sh", "-c"])
                .arg(format!("cat '{}' > /dev/null", file.display()))
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .output()
                .expect("zc trace cat");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let text = String::from_utf8_lossy(&out.stdout);
            let report: Value =
                serde_json::from_str(text.lines().last().expect("a report")).expect("JSON report");
            let files = report["files"].as_array().expect("files");
            let named = files
                .iter()
                .find(|f| f["copied_bytes"].as_u64() == Some(size))
                .unwrap_or_else(|| panic!("no file with {size} bytes copied: {report}"));
            assert_eq!(
                named["path"].as_str(),
                Some(file.display().to_string().as_str())
            );
        }
        Err(common::fs::Unavailable(why)) => common::skip_part(NAME, &why),
    }
}

/// The one tree of `zc trace --json -- COMMAND`, run until the command
/// exits.
fn trace_to_exit(command: &[&str]) -> Value {
    let mut args: Vec<&std::ffi::OsStr> = vec!["trace".as_ref(), "--json".as_ref(), "--".as_ref()];
    args.extend(command.iter().map(std::ffi::OsStr::new));
    common::zc_json_lines(&args).remove(0)
}

/// The socket whose ledger's `key` is largest, which must have closed in
/// the trace: TCP's own count was read for it.
fn counted_socket<'a>(t: &'a Value, key: &str) -> &'a Value {
    let sock = t["sockets"]
        .as_array()
        .expect("sockets")
        .iter()
        .max_by_key(|s| u(s, &["ledger", key]))
        .expect("a socket");
    assert_eq!(sock["ledger"]["tcp_counted"], Value::Bool(true), "{sock}");
    sock
}

/// The socket that took the most, and its receive ledger held against
/// TCP's own count, read in the kernel as it closed.
fn receiving_socket(t: &Value) -> &Value {
    let sock = counted_socket(t, "received_copied_bytes");
    let l = &sock["ledger"];
    assert_eq!(
        u(l, &["received_copied_bytes"]),
        u(l, &["received_by_tcp_bytes"]),
        "{sock}"
    );
    sock
}

/// Receiving is a verdict too: a client that mostly receives (iperf3 -R,
/// curl) and a server receiving an upload (nginx reading a request body)
/// each get one that says what they received and how, and each socket's
/// receive ledger balances against what TCP says the program took. The
/// other sources: iperf3's own count of the bytes it received, curl's
/// file compared with the served one, and the upload's size.
#[test]
fn receiving_is_a_verdict_and_a_ledger_too() {
    let _g = LIVE.lock().unwrap_or_else(|e| e.into_inner());
    if !ready(
        "receiving_is_a_verdict_and_a_ledger_too",
        &["iperf3", "nginx", "curl"],
    ) {
        return;
    }
    // iperf3 -R: the server (not traced) sends, the traced client receives.
    let port = free_port();
    let _server = Reaped(Some(
        Command::new("iperf3")
            .args(["-s", "-p", &port.to_string(), "-B", "127.0.0.1"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("iperf3 -s"),
    ));
    wait_port(port);
    let log = tempfile::NamedTempFile::new_in("/var/tmp").expect("tempfile");
    let logfile = log.path().to_str().expect("utf-8");
    let t = trace_to_exit(&[
        "iperf3",
        "-c",
        "127.0.0.1",
        "-p",
        &port.to_string(),
        "-R",
        "-n",
        "256M",
        "-J",
        "--logfile",
        logfile,
    ]);
    let theirs: Value =
        serde_json::from_str(&std::fs::read_to_string(log.path()).expect("iperf3's log"))
            .expect("iperf3's JSON");
    let got = u(&theirs, &["end", "sum_received", "bytes"]);
    assert!(got >= 256 << 20, "{theirs}");
    let sock = receiving_socket(&t);
    assert_eq!(
        u(&sock["ledger"], &["received_copied_bytes"]),
        got,
        "{sock}"
    );
    let v = t["verdict"][0].as_str().expect("a verdict");
    assert!(v.starts_with("iperf3["), "{v}");
    assert!(v.contains("; received 256"), "{v}");
    assert!(v.ends_with("copied into user memory"), "{v}");
    assert_sockets_balance(&t);

    // curl receiving from an nginx zc does not follow.
    let size = 8 << 20;
    let (dir, file) = served(size);
    let port = free_port();
    let conf = dir.path().join("nginx.conf");
    std::fs::write(&conf, common::nginx::conf(dir.path(), dir.path(), port)).expect("nginx.conf");
    let _nginx = Reaped(Some(
        Command::new("nginx")
            .arg("-c")
            .arg(&conf)
            .arg("-p")
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx"),
    ));
    wait_port(port);
    let copy = dir.path().join("copy.bin");
    let url = format!("http://127.0.0.1:{port}/payload.bin");
    let t = trace_to_exit(&["curl", "-sf", "-o", copy.to_str().expect("utf-8"), &url]);
    assert!(
        std::fs::read(&copy).expect("curl's copy") == std::fs::read(&file).expect("the file"),
        "curl got other bytes"
    );
    let sock = receiving_socket(&t);
    // The body and nginx's response header.
    assert!(
        u(&sock["ledger"], &["received_copied_bytes"]) > size as u64,
        "{sock}"
    );
    let v = t["verdict"][0].as_str().expect("a verdict");
    assert!(v.starts_with("curl["), "{v}");
    assert!(v.contains("; received 8"), "{v}");
    assert_sockets_balance(&t);

    // nginx, traced, receiving an upload: WebDAV's PUT writes the body to
    // a file, which must then equal the one sent.
    drop(_nginx);
    let put = dir.path().join("up").join("upload.bin");
    let dav =
        "location /up/ { dav_methods PUT; create_full_put_path on; client_max_body_size 64m; }";
    let tree = nginx_traced_with(dir.path(), dir.path(), dav, |port| {
        let st = Command::new("curl")
            .args(["-sf", "-o", "/dev/null", "-T"])
            .arg(&file)
            .arg(format!("http://127.0.0.1:{port}/up/upload.bin"))
            .status()
            .expect("curl -T");
        assert!(st.success(), "curl PUT: {st}");
    });
    assert!(
        std::fs::read(&put).expect("the upload") == std::fs::read(&file).expect("the file"),
        "nginx wrote other bytes than were sent"
    );
    let sock = receiving_socket(&tree);
    assert!(
        u(&sock["ledger"], &["received_copied_bytes"]) > size as u64,
        "{sock}"
    );
    let p = sender(&tree);
    let v = p["verdict"].as_str().expect("a verdict");
    assert!(v.contains("; received 8"), "{v}");
    assert_sockets_balance(&tree);
}

/// Receiving without a copy: a program that splices a socket into a pipe,
/// and one that maps a socket's pages with `TCP_ZEROCOPY_RECEIVE`. Each
/// way is counted apart from the copy, against the program's own count of
/// what it took (the splices' return values, the `length` the kernel
/// left in its struct), and each socket's receive ledger balances against
/// what TCP says the program took.
#[test]
fn a_receive_by_splice_or_by_mapping_is_counted_as_such() {
    let _g = LIVE.lock().unwrap_or_else(|e| e.into_inner());
    if !ready(
        "a_receive_by_splice_or_by_mapping_is_counted_as_such",
        &["python3"],
    ) {
        return;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/receiver.py");
    let size: u64 = 8 << 20;
    let run = |mode: &str| -> (Value, Value) {
        let log = tempfile::NamedTempFile::new_in("/var/tmp").expect("tempfile");
        let logfile = log.path().to_str().expect("utf-8");
        let t = trace_to_exit(&[python(), script, mode, &size.to_string(), logfile]);
        let theirs: Value =
            serde_json::from_str(&std::fs::read_to_string(log.path()).expect("the program's log"))
                .expect("the program's JSON");
        (t, theirs)
    };
    let took = |t: &Value, key: &str| -> u64 {
        let sock = counted_socket(t, "received_by_tcp_bytes");
        assert_eq!(u(sock, &["received_bytes"]), size, "{sock}");
        u(&sock["ledger"], &[key])
    };

    let (t, theirs) = run("splice");
    assert_eq!(u(&theirs, &["spliced"]), size, "{theirs}");
    assert_eq!(took(&t, "received_spliced_bytes"), size, "{t}");
    assert_eq!(took(&t, "received_copied_bytes"), 0, "{t}");
    assert_eq!(u(&t, &["received", "spliced_bytes"]), size, "{t}");
    let v = t["verdict"][0].as_str().expect("a verdict");
    assert!(v.ends_with("spliced into a pipe"), "{v}");
    assert_sockets_balance(&t);

    let (t, theirs) = run("map");
    let (mapped, copied) = (u(&theirs, &["mapped"]), u(&theirs, &["copied"]));
    assert_eq!(mapped + copied, size, "{theirs}");
    // Loopback delivers MSG_ZEROCOPY's pages copied into whole fresh
    // pages, which the kernel can map: some always are.
    assert!(mapped > 0, "the kernel mapped nothing: {theirs}");
    assert_eq!(took(&t, "received_mapped_bytes"), mapped, "{t}");
    assert_eq!(took(&t, "received_copied_bytes"), copied, "{t}");
    let v = t["verdict"][0].as_str().expect("a verdict");
    assert!(
        v.contains("mapped into its memory (TCP_ZEROCOPY_RECEIVE)"),
        "{v}"
    );
    assert_sockets_balance(&t);
}
