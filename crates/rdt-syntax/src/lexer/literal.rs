//! Literal decoding: integers (decimal, hex, octal, `_` separators, C suffixes), durations,
//! character and string literals with their escapes. Called from logos callbacks.

use super::token::Tok;
use logos::Lexer;

/// What went wrong while lexing one token. Positions are relative to the token's start; the
/// context layer turns them into a located [`crate::Diagnostic`].
#[derive(Debug, Clone, PartialEq, Default)]
pub enum LexErrorKind {
    /// No token starts with this character.
    #[default]
    UnexpectedChar,
    PositionalTooLarge,
    Literal(LiteralError),
}

#[derive(Debug, Clone, PartialEq)]
pub struct LiteralError {
    /// `(offset, len)` inside the token; `None` points at the whole token.
    pub at: Option<(usize, usize)>,
    pub message: String,
    pub label: String,
    pub help: Option<String>,
}

impl LiteralError {
    fn new(message: impl Into<String>, label: impl Into<String>) -> LiteralError {
        LiteralError {
            at: None,
            message: message.into(),
            label: label.into(),
            help: None,
        }
    }

    fn at(mut self, offset: usize, len: usize) -> LiteralError {
        self.at = Some((offset, len));
        self
    }

    fn help(mut self, help: impl Into<String>) -> LiteralError {
        self.help = Some(help.into());
        self
    }
}

impl From<LiteralError> for LexErrorKind {
    fn from(e: LiteralError) -> LexErrorKind {
        LexErrorKind::Literal(e)
    }
}

const NANOS_PER: &[(&str, u64)] = &[
    ("ns", 1),
    ("us", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
    ("d", 86_400_000_000_000),
];

pub(super) fn number(lex: &mut Lexer<Tok>) -> Result<u64, LexErrorKind> {
    parse_number(lex.slice()).map_err(LexErrorKind::from)
}

/// `123`, `1_000`, `0x1f`, `017`, `10ms` (→ nanoseconds), `42UL` (C suffixes are ignored).
pub fn parse_number(text: &str) -> Result<u64, LiteralError> {
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        return parse_hex(text, hex);
    }
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit() && c != '_')
        .unwrap_or(text.len());
    let (digits, suffix) = text.split_at(digits_end);
    let digits: String = digits.chars().filter(|&c| c != '_').collect();
    if let Some(&(_, scale)) = NANOS_PER.iter().find(|(unit, _)| *unit == suffix) {
        let value = parse_radix(text, &digits, 10)?;
        return value.checked_mul(scale).ok_or_else(|| too_large(text));
    }
    if let Some(exponent) = decimal_exponent(suffix) {
        return scaled_by_power_of_ten(text, &digits, exponent);
    }
    if !is_integer_suffix(suffix) {
        return Err(LiteralError::new(
            format!("invalid suffix `{suffix}` on number"),
            "unknown suffix",
        )
        .at(digits_end, suffix.len())
        .help("durations take one of ns, us, ms, s, m, h, d; floating point is not supported"));
    }
    if digits.len() > 1 && digits.starts_with('0') {
        return parse_octal(text, &digits);
    }
    parse_radix(text, &digits, 10)
}

/// bpftrace's integer exponent form, `1e6` (= 1000000): the digits after `e`/`E`.
fn decimal_exponent(suffix: &str) -> Option<&str> {
    let exponent = suffix.strip_prefix(['e', 'E'])?;
    (!exponent.is_empty() && exponent.bytes().all(|b| b.is_ascii_digit())).then_some(exponent)
}

fn scaled_by_power_of_ten(text: &str, digits: &str, exponent: &str) -> Result<u64, LiteralError> {
    let mantissa = parse_radix(text, digits, 10)?;
    exponent
        .parse::<u32>()
        .ok()
        .and_then(|e| 10u64.checked_pow(e))
        .and_then(|scale| mantissa.checked_mul(scale))
        .ok_or_else(|| too_large(text))
}

fn parse_hex(text: &str, hex: &str) -> Result<u64, LiteralError> {
    let body = hex.trim_end_matches(['u', 'U', 'l', 'L']);
    let digits: String = body.chars().filter(|&c| c != '_').collect();
    if digits.is_empty() {
        return Err(LiteralError::new(
            "hexadecimal number has no digits",
            "expected digits after `0x`",
        ));
    }
    if let Some(bad) = digits.chars().find(|c| !c.is_ascii_hexdigit()) {
        return Err(LiteralError::new(
            format!("invalid digit `{bad}` in hexadecimal number"),
            "not a hexadecimal number",
        ));
    }
    parse_radix(text, &digits, 16)
}

fn parse_octal(text: &str, digits: &str) -> Result<u64, LiteralError> {
    if let Some(bad) = digits.chars().find(|&c| c == '8' || c == '9') {
        return Err(LiteralError::new(
            format!("invalid digit `{bad}` in octal number"),
            "not an octal number",
        )
        .help("a leading `0` makes a number octal; remove it for a decimal number"));
    }
    parse_radix(text, digits, 8)
}

fn parse_radix(text: &str, digits: &str, radix: u32) -> Result<u64, LiteralError> {
    u64::from_str_radix(digits, radix).map_err(|_| too_large(text))
}

fn too_large(text: &str) -> LiteralError {
    LiteralError::new(
        format!("number `{text}` does not fit in 64 bits"),
        "too large",
    )
}

/// C's `u`, `l`, `ul`, `ull`, `lu`, `llu`, `ll` in any case (D scripts copy C constants).
fn is_integer_suffix(suffix: &str) -> bool {
    let lower = suffix.to_ascii_lowercase();
    matches!(
        lower.as_str(),
        "" | "u" | "l" | "ul" | "lu" | "ll" | "ull" | "llu"
    )
}

pub(super) fn string_literal(lex: &mut Lexer<Tok>) -> Result<String, LexErrorKind> {
    let rest = lex.remainder();
    match quoted_len(rest, b'"') {
        Some(len) => {
            lex.bump(len + 1);
            decode_escapes(&rest[..len]).map_err(|e| shift(e, 1).into())
        }
        None => {
            lex.bump(line_len(rest));
            Err(LiteralError::new("unterminated string", "this string is not closed")
                .help("add a closing `\"`; a string cannot span lines (write `\\n` for a newline)")
                .into())
        }
    }
}

pub(super) fn char_literal(lex: &mut Lexer<Tok>) -> Result<u64, LexErrorKind> {
    let rest = lex.remainder();
    let Some(len) = quoted_len(rest, b'\'') else {
        lex.bump(line_len(rest));
        return Err(
            LiteralError::new("unterminated character literal", "this `'` is not closed")
                .help("a character literal is one character between single quotes, like 'a'; strings use \"…\"")
                .into(),
        );
    };
    lex.bump(len + 1);
    let decoded = decode_escapes(&rest[..len]).map_err(|e| LexErrorKind::from(shift(e, 1)))?;
    let mut chars = decoded.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Ok(u64::from(c)),
        _ => Err(LiteralError::new(
            "a character literal holds exactly one character",
            "not one character",
        )
        .help("use double quotes for a string: \"…\"")
        .into()),
    }
}

/// Length of a quoted body up to (not including) its closing quote, or `None` if the line or
/// input ends first. Only ASCII bytes are inspected, so the result is a char boundary.
fn quoted_len(rest: &str, quote: u8) -> Option<usize> {
    let bytes = rest.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\n' => return None,
            b'\\' if bytes.get(i + 1) == Some(&b'\n') => return None,
            b'\\' => i += 2,
            _ if b == quote => return Some(i),
            _ => i += 1,
        }
    }
    None
}

fn line_len(rest: &str) -> usize {
    rest.find('\n').unwrap_or(rest.len())
}

fn shift(mut e: LiteralError, by: usize) -> LiteralError {
    if let Some((offset, len)) = e.at {
        e.at = Some((offset + by, len));
    }
    e
}

/// Decodes `\n \t \r \\ \" \' \0 \a \b \f \v \e \xNN \NNN` (octal). Errors carry the escape's
/// position inside `body`.
pub fn decode_escapes(body: &str) -> Result<String, LiteralError> {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some((_, e)) = chars.next() else {
            return Err(LiteralError::new(
                "incomplete escape at the end of the literal",
                "nothing follows `\\`",
            )
            .at(start, 1));
        };
        let simple = match e {
            'n' => Some('\n'),
            't' => Some('\t'),
            'r' => Some('\r'),
            '\\' => Some('\\'),
            '"' => Some('"'),
            '\'' => Some('\''),
            'a' => Some('\x07'),
            'b' => Some('\x08'),
            'f' => Some('\x0c'),
            'v' => Some('\x0b'),
            'e' => Some('\x1b'),
            _ => None,
        };
        if let Some(decoded) = simple {
            out.push(decoded);
            continue;
        }
        let (radix, max_digits, first) = match e {
            'x' => (16, 2, None),
            '0'..='7' => (8, 3, Some(e)),
            _ => {
                return Err(
                    LiteralError::new(format!("unknown escape `\\{e}`"), "unknown escape")
                        .at(start, 1 + e.len_utf8())
                        .help("known escapes: \\n \\t \\r \\\\ \\\" \\' \\0 \\xNN \\NNN (octal)"),
                )
            }
        };
        let mut digits: String = first.into_iter().collect();
        while digits.len() < max_digits {
            match chars.peek() {
                Some(&(_, d)) if d.is_digit(radix) => {
                    digits.push(d);
                    chars.next();
                }
                _ => break,
            }
        }
        let end = chars.peek().map_or(body.len(), |&(i, _)| i);
        out.push(numeric_escape(&digits, radix).map_err(|e| e.at(start, end - start))?);
    }
    Ok(out)
}

fn numeric_escape(digits: &str, radix: u32) -> Result<char, LiteralError> {
    let value = u32::from_str_radix(digits, radix).map_err(|_| {
        LiteralError::new(
            "`\\x` needs one or two hexadecimal digits",
            "incomplete escape",
        )
    })?;
    match char::from_u32(value) {
        Some(c) if c.is_ascii() => Ok(c),
        _ => Err(LiteralError::new(
            format!("escape value {value:#x} is not an ASCII character"),
            "above 0x7f",
        )
        .help("strings hold text; byte values above 0x7f are not supported")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_in_every_base() {
        assert_eq!(parse_number("42"), Ok(42));
        assert_eq!(parse_number("1_000_000"), Ok(1_000_000));
        assert_eq!(parse_number("0x1f"), Ok(31));
        assert_eq!(parse_number("0XFFul"), Ok(255));
        assert_eq!(parse_number("017"), Ok(15));
        assert_eq!(parse_number("0"), Ok(0));
        assert_eq!(parse_number("42UL"), Ok(42));
        assert_eq!(parse_number("18446744073709551615"), Ok(u64::MAX));
    }

    #[test]
    fn exponents_scale_integers_as_in_bpftrace() {
        assert_eq!(parse_number("1e6"), Ok(1_000_000));
        assert_eq!(parse_number("25E2"), Ok(2_500));
        assert_eq!(parse_number("7e0"), Ok(7));
        assert!(parse_number("1e20").is_err());
        assert!(parse_number("1e").is_err());
        assert!(parse_number("1e-3").is_err());
    }

    #[test]
    fn durations_are_nanoseconds() {
        assert_eq!(parse_number("3ns"), Ok(3));
        assert_eq!(parse_number("100us"), Ok(100_000));
        assert_eq!(parse_number("10ms"), Ok(10_000_000));
        assert_eq!(parse_number("5s"), Ok(5_000_000_000));
        assert_eq!(parse_number("2m"), Ok(120_000_000_000));
        assert_eq!(parse_number("1h"), Ok(3_600_000_000_000));
        assert_eq!(parse_number("1d"), Ok(86_400_000_000_000));
    }

    #[test]
    fn bad_numbers_are_errors() {
        assert!(parse_number("09").is_err());
        assert!(parse_number("0x").is_err());
        assert!(parse_number("12abc").is_err());
        assert!(parse_number("18446744073709551616").is_err());
        assert!(parse_number("999999999999d").is_err());
        assert!(parse_number("0xfg").is_err());
    }

    #[test]
    fn escapes() {
        assert_eq!(
            decode_escapes(r#"a\nb\t\\\"\0"#).as_deref(),
            Ok("a\nb\t\\\"\0")
        );
        assert_eq!(decode_escapes(r"\x41\101\x7").as_deref(), Ok("AA\x07"));
        assert_eq!(decode_escapes(r"\0101").as_deref(), Ok("\x081"));
        let err = decode_escapes(r"ab\q").unwrap_err();
        assert_eq!(err.at, Some((2, 2)));
        assert!(decode_escapes(r"\xff").is_err());
        assert!(decode_escapes(r"\xg").is_err());
        assert!(decode_escapes("\\").is_err());
    }
}
