//! rdt-syntax: source text → [`ast::Program`], or located [`Diagnostic`]s.
//!
//! The lexer (`src/lexer.rs`) is built on logos and adds the context that a D script needs (probe
//! descriptions at clause starts, `/predicate/` delimiters, `< … >` action blocks); the grammar is
//! `grammar/rdt.lalrpop` at the repository root, compiled by `build.rs`.

pub mod ast;
mod command_line;
mod diag;
mod errors;
mod lexer;
mod parser;
mod span;

pub use command_line::with_default_action;
pub use diag::{did_you_mean, render, render_unlocated, Diagnostic};
pub use parser::parse;
pub use span::Span;
