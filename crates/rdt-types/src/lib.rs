//! rdt-types: the value vocabulary every stage shares: rdt's types, printf formats, histogram
//! buckets and the probe/attach descriptions that travel from sema through codegen to the
//! runtime.
//!
//! The pipeline is syntax → sema → codegen → runtime → cli, and no stage reaches back. The
//! runtime still has to understand what the checker decided (the byte layout of a type, a
//! parsed printf format, how a histogram's buckets are labelled, where a probe attaches), so
//! those definitions live here, in one place below every stage, rather than in the checker.
//! Nothing here checks a script: sema re-exports these items under its old paths
//! (`rdt_sema::Type`, `rdt_sema::format`, `rdt_sema::ir::Attach`, …).

pub mod buckets;
pub mod format;
pub mod ktypes;
pub mod map_op;
pub mod probe;
pub mod types;

pub use buckets::Buckets;
pub use map_op::MapOp;
pub use probe::{Attach, PerfCounter, ProgType, TimerPeriod};
pub use types::Type;
