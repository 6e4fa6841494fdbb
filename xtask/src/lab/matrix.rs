//! The kernel matrix: placeholder until written.
