//! The four ways to send a file to a socket, exactly as the article writes
//! them, one syscall per chunk (plus whatever a short transfer needs).
//!
//! These loops run in the sender thread while it is traced: they make no
//! other syscall (no allocation that could mmap, no logging), so the trace
//! shows the strategy and nothing else.

use std::os::fd::{AsRawFd, BorrowedFd};

use anyhow::bail;

use crate::model::Strategy;

fn last_error(what: &'static str) -> anyhow::Error {
    anyhow::Error::new(std::io::Error::last_os_error()).context(what)
}

/// write() until `data` is all queued, retrying short writes and EINTR.
fn write_all(sock: BorrowedFd<'_>, mut data: &[u8]) -> anyhow::Result<()> {
    while !data.is_empty() {
        // SAFETY: data is a valid slice for its length.
        let n = unsafe { libc::write(sock.as_raw_fd(), data.as_ptr().cast(), data.len()) };
        if n < 0 {
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(last_error("write to the socket"));
        }
        data = &data[n as usize..];
    }
    Ok(())
}

/// Sends `size` bytes of `file` to `sock` with `strategy`, `chunk` bytes per
/// call. `buf` is the user buffer for read+write (allocated before tracing).
pub fn send(
    strategy: Strategy,
    file: BorrowedFd<'_>,
    sock: BorrowedFd<'_>,
    size: u64,
    chunk: u64,
    buf: &mut [u8],
) -> anyhow::Result<u64> {
    match strategy {
        Strategy::ReadWrite => read_write(file, sock, size, buf),
        Strategy::MmapWrite => mmap_write(file, sock, size, chunk),
        Strategy::Sendfile | Strategy::SendfileGather => sendfile(file, sock, size, chunk),
    }
}

/// Figure 1: read(file, buf, len); write(sock, buf, len);
fn read_write(
    file: BorrowedFd<'_>,
    sock: BorrowedFd<'_>,
    size: u64,
    buf: &mut [u8],
) -> anyhow::Result<u64> {
    let mut sent = 0u64;
    while sent < size {
        let want = buf.len().min((size - sent) as usize);
        // SAFETY: buf is valid for `want` bytes.
        let n = unsafe { libc::read(file.as_raw_fd(), buf.as_mut_ptr().cast(), want) };
        if n < 0 {
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(last_error("read the file"));
        }
        if n == 0 {
            bail!("the file ended after {sent} of {size} bytes (was it truncated?)");
        }
        write_all(sock, &buf[..n as usize])?;
        sent += n as u64;
    }
    Ok(sent)
}

/// Figure 2: buf = mmap(file, len); write(sock, buf, len);
///
/// If another process truncated the file while it is mapped, touching the
/// mapping would raise SIGBUS: the article's warning. zc's own file has no
/// name, so nobody else can truncate it.
fn mmap_write(
    file: BorrowedFd<'_>,
    sock: BorrowedFd<'_>,
    size: u64,
    chunk: u64,
) -> anyhow::Result<u64> {
    let len = size as usize;
    // SAFETY: a new read-only shared mapping of the file; it is only read
    // within [0, len) and unmapped before returning.
    let addr = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ,
            libc::MAP_SHARED,
            file.as_raw_fd(),
            0,
        )
    };
    if addr == libc::MAP_FAILED {
        return Err(last_error("mmap the file"));
    }
    // SAFETY: the mapping is `len` bytes long and readable (see above).
    let mapped = unsafe { std::slice::from_raw_parts(addr.cast::<u8>(), len) };
    let mut result = Ok(0u64);
    let mut off = 0usize;
    while off < len {
        let end = (off + chunk as usize).min(len);
        if let Err(e) = write_all(sock, &mapped[off..end]) {
            result = Err(e);
            break;
        }
        off = end;
        result = Ok(off as u64);
    }
    // SAFETY: unmaps exactly the mapping made above; `mapped` is not used after.
    if unsafe { libc::munmap(addr, len) } != 0 && result.is_ok() {
        return Err(last_error("munmap the file"));
    }
    result
}

/// Figures 3 and 4: sendfile(sock, file, len); — which of the two depends on
/// the device's scatter-gather, not on the call.
fn sendfile(
    file: BorrowedFd<'_>,
    sock: BorrowedFd<'_>,
    size: u64,
    chunk: u64,
) -> anyhow::Result<u64> {
    let mut off: libc::off_t = 0;
    while (off as u64) < size {
        let want = chunk.min(size - off as u64) as usize;
        // SAFETY: `off` is a valid pointer; both descriptors are open.
        let n = unsafe { libc::sendfile(sock.as_raw_fd(), file.as_raw_fd(), &mut off, want) };
        if n < 0 {
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(last_error("sendfile to the socket"));
        }
        if n == 0 {
            bail!("sendfile stopped after {off} of {size} bytes (was the file truncated?)");
        }
    }
    Ok(off as u64)
}
