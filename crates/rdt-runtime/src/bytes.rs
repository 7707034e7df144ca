//! Decoding the raw bytes of records and map entries: little-endian integers and
//! NUL-terminated strings, each read in one place.

/// The bytes `[at, at + len)` of `bytes`, cut short where `bytes` ends.
pub fn field(bytes: &[u8], at: u32, len: u32) -> &[u8] {
    let start = (at as usize).min(bytes.len());
    let end = (at as usize).saturating_add(len as usize).min(bytes.len());
    &bytes[start..end]
}

/// Reads up to 8 little-endian bytes as a u64 (missing bytes are zero).
pub fn read_u64(bytes: &[u8]) -> u64 {
    let mut buf = [0u8; 8];
    let n = bytes.len().min(8);
    buf[..n].copy_from_slice(&bytes[..n]);
    u64::from_le_bytes(buf)
}

/// The bytes before the first NUL (all of them when there is none).
pub fn until_nul(bytes: &[u8]) -> &[u8] {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    &bytes[..end]
}

/// The bytes before the first NUL (all of them when the buffer is full), as lossy UTF-8.
pub fn c_string(bytes: &[u8]) -> String {
    String::from_utf8_lossy(until_nul(bytes)).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_unterminated_input() {
        assert_eq!(read_u64(&[1, 2]), 0x0201);
        assert_eq!(field(&[1, 2, 3], 2, 8), &[3]);
        assert_eq!(c_string(b"ab\0cd"), "ab");
        assert_eq!(c_string(b"abc"), "abc");
    }
}
