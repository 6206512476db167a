//! The `photofinish` command.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

mod demo_command;
mod faults_args;
mod proxy_command;
mod run_command;
mod txn_command;

use photofinish::checker::{NilReads, Report, MODELS};
use photofinish::history::{read_path, Format, History, Value};
use photofinish::{check_path, report, terminal, CheckRequest};

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
    /// 2 bad input or usage, 3 undecided within the budget.
    Check(CheckArgs),
    /// Write a self-contained HTML page showing a history: a timeline of the operations, run
    /// statistics, and with --model the check's verdict and counterexample. Exit code 0 when
    /// the page is written (`check --html` also gives the verdict's exit code), 2 on bad input.
    Report(ReportArgs),
    /// Drive concurrent clients against a real system, record the history as it happens,
    /// then check it: the summary (throughput, latency, errors), then the verdict with the same
    /// exit codes as `check`. Ctrl-C stops the run; operations in flight are recorded as info.
    Run(run_command::RunArgs),
    /// The race lab: start, in this process on loopback, a small HTTP service with the classic
    /// races and their fixes (create-once through a lagging cache vs a unique create, counter by
    /// read-modify-write vs atomic add vs a per-replica lock, status write-back vs a version
    /// check), drive each with concurrent clients, check every history and print a table.
    /// Exit code 0 exactly when every race is caught and every fix passes.
    Demo(demo_command::DemoArgs),
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
    /// The history file.
    file: PathBuf,
    /// The model: register, cas-register, kv, multi-register, counter, set, queue, mutex, create-once;
    /// transactions: list-append, rw-register, bank, long-fork, set-full.
    #[arg(long, short)]
    model: String,
    #[command(flatten)]
    options: CheckFlags,
    #[command(flatten)]
    txn: txn_command::TxnFlags,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Also write the HTML report (as `photofinish report` does) to this file.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
}

#[derive(clap::Args)]
struct ReportArgs {
    /// The history file.
    file: PathBuf,
    /// Where to write the page.
    #[arg(long, short, value_name = "FILE")]
    output: PathBuf,
    /// Check against this model and show the verdict and counterexample (default: no check).
    #[arg(long, short)]
    model: Option<String>,
    #[command(flatten)]
    options: CheckFlags,
}

/// How to read and check a history: shared by `check` and `report`.
#[derive(clap::Args)]
struct CheckFlags {
    /// The initial value, as a JSON literal (default: the model's own).
    #[arg(long)]
    init: Option<String>,
    /// The file format (default: detected from the content).
    #[arg(long, value_enum)]
    format: Option<FormatArg>,
    /// Give up after this many seconds and answer "unknown".
    #[arg(long)]
    timeout: Option<f64>,
    /// Give up before the search uses this many MiB and answer "unknown".
    #[arg(long, default_value_t = 4096)]
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

pub(crate) fn usage_error(message: String) -> ExitCode {
    eprintln!("photofinish: {message}");
    ExitCode::from(2)
}

/// The check that `model` and the flags ask for, or the usage error to exit with.
fn request(model: &str, args: &CheckFlags) -> Result<CheckRequest, ExitCode> {
    let init = match args.init.as_deref().map(Value::from_json_str).transpose() {
        Ok(init) => init,
        Err(e) => return Err(usage_error(format!("--init is not a JSON literal: {e}"))),
    };
    let timeout = match args.timeout {
        Some(t) if !(t.is_finite() && t > 0.0) => {
            return Err(usage_error(format!(
                "--timeout must be a positive number of seconds, got {t}"
            )))
        }
        t => t.map(Duration::from_secs_f64),
    };
    let mut request = CheckRequest::new(model);
    request.init = init;
    request.format = args.format.map(Format::from);
    request.nil_reads = args.nil_reads.map(|n| match n {
        NilReadsArg::Absent => NilReads::Absent,
        NilReadsArg::Unknown => NilReads::Unknown,
    });
    request.options.timeout = timeout;
    request.options.max_memory = args.max_memory.saturating_mul(1 << 20);
    request.options.all_partitions = args.all_partitions;
    if args.search == "generic" {
        request.options.search = photofinish_check::SearchChoice::Generic;
    }
    Ok(request)
}

pub(crate) fn warn(history: &History) {
    for warning in &history.warnings {
        eprintln!("photofinish: warning: {warning}");
    }
}

/// Writes the HTML report of `file` to `output`, titled with the file's name.
pub(crate) fn write_html(
    output: &Path,
    file: &Path,
    history: &History,
    checked: Option<&Report>,
) -> Result<(), ExitCode> {
    let title = file.file_name().map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    std::fs::write(output, report::render_html(history, checked, &title))
        .map_err(|e| usage_error(format!("cannot write {}: {e}", output.display())))
}

fn run_check(args: CheckArgs) -> ExitCode {
    if let Some(code) = txn_command::dispatch(&args) {
        return code;
    }
    let request = match request(&args.model, &args.options) {
        Ok(request) => request,
        Err(code) => return code,
    };
    match check_path(&args.file, &request) {
        Ok((history, report)) => {
            warn(&history);
            if let Some(html) = &args.html {
                if let Err(code) = write_html(html, &args.file, &history, Some(&report)) {
                    return code;
                }
            }
            if args.json {
                match serde_json::to_string_pretty(&report) {
                    Ok(json) => println!("{json}"),
                    Err(e) => return usage_error(format!("cannot write the report: {e}")),
                }
            } else {
                print!("{}", terminal::render(&report));
            }
            ExitCode::from(report.verdict.exit_code() as u8)
        }
        Err(e) => usage_error(e.to_string()),
    }
}

fn run_report(args: ReportArgs) -> ExitCode {
    let (history, checked) = match &args.model {
        Some(model) => {
            if let Some(code) = txn_command::report_unsupported(model) {
                return code;
            }
            let request = match request(model, &args.options) {
                Ok(request) => request,
                Err(code) => return code,
            };
            match check_path(&args.file, &request) {
                Ok((history, report)) => (history, Some(report)),
                Err(e) => return usage_error(e.to_string()),
            }
        }
        None => match read_path(&args.file, args.options.format.map(Format::from)) {
            Ok(history) => (history, None),
            Err(e) => return usage_error(e.to_string()),
        },
    };
    warn(&history);
    match write_html(&args.output, &args.file, &history, checked.as_ref()) {
        Ok(()) => {
            println!("wrote {}", args.output.display());
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => run_check(args),
        Command::Report(args) => run_report(args),
        Command::Run(args) => run_command::run(args),
        Command::Demo(args) => demo_command::run(args),
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
