//! `usdt:TARGET:PROVIDER:NAME`, `usdt:TARGET:NAME` (`U`), and `usdt::PROVIDER:NAME` with `-p`
//! (every object the process has mapped). Wildcards are allowed in PROVIDER and NAME.
//!
//! A USDT probe is a `nop` in the code plus a `.note.stapsdt` note per site. A probe may have
//! several sites (it is written in several places, or inlined), and the compiler may put an
//! argument in a different register or stack slot at each, so every site is its own
//! [`Instance`] with its own argument locations: a clause that reads `arg0…` compiles to one
//! program per site, a clause that does not shares one program across them. A probe with a
//! semaphore attaches with the semaphore's file offset, so the kernel counts it up while rdt is
//! attached and the program's `*_ENABLED()` checks see it.

use super::list::{Listed, Query};
use super::{Context, Instance, Resolved};
use crate::ir::{Attach, Expr, ExprKind, ProgType};
use crate::{Params, Type};
use rdt_btf::tracefs::glob_match;
use rdt_elf::{ArgLoc, ArgSpec, ElfObject, Reg, UsdtProbe};
use rdt_syntax::ast::BinOp;
use rdt_syntax::{did_you_mean, Diagnostic, Span};

/// What a clause can read at one probe site.
#[derive(Debug, Clone)]
pub struct UsdtContext {
    pub provider: String,
    pub name: String,
    /// Each argument's location at this site, or why its spec could not be decoded.
    args: Vec<Result<ArgSpec, String>>,
}

struct UsdtSpec<'a> {
    target: &'a str,
    provider: Option<&'a str>,
    name: &'a str,
}

pub fn expand(rest: &str, span: Span, params: &Params) -> Result<Vec<Instance>, Diagnostic> {
    let spec = parse(rest, span)?;
    let objects = objects(spec.target, params.target_pid, span)?;
    let mut instances = Vec::new();
    let mut all_probes: Vec<String> = Vec::new();
    for object in &objects {
        let probes = object
            .usdt_probes()
            .map_err(|e| super::uprobe::object_error(&e, spec.target, span))?;
        for p in &probes {
            if selects(&spec, p) {
                instances.push(site_instance(object, p, params.target_pid, span)?);
            }
            all_probes.push(format!("{}:{}", p.provider, p.name));
        }
    }
    if instances.is_empty() {
        return Err(no_probe(&spec, &objects, &all_probes, span));
    }
    Ok(instances)
}

/// `TARGET:PROVIDER:NAME` or `TARGET:NAME`; TARGET may be empty with `-p`.
fn parse(rest: &str, span: Span) -> Result<UsdtSpec<'_>, Diagnostic> {
    let parts: Vec<&str> = rest.split(':').collect();
    let spec = match parts.as_slice() {
        [target, provider, name] => UsdtSpec {
            target,
            provider: Some(*provider).filter(|p| !p.is_empty()),
            name,
        },
        [target, name] => UsdtSpec {
            target,
            provider: None,
            name,
        },
        _ => {
            return Err(Diagnostic::error(span, "invalid usdt probe")
                .with_label("expected `usdt:BINARY:PROVIDER:NAME` or `usdt:BINARY:NAME`")
                .with_help("`rdt -l 'usdt:/path/to/binary'` lists a binary's USDT probes"))
        }
    };
    if spec.name.is_empty() {
        return Err(
            Diagnostic::error(span, "invalid usdt probe").with_label("the probe name is missing")
        );
    }
    Ok(spec)
}

/// The objects to search: the named one, or with an empty target every object of the process.
fn objects(target: &str, pid: Option<u32>, span: Span) -> Result<Vec<ElfObject>, Diagnostic> {
    if !target.is_empty() {
        return Ok(vec![super::uprobe::open(target, pid, span)?]);
    }
    let Some(pid) = pid else {
        return Err(Diagnostic::error(span, "a usdt probe without a binary needs -p PID")
            .with_label("no binary given")
            .with_help("name the binary (`usdt:/path/to/binary:provider:name`) or trace a process with `-p PID`"));
    };
    let paths = rdt_elf::mapped_objects(pid).map_err(|e| {
        Diagnostic::error(span, format!("cannot read the maps of process {pid}"))
            .with_label(e.to_string())
    })?;
    Ok(paths
        .iter()
        .filter_map(|p| ElfObject::open(p).ok())
        .collect())
}

fn selects(spec: &UsdtSpec, p: &UsdtProbe) -> bool {
    spec.provider
        .is_none_or(|prov| glob_match(prov, &p.provider))
        && glob_match(spec.name, &p.name)
}

fn site_instance(
    object: &ElfObject,
    p: &UsdtProbe,
    pid: Option<u32>,
    span: Span,
) -> Result<Instance, Diagnostic> {
    let path = object.path().to_string_lossy().into_owned();
    let offset_of = |address: u64| -> Result<u64, Diagnostic> {
        object
            .file_offset(address)
            .map_err(|e| super::uprobe::object_error(&e, &path, span))?
            .ok_or_else(|| {
                Diagnostic::error(
                    span,
                    format!("USDT probe `{}:{}` in {path} has an address ({address:#x}) outside its segments", p.provider, p.name),
                )
                .with_label("a broken stapsdt note")
            })
    };
    let offset = offset_of(p.pc)?;
    let semaphore = if p.semaphore == 0 {
        0
    } else {
        offset_of(p.semaphore)?
    };
    let args = decode_args(object, p);
    Ok(Instance {
        prog_type: ProgType::Kprobe,
        attach: Attach::Usdt {
            path,
            offset,
            semaphore,
            pid,
        },
        context: Context::Usdt(UsdtContext {
            provider: p.provider.clone(),
            name: p.name.clone(),
            args,
        }),
        guard: None,
        label: p.name.clone(),
        names: None,
    })
}

/// Decodes a site's arg specs; a `sym(%rip)` operand becomes an offset from the probe's own
/// address (which is `pt_regs->ip` when the uprobe fires), so it holds wherever the object is
/// mapped.
fn decode_args(object: &ElfObject, p: &UsdtProbe) -> Vec<Result<ArgSpec, String>> {
    p.args
        .split_ascii_whitespace()
        .map(|text| {
            let mut spec = rdt_elf::argspec::parse_arg(text).map_err(|e| e.to_string())?;
            if let ArgLoc::RipRel { symbol, disp } = &spec.loc {
                let address = object
                    .symbol_address(symbol)
                    .map_err(|e| e.to_string())?
                    .ok_or_else(|| {
                        format!(
                            "argument `{text}` names `{symbol}`, which is not in the symbol table"
                        )
                    })?;
                spec.loc = ArgLoc::Mem {
                    base: rdt_elf::argspec::register("rip"),
                    index: None,
                    disp: address.wrapping_add(*disp as u64).wrapping_sub(p.pc) as i64,
                };
            }
            Ok(spec)
        })
        .collect()
}

fn no_probe(
    spec: &UsdtSpec,
    objects: &[ElfObject],
    all_probes: &[String],
    span: Span,
) -> Diagnostic {
    let wanted = match spec.provider {
        Some(p) => format!("{p}:{}", spec.name),
        None => spec.name.to_string(),
    };
    let place = match objects {
        [one] => one.path().display().to_string(),
        _ => "the process's objects".to_string(),
    };
    if all_probes.is_empty() {
        return Diagnostic::error(span, format!("{place} has no USDT probes"))
            .with_label("no `.note.stapsdt` notes")
            .with_help("USDT probes come from `DTRACE_PROBE`/`STAP_PROBE` macros of <sys/sdt.h>");
    }
    let mut d = Diagnostic::error(span, format!("no USDT probe `{wanted}` in {place}"))
        .with_label("no such probe");
    let candidates: Vec<&str> = all_probes
        .iter()
        .map(|p| {
            if spec.provider.is_some() {
                p.as_str()
            } else {
                p.split_once(':').map_or(p.as_str(), |(_, n)| n)
            }
        })
        .collect();
    if let Some(near) = did_you_mean(&wanted, candidates.iter().copied()) {
        d = d.with_help(format!("did you mean `{near}`?"));
    }
    d.with_help(format!("`rdt -l 'usdt:{}'` lists its probes", spec.target))
}

impl UsdtContext {
    /// Same argument locations (not necessarily the same probe: a clause over a wildcard may
    /// share a program between probes whose arguments sit in the same places).
    pub fn same_args_as(&self, other: &UsdtContext) -> bool {
        self.args == other.args
    }

    /// `argN` at this site: a register, a constant or a memory read, of the spec's size.
    pub fn arg(&self, index: u8, span: Span) -> Result<Resolved, Diagnostic> {
        let Some(arg) = self.args.get(index as usize) else {
            let n = self.args.len();
            return Err(Diagnostic::error(
                span,
                format!(
                    "USDT probe `{}:{}` has {n} argument{}",
                    self.provider,
                    self.name,
                    if n == 1 { "" } else { "s" }
                ),
            )
            .with_label("no such argument"));
        };
        let spec = arg.as_ref().map_err(|reason| {
            Diagnostic::error(
                span,
                format!(
                    "cannot read arg{index} of `{}:{}`",
                    self.provider, self.name
                ),
            )
            .with_label(reason.clone())
        })?;
        let ty = Type::Int {
            bits: spec.size * 8,
            signed: spec.signed,
        };
        let kind = match &spec.loc {
            ArgLoc::Imm(v) => ExprKind::Int(*v),
            ArgLoc::Reg(reg) => ExprKind::Cast(Box::new(register_value(*reg, span))),
            ArgLoc::Mem { base, index, disp } => ExprKind::Deref {
                addr: Box::new(address(*base, *index, *disp, span)),
                user: true,
            },
            // decode_args turns every `%rip`-relative operand into memory relative to `ip`.
            ArgLoc::RipRel { symbol, .. } => {
                return Err(Diagnostic::error(
                    span,
                    format!(
                        "cannot read arg{index} of `{}:{}`",
                        self.provider, self.name
                    ),
                )
                .with_label(format!("`{symbol}(%rip)` was not resolved")))
            }
        };
        Ok(Resolved { kind, ty })
    }
}

fn u64_expr(kind: ExprKind, span: Span) -> Expr {
    Expr {
        kind,
        ty: Type::U64,
        span,
    }
}

fn binary(op: BinOp, lhs: Expr, rhs: Expr, span: Span) -> Expr {
    u64_expr(
        ExprKind::Binary {
            op,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
        },
        span,
    )
}

/// The value of the register the operand names, at the operand's width.
fn register_value(reg: Reg, span: Span) -> Expr {
    let full = u64_expr(
        ExprKind::CtxField {
            offset: reg.pt_regs_offset,
        },
        span,
    );
    let value = if reg.high_byte {
        binary(BinOp::Shr, full, u64_expr(ExprKind::Int(8), span), span)
    } else {
        full
    };
    if reg.width >= 8 {
        return value;
    }
    Expr {
        kind: ExprKind::Cast(Box::new(value)),
        ty: Type::Int {
            bits: reg.width * 8,
            signed: false,
        },
        span,
    }
}

/// `base + index*scale + disp`.
fn address(base: Option<Reg>, index: Option<(Reg, u8)>, disp: i64, span: Span) -> Expr {
    let mut acc = u64_expr(ExprKind::Int(disp), span);
    if let Some(b) = base {
        acc = binary(BinOp::Add, register_value(b, span), acc, span);
    }
    if let Some((i, scale)) = index {
        let scaled = binary(
            BinOp::Mul,
            register_value(i, span),
            u64_expr(ExprKind::Int(i64::from(scale)), span),
            span,
        );
        acc = binary(BinOp::Add, acc, scaled, span);
    }
    acc
}

/// `rdt -l 'usdt:TARGET[:PROVIDER:NAME]'`: the probes of TARGET (or, with `-p PID` and no
/// TARGET or `*`, of every object the process maps), each once however many sites it has.
pub fn list(query: &Query) -> Result<Vec<Listed>, String> {
    let spec = match query.glob.split(':').collect::<Vec<_>>().as_slice() {
        [target] => UsdtSpec {
            target,
            provider: None,
            name: "*",
        },
        [target, name] => UsdtSpec {
            target,
            provider: None,
            name,
        },
        [target, provider, name] => UsdtSpec {
            target,
            provider: Some(provider),
            name,
        },
        _ => return Err(format!("invalid usdt pattern `usdt:{}`", query.glob)),
    };
    let mut out: Vec<Listed> = Vec::new();
    for object in super::uprobe::objects_to_list("usdt", spec.target, query.pid)? {
        let path = object.path().display().to_string();
        for p in object.usdt_probes().map_err(|e| e.to_string())? {
            let name = format!("usdt:{path}:{}:{}", p.provider, p.name);
            if selects(&spec, &p) && !out.iter().any(|l| l.name == name) {
                out.push(Listed {
                    name,
                    args: Vec::new(),
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(rest: &str) -> (String, Option<String>, String) {
        let s = parse(rest, Span::new(0, 1)).unwrap_or_else(|d| panic!("{}", d.message));
        (
            s.target.to_string(),
            s.provider.map(str::to_string),
            s.name.to_string(),
        )
    }

    #[test]
    fn probe_descriptions() {
        assert_eq!(
            spec("/bin/app:prov:start"),
            ("/bin/app".into(), Some("prov".into()), "start".into())
        );
        assert_eq!(
            spec("/bin/app:start"),
            ("/bin/app".into(), None, "start".into())
        );
        assert_eq!(
            spec(":prov:start"),
            ("".into(), Some("prov".into()), "start".into())
        );
        assert_eq!(
            spec("/bin/app::start"),
            ("/bin/app".into(), None, "start".into())
        );
        assert!(parse("/bin/app", Span::new(0, 1)).is_err());
        assert!(parse("/bin/app:p:", Span::new(0, 1)).is_err());
        assert!(parse("a:b:c:d", Span::new(0, 1)).is_err());
    }

    #[test]
    fn register_operands_read_the_full_register_then_narrow() {
        let reg = rdt_elf::argspec::register("di").unwrap();
        let e = register_value(reg, Span::new(0, 1));
        assert_eq!(
            e.ty,
            Type::Int {
                bits: 16,
                signed: false
            }
        );
        let ExprKind::Cast(inner) = e.kind else {
            panic!("expected a cast")
        };
        assert!(matches!(inner.kind, ExprKind::CtxField { offset: 112 }));
    }

    #[test]
    fn sites_with_the_same_specs_share_a_program() {
        let site = |args: &str| UsdtContext {
            provider: "p".into(),
            name: "n".into(),
            args: args
                .split_whitespace()
                .map(|a| rdt_elf::argspec::parse_arg(a).map_err(|e| e.to_string()))
                .collect(),
        };
        assert!(site("-4@%edi 8@-8(%rbp)").same_args_as(&site("-4@%edi 8@-8(%rbp)")));
        assert!(!site("-4@%edi").same_args_as(&site("-4@%esi")));
        assert!(!site("-4@%edi").same_args_as(&site("4@%edi")));
    }
}
