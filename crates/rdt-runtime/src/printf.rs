//! `printf` in user space: parsing a format string (also for sema's checks) and formatting a
//! ring-buffer record with C's rules.
//!
//! Conversions: `%d %i %u %x %X %o %s %c %p %%`, flags `- 0 + space #`, width, precision and the
//! length modifiers `hh h l ll j z t`. A length modifier truncates the value to its width
//! (`%hhd` of 300 prints 44); without one the value keeps the width of its type, so `%d` of a
//! 64-bit value prints all of it (as bpftrace does) while `%x` of an `int32` -1 prints
//! `ffffffff` (as C does).

use rdt_sema::Type;

use crate::maps::{self, Value};

/// What kind of argument a conversion consumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConvKind {
    /// `%d %i %u %x %X %o`
    Int,
    /// `%s`
    Str,
    /// `%c`
    Char,
    /// `%p`
    Pointer,
}

/// A length modifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Length {
    #[default]
    None,
    /// `hh`: char
    Hh,
    /// `h`: short
    H,
    /// `l`
    L,
    /// `ll`
    Ll,
    /// `j`
    J,
    /// `z`
    Z,
    /// `t`
    T,
}

impl Length {
    /// The width a value is truncated to, if the modifier sets one.
    pub fn bits(self) -> Option<u32> {
        match self {
            Length::None => None,
            Length::Hh => Some(8),
            Length::H => Some(16),
            Length::L | Length::Ll | Length::J | Length::Z | Length::T => Some(64),
        }
    }
}

/// One parsed conversion specification.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Spec {
    /// `-`: pad on the right.
    pub left: bool,
    /// `0`: pad numbers with zeros.
    pub zero: bool,
    /// `+`: always print a sign for signed conversions.
    pub plus: bool,
    /// ` `: a space where a `+` would go.
    pub space: bool,
    /// `#`: `0x` before hex, a leading `0` for octal.
    pub alt: bool,
    pub width: Option<usize>,
    pub precision: Option<usize>,
    pub length: Length,
    /// The conversion character (`d`, `s`, …).
    pub conv: char,
}

/// A conversion in a format string: where it is and what it takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversion {
    /// Byte offset of its `%` in the format string.
    pub offset: usize,
    /// Its length in bytes, `%` to conversion character inclusive.
    pub len: usize,
    pub kind: ConvKind,
    pub spec: Spec,
}

/// A piece of a parsed format string.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Conv(Conversion),
}

/// Width and precision above this are refused: they would only make rdt allocate absurdly.
const MAX_WIDTH: usize = 4096;

const SUPPORTED: &str = "%d %i %u %x %X %o %s %c %p %%";

/// Checks a format string and lists its conversions (one per argument, in order; `%%` is not
/// one). An error gives the byte offset in `format` of the offending character and a message.
pub fn validate_format(format: &str) -> Result<Vec<Conversion>, (usize, String)> {
    Ok(parse(format)?
        .into_iter()
        .filter_map(|p| match p {
            Piece::Conv(c) => Some(c),
            Piece::Text(_) => None,
        })
        .collect())
}

fn parse(format: &str) -> Result<Vec<Piece>, (usize, String)> {
    let bytes = format.as_bytes();
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut i = 0;
    while i < bytes.len() {
        let Some(rel) = format[i..].find('%') else {
            text.push_str(&format[i..]);
            break;
        };
        text.push_str(&format[i..i + rel]);
        let start = i + rel;
        if bytes.get(start + 1) == Some(&b'%') {
            text.push('%');
            i = start + 2;
            continue;
        }
        let conv = parse_conversion(format, start)?;
        i = start + conv.len;
        if !text.is_empty() {
            pieces.push(Piece::Text(std::mem::take(&mut text)));
        }
        pieces.push(Piece::Conv(conv));
    }
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Ok(pieces)
}

/// Parses the conversion whose `%` is at `start`.
fn parse_conversion(format: &str, start: usize) -> Result<Conversion, (usize, String)> {
    let bytes = format.as_bytes();
    let mut spec = Spec::default();
    let mut i = start + 1;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'-' => spec.left = true,
            b'0' => spec.zero = true,
            b'+' => spec.plus = true,
            b' ' => spec.space = true,
            b'#' => spec.alt = true,
            _ => break,
        }
        i += 1;
    }
    if bytes.get(i) == Some(&b'*') {
        return Err((i, "a `*` width is not supported; write the width as a number".into()));
    }
    let (width, next) = parse_number(format, i)?;
    spec.width = width;
    i = next;
    if bytes.get(i) == Some(&b'.') {
        i += 1;
        if bytes.get(i) == Some(&b'*') {
            return Err((
                i,
                "a `*` precision is not supported; write the precision as a number".into(),
            ));
        }
        let (precision, next) = parse_number(format, i)?;
        spec.precision = Some(precision.unwrap_or(0));
        i = next;
    }
    (spec.length, i) = parse_length(bytes, i);
    let Some(conv) = format[i..].chars().next() else {
        return Err((
            start,
            "incomplete conversion at the end of the format; write `%%` for a literal `%`".into(),
        ));
    };
    let kind = match conv {
        'd' | 'i' | 'u' | 'x' | 'X' | 'o' => ConvKind::Int,
        's' => ConvKind::Str,
        'c' => ConvKind::Char,
        'p' => ConvKind::Pointer,
        _ => return Err((i, unsupported_message(format, start, i, conv))),
    };
    spec.conv = conv;
    Ok(Conversion {
        offset: start,
        len: i + conv.len_utf8() - start,
        kind,
        spec,
    })
}

fn unsupported_message(format: &str, start: usize, at: usize, conv: char) -> String {
    let written = &format[start..at + conv.len_utf8()];
    let mut message = format!("unsupported conversion `{written}`; printf supports {SUPPORTED}");
    if "eEfFgGaA".contains(conv) {
        message.push_str(" (rdt has no floating point)");
    } else if conv == 'n' {
        message = format!("`{written}` is not supported: it would write to memory");
    }
    message
}

/// Parses a decimal number at `i`, if there is one.
fn parse_number(format: &str, i: usize) -> Result<(Option<usize>, usize), (usize, String)> {
    let digits = format[i..].bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return Ok((None, i));
    }
    match format[i..i + digits].parse::<usize>() {
        Ok(n) if n <= MAX_WIDTH => Ok((Some(n), i + digits)),
        _ => Err((i, format!("width or precision too large (at most {MAX_WIDTH})"))),
    }
}

fn parse_length(bytes: &[u8], i: usize) -> (Length, usize) {
    match (bytes.get(i), bytes.get(i + 1)) {
        (Some(b'h'), Some(b'h')) => (Length::Hh, i + 2),
        (Some(b'l'), Some(b'l')) => (Length::Ll, i + 2),
        (Some(b'h'), _) => (Length::H, i + 1),
        (Some(b'l'), _) => (Length::L, i + 1),
        (Some(b'j'), _) => (Length::J, i + 1),
        (Some(b'z'), _) => (Length::Z, i + 1),
        (Some(b't'), _) => (Length::T, i + 1),
        _ => (Length::None, i),
    }
}

/// Formats a printf record. `args` gives each argument's offset in `record` and its type, in
/// the order of the format's conversions. The format was checked by sema; should it still be
/// malformed, it prints as written rather than failing.
pub fn format_printf(format: &str, args: &[(u32, Type)], record: &[u8]) -> String {
    let Ok(pieces) = parse(format) else {
        return format.to_string();
    };
    let mut out = String::new();
    let mut args = args.iter();
    for piece in &pieces {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Conv(conv) => match args.next() {
                Some((offset, ty)) => {
                    let bytes = maps::field(record, *offset, ty.size());
                    out.push_str(&format_conversion(&conv.spec, &Arg::decode(ty, bytes)));
                }
                // Sema prevents this; show the conversion so the mismatch is visible.
                None => out.push_str(&format[conv.offset..conv.offset + conv.len]),
            },
        }
    }
    out
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
            Value::Int(v) => Arg::Int { value: v as u64, bits },
            Value::Uint(v) | Value::Ptr(v) => Arg::Int { value: v, bits },
            other => Arg::Text(crate::output::format_value(&other)),
        }
    }
}

fn format_conversion(spec: &Spec, arg: &Arg) -> String {
    match (spec.conv, arg) {
        (_, Arg::Text(text)) => format_str(spec, text.as_bytes()),
        ('s', Arg::Int { value, bits }) => format_str(spec, signed(*value, *bits).to_string().as_bytes()),
        ('c', Arg::Int { value, .. }) => format_str(
            &Spec {
                precision: None,
                ..spec.clone()
            },
            &[*value as u8],
        ),
        ('p', Arg::Int { value, .. }) => format_pointer(spec, *value),
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
            format_printf(format, &self.args, &self.bytes)
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
        assert_eq!(format_printf("100%% done\n", &[], &[]), "100% done\n");
        assert_eq!(format_printf("no conversions", &[], &[]), "no conversions");
        assert_eq!(one_i64("%d%%", 50), "50%");
        assert_eq!(one_i64("é %d ü", 1), "é 1 ü");
    }

    #[test]
    fn mismatched_arguments_do_not_panic() {
        // %s of an integer prints the number; %d of a string prints the string.
        assert_eq!(one_i64("%s", -3), "-3");
        assert_eq!(Record::new().str("x", 8).fmt("%d"), "x");
        // A missing argument shows the conversion; a short record reads zeros.
        assert_eq!(format_printf("%d and %s", &[], &[]), "%d and %s");
        assert_eq!(format_printf("%d", &[(4, Type::U64)], &[1, 2, 3, 4, 5]), "5");
        assert_eq!(format_printf("%s", &[(100, Type::Str { size: 16 })], &[]), "");
        // A malformed format prints as written.
        assert_eq!(format_printf("50%", &[], &[]), "50%");
    }

    #[test]
    fn tuple_argument_prints_like_a_map_value() {
        let t = Type::Tuple(vec![Type::I64, Type::Str { size: 8 }]);
        let mut bytes = 1i64.to_le_bytes().to_vec();
        bytes.extend_from_slice(b"ab\0\0\0\0\0\0");
        assert_eq!(format_printf("%s", &[(0, t)], &bytes), "(1, ab)");
    }

    #[test]
    fn validate_lists_conversions() {
        let convs = validate_format("%s pid %-6d %hhx %% %c %p\n").expect("valid");
        let kinds: Vec<_> = convs.iter().map(|c| c.kind).collect();
        assert_eq!(
            kinds,
            [
                ConvKind::Str,
                ConvKind::Int,
                ConvKind::Int,
                ConvKind::Char,
                ConvKind::Pointer
            ]
        );
        let at: Vec<_> = convs.iter().map(|c| (c.offset, c.len)).collect();
        assert_eq!(at, [(0, 2), (7, 4), (12, 4), (20, 2), (23, 2)]);
        assert_eq!(
            convs[1].spec,
            Spec {
                left: true,
                width: Some(6),
                conv: 'd',
                ..Spec::default()
            }
        );
        assert_eq!(convs[2].spec.length, Length::Hh);
        let s = &validate_format("%#08.3lx").expect("valid")[0].spec;
        assert_eq!(
            *s,
            Spec {
                alt: true,
                zero: true,
                width: Some(8),
                precision: Some(3),
                length: Length::L,
                conv: 'x',
                ..Spec::default()
            }
        );
        assert_eq!(validate_format("plain %% text"), Ok(vec![]));
        assert_eq!(validate_format("%.s").expect("valid")[0].spec.precision, Some(0));
    }

    #[test]
    fn validate_reports_the_offending_character() {
        let err = |f: &str| validate_format(f).expect_err("should fail");
        let (at, msg) = err("x = %f\n");
        assert_eq!(at, 5);
        assert!(
            msg.contains("unsupported conversion `%f`") && msg.contains("no floating point"),
            "{msg}"
        );
        let (at, msg) = err("50%");
        assert_eq!(at, 2);
        assert!(msg.contains("`%%`"), "{msg}");
        let (at, _) = err("%-*d");
        assert_eq!(at, 2);
        let (at, _) = err("%.*s");
        assert_eq!(at, 2);
        let (at, msg) = err("%ln");
        assert_eq!(at, 2);
        assert!(msg.contains("write to memory"), "{msg}");
        let (at, _) = err("ok %d then %q");
        assert_eq!(at, 12);
        let (at, _) = err("%99999d");
        assert_eq!(at, 1);
        // A multi-byte character after `%` is reported whole, not split.
        let (at, msg) = err("%é");
        assert_eq!(at, 1);
        assert!(msg.contains("`%é`"), "{msg}");
        let (at, _) = err("%hh");
        assert_eq!(at, 0);
    }
}
