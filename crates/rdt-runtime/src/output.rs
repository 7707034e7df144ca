//! bpftrace's text format for maps printed at exit.
//!
//! Checked byte for byte against bpftrace v0.17 (Debian's) and its `output.cpp`:
//! - one line per entry, `@name[k1, k2]: value`, or `@name: value` for a map without keys;
//!   the anonymous map is named `@` (`@[comm]: 3`);
//! - a map's block is its lines joined with `\n`, then one `\n`: no blank line separates two
//!   ordinary maps, and a map without entries prints an empty line;
//! - count, sum and integer maps are sorted by value, ascending; other maps by key (integers
//!   compared as unsigned, as bpftrace does, strings bytewise, tuple fields left to right).
//!   Equal values are ordered by key so the output is deterministic.
//!
//! The two blank lines bpftrace prints before the maps at exit are the caller's business.

use std::cmp::Ordering;

use rdt_codegen::{MapMeta, ValueKind};
use rdt_types::ktypes::KernelType;
use rdt_types::Type;

use crate::maps::{self, Entry, Value};

pub(crate) mod cat;
pub(crate) mod hist;
pub(crate) mod join;
pub(crate) mod json;
pub(crate) mod kstruct;
pub(crate) mod stack;
pub(crate) mod text;

/// How `print(@map, top, div)` (and D's `normalize`) shape a map's output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrintOpts {
    /// Keep only the last `top` entries in sort order (the largest); 0 keeps all.
    pub top: u64,
    /// Divide every value by this.
    pub div: u64,
}

impl Default for PrintOpts {
    fn default() -> Self {
        PrintOpts { top: 0, div: 1 }
    }
}

/// Formats one map's entries as bpftrace prints them at exit.
pub fn format_map(meta: &MapMeta, entries: &[Entry]) -> String {
    format_map_with(meta, entries, PrintOpts::default())
}

/// Formats a map: one line per entry (a block per histogram), sorted as bpftrace sorts them.
/// Histograms are followed by a blank line each; avg, stats and stddev maps by one blank line
/// (bpftrace v0.17 prints them that way).
pub fn format_map_with(meta: &MapMeta, entries: &[Entry], opts: PrintOpts) -> String {
    let sorted = sorted_entries(meta, entries, opts.top);
    let div = opts.div.max(1);
    let mut out = match &meta.value {
        ValueKind::Hist(b) => sorted
            .iter()
            .map(|e| {
                let counts = match &e.value {
                    Value::Hist(c) => c.as_slice(),
                    _ => &[],
                };
                format!(
                    "{}: \n{}",
                    entry_name(meta, e),
                    hist::format_hist(b, counts, div)
                )
            })
            .collect::<Vec<_>>()
            .join("\n"),
        _ => sorted
            .iter()
            .map(|e| {
                format!(
                    "{}: {}",
                    entry_name(meta, e),
                    format_value(&divided(&e.value, div))
                )
            })
            .collect::<Vec<_>>()
            .join("\n"),
    };
    out.push('\n');
    if matches!(
        meta.value,
        ValueKind::Avg | ValueKind::Stats | ValueKind::Stddev
    ) {
        out.push('\n');
    }
    out
}

/// The entries in bpftrace's print order, keeping only the last `top` when `top` is set.
pub fn sorted_entries<'e>(meta: &MapMeta, entries: &'e [Entry], top: u64) -> Vec<&'e Entry> {
    let mut sorted: Vec<&Entry> = entries.iter().collect();
    sort_entries(meta, &mut sorted);
    if top > 0 && sorted.len() as u64 > top {
        sorted.drain(..sorted.len() - top as usize);
    }
    sorted
}

/// `@name[key]`, or `@name` for a map without keys.
fn entry_name(meta: &MapMeta, entry: &Entry) -> String {
    match &meta.key {
        Some(key_type) => format!("{}[{}]", meta.name, format_key(key_type, &entry.key)),
        None => meta.name.clone(),
    }
}

/// A value with its printed number divided by `div` (bpftrace divides the merged value).
pub fn divided(value: &Value, div: u64) -> Value {
    if div <= 1 {
        return value.clone();
    }
    let d = div as i64;
    match value {
        Value::Int(v) => Value::Int(v / d),
        Value::Uint(v) => Value::Uint(v / div),
        Value::Stats {
            count,
            total,
            stats: false,
        } => Value::Int(
            if *count == 0 {
                0
            } else {
                total / *count as i64
            } / d,
        ),
        Value::Stddev { .. } => Value::Uint(value.stddev().unwrap_or(0) / div),
        Value::Extreme(v) => Value::Extreme(v.map(|v| v / d)),
        Value::Hist(c) => Value::Hist(c.iter().map(|c| c / div).collect()),
        other => other.clone(),
    }
}

/// Formats a key: a tuple key's fields are joined by `, ` without parentheses
/// (`@m[bash, 123]`); a single key prints as its value.
pub fn format_key(key_type: &Type, bytes: &[u8]) -> String {
    match maps::decode(key_type, bytes) {
        Value::Tuple(fields) => join_values(&fields),
        other => format_value(&other),
    }
}

/// Formats a value: integers in decimal, strings raw (no quotes), tuples `(1, abc)`,
/// pointers in hex, avg as its average, stats as `count N, average A, total T`.
pub fn format_value(value: &Value) -> String {
    match value {
        Value::Int(v) => v.to_string(),
        Value::Uint(v) => v.to_string(),
        Value::Str(s) | Value::Symbolic { name: s, .. } => s.clone(),
        Value::Tuple(fields) => format!("({})", join_values(fields)),
        // bpftrace prints arrays without spaces: `[1,2,3]`.
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(format_value).collect::<Vec<_>>().join(",")
        ),
        Value::Ptr(p) => format!("0x{p:x}"),
        Value::Stack { stack, pid, addrs } => stack::format_stack(stack, *pid, addrs),
        Value::Symbol { user, addr, pid } => stack::format_symbol(*user, *addr, *pid),
        Value::Stats {
            count,
            total,
            stats: true,
        } => format!(
            "count {count}, average {}, total {total}",
            value.average().unwrap_or(0)
        ),
        Value::Stats { .. } => value.average().unwrap_or(0).to_string(),
        Value::Stddev { .. } => value.stddev().unwrap_or(0).to_string(),
        Value::Extreme(v) => v.unwrap_or(0).to_string(),
        Value::Hist(counts) => counts.iter().sum::<u64>().to_string(),
    }
}

fn join_values(values: &[Value]) -> String {
    values
        .iter()
        .map(format_value)
        .collect::<Vec<_>>()
        .join(", ")
}

fn sort_entries(meta: &MapMeta, entries: &mut [&Entry]) {
    let key_order = |a: &Entry, b: &Entry| match &meta.key {
        Some(ty) => compare_keys(ty, &a.key, &b.key),
        None => a.key.cmp(&b.key),
    };
    if sorts_by_value(&meta.value) {
        entries.sort_by(|a, b| compare_numbers(&a.value, &b.value).then_with(|| key_order(a, b)));
    } else {
        entries.sort_by(|a, b| key_order(a, b));
    }
}

/// bpftrace sorts aggregations and integer maps by value (histograms by their total count);
/// everything else by key.
fn sorts_by_value(kind: &ValueKind) -> bool {
    match kind {
        ValueKind::Plain(ty) => ty.is_int() || matches!(ty, Type::Kernel(KernelType::Enum { .. })),
        _ => true,
    }
}

fn compare_numbers(a: &Value, b: &Value) -> Ordering {
    a.as_i128().cmp(&b.as_i128())
}

/// bpftrace's key order: field by field; integers and pointers compared as unsigned numbers,
/// strings bytewise up to their NUL.
pub fn compare_keys(ty: &Type, a: &[u8], b: &[u8]) -> Ordering {
    match ty {
        Type::Int { bits, .. } => {
            let n = u32::from(*bits / 8);
            maps::read_u64(maps::field(a, 0, n)).cmp(&maps::read_u64(maps::field(b, 0, n)))
        }
        Type::Ptr { .. } | Type::Kernel(KernelType::Enum { .. }) => {
            maps::read_u64(maps::field(a, 0, 8)).cmp(&maps::read_u64(maps::field(b, 0, 8)))
        }
        Type::Str { size } => crate::bytes::until_nul(maps::field(a, 0, *size))
            .cmp(crate::bytes::until_nul(maps::field(b, 0, *size))),
        Type::Tuple(fields) => {
            let offsets = Type::tuple_offsets(fields);
            fields
                .iter()
                .zip(offsets)
                .map(|(f, at)| {
                    compare_keys(
                        f,
                        maps::field(a, at, f.size()),
                        maps::field(b, at, f.size()),
                    )
                })
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal)
        }
        Type::Kernel(k) => maps::field(a, 0, k.size()).cmp(maps::field(b, 0, k.size())),
        Type::Void => Ordering::Equal,
        Type::Stack(stack) => maps::field(a, 0, stack.size()).cmp(maps::field(b, 0, stack.size())),
        Type::Symbol { .. } => maps::field(a, 0, 16).cmp(maps::field(b, 0, 16)),
        Type::Text(kind) => maps::field(a, 0, kind.size()).cmp(maps::field(b, 0, kind.size())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(name: &str, key: Option<Type>, value: ValueKind) -> MapMeta {
        let key_size = key.as_ref().map_or(8, Type::size);
        let value_size = match &value {
            ValueKind::Plain(t) => t.size(),
            _ => 8,
        };
        MapMeta {
            name: name.into(),
            kernel_name: "m".into(),
            key,
            key_size,
            value,
            value_size,
            single_slot: false,
            printed_at_exit: true,
        }
    }

    fn s(text: &str, size: usize) -> Vec<u8> {
        let mut b = text.as_bytes().to_vec();
        b.resize(size, 0);
        b
    }

    fn u64k(v: u64) -> Vec<u8> {
        v.to_le_bytes().to_vec()
    }

    fn i64k(v: i64) -> Vec<u8> {
        v.to_le_bytes().to_vec()
    }

    fn e(key: Vec<u8>, value: Value) -> Entry {
        Entry { key, value }
    }

    #[test]
    fn map_without_keys() {
        let m = meta("@x", None, ValueKind::Plain(Type::I64));
        assert_eq!(format_map(&m, &[e(u64k(0), Value::Int(5))]), "@x: 5\n");
        let m = meta("@c", None, ValueKind::Count);
        assert_eq!(format_map(&m, &[e(u64k(0), Value::Uint(1))]), "@c: 1\n");
    }

    #[test]
    fn anonymous_map() {
        let m = meta("@", None, ValueKind::Count);
        assert_eq!(format_map(&m, &[e(u64k(0), Value::Uint(3))]), "@: 3\n");
        let m = meta("@", Some(Type::Str { size: 16 }), ValueKind::Count);
        assert_eq!(
            format_map(
                &m,
                &[
                    e(s("sshd", 16), Value::Uint(9)),
                    e(s("bash", 16), Value::Uint(2))
                ]
            ),
            "@[bash]: 2\n@[sshd]: 9\n"
        );
    }

    #[test]
    fn int_keys_sorted_by_value() {
        let m = meta("@a", Some(Type::I64), ValueKind::Count);
        let entries = [
            e(i64k(2), Value::Uint(2)),
            e(i64k(1), Value::Uint(1)),
            e(i64k(-4), Value::Uint(7)),
        ];
        assert_eq!(format_map(&m, &entries), "@a[1]: 1\n@a[2]: 2\n@a[-4]: 7\n");
    }

    #[test]
    fn narrow_signed_and_unsigned_keys() {
        let m = meta(
            "@c",
            Some(Type::Int {
                bits: 32,
                signed: true,
            }),
            ValueKind::Count,
        );
        let entries = [
            e((-7i32).to_le_bytes().to_vec(), Value::Uint(2)),
            e(3i32.to_le_bytes().to_vec(), Value::Uint(1)),
        ];
        assert_eq!(format_map(&m, &entries), "@c[3]: 1\n@c[-7]: 2\n");
        let m = meta(
            "@c",
            Some(Type::Int {
                bits: 16,
                signed: false,
            }),
            ValueKind::Count,
        );
        assert_eq!(
            format_map(&m, &[e(vec![0xff, 0xff], Value::Uint(1))]),
            "@c[65535]: 1\n"
        );
    }

    #[test]
    fn string_keys_print_raw() {
        let m = meta("@opens", Some(Type::Str { size: 16 }), ValueKind::Count);
        let entries = [
            e(s("systemd-journal", 16), Value::Uint(12)),
            e(s("cat", 16), Value::Uint(3)),
            // A full buffer has no NUL: all 16 bytes print.
            e(b"0123456789abcdef".to_vec(), Value::Uint(4)),
        ];
        assert_eq!(
            format_map(&m, &entries),
            "@opens[cat]: 3\n@opens[0123456789abcdef]: 4\n@opens[systemd-journal]: 12\n"
        );
    }

    #[test]
    fn tuple_keys_with_strings_and_ints() {
        let key = Type::Tuple(vec![Type::Str { size: 16 }, Type::I64]);
        let m = meta("@m", Some(key), ValueKind::Count);
        let k = |name: &str, n: i64| {
            let mut b = s(name, 16);
            b.extend_from_slice(&n.to_le_bytes());
            b
        };
        let entries = [
            e(k("bash", 123), Value::Uint(4)),
            e(k("sshd", -1), Value::Uint(1)),
        ];
        assert_eq!(
            format_map(&m, &entries),
            "@m[sshd, -1]: 1\n@m[bash, 123]: 4\n"
        );
    }

    #[test]
    fn anonymous_map_with_tuple_key_matches_bpftrace() {
        // bpftrace -e 'BEGIN { @["x", -1, "yy"] = 3; @["a", 2, "b"] = 1; exit(); }'
        let key = Type::Tuple(vec![
            Type::Str { size: 4 },
            Type::I64,
            Type::Str { size: 4 },
        ]);
        let m = meta("@", Some(key), ValueKind::Plain(Type::I64));
        let k = |a: &str, n: i64, b: &str| {
            let mut v = s(a, 8); // 4 bytes of string, 4 of padding before the i64
            v.extend_from_slice(&n.to_le_bytes());
            v.extend_from_slice(&s(b, 8));
            v
        };
        let entries = [
            e(k("x", -1, "yy"), Value::Int(3)),
            e(k("a", 2, "b"), Value::Int(1)),
        ];
        assert_eq!(format_map(&m, &entries), "@[a, 2, b]: 1\n@[x, -1, yy]: 3\n");
    }

    #[test]
    fn negative_sums_sort_below_positive() {
        let m = meta("@b", Some(Type::I64), ValueKind::Sum);
        let entries = [
            e(i64k(7), Value::Int(10)),
            e(i64k(-5), Value::Int(-3)),
            e(i64k(0), Value::Int(0)),
        ];
        assert_eq!(
            format_map(&m, &entries),
            "@b[-5]: -3\n@b[0]: 0\n@b[7]: 10\n"
        );
    }

    #[test]
    fn equal_values_are_ordered_by_key() {
        let m = meta("@", Some(Type::I64), ValueKind::Count);
        let entries = [
            e(i64k(9), Value::Uint(5)),
            e(i64k(3), Value::Uint(5)),
            e(i64k(1), Value::Uint(5)),
        ];
        assert_eq!(format_map(&m, &entries), "@[1]: 5\n@[3]: 5\n@[9]: 5\n");
        let m = meta("@", Some(Type::Str { size: 8 }), ValueKind::Count);
        let entries = [e(s("b", 8), Value::Uint(1)), e(s("a", 8), Value::Uint(1))];
        assert_eq!(format_map(&m, &entries), "@[a]: 1\n@[b]: 1\n");
    }

    #[test]
    fn string_values_sort_by_key_like_bpftrace() {
        // bpftrace -e 'BEGIN { @x[-1] = "a"; @x[2] = "b"; exit(); }' prints @x[2] first: keys
        // are compared as unsigned integers.
        let m = meta(
            "@x",
            Some(Type::I64),
            ValueKind::Plain(Type::Str { size: 8 }),
        );
        let entries = [
            e(i64k(-1), Value::Str("a".into())),
            e(i64k(2), Value::Str("b".into())),
        ];
        assert_eq!(format_map(&m, &entries), "@x[2]: b\n@x[-1]: a\n");
        let m = meta(
            "@s",
            Some(Type::Str { size: 8 }),
            ValueKind::Plain(Type::Str { size: 8 }),
        );
        let entries = [
            e(s("k", 8), Value::Str("str".into())),
            e(s("a", 8), Value::Str("zzz".into())),
        ];
        assert_eq!(format_map(&m, &entries), "@s[a]: zzz\n@s[k]: str\n");
    }

    #[test]
    fn tuple_and_pointer_values() {
        let m = meta(
            "@t",
            None,
            ValueKind::Plain(Type::Tuple(vec![Type::I64, Type::Str { size: 4 }])),
        );
        let v = Value::Tuple(vec![Value::Int(1), Value::Str("x".into())]);
        assert_eq!(format_map(&m, &[e(u64k(0), v)]), "@t: (1, x)\n");
        let ptr = Type::Ptr {
            to: Box::new(Type::U64),
            user: false,
        };
        let m = meta("@p", None, ValueKind::Plain(ptr));
        assert_eq!(
            format_map(&m, &[e(u64k(0), Value::Ptr(0xffff_8880_0000_1000))]),
            "@p: 0xffff888000001000\n"
        );
    }

    #[test]
    fn empty_map_prints_an_empty_line_like_bpftrace() {
        let m = meta("@a", Some(Type::I64), ValueKind::Count);
        assert_eq!(format_map(&m, &[]), "\n");
    }

    #[test]
    fn several_maps_concatenate_without_blank_lines() {
        // bpftrace -e 'BEGIN { @a[1] = count(); @a[2] = count(); @a[2] = count();
        //   @b[-5] = sum(-3); @b[7] = sum(10); @c = count(); exit(); }'
        let a = meta("@a", Some(Type::I64), ValueKind::Count);
        let b = meta("@b", Some(Type::I64), ValueKind::Sum);
        let c = meta("@c", None, ValueKind::Count);
        let out = [
            format_map(
                &a,
                &[e(i64k(2), Value::Uint(2)), e(i64k(1), Value::Uint(1))],
            ),
            format_map(
                &b,
                &[e(i64k(7), Value::Int(10)), e(i64k(-5), Value::Int(-3))],
            ),
            format_map(&c, &[e(u64k(0), Value::Uint(1))]),
        ]
        .concat();
        assert_eq!(out, "@a[1]: 1\n@a[2]: 2\n@b[-5]: -3\n@b[7]: 10\n@c: 1\n");
    }

    #[test]
    fn nested_tuple_in_key_keeps_its_parentheses() {
        let inner = Type::Tuple(vec![Type::I64, Type::I64]);
        let key = Type::Tuple(vec![inner, Type::I64]);
        let m = meta("@n", Some(key), ValueKind::Count);
        let mut k = i64k(1);
        k.extend(i64k(2));
        k.extend(i64k(3));
        assert_eq!(
            format_map(&m, &[e(k, Value::Uint(1))]),
            "@n[(1, 2), 3]: 1\n"
        );
    }
}
