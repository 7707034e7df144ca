//! Addresses to symbol names with blazesym: kernel addresses through kallsyms, user addresses
//! through the process's mappings and the ELF symbols and DWARF of its files, demangled.
//!
//! Lazy: no symbolizer exists and no file is read until a stack or symbol is printed (or a
//! process must be remembered), so scripts without stacks pay nothing. One symbolizer serves the
//! whole run, so kallsyms and each ELF file are parsed once, and every resolved address is
//! cached.
//!
//! A process's mappings vanish when it exits, often before the maps are printed (a `-c`
//! command). The BPF programs announce each process whose user addresses they capture
//! ([`remember_process`]), and blazesym caches its mappings then; its files are opened by path
//! when printing.

use blazesym::symbolize::cache::{self, Cache};
use blazesym::symbolize::source::{Kernel, Process, Source};
use blazesym::symbolize::{Input, Symbolized, Symbolizer};
use blazesym::{MaybeDefault, Pid};
use std::cell::RefCell;
use std::collections::HashMap;

/// One resolved address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub addr: u64,
    /// The symbol and the address's offset into it; `None` when no symbol covers the address.
    pub symbol: Option<(String, u64)>,
    /// The object file of a user address (for perf's layout).
    pub module: Option<String>,
}

impl Frame {
    /// `name+offset` as bpftrace prints stack frames, or the address in hex when unknown.
    pub fn with_offset(&self) -> String {
        match &self.symbol {
            Some((name, offset)) => format!("{name}+{offset}"),
            None => format!("0x{:x}", self.addr),
        }
    }

    /// The bare name (for `ksym`/`usym` and folded stacks), or the address in hex when unknown.
    pub fn name(&self) -> String {
        match &self.symbol {
            Some((name, _)) => name.clone(),
            None => format!("0x{:x}", self.addr),
        }
    }
}

#[derive(Default)]
struct State {
    symbolizer: Option<Symbolizer>,
    kernel: HashMap<u64, Frame>,
    user: HashMap<(u32, u64), Frame>,
    /// Processes whose mappings were refreshed for printing.
    refreshed: std::collections::HashSet<u32>,
}

impl State {
    fn symbolizer(&mut self) -> &Symbolizer {
        self.symbolizer.get_or_insert_with(Symbolizer::new)
    }
}

thread_local! {
    // The runtime prints from one thread; blazesym's symbolizer is not Sync.
    static STATE: RefCell<State> = RefCell::new(State::default());
}

/// Notes the mappings of process `pid` now, so its addresses resolve after it exits.
pub fn remember_process(pid: u32) {
    if pid == 0 {
        return;
    }
    STATE.with_borrow_mut(|s| cache_mappings(s, pid));
}

/// Caches the current mappings of `pid`. When the process is gone this fails and blazesym
/// keeps what it noted earlier, which is what the addresses are then resolved against.
fn cache_mappings(s: &mut State, pid: u32) {
    let mut request = cache::Process::new(Pid::from(pid));
    request.cache_perf_map = false;
    let _ = s.symbolizer().cache(&Cache::Process(request));
}

/// Resolves kernel addresses.
pub fn kernel_frames(addrs: &[u64]) -> Vec<Frame> {
    STATE.with_borrow_mut(|s| {
        let missing: Vec<u64> = addrs
            .iter()
            .copied()
            .filter(|a| !s.kernel.contains_key(a))
            .collect();
        if !missing.is_empty() {
            // kallsyms only: looking for a vmlinux image and its DWARF costs seconds.
            let kernel = Kernel {
                vmlinux: MaybeDefault::None,
                debug_syms: false,
                ..Kernel::default()
            };
            let resolved = resolve(s.symbolizer(), &Source::Kernel(kernel), &missing);
            s.kernel.extend(missing.iter().copied().zip(resolved));
        }
        addrs
            .iter()
            .map(|a| s.kernel.get(a).cloned().unwrap_or_else(|| unknown(*a)))
            .collect()
    })
}

/// Resolves addresses of process `pid`.
pub fn user_frames(pid: u32, addrs: &[u64]) -> Vec<Frame> {
    if pid == 0 {
        // Pid 0 would mean "this process" to blazesym; a user address never belongs to it.
        return addrs.iter().map(|a| unknown(*a)).collect();
    }
    STATE.with_borrow_mut(|s| {
        let missing: Vec<u64> = addrs
            .iter()
            .copied()
            .filter(|a| !s.user.contains_key(&(pid, *a)))
            .collect();
        if !missing.is_empty() {
            // A live process may have loaded libraries since it was first seen.
            if s.refreshed.insert(pid) {
                cache_mappings(s, pid);
            }
            let mut process = Process::new(Pid::from(pid));
            // Paths as listed in the maps, which outlive the process (map_files do not).
            process.map_files = false;
            process.perf_map = false;
            let resolved = resolve(s.symbolizer(), &Source::Process(process), &missing);
            s.user
                .extend(missing.iter().map(|a| (pid, *a)).zip(resolved));
        }
        addrs
            .iter()
            .map(|a| {
                s.user
                    .get(&(pid, *a))
                    .cloned()
                    .unwrap_or_else(|| unknown(*a))
            })
            .collect()
    })
}

fn resolve(symbolizer: &Symbolizer, source: &Source, addrs: &[u64]) -> Vec<Frame> {
    let Ok(results) = symbolizer.symbolize(source, Input::AbsAddr(addrs)) else {
        return addrs.iter().map(|a| unknown(*a)).collect();
    };
    addrs
        .iter()
        .zip(results)
        .map(|(&addr, result)| match result {
            Symbolized::Sym(sym) => Frame {
                addr,
                symbol: Some((sym.name.into_owned(), sym.offset as u64)),
                module: sym.module.map(|m| m.to_string_lossy().into_owned()),
            },
            Symbolized::Unknown(_) => unknown(addr),
        })
        .collect()
}

fn unknown(addr: u64) -> Frame {
    Frame {
        addr,
        symbol: None,
        module: None,
    }
}
