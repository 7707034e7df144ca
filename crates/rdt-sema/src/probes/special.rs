//! `BEGIN` and `END`: programs run once, with BPF_PROG_TEST_RUN, before the other probes attach
//! and after they detach. A raw tracepoint program is the smallest program type that test_run
//! accepts without a packet.

use super::{Context, Instance};
use crate::ir::{Attach, ProgType};
use rdt_syntax::{Diagnostic, Span};

pub fn expand(kind: &str, span: Span) -> Result<Vec<Instance>, Diagnostic> {
    let attach = match kind {
        "BEGIN" => Attach::Begin,
        "END" => Attach::End,
        _ => {
            return Err(
                Diagnostic::error(span, format!("`{kind}` probes are not supported yet"))
                    .with_label("unsupported probe")
                    .with_help(
                        "rdt counts run-time faults (failed reads, full maps, lost events) and reports them at exit",
                    ),
            )
        }
    };
    Ok(vec![Instance {
        prog_type: ProgType::RawTracepoint,
        attach,
        context: Context::None,
        guard: None,
        label: kind.to_string(),
        names: None,
    }])
}
