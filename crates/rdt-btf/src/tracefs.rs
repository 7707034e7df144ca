//! tracefs: where it is (mounting it when needed), tracepoint `format` files, event listing.
//!
//! Everything is lazy: nothing is read from the file system until a function is called, and
//! [`root`] does its probing (and, if needed, the mount) once per process.
//!
//! The `*_at` variants take the tracefs root explicitly; they exist so that tests (and tools)
//! can run against a directory tree laid out like tracefs.

use std::ffi::CStr;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Where tracefs lives on kernels ≥ 4.1, and where rdt mounts it when nothing is mounted.
pub const TRACEFS_PATH: &str = "/sys/kernel/tracing";
/// The legacy location, inside debugfs.
pub const DEBUGFS_TRACING_PATH: &str = "/sys/kernel/debug/tracing";

// ---------------------------------------------------------------------------------------------
// Errors

/// Everything that can go wrong finding tracefs or reading an event from it.
///
/// The `Display` text is meant for the user as is (it says what is wrong and what to do).
/// The error is `Clone` because [`root`] caches its result for the whole process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TracefsError {
    /// The kernel has no tracefs at all (built without `CONFIG_TRACING`), so no tracepoints.
    Unsupported,
    /// tracefs is not mounted (or not readable) and mounting it was refused: not root.
    NeedRoot { path: PathBuf },
    /// tracefs is not mounted and mounting it failed for another reason.
    MountFailed { path: PathBuf, errno: i32 },
    /// A file or directory under tracefs exists but may not be read: not root.
    PermissionDenied { path: PathBuf },
    /// `events/<category>` does not exist.
    NoSuchCategory { category: String },
    /// `events/<category>` exists but has no event `<name>`.
    NoSuchEvent { category: String, name: String },
    /// Any other I/O error, with the path it happened on.
    Io {
        path: PathBuf,
        errno: Option<i32>,
        message: String,
    },
    /// A `format` (or `id`) file that does not look like one.
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

impl TracefsError {
    fn io(path: &Path, e: &io::Error) -> TracefsError {
        match e.raw_os_error() {
            Some(libc::EACCES) | Some(libc::EPERM) => TracefsError::PermissionDenied {
                path: path.to_path_buf(),
            },
            errno => TracefsError::Io {
                path: path.to_path_buf(),
                errno,
                message: match errno {
                    Some(n) => strerror(n),
                    None => e.to_string(),
                },
            },
        }
    }

    fn parse(path: &Path, e: FormatError) -> TracefsError {
        TracefsError::Parse {
            path: path.to_path_buf(),
            line: e.line,
            message: e.message,
        }
    }
}

impl fmt::Display for TracefsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TracefsError::Unsupported => write!(
                f,
                "this kernel has no tracefs ({TRACEFS_PATH} does not exist): it was built without \
                 CONFIG_TRACING, so tracepoints are not available"
            ),
            TracefsError::NeedRoot { path } => write!(
                f,
                "tracefs is not mounted (or not readable) and mounting it at {} was refused: \
                 rdt needs root (CAP_SYS_ADMIN) to use tracepoints; run it as root, or have root \
                 run `mount -t tracefs nodev {}`",
                path.display(),
                path.display()
            ),
            TracefsError::MountFailed { path, errno } => write!(
                f,
                "tracefs is not mounted and mounting it at {} failed: {}; mount it by hand with \
                 `mount -t tracefs nodev {}`",
                path.display(),
                strerror(*errno),
                path.display()
            ),
            TracefsError::PermissionDenied { path } => write!(
                f,
                "permission denied reading {}: rdt needs root to use tracepoints",
                path.display()
            ),
            TracefsError::NoSuchCategory { category } => write!(
                f,
                "no tracepoint category `{category}` (list them with `rdt -l 'tracepoint:*'`)"
            ),
            TracefsError::NoSuchEvent { category, name } => write!(
                f,
                "no tracepoint `{category}:{name}`: category `{category}` has no event `{name}` \
                 (list them with `rdt -l 'tracepoint:{category}:*'`)"
            ),
            TracefsError::Io { path, message, .. } => {
                write!(f, "cannot read {}: {message}", path.display())
            }
            TracefsError::Parse {
                path,
                line,
                message,
            } => write!(
                f,
                "cannot understand {} (line {line}): {message}; this kernel's tracefs format is \
                 not one rdt knows",
                path.display()
            ),
        }
    }
}

impl std::error::Error for TracefsError {}

fn strerror(errno: i32) -> String {
    // std formats "Operation not permitted (os error 1)"; keep only the human part.
    let s = io::Error::from_raw_os_error(errno).to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

// ---------------------------------------------------------------------------------------------
// Finding (and mounting) tracefs

/// The tracefs root directory (the one holding `events/`).
///
/// `/sys/kernel/tracing` if it has `events/`, else `/sys/kernel/debug/tracing`; when neither
/// does, tracefs is mounted at `/sys/kernel/tracing`. Probed once per process; the result
/// (success or error) is cached.
pub fn root() -> Result<PathBuf, TracefsError> {
    static ROOT: OnceLock<Result<PathBuf, TracefsError>> = OnceLock::new();
    ROOT.get_or_init(find_or_mount).clone()
}

fn has_events(dir: &Path) -> bool {
    dir.join("events").is_dir()
}

fn find_or_mount() -> Result<PathBuf, TracefsError> {
    let primary = Path::new(TRACEFS_PATH);
    if has_events(primary) {
        return Ok(primary.to_path_buf());
    }
    let legacy = Path::new(DEBUGFS_TRACING_PATH);
    if has_events(legacy) {
        return Ok(legacy.to_path_buf());
    }
    // `/sys/kernel/tracing` is created by the kernel when it has tracefs. If we cannot even see
    // it, it is either missing (no tracing in this kernel) or hidden from us (not root).
    match std::fs::symlink_metadata(primary) {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(TracefsError::Unsupported),
        Err(_) => {
            return Err(TracefsError::NeedRoot {
                path: primary.to_path_buf(),
            })
        }
    }
    mount_tracefs(primary)?;
    if has_events(primary) {
        Ok(primary.to_path_buf())
    } else {
        // Mounted, yet no events/: tracefs without trace events (CONFIG_EVENT_TRACING off).
        Err(TracefsError::Unsupported)
    }
}

fn mount_tracefs(at: &Path) -> Result<(), TracefsError> {
    const SOURCE: &CStr = c"nodev";
    const FSTYPE: &CStr = c"tracefs";
    const TARGET: &CStr = c"/sys/kernel/tracing";
    debug_assert_eq!(at, Path::new(TRACEFS_PATH));
    // SAFETY: all pointers are valid NUL-terminated strings; data may be null.
    let rc = unsafe {
        libc::mount(
            SOURCE.as_ptr(),
            TARGET.as_ptr(),
            FSTYPE.as_ptr(),
            0,
            std::ptr::null(),
        )
    };
    if rc == 0 {
        return Ok(());
    }
    let errno = io::Error::last_os_error().raw_os_error().unwrap_or(0);
    Err(match errno {
        libc::EPERM | libc::EACCES => TracefsError::NeedRoot {
            path: at.to_path_buf(),
        },
        libc::ENODEV => TracefsError::Unsupported,
        _ => TracefsError::MountFailed {
            path: at.to_path_buf(),
            errno,
        },
    })
}

// ---------------------------------------------------------------------------------------------
// Event formats

/// One field of a tracepoint's record, as its `format` file describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    /// The C type as the kernel spells it, whitespace normalised: `"const char *"`,
    /// `"unsigned long"`, `"pid_t"`; arrays get their length appended (`"char[16]"`; a
    /// flexible array member is `"char[]"`); `__data_loc`/`__rel_loc` fields are the
    /// element type with `[]` (`"char[]"`, `"u64[]"`), without the `__data_loc` prefix.
    pub c_type: String,
    /// Byte offset in the record (for `__data_loc`, of the 32-bit locator).
    pub offset: u32,
    /// Size in bytes (for `__data_loc`/`__rel_loc`, of the 32-bit locator: 4).
    pub size: u32,
    pub signed: bool,
    /// A `common_*` field (common_type, common_flags, common_preempt_count, common_pid).
    pub common: bool,
    /// `Some(n)` for a fixed array `type name[n]` (`Some(0)` for a flexible `type name[]`);
    /// `None` for scalars, pointers and `__data_loc`/`__rel_loc` fields.
    pub array_len: Option<u32>,
    /// `__data_loc type[] name`: a u32 whose low 16 bits are the data's offset from the start
    /// of the record and whose high 16 bits are its length in bytes.
    pub data_loc: bool,
    /// `__rel_loc type[] name` (kernel ≥ 5.19): like `data_loc`, but the offset counts from
    /// the end of this 4-byte field. `data_loc` is false for these.
    pub rel_loc: bool,
}

impl Field {
    /// The element type of an array or `__data_loc`/`__rel_loc` field (`"char"` for
    /// `"char[16]"`), else the whole type.
    pub fn elem_type(&self) -> &str {
        match self.c_type.rfind('[') {
            Some(i) if self.c_type.ends_with(']') => self.c_type[..i].trim_end(),
            _ => &self.c_type,
        }
    }

    /// True for a pointer type (`"const char *"`, `"const char *const *"`).
    pub fn is_pointer(&self) -> bool {
        self.array_len.is_none() && !self.is_dynamic() && self.c_type.ends_with('*')
    }

    /// True for `__data_loc` and `__rel_loc` fields (variable-length data stored in the record).
    pub fn is_dynamic(&self) -> bool {
        self.data_loc || self.rel_loc
    }

    /// True when the field holds a string in the record itself: a plain `char` array or a
    /// `__data_loc char[]` / `__rel_loc char[]`. (A `const char *` is a pointer to a string in
    /// memory, not a string in the record; it is not counted here.) `unsigned char` and `u8`
    /// arrays are bytes, as bpftrace types them (`unsigned int8[6]`).
    pub fn is_string(&self) -> bool {
        let e = self.elem_type();
        (self.array_len.is_some() || self.is_dynamic()) && matches!(e, "char" | "const char")
    }
}

/// A tracepoint's `format` file: its id and the fields of its record, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventFormat {
    /// The tracepoint id (`ID:` line; also the `id` file; the perf event `config`).
    pub id: u32,
    pub fields: Vec<Field>,
}

/// A syntax error in a `format` file's text (`line` is 1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for FormatError {}

impl EventFormat {
    /// Parses the text of a `format` file.
    pub fn parse(text: &str) -> Result<EventFormat, FormatError> {
        let mut id = None;
        let mut fields = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let lineno = i + 1;
            let t = line.trim();
            if let Some(v) = t.strip_prefix("ID:") {
                let v = v.trim();
                id = Some(v.parse::<u32>().map_err(|_| FormatError {
                    line: lineno,
                    message: format!("bad ID `{v}`"),
                })?);
            } else if t.starts_with("field:") {
                fields.push(parse_field_line(t).map_err(|message| FormatError {
                    line: lineno,
                    message,
                })?);
            } else if t.starts_with("print fmt:") {
                break;
            }
        }
        let id = id.ok_or_else(|| FormatError {
            line: 1,
            message: "no `ID:` line".into(),
        })?;
        Ok(EventFormat { id, fields })
    }

    /// The field called `name` (common fields included).
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The event's own fields: everything but the `common_*` ones (what `args.x` reaches).
    pub fn args(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().filter(|f| !f.common)
    }

    /// Names of the event's own (non-common) fields, in record order: the candidates for a
    /// "did you mean" on a misspelt `args.x`.
    pub fn field_names(&self) -> Vec<&str> {
        self.args().map(|f| f.name.as_str()).collect()
    }
}

/// Parses `field:const char * filename; offset:24; size:8; signed:0;` (already trimmed; the
/// kernel separates the parts with tabs).
fn parse_field_line(line: &str) -> Result<Field, String> {
    let mut decl = None;
    let mut offset = None;
    let mut size = None;
    let mut signed = false;
    for part in line.split(';') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let Some((key, value)) = part.split_once(':') else {
            return Err(format!("expected `key:value`, found `{part}`"));
        };
        let value = value.trim();
        let num = || {
            value
                .parse::<u32>()
                .map_err(|_| format!("bad {key} `{value}`"))
        };
        match key.trim() {
            "field" => decl = Some(value),
            "offset" => offset = Some(num()?),
            "size" => size = Some(num()?),
            "signed" => signed = num()? != 0,
            _ => {} // unknown attributes of future kernels are ignored
        }
    }
    let decl = decl.ok_or("no field declaration")?;
    let offset = offset.ok_or("field without offset")?;
    let size = size.ok_or("field without size")?;
    parse_decl(decl, offset, size, signed)
}

/// Parses a C declaration as tracefs prints it: `int common_pid`, `const char * filename`,
/// `char comm[16]`, `char buf[]`, `__data_loc char[] name`, `const char *const * argv`.
fn parse_decl(decl: &str, offset: u32, size: u32, signed: bool) -> Result<Field, String> {
    let mut s = decl.trim();
    let mut data_loc = false;
    let mut rel_loc = false;
    if let Some(rest) = s.strip_prefix("__data_loc ") {
        data_loc = true;
        s = rest.trim_start();
    } else if let Some(rest) = s.strip_prefix("__rel_loc ") {
        rel_loc = true;
        s = rest.trim_start();
    }

    // A trailing `[len]` after the name: a fixed or flexible array.
    let mut array: Option<&str> = None;
    if s.ends_with(']') {
        let lb = s
            .rfind('[')
            .ok_or_else(|| format!("unbalanced `]` in `{decl}`"))?;
        array = Some(s[lb + 1..s.len() - 1].trim());
        s = s[..lb].trim_end();
    }

    // The name is the trailing identifier.
    let name_start = s
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_alphanumeric() || *c == '_')
        .last()
        .map(|(i, _)| i)
        .ok_or_else(|| format!("no field name in `{decl}`"))?;
    let name = &s[name_start..];
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(format!("bad field name in `{decl}`"));
    }
    let ty = normalize_type(&s[..name_start]);
    if ty.is_empty() {
        return Err(format!("no type in `{decl}`"));
    }

    let (c_type, array_len) = if data_loc || rel_loc {
        // `__data_loc char[] name`: the type already carries `[]`.
        let c_type = if ty.ends_with("[]") {
            ty
        } else {
            format!("{ty}[]")
        };
        (c_type, None)
    } else {
        match array {
            None => (ty, None),
            Some("") => (format!("{ty}[]"), Some(0)),
            Some(len) => {
                let n = match len.parse::<u32>() {
                    Ok(n) => n,
                    // A length the kernel left as a macro (`char comm[TASK_COMM_LEN]`, old
                    // kernels): derive it from the size when the element size is known.
                    Err(_) => match c_scalar_size(&ty) {
                        Some(es) if es > 0 && size.is_multiple_of(es) => size / es,
                        _ => return Err(format!("cannot tell the length of array `{decl}`")),
                    },
                };
                (format!("{ty}[{n}]"), Some(n))
            }
        }
    };

    Ok(Field {
        common: name.starts_with("common_"),
        name: name.to_string(),
        c_type,
        offset,
        size,
        signed,
        array_len,
        data_loc,
        rel_loc,
    })
}

/// Collapses runs of whitespace; keeps the kernel's spelling otherwise (`const char *`).
fn normalize_type(t: &str) -> String {
    t.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Sizes of the scalar types tracepoint arrays are made of (x86-64).
fn c_scalar_size(ty: &str) -> Option<u32> {
    Some(match ty {
        "char" | "unsigned char" | "signed char" | "u8" | "s8" | "__u8" | "__s8" | "bool" => 1,
        "short" | "unsigned short" | "u16" | "s16" | "__u16" | "__s16" => 2,
        "int" | "unsigned int" | "u32" | "s32" | "__u32" | "__s32" | "pid_t" => 4,
        "long" | "unsigned long" | "u64" | "s64" | "__u64" | "__s64" | "long long"
        | "unsigned long long" => 8,
        _ => return None,
    })
}

/// A path component that cannot escape its directory.
fn is_plain_name(s: &str) -> bool {
    !s.is_empty() && s != "." && s != ".." && !s.contains('/') && !s.contains('\0')
}

/// Reads and parses `events/<category>/<name>/format` under the tracefs [`root`].
pub fn event_format(category: &str, name: &str) -> Result<EventFormat, TracefsError> {
    event_format_at(&root()?, category, name)
}

/// [`event_format`] under an explicit tracefs root.
pub fn event_format_at(
    root: &Path,
    category: &str,
    name: &str,
) -> Result<EventFormat, TracefsError> {
    let no_category = || TracefsError::NoSuchCategory {
        category: category.to_string(),
    };
    let no_event = || TracefsError::NoSuchEvent {
        category: category.to_string(),
        name: name.to_string(),
    };
    if !is_plain_name(category) {
        return Err(no_category());
    }
    let cat_dir = root.join("events").join(category);
    if !is_plain_name(name) {
        return Err(if cat_dir.is_dir() {
            no_event()
        } else {
            no_category()
        });
    }
    let path = cat_dir.join(name).join("format");
    match std::fs::read_to_string(&path) {
        Ok(text) => EventFormat::parse(&text).map_err(|e| TracefsError::parse(&path, e)),
        Err(e)
            if e.kind() == io::ErrorKind::NotFound || e.raw_os_error() == Some(libc::ENOTDIR) =>
        {
            Err(if cat_dir.is_dir() {
                no_event()
            } else {
                no_category()
            })
        }
        Err(e) => Err(TracefsError::io(&path, &e)),
    }
}

// ---------------------------------------------------------------------------------------------
// Listing

/// Matches `text` against a glob where `*` is any run of characters and `?` any one character.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    // Where to resume after the last `*`: (pattern index after it, text index it matched up to).
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi + 1, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            // Let the last `*` swallow one more character and retry.
            pi = sp;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

fn has_wildcard(s: &str) -> bool {
    s.contains(['*', '?'])
}

/// Names of the entries of `dir` that are directories, sorted; a missing `dir` is empty.
fn subdirs(dir: &Path) -> Result<Vec<String>, TracefsError> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(TracefsError::io(dir, &e)),
    };
    let mut out = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|e| TracefsError::io(dir, &e))?;
        let is_dir = match entry.file_type() {
            Ok(ft) => ft.is_dir(),
            Err(_) => entry.path().is_dir(),
        };
        if is_dir {
            if let Ok(name) = entry.file_name().into_string() {
                out.push(name);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The tracepoint categories (`events/*` directories), sorted.
pub fn categories() -> Result<Vec<String>, TracefsError> {
    categories_at(&root()?)
}

/// [`categories`] under an explicit tracefs root.
pub fn categories_at(root: &Path) -> Result<Vec<String>, TracefsError> {
    let events = root.join("events");
    if !events.is_dir() {
        // Distinguish "cannot read" from "not there".
        if let Err(e) = std::fs::read_dir(&events) {
            return Err(TracefsError::io(&events, &e));
        }
    }
    subdirs(&events)
}

/// Expands a `category:name` glob (`*` and `?` in either part) into the matching tracepoints,
/// sorted by category then name. Only directories with a `format` file count.
///
/// Without a `:`, the pattern is matched against event names in every category
/// (`sched_sw*` = `*:sched_sw*`); an empty part means `*` (`sched:` = `sched:*`).
pub fn list_events(glob: &str) -> Result<Vec<(String, String)>, TracefsError> {
    list_events_at(&root()?, glob)
}

/// [`list_events`] under an explicit tracefs root.
pub fn list_events_at(root: &Path, glob: &str) -> Result<Vec<(String, String)>, TracefsError> {
    let (cat_glob, name_glob) = glob.split_once(':').unwrap_or(("*", glob));
    let cat_glob = if cat_glob.is_empty() { "*" } else { cat_glob };
    let name_glob = if name_glob.is_empty() { "*" } else { name_glob };
    let events = root.join("events");

    let cats = if has_wildcard(cat_glob) {
        categories_at(root)?
            .into_iter()
            .filter(|c| glob_match(cat_glob, c))
            .collect()
    } else if is_plain_name(cat_glob) {
        vec![cat_glob.to_string()]
    } else {
        Vec::new()
    };

    let mut out = Vec::new();
    for cat in cats {
        let cat_dir = events.join(&cat);
        let names = if has_wildcard(name_glob) {
            subdirs(&cat_dir)?
                .into_iter()
                .filter(|n| glob_match(name_glob, n))
                .collect()
        } else if is_plain_name(name_glob) {
            vec![name_glob.to_string()]
        } else {
            Vec::new()
        };
        for name in names {
            if cat_dir.join(&name).join("format").is_file() {
                out.push((cat.clone(), name));
            }
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Syscall numbers

/// The x86-64 number of syscall `name`: the table name (`"fstat"`, `"umount2"`) or the name its
/// `syscalls:sys_enter_<name>` tracepoint uses (`"newfstat"`, `"umount"`).
pub fn syscall_number(name: &str) -> Option<u32> {
    use crate::syscalls_x86_64::{SYSCALLS, TRACEPOINT_ALIASES};
    SYSCALLS
        .iter()
        .find(|(_, n)| *n == name)
        .map(|(nr, _)| *nr)
        .or_else(|| {
            TRACEPOINT_ALIASES
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, nr)| *nr)
        })
}

/// The x86-64 syscall called `nr`, by its table name.
pub fn syscall_name(nr: u32) -> Option<&'static str> {
    use crate::syscalls_x86_64::SYSCALLS;
    SYSCALLS
        .binary_search_by_key(&nr, |(n, _)| *n)
        .ok()
        .map(|i| SYSCALLS[i].1)
}

// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    // Copied from a 6.18 kernel's /sys/kernel/tracing/events/syscalls/sys_enter_openat/format.
    const OPENAT: &str = "name: sys_enter_openat
ID: 782
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;
\tfield:int dfd;\toffset:16;\tsize:8;\tsigned:0;
\tfield:const char * filename;\toffset:24;\tsize:8;\tsigned:0;
\tfield:int flags;\toffset:32;\tsize:8;\tsigned:0;
\tfield:umode_t mode;\toffset:40;\tsize:8;\tsigned:0;

print fmt: \"dfd: 0x%08lx, filename: 0x%08lx, flags: 0x%08lx, mode: 0x%08lx\", ((unsigned long)(REC->dfd)), ((unsigned long)(REC->filename)), ((unsigned long)(REC->flags)), ((unsigned long)(REC->mode))
";

    // .../events/sched/sched_switch/format (print fmt shortened).
    const SCHED_SWITCH: &str = "name: sched_switch
ID: 372
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:char prev_comm[16];\toffset:8;\tsize:16;\tsigned:0;
\tfield:pid_t prev_pid;\toffset:24;\tsize:4;\tsigned:1;
\tfield:int prev_prio;\toffset:28;\tsize:4;\tsigned:1;
\tfield:long prev_state;\toffset:32;\tsize:8;\tsigned:1;
\tfield:char next_comm[16];\toffset:40;\tsize:16;\tsigned:0;
\tfield:pid_t next_pid;\toffset:56;\tsize:4;\tsigned:1;
\tfield:int next_prio;\toffset:60;\tsize:4;\tsigned:1;

print fmt: \"prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s%s ==> next_comm=%s next_pid=%d next_prio=%d\", REC->prev_comm, REC->prev_pid
";

    // .../events/sched/sched_process_exec/format.
    const SCHED_PROCESS_EXEC: &str = "name: sched_process_exec
ID: 365
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:__data_loc char[] filename;\toffset:8;\tsize:4;\tsigned:0;
\tfield:pid_t pid;\toffset:12;\tsize:4;\tsigned:1;
\tfield:pid_t old_pid;\toffset:16;\tsize:4;\tsigned:1;

print fmt: \"filename=%s pid=%d old_pid=%d\", __get_str(filename), REC->pid, REC->old_pid
";

    // Odd shapes seen on the same kernel: ftrace/kernel_stack's flexible array,
    // syscalls/sys_enter_execve's pointer-to-pointer, a __data_loc of u64.
    const ODD: &str = "name: odd
ID: 7
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:int size;\toffset:8;\tsize:4;\tsigned:1;
\tfield:unsigned long caller[8];\toffset:16;\tsize:64;\tsigned:0;
\tfield:unsigned long args[];\toffset:80;\tsize:0;\tsigned:0;
\tfield:const char *const * argv;\toffset:88;\tsize:8;\tsigned:0;
\tfield:__data_loc u64[] addrs;\toffset:96;\tsize:4;\tsigned:0;
\tfield:__rel_loc char[] msg;\toffset:100;\tsize:4;\tsigned:0;
\tfield:char comm[TASK_COMM_LEN];\toffset:104;\tsize:16;\tsigned:0;

print fmt: \"\"
";

    #[test]
    fn parses_sys_enter_openat() {
        let f = EventFormat::parse(OPENAT).unwrap();
        assert_eq!(f.id, 782);
        assert_eq!(f.fields.len(), 9);
        let filename = f.field("filename").unwrap();
        assert_eq!(
            filename,
            &Field {
                name: "filename".into(),
                c_type: "const char *".into(),
                offset: 24,
                size: 8,
                signed: false,
                common: false,
                array_len: None,
                data_loc: false,
                rel_loc: false,
            }
        );
        assert!(filename.is_pointer());
        assert!(!filename.is_string());
        let pid = f.field("common_pid").unwrap();
        assert!(pid.common && pid.signed);
        assert_eq!((pid.offset, pid.size, pid.c_type.as_str()), (4, 4, "int"));
        assert_eq!(f.field("mode").unwrap().c_type, "umode_t");
        assert_eq!(
            f.field_names(),
            ["__syscall_nr", "dfd", "filename", "flags", "mode"]
        );
        assert_eq!(f.args().count(), 5);
        assert!(f.field("nope").is_none());
    }

    #[test]
    fn parses_sched_switch_arrays() {
        let f = EventFormat::parse(SCHED_SWITCH).unwrap();
        assert_eq!(f.id, 372);
        let comm = f.field("prev_comm").unwrap();
        assert_eq!(comm.c_type, "char[16]");
        assert_eq!(comm.array_len, Some(16));
        assert_eq!((comm.offset, comm.size), (8, 16));
        assert_eq!(comm.elem_type(), "char");
        assert!(comm.is_string() && !comm.is_pointer());
        let state = f.field("prev_state").unwrap();
        assert_eq!(
            (state.c_type.as_str(), state.size, state.signed),
            ("long", 8, true)
        );
        assert_eq!(f.field("next_pid").unwrap().c_type, "pid_t");
        assert_eq!(f.field("next_prio").unwrap().offset, 60);
        assert_eq!(f.fields.iter().filter(|x| x.common).count(), 4);
    }

    #[test]
    fn parses_sched_process_exec_data_loc() {
        let f = EventFormat::parse(SCHED_PROCESS_EXEC).unwrap();
        assert_eq!(f.id, 365);
        let fname = f.field("filename").unwrap();
        assert!(fname.data_loc && !fname.rel_loc);
        assert_eq!(fname.c_type, "char[]");
        assert_eq!(fname.array_len, None);
        assert_eq!((fname.offset, fname.size), (8, 4));
        assert!(fname.is_string() && fname.is_dynamic());
        assert_eq!(f.field_names(), ["filename", "pid", "old_pid"]);
    }

    #[test]
    fn parses_odd_declarations() {
        let f = EventFormat::parse(ODD).unwrap();
        let caller = f.field("caller").unwrap();
        assert_eq!(
            (caller.c_type.as_str(), caller.array_len),
            ("unsigned long[8]", Some(8))
        );
        assert_eq!(caller.elem_type(), "unsigned long");
        let args = f.field("args").unwrap();
        assert_eq!(
            (args.c_type.as_str(), args.array_len, args.size),
            ("unsigned long[]", Some(0), 0)
        );
        let argv = f.field("argv").unwrap();
        assert_eq!(argv.c_type, "const char *const *");
        assert!(argv.is_pointer());
        let addrs = f.field("addrs").unwrap();
        assert!(addrs.data_loc && !addrs.is_string());
        assert_eq!((addrs.c_type.as_str(), addrs.elem_type()), ("u64[]", "u64"));
        let msg = f.field("msg").unwrap();
        assert!(msg.rel_loc && !msg.data_loc && msg.is_string());
        let comm = f.field("comm").unwrap();
        assert_eq!(
            (comm.c_type.as_str(), comm.array_len),
            ("char[16]", Some(16))
        );
    }

    #[test]
    fn rejects_malformed_formats() {
        let e = EventFormat::parse("name: x\nformat:\n").unwrap_err();
        assert!(e.message.contains("ID"), "{e}");
        let e = EventFormat::parse("ID: x1\n").unwrap_err();
        assert_eq!(e.line, 1);
        let e = EventFormat::parse("ID: 1\nformat:\n\tfield:int a;\toffset:zz;\tsize:4;\n")
            .unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("offset"), "{e}");
        let e = EventFormat::parse("ID: 1\n\tfield:int a;\tsize:4;\n").unwrap_err();
        assert!(e.message.contains("offset"), "{e}");
        let e = EventFormat::parse("ID: 1\n\tfield:int;\toffset:0;\tsize:4;\n").unwrap_err();
        assert!(e.message.contains("type"), "{e}");
        let e = EventFormat::parse("ID: 1\n\tfield: ;\toffset:0;\tsize:4;\n").unwrap_err();
        assert!(e.message.contains("name"), "{e}");
        let e =
            EventFormat::parse("ID: 1\n\tfield:struct x y[N];\toffset:0;\tsize:4;\n").unwrap_err();
        assert!(e.message.contains("length"), "{e}");
        // A field without `signed:` (old kernels) is unsigned.
        let f = EventFormat::parse("ID: 1\n\tfield:int a;\toffset:0;\tsize:4;\n").unwrap();
        assert!(!f.fields[0].signed);
    }

    #[test]
    fn glob() {
        assert!(glob_match("*", ""));
        assert!(glob_match("*", "abc"));
        assert!(glob_match("sys_enter_open*", "sys_enter_openat"));
        assert!(glob_match("sys_enter_open*", "sys_enter_open"));
        assert!(!glob_match("sys_enter_open*", "sys_exit_open"));
        assert!(glob_match("sched_?witch", "sched_switch"));
        assert!(!glob_match("sched_?witch", "sched_witch"));
        assert!(glob_match("*_switch", "sched_switch"));
        assert!(glob_match("s*_*t*", "sched_switch"));
        assert!(glob_match("a*b*c", "aXbYbZc"));
        assert!(!glob_match("a*b*c", "aXbYbZ"));
        assert!(glob_match("**a", "bba"));
        assert!(!glob_match("", "a"));
        assert!(glob_match("exact", "exact"));
        assert!(!glob_match("exact", "exactly"));
    }

    #[test]
    fn syscall_numbers() {
        for (name, nr) in [
            ("read", 0),
            ("write", 1),
            ("open", 2),
            ("close", 3),
            ("openat", 257),
            ("execve", 59),
            ("clone", 56),
            ("exit_group", 231),
            ("openat2", 437),
            ("getpid", 39),
            ("clone3", 435),
            ("rseq", 334),
            ("uretprobe", 335),
            ("mseal", 462),
            ("file_setattr", 469),
            // tracepoint spellings
            ("newfstat", 5),
            ("fstat", 5),
            ("newfstatat", 262),
            ("umount", 166),
            ("umount2", 166),
            ("sendfile64", 40),
        ] {
            assert_eq!(syscall_number(name), Some(nr), "{name}");
        }
        assert_eq!(syscall_number("nope"), None);
        assert_eq!(syscall_number(""), None);
        assert_eq!(syscall_name(257), Some("openat"));
        assert_eq!(syscall_name(335 + 1), Some("uprobe"));
        assert_eq!(syscall_name(400), None);
        assert_eq!(syscall_name(470), None);
    }

    #[test]
    fn syscall_table_is_sorted_and_unique() {
        use crate::syscalls_x86_64::SYSCALLS;
        assert!(SYSCALLS.windows(2).all(|w| w[0].0 < w[1].0));
        let mut names: Vec<_> = SYSCALLS.iter().map(|s| s.1).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), SYSCALLS.len());
        // Every number 0..=334 and 424..=469 is a syscall on x86-64.
        for nr in (0..=336).chain(424..=469) {
            assert!(syscall_name(nr).is_some(), "{nr}");
        }
    }

    #[test]
    fn error_wording() {
        let e = TracefsError::NeedRoot {
            path: TRACEFS_PATH.into(),
        };
        assert!(e.to_string().contains("rdt needs root"), "{e}");
        let e = TracefsError::NoSuchEvent {
            category: "sched".into(),
            name: "sched_swich".into(),
        };
        assert_eq!(
            e.to_string(),
            "no tracepoint `sched:sched_swich`: category `sched` has no event `sched_swich` \
             (list them with `rdt -l 'tracepoint:sched:*'`)"
        );
        let e = TracefsError::MountFailed {
            path: TRACEFS_PATH.into(),
            errno: libc::EBUSY,
        };
        assert!(e.to_string().contains("Device or resource busy"), "{e}");
        assert!(!e.to_string().contains("os error"), "{e}");
        let e: Box<dyn std::error::Error> = Box::new(TracefsError::Unsupported);
        assert!(e.to_string().contains("CONFIG_TRACING"));
    }

    /// A tracefs-shaped tree in a temporary directory.
    struct FakeRoot(PathBuf);
    impl FakeRoot {
        fn new(tag: &str) -> FakeRoot {
            let dir = std::env::temp_dir().join(format!("rdt-btf-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            for (cat, name, text) in [
                ("syscalls", "sys_enter_openat", OPENAT),
                ("syscalls", "sys_enter_open", OPENAT),
                ("syscalls", "sys_exit_openat", OPENAT),
                ("sched", "sched_switch", SCHED_SWITCH),
                ("sched", "sched_process_exec", SCHED_PROCESS_EXEC),
                (
                    "broken",
                    "bad",
                    "ID: 1\n\tfield:int a;\toffset:x;\tsize:4;\n",
                ),
            ] {
                let d = dir.join("events").join(cat).join(name);
                std::fs::create_dir_all(&d).unwrap();
                std::fs::write(d.join("format"), text).unwrap();
                std::fs::write(d.join("enable"), "0\n").unwrap();
            }
            // Not events: files in events/ and in a category, and a directory without `format`.
            std::fs::write(dir.join("events/enable"), "0\n").unwrap();
            std::fs::write(dir.join("events/sched/filter"), "none\n").unwrap();
            std::fs::create_dir_all(dir.join("events/sched/no_format")).unwrap();
            FakeRoot(dir)
        }
    }
    impl Drop for FakeRoot {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn event_format_on_a_tree() {
        let r = FakeRoot::new("fmt");
        let f = event_format_at(&r.0, "sched", "sched_switch").unwrap();
        assert_eq!(f.id, 372);
        assert_eq!(
            event_format_at(&r.0, "sched", "sched_swich"),
            Err(TracefsError::NoSuchEvent {
                category: "sched".into(),
                name: "sched_swich".into()
            })
        );
        assert_eq!(
            event_format_at(&r.0, "schde", "sched_switch"),
            Err(TracefsError::NoSuchCategory {
                category: "schde".into()
            })
        );
        // Not an event directory, or trying to escape `events/`.
        assert!(matches!(
            event_format_at(&r.0, "sched", "filter"),
            Err(TracefsError::NoSuchEvent { .. })
        ));
        assert!(matches!(
            event_format_at(&r.0, "sched", "no_format"),
            Err(TracefsError::NoSuchEvent { .. })
        ));
        assert!(matches!(
            event_format_at(&r.0, "..", "x"),
            Err(TracefsError::NoSuchCategory { .. })
        ));
        assert!(matches!(
            event_format_at(&r.0, "sched", "../sched/sched_switch"),
            Err(TracefsError::NoSuchEvent { .. })
        ));
        assert!(matches!(
            event_format_at(&r.0, "", ""),
            Err(TracefsError::NoSuchCategory { .. })
        ));
        match event_format_at(&r.0, "broken", "bad") {
            Err(e @ TracefsError::Parse { line: 2, .. }) => {
                assert!(
                    e.to_string().contains("events/broken/bad/format (line 2)"),
                    "{e}"
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn list_events_on_a_tree() {
        let r = FakeRoot::new("list");
        let l = |g: &str| list_events_at(&r.0, g).unwrap();
        let pairs = |v: &[(&str, &str)]| {
            v.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            l("syscalls:sys_enter_open*"),
            pairs(&[
                ("syscalls", "sys_enter_open"),
                ("syscalls", "sys_enter_openat")
            ])
        );
        assert_eq!(
            l("sched:*"),
            pairs(&[("sched", "sched_process_exec"), ("sched", "sched_switch")])
        );
        assert_eq!(l("sched:"), l("sched:*"));
        assert_eq!(l("s*:*_switch"), pairs(&[("sched", "sched_switch")]));
        assert_eq!(l("sched_sw?tch"), pairs(&[("sched", "sched_switch")]));
        assert_eq!(l("sched:sched_switch"), pairs(&[("sched", "sched_switch")]));
        assert_eq!(l("*:*").len(), 6);
        assert_eq!(l("*"), l("*:*"));
        assert!(l("sched:nope").is_empty());
        assert!(l("nope:*").is_empty());
        assert!(l("sched:no_format").is_empty());
        assert!(l("sched:filter").is_empty());
        assert!(l("../events:*").is_empty());
        assert_eq!(
            categories_at(&r.0).unwrap(),
            ["broken", "sched", "syscalls"]
        );
        assert!(list_events_at(Path::new("/nonexistent-rdt"), "*:*").is_err());
    }
}
