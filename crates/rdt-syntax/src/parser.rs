//! [`parse`]: tokens from [`crate::lexer`] through the LALRPOP parser generated from
//! `grammar/rdt.lalrpop`, with errors turned into diagnostics by [`crate::errors`].

use crate::ast::{Clause, Expr, ExprKind, OptionSetting, Program, TypeName};
use crate::lexer::{self, PragmaOption, Tok};
use crate::{errors, Diagnostic, Span};
use lalrpop_util::ParseError;

lalrpop_util::lalrpop_mod!(
    #[allow(clippy::all, clippy::pedantic, unused_qualifications, unused_parens)]
    grammar,
    "/rdt.rs"
);

/// Parses a whole script.
///
/// On failure returns the diagnostics to show (today always one: the first lexical or syntax
/// error, or "the program has no probes").
pub fn parse(source: &str) -> Result<Program, Vec<Diagnostic>> {
    let lexed = lexer::tokenize(source);
    let stream = lexed
        .tokens
        .iter()
        .cloned()
        .map(Ok)
        .chain(lexed.error.clone().map(Err));
    let program = grammar::ProgramParser::new()
        .parse(source, stream)
        .map_err(|e| vec![errors::from_parse_error(e, source, &lexed.tokens)])?;
    if program.clauses.is_empty() {
        return Err(vec![errors::no_probes(source, &program)]);
    }
    Ok(program)
}

/// A top-level item in source order; [`program`] sorts them into [`Program`]'s fields.
pub enum TopItem {
    Options(Vec<OptionSetting>),
    Clause(Clause),
}

pub fn program(items: Vec<TopItem>) -> Program {
    let mut program = Program {
        options: Vec::new(),
        clauses: Vec::new(),
    };
    for item in items {
        match item {
            TopItem::Options(options) => program.options.extend(options),
            TopItem::Clause(clause) => program.clauses.push(clause),
        }
    }
    program
}

pub fn option_from_pragma(pragma: PragmaOption, span: Span) -> OptionSetting {
    OptionSetting {
        name: pragma.name,
        value: pragma.value,
        span,
    }
}

/// The source text between two token offsets.
pub fn config_value(src: &str, start: usize, end: usize) -> String {
    src.get(start..end).unwrap_or_default().to_string()
}

/// An argument of a call: an expression, or a type for `sizeof`/`offsetof`.
pub enum CallArg {
    Expr(Expr),
    Type(TypeName),
}

/// Functions that take a type as an argument.
const TYPE_TAKING_FUNCTIONS: &[&str] = &["sizeof", "offsetof"];

/// Builds `name(args)`. A type argument is kept as an identifier whose name is the type as
/// written with single spaces (`struct task_struct *`), which no source identifier can spell.
pub fn call(
    name: String,
    name_span: Span,
    args: Vec<CallArg>,
    span: Span,
) -> Result<Expr, ParseError<usize, Tok, Diagnostic>> {
    let mut exprs = Vec::with_capacity(args.len());
    for arg in args {
        match arg {
            CallArg::Expr(e) => exprs.push(e),
            CallArg::Type(ty) if TYPE_TAKING_FUNCTIONS.contains(&name.as_str()) => {
                exprs.push(Expr {
                    kind: ExprKind::Ident(type_text(&ty)),
                    span: ty.span,
                })
            }
            CallArg::Type(ty) => {
                return Err(ParseError::User {
                    error: type_argument_error(&name, &ty),
                })
            }
        }
    }
    Ok(Expr {
        kind: ExprKind::Call {
            name,
            name_span,
            args: exprs,
        },
        span,
    })
}

fn type_text(ty: &TypeName) -> String {
    match ty.pointer_depth {
        0 => ty.name.clone(),
        n => format!("{} {}", ty.name, "*".repeat(n as usize)),
    }
}

fn type_argument_error(function: &str, ty: &TypeName) -> Diagnostic {
    Diagnostic::error(
        ty.span,
        format!("`{function}` does not take a type as an argument"),
    )
    .with_label("a type, not a value")
    .with_help(format!(
        "to convert a value, cast it: `({})value`",
        type_text(ty)
    ))
}

#[cfg(test)]
mod tests;
