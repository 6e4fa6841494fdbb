//! The strategies: every way zc knows to send a file to a socket, as one
//! table with one entry each.
//!
//! A strategy is data plus a send loop. The entry says what the strategy is
//! called, what the model in the literature expects of it (the article's
//! row, where the article has one), what it does to the bytes hop by hop
//! (its `path`: copy, map, reference, pin), which syscalls and io_uring
//! requests it makes, whether the sending device gathers, which boxes of
//! the diagram it uses, how to narrate it, what zc's own demo must measure
//! of it, and which function sends. The command line, the live view, the
//! report, the recordings, the exports and the tests all iterate over
//! [`TABLE`] and read these; nothing else names a strategy or guesses what
//! one does. Adding one is a new file here and one line in the table
//! (docs/architecture.md). The table's order is the order everywhere; the
//! first nine are also picked by the digit keys.
//!
//! The send loops run in the traced sender thread: they make no syscall of
//! their own beyond the strategy's (no allocation that could mmap, no
//! logging), so the trace shows the strategy and nothing else. Each calls
//! `io::gate()` before every syscall it makes, so a stepped run
//! (`zc demo --step`) can stop it there ([`gate`]).

pub mod gate;
pub(crate) mod io;
mod io_uring;
mod io_uring_send;
mod ktls_sendfile;
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
use crate::{
    lang::T,
    place::{Movement, Place},
};

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
    /// told), or when a completion says so (MSG_ZEROCOPY); or a batch of
    /// io_uring requests has many chunks in flight at once, each in its
    /// own slot.
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
    /// What it does to the file's bytes, hop by hop, from the page cache to
    /// the device: the arrows it means to draw. (The disk's DMA into the
    /// page cache is every strategy's, and only on a cold cache.) The tests
    /// hold each arrow to the kernel's measurement.
    pub path: &'static [Arrow],
    /// Every syscall its send loop makes, setup and teardown included, by
    /// the kernel's name.
    pub calls: &'static [&'static str],
    /// The io_uring requests it submits, with the names the narration
    /// gives them.
    pub requests: &'static [Request],
    /// What the strategy does, in a sentence, for the narration.
    pub story: T,
    /// What zc's own demo must measure of it: the tests read this.
    pub expect: Expect,
    /// What it does to the connection before the transfer, on both ends
    /// (kernel TLS: the upper-layer protocol and its keys), untraced; `None`
    /// for a plain TCP connection.
    pub connect: Option<Connect>,
    /// The send loop.
    pub send: SendLoop,
}

/// The two ends of the demo's connection, once it is established.
pub struct Ends<'a> {
    pub sender: BorrowedFd<'a>,
    pub receiver: BorrowedFd<'a>,
}

/// Prepares a connection's two ends before the transfer.
pub type Connect = fn(&Ends<'_>) -> anyhow::Result<()>;

/// One arrow of a strategy's path: its bytes go from one place to the next,
/// moved so.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arrow {
    pub from: Place,
    pub how: Movement,
    pub to: Place,
}

/// `from` → `to`, moved `how`: a path reads like the article's figures.
pub const fn arrow(from: Place, how: Movement, to: Place) -> Arrow {
    Arrow { from, how, to }
}

/// An io_uring request a strategy submits: its opcode
/// (include/uapi/linux/io_uring.h, as the `io-uring` crate spells it) and
/// its name on screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    pub opcode: u8,
    pub name: &'static str,
}

/// What a run of zc's own demo must measure of a strategy: a veth pair,
/// the receiver on the same machine, scatter-gather on. Measured, not
/// modelled (a zero-copy send to a local receiver is copied anyway); the
/// tests read it here, so a strategy's expectations live beside its loop
/// and nowhere else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expect {
    /// CPU copies per byte of the file on its way to the device and the
    /// peer, to the nearest whole number: the copies the kernel makes
    /// anyway included, the receiver's own read() not.
    pub copies_per_byte: u8,
    /// Every page of the file left as an skb frag at the device: the page
    /// cache's own pages were sent.
    pub pages_sent_as_frags: bool,
    /// Every page of the file was copied by the CPU on its way.
    pub pages_copied: bool,
    /// Every page's copy landed in a buffer a zero-copy send then pinned.
    pub copies_pinned: bool,
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
    io_uring_send::SPEC,
    ktls_sendfile::SPEC,
];

impl Spec {
    /// Whether the strategy's bytes pass through `place`.
    pub fn uses(&self, place: Place) -> bool {
        self.nodes.contains(&place)
    }

    /// Whether its send pins the user's pages instead of copying them (the
    /// buffer is the kernel's until a completion says otherwise).
    pub fn pins(&self) -> bool {
        self.path.iter().any(|a| a.how == Movement::Pin)
    }

    /// Whether it splices the file's pages into a pipe (as opposed to a
    /// pipe that only carries pages lent from user memory).
    pub fn splices_file_into_pipe(&self) -> bool {
        self.path
            .contains(&arrow(Place::PageCache, Movement::Reference, Place::Pipe))
    }
}

/// The name of io_uring request `opcode`, as the strategy that submits it
/// calls it; an opcode none submits (a program under `zc trace`) by number.
pub fn request_name(opcode: u8) -> std::borrow::Cow<'static, str> {
    TABLE
        .iter()
        .flat_map(|s| s.requests)
        .find(|r| r.opcode == opcode)
        .map_or_else(
            || format!("request (opcode {opcode})").into(),
            |r| r.name.into(),
        )
}

/// A strategy: an index into [`TABLE`], so it is `Copy`, hashable and
/// cannot name a strategy that does not exist.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Strategy(u8);

/// How many strategies there are.
pub const COUNT: usize = TABLE.len();

/// The digit keys pick the table's first nine strategies; the others are
/// picked from the compare view's list, or with Tab.
const DIGITS: usize = 9;

// The index is a u8.
const _: () = assert!(COUNT <= u8::MAX as usize);

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

    /// Position in the table, from 1, as the views number it.
    pub fn number(self) -> usize {
        self.index() + 1
    }

    /// The strategy called `name`, as on the command line.
    pub fn named(name: &str) -> Option<Strategy> {
        Strategy::all().find(|s| s.name() == name)
    }

    /// The digit key that picks it in the live view: its place in the
    /// table, for the first nine.
    pub fn key(self) -> Option<char> {
        (self.index() < DIGITS).then(|| char::from(b'1' + self.0))
    }

    /// The strategy picked by `key` in the live view.
    pub fn by_key(key: char) -> Option<Strategy> {
        Strategy::all().find(|s| s.key() == Some(key))
    }

    /// The next strategy in the table, if any.
    pub fn next(self) -> Option<Strategy> {
        ((self.0 as usize + 1) < COUNT).then(|| Strategy(self.0 + 1))
    }

    /// The next strategy, after the last the first (Tab).
    pub fn cycle(self, forward: bool) -> Strategy {
        let i = self.index() + if forward { 1 } else { COUNT - 1 };
        Strategy((i % COUNT) as u8)
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
        let keys: Vec<char> = Strategy::all().filter_map(|s| s.key()).collect();
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
        for s in Strategy::all() {
            assert!(names.insert(s.name()), "duplicate name {}", s.name());
            assert_eq!(Strategy::named(s.name()), Some(s));
            if let Some(k) = s.key() {
                assert_eq!(Strategy::by_key(k), Some(s));
            }
            assert!(
                s.spec().nodes.contains(&s.spec().user_place)
                    || s.spec().user_place == Place::UserBuffer
            );
        }
        assert!(Strategy::named("all").is_none(), "`all` is reserved");
        assert_eq!(Strategy::named("nope"), None);
    }

    /// Digits pick the first nine in table order; Tab reaches every one,
    /// however many there are.
    #[test]
    fn digits_pick_the_first_nine_and_tab_reaches_all() {
        for (i, s) in Strategy::all().enumerate() {
            let want = (i < 9).then(|| char::from(b'1' + i as u8));
            assert_eq!(s.key(), want, "{}", s.name());
        }
        let mut seen = vec![Strategy::first()];
        let mut s = Strategy::first().cycle(true);
        while s != Strategy::first() {
            seen.push(s);
            s = s.cycle(true);
        }
        assert_eq!(seen, Strategy::all().collect::<Vec<_>>());
        assert_eq!(Strategy::first().cycle(false).index(), COUNT - 1);
    }

    /// What the table says a strategy does is what the kernel showed it
    /// doing: each arrow of its path carried the whole file in the
    /// fixture's runs (recorded live; the live tests hold every strategy of
    /// the table to the same on the running kernel). A mapping is proved by
    /// its fault events: the kernel maps a folio's worth per fault without
    /// saying how many pages.
    #[test]
    fn every_path_is_what_the_recorded_kernel_measured() {
        let rec = crate::recording::load(include_bytes!("../../tests/fixtures/demo-1mib.json"))
            .expect("fixture parses");
        assert!(!rec.runs.is_empty());
        for o in &rec.runs {
            let s = o.facts.strategy;
            for a in s.spec().path {
                let f = o
                    .figures
                    .movements
                    .iter()
                    .find(|m| m.movement == a.how && m.from == a.from && m.to == a.to);
                let proved = f.is_some_and(|f| {
                    if a.how == Movement::Mapping {
                        f.ops > 0
                    } else {
                        f.bytes as f64 >= 0.98 * o.facts.size as f64
                    }
                });
                assert!(proved, "{}: {a:?} measured as {f:?}", s.name());
            }
            for name in o.figures.syscalls.keys() {
                assert!(
                    s.spec().calls.contains(&name.as_str()),
                    "{}: made {name}, which its table entry does not name",
                    s.name()
                );
            }
        }
    }

    /// A path is drawn in the strategy's own boxes, and says something the
    /// kernel can show: every place it passes is one of its boxes, and
    /// every syscall name is one the kernel has (zc's table of this
    /// architecture's syscalls knows it).
    #[test]
    fn every_path_stays_in_its_boxes() {
        for s in Strategy::all() {
            let spec = s.spec();
            assert!(!spec.path.is_empty(), "{}: no path", s.name());
            for a in spec.path {
                for p in [a.from, a.to] {
                    assert!(spec.uses(p), "{}: {p:?} is not one of its boxes", s.name());
                }
            }
            assert!(!spec.calls.is_empty(), "{}: no calls", s.name());
            for c in spec.calls {
                assert!(
                    crate::model::syscalls::number(c).is_some(),
                    "{}: {c} is no syscall",
                    s.name()
                );
            }
            for r in spec.requests {
                assert_eq!(request_name(r.opcode), r.name, "{}", s.name());
            }
        }
        assert!(request_name(250).contains("250"));
    }
}
