//! A visit to every CPU: the way a run's edges see the task that holds
//! each CPU.
//!
//! `sched:sched_switch` runs in the task leaving the CPU. On a host whose
//! kernel runs no BPF program for some tasks, the switch away from such a
//! task is never seen; zc's `sched_switch` program notices it one switch
//! later, when the task leaving is not the one it last saw switched in,
//! and names the task it missed (`ZC_BLIND`). That needs a switch on each
//! side of the stretch. At arm the program knows nothing yet of what each
//! CPU holds, and at the end a task may still be on its CPU: in either
//! case a task no program runs for can have had the CPU, its softirqs
//! included, and not be named.
//!
//! So zc makes those switches itself. A thread pinned to each CPU takes
//! that CPU (the task that held it leaves: a switch, seen or not) and
//! sleeps once (it leaves: a switch that is always seen, since zc's own
//! thread is not blind). After a visit at arm every CPU's last task is
//! known; a visit before disarm ends every stretch still open.

use std::time::Duration;

/// How long a visitor sleeps: long enough to block (and so switch away),
/// short enough to cost the run nothing it would notice.
const NAP: Duration = Duration::from_micros(50);

/// Visits every online CPU once, each with its own pinned thread, and
/// returns when all have slept. A CPU the process may not run on is
/// skipped; the visit is best effort and never fails a run.
pub fn every_cpu() {
    let cpus = online_cpus();
    std::thread::scope(|s| {
        for cpu in cpus {
            let _ = std::thread::Builder::new()
                .name("zc-cpu-visit".into())
                .spawn_scoped(s, move || {
                    if pin_to(cpu) {
                        std::thread::sleep(NAP);
                    }
                });
        }
    });
}

/// Moves the calling thread onto `cpu` (it runs there when this returns).
fn pin_to(cpu: usize) -> bool {
    // SAFETY: a zeroed cpu_set_t is a valid empty set, and CPU_SET stays
    // within it for any cpu below CPU_SETSIZE.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if cpu >= libc::CPU_SETSIZE as usize {
            return false;
        }
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
    }
}

/// The online CPUs (`/sys/devices/system/cpu/online`, a list such as
/// "0-3,6"), or every CPU the parallelism hint counts.
fn online_cpus() -> Vec<usize> {
    std::fs::read_to_string("/sys/devices/system/cpu/online")
        .ok()
        .and_then(|s| parse_cpu_list(s.trim()))
        .unwrap_or_else(|| {
            (0..std::thread::available_parallelism().map_or(1, |n| n.get())).collect()
        })
}

/// Parses the kernel's CPU list format ("0-3,6"); None if malformed.
fn parse_cpu_list(s: &str) -> Option<Vec<usize>> {
    let mut out = Vec::new();
    for part in s.split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => out.extend(a.parse::<usize>().ok()?..=b.parse::<usize>().ok()?),
            None => out.push(part.parse().ok()?),
        }
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::parse_cpu_list;

    #[test]
    fn cpu_lists_parse_as_the_kernel_writes_them() {
        assert_eq!(parse_cpu_list("0-1"), Some(vec![0, 1]));
        assert_eq!(parse_cpu_list("0"), Some(vec![0]));
        assert_eq!(parse_cpu_list("0-2,5,7-8"), Some(vec![0, 1, 2, 5, 7, 8]));
        assert_eq!(parse_cpu_list(""), None);
        assert_eq!(parse_cpu_list("x"), None);
    }

    #[test]
    fn a_visit_returns_and_leaves_this_thread_where_it_was() {
        // SAFETY: a zeroed set is valid; the kernel fills it.
        let mask = |set: &mut libc::cpu_set_t| unsafe {
            libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), set)
        };
        let (mut before, mut after) = unsafe { (std::mem::zeroed(), std::mem::zeroed()) };
        assert_eq!(mask(&mut before), 0);
        super::every_cpu();
        assert_eq!(mask(&mut after), 0);
        // SAFETY: both sets were filled by the kernel.
        assert!(unsafe { libc::CPU_EQUAL(&before, &after) });
    }
}
