//! `rdt -l PATTERN` for user-space probes: the probes a pattern names, one per line, as a script
//! would spell them.

/// Prints the user-space probes (uprobe, uretprobe, usdt) `pattern` matches, or `None` when
/// the pattern names another kind (those are listed by `info::list`).
pub fn list_user_probes(pattern: &str, pid: Option<u32>) -> Option<Result<(), ()>> {
    let result = match rdt_sema::probes::list_user_probes(pattern, pid)? {
        Ok(probes) => {
            for p in probes {
                println!("{p}");
            }
            Ok(())
        }
        Err(e) => {
            eprintln!("error: {e}");
            Err(())
        }
    };
    Some(result)
}
