//! Small syscall helpers the send loops share: a write that queues all of
//! its bytes, and errors that name what failed.

use std::os::fd::{AsRawFd, BorrowedFd};

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
        // SAFETY: data is a valid slice for its length.
        let n = unsafe { libc::write(sock.as_raw_fd(), data.as_ptr().cast(), data.len()) };
        if n < 0 {
            if interrupted() {
                continue;
            }
            return Err(last_error("write to the socket"));
        }
        data = &data[n as usize..];
    }
    Ok(())
}
