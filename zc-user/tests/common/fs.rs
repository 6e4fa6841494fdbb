//! File systems made for a test, each on its own loop device (or, for
//! tmpfs and overlayfs, in memory or on top of one), and unmounted with
//! their loop devices freed when the guard drops, whatever the test did.
//!
//! A file's identity differs between them in the ways zc must not trip on:
//! btrfs reports a subvolume's device in `stat`, overlayfs keeps a file's
//! pages in the inode beneath (lower, or upper once copied up), tmpfs reads
//! its pages without the page cache's tracepoints.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

/// Mounts made by a test, undone in reverse order on drop.
pub struct Mounts {
    dir: tempfile::TempDir,
    mounted: Vec<PathBuf>,
}

/// A file system that could not be made here, and why.
pub struct Unavailable(pub String);

fn run(cmd: &mut Command) -> Result<(), Unavailable> {
    let out = cmd
        .output()
        .map_err(|e| Unavailable(format!("{cmd:?}: {e}")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(Unavailable(format!(
            "{cmd:?}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

impl Mounts {
    /// Room for images and mount points, on a disk (not tmpfs: a loop
    /// device over tmpfs would measure nothing real).
    pub fn new() -> Mounts {
        Mounts {
            dir: tempfile::tempdir_in("/var/tmp").expect("a temporary directory in /var/tmp"),
            mounted: Vec::new(),
        }
    }

    fn mount_point(&self, name: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::create_dir_all(&p).expect("make a mount point");
        p
    }

    /// A fresh `fs` (ext4, xfs, btrfs) on a sparse image of `mib` MiB,
    /// mounted through a loop device that frees itself on unmount.
    pub fn disk(&mut self, fs: &str, mib: u64) -> Result<PathBuf, Unavailable> {
        let img = self.dir.path().join(format!("{fs}.img"));
        std::fs::File::create(&img)
            .and_then(|f| f.set_len(mib << 20))
            .map_err(|e| Unavailable(format!("make {}: {e}", img.display())))?;
        let force = if fs == "ext4" { "-F" } else { "-f" };
        run(Command::new(format!("mkfs.{fs}"))
            .args(["-q", force])
            .arg(&img))?;
        let at = self.mount_point(fs);
        run(Command::new("mount")
            .args(["-o", "loop"])
            .arg(&img)
            .arg(&at))?;
        self.mounted.push(at.clone());
        Ok(at)
    }

    /// A fresh tmpfs.
    pub fn tmpfs(&mut self) -> Result<PathBuf, Unavailable> {
        let at = self.mount_point("tmpfs");
        run(Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=64m", "zc-test"])
            .arg(&at))?;
        self.mounted.push(at.clone());
        Ok(at)
    }

    /// A btrfs subvolume on a fresh btrfs: its files' `stat` device is the
    /// subvolume's, not the file system's.
    pub fn btrfs_subvolume(&mut self) -> Result<PathBuf, Unavailable> {
        let root = self.disk("btrfs", 256)?;
        let sub = root.join("sub");
        run(Command::new("btrfs")
            .args(["-q", "subvolume", "create"])
            .arg(&sub))?;
        Ok(sub)
    }

    /// An overlayfs whose lower and upper directories lie under `base`.
    /// Returns the merged directory and the lower one (files written there
    /// before use show through unchanged).
    pub fn overlay(&mut self, base: &Path) -> Result<(PathBuf, PathBuf), Unavailable> {
        let [lower, upper, work, merged] =
            ["lower", "upper", "work", "merged"].map(|d| base.join(format!("ovl-{d}")));
        for d in [&lower, &upper, &work, &merged] {
            std::fs::create_dir_all(d).map_err(|e| Unavailable(format!("mkdir: {e}")))?;
        }
        let opts = format!(
            "lowerdir={},upperdir={},workdir={}",
            lower.display(),
            upper.display(),
            work.display()
        );
        run(Command::new("mount")
            .args(["-t", "overlay", "zc-test", "-o", &opts])
            .arg(&merged))?;
        self.mounted.push(merged.clone());
        Ok((merged, lower))
    }
}

impl Drop for Mounts {
    fn drop(&mut self) {
        for at in self.mounted.drain(..).rev() {
            // Lazy, so a file a failed test left open cannot keep it.
            let _ = Command::new("umount").arg("-l").arg(&at).status();
        }
    }
}

/// `size` bytes no two runs of a test confuse: page `i` starts with `i`.
pub fn write_file(path: &Path, size: u64) {
    let data: Vec<u8> = (0..size)
        .map(|i| ((i / 4096) as u8) ^ (i as u8).wrapping_mul(31))
        .collect();
    std::fs::write(path, data).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}
