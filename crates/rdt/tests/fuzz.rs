//! A seeded generator of well-typed scripts over the whole language, each loaded into this
//! kernel's verifier with `rdt --dry-run`. Every script must either load or get a located
//! diagnostic; a panic, a verifier rejection, an internal error or a hang fails the test.
//!
//! The default run covers a fixed seed set in a few seconds. For a longer hunt:
//! `FUZZ_SEED=1000 FUZZ_COUNT=2000 FUZZ_OUT=/tmp/fuzz cargo test -p rdt --test fuzz -- --nocapture`
//! (every script that is not `ok` is written to `FUZZ_OUT` with its output).

use std::collections::BTreeMap;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// splitmix64: deterministic per seed, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Ty {
    Int,
    Str,
}

#[derive(Clone, Copy, PartialEq)]
enum Probe {
    Begin,
    Tracepoint,
    Interval,
    Uprobe,
}

impl Probe {
    fn spelling(self) -> &'static str {
        match self {
            Probe::Begin => "BEGIN",
            Probe::Tracepoint => "tracepoint:syscalls:sys_enter_openat",
            Probe::Interval => "interval:ms:100",
            Probe::Uprobe => "uprobe:libc:malloc",
        }
    }
}

/// Where generation currently is: what names are live and what the context allows.
struct Gen {
    rng: Rng,
    out: String,
    indent: usize,
    scopes: Vec<Vec<(String, Ty)>>,
    /// Tuple variables `(int, string, int)` in scope, by scope.
    tuples: Vec<Vec<String>>,
    next_var: usize,
    probe: Probe,
    loop_depth: usize,
    /// Inside a `for ($kv : @map)` body: the innermost loop's `$kv` (empty when its key is a
    /// tuple, whose fields the body does not read).
    in_map_loop: Option<String>,
    in_while: bool,
    /// `self->`/`this->` names assigned so far (reads of never-assigned ones are errors).
    self_vars: Vec<(String, Ty)>,
    this_vars: Vec<(String, Ty)>,
    budget: usize,
}

const INT_MAPS: &[&str] = &["@mi"];

impl Gen {
    fn new(seed: u64) -> Gen {
        let mut rng = Rng(seed);
        let probe = *rng.pick(&[
            Probe::Begin,
            Probe::Begin,
            Probe::Tracepoint,
            Probe::Interval,
            Probe::Uprobe,
        ]);
        Gen {
            rng,
            out: String::new(),
            indent: 1,
            scopes: vec![vec![]],
            tuples: vec![vec![]],
            next_var: 0,
            probe,
            loop_depth: 0,
            in_map_loop: None,
            in_while: false,
            self_vars: vec![],
            this_vars: vec![],
            budget: 0,
        }
    }

    fn line(&mut self, s: &str) {
        for _ in 0..self.indent {
            self.out.push_str("  ");
        }
        self.out.push_str(s);
        self.out.push('\n');
    }

    fn fresh(&mut self, prefix: &str) -> String {
        self.next_var += 1;
        format!("{prefix}{}", self.next_var)
    }

    fn vars_of(&self, ty: Ty) -> Vec<String> {
        self.scopes
            .iter()
            .flatten()
            .filter(|(_, t)| *t == ty)
            .map(|(n, _)| n.clone())
            .collect()
    }

    fn tuple_vars(&self) -> Vec<String> {
        self.tuples.iter().flatten().cloned().collect()
    }

    // ---------------------------------------------------------------- expressions

    fn int_literal(&mut self) -> String {
        match self.rng.below(8) {
            0 => "0".into(),
            1 => "-1".into(),
            2 => "9223372036854775807".into(),
            3 => "0xffffffff".into(),
            4 => format!("{}", self.rng.below(1 << 40)),
            5 => "4294967296".into(),
            _ => format!("{}", self.rng.below(100)),
        }
    }

    fn int_leaf(&mut self) -> String {
        loop {
            match self.rng.below(16) {
                0 | 1 => return self.int_literal(),
                2 => {
                    return self
                        .rng
                        .pick(&["pid", "tid", "uid", "gid", "cpu", "nsecs", "elapsed"])
                        .to_string()
                }
                3 | 4 => {
                    let vars = self.vars_of(Ty::Int);
                    if !vars.is_empty() {
                        return self.rng.pick(&vars).clone();
                    }
                }
                5 => {
                    let field = self.rng.pick(&[
                        "curtask->pid",
                        "curtask->tgid",
                        "curtask->real_parent->tgid",
                        "curtask->mm->mmap_base",
                        "curtask->parent->real_parent->pid",
                        "((struct task_struct *)curtask)->prio",
                    ]);
                    return field.to_string();
                }
                6 => match self.probe {
                    Probe::Tracepoint => {
                        return self
                            .rng
                            .pick(&["args.flags", "args.dfd", "args->mode"])
                            .to_string()
                    }
                    Probe::Uprobe => return self.rng.pick(&["arg0", "arg1"]).to_string(),
                    _ => {}
                },
                7 => {
                    let v = names_of(&self.self_vars, Ty::Int);
                    if !v.is_empty() {
                        return format!("self->{}", self.rng.pick(&v));
                    }
                }
                8 => {
                    let v = names_of(&self.this_vars, Ty::Int);
                    if !v.is_empty() {
                        return format!("this->{}", self.rng.pick(&v));
                    }
                }
                9 => {
                    if let Some(kv) = self.in_map_loop.clone().filter(|kv| !kv.is_empty()) {
                        return format!("{kv}.{}", self.rng.pick(&["0", "1"]));
                    }
                }
                10 => {
                    let t = self.tuple_vars();
                    if !t.is_empty() {
                        let t = self.rng.pick(&t).clone();
                        return format!("{t}.{}", self.rng.pick(&["0", "2"]));
                    }
                }
                _ => return self.int_literal(),
            }
        }
    }

    fn int_expr(&mut self, depth: usize) -> String {
        if depth == 0 || self.rng.chance(25) {
            return self.int_leaf();
        }
        let d = depth - 1;
        match self.rng.below(14) {
            0..=3 => {
                let op = *self.rng.pick(&[
                    "+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>", "<", ">=", "==", "!=",
                    "&&", "||",
                ]);
                let a = self.int_expr(d);
                let b = if op == "<<" || op == ">>" {
                    format!("{}", self.rng.below(64))
                } else {
                    self.int_expr(d)
                };
                format!("({a} {op} {b})")
            }
            4 => {
                let c = self.cond(d);
                let a = self.int_expr(d);
                let b = self.int_expr(d);
                format!("({c} ? {a} : {b})")
            }
            5 => {
                let ty = *self.rng.pick(&[
                    "uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64",
                ]);
                format!("(({ty}){})", self.int_expr(d))
            }
            6 => {
                let op = *self.rng.pick(&["-", "~", "!"]);
                format!("{op}({})", self.int_expr(d))
            }
            7 => {
                let k = self.int_expr(d);
                format!("@mi[{k}]")
            }
            8 => {
                let k = self.int_expr(d);
                let s = self.str_expr(d);
                format!("@mt[{k}, {s}]")
            }
            // A `while` is walked by the verifier for all 1024 iterations it may run (a
            // documented limit): its bodies stay free of byte-wise string work.
            9..=11 if self.in_while => self.int_leaf(),
            9 => format!("strlen({})", self.str_expr(d)),
            10 => {
                let a = self.str_expr(d);
                let b = self.str_expr(d);
                let n = self.rng.below(20);
                format!("strncmp({a}, {b}, {n})")
            }
            11 => {
                let a = self.str_expr(d);
                let b = self.str_expr(d);
                let op = *self.rng.pick(&["==", "!="]);
                format!("({a} {op} {b})")
            }
            12 => "@sc".into(),
            _ => self.int_leaf(),
        }
    }

    fn cond(&mut self, depth: usize) -> String {
        let a = self.int_expr(depth);
        let b = self.int_expr(depth);
        let op = *self.rng.pick(&["<", ">", "==", "!=", "<=", ">="]);
        format!("{a} {op} {b}")
    }

    fn str_literal(&mut self) -> String {
        let len = match self.rng.below(6) {
            0 => 0,
            1 => 62 + self.rng.below(4),
            2 => 100 + self.rng.below(30),
            _ => self.rng.below(12),
        };
        let body: String = (0..len)
            .map(|i| (b'a' + ((i + self.rng.below(3)) % 26) as u8) as char)
            .collect();
        format!("\"{body}\"")
    }

    fn str_leaf(&mut self) -> String {
        loop {
            match self.rng.below(12) {
                0..=2 => return self.str_literal(),
                3 => return self.rng.pick(&["comm", "curtask->comm"]).to_string(),
                4 | 5 => {
                    let vars = self.vars_of(Ty::Str);
                    if !vars.is_empty() {
                        return self.rng.pick(&vars).clone();
                    }
                }
                6 => match self.probe {
                    Probe::Tracepoint => return "str(args.filename)".into(),
                    Probe::Uprobe => return "str(arg1)".into(),
                    _ => {}
                },
                7 => {
                    let v = names_of(&self.self_vars, Ty::Str);
                    if !v.is_empty() {
                        return format!("self->{}", self.rng.pick(&v));
                    }
                }
                8 => {
                    let v = names_of(&self.this_vars, Ty::Str);
                    if !v.is_empty() {
                        return format!("this->{}", self.rng.pick(&v));
                    }
                }
                9 => {
                    let t = self.tuple_vars();
                    if !t.is_empty() {
                        return format!("{}.1", self.rng.pick(&t).clone());
                    }
                }
                _ => return self.str_literal(),
            }
        }
    }

    fn str_expr(&mut self, depth: usize) -> String {
        if depth == 0 || self.in_while || self.rng.chance(50) {
            return self.str_leaf();
        }
        let d = depth - 1;
        match self.rng.below(3) {
            0 => {
                let c = self.cond(d);
                let a = self.str_expr(d);
                let b = self.str_expr(d);
                format!("({c} ? {a} : {b})")
            }
            1 => format!("@mss[{}]", self.int_expr(d)),
            _ => self.str_leaf(),
        }
    }

    fn expr(&mut self, ty: Ty, depth: usize) -> String {
        match ty {
            Ty::Int => self.int_expr(depth),
            Ty::Str => self.str_expr(depth),
        }
    }

    // ---------------------------------------------------------------- statements

    fn block(&mut self, n: usize, depth: usize) {
        self.scopes.push(vec![]);
        self.tuples.push(vec![]);
        self.indent += 1;
        for _ in 0..n {
            self.stmt(depth);
        }
        self.indent -= 1;
        self.scopes.pop();
        self.tuples.pop();
    }

    fn stmt(&mut self, depth: usize) {
        if self.budget == 0 {
            return;
        }
        self.budget -= 1;
        let e = 1 + self.rng.below(4) as usize;
        match self.rng.below(25) {
            0 | 1 => {
                let ty = if self.rng.chance(65) {
                    Ty::Int
                } else {
                    Ty::Str
                };
                let v = self.fresh("$v");
                let x = self.expr(ty, e);
                self.line(&format!("{v} = {x};"));
                self.scopes.last_mut().unwrap().push((v, ty));
            }
            2 => {
                // Not a loop counter: a `while` whose counter changes unpredictably is walked
                // for all of its 1024 allowed iterations by the verifier (a documented limit).
                let vars: Vec<String> = self
                    .vars_of(Ty::Int)
                    .into_iter()
                    .filter(|v| v.starts_with("$v"))
                    .collect();
                if let Some(v) = vars.first().cloned() {
                    let op = *self.rng.pick(&["+=", "-=", "*=", "|=", "<<=", "="]);
                    let x = self.int_expr(e);
                    self.line(&format!("{v} {op} {x};"));
                } else {
                    self.line("$z = 1;");
                }
            }
            3 => {
                let k = self.int_expr(e);
                let x = self.int_expr(e);
                let m = *self.rng.pick(INT_MAPS);
                self.line(&format!("{m}[{k}] = {x};"));
            }
            4 => {
                let k = self.str_expr(e);
                self.line(&format!("@ms[{k}] = count();"));
            }
            5 => {
                let k = self.int_expr(e);
                let s = self.str_expr(e);
                let x = self.int_expr(e);
                self.line(&format!("@mt[{k}, {s}] = {x};"));
            }
            6 => {
                let k = self.int_expr(e);
                let s = self.str_expr(e);
                self.line(&format!("@mss[{k}] = {s};"));
            }
            7 => {
                let k = self.int_expr(e);
                let op = *self.rng.pick(&["++", "--"]);
                self.line(&format!("@mi[{k}]{op};"));
            }
            8 => {
                let x = self.int_expr(e);
                self.line(&format!("@sc = {x};"));
            }
            9 => {
                let which = self.rng.below(3);
                let s = self.str_expr(1);
                match which {
                    0 => self.line("@stk[kstack] = count();"),
                    1 => self.line(&format!("@ust[ustack, {s}] = count();")),
                    _ => self.line("@ks[kstack(3), comm] = count();"),
                }
            }
            10 | 11 => self.printf(e),
            22 => {
                // bpftrace 0.22's typed declaration: later values wrap to its width.
                let v = self.fresh("$v");
                let ty = *self.rng.pick(&["uint8", "int16", "uint32", "int64"]);
                let x = self.int_expr(e);
                self.line(&format!("let {v}: {ty} = {x};"));
                self.scopes.last_mut().unwrap().push((v, Ty::Int));
            }
            23 => {
                // A D global, then read back into a map.
                let x = self.int_expr(e);
                self.line(&format!("dglobal = {x};"));
                self.line("@sc = dglobal;");
            }
            24 => {
                let s = self.str_expr(e);
                let f = *self
                    .rng
                    .pick(&["basename", "dirname", "toupper", "tolower"]);
                self.line(&format!("@ms[{f}({s})] = count();"));
            }
            12 | 13 if depth > 0 => {
                let c = self.cond(e);
                self.line(&format!("if ({c}) {{"));
                let n = 1 + self.rng.below(4) as usize;
                self.block(n, depth - 1);
                if self.rng.chance(50) {
                    self.line("} else {");
                    self.block(n, depth - 1);
                }
                self.line("}");
            }
            14 if depth > 0 && self.loop_depth < 2 => {
                let i = self.fresh("$i");
                let hi = 1 + self.rng.below(12);
                self.line(&format!("for ({i} : 0..{hi}) {{"));
                self.loop_depth += 1;
                self.scopes.push(vec![(i, Ty::Int)]);
                let n = 1 + self.rng.below(4) as usize;
                self.block(n, depth - 1);
                self.loop_exit(e);
                self.scopes.pop();
                self.loop_depth -= 1;
                self.line("}");
            }
            15 if depth > 0 && self.loop_depth < 2 => {
                let w = self.fresh("$w");
                let hi = 1 + self.rng.below(8);
                self.line(&format!("{w} = 0;"));
                self.line(&format!("while ({w} < {hi}) {{"));
                self.scopes.last_mut().unwrap().push((w.clone(), Ty::Int));
                self.loop_depth += 1;
                let was = self.in_while;
                self.in_while = true;
                self.indent += 1;
                self.line(&format!("{w}++;"));
                self.indent -= 1;
                let n = 1 + self.rng.below(3) as usize;
                self.block(n, depth - 1);
                self.loop_exit(e);
                self.in_while = was;
                self.loop_depth -= 1;
                self.line("}");
            }
            // Map loops nest in each other (not under a verifier-walked `while`).
            16 if depth > 0 && !self.in_while && self.loop_depth <= 1 => {
                let kv = self.fresh("$kv");
                let m = self.rng.below(2);
                self.line(&format!(
                    "for ({kv} : {}) {{",
                    if m == 0 { "@mi" } else { "@mt" }
                ));
                self.loop_depth += 1;
                let outer_kv = self.in_map_loop.replace(kv.clone());
                self.indent += 1;
                if m == 1 {
                    self.line(&format!(
                        "printf(\"%d %s %d\\n\", {kv}.0.0, {kv}.0.1, {kv}.1);"
                    ));
                }
                self.indent -= 1;
                let n = 1 + self.rng.below(4) as usize;
                // The body shares the clause's variables, as any loop body does.
                if m == 0 {
                    self.block(n, depth - 1);
                } else {
                    // `$kv.0` is a tuple here: its reads are in the printf above.
                    self.in_map_loop = Some(String::new());
                    self.block(n.min(2), 0);
                }
                self.in_map_loop = outer_kv;
                self.loop_depth -= 1;
                self.line("}");
            }
            17 => {
                let ty = if self.rng.chance(60) {
                    Ty::Int
                } else {
                    Ty::Str
                };
                let name = format!(
                    "s{}_{}",
                    if ty == Ty::Int { "i" } else { "s" },
                    self.rng.below(3)
                );
                let x = self.expr(ty, e);
                self.line(&format!("self->{name} = {x};"));
                if !self.self_vars.iter().any(|(n, _)| *n == name) {
                    self.self_vars.push((name, ty));
                }
            }
            18 => {
                let ty = if self.rng.chance(60) {
                    Ty::Int
                } else {
                    Ty::Str
                };
                let name = format!(
                    "t{}_{}",
                    if ty == Ty::Int { "i" } else { "s" },
                    self.rng.below(3)
                );
                let x = self.expr(ty, e);
                self.line(&format!("this->{name} = {x};"));
                if !self.this_vars.iter().any(|(n, _)| *n == name) {
                    self.this_vars.push((name, ty));
                }
            }
            19 => {
                let t = self.fresh("$t");
                let a = self.int_expr(e);
                let b = self.str_expr(e);
                let c = self.int_expr(e);
                self.line(&format!("{t} = ({a}, {b}, {c});"));
                self.tuples.last_mut().unwrap().push(t);
            }
            20 if depth > 0 && self.loop_depth < 2 => {
                let n = 1 + self.rng.below(4);
                self.line(&format!("unroll({n}) {{"));
                let m = 1 + self.rng.below(2) as usize;
                self.block(m, depth - 1);
                self.line("}");
            }
            _ => self.printf(e),
        }
    }

    /// `if (…) { break; }` / `continue` at the end of a loop body, sometimes.
    fn loop_exit(&mut self, e: usize) {
        if self.rng.chance(60) {
            let c = self.cond(e.min(2));
            let kw = *self.rng.pick(&["break", "continue"]);
            self.indent += 1;
            self.line(&format!("if ({c}) {{ {kw}; }}"));
            self.indent -= 1;
        }
    }

    fn printf(&mut self, e: usize) {
        let n = if self.rng.chance(10) {
            6 + self.rng.below(8)
        } else {
            self.rng.below(5)
        };
        let mut fmt = String::new();
        let mut args = vec![];
        for _ in 0..n {
            if self.rng.chance(65) {
                let f = *self.rng.pick(&["%d ", "%u ", "%x ", "%lld ", "%5d "]);
                fmt.push_str(f);
                args.push(self.int_expr(e));
            } else {
                let f = *self.rng.pick(&["%s ", "%-8s "]);
                fmt.push_str(f);
                args.push(self.str_expr(e));
            }
        }
        let mut s = format!("printf(\"{fmt}\\n\"");
        for a in args {
            s.push_str(", ");
            s.push_str(&a);
        }
        s.push_str(");");
        self.line(&s);
    }

    fn script(mut self) -> String {
        let big = self.rng.chance(4);
        self.budget = if big {
            150 + self.rng.below(150) as usize
        } else {
            2 + self.rng.below(14) as usize
        };
        let depth = if self.rng.chance(20) { 4 } else { 2 };
        let head = format!("{} {{\n", self.probe.spelling());
        // Every map is assigned before anything reads it.
        self.line("@mi[0] = 0; @mt[0, \"\"] = 0; @mss[0] = \"\"; @sc = 0;");
        while self.budget > 0 {
            self.stmt(depth);
        }
        if self.probe != Probe::Uprobe {
            self.line("exit();");
        }
        format!("{head}{}}}\n", self.out)
    }
}

pub fn generate(seed: u64) -> String {
    Gen::new(seed).script()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Verdict {
    Ok,
    Diagnosed,
    TooComplex,
    Rejected,
    Internal,
    Panic,
    Hang,
}

fn classify(status: Option<i32>, stderr: &str) -> Verdict {
    match status {
        None => Verdict::Hang,
        Some(_) if stderr.contains("panicked") => Verdict::Panic,
        Some(_) if stderr.contains("internal error") || stderr.contains("bug in rdt") => {
            Verdict::Internal
        }
        Some(_) if stderr.contains("verifier rejected") && stderr.contains("too large") => {
            Verdict::TooComplex
        }
        Some(_) if stderr.contains("verifier rejected") => Verdict::Rejected,
        Some(0) => Verdict::Ok,
        // A located diagnostic has a `┌─ file:line:col` line and a caret.
        Some(_) if stderr.contains("┌─") => Verdict::Diagnosed,
        Some(_) => Verdict::Internal,
    }
}

fn dry_run(script: &str) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rdt"))
        .args(["--dry-run", "-e", script])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rdt");
    let mut stderr = child.stderr.take().expect("stderr piped");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait rdt") {
            break st.code().or(Some(-1));
        }
        if start.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    (status, reader.join().unwrap_or_default())
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

#[test]
fn generated_scripts_load_or_are_diagnosed() {
    if !is_root() {
        println!("skipped: the verifier needs root");
        return;
    }
    let env = |k: &str, d: u64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let first = env("FUZZ_SEED", 0);
    let count = env("FUZZ_COUNT", 40);
    let out_dir = std::env::var("FUZZ_OUT").ok();
    let seeds: Vec<u64> = (first..first + count).collect();
    let workers = 2;
    let results: Vec<(u64, String, Verdict, String)> = std::thread::scope(|s| {
        let handles: Vec<_> = seeds
            .chunks(seeds.len().div_ceil(workers).max(1))
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .iter()
                        .map(|&seed| {
                            let script = generate(seed);
                            let (status, stderr) = dry_run(&script);
                            (seed, script, classify(status, &stderr), stderr)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("worker"))
            .collect()
    });
    let mut tally: BTreeMap<Verdict, usize> = BTreeMap::new();
    let mut messages: BTreeMap<String, usize> = BTreeMap::new();
    let mut bad = vec![];
    for (seed, script, verdict, stderr) in &results {
        *tally.entry(*verdict).or_default() += 1;
        if *verdict != Verdict::Ok {
            let first = stderr.lines().next().unwrap_or("").to_string();
            *messages.entry(format!("{verdict:?}: {first}")).or_default() += 1;
            if let Some(dir) = &out_dir {
                let _ = std::fs::create_dir_all(dir);
                let _ = std::fs::write(format!("{dir}/{verdict:?}-{seed}.d"), script);
                let _ = std::fs::write(format!("{dir}/{verdict:?}-{seed}.err"), stderr);
            }
        }
        if *verdict > Verdict::TooComplex {
            bad.push(format!("seed {seed}: {verdict:?}\n{script}\n{stderr}"));
        }
    }
    let n = |v| tally.get(&v).copied().unwrap_or(0);
    println!(
        "fuzz: {} scripts, {} ok, {} diagnosed, {} too complex, {} rejected, {} internal, {} panics, {} hangs",
        results.len(),
        n(Verdict::Ok),
        n(Verdict::Diagnosed),
        n(Verdict::TooComplex),
        n(Verdict::Rejected),
        n(Verdict::Internal),
        n(Verdict::Panic),
        n(Verdict::Hang)
    );
    for (m, c) in &messages {
        println!("  {c:5} {m}");
    }
    assert!(
        bad.is_empty(),
        "{} scripts broke the standard:\n{}",
        bad.len(),
        bad.join("\n-----\n")
    );
}

/// The names of the variables in `vars` that hold a `ty`.
fn names_of(vars: &[(String, Ty)], ty: Ty) -> Vec<String> {
    vars.iter()
        .filter(|(_, t)| *t == ty)
        .map(|(n, _)| n.clone())
        .collect()
}
