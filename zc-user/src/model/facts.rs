//! What a run was asked to do: not measured, but needed to read what was.

use serde::Serialize;

use super::Strategy;

/// The demo receiver's read buffer: no receive copy it asks for is larger,
/// so one receive copy event carries at most this many bytes.
pub const RECEIVE_BUFFER: u64 = 256 << 10;

/// The request behind one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct RunFacts {
    pub strategy: Strategy,
    pub size: u64,
    pub chunk: u64,
    pub cold: bool,
    /// Scatter-gather on the sending veth during the run.
    pub sender_sg: bool,
    /// A bottleneck on the sending veth, in bytes per second (`--rate`).
    pub rate: Option<u64>,
    /// Sent over two borrowed NICs (`--nic`), whose driver may map the
    /// packets for DMA, rather than over zc's veth, which never does.
    pub nic: bool,
}

impl RunFacts {
    /// Buffers the file is sent in: ceil(size / chunk).
    pub fn chunks(&self) -> u64 {
        if self.chunk == 0 {
            0
        } else {
            self.size.div_ceil(self.chunk)
        }
    }
}
