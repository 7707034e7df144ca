//! End-to-end cases: each `tests/cases/**/*.case` file is a script plus what running it must
//! print. Every case runs the real `rdt` binary as root against the real kernel.
//!
//! Case file format (sections start with `--- `):
//!
//! ```text
//! # free-form comment lines at the top
//! --- args            extra command-line arguments, one per line (optional); `{root}` is the
//!                     repository, `{tmp}` the case's scratch directory
//! --- script          the script, passed as a file named <case>.d (omit for args-only cases)
//! --- stdout          exact expected standard output
//! --- stdout-regex    each line a regex that must match the whole corresponding output line
//! --- stdout-regex-unordered  the same, with the lines in any order
//! --- stdout-contains each line must appear as a whole line somewhere in the output (`~ RE`:
//!                     some line matches the regex RE)
//! --- stderr          exact expected standard error (diagnostics)
//! --- stderr-contains each line must appear as a substring of standard error
//! --- exit            expected exit status (default 0)
//! --- needs           `root` (the default) or `none`
//! --- sigint-after-ms send SIGINT after N ms (also `sigterm-after-ms`)
//! --- env             environment variables for rdt, `NAME=value`, one per line
//! --- output-file     exact expected contents of the file `{tmp}/out` after the run (for `-o`)
//! --- skip-unless-stdout  a regex, then a reason: when no stdout line matches the regex, the
//!                     case is skipped with that reason (events this machine may not produce)
//!
//! In args, `{sleeper}` is the pid of a `sleep 2` started for the case (for `-p`).
//! In args and script, `{cgroup2}` is where cgroup2 is mounted (`/sys/fs/cgroup/unified` on a
//! hybrid hierarchy, `/sys/fs/cgroup` on a unified one) and `{cgroup}` the harness's own cgroup2
//! path below it (`/` at the root, `/system.slice/x.service` under systemd): rdt inherits it.
//! `--- stdin` is given to rdt (and so to a `-c` command) as its standard input.
//! `--- background` lists command lines (one per line, `{targets}` substituted) started before
//! rdt; `{bg0}`, `{bg1}`, … in args and script are their pids (for `-p` on a chosen program).
//! In args and script, `{targets}` is the directory holding the test target programs: every
//! `tests/targets/<name>.c` is compiled once per run into `{targets}/<name>` with
//! `gcc -g -O1 -fno-omit-frame-pointer` plus the flags of an optional first line
//! `// cflags: …` (e.g. `-lpthread`).
//! ```
//!
//! `BLESS=1` rewrites the trailing `--- stderr` section of each case with the actual text.
//!
//! The harness prints one line per case and closes with `N passed (R on a second run), N failed,
//! N skipped`. A case that fails runs once more; passing then, it counts as passed and is listed
//! at the end with its first failure, so a case that races the clock is seen, not hidden.

use regex::Regex;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::Mutex;
use std::time::Duration;

#[derive(Default, Debug)]
struct Case {
    name: String,
    args: Vec<String>,
    script: Option<String>,
    stdout: Option<String>,
    stdout_regex: Option<Vec<String>>,
    /// The `stdout-regex` lines may appear in any order (a traced command's own output races
    /// with rdt's).
    stdout_unordered: bool,
    stdout_contains: Option<Vec<String>>,
    stderr: Option<String>,
    stderr_contains: Option<Vec<String>>,
    exit: i32,
    needs_root: bool,
    /// Send SIGINT (or SIGTERM) this many milliseconds after start.
    signal_after: Option<(i32, u64)>,
    /// `NAME=value` pairs set for rdt.
    env: Vec<(String, String)>,
    /// Commands started before rdt; their pids are `{bg0}`, `{bg1}`, …
    background: Vec<String>,
    /// Standard input for rdt.
    stdin: Option<String>,
    /// Expected contents of `{tmp}/out` after the run.
    output_file: Option<String>,
    /// `(regex, reason)`: skip unless some stdout line matches.
    skip_unless: Option<(String, String)>,
}

enum Outcome {
    Pass,
    /// Failed once, then passed: a case that raced the clock on a loaded machine. Counted as
    /// passed and listed with the first run's failure, so a flaky case is seen, not hidden.
    PassOnRetry(String),
    Fail(String),
    Skip(String),
}

#[allow(dead_code)] // the kernel VM lane (tests/vm.rs) includes this file and calls run_cases
fn main() -> ExitCode {
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/cases");
    run_cases(&root, filter)
}

/// Runs every case under `root` whose name contains `filter`; prints one line per case and a
/// summary.
pub fn run_cases(root: &Path, filter: Option<String>) -> ExitCode {
    let root = root.to_path_buf();
    let mut files = Vec::new();
    collect(&root, &mut files);
    files.sort();
    let mut cases = Vec::new();
    let mut bad_files = 0;
    for f in &files {
        let name = f
            .strip_prefix(&root)
            .unwrap_or(f)
            .with_extension("")
            .display()
            .to_string();
        if filter
            .as_ref()
            .is_some_and(|flt| !name.contains(flt.as_str()))
        {
            continue;
        }
        match parse_case(&name, f) {
            Ok(c) => cases.push(c),
            Err(e) => {
                println!("case {name} ... FAILED (bad case file: {e})");
                bad_files += 1;
            }
        }
    }
    let targets = match build_targets() {
        Ok(dir) => dir,
        Err(e) => {
            println!("e2e: cannot build the test targets: {e}");
            return ExitCode::FAILURE;
        }
    };
    let is_root = unsafe { libc::geteuid() } == 0;
    let results = Mutex::new(Vec::new());
    let queue = Mutex::new(cases.iter());
    std::thread::scope(|s| {
        for _ in 0..4 {
            // The queue's lock is released before the case runs, so the cases run in parallel.
            let (queue, results, targets) = (&queue, &results, &targets);
            let next = move || queue.lock().ok().and_then(|mut q| q.next());
            s.spawn(move || {
                while let Some(case) = next() {
                    let outcome = match run_case(case, is_root, targets) {
                        Outcome::Fail(first) => match run_case(case, is_root, targets) {
                            Outcome::Pass => Outcome::PassOnRetry(first),
                            again => again,
                        },
                        outcome => outcome,
                    };
                    report(case, &outcome);
                    if let Ok(mut r) = results.lock() {
                        r.push((case.name.as_str(), outcome));
                    }
                }
            });
        }
    });
    let results = results.into_inner().unwrap_or_default();
    let count = |pick: fn(&Outcome) -> bool| results.iter().filter(|(_, o)| pick(o)).count();
    let passed = count(|o| matches!(o, Outcome::Pass | Outcome::PassOnRetry(_)));
    let retried = count(|o| matches!(o, Outcome::PassOnRetry(_)));
    let failed = count(|o| matches!(o, Outcome::Fail(_))) + bad_files;
    let skipped = count(|o| matches!(o, Outcome::Skip(_)));
    // Retried and failed cases again, last: a CI log is often read from its tail only.
    for (name, outcome) in &results {
        match outcome {
            Outcome::PassOnRetry(first) => {
                println!("\npassed on a second run: {name}; the first run failed:\n{first}")
            }
            Outcome::Fail(why) => println!("\nfailed: {name}\n{why}"),
            _ => {}
        }
    }
    println!(
        "\ne2e: {passed} passed ({retried} on a second run), {failed} failed, {skipped} skipped"
    );
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn report(case: &Case, outcome: &Outcome) {
    match outcome {
        Outcome::Pass => println!("case {} ... ok", case.name),
        Outcome::PassOnRetry(_) => println!("case {} ... ok on a second run", case.name),
        Outcome::Fail(why) => println!("case {} ... FAILED\n{why}", case.name),
        Outcome::Skip(why) => println!("case {} ... skipped: {why}", case.name),
    }
}

/// Where cgroup2 is mounted and which cgroup2 directory this process is in: machines differ
/// (hybrid or unified hierarchy; a CI job may run in a systemd service's cgroup).
struct Cgroup2 {
    mount: String,
    own: String,
}

impl Cgroup2 {
    fn of_this_process() -> Cgroup2 {
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let mount = mountinfo
            .lines()
            .find_map(|line| {
                let (left, right) = line.split_once(" - ")?;
                (right.split_whitespace().next()? == "cgroup2")
                    .then(|| left.split_whitespace().nth(4).map(str::to_string))?
            })
            .unwrap_or_else(|| "(cgroup2 is not mounted)".into());
        let cgroups = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
        let own = cgroups
            .lines()
            .find_map(|l| l.strip_prefix("0::"))
            .unwrap_or("/")
            .to_string();
        Cgroup2 { mount, own }
    }
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "case") {
            out.push(p);
        }
    }
}

fn parse_case(name: &str, path: &Path) -> Result<Case, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let mut case = Case {
        name: name.to_string(),
        needs_root: true,
        ..Case::default()
    };
    let mut section: Option<String> = None;
    let mut body = String::new();
    let finish =
        |section: &Option<String>, body: &mut String, case: &mut Case| -> Result<(), String> {
            let text = std::mem::take(body);
            let lines = || {
                text.lines()
                    .map(str::to_string)
                    .filter(|l| !l.is_empty())
                    .collect::<Vec<_>>()
            };
            match section.as_deref() {
                None => {}
                Some("args") => case.args = lines(),
                Some("script") => case.script = Some(text),
                Some("stdout") => case.stdout = Some(text),
                Some("stdout-regex") => {
                    case.stdout_regex = Some(text.lines().map(str::to_string).collect())
                }
                Some("stdout-regex-unordered") => {
                    case.stdout_regex = Some(text.lines().map(str::to_string).collect());
                    case.stdout_unordered = true;
                }
                Some("stdout-contains") => case.stdout_contains = Some(lines()),
                Some("stderr") => case.stderr = Some(text),
                Some("output-file") => case.output_file = Some(text),
                Some("skip-unless-stdout") => {
                    let l = lines();
                    case.skip_unless = Some((
                        l.first().cloned().unwrap_or_default(),
                        l.get(1).cloned().unwrap_or_default(),
                    ));
                }
                Some("stderr-contains") => case.stderr_contains = Some(lines()),
                Some("exit") => {
                    case.exit = text
                        .trim()
                        .parse()
                        .map_err(|_| format!("bad exit status `{}`", text.trim()))?
                }
                Some("needs") => case.needs_root = text.trim() != "none",
                Some("env") => {
                    for line in lines() {
                        let (k, v) = line
                            .split_once('=')
                            .ok_or_else(|| format!("bad env line `{line}`"))?;
                        case.env.push((k.to_string(), v.to_string()));
                    }
                }
                Some("background") => case.background = lines(),
                Some("stdin") => case.stdin = Some(text),
                Some("sigint-after-ms") => {
                    case.signal_after = Some((
                        libc::SIGINT,
                        text.trim().parse().map_err(|_| "bad ms".to_string())?,
                    ))
                }
                Some("sigterm-after-ms") => {
                    case.signal_after = Some((
                        libc::SIGTERM,
                        text.trim().parse().map_err(|_| "bad ms".to_string())?,
                    ))
                }
                Some(other) => return Err(format!("unknown section `{other}`")),
            }
            Ok(())
        };
    for line in text.split_inclusive('\n') {
        if let Some(name) = line.strip_prefix("--- ") {
            finish(&section, &mut body, &mut case)?;
            section = Some(name.trim().to_string());
        } else if section.is_some() {
            body.push_str(line);
        }
    }
    finish(&section, &mut body, &mut case)?;
    Ok(case)
}

/// Compiles every `tests/targets/*.c` into one directory and returns it.
fn build_targets() -> Result<PathBuf, String> {
    let sources = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/targets");
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("test-targets");
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let Ok(entries) = std::fs::read_dir(&sources) else {
        return Ok(out);
    };
    for entry in entries.flatten() {
        let src = entry.path();
        if src.extension().is_none_or(|e| e != "c") {
            continue;
        }
        let text = std::fs::read_to_string(&src).map_err(|e| format!("{}: {e}", src.display()))?;
        let extra = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("// cflags:"))
            .unwrap_or("");
        let name = src.file_stem().unwrap_or_default();
        let status = Command::new("gcc")
            .args(["-g", "-O1", "-fno-omit-frame-pointer", "-o"])
            .arg(out.join(name))
            .arg(&src)
            .args(extra.split_whitespace())
            .status()
            .map_err(|e| format!("gcc: {e}"))?;
        if !status.success() {
            return Err(format!("gcc failed on {}", src.display()));
        }
    }
    Ok(out)
}

fn run_case(case: &Case, is_root: bool, targets: &Path) -> Outcome {
    if case.needs_root && !is_root {
        return Outcome::Skip("needs root to load BPF programs".into());
    }
    // Under the build's target directory rather than /tmp: that is on a disk wherever the
    // checkout is, while /tmp may be a tmpfs (no block I/O, no writeback to trace).
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "e2e-{}-{}",
        std::process::id(),
        case.name.replace('/', "_")
    ));
    if let Err(e) = std::fs::create_dir_all(&dir) {
        return Outcome::Fail(format!("cannot create {}: {e}", dir.display()));
    }
    // `{sleeper}`: the pid of a `sleep 2` started for the case (for -p).
    let mut sleeper = None;
    if case.args.iter().any(|a| a.contains("{sleeper}")) {
        match Command::new("sleep").arg("2").spawn() {
            Ok(child) => sleeper = Some(child),
            Err(e) => return Outcome::Fail(format!("cannot start sleep: {e}")),
        }
    }
    let mut background = Vec::new();
    for line in &case.background {
        let line = line.replace("{targets}", &targets.display().to_string());
        let mut words = line.split_whitespace();
        let Some(program) = words.next() else {
            continue;
        };
        match Command::new(program)
            .args(words)
            .stdout(std::process::Stdio::null())
            .spawn()
        {
            Ok(child) => background.push(child),
            Err(e) => return Outcome::Fail(format!("cannot start `{line}`: {e}")),
        }
    }
    let background_pids: Vec<String> = background.iter().map(|c| c.id().to_string()).collect();
    let with_background = |mut text: String| {
        for (i, pid) in background_pids.iter().enumerate() {
            text = text.replace(&format!("{{bg{i}}}"), pid);
        }
        text
    };
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let repo = repo.canonicalize().unwrap_or(repo);
    let sleeper_pid = sleeper
        .as_ref()
        .map(|c| c.id().to_string())
        .unwrap_or_default();
    let cgroup2 = Cgroup2::of_this_process();
    let substitute = |a: &String| {
        with_background(a.clone())
            .replace("{tmp}", &dir.display().to_string())
            .replace("{root}", &repo.display().to_string())
            .replace("{sleeper}", &sleeper_pid)
            .replace("{targets}", &targets.display().to_string())
            .replace("{cgroup2}", &cgroup2.mount)
            .replace("{cgroup}", &cgroup2.own)
    };
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rdt"));
    cmd.current_dir(&dir)
        .args(case.args.iter().map(substitute))
        .envs(case.env.iter().map(|(k, v)| (k, v)));
    if let Some(script) = &case.script {
        let file = format!("{}.d", case.name.rsplit('/').next().unwrap_or("case"));
        if let Err(e) = std::fs::write(dir.join(&file), substitute(script)) {
            return Outcome::Fail(format!("cannot write the script: {e}"));
        }
        cmd.arg(file);
    }
    if let Some(input) = &case.stdin {
        let path = dir.join("stdin");
        match std::fs::write(&path, input).and_then(|()| std::fs::File::open(&path)) {
            Ok(file) => {
                cmd.stdin(file);
            }
            Err(e) => return Outcome::Fail(format!("cannot write the case's stdin: {e}")),
        }
    } else {
        // Not the harness's own standard input: under CI that may be a pipe that never closes.
        cmd.stdin(std::process::Stdio::null());
    }
    let output = run_with_timeout(cmd, Duration::from_secs(60), case.signal_after);
    if let Some(mut s) = sleeper {
        let _ = s.wait();
    }
    for mut child in background {
        let _ = child.kill();
        let _ = child.wait();
    }
    let output = match output {
        Ok(o) => o,
        Err(e) => return Outcome::Fail(e),
    };
    let written = std::fs::read_to_string(dir.join("out"));
    let _ = std::fs::remove_dir_all(&dir);
    if std::env::var_os("BLESS").is_some() {
        bless(case, &output);
    }
    match (&case.output_file, written) {
        (Some(want), Ok(got)) if &got != want => Outcome::Fail(format!(
            "{{tmp}}/out differs; expected:\n{want}--- got\n{got}"
        )),
        (Some(_), Err(e)) => Outcome::Fail(format!("cannot read {{tmp}}/out: {e}")),
        _ => match &case.skip_unless {
            Some((pattern, reason)) if !stdout_matches(&output.stdout, pattern) => {
                Outcome::Skip(reason.clone())
            }
            _ => check(case, &output),
        },
    }
}

/// Whether some line of `stdout` matches `pattern` entirely.
fn stdout_matches(stdout: &[u8], pattern: &str) -> bool {
    // A bad regex must not turn the case into a skip: let the checks run (and fail).
    let Ok(re) = Regex::new(&format!("^(?:{pattern})$")) else {
        return true;
    };
    String::from_utf8_lossy(stdout)
        .lines()
        .any(|l| re.is_match(l))
}

/// `BLESS=1`: rewrite a case's trailing `--- stderr` section with what rdt printed.
fn bless(case: &Case, output: &std::process::Output) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/cases")
        .join(format!("{}.case", case.name));
    let Ok(text) = std::fs::read_to_string(&path) else {
        return;
    };
    let Some(at) = text.rfind("--- stderr\n") else {
        return;
    };
    let blessed = format!(
        "{}--- stderr\n{}",
        &text[..at],
        String::from_utf8_lossy(&output.stderr)
    );
    let _ = std::fs::write(&path, blessed);
}

fn run_with_timeout(
    mut cmd: Command,
    limit: Duration,
    signal: Option<(i32, u64)>,
) -> Result<std::process::Output, String> {
    use std::process::Stdio;
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run rdt: {e}"))?;
    let pid = child.id();
    if let Some((sig, ms)) = signal {
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(ms));
            unsafe { libc::kill(pid as i32, sig) };
        });
    }
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(_) => {
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            Err(format!("timed out after {}s", limit.as_secs()))
        }
    }
}

fn check(case: &Case, output: &std::process::Output) -> Outcome {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let code = output.status.code().unwrap_or(-1);
    let context = || format!("--- exit {code}\n--- stdout\n{stdout}--- stderr\n{stderr}");
    if code != case.exit {
        return Outcome::Fail(format!(
            "expected exit status {}, got {code}\n{}",
            case.exit,
            context()
        ));
    }
    if let Some(want) = &case.stdout {
        if &stdout != want {
            return Outcome::Fail(format!("stdout differs; expected:\n{want}{}", context()));
        }
    }
    if let Some(patterns) = &case.stdout_regex {
        let lines: Vec<&str> = stdout.lines().collect();
        if lines.len() != patterns.len() {
            return Outcome::Fail(format!(
                "expected {} lines of stdout, got {}\n{}",
                patterns.len(),
                lines.len(),
                context()
            ));
        }
        let mut unmatched: Vec<&str> = lines.clone();
        for (i, pattern) in patterns.iter().enumerate() {
            let re = match Regex::new(&format!("^(?:{pattern})$")) {
                Ok(r) => r,
                Err(e) => return Outcome::Fail(format!("bad regex `{pattern}`: {e}")),
            };
            let hit = if case.stdout_unordered {
                unmatched
                    .iter()
                    .position(|l| re.is_match(l))
                    .map(|at| unmatched.remove(at))
            } else {
                Some(lines[i]).filter(|l| re.is_match(l))
            };
            if hit.is_none() {
                return Outcome::Fail(format!(
                    "no line of stdout matches `{pattern}` where expected\n{}",
                    context()
                ));
            }
        }
    }
    if let Some(wanted) = &case.stdout_contains {
        for w in wanted {
            let found = match w.strip_prefix("~ ") {
                Some(pattern) => match Regex::new(&format!("^(?:{pattern})$")) {
                    Ok(re) => stdout.lines().any(|l| re.is_match(l)),
                    Err(e) => return Outcome::Fail(format!("bad regex `{pattern}`: {e}")),
                },
                None => stdout.lines().any(|l| l == w),
            };
            if !found {
                return Outcome::Fail(format!("stdout lacks the line `{w}`\n{}", context()));
            }
        }
    }
    if let Some(want) = &case.stderr {
        if &stderr != want {
            return Outcome::Fail(format!("stderr differs; expected:\n{want}{}", context()));
        }
    }
    if let Some(wanted) = &case.stderr_contains {
        for w in wanted {
            if !stderr.contains(w.as_str()) {
                return Outcome::Fail(format!("stderr lacks `{w}`\n{}", context()));
            }
        }
    }
    Outcome::Pass
}
