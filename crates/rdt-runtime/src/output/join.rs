//! `join()` records: a u64 count, then fixed-size string slots, printed as one line.

use crate::bytes::{c_string, field, read_u64};

/// A `join()` record's body as one line, its words separated by `sep`.
pub fn format_join(body: &[u8], sep: &str, max_args: u32, arg_size: u32) -> String {
    let count = read_u64(field(body, 0, 8)).min(u64::from(max_args)) as usize;
    let words: Vec<String> = (0..count)
        .map(|i| c_string(field(body, 8 + i as u32 * arg_size, arg_size)))
        .collect();
    let mut line = words.join(sep);
    line.push('\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_the_counted_slots() {
        let mut body = 2u64.to_le_bytes().to_vec();
        body.extend_from_slice(b"ls\0\0-l\0\0zz\0\0");
        assert_eq!(format_join(&body, " ", 3, 4), "ls -l\n");
    }
}
