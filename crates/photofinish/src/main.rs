//! The `photofinish` command.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

mod compare_command;
mod demo_command;
mod faults_args;
mod options;
mod proxy_command;
mod run_command;
mod txn_command;
mod txn_run_command;

use photofinish::checker::{NilReads, Report, MODELS};
use photofinish::history::{Format, History, Value};
use photofinish::output::{check_distinct, check_output, mark_html, marked_json};
use photofinish::{
    check_history, origin_of, read_input, report, terminal, CheckRequest, ModelChoice,
};

#[derive(Parser)]
#[command(
    name = "photofinish",
    version,
    about = "Catch race conditions in concurrent systems and prove when they are fixed."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check a recorded history against a model. Exit code: 0 valid, 1 anomaly found,
    /// 2 bad input or usage, 3 undecided within the budget (or nothing was tested).
    Check(CheckArgs),
    /// Write a self-contained HTML page showing a history: a timeline of the operations, run
    /// statistics, and with a model (--model, or the one the history's header names) the
    /// check's verdict and counterexample. Exit code: with a model that of `check` (0 valid,
    /// 1 anomaly, 3 undecided), without one 0; 2 on bad input.
    Report(ReportArgs),
    /// Drive concurrent clients against a real system, record the history as it happens,
    /// then check it: the summary (throughput, latency, errors), then the verdict with the same
    /// exit codes as `check`. Ctrl-C stops the run; operations in flight are recorded as info.
    Run(run_command::RunArgs),
    /// The race lab: start, in this process on loopback, a small HTTP service with the classic
    /// races and their fixes (create-once through a lagging cache and six ways to fix it, the
    /// same race across a network link the nemesis slows, integer and decimal counters, a
    /// status written back, a torn snapshot, a stale read after unlock), drive each with
    /// concurrent clients, check every history and print a table.
    /// Exit code 0 exactly when every race is caught and every fix passes.
    Demo(demo_command::DemoArgs),
    /// Run options side by side with the same seed and clients, one after another, and print a
    /// matrix: verdict and finding, operations, throughput, p50/p99 latency and the latency
    /// each adds against the first. Either one race lab scenario's options (--scenario, e.g.
    /// create-once's six fixes) on each replica count: exit code 0 when every race is caught
    /// and every fix passes, 1 otherwise. Or your own system's variants, each a `run` command
    /// line (--run 'redis --spawn -w counter --variant incr', --http FILE): exit code 0 when
    /// every row ran and was decided, valid or INVALID alike; 3 when a row decided nothing
    /// (unknown, stalled, stopped early, could not run). 2 on bad usage.
    Compare(compare_command::CompareArgs),
    /// A TCP proxy that adds faults between your service and its database or cache, until
    /// Ctrl-C: latency and jitter on every round trip, a bandwidth limit. Listens on loopback
    /// only unless --allow-remote. Exit code 0 when stopped by Ctrl-C, 2 on bad usage.
    Proxy(proxy_command::ProxyArgs),
    /// List the models and what they check.
    Models,
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Jsonl,
    Edn,
    JepsenLog,
}

impl From<FormatArg> for Format {
    fn from(format: FormatArg) -> Format {
        match format {
            FormatArg::Jsonl => Format::JsonLines,
            FormatArg::Edn => Format::Edn,
            FormatArg::JepsenLog => Format::JepsenLog,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum NilReadsArg {
    /// A read of nil saw an absent value.
    Absent,
    /// A read of nil did not learn the value (Knossos' convention).
    Unknown,
}

#[derive(clap::Args)]
struct CheckArgs {
    /// The history file, or - for standard input.
    file: PathBuf,
    /// The model: register, cas-register, kv, multi-register, counter, set, queue, mutex, create-once;
    /// transactions: list-append, rw-register, bank, long-fork, set-full. Default: the model the
    /// history's header names (histories written by `run` and `demo` have one).
    #[arg(long, short)]
    model: Option<String>,
    #[command(flatten)]
    options: CheckFlags,
    #[command(flatten)]
    txn: txn_command::TxnFlags,
    /// Print the report as JSON; with --json=FILE, write it to FILE (and print the report as
    /// text).
    #[arg(long, value_name = "FILE", num_args = 0..=1, require_equals = true, default_missing_value = "-")]
    json: Option<PathBuf>,
    /// Also write the HTML report (as `photofinish report` does) to this file.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Write --html and --json files over an existing file that is not a report photofinish
    /// wrote, or through a symbolic link (never over the history itself).
    #[arg(long)]
    force: bool,
}

#[derive(clap::Args)]
struct ReportArgs {
    /// The history file, or - for standard input.
    file: PathBuf,
    /// Where to write the page. An existing file is overwritten only when it is a report
    /// photofinish wrote (or with --force), and never when it is the history.
    #[arg(long, short, value_name = "FILE")]
    output: PathBuf,
    /// Write over an existing file that is not a report photofinish wrote, or through a
    /// symbolic link (never over the history itself).
    #[arg(long)]
    force: bool,
    /// Check against this model and show the verdict and counterexample (default: the model the
    /// history's header names; no check when it names none).
    #[arg(long, short)]
    model: Option<String>,
    #[command(flatten)]
    options: CheckFlags,
}

/// How to read and check a history: shared by `check` and `report`.
#[derive(clap::Args)]
struct CheckFlags {
    /// The initial value, as a JSON literal (default: the one the history's header names, else
    /// the model's own).
    #[arg(long)]
    init: Option<String>,
    /// The file format (default: detected from the content).
    #[arg(long, value_enum)]
    format: Option<FormatArg>,
    /// Give up after this many seconds (more than 0, at most 365 days) and answer "unknown".
    #[arg(long, value_parser = options::seconds)]
    timeout: Option<f64>,
    /// Give up before the search uses this many MiB and answer "unknown".
    #[arg(long, default_value_t = 4096, value_parser = options::memory_mib)]
    max_memory: usize,
    /// Decide every partition instead of stopping at the first violation.
    #[arg(long)]
    all_partitions: bool,
    /// How a read that returned nil is understood (default: absent if the register can hold nil).
    #[arg(long, value_enum)]
    nil_reads: Option<NilReadsArg>,
    /// Which procedure decides: `auto` (a polynomial one where the partition allows, such as
    /// registers with unique values) or `generic` (always the general search).
    #[arg(long, value_parser = ["auto", "generic"], default_value = "auto")]
    search: String,
}

/// Prints `message` (made safe for the terminal: it may quote a history or a target) and
/// gives exit code 2.
pub(crate) fn usage_error(message: String) -> ExitCode {
    eprintln!("photofinish: {}", terminal::sanitize(&message));
    ExitCode::from(2)
}

/// The `--init` value, or the usage error to exit with.
fn parse_init(args: &CheckFlags) -> Result<Option<Value>, ExitCode> {
    args.init
        .as_deref()
        .map(Value::from_json_str)
        .transpose()
        .map_err(|e| usage_error(format!("--init is not a JSON literal: {e}")))
}

/// The `--timeout` (its range was checked when the command line was parsed).
fn parse_timeout(args: &CheckFlags) -> Result<Option<Duration>, ExitCode> {
    Ok(args.timeout.map(Duration::from_secs_f64))
}

/// The file `--json=FILE` names; `None` for `--json` alone (standard output) or no `--json`.
pub(crate) fn json_file(json: &Option<PathBuf>) -> Option<&Path> {
    json.as_deref().filter(|path| *path != Path::new("-"))
}

/// Refuses, before anything runs, outputs that would overwrite `inputs`, each other, or a file
/// photofinish did not write (unless `force`).
pub(crate) fn guard_outputs(
    inputs: &[&Path],
    outputs: &[Option<&Path>],
    force: bool,
) -> Result<(), ExitCode> {
    let outputs: Vec<&Path> = outputs.iter().flatten().copied().collect();
    check_distinct(&outputs).map_err(|e| usage_error(e.to_string()))?;
    for output in outputs {
        check_output(output, inputs, force).map_err(|e| usage_error(e.to_string()))?;
    }
    Ok(())
}

/// Writes `value` as a JSON report marked as ours: to standard output for `-`, else to the
/// file.
pub(crate) fn emit_json<T: serde::Serialize>(to: &Path, value: &T) -> Result<(), ExitCode> {
    let json =
        marked_json(value).map_err(|e| usage_error(format!("cannot write the report: {e}")))?;
    if to == Path::new("-") {
        println!("{json}");
        return Ok(());
    }
    std::fs::write(to, json + "\n")
        .map_err(|e| usage_error(format!("cannot write {}: {e}", to.display())))
}

/// The check that `choice` and the flags ask for, or the usage error to exit with.
fn request(choice: &ModelChoice, args: &CheckFlags) -> Result<CheckRequest, ExitCode> {
    let mut request = CheckRequest::new(&choice.model);
    request.init = choice.init.clone();
    request.format = args.format.map(Format::from);
    request.nil_reads = args.nil_reads.map(|n| match n {
        NilReadsArg::Absent => NilReads::Absent,
        NilReadsArg::Unknown => NilReads::Unknown,
    });
    request.options.timeout = parse_timeout(args)?;
    request.options.max_memory = args.max_memory.saturating_mul(1 << 20);
    request.options.all_partitions = args.all_partitions;
    if args.search == "generic" {
        request.options.search = photofinish_check::SearchChoice::Generic;
    }
    Ok(request)
}

/// The model to check `history` against: `--model`, else the one its header names (said on
/// standard error); a usage error listing the models when neither names one.
fn choose_model(
    model: Option<&str>,
    init: Option<Value>,
    history: &History,
    file: &Path,
) -> Result<ModelChoice, ExitCode> {
    let Some(choice) = ModelChoice::choose(model, init, history.header.as_ref()) else {
        let mut names: Vec<&str> = MODELS.iter().map(|m| m.name).collect();
        names.extend(txn_command::TXN_MODELS.iter().map(|(name, _)| *name));
        return Err(usage_error(format!(
            "{} names no model (it has no header saying what it was recorded with): give one with --model, one of {}",
            photofinish::history::escape(&origin_of(file)),
            names.join(", ")
        )));
    };
    if let Some(note) = choice.note() {
        eprintln!("photofinish: {note}");
    }
    Ok(choice)
}

pub(crate) fn warn(history: &History) {
    for warning in &history.warnings {
        eprintln!(
            "photofinish: warning: {}",
            terminal::sanitize(&warning.to_string())
        );
    }
}

/// Writes the HTML report of `file` to `output`, titled with the file's name.
pub(crate) fn write_html(
    output: &Path,
    file: &Path,
    history: &History,
    checked: Option<&Report>,
) -> Result<(), ExitCode> {
    let title = match file.file_name() {
        Some(name) if file != Path::new("-") => name.to_string_lossy().into_owned(),
        _ => origin_of(file),
    };
    let page = mark_html(report::render_html(history, checked, &title));
    std::fs::write(output, page)
        .map_err(|e| usage_error(format!("cannot write {}: {e}", output.display())))
}

fn run_check(args: CheckArgs) -> ExitCode {
    let outputs = [args.html.as_deref(), json_file(&args.json)];
    if let Err(code) = guard_outputs(&[&args.file], &outputs, args.force) {
        return code;
    }
    // A transactional model named on the command line reads its file as a stream of its own.
    if let Some(model) = args.model.as_deref() {
        if txn_command::handles(model) && args.file != Path::new("-") {
            return txn_command::dispatch(&args, model, None).unwrap_or(ExitCode::SUCCESS);
        }
    }
    let (init, history) = match (parse_init(&args.options), parse_timeout(&args.options)) {
        (Err(code), _) | (_, Err(code)) => return code,
        (Ok(init), Ok(_)) => match read_input(&args.file, args.options.format.map(Format::from)) {
            Ok(history) => (init, history),
            Err(e) => return usage_error(e.to_string()),
        },
    };
    let choice = match choose_model(args.model.as_deref(), init, &history, &args.file) {
        Ok(choice) => choice,
        Err(code) => return code,
    };
    if let Some(code) = txn_command::dispatch(&args, &choice.model, Some(&history)) {
        return code;
    }
    let request = match request(&choice, &args.options) {
        Ok(request) => request,
        Err(code) => return code,
    };
    let report = match check_history(&history, &origin_of(&args.file), &request) {
        Ok(report) => report,
        Err(e) => return usage_error(e.to_string()),
    };
    warn(&history);
    if let Some(html) = &args.html {
        if let Err(code) = write_html(html, &args.file, &history, Some(&report)) {
            return code;
        }
    }
    if let Some(json) = &args.json {
        if let Err(code) = emit_json(json, &report) {
            return code;
        }
    }
    if json_file(&args.json).is_some() || args.json.is_none() {
        print!("{}", terminal::render(&report));
    }
    ExitCode::from(report.verdict.exit_code() as u8)
}

fn run_report(args: ReportArgs) -> ExitCode {
    if let Err(code) = guard_outputs(&[&args.file], &[Some(&args.output)], args.force) {
        return code;
    }
    let (init, history) = match (parse_init(&args.options), parse_timeout(&args.options)) {
        (Err(code), _) | (_, Err(code)) => return code,
        (Ok(init), Ok(_)) => match read_input(&args.file, args.options.format.map(Format::from)) {
            Ok(history) => (init, history),
            Err(e) => return usage_error(e.to_string()),
        },
    };
    let checked = match ModelChoice::choose(args.model.as_deref(), init, history.header.as_ref()) {
        None if args.options.init.is_some() => {
            return usage_error("--init needs a model: give one with --model".into())
        }
        None => None,
        Some(choice) => {
            if let Some(code) = txn_command::report_unsupported(&choice.model) {
                return code;
            }
            if let Some(note) = choice.note() {
                eprintln!("photofinish: {note}");
            }
            let request = match request(&choice, &args.options) {
                Ok(request) => request,
                Err(code) => return code,
            };
            match check_history(&history, &origin_of(&args.file), &request) {
                Ok(report) => Some(report),
                Err(e) => return usage_error(e.to_string()),
            }
        }
    };
    warn(&history);
    if let Err(code) = write_html(&args.output, &args.file, &history, checked.as_ref()) {
        return code;
    }
    println!(
        "wrote {}",
        terminal::sanitize(&args.output.display().to_string())
    );
    match &checked {
        Some(report) => {
            println!("{}", terminal::verdict_line(report));
            ExitCode::from(report.verdict.exit_code() as u8)
        }
        None => ExitCode::SUCCESS,
    }
}

fn main() -> ExitCode {
    die_quietly_on_closed_pipe();
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => run_check(args),
        Command::Report(args) => run_report(args),
        Command::Run(args) => run_command::run(args),
        Command::Demo(args) => demo_command::run(args),
        Command::Compare(args) => compare_command::run(args),
        Command::Proxy(args) => proxy_command::run(args),
        Command::Models => {
            for m in MODELS {
                println!(
                    "{:<15} {}  (default --init {})",
                    m.name, m.summary, m.default_init
                );
            }
            txn_command::print_models();
            ExitCode::SUCCESS
        }
    }
}

/// A closed pipe on standard output (`photofinish check h.jsonl | head`) ends the process
/// quietly by SIGPIPE, as it ends `cat` or `grep`, instead of a panic in `println!` (Rust
/// ignores SIGPIPE by default, so every write would fail with EPIPE). Nothing is lost: every
/// command writes its files (histories, reports) and stops what it started before it prints
/// its results, and servers started with `--spawn` die with their parent.
fn die_quietly_on_closed_pipe() {
    // SAFETY: called first thing in main, before any thread exists; SIG_DFL is a valid
    // disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
