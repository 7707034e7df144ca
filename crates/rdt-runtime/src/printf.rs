//! `printf` in user space: formatting a ring-buffer record with C's rules. The format string
//! comes parsed (by `rdt_types::format`, when sema checked it), so a record costs no parsing.
//!
//! Conversions: `%d %i %u %x %X %o %s %c %p %%`, D's `%Y`, flags `- 0 + space #`, width, precision and the
//! length modifiers `hh h l ll j z t`. A length modifier truncates the value to its width
//! (`%hhd` of 300 prints 44); without one the value keeps the width of its type, so `%d` of a
//! 64-bit value prints all of it (as bpftrace does) while `%x` of an `int32` -1 prints
//! `ffffffff` (as C does).

use rdt_types::format::{Format, Piece, Spec};
use rdt_types::Type;

use crate::maps::{self, Value};

/// Formats a printf record. `args` gives each argument's offset in `record` and its type, in
/// the order of the format's conversions.
pub fn format_printf(format: &Format, args: &[(u32, Type)], record: &[u8]) -> String {
    format_printf_with_times(format, args, record, &[])
}

/// [`format_printf`] where the arguments with a format in `time_formats` are `strftime()`
/// timestamps (CLOCK_MONOTONIC nanoseconds) shown as local wall-clock time.
pub fn format_printf_with_times(
    format: &Format,
    args: &[(u32, Type)],
    record: &[u8],
    time_formats: &[Option<String>],
) -> String {
    let mut out = String::new();
    let mut args = args.iter().enumerate();
    for piece in &format.pieces {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Conv(conv) => match args.next() {
                Some((i, (offset, ty))) => {
                    let bytes = maps::field(record, *offset, ty.size());
                    let arg = match time_formats.get(i) {
                        Some(Some(fmt)) => {
                            Arg::Text(crate::actions::strftime_ns(fmt, maps::read_u64(bytes)))
                        }
                        _ => Arg::decode(ty, bytes),
                    };
                    out.push_str(&format_conversion(&conv.spec, &arg));
                }
                // Sema prevents this; show the conversion so the mismatch is visible.
                None => out.push_str(
                    format
                        .text
                        .get(conv.offset..conv.offset + conv.len)
                        .unwrap_or_default(),
                ),
            },
        }
    }
    out
}

/// Formats one already decoded value with one conversion (`printa`'s keys and values).
pub fn format_value_with(spec: &Spec, value: &Value) -> String {
    let arg = match value {
        Value::Symbolic { name, .. } if spec.conv == 's' => Arg::Text(name.clone()),
        Value::Int(v) | Value::Symbolic { value: v, .. } => Arg::Int {
            value: *v as u64,
            bits: 64,
        },
        Value::Uint(v) | Value::Ptr(v) => Arg::Int {
            value: *v,
            bits: 64,
        },
        Value::Stats { stats: false, .. } | Value::Stddev { .. } | Value::Extreme(_) => {
            match value.as_i128() {
                Some(n) => Arg::Int {
                    value: n as i64 as u64,
                    bits: 64,
                },
                None => Arg::Text(String::new()),
            }
        }
        other => Arg::Text(crate::output::format_value(other)),
    };
    format_conversion(spec, &arg)
}

/// An argument as printf sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Arg {
    /// An integer or pointer: its 64-bit value (sign-extended when signed) and its type's width.
    Int { value: u64, bits: u32 },
    /// Anything printed as text.
    Text(String),
}

impl Arg {
    fn decode(ty: &Type, bytes: &[u8]) -> Arg {
        let bits = ty.size().clamp(1, 8) * 8;
        match maps::decode(ty, bytes) {
            Value::Int(v) => Arg::Int {
                value: v as u64,
                bits,
            },
            Value::Uint(v) | Value::Ptr(v) => Arg::Int { value: v, bits },
            other => Arg::Text(crate::output::format_value(&other)),
        }
    }
}

fn format_conversion(spec: &Spec, arg: &Arg) -> String {
    match (spec.conv, arg) {
        (_, Arg::Text(text)) => format_str(spec, text.as_bytes()),
        ('s', Arg::Int { value, bits }) => {
            format_str(spec, signed(*value, *bits).to_string().as_bytes())
        }
        ('c', Arg::Int { value, .. }) => format_str(
            &Spec {
                precision: None,
                ..spec.clone()
            },
            &[*value as u8],
        ),
        ('p', Arg::Int { value, .. }) => format_pointer(spec, *value),
        ('Y', Arg::Int { value, .. }) => {
            format_str(spec, crate::actions::wall_date(*value).as_bytes())
        }
        ('d' | 'i', Arg::Int { value, bits }) => {
            let v = signed(*value, spec.length.bits().unwrap_or(*bits));
            format_int(spec, v < 0, v.unsigned_abs(), 10)
        }
        (conv, Arg::Int { value, bits }) => {
            let v = truncate(*value, spec.length.bits().unwrap_or(*bits));
            let radix = match conv {
                'x' | 'X' => 16,
                'o' => 8,
                _ => 10,
            };
            format_int(spec, false, v, radix)
        }
    }
}

/// The low `bits` bits of `value`.
fn truncate(value: u64, bits: u32) -> u64 {
    if bits >= 64 {
        value
    } else {
        value & ((1u64 << bits) - 1)
    }
}

/// The low `bits` bits of `value`, read as a signed number.
fn signed(value: u64, bits: u32) -> i64 {
    let unused = 64 - bits.clamp(1, 64);
    ((value << unused) as i64) >> unused
}

/// C's integer conversion: precision is a minimum number of digits, `0` pads between the sign
/// or prefix and the digits (unless a precision is given or `-` is set).
fn format_int(spec: &Spec, negative: bool, magnitude: u64, radix: u32) -> String {
    let mut digits = match radix {
        16 if spec.conv == 'X' => format!("{magnitude:X}"),
        16 => format!("{magnitude:x}"),
        8 => format!("{magnitude:o}"),
        _ => magnitude.to_string(),
    };
    if spec.precision == Some(0) && magnitude == 0 {
        digits.clear();
    }
    if let Some(p) = spec.precision {
        digits = format!("{digits:0>p$}");
    }
    let signed_conv = matches!(spec.conv, 'd' | 'i');
    let prefix = match () {
        _ if signed_conv && negative => "-",
        _ if signed_conv && spec.plus => "+",
        _ if signed_conv && spec.space => " ",
        _ if spec.alt && radix == 16 && magnitude != 0 => {
            if spec.conv == 'X' {
                "0X"
            } else {
                "0x"
            }
        }
        _ => "",
    };
    if spec.alt && radix == 8 && !digits.starts_with('0') {
        digits.insert(0, '0');
    }
    pad_number(spec, prefix, &digits)
}

fn pad_number(spec: &Spec, prefix: &str, digits: &str) -> String {
    let len = prefix.len() + digits.len();
    let width = spec.width.unwrap_or(0);
    if len >= width {
        return format!("{prefix}{digits}");
    }
    let fill = width - len;
    if spec.left {
        format!("{prefix}{digits}{}", " ".repeat(fill))
    } else if spec.zero && spec.precision.is_none() {
        format!("{prefix}{}{digits}", "0".repeat(fill))
    } else {
        format!("{}{prefix}{digits}", " ".repeat(fill))
    }
}

/// glibc's `%p`: `0x` and lowercase hex, `(nil)` for zero.
fn format_pointer(spec: &Spec, value: u64) -> String {
    if value == 0 {
        return format_str(
            &Spec {
                precision: None,
                ..spec.clone()
            },
            b"(nil)",
        );
    }
    let as_hex = Spec {
        alt: true,
        conv: 'x',
        plus: false,
        space: false,
        ..spec.clone()
    };
    format_int(&as_hex, false, value, 16)
}

/// `%s`: precision caps the bytes printed, width pads with spaces (counted in bytes, like C).
fn format_str(spec: &Spec, bytes: &[u8]) -> String {
    let shown = &bytes[..spec.precision.map_or(bytes.len(), |p| p.min(bytes.len()))];
    let fill = " ".repeat(spec.width.unwrap_or(0).saturating_sub(shown.len()));
    let text = String::from_utf8_lossy(shown);
    if spec.left {
        format!("{text}{fill}")
    } else {
        format!("{fill}{text}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn printf_text(format: &str, args: &[(u32, Type)], record: &[u8]) -> String {
        format_printf(&Format::new(format), args, record)
    }

    /// Builds a record and its argument list from typed values laid out one after another,
    /// each at an 8-byte aligned offset (as codegen does).
    struct Record {
        bytes: Vec<u8>,
        args: Vec<(u32, Type)>,
    }

    impl Record {
        fn new() -> Self {
            Record {
                bytes: Vec::new(),
                args: Vec::new(),
            }
        }

        fn push(mut self, ty: Type, bytes: &[u8]) -> Self {
            let at = self.bytes.len().div_ceil(8) * 8;
            self.bytes.resize(at, 0xee); // padding garbage must not leak into values
            let mut value = bytes.to_vec();
            value.resize(ty.size() as usize, 0);
            self.bytes.extend_from_slice(&value);
            self.args.push((at as u32, ty));
            self
        }

        fn int(self, bits: u8, signed: bool, v: i64) -> Self {
            let bytes = v.to_le_bytes();
            self.push(Type::Int { bits, signed }, &bytes[..usize::from(bits / 8)])
        }

        fn i64(self, v: i64) -> Self {
            self.int(64, true, v)
        }

        fn u64(self, v: u64) -> Self {
            self.push(Type::U64, &v.to_le_bytes())
        }

        fn str(self, s: &str, size: u32) -> Self {
            self.push(Type::Str { size }, s.as_bytes())
        }

        fn fmt(&self, format: &str) -> String {
            printf_text(format, &self.args, &self.bytes)
        }
    }

    fn one_i64(format: &str, v: i64) -> String {
        Record::new().i64(v).fmt(format)
    }

    // Expected strings below are what glibc's printf prints for the same format and a value of
    // the argument's C type (checked with bash's printf and gcc).

    #[test]
    fn decimal() {
        assert_eq!(one_i64("%d", 42), "42");
        assert_eq!(one_i64("%i", -42), "-42");
        assert_eq!(one_i64("%5d|", 42), "   42|");
        assert_eq!(one_i64("%-5d|", 42), "42   |");
        assert_eq!(one_i64("%05d", 42), "00042");
        assert_eq!(one_i64("%05d", -42), "-0042");
        assert_eq!(one_i64("%+d", 5), "+5");
        assert_eq!(one_i64("% d", 5), " 5");
        assert_eq!(one_i64("%+d", -5), "-5");
        assert_eq!(one_i64("%.3d", 7), "007");
        assert_eq!(one_i64("%6.3d|", -7), "  -007|");
        assert_eq!(one_i64("%06.3d|", 7), "   007|");
        assert_eq!(one_i64("%.0d|", 0), "|");
        assert_eq!(one_i64("%-+6d|", 12), "+12   |");
        assert_eq!(one_i64("%d", i64::MIN), "-9223372036854775808");
        assert_eq!(one_i64("%d", 1 << 40), "1099511627776");
    }

    #[test]
    fn unsigned_hex_octal() {
        assert_eq!(one_i64("%u", -1), "18446744073709551615");
        assert_eq!(one_i64("%x", 255), "ff");
        assert_eq!(one_i64("%X", 3054), "BEE");
        assert_eq!(one_i64("%08x", 255), "000000ff");
        assert_eq!(one_i64("%#x", 255), "0xff");
        assert_eq!(one_i64("%#X", 255), "0XFF");
        assert_eq!(one_i64("%#x", 0), "0");
        assert_eq!(one_i64("%#010x", 255), "0x000000ff");
        assert_eq!(one_i64("%08.3x|", 255), "     0ff|");
        assert_eq!(one_i64("%o", 8), "10");
        assert_eq!(one_i64("%#o", 8), "010");
        assert_eq!(one_i64("%#o", 0), "0");
        assert_eq!(one_i64("%#.0o", 0), "0");
        assert_eq!(one_i64("%x", -1), "ffffffffffffffff");
    }

    #[test]
    fn length_modifiers_truncate() {
        assert_eq!(one_i64("%hhd", 300), "44");
        assert_eq!(one_i64("%hhd", 200), "-56");
        assert_eq!(one_i64("%hhu", -1), "255");
        assert_eq!(one_i64("%hd", 70000), "4464");
        assert_eq!(one_i64("%hx", -1), "ffff");
        assert_eq!(one_i64("%ld", -1), "-1");
        assert_eq!(one_i64("%lld", -5), "-5");
        assert_eq!(one_i64("%zd", -5), "-5");
        assert_eq!(one_i64("%jd", -5), "-5");
        assert_eq!(one_i64("%lu", -1), "18446744073709551615");
        assert_eq!(one_i64("%llx", 1 << 40), "10000000000");
    }

    #[test]
    fn narrow_types_keep_their_width() {
        let r = Record::new().int(32, true, -1);
        assert_eq!(r.fmt("%d"), "-1");
        assert_eq!(r.fmt("%u"), "4294967295");
        assert_eq!(r.fmt("%x"), "ffffffff");
        // With `l`, C widens an int to long by sign extension.
        assert_eq!(r.fmt("%lu"), "18446744073709551615");
        let r = Record::new().int(8, false, 255).int(8, false, 255);
        assert_eq!(r.fmt("%x %d"), "ff -1");
        let r = Record::new().int(32, false, 4_000_000_000);
        assert_eq!(r.fmt("%u"), "4000000000");
        assert_eq!(r.fmt("%d"), "-294967296");
        let r = Record::new().int(8, true, -2);
        assert_eq!(r.fmt("%d"), "-2");
        let r = Record::new().int(16, false, 65535).int(16, false, 65535);
        assert_eq!(r.fmt("%u %hhu"), "65535 255");
    }

    #[test]
    fn strings() {
        let r = Record::new().str("ab", 16);
        assert_eq!(r.fmt("[%s]"), "[ab]");
        assert_eq!(r.fmt("[%5s]"), "[   ab]");
        assert_eq!(r.fmt("[%-5s]"), "[ab   ]");
        assert_eq!(r.fmt("[%.1s]"), "[a]");
        assert_eq!(r.fmt("[%-4.1s]"), "[a   ]");
        assert_eq!(r.fmt("[%.0s]"), "[]");
        // `0` does not pad strings in glibc.
        assert_eq!(r.fmt("[%05s]"), "[   ab]");
        let r = Record::new().str("systemd-journald", 16);
        assert_eq!(r.fmt("%-16s|"), "systemd-journald|");
        let r = Record::new().str("", 16);
        assert_eq!(r.fmt("<%s>"), "<>");
    }

    #[test]
    fn chars_and_pointers() {
        assert_eq!(one_i64("%c", 65), "A");
        assert_eq!(one_i64("%c", 0x4142), "B");
        assert_eq!(one_i64("[%3c]", 65), "[  A]");
        assert_eq!(one_i64("[%-3c]", 65), "[A  ]");
        assert_eq!(one_i64("%p", 4096), "0x1000");
        assert_eq!(one_i64("%p", 0), "(nil)");
        assert_eq!(one_i64("[%18p]", 0x7fff_0000), "[        0x7fff0000]");
        assert_eq!(one_i64("[%-12p]", 0x10), "[0x10        ]");
        let r = Record::new().push(
            Type::Ptr {
                to: Box::new(Type::U64),
                user: false,
            },
            &0xffff_ffff_8100_0000u64.to_le_bytes(),
        );
        assert_eq!(r.fmt("%p"), "0xffffffff81000000");
        assert_eq!(r.fmt("%lx"), "ffffffff81000000");
    }

    #[test]
    fn mixed_arguments_at_their_offsets() {
        let r = Record::new()
            .str("bash", 16)
            .int(32, true, 1234)
            .u64(7)
            .str("/etc/passwd", 32);
        assert_eq!(r.fmt("%s %d %u %s\n"), "bash 1234 7 /etc/passwd\n");
        assert_eq!(
            r.fmt("%-6s pid=%-6d n=%03u file=%.4s"),
            "bash   pid=1234   n=007 file=/etc"
        );
    }

    #[test]
    fn percent_and_plain_text() {
        assert_eq!(printf_text("100%% done\n", &[], &[]), "100% done\n");
        assert_eq!(printf_text("no conversions", &[], &[]), "no conversions");
        assert_eq!(one_i64("%d%%", 50), "50%");
        assert_eq!(one_i64("é %d ü", 1), "é 1 ü");
    }

    #[test]
    fn mismatched_arguments_do_not_panic() {
        // %s of an integer prints the number; %d of a string prints the string.
        assert_eq!(one_i64("%s", -3), "-3");
        assert_eq!(Record::new().str("x", 8).fmt("%d"), "x");
        // A missing argument shows the conversion; a short record reads zeros.
        assert_eq!(printf_text("%d and %s", &[], &[]), "%d and %s");
        assert_eq!(printf_text("%d", &[(4, Type::U64)], &[1, 2, 3, 4, 5]), "5");
        assert_eq!(printf_text("%s", &[(100, Type::Str { size: 16 })], &[]), "");
        // A malformed format prints as written.
        assert_eq!(printf_text("50%", &[], &[]), "50%");
    }

    #[test]
    fn tuple_argument_prints_like_a_map_value() {
        let t = Type::Tuple(vec![Type::I64, Type::Str { size: 8 }]);
        let mut bytes = 1i64.to_le_bytes().to_vec();
        bytes.extend_from_slice(b"ab\0\0\0\0\0\0");
        assert_eq!(printf_text("%s", &[(0, t)], &bytes), "(1, ab)");
    }
}
