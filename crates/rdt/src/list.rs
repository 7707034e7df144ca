//! `rdt -l PATTERN`: the probes a pattern names, one per line, as a script would spell them.

/// Prints the probes `pattern` matches; kinds without a listing say so.
pub fn list(pattern: Option<&str>, pid: Option<u32>) -> Result<(), ()> {
    let Some(pattern) = pattern else {
        eprintln!("error: -l needs a pattern, e.g. `rdt -l 'uprobe:/bin/bash:read*'`");
        return Err(());
    };
    match rdt_sema::probes::list_user_probes(pattern, pid) {
        Some(Ok(probes)) => {
            for p in probes {
                println!("{p}");
            }
            Ok(())
        }
        Some(Err(e)) => {
            eprintln!("error: {e}");
            Err(())
        }
        None => {
            eprintln!("error: cannot list `{pattern}`: this build lists uprobe, uretprobe and usdt probes");
            Err(())
        }
    }
}
