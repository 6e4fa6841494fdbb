//! The receiver's own copy, skb → user buffer (`skb_copy_datagram_iovec`
//! in the receiver thread): the last hop of the ledger, kept apart from the
//! sender's figures the article counts.

use aya_ebpf::{macros::tracepoint, programs::TracePointContext};
use zc_common::{
    Config,
    counters::Counter,
    event::{Kind, RecvEvent},
    tracepoints as tp,
};

use crate::helpers::{armed, config, count, current_tid, emit, entry, field, header};

#[tracepoint(category = "skb", name = "skb_copy_datagram_iovec")]
pub fn skb_copy_datagram_iovec(ctx: TracePointContext) -> u32 {
    entry!(try_recv_copy, ctx)
}

fn try_recv_copy(ctx: &TracePointContext) -> Result<(), i64> {
    let receiver = config(Config::ReceiverTid);
    if !armed() || receiver == 0 || current_tid() as u64 != receiver {
        return Ok(());
    }
    let skb: u64 = field(ctx, tp::skb_copy_datagram_iovec::SKBADDR)?;
    let len: i32 = field(ctx, tp::skb_copy_datagram_iovec::LEN)?;
    let len = if len > 0 { len as u32 } else { 0 };
    count(Counter::RecvCopies, 1);
    count(Counter::RecvCopyBytes, len as u64);
    emit(RecvEvent {
        h: header(Kind::Recv, 0),
        skb,
        len,
        _pad: 0,
    });
    Ok(())
}
