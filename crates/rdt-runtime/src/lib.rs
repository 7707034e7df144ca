//! rdt-runtime: loads the compiled object with its own `bpf()` loader (aya-obj parses it),
//! attaches every probe, reads the ring buffer and the maps, and prints them in bpftrace's format.

mod actions;
mod attach;
pub mod bpf_sys;
mod bytes;
mod error;
pub mod features;
mod flamegraph;
mod load;
pub mod maps;
pub mod output;
pub(crate) mod printf;
mod session;
mod signals;
pub(crate) mod symbolize;
mod system;
mod target;

pub use actions::OutputFormat;
pub use error::RuntimeError;
pub use session::{run, RunOptions, StackOutput};
pub use target::{split_command, PausedChild, Target};

use std::sync::atomic::AtomicBool;

/// `-v`: print verifier logs and attach details.
pub static VERBOSE: AtomicBool = AtomicBool::new(false);
