//! The signals that end zc, and a terminal that has gone.
//!
//! zc stops on SIGINT, SIGTERM and SIGHUP: each view leaves its loop, the
//! kernel programs are detached when their links drop, and a command zc
//! started is handed the signal a shell would hand it. SIGHUP is what the
//! kernel sends the session leader when its terminal hangs up (a window
//! closed, a tmux server killed, an ssh link dropped); a view that sees
//! the tty hung up itself counts it as the same signal. After a hangup
//! nothing can be shown any more: stdin, stdout and stderr then point at
//! /dev/null, so that the report, the last messages and the terminal's
//! restoring go nowhere instead of failing.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

/// The first stop signal that arrived, or 0.
static STOP: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(sig: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    let _ = STOP.compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst);
}

/// Installs the handlers that set [`stopped`].
pub fn catch() {
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: the handler only stores to an atomic.
        unsafe { libc::signal(sig, on_signal as *const () as libc::sighandler_t) };
    }
}

/// Whether a stop signal arrived (or the terminal hung up).
pub fn stopped() -> bool {
    STOP.load(Ordering::SeqCst) != 0
}

/// The stop signal that arrived first, if any.
pub fn which() -> Option<i32> {
    match STOP.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

/// The terminal hung up: as if SIGHUP had come, and what is left to say
/// goes to /dev/null.
pub fn hang_up() {
    on_signal(libc::SIGHUP);
    forget_terminal();
}

/// If SIGHUP came (or the tty hung up), points stdin, stdout and stderr at
/// /dev/null: a write to a hung-up tty fails with EIO, which would turn
/// the last report, or `eprintln!`, into an error or a panic.
pub fn forget_terminal_if_hung_up() {
    if which() == Some(libc::SIGHUP) {
        forget_terminal();
    }
}

fn forget_terminal() {
    // SAFETY: plain syscalls on a path and on descriptors 0 to 2.
    unsafe {
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC);
        if null < 0 {
            return;
        }
        for fd in 0..=2 {
            libc::dup2(null, fd);
        }
        libc::close(null);
    }
}

/// The signal a command zc started should be handed when zc stops: the
/// one zc got if it was SIGHUP or SIGTERM (as a shell and `sudo` pass them
/// on), else SIGINT, the terminal's Ctrl-C, which a view in raw mode
/// received in the command's stead.
pub fn for_the_command() -> i32 {
    match which() {
        Some(s) if s == libc::SIGHUP || s == libc::SIGTERM => s,
        _ => libc::SIGINT,
    }
}

/// Stdin was a terminal when a view started watching it.
static WATCHED: AtomicBool = AtomicBool::new(false);

/// A view starts: from now on, stdin hung up means its terminal went away.
/// (Once hung up a tty no longer answers `isatty`, so it is asked now.)
pub fn watch_terminal() {
    // SAFETY: isatty only reads the descriptor's state.
    let tty = unsafe { libc::isatty(0) } == 1;
    WATCHED.store(tty, Ordering::SeqCst);
}

/// Whether the terminal on stdin hung up: the kernel's own answer to a
/// poll, without reading a byte. False unless a view watches stdin and it
/// was a terminal then (a closed pipe on stdin is no hangup).
pub fn terminal_hung_up() -> bool {
    WATCHED.load(Ordering::SeqCst) && hung_up(0)
}

/// Whether the tty open on `fd` hung up.
fn hung_up(fd: libc::c_int) -> bool {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd, no wait.
    let n = unsafe { libc::poll(&mut p, 1, 0) };
    n > 0 && p.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pty whose other end closed is seen hung up; an open one is not.
    #[test]
    fn a_closed_pty_reads_as_hung_up() {
        // SAFETY: openpty fills two descriptors, closed here.
        unsafe {
            let (mut master, mut slave) = (0, 0);
            let rc = libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                std::ptr::null(),
            );
            assert_eq!(rc, 0, "openpty");
            let open = hung_up(slave);
            libc::close(master);
            let closed = hung_up(slave);
            libc::close(slave);
            assert!(!open, "an open pty read as hung up");
            assert!(closed, "a pty whose master closed did not read as hung up");
        }
    }

    #[test]
    fn the_command_gets_sigint_unless_zc_got_hup_or_term() {
        assert_eq!(STOP.load(Ordering::SeqCst), 0);
        assert_eq!(for_the_command(), libc::SIGINT);
        on_signal(libc::SIGTERM);
        on_signal(libc::SIGHUP); // the first one stays
        assert_eq!(which(), Some(libc::SIGTERM));
        assert_eq!(for_the_command(), libc::SIGTERM);
        STOP.store(0, Ordering::SeqCst);
    }
}
