use super::parse;
use crate::ast::*;
use crate::Span;

fn program(src: &str) -> Program {
    match parse(src) {
        Ok(p) => p,
        Err(d) => panic!("{src}\n{}", crate::render("test.d", src, &d)),
    }
}

fn statements(body: &str) -> Vec<Stmt> {
    let mut p = program(&format!("BEGIN {{ {body} }}"));
    p.clauses.remove(0).body.stmts
}

fn expr(text: &str) -> Expr {
    match statements(text).remove(0).kind {
        StmtKind::Expr(e) => e,
        other => panic!("not an expression statement: {other:?}"),
    }
}

/// A compact, span-free rendering of an expression tree, for asserting shapes.
fn sexpr(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Int(v) => v.to_string(),
        ExprKind::Str(s) => format!("{s:?}"),
        ExprKind::Ident(n) => n.clone(),
        ExprKind::Var(n) => format!("${n}"),
        ExprKind::Positional(n) => format!("${n}"),
        ExprKind::PositionalCount => "$#".into(),
        ExprKind::Map { name, keys } if keys.is_empty() => format!("@{name}"),
        ExprKind::Map { name, keys } => format!("@{name}[{}]", list(keys)),
        ExprKind::Call { name, args, .. } => format!("{name}({})", list(args)),
        ExprKind::Field {
            base, field, arrow, ..
        } => {
            format!("{}{}{field}", sexpr(base), if *arrow { "->" } else { "." })
        }
        ExprKind::Index { base, index } => format!("{}[{}]", sexpr(base), sexpr(index)),
        ExprKind::Unary { op, operand } => format!("({op:?} {})", sexpr(operand)),
        ExprKind::Binary { op, lhs, rhs } => {
            format!("({} {} {})", op.symbol(), sexpr(lhs), sexpr(rhs))
        }
        ExprKind::Ternary { cond, then, els } => {
            format!("(? {} {} {})", sexpr(cond), sexpr(then), sexpr(els))
        }
        ExprKind::Tuple(items) => format!("({})", list(items)),
        ExprKind::IncDec {
            target,
            increment,
            prefix,
        } => {
            let op = if *increment { "++" } else { "--" };
            if *prefix {
                format!("({op} {})", sexpr(target))
            } else {
                format!("({} {op})", sexpr(target))
            }
        }
        ExprKind::Cast { ty, expr } => format!(
            "(cast {}{} {})",
            ty.name,
            "*".repeat(ty.pointer_depth as usize),
            sexpr(expr)
        ),
    }
}

fn list(items: &[Expr]) -> String {
    items.iter().map(sexpr).collect::<Vec<_>>().join(", ")
}

fn shape(text: &str) -> String {
    sexpr(&expr(text))
}

fn text_of(src: &str, span: Span) -> &str {
    &src[span.range()]
}

#[test]
fn precedence_of_the_brief() {
    assert_eq!(
        shape("1 + 2 * 3 == 7 && !x"),
        "(&& (== (+ 1 (* 2 3)) 7) (Not x))"
    );
}

#[test]
fn c_precedence_levels() {
    assert_eq!(shape("a || b && c"), "(|| a (&& b c))");
    assert_eq!(shape("a && b | c"), "(&& a (| b c))");
    assert_eq!(shape("a | b ^ c & d"), "(| a (^ b (& c d)))");
    assert_eq!(shape("a & b == c"), "(& a (== b c))");
    assert_eq!(shape("a == b < c"), "(== a (< b c))");
    assert_eq!(shape("a < b << c"), "(< a (<< b c))");
    assert_eq!(shape("a << b + c"), "(<< a (+ b c))");
    assert_eq!(shape("a + b % c"), "(+ a (% b c))");
    assert_eq!(shape("-a * b"), "(* (Neg a) b)");
    assert_eq!(shape("a ? b : c || d"), "(? a b (|| c d))");
}

#[test]
fn associativity() {
    assert_eq!(shape("a - b - c"), "(- (- a b) c)");
    assert_eq!(shape("a / b / c"), "(/ (/ a b) c)");
    assert_eq!(shape("a >= b >= c"), "(>= (>= a b) c)");
    assert_eq!(shape("a ? b : c ? d : e"), "(? a b (? c d e))");
    assert_eq!(shape("a ? b ? c : d : e"), "(? a (? b c d) e)");
}

#[test]
fn unary_and_postfix() {
    assert_eq!(shape("!~-x"), "(Not (BitNot (Neg x)))");
    assert_eq!(shape("*p + &v"), "(+ (Deref p) (AddrOf v))");
    assert_eq!(shape("++$i"), "(++ $i)");
    assert_eq!(shape("$i--"), "($i --)");
    assert_eq!(shape("-x++"), "(Neg (x ++))");
    assert_eq!(shape("a.b->c[1].d"), "a.b->c[1].d");
    assert_eq!(shape("f(1, \"s\", g())"), "f(1, \"s\", g())");
    assert_eq!(shape("curtask->parent->pid"), "curtask->parent->pid");
    assert_eq!(shape("$t.0"), "$t.0");
    assert_eq!(shape("@m[1]++"), "(@m[1] ++)");
}

#[test]
fn casts() {
    assert_eq!(shape("(uint32)x"), "(cast uint32 x)");
    assert_eq!(shape("(int8)x + 1"), "(+ (cast int8 x) 1)");
    assert_eq!(
        shape("((struct task_struct *)curtask)->pid"),
        "(cast struct task_struct* curtask)->pid"
    );
    assert_eq!(
        shape("(unsigned long long)x"),
        "(cast unsigned long long x)"
    );
    assert_eq!(shape("(struct sock **)arg0"), "(cast struct sock** arg0)");
    assert_eq!(shape("(pid)"), "pid");
}

#[test]
fn maps_variables_and_tuples() {
    assert_eq!(shape("@"), "@");
    assert_eq!(shape("@[comm]"), "@[comm]");
    assert_eq!(shape("@m[k1, k2]"), "@m[k1, k2]");
    assert_eq!(shape("@m[(a, b)]"), "@m[(a, b)]");
    assert_eq!(shape("($1, $#, $x, \"s\")"), "($1, $#, $x, \"s\")");
    assert_eq!(shape("self->x"), "self->x");
    let e = expr("this->ts");
    let ExprKind::Field {
        base, arrow: true, ..
    } = e.kind
    else {
        panic!("{e:?}")
    };
    assert_eq!(base.kind, ExprKind::Ident("this".into()));
}

#[test]
fn sizeof_takes_types() {
    assert_eq!(
        shape("sizeof(struct task_struct)"),
        "sizeof(struct task_struct)"
    );
    assert_eq!(shape("sizeof(uint64)"), "sizeof(uint64)");
    assert_eq!(
        shape("offsetof(struct sk_buff *, len)"),
        "offsetof(struct sk_buff *, len)"
    );
    assert!(parse("BEGIN { printf(uint32); }").is_err());
}

#[test]
fn spans_cover_their_text() {
    let src = "BEGIN { @x[pid] = foo(1) + args->filename; }";
    let p = program(src);
    let stmt = &p.clauses[0].body.stmts[0];
    assert_eq!(text_of(src, stmt.span), "@x[pid] = foo(1) + args->filename");
    let StmtKind::Assign {
        target,
        value,
        op: None,
    } = &stmt.kind
    else {
        panic!()
    };
    assert_eq!(text_of(src, target.span), "@x[pid]");
    assert_eq!(text_of(src, value.span), "foo(1) + args->filename");
    let ExprKind::Binary { lhs, rhs, .. } = &value.kind else {
        panic!()
    };
    let ExprKind::Call { name_span, .. } = &lhs.kind else {
        panic!()
    };
    assert_eq!(text_of(src, *name_span), "foo");
    let ExprKind::Field { field_span, .. } = &rhs.kind else {
        panic!()
    };
    assert_eq!(text_of(src, *field_span), "filename");
    assert_eq!(text_of(src, p.clauses[0].span), src);
    assert_eq!(
        text_of(src, p.clauses[0].body.span),
        "{ @x[pid] = foo(1) + args->filename; }"
    );
    assert_eq!(text_of(src, p.clauses[0].probes[0].span), "BEGIN");
}

#[test]
fn parenthesised_span_includes_parentheses() {
    let src = "BEGIN { (a + b) * c }";
    let e = expr("(a + b) * c");
    let ExprKind::Binary { lhs, .. } = &e.kind else {
        panic!()
    };
    let inner = "(a + b)";
    assert_eq!(lhs.span.end - lhs.span.start, inner.len() as u32);
    assert!(src.contains(inner));
}

#[test]
fn assignments() {
    let stmts = statements("@x = 1; $y += 2; @z[1] <<= 3; self->t = nsecs");
    let ops: Vec<Option<BinOp>> = stmts
        .iter()
        .map(|s| match &s.kind {
            StmtKind::Assign { op, .. } => *op,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(ops, vec![None, Some(BinOp::Add), Some(BinOp::Shl), None]);
    for (op, bin) in [
        ("-=", BinOp::Sub),
        ("*=", BinOp::Mul),
        ("/=", BinOp::Div),
        ("%=", BinOp::Mod),
        ("&=", BinOp::BitAnd),
        ("|=", BinOp::BitOr),
        ("^=", BinOp::BitXor),
        (">>=", BinOp::Shr),
    ] {
        let s = statements(&format!("$x {op} 1;")).remove(0);
        assert!(
            matches!(s.kind, StmtKind::Assign { op: Some(o), .. } if o == bin),
            "{op}"
        );
    }
}

#[test]
fn if_else_if_else() {
    let src = "if (a) { x(); } else if (b) { y(); } else { z(); }";
    let stmts = statements(src);
    assert_eq!(stmts.len(), 1);
    let StmtKind::If {
        cond,
        then,
        els: Some(els),
    } = &stmts[0].kind
    else {
        panic!()
    };
    assert_eq!(sexpr(cond), "a");
    assert_eq!(then.stmts.len(), 1);
    assert_eq!(els.stmts.len(), 1);
    let StmtKind::If {
        els: Some(last), ..
    } = &els.stmts[0].kind
    else {
        panic!()
    };
    assert_eq!(last.stmts.len(), 1);
}

#[test]
fn loops_and_jumps() {
    let stmts = statements(
        "for ($i : 0..10) { break; } for ($kv : @m) { continue } while ($i < 5) { $i++ } unroll (3) { return; } { nested() }",
    );
    assert!(
        matches!(&stmts[0].kind, StmtKind::ForRange { var, start, end, body, .. }
        if var == "i" && sexpr(start) == "0" && sexpr(end) == "10" && body.stmts[0].kind == StmtKind::Break)
    );
    assert!(
        matches!(&stmts[1].kind, StmtKind::ForMap { var, map, body, .. }
        if var == "kv" && map == "m" && body.stmts[0].kind == StmtKind::Continue)
    );
    assert!(matches!(&stmts[2].kind, StmtKind::While { cond, .. } if sexpr(cond) == "(< $i 5)"));
    assert!(
        matches!(&stmts[3].kind, StmtKind::Unroll { count, body } if sexpr(count) == "3" && body.stmts[0].kind == StmtKind::Return)
    );
    assert!(matches!(&stmts[4].kind, StmtKind::Block(b) if b.stmts.len() == 1));
}

#[test]
fn semicolons_are_separators() {
    assert_eq!(statements("").len(), 0);
    assert_eq!(statements(";;").len(), 0);
    assert_eq!(statements("a(); b()").len(), 2);
    assert_eq!(statements("a();; b();").len(), 2);
    assert_eq!(statements("if (x) { } a()").len(), 2);
    assert!(parse("BEGIN { a() b() }").is_err());
}

#[test]
fn clauses_probes_and_predicates() {
    let p = program(
        "kprobe:vfs_read, kprobe:vfs_write /pid == 42/ { @[probe] = count(); }\nEND { print(@); }",
    );
    assert_eq!(p.clauses.len(), 2);
    let texts: Vec<&str> = p.clauses[0]
        .probes
        .iter()
        .map(|p| p.text.as_str())
        .collect();
    assert_eq!(texts, ["kprobe:vfs_read", "kprobe:vfs_write"]);
    assert_eq!(
        p.clauses[0].predicate.as_ref().map(sexpr).as_deref(),
        Some("(== pid 42)")
    );
    assert!(p.clauses[1].predicate.is_none());
}

#[test]
fn angle_blocks() {
    for src in [
        "kprobe:do_sys_open < @[comm] = count(); >",
        "kprobe:do_sys_open < @[comm] = count() >",
        "kprobe:do_sys_open < if (pid > 1) { @x = count(); } >",
        "kprobe:do_sys_open /pid > 1/ < @x = count() >",
    ] {
        let p = program(src);
        let body = &p.clauses[0].body;
        assert_eq!(body.stmts.len(), 1, "{src}");
        assert!(
            src[body.span.range()].starts_with('<') && src[body.span.range()].ends_with('>'),
            "{src}"
        );
    }
    let p = program("kprobe:a < @x = $a > 1; > kprobe:b < @y = count() >");
    assert_eq!(p.clauses.len(), 2);
    let StmtKind::Assign { value, .. } = &p.clauses[0].body.stmts[0].kind else {
        panic!()
    };
    assert_eq!(sexpr(value), "(> $a 1)");
}

#[test]
fn options_from_pragmas_and_config() {
    let p = program(
        "#!/usr/bin/env rdt\n#pragma D option quiet\n#pragma D option bufsize=4m\nconfig = { max_map_keys = 10_000; stack_mode = perf; str = \"x\" }\nBEGIN { }",
    );
    let options: Vec<(&str, Option<&str>)> = p
        .options
        .iter()
        .map(|o| (o.name.as_str(), o.value.as_deref()))
        .collect();
    assert_eq!(
        options,
        [
            ("quiet", None),
            ("bufsize", Some("4m")),
            ("max_map_keys", Some("10_000")),
            ("stack_mode", Some("perf")),
            ("str", Some("x"))
        ]
    );
}

#[test]
fn empty_program_is_an_error() {
    for src in ["", "  \n// only a comment\n", "#pragma D option quiet\n"] {
        let Err(d) = parse(src) else {
            panic!("{src:?} parsed")
        };
        assert_eq!(d[0].message, "the program has no probes");
    }
}

#[test]
fn literals_in_the_tree() {
    assert_eq!(
        shape("10ms + 'a' + 0x10 + 010"),
        "(+ (+ (+ 10000000 97) 16) 8)"
    );
    assert_eq!(shape(r#""tab\there""#), "\"tab\\there\"");
}
