//! The `rdt` command line: options as bpftrace spells them, the D aliases, and the pipeline
//! syntax → sema → codegen → runtime.

mod info;

use clap::{ArgAction, Parser, ValueEnum};
use rdt_runtime::{RunOptions, RuntimeError, Target};
use rdt_syntax::Diagnostic;
use std::io::{self, Write};
use std::process::ExitCode;

mod list;
mod script_text;

#[derive(Parser, Debug)]
#[command(
    name = "rdt",
    version,
    about = "A dynamic tracer for Linux: D and bpftrace scripts compiled straight to eBPF"
)]
struct Cli {
    /// The program text (instead of a script file); D's `-n` is an alias.
    #[arg(short = 'e', short_alias = 'n', value_name = "PROGRAM")]
    program: Option<String>,
    /// The script file (D's `-s`; a FILE argument works too).
    #[arg(short = 's', value_name = "FILE", conflicts_with = "program")]
    script_file: Option<String>,
    /// Set an option, as `#pragma D option` does: `-x strsize=128`, `-x quiet`.
    #[arg(short = 'x', value_name = "OPT[=VAL]")]
    set_options: Vec<String>,
    /// Allow functions that change the system: system(), signal() (D's `-w`, destructive
    /// actions, is an alias).
    #[arg(long = "unsafe", short = 'w')]
    unsafe_ok: bool,
    /// Warn, at the script line, each time a memory read fails (they are always counted).
    #[arg(short = 'k')]
    warn_faults: bool,
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
    /// Print maps keyed by stacks as folded stacks (`comm;caller;callee COUNT`), for flame graphs.
    #[arg(long)]
    folded: bool,
    /// Write a flame graph (SVG) of the maps keyed by stacks to FILE.
    #[arg(long, value_name = "FILE.svg")]
    flamegraph: Option<std::path::PathBuf>,
    /// List probes matching the glob given as the argument (all without one); with -v, their
    /// arguments.
    #[arg(short = 'l')]
    list: bool,
    /// Report what this kernel offers a tracer (BTF, ring buffer, kprobes, fentry, …).
    #[arg(long)]
    info: bool,
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
        Ok(status) => ExitCode::from(status),
        Err(()) => ExitCode::FAILURE,
    }
}

/// The script text, its name for diagnostics, and its positional parameters.
fn script(cli: &Cli) -> Result<(String, String, Vec<String>), String> {
    if let Some(p) = &cli.program {
        return Ok((
            rdt_syntax::with_default_action(p),
            "<program>".to_string(),
            cli.positional.clone(),
        ));
    }
    if let Some(file) = &cli.script_file {
        let text = script_text::read_script_file(file)?;
        return Ok((text, file.clone(), cli.positional.clone()));
    }
    let Some((file, args)) = cli.positional.split_first() else {
        return Err("no program given: use `rdt -e 'PROGRAM'` or `rdt FILE.d`".to_string());
    };
    let text = script_text::read_script_file(file)?;
    Ok((text, file.clone(), args.to_vec()))
}

/// Runs the command; `Ok` holds the exit status (what the script gave `exit()`, else 0).
fn run(cli: Cli) -> Result<u8, ()> {
    if cli.list {
        let pattern = cli.positional.first().map(String::as_str);
        return list::list(pattern, cli.verbose > 0, cli.pid).map(|()| 0);
    }
    if cli.info {
        return info::info().map(|()| 0);
    }
    let (source, name, positional) = script(&cli).map_err(|e| eprintln!("error: {e}"))?;
    let report = |diags: &[Diagnostic]| eprint!("{}", rdt_syntax::render(&name, &source, diags));

    let mut ast = rdt_syntax::parse(&source).map_err(|d| report(&d))?;
    let set_options: Vec<_> = cli
        .set_options
        .iter()
        .map(|o| rdt_syntax::ast::OptionSetting::from_command_line(o))
        .collect();
    check_command_line_options(&cli.set_options, &set_options)?;
    ast.options.extend(set_options);
    if cli.debug == Some(Stage::Ast) {
        println!("{ast:#?}");
        return Ok(0);
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
    // One reading of the machine serves every stage: `ncpus`, per-CPU sizes, `elapsed` and
    // `walltimestamp` count from the same instant.
    let machine = rdt_btf::Machine::now();
    let params = rdt_sema::Params {
        machine,
        positional,
        target_pid: target.pid(),
        unsafe_ok: cli.unsafe_ok,
        target_program: cli.command.as_deref().and_then(|c| {
            rdt_runtime::split_command(c)
                .ok()
                .and_then(|w| w.into_iter().next())
        }),
        fentry_check: Some(rdt_runtime::features::fentry_loads),
        bpf_loop_check: Some(rdt_runtime::features::bpf_loop_available),
    };
    let ir = rdt_sema::analyze(&ast, &params).map_err(|d| report(&d))?;
    // Warnings without a place in the script came from `-x` and were reported already.
    let warnings: Vec<Diagnostic> = ir
        .warnings
        .iter()
        .filter(|d| d.span != rdt_syntax::Span::default())
        .cloned()
        .collect();
    if !warnings.is_empty() {
        report(&warnings);
    }
    if cli.verbose > 0 {
        for note in &ir.notes {
            eprintln!("rdt: {note}");
        }
    }
    if cli.debug == Some(Stage::Ir) {
        println!("{ir:#?}");
        return Ok(0);
    }
    let options = rdt_codegen::Options {
        ncpus: machine.possible_cpus,
        start_ns: machine.mono_ns,
        warn_faults: cli.warn_faults,
    };
    let artifact = rdt_codegen::generate(&ir, &options).map_err(|d| report(&d))?;
    if let Some(path) = &cli.emit_elf {
        std::fs::write(path, &artifact.elf)
            .map_err(|e| eprintln!("error: cannot write {path}: {e}"))?;
    }
    if cli.debug == Some(Stage::Bpf) {
        print!("{}", rdt_codegen::disassemble(&artifact, &source));
        return Ok(0);
    }
    if cli.emit_elf.is_some() && !cli.dry_run {
        return Ok(0);
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
        stacks: rdt_runtime::StackOutput {
            folded: cli.folded,
            flamegraph: cli.flamegraph.clone(),
        },
    };
    rdt_runtime::run(&artifact, opts).map_err(|e| match e {
        RuntimeError::Located(d) => report(&[*d]),
        RuntimeError::Other(m) => eprintln!("error: {m}"),
    })
}

/// Reports bad `-x` settings against the option as typed (they have no place in the script).
fn check_command_line_options(
    texts: &[String],
    settings: &[rdt_syntax::ast::OptionSetting],
) -> Result<(), ()> {
    let mut failed = false;
    for (text, setting) in texts.iter().zip(settings) {
        let diags = rdt_sema::check_options(std::slice::from_ref(setting));
        eprint!(
            "{}",
            rdt_syntax::render_unlocated(&format!("-x {text}"), &diags)
        );
        failed |= diags.iter().any(|d| !d.warning);
    }
    if failed {
        Err(())
    } else {
        Ok(())
    }
}
