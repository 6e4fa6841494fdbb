//! Words on screen, in English and Chinese. Narration says what the current
//! step is and why it matters; both languages are the project's own writing.

use crate::{
    model::{Movement, Place, Strategy},
    units::fmt_bytes,
};

use super::playback::Item;
use crate::model::steps::StepKind;

pub use crate::lang::{Lang, T};

pub const MODE_SWITCHES: T = T {
    en: "MODE SWITCHES  sender thread",
    zh: "模式切换  发送线程",
};
pub const COPIES: T = T {
    en: "COPIES",
    zh: "数据拷贝",
};
pub const USER_SPACE: T = T {
    en: "user space",
    zh: "用户空间",
};
pub const KERNEL_SPACE: T = T {
    en: "kernel space",
    zh: "内核空间",
};
pub const PAUSED: T = T {
    en: " PAUSED ",
    zh: " 已暂停 ",
};
pub const MEASURING: T = T {
    en: "measuring",
    zh: "正在测量",
};
/// The end of a run: how to go on.
/// A stepped run whose sender has made no call yet: it waits at its gate.
pub fn waits_before_first_call(strategy: &str, lang: Lang) -> String {
    match lang {
        Lang::En => format!(
            "{strategy}: the sender waits before its first call. Enter lets the kernel make it."
        ),
        Lang::Zh => format!("{strategy}：发送线程停在第一次调用之前。按回车让内核执行它。"),
    }
}

pub fn done(lang: Lang) -> String {
    let keys = crate::strategy::Strategy::key_range();
    match lang {
        Lang::En => format!("end of the run: press {keys} to measure again, c to compare"),
        Lang::Zh => format!("本次运行结束：按 {keys} 重新测量，按 c 对比"),
    }
}
pub const TOO_SMALL: T = T {
    en: "zc needs a terminal of at least 80×24 to draw the diagram; this one is",
    zh: "zc 需要至少 80×24 的终端来绘制图示；当前终端为",
};

/// The strategy's title on screen.
pub fn strategy_title(s: Strategy, lang: Lang) -> &'static str {
    s.spec().title.get(lang)
}

fn place(p: Place, lang: Lang) -> &'static str {
    match lang {
        Lang::En => p.label(),
        Lang::Zh => p.label_zh(),
    }
}

/// One line saying what the current item is and why it matters.
pub fn narrate(item: &Item, lang: Lang) -> String {
    match item {
        Item::Group {
            calls, iterations, ..
        } => match lang {
            Lang::En => format!(
                "× {iterations} more loop iterations ({calls} syscalls), the same steps: totals stay exact"
            ),
            Lang::Zh => format!(
                "另外 {iterations} 次循环（{calls} 个系统调用），每次步骤相同：下方合计仍是精确值"
            ),
        },
        Item::Step { kind, count, .. } => step(kind, *count, lang),
    }
}

fn step(kind: &StepKind, count: u64, lang: Lang) -> String {
    match (kind, lang) {
        (StepKind::Enter { syscall }, Lang::En) => {
            format!("{syscall}() enters the kernel: a user → kernel mode switch")
        }
        (StepKind::Enter { syscall }, Lang::Zh) => {
            format!("{syscall}() 进入内核：一次用户态 → 内核态切换")
        }
        (
            StepKind::Exit {
                syscall,
                mapping: true,
                ..
            },
            Lang::En,
        ) => format!("{syscall}() returns a new mapping: a kernel → user mode switch"),
        (
            StepKind::Exit {
                syscall,
                mapping: true,
                ..
            },
            Lang::Zh,
        ) => format!("{syscall}() 返回一个新映射：一次内核态 → 用户态切换"),
        (StepKind::Exit { syscall, ret, .. }, Lang::En) => {
            format!(
                "{syscall}() returns {}: a kernel → user mode switch",
                ret_text(*ret)
            )
        }
        (StepKind::Exit { syscall, ret, .. }, Lang::Zh) => {
            format!(
                "{syscall}() 返回 {}：一次内核态 → 用户态切换",
                ret_text(*ret)
            )
        }
        (
            StepKind::Fault {
                in_kernel: true, ..
            },
            Lang::En,
        ) => format!(
            "{} inside the kernel's copy: the mapping is filled on first touch (not counted by the article)",
            plural(count, "page fault", "page faults")
        ),
        (
            StepKind::Fault {
                in_kernel: true, ..
            },
            Lang::Zh,
        ) => {
            format!("内核拷贝时发生 {count} 次缺页：映射在首次访问时才建立（文章未计入）")
        }
        (
            StepKind::Fault {
                in_kernel: false, ..
            },
            Lang::En,
        ) => format!(
            "{} in user mode: an extra kernel entry and exit",
            plural(count, "page fault", "page faults")
        ),
        (
            StepKind::Fault {
                in_kernel: false, ..
            },
            Lang::Zh,
        ) => format!("用户态缺页 {count} 次：额外的进出内核"),
        (StepKind::SchedOut { blocked }, Lang::En) => if *blocked {
            "the sender blocks (socket buffer full): a real context switch, not a mode switch"
        } else {
            "the scheduler preempts the sender: a real context switch, not a mode switch"
        }
        .to_string(),
        (StepKind::SchedOut { blocked }, Lang::Zh) => if *blocked {
            "发送线程阻塞（套接字缓冲区已满）：真正的上下文切换，而非模式切换"
        } else {
            "调度器抢占了发送线程：真正的上下文切换，而非模式切换"
        }
        .to_string(),
        (StepKind::SchedIn, _) | (StepKind::Block { .. }, _) => String::new(),
        (StepKind::Thread { name }, Lang::En) => format!(
            "the kernel starts {name} for the sender: a kernel thread of its process that will do io_uring work"
        ),
        (StepKind::Thread { name }, Lang::Zh) => {
            format!("内核为发送方启动 {name}：同一进程中的内核线程，将代为完成 io_uring 的工作")
        }
        (
            StepKind::Ring {
                opcode,
                complete,
                helper,
                res,
            },
            lang,
        ) => ring_text(*opcode, *complete, *helper, *res, count, lang),
        (StepKind::Completion { sends, copied }, Lang::En) => format!(
            "the error queue says {} done{}: the buffer is the program's again",
            plural(*sends, "send is", "sends are"),
            if *copied {
                ", marked COPIED (SO_EE_CODE_ZEROCOPY_COPIED): the kernel copied them after all"
            } else {
                ", sent from the pinned pages themselves"
            }
        ),
        (StepKind::Completion { sends, copied }, Lang::Zh) => format!(
            "错误队列通知 {sends} 次发送已完成{}：缓冲区重新归程序所有",
            if *copied {
                "，并标记为 COPIED（SO_EE_CODE_ZEROCOPY_COPIED）：内核终究做了拷贝"
            } else {
                "，数据直接从被钉住的页面发出"
            }
        ),
        (
            StepKind::Move {
                movement,
                from,
                to,
                bytes,
            },
            _,
        ) => moved(*movement, *from, *to, *bytes, count, lang),
    }
}

fn ring_text(opcode: u8, complete: bool, helper: bool, res: i64, count: u64, lang: Lang) -> String {
    // Named as the table's strategies name their requests.
    let op = crate::strategy::request_name(opcode);
    let n = if count > 1 {
        format!(" ×{count}")
    } else {
        String::new()
    };
    match (complete, helper, lang) {
        (false, true, Lang::En) => format!(
            "the SQ thread takes {op}{n} from the submission ring: kernel work, no syscall by the sender"
        ),
        (false, true, Lang::Zh) => {
            format!("SQ 线程从提交队列取出 {op}{n}：内核代劳，发送方没有系统调用")
        }
        (false, false, Lang::En) => {
            format!("io_uring_enter hands {op}{n} from the submission ring to the kernel")
        }
        (false, false, Lang::Zh) => format!("io_uring_enter 把提交队列中的 {op}{n} 交给内核"),
        (true, _, Lang::En) => format!(
            "{op}{n} completes ({}): a CQE in the completion ring",
            ret_text(res)
        ),
        (true, _, Lang::Zh) => format!("{op}{n} 完成（{}）：完成队列中多了一个 CQE", ret_text(res)),
    }
}

fn ret_text(ret: i64) -> String {
    if ret >= 0 {
        fmt_bytes(ret as u64)
    } else {
        format!("error {ret}")
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

fn moved(m: Movement, from: Place, to: Place, bytes: u64, count: u64, lang: Lang) -> String {
    let b = fmt_bytes(bytes);
    let (f, t) = (place(from, lang), place(to, lang));
    match (m, from, to, lang) {
        (Movement::Dma, _, Place::Nic, Lang::En) => format!(
            "the NIC's DMA engine reads {b} out of memory onto the wire ({count} maps by its driver): no CPU copies them"
        ),
        (Movement::Dma, _, Place::Nic, Lang::Zh) => {
            format!(
                "网卡的 DMA 引擎从内存读出 {b} 发到线路上（驱动做了 {count} 次映射）：没有 CPU 拷贝"
            )
        }
        (Movement::Dma, _, _, Lang::En) => format!(
            "the disk fills the page cache with {b} (readahead): the DMA copy, only on a cache miss"
        ),
        (Movement::CpuCopy, _, Place::Peer, Lang::En) => format!(
            "the kernel says it copied {b} of the pinned pages anyway (SO_EE_CODE_ZEROCOPY_COPIED): the receiver is on this host, so it may not read the sender's pages"
        ),
        (Movement::CpuCopy, _, Place::Peer, Lang::Zh) => {
            format!(
                "内核报告 {b} 被钉住的页面终究被拷贝了（SO_EE_CODE_ZEROCOPY_COPIED）：接收方在本机，不能直接读取发送方的页面"
            )
        }
        (Movement::Pin, _, Place::Nic, Lang::En) => format!(
            "{b} reach the device as the program's own pinned pages ({count} skbs): no copy so far"
        ),
        (Movement::Pin, _, Place::Nic, Lang::Zh) => {
            format!("{b} 以程序自己被钉住的页面到达设备（{count} 个 skb）：到此为止没有拷贝")
        }
        (Movement::Pin, _, _, Lang::En) => format!(
            "the kernel pins {b} of the program's buffer and puts those pages in the skb: no copy, and the buffer is the kernel's until a completion returns it"
        ),
        (Movement::Pin, _, _, Lang::Zh) => {
            format!(
                "内核钉住程序缓冲区的 {b} 并把这些页面放进 skb：没有拷贝，在完成通知归还之前缓冲区归内核所有"
            )
        }
        (Movement::Dma, _, _, Lang::Zh) => {
            format!("磁盘把 {b} 读入页缓存（预读）：DMA 拷贝，仅在缓存未命中时发生")
        }
        (
            Movement::CpuCopy,
            Place::PageCache | Place::UserBuffer | Place::SocketBuffer,
            Place::Nic,
            Lang::En,
        ) => {
            format!(
                "the kernel copies {b} into {count} linear segments: the veth lacks scatter-gather, so the CPU copies at transmit"
            )
        }
        (
            Movement::CpuCopy,
            Place::PageCache | Place::UserBuffer | Place::SocketBuffer,
            Place::Nic,
            Lang::Zh,
        ) => {
            format!("内核把 {b} 拷贝成 {count} 个线性分段：veth 不支持分散/聚集，发送时由 CPU 拷贝")
        }
        (Movement::CpuCopy, _, _, Lang::En) => {
            format!("the CPU copies {b} from the {f} into the {t}")
        }
        (Movement::CpuCopy, _, _, Lang::Zh) => format!("CPU 把 {b} 从{f}拷贝到{t}"),
        (Movement::Reference, Place::UserBuffer, Place::Nic, Lang::En) => format!(
            "{b} reach the device as the program's own pages ({count} skbs): not copied, and still the program's buffer"
        ),
        (Movement::Reference, Place::UserBuffer, Place::Nic, Lang::Zh) => {
            format!(
                "{b} 以程序自己的页面到达设备（{count} 个 skb）：没有拷贝，它们仍是程序的缓冲区"
            )
        }
        (Movement::Reference, Place::UserBuffer, Place::Pipe, Lang::En) => format!(
            "vmsplice lends {b} of the program's own pages to the pipe: references, no copy, and no word on when they are free again"
        ),
        (Movement::Reference, Place::UserBuffer, Place::Pipe, Lang::Zh) => {
            format!(
                "vmsplice 把程序自己的 {b} 页面借给管道：只是引用，没有拷贝，也没有通知何时归还"
            )
        }
        (Movement::Reference, _, Place::Nic, Lang::En) => format!(
            "{b} reach the device as page-cache pages ({count} skbs): no CPU copy, the device gathers them"
        ),
        (Movement::Reference, _, Place::Nic, Lang::Zh) => {
            format!("{b} 以页缓存页面的形式到达设备（{count} 个 skb）：没有 CPU 拷贝，由设备聚集")
        }
        (Movement::Reference, _, Place::Pipe, Lang::En) => format!(
            "splice puts references to {b} of page-cache pages into the pipe: nothing is copied"
        ),
        (Movement::Reference, _, Place::Pipe, Lang::Zh) => {
            format!("splice 把 {b} 页缓存页面的引用放进管道：没有拷贝")
        }
        (Movement::Reference, Place::Pipe, _, Lang::En) => {
            format!("the skb takes the pipe's {b} of pages by reference: still nothing is copied")
        }
        (Movement::Reference, Place::Pipe, _, Lang::Zh) => {
            format!("skb 以引用方式接过管道中 {b} 的页面：仍然没有拷贝")
        }
        (Movement::Reference, _, _, Lang::En) => {
            format!("the skb takes {b} of page-cache pages by reference: nothing is copied here")
        }
        (Movement::Reference, _, _, Lang::Zh) => {
            format!("skb 以引用方式持有 {b} 的页缓存页面：此处没有拷贝")
        }
        (Movement::Mapping, _, _, Lang::En) => {
            format!("a fault maps {b} of page-cache pages into the process: shared, not copied")
        }
        (Movement::Mapping, _, _, Lang::Zh) => {
            format!("缺页把 {b} 的页缓存页面映射进进程：共享，而非拷贝")
        }
        (Movement::SoftwareTransmit, _, _, Lang::En) => format!(
            "the veth takes {b} in {count} skbs: software transmit, no DMA (there is no NIC)"
        ),
        (Movement::SoftwareTransmit, _, _, Lang::Zh) => {
            format!("veth 接收 {count} 个 skb 共 {b}：软件发送，没有 DMA（这里没有真实网卡）")
        }
        (Movement::Cipher, _, Place::Receiver, Lang::En) => format!(
            "the receiver's kernel opens {count} TLS records and writes {b} of plaintext straight into its buffer: one CPU pass, no copy beside it"
        ),
        (Movement::Cipher, _, Place::Receiver, Lang::Zh) => {
            format!(
                "接收方内核打开 {count} 个 TLS 记录，把 {b} 明文直接写进它的缓冲区：CPU 只过一遍，没有另外的拷贝"
            )
        }
        (Movement::Cipher, _, _, Lang::En) => format!(
            "kernel TLS seals {b} from the {f} into {count} records in the socket's own pages: the CPU reads every byte and writes ciphertext, so the pages that leave are no longer the file's"
        ),
        (Movement::Cipher, _, _, Lang::Zh) => format!(
            "内核 TLS 把{f}中的 {b} 封装成 {count} 个记录，写进套接字自己的页面：CPU 读过每个字节并写出密文，所以离开的页面已不再是文件的页面"
        ),
    }
}

/// Pads to a display width (CJK characters count two columns).
pub fn pad_to(s: &str, w: usize) -> String {
    use unicode_width::UnicodeWidthStr as _;
    let n = s.width();
    format!("{s}{}", " ".repeat(w.saturating_sub(n)))
}

/// Right-aligns to a display width.
pub fn lpad(s: &str, w: usize) -> String {
    use unicode_width::UnicodeWidthStr as _;
    let n = s.width();
    format!("{}{s}", " ".repeat(w.saturating_sub(n)))
}
