//! `--flamegraph FILE.svg`: the folded stacks of every stack-keyed map drawn by inferno.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use inferno::flamegraph::{self, Options};

/// Writes an SVG flame graph of `folded` (lines `frame;frame;… count`) to `path`.
pub fn write_svg(path: &Path, folded: &str, title: &str) -> io::Result<()> {
    let mut options = Options::default();
    options.title = title.to_string();
    options.count_name = "samples".to_string();
    let file = File::create(path)?;
    let mut out = BufWriter::new(file);
    flamegraph::from_lines(&mut options, folded.lines(), &mut out)?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_an_svg_with_the_frames() {
        let dir = std::env::temp_dir().join(format!("rdt-flame-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("t.svg");
        let result = write_svg(&path, "main;outer;leaf 3\nmain;other 1\n", "t");
        assert!(result.is_ok(), "{result:?}");
        let svg = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(svg.starts_with("<?xml"));
        assert!(svg.contains("leaf"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
