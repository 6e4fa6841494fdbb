//! What each tracepoint passes its probes, checked against the kernel's BTF.
//!
//! A tracepoint's probes are called with the arguments of its `TP_PROTO`,
//! and BTF records that prototype as the typedef `btf_trace_<name>`: a
//! pointer to a function whose first parameter is the probe's private data
//! (`void *`) and whose others are the tracepoint's arguments. zc's eBPF
//! programs read arguments by position, so before loading one, user space
//! checks that each position it reads holds the type it expects. A kernel
//! that moved or retyped an argument gets the probe refused, with the
//! argument named, instead of a probe that reads the wrong thing.

use btf_rs::Type;
use zc_common::tracepoints::Arg;

use super::{
    btf::KernelBtf,
    probes::{Attach, Hook, ProbeState},
};

/// Bound on type chains, so that malformed BTF cannot make us loop.
const MAX_DEPTH: usize = 16;

/// Checks the arguments `attach` reads against the kernel's prototype of
/// its tracepoint or function: `Missing` if the kernel has no such
/// tracepoint (or function), `Refused` if an argument differs.
pub fn check(btf: &KernelBtf, attach: &Attach) -> Result<(), ProbeState> {
    let params = match attach.hook {
        Hook::TpBtf => parameters(btf, attach.name()),
        Hook::Fentry | Hook::Fexit => function_parameters(btf, attach.name(), attach.hook),
    }
    .map_err(ProbeState::Refused)?;
    let Some(params) = params else {
        return Err(ProbeState::Missing(match attach.hook {
            Hook::TpBtf => format!("no tracepoint {} in this kernel", attach.target()),
            Hook::Fentry | Hook::Fexit => format!(
                "no function {}() in this kernel's BTF (absent, or inlined everywhere)",
                attach.name()
            ),
        }));
    };
    for arg in attach.args {
        check_arg(&params, arg)
            .map_err(|e| ProbeState::Refused(format!("{}: {e}", attach.target())))?;
    }
    Ok(())
}

/// One parameter: as C spells it (for messages) and what matters for
/// reading it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Param {
    pub c: String,
    pub shape: Shape,
}

/// What a program needs to agree on to read an argument: its kind and
/// size. `long unsigned int` and `u64` are the same 8 bytes; a `void *`
/// and a `struct io_ring_ctx *` are the same pointer. Two pointers to
/// differently named structs do not agree: that is an argument that moved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Shape {
    Int(usize),
    Enum(usize),
    /// The struct or union pointed to, if any (`void *` and `char *` point
    /// to none).
    Ptr(Option<String>),
    Other(String),
}

impl Shape {
    fn agrees(&self, other: &Shape) -> bool {
        match (self, other) {
            (Shape::Ptr(a), Shape::Ptr(b)) => a.is_none() || b.is_none() || a == b,
            (a, b) => a == b,
        }
    }

    /// The shape zc's table means by a C type name (`u64`, `const struct
    /// sock *`, `enum skb_drop_reason`).
    pub fn of_c(ty: &str) -> Shape {
        let ty = ty.trim();
        let ty = ty.strip_prefix("const ").unwrap_or(ty).trim();
        if let Some(pointee) = ty.strip_suffix('*') {
            let pointee = pointee.trim();
            let pointee = pointee.strip_prefix("const ").unwrap_or(pointee);
            return Shape::Ptr(
                pointee
                    .strip_prefix("struct ")
                    .or_else(|| pointee.strip_prefix("union "))
                    .map(|n| n.trim().to_string()),
            );
        }
        if ty.starts_with("enum ") {
            return Shape::Enum(4);
        }
        let size = match ty {
            "bool" | "char" | "u8" | "s8" | "unsigned char" | "signed char" => 1,
            "short int" | "short unsigned int" | "u16" | "s16" => 2,
            "int" | "unsigned int" | "u32" | "s32" | "gfp_t" | "pid_t" => 4,
            "long int"
            | "long unsigned int"
            | "long long int"
            | "long long unsigned int"
            | "u64"
            | "s64"
            | "size_t"
            | "ssize_t"
            | "loff_t"
            | "pgoff_t"
            | "phys_addr_t"
            | "dma_addr_t" => 8,
            other => return Shape::Other(other.to_string()),
        };
        Shape::Int(size)
    }
}

/// Compares one argument with the prototype's parameters.
fn check_arg(params: &[Param], arg: &Arg) -> Result<(), String> {
    match params.get(arg.index) {
        None => Err(format!(
            "has {} arguments, zc reads {} at position {}",
            params.len(),
            arg.name,
            arg.index
        )),
        Some(have) if !have.shape.agrees(&Shape::of_c(arg.ty)) => Err(format!(
            "argument {} ({}) is `{}`, zc reads `{}`",
            arg.index, arg.name, have.c, arg.ty
        )),
        Some(_) => Ok(()),
    }
}

/// The BTF typedef of tracepoint `name`'s probe prototype.
pub fn typedef(name: &str) -> String {
    format!("btf_trace_{name}")
}

/// The tracepoint's arguments (without the leading `void *` of the
/// probe's data), or None if the kernel has no tracepoint `name`.
pub fn parameters(btf: &KernelBtf, name: &str) -> Result<Option<Vec<Param>>, String> {
    let typedef = typedef(name);
    let found = btf.types_named(&typedef).unwrap_or_default();
    let Some(Type::Typedef(t)) = found.into_iter().find(|t| matches!(t, Type::Typedef(_))) else {
        return Ok(None);
    };
    let malformed = |what: &str| format!("kernel BTF: {typedef} is {what}");
    let bad = |e: btf_rs::Error| malformed(&e.to_string());
    let Type::Ptr(p) = btf.resolve_chained_type(&t).map_err(bad)? else {
        return Err(malformed("not a function pointer"));
    };
    let Type::FuncProto(proto) = btf.resolve_chained_type(&p).map_err(bad)? else {
        return Err(malformed("not a function pointer"));
    };
    proto
        .parameters
        .iter()
        .skip(1)
        .map(|param| {
            let ty = btf.resolve_chained_type(param).map_err(bad)?;
            param_of(btf, &ty).map_err(bad)
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// A kernel function's parameters, and for fexit its return value as one
/// more (the position where the program finds it), or None if BTF has no
/// such function.
pub fn function_parameters(
    btf: &KernelBtf,
    name: &str,
    hook: Hook,
) -> Result<Option<Vec<Param>>, String> {
    let found = btf.types_named(name).unwrap_or_default();
    let Some(Type::Func(f)) = found.into_iter().find(|t| matches!(t, Type::Func(_))) else {
        return Ok(None);
    };
    let malformed = |what: &str| format!("kernel BTF: function {name} is {what}");
    let bad = |e: btf_rs::Error| malformed(&e.to_string());
    let Type::FuncProto(proto) = btf.resolve_chained_type(&f).map_err(bad)? else {
        return Err(malformed("without a prototype"));
    };
    let mut params = proto
        .parameters
        .iter()
        .map(|param| {
            let ty = btf.resolve_chained_type(param).map_err(bad)?;
            param_of(btf, &ty).map_err(bad)
        })
        .collect::<Result<Vec<_>, _>>()?;
    if hook == Hook::Fexit {
        let ret = btf
            .resolve_type_by_id(proto.return_type_id())
            .map_err(bad)?;
        params.push(param_of(btf, &ret).map_err(bad)?);
    }
    Ok(Some(params))
}

fn param_of(btf: &KernelBtf, ty: &Type) -> Result<Param, btf_rs::Error> {
    Ok(Param {
        c: render(btf, ty, 0)?,
        shape: shape(btf, ty, 0)?,
    })
}

/// What matters of a BTF type for reading it: typedefs and qualifiers
/// looked through.
fn shape(btf: &KernelBtf, ty: &Type, depth: usize) -> Result<Shape, btf_rs::Error> {
    if depth > MAX_DEPTH {
        return Ok(Shape::Other("…".into()));
    }
    let through = |t: &dyn btf_rs::BtfType| -> Result<Shape, btf_rs::Error> {
        shape(btf, &btf.resolve_chained_type(t)?, depth + 1)
    };
    Ok(match ty {
        Type::Int(i) => Shape::Int(i.size()),
        Type::Enum(e) => Shape::Enum(e.size()),
        Type::Enum64(e) => Shape::Enum(e.size()),
        Type::Typedef(t) => through(t)?,
        Type::Const(c) => through(c)?,
        Type::Volatile(v) => through(v)?,
        Type::Restrict(r) => through(r)?,
        Type::TypeTag(t) => through(t)?,
        Type::Ptr(p) => Shape::Ptr(pointee(btf, &btf.resolve_chained_type(p)?, depth + 1)?),
        other => Shape::Other(render(btf, other, depth)?),
    })
}

/// The struct or union a pointer points to, qualifiers looked through.
fn pointee(btf: &KernelBtf, ty: &Type, depth: usize) -> Result<Option<String>, btf_rs::Error> {
    if depth > MAX_DEPTH {
        return Ok(None);
    }
    let through = |t: &dyn btf_rs::BtfType| -> Result<Option<String>, btf_rs::Error> {
        pointee(btf, &btf.resolve_chained_type(t)?, depth + 1)
    };
    Ok(match ty {
        Type::Struct(s) => Some(btf.resolve_name(s)?),
        Type::Union(u) => Some(btf.resolve_name(u)?),
        Type::Fwd(f) => Some(btf.resolve_name(f)?),
        Type::Const(c) => through(c)?,
        Type::Volatile(v) => through(v)?,
        Type::TypeTag(t) => through(t)?,
        Type::Typedef(t) => through(t)?,
        _ => None,
    })
}

/// A type as C spells it, the way BTF names it (`long int`,
/// `const struct sock *`).
fn render(btf: &KernelBtf, ty: &Type, depth: usize) -> Result<String, btf_rs::Error> {
    if depth > MAX_DEPTH {
        return Ok("…".to_string());
    }
    let inner = |t: &dyn btf_rs::BtfType| -> Result<String, btf_rs::Error> {
        render(btf, &btf.resolve_chained_type(t)?, depth + 1)
    };
    Ok(match ty {
        Type::Void => "void".to_string(),
        Type::Ptr(p) => format!("{} *", inner(p)?),
        Type::Const(c) => format!("const {}", inner(c)?),
        Type::Volatile(v) => format!("volatile {}", inner(v)?),
        Type::Restrict(r) => inner(r)?,
        Type::TypeTag(t) => inner(t)?,
        Type::Struct(s) => format!("struct {}", btf.resolve_name(s)?),
        Type::Union(u) => format!("union {}", btf.resolve_name(u)?),
        Type::Enum(e) => format!("enum {}", btf.resolve_name(e)?),
        Type::Enum64(e) => format!("enum {}", btf.resolve_name(e)?),
        Type::Fwd(f) if f.is_union() => format!("union {}", btf.resolve_name(f)?),
        Type::Fwd(f) => format!("struct {}", btf.resolve_name(f)?),
        Type::Int(i) => btf.resolve_name(i)?,
        Type::Float(f) => btf.resolve_name(f)?,
        Type::Typedef(t) => btf.resolve_name(t)?,
        other => other.name().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::{layout::VMLINUX_BTF, probes::PROBES};

    fn running() -> Option<KernelBtf> {
        match KernelBtf::open(
            std::path::Path::new(VMLINUX_BTF),
            &crate::kernel::layout::names(),
        ) {
            Ok(b) => Some(b),
            Err(_) => {
                crate::skipped(&format!("(no readable {VMLINUX_BTF})"));
                None
            }
        }
    }

    /// On the kernel zc is developed on, every probe's first source is the
    /// one that matches: a fallback is for other kernels.
    #[test]
    fn every_required_probe_matches_the_running_kernel() {
        let Some(btf) = running() else { return };
        for spec in PROBES {
            match check(&btf, &spec.attach) {
                Ok(()) => {}
                Err(ProbeState::Missing(_)) if !spec.required => {}
                Err(e) => panic!("{}: {e}", spec.program),
            }
        }
    }

    /// The layout and every probe's prototype are found in the one indexed
    /// pass over the names: none needs a scan of its own (which works, but
    /// slowly: a name forgotten in `layout::names` would cost start-up).
    #[test]
    fn every_name_zc_looks_up_is_indexed() {
        let Some(btf) = running() else { return };
        let before = btf.scans();
        crate::kernel::layout::from_btf(&btf).expect("layout");
        for source in PROBES.iter().flat_map(|p| p.sources()) {
            let _ = check(&btf, source);
        }
        assert_eq!(btf.scans(), before, "a name outside layout::names()");
    }

    #[test]
    fn prototypes_render_as_c() {
        let Some(btf) = running() else { return };
        let c = |params: Option<Vec<Param>>| -> Option<Vec<String>> {
            params.map(|p| p.into_iter().map(|p| p.c).collect())
        };
        assert_eq!(
            c(parameters(&btf, "sys_enter").expect("sys_enter")),
            Some(vec!["struct pt_regs *".to_string(), "long int".to_string()])
        );
        assert_eq!(
            c(parameters(&btf, "inet_sock_set_state").expect("inet_sock_set_state")),
            Some(vec![
                "const struct sock *".to_string(),
                "const int".to_string(),
                "const int".to_string()
            ])
        );
        assert_eq!(
            parameters(&btf, "no_such_tracepoint_zc").expect("lookup"),
            None
        );
    }

    #[test]
    fn shapes_agree_by_kind_and_size() {
        let c = Shape::of_c;
        assert_eq!(c("u64"), c("long unsigned int"));
        assert!(c("u64").agrees(&Shape::Int(8)));
        assert!(!c("int").agrees(&c("long int")), "4 bytes are not 8");
        assert!(
            c("unsigned int").agrees(&c("int")),
            "signedness reads the same bytes"
        );
        assert!(c("void *").agrees(&c("struct io_ring_ctx *")));
        assert!(c("const struct sock *").agrees(&c("struct sock *")));
        assert!(
            !c("struct sock *").agrees(&c("const struct sk_buff *")),
            "a pointer to another struct is an argument that moved"
        );
        assert!(
            !c("u64").agrees(&c("struct sk_buff *")),
            "an integer is not a pointer"
        );
        assert_eq!(c("enum skb_drop_reason"), Shape::Enum(4));
        assert!(matches!(c("struct page"), Shape::Other(_)));
    }

    /// A function hooked at its return has its return value as one more
    /// argument, after its own.
    #[test]
    fn a_functions_parameters_and_return_value_come_from_its_btf() {
        let Some(btf) = running() else { return };
        let entry = function_parameters(&btf, "tcp_sendmsg_locked", Hook::Fentry)
            .expect("lookup")
            .expect("tcp_sendmsg_locked is a function of every kernel zc serves");
        let shapes: Vec<Shape> = entry.iter().map(|p| p.shape.clone()).collect();
        assert_eq!(
            shapes,
            [
                Shape::Ptr(Some("sock".into())),
                Shape::Ptr(Some("msghdr".into())),
                Shape::Int(8)
            ]
        );
        let exit = function_parameters(&btf, "tcp_sendmsg_locked", Hook::Fexit)
            .expect("lookup")
            .expect("present");
        assert_eq!(exit.len(), 4);
        assert_eq!(exit[3].shape, Shape::Int(4), "it returns an int");
        assert_eq!(
            function_parameters(&btf, "no_such_function_zc", Hook::Fentry).expect("lookup"),
            None
        );
    }

    fn attach(category: &'static str, name: &'static str, args: &'static [Arg]) -> Attach {
        Attach {
            program: "test",
            hook: Hook::TpBtf,
            category,
            name,
            args,
            note: "",
        }
    }

    #[test]
    fn a_moved_or_retyped_argument_is_refused_by_name() {
        let Some(btf) = running() else { return };
        let same_bytes = attach(
            "raw_syscalls",
            "sys_enter",
            &[Arg {
                name: "id",
                index: 1,
                ty: "u64",
            }],
        );
        assert_eq!(check(&btf, &same_bytes), Ok(()), "long int and u64 agree");
        let wrong_type = attach(
            "raw_syscalls",
            "sys_enter",
            &[Arg {
                name: "id",
                index: 1,
                ty: "int",
            }],
        );
        let e = check(&btf, &wrong_type).expect_err("retyped").to_string();
        assert!(e.starts_with("refused:"), "{e}");
        assert!(
            e.contains("argument 1 (id) is `long int`, zc reads `int`"),
            "{e}"
        );
        let beyond = attach(
            "raw_syscalls",
            "sys_enter",
            &[Arg {
                name: "extra",
                index: 2,
                ty: "int",
            }],
        );
        let e = check(&btf, &beyond).expect_err("beyond").to_string();
        assert!(e.contains("has 2 arguments"), "{e}");
        let gone = attach("nowhere", "no_such_tracepoint_zc", &[]);
        assert!(matches!(check(&btf, &gone), Err(ProbeState::Missing(_))));
    }
}
