//! The kernel VM lane: the `tests/vm/cases/**/*.case` files (same format as `tests/cases`, see
//! `tests/e2e.rs`) run inside Debian's stock cloud kernel booted under qemu (TCG), because the
//! development machine's kernel has no kprobes and no fentry.
//!
//! On the host this binary builds an initramfs (a static busybox, `/init`, the `rdt` binary at
//! the path the harness expects, this binary as the in-VM runner, their shared libraries, the
//! case files), boots qemu, and turns the guest's serial console into ordinary test results:
//! `case vm/<name> ... ok|FAILED|skipped: reason` and a closing `vm: N passed, N failed,
//! N skipped` line. Inside the VM (`RDT_VM_GUEST` set by `/init`) the same binary is the e2e
//! harness pointed at `/cases`.
//!
//! `tests/vm/setup.sh` installs qemu and busybox-static and unpacks the kernel into
//! `$RDT_VM_DIR` (default `<repo>/target/vm`). Without them the lane prints `skipped: <reason>`;
//! under CI (`CI` set) a missing prerequisite is a failure. An argument filters cases by name.

#[path = "e2e.rs"]
#[allow(dead_code)]
mod e2e;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

/// Where the in-VM runner finds the cases.
const GUEST_CASES: &str = "/cases";
/// The whole boot-run-poweroff must finish within this.
const VM_TIMEOUT: Duration = Duration::from_secs(240);
const BEGIN_MARK: &str = "RDT-VM-BEGIN";
const END_MARK: &str = "RDT-VM-END";

fn main() -> ExitCode {
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    if std::env::var_os("RDT_VM_GUEST").is_some() {
        return e2e::run_cases(Path::new(GUEST_CASES), filter);
    }
    match host(filter) {
        Ok(code) => code,
        Err(Unavailable(why)) if std::env::var_os("CI").is_none() => {
            println!("case vm ... skipped: {why}");
            println!("\nvm: 0 passed, 0 failed, 1 skipped");
            ExitCode::SUCCESS
        }
        Err(Unavailable(why)) => {
            println!("case vm ... FAILED: {why} (CI must run the kernel VM lane)");
            ExitCode::FAILURE
        }
    }
}

/// A prerequisite of the lane is missing.
struct Unavailable(String);

fn repo() -> PathBuf {
    let r = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    r.canonicalize().unwrap_or(r)
}

fn host(filter: Option<String>) -> Result<ExitCode, Unavailable> {
    let cache = std::env::var_os("RDT_VM_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/vm"));
    let kernel = cache.join("vmlinuz");
    if !kernel.exists() {
        return Err(Unavailable(format!(
            "no kernel image at {} (run tests/vm/setup.sh)",
            kernel.display()
        )));
    }
    let qemu = find_program("qemu-system-x86_64").ok_or_else(|| {
        Unavailable("qemu-system-x86_64 is not installed (run tests/vm/setup.sh)".into())
    })?;
    let busybox = Path::new("/bin/busybox");
    if !busybox.exists() {
        return Err(Unavailable(
            "/bin/busybox is not installed (run tests/vm/setup.sh)".into(),
        ));
    }
    let initrd = Path::new(env!("CARGO_TARGET_TMPDIR")).join("rdt-vm-initrd.cpio");
    let archive = match build_initramfs(busybox, filter.as_deref()) {
        Ok(a) => a,
        Err(e) => {
            println!("case vm ... FAILED: cannot build the initramfs: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    if let Err(e) = std::fs::write(&initrd, archive) {
        println!("case vm ... FAILED: cannot write {}: {e}", initrd.display());
        return Ok(ExitCode::FAILURE);
    }
    let started = Instant::now();
    let console = match boot(&qemu, &kernel, &initrd) {
        Ok(c) => c,
        Err(e) => {
            println!("case vm ... FAILED: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    Ok(report(&console, started.elapsed()))
}

fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Boots the kernel with the initramfs and returns everything it printed on the serial console.
fn boot(qemu: &Path, kernel: &Path, initrd: &Path) -> Result<String, String> {
    let mut child = Command::new(qemu)
        .args(["-accel", "tcg", "-m", "1024", "-smp", "2"])
        .args(["-nographic", "-no-reboot"])
        .arg("-kernel")
        .arg(kernel)
        .arg("-initrd")
        .arg(initrd)
        .args(["-append", "console=ttyS0 quiet panic=-1 RDT_VM_GUEST=1"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", qemu.display()))?;
    let mut stdout = child.stdout.take().ok_or("qemu has no stdout")?;
    let reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stdout.read_to_end(&mut bytes);
        bytes
    });
    let deadline = Instant::now() + VM_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Err(e) => return Err(format!("waiting for qemu: {e}")),
        }
    };
    let console = String::from_utf8_lossy(&reader.join().unwrap_or_default()).replace('\r', "");
    match status {
        None => Err(format!(
            "the VM did not power off within {}s; console:\n{}",
            VM_TIMEOUT.as_secs(),
            tail(&console)
        )),
        Some(s) if !s.success() => {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            Err(format!(
                "qemu exited with {s}: {err}\nconsole:\n{}",
                tail(&console)
            ))
        }
        Some(_) => Ok(console),
    }
}

fn tail(console: &str) -> String {
    let lines: Vec<&str> = console.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// Re-prints the guest's results as `vm/` cases and decides the outcome.
fn report(console: &str, took: Duration) -> ExitCode {
    let Some(start) = console.find(BEGIN_MARK) else {
        println!(
            "case vm ... FAILED: the VM never started the tests; console:\n{}",
            tail(console)
        );
        return ExitCode::FAILURE;
    };
    let body = &console[start + BEGIN_MARK.len()..];
    let Some(end) = body.find(END_MARK) else {
        println!(
            "case vm ... FAILED: the tests did not finish (the guest crashed?); console:\n{}",
            tail(body)
        );
        return ExitCode::FAILURE;
    };
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    let mut finished = false;
    for line in body[..end].lines() {
        if let Some(rest) = line.strip_prefix("case ") {
            println!("case vm/{rest}");
            if rest.ends_with("... ok") || rest.ends_with("... ok on a second run") {
                passed += 1;
            } else if rest.contains("... FAILED") {
                failed += 1;
            } else if rest.contains("... skipped") {
                skipped += 1;
            }
        } else if line.starts_with("e2e: ") {
            finished = true;
        } else {
            println!("{line}");
        }
    }
    if !finished {
        println!("case vm ... FAILED: the in-VM runner printed no summary line");
        return ExitCode::FAILURE;
    }
    println!(
        "\nvm: {passed} passed, {failed} failed, {skipped} skipped (kernel VM, {:.1}s)",
        took.as_secs_f64()
    );
    if failed > 0 || passed + skipped == 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// The guest's /init. The initramfs is already a RAM file system, and nothing may be mounted
/// over /tmp: the rdt binary sits at its host path, which may be under /tmp (a CI checkout).
const INIT: &str = r#"#!/bin/sh
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tracefs nodev /sys/kernel/tracing
mount -t debugfs nodev /sys/kernel/debug
hostname rdt-vm
ip link set lo up 2>/dev/null
echo RDT-VM-BEGIN
RDT_VM_GUEST=1 /vm-runner $RDT_VM_FILTER
status=$?
# Every rdt has exited: none may leave a probe behind in kprobe_events.
if [ -s /sys/kernel/tracing/kprobe_events ]; then
  echo "case kprobe_events_left_empty ... FAILED"
  cat /sys/kernel/tracing/kprobe_events
else
  echo "case kprobe_events_left_empty ... ok"
fi
echo "RDT-VM-END $status"
poweroff -f
"#;

/// The initramfs as a newc cpio archive, built in memory.
fn build_initramfs(busybox: &Path, filter: Option<&str>) -> Result<Vec<u8>, String> {
    let mut cpio = Cpio::default();
    for dir in [
        "bin", "sbin", "usr/bin", "usr/sbin", "proc", "sys", "dev", "tmp", "etc", "root",
    ] {
        cpio.dir(dir);
    }
    cpio.file("bin/busybox", &read(busybox)?, 0o755);
    cpio.symlink("bin/sh", "busybox");
    let init = match filter {
        Some(f) => INIT.replace("$RDT_VM_FILTER", &shell_word(f)),
        None => INIT.replace(" $RDT_VM_FILTER", ""),
    };
    cpio.file("init", init.as_bytes(), 0o755);
    cpio.file("etc/hostname", b"rdt-vm\n", 0o644);
    cpio.file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n", 0o644);
    cpio.file("etc/group", b"root:x:0:\n", 0o644);

    let rdt = Path::new(env!("CARGO_BIN_EXE_rdt"));
    let runner = std::env::current_exe().map_err(|e| format!("this test's path: {e}"))?;
    // The harness runs rdt from the path it was built with, so rdt goes to the same path.
    cpio.file_at(rdt, &read(rdt)?, 0o755);
    cpio.file("vm-runner", &read(&runner)?, 0o755);
    for lib in shared_libraries(&[rdt, &runner])? {
        cpio.file_at(&lib, &read(&lib)?, 0o755);
    }
    // Cases name example scripts as `{root}/examples/…`, with {root} spelled through
    // crates/rdt/../.. as on the host.
    let root = repo().display().to_string();
    let root = root.trim_start_matches('/');
    cpio.dir(&format!("{root}/crates/rdt"));
    add_tree(
        &mut cpio,
        &repo().join("examples"),
        &format!("{root}/examples"),
    )?;
    let cases = repo().join("tests/vm/cases");
    add_tree(&mut cpio, &cases, GUEST_CASES.trim_start_matches('/'))?;
    Ok(cpio.finish())
}

fn shell_word(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Every shared library (and the dynamic loader) that `binaries` need, from `ldd`.
fn shared_libraries(binaries: &[&Path]) -> Result<Vec<PathBuf>, String> {
    let mut libs = Vec::new();
    for bin in binaries {
        let out = Command::new("ldd")
            .arg(bin)
            .output()
            .map_err(|e| format!("ldd: {e}"))?;
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            // `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)` or `/lib64/ld-linux… (0x…)`
            let path = match line.split_once("=>") {
                Some((_, right)) => right.split_whitespace().next(),
                None => line.split_whitespace().next(),
            };
            if let Some(p) = path.filter(|p| p.starts_with('/')) {
                let p = PathBuf::from(p);
                if !libs.contains(&p) {
                    libs.push(p);
                }
            }
        }
    }
    Ok(libs)
}

fn add_tree(cpio: &mut Cpio, dir: &Path, at: &str) -> Result<(), String> {
    cpio.dir(at);
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let name = format!("{at}/{}", entry.file_name().to_string_lossy());
        if path.is_dir() {
            add_tree(cpio, &path, &name)?;
        } else {
            cpio.file(&name, &read(&path)?, 0o644);
        }
    }
    Ok(())
}

/// A newc ("070701") cpio archive: what the kernel unpacks as the initramfs.
#[derive(Default)]
struct Cpio {
    bytes: Vec<u8>,
    dirs: Vec<String>,
    inode: u32,
}

impl Cpio {
    fn dir(&mut self, path: &str) {
        let path = path.trim_matches('/');
        if path.is_empty() || self.dirs.iter().any(|d| d == path) {
            return;
        }
        if let Some((parent, _)) = path.rsplit_once('/') {
            self.dir(parent);
        }
        self.dirs.push(path.to_string());
        self.entry(path, 0o040755, &[]);
    }

    fn file(&mut self, path: &str, data: &[u8], perm: u32) {
        if let Some((parent, _)) = path.trim_start_matches('/').rsplit_once('/') {
            self.dir(parent);
        }
        self.entry(path.trim_start_matches('/'), 0o100000 | perm, data);
    }

    fn file_at(&mut self, path: &Path, data: &[u8], perm: u32) {
        self.file(&path.display().to_string(), data, perm);
    }

    fn symlink(&mut self, path: &str, target: &str) {
        self.entry(path, 0o120777, target.as_bytes());
    }

    fn entry(&mut self, name: &str, mode: u32, data: &[u8]) {
        self.inode += 1;
        let fields = [
            self.inode,
            mode,
            0,
            0,
            1,
            0,
            data.len() as u32,
            0,
            0,
            0,
            0,
            name.len() as u32 + 1,
            0,
        ];
        self.bytes.extend_from_slice(b"070701");
        for f in fields {
            self.bytes.extend_from_slice(format!("{f:08x}").as_bytes());
        }
        self.bytes.extend_from_slice(name.as_bytes());
        self.bytes.push(0);
        self.pad();
        self.bytes.extend_from_slice(data);
        self.pad();
    }

    fn pad(&mut self) {
        while !self.bytes.len().is_multiple_of(4) {
            self.bytes.push(0);
        }
    }

    fn finish(mut self) -> Vec<u8> {
        self.inode = 0;
        self.entry("TRAILER!!!", 0, &[]);
        self.bytes
    }
}
