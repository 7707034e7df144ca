//! Histogram bucket arithmetic, in one place: sema checks sizes with it, codegen computes the
//! bucket of a value with the same rules in BPF, and the runtime labels buckets with it.
//!
//! Bucket 0 always holds the values below the first range; the last bucket of `lhist` and
//! `llquantize` holds the values at or above the last range.

/// How a histogram divides values into buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Buckets {
    /// `hist(x[, bits])` / D `quantize`: powers of two, each split into `2^bits` buckets.
    Log2 { bits: u8 },
    /// `lhist(x, min, max, step)` / D `lquantize`.
    Linear { min: i64, max: i64, step: i64 },
    /// D `llquantize(x, factor, low, high, steps)`.
    LogLinear {
        factor: u64,
        low: u32,
        high: u32,
        steps: u64,
    },
}

/// Number of buckets (each a u64 count per CPU).
pub fn count(b: &Buckets) -> usize {
    match *b {
        // Negative values, then 0..2^(k+1) one by one, then 2^k buckets for each power 2^p,
        // p = k+1..=63.
        Buckets::Log2 { bits } => 1 + (2usize << bits) + (63 - bits as usize) * (1usize << bits),
        Buckets::Linear { min, max, step } => ((max - min) / step) as usize + 2,
        Buckets::LogLinear { .. } => {
            2 + magnitudes(b)
                .iter()
                .map(|m| m.buckets as usize)
                .sum::<usize>()
        }
    }
}

/// The values bucket `index` holds: `[lo, hi)`, `None` for an open end.
pub fn bounds(b: &Buckets, index: usize) -> (Option<i128>, Option<i128>) {
    match *b {
        Buckets::Log2 { bits } => {
            let exact = 2i128 << bits;
            if index == 0 {
                return (None, Some(0));
            }
            let i = index as i128 - 1;
            if i < exact {
                return (Some(i), Some(i + 1));
            }
            let j = i - exact;
            let per_power = 1i128 << bits;
            let power = j / per_power + i128::from(bits) + 1;
            let width = 1i128 << (power - i128::from(bits));
            let lo = (1i128 << power) + (j % per_power) * width;
            (Some(lo), Some(lo + width))
        }
        Buckets::Linear { min, max, step } => {
            let n = ((max - min) / step) as usize;
            let (min, step) = (i128::from(min), i128::from(step));
            if index == 0 {
                (None, Some(min))
            } else if index > n {
                (Some(i128::from(max)), None)
            } else {
                let lo = min + (index as i128 - 1) * step;
                (Some(lo), Some(lo + step))
            }
        }
        Buckets::LogLinear { .. } => {
            let mags = magnitudes(b);
            let first = mags.first().map_or(0, |m| m.start);
            if index == 0 {
                return (None, Some(i128::from(first)));
            }
            let mut at = 1usize;
            for m in &mags {
                let n = m.buckets as usize;
                if index < at + n {
                    let lo = i128::from(m.start) + (index - at) as i128 * i128::from(m.width);
                    let hi = (lo + i128::from(m.width)).min(i128::from(m.end));
                    return (Some(lo), Some(hi));
                }
                at += n;
            }
            (Some(i128::from(mags.last().map_or(0, |m| m.end))), None)
        }
    }
}

/// The bucket a value falls in (the same rule the BPF code follows).
pub fn index(b: &Buckets, v: i64) -> usize {
    match *b {
        Buckets::Log2 { bits } => {
            if v < 0 {
                return 0;
            }
            let v = v as u64;
            let exact = 2u64 << bits;
            if v < exact {
                return 1 + v as usize;
            }
            let power = 63 - v.leading_zeros() as u64;
            let sub = (v >> (power - u64::from(bits))) & ((1 << bits) - 1);
            (1 + exact + (power - u64::from(bits) - 1) * (1 << bits) + sub) as usize
        }
        Buckets::Linear { min, max, step } => {
            let n = (max - min) / step;
            if v < min {
                0
            } else if v >= max {
                n as usize + 1
            } else {
                (1 + (v - min) / step).min(n + 1) as usize
            }
        }
        Buckets::LogLinear { .. } => {
            let mags = magnitudes(b);
            if v < 0 || mags.first().is_some_and(|m| (v as u64) < m.start) {
                return 0;
            }
            let v = v as u64;
            let mut at = 1usize;
            for m in &mags {
                if v < m.end {
                    return at + ((v - m.start) / m.width) as usize;
                }
                at += m.buckets as usize;
            }
            at
        }
    }
}

/// One order of magnitude of an `llquantize`: `[start, end)` in buckets of `width`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Magnitude {
    pub start: u64,
    pub end: u64,
    pub width: u64,
    pub buckets: u64,
}

/// The orders of magnitude `factor^low ..= factor^high` of an `llquantize`; empty for other
/// bucket kinds. Each splits `[f^m, f^(m+1))` into buckets `f^(m+1) / steps` wide (at least 1),
/// as DTrace does.
pub fn magnitudes(b: &Buckets) -> Vec<Magnitude> {
    let Buckets::LogLinear {
        factor,
        low,
        high,
        steps,
    } = *b
    else {
        return Vec::new();
    };
    (low..=high)
        .filter_map(|m| {
            let start = factor.checked_pow(m)?;
            let end = factor.checked_pow(m + 1)?;
            let width = (end / steps).max(1);
            let buckets = (end - start).div_ceil(width);
            Some(Magnitude {
                start,
                end,
                width,
                buckets,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log2_matches_bpftrace_layout() {
        let b = Buckets::Log2 { bits: 0 };
        assert_eq!(count(&b), 66);
        assert_eq!(index(&b, -3), 0);
        assert_eq!(index(&b, 0), 1);
        assert_eq!(index(&b, 1), 2);
        assert_eq!(index(&b, 2), 3);
        assert_eq!(index(&b, 3), 3);
        assert_eq!(index(&b, 1500), 12);
        assert_eq!(bounds(&b, 12), (Some(1024), Some(2048)));
        assert_eq!(index(&b, i64::MAX), 64);
        assert_eq!(bounds(&b, 64), (Some(1 << 62), Some(1 << 63)));
    }

    #[test]
    fn log2_with_sub_buckets() {
        let b = Buckets::Log2 { bits: 2 };
        for v in 0..8 {
            assert_eq!(
                bounds(&b, index(&b, v)),
                (Some(v as i128), Some(v as i128 + 1))
            );
        }
        assert_eq!(bounds(&b, index(&b, 9)), (Some(8), Some(10)));
        assert_eq!(bounds(&b, index(&b, 250)), (Some(224), Some(256)));
        assert!(index(&b, i64::MAX) < count(&b));
    }

    #[test]
    fn every_value_lands_inside_its_bucket() {
        let kinds = [
            Buckets::Log2 { bits: 0 },
            Buckets::Log2 { bits: 3 },
            Buckets::Linear {
                min: -10,
                max: 100,
                step: 10,
            },
            Buckets::LogLinear {
                factor: 10,
                low: 0,
                high: 3,
                steps: 10,
            },
        ];
        for b in kinds {
            for v in [
                -20i64,
                -1,
                0,
                1,
                5,
                9,
                10,
                11,
                99,
                100,
                999,
                1000,
                12345,
                1 << 40,
            ] {
                let i = index(&b, v);
                assert!(i < count(&b), "{b:?} {v}");
                let (lo, hi) = bounds(&b, i);
                assert!(lo.is_none_or(|lo| lo <= v as i128), "{b:?} {v} {lo:?}");
                assert!(hi.is_none_or(|hi| (v as i128) < hi), "{b:?} {v} {hi:?}");
            }
        }
    }

    #[test]
    fn log_linear_like_dtrace() {
        let b = Buckets::LogLinear {
            factor: 10,
            low: 0,
            high: 2,
            steps: 10,
        };
        // 1..9 by 1, 10..90 by 10, 100..900 by 100, plus below and above.
        assert_eq!(count(&b), 2 + 9 + 9 + 9);
        assert_eq!(bounds(&b, index(&b, 57)), (Some(50), Some(60)));
        assert_eq!(bounds(&b, index(&b, 1000)), (Some(1000), None));
    }
}
