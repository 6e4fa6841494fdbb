//! A smoke check of the kernel's tree mode (the groundwork of `zc trace`):
//! follow a shell, let it fork `cat` on a file and `head` on a pipe, and
//! print what the counters saw. Needs root.
//!
//!     cargo run --release -p zc-user --example tree_smoke

use std::{
    io::Write as _,
    process::{Command, Stdio},
};

use zc::kernel::{layout, tracefs, tracer::Tracer};
use zc_common::counters::Counter as C;

fn main() -> anyhow::Result<()> {
    let root = tracefs::ensure()?;
    let layout = layout::from_running_kernel()?;
    let mut tracer = Tracer::load(&layout, &root)?;
    // The shell waits for a line before it does anything: it is followed
    // first, so its children are followed from their birth.
    let mut sh = Command::new("sh")
        .args([
            "-c",
            "read go; cat /etc/services > /dev/null; cat /etc/services | head -c 1000 > /dev/null",
        ])
        .stdin(Stdio::piped())
        .spawn()?;
    tracer.arm_tree(&[sh.id()])?;
    sh.stdin.take().expect("stdin").write_all(b"go\n")?;
    sh.wait()?;
    std::thread::sleep(std::time::Duration::from_millis(50));
    let left = tracer.followed()?;
    tracer.disarm()?;
    tracer.drain(|_| {});
    let c = tracer.counts()?;
    println!(
        "syscalls {}  read bytes {}  forks {}  exits {}  page-cache lookups {}  sched out {}  still followed {:?}",
        c.total_syscalls(),
        c.bytes("read"),
        c.get(C::TreeForks),
        c.get(C::TreeExits),
        c.get(C::FilemapGetPages),
        c.get(C::SchedOut),
        left
    );
    Ok(())
}
