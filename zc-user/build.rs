//! Builds the eBPF object (zc-ebpf) with the nightly toolchain and
//! bpf-linker, through aya-build; `cargo xtask setup` installs both.
//! Set AYA_BUILD_SKIP=1 to build user space alone (no live tracing then).
use anyhow::{Context as _, anyhow};

fn main() -> anyhow::Result<()> {
    let meta = std::env::var("CARGO_MANIFEST_DIR").context("CARGO_MANIFEST_DIR")?;
    let root = std::path::Path::new(&meta)
        .parent()
        .ok_or_else(|| anyhow!("zc-user has no parent directory"))?
        .join("zc-ebpf");
    let root = root.to_str().ok_or_else(|| anyhow!("non-UTF-8 path"))?;
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
