//! Kernel symbol addresses from `/proc/kallsyms`, for `kaddr("name")`.

use std::fs;

/// Why a kernel symbol has no address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KallsymsError {
    /// No such symbol; the closest name, if one is close.
    NotFound { suggestion: Option<String> },
    /// The kernel shows every address as 0 (`kptr_restrict`, or not root).
    Hidden,
    /// `/proc/kallsyms` cannot be read.
    Unreadable(String),
}

const KALLSYMS: &str = "/proc/kallsyms";

/// The address of kernel symbol `name` (the first one listed, as bpftrace takes it).
pub fn kernel_symbol_address(name: &str) -> Result<u64, KallsymsError> {
    let text = fs::read_to_string(KALLSYMS)
        .map_err(|e| KallsymsError::Unreadable(format!("cannot read {KALLSYMS}: {e}")))?;
    symbol_address_in(&text, name)
}

/// Looks `name` up in the text of a kallsyms file.
pub fn symbol_address_in(text: &str, name: &str) -> Result<u64, KallsymsError> {
    let found = entries(text).find(|(_, sym)| *sym == name);
    match found {
        Some((0, _)) => Err(KallsymsError::Hidden),
        Some((addr, _)) => Ok(addr),
        None => Err(KallsymsError::NotFound {
            suggestion: closest(text, name),
        }),
    }
}

/// `(address, name)` of every line: `ffffffff81000000 T _stext [module]`.
fn entries(text: &str) -> impl Iterator<Item = (u64, &str)> {
    text.lines().filter_map(|line| {
        let mut words = line.split_whitespace();
        let addr = u64::from_str_radix(words.next()?, 16).ok()?;
        let _kind = words.next()?;
        Some((addr, words.next()?))
    })
}

/// The closest symbol name by edit distance, comparing only names of about the same length
/// (kallsyms has hundreds of thousands).
fn closest(text: &str, name: &str) -> Option<String> {
    let slack = (name.len() / 3).max(1);
    let candidates = entries(text)
        .map(|(_, sym)| sym)
        .filter(|sym| sym.len().abs_diff(name.len()) <= slack);
    rdt_syntax_free_did_you_mean(name, candidates).map(str::to_string)
}

/// Edit distance search (rdt-btf does not depend on rdt-syntax, whose `did_you_mean` this
/// mirrors).
fn rdt_syntax_free_did_you_mean<'a>(
    name: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (name.len() / 3).max(1);
    candidates
        .map(|c| (edit_distance(name.as_bytes(), c.as_bytes()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, c.len()))
        .map(|(_, c)| c)
}

fn edit_distance(a: &[u8], b: &[u8]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j - 1] + cost).min(prev[j] + 1).min(cur[j - 1] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "ffffffff81000000 T _stext\n\
                        ffffffff812a0000 T do_sys_openat2\n\
                        ffffffffc0001000 t helper_fn\t[mymod]\n";

    #[test]
    fn finds_symbols_including_module_ones() {
        assert_eq!(
            symbol_address_in(TEXT, "do_sys_openat2"),
            Ok(0xffff_ffff_812a_0000)
        );
        assert_eq!(
            symbol_address_in(TEXT, "helper_fn"),
            Ok(0xffff_ffff_c000_1000)
        );
    }

    #[test]
    fn suggests_a_close_name() {
        assert_eq!(
            symbol_address_in(TEXT, "do_sys_opnat2"),
            Err(KallsymsError::NotFound {
                suggestion: Some("do_sys_openat2".into())
            })
        );
    }

    #[test]
    fn zero_addresses_are_hidden() {
        assert_eq!(
            symbol_address_in("0000000000000000 T _stext\n", "_stext"),
            Err(KallsymsError::Hidden)
        );
    }
}
