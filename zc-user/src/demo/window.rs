//! The traced window holds the strategy's own mode switches, and nothing of
//! zc's.
//!
//! A mode switch is any entry into the kernel: a syscall, or a page fault
//! taken in user mode. The window a run traces opens while the sender
//! thread waits to be told "go", and closes at its end marker. Two things
//! of zc's own could fall into it, and both depend on timing, on memory
//! pressure or on how the binary happens to be laid out, not on the
//! strategy or the kernel:
//!
//! - **the wait's own syscall.** If the tracer is armed before the sender
//!   has gone to sleep in its wait, the `futex` that puts it to sleep is
//!   counted. So the window opens only once the kernel says the thread
//!   sleeps inside a syscall (`/proc/self/task/TID/syscall`).
//! - **faults on zc's own memory.** The first time the loop runs a page of
//!   zc's code, or uses a page of its fresh thread stack, the CPU faults in
//!   user mode and the kernel maps the page; and a code page the kernel
//!   reclaimed (it is file-backed, so it may, under memory pressure) faults
//!   again. So zc locks its code in memory with `mlock` once, and the
//!   sender locks the stack its loop will use, before the window opens.
//!   The strategy's own memory (its buffer, a mapped file) is left as the
//!   strategy has it.

use std::{
    fs,
    sync::Once,
    time::{Duration, Instant},
};

use anyhow::{Context as _, bail};

use crate::model::PAGE_SIZE;

/// Stack the send loops may use below the point where the sender waits.
const STACK_TOUCHED: usize = 128 << 10;

/// Locks every page of this process's code in memory (its own binary's
/// and its libraries' executable mappings), once: code run for the first
/// time inside a window, or reclaimed since, does not fault there. Where
/// `mlock` is refused, each page is read instead (mapped, not locked).
pub fn lock_own_code() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for (lo, hi) in code_mappings() {
            // SAFETY: [lo, hi) is a mapping of this process; mlock only
            // changes whether its pages may be reclaimed.
            if unsafe { libc::mlock(lo as *const libc::c_void, hi - lo) } == 0 {
                continue;
            }
            for addr in (lo..hi).step_by(PAGE_SIZE as usize) {
                // SAFETY: the range is a readable mapping (r-x), and code
                // is never unmapped while it runs.
                unsafe { std::ptr::read_volatile(addr as *const u8) };
            }
        }
    });
}

/// The readable, executable mappings of this process, as [start, end).
fn code_mappings() -> Vec<(usize, usize)> {
    let maps = fs::read_to_string("/proc/self/maps").unwrap_or_default();
    maps.lines()
        .filter_map(|line| {
            let mut f = line.split_ascii_whitespace();
            let (range, perms) = (f.next()?, f.next()?);
            let path = f.nth(3).unwrap_or("");
            // [vsyscall] is execute-only: reading it would fault for good.
            if !perms.starts_with("r-x") || path == "[vsyscall]" {
                return None;
            }
            let (lo, hi) = range.split_once('-')?;
            Some((
                usize::from_str_radix(lo, 16).ok()?,
                usize::from_str_radix(hi, 16).ok()?,
            ))
        })
        .collect()
}

/// Touches and locks the stack the send loop will use below the caller's
/// frame (best effort: unlocked if `mlock` is refused, but mapped).
#[inline(never)]
pub fn touch_stack() {
    let mut below = [0u8; STACK_TOUCHED];
    std::hint::black_box(&mut below);
    let lo = below.as_ptr() as usize & !(PAGE_SIZE as usize - 1);
    // SAFETY: [lo, lo + STACK_TOUCHED) lies in this thread's stack mapping,
    // which the array itself spans but for its first, partial page.
    unsafe { libc::mlock(lo as *const libc::c_void, STACK_TOUCHED) };
}

/// Waits until thread `tid` of this process sleeps inside a syscall (its
/// wait for "go"), so that arming the tracer cannot catch that syscall's
/// entry.
pub fn wait_until_asleep(tid: u32) -> anyhow::Result<()> {
    let path = format!("/proc/self/task/{tid}/syscall");
    let stat = format!("/proc/self/task/{tid}/stat");
    let start = Instant::now();
    loop {
        // "202 0x… …" while in a syscall, "running" otherwise.
        let call = fs::read_to_string(&path).with_context(|| format!("read {path}"))?;
        let in_call = call
            .split_ascii_whitespace()
            .next()
            .is_some_and(|n| n.parse::<i64>().is_ok_and(|n| n >= 0));
        if in_call && sleeping(&fs::read_to_string(&stat).unwrap_or_default()) {
            return Ok(());
        }
        if start.elapsed() > Duration::from_secs(10) {
            bail!("the sender thread did not go to sleep before its transfer ({path}: {call:?})");
        }
        std::thread::sleep(Duration::from_micros(50));
    }
}

/// The state letter of a `/proc/…/stat` line is `S`: asleep, interruptibly.
fn sleeping(stat: &str) -> bool {
    // "TID (comm) S …": comm may hold spaces and parentheses.
    stat.rsplit_once(')')
        .and_then(|(_, rest)| rest.split_ascii_whitespace().next())
        == Some("S")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_letter_follows_the_last_parenthesis() {
        assert!(sleeping("42 (zc-sender) S 1 2 3"));
        assert!(sleeping("42 (a) b) S 1"));
        assert!(!sleeping("42 (zc-sender) R 1 2 3"));
        assert!(!sleeping(""));
    }

    #[test]
    fn a_thread_waiting_on_a_channel_is_seen_asleep() {
        let (tx, rx) = std::sync::mpsc::channel::<u32>();
        let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
        let t = std::thread::spawn(move || {
            // SAFETY: gettid has no arguments and cannot fail.
            tx.send(unsafe { libc::gettid() } as u32).expect("send tid");
            go_rx.recv().expect("go");
        });
        let tid = rx.recv().expect("tid");
        wait_until_asleep(tid).expect("asleep");
        // The kernel's own view agrees: the thread is in futex().
        let call =
            fs::read_to_string(format!("/proc/self/task/{tid}/syscall")).expect("syscall file");
        assert_eq!(
            call.split_ascii_whitespace().next(),
            Some(libc::SYS_futex.to_string().as_str())
        );
        go_tx.send(()).expect("send go");
        t.join().expect("join");
    }

    #[test]
    fn own_code_is_found_and_locked() {
        let code = code_mappings();
        // This very function is code of this process.
        let here = own_code_is_found_and_locked as fn() as usize;
        assert!(code.iter().any(|&(lo, hi)| lo <= here && here < hi));
        lock_own_code();
        touch_stack();
        // The kernel counts the locked pages (VmLck), unless mlock was
        // refused here (no CAP_IPC_LOCK and a small RLIMIT_MEMLOCK).
        let status = fs::read_to_string("/proc/self/status").expect("status");
        let locked_kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmLck:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmLck in /proc/self/status");
        if is_root() {
            assert!(locked_kb > 0, "nothing locked: {status}");
        }
    }

    fn is_root() -> bool {
        // SAFETY: geteuid has no arguments and cannot fail.
        unsafe { libc::geteuid() == 0 }
    }
}
