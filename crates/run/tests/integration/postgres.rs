//! The PostgreSQL target against a real server: the read-modify-write races that READ
//! COMMITTED lets through are caught, and the safe variants pass.

use crate::common;
use crate::common::postgres_server;

use common::{assert_verdict, run_and_check, Outcome, Scratch};
use photofinish_check::Verdict;
use photofinish_run::targets::postgres::{Isolation, PostgresTarget, PostgresVariant};
use photofinish_run::{Workload, WorkloadKind};
use postgres_server::PostgresServer;

const CLIENTS: usize = 20;
const OPS: u64 = 3000;
/// All clients on one row: twenty increments always in flight, as PostgreSQL's latency makes
/// them, the hardest case for the checker (identical increments are tried in one order only).
const SAFE_COUNTER_KEYS: usize = 1;

fn run(kind: WorkloadKind, variant: &str, isolation: Isolation, keys: usize) -> Outcome {
    let server = PostgresServer::start();
    let scratch = Scratch::new("pg-history");
    let variant = PostgresVariant::parse(kind, variant).expect("a variant of the workload");
    let target =
        PostgresTarget::new(&server.url(), kind, variant, isolation, keys).expect("a target");
    run_and_check(
        target,
        Workload::new(kind, keys, CLIENTS),
        OPS,
        &scratch.path.join("history.jsonl"),
    )
}

#[test]
fn select_then_update_loses_increments_under_read_committed() {
    let outcome = run(
        WorkloadKind::Counter,
        "select-update",
        Isolation::ReadCommitted,
        1,
    );
    assert_verdict(&outcome, Verdict::Invalid);
}

#[test]
fn select_then_update_is_refused_under_repeatable_read() {
    let outcome = run(
        WorkloadKind::Counter,
        "select-update",
        Isolation::RepeatableRead,
        1,
    );
    assert_verdict(&outcome, Verdict::Valid);
    assert!(outcome.summary.fail > 0, "concurrent updates are refused");
}

#[test]
fn update_add_counts_every_increment() {
    let outcome = run(
        WorkloadKind::Counter,
        "update-add",
        Isolation::ReadCommitted,
        SAFE_COUNTER_KEYS,
    );
    assert_verdict(&outcome, Verdict::Valid);
}

#[test]
fn select_for_update_counts_every_increment() {
    let outcome = run(
        WorkloadKind::Counter,
        "for-update",
        Isolation::ReadCommitted,
        SAFE_COUNTER_KEYS,
    );
    assert_verdict(&outcome, Verdict::Valid);
}

#[test]
fn serializable_retries_count_every_increment() {
    let outcome = run(
        WorkloadKind::Counter,
        "serializable",
        Isolation::ReadCommitted,
        SAFE_COUNTER_KEYS,
    );
    assert_verdict(&outcome, Verdict::Valid);
}

#[test]
fn check_then_insert_creates_twice() {
    let outcome = run(
        WorkloadKind::CreateOnce,
        "check-then-insert",
        Isolation::ReadCommitted,
        1,
    );
    assert_verdict(&outcome, Verdict::Invalid);
}

#[test]
fn insert_on_conflict_creates_once() {
    let outcome = run(
        WorkloadKind::CreateOnce,
        "unique-insert",
        Isolation::ReadCommitted,
        1,
    );
    assert_verdict(&outcome, Verdict::Valid);
}

#[test]
fn conditional_updates_are_a_linearizable_cas_register() {
    let outcome = run(
        WorkloadKind::CasRegister,
        "conditional-update",
        Isolation::ReadCommitted,
        4,
    );
    assert_verdict(&outcome, Verdict::Valid);
}

#[test]
fn row_registers_are_linearizable() {
    let outcome = run(
        WorkloadKind::Register,
        "update",
        Isolation::ReadCommitted,
        4,
    );
    assert_verdict(&outcome, Verdict::Valid);
}
