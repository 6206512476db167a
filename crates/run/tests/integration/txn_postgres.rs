//! The transactional workloads (list-append, rw-register, bank) against a real PostgreSQL at
//! each isolation level, checked by the transactional checker: read committed shows the
//! anomalies serializability forbids, repeatable read (PostgreSQL's snapshot isolation) shows
//! write skew and nothing snapshot isolation forbids, serializable shows nothing.
//!
//! Anomalies are races: a test that expects one runs a bounded number of rounds (each on a
//! fresh table) until it shows, and fails only if none does.

use crate::common;
use crate::common::postgres_server;

use std::path::Path;

use common::Scratch;
use photofinish_run::targets::postgres::{Isolation, PostgresTarget, PostgresVariant};
use photofinish_run::workload::BANK_BALANCE;
use photofinish_run::{run_blocking, RunConfig, Summary, Workload, WorkloadKind};
use photofinish_txn::bank::{check_bank, BankOptions};
use photofinish_txn::{ConsistencyModel, Report, TxnOptions, Verdict};
use postgres_server::PostgresServer;

const CLIENTS: usize = 16;
const OPS: u64 = 2000;
/// Few keys, so that concurrent transactions touch the same ones.
const KEYS: usize = 5;
/// The most rounds a test runs waiting for a racy anomaly to show.
const ROUNDS: u64 = 5;

/// Runs `kind` at `isolation` on `server` with `seed`, into a fresh history in `dir`.
fn run(
    server: &PostgresServer,
    dir: &Path,
    kind: WorkloadKind,
    isolation: Isolation,
    seed: u64,
) -> (Summary, photofinish_history::History) {
    let variant = PostgresVariant::default_for(kind).expect("postgres runs it");
    let target =
        PostgresTarget::new(&server.url(), kind, variant, isolation, KEYS).expect("a target");
    let history = dir.join(format!("{kind}-{isolation}-{seed}.jsonl"));
    let mut config = RunConfig::new(Workload::new(kind, KEYS, CLIENTS), &history);
    config.ops = Some(OPS);
    config.seed = seed;
    let summary = run_blocking(target, &config).expect("the run completes");
    let history = photofinish_history::read_path(&history, None).expect("the history parses");
    eprintln!(
        "{}: {} ops ({} ok, {} fail, {} info) at {:.0} ops/s",
        summary.target,
        summary.operations,
        summary.ok,
        summary.fail,
        summary.info,
        summary.throughput
    );
    assert_eq!(
        summary.info, 0,
        "no fault, no indeterminate transaction: {:?}",
        summary.errors
    );
    (summary, history)
}

/// Checks a list-append or rw-register history against `model`.
fn check(
    history: &photofinish_history::History,
    kind: WorkloadKind,
    model: ConsistencyModel,
) -> Report {
    let workload = photofinish_txn::Workload::parse(kind.model()).expect("transactional");
    let options = TxnOptions {
        consistency_model: model,
        ..TxnOptions::default()
    };
    let report = photofinish_txn::check_history(history, workload, "run", &options)
        .expect("the history can be checked");
    eprintln!(
        "  against {}: {:?}, {:?}",
        model.name(),
        report.verdict,
        report.anomaly_counts
    );
    report
}

fn bank(history: &photofinish_history::History) -> Report {
    let options = BankOptions {
        total: Some(BANK_BALANCE * KEYS as i64),
        accounts: Some(
            (0..KEYS as i64)
                .map(photofinish_history::Value::Int)
                .collect(),
        ),
        allow_negative: false,
    };
    let report = check_bank(history, "run", &options).expect("the history can be checked");
    eprintln!("  bank: {:?}, {:?}", report.verdict, report.anomaly_counts);
    report
}

/// Runs rounds of `kind` at `isolation` until `found` holds of the report against `model`,
/// at most [`ROUNDS`]; returns the report that showed it.
fn until(
    server: &PostgresServer,
    dir: &Path,
    kind: WorkloadKind,
    isolation: Isolation,
    model: ConsistencyModel,
    what: &str,
    found: impl Fn(&Report) -> bool,
) -> Report {
    for seed in 1..=ROUNDS {
        let (_, history) = run(server, dir, kind, isolation, seed);
        let report = check(&history, kind, model);
        if found(&report) {
            return report;
        }
    }
    panic!("{kind} at {isolation}: no {what} in {ROUNDS} rounds of {OPS} transactions");
}

/// Anomaly names as the report counts them.
fn has(report: &Report, name: &str) -> bool {
    report.anomaly_counts.contains_key(name)
}

/// Whether the report holds any anomaly whose name starts with `prefix` (`G1`: G1a, G1b, G1c
/// and their variants).
fn has_prefix(report: &Report, prefix: &str) -> bool {
    report.anomaly_counts.keys().any(|k| k.starts_with(prefix))
}

#[test]
fn read_committed_lets_through_what_serializability_forbids() {
    let server = PostgresServer::start();
    let scratch = Scratch::new("txn-rc");
    let dir = &scratch.path;
    let rc = Isolation::ReadCommitted;
    // Read skew: a transaction sees one transaction's append to one key and misses its
    // append to another.
    let report = until(
        &server,
        dir,
        WorkloadKind::ListAppend,
        rc,
        ConsistencyModel::StrictSerializable,
        "G-single",
        |r| has(r, "G-single"),
    );
    assert_eq!(report.verdict, Verdict::Invalid);
    assert!(report
        .ruled_out
        .contains(&ConsistencyModel::SnapshotIsolation));
    // Read then write of one register: the second writer overwrites the first without having
    // seen it.
    let report = until(
        &server,
        dir,
        WorkloadKind::RwRegister,
        rc,
        ConsistencyModel::StrictSerializable,
        "lost update",
        |r| has(r, "lost-update"),
    );
    assert_eq!(report.verdict, Verdict::Invalid);
    // Bank transfers read both balances, then write what they computed: concurrent transfers
    // overwrite each other, and the total changes.
    let mut broken = None;
    for seed in 1..=ROUNDS {
        let (_, history) = run(&server, dir, WorkloadKind::Bank, rc, seed);
        let report = bank(&history);
        if report.verdict == Verdict::Invalid {
            broken = Some(report);
            break;
        }
    }
    let report = broken.expect("read committed breaks the bank's total");
    assert!(has(&report, "wrong-total"), "{:?}", report.anomaly_counts);
}

#[test]
fn repeatable_read_is_snapshot_isolation_with_write_skew() {
    let server = PostgresServer::start();
    let scratch = Scratch::new("txn-rr");
    let dir = &scratch.path;
    let rr = Isolation::RepeatableRead;
    // Write skew: two transactions each read a key the other appends to, and both commit.
    // Every round must show nothing snapshot isolation forbids.
    let report = until(
        &server,
        dir,
        WorkloadKind::ListAppend,
        rr,
        ConsistencyModel::Serializable,
        "G2-item",
        |r| {
            assert_nothing_snapshot_isolation_forbids(r);
            has(r, "G2-item")
        },
    );
    assert_eq!(report.verdict, Verdict::Invalid);
    // rw-register infers fewer version orders than list-append; checked against strict
    // serializability, real-time order adds the rest. Write skew shows, plain or with a
    // real-time edge; still nothing snapshot isolation forbids, real-time variants included
    // (PostgreSQL takes each snapshot after the transactions already acknowledged).
    until(
        &server,
        dir,
        WorkloadKind::RwRegister,
        rr,
        ConsistencyModel::StrictSerializable,
        "G2-item",
        |r| {
            assert_nothing_snapshot_isolation_forbids(r);
            has_prefix(r, "G2-item")
        },
    );
    let (summary, history) = run(&server, dir, WorkloadKind::Bank, rr, 1);
    assert!(
        summary.fail > 0,
        "concurrent transfers from one account are refused"
    );
    assert_eq!(bank(&history).verdict, Verdict::Valid);
}

/// No anomaly snapshot isolation forbids: valid against it, and in particular no G-single,
/// no G1, no lost update.
fn assert_nothing_snapshot_isolation_forbids(report: &Report) {
    for name in ["G-single", "lost-update", "G0"] {
        assert!(
            !has_prefix(report, name),
            "{name}: {:?}",
            report.anomaly_counts
        );
    }
    assert!(!has_prefix(report, "G1"), "{:?}", report.anomaly_counts);
    assert!(
        !report
            .ruled_out
            .contains(&ConsistencyModel::SnapshotIsolation),
        "{:?}",
        report.anomaly_counts
    );
}

#[test]
fn serializable_shows_no_anomaly_at_all() {
    let server = PostgresServer::start();
    let scratch = Scratch::new("txn-ser");
    let dir = &scratch.path;
    let ser = Isolation::Serializable;
    for kind in [WorkloadKind::ListAppend, WorkloadKind::RwRegister] {
        let (summary, history) = run(&server, dir, kind, ser, 1);
        assert!(summary.ok > OPS / 4, "{summary:?}");
        let report = check(&history, kind, ConsistencyModel::StrictSerializable);
        if report.verdict != Verdict::Valid {
            // Seen once in many runs (a G2-item, on a loaded machine): keep the history and
            // say what was found, so the case can be read again after the scratch is gone.
            let kept = std::env::temp_dir().join(format!(
                "photofinish-postgres-serializable-{kind}-{}.jsonl",
                std::process::id()
            ));
            let recorded = dir.join(format!("{kind}-{ser}-1.jsonl"));
            let copied = std::fs::copy(&recorded, &kept).map(|_| kept.display().to_string());
            panic!(
                "{kind} at serializable: {:?}\nhistory kept: {copied:?}\n{}",
                report.anomaly_counts,
                photofinish_txn::terminal::render(&report)
            );
        }
        assert!(
            report.anomaly_counts.is_empty(),
            "{:?}",
            report.anomaly_counts
        );
    }
    let (_, history) = run(&server, dir, WorkloadKind::Bank, ser, 1);
    let report = bank(&history);
    assert_eq!(
        report.verdict,
        Verdict::Valid,
        "{:?}",
        report.anomaly_counts
    );
}
