//! Enum values printed by name wherever bpftrace (0.22 and later) prints them so: as map keys,
//! map values, `print()` values and tuple fields, and with printf's `%s`.
//!
//! In expressions an enum value is an integer. Only where a value is *stored for printing* (a
//! map's key or value type, a `print()` record) does it keep its enum, as
//! `Type::Kernel(KernelType::Enum)`: 8 bytes, laid out like an `int64`, shown by user space as
//! the enumerator's name (or its number when the enum has no name for it). Reading such a map
//! back in an expression gives the integer again ([`readable`]).

use super::{storable, ClauseChecker};
use crate::ir::{Expr, MapValue};
use crate::ktypes::KernelType;
use crate::Type;
use rdt_syntax::ast;

impl ClauseChecker<'_> {
    /// The type `value` (checked from `e`) is stored as in a map key or value or a `print()`
    /// record: an integer whose enum is known keeps its enum, tuple fields likewise.
    pub(super) fn stored_type(&mut self, e: &ast::Expr, value: &Expr) -> Type {
        if value.ty.is_int() {
            if let Some(t) = self.enum_type_of(e) {
                return t;
            }
        }
        if let (ast::ExprKind::Tuple(items), Type::Tuple(fields)) = (&e.kind, &value.ty) {
            if let crate::ir::ExprKind::Tuple(typed_items) = &value.kind {
                if items.len() == fields.len() && typed_items.len() == items.len() {
                    return Type::Tuple(
                        items
                            .iter()
                            .zip(typed_items)
                            .map(|(e, v)| self.stored_type(e, v))
                            .collect(),
                    );
                }
            }
        }
        storable(&value.ty)
    }

    /// A map key's stored type and span: `key` checked from the subscripts `keys` (a tuple's
    /// field types are already stored types, see `map_key`).
    pub(super) fn key_type(
        &mut self,
        keys: &[ast::Expr],
        key: Option<&Expr>,
    ) -> Option<(Type, rdt_syntax::Span)> {
        let k = key?;
        let ty = match keys {
            [one] => self.stored_type(one, k),
            _ => storable(&k.ty),
        };
        Some((ty, k.span))
    }

    /// The enum of a value read back from where one was stored: a map whose values are an
    /// enum (`@state`, `@state[k]`), or a variable assigned only values of one enum.
    pub(super) fn stored_enum_of(&self, e: &ast::Expr) -> Option<Type> {
        match &e.kind {
            ast::ExprKind::Map { name, .. } => {
                let id = self.maps.id(&format!("@{name}"))?;
                match &self.maps.decls[id].value {
                    MapValue::Plain(t @ Type::Kernel(KernelType::Enum { .. })) => Some(t.clone()),
                    _ => None,
                }
            }
            ast::ExprKind::Var(name) => {
                let id = self.lookup_var(name)?;
                self.lang.var_enums.get(&id).cloned().flatten()
            }
            ast::ExprKind::Ident(name) if crate::builtins::builtin(name).is_none() => {
                enumerator(name).map(|(t, _)| t)
            }
            _ => None,
        }
    }

    /// A kernel enumerator used by name (`PIDTYPE_SID`), as bpftrace allows: its value, typed
    /// as an integer; `None` when no enum of the kernel has one so named.
    pub(super) fn enumerator_constant(&self, name: &str, span: rdt_syntax::Span) -> Option<Expr> {
        let (_, value) = enumerator(name)?;
        Some(super::typed(
            crate::ir::ExprKind::Int(value),
            Type::I64,
            span,
        ))
    }

    /// Remembers whether the variable `var` now holds a value of an enum: it keeps the enum
    /// only while every assignment to it is of that same enum.
    pub(super) fn note_var_enum(
        &mut self,
        var: crate::ir::VarId,
        e: Option<&ast::Expr>,
        value: &Expr,
    ) {
        let this = match e {
            Some(e) if value.ty.is_int() => self.enum_type_of(e),
            _ => None,
        };
        let entry = self.lang.var_enums.entry(var).or_insert(this.clone());
        if *entry != this {
            *entry = None;
        }
    }
}

/// The enum type and value of the kernel enumerator `name`, from vmlinux's BTF.
fn enumerator(name: &str) -> Option<(Type, i64)> {
    let btf = crate::ktypes::vmlinux().ok()?;
    let (id, value) = btf.find_enumerator(name)?;
    let ty = crate::ktypes::as_enum(rdt_btf::btf::TypeRef { btf, id })?;
    Some((ty, value))
}

/// The type a stored value has when an expression reads it: an enum is an integer again.
pub(super) fn readable(t: &Type) -> Type {
    match t {
        Type::Kernel(KernelType::Enum { .. }) => Type::I64,
        Type::Tuple(fields) => Type::Tuple(fields.iter().map(readable).collect()),
        other => other.clone(),
    }
}
