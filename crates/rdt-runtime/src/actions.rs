//! What user space does when it reads a map-operation record (`clear`, `zero`, `print`, `trunc`,
//! `printa`, `time`, `print(value)`): the kernel only announces them, so they happen in the
//! order of the event stream.

use std::io;
use std::os::fd::BorrowedFd;

use rdt_codegen::{MapMeta, ValueKind};
use rdt_types::format::{self, Piece};

use crate::bpf_sys;
use crate::maps::{self, Entry, Value};
use crate::output::{self, hist, json, PrintOpts};
use crate::printf;

/// The output format chosen with `-f`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    #[default]
    Text,
    Json,
}

/// A script map and its kernel file descriptor.
#[derive(Clone, Copy)]
pub struct MapRef<'a> {
    pub meta: &'a MapMeta,
    pub fd: BorrowedFd<'a>,
}

impl MapRef<'_> {
    pub fn entries(&self) -> io::Result<Vec<Entry>> {
        maps::read_map(self.fd, self.meta)
    }

    fn keys(&self) -> io::Result<Vec<Vec<u8>>> {
        let mut keys = Vec::new();
        let mut next = vec![0u8; self.meta.key_size as usize];
        let mut prev: Option<Vec<u8>> = None;
        while bpf_sys::map_get_next_key(self.fd, prev.as_deref(), &mut next)? {
            keys.push(next.clone());
            prev = Some(next.clone());
        }
        Ok(keys)
    }

    /// `clear(@m)`: removes every entry.
    pub fn clear(&self) -> io::Result<()> {
        if self.meta.single_slot {
            // The array's one slot cannot be deleted; all zeros reads as no entry.
            return self.zero();
        }
        for key in self.keys()? {
            bpf_sys::map_delete(self.fd, &key)?;
        }
        Ok(())
    }

    /// `zero(@m)`: keeps the keys, sets every value (every CPU's slot) to zero.
    pub fn zero(&self) -> io::Result<()> {
        let size = if self.meta.value.is_per_cpu() {
            bpf_sys::per_cpu_value_size(self.meta.value_size)?
        } else {
            self.meta.value_size as usize
        };
        let zeroes = vec![0u8; size];
        for key in self.keys()? {
            // BPF_EXIST: a key deleted meanwhile stays deleted.
            match bpf_sys::map_update(self.fd, &key, &zeroes, 2) {
                Err(e) if e.raw_os_error() != Some(libc::ENOENT) => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }

    /// After user space removed entries: sets the map's `len()` counter (`lens` fd and slot)
    /// to the number of entries left, on the first CPU's slot (the others to zero).
    pub fn recount(&self, lens: Option<(BorrowedFd, u32)>) -> io::Result<()> {
        let Some((fd, slot)) = lens else {
            return Ok(());
        };
        let n = self.keys()?.len() as u64;
        let mut value = vec![0u8; bpf_sys::per_cpu_value_size(8)?];
        value[..8].copy_from_slice(&n.to_le_bytes());
        bpf_sys::map_update(fd, &slot.to_le_bytes(), &value, 0)
    }

    /// D's `trunc(@m, n)`: keeps the `n` largest entries, the `-n` smallest when `n` is
    /// negative, none without `n`.
    pub fn trunc(&self, keep: Option<i64>) -> io::Result<()> {
        let entries = self.entries()?;
        let sorted = output::sorted_entries(self.meta, &entries, 0);
        let n = keep.unwrap_or(0);
        let kept = (n.unsigned_abs() as usize).min(sorted.len());
        // Ascending order: the largest are at the end, the smallest at the start.
        let removed = if n >= 0 {
            &sorted[..sorted.len() - kept]
        } else {
            &sorted[kept..]
        };
        if self.meta.single_slot && !removed.is_empty() {
            return self.zero();
        }
        for e in removed {
            bpf_sys::map_delete(self.fd, &e.key)?;
        }
        Ok(())
    }

    /// The map in the chosen format, as `print(@m, top, div)` and the exit print show it.
    pub fn print(&self, opts: PrintOpts, format: OutputFormat) -> io::Result<String> {
        let entries = self.entries()?;
        Ok(match format {
            OutputFormat::Text => output::format_map_with(self.meta, &entries, opts),
            OutputFormat::Json => json::map_record(self.meta, &entries, opts),
        })
    }
}

/// `file:line:start-end` of a span (1-based columns, the end exclusive), as bpftrace shows it.
pub fn location(name: &str, source: &str, span: rdt_syntax::Span) -> String {
    let start = (span.start as usize).min(source.len());
    let before = &source[..start];
    let line = before.matches('\n').count() + 1;
    let col = before.chars().rev().take_while(|&c| c != '\n').count() + 1;
    let len = source
        .get(start..(span.end as usize).min(source.len()))
        .map_or(0, |s| s.chars().count());
    format!("{name}:{line}:{col}-{}", col + len)
}

/// `print(value)`: the value on a line of its own.
pub fn print_value(value: &Value, format: OutputFormat) -> String {
    match format {
        OutputFormat::Text => format!("{}\n", output::format_value(value)),
        OutputFormat::Json => json::record("value", &json::value(value)),
    }
}

/// `time(format)`: the local time formatted with strftime(3).
pub fn time(fmt: &str, format: OutputFormat) -> String {
    let text = local_time(fmt);
    match format {
        OutputFormat::Text => text,
        OutputFormat::Json => json::text_record("time", &text),
    }
}

fn local_time(fmt: &str) -> String {
    // SAFETY: time(NULL) has no preconditions.
    let now = unsafe { libc::time(std::ptr::null_mut()) };
    format_epoch(fmt, now, 0)
}

/// `strftime(fmt, ns)`: `ns` is a CLOCK_MONOTONIC timestamp (`nsecs`), shown as the local
/// wall-clock time it corresponds to. Besides strftime(3)'s conversions, `%f` is the
/// microseconds, as in bpftrace.
pub fn strftime_ns(fmt: &str, ns: u64) -> String {
    let wall = clock_ns(libc::CLOCK_REALTIME) as i128 - clock_ns(libc::CLOCK_MONOTONIC) as i128
        + i128::from(ns);
    let secs = wall.div_euclid(1_000_000_000);
    let micros = (wall.rem_euclid(1_000_000_000) / 1000) as u32;
    format_epoch(fmt, secs as libc::time_t, micros)
}

/// D's `%Y`: a wall-clock time in nanoseconds since the epoch (`walltimestamp`) as DTrace
/// prints it, local time like `2026 Nov 27 11:55:01`.
pub fn wall_date(ns: u64) -> String {
    format_epoch("%Y %b %e %T", (ns / 1_000_000_000) as libc::time_t, 0)
}

fn clock_ns(clock: libc::clockid_t) -> u64 {
    // SAFETY: clock_gettime writes the timespec it is given.
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Formats `secs` since the epoch as local time; `%f` becomes `micros`, zero-padded to 6.
fn format_epoch(fmt: &str, secs: libc::time_t, micros: u32) -> String {
    let fmt = fmt.replace("%f", &format!("{micros:06}"));
    let Ok(c_fmt) = std::ffi::CString::new(fmt.as_str()) else {
        return fmt;
    };
    // SAFETY: localtime_r writes the tm it is given; strftime writes at most buf.len() bytes
    // into buf and returns how many it wrote.
    unsafe {
        let now = secs;
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&now, &mut tm).is_null() {
            return String::new();
        }
        let mut buf = vec![0u8; 256 + fmt.len() * 8];
        let n = libc::strftime(buf.as_mut_ptr().cast(), buf.len(), c_fmt.as_ptr(), &tm);
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }
}

/// D's `printa([format, ]@a, @b…)`: one line per key of the first map, its values in the other
/// maps joined on the key (zero where a map lacks it). `%@` conversions take the maps' values
/// in order; the other conversions take the key's fields. Without a format, each map prints as
/// `print` prints it.
pub fn printa(
    fmt: Option<&str>,
    maps: &[MapRef],
    normalize: &dyn Fn(&str) -> u64,
    format: OutputFormat,
) -> io::Result<String> {
    let Some(fmt) = fmt else {
        let mut out = String::new();
        for m in maps {
            let div = normalize(&m.meta.name);
            out.push_str(&m.print(PrintOpts { top: 0, div }, format)?);
        }
        return Ok(out);
    };
    let all: Vec<Vec<Entry>> = maps
        .iter()
        .map(|m| m.entries())
        .collect::<io::Result<_>>()?;
    let Some((first, others)) = maps.split_first() else {
        return Ok(String::new());
    };
    let mut text = String::new();
    for entry in output::sorted_entries(first.meta, &all[0], 0) {
        let key = first
            .meta
            .key
            .as_ref()
            .map(|ty| maps::decode(ty, &entry.key));
        let mut values = vec![output::divided(&entry.value, normalize(&first.meta.name))];
        for (m, entries) in others.iter().zip(&all[1..]) {
            let found = entries.iter().find(|e| {
                let k = m.meta.key.as_ref().map(|ty| maps::decode(ty, &e.key));
                k == key
            });
            let v = found.map_or_else(|| empty_value(&m.meta.value), |e| e.value.clone());
            values.push(output::divided(&v, normalize(&m.meta.name)));
        }
        text.push_str(&printa_line(fmt, key.as_ref(), &values, maps));
    }
    Ok(match format {
        OutputFormat::Text => text,
        OutputFormat::Json => json::text_record("printf", &text),
    })
}

fn empty_value(kind: &ValueKind) -> Value {
    match kind {
        ValueKind::Hist(_) => Value::Hist(vec![0; kind.words() as usize]),
        ValueKind::Sum | ValueKind::Plain(_) => Value::Int(0),
        _ => Value::Uint(0),
    }
}

/// One line of printa: `%@` conversions print values, the others the key's fields.
fn printa_line(fmt: &str, key: Option<&Value>, values: &[Value], maps: &[MapRef]) -> String {
    let plain = fmt.replace("%@", "%");
    let Ok(pieces) = format::parse(&plain) else {
        return fmt.to_string();
    };
    let takes_value = value_conversions(fmt);
    let key_fields: Vec<Value> = match key {
        Some(Value::Tuple(fields)) => fields.clone(),
        Some(v) => vec![v.clone()],
        None => Vec::new(),
    };
    let (mut next_key, mut next_value) = (key_fields.iter(), values.iter().zip(maps));
    let mut out = String::new();
    let mut conversion = 0;
    for piece in &pieces {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Conv(c) => {
                let is_value = takes_value.get(conversion).copied().unwrap_or(false);
                conversion += 1;
                if is_value {
                    if let Some((v, m)) = next_value.next() {
                        out.push_str(&format_aggregate(&c.spec, v, m.meta));
                    }
                } else if let Some(k) = next_key.next() {
                    out.push_str(&printf::format_value_with(&c.spec, k));
                }
            }
        }
    }
    out
}

fn format_aggregate(spec: &format::Spec, v: &Value, meta: &MapMeta) -> String {
    match (v, &meta.value) {
        (Value::Hist(counts), ValueKind::Hist(b)) => {
            format!("\n{}", hist::format_hist(b, counts, 1))
        }
        (Value::Stats { stats: true, .. }, _) => output::format_value(v),
        _ => printf::format_value_with(spec, v),
    }
}

/// For each conversion of a printa format in order, whether it is a `%@` value conversion.
fn value_conversions(fmt: &str) -> Vec<bool> {
    let bytes = fmt.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if bytes.get(i + 1) == Some(&b'%') {
                i += 2;
                continue;
            }
            out.push(bytes.get(i + 1) == Some(&b'@'));
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_conversions_skip_literal_percent() {
        assert_eq!(
            value_conversions("%s %@d %% %d %@x"),
            vec![false, true, false, true]
        );
    }

    #[test]
    fn time_formats_with_strftime() {
        let year = local_time("%Y");
        assert_eq!(year.len(), 4);
        assert!(year.chars().all(|c| c.is_ascii_digit()));
        assert_eq!(local_time("literal"), "literal");
    }
}
