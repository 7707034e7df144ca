//! Real kernel maps written through the `bpf()` layer and read back with `read_map`, then
//! formatted. Needs root (or CAP_BPF); otherwise each test says it is skipped.

use std::os::fd::{AsFd, OwnedFd};

use rdt_codegen::{MapMeta, ValueKind};
use rdt_runtime::bpf_sys::{self, map_type, update_flags};
use rdt_runtime::maps::{read_counters, read_map, Value};
use rdt_runtime::output::format_map;
use rdt_types::Type;

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        println!("skipped: needs root");
    }
    root
}

fn cpus() -> usize {
    bpf_sys::possible_cpus().expect("possible cpus") as usize
}

fn create(kind: u32, key_size: u32, value_size: u32) -> OwnedFd {
    bpf_sys::map_create(kind, key_size, value_size, 1024, "rdt_test").expect("BPF_MAP_CREATE")
}

fn str_key(s: &str, size: usize) -> Vec<u8> {
    let mut b = s.as_bytes().to_vec();
    b.resize(size, 0);
    b
}

/// A per-CPU value of u64 slots: CPU i gets `per_cpu(i)`.
fn per_cpu_u64(per_cpu: impl Fn(usize) -> u64) -> Vec<u8> {
    (0..cpus())
        .flat_map(|cpu| per_cpu(cpu).to_le_bytes())
        .collect()
}

fn meta(
    name: &str,
    key: Option<Type>,
    key_size: u32,
    value: ValueKind,
    value_size: u32,
) -> MapMeta {
    MapMeta {
        name: name.into(),
        kernel_name: "rdt_test".into(),
        key,
        key_size,
        value,
        value_size,
        single_slot: false,
        printed_at_exit: true,
    }
}

#[test]
fn percpu_hash_with_string_keys_counts_every_cpu() {
    if !is_root() {
        return;
    }
    let map = create(map_type::PERCPU_HASH, 16, 8);
    let fd = map.as_fd();
    // Every CPU's slot is written, so a reader that looked at one CPU only would be caught.
    let values = [
        ("bash", per_cpu_u64(|cpu| cpu as u64 + 1)),
        ("sshd", per_cpu_u64(|cpu| if cpu == 0 { 10 } else { 0 })),
        ("cat", per_cpu_u64(|_| 1)),
    ];
    for (name, value) in &values {
        bpf_sys::map_update(fd, &str_key(name, 16), value, update_flags::NOEXIST).expect("update");
    }
    let n = cpus() as u64;
    let m = meta(
        "@opens",
        Some(Type::Str { size: 16 }),
        16,
        ValueKind::Count,
        8,
    );
    let entries = read_map(fd, &m).expect("read_map");
    assert_eq!(entries.len(), 3);

    let bash = n * (n + 1) / 2;
    let mut expected = [("bash", bash), ("sshd", 10), ("cat", n)];
    expected.sort_by_key(|&(name, v)| (v, name));
    let text: String = expected
        .iter()
        .map(|(name, v)| format!("@opens[{name}]: {v}\n"))
        .collect();
    assert_eq!(format_map(&m, &entries), text);
    if n == 2 {
        assert_eq!(
            format_map(&m, &entries),
            "@opens[cat]: 2\n@opens[bash]: 3\n@opens[sshd]: 10\n"
        );
    }
}

#[test]
fn percpu_hash_sums_go_negative() {
    if !is_root() {
        return;
    }
    let map = create(map_type::PERCPU_HASH, 8, 8);
    let fd = map.as_fd();
    let minus_three_on_cpu0 = per_cpu_u64(|cpu| if cpu == 0 { (-3i64) as u64 } else { 0 });
    bpf_sys::map_update(
        fd,
        &(-5i64).to_le_bytes(),
        &minus_three_on_cpu0,
        update_flags::ANY,
    )
    .expect("update");
    let ten_spread = per_cpu_u64(|cpu| if cpu == 0 { 10 } else { 0 });
    bpf_sys::map_update(fd, &7i64.to_le_bytes(), &ten_spread, update_flags::ANY).expect("update");
    let m = meta("@b", Some(Type::I64), 8, ValueKind::Sum, 8);
    let entries = read_map(fd, &m).expect("read_map");
    assert_eq!(format_map(&m, &entries), "@b[-5]: -3\n@b[7]: 10\n");
}

#[test]
fn hash_with_tuple_key_and_plain_int_value() {
    if !is_root() {
        return;
    }
    let key_type = Type::Tuple(vec![Type::Str { size: 16 }, Type::U32, Type::I64]);
    let key_size = key_type.size();
    assert_eq!(key_size, 32);
    let map = create(map_type::HASH, key_size, 8);
    let fd = map.as_fd();
    let key = |comm: &str, cpu: u32, n: i64| {
        let mut k = str_key(comm, 16);
        k.extend_from_slice(&cpu.to_le_bytes());
        k.extend_from_slice(&[0; 4]); // padding before the i64, zero like codegen's keys
        k.extend_from_slice(&n.to_le_bytes());
        k
    };
    for (k, v) in [
        (key("bash", 1, 123), 4i64),
        (key("sshd", 0, -1), -20),
        (key("cat", 1, 0), 4),
    ] {
        bpf_sys::map_update(fd, &k, &v.to_le_bytes(), update_flags::ANY).expect("update");
    }
    let m = meta(
        "@m",
        Some(key_type),
        key_size,
        ValueKind::Plain(Type::I64),
        8,
    );
    let entries = read_map(fd, &m).expect("read_map");
    assert_eq!(
        format_map(&m, &entries),
        "@m[sshd, 0, -1]: -20\n@m[bash, 1, 123]: 4\n@m[cat, 1, 0]: 4\n"
    );
}

#[test]
fn map_without_keys_and_empty_map() {
    if !is_root() {
        return;
    }
    let map = create(map_type::HASH, 8, 8);
    let fd = map.as_fd();
    let m = meta("@x", None, 8, ValueKind::Plain(Type::I64), 8);
    assert_eq!(format_map(&m, &read_map(fd, &m).expect("read empty")), "\n");
    bpf_sys::map_update(
        fd,
        &0u64.to_le_bytes(),
        &5i64.to_le_bytes(),
        update_flags::ANY,
    )
    .expect("update");
    assert_eq!(format_map(&m, &read_map(fd, &m).expect("read")), "@x: 5\n");
}

#[test]
fn element_calls_report_absence_as_false() {
    if !is_root() {
        return;
    }
    let map = create(map_type::HASH, 4, 8);
    let fd = map.as_fd();
    let mut next = [0u8; 4];
    assert!(!bpf_sys::map_get_next_key(fd, None, &mut next).expect("empty map"));
    bpf_sys::map_update(
        fd,
        &1u32.to_le_bytes(),
        &9u64.to_le_bytes(),
        update_flags::NOEXIST,
    )
    .expect("insert");
    let err = bpf_sys::map_update(
        fd,
        &1u32.to_le_bytes(),
        &9u64.to_le_bytes(),
        update_flags::NOEXIST,
    )
    .expect_err("exists");
    assert_eq!(err.raw_os_error(), Some(libc::EEXIST));
    let mut value = [0u8; 8];
    assert!(bpf_sys::map_lookup(fd, &1u32.to_le_bytes(), &mut value).expect("lookup"));
    assert_eq!(u64::from_le_bytes(value), 9);
    assert!(!bpf_sys::map_lookup(fd, &2u32.to_le_bytes(), &mut value).expect("lookup absent"));
    assert!(bpf_sys::map_get_next_key(fd, None, &mut next).expect("first key"));
    assert_eq!(next, 1u32.to_le_bytes());
    assert!(!bpf_sys::map_get_next_key(fd, Some(&1u32.to_le_bytes()), &mut next).expect("end"));
    assert!(bpf_sys::map_delete(fd, &1u32.to_le_bytes()).expect("delete"));
    assert!(!bpf_sys::map_delete(fd, &1u32.to_le_bytes()).expect("delete absent"));
}

#[test]
fn batch_and_key_iteration_agree_on_many_entries() {
    if !is_root() {
        return;
    }
    for (kind, value_size, total) in [
        (map_type::HASH, 8usize, 8),
        (map_type::PERCPU_HASH, 8 * cpus(), 8 * cpus()),
    ] {
        let map = bpf_sys::map_create(kind, 12, 8, 4096, "rdt_batch").expect("create");
        let fd = map.as_fd();
        for i in 0..1000u32 {
            let mut key = i.to_le_bytes().to_vec();
            key.extend_from_slice(&[7; 8]);
            let value: Vec<u8> = (0..total / 8)
                .flat_map(|c| (u64::from(i) * 3 + c as u64).to_le_bytes())
                .collect();
            bpf_sys::map_update(fd, &key, &value, update_flags::ANY).expect("update");
        }
        let mut batch =
            bpf_sys::map_lookup_batch(fd, 12, value_size).expect("batch lookup (kernel 5.6+)");
        let mut by_key = bpf_sys::map_entries_by_key(fd, 12, value_size).expect("iterate");
        batch.sort();
        by_key.sort();
        assert_eq!(batch.len(), 1000);
        assert_eq!(batch, by_key);
    }
}

#[test]
fn counters_are_summed_over_cpus() {
    if !is_root() {
        return;
    }
    let map = create(map_type::PERCPU_ARRAY, 4, 8);
    let fd = map.as_fd();
    bpf_sys::map_update(
        fd,
        &0u32.to_le_bytes(),
        &per_cpu_u64(|cpu| cpu as u64 + 1),
        update_flags::ANY,
    )
    .expect("update");
    bpf_sys::map_update(
        fd,
        &2u32.to_le_bytes(),
        &per_cpu_u64(|_| 5),
        update_flags::ANY,
    )
    .expect("update");
    let n = cpus() as u64;
    // Slots 0 and 2 were written; every other counter (however many there are) reads 0.
    let counts = read_counters(fd).expect("counters");
    assert_eq!(counts[..3], [n * (n + 1) / 2, 0, 5 * n]);
    assert!(counts[3..].iter().all(|&c| c == 0));
}

#[test]
fn plain_string_values_read_back() {
    if !is_root() {
        return;
    }
    let map = create(map_type::HASH, 8, 16);
    let fd = map.as_fd();
    bpf_sys::map_update(
        fd,
        &2i64.to_le_bytes(),
        &str_key("b", 16),
        update_flags::ANY,
    )
    .expect("update");
    bpf_sys::map_update(
        fd,
        &(-1i64).to_le_bytes(),
        &str_key("a", 16),
        update_flags::ANY,
    )
    .expect("update");
    let m = meta(
        "@x",
        Some(Type::I64),
        8,
        ValueKind::Plain(Type::Str { size: 16 }),
        16,
    );
    let entries = read_map(fd, &m).expect("read_map");
    assert!(entries.iter().any(|e| e.value == Value::Str("a".into())));
    assert_eq!(format_map(&m, &entries), "@x[2]: b\n@x[-1]: a\n");
}
