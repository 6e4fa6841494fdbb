//! Small syscall helpers the send loops share: a write that queues all of
//! its bytes, a pipe and its draining into the socket, errors that name
//! what failed, and the stepping gate every syscall of a loop passes first.

use std::{
    cell::Cell,
    os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd},
};

use super::gate::Gate;

thread_local! {
    /// The gate of the stepped run this thread sends for, or null.
    static GATE: Cell<*const Gate> = const { Cell::new(std::ptr::null()) };
    /// Calls this thread's loop made again because one moved less than it
    /// asked (a full socket buffer or pipe) or was interrupted.
    static SHORT: Cell<u64> = const { Cell::new(0) };
}

/// A call moved less than it asked, or was interrupted: the loop calls
/// again. Such calls depend on the timing (how fast the receiver reads),
/// not on the strategy or the kernel, so a run says how many it made.
#[inline]
pub fn short_call() {
    SHORT.with(|s| s.set(s.get() + 1));
}

/// The calls made again since the last time this was asked, on this thread.
pub fn take_short_calls() -> u64 {
    SHORT.with(|s| s.replace(0))
}

/// Runs `f` (a send loop) with `gate` as this thread's stepping gate; the
/// gate before it is back when `f` returns or unwinds.
pub fn with_gate<R>(gate: Option<&Gate>, f: impl FnOnce() -> R) -> R {
    struct Restore(*const Gate);
    impl Drop for Restore {
        fn drop(&mut self) {
            GATE.with(|g| g.set(self.0));
        }
    }
    let _restore = Restore(GATE.with(|g| g.get()));
    GATE.with(|g| g.set(gate.map_or(std::ptr::null(), |g| g as *const Gate)));
    f()
}

/// Called at the top of each iteration of a send loop: in a run stepped by
/// iteration, waits for the viewer's next step (untraced).
#[inline]
pub fn iteration() {
    GATE.with(|g| {
        let p = g.get();
        if !p.is_null() {
            // SAFETY: as in `gate`.
            unsafe { (*p).before_iteration() };
        }
    });
}

/// Called before every syscall a send loop makes: in a stepped run, waits
/// for the viewer's next step (untraced); otherwise returns at once.
#[inline]
pub fn gate() {
    GATE.with(|g| {
        let p = g.get();
        if !p.is_null() {
            // SAFETY: set by `with_gate` from a reference that outlives
            // the loop it runs, and cleared before that returns.
            unsafe { (*p).before_call() };
        }
    });
}

pub fn last_error(what: &'static str) -> anyhow::Error {
    anyhow::Error::new(std::io::Error::last_os_error()).context(what)
}

/// True when the last call failed with EINTR (a signal): retry it.
pub fn interrupted() -> bool {
    std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted
}

/// write() until `data` is all queued, retrying short writes and EINTR.
pub fn write_all(sock: BorrowedFd<'_>, mut data: &[u8]) -> anyhow::Result<()> {
    while !data.is_empty() {
        gate();
        // SAFETY: data is a valid slice for its length.
        let n = unsafe { libc::write(sock.as_raw_fd(), data.as_ptr().cast(), data.len()) };
        if n < 0 {
            if interrupted() {
                short_call();
                continue;
            }
            return Err(last_error("write to the socket"));
        }
        data = &data[n as usize..];
        if !data.is_empty() {
            short_call();
        }
    }
    Ok(())
}

/// read() into `buf` from the file's current offset, retrying EINTR; a
/// read of nothing is an error (the file ended before `size`, after `sent`).
pub fn read_chunk(
    file: BorrowedFd<'_>,
    buf: &mut [u8],
    sent: u64,
    size: u64,
) -> anyhow::Result<usize> {
    loop {
        gate();
        // SAFETY: buf is valid for its length.
        let n = unsafe { libc::read(file.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n < 0 {
            if interrupted() {
                short_call();
                continue;
            }
            return Err(last_error("read the file"));
        }
        if n == 0 {
            anyhow::bail!("the file ended after {sent} of {size} bytes (was it truncated?)");
        }
        if (n as usize) < buf.len() {
            // The loop reads the rest with a call of its own.
            short_call();
        }
        return Ok(n as usize);
    }
}

/// A pipe that holds at least one `chunk` (both ends closed on exec): (read
/// end, write end). Two syscalls: pipe2, and fcntl(F_SETPIPE_SZ), so that a
/// chunk goes in with one call whatever its size. A pipe the kernel will not
/// grow keeps its 64 KiB (16 pages), and the loops take a chunk in pieces.
pub fn pipe(chunk: u64) -> anyhow::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0i32; 2];
    gate();
    // SAFETY: `fds` is a valid array of two descriptors to fill.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(last_error("create a pipe"));
    }
    // SAFETY: pipe2 just returned these two descriptors; nothing else owns them.
    let (rd, wr) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let want = chunk.clamp(4096, 1 << 30) as libc::c_int;
    gate();
    // SAFETY: a valid pipe descriptor; the kernel rounds the size up to pages.
    let _ = unsafe { libc::fcntl(wr.as_raw_fd(), libc::F_SETPIPE_SZ, want) };
    Ok((rd, wr))
}

/// Closes `fd` as a call of its own (a stepped run stops before it too).
pub fn close(fd: OwnedFd) {
    gate();
    drop(fd);
}

/// splice() `len` bytes out of the pipe into the socket, retrying short
/// splices and EINTR: the pipe is empty again when it returns.
pub fn drain_pipe(pipe: BorrowedFd<'_>, sock: BorrowedFd<'_>, len: usize) -> anyhow::Result<()> {
    let mut left = len;
    while left > 0 {
        gate();
        // SAFETY: valid descriptors; neither end of this splice has an offset.
        let m = unsafe {
            libc::splice(
                pipe.as_raw_fd(),
                std::ptr::null_mut(),
                sock.as_raw_fd(),
                std::ptr::null_mut(),
                left,
                libc::SPLICE_F_MOVE,
            )
        };
        if m < 0 {
            if interrupted() {
                short_call();
                continue;
            }
            return Err(last_error("splice the pipe into the socket"));
        }
        if m == 0 {
            anyhow::bail!("the pipe ran dry with {left} bytes still to send");
        }
        left -= m as usize;
        if left > 0 {
            short_call();
        }
    }
    Ok(())
}
