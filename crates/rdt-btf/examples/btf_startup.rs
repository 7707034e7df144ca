//! Measures what a script that names one struct pays for kernel BTF: reading vmlinux's blob,
//! the first lookup (which builds the type offset table) and a later lookup.
//!
//! `cargo run --release -p rdt-btf --example btf_startup` (numbers in bench/README.md).

use rdt_btf::btf::{self, NameKind};
use std::time::Instant;

fn main() {
    let t0 = Instant::now();
    let btf = match btf::vmlinux() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("skipped: {e}");
            return;
        }
    };
    let read = t0.elapsed();
    let t1 = Instant::now();
    let count = btf.last_id().unwrap_or(0);
    let index = t1.elapsed();
    let t1 = std::time::Instant::now();
    let task = btf.find(NameKind::Struct, "task_struct");
    let first = t1.elapsed();
    let t2 = Instant::now();
    let sock = btf.find(NameKind::Struct, "sockaddr_in6");
    let member = task.and_then(|t| btf.member(t, "real_parent").ok().flatten());
    let second = t2.elapsed();
    let t3 = Instant::now();
    let missing = btf.find(NameKind::Struct, "no_such_struct");
    let miss = t3.elapsed();
    println!(
        "types={} read={:?} index={:?} first_lookup={:?} second_lookup+member={:?} full_scan_miss={:?} total={:?}",
        count,
        read,
        index,
        first,
        second,
        miss,
        t0.elapsed()
    );
    // The alternative design: index every name up front.
    let t4 = Instant::now();
    let mut all = std::collections::HashMap::new();
    for id in 1..=count {
        if let Ok(t) = btf.ty(id) {
            if !t.name.is_empty() {
                all.entry(t.name).or_insert(id);
            }
        }
    }
    println!("full_name_map={:?} ({} names)", t4.elapsed(), all.len());
    assert!(task.is_some() && sock.is_some() && member.is_some() && missing.is_none());
}
