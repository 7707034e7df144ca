//! Map operations and output statements: `delete clear zero has_key print printa trunc
//! normalize denormalize time`. Whole-map operations become ring-buffer records that user space
//! carries out in stream order; the kernel only deletes single keys and tests for them.

use super::{storable, typed, unify_optional, ClauseChecker, U64};
use crate::builtins::Function;
use crate::ir::{Event, Expr, ExprKind, MapId, MapOp, StmtKind};
use crate::{format, Type};
use rdt_syntax::ast;
use rdt_syntax::{did_you_mean, Diagnostic, Span};

impl ClauseChecker<'_> {
    /// A statement calling a map operation or an output function (see
    /// [`Function::is_map_statement`]).
    pub(super) fn map_op_stmt(
        &mut self,
        function: Function,
        args: &[ast::Expr],
        span: Span,
    ) -> Option<StmtKind> {
        match function {
            Function::Delete => self.delete(args),
            Function::Clear => self.whole_map_op(&args[0], "clear", MapOp::Clear, span),
            Function::Zero => self.whole_map_op(&args[0], "zero", MapOp::Zero, span),
            Function::Denormalize => self.whole_map_op(
                &args[0],
                "denormalize",
                MapOp::Normalize { factor: 1 },
                span,
            ),
            Function::Normalize => {
                let factor = self.const_in_range(&args[1], "the factor", 1, i64::MAX);
                let factor = factor? as u64;
                self.whole_map_op(&args[0], "normalize", MapOp::Normalize { factor }, span)
            }
            Function::Trunc => {
                let keep = match args.get(1) {
                    Some(a) => Some(self.const_in_range(a, "the count", -i64::MAX, i64::MAX)?),
                    None => None,
                };
                self.whole_map_op(&args[0], "trunc", MapOp::Trunc { keep }, span)
            }
            Function::Print => self.print(args, span),
            Function::Printa => self.printa(args, span),
            Function::Time => self.time(args, span),
            Function::Errorf => self.errorf(args, span),
            _ => None,
        }
    }

    /// `has_key(@m, key)` (also `has_key(@m[key])`).
    pub(super) fn has_key(&mut self, args: &[ast::Expr], span: Span) -> Option<Expr> {
        let (map, key) = self.map_and_key(args, "has_key")?;
        if key.is_none() {
            self.error(
                Diagnostic::error(args[0].span, "has_key() needs a map with keys")
                    .with_label("this map has no keys")
                    .with_help("a map without keys has its one entry once it is assigned"),
            );
            return None;
        }
        Some(typed(
            ExprKind::HasKey {
                map,
                key: key.map(Box::new),
            },
            U64,
            span,
        ))
    }

    /// `len(@m)`: the map's entries are counted in the kernel from then on.
    pub(super) fn map_len(&mut self, args: &[ast::Expr], span: Span) -> Option<Expr> {
        let map = self.whole_map(&args[0], "len")?;
        if self.maps.decls[map].key.is_none() {
            self.error(
                Diagnostic::error(args[0].span, "len() needs a map with keys")
                    .with_label("this map has no keys")
                    .with_help("a map without keys has one entry once it is assigned"),
            );
            return None;
        }
        if !self.maps.counted.contains(&map) {
            self.maps.counted.push(map);
        }
        Some(typed(ExprKind::MapLen { map }, U64, span))
    }

    fn delete(&mut self, args: &[ast::Expr]) -> Option<StmtKind> {
        let (map, key) = self.map_and_key(args, "delete")?;
        if key.is_none() && self.maps.decls[map].value.is_aggregation() {
            // A key-less aggregation is a per-CPU array slot: deleting its only entry is
            // clearing the map, which user space does for every CPU.
            let span = args[0].span;
            return Some(self.record(
                Event::MapOp {
                    op: MapOp::Clear,
                    map,
                    span,
                },
                Vec::new(),
            ));
        }
        Some(StmtKind::MapDelete { map, key })
    }

    /// `f(@m[k])` or `f(@m, k)`: the map and its typed key.
    fn map_and_key(&mut self, args: &[ast::Expr], function: &str) -> Option<(MapId, Option<Expr>)> {
        let ast::ExprKind::Map { name, keys } = &args[0].kind else {
            self.error(not_a_map(&args[0], function));
            return None;
        };
        let keys: Vec<ast::Expr> = match (&args[1..], keys.is_empty()) {
            ([], _) => keys.clone(),
            // `delete(@m, (k1, k2))`: the tuple is the whole key.
            ([single], true) => match &single.kind {
                ast::ExprKind::Tuple(items) => items.clone(),
                _ => vec![single.clone()],
            },
            (rest, true) => rest.to_vec(),
            (_, false) => {
                self.error(
                    Diagnostic::error(
                        args[0].span.to(args[args.len() - 1].span),
                        format!("{function}() is given the key twice"),
                    )
                    .with_label("a key in `[…]` and another argument")
                    .with_help(format!(
                        "write `{function}(@{name}[key])` or `{function}(@{name}, key)`"
                    )),
                );
                return None;
            }
        };
        let whole = args[0].span.to(args[args.len() - 1].span);
        self.keyed_map(name, &keys, whole)
    }

    /// Resolves `@name[keys]` against the map's declaration.
    pub(super) fn keyed_map(
        &mut self,
        name: &str,
        keys: &[ast::Expr],
        span: Span,
    ) -> Option<(MapId, Option<Expr>)> {
        let map_name = format!("@{name}");
        let key = self.map_key(keys, span)?;
        let id = self.existing_map(&map_name, span)?;
        let decl = &self.maps.decls[id];
        let key_ty = key.as_ref().map(|k| storable(&k.ty));
        if unify_optional(&decl.key, &key_ty).is_none() {
            let expected = decl
                .key
                .as_ref()
                .map_or("no key".to_string(), |t| format!("a key of type `{t}`"));
            let first = self.maps.key_spans[id];
            self.error(
                Diagnostic::error(span, format!("map `{map_name}` is used with the wrong key"))
                    .with_label(format!("expected {expected}"))
                    .with_secondary(first, "key type fixed here"),
            );
            return None;
        }
        Some((id, key))
    }

    fn existing_map(&mut self, map_name: &str, span: Span) -> Option<MapId> {
        if let Some(id) = self.maps.id(map_name) {
            return Some(id);
        }
        let names = self.maps.decls.iter().map(|d| d.name.as_str());
        let mut d = Diagnostic::error(span, format!("map `{map_name}` is used but never assigned"))
            .with_label("no value was ever stored in it");
        if let Some(near) = did_you_mean(map_name, names) {
            d = d.with_help(format!("did you mean `{near}`?"));
        }
        self.error(d);
        None
    }

    /// `@m` as the argument of a function that works on a whole map.
    fn whole_map(&mut self, arg: &ast::Expr, function: &str) -> Option<MapId> {
        match &arg.kind {
            ast::ExprKind::Map { name, keys } if keys.is_empty() => {
                self.existing_map(&format!("@{name}"), arg.span)
            }
            _ => {
                self.error(not_a_map(arg, function));
                None
            }
        }
    }

    fn whole_map_op(
        &mut self,
        arg: &ast::Expr,
        function: &str,
        op: MapOp,
        span: Span,
    ) -> Option<StmtKind> {
        let map = self.whole_map(arg, function)?;
        Some(self.record(Event::MapOp { op, map, span }, Vec::new()))
    }

    fn record(&mut self, event: Event, args: Vec<Expr>) -> StmtKind {
        let id = self.events.len();
        self.events.push(event);
        StmtKind::Printf { event: id, args }
    }

    /// `print(@m[, top[, div]])` prints a map; `print(value)` prints one value.
    fn print(&mut self, args: &[ast::Expr], span: Span) -> Option<StmtKind> {
        if let ast::ExprKind::Map { name, keys } = &args[0].kind {
            if keys.is_empty() {
                let map = self.existing_map(&format!("@{name}"), args[0].span)?;
                let top = match args.get(1) {
                    Some(a) => self.const_in_range(a, "top", 0, i64::MAX)? as u64,
                    None => 0,
                };
                let div = match args.get(2) {
                    Some(a) => self.const_in_range(a, "the divisor", 1, i64::MAX)? as u64,
                    None => 1,
                };
                let op = MapOp::Print { top, div };
                return Some(self.record(Event::MapOp { op, map, span }, Vec::new()));
            }
        }
        if args.len() > 1 {
            self.error(
                Diagnostic::error(args[1].span, "print(value) takes no other arguments")
                    .with_label("unexpected argument")
                    .with_help("top and div only apply to a whole map: `print(@map, 10, 1000)`"),
            );
            return None;
        }
        let value = self.expr(&args[0])?;
        if super::arrays::is_array_place(&value) {
            self.copyable_array(&value, "print()")?;
        } else if !(value.ty.is_scalar()
            || value.ty.prints_as_text()
            || matches!(value.ty, Type::Tuple(_)))
        {
            self.error(
                Diagnostic::error(
                    value.span,
                    format!("print() cannot print a value of type `{}`", value.ty),
                )
                .with_label("not printable"),
            );
            return None;
        }
        let ty = self.stored_type(&args[0], &value);
        Some(self.record(Event::PrintValue { ty, span }, vec![value]))
    }

    /// `printa([format, ]@a, @b…)`: D's printing of aggregations joined on their keys.
    fn printa(&mut self, args: &[ast::Expr], span: Span) -> Option<StmtKind> {
        let (format, map_args) = match &args[0].kind {
            ast::ExprKind::Str(f) => (Some((f.clone(), args[0].span)), &args[1..]),
            _ => (None, args),
        };
        if map_args.is_empty() {
            self.error(
                Diagnostic::error(span, "printa() needs at least one map")
                    .with_label("no map to print")
                    .with_help("printa(\"%s %@d\\n\", @counts)"),
            );
            return None;
        }
        let maps: Option<Vec<MapId>> = map_args
            .iter()
            .map(|a| self.whole_map(a, "printa"))
            .collect();
        let maps = maps?;
        let key = self.maps.decls[maps[0]].key.clone();
        for (&m, arg) in maps.iter().zip(map_args).skip(1) {
            if unify_optional(&key, &self.maps.decls[m].key).is_none() {
                self.error(
                    Diagnostic::error(
                        arg.span,
                        "printa() joins maps on their keys, but this map's keys differ",
                    )
                    .with_label("different key type")
                    .with_secondary(map_args[0].span, "the first map")
                    .with_help("every map given to one printa() must have the same key types"),
                );
                return None;
            }
        }
        if let Some((f, fspan)) = &format {
            let key_fields = match &key {
                None => 0,
                Some(Type::Tuple(fields)) => fields.len(),
                Some(_) => 1,
            };
            self.check_printa_format(f, *fspan, key_fields, maps.len())?;
        }
        let event = Event::Printa {
            format: format.map(|(f, _)| f),
            maps,
            span,
        };
        Some(self.record(event, Vec::new()))
    }

    fn check_printa_format(
        &mut self,
        format: &str,
        span: Span,
        key_fields: usize,
        maps: usize,
    ) -> Option<()> {
        let plain = format.replace("%@", "%");
        let conversions = match format::validate_format(&plain) {
            Ok(c) => c,
            Err((_, message)) => {
                self.error(
                    Diagnostic::error(span, message)
                        .with_label("in this format string")
                        .with_help("keys take %d %s …; aggregation values take %@d"),
                );
                return None;
            }
        };
        let values = format.matches("%@").count();
        let keys = conversions.len() - values;
        if values > maps || keys > key_fields {
            self.error(
                Diagnostic::error(
                    span,
                    format!(
                        "printa() format has {keys} key and {values} value conversions for {key_fields} key field(s) and {maps} map(s)"
                    ),
                )
                .with_label("too many conversions")
                .with_help("use one %-conversion per key field and one %@ per map"),
            );
            return None;
        }
        Some(())
    }

    /// `errorf(format, args…)`: checked as printf, then marked for standard error.
    fn errorf(&mut self, args: &[ast::Expr], span: Span) -> Option<StmtKind> {
        let stmt = self.printf(args, span)?;
        if let StmtKind::Printf { event, .. } = &stmt {
            if let Some(Event::Printf {
                format, args, span, ..
            }) = self.events.get(*event).cloned()
            {
                self.events[*event] = Event::Errorf { format, args, span };
            }
        }
        Some(stmt)
    }

    /// `strftime(format, ns)`: a timestamp that only printf's `%s` can show.
    pub(super) fn strftime(&mut self, args: &[ast::Expr], span: Span) -> Option<Expr> {
        let ast::ExprKind::Str(format) = &args[0].kind else {
            self.error(
                Diagnostic::error(
                    args[0].span,
                    "the format of strftime() must be a string literal",
                )
                .with_label("not a string literal")
                .with_help("strftime(\"%H:%M:%S\", nsecs)"),
            );
            return None;
        };
        let ns = self.expr(&args[1])?;
        if !ns.ty.is_int() {
            self.error(
                Diagnostic::error(
                    ns.span,
                    format!("strftime() needs nanoseconds, not `{}`", ns.ty),
                )
                .with_label("not an integer")
                .with_help("strftime(\"%H:%M:%S\", nsecs)"),
            );
            return None;
        }
        Some(typed(
            ExprKind::Strftime {
                format: format.clone(),
                ns: Box::new(ns),
            },
            U64,
            span,
        ))
    }

    fn time(&mut self, args: &[ast::Expr], span: Span) -> Option<StmtKind> {
        let format = match args.first() {
            None => "%H:%M:%S\n".to_string(),
            Some(a) => match &a.kind {
                ast::ExprKind::Str(f) => f.clone(),
                _ => {
                    self.error(
                        Diagnostic::error(a.span, "the format of time() must be a string literal")
                            .with_label("not a string literal")
                            .with_help("time(\"%H:%M:%S\\n\")"),
                    );
                    return None;
                }
            },
        };
        Some(self.record(Event::Time { format, span }, Vec::new()))
    }
}

/// The strftime format of a printf argument that is `strftime(fmt, ns)`.
pub(super) fn time_format(arg: &Expr) -> Option<String> {
    match &arg.kind {
        ExprKind::Strftime { format, .. } => Some(format.clone()),
        _ => None,
    }
}

fn not_a_map(arg: &ast::Expr, function: &str) -> Diagnostic {
    Diagnostic::error(arg.span, format!("{function}() needs a map"))
        .with_label("not a map")
        .with_help(match function {
            "delete" => "delete(@map[key])".to_string(),
            "has_key" => "has_key(@map, key)".to_string(),
            _ => format!("{function}(@map)"),
        })
}
