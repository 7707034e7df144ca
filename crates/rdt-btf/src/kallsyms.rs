//! Kernel symbols by name, from `/proc/kallsyms`: `kaddr("name")`'s address, and the addresses
//! `func == "vfs_read"` compares `bpf_get_func_ip` with. The file is read once per run, only
//! when a script asks.

use std::sync::OnceLock;

/// Why a kernel symbol has no address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KallsymsError {
    /// No such symbol (the caller suggests a name from [`names_near`]).
    NotFound,
    /// The kernel shows every address as 0 (`kptr_restrict`, or not root).
    Hidden,
    /// `/proc/kallsyms` cannot be read.
    Unreadable(String),
}

impl std::fmt::Display for KallsymsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KallsymsError::NotFound => write!(f, "no such symbol in {KALLSYMS}"),
            KallsymsError::Hidden => write!(
                f,
                "{KALLSYMS} hides kernel addresses (kernel.kptr_restrict; run as root)"
            ),
            KallsymsError::Unreadable(why) => f.write_str(why),
        }
    }
}

const KALLSYMS: &str = "/proc/kallsyms";

/// The text of `/proc/kallsyms`, read on first use.
fn kallsyms() -> Result<&'static str, KallsymsError> {
    static TEXT: OnceLock<Result<String, String>> = OnceLock::new();
    TEXT.get_or_init(|| {
        std::fs::read_to_string(KALLSYMS).map_err(|e| format!("cannot read {KALLSYMS}: {e}"))
    })
    .as_deref()
    .map_err(|e| KallsymsError::Unreadable(e.clone()))
}

/// The address of kernel symbol `name` (the first one listed, as bpftrace takes it).
pub fn kernel_symbol_address(name: &str) -> Result<u64, KallsymsError> {
    symbol_address_in(kallsyms()?, name)
}

/// The addresses of the kernel function `name` (several when static functions share the name).
pub fn text_addresses(name: &str) -> Result<Vec<u64>, KallsymsError> {
    let found = text_addresses_in(kallsyms()?, name);
    if !found.is_empty() && found.iter().all(|&a| a == 0) {
        return Err(KallsymsError::Hidden);
    }
    Ok(found)
}

/// Symbol names of about the length of `name`, the candidates for a "did you mean" (kallsyms
/// has hundreds of thousands).
pub fn names_near(name: &str) -> Vec<&'static str> {
    let slack = (name.len() / 3).max(1);
    kallsyms()
        .map(|text| {
            entries(text)
                .map(|(_, _, sym)| sym)
                .filter(|sym| sym.len().abs_diff(name.len()) <= slack)
                .collect()
        })
        .unwrap_or_default()
}

/// Looks `name` up in the text of a kallsyms file.
pub fn symbol_address_in(text: &str, name: &str) -> Result<u64, KallsymsError> {
    match entries(text).find(|(_, _, sym)| *sym == name) {
        Some((0, _, _)) => Err(KallsymsError::Hidden),
        Some((addr, _, _)) => Ok(addr),
        None => Err(KallsymsError::NotFound),
    }
}

/// [`text_addresses`] over the text of a kallsyms file: `t`/`T` symbols only, sorted, unique.
pub fn text_addresses_in(text: &str, name: &str) -> Vec<u64> {
    let mut found: Vec<u64> = entries(text)
        .filter(|(_, kind, sym)| matches!(*kind, "t" | "T") && *sym == name)
        .map(|(addr, _, _)| addr)
        .collect();
    found.sort_unstable();
    found.dedup();
    found
}

/// `(address, type, name)` of every line: `ffffffff81000000 T _stext [module]`.
fn entries(text: &str) -> impl Iterator<Item = (u64, &str, &str)> {
    text.lines().filter_map(|line| {
        let mut words = line.split_whitespace();
        let addr = u64::from_str_radix(words.next()?, 16).ok()?;
        let kind = words.next()?;
        Some((addr, kind, words.next()?))
    })
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
        assert_eq!(
            symbol_address_in(TEXT, "nothing"),
            Err(KallsymsError::NotFound)
        );
    }

    #[test]
    fn zero_addresses_are_hidden() {
        assert_eq!(
            symbol_address_in("0000000000000000 T _stext\n", "_stext"),
            Err(KallsymsError::Hidden)
        );
    }

    #[test]
    fn text_symbols_by_name_with_duplicates_and_modules() {
        let text = "ffffffff81000000 T _stext\n\
                    ffffffff81200000 T vfs_read\n\
                    ffffffff81300000 t show_map\n\
                    ffffffff81400000 t show_map\n\
                    ffffffff81500000 d vfs_read_data\n\
                    ffffffffc0000000 t ext4_read [ext4]\n\
                    ffffffff81600000 D vfs_read\n";
        assert_eq!(
            text_addresses_in(text, "vfs_read"),
            vec![0xffffffff81200000]
        );
        assert_eq!(
            text_addresses_in(text, "show_map"),
            vec![0xffffffff81300000, 0xffffffff81400000]
        );
        assert_eq!(
            text_addresses_in(text, "ext4_read"),
            vec![0xffffffffc0000000]
        );
        assert!(text_addresses_in(text, "nothing").is_empty());
    }
}
