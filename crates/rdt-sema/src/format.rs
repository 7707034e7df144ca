//! printf format strings: parsed once here, checked against the arguments by sema, and used by the
//! runtime to format records. One parser for both, so they cannot disagree.

/// A piece of a format string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    Conversion(Conversion),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversion {
    pub flags: Flags,
    pub width: Option<usize>,
    pub precision: Option<usize>,
    /// Bytes of the integer argument that count (`h` = 2, `hh` = 1); 8 when no modifier.
    pub int_bytes: u8,
    pub kind: ConversionKind,
    /// Byte range of the conversion in the format string, for diagnostics.
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Flags {
    pub left: bool,
    pub zero: bool,
    pub plus: bool,
    pub space: bool,
    pub alt: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConversionKind {
    /// `%d %i`
    Signed,
    /// `%u`
    Unsigned,
    /// `%x`
    Hex,
    /// `%X`
    HexUpper,
    /// `%o`
    Octal,
    /// `%s`
    Str,
    /// `%c`
    Char,
    /// `%p`
    Pointer,
}

impl ConversionKind {
    pub fn takes_string(self) -> bool {
        self == ConversionKind::Str
    }
}

/// Parses a format string. The error is `(byte offset, message)`.
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
        let (conversion, next) = parse_conversion(format, start)?;
        if !text.is_empty() {
            pieces.push(Piece::Text(std::mem::take(&mut text)));
        }
        pieces.push(Piece::Conversion(conversion));
        i = next;
    }
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Ok(pieces)
}

/// The conversions of a format string, in order.
pub fn conversions(pieces: &[Piece]) -> impl Iterator<Item = &Conversion> {
    pieces.iter().filter_map(|p| match p {
        Piece::Conversion(c) => Some(c),
        Piece::Text(_) => None,
    })
}

fn parse_conversion(format: &str, start: usize) -> Result<(Conversion, usize), (usize, String)> {
    let bytes = format.as_bytes();
    let mut i = start + 1;
    let mut flags = Flags::default();
    while let Some(&c) = bytes.get(i) {
        match c {
            b'-' => flags.left = true,
            b'0' => flags.zero = true,
            b'+' => flags.plus = true,
            b' ' => flags.space = true,
            b'#' => flags.alt = true,
            _ => break,
        }
        i += 1;
    }
    let (width, next) = digits(bytes, i);
    i = next;
    let mut precision = None;
    if bytes.get(i) == Some(&b'.') {
        let (p, next) = digits(bytes, i + 1);
        precision = Some(p.unwrap_or(0));
        i = next;
    }
    let mut int_bytes = 8;
    while let Some(&c) = bytes.get(i) {
        match c {
            b'h' => int_bytes = if int_bytes == 2 { 1 } else { 2 },
            b'l' | b'z' | b'j' | b't' | b'q' => int_bytes = 8,
            _ => break,
        }
        i += 1;
    }
    let kind = match bytes.get(i) {
        Some(b'd' | b'i') => ConversionKind::Signed,
        Some(b'u') => ConversionKind::Unsigned,
        Some(b'x') => ConversionKind::Hex,
        Some(b'X') => ConversionKind::HexUpper,
        Some(b'o') => ConversionKind::Octal,
        Some(b's') => ConversionKind::Str,
        Some(b'c') => ConversionKind::Char,
        Some(b'p') => ConversionKind::Pointer,
        Some(_) => {
            let ch = format[i..].chars().next().unwrap_or('?');
            return Err((i, format!("unknown conversion `%{ch}`")));
        }
        None => return Err((start, "incomplete conversion at the end of the format".to_string())),
    };
    let conversion = Conversion { flags, width, precision, int_bytes, kind, start, end: i + 1 };
    Ok((conversion, i + 1))
}

fn digits(bytes: &[u8], mut i: usize) -> (Option<usize>, usize) {
    let start = i;
    let mut n: usize = 0;
    while let Some(d) = bytes.get(i).filter(|b| b.is_ascii_digit()) {
        n = n.saturating_mul(10).saturating_add(usize::from(d - b'0'));
        i += 1;
    }
    ((i > start).then_some(n), i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_text_and_conversions() {
        let p = parse("a %-16s b %08lx %% %hhd").unwrap();
        let convs: Vec<_> = conversions(&p).collect();
        assert_eq!(convs.len(), 3);
        assert!(convs[0].flags.left && convs[0].width == Some(16) && convs[0].kind == ConversionKind::Str);
        assert!(convs[1].flags.zero && convs[1].width == Some(8) && convs[1].kind == ConversionKind::Hex);
        assert_eq!(convs[2].int_bytes, 1);
        assert_eq!(p[0], Piece::Text("a ".into()));
        assert!(p.contains(&Piece::Text(" % ".into())));
    }

    #[test]
    fn reports_bad_conversions_at_their_offset() {
        assert_eq!(parse("x %y").unwrap_err().0, 3);
        assert!(parse("x %").is_err());
    }
}
