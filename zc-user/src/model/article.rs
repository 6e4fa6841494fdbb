//! The article's model: its table, per send of one buffer. These figures are
//! the article's, never measured; the report prints them beside the
//! measurement and labels them so.

use serde::Serialize;

use super::Strategy;

/// One row of the article's table, per send of one buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ArticleRow {
    /// Figure number in the article.
    pub figure: u8,
    /// The call sequence, as the article writes it.
    pub code: &'static str,
    pub syscalls: u32,
    pub mode_switches: u32,
    pub dma_copies: u32,
    pub cpu_copies: u32,
}

pub const fn row(strategy: Strategy) -> ArticleRow {
    match strategy {
        Strategy::ReadWrite => ArticleRow {
            figure: 1,
            code: "read(file, buf, len); write(sock, buf, len);",
            syscalls: 2,
            mode_switches: 4,
            dma_copies: 2,
            cpu_copies: 2,
        },
        Strategy::MmapWrite => ArticleRow {
            figure: 2,
            code: "buf = mmap(file, len); write(sock, buf, len);",
            syscalls: 2,
            mode_switches: 4,
            dma_copies: 2,
            cpu_copies: 1,
        },
        Strategy::Sendfile => ArticleRow {
            figure: 3,
            code: "sendfile(sock, file, len);",
            syscalls: 1,
            mode_switches: 2,
            dma_copies: 2,
            cpu_copies: 1,
        },
        Strategy::SendfileGather => ArticleRow {
            figure: 4,
            code: "sendfile(sock, file, len); /* NIC gathers */",
            syscalls: 1,
            mode_switches: 2,
            dma_copies: 2,
            cpu_copies: 0,
        },
    }
}
