//! `cargo xtask`: zc's own automation, so that a fresh machine, a developer
//! and CI all build and test the same way with one command.
//!
//! Every command starts with `setup` (fast and offline when nothing is
//! missing) because zc cannot be built without the nightly and bpf-linker,
//! and a missing piece is clearer as a setup error than as a build-script
//! failure deep inside cargo's output.

mod cmd;
mod elf;
mod lab;
mod screens;
mod setup;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context as _, Result, bail};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "Set up, build, demo and test zc",
    long_about = "Set up, build, demo and test zc.\n\n\
        Every command runs `setup` first: on a ready machine it only checks \
        (no network), on a fresh one it installs what is missing. Commands \
        are echoed as `$ ...` before they run.",
    after_help = "Typical use:\n  cargo xtask setup          make this machine ready\n  \
        sudo -E cargo xtask demo   watch the copies live (tracing needs root)\n  \
        cargo xtask test           what CI runs (.ci/run)"
)]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

/// A NIC the lab's guests can get (QEMU's model name).
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum LabNic {
    E1000e,
}

/// A disk the lab's guests can get (QEMU's model name).
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum LabDisk {
    Nvme,
}

#[derive(Subcommand)]
enum Task {
    /// Make this machine ready to build and test zc (idempotent)
    ///
    /// Checks, and installs only what is missing:
    /// 1. Debian packages the tests use: bpftool, iproute2, ethtool,
    ///    util-linux (setpriv), tmux, chromium and fonts (apt-get; needs root);
    /// 2. the `nightly` toolchain (must already be there) and its rust-src;
    /// 3. bpf-linker 0.13.0 built against the nightly's own LLVM (a prefix
    ///    `$CARGO_HOME/zc-llvm-<major>` links the nightly's libLLVM).
    ///
    /// The kernel lab's own tools (qemu-system-x86, busybox-static, kmod,
    /// file, xz-utils, e2fsprogs, virtme-ng) are installed by `lab` and by
    /// `test`'s kernel matrix, when first needed.
    ///
    /// Prints one line per step; `ok` means nothing was done.
    #[command(verbatim_doc_comment)]
    Setup,
    /// Setup, then build zc (`cargo build --release -p zc-user`)
    Build,
    /// Setup, build, then run `zc demo` (default arguments: --strategy all)
    ///
    /// Arguments are passed to `zc demo` as they are, e.g.
    /// `cargo xtask demo --strategy sendfile`; use `cargo xtask demo -- --help`
    /// for zc's own help. Live tracing needs root: `sudo -E cargo xtask demo`.
    /// Exits with zc's exit code.
    Demo {
        /// Arguments for `zc demo`
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "ZC_ARGS"
        )]
        args: Vec<String>,
    },
    /// Setup, then fmt check, clippy -D warnings, and the tests (what CI runs)
    ///
    /// Steps, stopping at the first failure:
    /// 1. cargo fmt --all -- --check
    /// 2. rustup run nightly cargo clippy (zc-ebpf, --target bpfel-unknown-none) -- -D warnings
    /// 3. cargo test --release --workspace --exclude zc-ebpf --all-targets --no-run,
    ///    compiled by clippy-driver with -D warnings: one build is both
    ///    clippy's and the tests'
    /// 4. cargo test --release --workspace --exclude zc-ebpf [ARGS], on that build
    ///    (then docs/screens.md is checked against the snapshots)
    /// 5. the kernel matrix (as `cargo xtask lab --matrix`): zc doctor,
    ///    every strategy and zc trace on nginx, on this machine and on
    ///    Debian's 6.1, 6.12, 6.16, newest 7.x and 5.10 under QEMU, each
    ///    check counted as a test (docs/kernels.md)
    ///
    /// As root, step 4 sets ZC_REQUIRE_LIVE=1 so live kernel tests fail
    /// instead of skipping; otherwise they are skipped, and said so loudly.
    /// Step 5 needs root too, installs the lab's tools (QEMU, virtme-ng, ...)
    /// and fetches the kernels the first time; ZC_LAB_SKIP=1 skips it,
    /// counted as skipped.
    /// zc-ebpf's tests and host lints are skipped: its code only runs on the
    /// BPF target, which step 2 lints and zc-user's build script builds.
    #[command(verbatim_doc_comment)]
    Test {
        /// Extra arguments for `cargo test`, after `--` (e.g. `-- live -- --nocapture`)
        #[arg(last = true, value_name = "CARGO_TEST_ARGS")]
        args: Vec<String>,
    },
    /// Boot one of Debian's kernels under QEMU and run a command in it, as root
    ///
    /// The kernel is fetched from Debian's archive by package name (the
    /// newest release of the series), unpacked into the cache
    /// (`$ZC_LAB_CACHE`, default ~/.cache/zc-lab) and booted with virtme-ng
    /// over this machine's file system, read-only, with the zc just built
    /// first on PATH. The guest gets a fresh ext4 scratch disk as
    /// $ZC_WORKDIR. KVM is used where a KVM guest really runs, TCG (QEMU's
    /// software CPU) otherwise; the lab says which.
    ///
    /// Results come back as files in OUT/<release>/: stdout, stderr, rc,
    /// console.txt (the guest's console), and whatever the command writes
    /// to $ZC_LAB_OUT. One word after `--` is shell text as it is; several
    /// are quoted one by one.
    ///
    /// Examples:
    ///   cargo xtask lab --kernel 6.1 -- zc doctor
    ///   cargo xtask lab --kernel all -- zc demo --strategy all --size 1MiB
    ///   cargo xtask lab --kernel 7.x -- 'zc doctor > $ZC_LAB_OUT/doctor.txt'
    ///   cargo xtask lab --list
    ///   cargo xtask lab --matrix   (what `cargo xtask test` checks on each kernel)
    #[command(verbatim_doc_comment)]
    Lab {
        /// Kernel series (6.1, 6.12, 6.16, 7.x: the newest of major 7, ...),
        /// `host` (this machine's kernel, no VM) or `all` (6.1, 6.12, 6.16,
        /// 7.x and host); repeat for several
        #[arg(
            long = "kernel",
            short = 'k',
            value_name = "SERIES",
            default_value = "all"
        )]
        kernels: Vec<String>,
        /// Folder for the results (one subfolder per kernel release)
        #[arg(long, value_name = "DIR", default_value = "target/lab")]
        out: PathBuf,
        /// The guest's CPUs
        #[arg(long, default_value_t = 2)]
        cpus: u32,
        /// The guest's memory, as QEMU takes it
        #[arg(long, default_value = "2G")]
        memory: String,
        /// Seconds a guest may run before it is stopped
        #[arg(long, value_name = "SECS", default_value_t = 600)]
        timeout: u64,
        /// Print which release each series resolves to and whether it is
        /// cached, and boot nothing
        #[arg(long)]
        list: bool,
        /// Give each guest two e1000e NICs joined by a QEMU hub (cabled back
        /// to back), whose driver maps its packets with the DMA API; the
        /// guest names them in $ZC_LAB_NICS
        #[arg(long, value_enum, value_name = "MODEL")]
        nic: Option<LabNic>,
        /// Give each guest an NVMe disk with a fresh ext4, mounted at
        /// $ZC_LAB_NVME: a file read from it cold is DMA'd by the disk
        #[arg(long, value_enum, value_name = "MODEL")]
        disk: Option<LabDisk>,
        /// Run the kernel matrix of `cargo xtask test` alone: zc doctor, every
        /// strategy and zc trace on nginx, on every kernel, held against
        /// this machine's figures
        #[arg(long, conflicts_with_all = ["list", "command"])]
        matrix: bool,
        /// The command to run (after `--`)
        #[arg(last = true, value_name = "COMMAND")]
        command: Vec<String>,
    },
    /// Write docs/screens.md from the TUI snapshot tests' screens
    Screens,
    /// Record the snapshot tests' fixture again, live, as root
    ///
    /// Runs every strategy of the table once on a 1 MiB file (warm cache,
    /// 64 KiB chunks) and writes zc-user/tests/fixtures/demo-1mib.json
    /// (the example `record_fixtures`). Every recorded figure changes with
    /// it, so review every snapshot afterwards (`cargo insta review`, or
    /// `INSTA_UPDATE=always cargo test`), then `cargo xtask screens`.
    ///
    /// Adding a strategy never needs this: the tests take the runs a
    /// fixture holds. Record again when you want the new strategy's screens.
    #[command(verbatim_doc_comment)]
    Fixtures,
    /// Setup, build, then write zc's man pages into target/man
    ///
    /// `zc.1` and one page per subcommand (`zc-demo.1`, `zc-trace.1`, ...),
    /// generated from zc's own command line definition with clap_mangen.
    /// Read one with `man target/man/zc.1`.
    Man,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            // `{:#}` keeps the whole cause chain on one line.
            eprintln!("xtask: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    let root = workspace_root();
    match cli.command {
        Task::Setup => setup::setup()?,
        Task::Build => {
            setup::setup()?;
            build(&root)?;
        }
        Task::Demo { args } => {
            setup::setup()?;
            build(&root)?;
            return demo(&root, args);
        }
        Task::Test { args } => {
            // Timed from here, setup included: what a new machine waits
            // for, up to the kernel matrix and the matrix apart (issue 22
            // asks for both). Compiling xtask itself comes before.
            let started = std::time::Instant::now();
            setup::setup()?;
            test(&root, &args, started)?;
        }
        Task::Lab {
            kernels,
            out,
            cpus,
            memory,
            timeout,
            list,
            matrix,
            nic,
            disk,
            command,
        } => {
            if matrix {
                if !cmd::is_root() {
                    bail!("the kernel matrix needs root: run `sudo -E cargo xtask lab --matrix`");
                }
                setup::setup()?;
                let mut tally = Tally::default();
                kernel_matrix(&root, true, &Lints::find()?, &mut tally)?;
                println!(
                    "tests: {} passed, {} failed, {} skipped",
                    tally.passed,
                    tally.failed,
                    tally.skipped()
                );
                return Ok(ExitCode::SUCCESS);
            }
            let settings = lab::Settings {
                cpus,
                memory,
                timeout: std::time::Duration::from_secs(timeout),
                out,
                bin: PathBuf::new(),
                hardware: lab::Hardware {
                    e1000e_pair: nic.is_some(),
                    nvme: disk.is_some(),
                },
            };
            return lab_command(&root, &kernels, list, &command, settings);
        }
        Task::Screens => screens::write(&root)?,
        Task::Fixtures => {
            if !cmd::is_root() {
                bail!(
                    "recording runs zc live, which needs root: run `sudo -E cargo xtask fixtures`"
                );
            }
            setup::setup()?;
            cmd::run(cargo(&root).args([
                "run",
                "--release",
                "-p",
                "zc-user",
                "--example",
                "record_fixtures",
            ]))
            .context("recording the fixture failed (see above)")?;
            println!(
                "xtask: now review the snapshots (`cargo insta review`, or INSTA_UPDATE=always cargo test --release -p zc-user --test tui_snapshots --test export), then `cargo xtask screens`"
            );
        }
        Task::Man => {
            setup::setup()?;
            build(&root)?;
            let zc = target_dir(&root)?.join("release").join("zc");
            let out = target_dir(&root)?.join("man");
            cmd::run(Command::new(&zc).arg("man").arg("--out-dir").arg(&out))
                .context("writing the man pages failed")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The workspace this xtask was compiled in, so `cargo xtask` works from any
/// subfolder and cargo commands always see the workspace manifest.
fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

fn cargo(root: &Path) -> Command {
    let mut cmd = Command::new("cargo");
    cmd.current_dir(root);
    cmd
}

/// Clippy's lints, applied by the compiler that builds the workspace.
///
/// `cargo clippy` only checks: its driver stops before code generation, so
/// the tests then built every crate of the workspace a second time (1 min
/// 41 s of clippy before a 3 min 13 s test build, on a fresh clone).
/// `clippy-driver` is a whole rustc with clippy's lints added: set as
/// cargo's `RUSTC_WORKSPACE_WRAPPER` it lints the workspace's own crates
/// and compiles them too, while dependencies are built by plain rustc as
/// always. `CLIPPY_ARGS` carries `-D warnings` to it, the way `cargo
/// clippy` itself passes the arguments after `--`. Every cargo command of
/// `xtask test` that builds uses the same two variables, so cargo's
/// fingerprints agree and nothing is built twice.
struct Lints {
    driver: PathBuf,
}

impl Lints {
    fn find() -> Result<Lints> {
        let out = Command::new("rustup")
            .args(["which", "clippy-driver"])
            .output()
            .context("ask rustup where clippy-driver is")?;
        let driver = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if !out.status.success() || !driver.is_file() {
            bail!(
                "clippy-driver not found (rustup which clippy-driver: {}); `rustup component add clippy` installs it",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(Lints { driver })
    }

    fn apply(&self, mut cmd: Command) -> Command {
        cmd.env("RUSTC_WORKSPACE_WRAPPER", &self.driver).env(
            "CLIPPY_ARGS",
            "-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__",
        );
        cmd
    }
}

fn build(root: &Path) -> Result<()> {
    cmd::run(cargo(root).args(["build", "--release", "-p", "zc-user"]))
        .context("building zc failed (see cargo's output above)")
}

fn demo(root: &Path, args: Vec<String>) -> Result<ExitCode> {
    let args = if args.is_empty() {
        vec!["--strategy".to_owned(), "all".to_owned()]
    } else {
        args
    };
    let zc = target_dir(root)?.join("release").join("zc");
    if !cmd::is_root() {
        eprintln!(
            "xtask: note: live tracing needs root (try `sudo -E cargo xtask demo`); running zc anyway"
        );
    }
    let status = cmd::status(Command::new(&zc).arg("demo").args(&args))?;
    Ok(exit_code_of(status))
}

/// `cargo xtask lab`: one kernel gives the command's own exit code; several
/// give a table and 0 only if the command exited 0 on each.
fn lab_command(
    root: &Path,
    kernels: &[String],
    list: bool,
    command: &[String],
    mut settings: lab::Settings,
) -> Result<ExitCode> {
    let wanted = lab::wanted(kernels)?;
    let cache = lab::cache_dir()?;
    if list {
        setup::lab_tools(&cache)?;
        for which in &wanted {
            let kernel = lab::prepare(&cache, which)?;
            println!("{which:<6} {}", kernel.describe());
        }
        return Ok(ExitCode::SUCCESS);
    }
    if command.is_empty() {
        bail!("no command: give one after `--`, e.g. `cargo xtask lab --kernel 6.1 -- zc doctor`");
    }
    if !cmd::is_root() {
        bail!(
            "the lab runs its command as root in the guest and needs root here too (QEMU, the scratch disk): run `sudo -E cargo xtask lab ...`"
        );
    }
    setup::setup()?;
    setup::lab_tools(&cache)?;
    build(root)?;
    settings.bin = target_dir(root)?.join("release");
    let text = lab::shell_text(command);
    let mut runs = Vec::new();
    for which in &wanted {
        let kernel = lab::prepare(&cache, which)?;
        let run = lab::run(&cache, kernel, &text, &settings)?;
        lab::echo_output(&run);
        eprintln!(
            "lab: {} exited {} after {:.0} s; results in {}",
            run.kernel.release(),
            run.rc
                .map_or("never (the guest did not finish)".into(), |c| c.to_string()),
            run.seconds,
            run.out.display()
        );
        runs.push(run);
    }
    if let [one] = runs.as_slice() {
        return Ok(ExitCode::from(
            one.rc.and_then(|c| u8::try_from(c).ok()).unwrap_or(1),
        ));
    }
    eprint!("{}", lab::summary(&runs));
    let all_ok = runs.iter().all(|r| r.rc == Some(0));
    Ok(if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// zc's exit status as ours; death by signal N becomes 128+N like a shell.
fn exit_code_of(status: std::process::ExitStatus) -> ExitCode {
    use std::os::unix::process::ExitStatusExt as _;
    let code = status
        .code()
        .or_else(|| status.signal().map(|sig| 128 + sig))
        .unwrap_or(1);
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// The target directory cargo really uses (CARGO_TARGET_DIR or config may
/// move it), read from `cargo metadata`.
fn target_dir(root: &Path) -> Result<PathBuf> {
    let json =
        cmd::probe_stdout(cargo(root).args(["metadata", "--format-version", "1", "--no-deps"]))
            .context("cannot ask cargo for the target directory")?;
    json_string_field(&json, "target_directory")
        .map(PathBuf::from)
        .context("`cargo metadata` printed no target_directory")
}

/// The value of the first `"key":"…"` string in a JSON text. xtask keeps no
/// JSON dependency for this one field; escapes are decoded for correctness.
fn json_string_field(json: &str, key: &str) -> Option<String> {
    let pattern = format!("\"{key}\":\"");
    let start = json.find(&pattern)? + pattern.len();
    let mut out = String::new();
    let mut chars = json[start..].chars();
    loop {
        match chars.next()? {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'b' => out.push('\u{8}'),
                'f' => out.push('\u{c}'),
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                }
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
}

/// How a step of `cargo xtask test` runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum How {
    /// Waited for; its output goes straight to the terminal.
    Run,
    /// Started, then waited for with the next step, its output printed
    /// after that step's so that the two do not interleave.
    Beside,
    /// The tests: waited for, with their results and skips counted.
    Tests,
}

fn test(root: &Path, extra: &[String], started: std::time::Instant) -> Result<()> {
    let live = cmd::is_root();
    // Where the tests say what they skipped (see `Tally::skips`).
    let skip_log = std::env::temp_dir().join(format!("zc-skipped-{}.txt", std::process::id()));
    let lints = Lints::find()?;
    let steps: [(&str, How, Command); 4] = [
        ("fmt", How::Run, {
            let mut c = cargo(root);
            c.args(["fmt", "--all", "--", "--check"]);
            c
        }),
        ("clippy for BPF (zc-ebpf)", How::Beside, {
            // The eBPF programs as the kernel gets them: the BPF target,
            // with the nightly's build-std, exactly as aya-build builds them.
            // It runs beside the next step, which leaves a core idle while
            // it compiles its first crates one after another: a target
            // directory of its own, so neither waits on the other's lock.
            let mut c = Command::new("rustup");
            c.current_dir(root.join("zc-ebpf")).args([
                "run",
                "nightly",
                "cargo",
                "clippy",
                "--release",
                "--target",
                "bpfel-unknown-none",
                "-Z",
                "build-std=core",
                "--target-dir",
            ]);
            c.arg(root.join("target").join("bpf-lint"))
                .args(["--", "-D", "warnings"]);
            c
        }),
        ("build, linted by clippy", How::Run, {
            // One build serves the lints and the tests: clippy's driver
            // compiles the workspace's crates for real (see `Lints`), every
            // target included (benches, examples), so the tests step
            // builds nothing more.
            let mut c = lints.apply(cargo(root));
            c.args([
                "test",
                "--release",
                "--workspace",
                "--exclude",
                "zc-ebpf",
                "--all-targets",
                "--no-run",
            ]);
            c
        }),
        ("tests", How::Tests, {
            let mut c = lints.apply(cargo(root));
            // Each test that cannot run here appends a line to this file.
            c.env("ZC_SKIP_LOG", &skip_log);
            if live {
                // Live tests otherwise skip quietly when something is off; as
                // root they must run, so a broken kernel path fails CI.
                c.env("ZC_REQUIRE_LIVE", "1");
            }
            c.args(["test", "--release", "--workspace", "--exclude", "zc-ebpf"])
                .args(extra);
            c
        }),
    ];
    if !live {
        eprintln!(
            "xtask: !!! not root: live kernel tests will be SKIPPED (run `sudo -E cargo xtask test` to include them) !!!"
        );
    }
    // The kernel matrix is the last step, after the tests.
    let total = steps.len() + 1;
    let mut tally = Tally::default();
    let _ = std::fs::remove_file(&skip_log);
    let secs = |since: std::time::Instant| since.elapsed().as_secs();
    // The step started beside the one running, with its name.
    let mut beside: Option<(&str, cmd::Background)> = None;
    for (n, (name, how, mut command)) in steps.into_iter().enumerate() {
        eprintln!(
            "xtask test: step {}/{total}: {name} (at {} s){}",
            n + 1,
            secs(started),
            if how == How::Beside {
                ", beside the next step: its output follows that step's"
            } else {
                ""
            }
        );
        let result = match how {
            How::Beside => cmd::spawn_captured(command).map(|b| beside = Some((name, b))),
            How::Run | How::Tests => {
                let r = if how == How::Tests {
                    let r = run_counting(&mut command, &mut tally);
                    tally.read_skips(&skip_log);
                    r
                } else {
                    cmd::run(&mut command)
                };
                // A step started beside this one ends with it, whatever
                // this one's result: its output is printed either way.
                match beside.take() {
                    Some((other, b)) => {
                        eprintln!("xtask test: {other}, started beside this step:");
                        r.and(b.join())
                    }
                    None => r,
                }
            }
        };
        if let Err(err) = result {
            println!(
                "tests: {} passed, {} failed, {} skipped",
                tally.passed,
                tally.failed.max(1),
                tally.skipped()
            );
            bail!("test FAILED at step {}/{total} ({name}): {err:#}", n + 1);
        }
    }
    screens::check(root)?;
    let before_matrix = secs(started);
    eprintln!("xtask test: step {total}/{total}: kernel matrix (at {before_matrix} s)");
    let matrix_started = std::time::Instant::now();
    kernel_matrix(root, live, &lints, &mut tally)?;
    eprintln!(
        "xtask test: {before_matrix} s up to the kernel matrix (setup, fmt, clippy, build, \
         tests, docs/screens.md), {} s for the matrix",
        secs(matrix_started)
    );
    eprintln!(
        "xtask test: PASSED fmt, clippy, tests, docs/screens.md, kernel matrix ({})",
        if live {
            "live tests required: ZC_REQUIRE_LIVE=1"
        } else {
            "live tests SKIPPED: not root"
        }
    );
    // One closing line for whoever reads the log: the sum over every test
    // binary, a test that skipped itself counted as skipped.
    for s in &tally.skips {
        println!("skipped: {s}");
    }
    println!(
        "tests: {} passed, {} failed, {} skipped",
        tally.passed.saturating_sub(tally.skips.len() as u64),
        tally.failed,
        tally.skipped()
    );
    Ok(())
}

/// The kernel matrix (`lab::matrix`): zc on each kernel of the lab and on
/// this one, its checks counted like tests. Needs root (QEMU, the guests'
/// tracing); `ZC_LAB_SKIP=1` skips it, loudly, for a quick local run.
fn kernel_matrix(root: &Path, live: bool, lints: &Lints, tally: &mut Tally) -> Result<()> {
    let skip = |tally: &mut Tally, why: &str| {
        eprintln!("xtask: !!! kernel matrix SKIPPED: {why} !!!");
        // Counted as a test that ran and said it skipped.
        tally.passed += 1;
        tally.skips.push(format!("kernel_matrix: {why}"));
    };
    if !live {
        skip(tally, "not root");
        return Ok(());
    }
    if std::env::var_os("ZC_LAB_SKIP").is_some_and(|v| !v.is_empty() && v != "0") {
        skip(tally, "ZC_LAB_SKIP is set");
        return Ok(());
    }
    setup::lab_tools(&lab::cache_dir()?)?;
    // zc and the live tests as the tests step built them: asked of cargo
    // with the same arguments, so after that step nothing is built again
    // (a `cargo build`, without the dev-dependencies' features, rebuilt
    // zc-user and five crates under it: 36–43 s of every CI run).
    let live_test = live_test_binary(root, lints)?;
    let start = std::time::Instant::now();
    let settings = lab::Settings {
        cpus: 2,
        memory: "2G".into(),
        timeout: std::time::Duration::from_secs(600),
        out: target_dir(root)?.join("lab-matrix"),
        bin: target_dir(root)?.join("release"),
        hardware: lab::Hardware::default(),
    };
    let (checks, booted) = lab::matrix::run(&lab::cache_dir()?, &settings, &live_test)?;
    let mut failed = 0;
    for c in &checks {
        if let Some(why) = &c.skipped {
            eprintln!("xtask: !!! SKIPPED {why} !!!");
            tally.passed += 1;
            tally.skips.push(why.clone());
        }
        match &c.result {
            Ok(()) => {
                println!("test {} ... ok", c.name);
                tally.passed += 1;
            }
            Err(why) => {
                println!("test {} ... FAILED: {why}", c.name);
                tally.failed += 1;
                failed += 1;
            }
        }
    }
    eprintln!(
        "kernel matrix: booted, in {:.0} s in all (results in {}):",
        start.elapsed().as_secs_f64(),
        settings.out.display()
    );
    for line in &booted {
        eprintln!("  {line}");
    }
    if failed > 0 {
        println!(
            "tests: {} passed, {} failed, {} skipped",
            tally.passed.saturating_sub(tally.skips.len() as u64),
            tally.failed,
            tally.skipped()
        );
        bail!("test FAILED: {failed} check(s) of the kernel matrix");
    }
    Ok(())
}

/// The test binary of tests/live.rs, as the tests step built it (asked of
/// cargo with the same arguments, so nothing is built again).
fn live_test_binary(root: &Path, lints: &Lints) -> Result<PathBuf> {
    let out = lints
        .apply(cargo(root))
        .args([
            "test",
            "--release",
            "--workspace",
            "--exclude",
            "zc-ebpf",
            "--test",
            "live",
            "--no-run",
            "--message-format=json",
        ])
        .stderr(std::process::Stdio::inherit())
        .output()
        .context("ask cargo for the live tests' binary")?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["target"]["name"] == "live")
        .find_map(|v| v["executable"].as_str().map(PathBuf::from))
        .context("cargo named no binary for tests/live.rs")
}

/// Test counts summed over cargo's `test result:` lines, and the tests
/// that said they skipped (libtest counts those as passed: they returned).
#[derive(Debug, Default, PartialEq, Eq)]
struct Tally {
    passed: u64,
    failed: u64,
    ignored: u64,
    skips: Vec<String>,
}

impl Tally {
    /// Reads the lines the tests appended to `path` (`ZC_SKIP_LOG`).
    fn read_skips(&mut self, path: &Path) {
        if let Ok(text) = std::fs::read_to_string(path) {
            self.skips
                .extend(text.lines().filter(|l| !l.is_empty()).map(String::from));
        }
        let _ = std::fs::remove_file(path);
    }

    /// Ignored tests and tests that skipped themselves.
    fn skipped(&self) -> u64 {
        self.ignored + self.skips.len() as u64
    }

    /// Adds a line like `test result: ok. 8 passed; 0 failed; 1 ignored; ...`.
    fn add_line(&mut self, line: &str) {
        let Some(rest) = line.trim().strip_prefix("test result:") else {
            return;
        };
        let number_before = |word: &str| -> u64 {
            rest.split(';')
                .find_map(|part| {
                    let mut it = part.split_whitespace().rev();
                    (it.next() == Some(word))
                        .then(|| it.next().and_then(|n| n.parse().ok()))
                        .flatten()
                })
                .unwrap_or(0)
        };
        self.passed += number_before("passed");
        self.failed += number_before("failed");
        self.ignored += number_before("ignored");
    }
}

/// Runs `cmd`, echoing its stdout line by line and counting test results.
fn run_counting(cmd: &mut Command, tally: &mut Tally) -> Result<()> {
    use std::io::BufRead as _;
    cmd::echo(cmd);
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .spawn()
        .context("start cargo test")?;
    if let Some(out) = child.stdout.take() {
        for line in std::io::BufReader::new(out).lines() {
            let line = line.context("read cargo test's output")?;
            println!("{line}");
            tally.add_line(&line);
        }
    }
    let status = child.wait().context("wait for cargo test")?;
    if !status.success() {
        bail!("`cargo test` failed ({status})");
    }
    Ok(())
}

#[cfg(test)]
mod tally_tests {
    use super::Tally;

    #[test]
    fn a_test_that_said_skipped_is_counted_as_skipped() {
        let path = std::env::temp_dir().join(format!("zc-skip-test-{}", std::process::id()));
        std::fs::write(&path, "live::a: not root\n\ncli::b: no /proc/2\n").expect("write");
        let mut t = Tally::default();
        t.add_line("test result: ok. 10 passed; 0 failed; 1 ignored; 0 measured");
        t.read_skips(&path);
        assert_eq!(t.skipped(), 3);
        assert_eq!(t.skips, ["live::a: not root", "cli::b: no /proc/2"]);
        assert!(!path.exists(), "the log is removed once read");
    }

    #[test]
    fn sums_cargo_test_result_lines() {
        let mut t = Tally::default();
        t.add_line("test result: ok. 48 passed; 0 failed; 2 ignored; 0 measured; 0 filtered out; finished in 0.3s");
        t.add_line("running 8 tests");
        t.add_line(
            "test result: FAILED. 7 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out",
        );
        assert_eq!(
            t,
            Tally {
                passed: 55,
                failed: 1,
                ignored: 2,
                skips: Vec::new(),
            }
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_field() {
        let json = r#"{"packages":[],"target_directory":"/w/t\"x\\y","version":1}"#;
        assert_eq!(
            json_string_field(json, "target_directory").as_deref(),
            Some("/w/t\"x\\y")
        );
        assert_eq!(json_string_field(json, "nope"), None);
    }

    #[test]
    fn cli_parses() {
        use clap::CommandFactory as _;
        Cli::command().debug_assert();
        let cli = Cli::try_parse_from(["xtask", "demo", "--strategy", "sendfile"]);
        assert!(
            matches!(cli, Ok(Cli { command: Task::Demo { ref args } }) if args == &["--strategy", "sendfile"])
        );
        let cli = Cli::try_parse_from(["xtask", "demo", "--", "--help"]);
        assert!(matches!(cli, Ok(Cli { command: Task::Demo { ref args } }) if args == &["--help"]));
        let cli = Cli::try_parse_from(["xtask", "test", "--", "live", "--", "--nocapture"]);
        assert!(
            matches!(cli, Ok(Cli { command: Task::Test { ref args } }) if args == &["live", "--", "--nocapture"])
        );
    }
}
