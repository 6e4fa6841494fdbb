//! Syscall numbers → names, for the architecture zc was built for.
//!
//! The kernel reports only numbers (`raw_syscalls:sys_enter` id); the numbers
//! differ per architecture, so the table uses libc's per-target constants.

/// Names of the syscalls the strategies and their setup use.
const NAMES: &[(libc::c_long, &str)] = &[
    (libc::SYS_read, "read"),
    (libc::SYS_write, "write"),
    (libc::SYS_pread64, "pread64"),
    (libc::SYS_pwrite64, "pwrite64"),
    (libc::SYS_readv, "readv"),
    (libc::SYS_writev, "writev"),
    (libc::SYS_mmap, "mmap"),
    (libc::SYS_munmap, "munmap"),
    (libc::SYS_madvise, "madvise"),
    (libc::SYS_sendfile, "sendfile"),
    (libc::SYS_splice, "splice"),
    (libc::SYS_vmsplice, "vmsplice"),
    (libc::SYS_pipe2, "pipe2"),
    (libc::SYS_fcntl, "fcntl"),
    (libc::SYS_setsockopt, "setsockopt"),
    (libc::SYS_poll, "poll"),
    (libc::SYS_ppoll, "ppoll"),
    (libc::SYS_io_uring_setup, "io_uring_setup"),
    (libc::SYS_io_uring_register, "io_uring_register"),
    (libc::SYS_sendto, "sendto"),
    (libc::SYS_sendmsg, "sendmsg"),
    (libc::SYS_recvfrom, "recvfrom"),
    (libc::SYS_recvmsg, "recvmsg"),
    (libc::SYS_io_uring_enter, "io_uring_enter"),
    (libc::SYS_copy_file_range, "copy_file_range"),
    (libc::SYS_futex, "futex"),
    (libc::SYS_close, "close"),
    (libc::SYS_clock_gettime, "clock_gettime"),
    (libc::SYS_sched_yield, "sched_yield"),
    (libc::SYS_rt_sigprocmask, "rt_sigprocmask"),
    (libc::SYS_fadvise64, "fadvise64"),
];

/// The name of syscall `nr`, or `sys_<nr>` for one zc does not name.
pub fn name(nr: u64) -> String {
    NAMES
        .iter()
        .find(|(n, _)| *n as u64 == nr)
        .map(|(_, s)| (*s).to_string())
        .unwrap_or_else(|| format!("sys_{nr}"))
}

/// The number of the syscall called `name`, if zc knows it.
pub fn number(name: &str) -> Option<u64> {
    NAMES
        .iter()
        .find(|(_, s)| *s == name)
        .map(|(n, _)| *n as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for (_, n) in NAMES {
            let nr = number(n).expect("known");
            assert_eq!(&name(nr), n);
        }
        assert_eq!(name(100_000), "sys_100000");
    }
}
