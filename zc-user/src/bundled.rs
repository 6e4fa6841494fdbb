//! The recording shipped with zc, so the story can be shown where zc cannot
//! trace (no root, no eBPF): made by zc itself on a real kernel, and always
//! labelled RECORDING on screen. See recordings/README.md for how it was made.

use crate::recording::{self, Loaded};

/// The trace, compiled into the binary.
static TRACE: &[u8] = include_bytes!("../../recordings/linux-6.18-4mib.zctrace");

/// Reads the bundled trace.
pub fn load() -> anyhow::Result<Loaded> {
    recording::load(TRACE).map_err(|e| anyhow::anyhow!("the bundled recording is unreadable: {e}"))
}

#[cfg(test)]
mod tests {
    use crate::model::Strategy;

    /// The bundled recording replays without root: the runs it holds (the
    /// table as it was when it was recorded; a strategy added later is
    /// simply absent), each received intact, with its model's copy count
    /// plus what the kernel says it copied anyway.
    #[test]
    fn bundled_recording_replays_its_runs() {
        let l = super::load().expect("bundled recording loads");
        assert!(!l.runs.is_empty(), "no run");
        for s in Strategy::all().filter(|s| l.outcome(*s).is_some()) {
            let o = l.outcome(s).expect("held");
            assert!(o.received_ok, "{}", s.name());
            let f = &o.figures;
            let model_copies = f.cpu_copy_bytes - f.copied_anyway_bytes;
            let passes = (model_copies as f64 / o.facts.size as f64 + 0.5) as u32;
            if let Some(m) = s.spec().model {
                assert_eq!(passes, m.cpu_copies, "{}", s.name());
            }
        }
        assert!(l.meta.kernel.starts_with("6."), "{}", l.meta.kernel);
    }
}
