//! Kernel text symbols by name, from `/proc/kallsyms`: where `func == "vfs_read"` finds the
//! address `bpf_get_func_ip` gives in that function. Read only when a script asks.

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};

/// The addresses of the kernel function `name` (several when static functions share the name).
/// The error says why they cannot be known. The file is read once per run, and each name looked
/// up once (a wildcard's clause is checked once per function).
pub fn text_addresses(name: &str) -> Result<Vec<u64>, String> {
    static TEXT: OnceLock<Result<String, String>> = OnceLock::new();
    static FOUND: Mutex<BTreeMap<String, Vec<u64>>> = Mutex::new(BTreeMap::new());
    if let Some(found) = FOUND.lock().ok().and_then(|m| m.get(name).cloned()) {
        return Ok(found);
    }
    let text = TEXT
        .get_or_init(|| {
            std::fs::read_to_string("/proc/kallsyms")
                .map_err(|e| format!("cannot read /proc/kallsyms: {e}"))
        })
        .as_ref()
        .map_err(Clone::clone)?;
    let found = text_addresses_in(text, name);
    if !found.is_empty() && found.iter().all(|&a| a == 0) {
        return Err(
            "/proc/kallsyms hides kernel addresses (kernel.kptr_restrict; run as root)".into(),
        );
    }
    if let Ok(mut m) = FOUND.lock() {
        m.insert(name.to_string(), found.clone());
    }
    Ok(found)
}

/// [`text_addresses`] over the text of `/proc/kallsyms` (`ADDR TYPE NAME [MODULE]` lines).
pub fn text_addresses_in(kallsyms: &str, name: &str) -> Vec<u64> {
    let mut found: Vec<u64> = kallsyms
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let addr = fields.next()?;
            let kind = fields.next()?;
            let symbol = fields.next()?;
            let text = matches!(kind, "t" | "T");
            (text && symbol == name)
                .then(|| u64::from_str_radix(addr, 16).ok())
                .flatten()
        })
        .collect();
    found.sort_unstable();
    found.dedup();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

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
