//! bpftrace's histogram layout, checked against bpftrace v0.17:
//!
//! ```text
//! [4, 8)                 1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
//! ```
//!
//! A 16-wide left-aligned label, an 8-wide right-aligned count, ` |`, a bar of `@` scaled so the
//! largest bucket fills 52 columns, `|`. Only the buckets from the first to the last non-empty
//! one print. Labels: `(..., 0)` for values below the first range, `[0]` for a bucket holding a
//! single value, `[lo, hi)` otherwise, `[max, ...)` for the overflow bucket of lhist. Numbers
//! that are exact multiples of 1024ⁿ take a K/M/G/T suffix (`[1K, 2K)`); lhist labels use only
//! K and M, as bpftrace does.

use rdt_codegen::Buckets;
use rdt_types::buckets;

const BAR_WIDTH: usize = 52;

/// The text lines of a histogram (each ending in `\n`); empty when every bucket is zero.
/// `div` divides the printed counts (not the bars), as bpftrace's `print(@h, 0, div)` does.
pub fn format_hist(b: &Buckets, counts: &[u64], div: u64) -> String {
    let Some((first, last)) = nonzero_range(counts) else {
        return String::new();
    };
    let max = counts.iter().copied().max().unwrap_or(0);
    let mut out = String::new();
    for (i, &count) in counts.iter().enumerate().take(last + 1).skip(first) {
        let bar = (count as f32 / max as f32 * BAR_WIDTH as f32) as usize;
        out.push_str(&format!(
            "{:<16}{:>8} |{:<width$}|\n",
            label(b, i),
            count / div.max(1),
            "@".repeat(bar.min(BAR_WIDTH)),
            width = BAR_WIDTH
        ));
    }
    out
}

/// `(first, last)` indexes of the non-empty buckets.
pub fn nonzero_range(counts: &[u64]) -> Option<(usize, usize)> {
    let first = counts.iter().position(|&c| c > 0)?;
    let last = counts.iter().rposition(|&c| c > 0)?;
    Some((first, last))
}

/// The label of bucket `index`.
pub fn label(b: &Buckets, index: usize) -> String {
    let number = |n: i128| match b {
        Buckets::Linear { .. } => linear_number(n),
        _ => power_number(n),
    };
    match buckets::bounds(b, index) {
        (None, Some(hi)) => format!("(..., {})", number(hi)),
        (Some(lo), None) => format!("[{}, ...)", number(lo)),
        (Some(lo), Some(hi)) if hi - lo == 1 && !matches!(b, Buckets::Linear { .. }) => {
            format!("[{}]", number(lo))
        }
        (Some(lo), Some(hi)) => format!("[{}, {})", number(lo), number(hi)),
        (None, None) => String::new(),
    }
}

/// hist labels: the largest of T, G, M, K that divides the number exactly.
fn power_number(n: i128) -> String {
    for (shift, suffix) in [(40, 'T'), (30, 'G'), (20, 'M'), (10, 'K')] {
        let unit = 1i128 << shift;
        if n != 0 && n % unit == 0 {
            return format!("{}{suffix}", n / unit);
        }
    }
    n.to_string()
}

/// lhist labels: M or K when the number is an exact multiple.
fn linear_number(n: i128) -> String {
    if n != 0 && n % (1 << 20) == 0 {
        format!("{}M", n / (1 << 20))
    } else if n != 0 && n % (1 << 10) == 0 {
        format!("{}K", n / (1 << 10))
    } else {
        n.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(b: &Buckets, values: &[i64]) -> Vec<u64> {
        let mut c = vec![0; buckets::count(b)];
        for &v in values {
            c[buckets::index(b, v)] += 1;
        }
        c
    }

    #[test]
    fn log2_matches_bpftrace_0_17() {
        // bpftrace -e 'BEGIN { @x = hist(5); @x = hist(0); @x = hist(-3); @x = hist(1500); }'
        let b = Buckets::Log2 { bits: 0 };
        let text = format_hist(&b, &counts(&b, &[5, 0, -3, 1500]), 1);
        let full = format!("|{}|", "@".repeat(52));
        let empty = format!("|{}|", " ".repeat(52));
        let expected = [
            format!("(..., 0)               1 {full}"),
            format!("[0]                    1 {full}"),
            format!("[1]                    0 {empty}"),
            format!("[2, 4)                 0 {empty}"),
            format!("[4, 8)                 1 {full}"),
        ];
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[..5],
            expected.iter().map(String::as_str).collect::<Vec<_>>()[..]
        );
        assert_eq!(lines[11], format!("[512, 1K)              0 {empty}"));
        assert_eq!(lines[12], format!("[1K, 2K)               1 {full}"));
        assert_eq!(lines.len(), 13);
    }

    #[test]
    fn bars_scale_to_the_largest_bucket() {
        let b = Buckets::Log2 { bits: 0 };
        let text = format_hist(&b, &counts(&b, &[1, 1, 1, 2]), 1);
        assert!(text.starts_with(&format!("[1]                    3 |{}|", "@".repeat(52))));
        assert!(text.contains(&format!(
            "[2, 4)                 1 |{:<52}|",
            "@".repeat(17)
        )));
    }

    #[test]
    fn linear_labels() {
        let b = Buckets::Linear {
            min: 0,
            max: 100,
            step: 10,
        };
        assert_eq!(label(&b, 0), "(..., 0)");
        assert_eq!(label(&b, 1), "[0, 10)");
        assert_eq!(label(&b, 10), "[90, 100)");
        assert_eq!(label(&b, 11), "[100, ...)");
        let k = Buckets::Linear {
            min: 0,
            max: 4096,
            step: 1024,
        };
        assert_eq!(label(&k, 2), "[1K, 2K)");
    }

    #[test]
    fn empty_histogram_prints_nothing() {
        let b = Buckets::Log2 { bits: 0 };
        assert_eq!(format_hist(&b, &[0; 66], 1), "");
    }

    #[test]
    fn large_powers_take_suffixes() {
        assert_eq!(power_number(1 << 20), "1M");
        assert_eq!(power_number(1 << 30), "1G");
        assert_eq!(power_number(1 << 41), "2T");
        assert_eq!(power_number(1 << 62), "4194304T");
        assert_eq!(power_number(1536), "1536");
    }
}
