//! Reading a script's maps out of the kernel and decoding their bytes by the types sema gave them.

use std::io;
use std::os::fd::BorrowedFd;

use rdt_codegen::{Counter, MapMeta, ValueKind};
use rdt_types::ktypes::KernelType;
use rdt_types::types::StackType;
use rdt_types::Type;

use crate::bpf_sys;

/// A decoded value (of a map entry, or one field of a key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A signed integer, already sign-extended from its width.
    Int(i64),
    /// An unsigned integer.
    Uint(u64),
    /// A string: the bytes before the first NUL, lossily decoded as UTF-8.
    Str(String),
    /// A tuple's fields, in order.
    Tuple(Vec<Value>),
    /// An address.
    Ptr(u64),
    /// A captured call stack: its addresses, innermost first, and its process (user stacks).
    Stack {
        stack: StackType,
        pid: u32,
        addrs: Vec<u64>,
    },
    /// `ksym(addr)` / `usym(addr)`: an address printed as its symbol.
    Symbol { user: bool, addr: u64, pid: u32 },
    /// `avg()` (`stats: false`) or `stats()`: merged count and total.
    Stats { count: u64, total: i64, stats: bool },
    /// `stddev()`: merged count, total and sum of squares.
    Stddev {
        count: u64,
        total: i64,
        squares: u128,
    },
    /// `min()` / `max()` over the CPUs that saw a value; `None` when none did.
    Extreme(Option<i64>),
    /// A histogram's bucket counts, summed over CPUs.
    Hist(Vec<u64>),
    /// A fixed-size array's elements, in order.
    Array(Vec<Value>),
    /// An enum value the enum names: text shows the name, JSON the number (as bpftrace does).
    Symbolic { name: String, value: i64 },
}

impl Value {
    /// The value as a signed number, for sorting by value (`None` for strings and tuples).
    pub fn as_i128(&self) -> Option<i128> {
        match self {
            Value::Int(v) | Value::Symbolic { value: v, .. } => Some(i128::from(*v)),
            Value::Uint(v) | Value::Ptr(v) => Some(i128::from(*v)),
            Value::Str(_)
            | Value::Tuple(_)
            | Value::Array(_)
            | Value::Stack { .. }
            | Value::Symbol { .. } => None,
            Value::Stats { .. } => self.average().map(i128::from),
            Value::Stddev { .. } => self.stddev().map(i128::from),
            Value::Extreme(v) => Some(i128::from(v.unwrap_or(0))),
            Value::Hist(counts) => Some(counts.iter().map(|&c| i128::from(c)).sum()),
        }
    }

    /// `total / count` of an avg/stats/stddev value, truncated toward zero like bpftrace.
    pub fn average(&self) -> Option<i64> {
        match self {
            Value::Stats { count, total, .. } | Value::Stddev { count, total, .. } => {
                Some(if *count == 0 {
                    0
                } else {
                    total / *count as i64
                })
            }
            _ => None,
        }
    }

    /// The population standard deviation of a stddev value, rounded down.
    pub fn stddev(&self) -> Option<u64> {
        let Value::Stddev {
            count,
            total,
            squares,
        } = self
        else {
            return None;
        };
        if *count == 0 {
            return Some(0);
        }
        let n = *count as f64;
        let mean = *total as f64 / n;
        let variance = (*squares as f64 / n - mean * mean).max(0.0);
        Some(variance.sqrt() as u64)
    }
}

/// One entry of a map: its raw key bytes (decoded for printing with the map's key type) and
/// its value, already merged across CPUs for per-CPU maps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: Vec<u8>,
    pub value: Value,
}

/// Reads every entry of a script map. Entries deleted while reading are skipped.
pub fn read_map(fd: BorrowedFd, meta: &MapMeta) -> io::Result<Vec<Entry>> {
    let value_size = if meta.value.is_per_cpu() {
        bpf_sys::per_cpu_value_size(meta.value_size)?
    } else {
        meta.value_size as usize
    };
    let mut raw = bpf_sys::map_entries(fd, meta.key_size as usize, value_size)?;
    if meta.single_slot {
        raw.retain(|(_, bytes)| bytes.iter().any(|&b| b != 0));
    }
    let slot = bpf_sys::round_up_8(meta.value_size as usize);
    Ok(raw
        .into_iter()
        .map(|(key, bytes)| Entry {
            key,
            value: decode_map_value(&meta.value, &bytes, slot),
        })
        .collect())
}

/// Decodes a map value as read from the kernel; `slot` is one CPU's share of a per-CPU value.
pub fn decode_map_value(kind: &ValueKind, bytes: &[u8], slot: usize) -> Value {
    match kind {
        // Each CPU counted on its own; the total wraps like the kernel's u64 arithmetic would.
        ValueKind::Count => Value::Uint(
            per_cpu_slots(bytes, slot).fold(0u64, |acc, s| acc.wrapping_add(read_u64(s))),
        ),
        ValueKind::Sum => Value::Int(
            per_cpu_slots(bytes, slot).fold(0i64, |acc, s| acc.wrapping_add(read_u64(s) as i64)),
        ),
        ValueKind::Plain(ty) => decode(ty, bytes),
        ValueKind::Avg | ValueKind::Stats => {
            let (count, total) = per_cpu_slots(bytes, slot).fold((0u64, 0i64), |(n, t), s| {
                (
                    n.wrapping_add(word(s, 0)),
                    t.wrapping_add(word(s, 1) as i64),
                )
            });
            Value::Stats {
                count,
                total,
                stats: *kind == ValueKind::Stats,
            }
        }
        ValueKind::Stddev => {
            let mut v = (0u64, 0i64, 0u128);
            for s in per_cpu_slots(bytes, slot) {
                v.0 = v.0.wrapping_add(word(s, 0));
                v.1 = v.1.wrapping_add(word(s, 1) as i64);
                v.2 = v.2.wrapping_add(u128::from(word(s, 2)));
            }
            Value::Stddev {
                count: v.0,
                total: v.1,
                squares: v.2,
            }
        }
        ValueKind::Min | ValueKind::Max => {
            let seen = per_cpu_slots(bytes, slot)
                .filter(|s| word(s, 1) != 0)
                .map(|s| word(s, 0) as i64);
            Value::Extreme(if *kind == ValueKind::Min {
                seen.min()
            } else {
                seen.max()
            })
        }
        ValueKind::Hist(_) => {
            let words = kind.words() as usize;
            let mut counts = vec![0u64; words];
            for s in per_cpu_slots(bytes, slot) {
                for (i, c) in counts.iter_mut().enumerate() {
                    *c = c.wrapping_add(word(s, i));
                }
            }
            Value::Hist(counts)
        }
    }
}

/// The `index`th little-endian u64 of `bytes` (zero past the end).
fn word(bytes: &[u8], index: usize) -> u64 {
    read_u64(field(bytes, (index * 8) as u32, 8))
}

fn per_cpu_slots(bytes: &[u8], slot: usize) -> std::slice::Chunks<'_, u8> {
    bytes.chunks(slot.max(1))
}

/// Reads the per-CPU counters map (one u64 per [`Counter`] per CPU) and sums each over CPUs.
pub fn read_counters(fd: BorrowedFd) -> io::Result<[u64; Counter::ALL.len()]> {
    let slot = 8;
    let mut value = vec![0u8; bpf_sys::per_cpu_value_size(slot as u32)?];
    let mut totals = [0u64; Counter::ALL.len()];
    for counter in Counter::ALL {
        let key = (counter as u32).to_le_bytes();
        value.fill(0);
        if bpf_sys::map_lookup(fd, &key, &mut value)? {
            totals[counter as usize] =
                per_cpu_slots(&value, slot).fold(0u64, |acc, s| acc.wrapping_add(read_u64(s)));
        }
    }
    Ok(totals)
}

/// Decodes `bytes` laid out as `ty` (little-endian integers, fixed string buffers, tuples at
/// [`Type::tuple_offsets`]). Bytes missing at the end read as zeros, so a short buffer never panics.
pub fn decode(ty: &Type, bytes: &[u8]) -> Value {
    match ty {
        Type::Int { bits, signed } => {
            decode_int(field(bytes, 0, u32::from(*bits / 8)), *bits, *signed)
        }
        Type::Str { size } => Value::Str(c_string(field(bytes, 0, *size))),
        Type::Tuple(fields) => {
            let offsets = Type::tuple_offsets(fields);
            Value::Tuple(
                fields
                    .iter()
                    .zip(offsets)
                    .map(|(f, at)| decode(f, field(bytes, at, f.size())))
                    .collect(),
            )
        }
        Type::Ptr { .. } => Value::Ptr(read_u64(field(bytes, 0, 8))),
        Type::Stack(stack) => decode_stack(stack, bytes),
        Type::Symbol { user } => Value::Symbol {
            user: *user,
            addr: read_u64(field(bytes, 0, 8)),
            pid: read_u64(field(bytes, 8, 8)) as u32,
        },
        Type::Text(kind) => Value::Str(crate::output::text::format(*kind, bytes)),
        // An enum value: its name, or its number when it has none.
        Type::Kernel(k @ KernelType::Enum { .. }) => {
            let v = read_u64(field(bytes, 0, 8)) as i64;
            match k.enum_name(v) {
                Some(name) => Value::Symbolic {
                    name: name.to_string(),
                    value: v,
                },
                None => Value::Int(v),
            }
        }
        // A struct printed whole with print().
        Type::Kernel(KernelType::Record { r, .. }) => {
            Value::Str(crate::output::kstruct::format(*r, bytes))
        }
        Type::Kernel(KernelType::Array { elem, len }) => {
            let size = elem.size();
            Value::Array(
                (0..*len)
                    .map(|i| decode(elem, field(bytes, i.saturating_mul(size), size)))
                    .collect(),
            )
        }
        Type::Void => Value::Uint(0),
    }
}

/// A stack's header is its pid; its addresses end at the first zero.
fn decode_stack(stack: &StackType, bytes: &[u8]) -> Value {
    let frames = field(bytes, StackType::HEADER, 8 * stack.captured_frames());
    Value::Stack {
        stack: *stack,
        pid: read_u64(field(bytes, 0, 8)) as u32,
        addrs: frames
            .chunks(8)
            .map(read_u64)
            .take_while(|&a| a != 0)
            .collect(),
    }
}

/// Decodes a little-endian integer of `bits` bits, sign-extending it when `signed`.
pub fn decode_int(bytes: &[u8], bits: u8, signed: bool) -> Value {
    let raw = read_u64(bytes);
    let bits = u32::from(bits.clamp(8, 64));
    let unused = 64 - bits;
    if signed {
        // Shift the sign bit to the top, then arithmetic-shift back down.
        Value::Int(((raw << unused) as i64) >> unused)
    } else {
        Value::Uint((raw << unused) >> unused)
    }
}

pub use crate::bytes::{c_string, field, read_u64};

#[cfg(test)]
mod tests {
    use super::*;

    fn str_bytes(s: &str, size: usize) -> Vec<u8> {
        let mut b = s.as_bytes().to_vec();
        b.resize(size, 0);
        b
    }

    #[test]
    fn integers_are_sign_extended_by_type() {
        assert_eq!(
            decode(
                &Type::Int {
                    bits: 8,
                    signed: true
                },
                &[0xfe]
            ),
            Value::Int(-2)
        );
        assert_eq!(
            decode(
                &Type::Int {
                    bits: 8,
                    signed: false
                },
                &[0xfe]
            ),
            Value::Uint(254)
        );
        assert_eq!(
            decode(
                &Type::Int {
                    bits: 16,
                    signed: true
                },
                &[0x00, 0x80]
            ),
            Value::Int(-32768)
        );
        assert_eq!(
            decode(
                &Type::Int {
                    bits: 32,
                    signed: true
                },
                &(-5i32).to_le_bytes()
            ),
            Value::Int(-5)
        );
        assert_eq!(
            decode(&Type::U32, &u32::MAX.to_le_bytes()),
            Value::Uint(u64::from(u32::MAX))
        );
        assert_eq!(decode(&Type::I64, &(-1i64).to_le_bytes()), Value::Int(-1));
        assert_eq!(
            decode(&Type::U64, &u64::MAX.to_le_bytes()),
            Value::Uint(u64::MAX)
        );
        // Only the type's own bytes count, even if more follow.
        assert_eq!(
            decode(
                &Type::Int {
                    bits: 16,
                    signed: false
                },
                &[1, 0, 9, 9]
            ),
            Value::Uint(1)
        );
    }

    #[test]
    fn short_buffers_read_as_zero_instead_of_panicking() {
        assert_eq!(decode(&Type::U64, &[7]), Value::Uint(7));
        assert_eq!(decode(&Type::U64, &[]), Value::Uint(0));
        let t = Type::Tuple(vec![Type::U64, Type::Str { size: 8 }]);
        assert_eq!(
            decode(&t, &[1]),
            Value::Tuple(vec![Value::Uint(1), Value::Str(String::new())])
        );
    }

    #[test]
    fn strings_stop_at_nul_or_fill_the_buffer() {
        assert_eq!(
            decode(&Type::Str { size: 8 }, &str_bytes("bash", 8)),
            Value::Str("bash".into())
        );
        assert_eq!(
            decode(&Type::Str { size: 4 }, b"abcd"),
            Value::Str("abcd".into())
        );
        assert_eq!(
            decode(&Type::Str { size: 4 }, b"a\0cd"),
            Value::Str("a".into())
        );
        assert_eq!(
            decode(&Type::Str { size: 3 }, &[0xff, b'x', 0]),
            Value::Str("\u{fffd}x".into())
        );
    }

    #[test]
    fn tuples_use_the_shared_layout() {
        let t = Type::Tuple(vec![Type::Str { size: 16 }, Type::U32, Type::I64]);
        let mut bytes = str_bytes("sshd", 16);
        bytes.extend_from_slice(&7u32.to_le_bytes());
        bytes.extend_from_slice(&[0xaa; 4]); // padding
        bytes.extend_from_slice(&(-9i64).to_le_bytes());
        assert_eq!(
            decode(&t, &bytes),
            Value::Tuple(vec![
                Value::Str("sshd".into()),
                Value::Uint(7),
                Value::Int(-9)
            ])
        );
    }

    #[test]
    fn per_cpu_values_are_summed() {
        let mut bytes = Vec::new();
        for v in [3u64, 4, 5] {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        assert_eq!(
            decode_map_value(&ValueKind::Count, &bytes, 8),
            Value::Uint(12)
        );
        let mut bytes = Vec::new();
        for v in [3i64, -10] {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        assert_eq!(decode_map_value(&ValueKind::Sum, &bytes, 8), Value::Int(-7));
        assert_eq!(
            decode_map_value(&ValueKind::Plain(Type::I64), &(-3i64).to_le_bytes(), 8),
            Value::Int(-3)
        );
    }
}
