//! Empty library target: lets `zc-user`'s build script depend on this crate so
//! cargo rebuilds the eBPF object when its sources change.
#![no_std]
