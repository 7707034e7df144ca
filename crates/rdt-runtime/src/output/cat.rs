//! `cat(file)`: the file's contents, read when its record arrives so they appear in stream
//! order between the printf output around the call.

/// What `cat(path)` prints; a file that cannot be read is reported on standard error.
pub fn contents(path: &str) -> String {
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) => {
            eprintln!("WARNING: cat(\"{path}\") could not read the file: {e}");
            String::new()
        }
    }
}
