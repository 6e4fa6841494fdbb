//! What /proc says of the followed processes: whether a pid may be
//! followed at all, and the names the kernel's counters lack (a process's
//! name, a file's path). The kernel counts by pid and by (device, inode);
//! only user space can turn those into words, and only while the process
//! still holds the file open or mapped.

use std::{collections::BTreeMap, os::unix::fs::MetadataExt as _, path::Path};

use crate::{exit::Fatal, model::tree::Names};

/// A process whose `/proc/PID/stat` state is `Z` (zombie) or `X` (dead)
/// has exited: it makes no syscall and its exit event has passed, though
/// its pid stays until its parent collects it.
fn exited(after_name: &str) -> bool {
    matches!(after_name.split_whitespace().next(), Some("Z" | "X"))
}

/// True when `pid` is gone or has exited.
pub fn gone(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map_or(true, |s| exited(s.rsplit_once(')').map_or("", |(_, r)| r)))
}

/// `PF_KTHREAD` (include/linux/sched.h): the task is a kernel thread.
const PF_KTHREAD: u64 = 0x0020_0000;

/// Checks that `pid` can be followed: it exists, it is not a kernel
/// thread, and under sudo it belongs to the invoking user (unless that
/// user is root).
pub fn check_pid(pid: u32) -> anyhow::Result<()> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map_err(|_| Fatal::NoProcess(format!("no process {pid} (has it exited?)")))?;
    // Fields after the name, which is in parentheses and may hold spaces.
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    if exited(after) {
        return Err(Fatal::NoProcess(format!(
            "process {pid} has exited (its parent has not collected it yet)"
        ))
        .into());
    }
    let flags: u64 = after
        .split_whitespace()
        .nth(6)
        .and_then(|f| f.parse().ok())
        .unwrap_or(0);
    if flags & PF_KTHREAD != 0 {
        let name = comm(pid).unwrap_or_default();
        return Err(Fatal::KernelThread(format!(
            "process {pid} ({name}) is a kernel thread: it makes no syscalls and owns no sockets to follow"
        ))
        .into());
    }
    if let Some(caller) = std::env::var("SUDO_UID")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
        && caller != 0
    {
        let owner = std::fs::metadata(format!("/proc/{pid}"))
            .map(|m| m.uid())
            .unwrap_or(u32::MAX);
        if owner != caller {
            return Err(Fatal::CannotTrace(format!(
                "process {pid} belongs to uid {owner}, not to you (uid {caller}); only root itself may trace another user's process"
            ))
            .into());
        }
    }
    Ok(())
}

/// Whether `program` names something that can be run: a path to an
/// executable file, or a name found on `PATH`.
pub fn find_program(program: &str) -> Option<std::path::PathBuf> {
    let runnable = |p: &Path| {
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.mode() & 0o111 != 0)
    };
    if program.contains('/') {
        let p = Path::new(program);
        return runnable(p).then(|| p.to_path_buf());
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into());
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| runnable(p))
}

/// Busy CPU time of the whole machine so far (`/proc/stat`: user, nice,
/// system, irq, softirq, steal), in nanoseconds; 0 where unreadable.
pub fn busy_cpu_ns() -> u64 {
    let Ok(stat) = std::fs::read_to_string("/proc/stat") else {
        return 0;
    };
    let f: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    let ticks: u64 = [0usize, 1, 2, 5, 6, 7]
        .iter()
        .filter_map(|i| f.get(*i))
        .sum();
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    ticks * (1_000_000_000 / hz)
}

/// A process's name, from /proc.
pub fn comm(pid: u32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|s| s.trim_end().to_string())
}

/// Adds what /proc tells of `pids` now to `names`: their names, and the
/// paths of the files they hold open or mapped.
pub fn refresh(names: &mut Names, pids: &[u32]) {
    for &pid in pids {
        if let Some(c) = comm(pid) {
            names.comm.insert(pid, c);
        }
        if let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fd")) {
            for entry in dir.flatten() {
                let Ok(target) = std::fs::read_link(entry.path()) else {
                    continue;
                };
                if !target.is_absolute() {
                    continue; // socket:[…], pipe:[…], anon_inode:…
                }
                if let Ok(m) = std::fs::metadata(entry.path()) {
                    let dev = crate::kernel::kernel_dev(m.dev());
                    names
                        .paths
                        .entry((dev, m.ino()))
                        .or_insert_with(|| target.display().to_string());
                }
            }
        }
        if let Ok(maps) = std::fs::read_to_string(format!("/proc/{pid}/maps")) {
            for (key, path) in mapped_files(&maps) {
                names.paths.entry(key).or_insert(path);
            }
        }
    }
}

/// Names the file `path` that process `tgid` opened (absolute, or relative
/// to its working directory). The file is `file`, as the kernel keyed it
/// when the call returned; without it (zc looked before the call
/// returned), whatever `stat` finds at the path now, and a path that no
/// longer leads to a file names nothing.
pub fn name_opened(names: &mut Names, tgid: u32, path: &str, file: Option<(u32, u64)>) {
    let full = if path.starts_with('/') {
        std::path::PathBuf::from(path)
    } else {
        match std::fs::read_link(format!("/proc/{tgid}/cwd")) {
            Ok(cwd) => cwd.join(path),
            Err(_) => return,
        }
    };
    if let Some(key) = file {
        names
            .paths
            .entry(key)
            .or_insert_with(|| full.display().to_string());
        return;
    }
    if let Ok(m) = std::fs::metadata(&full) {
        if !m.is_file() {
            return;
        }
        let dev = crate::kernel::kernel_dev(m.dev());
        names
            .paths
            .entry((dev, m.ino()))
            .or_insert_with(|| full.display().to_string());
    }
}

/// Files in a /proc/PID/maps text: ((device, inode), path).
fn mapped_files(maps: &str) -> BTreeMap<(u32, u64), String> {
    let mut out = BTreeMap::new();
    for line in maps.lines() {
        // Five fields, one space apart, then padding and the path (which
        // may hold spaces).
        let mut f = line.splitn(6, ' ');
        let (Some(_), Some(_), Some(_), Some(dev), Some(ino), Some(path)) =
            (f.next(), f.next(), f.next(), f.next(), f.next(), f.next())
        else {
            continue;
        };
        let path = path.trim_start();
        if !path.starts_with('/') {
            continue;
        }
        let Ok(ino) = ino.parse::<u64>() else {
            continue;
        };
        let Some((maj, min)) = dev.split_once(':') else {
            continue;
        };
        if let (Ok(maj), Ok(min)) = (u32::from_str_radix(maj, 16), u32::from_str_radix(min, 16))
            && ino != 0
        {
            out.insert(
                (crate::kernel::kernel_dev(libc::makedev(maj, min)), ino),
                path.to_string(),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_lines_give_device_inode_and_path() {
        let maps = "\
55d0c0a00000-55d0c0a28000 r--p 00000000 08:01 1835030                    /usr/bin/python3.13
7f00aa000000-7f00aa100000 r--s 00000000 fe:02 42                         /srv/big file.iso
7ffd4a1f0000-7ffd4a211000 rw-p 00000000 00:00 0                          [stack]
";
        let m = mapped_files(maps);
        assert_eq!(
            m.get(&(8 << 20 | 1, 1835030)).map(String::as_str),
            Some("/usr/bin/python3.13")
        );
        assert_eq!(
            m.get(&(0xfe << 20 | 2, 42)).map(String::as_str),
            Some("/srv/big file.iso")
        );
        assert_eq!(m.len(), 2);
    }

    #[test]
    fn this_process_is_followable_and_pid_zero_is_not_a_process() {
        assert!(check_pid(std::process::id()).is_ok());
        let err = check_pid(u32::MAX - 1).expect_err("no such pid");
        assert_eq!(crate::exit::code_for(&err), crate::exit::NO_PROCESS);
    }

    #[test]
    fn kthreadd_is_refused_as_a_kernel_thread() {
        if !Path::new("/proc/2/stat").exists() {
            crate::skipped(
                "trace::procs kthreadd test: no /proc/2 (not Linux, or a pid namespace)",
            );
            return;
        }
        let err = check_pid(2).expect_err("pid 2 is kthreadd");
        assert_eq!(crate::exit::code_for(&err), crate::exit::KERNEL_THREAD);
    }

    #[test]
    fn programs_are_found_on_path_or_refused() {
        assert!(find_program("sh").is_some());
        assert!(find_program("/bin/sh").is_some());
        assert!(find_program("zc-no-such-program-here").is_none());
        let plain = tempfile::NamedTempFile::new().expect("tempfile");
        let path = plain.path().to_str().expect("utf-8");
        assert!(find_program(path).is_none(), "not executable");
    }
}
