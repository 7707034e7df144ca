use super::*;

fn kinds(src: &str) -> Vec<Tok> {
    let lexed = tokenize(src);
    assert!(lexed.error.is_none(), "{src}: {:?}", lexed.error);
    lexed.tokens.into_iter().map(|t| t.1).collect()
}

fn probe(text: &str) -> Tok {
    Tok::Probe(text.to_string())
}

fn ident(text: &str) -> Tok {
    Tok::Ident(text.to_string())
}

fn map(name: &str) -> Tok {
    Tok::Map(name.to_string())
}

fn error(src: &str) -> Diagnostic {
    match tokenize(src).error {
        Some(e) => e,
        None => panic!("{src}: expected a lexical error"),
    }
}

#[test]
fn probe_list_across_lines() {
    let toks = kinds("tracepoint:a:b,\n  tracepoint:c:d { }");
    assert_eq!(
        toks,
        vec![
            probe("tracepoint:a:b"),
            Tok::Comma,
            probe("tracepoint:c:d"),
            Tok::LBrace,
            Tok::RBrace
        ]
    );
}

#[test]
fn every_probe_spelling_is_one_token() {
    for text in [
        "BEGIN",
        "END",
        "tracepoint:syscalls:sys_enter_openat",
        "t:syscalls:sys_enter_*",
        "kprobe:do_sys_open",
        "kprobe:vfs_read+16",
        "kprobe:vfs_*",
        "interval:ms:100",
        "profile:hz:99",
        "uprobe:/bin/bash:readline",
        "uprobe:libc:malloc",
        "usdt:/usr/lib/x.so:prov:name",
        "syscall::openat:entry",
        "fbt::vfs_read:return",
        "pid$target::malloc:entry",
        "profile-997",
        "tick-1s",
    ] {
        assert_eq!(kinds(&format!("{text} {{ }}"))[0], probe(text), "{text}");
        assert_eq!(
            kinds(&format!("{text}{{}}"))[0],
            probe(text),
            "{text} without space"
        );
    }
}

#[test]
fn predicate_slash_inside_parentheses_divides() {
    let toks = kinds("kprobe:f /(a / 2) > 1/ { }");
    assert_eq!(
        toks,
        vec![
            probe("kprobe:f"),
            Tok::PredOpen,
            Tok::LParen,
            ident("a"),
            Tok::Slash,
            Tok::Int(2),
            Tok::RParen,
            Tok::Gt,
            Tok::Int(1),
            Tok::PredClose,
            Tok::LBrace,
            Tok::RBrace
        ]
    );
}

#[test]
fn predicate_right_after_probe_and_path() {
    let toks = kinds("uprobe:/bin/bash:readline/pid == 1/{}");
    assert_eq!(toks[0], probe("uprobe:/bin/bash:readline"));
    assert_eq!(toks[1], Tok::PredOpen);
    assert_eq!(toks[5], Tok::PredClose);
}

#[test]
fn angle_block_closes_at_statement_start() {
    let toks = kinds("kprobe:do_sys_open < @[comm] = count(); >");
    assert_eq!(toks[1], Tok::AngleOpen);
    assert_eq!(toks.last(), Some(&Tok::AngleClose));
    assert!(!toks.contains(&Tok::Gt));
}

#[test]
fn angle_block_keeps_comparisons_inside_brackets() {
    let toks = kinds("kprobe:f < if (pid > 1) { @x = count(); } >");
    assert_eq!(toks.iter().filter(|t| **t == Tok::Gt).count(), 1);
    assert_eq!(toks.last(), Some(&Tok::AngleClose));
}

#[test]
fn angle_block_closes_before_end_of_input() {
    let toks = kinds("kprobe:f < @x = count() > // done\n");
    assert_eq!(toks.last(), Some(&Tok::AngleClose));
    assert!(!toks.contains(&Tok::Gt));
}

#[test]
fn angle_block_comparison_mid_statement() {
    let toks = kinds("kprobe:f < @x = $a > $b / 2; >");
    assert_eq!(toks.iter().filter(|t| **t == Tok::Gt).count(), 1);
    assert_eq!(toks.last(), Some(&Tok::AngleClose));
}

#[test]
fn angle_block_closes_before_next_clause() {
    let toks = kinds("kprobe:a < @x = count() > kprobe:b < @y = count() >");
    let closes = toks.iter().filter(|t| **t == Tok::AngleClose).count();
    assert_eq!(closes, 2);
    assert!(toks.contains(&probe("kprobe:b")));
}

#[test]
fn lt_and_gt_are_operators_in_brace_blocks() {
    let toks = kinds("BEGIN { @x = 1 < 2 > 3; }");
    assert!(toks.contains(&Tok::Lt) && toks.contains(&Tok::Gt));
}

#[test]
fn pragmas_shebang_and_config() {
    let toks =
        kinds("#!/usr/bin/env rdt\n#pragma D option quiet\n#pragma D option bufsize=4m\nBEGIN {}");
    assert_eq!(
        toks[0],
        Tok::Pragma(PragmaOption {
            name: "quiet".into(),
            value: None
        })
    );
    assert_eq!(
        toks[1],
        Tok::Pragma(PragmaOption {
            name: "bufsize".into(),
            value: Some("4m".into())
        })
    );
    assert_eq!(toks[2], probe("BEGIN"));

    let toks = kinds("config = { max_map_keys = 100; stack_mode = perf }\nBEGIN {}");
    assert_eq!(
        toks[..4],
        [Tok::Config, Tok::Assign, Tok::LBrace, ident("max_map_keys")]
    );
    assert_eq!(toks[toks.len() - 3], probe("BEGIN"));
}

#[test]
fn unknown_pragmas_are_ignored() {
    assert_eq!(
        kinds("#pragma D depends_on module x\nBEGIN{}")[0],
        probe("BEGIN")
    );
}

#[test]
fn comments_everywhere() {
    let toks = kinds("// lead\nBEGIN /* a */ , /* b */ END // c\n/* d */ { /* e */ x // f\n ; }");
    assert_eq!(
        toks,
        vec![
            probe("BEGIN"),
            Tok::Comma,
            probe("END"),
            Tok::LBrace,
            ident("x"),
            Tok::Semi,
            Tok::RBrace
        ]
    );
}

#[test]
fn variables_maps_and_keywords() {
    let toks = kinds(
        "BEGIN { $x $1 $# @ @name self->x this->y if else for while unroll break continue return uint32 struct }",
    );
    let expected = vec![
        Tok::Var("x".into()),
        Tok::Positional(1),
        Tok::PositionalCount,
        map(""),
        map("name"),
        ident("self"),
        Tok::Arrow,
        ident("x"),
        ident("this"),
        Tok::Arrow,
        ident("y"),
        Tok::If,
        Tok::Else,
        Tok::For,
        Tok::While,
        Tok::Unroll,
        Tok::Break,
        Tok::Continue,
        Tok::Return,
        Tok::TypeWord("uint32".into()),
        Tok::Struct,
    ];
    assert_eq!(toks[2..toks.len() - 1], expected[..]);
}

#[test]
fn literals() {
    let toks = kinds(r#"BEGIN { 0x1f 017 1_000_000 10ms 5s 'a' '\n' "a\tb\x41\101\\\"" }"#);
    let expected = [
        Tok::Int(31),
        Tok::Int(15),
        Tok::Int(1_000_000),
        Tok::Int(10_000_000),
        Tok::Int(5_000_000_000),
        Tok::Int(97),
        Tok::Int(10),
        Tok::Str("a\tbAA\\\"".into()),
    ];
    assert_eq!(toks[2..toks.len() - 1], expected[..]);
}

#[test]
fn operators_longest_match() {
    let toks = kinds("BEGIN { a <<= b >>= c ++ -- -> .. . && || == != <= >= += %= }");
    let expected = vec![
        ident("a"),
        Tok::OpAssign(crate::ast::BinOp::Shl),
        ident("b"),
        Tok::OpAssign(crate::ast::BinOp::Shr),
        ident("c"),
        Tok::PlusPlus,
        Tok::MinusMinus,
        Tok::Arrow,
        Tok::DotDot,
        Tok::Dot,
        Tok::AndAnd,
        Tok::OrOr,
        Tok::EqEq,
        Tok::Ne,
        Tok::Le,
        Tok::Ge,
        Tok::OpAssign(crate::ast::BinOp::Add),
        Tok::OpAssign(crate::ast::BinOp::Mod),
    ];
    assert_eq!(toks[2..toks.len() - 1], expected[..]);
}

#[test]
fn range_is_not_a_number() {
    let toks = kinds("BEGIN { 0..10 }");
    assert_eq!(toks[2..5], [Tok::Int(0), Tok::DotDot, Tok::Int(10)]);
}

#[test]
fn spans_are_byte_offsets() {
    let lexed = tokenize("BEGIN { @é = \"ü\"; }");
    assert!(lexed.error.is_some(), "`@é` is not a map name");
    let lexed = tokenize("BEGIN { $x = \"ü\"; }");
    let spans: Vec<(usize, usize)> = lexed.tokens.iter().map(|t| (t.0, t.2)).collect();
    assert_eq!(
        spans,
        vec![
            (0, 5),
            (6, 7),
            (8, 10),
            (11, 12),
            (13, 17),
            (17, 18),
            (19, 20)
        ]
    );
}

#[test]
fn lexical_errors_are_located() {
    let e = error("BEGIN { printf(\"abc); }");
    assert_eq!(
        (e.span.start, e.message.as_str()),
        (15, "unterminated string")
    );
    let e = error("BEGIN { } /* never closed");
    assert_eq!((e.span.start, e.span.end), (10, 12));
    let e = error("BEGIN { @x = 1 # 2; }");
    assert_eq!((e.span.start, e.span.end), (15, 16));
    let e = error("BEGIN { 'ab' }");
    assert_eq!(e.message, "a character literal holds exactly one character");
    let e = error("BEGIN { “x” }");
    assert_eq!(e.span.end - e.span.start, '“'.len_utf8() as u32);
}

#[test]
fn nesting_is_bounded() {
    let deep = format!("BEGIN {{ @x = {}1{}; }}", "(".repeat(200), ")".repeat(200));
    assert!(error(&deep).message.contains("nested too deeply"));
    let long = format!("BEGIN {{ @x = {}1; }}", "1 + ".repeat(3000));
    assert!(error(&long).message.contains("too long"));
    let chain = format!(
        "BEGIN {{ if (x) {{ }} {} }}",
        "else if (x) { } ".repeat(300)
    );
    assert!(error(&chain).message.contains("else"));
}
