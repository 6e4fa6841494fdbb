//! Builds the eBPF object (zc-ebpf) with the nightly toolchain and
//! bpf-linker, through aya-build; `cargo xtask setup` installs both.
//! Set AYA_BUILD_SKIP=1 to build user space alone (no live tracing then).
//! The inner build is quiet: its output shows only when it has something to
//! say (an error or a compiler warning).
use anyhow::{Context as _, anyhow};

fn main() -> anyhow::Result<()> {
    let meta = std::env::var("CARGO_MANIFEST_DIR").context("CARGO_MANIFEST_DIR")?;
    let root = std::path::Path::new(&meta)
        .parent()
        .ok_or_else(|| anyhow!("zc-user has no parent directory"))?
        .join("zc-ebpf");
    let root = root.to_str().ok_or_else(|| anyhow!("non-UTF-8 path"))?;
    // aya-build passes every line the inner cargo prints on as a build
    // warning: "Compiling …" for each crate of the BPF build. A quiet inner
    // cargo prints only what matters, the compiler's errors and warnings.
    // SAFETY: a build script is single-threaded here.
    unsafe { std::env::set_var("CARGO_TERM_QUIET", "true") };
    aya_build::build_ebpf(
        [aya_build::Package {
            name: "zc-ebpf",
            root_dir: root,
            ..Default::default()
        }],
        aya_build::Toolchain::Nightly,
    )
    .context("building the eBPF programs failed: run `cargo xtask setup` (nightly rust-src and bpf-linker)")
}
