//! rdt-sema: AST → typed IR. Expands probes, resolves names, infers the types of maps and
//! variables across clauses, and reports located errors.

pub mod types;

pub use types::Type;
