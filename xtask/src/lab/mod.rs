//! `cargo xtask lab`: run a command on another kernel, booted under QEMU.
//!
//! A tracer's claims hold only on the kernels it was tried on, and the
//! kernels people run are older (Debian 12's 6.1, RHEL 10's 6.12) or newer
//! than a developer's. The lab boots one of Debian's own kernels with
//! virtme-ng: QEMU runs the kernel image over this machine's root file
//! system (9p, read-only, with an overlay), so the zc just built runs in the
//! guest as root without being copied anywhere. What the command writes to
//! `$ZC_LAB_OUT` (a folder the guest may write) comes back as files, and so
//! do its stdout, stderr and exit code.
//!
//! Where a KVM guest really runs, the lab uses KVM; on machines where
//! `/dev/kvm` opens but a guest's vCPU never runs (nested virtualisation
//! that does not work), it uses QEMU's TCG, a software CPU: slower, but the
//! same kernel. It says which.
//!
//! Each guest gets a fresh ext4 scratch disk as `$ZC_WORKDIR`, so zc's file
//! lives in a real page cache on a real block device, as on a host, not in
//! the overlay or a tmpfs, whose pages the filemap tracepoints see
//! differently.

pub mod debian;
pub mod matrix;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};

use crate::cmd;
use debian::{Release, Series};

/// The kernels `--kernel all` boots: Debian 12, Debian 13 (and RHEL 10's
/// base), 13's backports before the package split, the newest major, and
/// this machine's own kernel.
pub const ALL: [&str; 5] = ["6.1", "6.12", "6.16", "7.x", "host"];

/// Modules a guest loads before the command: the demo's veth pair, the
/// `--rate` qdisc, the scratch disk's driver and file system, and kTLS.
/// udev does
/// not run in a virtme-ng guest, so nothing loads them on demand.
const MODULES: &str = "veth sch_tbf virtio_blk ext4 tls";

/// The scratch disk's file system label, by which the guest finds it, and
/// where the guest mounts it.
const DISK_LABEL: &str = "zc-lab";
const DISK_DIR: &str = "/tmp/zc-lab-disk";

/// How long a KVM guest may take to run `true` before KVM is judged not to
/// run guests here (a working one takes about two seconds).
const KVM_PROBE: Duration = Duration::from_secs(30);

/// A kernel to run on: one of Debian's, unpacked in the cache, or this
/// machine's own.
#[derive(Clone, Debug)]
pub enum Kernel {
    Debian {
        release: Release,
        /// `ROOT/boot/vmlinuz-REL`, beside `ROOT/lib/modules/REL`: where
        /// virtme-ng looks for the modules of an image it is given.
        vmlinuz: PathBuf,
    },
    Host {
        release: String,
    },
}

impl Kernel {
    pub fn release(&self) -> &str {
        match self {
            Kernel::Debian { release, .. } => &release.name,
            Kernel::Host { release } => release,
        }
    }

    /// One line: which kernel, from where.
    pub fn describe(&self) -> String {
        match self {
            Kernel::Debian { release, .. } => format!(
                "linux {} ({} from Debian {}: {})",
                release.name,
                release.version,
                release.suite,
                release
                    .packages
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(" + ")
            ),
            Kernel::Host { release } => format!("linux {release} (this machine's own kernel)"),
        }
    }
}

/// How a guest's CPU runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Accel {
    Kvm,
    /// QEMU's software CPU, and why not KVM.
    Tcg(String),
}

impl std::fmt::Display for Accel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Accel::Kvm => write!(f, "KVM"),
            Accel::Tcg(why) => write!(f, "TCG, QEMU's software CPU ({why})"),
        }
    }
}

/// The lab's cache: `ZC_LAB_CACHE`, else `$XDG_CACHE_HOME/zc-lab`, else
/// `~/.cache/zc-lab`.
pub fn cache_dir() -> Result<PathBuf> {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    if let Some(dir) = env("ZC_LAB_CACHE") {
        return Ok(PathBuf::from(dir));
    }
    if let Some(dir) = env("XDG_CACHE_HOME") {
        return Ok(PathBuf::from(dir).join("zc-lab"));
    }
    let home = env("HOME").context("HOME is not set: set ZC_LAB_CACHE to a folder for kernels")?;
    Ok(PathBuf::from(home).join(".cache").join("zc-lab"))
}

/// Resolves `--kernel` values: `all`, `host`, or a series (`6.1`, `7.x`).
pub fn wanted(values: &[String]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for v in values {
        if v == "all" {
            out.extend(ALL.iter().map(|s| s.to_string()));
        } else if v == "host" || Series::parse(v).is_some() {
            out.push(v.clone());
        } else {
            bail!(
                "--kernel {v}: expected a series such as 6.1, 6.12 or 7.x (the newest of major 7), `host`, or `all` ({})",
                ALL.join(", ")
            );
        }
    }
    out.dedup();
    Ok(out)
}

/// Finds (and, the first time, fetches and unpacks) the kernel `which` names.
pub fn prepare(cache: &Path, which: &str) -> Result<Kernel> {
    if which == "host" {
        let release = cmd::probe_stdout(Command::new("uname").arg("-r"))?
            .trim()
            .to_owned();
        return Ok(Kernel::Host { release });
    }
    let series = Series::parse(which).with_context(|| format!("not a kernel series: {which}"))?;
    let mirror = debian::mirror()?;
    let release = debian::find(cache, &mirror, series)?;
    let root = cache.join("kernels").join(&release.name);
    // What was unpacked: the version and the packages, one a line.
    let stamp = root.join("zc-lab.version");
    let unpacked = std::iter::once(release.version.as_str())
        .chain(release.packages.iter().map(|p| p.name.as_str()))
        .collect::<Vec<_>>()
        .join("\n");
    let ready = fs::read_to_string(&stamp).is_ok_and(|v| v.trim() == unpacked);
    if !ready {
        unpack(cache, &mirror, &release, &root)?;
        fs::write(&stamp, &unpacked)
            .with_context(|| format!("cannot write {}", stamp.display()))?;
    } else {
        eprintln!(
            "lab: {} ({}) cached in {}",
            release.name,
            release.version,
            root.display()
        );
    }
    let vmlinuz = debian::vmlinuz_in(&root, &release.name)
        .with_context(|| format!("no kernel image in {}", root.display()))?;
    Ok(Kernel::Debian { release, vmlinuz })
}

/// Downloads a release's packages, checks them, and lays them out as
/// `root/boot/vmlinuz-REL` and `root/lib/modules/REL` with `depmod` run.
fn unpack(cache: &Path, mirror: &str, release: &Release, root: &Path) -> Result<()> {
    let debs = cache.join("debs");
    fs::create_dir_all(&debs)?;
    let staging = sibling(root, "unpacking");
    let _ = fs::remove_dir_all(&staging);
    fs::create_dir_all(&staging)?;
    for p in &release.packages {
        let name = p.filename.rsplit('/').next().unwrap_or(&p.filename);
        let deb = debs.join(name);
        eprintln!("lab: fetching {} {} ({})", p.name, p.version, release.suite);
        debian::download(&format!("{mirror}/{}", p.filename), &deb)?;
        debian::verify(&deb, &p.sha256)?;
        cmd::run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&staging))
            .with_context(|| format!("cannot unpack {}", deb.display()))?;
        // The unpacked tree is the cache; the package is not needed again.
        let _ = fs::remove_file(&deb);
    }
    let rel = &release.name;
    let image = debian::vmlinuz_in(&staging, rel)
        .with_context(|| format!("the packages of {rel} hold no vmlinuz"))?;
    let modules = debian::modules_in(&staging, rel)
        .with_context(|| format!("the packages of {rel} hold no modules"))?;
    let fresh = sibling(root, "new");
    let _ = fs::remove_dir_all(&fresh);
    fs::create_dir_all(fresh.join("boot"))?;
    fs::create_dir_all(fresh.join("lib/modules"))?;
    fs::rename(&image, fresh.join("boot").join(format!("vmlinuz-{rel}")))?;
    fs::rename(&modules, fresh.join("lib/modules").join(rel))?;
    cmd::run(Command::new("depmod").arg("-b").arg(&fresh).arg(rel))
        .context("depmod failed for the unpacked modules")?;
    let _ = fs::remove_dir_all(root);
    fs::rename(&fresh, root)?;
    let _ = fs::remove_dir_all(&staging);
    Ok(())
}

/// `dir.what` beside `dir` (a release's name has dots of its own, so not
/// `with_extension`).
fn sibling(dir: &Path, what: &str) -> PathBuf {
    let mut name = dir.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{what}"));
    dir.with_file_name(name)
}

/// KVM if a KVM guest really runs here, else TCG (and why). Forced with
/// `ZC_LAB_ACCEL=kvm|tcg`; the probe's answer is kept for this boot of the
/// machine (`/proc/sys/kernel/random/boot_id`).
pub fn accel(cache: &Path, kernel: &Kernel) -> Result<Accel> {
    match std::env::var("ZC_LAB_ACCEL").as_deref() {
        Ok("kvm") => return Ok(Accel::Kvm),
        Ok("tcg") => return Ok(Accel::Tcg("ZC_LAB_ACCEL=tcg".into())),
        _ => {}
    }
    if fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
        .is_err()
    {
        return Ok(Accel::Tcg("/dev/kvm cannot be opened".into()));
    }
    let boot_id = fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap_or_default();
    let memo = cache.join(format!("accel-{}", boot_id.trim()));
    if let Ok(said) = fs::read_to_string(&memo) {
        return Ok(match said.strip_prefix("tcg: ") {
            Some(why) => Accel::Tcg(why.trim().to_owned()),
            None => Accel::Kvm,
        });
    }
    let Kernel::Debian { vmlinuz, .. } = kernel else {
        return Ok(Accel::Tcg("no guest kernel to probe KVM with".into()));
    };
    eprintln!(
        "lab: does a KVM guest run here? (booting with KVM, at most {} s)",
        KVM_PROBE.as_secs()
    );
    let out = tempdir("kvm-probe")?;
    let script = format!("echo ran > {}", cmd::quote(out.join("ran").as_os_str()));
    let mut vng = virtme(
        &Accel::Kvm,
        vmlinuz,
        &out,
        Devices::default(),
        &script,
        1,
        "1G",
    );
    let _ = run_bounded(&mut vng, KVM_PROBE, &out.join("console.txt"))?;
    let ran = out.join("ran").exists();
    let _ = fs::remove_dir_all(&out);
    let accel = if ran {
        Accel::Kvm
    } else {
        Accel::Tcg(format!(
            "/dev/kvm opens, but a KVM guest did not finish booting in {} s",
            KVM_PROBE.as_secs()
        ))
    };
    let said = match &accel {
        Accel::Kvm => "kvm".to_owned(),
        Accel::Tcg(why) => format!("tcg: {why}"),
    };
    let _ = fs::write(&memo, said);
    Ok(accel)
}

/// A fresh folder under the system's temporary directory.
fn tempdir(what: &str) -> Result<PathBuf> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "zc-lab-{what}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}

/// The virtme-ng command that boots `vmlinuz` and runs `script` as root.
fn virtme(
    accel: &Accel,
    vmlinuz: &Path,
    out: &Path,
    devices: Devices<'_>,
    script: &str,
    cpus: u32,
    memory: &str,
) -> Command {
    let mut c = Command::new("python3");
    // The guest's whole console in console.txt, boot messages included: a
    // guest that never reaches the command shows why.
    c.args(["-m", "virtme_ng.run", "--verbose"]);
    if matches!(accel, Accel::Tcg(_)) {
        c.arg("--disable-kvm");
    }
    // Under TCG the kernel's TSC watchdog may judge the TSC unstable and
    // move to a clocksource the vDSO cannot read: clock_gettime would then
    // become a syscall, counted in the sender's loop, that no host makes.
    c.args(["--append", "tsc=reliable"]);
    c.arg("-r")
        .arg(vmlinuz)
        .args(["--memory", memory, "--cpus", &cpus.to_string()])
        .arg("--rwdir")
        .arg(out);
    let mut qemu = Vec::new();
    if matches!(accel, Accel::Tcg(_)) {
        // One host thread runs every vCPU. With a thread per vCPU, a CPU
        // could still run code another had just patched (the kernel
        // patches its text through int3 at boot), and a guest died of
        // "Oops: int3" in hrtimer_start_range_ns before running anything,
        // in one boot of about twenty. One thread costs about a third more
        // time per guest here.
        qemu.push("-accel tcg,thread=single".to_owned());
    }
    if let Some(disk) = devices.scratch {
        // Raw, said so: a probed format keeps the guest from writing block 0,
        // where ext4 keeps its superblock.
        qemu.push(format!(
            "-drive file={},if=virtio,format=raw,cache=unsafe",
            disk.display()
        ));
    }
    qemu.extend(devices.hardware.qemu_opts(devices.nvme));
    if !qemu.is_empty() {
        // One word with `=`: argparse takes a value that starts with `-`
        // for an option of its own.
        c.arg(format!("--qemu-opts={}", qemu.join(" ")));
    }
    c.arg("--exec").arg(script);
    c
}

/// Runs `c` in its own process group with its output in `log`, killing the
/// group (QEMU included) if it outlives `limit`. Returns whether it ended
/// by itself.
fn run_bounded(c: &mut Command, limit: Duration, log: &Path) -> Result<bool> {
    use std::os::unix::process::CommandExt as _;
    let file = fs::File::create(log).with_context(|| format!("cannot create {}", log.display()))?;
    cmd::echo(c);
    let mut child = c
        .stdin(Stdio::null())
        .stdout(file.try_clone()?)
        .stderr(file)
        .process_group(0)
        .spawn()
        .context("cannot start virtme-ng (python3 -m virtme_ng.run)")?;
    let start = Instant::now();
    loop {
        if child.try_wait()?.is_some() {
            return Ok(true);
        }
        if start.elapsed() > limit {
            let group = format!("-{}", child.id());
            let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
            let _ = child.wait();
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// What one run in the lab gave.
#[derive(Debug)]
pub struct Run {
    pub kernel: Kernel,
    pub accel: Option<Accel>,
    /// The command's exit code; None if the guest never ran it to the end.
    pub rc: Option<i32>,
    pub seconds: f64,
    /// `--out`'s folder for this kernel: stdout, stderr, rc, console.txt and
    /// whatever the command wrote to `$ZC_LAB_OUT`.
    pub out: PathBuf,
}

/// Settings of a lab run.
#[derive(Clone, Debug)]
pub struct Settings {
    pub cpus: u32,
    pub memory: String,
    pub timeout: Duration,
    /// Folder whose `release/` subfolders receive each kernel's results.
    pub out: PathBuf,
    /// Prepended to the guest's PATH: where the zc just built is.
    pub bin: PathBuf,
    /// Emulated devices whose drivers use the DMA API, beside the guest's
    /// virtio ones (which do not): zc's DMA arrows need them.
    pub hardware: Hardware,
}

/// Devices a guest may get that really DMA (through QEMU's emulation of
/// them, and the guest kernel's DMA API, whose tracepoints fire).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Hardware {
    /// Two e1000e NICs joined by a QEMU hub, cabled back to back: the guest
    /// names them in `$ZC_LAB_NICS` (two interface names, space apart).
    pub e1000e_pair: bool,
    /// An NVMe disk with a fresh ext4, mounted at `$ZC_LAB_NVME` (a file
    /// read from it cold is DMA'd into the page cache by the disk).
    pub nvme: bool,
}

/// A guest's disks and devices: its scratch disk, the emulated hardware
/// asked for, and the NVMe disk's image when it has one.
#[derive(Clone, Copy, Debug, Default)]
struct Devices<'a> {
    scratch: Option<&'a Path>,
    hardware: Hardware,
    nvme: Option<&'a Path>,
}

/// The e1000e pair's hub (QEMU's `hubid`), apart from any virtme-ng adds.
const NIC_HUB: u32 = 7;
/// The NVMe disk's label and the folder the guest mounts it on.
const NVME_LABEL: &str = "zc-nvme";
const NVME_DIR: &str = "/tmp/zc-lab-nvme";

impl Hardware {
    /// QEMU's words for these devices; `nvme_image` is the disk's file.
    fn qemu_opts(&self, nvme_image: Option<&Path>) -> Vec<String> {
        let mut q = Vec::new();
        if self.e1000e_pair {
            for i in 1..=2 {
                q.push(format!(
                    "-netdev hubport,id=zcnic{i},hubid={NIC_HUB} -device e1000e,netdev=zcnic{i},mac=52:54:00:7a:63:0{i}"
                ));
            }
        }
        if let (true, Some(img)) = (self.nvme, nvme_image) {
            q.push(format!(
                "-drive file={},if=none,id=zcnvme,format=raw,cache=unsafe -device nvme,serial={NVME_LABEL},drive=zcnvme",
                img.display()
            ));
        }
        q
    }

    /// The guest's part: load the drivers (udev does not), wait for the
    /// devices, and say where they are.
    fn script(&self) -> String {
        let mut s = String::new();
        if self.e1000e_pair {
            s.push_str(
                "modprobe e1000e; nics=; i=0; while [ $i -lt 50 ]; do nics=; for n in /sys/class/net/*; do [ \"$(basename \"$(readlink \"$n/device/driver\" 2>/dev/null)\")\" = e1000e ] && nics=\"$nics ${n##*/}\"; done; [ $(echo $nics | wc -w) -ge 2 ] && break; i=$((i+1)); sleep 0.2; done; export ZC_LAB_NICS=\"${nics# }\"; [ $(echo $nics | wc -w) -ge 2 ] || echo lab: the two e1000e NICs did not appear >&3; ",
            );
        }
        if self.nvme {
            s.push_str(&format!(
                "modprobe nvme; d=; i=0; while [ $i -lt 50 ] && [ -z \"$d\" ]; do for x in /dev/nvme?n?; do [ \"$(blkid -p -s LABEL -o value \"$x\" 2>/dev/null)\" = {NVME_LABEL} ] && d=$x && break; done; i=$((i+1)); [ -n \"$d\" ] || sleep 0.2; done; mkdir -p {NVME_DIR} && [ -n \"$d\" ] && mount -t ext4 \"$d\" {NVME_DIR} && export ZC_LAB_NVME={NVME_DIR}; [ -n \"${{ZC_LAB_NVME:-}}\" ] || echo lab: the NVMe disk did not mount >&3; "
            ));
        }
        s
    }
}

/// The shell text the user's words make: one word is taken as shell text
/// as it is (`-- 'zc doctor && zc demo'`), several are quoted one by one.
pub fn shell_text(words: &[String]) -> String {
    match words {
        [one] => one.clone(),
        many => many
            .iter()
            .map(|w| cmd::quote(std::ffi::OsStr::new(w)))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// The script a guest (or the host) runs around the command.
///
/// `nfs_tools`: where the NFS server's programs are unpacked, given to a
/// guest as `ZC_LAB_NFS_TOOLS` (the matrix's `nfs` check serves NFS from
/// inside the guest, and only there).
fn script(
    kernel: &Kernel,
    out: &Path,
    bin: &Path,
    cwd: &Path,
    command: &str,
    nfs_tools: &Path,
    hardware: &Hardware,
) -> String {
    let q = |p: &Path| cmd::quote(p.as_os_str());
    // The preparation's own trace goes to a file of its own.
    let mut s = format!(
        "exec 3>&2 2>{}/lab-setup.txt; set -x; export PATH={}:\"$PATH\"; ",
        q(out),
        q(bin)
    );
    if matches!(kernel, Kernel::Debian { .. }) {
        s.push_str(&format!("modprobe -a {MODULES} 2>/dev/null; "));
        // What only a guest may do (serve NFS) asks this, never the host.
        s.push_str(&format!(
            "export ZC_LAB_GUEST=1 ZC_LAB_NFS_TOOLS={}; ",
            q(nfs_tools)
        ));
        // The scratch disk: the guest's only virtio block device, found by
        // its label (probed, not from blkid's cache, which remembers a device
        // read before it was ready). Its driver was just loaded and probes it
        // asynchronously, so the device node may take a moment to appear.
        // The guest's / is read-only; /tmp is one of its writable overlays.
        s.push_str(&format!(
            "disk=; i=0; while [ $i -lt 50 ] && [ -z \"$disk\" ]; do for d in /dev/vd? /dev/sd?; do [ \"$(blkid -p -s LABEL -o value \"$d\" 2>/dev/null)\" = {DISK_LABEL} ] && disk=$d && break; done; i=$((i+1)); [ -n \"$disk\" ] || sleep 0.2; done; mkdir -p {DISK_DIR} && [ -n \"$disk\" ] && mount -t ext4 \"$disk\" {DISK_DIR} && export ZC_WORKDIR={DISK_DIR}; [ -n \"${{ZC_WORKDIR:-}}\" ] || echo lab: the scratch disk did not mount, files stay on the overlay >&3; "
        ));
        // The binaries run from a copy on that disk: over 9p, a program's
        // own pages fault in one by one (no fault-around), which would add
        // page faults, and mode switches, that a host does not have.
        s.push_str(&format!(
            "[ -n \"${{ZC_WORKDIR:-}}\" ] && mkdir -p {DISK_DIR}/bin && cp {}/zc {DISK_DIR}/bin/ && export PATH={DISK_DIR}/bin:\"$PATH\"; ",
            q(bin)
        ));
        s.push_str(&hardware.script());
    } else {
        // Whatever the caller's environment says, the host is no guest.
        s.push_str("unset ZC_LAB_GUEST ZC_LAB_NFS_TOOLS; ");
    }
    s.push_str(&format!(
        "set +x; exec 2>&3 3>&-; export ZC_LAB_OUT={} ZC_LAB_KERNEL={}; cd {} && ( {command} ) </dev/null >{}/stdout 2>{}/stderr; echo $? >{}/rc",
        q(out),
        cmd::quote(std::ffi::OsStr::new(kernel.release())),
        q(cwd),
        q(out),
        q(out),
        q(out),
    ));
    s
}

/// Runs `command` on `kernel`, its results in `settings.out/<release>/`.
pub fn run(cache: &Path, kernel: Kernel, command: &str, settings: &Settings) -> Result<Run> {
    let out = settings.out.join(kernel.release());
    let _ = fs::remove_dir_all(&out);
    fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let out = out.canonicalize()?;
    let cwd = std::env::current_dir()?;
    // The script goes as a file in the shared folder: virtme-ng passes
    // `--exec` on the kernel's command line, which holds 2 KiB at most (a
    // longer one panics the guest's kernel at boot).
    let file = out.join("lab.sh");
    let tools = crate::setup::nfs_tools_dir(cache);
    fs::write(
        &file,
        script(
            &kernel,
            &out,
            &settings.bin,
            &cwd,
            command,
            &tools,
            &settings.hardware,
        ),
    )
    .with_context(|| format!("cannot write {}", file.display()))?;
    let text = format!("sh {}", cmd::quote(file.as_os_str()));
    let start = Instant::now();
    let accel = match &kernel {
        Kernel::Host { .. } if settings.hardware != Hardware::default() => {
            anyhow::bail!(
                "--nic and --disk add emulated devices to a guest: the host kernel (`--kernel host`) has none to give"
            );
        }
        Kernel::Host { .. } => {
            eprintln!("lab: running on {}", kernel.describe());
            cmd::probe(Command::new("sh").arg("-c").arg(&text))?;
            None
        }
        Kernel::Debian { vmlinuz, .. } => {
            let accel = accel(cache, &kernel)?;
            eprintln!("lab: booting {} under {accel}", kernel.describe());
            let disk = scratch_disk(DISK_LABEL, 2 << 30)?;
            let nvme = if settings.hardware.nvme {
                Some(scratch_disk(NVME_LABEL, 1 << 30)?)
            } else {
                None
            };
            let mut vng = virtme(
                &accel,
                vmlinuz,
                &out,
                Devices {
                    scratch: Some(&disk),
                    hardware: settings.hardware,
                    nvme: nvme.as_deref(),
                },
                &text,
                settings.cpus,
                &settings.memory,
            );
            let ended = run_bounded(&mut vng, settings.timeout, &out.join("console.txt"));
            let _ = fs::remove_file(&disk);
            if let Some(nvme) = &nvme {
                let _ = fs::remove_file(nvme);
            }
            if !ended? {
                eprintln!(
                    "lab: {} did not finish in {} s and was stopped (see {})",
                    kernel.release(),
                    settings.timeout.as_secs(),
                    out.join("console.txt").display()
                );
            }
            Some(accel)
        }
    };
    let rc = fs::read_to_string(out.join("rc"))
        .ok()
        .and_then(|t| t.trim().parse().ok());
    Ok(Run {
        kernel,
        accel,
        rc,
        seconds: start.elapsed().as_secs_f64(),
        out,
    })
}

/// A sparse file of `size` bytes with a fresh ext4 labelled `label` on it,
/// for one guest.
fn scratch_disk(label: &str, size: u64) -> Result<PathBuf> {
    let dir = tempdir("disk")?;
    let img = dir.join("scratch.img");
    fs::File::create(&img)?.set_len(size)?;
    cmd::probe_stdout(
        Command::new("mkfs.ext4")
            .args(["-q", "-F", "-L", label])
            .args(["-E", "lazy_itable_init=1,lazy_journal_init=1"])
            .arg(&img),
    )
    .context("cannot make the guest's scratch ext4 (mkfs.ext4, from e2fsprogs)")?;
    // The file outlives its folder's name: remove the folder, keep the file
    // path valid by moving it up.
    let kept = sibling(&dir, "img");
    fs::rename(&img, &kept)?;
    let _ = fs::remove_dir_all(&dir);
    Ok(kept)
}

/// Prints a run's stdout and stderr as the command would have, or, when
/// the guest never ran it to the end, the last lines of its console.
pub fn echo_output(run: &Run) {
    if run.rc.is_none() {
        let console = fs::read_to_string(run.out.join("console.txt")).unwrap_or_default();
        let lines: Vec<&str> = console.lines().collect();
        eprintln!("lab: the guest's console ended with:");
        for l in &lines[lines.len().saturating_sub(15)..] {
            eprintln!("  | {l}");
        }
    }
    if let Ok(text) = fs::read_to_string(run.out.join("stdout")) {
        print!("{text}");
    }
    if let Ok(text) = fs::read_to_string(run.out.join("stderr")) {
        eprint!("{text}");
    }
}

/// One line per run, for `--kernel` with several kernels.
pub fn summary(runs: &[Run]) -> String {
    let mut s = String::from("kernel                       accel  exit   time\n");
    for r in runs {
        let accel = match &r.accel {
            None => "host",
            Some(Accel::Kvm) => "KVM",
            Some(Accel::Tcg(_)) => "TCG",
        };
        let rc = r.rc.map_or("none".to_owned(), |c| c.to_string());
        s.push_str(&format!(
            "{:<28} {accel:<6} {rc:<6} {:>5.0} s\n",
            r.kernel.release(),
            r.seconds
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernels_are_named_by_series_host_or_all() {
        let all = wanted(&["all".into()]).expect("all");
        assert_eq!(all, ALL);
        assert_eq!(wanted(&["6.1".into()]).expect("6.1"), ["6.1"]);
        let e = wanted(&["bookworm".into()]).expect_err("a suite is not a series");
        assert!(e.to_string().contains("--kernel bookworm"), "{e}");
    }

    #[test]
    fn one_word_is_shell_text_and_several_are_quoted() {
        assert_eq!(
            shell_text(&["zc doctor && true".into()]),
            "zc doctor && true"
        );
        assert_eq!(
            shell_text(&["zc".into(), "demo".into(), "a b".into()]),
            "zc demo 'a b'"
        );
    }

    /// The DMA hardware is QEMU's e1000e pair on one hub and an NVMe disk
    /// of the image given, and the guest loads their drivers, finds them and
    /// says where they are; without it, none of that.
    #[test]
    fn dma_hardware_is_two_e1000e_on_a_hub_and_an_nvme_disk() {
        let hw = Hardware {
            e1000e_pair: true,
            nvme: true,
        };
        let q = hw.qemu_opts(Some(Path::new("/t/nvme.img"))).join(" ");
        assert_eq!(q.matches("-device e1000e,").count(), 2, "{q}");
        assert_eq!(q.matches(&format!("hubid={NIC_HUB}")).count(), 2, "{q}");
        assert!(
            q.contains("-device nvme,serial=zc-nvme,drive=zcnvme"),
            "{q}"
        );
        assert!(q.contains("file=/t/nvme.img,if=none"), "{q}");
        let s = hw.script();
        assert!(s.contains("modprobe e1000e") && s.contains("export ZC_LAB_NICS="));
        assert!(
            s.contains("modprobe nvme") && s.contains(&format!("export ZC_LAB_NVME={NVME_DIR}"))
        );
        let none = Hardware::default();
        assert!(none.qemu_opts(None).is_empty() && none.script().is_empty());
        // Asked for but given no image, no NVMe device is made.
        let only_nvme = Hardware {
            nvme: true,
            ..Hardware::default()
        };
        assert!(only_nvme.qemu_opts(None).is_empty());
    }

    /// The script that runs `zc doctor` on `k`, with no extra hardware.
    fn doctor_script(k: &Kernel) -> String {
        script(
            k,
            Path::new("/o"),
            Path::new("/t/release"),
            Path::new("/w"),
            "zc doctor",
            Path::new("/c/nfs-tools"),
            &Hardware::default(),
        )
    }

    /// A guest works on its scratch disk, from a copy of zc there, and
    /// loads the modules the matrix needs (a refactor once left all this
    /// to the host, and the guests' files on their overlay).
    #[test]
    fn a_guest_mounts_its_scratch_disk_and_loads_its_modules() {
        let k = Kernel::Debian {
            release: debian::Release {
                name: "7.3.4+deb13-amd64".into(),
                version: "7.3.4-1".into(),
                suite: "trixie-backports",
                packages: Vec::new(),
            },
            vmlinuz: PathBuf::from("/k/boot/vmlinuz"),
        };
        let s = doctor_script(&k);
        assert!(s.contains(&format!("modprobe -a {MODULES}")));
        assert!(s.contains(&format!("export ZC_WORKDIR={DISK_DIR}")));
        assert!(s.contains("cp /t/release/zc"));
        assert!(s.contains("export ZC_LAB_GUEST=1"));
        assert!(!s.contains("unset ZC_LAB_GUEST"));
    }

    #[test]
    fn the_guest_script_returns_the_commands_results_as_files() {
        let k = Kernel::Host {
            release: "6.18.0".into(),
        };
        let s = doctor_script(&k);
        assert!(s.contains("( zc doctor ) </dev/null >/o/stdout 2>/o/stderr; echo $? >/o/rc"));
        assert!(s.contains("export PATH=/t/release:\"$PATH\"; "));
        assert!(
            s.contains("2>/o/lab-setup.txt"),
            "the preparation leaves its trace"
        );
        assert!(!s.contains("modprobe"), "the host loads nothing");
        assert!(
            s.contains("unset ZC_LAB_GUEST ZC_LAB_NFS_TOOLS; ") && !s.contains("nfs-tools"),
            "the host is never a guest"
        );
        assert!(
            !s.contains("mount") && !s.contains("ZC_WORKDIR"),
            "the host mounts no scratch disk: its files go where the user says"
        );
    }
}
