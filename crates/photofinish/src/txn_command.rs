//! `photofinish check --model list-append | rw-register | bank | long-fork | set-full`: the
//! transactional checkers of [`photofinish::txn`], with the same exit codes as every check
//! (0 valid, 1 anomaly, 2 bad input or usage, 3 undecided).

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use photofinish::history::{read_path, Format, History};
use photofinish::txn::bank::{check_bank, BankOptions};
use photofinish::txn::long_fork::{check_long_fork, LongForkOptions};
use photofinish::txn::set_full::{check_set_full, SetFullOptions};
use photofinish::txn::{
    check_path, html, terminal, ConsistencyModel, Report, TxnError, TxnOptions, Workload,
};
use photofinish::txn_run::bank_options;

use photofinish::output::mark_html;
use photofinish::terminal::sanitize;

use crate::{emit_json, json_file, usage_error, CheckArgs};

/// The transactional models, with what each checks.
pub(crate) const TXN_MODELS: &[(&str, &str)] = &[
    (
        "list-append",
        "transactions of [append k v] / [r k list]: Elle's cycles G0..G2-item, lost updates, G1a/G1b, ...",
    ),
    (
        "rw-register",
        "transactions of [w k v] / [r k v] over registers: the same anomalies, with versions inferred soundly",
    ),
    (
        "bank",
        "transfers between accounts and reads of every balance: totals kept, no negative balances",
    ),
    (
        "long-fork",
        "single-key writes and group reads: writes seen in opposite orders (--group-size)",
    ),
    (
        "set-full",
        "add and read of a set: lost, stale and never-read elements (--linearizable)",
    ),
];

/// Options of the transactional models (`check --model list-append` etc.).
#[derive(clap::Args, Debug, Default)]
pub(crate) struct TxnFlags {
    /// list-append, rw-register: the model the database promises; the check fails only if the
    /// history violates it. One of read-uncommitted, read-committed, snapshot-isolation,
    /// repeatable-read, serializable, strict-serializable [default: strict-serializable].
    #[arg(long, value_name = "MODEL")]
    consistency_model: Option<String>,
    /// long-fork: how many keys each read reads [default: 2].
    #[arg(long, value_name = "N")]
    group_size: Option<usize>,
    /// bank: the total every read must add up to [default: the total most reads show].
    #[arg(long)]
    total: Option<i64>,
    /// bank: the accounts that exist, comma-separated [default: any account is accepted].
    #[arg(long, value_delimiter = ',')]
    accounts: Option<Vec<String>>,
    /// bank: balances may go below zero.
    #[arg(long)]
    allow_negative: bool,
    /// set-full: the set promises linearizability, so stale reads are anomalies.
    #[arg(long)]
    linearizable: bool,
}

/// Whether `model` is one of the transactional models.
pub(crate) fn handles(model: &str) -> bool {
    TXN_MODELS.iter().any(|(name, _)| *name == model)
}

/// `photofinish models`, the transactional part.
pub(crate) fn print_models() {
    for (name, summary) in TXN_MODELS {
        println!("{name:<15} {summary}");
    }
}

/// A flag given to a model it does not apply to: a usage error, not silently ignored.
fn misplaced(args: &CheckArgs, model: &str) -> Option<String> {
    let f = &args.txn;
    let o = &args.options;
    let checks: [(bool, &str, &[&str]); 10] = [
        (
            f.consistency_model.is_some(),
            "--consistency-model",
            &["list-append", "rw-register"],
        ),
        (f.group_size.is_some(), "--group-size", &["long-fork"]),
        (f.total.is_some(), "--total", &["bank"]),
        (f.accounts.is_some(), "--accounts", &["bank"]),
        (f.allow_negative, "--allow-negative", &["bank"]),
        (f.linearizable, "--linearizable", &["set-full"]),
        (o.init.is_some(), "--init", &[]),
        (o.nil_reads.is_some(), "--nil-reads", &[]),
        (o.all_partitions, "--all-partitions", &[]),
        (
            o.max_memory != 4096,
            "--max-memory",
            &["list-append", "rw-register"],
        ),
    ];
    checks
        .iter()
        .find(|(given, _, models)| *given && !models.contains(&model))
        .map(|(_, flag, models)| {
            if models.is_empty() {
                format!("{flag} does not apply to --model {model}")
            } else {
                format!(
                    "{flag} applies to --model {}, not {model}",
                    models.join(" or ")
                )
            }
        })
}

/// Checks the history at `args.file` against the transactional `model`; `history` is the
/// history when it was already read (from standard input, or for its header).
fn check(args: &CheckArgs, model: &str, history: Option<&History>) -> Result<Report, String> {
    let path = args.file.as_path();
    let origin = photofinish::origin_of(path);
    let format = args.options.format.map(Format::from);
    let error = |e: TxnError| e.to_string();
    let read = || -> Result<std::borrow::Cow<'_, History>, String> {
        match history {
            Some(history) => Ok(std::borrow::Cow::Borrowed(history)),
            None => read_path(path, format)
                .map(std::borrow::Cow::Owned)
                .map_err(|e| e.to_string()),
        }
    };
    match model {
        "list-append" | "rw-register" => {
            let workload = Workload::parse(model).expect("a transactional workload");
            let mut options = TxnOptions::default();
            // A run records the model it checked against; it stays the default.
            if let Some(model) = history.and_then(recorded_model) {
                if args.txn.consistency_model.is_none() {
                    eprintln!(
                        "photofinish: consistency model {}, from the history's header",
                        model.name()
                    );
                    options.consistency_model = model;
                }
            }
            if let Some(name) = &args.txn.consistency_model {
                options.consistency_model = ConsistencyModel::parse(name).ok_or_else(|| {
                    format!(
                        "unknown --consistency-model `{name}`: expected one of {}",
                        ConsistencyModel::ALL.map(|m| m.name()).join(", ")
                    )
                })?;
            }
            // The range was checked when the command line was parsed.
            options.timeout = args.options.timeout.map(Duration::from_secs_f64);
            options.max_memory = Some(args.options.max_memory.saturating_mul(1 << 20));
            match history {
                Some(history) => {
                    photofinish::txn::check_history(history, workload, &origin, &options)
                        .map_err(error)
                }
                None => check_path(path, workload, format, &options).map_err(error),
            }
        }
        "bank" => {
            let history = read()?;
            // What a run recorded (its accounts and their total) unless the flags say otherwise.
            let recorded = bank_options(history.header.as_ref());
            let options = BankOptions {
                total: args.txn.total.or(recorded.total),
                accounts: match &args.txn.accounts {
                    Some(accounts) => Some(
                        accounts
                            .iter()
                            .map(|a| photofinish::history::Value::Str(a.trim().to_string()))
                            .collect(),
                    ),
                    None => recorded.accounts,
                },
                allow_negative: args.txn.allow_negative,
            };
            check_bank(&history, &origin, &options).map_err(error)
        }
        "long-fork" => {
            let options = LongForkOptions {
                group_size: args.txn.group_size.unwrap_or(2),
            };
            if options.group_size == 0 {
                return Err("--group-size must be at least 1".to_string());
            }
            check_long_fork(&*read()?, &origin, &options).map_err(error)
        }
        _ => {
            let options = SetFullOptions {
                linearizable: args.txn.linearizable,
            };
            check_set_full(&*read()?, &origin, &options).map_err(error)
        }
    }
}

/// `photofinish check` for a transactional `model`; for another model, a usage error if a
/// transactional option was given, else `None` (the linearizability check runs). `history` is
/// the history when it was already read.
pub(crate) fn dispatch(
    args: &CheckArgs,
    model: &str,
    history: Option<&History>,
) -> Option<ExitCode> {
    if handles(model) {
        return Some(run(args, model, history));
    }
    misplaced(args, model)
        .filter(|_| txn_flag_given(&args.txn))
        .map(usage_error)
}

fn txn_flag_given(f: &TxnFlags) -> bool {
    f.consistency_model.is_some()
        || f.group_size.is_some()
        || f.total.is_some()
        || f.accounts.is_some()
        || f.allow_negative
        || f.linearizable
}

/// Runs `photofinish check` for a transactional model.
fn run(args: &CheckArgs, model: &str, history: Option<&History>) -> ExitCode {
    if let Some(message) = misplaced(args, model) {
        return usage_error(message);
    }
    let report = match check(args, model, history) {
        Ok(report) => report,
        Err(message) => return usage_error(message),
    };
    if let Some(out) = &args.html {
        if let Err(code) = write_html(out, &args.file, &report) {
            return code;
        }
    }
    if let Some(json) = &args.json {
        if let Err(code) = emit_json(json, &report) {
            return code;
        }
    }
    if json_file(&args.json).is_some() || args.json.is_none() {
        print!("{}", sanitize(&terminal::render(&report)));
    }
    ExitCode::from(report.verdict.exit_code() as u8)
}

/// Writes the HTML page of a transactional `report` on the history at `file` to `out`,
/// titled with the file's name (`check --html`, `run --html`).
pub(crate) fn write_html(out: &Path, file: &Path, report: &Report) -> Result<(), ExitCode> {
    let title = file.file_name().map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let page = mark_html(html::render_html(report, &title));
    std::fs::write(out, page)
        .map_err(|e| usage_error(format!("cannot write {}: {e}", out.display())))
}

/// The consistency model a run recorded in the history's header, when it names one.
fn recorded_model(history: &History) -> Option<ConsistencyModel> {
    let header = history.header.as_ref()?;
    let name = header
        .other
        .get(crate::txn_run_command::CONSISTENCY_MODEL_FIELD)?
        .as_str()?;
    ConsistencyModel::parse(name)
}

/// `photofinish report` with a transactional model: pointed to `check --html`.
pub(crate) fn report_unsupported(model: &str) -> Option<ExitCode> {
    handles(model).then(|| {
        usage_error(format!(
            "photofinish report does not draw --model {model} histories; use `photofinish check --model {model} --html FILE`"
        ))
    })
}
