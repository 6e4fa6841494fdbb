//! A tiny program for `zc trace`'s tests: it sends a file over a loopback
//! TCP connection to a receiver thread of its own, with sendfile or with
//! read + write, so the trace has a known answer.
//!
//!     file_server FILE sendfile|copy

use std::{
    io::{Read as _, Write as _},
    net::{TcpListener, TcpStream},
    os::fd::AsRawFd as _,
};

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (path, mode) = match args.as_slice() {
        [_, p, m] => (p.clone(), m.clone()),
        _ => {
            eprintln!("usage: file_server FILE sendfile|copy");
            std::process::exit(2);
        }
    };
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let receiver = std::thread::spawn(move || -> std::io::Result<u64> {
        let mut c = TcpStream::connect(addr)?;
        let mut buf = vec![0u8; 1 << 20];
        let mut got = 0u64;
        loop {
            let n = c.read(&mut buf)?;
            if n == 0 {
                return Ok(got);
            }
            got += n as u64;
        }
    });
    let (mut conn, _) = listener.accept()?;
    let mut file = std::fs::File::open(&path)?;
    let size = file.metadata()?.len();
    if mode == "sendfile" {
        let mut off: libc::off_t = 0;
        while (off as u64) < size {
            // SAFETY: valid descriptors and offset.
            let n = unsafe {
                libc::sendfile(
                    conn.as_raw_fd(),
                    file.as_raw_fd(),
                    &mut off,
                    (size - off as u64) as usize,
                )
            };
            if n <= 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
    } else {
        let mut buf = vec![0u8; 64 << 10];
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            conn.write_all(&buf[..n])?;
        }
    }
    drop(conn);
    let got = receiver.join().expect("receiver")?;
    assert_eq!(got, size, "received {got} of {size}");
    Ok(())
}
