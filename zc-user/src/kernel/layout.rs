//! Kernel struct layouts, read from the running kernel's BTF at start-up.
//!
//! The eBPF programs read kernel structs with plain probe reads at fixed byte
//! offsets. Those offsets differ between kernel versions and configs, so
//! instead of compiling them in (one build per kernel), user space reads them
//! here from the kernel's own type information (`/sys/kernel/btf/vmlinux`)
//! and hands them to the programs as a [`KernelLayout`]. One build then runs
//! on every kernel that has the fields; a kernel lacking one is refused with
//! the field's name instead of being traced wrongly.
//!
//! What each group of fields is for:
//! - `sk_buff` (`len`, `data_len`, `head`, `end`, ...) and `skb_shared_info`
//!   (`nr_frags`, `frags`, gso): split an skb's payload into its linear part
//!   (bytes copied into the skb's own buffer) and its page frags.
//! - frag → `page` → `folio` → `address_space` → `inode` → `(s_dev, i_ino)`:
//!   follow a frag's page to the file it caches, to prove that the frag is a
//!   page-cache page of the demo file (zero copy) and not a private copy.
//! - `msghdr` → `iov_iter` type and count: tell a send from user memory
//!   (`ITER_UBUF`/`ITER_IOVEC`: the kernel copies) from a splice
//!   (`ITER_BVEC`: the kernel takes page references).

use std::io;
use std::path::{Path, PathBuf};

use btf_rs::{Struct, Type};

use super::{btf::KernelBtf, probes::PROBES};
use zc_common::layout::{IterKinds, KernelLayout, NO_FIELD};

/// Where the running kernel exposes its BTF.
pub const VMLINUX_BTF: &str = "/sys/kernel/btf/vmlinux";

/// The `pt_regs` members holding a syscall's first four arguments, its
/// number (as `syscall_get_nr` reads it) and the instruction pointer.
#[cfg(target_arch = "x86_64")]
const REGS: [&str; 6] = ["di", "si", "dx", "r10", "orig_ax", "ip"];
/// Elsewhere the names differ; zc's syscall tables are x86-64's too.
#[cfg(not(target_arch = "x86_64"))]
const REGS: [&str; 6] = ["x86_64 di", "si", "dx", "r10", "orig_ax", "ip"];

/// BTF has no pointer size; zc only supports 64-bit kernels (its eBPF side
/// also relies on `sk_buff.end` being an offset, which holds only there).
const PTR_SIZE: usize = 8;

/// Bound on typedef chains and anonymous-member nesting, so that malformed
/// BTF cannot make us loop forever.
const MAX_DEPTH: usize = 32;

/// Why the kernel's layout could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    #[error(
        "cannot read kernel BTF {path}: {source} (zc needs a kernel built with CONFIG_DEBUG_INFO_BTF=y)"
    )]
    NoBtf {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot parse kernel BTF {path}: {source}")]
    Parse {
        path: PathBuf,
        #[source]
        source: btf_rs::Error,
    },
    #[error("kernel BTF is malformed: {0}")]
    Malformed(String),
    #[error("this kernel lacks what zc's eBPF side needs: {0} (`zc doctor` lists each)")]
    TooOld(String),
    #[error("kernel BTF has no type {0}: this kernel's layout is not supported")]
    MissingType(String),
    #[error("kernel BTF has no field {ty}.{field}: this kernel's layout is not supported")]
    MissingField { ty: String, field: String },
    #[error("kernel field {ty}.{field} is a bitfield: this kernel's layout is not supported")]
    Bitfield { ty: String, field: String },
    #[error(
        "kernel field {ty}.{field} starts at bit {bit_offset}, not on a byte: this kernel's layout is not supported"
    )]
    Unaligned {
        ty: String,
        field: String,
        bit_offset: u64,
    },
    #[error(
        "kernel field {ty}.{field} is {actual} bytes, zc expects {expected}: this kernel's layout is not supported"
    )]
    FieldSize {
        ty: String,
        field: String,
        expected: usize,
        actual: usize,
    },
    #[error("kernel field {ty}.{field} is not {expected}: this kernel's layout is not supported")]
    FieldKind {
        ty: String,
        field: String,
        expected: &'static str,
    },
    #[error("kernel BTF has no value {value} in enum {ty}: this kernel's layout is not supported")]
    MissingEnumValue { ty: String, value: String },
    #[error("kernel enum value {ty}::{value} is {actual}, zc expects 0..=255")]
    EnumRange {
        ty: String,
        value: String,
        actual: u64,
    },
}

impl From<btf_rs::Error> for LayoutError {
    fn from(e: btf_rs::Error) -> Self {
        // Lookups in an already parsed BTF only fail on dangling ids/names.
        Self::Malformed(e.to_string())
    }
}

type Result<T> = std::result::Result<T, LayoutError>;

/// The running kernel's types: its BTF, against which the tracepoints'
/// prototypes are checked, and the struct layout read from it.
pub struct KernelTypes {
    pub btf: KernelBtf,
    pub layout: KernelLayout,
}

/// The structs and enums the layout is read from.
const TYPES: &[&str] = &[
    "sk_buff",
    "sock_exterr_skb",
    "skb_shared_info",
    "page",
    "folio",
    "address_space",
    "inode",
    "super_block",
    "msghdr",
    "iov_iter",
    "iter_type",
    "sock_common",
    "pt_regs",
    "task_struct",
    "signal_struct",
    "io_kiocb",
    "io_cqe",
    "io_ring_ctx",
    "io_uring_cqe",
    "pageflags",
    "bio",
    "bvec_iter",
    "block_device",
    "gendisk",
    "scatterlist",
    "req_op",
    "kiocb",
    "file",
    "vm_fault",
    "vm_area_struct",
    "tcp_sock",
    "tcp_skb_cb",
    "net_device",
    "device",
    "net",
    "sock_flags",
    "files_struct",
    "fdtable",
    "request",
    "request_queue",
    "socket",
    "sock",
];

/// Every name zc looks up in the kernel's BTF: the layout's types and each
/// probe's tracepoint prototype.
pub fn names() -> Vec<String> {
    TYPES
        .iter()
        .copied()
        .chain(super::features::names())
        .map(|t| t.to_string())
        .chain(
            PROBES
                .iter()
                .flat_map(|p| p.sources())
                .map(|s| match s.hook {
                    super::probes::Hook::TpBtf => super::prototype::typedef(s.name()),
                    super::probes::Hook::Fentry | super::probes::Hook::Fexit => {
                        s.name().to_string()
                    }
                }),
        )
        .collect()
}

/// Reads the running kernel's BTF ([`VMLINUX_BTF`]) and its layout.
pub fn running_kernel() -> std::result::Result<KernelTypes, LayoutError> {
    let t0 = std::time::Instant::now();
    let types = types_from_file(Path::new(VMLINUX_BTF));
    if std::env::var_os("ZC_TIMING").is_some() {
        eprintln!("zc: timing: kernel types (BTF, layout) {:?}", t0.elapsed());
    }
    types
}

/// Opens a BTF file (a kernel's `vmlinux` BTF) and reads the layout in it.
pub fn types_from_file(path: &Path) -> std::result::Result<KernelTypes, LayoutError> {
    let btf = KernelBtf::open(path, &names()).map_err(|e| match e {
        super::btf::OpenError::Read(source) => LayoutError::NoBtf {
            path: path.to_path_buf(),
            source,
        },
        super::btf::OpenError::Parse(source) => LayoutError::Parse {
            path: path.to_path_buf(),
            source,
        },
    })?;
    // A kernel too old for zc is told so by what it lacks, before the
    // layout trips over the first struct that came with one of those.
    let lacking = super::features::missing(&btf);
    if !lacking.is_empty() {
        return Err(LayoutError::TooOld(
            lacking
                .iter()
                .map(|f| format!("{} (Linux {})", f.name, f.since))
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }
    let layout = from_btf(&btf)?;
    Ok(KernelTypes { btf, layout })
}

/// The layout in an opened kernel BTF.
pub(crate) fn from_btf(btf: &KernelBtf) -> Result<KernelLayout> {
    let (
        _,
        [
            len,
            data_len,
            head,
            end,
            sk,
            mac_header,
            transport_header,
            cb,
            skb_dev,
        ],
    ) = lookup(
        btf,
        "sk_buff",
        [
            "len",
            "data_len",
            "head",
            "end",
            "sk",
            "mac_header",
            "transport_header",
            "cb",
            "dev",
        ],
    )?;
    let (_, [ee]) = lookup(btf, "sock_exterr_skb", ["ee"])?;
    let (_, [sh_flags, nr_frags, gso_size, gso_segs, frags]) = lookup(
        btf,
        "skb_shared_info",
        ["flags", "nr_frags", "gso_size", "gso_segs", "frags"],
    )?;

    // The frag type is whatever skb_shared_info.frags holds: `struct skb_frag`
    // (netmem, len) today, `struct bio_vec` (bv_page, bv_len) on older kernels.
    let frag = frag_struct(btf, &frags)?;
    let frag_ty = btf.resolve_name(&frag)?;
    let frag_netmem = field_either(btf, &frag_ty, &frag, &["netmem", "bv_page"])?;
    let frag_len = field_either(btf, &frag_ty, &frag, &["len", "bv_len"])?;

    let page = structs_named(btf, "page")?
        .into_iter()
        .next()
        .ok_or_else(|| LayoutError::MissingType("struct page".into()))?;
    let compound_head = field_either(btf, "page", &page, &["compound_head", "compound_info"])?;
    let (_, [mapping, index]) = lookup(btf, "folio", ["mapping", "index"])?;
    let (_, [host]) = lookup(btf, "address_space", ["host"])?;
    let (_, [i_ino, i_sb]) = lookup(btf, "inode", ["i_ino", "i_sb"])?;
    let (_, [s_dev]) = lookup(btf, "super_block", ["s_dev"])?;
    let (_, [msg_flags, msg_iter, msg_ubuf]) =
        lookup(btf, "msghdr", ["msg_flags", "msg_iter", "msg_ubuf"])?;
    let (_, [iter_type, count]) = lookup(btf, "iov_iter", ["iter_type", "count"])?;
    let [ubuf, iovec, bvec] =
        enum_values(btf, "iter_type", ["ITER_UBUF", "ITER_IOVEC", "ITER_BVEC"])?;
    let (_, [family, daddr, rcv_saddr, dport, num, v6_daddr, v6_rcv_saddr]) = lookup(
        btf,
        "sock_common",
        [
            "skc_family",
            "skc_daddr",
            "skc_rcv_saddr",
            "skc_dport",
            "skc_num",
            "skc_v6_daddr",
            "skc_v6_rcv_saddr",
        ],
    )?;

    let (_, [arg0, arg1, arg2, arg3, syscall_nr, ip]) = lookup(btf, "pt_regs", REGS)?;
    let (_, [pid, comm, signal, exit_state, files]) = lookup(
        btf,
        "task_struct",
        ["pid", "comm", "signal", "exit_state", "files"],
    )?;
    let (_, [fdt]) = lookup(btf, "files_struct", ["fdt"])?;
    let (_, [fd_array, max_fds]) = lookup(btf, "fdtable", ["fd", "max_fds"])?;
    let (_, [live]) = lookup(btf, "signal_struct", ["live"])?;
    let (_, [req_ctx, opcode, req_cqe]) = lookup(btf, "io_kiocb", ["ctx", "opcode", "cqe"])?;
    let (_, [cqe_data]) = lookup(btf, "io_cqe", ["user_data"])?;
    let (_, [ring_flags]) = lookup(btf, "io_ring_ctx", ["flags"])?;
    let (_, [cqe_user_data, cqe_res, cqe_flags]) =
        lookup(btf, "io_uring_cqe", ["user_data", "res", "flags"])?;
    let (_, [i_rdev]) = lookup(btf, "inode", ["i_rdev"])?;
    let (_, [folio_flags, flags_1]) = lookup(btf, "folio", ["flags", "_flags_1"])?;
    let [pg_head] = enum_values(btf, "pageflags", ["PG_head"])?;
    let (_, [bi_bdev, bi_opf, bi_iter]) = lookup(btf, "bio", ["bi_bdev", "bi_opf", "bi_iter"])?;
    let (_, [bi_sector, bi_size]) = lookup(btf, "bvec_iter", ["bi_sector", "bi_size"])?;
    let (_, [bd_disk]) = lookup(btf, "block_device", ["bd_disk"])?;
    let (_, [major, first_minor]) = lookup(btf, "gendisk", ["major", "first_minor"])?;
    let [req_op_read] = enum_values(btf, "req_op", ["REQ_OP_READ"])?;
    let (_, [rq_q, rq_sector]) = lookup(btf, "request", ["q", "__sector"])?;
    let (_, [queue_disk]) = lookup(btf, "request_queue", ["disk"])?;
    let (_, [ki_filp, ki_pos]) = lookup(btf, "kiocb", ["ki_filp", "ki_pos"])?;
    let (_, [f_mapping, f_inode]) = lookup(btf, "file", ["f_mapping", "f_inode"])?;
    let (_, [i_size, i_mode]) = lookup(btf, "inode", ["i_size", "i_mode"])?;
    let (_, [private_data]) = lookup(btf, "file", ["private_data"])?;
    let (_, [socket_sk]) = lookup(btf, "socket", ["sk"])?;
    let (_, [sk_protocol, sk_type]) = lookup(btf, "sock", ["sk_protocol", "sk_type"])?;
    let (sg, [sg_page_link, sg_offset, sg_length]) =
        lookup(btf, "scatterlist", ["page_link", "offset", "length"])?;
    let (_, [vmf_vma, vmf_pgoff, vmf_pte]) = lookup(btf, "vm_fault", ["vma", "pgoff", "pte"])?;
    let (_, [vm_file]) = lookup(btf, "vm_area_struct", ["vm_file"])?;
    let (_, [skc_flags]) = lookup(btf, "sock_common", ["skc_flags"])?;
    let [sock_done] = enum_values(btf, "sock_flags", ["SOCK_DONE"])?;
    let (
        _,
        [
            bytes_sent,
            bytes_retrans,
            bytes_received,
            rcv_nxt,
            copied_seq,
            write_seq,
        ],
    ) = lookup(
        btf,
        "tcp_sock",
        [
            "bytes_sent",
            "bytes_retrans",
            "bytes_received",
            "rcv_nxt",
            "copied_seq",
            "write_seq",
        ],
    )?;
    let (_, [cb_seq]) = lookup(btf, "tcp_skb_cb", ["seq"])?;
    let (_, [ptype_all, nd_net, ifindex, netdev_dev]) =
        lookup(btf, "net_device", ["ptype_all", "nd_net", "ifindex", "dev"])?;
    let (_, [device_parent]) = lookup(btf, "device", ["parent"])?;
    let (_, [skb_data]) = lookup(btf, "sk_buff", ["data"])?;
    // Per-namespace taps are newer than the oldest kernels zc runs on.
    let net_ptype_all = lookup(btf, "net", ["ptype_all"]).map_or(NO_FIELD, |(_, [f])| f.offset);

    // Sizes are checked where the eBPF side reads the field with a fixed width.
    Ok(KernelLayout {
        skb_len: len.sized(4)?,
        skb_data_len: data_len.sized(4)?,
        skb_head: head.offset,
        skb_end: end.sized(4)?,
        skb_sk: sk.offset,
        skb_mac_header: mac_header.sized(2)?,
        skb_transport_header: transport_header.sized(2)?,
        skb_cb: cb.offset,
        exterr_ee: ee.offset,
        shinfo_flags: sh_flags.sized(1)?,
        shinfo_nr_frags: nr_frags.sized(1)?,
        shinfo_gso_size: gso_size.sized(2)?,
        shinfo_gso_segs: gso_segs.sized(2)?,
        shinfo_frags: frags.offset,
        frag_size: to_u32(frag.size(), "sizeof(skb_frag)")?,
        frag_netmem: frag_netmem.sized(8)?,
        frag_len: frag_len.offset,
        page_size: to_u32(page.size(), "sizeof(page)")?,
        page_compound_head: compound_head.sized(8)?,
        folio_mapping: mapping.offset,
        folio_index: index.offset,
        mapping_host: host.offset,
        inode_ino: i_ino.sized(8)?,
        inode_sb: i_sb.offset,
        sb_dev: s_dev.sized(4)?,
        msghdr_flags: msg_flags.sized(4)?,
        msghdr_iter: msg_iter.offset,
        msghdr_ubuf: msg_ubuf.sized(8)?,
        iter_type: iter_type.sized(1)?,
        iter_count: count.offset,
        iter_kinds: IterKinds {
            ubuf,
            iovec,
            bvec,
            _pad: 0,
        },
        skc_family: family.sized(2)?,
        skc_daddr: daddr.sized(4)?,
        skc_rcv_saddr: rcv_saddr.sized(4)?,
        skc_dport: dport.sized(2)?,
        skc_num: num.sized(2)?,
        skc_v6_daddr: v6_daddr.sized(16)?,
        skc_v6_rcv_saddr: v6_rcv_saddr.sized(16)?,
        regs_arg0: arg0.sized(8)?,
        regs_arg1: arg1.sized(8)?,
        regs_arg2: arg2.sized(8)?,
        regs_arg3: arg3.sized(8)?,
        regs_syscall_nr: syscall_nr.sized(8)?,
        regs_ip: ip.sized(8)?,
        task_pid: pid.sized(4)?,
        task_comm: comm.sized(16)?,
        task_signal: signal.sized(8)?,
        signal_live: live.sized(4)?,
        kiocb_ctx: req_ctx.sized(8)?,
        kiocb_opcode: opcode.sized(1)?,
        kiocb_user_data: req_cqe.offset + cqe_data.sized(8)?,
        ring_flags: ring_flags.sized(4)?,
        cqe_user_data: cqe_user_data.sized(8)?,
        cqe_res: cqe_res.sized(4)?,
        cqe_flags: cqe_flags.sized(4)?,
        inode_rdev: i_rdev.sized(4)?,
        folio_flags: folio_flags.sized(8)?,
        folio_flags_1: flags_1.sized(8)?,
        pg_head: u32::from(pg_head),
        bio_bdev: bi_bdev.sized(8)?,
        bio_opf: bi_opf.sized(4)?,
        bio_sector: bi_iter.offset + bi_sector.sized(8)?,
        bio_size: bi_iter.offset + bi_size.sized(4)?,
        bdev_disk: bd_disk.sized(8)?,
        disk_major: major.sized(4)?,
        disk_first_minor: first_minor.sized(4)?,
        req_op_read: u32::from(req_op_read),
        rq_q: rq_q.sized(8)?,
        rq_sector: rq_sector.sized(8)?,
        queue_disk: queue_disk.sized(8)?,
        iocb_filp: ki_filp.sized(8)?,
        iocb_pos: ki_pos.sized(8)?,
        file_mapping: f_mapping.sized(8)?,
        inode_size: i_size.sized(8)?,
        vmf_vma: vmf_vma.sized(8)?,
        vmf_pgoff: vmf_pgoff.sized(8)?,
        vmf_pte: vmf_pte.sized(8)?,
        vma_file: vm_file.sized(8)?,
        task_exit_state: exit_state.sized(4)?,
        task_files: files.sized(8)?,
        file_inode: f_inode.sized(8)?,
        files_fdt: fdt.sized(8)?,
        fdtable_fd: fd_array.sized(8)?,
        fdtable_max_fds: max_fds.sized(4)?,
        tcp_bytes_sent: bytes_sent.sized(8)?,
        tcp_bytes_retrans: bytes_retrans.sized(8)?,
        tcp_bytes_received: bytes_received.sized(8)?,
        tcp_rcv_nxt: rcv_nxt.sized(4)?,
        tcp_copied_seq: copied_seq.sized(4)?,
        skc_flags: skc_flags.sized(8)?,
        sock_done_bit: u32::from(sock_done),
        tcp_write_seq: write_seq.sized(4)?,
        tcp_cb_seq: cb_seq.sized(4)?,
        skb_dev: skb_dev.sized(8)?,
        netdev_ptype_all: ptype_all.offset,
        netdev_nd_net: nd_net.sized(8)?,
        net_ptype_all,
        inode_mode: i_mode.sized(2)?,
        file_private_data: private_data.sized(8)?,
        socket_sk: socket_sk.sized(8)?,
        sk_protocol: sk_protocol.sized(2)?,
        sk_type: sk_type.sized(2)?,
        sg_page_link: sg_page_link.sized(8)?,
        sg_offset: sg_offset.sized(4)?,
        sg_length: sg_length.sized(4)?,
        sg_size: to_u32(sg.size(), "sizeof(scatterlist)")?,
        skb_data: skb_data.sized(8)?,
        netdev_ifindex: ifindex.sized(4)?,
        netdev_dev_parent: netdev_dev.offset + device_parent.sized(8)?,
        valid: 1,
    })
}

/// A field found in a struct: where it is and how large it is.
#[derive(Clone, Debug)]
struct Field {
    ty: String,
    name: String,
    /// Bytes from the start of the outermost struct.
    offset: u32,
    size: usize,
    /// The field's type, unresolved (may be a typedef).
    r#type: Type,
}

impl Field {
    /// The offset, once the size is the one the eBPF side reads.
    fn sized(&self, expected: usize) -> Result<u32> {
        if self.size != expected {
            return Err(LayoutError::FieldSize {
                ty: self.ty.clone(),
                field: self.name.clone(),
                expected,
                actual: self.size,
            });
        }
        Ok(self.offset)
    }
}

fn to_u32(v: usize, what: &str) -> Result<u32> {
    u32::try_from(v).map_err(|_| LayoutError::Malformed(format!("{what} is {v}, beyond u32")))
}

/// Finds `fields` in the struct named `ty`. BTF can hold several types of
/// that name (forward declarations, or rarely two definitions): the first
/// real struct/union holding all the fields wins.
fn lookup<const N: usize>(
    btf: &KernelBtf,
    ty: &str,
    fields: [&str; N],
) -> Result<(Struct, [Field; N])> {
    let mut first_err = None;
    for s in structs_named(btf, ty)? {
        let found: Result<Vec<Field>> = fields.iter().map(|f| field_in(btf, ty, &s, f)).collect();
        match found.map(<[Field; N]>::try_from) {
            Ok(Ok(found)) => return Ok((s, found)),
            // A Vec of N results always converts to [_; N].
            Ok(Err(_)) => return Err(LayoutError::Malformed(format!("lookup of {ty}"))),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    Err(first_err.unwrap_or_else(|| LayoutError::MissingType(format!("struct {ty}"))))
}

/// The structs and unions named `name` that have members (not `Fwd`s or
/// empty declarations).
fn structs_named(btf: &KernelBtf, name: &str) -> Result<Vec<Struct>> {
    Ok(btf
        .types_named(name)?
        .into_iter()
        .filter_map(|t| match t {
            Type::Struct(s) | Type::Union(s) if !s.members.is_empty() => Some(s),
            _ => None,
        })
        .collect())
}

/// Finds the first of `names` present in `s` (for fields renamed across
/// kernel versions). If none is, the error names the first (current) one.
fn field_either(btf: &KernelBtf, ty: &str, s: &Struct, names: &[&str]) -> Result<Field> {
    let mut first_err = None;
    for name in names {
        match field_in(btf, ty, s, name) {
            Ok(f) => return Ok(f),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    Err(first_err.unwrap_or_else(|| LayoutError::MissingType(ty.to_string())))
}

/// Finds field `name` in `s`, searching anonymous members at any depth.
fn field_in(btf: &KernelBtf, ty: &str, s: &Struct, name: &str) -> Result<Field> {
    let missing = || LayoutError::MissingField {
        ty: ty.to_string(),
        field: name.to_string(),
    };
    let (bit_offset, member) = find_member(btf, s, name, 0)?.ok_or_else(missing)?;
    // With kind_flag set, a non-zero bitfield size marks a bitfield; the
    // eBPF side reads whole bytes only.
    if member.bitfield_size().unwrap_or(0) != 0 {
        return Err(LayoutError::Bitfield {
            ty: ty.to_string(),
            field: name.to_string(),
        });
    }
    if bit_offset % 8 != 0 {
        return Err(LayoutError::Unaligned {
            ty: ty.to_string(),
            field: name.to_string(),
            bit_offset,
        });
    }
    let offset = u32::try_from(bit_offset / 8)
        .map_err(|_| LayoutError::Malformed(format!("offset of {ty}.{name} beyond u32")))?;
    let r#type = btf.resolve_chained_type(&member)?;
    Ok(Field {
        ty: ty.to_string(),
        name: name.to_string(),
        offset,
        size: type_size(btf, &r#type, 0)?,
        r#type,
    })
}

/// The member named `name` and its offset in bits from the start of `s`,
/// looking into anonymous struct/union members (adding their offsets).
fn find_member(
    btf: &KernelBtf,
    s: &Struct,
    name: &str,
    depth: usize,
) -> Result<Option<(u64, btf_rs::Member)>> {
    if depth > MAX_DEPTH {
        return Err(LayoutError::Malformed(format!(
            "anonymous members nested deeper than {MAX_DEPTH}"
        )));
    }
    for m in &s.members {
        let m_name = btf.resolve_name(m)?;
        if m_name == name {
            return Ok(Some((u64::from(m.bit_offset()), m.clone())));
        }
        if m_name.is_empty() {
            // Anonymous non-struct members are bitfield padding (`int :3`): skip.
            if let Type::Struct(inner) | Type::Union(inner) =
                strip(btf, btf.resolve_chained_type(m)?)?
                && let Some((off, found)) = find_member(btf, &inner, name, depth + 1)?
            {
                return Ok(Some((u64::from(m.bit_offset()) + off, found)));
            }
        }
    }
    Ok(None)
}

/// Resolves typedefs and qualifiers down to the underlying type.
fn strip(btf: &KernelBtf, mut ty: Type) -> Result<Type> {
    for _ in 0..MAX_DEPTH {
        ty = match &ty {
            Type::Typedef(t) => btf.resolve_chained_type(t)?,
            Type::Const(t) | Type::Volatile(t) | Type::Restrict(t) => {
                btf.resolve_chained_type(t)?
            }
            Type::TypeTag(t) => btf.resolve_chained_type(t)?,
            _ => return Ok(ty),
        };
    }
    Err(LayoutError::Malformed(format!(
        "typedef chain longer than {MAX_DEPTH}"
    )))
}

/// Size in bytes of a type, as `sizeof` would give it.
fn type_size(btf: &KernelBtf, ty: &Type, depth: usize) -> Result<usize> {
    if depth > MAX_DEPTH {
        return Err(LayoutError::Malformed(format!(
            "arrays nested deeper than {MAX_DEPTH}"
        )));
    }
    Ok(match strip(btf, ty.clone())? {
        Type::Int(t) => t.size(),
        Type::Struct(t) | Type::Union(t) => t.size(),
        Type::Enum(t) => t.size(),
        Type::Enum64(t) => t.size(),
        Type::Float(t) => t.size(),
        Type::Ptr(_) => PTR_SIZE,
        Type::Array(a) => {
            let elem = type_size(btf, &btf.resolve_chained_type(&a)?, depth + 1)?;
            a.len()
                .checked_mul(elem)
                .ok_or_else(|| LayoutError::Malformed("array size overflows".to_string()))?
        }
        other => {
            return Err(LayoutError::Malformed(format!(
                "a {} has no size",
                other.name()
            )));
        }
    })
}

/// The element struct of `skb_shared_info.frags` (an array of `skb_frag_t`).
fn frag_struct(btf: &KernelBtf, frags: &Field) -> Result<Struct> {
    let not = |expected| LayoutError::FieldKind {
        ty: frags.ty.clone(),
        field: frags.name.clone(),
        expected,
    };
    let Type::Array(a) = strip(btf, frags.r#type.clone())? else {
        return Err(not("an array"));
    };
    match strip(btf, btf.resolve_chained_type(&a)?)? {
        Type::Struct(s) if !s.members.is_empty() => Ok(s),
        _ => Err(not("an array of structs")),
    }
}

/// Values of the enumerators `names` of enum `ty`, which must fit a byte
/// (the eBPF side compares them with the u8 `iov_iter.iter_type`).
fn enum_values<const N: usize>(btf: &KernelBtf, ty: &str, names: [&str; N]) -> Result<[u8; N]> {
    let mut candidates: Vec<Vec<(String, u64)>> = Vec::new();
    for t in btf.types_named(ty)? {
        let values = match t {
            Type::Enum(e) => e
                .members
                .iter()
                .map(|m| Ok((btf.resolve_name(m)?, u64::from(m.val()))))
                .collect::<Result<Vec<_>>>()?,
            Type::Enum64(e) => e
                .members
                .iter()
                .map(|m| Ok((btf.resolve_name(m)?, m.val())))
                .collect::<Result<Vec<_>>>()?,
            _ => continue,
        };
        candidates.push(values);
    }
    if candidates.is_empty() {
        return Err(LayoutError::MissingType(format!("enum {ty}")));
    }

    let mut out = [0u8; N];
    for (slot, name) in out.iter_mut().zip(names) {
        let value = candidates
            .iter()
            .find_map(|c| c.iter().find(|(n, _)| n == name).map(|(_, v)| *v))
            .ok_or_else(|| LayoutError::MissingEnumValue {
                ty: ty.to_string(),
                value: name.to_string(),
            })?;
        *slot = u8::try_from(value).map_err(|_| LayoutError::EnumRange {
            ty: ty.to_string(),
            value: name.to_string(),
            actual: value,
        })?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use btf_rs::Btf;

    /// The layout of the running kernel, or None (with a loud note) when it
    /// has no BTF, so that the suite still runs on such machines.
    fn running() -> Option<KernelLayout> {
        if !Path::new(VMLINUX_BTF).exists() {
            crate::skipped(&format!("(no {VMLINUX_BTF})"));
            return None;
        }
        Some(
            running_kernel()
                .expect("layout of the running kernel")
                .layout,
        )
    }

    fn assert_distinct(what: &str, offsets: &[u32]) {
        let mut sorted = offsets.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), offsets.len(), "{what}: {offsets:?}");
    }

    #[test]
    fn running_kernel_layout_is_complete() {
        let Some(l) = running() else { return };
        assert_eq!(l.valid, 1);
        assert_eq!(l.frag_size, 16);
        #[cfg(target_arch = "x86_64")]
        assert_eq!(l.page_size, 64);

        assert_distinct(
            "sk_buff",
            &[
                l.skb_len,
                l.skb_data_len,
                l.skb_head,
                l.skb_end,
                l.skb_sk,
                l.skb_mac_header,
                l.skb_transport_header,
                l.skb_cb,
            ],
        );
        // The extended error fits the control buffer (48 bytes).
        assert!(l.exterr_ee + 16 <= 48);
        assert_distinct(
            "skb_shared_info",
            &[
                l.shinfo_flags,
                l.shinfo_nr_frags,
                l.shinfo_gso_size,
                l.shinfo_gso_segs,
                l.shinfo_frags,
            ],
        );
        assert_distinct("skb_frag", &[l.frag_netmem, l.frag_len]);
        assert_distinct("folio", &[l.folio_mapping, l.folio_index]);
        assert_distinct("inode", &[l.inode_ino, l.inode_sb]);
        assert_distinct("msghdr", &[l.msghdr_flags, l.msghdr_iter, l.msghdr_ubuf]);
        assert_distinct("iov_iter", &[l.iter_type, l.iter_count]);
        let k = l.iter_kinds;
        assert_distinct(
            "iter_type",
            &[u32::from(k.ubuf), u32::from(k.iovec), u32::from(k.bvec)],
        );

        // Fields the eBPF side reads with a fixed width fit their struct.
        assert!(l.frag_len + 4 <= l.frag_size);
        assert!(l.frag_netmem + 8 <= l.frag_size);
        assert!(l.page_compound_head + 8 <= l.page_size);
        // The frags array ends the fixed part of skb_shared_info, after gso.
        assert!(l.shinfo_frags > l.shinfo_gso_segs);
    }

    /// Values computed once on a 6.18 x86_64 kernel from
    /// `bpftool btf dump file /sys/kernel/btf/vmlinux` (member bits_offset / 8,
    /// through the anonymous members; the fields from `pt_regs` on with
    /// `offsetof` in a C program built against `bpftool btf dump ... format
    /// c`, checked against the raw dump where the two differed). Other kernels differ, hence the gate;
    /// a 6.18 built with a very different config could too.
    #[test]
    fn running_kernel_matches_bpftool_on_6_18() {
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
        if !release.starts_with("6.18") || !cfg!(target_arch = "x86_64") {
            crate::skipped(&format!(
                "(pinned offsets are for 6.18 x86_64, running {release:?})"
            ));
            return;
        }
        let Some(l) = running() else { return };
        let expected = KernelLayout {
            skb_len: 112,
            skb_data_len: 116,
            skb_head: 192,
            skb_end: 188,
            skb_sk: 24,
            skb_mac_header: 182,
            skb_transport_header: 178,
            skb_cb: 40,
            exterr_ee: 24,
            shinfo_flags: 0,
            shinfo_nr_frags: 2,
            shinfo_gso_size: 4,
            shinfo_gso_segs: 6,
            shinfo_frags: 48,
            frag_size: 16,
            frag_netmem: 0,
            frag_len: 8,
            page_size: 64,
            page_compound_head: 8,
            folio_mapping: 24,
            folio_index: 32,
            mapping_host: 0,
            inode_ino: 64,
            inode_sb: 40,
            sb_dev: 16,
            msghdr_flags: 68,
            msghdr_iter: 16,
            msghdr_ubuf: 80,
            iter_type: 0,
            iter_count: 24,
            iter_kinds: IterKinds {
                ubuf: 0,
                iovec: 1,
                bvec: 2,
                _pad: 0,
            },
            skc_family: 16,
            skc_daddr: 0,
            skc_rcv_saddr: 4,
            skc_dport: 12,
            skc_num: 14,
            skc_v6_daddr: 56,
            skc_v6_rcv_saddr: 72,
            regs_arg0: 112,
            regs_arg1: 104,
            regs_arg2: 96,
            regs_arg3: 56,
            regs_syscall_nr: 120,
            regs_ip: 128,
            task_pid: 1264,
            task_comm: 1752,
            task_signal: 1848,
            signal_live: 4,
            kiocb_ctx: 96,
            kiocb_opcode: 64,
            kiocb_user_data: 80,
            ring_flags: 0,
            cqe_user_data: 0,
            cqe_res: 8,
            cqe_flags: 12,
            inode_rdev: 76,
            folio_flags: 0,
            folio_flags_1: 64,
            pg_head: 6,
            // `enum rw_hint` is a packed one-byte enum, so bi_iter starts
            // at 32: `offsetof` through bpftool's C dump, which loses the
            // packing, said 36.
            bio_bdev: 8,
            bio_opf: 16,
            bio_sector: 32,
            bio_size: 40,
            bdev_disk: 16,
            disk_major: 0,
            disk_first_minor: 4,
            req_op_read: 0,
            rq_q: 0,
            rq_sector: 48,
            queue_disk: 104,
            // offsetof through bpftool's C dump of this kernel's BTF.
            iocb_filp: 0,
            iocb_pos: 8,
            file_mapping: 16,
            inode_size: 80,
            vmf_vma: 0,
            vmf_pgoff: 16,
            vmf_pte: 88,
            vma_file: 88,
            task_exit_state: 1160,
            task_files: 1824,
            file_inode: 32,
            files_fdt: 32,
            fdtable_fd: 8,
            fdtable_max_fds: 0,
            tcp_bytes_sent: 1544,
            tcp_bytes_retrans: 2192,
            tcp_bytes_received: 1752,
            tcp_rcv_nxt: 1664,
            tcp_copied_seq: 1464,
            skc_flags: 96,
            sock_done_bit: 1,
            tcp_write_seq: 1576,
            tcp_cb_seq: 0,
            skb_dev: 16,
            netdev_ptype_all: 400,
            netdev_nd_net: 264,
            net_ptype_all: 72,
            inode_mode: 0,
            file_private_data: 24,
            socket_sk: 24,
            sk_protocol: 532,
            sk_type: 534,
            // include/linux/scatterlist.h: page_link, offset, length,
            // dma_address, dma_length, dma_flags.
            sg_page_link: 0,
            sg_offset: 8,
            sg_length: 12,
            sg_size: 32,
            // pahole of this kernel's BTF: sk_buff.data, net_device.ifindex,
            // net_device.dev (1344) + device.parent (64).
            skb_data: 200,
            netdev_ifindex: 224,
            netdev_dev_parent: 1408,
            valid: 1,
        };
        assert_eq!(l, expected);
    }

    #[test]
    fn missing_file_is_no_btf_with_one_line_message() {
        let path = Path::new("/nonexistent/zc/vmlinux");
        let Err(err) = types_from_file(path) else {
            panic!("no such file, yet a layout")
        };
        assert!(matches!(err, LayoutError::NoBtf { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(!msg.contains('\n'), "{msg}");
        assert!(msg.contains("/nonexistent/zc/vmlinux"), "{msg}");
    }

    #[test]
    fn garbage_file_is_parse_error() {
        let path = std::env::temp_dir().join(format!("zc-layout-garbage-{}", std::process::id()));
        std::fs::write(&path, b"this is not BTF at all, not even close").expect("write temp");
        let Err(err) = types_from_file(&path) else {
            panic!("not BTF, yet a layout")
        };
        std::fs::remove_file(&path).ok();
        assert!(matches!(err, LayoutError::Parse { .. }), "{err:?}");
        assert!(!err.to_string().contains('\n'));
    }

    /// A minimal little-endian BTF blob: `types` are the raw type records,
    /// `strings` the string section (starting with the empty name).
    fn btf_blob(types: &[u32], strings: &[u8]) -> Vec<u8> {
        let type_len = u32::try_from(types.len() * 4).expect("small");
        let str_len = u32::try_from(strings.len()).expect("small");
        let mut b = Vec::new();
        b.extend_from_slice(&0xeb9f_u16.to_le_bytes());
        b.extend_from_slice(&[1, 0]); // version, flags
        for w in [24, 0, type_len, type_len, str_len] {
            b.extend_from_slice(&u32::to_le_bytes(w)); // hdr_len, type_off/len, str_off/len
        }
        for w in types {
            b.extend_from_slice(&w.to_le_bytes());
        }
        b.extend_from_slice(strings);
        b
    }

    /// Kind-flag bitfield offsets, anonymous nesting and a `Fwd` of the same
    /// name as the struct, on a hand-made BTF.
    #[test]
    fn synthetic_bitfields_anonymous_members_and_fwd() {
        // Name offsets: int=1 s=5 a=7 b=9 c=11 t=13 d=15 e=17 u=19
        let strings = b"\0int\0s\0a\0b\0c\0t\0d\0e\0u\0";
        let info = |kind: u32, vlen: u32, kflag: u32| (kflag << 31) | (kind << 24) | vlen;
        #[rustfmt::skip]
        let types = [
            // [1] int, 4 bytes, 32 bits
            1, info(1, 0, 0), 4, 32,
            // [2] struct s; (Fwd)
            5, info(7, 0, 0), 0,
            // [3] struct s { int a:3; int b:5; int c; } (kind_flag: size<<24 | bit offset)
            5, info(4, 3, 1), 8,
                7, 1, (3 << 24),
                9, 1, (5 << 24) | 3,
                11, 1, 32,
            // [4] anonymous struct { int d; }
            0, info(4, 1, 0), 4,
                15, 1, 0,
            // [5] anonymous union { struct { int d; }; }
            0, info(5, 1, 0), 4,
                0, 4, 0,
            // [6] struct t { int e; <pad>; union { struct { int d; }; }; } at bit 64
            13, info(4, 2, 0), 12,
                17, 1, 0,
                0, 5, 64,
            // [7] struct u { int c at bit 12 } (no kind_flag: plain bit offset)
            19, info(4, 1, 0), 8,
                11, 1, 12,
        ];
        let btf = Btf::from_bytes(&btf_blob(&types, strings)).expect("parse synthetic BTF");
        let btf = KernelBtf::index(btf, &[]).expect("index");

        let (s, [c]) = lookup(&btf, "s", ["c"]).expect("s.c past the Fwd");
        assert_eq!((c.offset, c.size, s.size()), (4, 4, 8));
        assert!(matches!(
            lookup(&btf, "s", ["a"]),
            Err(LayoutError::Bitfield { .. })
        ));
        assert!(matches!(
            lookup(&btf, "s", ["b"]),
            Err(LayoutError::Bitfield { .. })
        ));
        let (_, [d, e]) = lookup(&btf, "t", ["d", "e"]).expect("t.d through anonymous members");
        assert_eq!((d.offset, d.size, e.offset), (8, 4, 0));
        assert!(matches!(
            lookup(&btf, "t", ["nope"]),
            Err(LayoutError::MissingField { .. })
        ));
        assert!(matches!(
            lookup(&btf, "u", ["c"]),
            Err(LayoutError::Unaligned { bit_offset: 12, .. })
        ));
        // Renamed fields (skb_frag.netmem, formerly bio_vec.bv_page).
        let f = field_either(&btf, "s", &s, &["netmem", "c"]).expect("falls back to c");
        assert_eq!(f.offset, 4);
        let err = field_either(&btf, "s", &s, &["netmem", "bv_page"]).expect_err("neither");
        assert_eq!(
            err.to_string(),
            "kernel BTF has no field s.netmem: this kernel's layout is not supported"
        );
        let err = lookup(&btf, "sk_buff", ["len"]).expect_err("no such struct");
        assert!(matches!(err, LayoutError::MissingType(_)), "{err:?}");
        assert_eq!(
            d.sized(2).expect_err("int is 4 bytes").to_string(),
            "kernel field t.d is 4 bytes, zc expects 2: this kernel's layout is not supported"
        );
    }
}
