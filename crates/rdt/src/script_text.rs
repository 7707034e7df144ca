//! Reading a script file, with errors that say where.

/// The text of a script file; a file that is not UTF-8 is refused at its first bad byte.
pub fn read_script_file(file: &str) -> Result<String, String> {
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read {file}: {e}"))?;
    String::from_utf8(bytes).map_err(|e| {
        let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = good.iter().filter(|&&b| b == b'\n').count() + 1;
        let col = good.len() - good.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1) + 1;
        let byte = e.as_bytes()[good.len()];
        format!(
            "{file}:{line}:{col}: the script is not valid UTF-8 (byte 0x{byte:02x}); save it as UTF-8"
        )
    })
}
