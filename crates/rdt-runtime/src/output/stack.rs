//! Stacks and symbols as text: bpftrace's three stack modes, `ksym`/`usym`, and folded stacks
//! (`--folded`, the input of flame graphs).
//!
//! bpftrace's layout (its `get_stack`): a newline, then one line per frame — in `bpftrace` mode
//! 8 spaces and `symbol+offset` (decimal offset, the address as `0x…` when no symbol covers
//! it); in `perf` mode a tab, the address in hex, a space and the symbol, user frames followed
//! by ` (object file)`; in `raw` mode the address in hex alone. A map keyed by a stack so prints
//! `@[\n        f+1\n        g+2\n]: 3`.

use rdt_codegen::MapMeta;
use rdt_types::types::{StackMode, StackType};

use super::sort_entries;
use crate::maps::{self, Entry, Value};
use crate::symbolize::{self, Frame};

const INDENT: &str = "        ";

/// A stack as bpftrace prints it (in printf, as a map key or value).
pub fn format_stack(stack: &StackType, pid: u32, addrs: &[u64]) -> String {
    let mut out = String::from("\n");
    if stack.mode == StackMode::Raw {
        for a in addrs.iter().take(stack.limit as usize) {
            out.push_str(&format!("{a:x}\n"));
        }
        return out;
    }
    for frame in frames(stack.user, pid, addrs)
        .into_iter()
        .take(stack.limit as usize)
    {
        match stack.mode {
            StackMode::Perf if stack.user => {
                let module = frame.module.as_deref().unwrap_or("[unknown]");
                out.push_str(&format!(
                    "\t{:x} {} ({module})\n",
                    frame.addr,
                    frame.with_offset()
                ));
            }
            StackMode::Perf => {
                out.push_str(&format!("\t{:x} {}\n", frame.addr, frame.with_offset()));
            }
            _ => {
                out.push_str(INDENT);
                out.push_str(&frame.with_offset());
                out.push('\n');
            }
        }
    }
    out
}

/// `ksym(addr)` / `usym(addr)`: the symbol's name, or the address in hex.
pub fn format_symbol(user: bool, addr: u64, pid: u32) -> String {
    let frame = frames(user, pid, &[addr]).pop();
    frame.map_or_else(|| format!("0x{addr:x}"), |f| f.name())
}

fn frames(user: bool, pid: u32, addrs: &[u64]) -> Vec<Frame> {
    if user {
        return symbolize::user_frames(pid, addrs);
    }
    let mut frames = symbolize::kernel_frames(addrs);
    let machinery = frames
        .iter()
        .take_while(|f| is_tracepoint_iterator(f))
        .count();
    frames.drain(..machinery);
    frames
}

/// The kernel's loop over a tracepoint's attached programs, which sits between a raw tracepoint
/// program and the traced code only while several programs share the tracepoint (the program's
/// own frames are skipped when capturing). A stack never starts there otherwise.
fn is_tracepoint_iterator(frame: &Frame) -> bool {
    frame
        .symbol
        .as_ref()
        .is_some_and(|(name, _)| name.starts_with("__traceiter_"))
}

/// Whether a key type holds a stack, which makes its map printable as folded stacks.
pub fn has_stack(ty: &rdt_types::Type) -> bool {
    match ty {
        rdt_types::Type::Stack(_) => true,
        rdt_types::Type::Tuple(fields) => fields.iter().any(has_stack),
        _ => false,
    }
}

/// A stack-keyed map as folded stacks, one `part;part;… count` line per entry, sorted like the
/// map: the key's other fields first (`comm`), then user frames, then kernel frames, each stack
/// from its outermost caller to the innermost frame. `None` when the key holds no stack or the
/// values are not numbers.
pub fn folded_map(meta: &MapMeta, entries: &[Entry]) -> Option<String> {
    let key_type = meta.key.as_ref().filter(|k| has_stack(k))?;
    let mut sorted: Vec<&Entry> = entries.iter().collect();
    sort_entries(meta, &mut sorted);
    let mut out = String::new();
    for entry in sorted {
        let count = entry.value.as_i128()?;
        let key = maps::decode(key_type, &entry.key);
        out.push_str(&folded_line(&key));
        out.push_str(&format!(" {count}\n"));
    }
    Some(out)
}

/// The `part;part;…` of one key.
pub fn folded_line(key: &Value) -> String {
    let fields = match key {
        Value::Tuple(fields) => fields.as_slice(),
        one => std::slice::from_ref(one),
    };
    let mut labels = Vec::new();
    let mut user = Vec::new();
    let mut kernel = Vec::new();
    for field in fields {
        match field {
            Value::Stack { stack, pid, addrs } => {
                let mut shown = frames(stack.user, *pid, addrs);
                shown.truncate(stack.limit as usize);
                let names = shown.into_iter().rev().map(|f| folded_name(&f));
                if stack.user {
                    user.extend(names);
                } else {
                    kernel.extend(names);
                }
            }
            other => labels.push(folded_name_text(&super::format_value(other))),
        }
    }
    let mut parts = labels;
    parts.extend(user);
    parts.extend(kernel);
    if parts.is_empty() {
        parts.push("[unknown]".to_string());
    }
    parts.join(";")
}

/// Folded lines separate frames with `;` and the count with a space: neither may appear in a
/// frame's name (C++ symbols have spaces).
fn folded_name(frame: &Frame) -> String {
    folded_name_text(&frame.name())
}

fn folded_name_text(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| {
            if c == ';' || c.is_whitespace() {
                '_'
            } else {
                c
            }
        })
        .collect();
    if cleaned.is_empty() {
        "[unknown]".to_string()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack(mode: StackMode) -> StackType {
        StackType {
            user: false,
            mode,
            limit: 4,
        }
    }

    #[test]
    fn raw_mode_prints_hex_addresses_without_symbols() {
        assert_eq!(
            format_stack(&stack(StackMode::Raw), 0, &[0xffff_ffff_8100_0010, 0x20]),
            "\nffffffff81000010\n20\n"
        );
    }

    #[test]
    fn an_empty_stack_is_a_newline() {
        assert_eq!(format_stack(&stack(StackMode::Bpftrace), 0, &[]), "\n");
    }

    #[test]
    fn addresses_of_pid_zero_print_as_hex() {
        let user = StackType {
            user: true,
            ..stack(StackMode::Bpftrace)
        };
        assert_eq!(format_stack(&user, 0, &[0x1234]), "\n        0x1234\n");
        assert_eq!(format_symbol(true, 0x1234, 0), "0x1234");
    }

    #[test]
    fn folded_names_have_no_separators() {
        assert_eq!(folded_name_text("a b;c"), "a_b_c");
        assert_eq!(folded_name_text(""), "[unknown]");
    }

    #[test]
    fn folded_line_puts_labels_first_and_callers_before_callees() {
        let user = StackType {
            user: true,
            mode: StackMode::Bpftrace,
            limit: 4,
        };
        // Pid 0 resolves nothing, so the frames print as their addresses: innermost last.
        let key = Value::Tuple(vec![
            Value::Stack {
                stack: user,
                pid: 0,
                addrs: vec![0x1, 0x2],
            },
            Value::Str("cat".into()),
        ]);
        assert_eq!(folded_line(&key), "cat;0x2;0x1");
    }
}
