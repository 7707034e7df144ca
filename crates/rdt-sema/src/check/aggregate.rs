//! Aggregation functions (`count sum avg min max stats stddev hist lhist llquantize`): their
//! arguments, the bucket layouts of histograms, and the map values they make.

use super::{ClauseChecker, I64};
use crate::builtins::Function;
use crate::ir::{Aggregate, Buckets, Expr, ExprKind, MapValue};
use crate::Type;
use rdt_syntax::ast::{self, UnOp};
use rdt_syntax::{Diagnostic, Span};

/// The most buckets one histogram may have (one u64 each, per CPU, per key).
const MAX_BUCKETS: i64 = 1024;

impl ClauseChecker<'_> {
    /// Checks the arguments of aggregation `function` (already checked for arity).
    pub(super) fn aggregate(
        &mut self,
        function: Function,
        name: &str,
        args: &[ast::Expr],
        span: Span,
    ) -> Option<(Aggregate, MapValue)> {
        if function == Function::Count {
            return Some((Aggregate::Count, MapValue::Count));
        }
        let value = self.aggregated_value(name, &args[0])?;
        Some(match function {
            Function::Sum => (Aggregate::Sum(value), MapValue::Sum),
            Function::Avg => (Aggregate::Avg(value), MapValue::Avg),
            Function::Min => (Aggregate::Min(value), MapValue::Min),
            Function::Max => (Aggregate::Max(value), MapValue::Max),
            Function::Stats => (Aggregate::Stats(value), MapValue::Stats),
            Function::Stddev => (Aggregate::Stddev(value), MapValue::Stddev),
            Function::Hist => {
                let bits = match args.get(1) {
                    Some(a) => self.const_in_range(a, "the number of bits", 0, 5)? as u8,
                    None => 0,
                };
                let buckets = Buckets::Log2 { bits };
                (Aggregate::Hist(value, buckets), MapValue::Hist(buckets))
            }
            Function::Lhist => {
                let buckets = self.linear_buckets(&args[1..4], span)?;
                (Aggregate::Hist(value, buckets), MapValue::Hist(buckets))
            }
            Function::Llquantize => {
                let buckets = self.log_linear_buckets(&args[1..5], span)?;
                (Aggregate::Hist(value, buckets), MapValue::Hist(buckets))
            }
            _ => return None,
        })
    }

    /// The value an aggregation takes: an integer.
    fn aggregated_value(&mut self, name: &str, arg: &ast::Expr) -> Option<Expr> {
        let v = self.expr(arg)?;
        if v.ty.is_scalar() {
            return Some(v);
        }
        self.error(
            Diagnostic::error(v.span, format!("{name}() needs an integer, not `{}`", v.ty))
                .with_label("not an integer")
                .with_help(if v.ty.is_str() {
                    "aggregate a number; to count strings, key the map by them: `@[str] = count()`"
                } else {
                    "aggregate a number"
                }),
        );
        None
    }

    fn linear_buckets(&mut self, args: &[ast::Expr], span: Span) -> Option<Buckets> {
        let min = self.const_int(&args[0], "the minimum");
        let max = self.const_int(&args[1], "the maximum");
        let step = self.const_int(&args[2], "the step");
        let (min, max, step) = (min?, max?, step?);
        let problem = if step <= 0 {
            Some((args[2].span, "the step must be at least 1".to_string()))
        } else if max <= min {
            Some((
                args[1].span,
                "the maximum must be above the minimum".to_string(),
            ))
        } else if (i128::from(max) - i128::from(min)) / i128::from(step) > i128::from(MAX_BUCKETS) {
            Some((
                span,
                format!("this histogram would have more than {MAX_BUCKETS} buckets"),
            ))
        } else {
            None
        };
        if let Some((at, message)) = problem {
            self.error(
                Diagnostic::error(at, message)
                    .with_label("invalid histogram bounds")
                    .with_help("lhist(value, min, max, step): e.g. lhist($ms, 0, 100, 10)"),
            );
            return None;
        }
        Some(Buckets::Linear { min, max, step })
    }

    fn log_linear_buckets(&mut self, args: &[ast::Expr], span: Span) -> Option<Buckets> {
        let factor = self.const_in_range(&args[0], "the factor", 2, 65535);
        let low = self.const_in_range(&args[1], "the low magnitude", 0, 63);
        let high = self.const_in_range(&args[2], "the high magnitude", 0, 63);
        let steps = self.const_in_range(&args[3], "the number of steps", 1, 65535);
        let (factor, low, high, steps) = (factor? as u64, low? as u32, high? as u32, steps? as u64);
        let top = (factor as u128).checked_pow(high + 1);
        let problem = if high < low {
            Some("the high magnitude is below the low one")
        } else if top.is_none_or(|t| t > u128::from(u64::MAX)) {
            Some("factor^(high + 1) does not fit in 64 bits")
        } else {
            None
        };
        let buckets = Buckets::LogLinear {
            factor,
            low,
            high,
            steps,
        };
        let problem = problem.or_else(|| {
            (crate::buckets::count(&buckets) > MAX_BUCKETS as usize)
                .then_some("this histogram would have too many buckets")
        });
        if let Some(message) = problem {
            self.error(
                Diagnostic::error(span, message)
                    .with_label("invalid llquantize() parameters")
                    .with_help("llquantize(value, factor, low, high, steps): e.g. llquantize($us, 10, 0, 6, 20)"),
            );
            return None;
        }
        Some(buckets)
    }

    /// An integer known when the script is compiled (a literal, maybe negated, or `$1`).
    pub(super) fn const_int(&mut self, arg: &ast::Expr, what: &str) -> Option<i64> {
        let v = self.expr(arg)?;
        if let Some(n) = constant_value(&v) {
            return Some(n);
        }
        self.error(
            Diagnostic::error(v.span, format!("{what} must be a constant integer"))
                .with_label("not a constant")
                .with_help("write a number here, e.g. `10`"),
        );
        None
    }

    pub(super) fn const_in_range(
        &mut self,
        arg: &ast::Expr,
        what: &str,
        low: i64,
        high: i64,
    ) -> Option<i64> {
        let n = self.const_int(arg, what)?;
        if (low..=high).contains(&n) {
            return Some(n);
        }
        let range = if high == i64::MAX {
            format!("at least {low}")
        } else {
            format!("between {low} and {high}")
        };
        self.error(
            Diagnostic::error(arg.span, format!("{what} must be {range}"))
                .with_label(format!("{n} is out of range")),
        );
        None
    }

    /// The type an aggregation reads as in an expression, or an error for those that have no
    /// single value in the kernel.
    pub(super) fn aggregation_read_type(
        &mut self,
        name: &str,
        value: &MapValue,
        span: Span,
    ) -> Option<Type> {
        match value {
            MapValue::Count => Some(Type::U64),
            MapValue::Sum | MapValue::Min | MapValue::Max | MapValue::Avg => Some(I64),
            MapValue::Plain(t) => Some(super::symbolic::readable(t)),
            other => {
                self.error(
                    Diagnostic::error(
                        span,
                        format!(
                            "map `{name}` holds {} and cannot be read in an expression",
                            super::describe_value(other)
                        ),
                    )
                    .with_label("an aggregation")
                    .with_help(
                        "count(), sum(), avg(), min() and max() maps can be read; print this one with `print(@map)`",
                    ),
                );
                None
            }
        }
    }
}

/// The value of a constant integer expression.
pub(super) fn constant_value(e: &Expr) -> Option<i64> {
    match &e.kind {
        ExprKind::Int(n) => Some(*n),
        ExprKind::Unary {
            op: UnOp::Neg,
            operand,
        } => constant_value(operand).map(i64::wrapping_neg),
        _ => None,
    }
}
