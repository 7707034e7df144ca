//! Finding the object a probe names: a path, a library short name (`libc` → the `libc.so.6`
//! that `/etc/ld.so.cache` lists, or that process PID has mapped), or a program on `PATH`.

use crate::ElfError;
use std::path::{Path, PathBuf};

const LD_SO_CACHE: &str = "/etc/ld.so.cache";
const CACHE_MAGIC: &[u8] = b"glibc-ld.so.cache1.1";
/// `FLAG_X8664_LIB64`: an entry for x86-64 libraries.
const FLAG_X8664_LIB64: i32 = 0x0300;
const FLAG_ARCH_MASK: i32 = 0xff00;
const FALLBACK_DIRS: &[&str] = &[
    "/lib/x86_64-linux-gnu",
    "/usr/lib/x86_64-linux-gnu",
    "/lib64",
    "/usr/lib64",
    "/lib",
    "/usr/lib",
];

/// The object file `target` names. With a pid, library names are looked up among the objects
/// that process has mapped first, so `-p` traces the library it really uses.
pub fn resolve(target: &str, pid: Option<u32>) -> Result<PathBuf, ElfError> {
    if target.contains('/') {
        let path = Path::new(target);
        return if path.is_file() {
            Ok(path.to_path_buf())
        } else {
            Err(ElfError::NotFound {
                target: target.to_string(),
            })
        };
    }
    if let Some(pid) = pid {
        if let Some(found) = mapped_objects(pid)?
            .into_iter()
            .find(|p| file_name_matches(p, target))
        {
            return Ok(found);
        }
    }
    if let Some(found) = cached_library(target) {
        return Ok(found);
    }
    if let Some(found) = on_path(target) {
        return Ok(found);
    }
    Err(ElfError::NotFound {
        target: target.to_string(),
    })
}

/// `libc` matches `libc.so.6` and `libc-2.31.so`; `libc.so.6` matches itself.
fn file_name_matches(path: &Path, target: &str) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    name == target
        || library_name_matches(name, target)
        || library_name_matches(name, &format!("lib{target}"))
}

fn library_name_matches(file: &str, short: &str) -> bool {
    file.strip_prefix(short)
        .is_some_and(|rest| rest.starts_with(".so") || rest.starts_with('-'))
}

/// The executable file-backed objects process `pid` has mapped, in map order, deduplicated.
pub fn mapped_objects(pid: u32) -> Result<Vec<PathBuf>, ElfError> {
    let maps = PathBuf::from(format!("/proc/{pid}/maps"));
    let text = std::fs::read_to_string(&maps).map_err(|e| ElfError::io(&maps, &e))?;
    Ok(parse_maps(&text))
}

fn parse_maps(text: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.splitn(6, ' ').collect();
        let (Some(perms), Some(path)) = (fields.get(1), fields.get(5)) else {
            continue;
        };
        let path = path.trim();
        if !perms.contains('x') || !path.starts_with('/') || path.ends_with(" (deleted)") {
            continue;
        }
        let p = PathBuf::from(path);
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

/// The x86-64 library whose soname starts with `lib<target>.so` (or is `target`), from
/// `/etc/ld.so.cache`, else from the usual library directories.
fn cached_library(target: &str) -> Option<PathBuf> {
    let entries = std::fs::read(LD_SO_CACHE)
        .ok()
        .map(|d| parse_ld_so_cache(&d))
        .unwrap_or_default();
    let wanted = |soname: &str| {
        soname == target
            || library_name_matches(soname, target)
            || library_name_matches(soname, &format!("lib{target}"))
    };
    let from_cache = entries
        .iter()
        .filter(|e| wanted(&e.soname))
        .max_by_key(|e| e.flags & FLAG_ARCH_MASK == FLAG_X8664_LIB64)
        .map(|e| PathBuf::from(&e.path));
    from_cache.or_else(|| {
        FALLBACK_DIRS.iter().find_map(|dir| {
            let rd = std::fs::read_dir(dir).ok()?;
            let mut names: Vec<PathBuf> = rd
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(wanted))
                .collect();
            names.sort();
            names.into_iter().next()
        })
    })
}

#[derive(Debug, PartialEq)]
struct CacheEntry {
    flags: i32,
    soname: String,
    path: String,
}

/// Reads the "new" (glibc ≥ 2.32 only) format of ld.so.cache: a 48-byte header, then 24-byte
/// entries whose key and value are offsets of strings from the start of the file.
fn parse_ld_so_cache(data: &[u8]) -> Vec<CacheEntry> {
    let Some(start) = data
        .windows(CACHE_MAGIC.len())
        .position(|w| w == CACHE_MAGIC)
    else {
        return Vec::new();
    };
    let u32_at = |at: usize| -> Option<u32> {
        data.get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_le_bytes)
    };
    let string_at = |at: u32| -> Option<String> {
        let bytes = data.get(at as usize..)?;
        let end = bytes.iter().position(|&b| b == 0)?;
        Some(String::from_utf8_lossy(&bytes[..end]).into_owned())
    };
    let Some(nlibs) = u32_at(start + 20) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for i in 0..nlibs as usize {
        let at = start + 48 + i * 24;
        let (Some(flags), Some(key), Some(value)) = (u32_at(at), u32_at(at + 4), u32_at(at + 8))
        else {
            break;
        };
        if let (Some(soname), Some(path)) = (string_at(key), string_at(value)) {
            out.push(CacheEntry {
                flags: flags as i32,
                soname,
                path,
            });
        }
    }
    out
}

/// An executable named `target` in a `PATH` directory.
fn on_path(target: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(target))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_library_names() {
        let libc = Path::new("/usr/lib/x86_64-linux-gnu/libc.so.6");
        assert!(file_name_matches(libc, "libc"));
        assert!(file_name_matches(libc, "c"));
        assert!(file_name_matches(libc, "libc.so.6"));
        assert!(!file_name_matches(libc, "libcrypt"));
        assert!(!file_name_matches(
            Path::new("/usr/lib/libcrypto.so.3"),
            "libc"
        ));
        assert!(file_name_matches(Path::new("/lib/libc-2.31.so"), "libc"));
    }

    #[test]
    fn maps_lines() {
        let text = "\
55d0c7a00000-55d0c7a2e000 r--p 00000000 08:01 123 /usr/bin/bash
55d0c7a2e000-55d0c7b00000 r-xp 0002e000 08:01 123 /usr/bin/bash
7f0000000000-7f0000100000 r-xp 00028000 08:01 456 /usr/lib/x86_64-linux-gnu/libc.so.6
7f0000200000-7f0000300000 rw-p 00000000 00:00 0
7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]
7ffd00030000-7ffd00032000 r-xp 00000000 00:00 0 [vdso]
";
        assert_eq!(
            parse_maps(text),
            vec![
                PathBuf::from("/usr/bin/bash"),
                PathBuf::from("/usr/lib/x86_64-linux-gnu/libc.so.6")
            ]
        );
    }

    #[test]
    fn ld_so_cache_entries() {
        let mut data = Vec::new();
        data.extend_from_slice(CACHE_MAGIC);
        data.extend_from_slice(&1u32.to_le_bytes()); // nlibs
        data.resize(48, 0);
        let strings_at = 48 + 24;
        let soname = strings_at as u32;
        let path = soname + "libc.so.6\0".len() as u32;
        data.extend_from_slice(&0x0303i32.to_le_bytes());
        data.extend_from_slice(&soname.to_le_bytes());
        data.extend_from_slice(&path.to_le_bytes());
        data.resize(strings_at, 0);
        data.extend_from_slice(b"libc.so.6\0/lib/libc.so.6\0");
        assert_eq!(
            parse_ld_so_cache(&data),
            vec![CacheEntry {
                flags: 0x0303,
                soname: "libc.so.6".into(),
                path: "/lib/libc.so.6".into()
            }]
        );
    }

    #[test]
    fn this_machine_resolves_libc() {
        let libc = resolve("libc", None).expect("libc is in ld.so.cache");
        assert!(libc.to_string_lossy().contains("libc.so"), "{libc:?}");
        let own = resolve("libc", Some(std::process::id())).expect("this test maps libc");
        assert!(own.to_string_lossy().contains("libc.so"), "{own:?}");
        assert!(matches!(
            resolve("no-such-library-xyz", None),
            Err(ElfError::NotFound { .. })
        ));
    }
}
