//! rdt-codegen: typed IR → BPF instructions → an ELF relocatable object, plus the metadata the
//! runtime needs to attach the programs and decode their output.

pub mod artifact;

pub use artifact::{Artifact, Attach, Counter, EventKind, EventMeta, MapMeta, ProgramMeta, ValueKind};
