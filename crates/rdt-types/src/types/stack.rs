//! The stack type of `kstack` / `ustack`: which stack, how it prints, how many frames it keeps.
//!
//! Layout shared by the BPF code and the user-space reader: a u64 header, then
//! [`StackType::captured_frames`] u64 return addresses, innermost first, zero after the last frame (`bpf_get_stack` zero-fills
//! what it does not write). The header holds the process id of a user stack, so its addresses
//! can be symbolized against that process's mappings; it is 0 for kernel stacks, so the same
//! kernel path taken by different processes is one key.

use std::fmt;

/// bpftrace's stack modes: how a stack prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum StackMode {
    /// One `symbol+offset` per line, indented by 8 spaces.
    #[default]
    Bpftrace,
    /// perf's layout: a tab, the address in hex, then the symbol (and, for user frames, the
    /// object file in parentheses).
    Perf,
    /// Addresses in hex, one per line, no symbols.
    Raw,
}

impl StackMode {
    pub const NAMES: [(&'static str, StackMode); 3] = [
        ("bpftrace", StackMode::Bpftrace),
        ("perf", StackMode::Perf),
        ("raw", StackMode::Raw),
    ];

    pub fn named(name: &str) -> Option<StackMode> {
        StackMode::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, m)| *m)
    }

    pub fn name(self) -> &'static str {
        match self {
            StackMode::Bpftrace => "bpftrace",
            StackMode::Perf => "perf",
            StackMode::Raw => "raw",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StackType {
    /// A user-space stack (`ustack`) rather than the kernel's (`kstack`).
    pub user: bool,
    pub mode: StackMode,
    /// Frames kept (bpftrace's default is the kernel's `perf_event_max_stack`, 127).
    pub limit: u32,
}

impl StackType {
    /// The kernel's default `perf_event_max_stack`, which bpftrace uses as its default too.
    pub const DEFAULT_LIMIT: u32 = 127;
    /// The kernel refuses to walk more frames than `perf_event_max_stack` (127 by default).
    pub const MAX_LIMIT: u32 = 127;

    pub fn new(user: bool) -> StackType {
        StackType {
            user,
            mode: StackMode::Bpftrace,
            limit: StackType::DEFAULT_LIMIT,
        }
    }

    /// Bytes of the header that precedes the addresses.
    pub const HEADER: u32 = 8;

    pub fn size(&self) -> u32 {
        StackType::HEADER + 8 * self.captured_frames()
    }

    /// Frames captured for `limit` shown: a kernel stack keeps one more, because a frame of the
    /// kernel's tracepoint machinery (`__traceiter_*`) may come first and is not shown.
    pub fn captured_frames(&self) -> u32 {
        if self.user {
            self.limit
        } else {
            self.limit + 1
        }
    }

    pub fn builtin_name(&self) -> &'static str {
        if self.user {
            "ustack"
        } else {
            "kstack"
        }
    }
}

impl fmt::Display for StackType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.builtin_name();
        let default = StackType::new(self.user);
        match (self.mode == default.mode, self.limit == default.limit) {
            (true, true) => write!(f, "{name}"),
            (true, false) => write!(f, "{name}({})", self.limit),
            (false, true) => write!(f, "{name}({})", self.mode.name()),
            (false, false) => write!(f, "{name}({}, {})", self.mode.name(), self.limit),
        }
    }
}
