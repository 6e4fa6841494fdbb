//! Kernel TLS on a TCP socket: the kernel, not the program, encrypts.
//!
//! A connected TCP socket takes the upper-layer protocol "tls"
//! (`setsockopt(IPPROTO_TCP, TCP_ULP, "tls")`), then a key per direction
//! (`setsockopt(SOL_TLS, TLS_TX / TLS_RX, crypto_info)`). From then on a
//! send hands the kernel plaintext, which net/tls cuts into records of at
//! most 16 KiB and seals with AES-GCM into pages of the socket's own, and
//! a read returns plaintext the kernel opened. So sendfile keeps its one
//! call and its references to the page cache, but the pages that reach
//! the device are no longer the file's: the cipher wrote new ones.
//!
//! The kernel keeps each direction's record sequence number, the nonce of
//! the next record, and gives it back on `getsockopt`: how many records it
//! sealed or opened, the only count of its cipher passes there is (no
//! tracepoint sits on the software path).
//!
//! zc uses one cipher, TLS 1.2 with AES-GCM-128, and one fixed key: the
//! demo encrypts to show where bytes move, not to keep them secret.

use std::os::fd::{AsRawFd, BorrowedFd};

use anyhow::Context as _;

/// Which way a key works: sealing what the socket sends, or opening what
/// it receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Transmit,
    Receive,
}

impl Direction {
    fn option(self) -> libc::c_int {
        match self {
            Direction::Transmit => libc::TLS_TX,
            Direction::Receive => libc::TLS_RX,
        }
    }
}

/// The demo's key material, the same on both ends; the record sequence
/// starts at 0.
fn crypto_info() -> libc::tls12_crypto_info_aes_gcm_128 {
    libc::tls12_crypto_info_aes_gcm_128 {
        info: libc::tls_crypto_info {
            version: libc::TLS_1_2_VERSION,
            cipher_type: libc::TLS_CIPHER_AES_GCM_128,
        },
        iv: *b"zc-nonce",
        key: *b"zc-demo-key-0001",
        salt: *b"salt",
        rec_seq: [0; 8],
    }
}

/// Puts `sock`, a connected TCP socket, under kernel TLS: the ULP, once
/// per socket, then the key for `dir`.
pub fn attach(sock: BorrowedFd<'_>, dir: Direction) -> anyhow::Result<()> {
    // The ULP may be set once; a second direction on the same socket only
    // adds its key.
    let ulp = b"tls";
    // SAFETY: a valid descriptor and a buffer of the length given.
    let r = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_ULP,
            ulp.as_ptr().cast(),
            ulp.len() as libc::socklen_t,
        )
    };
    let err = std::io::Error::last_os_error();
    if r != 0 && err.raw_os_error() != Some(libc::EEXIST) {
        return Err(err).context("set TCP_ULP \"tls\" on the connection");
    }
    let info = crypto_info();
    // SAFETY: as above; the kernel wants exactly the struct's size.
    let r = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_TLS,
            dir.option(),
            (&raw const info).cast(),
            size_of_val(&info) as libc::socklen_t,
        )
    };
    if r != 0 {
        return Err(std::io::Error::last_os_error())
            .with_context(|| format!("give the socket its AES-GCM-128 key ({dir:?})"));
    }
    Ok(())
}

/// Records the kernel has sealed (`Transmit`) or opened (`Receive`) on
/// `sock` so far: its record sequence number. `None` on a socket without
/// kernel TLS in that direction (the kernel answers `ENOPROTOOPT` or
/// `EBUSY`, whichever it finds first).
pub fn records(sock: BorrowedFd<'_>, dir: Direction) -> Option<u64> {
    let mut info = crypto_info();
    let mut len = size_of_val(&info) as libc::socklen_t;
    // SAFETY: a valid descriptor and an out buffer of the length given.
    let r = unsafe {
        libc::getsockopt(
            sock.as_raw_fd(),
            libc::SOL_TLS,
            dir.option(),
            (&raw mut info).cast(),
            &mut len,
        )
    };
    (r == 0 && len as usize == size_of_val(&info)).then(|| u64::from_be_bytes(info.rec_seq))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::{
        net::{TcpListener, TcpStream},
        os::fd::AsFd,
    };

    /// The structure is the kernel's: 40 bytes (tls_main.c refuses any
    /// other length), and a plain socket has no record count.
    #[test]
    fn the_key_is_the_kernels_size_and_a_plain_socket_has_no_records() {
        assert_eq!(size_of::<libc::tls12_crypto_info_aes_gcm_128>(), 40);
        let l = TcpListener::bind("127.0.0.1:0").expect("listen on loopback");
        let c = TcpStream::connect(l.local_addr().expect("addr")).expect("connect");
        assert_eq!(records(c.as_fd(), Direction::Transmit), None);
    }
}
