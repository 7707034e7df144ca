//! printf format strings, parsed in one place: sema checks them against the arguments, the
//! runtime formats records with them.
//!
//! Conversions: `%d %i %u %x %X %o %s %c %p %%`, D's `%Y` (a wall-clock time), flags `- 0 + space #`, width, precision and the
//! length modifiers `hh h l ll j z t`.

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
pub enum Piece {
    Text(String),
    Conv(Conversion),
}

/// Width and precision above this are refused: they would only make rdt allocate absurdly.
const MAX_WIDTH: usize = 4096;

/// The conversions printf takes, as messages list them.
pub const SUPPORTED: &str = "%d %i %u %x %X %o %s %c %p %Y %%";

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

/// A format string as written together with its pieces: sema parses it once, when it checks
/// it, and user space formats every record with the pieces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Format {
    pub text: String,
    pub pieces: Vec<Piece>,
}

impl Format {
    /// The pieces of a checked format; one that does not parse prints as written.
    pub fn new(text: &str) -> Format {
        let pieces = parse(text).unwrap_or_else(|_| vec![Piece::Text(text.to_string())]);
        Format {
            text: text.to_string(),
            pieces,
        }
    }
}

pub fn parse(format: &str) -> Result<Vec<Piece>, (usize, String)> {
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
        return Err((
            i,
            "a `*` width is not supported; write the width as a number".into(),
        ));
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
        // `%Y`: D's conversion for a wall-clock time in nanoseconds (`walltimestamp`).
        'd' | 'i' | 'u' | 'x' | 'X' | 'o' | 'Y' => ConvKind::Int,
        // `%r`: bpftrace's conversion for buf() values (printed as text, like `%s`).
        's' | 'r' => ConvKind::Str,
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
        _ => Err((
            i,
            format!("width or precision too large (at most {MAX_WIDTH})"),
        )),
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

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(
            validate_format("%.s").expect("valid")[0].spec.precision,
            Some(0)
        );
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
