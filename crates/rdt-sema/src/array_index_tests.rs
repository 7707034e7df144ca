//! Indexing arrays held in variables and maps (`check/array_index.rs`): constant indexes are
//! checked against the length, computed ones are left to the program with the length recorded.

use super::*;
use crate::ir::{Expr, ExprKind, Stmt, StmtKind};

fn analyzed(script: &str) -> Result<ir::Program, Vec<rdt_syntax::Diagnostic>> {
    let ast = rdt_syntax::parse(script).expect("parses");
    analyze(&ast, &Params::default())
}

/// Every `ArrayElem` length in the printf arguments of `stmts`.
fn element_lengths(stmts: &[Stmt], out: &mut Vec<u32>) {
    for s in stmts {
        if let StmtKind::Printf { args, .. } = &s.kind {
            args.iter().for_each(|a| lengths_in(a, out));
        }
    }
}

fn lengths_in(e: &Expr, out: &mut Vec<u32>) {
    if let ExprKind::ArrayElem { array, len, .. } = &e.kind {
        out.push(*len);
        lengths_in(array, out);
    }
}

#[test]
fn computed_index_of_a_held_string_keeps_its_length() {
    let program = analyzed(
        "tracepoint:raw_syscalls:sys_enter { $c = curtask->comm; $i = 1; printf(\"%c%c\\n\", $c[0], $c[$i]); }",
    );
    let program = match program {
        Ok(p) => p,
        // No kernel BTF or tracefs here: the e2e cases cover it on the real kernel.
        Err(diags) if diags.iter().all(|d| !d.message.contains("index")) => return,
        Err(diags) => panic!("{diags:?}"),
    };
    let mut lengths = Vec::new();
    for p in &program.probes {
        element_lengths(&p.body, &mut lengths);
    }
    assert_eq!(lengths, vec![16, 16]);
}

#[test]
fn constant_index_past_the_end_is_located_with_the_range() {
    let Err(diags) = analyzed("BEGIN { $c = curtask->comm; printf(\"%c\\n\", $c[16]); }") else {
        panic!("index 16 of char[16] accepted");
    };
    let d = diags
        .iter()
        .find(|d| d.message == "index 16 is out of bounds");
    if let Some(d) = d {
        assert_eq!(d.label, "the array has 16 elements");
        assert_eq!(
            d.help,
            vec!["index it with a number from 0 to 15".to_string()]
        );
    } else {
        // Without kernel BTF `curtask` itself is the error.
        assert!(
            diags.iter().any(|d| d.message.contains("kernel types")),
            "{diags:?}"
        );
    }
}
