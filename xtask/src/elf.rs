//! Just enough ELF reading to list a binary's DT_NEEDED libraries.
//!
//! `bpf-linker --version` does not say which LLVM it was built against, but
//! its dynamic section does (`libLLVM.so.22.1-rust-1.97.0-nightly`). Only
//! the headers, the dynamic section and its string table are read, so this
//! stays fast on a 40 MB binary even in xtask's debug build.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt as _;
use std::path::Path;

const SHT_DYNAMIC: u32 = 6;
const DT_NULL: u64 = 0;
const DT_NEEDED: u64 = 1;
/// Guards against allocating on a corrupt header; real tables are far smaller.
const MAX_TABLE: u64 = 16 << 20;

/// DT_NEEDED names of a 64-bit little-endian ELF file; `None` when the file
/// is not one or has no dynamic section (a static build).
pub fn needed(path: &Path) -> io::Result<Option<Vec<String>>> {
    let file = File::open(path)?;
    let mut header = [0u8; 64];
    file.read_exact_at(&mut header, 0)?;
    if &header[..4] != b"\x7fELF" || header[4] != 2 || header[5] != 1 {
        return Ok(None);
    }
    let (Some(shoff), Some(shentsize), Some(shnum)) = (
        u64_at(&header, 0x28),
        u16_at(&header, 0x3a),
        u16_at(&header, 0x3c),
    ) else {
        return Ok(None);
    };
    let (shentsize, shnum) = (u64::from(shentsize), u64::from(shnum));
    if shentsize < 64 || shnum == 0 {
        return Ok(None);
    }
    let sections = read_at(&file, shoff, shentsize * shnum)?;
    let section = |index: u64| -> Option<&[u8]> {
        let start = usize::try_from(index * shentsize).ok()?;
        sections.get(start..start + 64)
    };
    let Some(dynamic) = (0..shnum)
        .filter_map(section)
        .find(|s| u32_at(s, 4) == Some(SHT_DYNAMIC))
    else {
        return Ok(None);
    };
    let (Some(dyn_off), Some(dyn_size), Some(link)) = (
        u64_at(dynamic, 24),
        u64_at(dynamic, 32),
        u32_at(dynamic, 40),
    ) else {
        return Ok(None);
    };
    let Some(strtab) = section(u64::from(link)) else {
        return Ok(None);
    };
    let (Some(str_off), Some(str_size)) = (u64_at(strtab, 24), u64_at(strtab, 32)) else {
        return Ok(None);
    };
    let entries = read_at(&file, dyn_off, dyn_size)?;
    let strings = read_at(&file, str_off, str_size)?;

    let mut names = Vec::new();
    for entry in entries.chunks_exact(16) {
        match u64_at(entry, 0) {
            Some(DT_NULL) | None => break,
            Some(DT_NEEDED) => {
                let Some(name) = u64_at(entry, 8)
                    .and_then(|off| usize::try_from(off).ok())
                    .and_then(|off| strings.get(off..))
                    .and_then(|rest| rest.split(|b| *b == 0).next())
                else {
                    continue;
                };
                names.push(String::from_utf8_lossy(name).into_owned());
            }
            Some(_) => {}
        }
    }
    Ok(Some(names))
}

/// LLVM major version in a shared library name: `libLLVM.so.22.1-rust-…`,
/// `libLLVM.so.19.1`, `libLLVM-19.so.1` (Debian) all count; bare
/// `libLLVM.so` tells nothing.
pub fn llvm_major_of_soname(name: &str) -> Option<u32> {
    let rest = name.strip_prefix("libLLVM")?;
    let rest = rest.trim_start_matches(['-', '.']);
    let rest = rest.strip_prefix("so.").unwrap_or(rest);
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn read_at(file: &File, offset: u64, len: u64) -> io::Result<Vec<u8>> {
    if len > MAX_TABLE {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "ELF table too large",
        ));
    }
    let len = usize::try_from(len).map_err(|_| io::Error::from(io::ErrorKind::InvalidData))?;
    let mut buf = vec![0u8; len];
    file.read_exact_at(&mut buf, offset)?;
    Ok(buf)
}

fn u16_at(buf: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_le_bytes(buf.get(off..off + 2)?.try_into().ok()?))
}

fn u32_at(buf: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_le_bytes(buf.get(off..off + 4)?.try_into().ok()?))
}

fn u64_at(buf: &[u8], off: usize) -> Option<u64> {
    Some(u64::from_le_bytes(buf.get(off..off + 8)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sonames() {
        assert_eq!(
            llvm_major_of_soname("libLLVM.so.22.1-rust-1.97.0-nightly"),
            Some(22)
        );
        assert_eq!(llvm_major_of_soname("libLLVM-19.so.1"), Some(19));
        assert_eq!(llvm_major_of_soname("libLLVM.so.19.1"), Some(19));
        assert_eq!(llvm_major_of_soname("libLLVM.so"), None);
        assert_eq!(llvm_major_of_soname("libc.so.6"), None);
    }

    #[test]
    fn reads_own_needed() -> io::Result<()> {
        // Any test binary links libc dynamically on the glibc hosts we target.
        let me = std::env::current_exe()?;
        let names = needed(&me)?.unwrap_or_default();
        assert!(names.iter().any(|n| n.starts_with("libc.so")), "{names:?}");
        Ok(())
    }
}
