//! Demangled names of C++ (Itanium ABI) and Rust symbols, so users can name and see functions as
//! they wrote them.

/// The demangled form of `name`, or `None` when it is not mangled.
pub fn demangle(name: &str) -> Option<String> {
    if name.starts_with("_R") || name.starts_with("_ZN") {
        if let Ok(d) = rustc_demangle::try_demangle(name) {
            // `{:#}` drops the hash suffix of legacy Rust symbols.
            let text = format!("{d:#}");
            if name.starts_with("_R") || is_rust_legacy(name) {
                return Some(text);
            }
        }
    }
    if name.starts_with("_Z") {
        let sym = cpp_demangle::Symbol::new(name).ok()?;
        return sym.demangle().ok();
    }
    None
}

/// Legacy Rust symbols are Itanium-mangled paths ending in a `17h<16 hex digits>E` hash.
fn is_rust_legacy(name: &str) -> bool {
    name.len() > 20 && {
        let tail = &name[name.len() - 20..];
        tail.starts_with("17h")
            && tail.ends_with('E')
            && tail[3..19].bytes().all(|b| b.is_ascii_hexdigit())
    }
}

#[cfg(test)]
mod tests {
    use super::demangle;

    #[test]
    fn cpp_names() {
        assert_eq!(demangle("_Z3addii").as_deref(), Some("add(int, int)"));
        assert_eq!(demangle("_ZN3foo3barEv").as_deref(), Some("foo::bar()"));
    }

    #[test]
    fn rust_names() {
        assert_eq!(
            demangle("_ZN4core3fmt5write17h0123456789abcdefE").as_deref(),
            Some("core::fmt::write")
        );
    }

    #[test]
    fn c_names_are_left_alone() {
        assert_eq!(demangle("malloc"), None);
        assert_eq!(demangle("_start"), None);
    }
}
