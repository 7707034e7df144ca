//! Runtime errors: located at the script when they concern a probe or an instruction.

use rdt_syntax::Diagnostic;
use std::fmt;

#[derive(Debug)]
pub enum RuntimeError {
    /// Points at the script: a probe that cannot attach, an instruction the verifier rejected.
    Located(Box<Diagnostic>),
    /// Not tied to a place in the script (e.g. the ring buffer cannot be read).
    Other(String),
}

impl RuntimeError {
    pub fn located(d: Diagnostic) -> RuntimeError {
        RuntimeError::Located(Box::new(d))
    }
}

impl fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuntimeError::Located(d) => write!(f, "{}", d.message),
            RuntimeError::Other(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for RuntimeError {}
