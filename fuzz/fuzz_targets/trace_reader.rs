//! Fuzzes the trace reader: any bytes must give a trace or a one-line
//! error, never a panic, a hang or an unbounded allocation.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match zc_trace::Trace::parse(data) {
        Ok(t) => {
            // A trace that parsed must survive a round trip.
            let bytes = t.to_bytes().expect("a parsed trace serialises");
            let again = zc_trace::Trace::parse(&bytes).expect("a serialised trace parses");
            assert_eq!(again, t);
        }
        Err(e) => assert!(!e.to_string().contains('\n'), "multi-line error: {e}"),
    }
});
