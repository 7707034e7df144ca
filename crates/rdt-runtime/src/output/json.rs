//! `-f json`: one JSON object per line (NDJSON), with bpftrace's schema (checked against
//! bpftrace v0.17 `-f json`):
//!
//! ```text
//! {"type": "attached_probes", "data": {"probes": 1}}
//! {"type": "printf", "data": "hi 5\n"}
//! {"type": "time", "data": "12:00:00\n"}
//! {"type": "value", "data": 5}
//! {"type": "map", "data": {"@c": 1}}
//! {"type": "map", "data": {"@z": {"k": 1}}}
//! {"type": "stats", "data": {"@s": {"count": 2, "average": 6, "total": 13}}}
//! {"type": "hist", "data": {"@x": [{"min": 4, "max": 7, "count": 1}]}}
//! {"type": "lost_events", "data": {"events": 3}}
//! ```
//!
//! Tuple keys are joined with `,` into one string key (`"1,a"`); a map with no entries prints no
//! record. Unlike bpftrace, no blank lines precede the maps printed at exit, so every line is a
//! JSON document.

use rdt_codegen::{Buckets, MapMeta, ValueKind};
use rdt_types::buckets;

use super::{divided, hist, sorted_entries, PrintOpts};
use crate::maps::{self, Entry, Value};

/// One record: `{"type": "<kind>", "data": <data>}` and a newline.
pub fn record(kind: &str, data: &str) -> String {
    format!("{{\"type\": \"{kind}\", \"data\": {data}}}\n")
}

/// A record whose data is a string (printf, time).
pub fn text_record(kind: &str, text: &str) -> String {
    record(kind, &string(text))
}

/// A record whose data is one counter: `{"probes": 3}`.
pub fn count_record(kind: &str, field: &str, n: u64) -> String {
    record(kind, &format!("{{\"{field}\": {n}}}"))
}

/// A map as one record, or nothing for an empty map.
pub fn map_record(meta: &MapMeta, entries: &[Entry], opts: PrintOpts) -> String {
    let sorted = sorted_entries(meta, entries, opts.top);
    if sorted.is_empty() {
        return String::new();
    }
    let kind = match meta.value {
        ValueKind::Hist(_) => "hist",
        ValueKind::Avg | ValueKind::Stats | ValueKind::Stddev => "stats",
        _ => "map",
    };
    let value_of = |e: &Entry| {
        let v = divided(&e.value, opts.div);
        match &meta.value {
            ValueKind::Hist(b) => hist_array(b, &v),
            _ => value(&v),
        }
    };
    let body = match &meta.key {
        None => value_of(sorted[0]),
        Some(ty) => {
            let items: Vec<String> = sorted
                .iter()
                .map(|e| format!("{}: {}", string(&key_text(ty, &e.key)), value_of(e)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
    };
    record(kind, &format!("{{{}: {body}}}", string(&meta.name)))
}

/// A key as bpftrace's JSON shows it: tuple fields joined by `,`.
fn key_text(ty: &rdt_types::Type, bytes: &[u8]) -> String {
    match maps::decode(ty, bytes) {
        Value::Tuple(fields) => fields
            .iter()
            .map(super::format_value)
            .collect::<Vec<_>>()
            .join(","),
        other => super::format_value(&other),
    }
}

/// A value as JSON: numbers bare, strings and addresses quoted, tuples as arrays, stats as an
/// object.
pub fn value(v: &Value) -> String {
    match v {
        // bpftrace keeps JSON's numbers numbers: an enum value is its number there.
        Value::Int(n) | Value::Symbolic { value: n, .. } => n.to_string(),
        Value::Uint(n) => n.to_string(),
        Value::Str(s) => string(s),
        Value::Ptr(p) => string(&format!("0x{p:x}")),
        Value::Tuple(fields) | Value::Array(fields) => format!(
            "[{}]",
            fields.iter().map(value).collect::<Vec<_>>().join(",")
        ),
        Value::Stats {
            count,
            total,
            stats: true,
        } => format!(
            "{{\"count\": {count}, \"average\": {}, \"total\": {total}}}",
            v.average().unwrap_or(0)
        ),
        other => super::format_value(other),
    }
}

/// The non-empty range of a histogram as `[{"min": lo, "max": hi, "count": n}, …]`; the
/// open-ended buckets leave out the bound they lack.
fn hist_array(b: &Buckets, v: &Value) -> String {
    let Value::Hist(counts) = v else {
        return "[]".into();
    };
    let Some((first, last)) = hist::nonzero_range(counts) else {
        return "[]".into();
    };
    let items: Vec<String> = (first..=last)
        .map(|i| {
            let mut fields = Vec::new();
            let (lo, hi) = buckets::bounds(b, i);
            if let Some(lo) = lo {
                fields.push(format!("\"min\": {lo}"));
            }
            if let Some(hi) = hi {
                fields.push(format!("\"max\": {}", hi - 1));
            }
            fields.push(format!("\"count\": {}", counts[i]));
            format!("{{{}}}", fields.join(", "))
        })
        .collect();
    format!("[{}]", items.join(", "))
}

/// A JSON string literal, escaped as bpftrace escapes it.
pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdt_types::Type;

    fn meta(name: &str, key: Option<Type>, value: ValueKind) -> MapMeta {
        MapMeta {
            name: name.into(),
            kernel_name: "m".into(),
            key_size: key.as_ref().map_or(8, Type::size),
            key,
            value,
            value_size: 8,
            single_slot: false,
            printed_at_exit: true,
        }
    }

    #[test]
    fn schema_matches_bpftrace() {
        let c = meta("@c", None, ValueKind::Count);
        let e = [Entry {
            key: vec![0; 8],
            value: Value::Uint(1),
        }];
        assert_eq!(
            map_record(&c, &e, PrintOpts::default()),
            "{\"type\": \"map\", \"data\": {\"@c\": 1}}\n"
        );
        let s = meta("@s", None, ValueKind::Stats);
        let e = [Entry {
            key: vec![0; 8],
            value: Value::Stats {
                count: 2,
                total: 13,
                stats: true,
            },
        }];
        assert_eq!(
            map_record(&s, &e, PrintOpts::default()),
            "{\"type\": \"stats\", \"data\": {\"@s\": {\"count\": 2, \"average\": 6, \"total\": 13}}}\n"
        );
        let key = Type::Tuple(vec![Type::I64, Type::Str { size: 8 }]);
        let h = meta("@y", Some(key), ValueKind::Hist(Buckets::Log2 { bits: 0 }));
        let mut k = 1i64.to_le_bytes().to_vec();
        k.extend(b"a\0\0\0\0\0\0\0");
        let b = Buckets::Log2 { bits: 0 };
        let mut counts = vec![0; buckets::count(&b)];
        counts[buckets::index(&b, 100)] = 1;
        let e = [Entry {
            key: k,
            value: Value::Hist(counts),
        }];
        assert_eq!(
            map_record(&h, &e, PrintOpts::default()),
            "{\"type\": \"hist\", \"data\": {\"@y\": {\"1,a\": [{\"min\": 64, \"max\": 127, \"count\": 1}]}}}\n"
        );
    }

    #[test]
    fn strings_are_escaped() {
        assert_eq!(string("a\"b\\c\nd\u{1}"), "\"a\\\"b\\\\c\\nd\\u0001\"");
        assert_eq!(
            text_record("printf", "hi 5\n"),
            "{\"type\": \"printf\", \"data\": \"hi 5\\n\"}\n"
        );
    }

    #[test]
    fn empty_maps_print_nothing() {
        let c = meta("@c", Some(Type::I64), ValueKind::Count);
        assert_eq!(map_record(&c, &[], PrintOpts::default()), "");
    }
}
