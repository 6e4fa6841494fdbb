//! Writing files a teacher keeps: atomically (the target is either the old
//! file or the complete new one, never half of it, even on Ctrl-C or a full
//! disk), and owned by the user who ran `sudo zc`, not by root.

use std::{
    fs::File,
    io::Write as _,
    os::{fd::AsRawFd, unix::fs::OpenOptionsExt as _},
    path::{Path, PathBuf},
};

use anyhow::{Context as _, anyhow};

use crate::exit::Fatal;

/// Writes `bytes` to `path` atomically, then hands it to the sudo user.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| Fatal::Usage(format!("{}: not a file name", path.display())))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(Fatal::Usage(format!(
            "cannot write {}: {} is not a directory",
            path.display(),
            dir.display()
        ))
        .into());
    }
    if path.is_dir() {
        return Err(Fatal::Usage(format!(
            "cannot write {}: it is a directory",
            path.display()
        ))
        .into());
    }
    // The temporary name beside the target, renamed over it at the end.
    let tmp = dir.join(format!(
        ".{}.zc-{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    // An unnamed file first: if zc dies while writing, nothing is left.
    let mut file = match std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_TMPFILE)
        .mode(0o644)
        .open(&dir)
    {
        Ok(file) => file,
        // A file system without unnamed files (9p, as a kernel lab's shared
        // folder is, and some network file systems): the named temporary
        // from the start.
        Err(e) if matches!(e.raw_os_error(), Some(libc::EOPNOTSUPP | libc::EISDIR)) => {
            return write_named_then_rename(&tmp, path, bytes);
        }
        Err(e) => {
            return Err(Fatal::Usage(format!("cannot write in {}: {e}", dir.display())).into());
        }
    };
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("write {} (nothing was changed)", path.display()))?;
    hand_to_sudo_user(&file);
    let src = std::ffi::CString::new(format!("/proc/self/fd/{}", file.as_raw_fd()))
        .map_err(|e| anyhow!("{e}"))?;
    let dst =
        std::ffi::CString::new(tmp.as_os_str().as_encoded_bytes()).map_err(|e| anyhow!("{e}"))?;
    // SAFETY: both are valid NUL-terminated paths; linkat does not keep them.
    let rc = unsafe {
        libc::linkat(
            libc::AT_FDCWD,
            src.as_ptr(),
            libc::AT_FDCWD,
            dst.as_ptr(),
            libc::AT_SYMLINK_FOLLOW,
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error())
            .with_context(|| format!("write {}", path.display()));
    }
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("write {}", path.display()));
    }
    if let Ok(d) = File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Writes `bytes` to the new file `tmp`, then renames it over `path`;
/// `tmp` is removed if anything fails.
fn write_named_then_rename(tmp: &Path, path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let written = (|| -> std::io::Result<()> {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .open(tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        hand_to_sudo_user(&file);
        std::fs::rename(tmp, path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(tmp);
        return Err(e).with_context(|| format!("write {} (nothing was changed)", path.display()));
    }
    if let Some(d) = path.parent().and_then(|d| File::open(d).ok()) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Refuses, before any work starts, a path [`write_atomic`] would refuse
/// at the end: a missing directory, or a directory as the target.
pub fn check_writable(path: &Path) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if path.file_name().is_none() || path.is_dir() {
        return Err(
            Fatal::Usage(format!("cannot write {}: not a file name", path.display())).into(),
        );
    }
    if !dir.is_dir() {
        return Err(Fatal::Usage(format!(
            "cannot write {}: {} is not a directory",
            path.display(),
            dir.display()
        ))
        .into());
    }
    Ok(())
}

/// Under sudo, files belong to the invoking user (SUDO_UID/SUDO_GID).
fn hand_to_sudo_user(file: &File) {
    let id = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<u32>().ok());
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return;
    }
    if let (Some(uid), Some(gid)) = (id("SUDO_UID"), id("SUDO_GID")) {
        // SAFETY: fchown on our own open descriptor.
        unsafe {
            libc::fchown(file.as_raw_fd(), uid, gid);
        }
    }
}

/// Reads a file whole, with a one-line error naming it.
pub fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    if path.is_dir() {
        return Err(
            Fatal::Usage(format!("{}: is a directory, not a trace", path.display())).into(),
        );
    }
    std::fs::read(path).map_err(|e| {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            _ => e.to_string(),
        };
        Fatal::Usage(format!("{}: {why}", path.display())).into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_atomically_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("t.zctrace");
        std::fs::write(&p, b"old").expect("seed");
        write_atomic(&p, b"new contents").expect("write");
        assert_eq!(std::fs::read(&p).expect("read"), b"new contents");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("ls")
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    /// Where the file system has no unnamed files, the named temporary
    /// replaces the target whole and is gone after.
    #[test]
    fn a_named_temporary_replaces_the_target_and_leaves_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("t.zctrace");
        std::fs::write(&p, b"old").expect("seed");
        let tmp = dir.path().join(".t.zctrace.zc-1.tmp");
        write_named_then_rename(&tmp, &p, b"new").expect("write");
        assert_eq!(std::fs::read(&p).expect("read"), b"new");
        assert!(!tmp.exists());
        // A target that cannot be replaced: the temporary goes too.
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).expect("mkdir");
        std::fs::write(sub.join("x"), b"x").expect("fill");
        assert!(write_named_then_rename(&tmp, &sub, b"y").is_err());
        assert!(!tmp.exists());
    }

    #[test]
    fn unwritable_places_are_usage_errors_and_change_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let e = write_atomic(&dir.path().join("missing/t.zctrace"), b"x").expect_err("no dir");
        assert_eq!(crate::exit::code_for(&e), crate::exit::USAGE);
        let e = write_atomic(dir.path(), b"x").expect_err("a directory");
        assert!(e.to_string().contains("directory"), "{e}");
    }
}
