//! The BTF reader against this machine's real `/sys/kernel/btf/vmlinux`.
//!
//! A kernel without BTF prints `skipped: …` and returns.

use rdt_btf::btf::{self, Btf, Kind, NameKind};

fn vmlinux() -> Option<&'static Btf> {
    match btf::vmlinux() {
        Ok(b) => Some(b),
        Err(e) => {
            eprintln!("skipped: no kernel BTF ({e})");
            None
        }
    }
}

#[test]
fn task_struct_members() {
    let Some(btf) = vmlinux() else { return };
    let task = btf
        .find(NameKind::Struct, "task_struct")
        .expect("task_struct");
    let size = btf.size_of(task).unwrap().unwrap();
    assert!(size > 1000, "task_struct is {size} bytes");
    let pid = btf.member(task, "pid").unwrap().expect("pid");
    assert_eq!(btf.type_name(pid.ty), "pid_t");
    assert_eq!(pid.bit_offset % 8, 0);
    assert_eq!(btf.size_of(pid.ty), Ok(Some(4)));
    let comm = btf.member(task, "comm").unwrap().expect("comm");
    assert_eq!(btf.type_name(comm.ty), "char[16]");
    let parent = btf
        .member(task, "real_parent")
        .unwrap()
        .expect("real_parent");
    assert_eq!(btf.type_name(parent.ty), "struct task_struct *");
    assert!(btf.member(task, "no_such_member").unwrap().is_none());
    assert!(btf.member_names(task).contains(&"tgid"));
}

#[test]
fn list_head_is_two_pointers() {
    let Some(btf) = vmlinux() else { return };
    let id = btf.find(NameKind::Struct, "list_head").expect("list_head");
    let members = btf.members(id).unwrap();
    let names: Vec<_> = members.iter().map(|m| (m.name, m.bit_offset)).collect();
    assert_eq!(names, [("next", 0), ("prev", 64)]);
    assert_eq!(btf.size_of(id), Ok(Some(16)));
    assert_eq!(btf.type_name(members[0].ty), "struct list_head *");
}

#[test]
fn bitfields_have_sizes_and_bit_offsets() {
    let Some(btf) = vmlinux() else { return };
    // struct sock: `sk_protocol` and friends were bitfields for a long time; task_struct has
    // `sched_reset_on_fork:1` and neighbours on every recent kernel.
    let task = btf.find(NameKind::Struct, "task_struct").unwrap();
    let m = btf
        .member(task, "sched_reset_on_fork")
        .unwrap()
        .expect("sched_reset_on_fork");
    assert_eq!(m.bitfield_size, 1);
    let contiguous = btf
        .member(task, "sched_contributes_to_load")
        .unwrap()
        .unwrap();
    assert_eq!(contiguous.bitfield_size, 1);
    assert_eq!(contiguous.bit_offset, m.bit_offset + 1);
}

#[test]
fn anonymous_members_are_searched() {
    let Some(btf) = vmlinux() else { return };
    // `struct page` keeps nearly everything inside anonymous unions and structs.
    let page = btf.find(NameKind::Struct, "page").expect("page");
    let direct: Vec<_> = btf.members(page).unwrap().iter().map(|m| m.name).collect();
    assert!(!direct.contains(&"lru"));
    let lru = btf
        .member(page, "lru")
        .unwrap()
        .expect("lru through an anonymous union");
    assert!(lru.bit_offset > 0);
}

#[test]
fn enums_name_their_values() {
    let Some(btf) = vmlinux() else { return };
    let id = btf.find(NameKind::Enum, "pid_type").expect("enum pid_type");
    assert_eq!(btf.enum_name(id, 0), Ok(Some("PIDTYPE_PID")));
    assert_eq!(btf.enum_name(id, 1), Ok(Some("PIDTYPE_TGID")));
    assert_eq!(btf.ty(id).unwrap().kind, Kind::Enum);
}

#[test]
fn enumerators_are_found_by_name() {
    let Some(btf) = vmlinux() else { return };
    let id = btf.find(NameKind::Enum, "pid_type").expect("enum pid_type");
    assert_eq!(btf.find_enumerator("PIDTYPE_SID"), Some((id, 3)));
    assert_eq!(btf.find_enumerator("NO_SUCH_ENUMERATOR_ANYWHERE"), None);
}

#[test]
fn function_prototypes_name_their_parameters() {
    let Some(btf) = vmlinux() else { return };
    let f = btf
        .find(NameKind::Func, "do_sys_openat2")
        .expect("do_sys_openat2");
    let (params, ret) = btf.func_params(f).unwrap();
    let spelled: Vec<String> = params
        .iter()
        .map(|p| format!("{} {}", btf.type_name(p.ty), p.name))
        .collect();
    assert_eq!(
        spelled,
        ["int dfd", "const char * filename", "struct open_how * how"]
    );
    // `long` before 6.9, `int` since.
    assert!(matches!(btf.type_name(ret).as_str(), "long int" | "int"));
    // Raw tracepoints: `btf_trace_<name>` is a pointer to a prototype whose first parameter is
    // the tracepoint's private data.
    let tp = btf
        .find(NameKind::Typedef, "btf_trace_sched_switch")
        .expect("typedef");
    let proto = btf.ty(btf.resolve(tp).unwrap()).unwrap();
    assert_eq!(proto.kind, Kind::Ptr);
    let (params, _) = btf.func_params(proto.size_or_type).unwrap();
    assert_eq!(params[0].name, "");
    assert!(params.len() >= 4);
}

#[test]
fn a_struct_lookup_is_fast() {
    let Some(btf) = vmlinux() else { return };
    // Measured in bench/README.md; here only a generous bound that catches an accidental full
    // index of every name (which costs tens of milliseconds).
    let start = std::time::Instant::now();
    let id = btf.find(NameKind::Struct, "sockaddr_in6");
    assert!(id.is_some());
    let took = start.elapsed();
    assert!(took.as_millis() < 50, "lookup took {took:?}");
}
