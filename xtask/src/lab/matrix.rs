//! The kernel matrix: the same zc, run the same way on every kernel of the
//! lab and on this machine's, and each kernel's figures held against the
//! host's.
//!
//! What a kernel must show, each a check of its own in the test count:
//! - `doctor`: `zc doctor` exits 0 (every required probe has a source);
//! - `demo`: `zc demo --strategy all` ran every strategy the host ran, each
//!   received intact, each ledger balanced (0 unexplained bytes); a
//!   strategy may be missing only where the kernel lacks its mechanism and
//!   this file expects that;
//! - `same_as_host`: each strategy moved its bytes the same way (the same
//!   movements, and per hop of the ledger the same bytes copied, mapped,
//!   referenced and pinned: copies per byte, retransmissions apart), and,
//!   where a run's calls did not depend on the timing, made the same
//!   syscalls and the same mode switches by them (user page faults, the
//!   memory manager's and not the strategy's, are not compared). A run that waits (an error queue, a ring)
//!   makes as many waiting calls as the timing asks, on any kernel, and a
//!   loop whose call moved less than it asked (a socket buffer or pipe
//!   still full) calls again; neither is a kernel's property, and the run
//!   says whether it did (`zerocopy_completions`, `io_uring`,
//!   `short_calls`). Where the kernel skipped probe runs (7.x: a task
//!   preempted inside a program holds it on its CPU), a run may show as
//!   many syscalls fewer, and bytes in `skipped_bytes` instead of a class,
//!   as those runs could hold, never more;
//! - `trace`: `zc trace` on Debian's nginx serving a file with sendfile
//!   gives the same verdict as on the host;
//! - `table` (guests only: the host ran it among the tests): the live test
//!   that holds every strategy the kernel can run to its table entry
//!   (copies per byte, each arrow of its path carrying the file, its
//!   calls, page identity at the device, kernel TLS's records), run in the
//!   guest as it runs on the host. It is how a strategy this machine's
//!   kernel cannot run (kernel TLS) is tested;
//! - `nfs` (guests only: the host has no NFS, and serving one is not a
//!   test's to do on it): the guest exports a directory of its scratch
//!   disk over NFSv4 to itself, and `zc demo --strategy all --cold` on a
//!   file of the mount runs every strategy received intact, balanced,
//!   with every page of the file read in through the page cache and
//!   named.
//!
//! - `dma` (guests only, on QEMU's e1000e pair and NVMe disk): `zc demo
//!   --nic auto --strategy all --cold` on a file of the NVMe disk runs
//!   every strategy received intact and balanced, DMA hops included; the
//!   NIC's engine read at least the file's size for each; page identity
//!   at the engine agrees with page identity at the device (where the
//!   device got the file's pages as frags, the engine read at least 90 %
//!   of the file from them, and none where it got none); the receiving
//!   NIC's engine wrote at least 90 % of the stream, every frame paired
//!   with the hand-back of its buffer; the disk's
//!   engine wrote at least the file into its pages; and the NICs are back
//!   on the host after zc exits, and after a `kill -9` in mid-sendfile
//!   (scatter-gather seen off in zc's namespace), with the
//!   scatter-gather they had. A
//!   kernel without the `dma` tracepoints (6.1) is held to the rest, and
//!   its DMA figures are counted as skipped, by name.
//!
//! A kernel zc does not serve yet is held to what its doctor says instead:
//! exactly the probes without a source (`NOT_YET_SERVED`), or, older than
//! zc can serve, exactly the missing features, one line each (`TOO_OLD`).

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// What every kernel runs, host included: results land in `$ZC_LAB_OUT`.
/// The nginx port is the shell's pid plus a base, so that a matrix run on a
/// busy host does not meet another server.
pub const SCRIPT: &str = r#"out="$ZC_LAB_OUT"
# Each step marked on a guest's console, so that an oops there says which
# step was running (see `died`); not on the host's.
step() { [ -n "${ZC_LAB_GUEST:-}" ] && echo "zc-lab: step $1" 2>/dev/null > /dev/kmsg; true; }
step doctor
zc doctor > "$out/doctor.txt" 2>&1; echo $? > "$out/doctor.rc"
step demo
zc demo --no-tui --json --strategy all --size 1MiB > "$out/demo.json" 2> "$out/demo.err"; echo $? > "$out/demo.rc"
d="${ZC_WORKDIR:-/var/tmp}/zc-lab-nginx-$$"; port=$((20000 + $$ % 20000))
rm -rf "$d"; mkdir -p "$d"; head -c 4194304 /dev/urandom > "$d/payload.bin"
cat > "$d/nginx.conf" <<EOF
daemon off; master_process on; worker_processes 1; user root;
pid $d/nginx.pid; error_log $d/error.log;
events { worker_connections 64; }
http { access_log off; sendfile on;
  client_body_temp_path $d/cb; proxy_temp_path $d/px; fastcgi_temp_path $d/fc;
  uwsgi_temp_path $d/uw; scgi_temp_path $d/sc;
  server { listen 127.0.0.1:$port; root $d; } }
EOF
step trace
zc trace --json -- nginx -c "$d/nginx.conf" -p "$d" > "$out/trace.json" 2> "$out/trace.err" &
zc=$!
i=0; until curl -sf -o "$d/got.bin" --limit-rate 16M "http://127.0.0.1:$port/payload.bin" || [ $i -ge 100 ] || ! kill -0 $zc 2>/dev/null; do i=$((i+1)); sleep 0.2; done
cmp -s "$d/payload.bin" "$d/got.bin"; echo $? > "$out/fetch.rc"
[ -f "$d/nginx.pid" ] && kill -QUIT "$(cat "$d/nginx.pid")"
i=0; while kill -0 $zc 2>/dev/null && [ $i -lt 150 ]; do i=$((i+1)); sleep 0.2; done
kill -INT $zc 2>/dev/null; wait $zc; echo $? > "$out/trace.rc"
rm -rf "$d"
if [ -n "${ZC_LAB_GUEST:-}" ] && [ -n "${ZC_LAB_LIVE_TEST:-}" ] && [ "$(cat "$out/doctor.rc")" = 0 ]; then
  step table
  ZC_REQUIRE_LIVE=1 "$ZC_LAB_LIVE_TEST" --exact all_strategies_in_one_run_and_nothing_left_behind --test-threads 1 > "$out/table.txt" 2>&1; echo $? > "$out/table.rc"
fi
if [ -n "${ZC_LAB_GUEST:-}" ] && [ "$(cat "$out/doctor.rc")" = 0 ]; then
  step nfs
  e="${ZC_WORKDIR:-/var/tmp}/zc-lab-nfs-export"; m=/tmp/zc-lab-nfs; t="${ZC_LAB_NFS_TOOLS:-}"
  mkdir -p "$e" "$m" /var/lib/nfs; head -c 1048576 /dev/urandom > "$e/file.bin"; sync
  # The tools are unpacked, not installed (xtask setup); the guest's /etc
  # and /var are overlays of its own (its / is read-only), and the
  # kernel's NFS client mounts without mount.nfs, given the address.
  touch /var/lib/nfs/etab /var/lib/nfs/rmtab
  echo "$e 127.0.0.1(ro,no_root_squash,insecure,fsid=0,no_subtree_check)" > /etc/exports
  nfs() { LD_LIBRARY_PATH="$t/usr/lib/x86_64-linux-gnu:$t/lib/x86_64-linux-gnu" "$t/usr/sbin/$@"; }
  # A fresh server refuses opens for its grace period (90 s by default)
  # unless it can tell that no client has state to reclaim: the shortest.
  { { [ -x "$t/usr/sbin/rpc.nfsd" ] || { echo "no NFS tools in '$t' (cargo xtask setup unpacks them)"; false; }; } && modprobe -a nfsd nfsv4 && mount -t nfsd nfsd /proc/fs/nfsd &&
    echo 10 > /proc/fs/nfsd/nfsv4gracetime && echo 10 > /proc/fs/nfsd/nfsv4leasetime &&
    nfs exportfs -ra && nfs rpc.mountd -N 2 -N 3 && nfs rpc.nfsd -N 3 2 &&
    mount -t nfs4 -o ro,vers=4.2,addr=127.0.0.1,clientaddr=127.0.0.1 127.0.0.1:/ "$m"; } > "$out/nfs-setup.txt" 2>&1
  echo $? > "$out/nfs-setup.rc"
  zc demo --no-tui --json --strategy all --cold --file "$m/file.bin" > "$out/nfs.json" 2> "$out/nfs.err"; echo $? > "$out/nfs.rc"
fi
if [ -n "${ZC_LAB_GUEST:-}" ] && [ -n "${ZC_LAB_NICS:-}" ] && [ "$(cat "$out/doctor.rc")" = 0 ]; then
  step dma
  ip -br link > "$out/nics-before.txt"
  ZC_WORKDIR="$ZC_LAB_NVME" zc demo --no-tui --json --strategy all --size 1MiB --cold --nic auto > "$out/dma.json" 2> "$out/dma.err"; echo $? > "$out/dma.rc"
  ip -br link > "$out/nics-after.txt"
  # SIGKILL in mid-run: the namespaces die with zc, and the kernel hands
  # the NICs back. sendfile turns scatter-gather off on the sending one,
  # seen here through zc's own namespace descriptor; after the kill it
  # must be as it was before (zc's guard, its child, sets it back where
  # the kernel does not).
  sg() { for n in $ZC_LAB_NICS; do echo "$n $(ethtool -k "$n" | sed -n 's/^scatter-gather: //p')"; done; }
  step kill
  sg > "$out/sg-before.txt"; host=$(readlink /proc/self/ns/net)
  # A sparse file (nothing to write first), sent through a 4 MiB/s
  # bottleneck: the kill lands in mid-run however fast the guest is.
  truncate -s 256M "$ZC_LAB_NVME/zc-kill.bin"
  zc demo --no-tui --strategy sendfile --file "$ZC_LAB_NVME/zc-kill.bin" --rate 4MiB --nic auto > /dev/null 2>&1 & k=$!
  i=0; off=
  while [ -z "$off" ] && [ $i -lt 600 ] && kill -0 $k 2>/dev/null; do
    for f in /proc/$k/fd/*; do
      case "$(readlink "$f" 2>/dev/null)" in net:*) ;; *) continue;; esac
      [ "$(readlink "$f")" = "$host" ] && continue
      for n in $ZC_LAB_NICS; do
        [ "$(nsenter --net="$f" ethtool -k "$n" 2>/dev/null | sed -n 's/^scatter-gather: //p')" = off ] && { off="$n off"; break 2; }
      done
    done
    i=$((i+1)); sleep 0.1
  done
  echo "$off" > "$out/sg-during.txt"
  ip -br link > "$out/nics-during.txt"; kill -9 $k; wait $k 2>/dev/null
  i=0; until [ "$(ip -br link | grep -cE "^($(echo $ZC_LAB_NICS | tr ' ' '|')) ")" = 2 ] || [ $i -ge 200 ]; do i=$((i+1)); sleep 0.1; done
  ip -br link > "$out/nics-killed.txt"
  i=0; until [ "$(sg)" = "$(cat "$out/sg-before.txt")" ] || [ $i -ge 50 ]; do i=$((i+1)); sleep 0.1; done
  sg > "$out/sg-killed.txt"; rm -f "$ZC_LAB_NVME/zc-kill.bin"
  # zc trace over the NICs: nginx in one namespace sends to curl in the
  # other; the namespaces are the script's own, so zc follows a server it
  # did not set up. Deleting them gives the NICs back.
  step trace-nic
  set -- $ZC_LAB_NICS
  d="$ZC_LAB_NVME/zc-lab-nginx-nic"; rm -rf "$d"; mkdir -p "$d"; head -c 4194304 /dev/urandom > "$d/payload.bin"
  cat > "$d/nginx.conf" <<EOF
daemon off; master_process on; worker_processes 1; user root;
pid $d/nginx.pid; error_log $d/error.log;
events { worker_connections 64; }
http { access_log off; sendfile on;
  client_body_temp_path $d/cb; proxy_temp_path $d/px; fastcgi_temp_path $d/fc;
  uwsgi_temp_path $d/uw; scgi_temp_path $d/sc;
  server { listen 169.254.77.1:8080; root $d; } }
EOF
  { ip netns add zcl-srv && ip netns add zcl-cli && ip link set "$1" netns zcl-srv && ip link set "$2" netns zcl-cli &&
    ip -n zcl-srv addr add 169.254.77.1/30 dev "$1" && ip -n zcl-cli addr add 169.254.77.2/30 dev "$2" &&
    ip -n zcl-srv link set lo up && ip -n zcl-srv link set "$1" up && ip -n zcl-cli link set "$2" up; } > "$out/trace-nic-setup.txt" 2>&1
  zc trace --json -- ip netns exec zcl-srv nginx -c "$d/nginx.conf" -p "$d" > "$out/trace-nic.json" 2> "$out/trace-nic.err" &
  zc=$!
  i=0; until ip netns exec zcl-cli curl -sf -o "$d/got.bin" "http://169.254.77.1:8080/payload.bin" || [ $i -ge 150 ] || ! kill -0 $zc 2>/dev/null; do i=$((i+1)); sleep 0.2; done
  cmp -s "$d/payload.bin" "$d/got.bin"; echo $? > "$out/fetch-nic.rc"
  [ -f "$d/nginx.pid" ] && kill -QUIT "$(cat "$d/nginx.pid")"
  i=0; while kill -0 $zc 2>/dev/null && [ $i -lt 150 ]; do i=$((i+1)); sleep 0.2; done
  kill -INT $zc 2>/dev/null; wait $zc; echo $? > "$out/trace-nic.rc"
  ip netns del zcl-srv; ip netns del zcl-cli; rm -rf "$d"
fi
"#;

/// Mechanisms a kernel series is expected to lack, as `zc demo` names them
/// when it refuses a strategy: (series, mechanism). Measured, each checked
/// in that kernel's source; none of the lab's kernels lacks one today.
pub const EXPECTED_REFUSALS: &[(&str, &str)] = &[];

/// Kernels zc does not serve yet, and the probes their doctor is expected
/// to name as having no source (the check fails on any other answer, so a
/// kernel that becomes served, or one that loses more, is noticed).
pub const NOT_YET_SERVED: &[(&str, &[&str])] = &[];

/// Runs the matrix: the host first (the figures the others are held to),
/// then every kernel of `super::ALL`, one after another (each guest takes
/// both CPUs). Returns every check, and one line per kernel booted.
///
/// `live_test`: the test binary holding `all_strategies_in_one_run_and_nothing_left_behind`
/// (tests/live.rs), which each guest runs for its `table` check.
pub fn run(
    cache: &Path,
    settings: &super::Settings,
    live_test: &Path,
) -> anyhow::Result<(Vec<Check>, Vec<String>)> {
    let script = format!(
        "export ZC_LAB_LIVE_TEST={}\n{SCRIPT}",
        crate::cmd::quote(live_test.as_os_str())
    );
    let mut runs = Vec::new();
    // Guests zc serves get the hardware that DMAs, for the `dma` check.
    let guest = super::Settings {
        hardware: super::Hardware {
            e1000e_pair: true,
            nvme: true,
        },
        ..settings.clone()
    };
    for series in kernels() {
        let kernel = super::prepare(cache, series)?;
        let served = series != "host" && !TOO_OLD.iter().any(|(s, _)| *s == series);
        let run = super::run(
            cache,
            kernel,
            &script,
            if served { &guest } else { settings },
        )?;
        eprintln!(
            "kernel matrix: {series}: {} in {:.0} s",
            run.kernel.describe(),
            run.seconds
        );
        runs.push((series, run));
    }
    let results: Vec<Results> = runs
        .iter()
        .map(|(s, r)| Results::read(s, r.kernel.release(), &r.out))
        .collect();
    let booted = runs
        .iter()
        .map(|(s, r)| {
            format!(
                "{s:<5} {:<28} {:<4} {:>4.0} s",
                r.kernel.release(),
                match &r.accel {
                    None => "host",
                    Some(super::Accel::Kvm) => "KVM",
                    Some(super::Accel::Tcg(_)) => "TCG",
                },
                r.seconds
            )
        })
        .collect();
    let host = &results[0];
    let mut all = Vec::new();
    for k in &results {
        all.extend(checks(host, k));
    }
    Ok((all, booted))
}

/// Kernels older than zc serves, and the features their doctor must name
/// as missing, one line each, before it exits 3.
pub const TOO_OLD: &[(&str, &[&str])] = &[("5.10", &["bpf_loop", "folios"])];

/// The matrix's kernels, in the order they run: the host first (the
/// figures the others are held to), then `lab --kernel all`'s, then the
/// ones too old.
pub fn kernels() -> Vec<&'static str> {
    std::iter::once("host")
        .chain(super::ALL.iter().copied().filter(|k| *k != "host"))
        .chain(TOO_OLD.iter().map(|(s, _)| *s))
        .collect()
}

/// One kernel's results, read back from its folder.
#[derive(Debug)]
pub struct Results {
    pub series: String,
    pub release: String,
    pub dir: PathBuf,
    pub doctor_rc: Option<i32>,
    pub doctor: String,
    pub demo_rc: Option<i32>,
    pub demo: Vec<Value>,
    pub demo_err: String,
    pub fetch_rc: Option<i32>,
    pub trace_rc: Option<i32>,
    pub trace: Vec<Value>,
    /// The NFS part (guests only): its setup's exit code and output, and
    /// the runs over the mount.
    pub nfs_setup_rc: Option<i32>,
    pub nfs_setup: String,
    pub nfs_rc: Option<i32>,
    pub nfs: Vec<Value>,
    pub nfs_err: String,
    /// The table's live test (guests only): its exit code and output.
    pub table_rc: Option<i32>,
    pub table: String,
    /// The runs over the e1000e pair (guests only), and the interfaces
    /// before, after, during the killed run and after the kill.
    pub dma_rc: Option<i32>,
    pub dma: Vec<Value>,
    pub dma_err: String,
    pub nics: [String; 4],
    /// Each NIC's scatter-gather before the runs, the one seen off in
    /// zc's namespace during the killed run, and each after the kill.
    pub sg: [String; 3],
    /// `zc trace` of nginx sending over the e1000e pair (guests only): the
    /// namespaces' setup, the fetch's `cmp`, zc's exit code and report.
    pub trace_nic_setup: String,
    pub fetch_nic_rc: Option<i32>,
    pub trace_nic_rc: Option<i32>,
    pub trace_nic: Vec<Value>,
    pub trace_nic_err: String,
    /// The script ran to its end (the lab wrote its exit code).
    pub ran: bool,
    /// The console's line that says why a guest died, if one does.
    pub died: Option<String>,
}

impl Results {
    pub fn read(series: &str, release: &str, dir: &Path) -> Results {
        let text = |name: &str| fs::read_to_string(dir.join(name)).unwrap_or_default();
        let rc = |name: &str| text(name).trim().parse().ok();
        let lines = |name: &str| {
            text(name)
                .lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .collect()
        };
        Results {
            series: series.to_owned(),
            release: release.to_owned(),
            dir: dir.to_path_buf(),
            doctor_rc: rc("doctor.rc"),
            doctor: text("doctor.txt"),
            demo_rc: rc("demo.rc"),
            demo: lines("demo.json"),
            demo_err: text("demo.err"),
            fetch_rc: rc("fetch.rc"),
            trace_rc: rc("trace.rc"),
            trace: lines("trace.json"),
            nfs_setup_rc: rc("nfs-setup.rc"),
            nfs_setup: text("nfs-setup.txt"),
            nfs_rc: rc("nfs.rc"),
            table_rc: rc("table.rc"),
            table: text("table.txt"),
            nfs: lines("nfs.json"),
            nfs_err: text("nfs.err"),
            dma_rc: rc("dma.rc"),
            dma: lines("dma.json"),
            dma_err: text("dma.err"),
            nics: ["before", "after", "during", "killed"].map(|w| text(&format!("nics-{w}.txt"))),
            sg: ["before", "during", "killed"].map(|w| text(&format!("sg-{w}.txt"))),
            trace_nic_setup: text("trace-nic-setup.txt"),
            fetch_nic_rc: rc("fetch-nic.rc"),
            trace_nic_rc: rc("trace-nic.rc"),
            trace_nic: lines("trace-nic.json"),
            trace_nic_err: text("trace-nic.err"),
            ran: dir.join("rc").exists(),
            died: died(&text("console.txt")),
        }
    }

    fn run(&self, strategy: &str) -> Option<&Value> {
        self.demo.iter().find(|r| r["strategy"] == strategy)
    }
}

/// Why a guest died, from its console, in one line a CI log can carry:
/// the oops or panic line, the task it hit, where (RIP), the first frames
/// of its call trace, and the step of the script that was running (the
/// script marks each step on the guest's console, `zc-lab: step ...`).
/// `None` when the console names no oops, BUG or panic.
pub fn died(console: &str) -> Option<String> {
    // Without the kernel's timestamp prefix, "[  110.758570] ".
    fn bare(l: &str) -> &str {
        match l.trim_start().strip_prefix('[') {
            Some(rest) => rest.split_once("] ").map_or(l, |(_, t)| t).trim(),
            None => l.trim(),
        }
    }
    let lines: Vec<&str> = console.lines().collect();
    // The first line that names the death: a `BUG:` comes a few lines
    // before its `Oops:`, and kernels before about 6.9 print a general
    // protection fault with no "Oops" in it.
    const CAUSES: [&str; 4] = ["BUG: ", "general protection fault", "Oops", "Kernel panic"];
    let at = lines
        .iter()
        .position(|l| CAUSES.iter().any(|c| l.contains(c)))?;
    let mut why = vec![bare(lines[at]).to_owned()];
    let after = &lines[at + 1..lines.len().min(at + 60)];
    if let Some(task) = after.iter().find(|l| l.contains(" Comm: ")) {
        let t = bare(task);
        why.push(t[t.find("Comm: ").unwrap_or(0)..].to_owned());
    }
    if let Some(rip) = after.iter().find(|l| bare(l).starts_with("RIP: ")) {
        why.push(bare(rip).to_owned());
    }
    if let Some(ct) = after
        .iter()
        .position(|l| bare(l).starts_with("Call Trace:"))
    {
        let frames: Vec<&str> = after[ct + 1..]
            .iter()
            .map(|l| bare(l))
            .take_while(|f| !f.starts_with("</TASK>") && !f.starts_with("Modules linked"))
            .filter(|f| !f.starts_with('<') && !f.starts_with('?'))
            .take(10)
            .collect();
        why.push(format!("call trace: {}", frames.join(" < ")));
    }
    if let Some(step) = lines[..at]
        .iter()
        .rev()
        .find_map(|l| l.split_once("zc-lab: step ").map(|(_, s)| s.trim()))
    {
        why.push(format!("during the script's step '{step}'"));
    }
    Some(why.join("; "))
}

/// One check's name and verdict, and what of it could not be checked on
/// this kernel (counted as skipped, by name).
#[derive(Debug)]
pub struct Check {
    pub name: String,
    pub result: Result<(), String>,
    pub skipped: Option<String>,
}

fn u(v: &Value, path: &[&str]) -> u64 {
    path.iter().fold(v, |v, k| &v[*k]).as_u64().unwrap_or(0)
}

/// Every check of kernel `k` against the host's results.
pub fn checks(host: &Results, k: &Results) -> Vec<Check> {
    let name = |what: &str| format!("kernel_matrix::{}::{what}", k.release);
    if !k.ran {
        // Nothing of zc's ran: one failure that says so, not one per check.
        return vec![Check {
            skipped: None,
            name: name("booted"),
            result: Err(format!(
                "the guest did not run the matrix's script to its end: {} (see {})",
                k.died.as_deref().unwrap_or("no panic on its console"),
                k.dir.join("console.txt").display()
            )),
        }];
    }
    let expected_missing = NOT_YET_SERVED
        .iter()
        .find(|(s, _)| *s == k.series)
        .map(|(_, probes)| *probes);
    if let Some(probes) = expected_missing {
        return vec![Check {
            skipped: None,
            name: name("not_yet_served"),
            result: not_yet_served(k, probes),
        }];
    }
    if let Some((_, features)) = TOO_OLD.iter().find(|(s, _)| *s == k.series) {
        return vec![Check {
            skipped: None,
            name: name("too_old"),
            result: too_old(k, features),
        }];
    }
    let mut checks = vec![
        Check {
            skipped: None,
            name: name("doctor"),
            result: doctor(k),
        },
        Check {
            skipped: None,
            name: name("demo"),
            result: demo(host, k),
        },
        Check {
            skipped: None,
            name: name("same_as_host"),
            result: same_as_host(host, k),
        },
        Check {
            skipped: None,
            name: name("trace"),
            result: trace(host, k),
        },
    ];
    if k.series != "host" {
        checks.push(Check {
            skipped: None,
            name: name("table"),
            result: table(k),
        });
        checks.push(Check {
            skipped: None,
            name: name("nfs"),
            result: nfs(host, k),
        });
        let (result, skipped) = dma(k);
        checks.push(Check {
            name: name("dma"),
            result,
            skipped,
        });
        let (result, skipped) = trace_nic(k);
        checks.push(Check {
            name: name("trace_nic"),
            result,
            skipped,
        });
    }
    // A failure says where its kernel's files are.
    checks
        .into_iter()
        .map(|c| Check {
            result: c
                .result
                .map_err(|e| format!("{e} (results in {})", k.dir.display())),
            ..c
        })
        .collect()
}

/// The runs over the e1000e pair: every strategy received intact and
/// balanced; where the kernel has the `dma` tracepoints, each arrow's DMA
/// measured and page identity at the NIC's engine agreeing with the
/// device's frags; the NICs back on the host after zc and after a kill.
fn dma(k: &Results) -> (Result<(), String>, Option<String>) {
    let mut bad = Vec::new();
    // The doctor names a tracepoint with no source at all as missing.
    let traced = has_dma_tracepoints(k);
    if k.dma_rc != Some(0) {
        bad.push(format!(
            "zc demo --nic auto exited {:?}: {}",
            k.dma_rc,
            k.dma_err.lines().last().unwrap_or("")
        ));
    }
    if k.dma.is_empty() {
        bad.push("no run over the NICs".into());
    }
    for r in &k.dma {
        let s = r["strategy"].as_str().unwrap_or("?");
        let size = u(r, &["size_bytes"]);
        if r["received_ok"] != true {
            bad.push(format!("{s}: not received intact"));
        }
        if r["nic"] != true {
            bad.push(format!("{s}: not sent over the NICs"));
        }
        if let Some(e) = unexplained(s, r) {
            bad.push(e);
        }
        if !traced {
            continue;
        }
        let hop = |name: &str| {
            r["ledger"]
                .as_array()
                .is_some_and(|h| h.iter().any(|h| h["hop"] == name))
        };
        // Maps the kernel skipped the program for (a task preempted
        // inside it holds it on its CPU) are the ledger's to itemize:
        // whole skbs as `skipped_bytes`, parts of one as
        // `skipped_map_bytes`. The engine's figure counts with them.
        let nic = r["ledger"]
            .as_array()
            .and_then(|h| h.iter().find(|h| h["hop"] == "memory_to_nic"));
        let skipped = nic.map_or(0, |h| {
            u(h, &["skipped_bytes"]) + u(h, &["skipped_map_bytes"])
        });
        if u(r, &["dma_bytes"]) + skipped < size || nic.is_none() {
            bad.push(format!(
                "{s}: the NIC's engine read {} B of a {size} B file, {skipped} B more in skipped runs (probe runs skipped: {})",
                u(r, &["dma_bytes"]),
                r["probe_misses_by_program"]
            ));
        }
        let (frags, from_file) = (
            u(r, &["file_frags_at_device"]),
            u(r, &["nic_dma_file_bytes"]),
        );
        if frags > 0 && from_file * 10 < size * 9 {
            bad.push(format!(
                "{s}: {frags} file frags at the device, but the engine read only {from_file} B from the file's pages"
            ));
        }
        if frags == 0 && from_file > 0 {
            bad.push(format!(
                "{s}: no file frag at the device, yet the engine read {from_file} B from the file's pages"
            ));
        }
        // The receiving NIC: every frame paired with its buffer's
        // hand-back is what the hop holds (its unexplained bytes are
        // checked above); here, that the pairing happened at all and
        // covered the stream. Not to the byte: frames the sending e1000e
        // segmented (TSO) come up carrying about 2 % less TCP payload, by
        // their own headers, than the receiver read (docs/evidence.md).
        let rx_paid = u(r, &["nic_rx", "dma_payload_bytes"]);
        if !hop("nic_to_peer") || rx_paid * 10 < size * 9 || u(r, &["nic_rx", "maps"]) == 0 {
            bad.push(format!(
                "{s}: the receiving NIC's engine wrote {rx_paid} B of a {size} B file in {} frames, with {} ring refills",
                u(r, &["nic_rx", "dma_frames"]),
                u(r, &["nic_rx", "maps"])
            ));
        }
        if u(r, &["disk_dma_bytes"]) < size || !hop("disk_to_page_cache") {
            bad.push(format!(
                "{s}: the disk's engine wrote {} B of a cold {size} B file",
                u(r, &["disk_dma_bytes"])
            ));
        }
    }
    let [before, after, during, killed] = &k.nics;
    let names: Vec<&str> = before
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| *n != "lo")
        .collect();
    let has = |text: &str, n: &str| text.lines().any(|l| l.split_whitespace().next() == Some(n));
    if names.len() < 2 {
        bad.push(format!("fewer than two NICs before the runs: {before:?}"));
    }
    for n in &names {
        if !has(after, n) {
            bad.push(format!("{n} not back on the host after zc exited"));
        }
        if has(during, n) {
            bad.push(format!(
                "{n} still on the host while zc ran (never borrowed)"
            ));
        }
        if !has(killed, n) {
            bad.push(format!("{n} not back on the host after kill -9"));
        }
    }
    let [sg_before, sg_during, sg_killed] = &k.sg;
    if !sg_during.contains(" off") {
        bad.push("scatter-gather was never seen off during the killed sendfile run".into());
    }
    if sg_before.trim().is_empty() || sg_killed != sg_before {
        bad.push(format!(
            "scatter-gather after kill -9 is {:?}, before the runs {:?}",
            sg_killed.trim(),
            sg_before.trim()
        ));
    }
    dma_verdict(
        k,
        bad,
        traced,
        "dma: the DMA figures (this kernel has no dma tracepoints; the runs and the NICs' return were checked)",
    )
}

/// `zc trace` of nginx serving 4 MiB over the e1000e pair, from a
/// namespace of the script's own to curl in another: the file arrives
/// intact, zc exits cleanly, and the process that sent it owns the NIC's
/// DMA of its sockets, at least the file's size (headers on top). A
/// kernel without the `dma` tracepoints is held to the rest, its DMA
/// figure skipped by name.
fn trace_nic(k: &Results) -> (Result<(), String>, Option<String>) {
    const FILE: u64 = 4 << 20;
    let traced = has_dma_tracepoints(k);
    let mut bad = Vec::new();
    if k.fetch_nic_rc != Some(0) {
        bad.push(format!(
            "the file fetched over the NICs did not match (cmp {:?}; setup: {})",
            k.fetch_nic_rc,
            k.trace_nic_setup.lines().last().unwrap_or("ok")
        ));
    }
    if k.trace_nic_rc != Some(0) {
        bad.push(format!(
            "zc trace exited {:?}: {}",
            k.trace_nic_rc,
            k.trace_nic_err.lines().last().unwrap_or("")
        ));
    }
    let sender = k.trace_nic.first().and_then(|t| {
        t["processes"]
            .as_array()?
            .iter()
            .max_by_key(|p| u(p, &["sent_bytes"]))
            .cloned()
    });
    match sender {
        None => bad.push("no process in zc trace's report".into()),
        Some(p) => {
            let sent = u(&p, &["sent_bytes"]);
            if sent < FILE {
                bad.push(format!("the sender sent {sent} B of a {FILE} B file"));
            }
            let dma = u(&p, &["dma_bytes"]);
            // A skipped run of a map's program (a task preempted inside
            // it holds it on its CPU) leaves at most an skb unmapped.
            let misses = &k.trace_nic[0]["probe_misses_by_program"];
            let skipped: u64 = misses
                .as_object()
                .map(|m| {
                    m.iter()
                        .filter(|(p, _)| p.starts_with("dma:"))
                        .map(|(_, n)| n.as_u64().unwrap_or(0))
                        .sum()
                })
                .unwrap_or(0);
            if traced && (dma + skipped * (64 << 10) < FILE || u(&p, &["dma_maps"]) == 0) {
                bad.push(format!(
                    "{} sent {sent} B, but its sockets' NIC DMA is {dma} B (probe runs skipped: {misses})",
                    p["comm"].as_str().unwrap_or("?")
                ));
            }
        }
    }
    dma_verdict(
        k,
        bad,
        traced,
        "trace_nic: the NIC DMA figure (this kernel has no dma tracepoints; the fetch and zc's exit were checked)",
    )
}

/// Whether kernel `k` has the `dma` tracepoints: its doctor names a
/// tracepoint with no source at all as missing.
fn has_dma_tracepoints(k: &Results) -> bool {
    !k.doctor
        .lines()
        .any(|l| l.starts_with("dma/dma_map_phys") && l.contains("missing"))
}

/// A DMA check's result from its failures, and, on a kernel without the
/// `dma` tracepoints, the part skipped, named (`what`).
fn dma_verdict(
    k: &Results,
    bad: Vec<String>,
    traced: bool,
    what: &str,
) -> (Result<(), String>, Option<String>) {
    let skipped = (!traced).then(|| format!("kernel_matrix::{}::{what}", k.release));
    let result = if bad.is_empty() {
        Ok(())
    } else {
        Err(bad.join("; "))
    };
    (result, skipped)
}

/// The table's live test passed in the guest; a failure quotes its panic.
fn table(k: &Results) -> Result<(), String> {
    match k.table_rc {
        Some(0) => Ok(()),
        rc => {
            let why: Vec<&str> = k
                .table
                .lines()
                .skip_while(|l| !l.contains("panicked"))
                .take(3)
                .collect();
            Err(format!(
                "the table's live test exited {rc:?}: {}",
                if why.is_empty() {
                    "no panic in table.txt".to_string()
                } else {
                    why.join(" ")
                }
            ))
        }
    }
}

fn doctor(k: &Results) -> Result<(), String> {
    match k.doctor_rc {
        Some(0) => Ok(()),
        rc => Err(format!(
            "zc doctor exited {rc:?}: {}",
            k.doctor
                .lines()
                .find(|l| l.starts_with("verdict:"))
                .unwrap_or("(no verdict; see doctor.txt)")
        )),
    }
}

/// A kernel not served yet: the doctor refuses it (exit 3) and the probes
/// without a source are exactly the ones expected.
fn not_yet_served(k: &Results, expected: &[&str]) -> Result<(), String> {
    if k.doctor_rc != Some(3) {
        return Err(format!(
            "zc doctor exited {:?}, expected 3 (not yet served): if it is served now, take {} out of NOT_YET_SERVED",
            k.doctor_rc, k.series
        ));
    }
    let blocked: Vec<&str> = k
        .doctor
        .lines()
        .filter(|l| {
            l.contains(" required ") && (l.contains(" missing ") || l.contains(" refused "))
        })
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    if blocked != expected {
        return Err(format!(
            "probes without a source: {blocked:?}, expected {expected:?}"
        ));
    }
    Ok(())
}

/// A kernel older than zc serves: the doctor exits 3 and names, one line
/// each, exactly the features expected missing.
fn too_old(k: &Results, expected: &[&str]) -> Result<(), String> {
    if k.doctor_rc != Some(3) {
        return Err(format!("zc doctor exited {:?}, expected 3", k.doctor_rc));
    }
    let named: Vec<&str> = k
        .doctor
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("missing: "))
        .filter_map(|l| l.split(" (Linux ").next())
        .collect();
    if named != expected {
        return Err(format!(
            "the doctor names {named:?} as missing, expected {expected:?}"
        ));
    }
    Ok(())
}

fn demo(host: &Results, k: &Results) -> Result<(), String> {
    let mut bad = Vec::new();
    if k.demo_rc != Some(0) {
        bad.push(format!("zc demo exited {:?}", k.demo_rc));
    }
    let refusals: Vec<&str> = EXPECTED_REFUSALS
        .iter()
        .filter(|(s, _)| *s == k.series)
        .map(|(_, m)| *m)
        .collect();
    for h in &host.demo {
        let s = h["strategy"].as_str().unwrap_or("?");
        let Some(r) = k.run(s) else {
            let refused = k.demo_err.lines().find(|l| l.contains(s));
            let expected = refused.is_some_and(|l| refusals.iter().any(|m| l.contains(m)));
            if !expected {
                bad.push(format!(
                    "{s} did not run: {}",
                    refused.unwrap_or("no line names it")
                ));
            }
            continue;
        };
        if r["received_ok"] != true {
            bad.push(format!("{s}: not received intact"));
        }
        if let Some(e) = unexplained(s, r) {
            bad.push(e);
        }
    }
    // A strategy only the guest can run (kernel TLS) is held to the same.
    for r in k
        .demo
        .iter()
        .filter(|r| !host.demo.iter().any(|h| h["strategy"] == r["strategy"]))
    {
        let s = r["strategy"].as_str().unwrap_or("?");
        if r["received_ok"] != true {
            bad.push(format!("{s}: not received intact"));
        }
        if let Some(e) = unexplained(s, r) {
            bad.push(e);
        }
    }
    if host.demo.is_empty() {
        bad.push("the host ran no strategy to compare with".into());
    }
    if bad.is_empty() {
        Ok(())
    } else {
        Err(bad.join("; "))
    }
}

/// A run's unexplained bytes, with what a reader of the CI log needs to
/// find the cause: the hops that do not add up, and the probe runs the
/// kernel skipped (the results folder is the next run's once CI goes on).
fn unexplained(s: &str, r: &Value) -> Option<String> {
    let total = u(r, &["unexplained_bytes"]);
    if total == 0 {
        return None;
    }
    let hops: Vec<String> = r["ledger"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|h| u(h, &["unexplained_bytes"]) > 0)
                .map(|h| format!("{} {}", h["hop"].as_str().unwrap_or("?"), h))
                .collect()
        })
        .unwrap_or_default();
    Some(format!(
        "{s}: {total} bytes unexplained (hops: {}; probe runs skipped: {})",
        hops.join(", "),
        r["probe_misses_by_program"]
    ))
}

/// Over NFS, cold: every strategy the host ran, received intact and
/// balanced, each page of the file read in and named by the page cache's
/// events as on a local disk.
fn nfs(host: &Results, k: &Results) -> Result<(), String> {
    if k.nfs_setup_rc != Some(0) {
        return Err(format!(
            "the guest's NFS export did not mount (exit {:?}): {}",
            k.nfs_setup_rc,
            k.nfs_setup.lines().last().unwrap_or("no output")
        ));
    }
    let mut bad = Vec::new();
    if k.nfs_rc != Some(0) {
        bad.push(format!(
            "zc demo over NFS exited {:?}: {}",
            k.nfs_rc,
            k.nfs_err.lines().last().unwrap_or("")
        ));
    }
    for h in &host.demo {
        let s = h["strategy"].as_str().unwrap_or("?");
        let Some(r) = k.nfs.iter().find(|r| r["strategy"] == s) else {
            bad.push(format!("{s} did not run over NFS"));
            continue;
        };
        let p = &r["pages"];
        let pages = u(p, &["file_pages"]);
        if r["received_ok"] != true {
            bad.push(format!("{s}: not received intact"));
        }
        if let Some(e) = unexplained(s, r) {
            bad.push(e);
        }
        // A page no event named is allowed only where the kernel skipped
        // runs of the page cache's probes that could have named it (the
        // report bounds it by a chunk's pages per skipped run).
        let unnamed = u(p, &["untouched"]).saturating_sub(u(p, &["unnamed_in_skipped_runs"]));
        if p["page_cache_seen"] != true || unnamed != 0 {
            bad.push(format!("{s}: pages not named: {p}"));
        }
        // A page the eviction could not drop is measured as resident
        // before the run; every other page must have been read in, or been
        // in a page cache probe run the kernel skipped.
        let resident = u(r, &["resident_before_bytes"]).div_ceil(4096);
        let skipped = skipped_runs(r, "filemap:") * u(r, &["chunk_bytes"]).div_ceil(4096);
        if pages == 0 || u(p, &["read_from_disk"]) + resident + skipped < pages {
            bad.push(format!(
                "{s}: cold, yet not every page was read in ({resident} resident before): {p}"
            ));
        }
    }
    if bad.is_empty() {
        Ok(())
    } else {
        Err(bad.join("; "))
    }
}

/// A run's movements, as the kernel made them: (movement, from, to).
fn movements(r: &Value) -> Vec<(String, String, String)> {
    r["movements"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|m| {
                    let s = |k: &str| m[k].as_str().unwrap_or("").to_owned();
                    (s("movement"), s("from"), s("to"))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// One hop of the ledger: its classes (copied, mapped, referenced, pinned,
/// the socket's own pages) and the bytes retransmitted through it.
#[derive(Debug, PartialEq, Eq)]
struct Hop {
    hop: String,
    classes: [u64; 5],
    retransmitted: u64,
    /// Bytes whose events the kernel skipped (7.x): in no class here.
    skipped: u64,
}

impl Hop {
    /// The same movement of the same bytes: the same classes, and the
    /// same bytes once each side's retransmissions (sent again in the
    /// class of what they repeat, and itemized) are taken out. Exact when
    /// neither side retransmitted.
    /// Bytes the kernel skipped are in no class here: the classes used
    /// must then be the host's or fewer, and the bytes the same with them.
    fn same_as(&self, host: &Hop) -> bool {
        if self.retransmitted + host.retransmitted + self.skipped + host.skipped == 0 {
            return self == host;
        }
        let used = |h: &Hop| h.classes.map(|c| c > 0);
        let first =
            |h: &Hop| (h.classes.iter().sum::<u64>() + h.skipped).saturating_sub(h.retransmitted);
        let classes = if self.skipped + host.skipped == 0 {
            used(self) == used(host)
        } else {
            used(self)
                .iter()
                .zip(used(host))
                .all(|(here, there)| !here || there)
        };
        self.hop == host.hop && classes && first(self) == first(host)
    }
}

/// The ledger, hop by hop.
fn hops(r: &Value) -> Vec<Hop> {
    r["ledger"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|h| Hop {
                    hop: h["hop"].as_str().unwrap_or("").to_owned(),
                    retransmitted: u(h, &["retransmitted_bytes"]),
                    skipped: u(h, &["skipped_bytes"]),
                    classes: [
                        u(h, &["copied_bytes"]),
                        u(h, &["mapped_bytes"]) + u(h, &["mapped_inferred_bytes"]),
                        u(h, &["referenced_bytes"]),
                        u(h, &["pinned_bytes"]),
                        u(h, &["socket_pages_bytes"]),
                    ],
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Whether a run's count of calls is the timing's, not the kernel's: it
/// waited for completions, or a call moved less than it asked (a full
/// socket buffer or pipe) and its loop called again.
fn timed(r: &Value) -> bool {
    u(r, &["zerocopy_completions", "notifications"]) > 0
        || u(r, &["io_uring", "submitted"]) > 0
        || u(r, &["short_calls"]) > 0
}

/// The mode switches a run's syscalls made: its total less the two of each
/// user page fault. A fault in the sender (its stack, a page of zc's own
/// text reclaimed in a small guest) belongs to the memory manager's state
/// at that moment, not to the strategy's path through the kernel, so it is
/// reported by the run and not held against the host.
fn syscall_switches(r: &Value) -> u64 {
    u(r, &["mode_switches"]).saturating_sub(2 * u(r, &["page_faults_user"]))
}

/// Probe runs the kernel skipped in run `r`, of the tracepoints whose
/// names start with `prefix` (`raw_syscalls:`, `filemap:`).
fn skipped_runs(r: &Value, prefix: &str) -> u64 {
    r["probe_misses_by_program"].as_object().map_or(0, |m| {
        m.iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .filter_map(|(_, v)| v.as_u64())
            .sum()
    })
}

fn same_as_host(host: &Results, k: &Results) -> Result<(), String> {
    let mut bad = Vec::new();
    for h in &host.demo {
        let s = h["strategy"].as_str().unwrap_or("?");
        let Some(r) = k.run(s) else { continue };
        if movements(r) != movements(h) {
            bad.push(format!(
                "{s}: moved its bytes otherwise: {:?}, the host {:?}",
                movements(r),
                movements(h)
            ));
            continue;
        }
        let (here, there) = (hops(r), hops(h));
        let same = here.len() == there.len() && here.iter().zip(&there).all(|(a, b)| a.same_as(b));
        if !same {
            bad.push(format!(
                "{s}: ledger classes {here:?}, the host's {there:?}"
            ));
        }
        if !timed(r) && !timed(h) {
            let (a, b) = (syscall_switches(r), syscall_switches(h));
            // A syscall whose probe run the kernel skipped is missing here,
            // and only as many as were skipped (7.x: docs/evidence.md).
            let k = skipped_runs(r, "raw_syscalls:");
            let total = (u(r, &["syscall_total"]), u(h, &["syscall_total"]));
            let fits = |here: u64, there: u64, per: u64| here <= there && there - here <= per * k;
            if !fits(total.0, total.1, 1) || !fits(a, b, 2) {
                bad.push(format!(
                    "{s}: {} syscalls and {a} mode switches by them here, {} and {b} on the host (syscalls {} / {})",
                    r["syscall_total"], h["syscall_total"], r["syscalls"], h["syscalls"],
                ));
            }
        }
    }
    if bad.is_empty() {
        Ok(())
    } else {
        Err(bad.join("; "))
    }
}

/// The verdict of the process that sent the most, without what differs
/// between two machines: pids, and the served file's name (a path, or
/// `major:minor:inode` when the file was gone before zc read its name).
fn verdict(r: &Results) -> Option<String> {
    let tree = r.trace.first()?;
    let sender = tree["processes"]
        .as_array()?
        .iter()
        .max_by_key(|p| u(p, &["sent_bytes"]))?;
    let v = sender["verdict"].as_str()?;
    // "nginx[123] sent 4.0 MiB of /var/tmp/zc-lab-nginx-77/payload.bin: ..."
    let mut out = String::new();
    let mut chars = v.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '[' {
            while chars.peek().is_some_and(|c| c.is_ascii_digit()) {
                chars.next();
            }
        }
    }
    // "... sent 4 MiB of NAME: how" → "... sent 4 MiB: how"
    if let Some(of) = out.find(" of ")
        && let Some(colon) = out[of..].find(": ")
    {
        out.replace_range(of..of + colon, "");
    }
    Some(out)
}

fn trace(host: &Results, k: &Results) -> Result<(), String> {
    if k.fetch_rc != Some(0) {
        return Err(format!(
            "the file fetched from nginx under zc trace did not match (cmp {:?})",
            k.fetch_rc
        ));
    }
    if k.trace_rc != Some(0) {
        return Err(format!("zc trace exited {:?}", k.trace_rc));
    }
    let (Some(here), Some(there)) = (verdict(k), verdict(host)) else {
        return Err("no verdict from zc trace (see trace.json, trace.err)".into());
    };
    if here != there {
        return Err(format!("verdict `{here}`, the host's `{there}`"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn results(demo: &[&str], trace: &str) -> Results {
        Results {
            series: "6.12".into(),
            release: "6.12.1".into(),
            dir: PathBuf::new(),
            doctor_rc: Some(0),
            doctor: String::new(),
            demo_rc: Some(0),
            demo: demo
                .iter()
                .map(|d| serde_json::from_str(d).expect("json"))
                .collect(),
            demo_err: String::new(),
            fetch_rc: Some(0),
            trace_rc: Some(0),
            trace: vec![serde_json::from_str(trace).expect("json")],
            nfs_setup_rc: Some(0),
            nfs_setup: String::new(),
            nfs_rc: Some(0),
            // The same runs over NFS, cold, every page read in and named.
            nfs: demo
                .iter()
                .map(|d| {
                    let mut v: Value = serde_json::from_str(d).expect("json");
                    v["pages"] = serde_json::json!({"file_pages": 256,
                        "read_from_disk": 256, "untouched": 0, "page_cache_seen": true});
                    v
                })
                .collect(),
            nfs_err: String::new(),
            table_rc: Some(0),
            table: String::new(),
            dma_rc: Some(0),
            dma: demo
                .iter()
                .map(|d| {
                    let mut v: Value = serde_json::from_str(d).expect("json");
                    v["nic"] = true.into();
                    v["size_bytes"] = 1000.into();
                    v["dma_bytes"] = 1100.into();
                    v["disk_dma_bytes"] = 1000.into();
                    v["nic_rx"] = serde_json::json!({"frames": 8, "dma_frames": 8,
                        "dma_payload_bytes": 980, "maps": 8});
                    v["ledger"] = serde_json::json!([{"hop": "disk_to_page_cache"},
                        {"hop": "memory_to_nic"}, {"hop": "nic_to_peer"}]);
                    v
                })
                .collect(),
            dma_err: String::new(),
            sg: [
                "eth0 on\neth1 on\n".into(),
                "eth0 off\n".into(),
                "eth0 on\neth1 on\n".into(),
            ],
            trace_nic_setup: String::new(),
            fetch_nic_rc: Some(0),
            trace_nic_rc: Some(0),
            trace_nic: vec![serde_json::json!({"processes": [
                {"comm": "nginx", "sent_bytes": 4 << 20, "dma_bytes": (4 << 20) + 4000, "dma_maps": 300},
                {"comm": "ip", "sent_bytes": 0, "dma_bytes": 0, "dma_maps": 0}]})],
            trace_nic_err: String::new(),
            nics: [
                "lo UP\neth0 DOWN\neth1 DOWN\n".into(),
                "lo UP\neth0 DOWN\neth1 DOWN\n".into(),
                "lo UP\n".into(),
                "lo UP\neth0 DOWN\neth1 DOWN\n".into(),
            ],
            ran: true,
            died: None,
        }
    }

    #[test]
    fn over_nfs_a_page_unnamed_or_an_export_that_failed_fails() {
        let host = results(&[COPY], TRACE);
        let mut k = results(&[COPY], TRACE);
        assert_eq!(nfs(&host, &k), Ok(()));
        k.nfs[0]["pages"]["untouched"] = 3.into();
        k.nfs[0]["pages"]["read_from_disk"] = 253.into();
        let e = nfs(&host, &k).expect_err("pages unnamed");
        assert!(
            e.contains("a: pages not named") && e.contains("not every page"),
            "{e}"
        );
        // Where the kernel skipped runs of the page cache's probes, as
        // many pages as those runs could name may go unnamed; one more fails.
        k.nfs[0]["chunk_bytes"] = 65536.into();
        k.nfs[0]["probe_misses_by_program"] =
            serde_json::json!({"filemap:mm_filemap_get_pages": 1});
        k.nfs[0]["pages"]["unnamed_in_skipped_runs"] = 3.into();
        assert_eq!(nfs(&host, &k), Ok(()));
        k.nfs[0]["pages"]["untouched"] = 4.into();
        assert!(
            nfs(&host, &k)
                .expect_err("one more")
                .contains("pages not named")
        );
        k.nfs.clear();
        assert!(
            nfs(&host, &k)
                .expect_err("no run")
                .contains("a did not run over NFS")
        );
        k.nfs_setup_rc = Some(32);
        k.nfs_setup = "mount.nfs4: Connection refused".into();
        let e = nfs(&host, &k).expect_err("no export");
        assert!(e.contains("Connection refused"), "{e}");
        // The host is not asked.
        let mut h = results(&[COPY], TRACE);
        h.series = "host".into();
        h.nfs_setup_rc = None;
        assert!(checks(&host, &h).iter().all(|c| !c.name.ends_with("::nfs")));
    }

    const COPY: &str = r#"{"strategy":"a","received_ok":true,"unexplained_bytes":0,"syscall_total":32,"mode_switches":64,
        "movements":[{"movement":"cpu_copy","from":"page_cache","to":"user_buffer"}],
        "ledger":[{"hop":"file_to_sender","copied_bytes":10}],"zerocopy_completions":{"notifications":0},"io_uring":{"submitted":0}}"#;
    const TRACE: &str = r#"{"processes":[{"sent_bytes":5,"verdict":"nginx[12] sent 4 MiB of /var/tmp/x-1/p.bin: 100 % by reference"},{"sent_bytes":0,"verdict":"other"}]}"#;

    #[test]
    fn zc_trace_over_the_nics_owns_the_dma_of_its_sockets_or_it_fails() {
        let mut k = results(&[COPY], TRACE);
        assert_eq!(trace_nic(&k), (Ok(()), None));
        k.trace_nic[0]["processes"][0]["dma_bytes"] = 0.into();
        let e = trace_nic(&k).0.expect_err("no DMA");
        assert!(
            e.contains("nginx sent 4194304 B, but its sockets' NIC DMA is 0 B"),
            "{e}"
        );
        // Short by a few maps, which the kernel skipped the program for:
        // at most an skb each.
        k.trace_nic[0]["processes"][0]["dma_bytes"] = ((4 << 20) - 12282).into();
        assert!(trace_nic(&k).0.is_err());
        k.trace_nic[0]["probe_misses_by_program"] =
            serde_json::json!({"dma:dma_map_phys": 1, "net:net_dev_xmit": 4});
        assert_eq!(trace_nic(&k).0, Ok(()));
        k.trace_nic[0]["processes"][0]["dma_bytes"] = ((4 << 20) - (70 << 10)).into();
        let e = trace_nic(&k).0.expect_err("beyond one skb");
        assert!(e.contains("dma:dma_map_phys"), "{e}");
        k.trace_nic[0]["processes"][0]["dma_bytes"] = 0.into();
        // Without the dma tracepoints the figure is skipped by name.
        k.doctor = "dma/dma_map_phys   tp_btf  optional missing: no tracepoint\n".into();
        let (r, skipped) = trace_nic(&k);
        assert_eq!(r, Ok(()));
        assert!(skipped.expect("named").contains("trace_nic"));
        // The rest still holds.
        k.fetch_nic_rc = Some(1);
        assert!(trace_nic(&k).0.expect_err("cmp").contains("did not match"));
        k.fetch_nic_rc = Some(0);
        k.trace_nic.clear();
        assert!(trace_nic(&k).0.expect_err("report").contains("no process"));
    }

    #[test]
    fn dma_arrows_measured_agreeing_and_nics_back_or_it_fails() {
        let mut k = results(&[COPY], TRACE);
        assert_eq!(dma(&k), (Ok(()), None));
        // The engine short of the file (CI, 7.3, 2026-12-03) fails, unless
        // the ledger itemized the maps as skipped by the kernel.
        k.dma[0]["dma_bytes"] = 900.into();
        let e = dma(&k).0.expect_err("short");
        assert!(
            e.contains("engine read 900 B of a 1000 B file, 0 B more"),
            "{e}"
        );
        k.dma[0]["ledger"][1]["skipped_map_bytes"] = 60.into();
        assert!(dma(&k).0.is_err(), "40 B still missing");
        k.dma[0]["ledger"][1]["skipped_bytes"] = 40.into();
        assert_eq!(dma(&k).0, Ok(()));
        k.dma[0]["dma_bytes"] = 1100.into();
        // Page identity at the engine must agree with the device's frags.
        k.dma[0]["file_frags_at_device"] = 40.into();
        let e = dma(&k).0.expect_err("frags, no file page at the engine");
        assert!(e.contains("40 file frags"), "{e}");
        k.dma[0]["nic_dma_file_bytes"] = 950.into();
        assert_eq!(dma(&k).0, Ok(()));
        k.dma[0]["file_frags_at_device"] = 0.into();
        assert!(
            dma(&k)
                .0
                .expect_err("pages, no frag")
                .contains("no file frag")
        );
        k.dma[0]["nic_dma_file_bytes"] = 0.into();
        k.dma[0]["disk_dma_bytes"] = 10.into();
        assert!(
            dma(&k)
                .0
                .expect_err("disk")
                .contains("disk's engine wrote 10 B")
        );
        k.dma[0]["disk_dma_bytes"] = 1000.into();
        // The receiving NIC's engine short of the stream, or never paired.
        k.dma[0]["nic_rx"]["dma_payload_bytes"] = 500.into();
        let e = dma(&k).0.expect_err("receive");
        assert!(e.contains("receiving NIC's engine wrote 500 B"), "{e}");
        k.dma[0]["nic_rx"]["dma_payload_bytes"] = 980.into();
        k.dma[0]["ledger"] = serde_json::json!([{"hop": "memory_to_nic"}]);
        assert!(dma(&k).0.is_err());
        k.dma[0]["ledger"] = serde_json::json!([{"hop": "disk_to_page_cache"},
            {"hop": "memory_to_nic"}, {"hop": "nic_to_peer"}]);
        // A NIC the kill left in zc's namespace is a failure.
        k.nics[3] = "lo UP\neth1 DOWN\n".into();
        assert!(
            dma(&k)
                .0
                .expect_err("kill")
                .contains("eth0 not back on the host after kill -9")
        );
        k.nics[3] = k.nics[0].clone();
        // A NIC back with zc's scatter-gather is a failure.
        k.sg[2] = "eth0 off\neth1 on\n".into();
        assert!(
            dma(&k)
                .0
                .expect_err("sg")
                .contains("scatter-gather after kill -9")
        );
        k.sg[2] = k.sg[0].clone();
        // A kill that came before zc turned it off proves nothing.
        k.sg[1] = "\n".into();
        assert!(dma(&k).0.expect_err("sg").contains("never seen off"));
        k.sg[1] = "eth0 off\n".into();
        // Without the dma tracepoints: the rest is held, the figures skipped.
        k.doctor = "dma/dma_map_phys   tp_btf  optional missing: no tracepoint\n".into();
        k.dma[0]["dma_bytes"] = 0.into();
        let (r, skipped) = dma(&k);
        assert_eq!(r, Ok(()));
        assert!(skipped.expect("named").contains("no dma tracepoints"));
        k.dma[0]["received_ok"] = false.into();
        assert!(dma(&k).0.is_err());
    }

    #[test]
    fn a_kernel_like_the_host_passes_every_check() {
        let host = results(&[COPY], TRACE);
        let k = results(
            &[COPY],
            r#"{"processes":[{"sent_bytes":5,"verdict":"nginx[999] sent 4 MiB of 254:0:2162690: 100 % by reference"}]}"#,
        );
        for c in checks(&host, &k) {
            assert_eq!(c.result, Ok(()), "{}", c.name);
        }
    }

    #[test]
    fn an_unbalanced_run_a_missing_strategy_and_other_figures_fail() {
        let host = results(&[COPY, &COPY.replace("\"a\"", "\"b\"")], TRACE);
        let k = results(
            &[&COPY
                .replace("\"unexplained_bytes\":0", "\"unexplained_bytes\":7")
                .replace("\"syscall_total\":32", "\"syscall_total\":33")],
            TRACE,
        );
        let c = checks(&host, &k);
        let demo = c[1].result.as_ref().expect_err("demo");
        assert!(demo.contains("a: 7 bytes unexplained"), "{demo}");
        assert!(demo.contains("b did not run"), "{demo}");
        let same = c[2].result.as_ref().expect_err("same");
        assert!(same.contains("a: 33 syscalls"), "{same}");
    }

    #[test]
    fn a_user_fault_is_not_a_mode_switch_of_the_strategy() {
        let host = results(&[COPY], TRACE);
        let faulted = COPY.replace(
            "\"mode_switches\":64",
            "\"mode_switches\":66,\"page_faults_user\":1",
        );
        assert_eq!(
            checks(&host, &results(&[&faulted], TRACE))[2].result,
            Ok(())
        );
        // Two switches more without a fault are the syscalls' and noticed.
        let more = COPY.replace("\"mode_switches\":64", "\"mode_switches\":66");
        assert!(checks(&host, &results(&[&more], TRACE))[2].result.is_err());
    }

    #[test]
    fn retransmitted_bytes_are_set_apart_from_the_classes() {
        let host = results(&[COPY], TRACE);
        let resent = COPY.replace(
            r#"{"hop":"file_to_sender","copied_bytes":10}"#,
            r#"{"hop":"file_to_sender","copied_bytes":14,"retransmitted_bytes":4}"#,
        );
        assert_eq!(checks(&host, &results(&[&resent], TRACE))[2].result, Ok(()));
        let more = resent.replace("\"copied_bytes\":14", "\"copied_bytes\":15");
        assert!(checks(&host, &results(&[&more], TRACE))[2].result.is_err());
        let other_class = resent.replace("\"copied_bytes\":14", "\"pinned_bytes\":14");
        assert!(
            checks(&host, &results(&[&other_class], TRACE))[2]
                .result
                .is_err()
        );
    }

    /// On 7.x a task can find a program held by another one preempted
    /// inside it: what the skipped runs could hold is allowed, no more.
    #[test]
    fn a_run_with_skipped_probe_runs_is_held_to_what_they_could_hold() {
        let host = results(&[COPY], TRACE);
        let skipped = COPY
            .replace(
                r#"{"hop":"file_to_sender","copied_bytes":10}"#,
                r#"{"hop":"file_to_sender","copied_bytes":6,"skipped_bytes":4}"#,
            )
            .replace("\"syscall_total\":32", "\"syscall_total\":31")
            .replace("\"mode_switches\":64", "\"mode_switches\":62")
            .replace(
                "\"received_ok\":true",
                r#""received_ok":true,"probe_misses_by_program":{"raw_syscalls:sys_exit":1}"#,
            );
        assert_eq!(
            checks(&host, &results(&[&skipped], TRACE))[2].result,
            Ok(())
        );
        // Two calls fewer with one run skipped: noticed.
        let two = skipped.replace("\"syscall_total\":31", "\"syscall_total\":30");
        assert!(checks(&host, &results(&[&two], TRACE))[2].result.is_err());
        // Skipped bytes do not stand in for bytes the host did not move.
        let more = skipped.replace("\"skipped_bytes\":4", "\"skipped_bytes\":5");
        assert!(checks(&host, &results(&[&more], TRACE))[2].result.is_err());
        // Nor for a class the host did not use.
        let other = skipped.replace("\"copied_bytes\":6", "\"pinned_bytes\":6");
        assert!(checks(&host, &results(&[&other], TRACE))[2].result.is_err());
    }

    #[test]
    fn a_run_that_waited_is_not_held_to_the_hosts_call_count() {
        let waiting = COPY.replace("\"notifications\":0", "\"notifications\":3");
        let host = results(&[&waiting], TRACE);
        let k = results(
            &[&waiting.replace("\"syscall_total\":32", "\"syscall_total\":35")],
            TRACE,
        );
        assert_eq!(checks(&host, &k)[2].result, Ok(()));
        // Nor one whose loop called again after a short call.
        let host = results(&[COPY], TRACE);
        let short = COPY
            .replace(
                "\"syscall_total\":32",
                "\"syscall_total\":33,\"short_calls\":1",
            )
            .replace("\"mode_switches\":64", "\"mode_switches\":66");
        assert_eq!(checks(&host, &results(&[&short], TRACE))[2].result, Ok(()));
    }

    #[test]
    fn a_kernel_too_old_must_name_exactly_the_missing_features() {
        let mut k = results(&[], TRACE);
        k.series = "5.10".into();
        k.doctor_rc = Some(3);
        k.doctor = "eBPF features   2 missing\n  missing: bpf_loop (Linux 5.17): x\n  missing: folios (Linux 5.16): y\n".into();
        let host = results(&[], TRACE);
        let c = checks(&host, &k);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].result, Ok(()), "{}", c[0].name);
        k.doctor = k.doctor.replace("  missing: folios (Linux 5.16): y\n", "");
        assert!(checks(&host, &k)[0].result.is_err(), "one fewer is noticed");
        k.doctor_rc = Some(0);
        assert!(
            checks(&host, &k)[0].result.is_err(),
            "a doctor that passes is noticed"
        );
    }

    #[test]
    fn a_guest_that_died_is_one_failure_that_says_why() {
        let mut k = results(&[], TRACE);
        k.ran = false;
        k.died = Some("Oops: int3".into());
        let c = checks(&results(&[COPY], TRACE), &k);
        assert_eq!(c.len(), 1);
        let why = c[0].result.as_ref().expect_err("died");
        assert!(why.contains("Oops: int3"), "{why}");
    }

    #[test]
    fn a_console_that_died_says_where_in_one_line() {
        let console = "[   90.1] zc-lab: step dma\n\
[   99.2] zc-lab: step kill\n\
[  110.758570] Oops: general protection fault, probably for non-canonical address 0x90e611d98fd4d519: 0000 [#1] SMP NOPTI\n\
[  110.758600] CPU: 1 UID: 0 PID: 812 Comm: zc Not tainted 6.16.12+deb13-amd64 #1 PREEMPT(lazy)  Debian 6.16.12-1~bpo13+1\n\
[  110.758700] RIP: 0010:skb_release_data+0x9a/0x1e0\n\
[  110.758800] Call Trace:\n\
[  110.758801]  <TASK>\n\
[  110.758802]  ? die_addr+0x36/0x90\n\
[  110.758803]  consume_skb+0x3d/0xb0\n\
[  110.758804]  tcp_recvmsg_locked+0x2a0/0x9b0\n\
[  110.758805]  </TASK>\n\
[  110.758806] Modules linked in: e1000e\n";
        let why = died(console).expect("an oops");
        assert!(why.starts_with("Oops: general protection fault"), "{why}");
        assert!(why.contains("Comm: zc Not tainted"), "{why}");
        assert!(
            why.contains("RIP: 0010:skb_release_data+0x9a/0x1e0"),
            "{why}"
        );
        assert!(
            why.contains("call trace: consume_skb+0x3d/0xb0 < tcp_recvmsg_locked+0x2a0/0x9b0;"),
            "{why}"
        );
        assert!(why.ends_with("during the script's step 'kill'"), "{why}");
        assert!(!why.contains('\n'));
        assert_eq!(died("[ 1.0] zc-lab: step demo\n[ 2.0] all is well\n"), None);
        // 6.1 says "general protection fault" with no "Oops"; a BUG line
        // comes before its oops and is the one that names the cause.
        let old = "[ 5.0] general protection fault, probably for non-canonical address 0xdead: 0000 [#1] PREEMPT SMP NOPTI\n";
        assert!(died(old).is_some_and(|w| w.starts_with("general protection fault")));
        let bug = "[ 5.0] BUG: kernel NULL pointer dereference, address: 0000000000000008\n[ 5.1] Oops: 0000 [#1] SMP NOPTI\n";
        assert!(died(bug).is_some_and(|w| w.starts_with("BUG: kernel NULL pointer")));
    }

    #[test]
    fn verdicts_are_compared_without_pids_or_folders() {
        let r = results(&[], TRACE);
        assert_eq!(
            verdict(&r).as_deref(),
            Some("nginx[] sent 4 MiB: 100 % by reference")
        );
    }
}
