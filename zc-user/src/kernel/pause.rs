//! The pause flag of a stepped run, shared with the kernel by memory.
//!
//! A BPF array created with `BPF_F_MMAPABLE` can be mapped into a process:
//! a store to the mapping *is* the map's value, seen by the programs at
//! once, and it takes no syscall. That is what stepping needs. The sender
//! thread raises the flag before it waits for the next key press and lowers
//! it after, and while it is raised the programs ignore the sender (see
//! `gated()` in zc-ebpf): the futex calls and the sleep of the wait are not
//! traced, so a stepped run counts exactly what an unstepped one does.

use std::{
    os::fd::{AsFd as _, AsRawFd as _},
    ptr::NonNull,
    sync::atomic::{AtomicU64, Ordering},
};

use anyhow::{Context as _, anyhow};
use aya::maps::{Map, MapData};

/// The mapped flag; unmapped when dropped.
pub struct PauseFlag {
    flag: NonNull<AtomicU64>,
    len: usize,
    /// Held so the map lives as long as the mapping.
    _map: MapData,
}

// SAFETY: the mapping is shared memory that only atomics touch; it stays
// mapped until Drop, which needs `&mut self`.
unsafe impl Send for PauseFlag {}
// SAFETY: as above: every access is an atomic operation.
unsafe impl Sync for PauseFlag {}

impl PauseFlag {
    /// Maps the one-value array `map` (created `BPF_F_MMAPABLE`).
    pub fn open(map: Map) -> anyhow::Result<PauseFlag> {
        let Map::Array(data) = map else {
            return Err(anyhow!("the gate map is not an array"));
        };
        // SAFETY: sysconf has no preconditions.
        let len = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as usize;
        // SAFETY: a new shared mapping of the map's fd; the kernel checks
        // that the map allows it (BPF_F_MMAPABLE) and its size.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                data.fd().as_fd().as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error())
                .context("map the stepping gate's flag (BPF_F_MMAPABLE)");
        }
        let flag = NonNull::new(ptr.cast::<AtomicU64>()).context("mmap returned null")?;
        let me = PauseFlag {
            flag,
            len,
            _map: data,
        };
        me.set(false);
        Ok(me)
    }

    fn flag(&self) -> &AtomicU64 {
        // SAFETY: the mapping is page-aligned, at least 8 bytes, and lives
        // as long as `self`.
        unsafe { self.flag.as_ref() }
    }

    /// Raises (the sender waits: not traced) or lowers the flag.
    pub fn set(&self, paused: bool) {
        self.flag().store(paused as u64, Ordering::SeqCst);
    }

    pub fn is_set(&self) -> bool {
        self.flag().load(Ordering::SeqCst) != 0
    }
}

impl crate::strategy::gate::Pause for PauseFlag {
    fn set(&self, paused: bool) {
        PauseFlag::set(self, paused);
    }
}

impl Drop for PauseFlag {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `open`, unmapped once.
        unsafe { libc::munmap(self.flag.as_ptr().cast(), self.len) };
    }
}
