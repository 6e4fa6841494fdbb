//! The file zc sends: one it makes itself (an unnamed temporary inode, gone
//! when zc exits by any path) or a user's file, opened read-only.
//!
//! The eBPF side recognises this file's pages, wherever they turn up (in a
//! read, a fault, or a frag of an skb on its way to the device), by the
//! page cache they belong to, which it learns from a read of the file
//! (`Tracer::learn_file`), not by the numbers `stat` gives.

use std::{
    fs::File,
    io::{Read as _, Write as _},
    os::{
        fd::{AsFd, AsRawFd, BorrowedFd},
        unix::fs::{FileTypeExt as _, OpenOptionsExt as _},
    },
    path::{Path, PathBuf},
};

use anyhow::Context as _;

use crate::exit::Fatal;

const TMPFS_MAGIC: i64 = 0x0102_1994;

/// Where the demo file came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Made by zc in this directory, unnamed (O_TMPFILE).
    Generated(PathBuf),
    /// The user's file.
    User(PathBuf),
}

/// The file being sent.
#[derive(Debug)]
pub struct DemoFile {
    file: File,
    pub size: u64,
    /// CRC-32 of its content, to check what the receiver got.
    pub crc: u32,
    pub origin: Origin,
    /// On tmpfs the page cache is the file itself: no disk, no get_pages events.
    pub on_tmpfs: bool,
}

/// How often `evict` asks, 50 ms apart, before it lets a page stay.
const EVICT_TRIES: u32 = 20;

impl DemoFile {
    /// Makes a `size`-byte file of pseudo-random bytes in `dir`, as an
    /// unnamed inode: it never appears in the directory and is freed when zc exits.
    pub fn generate(size: u64, dir: &Path) -> anyhow::Result<DemoFile> {
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_TMPFILE)
            .open(dir)
            .with_context(|| format!("create an unnamed temporary file in {}", dir.display()))?;
        let mut crc = crc32fast::Hasher::new();
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        let mut buf = vec![0u8; 1 << 20];
        let mut left = size;
        while left > 0 {
            let n = left.min(buf.len() as u64) as usize;
            for word in buf[..n].chunks_mut(8) {
                // xorshift64: cheap bytes that a wrong offset would not reproduce.
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let bytes = rng.to_le_bytes();
                word.copy_from_slice(&bytes[..word.len()]);
            }
            file.write_all(&buf[..n]).context("write the demo file")?;
            crc.update(&buf[..n]);
            left -= n as u64;
        }
        file.sync_data().context("flush the demo file to disk")?;
        Self::finish(file, crc.finalize(), Origin::Generated(dir.to_path_buf()))
    }

    /// Opens a user's file read-only, refusing what cannot be sent.
    pub fn open_user(path: &Path) -> anyhow::Result<DemoFile> {
        let meta = std::fs::metadata(path)
            .map_err(|e| Fatal::Usage(format!("--file {}: {}", path.display(), io_reason(&e))))?;
        if meta.is_dir() {
            return Err(Fatal::Usage(format!(
                "--file {}: is a directory, not a file",
                path.display()
            ))
            .into());
        }
        let ft = meta.file_type();
        if !meta.is_file()
            || ft.is_fifo()
            || ft.is_socket()
            || ft.is_char_device()
            || ft.is_block_device()
        {
            return Err(
                Fatal::Usage(format!("--file {}: not a regular file", path.display())).into(),
            );
        }
        if meta.len() == 0 {
            return Err(Fatal::Usage(format!(
                "--file {}: the file is empty; there is nothing to send",
                path.display()
            ))
            .into());
        }
        let mut file = File::open(path)
            .map_err(|e| Fatal::Usage(format!("--file {}: {}", path.display(), io_reason(&e))))?;
        let mut crc = crc32fast::Hasher::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = file
                .read(&mut buf)
                .with_context(|| format!("read {}", path.display()))?;
            if n == 0 {
                break;
            }
            crc.update(&buf[..n]);
        }
        Self::finish(file, crc.finalize(), Origin::User(path.to_path_buf()))
    }

    fn finish(file: File, crc: u32, origin: Origin) -> anyhow::Result<DemoFile> {
        let meta = file.metadata().context("stat the demo file")?;
        Ok(DemoFile {
            size: meta.len(),
            crc,
            on_tmpfs: fs_type(&file) == Some(TMPFS_MAGIC),
            file,
            origin,
        })
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }

    /// A fresh read-only descriptor for the sender, with its own file offset
    /// (a dup would share the offset). Reopening through /proc works for the
    /// unnamed file too.
    pub fn reopen(&self) -> anyhow::Result<File> {
        let path = format!("/proc/self/fd/{}", self.file.as_raw_fd());
        File::open(&path).context("reopen the demo file read-only for the sender")
    }

    /// Evicts the file from the page cache (after writing back dirty pages),
    /// so the next read goes to the disk: the article's first DMA copy.
    ///
    /// `POSIX_FADV_DONTNEED` skips a page it cannot drop now: one still
    /// referenced (the skbs of a run that just ended, waiting for their
    /// ACK) or locked (a read still in flight). Those go soon, so it asks
    /// again, a few times; what stays is measured and reported
    /// (`resident_before_bytes`), not hidden.
    pub fn evict(&self) -> anyhow::Result<()> {
        for _ in 0..EVICT_TRIES {
            // Dirty pages cannot be dropped; writing back first makes eviction complete.
            let _ = self.file.sync_data();
            // SAFETY: valid descriptor, whole-file range.
            let rc = unsafe {
                libc::posix_fadvise(self.file.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED)
            };
            if rc != 0 {
                return Err(std::io::Error::from_raw_os_error(rc))
                    .context("evict the demo file from the page cache");
            }
            // tmpfs pages have no disk to be read back from: they stay.
            if self.on_tmpfs || self.resident_bytes().is_ok_and(|b| b == 0) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Ok(())
    }

    /// Reads the whole file once so every page is in the page cache.
    pub fn warm(&self) -> anyhow::Result<()> {
        let mut buf = vec![0u8; 1 << 20];
        let mut off = 0u64;
        while off < self.size {
            // SAFETY: buf is valid for buf.len() bytes.
            let n = unsafe {
                libc::pread(
                    self.file.as_raw_fd(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    off as libc::off_t,
                )
            };
            if n < 0 {
                return Err(std::io::Error::last_os_error())
                    .context("read the demo file into the page cache");
            }
            if n == 0 {
                break;
            }
            off += n as u64;
        }
        Ok(())
    }

    /// Bytes of the file now in the page cache (mincore over a mapping).
    pub fn resident_bytes(&self) -> anyhow::Result<u64> {
        let len = self.size as usize;
        // SAFETY: a fresh read-only shared mapping of our own descriptor; it
        // is only passed to mincore (never touched) and unmapped below.
        unsafe {
            let addr = libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_SHARED,
                self.file.as_raw_fd(),
                0,
            );
            if addr == libc::MAP_FAILED {
                return Err(std::io::Error::last_os_error())
                    .context("map the demo file to check residency");
            }
            let page = 4096usize;
            let mut vec = vec![0u8; len.div_ceil(page)];
            let rc = libc::mincore(addr, len, vec.as_mut_ptr());
            let err = std::io::Error::last_os_error();
            libc::munmap(addr, len);
            if rc != 0 {
                return Err(err).context("mincore on the demo file");
            }
            let pages = vec.iter().filter(|b| **b & 1 != 0).count() as u64;
            Ok((pages * page as u64).min(self.size))
        }
    }
}

fn fs_type(file: &File) -> Option<i64> {
    let mut s = std::mem::MaybeUninit::<libc::statfs>::uninit();
    // SAFETY: fstatfs fills the struct on success; we read it only then.
    unsafe {
        if libc::fstatfs(file.as_raw_fd(), s.as_mut_ptr()) == 0 {
            Some(s.assume_init().f_type)
        } else {
            None
        }
    }
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// The directory zc makes its file in: `$ZC_WORKDIR`, else /var/tmp (a disk,
/// usually; /tmp is often tmpfs, which has no disk and no page-cache reads).
pub fn work_dir() -> PathBuf {
    std::env::var_os("ZC_WORKDIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_file_is_unnamed_sized_and_checksummed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = DemoFile::generate(100_001, dir.path()).expect("generate");
        assert_eq!(f.size, 100_001);
        // Nothing appears in the directory: the inode has no name.
        assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 0);
        let mut data = Vec::new();
        let mut r = f.reopen().expect("reopen");
        std::io::Seek::seek(&mut r, std::io::SeekFrom::Start(0)).expect("seek");
        r.read_to_end(&mut data).expect("read");
        assert_eq!(crc32fast::hash(&data), f.crc);
    }

    #[test]
    fn user_file_errors_are_usage_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let empty = dir.path().join("empty");
        std::fs::write(&empty, b"").expect("write");
        for (path, want) in [
            (dir.path().join("nope"), "no such file"),
            (dir.path().to_path_buf(), "is a directory"),
            (empty, "empty"),
        ] {
            let e = DemoFile::open_user(&path).expect_err("must fail");
            assert_eq!(crate::exit::code_for(&e), crate::exit::USAGE);
            assert!(e.to_string().contains(want), "{e}");
        }
    }

    #[test]
    fn warm_and_evict_change_residency() {
        let dir = work_dir();
        let Ok(f) = DemoFile::generate(1 << 20, &dir) else {
            crate::skipped(&format!(
                "warm_and_evict_change_residency: cannot create a file in {}",
                dir.display()
            ));
            return;
        };
        if f.on_tmpfs {
            crate::skipped(&format!(
                "warm_and_evict_change_residency: {} is tmpfs",
                dir.display()
            ));
            return;
        }
        f.warm().expect("warm");
        assert_eq!(f.resident_bytes().expect("mincore"), 1 << 20);
        f.evict().expect("evict");
        assert!(f.resident_bytes().expect("mincore") < 1 << 20);
    }
}
