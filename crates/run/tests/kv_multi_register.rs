//! The `kv` (lists with unique appends) and `multi-register` (transactions over several
//! registers) workloads against real Redis and PostgreSQL servers: the safe variants are VALID,
//! the racy ones INVALID. And the workload controls on a real server: a value range where
//! values repeat still checks right, and a Zipf key spread, final reads and phases record what
//! they promise.

mod common;
#[path = "common/postgres_server.rs"]
mod postgres_server;
#[path = "common/redis_server.rs"]
mod redis_server;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{Outcome, Scratch};
use photofinish_check::{check_model, CheckOptions, Verdict, GENERIC_SEARCH, UNIQUE_VALUES};
use photofinish_run::controls::{KeyDist, Mix};
use photofinish_run::targets::postgres::{Isolation, PostgresTarget, PostgresVariant};
use photofinish_run::targets::redis::{RedisTarget, RedisVariant};
use photofinish_run::{run_blocking, Phase, RunConfig, Target, Workload, WorkloadKind};
use postgres_server::PostgresServer;
use redis_server::RedisServer;

/// Enough clients that transactions overlap all the time.
const CLIENTS: usize = 10;
/// kv keys: few, so that appends to one key are concurrent.
const KV_KEYS: usize = 3;
/// multi-register registers: few, so that transactions share them.
const REGISTERS: usize = 3;

/// Runs `ops` operations and checks the history against the workload's model, with the initial
/// state the history's header records, as `photofinish run` does.
fn run_and_check<T: Target>(target: T, workload: Workload, ops: u64, history: &Path) -> Outcome {
    let model = workload.kind.model();
    let mut config = RunConfig::new(workload, history);
    config.ops = Some(ops);
    config.seed = 13;
    let summary = run_blocking(target, &config).expect("the run completes");
    let history = photofinish_history::read_path(history, None).expect("the history parses");
    let init = history.header.as_ref().and_then(|h| h.init.clone());
    let options = CheckOptions {
        timeout: Some(Duration::from_secs(60)),
        max_memory: 1 << 30,
        ..CheckOptions::default()
    };
    let started = Instant::now();
    let report = check_model(model, init.as_ref(), None, &history, &options)
        .expect("the history can be checked");
    eprintln!(
        "{}: {} ops ({} ok, {} fail, {} info) at {:.0} ops/s; {:?} in {:.3} s",
        summary.target,
        summary.operations,
        summary.ok,
        summary.fail,
        summary.info,
        summary.throughput,
        report.verdict,
        started.elapsed().as_secs_f64(),
    );
    Outcome { summary, report }
}

fn assert_verdict(outcome: &Outcome, verdict: Verdict) {
    common::assert_verdict(outcome, verdict);
    assert!(
        outcome.summary.ok > outcome.summary.operations / 2,
        "most operations completed: {}",
        outcome.summary
    );
}

fn redis(kind: WorkloadKind, variant: &str, keys: usize, ops: u64) -> Outcome {
    let server = RedisServer::start();
    let scratch = Scratch::new("redis-mix");
    let variant = RedisVariant::parse(kind, variant).expect("a variant of the workload");
    let target = RedisTarget::new(&server.addr(), kind, variant).expect("a target");
    run_and_check(
        target,
        Workload::new(kind, keys, CLIENTS),
        ops,
        &scratch.path.join("history.jsonl"),
    )
}

fn postgres(
    kind: WorkloadKind,
    variant: &str,
    isolation: Isolation,
    keys: usize,
    ops: u64,
) -> Outcome {
    let server = PostgresServer::start();
    let scratch = Scratch::new("pg-mix");
    let variant = PostgresVariant::parse(kind, variant).expect("a variant of the workload");
    let target =
        PostgresTarget::new(&server.url(), kind, variant, isolation, keys).expect("a target");
    run_and_check(
        target,
        Workload::new(kind, keys, CLIENTS),
        ops,
        &scratch.path.join("history.jsonl"),
    )
}

#[test]
fn redis_lists_keep_every_append() {
    let outcome = redis(WorkloadKind::Kv, "list", KV_KEYS, 2000);
    assert_verdict(&outcome, Verdict::Valid);
}

#[test]
fn redis_get_then_set_loses_appends() {
    let outcome = redis(WorkloadKind::Kv, "get-set", KV_KEYS, 2000);
    assert_verdict(&outcome, Verdict::Invalid);
}

#[test]
fn redis_watched_transactions_are_atomic() {
    let outcome = redis(WorkloadKind::MultiRegister, "watch", REGISTERS, 1000);
    assert_verdict(&outcome, Verdict::Valid);
}

#[test]
fn redis_reads_then_unwatched_writes_are_not_atomic() {
    let outcome = redis(
        WorkloadKind::MultiRegister,
        "read-then-write",
        REGISTERS,
        1000,
    );
    assert_verdict(&outcome, Verdict::Invalid);
}

#[test]
fn postgres_array_append_keeps_every_append() {
    let outcome = postgres(
        WorkloadKind::Kv,
        "update-append",
        Isolation::ReadCommitted,
        KV_KEYS,
        2000,
    );
    assert_verdict(&outcome, Verdict::Valid);
}

#[test]
fn postgres_select_then_update_loses_appends_under_read_committed() {
    let outcome = postgres(
        WorkloadKind::Kv,
        "select-update",
        Isolation::ReadCommitted,
        KV_KEYS,
        2000,
    );
    assert_verdict(&outcome, Verdict::Invalid);
}

#[test]
fn postgres_transactions_that_lock_their_rows_are_atomic() {
    let outcome = postgres(
        WorkloadKind::MultiRegister,
        "for-update",
        Isolation::ReadCommitted,
        REGISTERS,
        1000,
    );
    assert_verdict(&outcome, Verdict::Valid);
}

#[test]
fn postgres_serializable_transactions_are_atomic() {
    let outcome = postgres(
        WorkloadKind::MultiRegister,
        "serializable",
        Isolation::ReadCommitted,
        REGISTERS,
        1000,
    );
    assert_verdict(&outcome, Verdict::Valid);
}

#[test]
fn postgres_read_committed_transactions_are_not_atomic() {
    let outcome = postgres(
        WorkloadKind::MultiRegister,
        "select-update",
        Isolation::ReadCommitted,
        REGISTERS,
        1000,
    );
    assert_verdict(&outcome, Verdict::Invalid);
}
