//! Running the transactional workloads (list-append, rw-register, bank) and checking what
//! they recorded with the transactional checker ([`crate::txn`]) instead of the
//! linearizability checker: what `photofinish run postgres -w list-append` does.
//!
//! [`check_recorded`] checks a history a run wrote, taking what the run knew from its header:
//! bank's accounts and total from the initial balances it records. [`run_and_check_txn`] runs
//! a workload against a target, then checks.
//!
//! ```
//! use photofinish::history::read_str;
//! use photofinish::txn::{ConsistencyModel, TxnOptions, Verdict};
//! use photofinish::txn_run::check_recorded;
//!
//! // Two transactions each read what the other overwrote: a lost update, which read
//! // committed allows and snapshot isolation forbids.
//! let history = read_str(
//!     r#"{"photofinish":{"model":"rw-register","workload":"rw-register"}}
//! {"type":"invoke","process":0,"f":"txn","value":[["r",1,null],["w",1,10]]}
//! {"type":"invoke","process":1,"f":"txn","value":[["r",1,null],["w",1,11]]}
//! {"type":"ok","process":0,"f":"txn","value":[["r",1,null],["w",1,10]]}
//! {"type":"ok","process":1,"f":"txn","value":[["r",1,null],["w",1,11]]}
//! "#,
//!     "lost.jsonl",
//!     None,
//! )
//! .unwrap();
//! let mut options = TxnOptions::default();
//! options.consistency_model = ConsistencyModel::ReadCommitted;
//! let report = check_recorded(&history, "lost.jsonl", "rw-register", &options).unwrap();
//! assert_eq!(report.verdict, Verdict::Valid);
//! options.consistency_model = ConsistencyModel::SnapshotIsolation;
//! let report = check_recorded(&history, "lost.jsonl", "rw-register", &options).unwrap();
//! assert_eq!(report.verdict, Verdict::Invalid);
//! assert!(report.anomaly_counts.contains_key("lost-update"));
//! ```

use photofinish_history::{Format, History, RecordedWith, Value};

use crate::runner::{RunConfig, Summary, Target};
use crate::txn::bank::{check_bank, BankOptions};
use crate::txn::{Report, TxnError, TxnOptions, Workload};
use crate::Error;

/// A run of a transactional workload and the transactional checker's verdict on it.
#[derive(Debug)]
pub struct TxnChecked {
    pub summary: Summary,
    pub history: History,
    pub report: Report,
}

/// Checks `history` as a history of the transactional `model` (`list-append`, `rw-register`
/// or `bank`): the first two against `options.consistency_model`; bank for totals and
/// negative balances, with the accounts and total [`bank_options`] finds in the header.
pub fn check_recorded(
    history: &History,
    origin: &str,
    model: &str,
    options: &TxnOptions,
) -> Result<Report, TxnError> {
    match model {
        "bank" => check_bank(history, origin, &bank_options(history.header.as_ref())),
        _ => {
            let workload = Workload::parse(model).ok_or_else(|| {
                TxnError::Usage(format!(
                    "`{model}` is not a transactional workload run records: expected list-append, rw-register or bank"
                ))
            })?;
            crate::txn::check_history(history, workload, origin, options)
        }
    }
}

/// The bank accounts and their total, from the initial balances a run records in the
/// history's header (`"init": {"0": 100, "1": 100}`); the defaults (any account, the total
/// most reads show) when the header has none.
///
/// ```
/// use photofinish::history::{read_str, Value};
/// use photofinish::txn_run::bank_options;
///
/// let history = read_str(
///     "{\"photofinish\":{\"model\":\"bank\",\"init\":{\"0\":100,\"1\":100}}}\n",
///     "bank.jsonl",
///     None,
/// )
/// .unwrap();
/// let options = bank_options(history.header.as_ref());
/// assert_eq!(options.total, Some(200));
/// assert_eq!(options.accounts.unwrap().len(), 2);
/// ```
pub fn bank_options(header: Option<&RecordedWith>) -> BankOptions {
    let balances = header
        .filter(|h| h.model.as_deref() == Some("bank"))
        .and_then(|h| match &h.init {
            Some(Value::Map(balances)) if !balances.is_empty() => Some(balances),
            _ => None,
        });
    let Some(balances) = balances else {
        return BankOptions::default();
    };
    let total = balances
        .values()
        .map(Value::as_i64)
        .try_fold(0i64, |sum, b| sum.checked_add(b?));
    BankOptions {
        total,
        accounts: total.map(|_| balances.keys().cloned().collect()),
        allow_negative: false,
    }
}

/// Runs a transactional workload against `target` (see [`crate::runner::run_blocking`]), then
/// reads back the history file it wrote and checks it with [`check_recorded`].
///
/// ```
/// use photofinish::runner::targets::exec::ExecTarget;
/// use photofinish::runner::{RunConfig, Workload, WorkloadKind};
/// use photofinish::txn::{TxnOptions, Verdict};
///
/// let dir = std::env::temp_dir().join(format!("pf-doc-txn-run-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let history = dir.join("list-append.jsonl");
/// let _ = std::fs::remove_file(&history);
/// let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/exec/file_list_append.py");
///
/// // Lists in a file, each transaction under an exclusive lock: strict serializable.
/// let workload = Workload::new(WorkloadKind::ListAppend, 3, 4);
/// let state = dir.join("lists.json").display().to_string();
/// let target = ExecTarget::new(
///     "python3",
///     vec![script.into(), state, "--lock".into()],
///     workload.clone(),
/// );
/// let mut config = RunConfig::new(workload, &history);
/// config.ops = Some(100);
/// let checked =
///     photofinish::txn_run::run_and_check_txn(target, &config, &TxnOptions::default()).unwrap();
/// assert_eq!(checked.report.verdict, Verdict::Valid);
/// println!("{}", photofinish::txn::terminal::render(&checked.report));
/// ```
///
/// Against PostgreSQL, each operation one transaction at the isolation level given:
///
/// ```no_run
/// use photofinish::runner::targets::postgres::{Isolation, PostgresTarget, PostgresVariant};
/// use photofinish::runner::{RunConfig, Workload, WorkloadKind};
/// use photofinish::txn::TxnOptions;
///
/// let kind = WorkloadKind::RwRegister;
/// let variant = PostgresVariant::default_for(kind).unwrap();
/// let url = "host=127.0.0.1 port=5432 user=postgres dbname=postgres";
/// let target = PostgresTarget::new(url, kind, variant, Isolation::RepeatableRead, 5).unwrap();
/// let mut config = RunConfig::new(Workload::new(kind, 5, 10), "rw-register.jsonl");
/// config.ops = Some(2000);
/// let checked =
///     photofinish::txn_run::run_and_check_txn(target, &config, &TxnOptions::default()).unwrap();
/// println!("{}", photofinish::txn::terminal::render(&checked.report));
/// ```
pub fn run_and_check_txn<T: Target>(
    target: T,
    config: &RunConfig,
    options: &TxnOptions,
) -> Result<TxnChecked, Error> {
    let summary = crate::runner::run_blocking(target, config)?;
    let history = crate::history::read_path(&config.history, Some(Format::JsonLines))?;
    let origin = config.history.display().to_string();
    let report = check_recorded(&history, &origin, config.workload.kind.model(), options)?;
    Ok(TxnChecked {
        summary,
        history,
        report,
    })
}
