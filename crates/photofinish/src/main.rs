//! The `photofinish` command.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

use photofinish::checker::{NilReads, MODELS};
use photofinish::history::{Format, Value};
use photofinish::{check_path, terminal, CheckRequest};

#[derive(Parser)]
#[command(name = "photofinish", version, about = "Catch race conditions in concurrent systems and prove when they are fixed.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check a recorded history against a model. Exit code: 0 valid, 1 anomaly found,
    /// 2 bad input or usage, 3 undecided within the budget.
    Check(CheckArgs),
    /// List the models and what they check.
    Models,
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Jsonl,
    Edn,
    JepsenLog,
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
    /// The model: register, cas-register, kv, multi-register, counter, set, queue, mutex, create-once.
    #[arg(long, short)]
    model: String,
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
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

fn usage_error(message: String) -> ExitCode {
    eprintln!("photofinish: {message}");
    ExitCode::from(2)
}

fn run_check(args: CheckArgs) -> ExitCode {
    let init = match args.init.as_deref().map(Value::from_json_str).transpose() {
        Ok(init) => init,
        Err(e) => return usage_error(format!("--init is not a JSON literal: {e}")),
    };
    let timeout = match args.timeout {
        Some(t) if !(t.is_finite() && t > 0.0) => {
            return usage_error(format!("--timeout must be a positive number of seconds, got {t}"))
        }
        t => t.map(Duration::from_secs_f64),
    };
    let mut request = CheckRequest::new(&args.model);
    request.init = init;
    request.format = args.format.map(|f| match f {
        FormatArg::Jsonl => Format::JsonLines,
        FormatArg::Edn => Format::Edn,
        FormatArg::JepsenLog => Format::JepsenLog,
    });
    request.nil_reads = args.nil_reads.map(|n| match n {
        NilReadsArg::Absent => NilReads::Absent,
        NilReadsArg::Unknown => NilReads::Unknown,
    });
    request.options.timeout = timeout;
    request.options.max_memory = args.max_memory.saturating_mul(1 << 20);
    request.options.all_partitions = args.all_partitions;
    match check_path(&args.file, &request) {
        Ok((history, report)) => {
            for warning in &history.warnings {
                eprintln!("photofinish: warning: {warning}");
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => run_check(args),
        Command::Models => {
            for m in MODELS {
                println!("{:<15} {}  (default --init {})", m.name, m.summary, m.default_init);
            }
            ExitCode::SUCCESS
        }
    }
}
