//! Syscall numbers → names, for the architecture zc was built for.
//!
//! The kernel reports only numbers (`raw_syscalls:sys_enter` id); the numbers
//! differ per architecture, so the table uses libc's per-target constants.

use std::borrow::Cow;

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
    // The rest, so `zc trace` names what any program calls.
    (libc::SYS_openat, "openat"),
    #[cfg(target_arch = "x86_64")]
    (libc::SYS_open, "open"),
    #[cfg(target_arch = "x86_64")]
    (libc::SYS_stat, "stat"),
    (libc::SYS_fstat, "fstat"),
    #[cfg(target_arch = "x86_64")]
    (libc::SYS_lstat, "lstat"),
    (libc::SYS_newfstatat, "newfstatat"),
    (libc::SYS_statx, "statx"),
    (libc::SYS_lseek, "lseek"),
    (libc::SYS_ioctl, "ioctl"),
    (libc::SYS_brk, "brk"),
    (libc::SYS_mprotect, "mprotect"),
    (libc::SYS_rt_sigaction, "rt_sigaction"),
    (libc::SYS_rt_sigreturn, "rt_sigreturn"),
    (libc::SYS_clone, "clone"),
    (libc::SYS_clone3, "clone3"),
    #[cfg(target_arch = "x86_64")]
    (libc::SYS_fork, "fork"),
    #[cfg(target_arch = "x86_64")]
    (libc::SYS_vfork, "vfork"),
    (libc::SYS_execve, "execve"),
    (libc::SYS_execveat, "execveat"),
    (libc::SYS_exit, "exit"),
    (libc::SYS_exit_group, "exit_group"),
    (libc::SYS_wait4, "wait4"),
    (libc::SYS_waitid, "waitid"),
    (libc::SYS_getdents64, "getdents64"),
    (libc::SYS_socket, "socket"),
    (libc::SYS_connect, "connect"),
    (libc::SYS_accept, "accept"),
    (libc::SYS_accept4, "accept4"),
    (libc::SYS_bind, "bind"),
    (libc::SYS_listen, "listen"),
    (libc::SYS_getsockname, "getsockname"),
    (libc::SYS_getpeername, "getpeername"),
    (libc::SYS_getsockopt, "getsockopt"),
    (libc::SYS_shutdown, "shutdown"),
    #[cfg(target_arch = "x86_64")]
    (libc::SYS_epoll_create1, "epoll_create1"),
    (libc::SYS_epoll_ctl, "epoll_ctl"),
    #[cfg(target_arch = "x86_64")]
    (libc::SYS_epoll_wait, "epoll_wait"),
    (libc::SYS_epoll_pwait, "epoll_pwait"),
    #[cfg(target_arch = "x86_64")]
    (libc::SYS_select, "select"),
    (libc::SYS_pselect6, "pselect6"),
    (libc::SYS_nanosleep, "nanosleep"),
    (libc::SYS_clock_nanosleep, "clock_nanosleep"),
    (libc::SYS_getrandom, "getrandom"),
    (libc::SYS_prlimit64, "prlimit64"),
    (libc::SYS_set_tid_address, "set_tid_address"),
    (libc::SYS_set_robust_list, "set_robust_list"),
    (libc::SYS_rseq, "rseq"),
    #[cfg(target_arch = "x86_64")]
    (libc::SYS_arch_prctl, "arch_prctl"),
    #[cfg(target_arch = "x86_64")]
    (libc::SYS_access, "access"),
    (libc::SYS_faccessat, "faccessat"),
    (libc::SYS_faccessat2, "faccessat2"),
    #[cfg(target_arch = "x86_64")]
    (libc::SYS_readlink, "readlink"),
    (libc::SYS_readlinkat, "readlinkat"),
    (libc::SYS_getpid, "getpid"),
    (libc::SYS_getppid, "getppid"),
    (libc::SYS_gettid, "gettid"),
    (libc::SYS_getuid, "getuid"),
    (libc::SYS_geteuid, "geteuid"),
    (libc::SYS_getgid, "getgid"),
    (libc::SYS_getegid, "getegid"),
    (libc::SYS_dup, "dup"),
    #[cfg(target_arch = "x86_64")]
    (libc::SYS_dup2, "dup2"),
    (libc::SYS_dup3, "dup3"),
    #[cfg(target_arch = "x86_64")]
    (libc::SYS_pipe, "pipe"),
    (libc::SYS_uname, "uname"),
    (libc::SYS_sysinfo, "sysinfo"),
    (libc::SYS_sched_getaffinity, "sched_getaffinity"),
    (libc::SYS_sched_setaffinity, "sched_setaffinity"),
    (libc::SYS_kill, "kill"),
    (libc::SYS_tgkill, "tgkill"),
    (libc::SYS_sigaltstack, "sigaltstack"),
    (libc::SYS_fchdir, "fchdir"),
    (libc::SYS_chdir, "chdir"),
    (libc::SYS_getcwd, "getcwd"),
    #[cfg(target_arch = "x86_64")]
    (libc::SYS_mkdir, "mkdir"),
    (libc::SYS_mkdirat, "mkdirat"),
    #[cfg(target_arch = "x86_64")]
    (libc::SYS_unlink, "unlink"),
    (libc::SYS_unlinkat, "unlinkat"),
    #[cfg(target_arch = "x86_64")]
    (libc::SYS_rename, "rename"),
    (libc::SYS_renameat2, "renameat2"),
    (libc::SYS_ftruncate, "ftruncate"),
    (libc::SYS_fsync, "fsync"),
    (libc::SYS_fdatasync, "fdatasync"),
    (libc::SYS_sync_file_range, "sync_file_range"),
    (libc::SYS_fallocate, "fallocate"),
    (libc::SYS_mremap, "mremap"),
    (libc::SYS_msync, "msync"),
    (libc::SYS_mincore, "mincore"),
    (libc::SYS_eventfd2, "eventfd2"),
    (libc::SYS_timerfd_create, "timerfd_create"),
    (libc::SYS_timerfd_settime, "timerfd_settime"),
    (libc::SYS_signalfd4, "signalfd4"),
    (libc::SYS_prctl, "prctl"),
    (libc::SYS_capget, "capget"),
    (libc::SYS_capset, "capset"),
    (libc::SYS_setuid, "setuid"),
    (libc::SYS_setgid, "setgid"),
    (libc::SYS_setgroups, "setgroups"),
    (libc::SYS_umask, "umask"),
    (libc::SYS_getrusage, "getrusage"),
    (libc::SYS_times, "times"),
    (libc::SYS_statfs, "statfs"),
    (libc::SYS_fstatfs, "fstatfs"),
    (libc::SYS_inotify_init1, "inotify_init1"),
    (libc::SYS_inotify_add_watch, "inotify_add_watch"),
    (libc::SYS_pidfd_open, "pidfd_open"),
    (libc::SYS_membarrier, "membarrier"),
    (libc::SYS_sendmmsg, "sendmmsg"),
    (libc::SYS_recvmmsg, "recvmmsg"),
    (libc::SYS_socketpair, "socketpair"),
    (libc::SYS_preadv, "preadv"),
    (libc::SYS_pwritev, "pwritev"),
    (libc::SYS_preadv2, "preadv2"),
    (libc::SYS_pwritev2, "pwritev2"),
    (libc::SYS_tee, "tee"),
    (libc::SYS_close_range, "close_range"),
    (libc::SYS_openat2, "openat2"),
    (libc::SYS_memfd_create, "memfd_create"),
];

/// The name of syscall `nr`, or `sys_<nr>` for one zc does not name.
/// Borrowed from the table when named: a run keeps one step per syscall
/// entry and exit, and an owned name each was a heap allocation each.
pub fn name(nr: u64) -> Cow<'static, str> {
    NAMES.iter().find(|(n, _)| *n as u64 == nr).map_or_else(
        || Cow::Owned(format!("sys_{nr}")),
        |(_, s)| Cow::Borrowed(*s),
    )
}

/// What `zc trace`'s kernel side needs to know of syscall numbers: which
/// calls copy a source's bytes into user memory, which pass a file's or a
/// socket's pages on by reference, which may map a socket's pages
/// (getsockopt), and which open a file by path (`zc_common::tree::class`).
pub fn classes() -> Vec<(u64, u8)> {
    use zc_common::tree::class;
    let read = [
        libc::SYS_read,
        libc::SYS_pread64,
        libc::SYS_readv,
        libc::SYS_preadv,
        libc::SYS_preadv2,
    ];
    let by_reference = [libc::SYS_splice, libc::SYS_copy_file_range];
    let open = [libc::SYS_open, libc::SYS_creat];
    let open_at = [libc::SYS_openat, libc::SYS_openat2];
    read.iter()
        .map(|nr| (*nr as u64, class::READ))
        .chain(
            by_reference
                .iter()
                .map(|nr| (*nr as u64, class::BY_REFERENCE)),
        )
        .chain([(libc::SYS_sendfile as u64, class::SENDFILE)])
        .chain([(libc::SYS_getsockopt as u64, class::GETSOCKOPT)])
        .chain(open.iter().map(|nr| (*nr as u64, class::OPEN)))
        .chain(open_at.iter().map(|nr| (*nr as u64, class::OPEN_AT)))
        .collect()
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
