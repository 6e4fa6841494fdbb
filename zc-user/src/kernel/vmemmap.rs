//! Where the kernel's array of `struct page` starts.
//!
//! On x86-64 every physical page frame has a `struct page`, and they sit
//! in one virtual array, the vmemmap: the page of frame `pfn` is
//! `vmemmap_base + pfn × sizeof(struct page)`. KASLR moves the array at
//! boot, and the kernel keeps its start in the variable `vmemmap_base`.
//! A DMA map names a physical address; this is how the probes get from it
//! to the page, and from the page to the file it caches.
//!
//! zc asks `/proc/kallsyms` where that variable is (root sees real
//! addresses unless `kptr_restrict` is 2), and the probes read its value.

/// The address of the `vmemmap_base` variable, or None where the kernel
/// has none (another architecture, or a fixed memory layout) or hides it.
/// Read once per process: the listing is megabytes, and the answer cannot
/// change while the kernel runs.
pub fn base_variable() -> Option<u64> {
    static BASE: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
    *BASE.get_or_init(|| {
        let syms = std::fs::read_to_string("/proc/kallsyms").ok()?;
        find(&syms)
    })
}

/// `vmemmap_base`'s address in a kallsyms listing; a hidden address reads 0.
fn find(syms: &str) -> Option<u64> {
    syms.lines().find_map(|l| {
        let mut f = l.split_whitespace();
        let (addr, _kind, name) = (f.next()?, f.next()?, f.next()?);
        if name != "vmemmap_base" {
            return None;
        }
        u64::from_str_radix(addr, 16).ok().filter(|&a| a != 0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_variable_and_refuses_a_hidden_address() {
        let syms = "ffffffff81000000 T _stext\nffffffff83e1a0b8 D vmemmap_base\n";
        assert_eq!(find(syms), Some(0xffffffff83e1a0b8));
        assert_eq!(find("0000000000000000 D vmemmap_base\n"), None);
        assert_eq!(find("ffffffff81000000 T _stext\n"), None);
    }
}
