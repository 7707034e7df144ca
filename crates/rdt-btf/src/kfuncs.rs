//! Kernel functions a kprobe can attach to: tracefs `available_filter_functions` (minus the
//! kprobe blacklist in debugfs when it can be read). Read only when a script or `-l` names a
//! wildcard: the file is large (tens of thousands of lines).

use crate::tracefs::{self, glob_match};
use std::collections::BTreeSet;
use std::path::PathBuf;

/// Where the kernel lists the functions kprobes refuse (`kprobes/blacklist` in debugfs).
const BLACKLIST: &str = "/sys/kernel/debug/kprobes/blacklist";

/// The probeable kernel functions whose names match `glob`, sorted and without duplicates.
/// The error says why they cannot be listed.
pub fn matching(glob: &str) -> Result<Vec<String>, String> {
    // `RDT_KPROBE_BLACKLIST` names another file (`/dev/null`: none), as when debugfs is not
    // mounted; the VM lane uses it to reach functions the kernel itself refuses.
    let blacklist_path = std::env::var_os("RDT_KPROBE_BLACKLIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(BLACKLIST));
    let blacklist = std::fs::read_to_string(blacklist_path).unwrap_or_default();
    Ok(matching_in(&available_functions()?, &blacklist, glob))
}

/// The kernel functions ftrace can hook (what fentry/fexit trampolines need) whose names match
/// `glob`, sorted: the kprobe blacklist does not concern them.
pub fn traceable(glob: &str) -> Result<Vec<String>, String> {
    Ok(matching_in(&available_functions()?, "", glob))
}

fn available_functions() -> Result<String, String> {
    let path = tracefs::root()
        .map_err(|e| e.to_string())?
        .join("available_filter_functions");
    std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "cannot read {}: {e} (the kernel lists no functions to probe)",
            path.display()
        )
    })
}

/// [`matching`] over the text of `available_filter_functions` and the kprobe blacklist.
pub fn matching_in(available: &str, blacklist: &str, glob: &str) -> Vec<String> {
    // Blacklist lines are `0xstart-0xend\tname`.
    let refused: BTreeSet<&str> = blacklist
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .collect();
    let names: BTreeSet<&str> = available
        .lines()
        // `name`, or `name [module]` for module functions.
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| glob_match(glob, name) && !refused.contains(name))
        .collect();
    names.into_iter().map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_names_skips_modules_suffix_duplicates_and_blacklist() {
        let available = "vfs_read\nvfs_write\nvfs_read\nksys_read\nvfs_foo [ext4]\nvfs_bad\n";
        let blacklist = "0xffffffff81000000-0xffffffff81000010\tvfs_bad\n";
        assert_eq!(
            matching_in(available, blacklist, "vfs_*"),
            vec!["vfs_foo", "vfs_read", "vfs_write"]
        );
    }
}
