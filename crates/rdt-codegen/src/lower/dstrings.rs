//! DTrace's string functions, built in the scratch area from their input strings.
//!
//! An input is first copied (with `bpf_probe_read_kernel_str`) into a zero-padded region whose
//! size is a power of two, and measured. Scans over its bytes are real loops with a constant
//! trip count (the strings' sizes are known when compiling) whose bodies are free of branches:
//! conditions are 0/1 flags combined with arithmetic, so the verifier walks each iteration once,
//! with or without bpf_loop, and the program stays small for any `strsize`. Parts of a string
//! are copied out with `bpf_probe_read_kernel`, its length masked to the region's size so the
//! verifier can bound the write.

use super::{Lowerer, Region};
use crate::artifact::Counter;
use crate::insn::helper;
use crate::lir::{AluOp, Base, CallArg, Cond, Inst, Operand, VReg};
use rdt_sema::ir::{DStringOp, Expr, ExprKind};

/// Integer arguments are clamped to ±2^30 first, so no sum or difference below overflows and
/// a sign bit is a comparison's answer.
const ARG_LIMIT: i64 = 1 << 30;

/// A string copied to a zero-padded region of `cap` bytes (a power of two above `size`).
struct Canon {
    region: Region,
    cap: u32,
    /// Bytes the string may occupy (its type's size).
    size: u32,
    /// The bytes before its first NUL.
    len: VReg,
}

/// The needle of a search: literal bytes, or a string known when the program runs.
enum Needle {
    Literal(Vec<u8>),
    Value(Canon),
}

impl Lowerer<'_> {
    /// Writes the string a D string function makes into `size` bytes at `region`.
    pub(super) fn dstring_into(&mut self, e: &Expr, region: Region, size: u32) {
        let ExprKind::DString { op, args } = &e.kind else {
            return;
        };
        let n = e.ty.size().min(size);
        // The inputs' copies are dead once the result is written: the next value reuses them.
        let mark = self.scratch_top;
        match op {
            DStringOp::Strjoin => self.ds_strjoin(&args[0], &args[1], region, n),
            DStringOp::Basename | DStringOp::Dirname => {
                self.ds_path_part(*op == DStringOp::Dirname, &args[0], region, n)
            }
            DStringOp::Substr => self.ds_substr(args, region, n),
            DStringOp::Lltostr => self.ds_lltostr(&args[0], region, n),
            DStringOp::Strstr => self.ds_strstr(&args[0], &args[1], region, n),
            DStringOp::Toupper | DStringOp::Tolower => {
                self.ds_change_case(*op == DStringOp::Toupper, &args[0], region, n)
            }
            DStringOp::Psargs => self.ds_psargs(&args[0], &args[1], region, n),
            // Positions, not strings: lowered by `dstring_position`.
            DStringOp::Index | DStringOp::Rindex => self.zero(region, n),
        }
        self.scratch_top = mark;
        if size > n {
            self.zero(region + n as i32, size - n);
        }
    }

    /// `index(s, sub[, start])` / `rindex(s, sub[, start])`: a position, or -1.
    pub(super) fn dstring_position(&mut self, e: &Expr) -> VReg {
        let ExprKind::DString { op, args } = &e.kind else {
            return self.imm(-1);
        };
        let mark = self.scratch_top;
        let hay = self.ds_canon(&args[0], needle_width(&args[1]));
        let needle = self.ds_needle(&args[1]);
        let pos = args.get(2).map(|p| {
            let v = self.scalar(p);
            self.ds_clamp(v)
        });
        let position = match op {
            DStringOp::Rindex => self.ds_rindex(&hay, &needle, pos),
            _ => self.ds_index(&hay, &needle, pos),
        };
        self.scratch_top = mark;
        position
    }

    // ---- the functions ----

    fn ds_strjoin(&mut self, a: &Expr, b: &Expr, dst: Region, n: u32) {
        let a = self.ds_canon(a, 0);
        let b = self.ds_canon(b, 0);
        // a, then b read over a's NUL: its offset masked to a's region, its length to b's.
        let joined = self.alloc(a.cap + b.cap);
        self.copy((Base::Scratch, joined), (Base::Scratch, a.region), a.cap);
        self.zero(joined + a.cap as i32, b.cap);
        let at = self.alu(AluOp::And, a.len, Operand::Imm(i64::from(a.cap - 1)));
        let start = self.scratch_addr(joined);
        let to = self.alu(AluOp::Add, start, Operand::Reg(at));
        let from = self.ds_addr(&b);
        let count = self.alu(AluOp::And, b.len, Operand::Imm(i64::from(b.cap - 1)));
        self.call(
            helper::PROBE_READ_KERNEL,
            vec![CallArg::Reg(to), CallArg::Reg(count), CallArg::Reg(from)],
        );
        self.ds_copy_out(joined, a.cap + b.cap, dst, n);
    }

    /// `basename(s)` or `dirname(s)` as DTrace computes them: trailing slashes ignored, "."
    /// for an empty path (and for the dirname of a bare name), "/" for a path of slashes.
    fn ds_path_part(&mut self, dirname: bool, s: &Expr, dst: Region, n: u32) {
        let s = self.ds_canon(s, 0);
        // The last byte that is not a slash: the basename's end.
        let last_base = self.ds_last_where(&s, None, false);
        // The last slash before it: the basename starts after it.
        let slash = self.ds_last_where(&s, Some(last_base), true);
        // The last byte before that slash that is not one: the dirname's end.
        let last_dir = self.ds_last_where(&s, Some(slash), false);
        let all_slashes = self.ds_is_negative(last_base);
        let no_slash = self.ds_is_negative(slash);
        let empty = self.ds_is_zero(s.len);
        let one = self.imm(1);
        let zero = self.imm(0);
        let (start, count, dot) = if dirname {
            // "/name" and "//name" have no byte before the slash: the dirname is "/".
            let neg = self.ds_is_negative(last_dir);
            let end = self.alu(AluOp::Add, last_dir, Operand::Reg(neg));
            let through_end = self.alu(AluOp::Add, end, Operand::Imm(1));
            let count = self.ds_select(no_slash, zero, through_end);
            let count = self.ds_select(all_slashes, one, count);
            let bare_name = self.ds_and_not(no_slash, all_slashes);
            let dot = self.alu(AluOp::Or, bare_name, Operand::Reg(empty));
            (zero, count, dot)
        } else {
            let after_slash = self.alu(AluOp::Add, slash, Operand::Imm(1));
            let start = self.ds_select(all_slashes, zero, after_slash);
            let through_end = self.alu(AluOp::Sub, last_base, Operand::Reg(slash));
            let count = self.ds_select(all_slashes, one, through_end);
            (start, count, empty)
        };
        self.ds_slice(&s, start, count, dst, n);
        // An empty path (or a dirname without a slash) is ".": nothing was copied.
        let first = self.load(Base::Scratch, dst, 1);
        let dot = self.alu(AluOp::Mul, dot, Operand::Imm(i64::from(b'.')));
        let first = self.alu(AluOp::Or, first, Operand::Reg(dot));
        self.store(Base::Scratch, dst, 1, Operand::Reg(first));
    }

    /// `substr(s, index[, length])` with DTrace's rules for a negative index or length.
    fn ds_substr(&mut self, args: &[Expr], dst: Region, n: u32) {
        let s = self.ds_canon(&args[0], 0);
        let index = self.scalar(&args[1]);
        let mut index = self.ds_clamp(index);
        let mut rest = match args.get(2) {
            Some(l) => {
                let v = self.scalar(l);
                self.ds_clamp(v)
            }
            None => self.imm(i64::from(s.size)),
        };
        let zero = self.imm(0);
        // A negative index counts from the end; still before the start, it shortens the length.
        let negative = self.ds_is_negative(index);
        let shift = self.alu(AluOp::Mul, negative, Operand::Reg(s.len));
        index = self.alu(AluOp::Add, index, Operand::Reg(shift));
        let still_negative = self.ds_is_negative(index);
        let end = self.alu(AluOp::Add, index, Operand::Reg(rest));
        let reaches_in = self.ds_less(zero, end);
        let clip = self.alu(AluOp::And, negative, Operand::Reg(still_negative));
        let clip = self.alu(AluOp::And, clip, Operand::Reg(reaches_in));
        let cut = self.alu(AluOp::Mul, clip, Operand::Reg(index));
        rest = self.alu(AluOp::Add, rest, Operand::Reg(cut));
        index = self.alu(AluOp::Sub, index, Operand::Reg(cut));
        // Past either end: nothing. A negative length leaves that many bytes off the end.
        let before = self.ds_is_negative(index);
        let inside = self.ds_less(index, s.len);
        let not_inside = self.alu(AluOp::Xor, inside, Operand::Imm(1));
        let outside = self.alu(AluOp::Or, before, Operand::Reg(not_inside));
        let to_end = self.alu(AluOp::Sub, s.len, Operand::Reg(index));
        let short = self.alu(AluOp::Add, rest, Operand::Reg(to_end));
        let size = self.imm(i64::from(s.size));
        let room = self.alu(AluOp::Sub, size, Operand::Reg(index));
        let end = self.alu(AluOp::Add, index, Operand::Reg(rest));
        let too_long = self.ds_less(size, end);
        let capped = self.ds_select(too_long, room, rest);
        let rest_negative = self.ds_is_negative(rest);
        let count = self.ds_select(rest_negative, short, capped);
        let count = self.ds_select(outside, zero, count);
        let start = self.ds_select(outside, zero, index);
        self.ds_slice(&s, start, count, dst, n);
    }

    /// `lltostr(n)`: the decimal text of a signed 64-bit integer.
    fn ds_lltostr(&mut self, value: &Expr, dst: Region, n: u32) {
        const DIGITS: u32 = 20;
        let v = self.scalar(value);
        let negative = self.alu(AluOp::Rsh, v, Operand::Imm(63));
        // |v| as an unsigned number (-i64::MIN is 2^63): (v ^ -neg) + neg.
        let zero = self.imm(0);
        let all_ones = self.alu(AluOp::Sub, zero, Operand::Reg(negative));
        let flipped = self.alu(AluOp::Xor, v, Operand::Reg(all_ones));
        let mut rest = self.alu(AluOp::Add, flipped, Operand::Reg(negative));
        // The digits right-aligned in 20 bytes; count the ones a number needs (at least one).
        let text = self.alloc(32);
        self.zero(text, 32);
        let digits = self.imm(1);
        for k in 0..DIGITS {
            if k > 0 {
                let more = self.ds_is_nonzero(rest);
                self.emit(Inst::Alu {
                    op: AluOp::Add,
                    dst: digits,
                    lhs: digits,
                    rhs: Operand::Reg(more),
                });
            }
            let digit = self.alu(AluOp::Mod, rest, Operand::Imm(10));
            let ch = self.alu(AluOp::Add, digit, Operand::Imm(i64::from(b'0')));
            self.store(
                Base::Scratch,
                text + (DIGITS - 1 - k) as i32,
                1,
                Operand::Reg(ch),
            );
            rest = self.alu(AluOp::Div, rest, Operand::Imm(10));
        }
        // The sign, then the digits from 20 - digits on.
        let out = self.alloc(40);
        self.zero(out, 40);
        let sign = self.alu(AluOp::Mul, negative, Operand::Imm(i64::from(b'-')));
        self.store(Base::Scratch, out, 1, Operand::Reg(sign));
        let out_addr = self.scratch_addr(out);
        let to = self.alu(AluOp::Add, out_addr, Operand::Reg(negative));
        let text_addr = self.scratch_addr(text);
        let width = self.imm(i64::from(DIGITS));
        let skipped = self.alu(AluOp::Sub, width, Operand::Reg(digits));
        let skipped = self.alu(AluOp::And, skipped, Operand::Imm(31));
        let from = self.alu(AluOp::Add, text_addr, Operand::Reg(skipped));
        let count = self.alu(AluOp::And, digits, Operand::Imm(31));
        self.call(
            helper::PROBE_READ_KERNEL,
            vec![CallArg::Reg(to), CallArg::Reg(count), CallArg::Reg(from)],
        );
        self.ds_copy_out(out, 40, dst, n);
    }

    /// `strstr(s, sub)`: s from the first occurrence of sub; "" when there is none (DTrace
    /// returns NULL, which prints as nothing too).
    fn ds_strstr(&mut self, s: &Expr, sub: &Expr, dst: Region, n: u32) {
        let hay = self.ds_canon(s, needle_width(sub));
        let needle = self.ds_needle(sub);
        let found = self.ds_index(&hay, &needle, None);
        let missing = self.ds_is_negative(found);
        let zero = self.imm(0);
        let start = self.ds_select(missing, zero, found);
        let rest = self.alu(AluOp::Sub, hay.len, Operand::Reg(start));
        let count = self.ds_select(missing, zero, rest);
        self.ds_slice(&hay, start, count, dst, n);
    }

    fn ds_change_case(&mut self, upper: bool, s: &Expr, dst: Region, n: u32) {
        let s = self.ds_canon(s, 0);
        let (first, delta) = if upper { (b'a', -32) } else { (b'A', 32) };
        let out = self.alloc(s.cap);
        self.zero(out, s.cap);
        let from = self.ds_addr(&s);
        let to = self.scratch_addr(out);
        self.ds_loop(s.size, |me, i| {
            let at = me.alu(AluOp::Add, from, Operand::Reg(i));
            let c = me.load(Base::Reg(at), 0, 1);
            let x = me.alu(AluOp::Sub, c, Operand::Imm(i64::from(first)));
            let below = me.ds_is_negative(x);
            let x26 = me.alu(AluOp::Sub, x, Operand::Imm(26));
            let within = me.ds_is_negative(x26);
            let letter = me.ds_and_not(within, below);
            let shift = me.alu(AluOp::Mul, letter, Operand::Imm(delta));
            let c = me.alu(AluOp::Add, c, Operand::Reg(shift));
            let at = me.alu(AluOp::Add, to, Operand::Reg(i));
            me.store(Base::Reg(at), 0, 1, Operand::Reg(c));
        });
        self.ds_copy_out(out, s.cap, dst, n);
    }

    /// `curpsinfo->pr_psargs`: up to `n - 1` bytes of the user memory from `start` to `end`
    /// (the process's argument strings, each ending in a NUL), the NULs before the last byte
    /// read turned into spaces. A failed read gives "" (and is counted).
    fn ds_psargs(&mut self, start: &Expr, end: &Expr, dst: Region, n: u32) {
        let out = self.alloc(n);
        self.zero(out, n);
        let from = self.scalar(start);
        let to_end = self.scalar(end);
        let len = self.alu(AluOp::Sub, to_end, Operand::Reg(from));
        self.clamp_at_most(len, n - 1);
        let r = self.call(
            helper::PROBE_READ_USER,
            vec![CallArg::Scratch(out), CallArg::Reg(len), CallArg::Reg(from)],
        );
        self.count_unless(r, Cond::Sge, Counter::ReadFaults);
        let failed = self.ds_is_negative(r);
        let zero = self.imm(0);
        let len = self.ds_select(failed, zero, len);
        let last = self.alu(AluOp::Sub, len, Operand::Imm(1));
        let base = self.scratch_addr(out);
        self.ds_loop(n - 1, |me, i| {
            let at = me.alu(AluOp::Add, base, Operand::Reg(i));
            let c = me.load(Base::Reg(at), 0, 1);
            let nul = me.ds_is_zero(c);
            let between = me.ds_less(i, last);
            let fill = me.alu(AluOp::And, nul, Operand::Reg(between));
            let space = me.alu(AluOp::Mul, fill, Operand::Imm(i64::from(b' ')));
            let c = me.alu(AluOp::Add, c, Operand::Reg(space));
            me.store(Base::Reg(at), 0, 1, Operand::Reg(c));
        });
        self.ds_copy_out(out, n, dst, n);
    }

    // ---- searching ----

    /// DTrace's `index`: the first match at or after `pos` (negative counts as 0); with an
    /// empty needle and `pos` at or past the end, the length.
    fn ds_index(&mut self, hay: &Canon, needle: &Needle, pos: Option<VReg>) -> VReg {
        let zero = self.imm(0);
        let start = match pos {
            Some(p) => {
                let negative = self.ds_is_negative(p);
                self.ds_select(negative, zero, p)
            }
            None => zero,
        };
        let result = self.imm(-1);
        let base = self.ds_addr(hay);
        self.ds_loop(hay.size + 1, |me, p| {
            let hit = me.ds_match_at(base, needle, p);
            let early = me.ds_less(p, start);
            let inside = me.ds_less(p, hay.len);
            let first = me.ds_is_negative(result);
            let hit = me.ds_and_not(hit, early);
            let hit = me.alu(AluOp::And, hit, Operand::Reg(inside));
            let hit = me.alu(AluOp::And, hit, Operand::Reg(first));
            me.ds_assign_if(result, hit, p);
        });
        let empty = self.ds_needle_empty(needle);
        let in_string = self.ds_less(start, hay.len);
        let past = self.ds_and_not(empty, in_string);
        self.ds_assign_if(result, past, hay.len);
        result
    }

    /// DTrace's `rindex`: the last match at or before `pos` (past the end counts as the end);
    /// a negative `pos` finds nothing, except an empty needle, found at 0.
    fn ds_rindex(&mut self, hay: &Canon, needle: &Needle, pos: Option<VReg>) -> VReg {
        let end = match pos {
            Some(p) => {
                let before_end = self.ds_less(p, hay.len);
                self.ds_select(before_end, p, hay.len)
            }
            None => hay.len,
        };
        let result = self.imm(-1);
        let base = self.ds_addr(hay);
        self.ds_loop(hay.size + 1, |me, p| {
            let hit = me.ds_match_at(base, needle, p);
            let late = me.ds_less(end, p);
            let hit = me.ds_and_not(hit, late);
            me.ds_assign_if(result, hit, p);
        });
        if let Some(p) = pos {
            let empty = self.ds_needle_empty(needle);
            let negative = self.ds_is_negative(p);
            let at_zero = self.alu(AluOp::And, empty, Operand::Reg(negative));
            let zero = self.imm(0);
            self.ds_assign_if(result, at_zero, zero);
        }
        result
    }

    /// 1 when the needle occurs at position `p` of the haystack at `hay`. The haystack is zero
    /// after its end (for the needle's size past its region too), so a needle running past it
    /// differs there.
    fn ds_match_at(&mut self, hay: VReg, needle: &Needle, p: VReg) -> VReg {
        let differ = self.imm(0);
        let at = self.alu(AluOp::Add, hay, Operand::Reg(p));
        match needle {
            Needle::Literal(bytes) => {
                for (j, b) in bytes.iter().enumerate() {
                    let x = self.load(Base::Reg(at), j as i32, 1);
                    let d = self.alu(AluOp::Xor, x, Operand::Imm(i64::from(*b)));
                    self.ds_or_into(differ, d);
                }
            }
            Needle::Value(sub) => {
                let sub_base = self.ds_addr(sub);
                self.ds_loop(sub.size, |me, j| {
                    let y_at = me.alu(AluOp::Add, sub_base, Operand::Reg(j));
                    let y = me.load(Base::Reg(y_at), 0, 1);
                    let x_at = me.alu(AluOp::Add, at, Operand::Reg(j));
                    let x = me.load(Base::Reg(x_at), 0, 1);
                    let d = me.alu(AluOp::Xor, x, Operand::Reg(y));
                    // Bytes after the needle's end (zeros) match anything.
                    let counts = me.ds_byte_nonzero(y);
                    let d = me.alu(AluOp::Mul, d, Operand::Reg(counts));
                    me.ds_or_into(differ, d);
                });
            }
        }
        let differs = self.ds_is_nonzero(differ);
        self.alu(AluOp::Xor, differs, Operand::Imm(1))
    }

    fn ds_needle(&mut self, e: &Expr) -> Needle {
        match &e.kind {
            ExprKind::Str(bytes) => {
                let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
                let end = end.min(e.ty.size().saturating_sub(1) as usize);
                Needle::Literal(bytes[..end].to_vec())
            }
            _ => Needle::Value(self.ds_canon(e, 0)),
        }
    }

    fn ds_needle_empty(&mut self, needle: &Needle) -> VReg {
        match needle {
            Needle::Literal(bytes) => self.imm(i64::from(bytes.is_empty())),
            Needle::Value(sub) => self.ds_is_zero(sub.len),
        }
    }

    // ---- strings in scratch ----

    /// Copies the string `e` into a fresh zero-padded power-of-two region (with `slack` more
    /// zero bytes after it, for reads just past the end) and measures it.
    fn ds_canon(&mut self, e: &Expr, slack: u32) -> Canon {
        let size = e.ty.size().max(1);
        let cap = (size + 1).next_power_of_two().max(8);
        let region = self.alloc(cap + slack);
        self.zero(region, cap + slack);
        if let ExprKind::Str(bytes) = &e.kind {
            self.literal_into(bytes, region, size);
            let len = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
            let len = self.imm(len.min(size as usize - 1) as i64);
            return Canon {
                region,
                cap,
                size,
                len,
            };
        }
        let (base, offset) = self.mem_location(e);
        let from = self.address(base, offset);
        let copied = self.call(
            helper::PROBE_READ_KERNEL_STR,
            vec![
                CallArg::Scratch(region),
                CallArg::Imm(i64::from(size)),
                CallArg::Reg(from),
            ],
        );
        // The helper keeps the last byte for a NUL: a string filling all `size` bytes (a char
        // array without one) gets its last byte back.
        let last = self.load(base, offset + size as i32 - 1, 1);
        let short = self.alu(AluOp::Sub, copied, Operand::Imm(i64::from(size)));
        let full = self.ds_is_zero(short);
        let last = self.alu(AluOp::Mul, last, Operand::Reg(full));
        self.store(
            Base::Scratch,
            region + size as i32 - 1,
            1,
            Operand::Reg(last),
        );
        let extra = self.ds_byte_nonzero(last);
        let len = self.alu(AluOp::Sub, copied, Operand::Imm(1));
        let len = self.alu(AluOp::Add, len, Operand::Reg(extra));
        // A failed read (it cannot fail on scratch memory) leaves an empty string.
        let failed = self.ds_is_negative(len);
        let zero = self.imm(0);
        let len = self.ds_select(failed, zero, len);
        Canon {
            region,
            cap,
            size,
            len,
        }
    }

    /// The address of a canonical string, for reads at computed positions.
    fn ds_addr(&mut self, s: &Canon) -> VReg {
        self.scratch_addr(s.region)
    }

    /// Copies the first `n` bytes of the `have`-byte region `from` to `dst`, zeros past `have`.
    fn ds_copy_out(&mut self, from: Region, have: u32, dst: Region, n: u32) {
        let kept = n.min(have);
        self.copy((Base::Scratch, dst), (Base::Scratch, from), kept);
        if n > kept {
            self.zero(dst + kept as i32, n - kept);
        }
    }

    /// Writes `count` bytes of `s` from `start` (both already within the string; a negative
    /// count is none) to the `n` bytes at `dst`, zeros after them.
    fn ds_slice(&mut self, s: &Canon, start: VReg, count: VReg, dst: Region, n: u32) {
        let none = self.ds_is_negative(count);
        let zero = self.imm(0);
        let count = self.ds_select(none, zero, count);
        let out = self.alloc(s.cap);
        self.zero(out, s.cap);
        let base = self.ds_addr(s);
        let start = self.alu(AluOp::And, start, Operand::Imm(i64::from(s.cap - 1)));
        let from = self.alu(AluOp::Add, base, Operand::Reg(start));
        let count = self.alu(AluOp::And, count, Operand::Imm(i64::from(s.cap - 1)));
        self.call(
            helper::PROBE_READ_KERNEL,
            vec![
                CallArg::Scratch(out),
                CallArg::Reg(count),
                CallArg::Reg(from),
            ],
        );
        self.ds_copy_out(out, s.cap, dst, n);
    }

    /// The last position inside the string (and before `limit`, when given) whose byte is a
    /// slash (`slash`) or is not; -1 when there is none.
    fn ds_last_where(&mut self, s: &Canon, limit: Option<VReg>, slash: bool) -> VReg {
        let result = self.imm(-1);
        let base = self.ds_addr(s);
        self.ds_loop(s.size, |me, i| {
            let at = me.alu(AluOp::Add, base, Operand::Reg(i));
            let c = me.load(Base::Reg(at), 0, 1);
            let other = me.alu(AluOp::Xor, c, Operand::Imm(i64::from(b'/')));
            let not_slash = me.ds_byte_nonzero(other);
            let wanted = if slash {
                me.alu(AluOp::Xor, not_slash, Operand::Imm(1))
            } else {
                not_slash
            };
            let inside = me.ds_less(i, s.len);
            let mut hit = me.alu(AluOp::And, wanted, Operand::Reg(inside));
            if let Some(limit) = limit {
                let before = me.ds_less(i, limit);
                hit = me.alu(AluOp::And, hit, Operand::Reg(before));
            }
            me.ds_assign_if(result, hit, i);
        });
        result
    }

    /// `for i in 0..count { body(i) }` as a real loop: the counter stays in a register the
    /// verifier tracks exactly, and walks once per iteration.
    fn ds_loop(&mut self, count: u32, body: impl FnOnce(&mut Self, VReg)) {
        let i = self.imm(0);
        let (top, done) = (self.label(), self.label());
        self.place(top);
        self.emit(Inst::Branch {
            cond: Cond::Ge,
            lhs: i,
            rhs: Operand::Imm(i64::from(count)),
            target: done,
        });
        body(self, i);
        self.emit(Inst::Alu {
            op: AluOp::Add,
            dst: i,
            lhs: i,
            rhs: Operand::Imm(1),
        });
        self.emit(Inst::Jump { target: top });
        self.place(done);
    }

    // ---- branch-free arithmetic ----

    /// Clamps an integer argument to ±ARG_LIMIT.
    fn ds_clamp(&mut self, v: VReg) -> VReg {
        let high = self.imm(ARG_LIMIT);
        let low = self.imm(-ARG_LIMIT);
        let over = self.ds_less_wide(high, v);
        let v = self.ds_select(over, high, v);
        let under = self.ds_less_wide(v, low);
        self.ds_select(under, low, v)
    }

    /// 1 when a < b as signed 64-bit numbers, for any values (Hacker's Delight 2-12).
    fn ds_less_wide(&mut self, a: VReg, b: VReg) -> VReg {
        let diff = self.alu(AluOp::Sub, a, Operand::Reg(b));
        let signs = self.alu(AluOp::Xor, a, Operand::Reg(b));
        let flip = self.alu(AluOp::Xor, diff, Operand::Reg(a));
        let overflow = self.alu(AluOp::And, signs, Operand::Reg(flip));
        let sign = self.alu(AluOp::Xor, diff, Operand::Reg(overflow));
        self.alu(AluOp::Rsh, sign, Operand::Imm(63))
    }

    /// 1 when a < b, for values within ±2^62.
    fn ds_less(&mut self, a: VReg, b: VReg) -> VReg {
        let diff = self.alu(AluOp::Sub, a, Operand::Reg(b));
        self.ds_is_negative(diff)
    }

    fn ds_is_negative(&mut self, v: VReg) -> VReg {
        self.alu(AluOp::Rsh, v, Operand::Imm(63))
    }

    fn ds_is_nonzero(&mut self, v: VReg) -> VReg {
        let zero = self.imm(0);
        let minus = self.alu(AluOp::Sub, zero, Operand::Reg(v));
        let either = self.alu(AluOp::Or, v, Operand::Reg(minus));
        self.alu(AluOp::Rsh, either, Operand::Imm(63))
    }

    fn ds_is_zero(&mut self, v: VReg) -> VReg {
        let nonzero = self.ds_is_nonzero(v);
        self.alu(AluOp::Xor, nonzero, Operand::Imm(1))
    }

    /// 1 when the byte `x` (0..=255) is not zero.
    fn ds_byte_nonzero(&mut self, x: VReg) -> VReg {
        let sum = self.alu(AluOp::Add, x, Operand::Imm(255));
        self.alu(AluOp::Rsh, sum, Operand::Imm(8))
    }

    /// `a && !b` for flags.
    fn ds_and_not(&mut self, a: VReg, b: VReg) -> VReg {
        let not_b = self.alu(AluOp::Xor, b, Operand::Imm(1));
        self.alu(AluOp::And, a, Operand::Reg(not_b))
    }

    /// `flag ? a : b` for a 0/1 flag.
    fn ds_select(&mut self, flag: VReg, a: VReg, b: VReg) -> VReg {
        let diff = self.alu(AluOp::Sub, a, Operand::Reg(b));
        let picked = self.alu(AluOp::Mul, diff, Operand::Reg(flag));
        self.alu(AluOp::Add, b, Operand::Reg(picked))
    }

    /// `if flag { target = value }`, in place.
    fn ds_assign_if(&mut self, target: VReg, flag: VReg, value: VReg) {
        let diff = self.alu(AluOp::Sub, value, Operand::Reg(target));
        let picked = self.alu(AluOp::Mul, diff, Operand::Reg(flag));
        self.emit(Inst::Alu {
            op: AluOp::Add,
            dst: target,
            lhs: target,
            rhs: Operand::Reg(picked),
        });
    }

    fn ds_or_into(&mut self, acc: VReg, v: VReg) {
        self.emit(Inst::Alu {
            op: AluOp::Or,
            dst: acc,
            lhs: acc,
            rhs: Operand::Reg(v),
        });
    }
}

/// The most bytes a needle compares: its literal's length, or its type's size.
fn needle_width(e: &Expr) -> u32 {
    match &e.kind {
        ExprKind::Str(bytes) => bytes.len() as u32,
        _ => e.ty.size(),
    }
}
