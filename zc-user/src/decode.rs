//! Ring-buffer bytes → typed events, length-checked.
//!
//! The kernel side writes `#[repr(C)]` records from `zc_common::event`. A
//! record is accepted only if its kind is known and it is exactly the size of
//! its struct; anything else is counted as malformed, never guessed at.

use zc_common::event::*;

/// One kernel event, decoded. The skb record, the largest by far (it names
/// each frag's page), is boxed, so that the many small events a run keeps
/// in memory stay small.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Syscall(SyscallEvent),
    Sched(SchedEvent),
    Fault(FaultEvent),
    Filemap(FilemapEvent),
    Block(BlockEvent),
    Send(SendEvent),
    Skb(Box<SkbEvent>),
    Recv(RecvEvent),
    Dma(DmaEvent),
    Completion(CompletionEvent),
    Forward(ForwardEvent),
    Ring(RingEvent),
    Thread(ThreadEvent),
}

// A run keeps every event in memory: one more byte here is a megabyte in a
// million-event run.
const _: () = assert!(size_of::<Event>() <= 64);

impl Event {
    pub fn header(&self) -> &Header {
        match self {
            Event::Syscall(e) => &e.h,
            Event::Sched(e) => &e.h,
            Event::Fault(e) => &e.h,
            Event::Filemap(e) => &e.h,
            Event::Block(e) => &e.h,
            Event::Send(e) => &e.h,
            Event::Skb(e) => &e.h,
            Event::Recv(e) => &e.h,
            Event::Dma(e) => &e.h,
            Event::Completion(e) => &e.h,
            Event::Forward(e) => &e.h,
            Event::Ring(e) => &e.h,
            Event::Thread(e) => &e.h,
        }
    }

    pub fn ts_ns(&self) -> u64 {
        self.header().ts_ns
    }
}

/// Why a record was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("record of {0} bytes is shorter than a header")]
    Short(usize),
    #[error("unknown record kind {0}")]
    UnknownKind(u16),
    #[error("record of kind {kind:?} has {got} bytes, expected {want}")]
    BadLength { kind: Kind, got: usize, want: usize },
}

/// Reads a `T` from the start of `bytes` if the length matches exactly.
fn read_exact<T: Copy>(bytes: &[u8], kind: Kind) -> Result<T, DecodeError> {
    let want = size_of::<T>();
    if bytes.len() != want {
        return Err(DecodeError::BadLength {
            kind,
            got: bytes.len(),
            want,
        });
    }
    // SAFETY: the length equals size_of::<T>(), T is a repr(C) integer-only
    // record (any bit pattern is valid), and read_unaligned has no alignment
    // requirement.
    Ok(unsafe { std::ptr::read_unaligned(bytes.as_ptr().cast::<T>()) })
}

/// An skb record, whole or without its page list (`SKB_EVENT_SHORT`:
/// none of its frags is a page of the demo file).
fn read_skb(bytes: &[u8]) -> Result<SkbEvent, DecodeError> {
    if bytes.len() != SKB_EVENT_SHORT {
        return read_exact(bytes, Kind::Skb);
    }
    let mut e = SkbEvent {
        frag_pages: [zc_common::NO_PAGE; zc_common::MAX_FRAGS],
        ..SkbEvent::default()
    };
    // SAFETY: the first SKB_EVENT_SHORT bytes of the repr(C), integer-only
    // SkbEvent are overwritten with as many bytes; any bit pattern is valid.
    unsafe {
        std::ptr::copy_nonoverlapping(
            bytes.as_ptr(),
            (&mut e as *mut SkbEvent).cast::<u8>(),
            SKB_EVENT_SHORT,
        )
    };
    Ok(e)
}

/// Decodes one ring-buffer record.
pub fn decode(bytes: &[u8]) -> Result<Event, DecodeError> {
    if bytes.len() < size_of::<Header>() {
        return Err(DecodeError::Short(bytes.len()));
    }
    let raw_kind = u16::from_ne_bytes([bytes[12], bytes[13]]);
    let kind = Kind::from_u16(raw_kind).ok_or(DecodeError::UnknownKind(raw_kind))?;
    Ok(match kind {
        Kind::Syscall => Event::Syscall(read_exact(bytes, kind)?),
        Kind::Sched => Event::Sched(read_exact(bytes, kind)?),
        Kind::Fault => Event::Fault(read_exact(bytes, kind)?),
        Kind::Filemap => Event::Filemap(read_exact(bytes, kind)?),
        Kind::Block => Event::Block(read_exact(bytes, kind)?),
        Kind::Send => Event::Send(read_exact(bytes, kind)?),
        Kind::Skb => Event::Skb(Box::new(read_skb(bytes)?)),
        Kind::Recv => Event::Recv(read_exact(bytes, kind)?),
        Kind::Dma => Event::Dma(read_exact(bytes, kind)?),
        Kind::Completion => Event::Completion(read_exact(bytes, kind)?),
        Kind::Forward => Event::Forward(read_exact(bytes, kind)?),
        Kind::Ring => Event::Ring(read_exact(bytes, kind)?),
        Kind::Thread => Event::Thread(read_exact(bytes, kind)?),
    })
}

/// Test and fixture helper: the bytes of a record, as the kernel writes them.
pub fn encode<T: Copy>(record: &T) -> Vec<u8> {
    // SAFETY: T is a repr(C) record without uninitialised padding (padding is
    // written out as fields), so all of its bytes are initialised.
    unsafe { std::slice::from_raw_parts((record as *const T).cast::<u8>(), size_of::<T>()) }
        .to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hdr(kind: Kind, op: u16) -> Header {
        Header {
            ts_ns: 42,
            tid: 7,
            kind: kind as u16,
            op,
        }
    }

    #[test]
    fn round_trips_each_kind() {
        let sys = SyscallEvent {
            h: hdr(Kind::Syscall, op::SYS_EXIT),
            nr: 1,
            args: [3, 4, 5],
            ret: 65536,
        };
        assert_eq!(decode(&encode(&sys)), Ok(Event::Syscall(sys)));
        let skb = SkbEvent {
            h: hdr(Kind::Skb, op::SKB_XMIT),
            skb: 0xffff_8880_dead_beef,
            len: 65226,
            data_len: 65160,
            payload: 65160,
            file_bytes: 65160,
            nr_frags: 17,
            file_frags: 17,
            shinfo_flags: SKBFL_SHARED_FRAG,
            ..Default::default()
        };
        assert_eq!(decode(&encode(&skb)), Ok(Event::Skb(Box::new(skb))));
        // Without its page list: the same record, every frag naming no page.
        let short = &encode(&skb)[..SKB_EVENT_SHORT];
        let want = SkbEvent {
            frag_pages: [zc_common::NO_PAGE; zc_common::MAX_FRAGS],
            ..skb
        };
        assert_eq!(decode(short), Ok(Event::Skb(Box::new(want))));
    }

    #[test]
    fn rejects_short_unknown_and_wrong_length() {
        assert_eq!(decode(&[0u8; 4]), Err(DecodeError::Short(4)));
        let mut bad = encode(&hdr(Kind::Syscall, 0));
        bad[12] = 99;
        assert_eq!(decode(&bad), Err(DecodeError::UnknownKind(99)));
        let truncated = encode(&SyscallEvent {
            h: hdr(Kind::Syscall, 0),
            ..Default::default()
        });
        assert!(matches!(
            decode(&truncated[..40]),
            Err(DecodeError::BadLength { want: 56, .. })
        ));
    }
}
