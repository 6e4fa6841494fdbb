//! The strategies: every way zc knows to send a file to a socket, as one
//! table with one entry each.
//!
//! A strategy is data plus a send loop. The entry says what the strategy is
//! called, which key picks it, what the model in the literature expects of
//! it (the article's row, where the article has one), how many calls one
//! loop iteration makes, whether the sending device gathers, which boxes of
//! the diagram it uses, how to narrate it, and which function sends. The
//! command line, the live view, the report, the recordings and the exports
//! all iterate over [`TABLE`]; nothing else names a strategy. Adding one is
//! a new file here and one line in the table (docs/architecture.md).
//!
//! The send loops run in the traced sender thread: they make no syscall of
//! their own beyond the strategy's (no allocation that could mmap, no
//! logging), so the trace shows the strategy and nothing else. Each calls
//! `io::gate()` before every syscall it makes, so a stepped run
//! (`zc demo --step`) can stop it there ([`gate`]).

pub mod gate;
pub(crate) mod io;
mod io_uring;
mod mmap_write;
mod msg_zerocopy;
mod read_write;
pub mod resident;
mod sendfile;
mod splice;
mod vmsplice;

use std::os::fd::BorrowedFd;
use std::sync::atomic::AtomicU64;

use serde::Serialize;

pub use crate::mechanism::Mechanism;
use crate::{lang::T, place::Place};

/// What a send loop gets: the file, the connected socket, how much to send
/// in which chunks, and a user buffer faulted in before tracing starts: one
/// chunk, or a ring of chunks for a strategy that lends its pages (see
/// [`Buffer`]).
pub struct Transfer<'a> {
    pub file: BorrowedFd<'a>,
    pub sock: BorrowedFd<'a>,
    pub size: u64,
    pub chunk: u64,
    pub buf: &'a mut [u8],
    /// Bytes the receiver has read so far. For a strategy that lends its
    /// pages, this is the only sign that a page is free again: the kernel
    /// never says.
    pub received: &'a AtomicU64,
}

/// How a strategy uses its user buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Buffer {
    /// One chunk, written again at once: the kernel is done with it when
    /// the call returns (it copied, or there is no buffer).
    Reused,
    /// A ring of chunks: the kernel keeps the pages after the call returns
    /// (vmsplice, MSG_ZEROCOPY), so a slot is written again only once they
    /// are free: when the receiver has read them (vmsplice, which is never
    /// told), or when a completion says so (MSG_ZEROCOPY).
    Lent,
}

/// Largest ring a lending strategy gets: more than the socket's send and
/// receive buffers hold together, so the sender rarely waits for a slot.
pub const RING_BYTES: u64 = 32 << 20;

impl Buffer {
    /// The buffer's length for a transfer of `size` bytes in `chunk`s: a
    /// whole number of chunks.
    pub fn len(self, size: u64, chunk: u64) -> usize {
        let chunk = chunk.max(1);
        match self {
            Buffer::Reused => chunk as usize,
            Buffer::Lent => {
                let chunks = size.min(RING_BYTES).div_ceil(chunk).max(1);
                (chunks * chunk) as usize
            }
        }
    }
}

/// Sends the whole file; returns the bytes sent.
pub type SendLoop = fn(&mut Transfer<'_>) -> anyhow::Result<u64>;

/// Runs a strategy's send loop in this thread, stopping at `gate` before
/// each of its syscalls when the run is stepped.
pub fn send(spec: &Spec, t: &mut Transfer<'_>, gate: Option<&gate::Gate>) -> anyhow::Result<u64> {
    io::with_gate(gate, || (spec.send)(t))
}

/// What a published model expects per send of one buffer. These figures are
/// never measured: the report prints them beside the measurement, labelled
/// with `source`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ModelRow {
    /// Where the figures come from, e.g. the article and its figure.
    pub source: &'static str,
    /// The call sequence, as the source writes it.
    pub code: &'static str,
    pub syscalls: u32,
    pub mode_switches: u32,
    pub dma_copies: u32,
    pub cpu_copies: u32,
}

/// One strategy's entry in the table.
pub struct Spec {
    /// Name on the command line, in JSON and in recordings (stable).
    pub name: &'static str,
    /// Key that picks it in the live view.
    pub key: char,
    /// Title on screen.
    pub title: T,
    /// One line for `--help`.
    pub help: &'static str,
    /// The model's expectation, when a source has one.
    pub model: Option<ModelRow>,
    /// Syscalls one loop iteration makes.
    pub calls_per_iteration: u64,
    /// Syscalls made once before the loop (mmap, pipe2).
    pub setup_calls: u64,
    /// Syscalls made once after the loop (munmap, closing a pipe).
    pub teardown_calls: u64,
    /// Scatter-gather on the sending veth unless `--sg` says otherwise.
    pub sender_sg: bool,
    /// Whether the user buffer is reused at once or lent to the kernel.
    pub buffer: Buffer,
    /// What the kernel must offer for it to run (asked of the kernel before
    /// a run; `zc doctor` lists them all).
    pub requires: &'static [Mechanism],
    /// Where a send from user memory reads its bytes: the user's buffer, or
    /// the page cache mapped into the program.
    pub user_place: Place,
    /// The diagram's boxes this strategy uses, left to right.
    pub nodes: &'static [Place],
    /// What the strategy does, in a sentence, for the narration.
    pub story: T,
    /// The send loop.
    pub send: SendLoop,
}

/// Every strategy, in the order keys, tables and tours show them.
const TABLE: &[Spec] = &[
    read_write::SPEC,
    mmap_write::SPEC,
    sendfile::SPEC,
    sendfile::GATHER_SPEC,
    splice::SPEC,
    vmsplice::SPEC,
    msg_zerocopy::SPEC,
    io_uring::SPEC,
    io_uring::SQPOLL_SPEC,
];

impl Spec {
    /// Whether the strategy's bytes pass through `place`.
    pub fn uses(&self, place: Place) -> bool {
        self.nodes.contains(&place)
    }
}

/// A strategy: an index into [`TABLE`], so it is `Copy`, hashable and
/// cannot name a strategy that does not exist.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Strategy(u8);

/// How many strategies there are.
pub const COUNT: usize = TABLE.len();

// Keys 1-9 pick strategies, and the index is a u8.
const _: () = assert!(COUNT <= 9);

impl Strategy {
    /// Every strategy, in table order.
    pub fn all() -> impl ExactSizeIterator<Item = Strategy> + Clone {
        (0..COUNT as u8).map(Strategy)
    }

    /// The first strategy of the table (the default one).
    pub const fn first() -> Strategy {
        Strategy(0)
    }

    pub fn spec(self) -> &'static Spec {
        &TABLE[self.0 as usize]
    }

    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// Position in the table, from 0.
    pub fn index(self) -> usize {
        self.0 as usize
    }

    /// The strategy called `name`, as on the command line.
    pub fn named(name: &str) -> Option<Strategy> {
        Strategy::all().find(|s| s.name() == name)
    }

    /// The strategy picked by `key` in the live view.
    pub fn by_key(key: char) -> Option<Strategy> {
        Strategy::all().find(|s| s.spec().key == key)
    }

    /// The next strategy in the table, if any.
    pub fn next(self) -> Option<Strategy> {
        ((self.0 as usize + 1) < COUNT).then(|| Strategy(self.0 + 1))
    }

    /// Why this strategy cannot run on this kernel, if it cannot: the first
    /// mechanism it needs that the kernel refuses, in one line.
    pub fn refusal(self) -> Option<String> {
        self.spec().requires.iter().find_map(|m| {
            m.check().err().map(|why| {
                format!(
                    "{} needs {}, which this kernel cannot give: {why}",
                    self.name(),
                    m.name()
                )
            })
        })
    }

    /// The names of all strategies, for messages.
    pub fn names() -> String {
        Strategy::all()
            .map(|s| s.name())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Keys that pick a strategy, e.g. "1-4".
    pub fn key_range() -> String {
        let keys: Vec<char> = Strategy::all().map(|s| s.spec().key).collect();
        match (keys.first(), keys.last()) {
            (Some(a), Some(b)) if a != b => format!("{a}-{b}"),
            (Some(a), _) => a.to_string(),
            _ => String::new(),
        }
    }
}

impl std::fmt::Debug for Strategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Strategy {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_keys_are_unique_and_round_trip() {
        let mut names = std::collections::HashSet::new();
        let mut keys = std::collections::HashSet::new();
        for s in Strategy::all() {
            assert!(names.insert(s.name()), "duplicate name {}", s.name());
            assert!(keys.insert(s.spec().key), "duplicate key for {}", s.name());
            assert_eq!(Strategy::named(s.name()), Some(s));
            assert_eq!(Strategy::by_key(s.spec().key), Some(s));
            assert!(
                s.spec().nodes.contains(&s.spec().user_place)
                    || s.spec().user_place == Place::UserBuffer
            );
        }
        assert!(Strategy::named("all").is_none(), "`all` is reserved");
        assert_eq!(Strategy::named("nope"), None);
    }

    #[test]
    fn keys_are_digits_one_to_nine() {
        for (i, s) in Strategy::all().enumerate() {
            assert_eq!(s.spec().key, char::from(b'1' + i as u8), "{}", s.name());
        }
    }
}
