//! Figure 2 of the article: `buf = mmap(file, len); write(sock, buf, len);`.
//!
//! The page cache is mapped into the program, not copied: the first touch of
//! each page faults (here inside write()'s own copy, so the faults are
//! `page_fault_kernel`), and fault-around maps a window of pages at a time.
//! write() still copies mapping → TCP's pages: one CPU copy per buffer.
//!
//! If another process truncated the file while it is mapped, touching the
//! mapping would raise SIGBUS: the article's warning. zc's own file has no
//! name, so nobody else can truncate it.

use std::os::fd::AsRawFd;

use super::{Buffer, Expect, ModelRow, Spec, Transfer, arrow, io, resident};
use crate::{
    lang::T,
    place::{Movement, Place},
};

pub const SPEC: Spec = Spec {
    name: "mmap-write",

    title: T {
        en: "mmap + write",
        zh: "mmap + write（一次 CPU 拷贝）",
    },
    help: "mmap the file, write(sock, mapping): one CPU copy, plus page faults",
    model: Some(ModelRow {
        source: "the article (Linux Journal, \"Zero Copy I\"), figure 2",
        code: "buf = mmap(file, len); write(sock, buf, len);",
        syscalls: 2,
        mode_switches: 4,
        dma_copies: 2,
        cpu_copies: 1,
    }),
    calls_per_iteration: 1,
    setup_calls: 1,
    teardown_calls: 1,
    sender_sg: true,
    buffer: Buffer::Reused,
    requires: &[],
    user_place: Place::Mapping,
    nodes: &[
        Place::Disk,
        Place::PageCache,
        Place::Mapping,
        Place::SocketBuffer,
        Place::Nic,
    ],
    path: &[
        arrow(Place::PageCache, Movement::Mapping, Place::Mapping),
        arrow(Place::Mapping, Movement::CpuCopy, Place::SocketBuffer),
        arrow(Place::SocketBuffer, Movement::SoftwareTransmit, Place::Nic),
    ],
    calls: &["mmap", "write", "munmap"],
    requests: &[],
    story: T {
        en: "the page cache is mapped into the program; write() copies it once",
        zh: "页缓存被映射进程序；write() 只拷贝一次",
    },
    expect: Expect {
        copies_per_byte: 1,
        pages_sent_as_frags: false,
        pages_copied: true,
        copies_pinned: false,
    },
    connect: None,
    send,
};

fn send(t: &mut Transfer<'_>) -> anyhow::Result<u64> {
    let len = t.size as usize;
    io::gate();
    // SAFETY: a new read-only shared mapping of the file; it is only read
    // within [0, len) and unmapped before returning.
    let addr = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ,
            libc::MAP_SHARED,
            t.file.as_raw_fd(),
            0,
        )
    };
    if addr == libc::MAP_FAILED {
        return Err(io::last_error("mmap the file"));
    }
    // SAFETY: the mapping is `len` bytes long and readable (see above).
    let mapped = unsafe { std::slice::from_raw_parts(addr.cast::<u8>(), len) };
    let mut result = Ok(0u64);
    let mut off = 0usize;
    while off < len {
        io::iteration();
        let end = (off + t.chunk as usize).min(len);
        if let Err(e) = io::write_all(t.sock, &mapped[off..end]) {
            result = Err(e);
            break;
        }
        off = end;
        result = Ok(off as u64);
    }
    // Which pages the faults mapped, as the page tables say: the second
    // source of the page map's "mapped" (see `resident`).
    resident::note(addr.cast::<u8>(), len);
    io::gate();
    // SAFETY: unmaps exactly the mapping made above; `mapped` is not used after.
    if unsafe { libc::munmap(addr, len) } != 0 && result.is_ok() {
        return Err(io::last_error("munmap the file"));
    }
    result
}
