//! rdt-btf against the real tracefs of this machine (run as root).
//!
//! Without root these tests print `skipped: …` and return: they cannot see tracefs.
//! The mount tests re-run this test binary in a child that unshares its mount namespace and
//! unmounts tracefs there, so the machine's own mount is never touched.

use std::path::Path;
use std::process::Command;

use rdt_btf::tracefs::{self, TracefsError};

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

macro_rules! require_root {
    () => {
        if !is_root() {
            eprintln!("skipped: needs root to read tracefs");
            return;
        }
    };
}

#[test]
fn root_has_events() {
    require_root!();
    let root = tracefs::root().expect("tracefs root");
    assert!(root.join("events").is_dir(), "{}", root.display());
    // Cached: the same answer again.
    assert_eq!(tracefs::root().unwrap(), root);
}

#[test]
fn sys_enter_openat_format() {
    require_root!();
    let f = tracefs::event_format("syscalls", "sys_enter_openat").unwrap();
    let root = tracefs::root().unwrap();
    let id: u32 = std::fs::read_to_string(root.join("events/syscalls/sys_enter_openat/id"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(f.id, id);
    let filename = f.field("filename").unwrap();
    assert_eq!(filename.c_type, "const char *");
    assert_eq!((filename.offset, filename.size), (24, 8));
    assert_eq!(
        f.field_names(),
        ["__syscall_nr", "dfd", "filename", "flags", "mode"]
    );
    assert!(f.field("common_pid").unwrap().common);
}

#[test]
fn sched_formats() {
    require_root!();
    let sw = tracefs::event_format("sched", "sched_switch").unwrap();
    let comm = sw.field("next_comm").unwrap();
    assert_eq!(
        (comm.c_type.as_str(), comm.array_len, comm.size),
        ("char[16]", Some(16), 16)
    );
    assert_eq!(sw.field("prev_pid").unwrap().c_type, "pid_t");
    let exec = tracefs::event_format("sched", "sched_process_exec").unwrap();
    let filename = exec.field("filename").unwrap();
    assert!(filename.data_loc && filename.is_string());
    assert_eq!((filename.c_type.as_str(), filename.size), ("char[]", 4));
}

#[test]
fn missing_category_and_event() {
    require_root!();
    assert_eq!(
        tracefs::event_format("no_such_category", "x"),
        Err(TracefsError::NoSuchCategory {
            category: "no_such_category".into()
        })
    );
    assert_eq!(
        tracefs::event_format("sched", "sched_swich"),
        Err(TracefsError::NoSuchEvent {
            category: "sched".into(),
            name: "sched_swich".into()
        })
    );
    // The files next to events are not events.
    assert!(matches!(
        tracefs::event_format("sched", "enable"),
        Err(TracefsError::NoSuchEvent { .. })
    ));
}

#[test]
fn list_events_globs() {
    require_root!();
    let open = tracefs::list_events("syscalls:sys_enter_open*").unwrap();
    let names: Vec<&str> = open.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "sys_enter_open",
            "sys_enter_open_by_handle_at",
            "sys_enter_open_tree",
            "sys_enter_open_tree_attr",
            "sys_enter_openat",
            "sys_enter_openat2"
        ]
    );
    assert!(open.iter().all(|(c, _)| c == "syscalls"));
    assert_eq!(
        tracefs::list_events("sched:sched_sw?tch").unwrap(),
        [("sched".to_string(), "sched_switch".to_string())]
    );
    let all = tracefs::list_events("*:*").unwrap();
    assert!(all.len() > 500, "{}", all.len());
    assert!(all.windows(2).all(|w| w[0] < w[1]), "sorted and unique");
    assert!(tracefs::list_events("no_such:*").unwrap().is_empty());
    assert!(tracefs::categories()
        .unwrap()
        .iter()
        .any(|c| c == "raw_syscalls"));
}

/// Every `format` file of this kernel parses, and its ID matches the `id` file.
#[test]
fn every_format_on_this_kernel_parses() {
    require_root!();
    let root = tracefs::root().unwrap();
    let all = tracefs::list_events("*:*").unwrap();
    let mut fields = 0;
    for (cat, name) in &all {
        let f = tracefs::event_format(cat, name).unwrap_or_else(|e| panic!("{cat}:{name}: {e}"));
        fields += f.fields.len();
        let id_file = root.join("events").join(cat).join(name).join("id");
        if let Ok(id) = std::fs::read_to_string(id_file) {
            assert_eq!(f.id, id.trim().parse::<u32>().unwrap(), "{cat}:{name}");
        }
        for fl in &f.fields {
            if fl.array_len.is_none() && !fl.data_loc && !fl.rel_loc {
                assert!(
                    matches!(fl.size, 1 | 2 | 4 | 8 | 16),
                    "{cat}:{name}: {fl:?}"
                );
            }
            if fl.is_dynamic() {
                assert_eq!(fl.size, 4, "{cat}:{name}: {fl:?}");
            }
        }
    }
    eprintln!("{} events, {fields} fields parsed", all.len());
}

/// Every syscall tracepoint of this kernel has a number in the compiled-in table, and the
/// `__syscall_nr` field agrees on where the number lives.
#[test]
fn every_syscall_tracepoint_has_a_number() {
    require_root!();
    let enters = tracefs::list_events("syscalls:sys_enter_*").unwrap();
    assert!(enters.len() > 300, "{}", enters.len());
    for (_, name) in &enters {
        let sys = name.strip_prefix("sys_enter_").unwrap();
        assert!(
            tracefs::syscall_number(sys).is_some(),
            "no number for syscall `{sys}`"
        );
    }
    let raw = tracefs::event_format("raw_syscalls", "sys_enter").unwrap();
    assert_eq!(raw.field("id").unwrap().c_type, "long");
}

// ---------------------------------------------------------------------------------------------
// Mounting: in a child process with its own mount namespace.

const CHILD_ENV: &str = "RDT_BTF_MOUNT_CHILD";

/// Runs the ignored test `name` of this binary in a child; returns its stdout, or None when
/// the child could not set up its namespace (reported as skipped).
fn run_child(name: &str, mode: &str) -> Option<String> {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            name,
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, mode)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "child failed:\n{stdout}\n{stderr}");
    if stdout.contains("CHILD-SKIP") {
        eprintln!(
            "skipped: {}",
            stdout.lines().find(|l| l.contains("CHILD-SKIP")).unwrap()
        );
        return None;
    }
    assert!(
        stdout.contains("CHILD-OK"),
        "child did not run:\n{stdout}\n{stderr}"
    );
    Some(stdout)
}

/// In the child: a private mount namespace with no tracefs anywhere. False if impossible.
fn unmount_tracefs_privately() -> bool {
    // SAFETY: plain syscalls with valid NUL-terminated strings.
    unsafe {
        if libc::unshare(libc::CLONE_NEWNS) != 0 {
            println!(
                "CHILD-SKIP unshare(CLONE_NEWNS): {}",
                std::io::Error::last_os_error()
            );
            return false;
        }
        let none = c"none";
        if libc::mount(
            none.as_ptr(),
            c"/".as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        ) != 0
        {
            println!(
                "CHILD-SKIP make / private: {}",
                std::io::Error::last_os_error()
            );
            return false;
        }
        // Possibly stacked mounts; detach them all.
        for _ in 0..16 {
            if libc::umount2(c"/sys/kernel/tracing".as_ptr(), libc::MNT_DETACH) != 0 {
                break;
            }
        }
        for _ in 0..16 {
            if libc::umount2(c"/sys/kernel/debug".as_ptr(), libc::MNT_DETACH) != 0 {
                break;
            }
        }
    }
    let gone = !Path::new("/sys/kernel/tracing/events").exists()
        && !Path::new("/sys/kernel/debug/tracing/events").exists();
    if !gone {
        println!("CHILD-SKIP could not unmount tracefs in the child");
    }
    gone
}

#[test]
fn mounts_tracefs_when_missing() {
    require_root!();
    if let Some(out) = run_child("child_mounts_tracefs", "mount") {
        assert!(out.contains("mounted at /sys/kernel/tracing"), "{out}");
    }
}

#[test]
#[ignore = "helper run by mounts_tracefs_when_missing in a child process"]
fn child_mounts_tracefs() {
    if std::env::var(CHILD_ENV).as_deref() != Ok("mount") || !unmount_tracefs_privately() {
        return;
    }
    let root = tracefs::root().expect("root() should mount tracefs");
    assert_eq!(root, Path::new("/sys/kernel/tracing"));
    assert!(root.join("events").is_dir());
    assert!(tracefs::event_format("sched", "sched_switch").is_ok());
    println!("mounted at {}", root.display());
    println!("CHILD-OK");
}

#[test]
fn says_root_is_needed_when_it_cannot_mount() {
    require_root!();
    if let Some(out) = run_child("child_cannot_mount", "eperm") {
        assert!(out.contains("rdt needs root"), "{out}");
    }
}

#[test]
#[ignore = "helper run by says_root_is_needed_when_it_cannot_mount in a child process"]
fn child_cannot_mount() {
    if std::env::var(CHILD_ENV).as_deref() != Ok("eperm") || !unmount_tracefs_privately() {
        return;
    }
    // Become `nobody`: no CAP_SYS_ADMIN, so mount(2) says EPERM.
    // SAFETY: plain syscalls.
    unsafe {
        assert_eq!(libc::setgroups(0, std::ptr::null()), 0);
        assert_eq!(libc::setgid(65534), 0);
        assert_eq!(libc::setuid(65534), 0);
    }
    let err = tracefs::root().unwrap_err();
    assert!(matches!(err, TracefsError::NeedRoot { .. }), "{err:?}");
    // Cached: the same error again, and every other entry point reports it.
    assert_eq!(tracefs::root().unwrap_err(), err);
    assert_eq!(
        tracefs::event_format("sched", "sched_switch").unwrap_err(),
        err
    );
    assert_eq!(tracefs::list_events("*:*").unwrap_err(), err);
    println!("{err}");
    println!("CHILD-OK");
}
