//! Transactional isolation checking for photofinish: find the anomalies (G0 ... G2-item,
//! lost updates, aborted and intermediate reads, ...) in histories of database transactions,
//! say which consistency models they rule out, and explain each as steps a person can follow.
//!
//! The approach is Elle's (Kingsbury and Alvaro, "Elle: Inferring Isolation Anomalies from
//! Experimental Observations", VLDB 2020): workloads whose values reveal the order of
//! versions (appends to lists, unique writes to registers) let a checker infer the dependency
//! graph between transactions (Adya's ww, wr and rw edges) from what clients saw, without
//! searching over orders; a cycle in that graph is an anomaly, named by the edges it uses.
//!
//! ```
//! use photofinish_txn::{check_str, ConsistencyModel, TxnOptions, Verdict, Workload};
//!
//! // T1 reads x as [] and appends 1 to y; T2 reads y as [] and appends 2 to x, concurrently:
//! // each missed the other's write, a write skew (G2-item).
//! let history = r#"{"type":"invoke","process":0,"f":"txn","value":[["r","x",null],["append","y",1]]}
//! {"type":"invoke","process":1,"f":"txn","value":[["r","y",null],["append","x",2]]}
//! {"type":"ok","process":0,"f":"txn","value":[["r","x",[]],["append","y",1]]}
//! {"type":"ok","process":1,"f":"txn","value":[["r","y",[]],["append","x",2]]}
//! "#;
//! let mut options = TxnOptions::default();
//! options.consistency_model = ConsistencyModel::Serializable;
//! let report = check_str(history, "skew.jsonl", Workload::ListAppend, &options).unwrap();
//! assert_eq!(report.verdict, Verdict::Invalid);
//! assert_eq!(report.anomaly_types[0].name(), "G2-item");
//! // Snapshot isolation allows write skew.
//! assert!(!report.ruled_out.contains(&ConsistencyModel::SnapshotIsolation));
//! println!("{}", photofinish_txn::terminal::render(&report));
//! ```
//!
//! # Layout
//!
//! - [`txns`]: transactions read from a [`History`](photofinish_history::History), keys and
//!   values interned to integers; [`read`] reads files (also Elle's examples, which leave out
//!   `:process`).
//! - [`list_append`], [`rw_register`]: each workload's inference of version orders, its
//!   dependency edges, and the anomalies visible without cycles (G1a, G1b, internal, lost
//!   update, ...).
//! - [`graph`]: the dependency graph in compressed sparse rows, and real-time order as a
//!   chain of time nodes; [`scc`]: iterative Tarjan over projections of it; [`cycles`]:
//!   breadth-first search for cycles of a shape, and naming a cycle by its edges; [`search`]:
//!   deciding every model exactly and looking for each shape within a budget.
//! - [`anomaly`], [`consistency`]: the anomalies and which consistency models forbid which
//!   (the table is in [`consistency`]).
//! - [`check`]: the whole check, into a [`Report`]; [`explain`] words; [`terminal`] and
//!   [`svg`] render a report; [`render`] escapes and clips text from histories.
//! - [`bank`], [`long_fork`], [`set_full`]: Jepsen's bank, long-fork and set-full checkers.
//! - [`generate`]: seeded histories for tests and benchmarks.

pub mod anomaly;
pub mod bank;
pub mod check;
pub mod consistency;
pub mod cycles;
pub mod error;
pub mod explain;
pub mod generate;
pub mod graph;
pub mod html;
pub mod intern;
pub mod list_append;
pub mod long_fork;
pub mod read;
pub mod render;
pub mod report;
pub mod rw_register;
pub mod scc;
pub mod search;
pub mod set_full;
mod stream;
pub mod svg;
pub mod terminal;
pub mod txns;

use std::path::Path;

use photofinish_history::Format;

pub use anomaly::{AnomalyKind, CycleClass, Variant};
pub use check::{check_history, check_txns, TxnOptions};
pub use consistency::ConsistencyModel;
pub use error::TxnError;
pub use report::{ExplainedStep, Finding, Report, TxnRef, Verdict};
pub use search::SearchLimits;
pub use txns::{Txns, Workload};

/// Reads the history at `path` and checks it as a `workload` history.
pub fn check_path(
    path: &Path,
    workload: Workload,
    format: Option<Format>,
    options: &TxnOptions,
) -> Result<Report, TxnError> {
    let (txns, warnings) = read::read_txns(path, workload, format)?;
    let mut report = check_txns(&txns, options)?;
    report.notes.splice(0..0, warnings);
    Ok(report)
}

/// Checks a history held in memory; `origin` names it in errors.
pub fn check_str(
    text: &str,
    origin: &str,
    workload: Workload,
    options: &TxnOptions,
) -> Result<Report, TxnError> {
    let (txns, warnings) = read::read_txns_str(text, origin, workload, None)?;
    let mut report = check_txns(&txns, options)?;
    report.notes.splice(0..0, warnings);
    Ok(report)
}
