//! The ways to move a file to a socket that came after the article, and
//! whether this kernel lets a program use them. Each answer comes from the
//! kernel itself, asked the way a program would (a call that must fail with
//! EBADF rather than ENOSYS, a socket option, a ring set up and torn down),
//! never from a version number: distributions disable and backport things.

use std::{
    os::fd::{AsRawFd, FromRawFd, OwnedFd},
    sync::OnceLock,
};

/// A mechanism a strategy depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mechanism {
    Sendfile,
    Splice,
    Vmsplice,
    MsgZerocopy,
    IoUring,
    IoUringSendZc,
    IoUringSqpoll,
    /// Kernel TLS: encryption in the kernel, so sendfile can still send by
    /// reference over TLS.
    Ktls,
}

impl Mechanism {
    pub const ALL: [Mechanism; 8] = [
        Mechanism::Sendfile,
        Mechanism::Splice,
        Mechanism::Vmsplice,
        Mechanism::MsgZerocopy,
        Mechanism::IoUring,
        Mechanism::IoUringSendZc,
        Mechanism::IoUringSqpoll,
        Mechanism::Ktls,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Mechanism::Sendfile => "sendfile",
            Mechanism::Splice => "splice",
            Mechanism::Vmsplice => "vmsplice",
            Mechanism::MsgZerocopy => "MSG_ZEROCOPY",
            Mechanism::IoUring => "io_uring",
            Mechanism::IoUringSendZc => "io_uring SEND_ZC",
            Mechanism::IoUringSqpoll => "io_uring SQPOLL",
            Mechanism::Ktls => "kTLS",
        }
    }

    /// The probes whose events prove what the mechanism does; without them
    /// a strategy using it would show wrong figures.
    pub fn probes(self) -> &'static [&'static str] {
        match self {
            Mechanism::IoUring | Mechanism::IoUringSendZc | Mechanism::IoUringSqpoll => &[
                "io_uring_create",
                "io_uring_submit_req",
                "io_uring_complete",
            ],
            Mechanism::Sendfile
            | Mechanism::Splice
            | Mechanism::Vmsplice
            | Mechanism::MsgZerocopy
            | Mechanism::Ktls => &[],
        }
    }

    /// Asks the kernel: Ok(how it was shown) or Err(why not), one line each.
    /// Asked once per process (a ring set up with an SQ thread is not free,
    /// and every run checks its strategy); the answer is kept.
    pub fn check(self) -> Result<String, String> {
        static ANSWERS: [OnceLock<Result<String, String>>; Mechanism::ALL.len()] =
            [const { OnceLock::new() }; Mechanism::ALL.len()];
        let i = Mechanism::ALL.iter().position(|m| *m == self).unwrap_or(0);
        ANSWERS[i].get_or_init(|| self.ask()).clone()
    }

    fn ask(self) -> Result<String, String> {
        match self {
            Mechanism::Sendfile => syscall_exists(libc::SYS_sendfile, "sendfile"),
            Mechanism::Splice => syscall_exists(libc::SYS_splice, "splice"),
            Mechanism::Vmsplice => syscall_exists(libc::SYS_vmsplice, "vmsplice"),
            Mechanism::MsgZerocopy => msg_zerocopy(),
            Mechanism::IoUring => io_uring().map(|_| "a ring was set up".into()),
            Mechanism::IoUringSendZc => send_zc(),
            Mechanism::IoUringSqpoll => sqpoll(),
            Mechanism::Ktls => ktls(),
        }
    }
}

/// A call with a bad descriptor: EBADF means the kernel has the syscall,
/// ENOSYS that it does not.
fn syscall_exists(nr: libc::c_long, name: &str) -> Result<String, String> {
    // SAFETY: every argument is invalid on purpose; the kernel checks the
    // descriptor first and touches no memory.
    let r = unsafe { libc::syscall(nr, -1, 0, -1, 0, 0, 0) };
    let errno = std::io::Error::last_os_error().raw_os_error();
    if r < 0 && errno == Some(libc::ENOSYS) {
        Err(format!("the kernel has no {name} syscall (ENOSYS)"))
    } else {
        Ok(format!("{name}() answers (EBADF on a bad descriptor)"))
    }
}

fn msg_zerocopy() -> Result<String, String> {
    // SAFETY: plain socket creation; the descriptor is owned below.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(format!(
            "cannot make a TCP socket to ask: {}",
            std::io::Error::last_os_error()
        ));
    }
    // SAFETY: socket() just returned it.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    let one: libc::c_int = 1;
    // SAFETY: a valid socket and a c_int option value.
    let r = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_ZEROCOPY,
            (&one as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok("a TCP socket takes SO_ZEROCOPY".into())
    } else {
        Err(format!(
            "a TCP socket refuses SO_ZEROCOPY: {}",
            std::io::Error::last_os_error()
        ))
    }
}

/// `kernel.io_uring_disabled`: 0 allowed, 1 only for a group, 2 off.
fn io_uring_sysctl() -> Result<(), String> {
    match std::fs::read_to_string("/proc/sys/kernel/io_uring_disabled")
        .map(|s| s.trim().to_string())
        .as_deref()
    {
        Ok("2") => Err("io_uring is switched off (kernel.io_uring_disabled = 2)".into()),
        _ => Ok(()),
    }
}

fn io_uring() -> Result<io_uring::IoUring, String> {
    io_uring_sysctl()?;
    io_uring::IoUring::new(2).map_err(|e| format!("io_uring_setup fails: {e}"))
}

fn send_zc() -> Result<String, String> {
    let ring = io_uring()?;
    let mut probe = io_uring::Probe::new();
    ring.submitter()
        .register_probe(&mut probe)
        .map_err(|e| format!("cannot ask the ring which operations it has: {e}"))?;
    if probe.is_supported(io_uring::opcode::SendZc::CODE) {
        Ok("the ring lists IORING_OP_SEND_ZC".into())
    } else {
        Err("the ring does not list IORING_OP_SEND_ZC (added in Linux 6.0)".into())
    }
}

fn sqpoll() -> Result<String, String> {
    io_uring_sysctl()?;
    let ring: std::io::Result<io_uring::IoUring> =
        io_uring::IoUring::builder().setup_sqpoll(10).build(2);
    ring.map(|_| "a ring with an SQ thread was set up".into())
        .map_err(|e| format!("IORING_SETUP_SQPOLL fails: {e}"))
}

/// kTLS is a TCP upper-layer protocol: asked the way a program uses it,
/// on a loopback connection of zc's own. `tcp_available_ulp` lists only
/// what is loaded, and a kernel that builds TLS as a module loads it on
/// the first socket that asks (`__tcp_ulp_find_autoload`).
fn ktls() -> Result<String, String> {
    use std::{
        net::{TcpListener, TcpStream},
        os::fd::AsFd,
    };
    let asked = || -> std::io::Result<(TcpStream, TcpStream)> {
        let l = TcpListener::bind("127.0.0.1:0")?;
        let c = TcpStream::connect(l.local_addr()?)?;
        let (s, _) = l.accept()?;
        Ok((c, s))
    };
    let (c, _s) = asked().map_err(|e| format!("cannot make a loopback connection to ask: {e}"))?;
    match crate::ktls::attach(c.as_fd(), crate::ktls::Direction::Transmit) {
        Ok(()) => Ok("a TCP connection took TCP_ULP \"tls\" and an AES-GCM-128 key".into()),
        Err(e) => Err(format!(
            "{:#} (the kernel was built without CONFIG_TLS, cannot load its module, or has no \
             gcm(aes))",
            e
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The article's calls exist on any kernel zc runs on, and asking does
    /// not fail.
    #[test]
    fn the_old_syscalls_answer() {
        for m in [Mechanism::Sendfile, Mechanism::Splice, Mechanism::Vmsplice] {
            assert!(m.check().is_ok(), "{m:?}: {:?}", m.check());
        }
    }

    /// An unknown syscall number is reported missing, so the check can fail.
    #[test]
    fn a_missing_syscall_is_named() {
        let why = syscall_exists(100_000, "nonesuch").expect_err("no such syscall");
        assert!(why.contains("ENOSYS"), "{why}");
    }

    /// kTLS's answer agrees with the kernel's own list, whichever it is:
    /// read after asking, since asking may load the module.
    #[test]
    fn ktls_follows_tcp_available_ulp() {
        let answer = Mechanism::Ktls.check();
        let Ok(ulps) = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_available_ulp") else {
            crate::skipped("(no /proc/sys/net/ipv4/tcp_available_ulp)");
            return;
        };
        let listed = ulps.split_whitespace().any(|u| u == "tls");
        assert_eq!(answer.is_ok(), listed, "{answer:?}");
    }
}
