//! The TCP stream, by sequence ranges.
//!
//! TCP numbers every byte it sends. A segment's header carries the number
//! of its first payload byte, and before the first send the socket's
//! `write_seq` is the number of the stream's first byte. So an skb is not
//! just "n bytes": it is the bytes `[seq − start, seq − start + n)` of the
//! file (the decoder gives each skb that offset, `at`), and a run's skbs
//! can be laid side by side over it. That check is
//! stronger than sums, where a byte sent twice can hide a byte never sent.
//!
//! Every skb seen at the device's queue holds, first, the bytes no earlier
//! skb held (their first transmission); the rest it holds again, either as
//! a retransmission (TCP's `tcp_retransmit_skb` named that very range) or
//! as new data once more: TCP was told a transmit failed, its send head did
//! not move, and it sent the same bytes as if for the first time.
//!
//! A drop is classified by what TCP was told, read from what TCP did: the
//! attempt that carried it was a retransmission that returned an error
//! (TCP saw it fail), or its bytes went next as new data (TCP was told the
//! transmit failed, and its send head never moved): failed. Its bytes went
//! next as a retransmission of an attempt that did not fail: lost, after
//! TCP was told they left. A drop event that repeats one still unanswered
//! (the same skb and range, not queued again since) is the same drop seen
//! twice and is counted once.

use std::collections::{BTreeMap, HashMap, VecDeque};

use serde::Serialize;
use zc_common::event::op;

use crate::decode::Event;

/// How many holes a check lists by position (the bytes count them all).
const HOLES_LISTED: usize = 8;

/// Disjoint, non-touching ranges `[start, end)` of the stream.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ranges(BTreeMap<u64, u64>);

impl Ranges {
    /// Adds `[s, e)`; returns how many of its bytes were not held before.
    pub fn insert(&mut self, s: u64, e: u64) -> u64 {
        if s >= e {
            return 0;
        }
        let (mut lo, mut hi) = (s, e);
        let mut before = 0;
        // The range that starts at or before `s` and reaches it.
        if let Some((&a, &b)) = self.0.range(..=s).next_back()
            && b >= s
        {
            lo = a;
            hi = hi.max(b);
            before += b.min(e).saturating_sub(s);
            self.0.remove(&a);
        }
        // Ranges that start inside `(s, e]`.
        let inside: Vec<(u64, u64)> = self.0.range(s..=e).map(|(&a, &b)| (a, b)).collect();
        for (a, b) in inside {
            before += b.min(e).saturating_sub(a);
            hi = hi.max(b);
            self.0.remove(&a);
        }
        self.0.insert(lo, hi);
        (e - s) - before
    }

    /// Bytes of `[s, e)` held.
    pub fn covered(&self, s: u64, e: u64) -> u64 {
        if s >= e {
            return 0;
        }
        let first = self
            .0
            .range(..=s)
            .next_back()
            .map_or(0, |(&a, &b)| b.min(e).saturating_sub(s.max(a)));
        first
            + self
                .0
                .range(s + 1..e)
                .map(|(&a, &b)| b.min(e) - a)
                .sum::<u64>()
    }

    /// Takes `[s, e)` out; returns how many bytes of it were held.
    pub fn remove(&mut self, s: u64, e: u64) -> u64 {
        let held = self.covered(s, e);
        if held == 0 {
            return 0;
        }
        let touched: Vec<(u64, u64)> = self
            .0
            .range(..e)
            .rev()
            .take_while(|(_, b)| **b > s)
            .map(|(&a, &b)| (a, b))
            .collect();
        for (a, b) in touched {
            self.0.remove(&a);
            if a < s {
                self.0.insert(a, s);
            }
            if b > e {
                self.0.insert(e, b);
            }
        }
        held
    }

    /// The ranges held, in order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.0.iter().map(|(&a, &b)| (a, b))
    }

    /// Bytes held in all.
    pub fn total(&self) -> u64 {
        self.0.iter().map(|(a, b)| b - a).sum()
    }

    /// The parts of `[s, e)` not held, in order.
    pub fn gaps(&self, s: u64, e: u64) -> Vec<[u64; 2]> {
        let mut out = Vec::new();
        let mut at = s;
        let first = self.0.range(..=s).next_back().map(|(&a, &b)| (a, b));
        for (a, b) in first
            .into_iter()
            .chain(self.0.range(s + 1..e).map(|(&a, &b)| (a, b)))
        {
            if a > at {
                out.push([at, a.min(e)]);
            }
            at = at.max(b);
        }
        if at < e {
            out.push([at, e]);
        }
        out
    }
}

/// The stream check of one run: where each byte of the file went, by its
/// place in the stream.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StreamCheck {
    /// Bytes of the file some skb held at the queue (`net_dev_queue`).
    pub queued_bytes: u64,
    /// Bytes of the file no skb seen at the queue held, and the first of
    /// those ranges (offsets in the file).
    pub queue_hole_bytes: u64,
    pub queue_holes: Vec<[u64; 2]>,
    /// The same at the device (`net_dev_xmit`, rc 0).
    pub device_hole_bytes: u64,
    pub device_holes: Vec<[u64; 2]>,
    /// Payload of skbs at the queue that TCP named as retransmissions.
    pub retransmitted_bytes: u64,
    /// Bytes queued again that were no retransmission: TCP sent them as new
    /// data once more, after it was told a transmit failed.
    pub resent_bytes: u64,
    /// Payload dropped on the way (each drop once).
    pub dropped_bytes: u64,
    /// Of it: lost after TCP was told it left (the attempt that carried it
    /// went out as far as TCP knew, and TCP retransmitted the bytes later).
    pub dropped_lost_bytes: u64,
    /// Of it: in an attempt that failed and TCP was told (it sent the bytes
    /// again as new data, or a retransmission that failed went again).
    pub dropped_failed_bytes: u64,
    /// Of it: sent again by no skb zc saw, though another skb had carried
    /// them to the device: TCP had no need of them (a spurious
    /// retransmission's copy, say).
    pub dropped_spare_bytes: u64,
    /// Of it: sent again by no skb zc saw, and never at the device (these
    /// are device holes too).
    pub dropped_unrepaired_bytes: u64,
    /// Drop events that repeated one still unanswered, counted once.
    pub repeated_drop_events: u64,
    /// Payload outside the file's range (other than its end's FIN).
    pub beyond_bytes: u64,
}

/// A drop not yet answered by TCP sending its bytes again.
struct Pending {
    skb: u64,
    start: u64,
    end: u64,
    /// TCP saw the attempt that carried it fail.
    failed: bool,
    left: Ranges,
}

/// An skb seen at the queue: the bytes it held, and whether it was a
/// retransmission that TCP saw fail.
struct Attempt {
    start: u64,
    end: u64,
    failed: bool,
}

/// Attempts kept to find the one that carried a drop: a drop follows its
/// attempt within the queues of this host, far fewer skbs than this.
const ATTEMPTS_KEPT: usize = 4096;

/// Turns sequence numbers into stream offsets, across the 32-bit wrap: each
/// is read as the nearest offset to the highest one seen so far.
struct Unwrap {
    start: u32,
    hi: u64,
    size: u64,
}

impl Unwrap {
    fn offset(&mut self, seq: u32) -> Option<u64> {
        let near = self.start.wrapping_add(self.hi as u32);
        let off = self.hi as i64 + i64::from(seq.wrapping_sub(near) as i32);
        let off = u64::try_from(off).ok()?;
        if off <= self.size {
            self.hi = self.hi.max(off);
        }
        Some(off)
    }
}

/// The first retransmission named at or after `t` (the ones before it
/// belonged to attempts no probe saw at the queue), taken.
fn next_after(named: &mut VecDeque<(u64, bool)>, t: u64) -> Option<bool> {
    while let Some(&(at, failed)) = named.front() {
        named.pop_front();
        if at >= t {
            return Some(failed);
        }
    }
    None
}

/// One skb event, placed in the stream.
struct Placed {
    t: u64,
    op: u16,
    skb: u64,
    off: u64,
    len: u64,
    /// A retransmission whose attempt returned an error.
    failed: bool,
}

/// The check of a run of `size` bytes from its events in time order, each
/// skb placed by its offset in the stream. Meaningful only when no event
/// was lost (the caller's to say).
pub fn check(events: &[Event], size: u64) -> StreamCheck {
    check_from(events, size, 0)
}

/// The same, with offsets counted from `start` (32-bit, wrapping, like the
/// sequence numbers they come from).
fn check_from(events: &[Event], size: u64, start: u32) -> StreamCheck {
    let mut unwrap = Unwrap { start, hi: 0, size };
    let mut skbs = Vec::new();
    for e in events {
        // (what the event is, the skb, its offset, its payload, failed)
        let (op, t, skb, at, payload, failed) = match *e {
            Event::Skb {
                t,
                queue,
                skb,
                payload,
                at,
                ..
            } => (
                if queue { op::SKB_QUEUE } else { op::SKB_XMIT },
                t,
                skb,
                at,
                payload,
                false,
            ),
            Event::Drop {
                t,
                skb,
                payload,
                lost,
                at,
                ..
            } => (
                if lost { op::SKB_LOST } else { op::SKB_DROP },
                t,
                skb,
                at,
                payload,
                false,
            ),
            Event::Retransmit {
                t,
                skb,
                payload,
                at,
                failed,
            } => (op::SKB_RETRANSMIT, t, skb, at, payload, failed),
            _ => continue,
        };
        if let Some(off) = at.and_then(|at| unwrap.offset(at)) {
            skbs.push(Placed {
                t,
                op,
                skb,
                off,
                len: u64::from(payload),
                failed,
            });
        }
    }
    // What TCP named as retransmissions, by range, in order, with whether
    // each attempt failed. The event comes after the attempt passed the
    // queue (the tracepoint ends `__tcp_retransmit_skb`), so all are
    // gathered first.
    let mut retransmissions: HashMap<(u64, u64), VecDeque<(u64, bool)>> = HashMap::new();
    for p in skbs.iter().filter(|p| p.op == op::SKB_RETRANSMIT) {
        retransmissions
            .entry((p.off, p.len))
            .or_default()
            .push_back((p.t, p.failed));
    }
    let mut out = StreamCheck::default();
    let mut queued = Ranges::default();
    let mut device = Ranges::default();
    let mut pending: Vec<Pending> = Vec::new();
    let mut attempts: VecDeque<Attempt> = VecDeque::new();
    for p in skbs {
        let (s, e) = (p.off.min(size), (p.off + p.len).min(size));
        match p.op {
            op::SKB_QUEUE => {
                out.beyond_bytes += p.len - (e - s);
                let new = queued.insert(s, e);
                let again = (e - s) - new;
                // A retransmission holds bytes sent before, and TCP names it
                // after it passed the queue; a first transmission of the
                // same range earlier in the run is no match for it.
                let retransmission = if again > 0 {
                    retransmissions
                        .get_mut(&(p.off, p.len))
                        .and_then(|named| next_after(named, p.t))
                } else {
                    None
                };
                match retransmission {
                    Some(_) => out.retransmitted_bytes += p.len,
                    None => out.resent_bytes += again,
                }
                // The drops these bytes answer: lost when TCP sends them
                // again as a retransmission and saw no failure; failed when
                // they go again as new data.
                for d in &mut pending {
                    let answered = d.left.remove(s, e);
                    if d.failed || retransmission.is_none() {
                        out.dropped_failed_bytes += answered;
                    } else {
                        out.dropped_lost_bytes += answered;
                    }
                }
                pending.retain(|d| d.left.total() > 0);
                if attempts.len() == ATTEMPTS_KEPT {
                    attempts.pop_front();
                }
                attempts.push_back(Attempt {
                    start: s,
                    end: e,
                    failed: retransmission == Some(true),
                });
            }
            op::SKB_XMIT => {
                device.insert(s, e);
            }
            op::SKB_DROP | op::SKB_LOST => {
                let repeat = pending.iter().any(|d| {
                    d.skb == p.skb && d.start == s && d.end == e && d.left.total() == e - s
                });
                if repeat {
                    out.repeated_drop_events += 1;
                    continue;
                }
                out.dropped_bytes += p.len;
                // The latest attempt that held these bytes carried the drop.
                let failed = attempts
                    .iter()
                    .rev()
                    .find(|a| a.start <= s && e <= a.end)
                    .is_some_and(|a| a.failed);
                let mut left = Ranges::default();
                left.insert(s, e);
                pending.push(Pending {
                    skb: p.skb,
                    start: s,
                    end: e,
                    failed,
                    left,
                });
            }
            _ => {}
        }
    }
    // What no skb sent again: needless when another skb had carried the
    // bytes to the device, a hole otherwise.
    for d in &pending {
        let left = d.left.total();
        let spare = d
            .left
            .iter()
            .map(|(a, b)| device.covered(a, b))
            .sum::<u64>();
        out.dropped_spare_bytes += spare;
        out.dropped_unrepaired_bytes += left - spare;
    }
    out.queued_bytes = queued.covered(0, size);
    let holes = queued.gaps(0, size);
    out.queue_hole_bytes = holes.iter().map(|[a, b]| b - a).sum();
    out.queue_holes = holes.into_iter().take(HOLES_LISTED).collect();
    let holes = device.gaps(0, size);
    out.device_hole_bytes = holes.iter().map(|[a, b]| b - a).sum();
    out.device_holes = holes.into_iter().take(HOLES_LISTED).collect();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_merge_count_and_split() {
        let mut r = Ranges::default();
        assert_eq!(r.insert(10, 20), 10);
        assert_eq!(r.insert(30, 40), 10);
        // Overlaps both and fills the gap between: 10 new bytes.
        assert_eq!(r.insert(15, 35), 10);
        assert_eq!(r.total(), 30);
        assert_eq!(r.covered(0, 100), 30);
        assert_eq!(r.insert(40, 45), 5, "touching ranges join");
        assert_eq!(r.gaps(0, 50), vec![[0, 10], [45, 50]]);
        assert_eq!(r.remove(12, 18), 6);
        assert_eq!(r.gaps(0, 50), vec![[0, 10], [12, 18], [45, 50]]);
        assert_eq!(r.covered(11, 19), 2);
        assert_eq!(r.remove(0, 100), 29);
        assert_eq!(r.total(), 0);
    }

    const START: u32 = u32::MAX - 1000;

    /// An skb event of kind `op` (as the kernel's records name them) at
    /// offset `off` from START.
    fn skb(t: u64, op: u16, skb: u64, off: u64, len: u32) -> Event {
        let at = Some(START.wrapping_add(off as u32));
        match op {
            op::SKB_DROP | op::SKB_LOST => Event::Drop {
                t,
                skb,
                payload: len,
                reason: 0,
                lost: op == op::SKB_LOST,
                at,
            },
            op::SKB_RETRANSMIT => Event::Retransmit {
                t,
                skb,
                payload: len,
                at,
                failed: false,
            },
            _ => Event::Skb {
                t,
                queue: op == op::SKB_QUEUE,
                skb,
                len,
                data_len: len,
                payload: len,
                linear_payload: 0,
                file_bytes: 0,
                first_file_index: 0,
                gso_size: 0,
                gso_segs: 0,
                nr_frags: 0,
                file_frags: 0,
                shinfo_flags: 0,
                user_bytes: 0,
                user_frags: 0,
                frag_pages: Vec::new(),
                at,
                skbs: 1,
            },
        }
    }

    /// A retransmission whose attempt returned an error (-ENOBUFS).
    fn failed(e: Event) -> Event {
        match e {
            Event::Retransmit {
                t,
                skb,
                payload,
                at,
                ..
            } => Event::Retransmit {
                t,
                skb,
                payload,
                at,
                failed: true,
            },
            other => other,
        }
    }

    #[test]
    fn a_clean_run_covers_the_file_across_the_wrap() {
        // The stream's numbers wrap past 2^32 after 1001 bytes.
        let ev: Vec<Event> = (0..4u64)
            .flat_map(|i| {
                [
                    skb(2 * i, op::SKB_QUEUE, i, i * 1000, 1000),
                    skb(2 * i + 1, op::SKB_XMIT, i, i * 1000, 1000),
                ]
            })
            .collect();
        let c = check_from(&ev, 4000, START);
        assert_eq!(c.queued_bytes, 4000);
        assert_eq!((c.queue_hole_bytes, c.device_hole_bytes), (0, 0));
        assert_eq!((c.resent_bytes, c.retransmitted_bytes), (0, 0));
        assert_eq!(c.beyond_bytes, 0);
    }

    #[test]
    fn a_byte_sent_twice_cannot_hide_a_byte_never_sent() {
        // The sums agree (3000 bytes queued for a 3000-byte file), but the
        // middle thousand was never queued and the first was queued twice.
        let ev = [
            skb(1, op::SKB_QUEUE, 1, 0, 1000),
            skb(2, op::SKB_QUEUE, 2, 0, 1000),
            skb(3, op::SKB_QUEUE, 3, 2000, 1000),
        ];
        let c = check_from(&ev, 3000, START);
        assert_eq!(c.queue_hole_bytes, 1000);
        assert_eq!(c.queue_holes, vec![[1000, 2000]]);
        assert_eq!(c.resent_bytes, 1000, "queued again, and no retransmission");
    }

    #[test]
    fn drops_are_classed_by_what_tcp_did_next() {
        let ev = [
            skb(1, op::SKB_QUEUE, 1, 0, 2000),
            // A piece lost after TCP was told it left: retransmitted.
            skb(2, op::SKB_LOST, 9, 0, 1000),
            skb(3, op::SKB_XMIT, 8, 1000, 1000),
            skb(4, op::SKB_QUEUE, 2, 0, 1000),
            skb(5, op::SKB_RETRANSMIT, 2, 0, 1000),
            skb(6, op::SKB_XMIT, 2, 0, 1000),
            // A whole skb whose transmit failed: TCP was told, and sent the
            // bytes again as new data.
            skb(7, op::SKB_QUEUE, 3, 2000, 1000),
            skb(8, op::SKB_DROP, 3, 2000, 1000),
            // The same drop seen twice (the free, then the driver's rc).
            skb(9, op::SKB_LOST, 3, 2000, 1000),
            skb(10, op::SKB_QUEUE, 4, 2000, 1000),
            skb(11, op::SKB_XMIT, 4, 2000, 1000),
            // A drop nothing answered.
            skb(12, op::SKB_QUEUE, 5, 3000, 500),
            skb(13, op::SKB_LOST, 5, 3000, 500),
            // Lost; then its retransmission dropped at a qdisc that told
            // TCP: that attempt failed, and the next is a retransmission too.
            skb(14, op::SKB_QUEUE, 6, 3500, 500),
            skb(15, op::SKB_LOST, 6, 3500, 500),
            skb(16, op::SKB_QUEUE, 7, 3500, 500),
            skb(17, op::SKB_DROP, 7, 3500, 500),
            failed(skb(18, op::SKB_RETRANSMIT, 7, 3500, 500)),
            skb(19, op::SKB_QUEUE, 8, 3500, 500),
            skb(20, op::SKB_RETRANSMIT, 8, 3500, 500),
            skb(21, op::SKB_XMIT, 8, 3500, 500),
        ];
        let c = check_from(&ev, 4000, START);
        assert_eq!(c.dropped_bytes, 3500, "each drop once");
        assert_eq!(c.repeated_drop_events, 1);
        assert_eq!(c.dropped_lost_bytes, 1500);
        assert_eq!(c.dropped_failed_bytes, 1500);
        assert_eq!(
            c.retransmitted_bytes, 2000,
            "failed attempts count, as TCP counts them"
        );
        assert_eq!(c.resent_bytes, 1000);
        // The 500 bytes at 3000 were dropped, and nothing sent them again.
        assert_eq!(c.dropped_unrepaired_bytes, 500);
        assert_eq!(c.queue_hole_bytes, 0);
        assert_eq!(c.device_holes, vec![[3000, 3500]]);
    }

    #[test]
    fn a_dropped_copy_of_bytes_already_delivered_is_spare_not_a_hole() {
        let ev = [
            skb(1, op::SKB_QUEUE, 1, 0, 1000),
            skb(2, op::SKB_XMIT, 1, 0, 1000),
            // A spurious retransmission, dropped: the first copy had made it.
            skb(3, op::SKB_QUEUE, 2, 0, 1000),
            skb(4, op::SKB_RETRANSMIT, 2, 0, 1000),
            skb(5, op::SKB_LOST, 2, 0, 1000),
        ];
        let c = check_from(&ev, 1000, START);
        assert_eq!(
            (c.dropped_spare_bytes, c.dropped_unrepaired_bytes),
            (1000, 0)
        );
        assert_eq!(c.device_hole_bytes, 0);
    }

    #[test]
    fn bytes_past_the_file_are_counted_not_clipped_away() {
        let ev = [skb(1, op::SKB_QUEUE, 1, 0, 1500)];
        let c = check_from(&ev, 1000, START);
        assert_eq!(c.beyond_bytes, 500);
        assert_eq!(c.queue_hole_bytes, 0);
    }
}
