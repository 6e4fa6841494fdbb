//! `zc replay` and `zc export` on a real recording (the one zc ships, made
//! live on Linux 6.18): every format is produced and checked — JSON parsed,
//! tables against the model, snapshots for Mermaid and Markdown, SVG and HTML
//! loaded in a real headless browser (Debian's chromium). Bad traces and bad
//! output paths get one line and a non-zero exit, and overwrite nothing.
//! None of this needs root.

mod common;

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

use serde_json::Value;

const BUNDLED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../recordings/linux-6.18-4mib.zctrace"
);
const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/demo-1mib.json");

fn zc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zc"))
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("run zc")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "zc failed ({:?}): {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn export(format: &str, trace: &str, extra: &[&str]) -> String {
    let mut args = vec!["export", trace, "--format", format];
    args.extend_from_slice(extra);
    ok(&zc(&args))
}

fn one_line_error(out: &Output, code: i32, needle: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err:?}");
    assert!(err.contains(needle), "{err:?} lacks {needle:?}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn replay_without_root_prints_the_recorded_figures() {
    let runs = common::replay_json(Path::new(BUNDLED));
    let names: Vec<_> = runs
        .iter()
        .map(|r| r["strategy"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(names, common::STRATEGIES);
    // The figures replayed are the ones the live run printed when it recorded.
    let trace: Value =
        serde_json::from_slice(&std::fs::read(BUNDLED).expect("read")).expect("trace JSON");
    for (r, stored) in runs.iter().zip(trace["runs"].as_array().expect("runs")) {
        let live = &stored["summary"];
        for key in common::REPLAYED_FIGURES {
            assert_eq!(
                r[key], live[key],
                "{}: {key} differs between live and replay",
                r["strategy"]
            );
        }
    }
    let text = ok(&zc(&["replay", "--bundled", "--no-tui"]));
    assert!(
        text.contains("read-write") && text.contains("sendfile-gather"),
        "{text}"
    );
}

#[test]
fn perfetto_has_the_tracks_and_every_syscall() {
    let doc: Value =
        serde_json::from_str(&export("perfetto", BUNDLED, &[])).expect("Chrome trace JSON");
    let evs = doc["traceEvents"].as_array().expect("traceEvents");
    let threads: Vec<&str> = evs
        .iter()
        .filter(|e| e["name"] == "thread_name")
        .filter_map(|e| e["args"]["name"].as_str())
        .collect();
    for t in ["sender: user/kernel", "receiver", "bytes moved"] {
        assert!(threads.contains(&t), "no {t} track");
    }
    let runs = common::replay_json(Path::new(BUNDLED));
    for (i, r) in runs.iter().enumerate() {
        let pid = i as u64 + 1;
        let calls = evs
            .iter()
            .filter(|e| e["cat"] == "syscall" && e["pid"] == pid)
            .count() as u64;
        assert_eq!(
            calls,
            r["syscall_total"].as_u64().expect("n"),
            "{}",
            r["strategy"]
        );
        let copied: u64 = evs
            .iter()
            .filter(|e| e["cat"] == "cpu_copy" && e["pid"] == pid && e["tid"] == 3)
            .map(|e| e["args"]["bytes"].as_u64().expect("bytes"))
            .sum();
        assert_eq!(
            copied,
            r["cpu_copy_bytes"].as_u64().expect("n"),
            "{}",
            r["strategy"]
        );
    }
    assert!(
        evs.iter()
            .all(|e| e["ts"].as_f64().is_none_or(|t| t >= 0.0))
    );
}

#[test]
fn csv_matches_the_model() {
    let text = export("csv", BUNDLED, &[]);
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let runs = common::replay_json(Path::new(BUNDLED));
    for (line, r) in lines.zip(&runs) {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells.len(), header.len(), "{line}");
        let col = |name: &str| cells[header.iter().position(|h| *h == name).expect("column")];
        assert_eq!(col("strategy"), r["strategy"].as_str().expect("s"));
        assert_eq!(col("cpu_copy_bytes"), r["cpu_copy_bytes"].to_string());
        assert_eq!(col("reference_bytes"), r["reference_bytes"].to_string());
        assert_eq!(col("mode_switches"), r["mode_switches"].to_string());
    }
}

#[test]
fn markdown_and_mermaid_match_their_snapshots() {
    insta::assert_snapshot!("markdown", export("markdown", FIXTURE, &[]));
    for s in common::STRATEGIES {
        insta::assert_snapshot!(
            format!("mermaid_{s}"),
            export("mermaid", FIXTURE, &["--strategy", s])
        );
    }
}

#[test]
fn asciicast_is_valid_v2_and_ends_on_the_compare_view() {
    let text = export("cast", FIXTURE, &[]);
    let mut lines = text.lines();
    let header: Value = serde_json::from_str(lines.next().expect("header")).expect("header JSON");
    assert_eq!(header["version"], 2);
    assert_eq!(
        (header["width"].as_u64(), header["height"].as_u64()),
        (Some(80), Some(24))
    );
    let mut last_t = 0.0;
    let mut frames = Vec::new();
    for l in lines {
        let v: Value = serde_json::from_str(l).expect("event JSON");
        let t = v[0].as_f64().expect("time");
        assert!(t >= last_t, "time went back");
        last_t = t;
        assert_eq!(v[1], "o");
        frames.push(v[2].as_str().expect("data").to_string());
    }
    assert!(frames.len() > 20, "only {} frames", frames.len());
    assert!(frames.iter().any(|f| f.contains("read + write")));
    assert!(frames.iter().any(|f| f.contains("sendfile + DMA gather")));
    assert!(
        frames.iter().rev().take(3).any(|f| f.contains("compare")),
        "does not end on compare"
    );
}

// ---------------------------------------------------------------- browser

fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

fn browser_or_skip(test: &str) -> Option<PathBuf> {
    let c = chromium();
    if c.is_none() {
        common::skip(
            test,
            "chromium is missing (cargo xtask setup installs Debian's)",
        );
    }
    c
}

fn headless(chrome: &Path, profile: &Path, args: &[&str]) -> Output {
    Command::new(chrome)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .expect("run chromium")
}

#[test]
fn html_page_steps_and_speaks_both_languages_in_a_real_browser() {
    let Some(chrome) =
        browser_or_skip("html_page_steps_and_speaks_both_languages_in_a_real_browser")
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("zc.html");
    ok(&zc(&[
        "export",
        FIXTURE,
        "--format",
        "html",
        "-o",
        page.to_str().expect("utf-8"),
    ]));
    let html = std::fs::read_to_string(&page).expect("page");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "the page must need no network"
    );
    let profile = dir.path().join("profile");
    let url = |frag: &str| format!("file://{}#{frag}", page.display());
    // Step 4 of sendfile, in Chinese, paused: the page shows that frame.
    let dom = headless(
        &chrome,
        &profile,
        &["--dump-dom", &url("s=sendfile&p=3&lang=zh&play=0")],
    );
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.contains(r#"data-strategy="sendfile""#),
        "strategy not selected"
    );
    assert!(dom.contains(r#"data-pos="3""#), "not at step 4");
    assert!(dom.contains("网卡不支持分散/聚集"), "no Chinese title");
    assert!(dom.contains("4 / "), "position not shown");
    // The first frame of read-write in English shows the diagram.
    let dom = headless(
        &chrome,
        &profile,
        &["--dump-dom", &url("s=read-write&p=1&lang=en&play=0")],
    );
    let dom = String::from_utf8_lossy(&dom.stdout);
    for needle in [
        "page cache",
        "user buffer",
        "CPU copy",
        "MODE SWITCHES",
        "RECORDING",
    ] {
        assert!(dom.contains(needle), "page lacks {needle}");
    }
    let shot = dir.path().join("page.png");
    headless(
        &chrome,
        &profile,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1000,820",
            &url("s=sendfile-gather&p=5&play=0"),
        ],
    );
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "screenshot of {} bytes",
        png.len()
    );
    let keep = std::env::var_os("ZC_KEEP_SCREENSHOTS").map(PathBuf::from);
    if let Some(k) = keep {
        let _ = std::fs::copy(&shot, k.join("html.png"));
    }
}

#[test]
fn svg_still_loads_in_a_real_browser() {
    let Some(chrome) = browser_or_skip("svg_still_loads_in_a_real_browser") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let svg = dir.path().join("sendfile.svg");
    ok(&zc(&[
        "export",
        FIXTURE,
        "--format",
        "svg",
        "--strategy",
        "sendfile",
        "-o",
        svg.to_str().expect("utf-8"),
    ]));
    let text = std::fs::read_to_string(&svg).expect("svg");
    assert!(text.starts_with("<svg") && text.trim_end().ends_with("</svg>"));
    assert!(text.contains("socket buffer") && text.contains("CPU copy"));
    let profile = dir.path().join("profile");
    let url = format!("file://{}", svg.display());
    let dom = headless(&chrome, &profile, &["--dump-dom", &url]);
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.contains("<svg") && !dom.contains("parsererror"),
        "the browser did not parse the SVG: {dom}"
    );
    let shot = dir.path().join("svg.png");
    headless(
        &chrome,
        &profile,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=740,450",
            &url,
        ],
    );
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "screenshot of {} bytes",
        png.len()
    );
    if let Some(k) = std::env::var_os("ZC_KEEP_SCREENSHOTS").map(PathBuf::from) {
        let _ = std::fs::copy(&shot, k.join("svg.png"));
    }
}

// ---------------------------------------------------------------- bad input

#[test]
fn bad_traces_get_one_line_and_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = std::fs::read(FIXTURE).expect("fixture");
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).expect("write");
        p
    };
    let mut v: Value = serde_json::from_slice(&good).expect("fixture JSON");
    v["version"] = Value::from(999);
    let newer = v.to_string();
    v["version"] = Value::from(1);
    v["runs"][0]["facts"]["strategy"] = Value::from("carrier-pigeon");
    let unknown_strategy = v.to_string();
    let cases = [
        (write("empty.zctrace", b""), "empty"),
        (write("cut.zctrace", &good[..good.len() / 3]), "truncated"),
        (
            write("noise.zctrace", b"\x7fELF\x02\x01\x01 not a trace"),
            "not a zc trace",
        ),
        (
            write("other.json", br#"{"hello":"world"}"#),
            "not a zc trace",
        ),
        (write("newer.zctrace", newer.as_bytes()), "newer"),
        (
            write("pigeon.zctrace", unknown_strategy.as_bytes()),
            "strategy \"carrier-pigeon\" is unknown to this zc",
        ),
        (
            write(
                "bad.zctrace",
                String::from_utf8_lossy(&good)
                    .replacen("\"k\":\"sys_enter\"", "\"k\":\"warp\"", 1)
                    .as_bytes(),
            ),
            "corrupt",
        ),
    ];
    for (path, needle) in &cases {
        let p = path.to_str().expect("utf-8");
        one_line_error(&zc(&["replay", p, "--no-tui"]), 2, needle);
        one_line_error(&zc(&["export", p, "--format", "csv"]), 2, needle);
    }
    one_line_error(
        &zc(&["replay", "/nonexistent/trace.zctrace"]),
        2,
        "no such file",
    );
    one_line_error(
        &zc(&["replay", dir.path().to_str().expect("utf-8")]),
        2,
        "directory",
    );
}

#[test]
fn bad_formats_and_outputs_change_nothing() {
    one_line_error(&zc(&["export", FIXTURE, "--format", "gif"]), 2, "gif");
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("keep.csv");
    std::fs::write(&out, b"precious").expect("seed");
    // A corrupt trace does not touch an existing output.
    let bad = dir.path().join("bad.zctrace");
    std::fs::write(&bad, b"{\"format\":\"zc-trace\",").expect("write");
    one_line_error(
        &zc(&[
            "export",
            bad.to_str().expect("utf-8"),
            "--format",
            "csv",
            "-o",
            out.to_str().expect("utf-8"),
        ]),
        2,
        "truncated",
    );
    assert_eq!(std::fs::read(&out).expect("read"), b"precious");
    one_line_error(
        &zc(&[
            "export",
            FIXTURE,
            "--format",
            "csv",
            "-o",
            "/nonexistent/dir/out.csv",
        ]),
        2,
        "not a directory",
    );
    one_line_error(
        &zc(&[
            "export",
            FIXTURE,
            "--format",
            "csv",
            "-o",
            dir.path().to_str().expect("utf-8"),
        ]),
        2,
        "directory",
    );
}

/// Under sudo, written files belong to the user who ran sudo, not root.
#[test]
fn files_written_under_sudo_belong_to_the_invoking_user() {
    use std::os::unix::fs::MetadataExt as _;
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        common::skip(
            "files_written_under_sudo_belong_to_the_invoking_user",
            "it needs root to hand a file to another user",
        );
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("table.csv");
    let o = Command::new(env!("CARGO_BIN_EXE_zc"))
        .args(["export", "--bundled", "--format", "csv", "-o"])
        .arg(&out)
        .env("SUDO_UID", "65534")
        .env("SUDO_GID", "65534")
        .output()
        .expect("run zc");
    ok(&o);
    let meta = std::fs::metadata(&out).expect("written");
    assert_eq!((meta.uid(), meta.gid()), (65534, 65534));
}
