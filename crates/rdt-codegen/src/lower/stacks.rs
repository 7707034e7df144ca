//! Lowering of `kstack` / `ustack` and `ksym` / `usym`.
//!
//! A stack is captured with `bpf_get_stack` straight into its place in the key or record being
//! assembled in scratch memory (see [`rdt_sema::types::StackType`] for the layout), rather than
//! through a `BPF_MAP_TYPE_STACK_TRACE` map and an id: a key then holds the whole stack, there
//! are no id collisions to lose stacks to, and a printed stack never depends on a second map
//! still holding it. A failed capture is counted ([`Counter::StackFaults`]).
//!
//! User addresses are symbolized in user space against the process's mappings, which are gone
//! once it exits. So the first time a process's user addresses are captured, the program
//! announces the pid on the ring buffer (once per process, through a `seen` hash map updated
//! with `BPF_NOEXIST`), and user space notes its mappings while it still runs. The `seen` key
//! is the pid and the command name: an `exec` changes the name (and the mappings), so the
//! process is announced again (a `-c` command is first seen as a copy of rdt before its exec).

use super::{Lowerer, Region};
use crate::artifact::Counter;
use crate::insn::helper;
use crate::lir::{Base, CallArg, Cond, MapIndex, Operand, VReg};
use rdt_sema::ir::{Builtin, Expr, ExprKind, MapValue, ProgType, Program};
use rdt_sema::types::StackType;
use rdt_sema::Type;

/// `bpf_get_stack` flag: walk the user stack instead of the kernel's.
const BPF_F_USER_STACK: i64 = 1 << 8;
/// Kernel frames a raw tracepoint program always sees below the traced code: the program
/// itself, `bpf_trace_runN` and the event's `__bpf_trace_*` stub. Skipping them makes a stack
/// start where the event fired, as it does for a perf-event tracepoint (rdt runs syscall
/// tracepoints as raw tracepoints, and their stacks should not differ). When several programs
/// share the tracepoint, a `__traceiter_*` frame follows; the printer drops that one.
const RAW_TRACEPOINT_FRAMES: i64 = 3;
/// The `seen` map's key: the pid (u64) and the command name (16 bytes).
pub const SEEN_KEY_SIZE: u32 = 24;
/// `bpf_map_update_elem` flag: fail when the key exists.
const BPF_NOEXIST: i64 = 1;

/// The map of processes already announced and the id of the announcing record.
#[derive(Debug, Clone, Copy)]
pub struct SeenProcesses {
    pub map: MapIndex,
    pub event: usize,
}

/// Whether any value of the program holds user addresses (a `ustack` or a `usym`), which is
/// when processes must be announced.
pub fn uses_user_addresses(program: &Program) -> bool {
    let maps = program.maps.iter().flat_map(|m| {
        let value = match &m.value {
            MapValue::Plain(t) => Some(t),
            _ => None,
        };
        m.key.iter().chain(value)
    });
    let events = program.events.iter().flat_map(|e| match e {
        rdt_sema::ir::Event::Printf { args, .. } => args.as_slice(),
        _ => &[],
    });
    let vars = program.probes.iter().flat_map(|p| p.vars.iter());
    maps.chain(events).chain(vars).any(holds_user_addresses)
}

fn holds_user_addresses(ty: &Type) -> bool {
    match ty {
        Type::Stack(s) => s.user,
        Type::Symbol { user } => *user,
        Type::Tuple(fields) => fields.iter().any(holds_user_addresses),
        _ => false,
    }
}

impl Lowerer<'_> {
    /// Writes the stack `e` at `region`, laid out as `stack`.
    pub(super) fn stack_into(&mut self, e: &Expr, region: Region, stack: &StackType) {
        if !matches!(e.kind, ExprKind::Stack) {
            // A stack stored earlier (a variable, a map value): copy its bytes.
            let src = self.mem_location(e);
            self.copy((Base::Scratch, region), src, stack.size().min(e.ty.size()));
            return;
        }
        let header = if stack.user {
            self.builtin(Builtin::Pid)
        } else {
            self.imm(0)
        };
        self.store(Base::Scratch, region, 8, Operand::Reg(header));
        let flags = match (stack.user, self.prog_type) {
            (true, _) => BPF_F_USER_STACK,
            (false, ProgType::RawTracepoint) => RAW_TRACEPOINT_FRAMES,
            (false, _) => 0,
        };
        // On failure the helper zero-fills the buffer, so the stack reads as empty.
        let r = self.call(
            helper::GET_STACK,
            vec![
                CallArg::Ctx,
                CallArg::Scratch(region + StackType::HEADER as i32),
                CallArg::Imm(i64::from(8 * stack.captured_frames())),
                CallArg::Imm(flags),
            ],
        );
        self.count_unless(r, Cond::Sge, Counter::StackFaults);
        if stack.user {
            self.announce_process(header);
        }
    }

    /// Writes `ksym(addr)` / `usym(addr)` at `region`: the address, then the pid (0 for kernel).
    pub(super) fn symbol_into(&mut self, e: &Expr, region: Region) {
        let ExprKind::Symbol { addr, user } = &e.kind else {
            let src = self.mem_location(e);
            self.copy((Base::Scratch, region), src, 16);
            return;
        };
        let a = self.scalar(addr);
        self.store(Base::Scratch, region, 8, Operand::Reg(a));
        let pid = if *user {
            self.builtin(Builtin::Pid)
        } else {
            self.imm(0)
        };
        self.store(Base::Scratch, region + 8, 8, Operand::Reg(pid));
        if *user {
            self.announce_process(pid);
        }
    }

    /// Sends `pid` to user space the first time this program run sees it.
    fn announce_process(&mut self, pid: VReg) {
        let Some(seen) = self.g.seen_processes else {
            return;
        };
        let key = self.alloc(SEEN_KEY_SIZE);
        self.store(Base::Scratch, key, 8, Operand::Reg(pid));
        self.call(
            helper::GET_CURRENT_COMM,
            vec![CallArg::Scratch(key + 8), CallArg::Imm(16)],
        );
        let value = self.alloc(8);
        self.store(Base::Scratch, value, 8, Operand::Imm(0));
        let r = self.call(
            helper::MAP_UPDATE_ELEM,
            vec![
                CallArg::Map(seen.map),
                CallArg::Scratch(key),
                CallArg::Scratch(value),
                CallArg::Imm(BPF_NOEXIST),
            ],
        );
        let done = self.label();
        self.emit(crate::lir::Inst::Branch {
            cond: Cond::Ne,
            lhs: r,
            rhs: Operand::Imm(0),
            target: done,
        });
        let record = self.alloc(16);
        self.store(Base::Scratch, record, 8, Operand::Imm(seen.event as i64));
        self.store(Base::Scratch, record + 8, 8, Operand::Reg(pid));
        self.send_record(record, 16);
        self.place(done);
    }
}
