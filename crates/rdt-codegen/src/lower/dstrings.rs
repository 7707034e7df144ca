//! DTrace's string functions, built in the scratch area from their input strings.
//!
//! Every scan is unrolled over the strings' sizes (known when compiling) and free of branches:
//! conditions are 0/1 flags combined with arithmetic, so the verifier walks the code once,
//! straight through, with or without bpf_loop, however many calls a clause makes. An input is
//! first copied into a zero-padded region whose size is a power of two (its bytes after the
//! first NUL cleared); a byte at a computed position is then read at `position & (size - 1)`,
//! which the verifier can bound, and kept only when it lies inside the wanted range.

use super::{Lowerer, Region};
use crate::lir::{AluOp, Base, Inst, Operand, VReg};
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
            // Positions, not strings: lowered by `dstring_position`.
            DStringOp::Index | DStringOp::Rindex => self.zero(region, n),
        }
        if size > n {
            self.zero(region + n as i32, size - n);
        }
    }

    /// `index(s, sub[, start])` / `rindex(s, sub[, start])`: a position, or -1.
    pub(super) fn dstring_position(&mut self, e: &Expr) -> VReg {
        let ExprKind::DString { op, args } = &e.kind else {
            return self.imm(-1);
        };
        let hay = self.ds_canon(&args[0]);
        let needle = self.ds_needle(&args[1]);
        let pos = args.get(2).map(|p| {
            let v = self.scalar(p);
            self.ds_clamp(v)
        });
        match op {
            DStringOp::Rindex => self.ds_rindex(&hay, &needle, pos),
            _ => self.ds_index(&hay, &needle, pos),
        }
    }

    // ---- the functions ----

    fn ds_strjoin(&mut self, a: &Expr, b: &Expr, dst: Region, n: u32) {
        let a = self.ds_canon(a);
        let b = self.ds_canon(b);
        let b_base = self.ds_addr(&b);
        for i in 0..n {
            let from_a = if i < a.cap {
                self.load(Base::Scratch, a.region + i as i32, 1)
            } else {
                self.imm(0)
            };
            // Position i of the result is byte i - len(a) of b.
            let at = self.imm(i64::from(i));
            let j = self.alu(AluOp::Sub, at, Operand::Reg(a.len));
            let before_b = self.ds_is_negative(j);
            let after_b = self.ds_less(j, b.len);
            let in_b = self.ds_and_not(after_b, before_b);
            let from_b = self.ds_byte_at(b_base, j, b.cap);
            let from_b = self.alu(AluOp::Mul, from_b, Operand::Reg(in_b));
            let byte = self.alu(AluOp::Or, from_a, Operand::Reg(from_b));
            self.store(Base::Scratch, dst + i as i32, 1, Operand::Reg(byte));
        }
    }

    /// `basename(s)` or `dirname(s)` as DTrace computes them: trailing slashes ignored, "."
    /// for an empty path (and for the dirname of a bare name), "/" for a path of slashes.
    fn ds_path_part(&mut self, dirname: bool, s: &Expr, dst: Region, n: u32) {
        let s = self.ds_canon(s);
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
        let s = self.ds_canon(&args[0]);
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
        // Byte i of the result is the sign, or digit i - neg of the number's.
        let base = self.vreg();
        self.emit(Inst::ScratchAddr {
            dst: base,
            offset: text,
        });
        // Digit j sits at 20 - digits + j; byte i holds digit i - negative.
        let width = self.imm(i64::from(DIGITS));
        let first_digit = self.alu(AluOp::Sub, width, Operand::Reg(digits));
        let first_digit = self.alu(AluOp::Sub, first_digit, Operand::Reg(negative));
        for i in 0..n {
            let j = self.alu(AluOp::Sub, zero, Operand::Reg(negative));
            let j = self.alu(AluOp::Add, j, Operand::Imm(i64::from(i)));
            let before = self.ds_is_negative(j);
            let within = self.ds_less(j, digits);
            let keep = self.ds_and_not(within, before);
            let at = self.alu(AluOp::Add, first_digit, Operand::Imm(i64::from(i)));
            let byte = self.ds_byte_at(base, at, 32);
            let mut byte = self.alu(AluOp::Mul, byte, Operand::Reg(keep));
            if i == 0 {
                let sign = self.alu(AluOp::Mul, negative, Operand::Imm(i64::from(b'-')));
                byte = self.alu(AluOp::Or, byte, Operand::Reg(sign));
            }
            self.store(Base::Scratch, dst + i as i32, 1, Operand::Reg(byte));
        }
    }

    /// `strstr(s, sub)`: s from the first occurrence of sub; "" when there is none (DTrace
    /// returns NULL, which prints as nothing too).
    fn ds_strstr(&mut self, s: &Expr, sub: &Expr, dst: Region, n: u32) {
        let hay = self.ds_canon(s);
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
        let s = self.ds_canon(s);
        let (first, delta) = if upper {
            (b'a', -32)
        } else {
            (b'A', 32)
        };
        for i in 0..n.min(s.cap) {
            let c = self.load(Base::Scratch, s.region + i as i32, 1);
            let x = self.alu(AluOp::Sub, c, Operand::Imm(i64::from(first)));
            let below = self.ds_is_negative(x);
            let x26 = self.alu(AluOp::Sub, x, Operand::Imm(26));
            let within = self.ds_is_negative(x26);
            let letter = self.ds_and_not(within, below);
            let shift = self.alu(AluOp::Mul, letter, Operand::Imm(delta));
            let c = self.alu(AluOp::Add, c, Operand::Reg(shift));
            self.store(Base::Scratch, dst + i as i32, 1, Operand::Reg(c));
        }
        if n > s.cap {
            self.zero(dst + s.cap as i32, n - s.cap);
        }
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
        // From the end to the start: the last kept position is the first match.
        for p in (0..=hay.size).rev() {
            let hit = self.ds_match_at(hay, needle, p);
            let at = self.imm(i64::from(p));
            let early = self.ds_less(at, start);
            let inside = self.ds_less(at, hay.len);
            let hit = self.ds_and_not(hit, early);
            let hit = self.alu(AluOp::And, hit, Operand::Reg(inside));
            self.ds_assign_if(result, hit, at);
        }
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
        for p in 0..=hay.size {
            let hit = self.ds_match_at(hay, needle, p);
            let at = self.imm(i64::from(p));
            let late = self.ds_less(end, at);
            let hit = self.ds_and_not(hit, late);
            self.ds_assign_if(result, hit, at);
        }
        if let Some(p) = pos {
            let empty = self.ds_needle_empty(needle);
            let negative = self.ds_is_negative(p);
            let at_zero = self.alu(AluOp::And, empty, Operand::Reg(negative));
            let zero = self.imm(0);
            self.ds_assign_if(result, at_zero, zero);
        }
        result
    }

    /// 1 when the needle occurs at position `p` of the haystack. The haystack is zero after its
    /// end, so a needle running past it differs there.
    fn ds_match_at(&mut self, hay: &Canon, needle: &Needle, p: u32) -> VReg {
        let differ = self.imm(0);
        match needle {
            Needle::Literal(bytes) => {
                if p as usize + bytes.len() > hay.cap as usize {
                    return self.imm(0);
                }
                for (j, b) in bytes.iter().enumerate() {
                    let x = self.load(Base::Scratch, hay.region + (p as usize + j) as i32, 1);
                    let d = self.alu(AluOp::Xor, x, Operand::Imm(i64::from(*b)));
                    self.ds_or_into(differ, d);
                }
            }
            Needle::Value(sub) => {
                for j in 0..sub.size {
                    let y = self.load(Base::Scratch, sub.region + j as i32, 1);
                    let d = if p + j < hay.cap {
                        let x = self.load(Base::Scratch, hay.region + (p + j) as i32, 1);
                        self.alu(AluOp::Xor, x, Operand::Reg(y))
                    } else {
                        y
                    };
                    // Bytes after the needle's end (zeros) match anything.
                    let counts = self.ds_byte_nonzero(y);
                    let d = self.alu(AluOp::Mul, d, Operand::Reg(counts));
                    self.ds_or_into(differ, d);
                }
            }
        }
        let differs = self.ds_byte_nonzero(differ);
        self.alu(AluOp::Xor, differs, Operand::Imm(1))
    }

    fn ds_needle(&mut self, e: &Expr) -> Needle {
        match &e.kind {
            ExprKind::Str(bytes) => {
                let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
                let end = end.min(e.ty.size().saturating_sub(1) as usize);
                Needle::Literal(bytes[..end].to_vec())
            }
            _ => Needle::Value(self.ds_canon(e)),
        }
    }

    fn ds_needle_empty(&mut self, needle: &Needle) -> VReg {
        match needle {
            Needle::Literal(bytes) => self.imm(i64::from(bytes.is_empty())),
            Needle::Value(sub) => self.ds_is_zero(sub.len),
        }
    }

    // ---- strings in scratch ----

    /// Copies the string `e` into a fresh zero-padded power-of-two region and measures it.
    fn ds_canon(&mut self, e: &Expr) -> Canon {
        let size = e.ty.size().max(1);
        let cap = (size + 1).next_power_of_two().max(8);
        if let ExprKind::Str(bytes) = &e.kind {
            let region = self.alloc(cap);
            self.zero(region, cap);
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
        let src = self.mem_location(e);
        let region = self.alloc(cap);
        let len = self.imm(0);
        let live = self.imm(1);
        for i in 0..size {
            let x = self.load(src.0, src.1 + i as i32, 1);
            let more = self.ds_byte_nonzero(x);
            self.emit(Inst::Alu {
                op: AluOp::And,
                dst: live,
                lhs: live,
                rhs: Operand::Reg(more),
            });
            self.emit(Inst::Alu {
                op: AluOp::Add,
                dst: len,
                lhs: len,
                rhs: Operand::Reg(live),
            });
            let kept = self.alu(AluOp::Mul, x, Operand::Reg(live));
            self.store(Base::Scratch, region + i as i32, 1, Operand::Reg(kept));
        }
        self.zero(region + size as i32, cap - size);
        Canon {
            region,
            cap,
            size,
            len,
        }
    }

    /// The address of a canonical string, for reads at computed positions.
    fn ds_addr(&mut self, s: &Canon) -> VReg {
        let base = self.vreg();
        self.emit(Inst::ScratchAddr {
            dst: base,
            offset: s.region,
        });
        base
    }

    /// The byte at `base + (at & (cap - 1))`: a read the verifier can bound.
    fn ds_byte_at(&mut self, base: VReg, at: VReg, cap: u32) -> VReg {
        let at = self.alu(AluOp::And, at, Operand::Imm(i64::from(cap - 1)));
        let addr = self.alu(AluOp::Add, base, Operand::Reg(at));
        self.load(Base::Reg(addr), 0, 1)
    }

    /// Writes `count` bytes of `s` from `start` (both already within the string) to the `n`
    /// bytes at `dst`, zeros after them.
    fn ds_slice(&mut self, s: &Canon, start: VReg, count: VReg, dst: Region, n: u32) {
        let base = self.ds_addr(s);
        for i in 0..n {
            let at = self.alu(AluOp::Add, start, Operand::Imm(i64::from(i)));
            let byte = self.ds_byte_at(base, at, s.cap);
            let index = self.imm(i64::from(i));
            let keep = self.ds_less(index, count);
            let byte = self.alu(AluOp::Mul, byte, Operand::Reg(keep));
            self.store(Base::Scratch, dst + i as i32, 1, Operand::Reg(byte));
        }
    }

    /// The last position inside the string (and before `limit`, when given) whose byte is a
    /// slash (`slash`) or is not; -1 when there is none.
    fn ds_last_where(&mut self, s: &Canon, limit: Option<VReg>, slash: bool) -> VReg {
        let result = self.imm(-1);
        for i in 0..s.size {
            let c = self.load(Base::Scratch, s.region + i as i32, 1);
            let other = self.alu(AluOp::Xor, c, Operand::Imm(i64::from(b'/')));
            let not_slash = self.ds_byte_nonzero(other);
            let wanted = if slash {
                self.alu(AluOp::Xor, not_slash, Operand::Imm(1))
            } else {
                not_slash
            };
            let at = self.imm(i64::from(i));
            let inside = self.ds_less(at, s.len);
            let mut hit = self.alu(AluOp::And, wanted, Operand::Reg(inside));
            if let Some(limit) = limit {
                let before = self.ds_less(at, limit);
                hit = self.alu(AluOp::And, hit, Operand::Reg(before));
            }
            self.ds_assign_if(result, hit, at);
        }
        result
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
