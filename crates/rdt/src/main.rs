//! The `rdt` command line: options as bpftrace spells them, the D aliases, and the pipeline
//! syntax → sema → codegen → runtime.

use clap::{ArgAction, Parser, ValueEnum};
use rdt_runtime::{RunOptions, RuntimeError, Target};
use rdt_syntax::Diagnostic;
use std::io::{self, Write};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "rdt",
    version,
    about = "A dynamic tracer for Linux: D and bpftrace scripts compiled straight to eBPF"
)]
struct Cli {
    /// The program text (instead of a script file).
    #[arg(short = 'e', value_name = "PROGRAM")]
    program: Option<String>,
    /// Run CMD after the probes attach; stop when it exits.
    #[arg(short = 'c', value_name = "CMD")]
    command: Option<String>,
    /// Trace process PID; stop when it exits.
    #[arg(short = 'p', value_name = "PID")]
    pid: Option<u32>,
    /// Quiet: no "Attached N probes" line.
    #[arg(short = 'q')]
    quiet: bool,
    /// Verbose: verifier logs and attach details.
    #[arg(short = 'v', action = ArgAction::Count)]
    verbose: u8,
    /// Print a compiler stage and exit: ast, ir, bpf (disassembly with source lines).
    #[arg(short = 'd', value_name = "STAGE")]
    debug: Option<Stage>,
    /// Compile and load into the kernel (the verifier runs), attach nothing.
    #[arg(long)]
    dry_run: bool,
    /// Write the compiled BPF ELF object to FILE.
    #[arg(long, value_name = "FILE")]
    emit_elf: Option<String>,
    /// Output format: text (bpftrace's) or json (one JSON object per line).
    #[arg(short = 'f', value_name = "FORMAT", default_value = "text")]
    format: Format,
    /// Write the output to FILE instead of standard output.
    #[arg(short = 'o', value_name = "FILE")]
    output: Option<String>,
    /// The script file (without -e), then its positional parameters $1, $2, …
    #[arg(
        value_name = "FILE | ARGS",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    positional: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Stage {
    Ast,
    Ir,
    Bpf,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    rdt_runtime::VERBOSE.store(cli.verbose > 0, std::sync::atomic::Ordering::Relaxed);
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(()) => ExitCode::FAILURE,
    }
}

/// The script text, its name for diagnostics, and its positional parameters.
fn script(cli: &Cli) -> Result<(String, String, Vec<String>), String> {
    if let Some(p) = &cli.program {
        return Ok((p.clone(), "<program>".to_string(), cli.positional.clone()));
    }
    let Some((file, args)) = cli.positional.split_first() else {
        return Err("no program given: use `rdt -e 'PROGRAM'` or `rdt FILE.d`".to_string());
    };
    let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read {file}: {e}"))?;
    Ok((text, file.clone(), args.to_vec()))
}

fn run(cli: Cli) -> Result<(), ()> {
    let (source, name, positional) = script(&cli).map_err(|e| eprintln!("error: {e}"))?;
    let report = |diags: &[Diagnostic]| eprint!("{}", rdt_syntax::render(&name, &source, diags));

    let ast = rdt_syntax::parse(&source).map_err(|d| report(&d))?;
    if cli.debug == Some(Stage::Ast) {
        println!("{ast:#?}");
        return Ok(());
    }
    // A -c command is forked now, paused before exec, so the script can use its pid.
    let target = match (&cli.command, cli.pid) {
        (Some(cmd), _) => {
            let words = rdt_runtime::split_command(cmd).map_err(|e| eprintln!("error: -c: {e}"))?;
            let child = rdt_runtime::PausedChild::spawn(&words)
                .map_err(|e| eprintln!("error: cannot run `{cmd}`: {e}"))?;
            Target::Command(child)
        }
        (None, Some(pid)) => Target::Pid(pid),
        (None, None) => Target::None,
    };
    let params = rdt_sema::Params {
        positional,
        target_pid: target.pid(),
    };
    let ir = rdt_sema::analyze(&ast, &params).map_err(|d| report(&d))?;
    if cli.debug == Some(Stage::Ir) {
        println!("{ir:#?}");
        return Ok(());
    }
    let options = rdt_codegen::Options {
        ncpus: possible_cpus(),
        start_ns: monotonic_ns(),
    };
    let artifact = rdt_codegen::generate(&ir, &options).map_err(|d| report(&d))?;
    if let Some(path) = &cli.emit_elf {
        std::fs::write(path, &artifact.elf)
            .map_err(|e| eprintln!("error: cannot write {path}: {e}"))?;
    }
    if cli.debug == Some(Stage::Bpf) {
        print!("{}", rdt_codegen::disassemble(&artifact, &source));
        return Ok(());
    }
    if cli.emit_elf.is_some() && !cli.dry_run {
        return Ok(());
    }

    let out: Box<dyn Write> = match &cli.output {
        Some(path) => Box::new(
            std::fs::File::create(path)
                .map_err(|e| eprintln!("error: cannot write {path}: {e}"))?,
        ),
        None => Box::new(io::stdout()),
    };
    let quiet = cli.quiet || ir.options.quiet;
    let opts = RunOptions {
        target,
        dry_run: cli.dry_run,
        quiet,
        source: (name.clone(), source.clone()),
        format: match cli.format {
            Format::Text => rdt_runtime::OutputFormat::Text,
            Format::Json => rdt_runtime::OutputFormat::Json,
        },
        out,
    };
    rdt_runtime::run(&artifact, opts).map_err(|e| match e {
        RuntimeError::Located(d) => report(&[*d]),
        RuntimeError::Other(m) => eprintln!("error: {m}"),
    })
}

fn possible_cpus() -> u32 {
    rdt_runtime::bpf_sys::possible_cpus().unwrap_or(1)
}

fn monotonic_ns() -> u64 {
    // SAFETY: clock_gettime writes the timespec it is given.
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}
