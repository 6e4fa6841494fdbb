//! The demo file, page by page: which of its pages each step touched, and
//! how.
//!
//! The kernel names a page-cache page by its file and its index (`folio->
//! mapping`, `folio->index`); tracepoints report index ranges for what they
//! do to a file: `mm_filemap_add_to_page_cache` (a page filled from disk),
//! `mm_filemap_get_pages` (the pages a read or a splice takes from the
//! cache), `mm_filemap_map_pages` (pages mapped into a process). An skb frag
//! points at a `struct page`, and the frag walk at the device turns it back
//! into (file, index): when the frag *is* page 17 of the file, the device
//! sends the page cache's own page, and that is zero copy proven page by
//! page, not inferred from byte totals.
//!
//! Where the evidence gives no index, no page is claimed: a write from an
//! mmap'ed file copies pages whose indices no event carries, and the user
//! pages a vmsplice lends or a zero-copy send pins are the sender's own
//! buffer, which holds whatever file pages the read before it copied there.
//! Those buffer pages are followed through the buffer (`StepPages` of the
//! read that filled it), which is what the loop does: read a chunk, then
//! send that chunk.

use super::{Movement, PAGE_SIZE, Place};

/// How a step touched a page of the file, from weakest to strongest: a
/// cell of the page map shows the strongest touch it has had.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Touch {
    /// Read from disk into the page cache (DMA).
    Disk,
    /// Referenced by a pipe or a socket buffer (not yet at the device).
    Referenced,
    /// Mapped into the sender's address space.
    Mapped,
    /// Its bytes copied by the CPU.
    Copied,
    /// Its bytes copied into a buffer that a zero-copy send pinned.
    Pinned,
    /// The page itself is an skb frag at the device.
    AtDevice,
    /// Read by the NIC's DMA engine, straight from the page cache.
    NicDma,
}

impl Touch {
    pub const ALL: [Touch; 7] = [
        Touch::Disk,
        Touch::Referenced,
        Touch::Mapped,
        Touch::Copied,
        Touch::Pinned,
        Touch::AtDevice,
        Touch::NicDma,
    ];

    fn bit(self) -> u8 {
        1 << self as u8
    }

    /// The touch a movement makes on the file pages it carries, if any (the
    /// receiver's copy and the software transmit carry no file page).
    pub fn of(movement: Movement, from: Place, to: Place) -> Option<Touch> {
        Some(match (movement, from, to) {
            (Movement::Dma, _, Place::Nic) => Touch::NicDma,
            (Movement::Dma, _, _) => Touch::Disk,
            (Movement::Mapping, _, _) => Touch::Mapped,
            (Movement::Pin, _, _) => Touch::Pinned,
            (Movement::CpuCopy, _, Place::Receiver | Place::Peer) => return None,
            (Movement::CpuCopy, _, _) => Touch::Copied,
            (Movement::Reference, _, Place::Nic) => Touch::AtDevice,
            (Movement::Reference, _, _) => Touch::Referenced,
            (Movement::SoftwareTransmit, _, _) => return None,
            // No probe sees which pages kernel TLS read: its steps name none.
            (Movement::Cipher, _, _) => return None,
        })
    }
}

/// One page a step touched; `frag` is the skb frag that *is* this page,
/// when the step is the device taking an skb.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRef {
    pub page: u32,
    pub frag: Option<u8>,
}

/// The pages a step touched, in the order the evidence gave them.
pub type StepPages = Vec<PageRef>;

/// Pages of the largest file zc sends (4 GiB): no range is longer.
const MAX_PAGES: u64 = 1 << 20;

/// Pages `first..=last`, without frags.
pub fn range(first: u64, last: u64) -> StepPages {
    // A range from a corrupt trace cannot make a list longer than a file.
    let last = last.min(first.saturating_add(MAX_PAGES - 1));
    (first..=last)
        .filter_map(|p| u32::try_from(p).ok())
        .map(|page| PageRef { page, frag: None })
        .collect()
}

/// Pages waiting in a buffer, a pipe or a queue of skbs, oldest first,
/// followed byte by byte: bytes taken from the front come from its first
/// page until 4 KiB of it are used. The loops move the file in order, so
/// what leaves a buffer first is what entered it first.
#[derive(Clone, Debug, Default)]
pub struct PageQueue {
    pages: std::collections::VecDeque<u32>,
    /// Bytes of the front page already taken.
    used: u64,
}

impl PageQueue {
    /// Adds pages at the back. A page already at the back is not added
    /// twice: consecutive skbs share the page their boundary falls in.
    pub fn push(&mut self, pages: &[PageRef]) {
        for p in pages {
            if self.pages.back() != Some(&p.page) {
                self.pages.push_back(p.page);
            }
        }
    }

    /// The pages the next `bytes` come from.
    pub fn take(&mut self, bytes: u64) -> StepPages {
        let mut out = Vec::new();
        let mut left = bytes;
        while left > 0 {
            let Some(&page) = self.pages.front() else {
                break;
            };
            out.push(PageRef { page, frag: None });
            let room = PAGE_SIZE - self.used;
            if left >= room {
                self.pages.pop_front();
                self.used = 0;
                left -= room;
            } else {
                self.used += left;
                left = 0;
            }
        }
        out
    }
}

/// How many of the file's pages had each touch in a run (the report's
/// `pages` object).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct PageCounts {
    /// Pages of the file (4 KiB each, the last one maybe partial).
    pub file_pages: usize,
    pub read_from_disk: usize,
    pub referenced: usize,
    pub mapped: usize,
    pub copied: usize,
    pub copy_pinned: usize,
    /// Pages the device sent as skb frags: the page cache's own pages.
    pub skb_frag_at_device: usize,
    /// Pages no event named.
    pub untouched: usize,
    /// Of those, as many as the page cache's probe runs the kernel skipped
    /// could have named (each names at most a chunk's pages): not seen,
    /// rather than untouched. 0 when no such run was skipped.
    pub unnamed_in_skipped_runs: usize,
    /// Whether the page cache's tracepoints named any page of the file in
    /// the run. When they named none although the file's bytes went out,
    /// the file system's reads pass none of them (tmpfs: shmem reads its
    /// pages its own way), and `untouched` counts pages that were not
    /// seen, not pages nothing touched.
    pub page_cache_seen: bool,
    /// Where the loop mapped the file and looked at its page tables:
    /// `mapped` counts the pages they held, and this says how the
    /// tracepoints' mapped pages differ. Absent otherwise: `mapped` is
    /// then the tracepoints' alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mapped_check: Option<MappedCheck>,
}

/// The mapped pages of a run by two sources: the page tables of the
/// sender's mapping as its loop ended (`/proc/self/pagemap`), and the
/// tracepoints (`mm_filemap_map_pages`' windows, `mm_filemap_fault`'s page).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct MappedCheck {
    /// Pages the page tables held.
    pub resident: usize,
    /// Pages a tracepoint named that the page tables did not hold: a
    /// fault-around window names its whole range, and maps only the pages
    /// already in the cache and up to date.
    pub named_not_mapped: usize,
    /// Pages the page tables held that no tracepoint named: a fault that
    /// `->fault` served names one page, then `finish_fault` maps its whole
    /// folio, or a PMD, with no event.
    pub mapped_unnamed: usize,
}

/// The file pages of the skbs TCP queued for the device, skb by skb, with
/// the file bytes each holds. The device takes them in order: whole, by
/// reference (gather), or copied into linear segments. Bytes are counted
/// per skb (its measured file bytes), so a retransmitted skb that starts
/// inside a page cannot shift the ones after it.
#[derive(Clone, Debug, Default)]
pub struct SkbQueue {
    /// (skb, its file pages, its file bytes), oldest first.
    skbs: std::collections::VecDeque<(u64, StepPages, u64)>,
    /// Bytes of the front skb already taken.
    used: u64,
}

impl SkbQueue {
    pub fn push(&mut self, skb: u64, pages: StepPages, bytes: u64) {
        if bytes > 0 {
            self.skbs.push_back((skb, pages, bytes));
        }
    }

    /// An skb dropped whole before the device (a qdisc's drop): its pages
    /// never reach it.
    pub fn dropped(&mut self, skb: u64) {
        if let Some(i) = self.skbs.iter().position(|(s, ..)| *s == skb) {
            if i == 0 {
                self.used = 0;
            }
            self.skbs.remove(i);
        }
    }

    /// The pages the next `bytes` come from: in each skb they touch, the
    /// share of its pages that matches the share of its bytes.
    pub fn take(&mut self, bytes: u64) -> StepPages {
        let mut out = Vec::new();
        let mut left = bytes;
        while left > 0 {
            let Some((_, pages, total)) = self.skbs.front() else {
                break;
            };
            let (total, n) = (*total, pages.len() as u64);
            let part = left.min(total - self.used);
            if n > 0 {
                let first = self.used * n / total;
                let last = ((self.used + part - 1) * n / total).min(n - 1);
                out.extend(
                    pages[first as usize..=last as usize]
                        .iter()
                        .map(|p| PageRef { frag: None, ..*p }),
                );
            }
            self.used += part;
            left -= part;
            if self.used >= total {
                self.skbs.pop_front();
                self.used = 0;
            }
        }
        out
    }
}

/// Every page of the file and the touches it has had so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PageMap {
    marks: Vec<u8>,
}

impl PageMap {
    /// The map of a file of `file_bytes`, untouched.
    pub fn new(file_bytes: u64) -> PageMap {
        PageMap {
            marks: vec![0; file_bytes.div_ceil(PAGE_SIZE) as usize],
        }
    }

    pub fn pages(&self) -> usize {
        self.marks.len()
    }

    /// Marks `pages` with `touch`; pages beyond the file are ignored.
    pub fn mark(&mut self, pages: &[PageRef], touch: Touch) {
        for p in pages {
            if let Some(m) = self.marks.get_mut(p.page as usize) {
                *m |= touch.bit();
            }
        }
    }

    /// Takes the mapped pages from the page tables (`resident`, ranges of
    /// page indices), and says how the pages the events named differ.
    pub fn mapped_from_page_tables(&mut self, resident: &[(u32, u32)]) -> MappedCheck {
        let n = self.marks.len();
        let mut held = vec![false; n];
        for &(start, end) in resident {
            let (start, end) = ((start as usize).min(n), (end as usize).min(n));
            held[start..end.max(start)]
                .iter_mut()
                .for_each(|h| *h = true);
        }
        let bit = Touch::Mapped.bit();
        let mut check = MappedCheck::default();
        for (m, held) in self.marks.iter_mut().zip(held) {
            let named = *m & bit != 0;
            match (named, held) {
                (true, false) => check.named_not_mapped += 1,
                (false, true) => check.mapped_unnamed += 1,
                _ => {}
            }
            if held {
                check.resident += 1;
                *m |= bit;
            } else {
                *m &= !bit;
            }
        }
        check
    }

    /// Whether page `page` has had `touch`.
    pub fn has(&self, page: usize, touch: Touch) -> bool {
        self.marks.get(page).is_some_and(|m| m & touch.bit() != 0)
    }

    /// The strongest touch page `page` has had.
    pub fn strongest(&self, page: usize) -> Option<Touch> {
        Touch::ALL
            .iter()
            .rev()
            .copied()
            .find(|t| self.has(page, *t))
    }

    /// The strongest touch of any page in `pages` (a cell of a large file
    /// stands for a group of pages).
    pub fn strongest_in(&self, pages: std::ops::Range<usize>) -> Option<Touch> {
        pages.filter_map(|p| self.strongest(p)).max()
    }

    /// The counts of each touch.
    pub fn counts(&self) -> PageCounts {
        PageCounts {
            file_pages: self.pages(),
            read_from_disk: self.count(Touch::Disk),
            referenced: self.count(Touch::Referenced),
            mapped: self.count(Touch::Mapped),
            copied: self.count(Touch::Copied),
            copy_pinned: self.count(Touch::Pinned),
            skb_frag_at_device: self.count(Touch::AtDevice),
            untouched: self.marks.iter().filter(|m| **m == 0).count(),
            unnamed_in_skipped_runs: 0,
            page_cache_seen: true,
            mapped_check: None,
        }
    }

    /// How many pages have had `touch`.
    pub fn count(&self, touch: Touch) -> usize {
        (0..self.marks.len())
            .filter(|&p| self.has(p, touch))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A window that named pages 0-15 of which the cache held 0-11, and a
    /// fault that named page 32 and mapped its 16-page folio: the page
    /// tables' pages stand, and each difference is itemized.
    #[test]
    fn the_page_tables_correct_what_the_windows_and_faults_named() {
        let mut map = PageMap::new(64 * PAGE_SIZE);
        map.mark(&range(0, 15), Touch::Mapped);
        map.mark(&range(32, 32), Touch::Mapped);
        map.mark(&range(0, 63), Touch::Copied);
        let check = map.mapped_from_page_tables(&[(0, 12), (32, 48)]);
        assert_eq!(
            check,
            MappedCheck {
                resident: 28,
                named_not_mapped: 4,
                mapped_unnamed: 15,
            }
        );
        assert_eq!(map.count(Touch::Mapped), 28);
        assert!(map.has(40, Touch::Mapped) && !map.has(13, Touch::Mapped));
        // Other touches stay.
        assert_eq!(map.count(Touch::Copied), 64);
        // A range past the file, as a corrupt trace could give, is cut.
        let mut map = PageMap::new(4 * PAGE_SIZE);
        assert_eq!(
            map.mapped_from_page_tables(&[(2, u32::MAX), (9, 3)])
                .resident,
            2
        );
    }

    #[test]
    fn a_page_shows_its_strongest_touch() {
        let mut m = PageMap::new(3 * PAGE_SIZE + 1);
        assert_eq!(m.pages(), 4);
        m.mark(&range(0, 1), Touch::Disk);
        m.mark(&range(1, 1), Touch::AtDevice);
        m.mark(&range(1, 2), Touch::Copied);
        assert_eq!(m.strongest(0), Some(Touch::Disk));
        assert_eq!(m.strongest(1), Some(Touch::AtDevice));
        assert_eq!(m.strongest(2), Some(Touch::Copied));
        assert_eq!(m.strongest(3), None);
        assert_eq!(m.strongest_in(0..4), Some(Touch::AtDevice));
        assert_eq!(m.count(Touch::Copied), 2);
    }

    #[test]
    fn a_queue_gives_pages_in_order_byte_by_byte() {
        let mut q = PageQueue::default();
        q.push(&range(7, 9));
        let pages = |v: StepPages| v.iter().map(|p| p.page).collect::<Vec<_>>();
        assert_eq!(pages(q.take(1448)), vec![7]);
        assert_eq!(pages(q.take(4096)), vec![7, 8]);
        assert_eq!(pages(q.take(8192)), vec![8, 9]);
        assert!(q.take(1).is_empty());
    }

    #[test]
    fn queued_skbs_give_their_pages_in_step_with_their_bytes() {
        let mut q = SkbQueue::default();
        q.push(1, range(0, 3), 4 * 4096);
        q.push(2, range(3, 4), 6000); // starts inside page 3
        q.push(3, range(9, 9), 100);
        q.dropped(3); // dropped whole by a qdisc: never at the device
        let pages = |v: StepPages| v.iter().map(|p| p.page).collect::<Vec<_>>();
        assert_eq!(pages(q.take(4096)), vec![0]);
        assert_eq!(pages(q.take(3 * 4096)), vec![1, 2, 3]);
        assert_eq!(pages(q.take(6000)), vec![3, 4]);
        assert!(q.take(1).is_empty(), "every byte taken: the queue is empty");
    }

    #[test]
    fn pages_beyond_the_file_are_ignored() {
        let mut m = PageMap::new(PAGE_SIZE);
        m.mark(&range(0, 15), Touch::Copied);
        assert_eq!(m.count(Touch::Copied), 1);
    }

    #[test]
    fn movements_touch_pages_as_the_article_says() {
        use Movement as M;
        use Place as P;
        assert_eq!(Touch::of(M::Dma, P::Disk, P::PageCache), Some(Touch::Disk));
        assert_eq!(
            Touch::of(M::CpuCopy, P::PageCache, P::UserBuffer),
            Some(Touch::Copied)
        );
        assert_eq!(
            Touch::of(M::Reference, P::PageCache, P::Nic),
            Some(Touch::AtDevice)
        );
        assert_eq!(
            Touch::of(M::Reference, P::PageCache, P::Pipe),
            Some(Touch::Referenced)
        );
        assert_eq!(Touch::of(M::CpuCopy, P::SocketBuffer, P::Receiver), None);
        assert_eq!(
            Touch::of(M::SoftwareTransmit, P::SocketBuffer, P::Nic),
            None
        );
    }
}
