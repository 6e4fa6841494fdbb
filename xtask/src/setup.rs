//! `cargo xtask setup`: everything a fresh machine of this project's kind
//! lacks, installed idempotently. Each step checks first and prints one line,
//! so a ready machine is confirmed in well under a second with no network.
//!
//! Why each piece is needed:
//! - Debian packages: the live tests drive bpftool, ip, ethtool, setpriv and
//!   tmux, chromium (export tests in a real browser) with a monospace and a
//!   Chinese font;
//!   the tool itself never needs them.
//! - nightly + rust-src: aya-build compiles zc-ebpf with
//!   `rustup run nightly cargo build -Z build-std=core` for bpfel-unknown-none.
//! - bpf-linker: links that eBPF object, and must use the same LLVM major as
//!   the nightly's rustc, whose bitcode it reads. No matching LLVM exists in
//!   Debian, so it is built against the nightly's own libLLVM.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, bail};

use crate::cmd;
use crate::elf;

/// Debian packages the tests use (util-linux provides setpriv; nginx-light,
/// python3, curl and iperf3 are the servers and clients `zc trace` is
/// tested on:
/// programs nobody in this project wrote; xfsprogs and btrfs-progs make the
/// file systems the demo file is tested on, on loop devices).
const PACKAGES: [&str; 14] = [
    "bpftool",
    "iproute2",
    "ethtool",
    "util-linux",
    "tmux",
    "chromium",
    "fonts-dejavu-core",
    "fonts-wqy-microhei",
    "nginx-light",
    "python3",
    "curl",
    "iperf3",
    "xfsprogs",
    "btrfs-progs",
];

/// Pinned so the build is reproducible; 0.13.0 is known to build against the
/// nightly's LLVM 22 through a stub prefix (see docs on `make_llvm_prefix`).
const BPF_LINKER_VERSION: &str = "0.13.0";

/// The nightly toolchain's facts the later steps need.
pub struct Nightly {
    pub llvm_major: u32,
    pub sysroot: PathBuf,
}

/// Where cargo keeps installed binaries; the LLVM prefix lives there too
/// because bpf-linker's rpath points into it, so it must outlive any build.
pub fn cargo_home() -> Result<PathBuf> {
    if let Some(home) = std::env::var_os("CARGO_HOME").filter(|h| !h.is_empty()) {
        return Ok(PathBuf::from(home));
    }
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .context("neither CARGO_HOME nor HOME is set: cannot tell where cargo installs binaries")?;
    Ok(PathBuf::from(home).join(".cargo"))
}

/// One progress line per step, aligned so a column of `ok` reads at a glance.
fn step(what: &str, state: &str) {
    eprintln!("setup: {:.<44} {state}", format!("{what} "));
}

pub fn setup() -> Result<()> {
    debian_packages("debian packages", &PACKAGES)?;
    let nightly = nightly()?;
    rust_src()?;
    bpf_linker(&nightly, &cargo_home()?)?;
    Ok(())
}

/// What the kernel lab (`cargo xtask lab`) needs besides the build: QEMU and
/// virtme-ng to boot another kernel over this machine's file system,
/// busybox-static for virtme-ng's initramfs, kmod for depmod, `file` for
/// reading a kernel image's release, xz-utils for the archive's package
/// indexes, e2fsprogs for the guest's scratch ext4 disk.
const LAB_PACKAGES: [&str; 7] = [
    "qemu-system-x86",
    "busybox-static",
    "kmod",
    "file",
    "xz-utils",
    "e2fsprogs",
    "dpkg",
];

/// The Debian packages whose programs a guest runs to serve NFS to itself
/// (`exportfs`, `rpc.mountd`, `rpc.nfsd`, and the library mountd needs
/// besides this machine's). They are unpacked into the lab's cache, never
/// installed: installed, a host with an init system would start an NFS
/// server of its own.
const NFS_TOOLS: [&str; 2] = ["nfs-kernel-server", "libwrap0"];

/// Where in the lab's cache the NFS tools are unpacked.
pub fn nfs_tools_dir(cache: &Path) -> PathBuf {
    cache.join("nfs-tools")
}

/// virtme-ng from PyPI (Debian 12 has no package of it), pinned.
const VIRTME_NG: &str = "virtme-ng==1.42";

/// The kernel lab's tools: Debian packages, virtme-ng, and the NFS
/// server's programs unpacked into the lab's `cache`.
pub fn lab_tools(cache: &Path) -> Result<()> {
    debian_packages("lab packages", &LAB_PACKAGES)?;
    nfs_tools(&nfs_tools_dir(cache))?;
    let what = "virtme-ng (PyPI)";
    let have = |py: &str| {
        cmd::probe(Command::new(py).args(["-c", "import virtme_ng"]))
            .is_ok_and(|o| o.status.success())
    };
    if have("python3") {
        step(what, "ok");
        return Ok(());
    }
    step(what, &format!("installing {VIRTME_NG}"));
    cmd::run(Command::new("python3").args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        // Debian's own python3 refuses a pip install without it; a
        // pyenv or venv python ignores it.
        "--break-system-packages",
        VIRTME_NG,
    ]))
    .context("installing virtme-ng with pip failed: see pip's output above")?;
    if !have("python3") {
        bail!("pip installed virtme-ng but `python3 -c 'import virtme_ng'` still fails");
    }
    Ok(())
}

/// Downloads and unpacks [`NFS_TOOLS`] into `dir`, once.
fn nfs_tools(dir: &Path) -> Result<()> {
    let what = "lab NFS tools (unpacked)";
    if dir.join("usr/sbin/rpc.nfsd").exists() {
        step(what, "ok");
        return Ok(());
    }
    step(
        what,
        &format!("unpacking {} into {}", NFS_TOOLS.join(" "), dir.display()),
    );
    let part = dir.with_extension("part");
    let _ = std::fs::remove_dir_all(&part);
    std::fs::create_dir_all(part.join("root"))
        .with_context(|| format!("cannot create {}", part.display()))?;
    cmd::run(
        Command::new("apt-get")
            .arg("download")
            .args(NFS_TOOLS)
            .current_dir(&part),
    )
    .context("downloading the NFS tools with apt-get failed: see its output above")?;
    for deb in std::fs::read_dir(&part)?.flatten() {
        if deb.path().extension().is_some_and(|e| e == "deb") {
            cmd::run(
                Command::new("dpkg-deb")
                    .arg("-x")
                    .arg(deb.path())
                    .arg(part.join("root")),
            )?;
        }
    }
    if !part.join("root/usr/sbin/rpc.nfsd").exists() {
        bail!("the unpacked NFS tools have no usr/sbin/rpc.nfsd");
    }
    let _ = std::fs::remove_dir_all(dir);
    std::fs::rename(part.join("root"), dir)
        .with_context(|| format!("cannot move the NFS tools to {}", dir.display()))?;
    let _ = std::fs::remove_dir_all(&part);
    Ok(())
}

fn debian_packages(what: &str, packages: &[&'static str]) -> Result<()> {
    let missing = missing_packages(packages)?;
    if missing.is_empty() {
        step(what, "ok");
        return Ok(());
    }
    let list = missing.join(" ");
    if !cmd::is_root() {
        bail!(
            "missing Debian packages: {list}; installing them needs root: run `sudo -E cargo xtask setup`"
        );
    }
    step(what, &format!("installing {list}"));
    // Only now touch the network: a ready machine never runs apt.
    cmd::run(
        Command::new("apt-get")
            .arg("update")
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
    .context("`apt-get update` failed: check the Debian mirror is reachable")?;
    cmd::run(
        Command::new("apt-get")
            .args(["install", "-y", "--no-install-recommends"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
    .with_context(|| format!("installing {list} with apt-get failed: see apt's output above"))?;
    let still = missing_packages(packages)?;
    if !still.is_empty() {
        bail!(
            "apt-get reported success but {} is still not installed",
            still.join(" ")
        );
    }
    Ok(())
}

/// Packages from `PACKAGES` that dpkg does not list as installed.
fn missing_packages(packages: &[&'static str]) -> Result<Vec<&'static str>> {
    let out = cmd::probe(
        Command::new("dpkg-query")
            .args(["-W", "-f=${Package} ${Status}\n"])
            .args(packages),
    )
    .with_context(|| {
        format!(
            "cannot check Debian packages (setup supports Debian/Ubuntu): install {} by hand",
            packages.join(" ")
        )
    })?;
    // dpkg-query exits 1 when some name is unknown; the lines it did print
    // are still the answer, so the status is deliberately ignored.
    let stdout = String::from_utf8_lossy(&out.stdout);
    let installed: Vec<&str> = stdout
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let name = words.next()?;
            // "${Status}" is "want flag state": only state "installed" counts,
            // not e.g. "deinstall ok config-files".
            (words.last()? == "installed").then_some(name)
        })
        .collect();
    Ok(packages
        .iter()
        .copied()
        .filter(|p| !installed.contains(p))
        .collect())
}

fn nightly() -> Result<Nightly> {
    let what = "nightly toolchain";
    let list = cmd::probe_stdout(Command::new("rustup").args(["toolchain", "list"]))
        .context("rustup is required: zc's eBPF side is built with `rustup run nightly`")?;
    if !list
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .any(is_plain_nightly)
    {
        bail!(
            "no `nightly` toolchain in `rustup toolchain list`: the eBPF build needs it and it cannot be downloaded on this machine; install it where static.rust-lang.org is reachable (`rustup toolchain install nightly`)"
        );
    }
    // `rustup run nightly` rather than `rustc +nightly`: it is what aya-build
    // uses, and it works even if a non-rustup rustc is first on PATH.
    let vv = cmd::probe_stdout(Command::new("rustup").args(["run", "nightly", "rustc", "-vV"]))
        .context("the nightly toolchain is installed but its rustc does not run")?;
    let field = |key: &str| {
        vv.lines()
            .find_map(|l| l.strip_prefix(key))
            .map(|v| v.trim().to_owned())
    };
    let release = field("release:").unwrap_or_default();
    let llvm_version = field("LLVM version:")
        .context("`rustc -vV` of the nightly prints no `LLVM version:` line")?;
    let llvm_major = llvm_version
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .with_context(|| format!("cannot read an LLVM major from `{llvm_version}`"))?;
    let sysroot = cmd::probe_stdout(
        Command::new("rustup").args(["run", "nightly", "rustc", "--print", "sysroot"]),
    )?;
    let sysroot = PathBuf::from(sysroot.trim());
    step(what, &format!("ok ({release}, LLVM {llvm_version})"));
    Ok(Nightly {
        llvm_major,
        sysroot,
    })
}

/// `rustup run nightly` resolves only the floating `nightly-<host>` channel,
/// not a dated `nightly-2026-05-19-<host>`.
fn is_plain_nightly(name: &str) -> bool {
    name == "nightly"
        || name
            .strip_prefix("nightly-")
            .is_some_and(|rest| !rest.starts_with(|c: char| c.is_ascii_digit()))
}

fn rust_src() -> Result<()> {
    let what = "rust-src (nightly)";
    let installed = cmd::probe_stdout(Command::new("rustup").args([
        "component",
        "list",
        "--installed",
        "--toolchain",
        "nightly",
    ]))?;
    if installed
        .lines()
        .any(|l| l.trim() == "rust-src" || l.trim().starts_with("rust-src-"))
    {
        step(what, "ok");
        return Ok(());
    }
    step(what, "installing");
    cmd::run(Command::new("rustup").args(["component", "add", "rust-src", "--toolchain", "nightly"]))
        .context("could not add rust-src to the nightly (`-Z build-std=core` needs it): check that static.rust-lang.org is reachable")
}

/// What the bpf-linker on PATH is, as far as zc's build is concerned.
enum Linker {
    Ready {
        version: String,
    },
    Missing,
    /// Present but unusable; the text says why.
    Bad(String),
}

fn bpf_linker(nightly: &Nightly, cargo_home: &Path) -> Result<()> {
    let major = nightly.llvm_major;
    let what = format!("bpf-linker (LLVM {major})");
    let reason = match check_linker(major, cargo_home)? {
        Linker::Ready { version } => {
            step(&what, &format!("ok ({version})"));
            return Ok(());
        }
        Linker::Missing => "not installed".to_owned(),
        Linker::Bad(why) => why,
    };
    // The prefix is cheap to (re)make and is all a binary needs whose links
    // were merely lost; a nightly update that renamed libLLVM needs a rebuild.
    let prefix = make_llvm_prefix(cargo_home, &nightly.sysroot, major)?;
    if let Linker::Ready { version } = check_linker(major, cargo_home)? {
        step(
            &what,
            &format!("ok ({version}, relinked {})", prefix.display()),
        );
        return Ok(());
    }
    step(&what, &format!("installing ({reason})"));
    cmd::run(&mut install_command(&prefix, major)).with_context(|| {
        format!(
            "building bpf-linker {BPF_LINKER_VERSION} against the nightly's LLVM {major} failed: it needs crates.io and a C compiler (see cargo's output above)"
        )
    })?;
    match check_linker(major, cargo_home)? {
        Linker::Ready { .. } => Ok(()),
        Linker::Missing => bail!(
            "bpf-linker was installed into {} but is not found on PATH: add that folder to PATH (e.g. `source \"$HOME/.cargo/env\"`)",
            cargo_home.join("bin").display()
        ),
        Linker::Bad(why) => bail!(
            "bpf-linker was just installed into {} but is still unusable: {why}; if another bpf-linker comes first on PATH, remove it or put that folder first",
            cargo_home.join("bin").display()
        ),
    }
}

/// The exact install command: LLVM_PREFIX makes bpf-linker's build link the
/// prefix's libLLVM.so (and set its rpath there); `--locked` keeps to the
/// crate's tested dependency versions; `--force` because cargo would
/// otherwise skip a same-version reinstall, e.g. after a nightly update
/// renamed the library the old binary needs.
pub fn install_command(prefix: &Path, llvm_major: u32) -> Command {
    let mut cmd = Command::new("cargo");
    cmd.env("LLVM_PREFIX", prefix).args([
        "install",
        "bpf-linker",
        "--version",
        BPF_LINKER_VERSION,
        "--locked",
        "--force",
        "--no-default-features",
        "--features",
        &format!("llvm-{llvm_major}"),
    ]);
    cmd
}

fn check_linker(major: u32, cargo_home: &Path) -> Result<Linker> {
    let cargo_bin = cargo_home.join("bin").join("bpf-linker");
    let Some(path) = cmd::find_on_path("bpf-linker") else {
        if cmd::is_executable(&cargo_bin) {
            bail!(
                "bpf-linker is in {} but that folder is not on PATH, so the eBPF build would not find it: add it (e.g. `source \"$HOME/.cargo/env\"`)",
                cargo_home.join("bin").display()
            );
        }
        return Ok(Linker::Missing);
    };
    // Running it proves its libLLVM still resolves: a nightly update renames
    // the library, which leaves the old binary unable to start.
    let out = match cmd::probe(Command::new(&path).arg("--version")) {
        Ok(out) => out,
        Err(err) => return Ok(Linker::Bad(format!("{err:#}"))),
    };
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let first = stderr.lines().next().unwrap_or("").trim().to_owned();
        return Ok(Linker::Bad(format!(
            "`{} --version` failed: {first}",
            path.display()
        )));
    }
    let version = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    // `--version` does not name the LLVM; the linked library's name does,
    // and cargo's install record is the fallback for a static build.
    let llvm = linked_llvm_major(&path).or_else(|| {
        (path == cargo_bin)
            .then(|| installed_llvm_feature(cargo_home))
            .flatten()
    });
    let shadow = if path == cargo_bin {
        String::new()
    } else {
        format!(" (the one first on PATH, {})", path.display())
    };
    match llvm {
        Some(found) if found == major => Ok(Linker::Ready { version }),
        Some(found) => Ok(Linker::Bad(format!(
            "bpf-linker{shadow} uses LLVM {found}, the nightly LLVM {major}"
        ))),
        None => Ok(Linker::Bad(format!(
            "cannot tell which LLVM bpf-linker{shadow} was built for"
        ))),
    }
}

/// LLVM major from the binary's `libLLVM…` DT_NEEDED entry.
fn linked_llvm_major(path: &Path) -> Option<u32> {
    elf::needed(path)
        .ok()
        .flatten()?
        .iter()
        .find_map(|name| elf::llvm_major_of_soname(name))
}

/// The `llvm-N` feature cargo recorded for its bpf-linker install, read
/// from `$CARGO_HOME/.crates2.json` with plain string search (xtask keeps
/// no JSON dependency for one field).
fn installed_llvm_feature(cargo_home: &Path) -> Option<u32> {
    let record = fs::read_to_string(cargo_home.join(".crates2.json")).ok()?;
    let entry = &record[record.find("\"bpf-linker ")?..];
    let features = &entry[entry.find("\"features\":[")? + "\"features\":[".len()..];
    let features = &features[..features.find(']')?];
    features
        .split(',')
        .map(|f| f.trim().trim_matches('"'))
        .find_map(|f| f.strip_prefix("llvm-")?.parse().ok())
}

/// bpf-linker 0.13's build wants an LLVM install prefix (`LLVM_PREFIX`). The
/// nightly ships only `lib/libLLVM.so.<ver>-rust-<ver>-nightly`, so make a
/// prefix `<cargo home>/zc-llvm-<major>` with:
/// - `bin/llvm-config`: a stub, since the build only checks that it exists;
/// - `lib/libLLVM.so` (what `-lLLVM` finds) and `lib/<versioned name>` (the
///   soname the binary will ask for at run time through its rpath), both
///   symlinks to the nightly's library.
///
/// Idempotent: links that already point right are kept, wrong ones replaced.
pub fn make_llvm_prefix(cargo_home: &Path, sysroot: &Path, major: u32) -> Result<PathBuf> {
    let library = nightly_libllvm(sysroot, major)?;
    let name = library
        .file_name()
        .context("nightly libLLVM path has no file name")?
        .to_owned();
    let prefix = cargo_home.join(format!("zc-llvm-{major}"));
    let bin = prefix.join("bin");
    let lib = prefix.join("lib");
    for dir in [&bin, &lib] {
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }

    let stub = bin.join("llvm-config");
    write_if_changed(&stub, LLVM_CONFIG_STUB)
        .and_then(|()| make_executable(&stub))
        .with_context(|| format!("cannot write {}", stub.display()))?;

    // Links to an older nightly's library would only mislead; drop them.
    let keep = [std::ffi::OsString::from("libLLVM.so"), name.clone()];
    for entry in fs::read_dir(&lib).with_context(|| format!("cannot read {}", lib.display()))? {
        let entry = entry?;
        let file = entry.file_name();
        let is_link = entry.file_type().is_ok_and(|t| t.is_symlink());
        if is_link && file.to_string_lossy().starts_with("libLLVM") && !keep.contains(&file) {
            fs::remove_file(entry.path())
                .with_context(|| format!("cannot remove stale {}", entry.path().display()))?;
        }
    }
    for link in keep {
        let link = lib.join(link);
        replace_symlink(&library, &link)
            .with_context(|| format!("cannot link {} to {}", link.display(), library.display()))?;
    }
    Ok(prefix)
}

const LLVM_CONFIG_STUB: &str = "#!/bin/sh
# Made by `cargo xtask setup`. bpf-linker's build only checks that this file
# exists; the LLVM it links is the nightly's libLLVM, symlinked in ../lib.
echo \"zc: placeholder llvm-config (see cargo xtask setup)\" >&2
exit 1
";

/// The nightly's shared LLVM, `<sysroot>/lib/libLLVM.so.*`.
fn nightly_libllvm(sysroot: &Path, major: u32) -> Result<PathBuf> {
    let lib = sysroot.join("lib");
    let mut found: Vec<PathBuf> = fs::read_dir(&lib)
        .with_context(|| format!("cannot read the nightly's {}", lib.display()))?
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("libLLVM.so.") || n.starts_with("libLLVM-"))
        })
        // The nightly also ships `libLLVM-22-rust-<ver>.so`, a one-line linker
        // script (INPUT(...)) naming the real library: linking to it from the
        // prefix would make the linker look for that name beside it.
        .filter(|path| is_elf(path))
        .collect();
    found.sort();
    // Prefer the file whose name carries the expected major, should several exist.
    let pick = found
        .iter()
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .and_then(elf::llvm_major_of_soname)
                == Some(major)
        })
        .or_else(|| found.first());
    pick.cloned().with_context(|| {
        format!(
            "no libLLVM.so.* in {}: this nightly ships no shared LLVM for bpf-linker to link (a full rustup nightly does)",
            lib.display()
        )
    })
}

fn is_elf(path: &Path) -> bool {
    use std::io::Read as _;
    let mut magic = [0u8; 4];
    fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok_and(|()| &magic == b"\x7fELF")
}

fn write_if_changed(path: &Path, content: &str) -> io::Result<()> {
    if fs::read_to_string(path).is_ok_and(|old| old == content) {
        return Ok(());
    }
    fs::write(path, content)
}

fn make_executable(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755))
}

fn replace_symlink(target: &Path, link: &Path) -> io::Result<()> {
    if fs::read_link(link).is_ok_and(|old| old == target) {
        return Ok(());
    }
    match fs::symlink_metadata(link) {
        Ok(_) => fs::remove_file(link)?,
        Err(err) if err.kind() == io::ErrorKind::NotFound => {}
        Err(err) => return Err(err),
    }
    std::os::unix::fs::symlink(target, link)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_nightly_names() {
        assert!(is_plain_nightly("nightly-x86_64-unknown-linux-gnu"));
        assert!(is_plain_nightly("nightly"));
        assert!(!is_plain_nightly(
            "nightly-2026-05-19-x86_64-unknown-linux-gnu"
        ));
        assert!(!is_plain_nightly("stable-x86_64-unknown-linux-gnu"));
    }

    #[test]
    fn install_command_line() {
        let cmd = install_command(Path::new("/h/.cargo/zc-llvm-22"), 22);
        let args: Vec<_> = cmd.get_args().map(|a| a.to_string_lossy()).collect();
        assert_eq!(
            args.join(" "),
            "install bpf-linker --version 0.13.0 --locked --force --no-default-features --features llvm-22"
        );
        let envs: Vec<_> = cmd.get_envs().collect();
        assert_eq!(
            envs,
            [(
                std::ffi::OsStr::new("LLVM_PREFIX"),
                Some(std::ffi::OsStr::new("/h/.cargo/zc-llvm-22"))
            )]
        );
    }
}
