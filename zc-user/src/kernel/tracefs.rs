//! tracefs: where classic tracepoints are listed, with their record layout.
//!
//! Attaching a classic tracepoint needs its id from tracefs, and zc checks
//! each record layout it reads against the `format` file. Many machines do
//! not mount tracefs; zc then mounts it in a private mount namespace of its
//! own, so the host's mount table never changes and nothing is left behind.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use zc_common::tracepoints::Field;

const CANDIDATES: [&str; 2] = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"];

/// The mounted tracefs, if any (a directory with an `events` folder).
pub fn find() -> Option<PathBuf> {
    CANDIDATES
        .iter()
        .map(PathBuf::from)
        .find(|p| p.join("events").is_dir())
}

/// Finds tracefs, or mounts it privately. Must run before any thread is
/// started: a mount namespace can only be unshared by a single-threaded process.
pub fn ensure() -> anyhow::Result<PathBuf> {
    if let Some(p) = find() {
        return Ok(p);
    }
    // SAFETY: plain syscalls with valid constant arguments; no memory is shared.
    unsafe {
        if libc::unshare(libc::CLONE_NEWNS) != 0 {
            return Err(std::io::Error::last_os_error())
                .context("tracefs is not mounted and a private mount namespace could not be made");
        }
        // Make every mount private, so the tracefs mount below stays ours.
        if libc::mount(
            c"none".as_ptr(),
            c"/".as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        ) != 0
        {
            return Err(std::io::Error::last_os_error())
                .context("make mounts private before mounting tracefs");
        }
        if libc::mount(
            c"tracefs".as_ptr(),
            c"/sys/kernel/tracing".as_ptr(),
            c"tracefs".as_ptr(),
            0,
            std::ptr::null(),
        ) != 0
        {
            return Err(std::io::Error::last_os_error())
                .context("mount tracefs at /sys/kernel/tracing (private to zc)");
        }
    }
    find().context("tracefs mounted but /sys/kernel/tracing/events is missing")
}

/// True when `category/name` exists in tracefs.
pub fn exists(root: &Path, category: &str, name: &str) -> bool {
    root.join("events").join(category).join(name).is_dir()
}

/// One field line of a `format` file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormatField {
    pub name: String,
    pub offset: usize,
    pub size: usize,
}

/// Parses the field lines of a tracepoint `format` file.
pub fn parse_format(text: &str) -> Vec<FormatField> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        let Some(rest) = line.strip_prefix("field:") else {
            continue;
        };
        let mut parts = rest.split(';').map(str::trim);
        let Some(decl) = parts.next() else { continue };
        let mut offset = None;
        let mut size = None;
        for p in parts {
            if let Some(v) = p.strip_prefix("offset:") {
                offset = v.parse().ok();
            } else if let Some(v) = p.strip_prefix("size:") {
                size = v.parse().ok();
            }
        }
        // The name is the last word of the declaration, without any array suffix.
        let name = decl
            .rsplit(|c: char| c.is_whitespace() || c == '*')
            .next()
            .unwrap_or("")
            .split('[')
            .next()
            .unwrap_or("")
            .to_string();
        if let (Some(offset), Some(size)) = (offset, size)
            && !name.is_empty()
        {
            out.push(FormatField { name, offset, size });
        }
    }
    out
}

/// Checks that the kernel's record layout has every field where the eBPF
/// program reads it. A field may be larger than read (prefixes of arrays).
pub fn check_fields(root: &Path, category: &str, name: &str, want: &[Field]) -> anyhow::Result<()> {
    let path = root.join("events").join(category).join(name).join("format");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("read {}", path.display()))?;
    check_against(&parse_format(&text), want)
}

fn check_against(have: &[FormatField], want: &[Field]) -> anyhow::Result<()> {
    for w in want {
        let Some(h) = have.iter().find(|h| h.name == w.name) else {
            bail!("the record has no field `{}`", w.name);
        };
        // Scalars must match exactly; arrays must hold at least what is read.
        let size_ok = if w.size <= 8 {
            h.size == w.size
        } else {
            h.size >= w.size
        };
        if h.offset != w.offset || !size_ok {
            bail!(
                "field `{}` is at offset {} size {}, zc reads offset {} size {}",
                w.name,
                h.offset,
                h.size,
                w.offset,
                w.size
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use zc_common::tracepoints as tp;

    const SYS_ENTER: &str = "name: sys_enter
ID: 23
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:long id;\toffset:8;\tsize:8;\tsigned:1;
\tfield:unsigned long args[6];\toffset:16;\tsize:48;\tsigned:0;
";

    #[test]
    fn parses_names_offsets_sizes() {
        let f = parse_format(SYS_ENTER);
        assert_eq!(f.len(), 3);
        assert_eq!(
            f[2],
            FormatField {
                name: "args".into(),
                offset: 16,
                size: 48
            }
        );
        assert!(check_against(&f, tp::sys_enter::FIELDS).is_ok());
    }

    #[test]
    fn refuses_moved_or_missing_fields() {
        let moved = SYS_ENTER.replace("offset:8;", "offset:16;");
        let e = check_against(&parse_format(&moved), tp::sys_enter::FIELDS).expect_err("must fail");
        assert!(e.to_string().contains("field `id`"), "{e}");
        let e =
            check_against(&parse_format(SYS_ENTER), tp::sys_exit::FIELDS).expect_err("must fail");
        assert!(e.to_string().contains("no field `ret`"), "{e}");
    }

    /// On a machine with tracefs, the real format files must match.
    #[test]
    fn real_formats_match_when_visible() {
        let Some(root) = find() else {
            crate::skipped("real_formats_match_when_visible: tracefs is not mounted here");
            return;
        };
        if !exists(&root, "raw_syscalls", "sys_enter") {
            crate::skipped("real_formats_match_when_visible: tracefs not readable");
            return;
        }
        for p in crate::kernel::probes::PROBES {
            if let crate::kernel::probes::Attach::Tracepoint {
                category,
                name,
                fields,
            } = p.attach
                && exists(&root, category, name)
            {
                check_fields(&root, category, name, fields)
                    .unwrap_or_else(|e| panic!("{category}/{name}: {e}"));
            }
        }
    }
}
