//! Everything that talks to the kernel's tracing machinery: capabilities,
//! BTF, loading and attaching the eBPF programs, reading their maps.

pub mod btf;
pub mod cpu_visit;
pub mod features;
pub mod floor;
pub mod layout;
pub mod pause;
pub mod privilege;
pub mod probes;
pub mod prototype;
pub mod stats;
pub mod tracer;
pub mod vmemmap;

/// Converts a user-space `st_dev` to the kernel's internal dev_t encoding
/// (major << 20 | minor), which tracepoints like `mm_filemap_*` report.
pub fn kernel_dev(st_dev: u64) -> u32 {
    let major = libc::major(st_dev);
    let minor = libc::minor(st_dev);
    (major << 20) | (minor & 0xfffff)
}

#[cfg(test)]
mod tests {
    #[test]
    fn dev_encoding() {
        // 254:0 (virtio disk) in glibc's encoding is 0xfe00.
        assert_eq!(super::kernel_dev(0xfe00), 254 << 20);
        assert_eq!(super::kernel_dev(libc::makedev(8, 17)), (8 << 20) | 17);
    }
}
