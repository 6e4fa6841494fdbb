//! Which pages of a file mapping the process's page tables hold:
//! `/proc/self/pagemap`, one 64-bit entry per virtual page, whose bit 63
//! says the page is present.
//!
//! The page-cache tracepoints say which pages a fault mapped only in part.
//! `mm_filemap_map_pages` names its whole fault-around window, though it
//! maps only the pages that were in the cache, up to date, unlocked and
//! not marked for readahead, and a window whose first folio a PMD can map
//! returns before it; a fault that
//! `->fault` served names one page, and `finish_fault` may then map its
//! whole folio, or a PMD, with no event (mm/filemap.c, mm/memory.c). The
//! page tables are the second source: a loop that maps the file looks at
//! them once, before it unmaps, and the page map takes the mapped pages
//! from them.
//!
//! The look is made with the tracer paused (the kernel's pause flag, as a
//! stepped run waits): its open, read and close, and the faults of its
//! buffer, are zc's, not the strategy's, and no probe counts them.

use std::{cell::RefCell, os::unix::fs::FileExt as _, sync::Arc};

use super::gate::Pause;

/// Pages as ranges of page indices, `start..end`.
pub type PageRanges = Vec<(u32, u32)>;

thread_local! {
    /// The tracer's pause flag for this thread's run (None untraced).
    static PAUSE: RefCell<Option<Arc<dyn Pause>>> = const { RefCell::new(None) };
    /// The last look's result, until the runner takes it.
    static RESIDENT: RefCell<Option<PageRanges>> = const { RefCell::new(None) };
}

/// Runs `f` (a send loop) with `pause` as the flag its looks raise.
pub fn with_pause<R>(pause: Option<Arc<dyn Pause>>, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Arc<dyn Pause>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            PAUSE.with(|p| *p.borrow_mut() = self.0.take());
        }
    }
    let _restore = Restore(PAUSE.with(|p| p.replace(pause)));
    f()
}

/// Looks, untraced, at which pages of the mapping `[addr, addr + len)`
/// (a file mapped from its offset 0) the page tables hold now, and keeps
/// them for [`take`]. A look that fails keeps nothing: the page map then
/// names the mapped pages by the tracepoints alone, and says so.
pub fn note(addr: *const u8, len: usize) {
    let pause = PAUSE.with(|p| p.borrow().clone());
    if let Some(p) = &pause {
        p.set(true);
    }
    // Every allocation and free of the look happens while paused.
    let found = look(addr as usize, len).ok();
    RESIDENT.with(|r| *r.borrow_mut() = found);
    if let Some(p) = &pause {
        p.set(false);
    }
}

/// The last look's pages, if a look was made since the last take.
pub fn take() -> Option<PageRanges> {
    RESIDENT.with(|r| r.borrow_mut().take())
}

/// Bit 63 of a pagemap entry: the page is present.
const PRESENT: u64 = 1 << 63;

fn look(addr: usize, len: usize) -> std::io::Result<PageRanges> {
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as usize;
    let pages = len.div_ceil(page);
    let mut raw = vec![0u8; pages * 8];
    let f = std::fs::File::open("/proc/self/pagemap")?;
    f.read_exact_at(&mut raw, (addr / page * 8) as u64)?;
    Ok(ranges(raw.chunks_exact(8).map(|e| {
        u64::from_le_bytes(e.try_into().expect("8 bytes")) & PRESENT != 0
    })))
}

/// The indices of the `true`s, as ranges.
pub fn ranges(present: impl IntoIterator<Item = bool>) -> PageRanges {
    let mut out: PageRanges = Vec::new();
    for (i, p) in present.into_iter().enumerate() {
        let Ok(i) = u32::try_from(i) else { break };
        if !p {
            continue;
        }
        match out.last_mut() {
            Some((_, end)) if *end == i => *end = i + 1,
            _ => out.push((i, i + 1)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn present_pages_become_ranges() {
        let p = [true, true, false, true, false, false, true, true, true];
        assert_eq!(ranges(p), vec![(0, 2), (3, 4), (6, 9)]);
        assert_eq!(ranges([false; 4]), vec![]);
    }

    /// The look itself, on memory of this test: pages touched are present,
    /// pages never touched are not.
    #[test]
    fn a_look_at_fresh_memory_sees_only_the_touched_pages() {
        let page = 4096;
        // SAFETY: a new private anonymous mapping, unmapped below.
        let addr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                8 * page,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(addr, libc::MAP_FAILED);
        let base = addr.cast::<u8>();
        for i in [1, 2, 5] {
            // SAFETY: inside the mapping made above.
            unsafe { base.add(i * page).write_volatile(1) };
        }
        note(base, 8 * page);
        let seen = take();
        // SAFETY: the mapping made above.
        unsafe { libc::munmap(addr, 8 * page) };
        assert_eq!(seen, Some(vec![(1, 3), (5, 6)]));
        assert_eq!(take(), None, "taken once");
    }
}
