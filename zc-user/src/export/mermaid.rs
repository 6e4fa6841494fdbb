//! A Mermaid sequence diagram of one representative loop iteration: the
//! sender's calls, the kernel's answers and every movement of bytes between
//! them, as measured. Renders on GitHub in a ```mermaid block.

use std::fmt::Write as _;

use crate::{
    model::{Movement, Place, Strategy, steps::StepKind},
    recording::Loaded,
    tui::{app::Played, playback::Item},
    units::fmt_bytes,
};

fn who(p: Place) -> &'static str {
    match p {
        Place::Disk => "D",
        Place::PageCache => "PC",
        Place::UserBuffer | Place::Mapping => "U",
        Place::Pipe => "P",
        Place::SocketBuffer => "SB",
        Place::Nic | Place::Peer => "N",
        Place::ErrorQueue | Place::Rings => "K",
        Place::Receiver => "R",
    }
}

pub fn export(loaded: &Loaded, strategy: Strategy) -> anyhow::Result<String> {
    let o = loaded
        .outcome(strategy)
        .ok_or_else(|| anyhow::anyhow!("the trace has no {} run", strategy.name()))?;
    let played = Played::new(o.clone());
    let mut s = String::new();
    let _ = writeln!(s, "sequenceDiagram");
    let _ = writeln!(
        s,
        "    title {} — one loop iteration, measured on Linux {}",
        strategy.name(),
        loaded.meta.kernel
    );
    let _ = writeln!(s, "    participant U as user process");
    let _ = writeln!(s, "    participant K as kernel");
    let _ = writeln!(s, "    participant D as disk");
    let _ = writeln!(s, "    participant PC as page cache");
    if strategy.spec().nodes.contains(&Place::Pipe) {
        let _ = writeln!(s, "    participant P as pipe");
    }
    let _ = writeln!(s, "    participant SB as socket buffer");
    let _ = writeln!(
        s,
        "    participant N as {}",
        Place::Nic.label_over(o.facts.nic)
    );
    // The first loop iteration: calls until the strategy's calls per
    // iteration (plus mmap's setup) have returned, with what follows them
    // before the next call.
    let spec = strategy.spec();
    let per_iter = (spec.calls_per_iteration + spec.setup_calls) as usize;
    let mut calls = 0;
    for item in &played.plan.items {
        let Item::Step { kind, count, .. } = item else {
            break;
        };
        match kind {
            StepKind::Enter { syscall } => {
                if calls == per_iter {
                    break;
                }
                calls += 1;
                let _ = writeln!(s, "    U->>K: {syscall}() — user → kernel");
            }
            StepKind::Exit {
                syscall,
                mapping: true,
                ..
            } => {
                let _ = writeln!(s, "    K-->>U: {syscall} returns a mapping — kernel → user");
            }
            StepKind::Exit { syscall, ret, .. } => {
                let _ = writeln!(
                    s,
                    "    K-->>U: {syscall} returns {} — kernel → user",
                    fmt_bytes((*ret).max(0) as u64)
                );
            }
            StepKind::Fault { in_kernel, .. } => {
                let _ = writeln!(
                    s,
                    "    Note over K: {count} page fault(s){}",
                    if *in_kernel {
                        " inside the copy"
                    } else {
                        " in user mode"
                    }
                );
            }
            StepKind::SchedOut { .. } => {
                let _ = writeln!(s, "    Note over U,K: context switch (sender blocked)");
            }
            StepKind::Move {
                movement,
                from,
                to,
                bytes,
            } => {
                let arrow = match movement {
                    Movement::CpuCopy => "->>",
                    Movement::Dma => "-)",
                    _ => "-->>",
                };
                let _ = writeln!(
                    s,
                    "    {}{arrow}{}: {} {}",
                    who(*from),
                    who(*to),
                    movement.label(),
                    fmt_bytes(*bytes)
                );
            }
            StepKind::SchedIn
            | StepKind::Block { .. }
            | StepKind::Completion { .. }
            | StepKind::Ring { .. }
            | StepKind::Thread { .. } => {}
        }
    }
    Ok(s)
}
