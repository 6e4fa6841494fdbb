//! The recordings shipped with zc, so the story can be shown where zc
//! cannot trace (no root, no eBPF): each made by zc itself on a real kernel,
//! each labelled with where it was made, and always shown as a RECORDING.
//! See recordings/README.md for how each was made.

use crate::recording::{self, Loaded};

/// One recording compiled into the binary.
pub struct Bundled {
    /// What `--bundled NAME` calls it.
    pub name: &'static str,
    /// Where and how it was made, in one line.
    pub made: &'static str,
    bytes: &'static [u8],
}

/// The recordings, the default first.
pub const ALL: &[Bundled] = &[
    Bundled {
        name: "veth",
        made: "Linux 6.18.44, 4 MiB over zc's veth pair, warm cache: every strategy, no DMA to see",
        bytes: include_bytes!("../../recordings/linux-6.18-4mib.zctrace"),
    },
    Bundled {
        name: "lab-dma",
        made: "Debian's Linux 7.3.4 in the kernel lab (QEMU), 1 MiB over two e1000e NICs from an NVMe disk, cold cache: every strategy, both DMA arrows measured",
        bytes: include_bytes!("../../recordings/lab-7.3-e1000e-nvme.zctrace"),
    },
];

/// The recording called `name`.
pub fn named(name: &str) -> Option<&'static Bundled> {
    ALL.iter().find(|b| b.name == name)
}

/// Reads the bundled recording `name` (the default: the first).
pub fn load(name: Option<&str>) -> anyhow::Result<Loaded> {
    let b = match name {
        None => &ALL[0],
        Some(n) => named(n).ok_or_else(|| {
            crate::exit::Fatal::Usage(format!(
                "no bundled recording {n:?} (there are: {})",
                ALL.iter().map(|b| b.name).collect::<Vec<_>>().join(", ")
            ))
        })?,
    };
    recording::load(b.bytes)
        .map_err(|e| anyhow::anyhow!("the bundled recording {} is unreadable: {e}", b.name))
}

#[cfg(test)]
mod tests {
    use crate::model::Strategy;

    /// Every bundled recording replays without root: the runs it holds (the
    /// table as it was when it was recorded; a strategy added later is
    /// simply absent), each received intact and balanced, with its model's
    /// copy count plus what the kernel says it copied anyway.
    #[test]
    fn bundled_recordings_replay_their_runs() {
        for b in super::ALL {
            let l = super::load(Some(b.name)).expect("bundled recording loads");
            assert!(!l.runs.is_empty(), "{}: no run", b.name);
            for s in Strategy::all().filter(|s| l.outcome(*s).is_some()) {
                let o = l.outcome(s).expect("held");
                assert!(o.received_ok, "{}: {}", b.name, s.name());
                assert_eq!(
                    o.figures.ledger.unexplained_bytes,
                    0,
                    "{}: {}",
                    b.name,
                    s.name()
                );
                let f = &o.figures;
                let model_copies = f.cpu_copy_bytes - f.copied_anyway_bytes;
                let passes = (model_copies as f64 / o.facts.size as f64 + 0.5) as u32;
                if let Some(m) = s.spec().model {
                    assert_eq!(passes, m.cpu_copies, "{}: {}", b.name, s.name());
                }
            }
            assert!(
                l.meta.kernel.starts_with("6.") || l.meta.kernel.starts_with("7."),
                "{}",
                l.meta.kernel
            );
        }
    }

    /// The lab's recording holds what the veth cannot show: for every run
    /// both engines measured, and where the device got the file's pages as
    /// frags, the NIC's engine read them from the page cache, page by page.
    #[test]
    fn the_lab_recording_has_both_dma_arrows_with_page_identity() {
        let l = super::load(Some("lab-dma")).expect("loads");
        let mut gathered = 0;
        for s in Strategy::all().filter(|s| l.outcome(*s).is_some()) {
            let o = l.outcome(s).expect("held");
            let f = &o.figures;
            assert!(o.facts.nic && o.facts.cold, "{}", s.name());
            assert!(f.dma_bytes >= o.facts.size, "{}: {f:?}", s.name());
            assert!(f.disk_dma_bytes >= o.facts.size, "{}", s.name());
            if f.file_frags_at_device > 0 {
                gathered += 1;
                assert!(
                    f.nic_dma_file_bytes * 10 >= o.facts.size * 9,
                    "{}: {}",
                    s.name(),
                    f.nic_dma_file_bytes
                );
            }
        }
        assert!(gathered > 0, "no run sent the file's pages as frags");
    }
}
