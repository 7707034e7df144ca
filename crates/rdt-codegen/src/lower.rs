//! Typed IR → LIR for one probe.
//!
//! Scalars (integers, pointers) live in virtual registers. Strings and tuples live in the per-CPU
//! scratch area at offsets fixed at compile time; every string region is kept zero-padded after
//! its NUL, so strings compare and hash by their bytes.

use crate::artifact::{Counter, EventMeta};
use crate::insn::helper;
use crate::lir::{AluOp, Base, CallArg, Cond, Function, Inst, Label, MapIndex, Operand, VReg};
use rdt_btf::pt_regs;
use rdt_sema::ir::{self, Builtin, Expr, ExprKind, MapValue, ProgType, Stmt, StmtKind};
use rdt_sema::Type;
use rdt_syntax::ast::{BinOp, UnOp};
use rdt_syntax::Span;

mod aggregate;
mod array_index;
mod bpf_loop;
mod bswap;
mod callback;
mod data_loc;
mod dstrings;
mod func_ip;
mod funcs_extra;
mod kmem;
mod lang;
mod len;
mod map_loop;
pub mod stacks;
mod strings;

/// Facts about the whole object that lowering needs.
pub struct Globals<'a> {
    pub program: &'a ir::Program,
    /// Object map index of each script map.
    pub user_maps: &'a [MapIndex],
    pub ringbuf: MapIndex,
    pub counters: MapIndex,
    /// A zero-filled array entry, the initial value of new aggregation keys.
    pub zeroes: Option<MapIndex>,
    /// Per-CPU entry counters of the maps given to `len()` (slot = script map id).
    pub lens: Option<MapIndex>,
    /// Possible CPUs, for summing per-CPU aggregations in the kernel.
    pub ncpus: u32,
    /// CLOCK_MONOTONIC at start, for `elapsed`.
    pub start_ns: u64,
    /// Ring-buffer record layout of every event.
    pub events: &'a [EventMeta],
    /// Processes whose user addresses were captured, and the event announcing a new one.
    pub seen_processes: Option<stacks::SeenProcesses>,
    /// `-k`: the event that reports a failed read with its place in the script.
    pub fault_event: Option<usize>,
    /// Range `for` and `while` loops become callbacks (lower/bpf_loop.rs): the checker found
    /// the kernel has bpf_loop (`ir::Program::bpf_loop`).
    pub bpf_loop: bool,
}

pub struct Lowerer<'a> {
    g: &'a Globals<'a>,
    prog_type: ProgType,
    f: Function,
    span: Span,
    /// Bytes of scratch in use at this point of lowering.
    scratch_top: u32,
    /// The most scratch ever in use: what the program needs.
    scratch_peak: u32,
    /// The end of the program, where `exit()` jumps.
    exit: Label,
    vars: Vec<VarLoc>,
    /// Enclosing loops, innermost last (lower/lang.rs).
    loops: Vec<lang::LoopLabels>,
    /// Every variable lives in scratch memory (a `for` over a map's callback reads them).
    memory_vars: bool,
    /// Loop bodies compiled as callbacks (lower/callback.rs).
    callbacks: Vec<Function>,
}

#[derive(Clone, Copy)]
enum VarLoc {
    Reg(VReg),
    Mem(i32),
}

/// Where a non-scalar value was materialized.
type Region = i32;

fn align8(n: u32) -> u32 {
    n.div_ceil(8) * 8
}

impl<'a> Lowerer<'a> {
    pub fn new(g: &'a Globals<'a>, prog_type: ProgType) -> Self {
        Lowerer {
            g,
            prog_type,
            f: Function::default(),
            span: Span::default(),
            scratch_top: 0,
            scratch_peak: 0,
            exit: 0,
            vars: Vec::new(),
            loops: Vec::new(),
            memory_vars: false,
            callbacks: Vec::new(),
        }
    }

    /// Lowers one probe; returns the function, the scratch bytes it needs, and the callbacks it
    /// passes to bpf_for_each_map_elem (`CallArg::Callback` indexes them).
    pub fn lower_probe(mut self, probe: &ir::Probe) -> (Function, u32, Vec<Function>) {
        self.memory_vars = callback::needs_callbacks(&probe.body, self.g.bpf_loop);
        self.span = probe.span;
        let exit = self.label();
        self.exit = exit;
        // A guard that only reads the context runs before the scratch lookup: on raw_syscalls
        // it rejects most events, and those should cost as little as possible.
        let guard_first = probe.guard.as_ref().is_some_and(reads_only_context);
        if !guard_first {
            self.emit(Inst::InitScratch);
        }
        if let Some(guard) = &probe.guard {
            self.branch_if_false(guard, exit);
        }
        if guard_first {
            self.emit(Inst::InitScratch);
        }
        self.declare_vars(&probe.vars);
        if let Some(pred) = &probe.predicate {
            self.span = pred.span;
            self.branch_if_false(pred, exit);
        }
        self.stmts(&probe.body);
        self.place(exit);
        remove_unreachable(&mut self.f);
        let needed = align8(self.scratch_needed().max(8));
        (self.f, needed, self.callbacks)
    }

    // ---- building blocks ----

    fn emit(&mut self, inst: Inst) {
        self.f.insts.push((inst, self.span));
    }

    fn vreg(&mut self) -> VReg {
        self.f.vregs += 1;
        self.f.vregs - 1
    }

    fn label(&mut self) -> Label {
        self.f.labels += 1;
        self.f.labels - 1
    }

    fn place(&mut self, l: Label) {
        self.emit(Inst::Label(l));
    }

    /// Lowers `n` to `max` when it is above it (an unsigned compare: a negative length is huge
    /// and so is clamped too).
    fn clamp_at_most(&mut self, n: VReg, max: u32) {
        let fits = self.label();
        self.emit(Inst::Branch {
            cond: Cond::Le,
            lhs: n,
            rhs: Operand::Imm(i64::from(max)),
            target: fits,
        });
        self.emit(Inst::Mov {
            dst: n,
            src: Operand::Imm(i64::from(max)),
        });
        self.place(fits);
    }

    /// Jumps to `target` when `v` is 0: a map lookup that found nothing, a helper that failed.
    fn branch_if_zero(&mut self, v: VReg, target: Label) {
        self.emit(Inst::Branch {
            cond: Cond::Eq,
            lhs: v,
            rhs: Operand::Imm(0),
            target,
        });
    }

    fn alloc(&mut self, size: u32) -> Region {
        let at = align8(self.scratch_top);
        self.scratch_top = at + align8(size.max(1));
        self.scratch_peak = self.scratch_peak.max(self.scratch_top);
        at as Region
    }

    fn scratch_needed(&self) -> u32 {
        self.scratch_peak.max(self.scratch_top)
    }

    fn imm(&mut self, v: i64) -> VReg {
        let r = self.vreg();
        self.emit(Inst::Mov {
            dst: r,
            src: Operand::Imm(v),
        });
        r
    }

    fn alu(&mut self, op: AluOp, lhs: VReg, rhs: Operand) -> VReg {
        let dst = self.vreg();
        self.emit(Inst::Alu { op, dst, lhs, rhs });
        dst
    }

    /// The address of scratch region `offset`, in a register.
    fn scratch_addr(&mut self, offset: Region) -> VReg {
        let dst = self.vreg();
        self.emit(Inst::ScratchAddr { dst, offset });
        dst
    }

    /// The address `offset` bytes past `base`, in a register.
    fn address(&mut self, base: Base, offset: i32) -> VReg {
        match base {
            Base::Scratch => self.scratch_addr(offset),
            Base::Reg(r) => self.alu(AluOp::Add, r, Operand::Imm(i64::from(offset))),
        }
    }

    fn call(&mut self, helper: i32, args: Vec<CallArg>) -> VReg {
        let ret = self.vreg();
        self.emit(Inst::Call {
            helper,
            args,
            ret: Some(ret),
        });
        ret
    }

    fn store(&mut self, base: Base, offset: i32, size: u32, src: Operand) {
        self.emit(Inst::Store {
            base,
            offset: offset as i16,
            size,
            src,
        });
    }

    fn load(&mut self, base: Base, offset: i32, size: u32) -> VReg {
        let dst = self.vreg();
        self.emit(Inst::Load {
            dst,
            base,
            offset: offset as i16,
            size,
        });
        dst
    }

    fn zero(&mut self, region: Region, size: u32) {
        let mut at = 0;
        while at < size {
            let chunk = chunk_size(region + at as i32, size - at);
            self.store(Base::Scratch, region + at as i32, chunk, Operand::Imm(0));
            at += chunk;
        }
    }

    /// Copies `len` bytes between memory regions.
    fn copy(&mut self, dst: (Base, i32), src: (Base, i32), len: u32) {
        let mut at = 0;
        while at < len {
            let chunk = chunk_size(dst.1 + at as i32, len - at)
                .min(chunk_size(src.1 + at as i32, len - at));
            let v = self.load(src.0, src.1 + at as i32, chunk);
            self.store(dst.0, dst.1 + at as i32, chunk, Operand::Reg(v));
            at += chunk;
        }
    }

    /// Writes the value at `val` under the key at `key` into map `m`; a full map is counted.
    pub(super) fn update_or_count_full(&mut self, m: usize, key: Region, val: Region) {
        let r = self.call(
            helper::MAP_UPDATE_ELEM,
            vec![
                CallArg::Map(m),
                CallArg::Scratch(key),
                CallArg::Scratch(val),
                CallArg::Imm(0),
            ],
        );
        self.count_unless(r, Cond::Eq, Counter::MapFull);
    }

    fn bump_counter(&mut self, counter: Counter) {
        self.add_to_array_slot(self.g.counters, counter as i64, 1);
    }

    /// Adds `delta` to the u64 at `index` of the array map `map` (counters, `len()` counts).
    pub(super) fn add_to_array_slot(&mut self, map: usize, index: i64, delta: i64) {
        let key = self.alloc(4);
        self.store(Base::Scratch, key, 4, Operand::Imm(index));
        let slot = self.call(
            helper::MAP_LOOKUP_ELEM,
            vec![CallArg::Map(map), CallArg::Scratch(key)],
        );
        let done = self.label();
        self.branch_if_zero(slot, done);
        let v = self.load(Base::Reg(slot), 0, 8);
        let v = self.alu(AluOp::Add, v, Operand::Imm(delta));
        self.store(Base::Reg(slot), 0, 8, Operand::Reg(v));
        self.place(done);
    }

    /// Counts a failed helper call: bumps `counter` unless the helper's return `ret` compares
    /// `ok` against 0 (`Cond::Eq` for helpers returning 0 on success, `Cond::Sge` for those
    /// returning a length).
    pub(super) fn count_unless(&mut self, ret: VReg, ok: Cond, counter: Counter) {
        let fine = self.label();
        self.emit(Inst::Branch {
            cond: ok,
            lhs: ret,
            rhs: Operand::Imm(0),
            target: fine,
        });
        self.bump_counter(counter);
        if counter == Counter::ReadFaults {
            self.report_fault(ret);
        }
        self.place(fine);
    }

    /// `-k`: sends the failed read's error and span to user space, which warns at that place.
    fn report_fault(&mut self, err: VReg) {
        let Some(event) = self.g.fault_event else {
            return;
        };
        let size = 8 + crate::artifact::READ_FAULT_BODY;
        let rec = self.alloc(size);
        self.store(Base::Scratch, rec, 8, Operand::Imm(event as i64));
        self.store(Base::Scratch, rec + 8, 8, Operand::Reg(err));
        self.store(
            Base::Scratch,
            rec + 16,
            4,
            Operand::Imm(i64::from(self.span.start)),
        );
        self.store(
            Base::Scratch,
            rec + 20,
            4,
            Operand::Imm(i64::from(self.span.end)),
        );
        self.send_record(rec, size);
    }

    /// Copies the `size`-byte record at `rec` into the ring buffer; a full ring is counted.
    pub(super) fn send_record(&mut self, rec: Region, size: u32) {
        let r = self.call(
            helper::RINGBUF_OUTPUT,
            vec![
                CallArg::Map(self.g.ringbuf),
                CallArg::Scratch(rec),
                CallArg::Imm(i64::from(size)),
                CallArg::Imm(0),
            ],
        );
        self.count_unless(r, Cond::Eq, Counter::LostEvents);
    }

    fn declare_vars(&mut self, types: &[Type]) {
        for ty in types {
            let loc = if ty.is_scalar() && !self.memory_vars {
                VarLoc::Reg(self.imm(0))
            } else {
                let region = self.alloc(ty.size());
                self.zero(region, ty.size());
                VarLoc::Mem(region)
            };
            self.vars.push(loc);
        }
    }

    // ---- statements ----

    fn stmts(&mut self, stmts: &[Stmt]) {
        for s in stmts {
            self.span = s.span;
            // A statement's temporaries (keys, records, strings) are dead once it is done, so
            // the next statement reuses their scratch; variables were placed before the body.
            let mark = self.scratch_top;
            self.stmt(s);
            self.scratch_top = mark;
        }
    }

    fn stmt(&mut self, s: &Stmt) {
        match &s.kind {
            StmtKind::MapStore { map, key, value } => self.map_store(*map, key.as_ref(), value),
            StmtKind::MapAggregate { map, key, op } => self.map_aggregate(*map, key.as_ref(), op),
            StmtKind::MapDelete { map, key } => self.map_delete(*map, key.as_ref()),
            StmtKind::VarStore { var, value } => match self.vars[*var] {
                VarLoc::Reg(r) => {
                    let v = self.scalar(value);
                    self.emit(Inst::Mov {
                        dst: r,
                        src: Operand::Reg(v),
                    });
                }
                VarLoc::Mem(region) if value.ty.is_scalar() => {
                    let v = self.scalar(value);
                    self.store(Base::Scratch, region, 8, Operand::Reg(v));
                }
                VarLoc::Mem(region) => self.value_into(value, region, &value.ty.clone()),
            },
            StmtKind::Printf { event, args } => self.emit_record(*event, args),
            StmtKind::Exit { event, status } => {
                self.bump_counter(Counter::ExitRequested);
                self.emit_record(*event, std::slice::from_ref(status));
                self.emit(Inst::Jump { target: self.exit });
            }
            StmtKind::If { cond, then, els } => {
                let else_label = self.label();
                let end = self.label();
                self.branch_if_false(cond, else_label);
                self.stmts(then);
                self.emit(Inst::Jump { target: end });
                self.place(else_label);
                self.stmts(els);
                self.place(end);
            }
            StmtKind::Eval(e) => {
                if e.ty.is_scalar() {
                    self.scalar(e);
                } else if e.ty != Type::Void {
                    self.materialize(e);
                }
            }
            _ => self.lang_stmt(s),
        }
    }

    fn map_decl(&self, map: usize) -> &'a ir::MapDecl {
        &self.g.program.maps[map]
    }

    /// Builds the key of `map` in a fresh zeroed region (a u64 0 for maps without keys).
    fn map_key(&mut self, map: usize, key: Option<&Expr>) -> Region {
        let decl = self.map_decl(map);
        match (key, &decl.key) {
            (Some(k), Some(ty)) => {
                let region = self.alloc(ty.size());
                self.zero(region, ty.size());
                self.value_into(k, region, ty);
                region
            }
            _ => {
                let region = self.alloc(8);
                self.zero(region, 8);
                region
            }
        }
    }

    fn map_store(&mut self, map: usize, key: Option<&Expr>, value: &Expr) {
        let value_ty = match &self.map_decl(map).value {
            MapValue::Plain(t) => t.clone(),
            _ => Type::I64,
        };
        let val = self.alloc(value_ty.size());
        if value_ty.is_str() {
            self.zero(val, value_ty.size());
        }
        self.value_into(value, val, &value_ty);
        let key = self.map_key(map, key);
        let m = self.g.user_maps[map];
        let counted = self.insert_counting(map, key, val);
        self.update_or_count_full(m, key, val);
        if let Some(done) = counted {
            self.place(done);
        }
    }

    /// Writes `[u64 event id][args…]` to the ring buffer, counting a full buffer as lost.
    fn emit_record(&mut self, event: usize, args: &[Expr]) {
        let meta = &self.g.events[event];
        let size = meta.record_size();
        let rec = self.alloc(size);
        self.store(Base::Scratch, rec, 8, Operand::Imm(event as i64));
        for (arg, (offset, slot_ty)) in args.iter().zip(meta.arg_slots()) {
            self.value_into(arg, rec + 8 + *offset as i32, slot_ty);
        }
        self.send_record(rec, size);
    }

    // ---- values in memory ----

    /// Writes `e` at `region` laid out as `ty` (which may be wider than `e`'s own type).
    fn value_into(&mut self, e: &Expr, region: Region, ty: &Type) {
        match ty {
            Type::Str { size } => self.str_into(e, region, *size),
            Type::Kernel(_) => self.kernel_value_into(e, region, ty),
            Type::Tuple(fields) => {
                let ExprKind::Tuple(items) = &e.kind else {
                    let src = self.materialize(e);
                    self.copy((Base::Scratch, region), (Base::Scratch, src), ty.size());
                    return;
                };
                let offsets = Type::tuple_offsets(fields);
                for ((item, fty), off) in items.iter().zip(fields).zip(offsets) {
                    self.value_into(item, region + off as i32, fty);
                }
            }
            Type::Stack(stack) => self.stack_into(e, region, stack),
            Type::Symbol { .. } => self.symbol_into(e, region),
            Type::Text(kind) => self.text_into(e, region, *kind),
            _ => {
                let v = self.scalar(e);
                self.store(
                    Base::Scratch,
                    region,
                    ty.size().clamp(1, 8),
                    Operand::Reg(v),
                );
            }
        }
    }

    /// Writes a string into a zero-padded buffer of `size` bytes.
    fn str_into(&mut self, e: &Expr, region: Region, size: u32) {
        match &e.kind {
            ExprKind::Str(bytes) => self.literal_into(bytes, region, size),
            ExprKind::Builtin(Builtin::Comm) => {
                let n = size.min(16);
                self.call(
                    helper::GET_CURRENT_COMM,
                    vec![CallArg::Scratch(region), CallArg::Imm(i64::from(n))],
                );
                if size > n {
                    self.zero(region + n as i32, size - n);
                }
            }
            ExprKind::Deref { addr, user } => self.read_str_at(addr, *user, region, size),
            ExprKind::DString { .. } => self.dstring_into(e, region, size),
            ExprKind::ReadStr { ptr, len } => {
                let src_size = e.ty.size().min(size);
                self.zero(region, size);
                let p = self.scalar(ptr);
                let n = match len {
                    Some(l) => {
                        // Read at most len bytes plus the NUL, never more than the buffer.
                        let l = self.scalar(l);
                        let l = self.alu(AluOp::Add, l, Operand::Imm(1));
                        self.clamp_at_most(l, src_size);
                        let ok = self.label();
                        self.emit(Inst::Branch {
                            cond: Cond::Ge,
                            lhs: l,
                            rhs: Operand::Imm(1),
                            target: ok,
                        });
                        self.emit(Inst::Mov {
                            dst: l,
                            src: Operand::Imm(1),
                        });
                        self.place(ok);
                        CallArg::Reg(l)
                    }
                    None => CallArg::Imm(i64::from(src_size)),
                };
                let user = matches!(&ptr.ty, Type::Ptr { user: true, .. });
                // A pointer not known to be user space may still be one: a kernel function's
                // `const char *filename` is a user address on kernels whose BTF has no `user`
                // tags. The compat helper reads either (x86-64 splits the address space).
                let h = if user {
                    helper::PROBE_READ_USER_STR
                } else {
                    helper::PROBE_READ_STR
                };
                let r = self.call(h, vec![CallArg::Scratch(region), n, CallArg::Reg(p)]);
                self.count_unless(r, Cond::Sge, Counter::ReadFaults);
            }
            ExprKind::Ternary { cond, then, els } => {
                let else_label = self.label();
                let end = self.label();
                self.branch_if_false(cond, else_label);
                self.str_into(then, region, size);
                self.emit(Inst::Jump { target: end });
                self.place(else_label);
                self.str_into(els, region, size);
                self.place(end);
            }
            _ => {
                let src = self.mem_location(e);
                let n = e.ty.size().min(size);
                self.copy((Base::Scratch, region), src, n);
                if size > n {
                    self.zero(region + n as i32, size - n);
                }
            }
        }
    }

    fn literal_into(&mut self, bytes: &[u8], region: Region, size: u32) {
        let mut padded = bytes.to_vec();
        padded.truncate(size.saturating_sub(1) as usize);
        padded.resize(size as usize, 0);
        let mut at = 0usize;
        while at < padded.len() {
            let chunk = chunk_size(region + at as i32, (padded.len() - at) as u32).min(4) as usize;
            let mut word = [0u8; 8];
            word[..chunk].copy_from_slice(&padded[at..at + chunk]);
            let v = i64::from_le_bytes(word);
            // A 4-byte immediate store sign-extends nothing: the value is stored as-is.
            let imm = if chunk == 4 {
                i64::from(v as u32 as i32)
            } else {
                v
            };
            self.store(
                Base::Scratch,
                region + at as i32,
                chunk as u32,
                Operand::Imm(imm),
            );
            at += chunk;
        }
    }

    /// Where a non-scalar value's bytes are: in place when it already lives in memory.
    fn mem_location(&mut self, e: &Expr) -> (Base, i32) {
        match &e.kind {
            ExprKind::Var(v) => match self.vars[*v] {
                VarLoc::Mem(r) => (Base::Scratch, r),
                VarLoc::Reg(_) => (Base::Scratch, self.materialize(e)),
            },
            ExprKind::TupleField { .. } => self.tuple_field_location(e),
            ExprKind::ArrayElem { .. } | ExprKind::HeldField { .. } => self.array_elem_location(e),
            _ => (Base::Scratch, self.materialize(e)),
        }
    }

    /// Evaluates a non-scalar expression into a fresh region.
    fn materialize(&mut self, e: &Expr) -> Region {
        let size = e.ty.size();
        let region = self.alloc(size);
        match &e.kind {
            ExprKind::CtxField { offset } => self.copy_from_ctx(region, *offset, size),
            ExprKind::MapRead { map, key } => {
                self.zero(region, size);
                let slot = self.map_lookup(*map, key.as_deref());
                let done = self.label();
                self.branch_if_zero(slot, done);
                self.copy((Base::Scratch, region), (Base::Reg(slot), 0), size);
                self.place(done);
            }
            ExprKind::Var(v) => {
                if let VarLoc::Mem(src) = self.vars[*v] {
                    self.copy((Base::Scratch, region), (Base::Scratch, src), size);
                }
            }
            ExprKind::Deref { addr, user } if !e.ty.is_str() => {
                self.read_bytes_at(addr, *user, region, size)
            }
            _ => {
                if e.ty.is_str() {
                    self.str_into(e, region, size);
                } else {
                    self.value_into(e, region, &e.ty.clone());
                }
            }
        }
        region
    }

    fn copy_from_ctx(&mut self, region: Region, offset: u32, size: u32) {
        let mut at = 0;
        while at < size {
            let chunk = chunk_size((offset + at) as i32, size - at);
            let v = self.vreg();
            self.emit(Inst::LoadCtx {
                dst: v,
                offset: (offset + at) as i16,
                size: chunk,
            });
            self.store(Base::Scratch, region + at as i32, chunk, Operand::Reg(v));
            at += chunk;
        }
    }

    fn map_lookup(&mut self, map: usize, key: Option<&Expr>) -> VReg {
        let key = self.map_key(map, key);
        let m = self.g.user_maps[map];
        self.call(
            helper::MAP_LOOKUP_ELEM,
            vec![CallArg::Map(m), CallArg::Scratch(key)],
        )
    }

    // ---- scalars ----

    fn scalar(&mut self, e: &Expr) -> VReg {
        let span = self.span;
        self.span = e.span;
        let v = self.scalar_inner(e);
        self.span = span;
        v
    }

    fn scalar_inner(&mut self, e: &Expr) -> VReg {
        match &e.kind {
            ExprKind::Int(v) => self.imm(*v),
            ExprKind::Builtin(b) => self.builtin(*b),
            ExprKind::CtxField { offset } => {
                let size = e.ty.size().clamp(1, 8);
                let v = self.vreg();
                self.emit(Inst::LoadCtx {
                    dst: v,
                    offset: *offset as i16,
                    size,
                });
                self.extend(v, &e.ty)
            }
            ExprKind::CtxDataLoc { offset, rel } => self.data_loc_addr(*offset, *rel),
            ExprKind::Bswap(x) => self.bswap(x, e.ty.size()),
            ExprKind::DString { .. } => self.dstring_position(e),
            ExprKind::SyscallRegs { offset } => {
                let regs = self.vreg();
                self.emit(Inst::LoadCtx {
                    dst: regs,
                    offset: 0,
                    size: 8,
                });
                let addr = self.alu(AluOp::Add, regs, Operand::Imm(i64::from(*offset)));
                let tmp = self.alloc(8);
                self.call(
                    helper::PROBE_READ_KERNEL,
                    vec![CallArg::Scratch(tmp), CallArg::Imm(8), CallArg::Reg(addr)],
                );
                let v = self.load(Base::Scratch, tmp, 8);
                self.extend(v, &e.ty)
            }
            ExprKind::Arg { index } => {
                let v = self.vreg();
                let offset = match self.prog_type {
                    ProgType::Kprobe => pt_regs::ARGUMENTS[(*index as usize).min(5)] as i16,
                    _ => i16::from(*index) * 8,
                };
                self.emit(Inst::LoadCtx {
                    dst: v,
                    offset,
                    size: 8,
                });
                self.extend(v, &e.ty)
            }
            ExprKind::Retval => {
                let v = self.vreg();
                self.emit(Inst::LoadCtx {
                    dst: v,
                    offset: pt_regs::RETURN_VALUE as i16,
                    size: 8,
                });
                v
            }
            ExprKind::MapRead { map, key } => self.map_read_scalar(*map, key.as_deref()),
            ExprKind::Strftime { ns, .. } => self.scalar(ns),
            ExprKind::MapLen { map } => self.map_len(*map),
            ExprKind::HasKey { map, key } => {
                let slot = self.map_lookup(*map, key.as_deref());
                self.compare(Cond::Ne, slot, Operand::Imm(0))
            }
            ExprKind::Var(v) => match self.vars[*v] {
                VarLoc::Reg(r) => r,
                VarLoc::Mem(region) => self.load(Base::Scratch, region, 8),
            },
            ExprKind::Unary { op, operand } => self.unary(*op, operand),
            ExprKind::Binary { op, lhs, rhs } => self.binary(*op, lhs, rhs, &e.ty),
            ExprKind::StrEq { lhs, rhs, negate } => self.str_eq(lhs, rhs, *negate),
            ExprKind::Ternary { cond, then, els } => {
                let result = self.vreg();
                let else_label = self.label();
                let end = self.label();
                self.branch_if_false(cond, else_label);
                let t = self.scalar(then);
                self.emit(Inst::Mov {
                    dst: result,
                    src: Operand::Reg(t),
                });
                self.emit(Inst::Jump { target: end });
                self.place(else_label);
                let f = self.scalar(els);
                self.emit(Inst::Mov {
                    dst: result,
                    src: Operand::Reg(f),
                });
                self.place(end);
                result
            }
            ExprKind::Cast(inner) => {
                let v = self.scalar(inner);
                self.extend(v, &e.ty)
            }
            ExprKind::Deref { addr, user } => self.read_scalar_at(addr, *user, &e.ty),
            ExprKind::ArrayElem { .. } | ExprKind::HeldField { .. } => self.array_elem_scalar(e),
            // Non-scalar kinds never reach here: sema types them as strings or tuples.
            ExprKind::Str(_)
            | ExprKind::Tuple(_)
            | ExprKind::ReadStr { .. }
            | ExprKind::Stack
            | ExprKind::Symbol { .. } => self.imm(0),
            _ => self.lang_scalar(e),
        }
    }

    /// Truncates or sign-extends a register to the width of `ty`.
    fn extend(&mut self, v: VReg, ty: &Type) -> VReg {
        let Type::Int { bits, signed } = ty else {
            return v;
        };
        if *bits >= 64 {
            return v;
        }
        let shift = i64::from(64 - bits);
        if *signed {
            let v = self.alu(AluOp::Lsh, v, Operand::Imm(shift));
            self.alu(AluOp::Arsh, v, Operand::Imm(shift))
        } else {
            self.alu(AluOp::And, v, Operand::Imm((1i64 << bits) - 1))
        }
    }

    fn builtin(&mut self, b: Builtin) -> VReg {
        match b {
            Builtin::Pid | Builtin::Tid => {
                let v = self.call(helper::GET_CURRENT_PID_TGID, vec![]);
                if b == Builtin::Pid {
                    self.alu(AluOp::Rsh, v, Operand::Imm(32))
                } else {
                    self.alu(AluOp::And, v, Operand::Imm(0xffff_ffff))
                }
            }
            Builtin::Uid | Builtin::Gid => {
                let v = self.call(helper::GET_CURRENT_UID_GID, vec![]);
                if b == Builtin::Gid {
                    self.alu(AluOp::Rsh, v, Operand::Imm(32))
                } else {
                    self.alu(AluOp::And, v, Operand::Imm(0xffff_ffff))
                }
            }
            Builtin::Nsecs => self.call(helper::KTIME_GET_NS, vec![]),
            Builtin::Elapsed => {
                let now = self.call(helper::KTIME_GET_NS, vec![]);
                let start = self.imm(self.g.start_ns as i64);
                self.alu_reg(AluOp::Sub, now, start)
            }
            Builtin::Cpu => self.call(helper::GET_SMP_PROCESSOR_ID, vec![]),
            Builtin::NumaId => self.call(helper::GET_NUMA_NODE_ID, vec![]),
            Builtin::Rand => self.call(helper::GET_PRANDOM_U32, vec![]),
            Builtin::Jiffies => self.call(helper::JIFFIES64, vec![]),
            Builtin::Cgroup => self.call(helper::GET_CURRENT_CGROUP_ID, vec![]),
            Builtin::Curtask => self.call(helper::GET_CURRENT_TASK, vec![]),
            Builtin::FuncIp => self.func_ip(),
            // A string; only reachable through a wrongly typed IR.
            Builtin::Comm => self.imm(0),
        }
    }

    fn alu_reg(&mut self, op: AluOp, lhs: VReg, rhs: VReg) -> VReg {
        self.alu(op, lhs, Operand::Reg(rhs))
    }

    fn map_read_scalar(&mut self, map: usize, key: Option<&Expr>) -> VReg {
        match self.map_decl(map).value {
            MapValue::Plain(_) => {}
            MapValue::Min | MapValue::Max | MapValue::Avg => {
                return self.read_aggregate(map, key);
            }
            _ => return self.sum_per_cpu(map, key),
        }
        let result = self.imm(0);
        let slot = self.map_lookup(map, key);
        let done = self.label();
        self.branch_if_zero(slot, done);
        let v = self.load(Base::Reg(slot), 0, 8);
        self.emit(Inst::Mov {
            dst: result,
            src: Operand::Reg(v),
        });
        self.place(done);
        result
    }

    /// Reads an aggregation in the kernel: the sum of every CPU's slot.
    fn sum_per_cpu(&mut self, map: usize, key: Option<&Expr>) -> VReg {
        let key = self.map_key(map, key);
        let m = self.g.user_maps[map];
        self.sum_slots(m, key)
    }

    fn unary(&mut self, op: UnOp, operand: &Expr) -> VReg {
        let v = self.scalar(operand);
        match op {
            UnOp::Neg => {
                let dst = self.vreg();
                self.emit(Inst::Neg { dst, src: v });
                dst
            }
            UnOp::BitNot => self.alu(AluOp::Xor, v, Operand::Imm(-1)),
            UnOp::Not => self.compare(Cond::Eq, v, Operand::Imm(0)),
            // Sema rejects dereference and address-of for now.
            UnOp::Deref | UnOp::AddrOf => v,
        }
    }

    /// `1` when `lhs cond rhs`, else `0`.
    fn compare(&mut self, cond: Cond, lhs: VReg, rhs: Operand) -> VReg {
        let result = self.imm(1);
        let done = self.label();
        self.emit(Inst::Branch {
            cond,
            lhs,
            rhs,
            target: done,
        });
        self.emit(Inst::Mov {
            dst: result,
            src: Operand::Imm(0),
        });
        self.place(done);
        result
    }

    fn binary(&mut self, op: BinOp, lhs: &Expr, rhs: &Expr, ty: &Type) -> VReg {
        if matches!(op, BinOp::LogAnd | BinOp::LogOr) {
            let result = self.imm(0);
            let done = self.label();
            let l = self.scalar(lhs);
            let short = if op == BinOp::LogAnd {
                Cond::Eq
            } else {
                Cond::Ne
            };
            if op == BinOp::LogOr {
                self.emit(Inst::Mov {
                    dst: result,
                    src: Operand::Imm(1),
                });
            }
            self.emit(Inst::Branch {
                cond: short,
                lhs: l,
                rhs: Operand::Imm(0),
                target: done,
            });
            let r = self.scalar(rhs);
            let b = self.compare(Cond::Ne, r, Operand::Imm(0));
            self.emit(Inst::Mov {
                dst: result,
                src: Operand::Reg(b),
            });
            self.place(done);
            return result;
        }
        let l = self.scalar(lhs);
        let r = self.operand(rhs);
        let signed = is_signed(&lhs.ty) && is_signed(&rhs.ty);
        if let Some(cond) = comparison(op, signed) {
            return self.compare(cond, l, r);
        }
        let alu = match op {
            BinOp::Add => AluOp::Add,
            BinOp::Sub => AluOp::Sub,
            BinOp::Mul => AluOp::Mul,
            BinOp::Div => AluOp::Div,
            BinOp::Mod => AluOp::Mod,
            BinOp::BitAnd => AluOp::And,
            BinOp::BitOr => AluOp::Or,
            BinOp::BitXor => AluOp::Xor,
            BinOp::Shl => AluOp::Lsh,
            BinOp::Shr if matches!(ty, Type::Int { signed: true, .. }) => AluOp::Arsh,
            _ => AluOp::Rsh,
        };
        self.alu(alu, l, r)
    }

    /// Small constants go into the instruction as immediates.
    fn operand(&mut self, e: &Expr) -> Operand {
        match e.kind {
            ExprKind::Int(v) if i32::try_from(v).is_ok() => Operand::Imm(v),
            _ => Operand::Reg(self.scalar(e)),
        }
    }

    fn str_eq(&mut self, lhs: &Expr, rhs: &Expr, negate: bool) -> VReg {
        let (equal, not_equal) = if negate { (0, 1) } else { (1, 0) };
        let result = self.imm(not_equal);
        let differ = self.label();
        match (&lhs.kind, &rhs.kind) {
            (ExprKind::Str(lit), _) | (_, ExprKind::Str(lit)) => {
                let other = if matches!(lhs.kind, ExprKind::Str(_)) {
                    rhs
                } else {
                    lhs
                };
                let (base, at) = self.mem_location(other);
                let mut expected = lit.clone();
                expected.push(0);
                expected.truncate(other.ty.size() as usize);
                self.compare_bytes(base, at, &expected, differ);
            }
            _ => {
                let a = self.mem_location(lhs);
                let b = self.mem_location(rhs);
                let n = lhs.ty.size().min(rhs.ty.size()) as i32;
                let differs = self.strings_differ(a, b, n);
                self.emit(Inst::Branch {
                    cond: Cond::Ne,
                    lhs: differs,
                    rhs: Operand::Imm(0),
                    target: differ,
                });
            }
        }
        self.emit(Inst::Mov {
            dst: result,
            src: Operand::Imm(equal),
        });
        self.place(differ);
        result
    }

    /// Jumps to `differ` unless memory at `at` holds exactly `expected`.
    fn compare_bytes(&mut self, base: Base, at: i32, expected: &[u8], differ: Label) {
        let mut i = 0usize;
        while i < expected.len() {
            let chunk = chunk_size(at + i as i32, (expected.len() - i) as u32) as usize;
            let mut word = [0u8; 8];
            word[..chunk].copy_from_slice(&expected[i..i + chunk]);
            let v = self.load(base, at + i as i32, chunk as u32);
            let want = i64::from_le_bytes(word);
            self.emit(Inst::Branch {
                cond: Cond::Ne,
                lhs: v,
                rhs: Operand::Imm(want),
                target: differ,
            });
            i += chunk;
        }
    }

    /// Evaluates a condition and jumps to `target` when it is false (zero).
    fn branch_if_false(&mut self, cond: &Expr, target: Label) {
        let span = self.span;
        self.span = cond.span;
        let v = self.scalar(cond);
        self.emit(Inst::Branch {
            cond: Cond::Eq,
            lhs: v,
            rhs: Operand::Imm(0),
            target,
        });
        self.span = span;
    }
}

/// Whether evaluating `e` touches nothing but the context and constants (no scratch memory).
fn reads_only_context(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Int(_) | ExprKind::Arg { .. } | ExprKind::CtxField { .. } => e.ty.is_scalar(),
        ExprKind::Binary { lhs, rhs, .. } => reads_only_context(lhs) && reads_only_context(rhs),
        _ => false,
    }
}

/// Drops instructions that no path reaches (code after `exit()`): the verifier rejects them.
fn remove_unreachable(f: &mut Function) {
    loop {
        let targets: std::collections::HashSet<Label> = f
            .insts
            .iter()
            .filter_map(|(i, _)| match i {
                Inst::Jump { target } | Inst::Branch { target, .. } => Some(*target),
                _ => None,
            })
            .collect();
        let before = f.insts.len();
        let mut reachable = true;
        f.insts.retain(|(inst, _)| {
            if let Inst::Label(l) = inst {
                if targets.contains(l) {
                    reachable = true;
                }
            }
            let keep = reachable;
            if matches!(inst, Inst::Jump { .. } | Inst::Return { .. }) {
                reachable = false;
            }
            keep
        });
        if f.insts.len() == before {
            return;
        }
    }
}

fn is_signed(ty: &Type) -> bool {
    matches!(ty, Type::Int { signed: true, .. })
}

fn comparison(op: BinOp, signed: bool) -> Option<Cond> {
    Some(match (op, signed) {
        (BinOp::Eq, _) => Cond::Eq,
        (BinOp::Ne, _) => Cond::Ne,
        (BinOp::Lt, false) => Cond::Lt,
        (BinOp::Le, false) => Cond::Le,
        (BinOp::Gt, false) => Cond::Gt,
        (BinOp::Ge, false) => Cond::Ge,
        (BinOp::Lt, true) => Cond::Slt,
        (BinOp::Le, true) => Cond::Sle,
        (BinOp::Gt, true) => Cond::Sgt,
        (BinOp::Ge, true) => Cond::Sge,
        _ => return None,
    })
}

/// The largest access (8, 4, 2, 1 bytes) that is aligned at `offset` and fits in `remaining`.
fn chunk_size(offset: i32, remaining: u32) -> u32 {
    [8u32, 4, 2, 1]
        .into_iter()
        .find(|&c| c <= remaining && offset.rem_euclid(c as i32) == 0)
        .unwrap_or(1)
}

/// How a value is laid out in a ring-buffer record: integers widened to 64 bits.
pub fn record_type(ty: &Type) -> Type {
    match ty {
        Type::Int { signed, .. } => Type::Int {
            bits: 64,
            signed: *signed,
        },
        Type::Ptr { .. } => Type::U64,
        other => other.clone(),
    }
}
