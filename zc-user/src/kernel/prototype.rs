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
    probes::{Attach, ProbeState},
};

/// Bound on type chains, so that malformed BTF cannot make us loop.
const MAX_DEPTH: usize = 16;

/// Checks the arguments `attach` reads against the kernel's prototype of
/// its tracepoint: `Missing` if the kernel has no such tracepoint,
/// `Refused` if an argument differs.
pub fn check(btf: &KernelBtf, attach: &Attach) -> Result<(), ProbeState> {
    let (category, name) = (attach.category(), attach.name());
    let params = parameters(btf, name).map_err(ProbeState::Refused)?;
    let Some(params) = params else {
        return Err(ProbeState::Missing(format!(
            "no tracepoint {category}/{name} in this kernel"
        )));
    };
    for arg in attach.args {
        check_arg(&params, arg)
            .map_err(|e| ProbeState::Refused(format!("{category}/{name}: {e}")))?;
    }
    Ok(())
}

/// Compares one argument with the prototype's rendered parameters.
fn check_arg(params: &[String], arg: &Arg) -> Result<(), String> {
    match params.get(arg.index) {
        None => Err(format!(
            "has {} arguments, zc reads {} at position {}",
            params.len(),
            arg.name,
            arg.index
        )),
        Some(have) if have != arg.ty => Err(format!(
            "argument {} ({}) is `{have}`, zc reads `{}`",
            arg.index, arg.name, arg.ty
        )),
        Some(_) => Ok(()),
    }
}

/// The BTF typedef of tracepoint `name`'s probe prototype.
pub fn typedef(name: &str) -> String {
    format!("btf_trace_{name}")
}

/// The tracepoint's arguments as C types (without the leading `void *`
/// of the probe's data), or None if the kernel has no tracepoint `name`.
pub fn parameters(btf: &KernelBtf, name: &str) -> Result<Option<Vec<String>>, String> {
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
            render(btf, &ty, 0).map_err(bad)
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
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
        for spec in PROBES {
            let _ = check(&btf, &spec.attach);
        }
        assert_eq!(btf.scans(), before, "a name outside layout::names()");
    }

    #[test]
    fn prototypes_render_as_c() {
        let Some(btf) = running() else { return };
        assert_eq!(
            parameters(&btf, "sys_enter").expect("sys_enter"),
            Some(vec!["struct pt_regs *".to_string(), "long int".to_string()])
        );
        assert_eq!(
            parameters(&btf, "inet_sock_set_state").expect("inet_sock_set_state"),
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
    fn a_moved_or_retyped_argument_is_refused_by_name() {
        let Some(btf) = running() else { return };
        let wrong_type = Attach {
            category: "raw_syscalls",
            name: "sys_enter",
            args: &[Arg {
                name: "id",
                index: 1,
                ty: "int",
            }],
        };
        let e = check(&btf, &wrong_type).expect_err("retyped").to_string();
        assert!(e.starts_with("refused:"), "{e}");
        assert!(
            e.contains("argument 1 (id) is `long int`, zc reads `int`"),
            "{e}"
        );
        let beyond = Attach {
            category: "raw_syscalls",
            name: "sys_enter",
            args: &[Arg {
                name: "extra",
                index: 2,
                ty: "int",
            }],
        };
        let e = check(&btf, &beyond).expect_err("beyond").to_string();
        assert!(e.contains("has 2 arguments"), "{e}");
        let gone = Attach {
            category: "nowhere",
            name: "no_such_tracepoint_zc",
            args: &[],
        };
        assert!(matches!(check(&btf, &gone), Err(ProbeState::Missing(_))));
    }
}
