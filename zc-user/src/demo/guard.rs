//! What a `kill -9` leaves of a borrowed NIC, and the guard that mends it.
//!
//! A NIC moved into a network namespace goes back to the initial one when
//! the namespace dies, whatever killed its last holder: the kernel's
//! `default_device_exit_net` moves every device that is not virtual home
//! (net/core/dev.c). Its settings travel with it, though: a NIC zc turned
//! scatter-gather off on for the sendfile run comes home with it still
//! off. A normal exit restores it (`DemoNet`'s `Drop`); a SIGKILL runs no
//! code of zc's at all.
//!
//! So before the first change, zc forks a guard. It shares nothing with zc
//! but one pipe: every other descriptor is closed (a namespace's fd held
//! here would keep the NIC away for good), and it leaves zc's session, so
//! a Ctrl-C or a closed terminal does not reach it. It blocks reading the
//! pipe. zc writes one byte when it has put the NIC back itself, and the
//! guard exits. If the pipe ends without it, zc died: the guard waits for
//! the NIC to appear in the initial namespace (its own), sets
//! scatter-gather back as it was, and exits.
//!
//! A child of a multi-threaded process may only make async-signal-safe
//! calls until it execs: the guard makes system calls only, on data
//! prepared before the fork, and never allocates.

use std::{
    io::{self, Write as _},
    os::fd::{FromRawFd as _, OwnedFd},
};

use anyhow::{Context as _, Result, bail};
use libc::c_void;

use super::net::{ETHTOOL_SSG, EthtoolValue};

/// How long the guard waits for the NIC to come home: the kernel's work
/// queue returns it within a moment of the namespace's last reference.
const WAIT_ROUNDS: u32 = 150;
const ROUND_NS: i64 = 100_000_000;

/// The guard of one NIC's scatter-gather, while zc lives. Dropping it
/// without [`Guard::stand_down`] leaves the guard to restore the NIC.
#[derive(Debug)]
pub struct Guard {
    pipe: Option<std::fs::File>,
    pid: libc::pid_t,
}

impl Guard {
    /// Forks the guard of NIC `ifname`, which must be set back to
    /// scatter-gather `sg` if zc dies before it does so itself. Call it on
    /// a thread in the initial network namespace (the guard's is the
    /// forking thread's).
    pub fn start(ifname: &str, sg: bool) -> Result<Guard> {
        // Everything the child needs, made before the fork.
        // SAFETY: ifreq is plain old data; all-zero is a valid value.
        let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
        let name = ifname.as_bytes();
        if name.len() >= ifr.ifr_name.len() {
            bail!("interface name {ifname} is too long");
        }
        for (dst, &src) in ifr.ifr_name.iter_mut().zip(name) {
            *dst = src as libc::c_char;
        }
        let mut value = EthtoolValue {
            cmd: ETHTOOL_SSG,
            data: u32::from(sg),
        };
        let mut fds = [0; 2];
        // SAFETY: pipe2 writes two descriptors into `fds`.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err(io::Error::last_os_error()).context("make the NIC guard's pipe");
        }
        let [read_end, write_end] = fds;
        // SAFETY: fork(2); the child runs `guard` only, which makes
        // async-signal-safe system calls and exits without returning.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            let e = io::Error::last_os_error();
            // SAFETY: both ends are ours and open.
            unsafe {
                libc::close(read_end);
                libc::close(write_end);
            }
            return Err(e).context("fork the NIC guard");
        }
        if pid == 0 {
            ifr.ifr_ifru.ifru_data = (&raw mut value).cast::<c_void>().cast();
            // SAFETY: in the child; see `guard`.
            unsafe { guard(read_end, &mut ifr) }
        }
        // SAFETY: the parent's copy of the read end is its own to close;
        // the write end is owned by the File from here on.
        let pipe = unsafe {
            libc::close(read_end);
            std::fs::File::from(OwnedFd::from_raw_fd(write_end))
        };
        Ok(Guard {
            pipe: Some(pipe),
            pid,
        })
    }

    /// zc restored the NIC itself: the guard exits without touching it.
    pub fn stand_down(mut self) {
        if let Some(mut p) = self.pipe.take() {
            let _ = p.write_all(b"d");
        }
        self.reap();
    }

    fn reap(&mut self) {
        let mut status = 0;
        // SAFETY: waits for our own child.
        unsafe { libc::waitpid(self.pid, &mut status, 0) };
    }
}

impl Drop for Guard {
    /// Without a stand-down the pipe just closes: the guard restores the
    /// NIC once it is home. zc does not wait for that (it may be dying).
    fn drop(&mut self) {
        self.pipe.take();
    }
}

/// The guard itself, in the forked child. Never returns.
///
/// # Safety
/// Only in a freshly forked child, with `read_end` the pipe's read end and
/// `ifr` an ifreq naming the NIC whose `ifru_data` points at a live
/// `EthtoolValue` (both on the forking thread's stack, copied by fork).
unsafe fn guard(read_end: libc::c_int, ifr: *mut libc::ifreq) -> ! {
    // SAFETY: plain system calls on the child's own descriptors and stack.
    unsafe {
        libc::setsid();
        libc::dup2(read_end, 0);
        // Nothing of zc's stays open here: above all not its namespaces.
        libc::syscall(libc::SYS_close_range, 1u32, u32::MAX, 0u32);
        let mut byte = 0u8;
        let n = loop {
            let n = libc::read(0, (&raw mut byte).cast(), 1);
            if n < 0 && *libc::__errno_location() == libc::EINTR {
                continue;
            }
            break n;
        };
        if n == 1 {
            libc::_exit(0);
        }
        // zc died: wait for the NIC to come home, then set it back.
        let sock = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        let pause = libc::timespec {
            tv_sec: 0,
            tv_nsec: ROUND_NS,
        };
        for _ in 0..WAIT_ROUNDS {
            if sock >= 0 && libc::ioctl(sock, libc::SIOCETHTOOL as libc::Ioctl, ifr) == 0 {
                libc::_exit(0);
            }
            libc::nanosleep(&pause, std::ptr::null_mut());
        }
        libc::_exit(1);
    }
}
