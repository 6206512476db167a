//! The `kv` (lists with unique appends) and `multi-register` (transactions over several
//! registers) workloads against real Redis and PostgreSQL servers: the safe variants are VALID,
//! the racy ones INVALID. And the workload controls on a real server: a value range where
//! values repeat still checks right, and a Zipf key spread, final reads and phases record what
//! they promise. The exec target passes transactions through its JSON Lines protocol as they
//! are.

use crate::common;
use crate::common::postgres_server;
use crate::common::redis_server;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{Outcome, Scratch};
use photofinish_check::{check_model, CheckOptions, Verdict, GENERIC_SEARCH, UNIQUE_VALUES};
use photofinish_run::controls::{KeyDist, Mix};
use photofinish_run::targets::exec::ExecTarget;
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

/// The multi-register workload through the exec protocol, against a program that keeps the
/// registers in a file, with or without a lock around each transaction.
fn exec_file_registers(lock: bool) -> Outcome {
    let scratch = Scratch::new("exec-multi");
    let program = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/file_multi_register.py"
    );
    let mut args = vec![
        program.to_string(),
        scratch.path.join("registers.json").display().to_string(),
    ];
    if lock {
        args.push("--lock".to_string());
    }
    let workload = Workload::new(WorkloadKind::MultiRegister, REGISTERS, 4);
    let target = ExecTarget::new("python3", args, workload.clone());
    run_and_check(target, workload, 400, &scratch.path.join("history.jsonl"))
}

#[test]
fn exec_transactions_under_a_lock_are_atomic() {
    assert_verdict(&exec_file_registers(true), Verdict::Valid);
}

#[test]
fn exec_transactions_without_a_lock_are_not_atomic() {
    assert_verdict(&exec_file_registers(false), Verdict::Invalid);
}

/// A register run on a real Redis shaped by every control: writes three to one, values that
/// repeat, a Zipf key spread, final reads and two phases.
#[test]
fn the_controls_shape_what_is_issued_recorded_and_checked() {
    let server = RedisServer::start();
    let scratch = Scratch::new("redis-controls");
    let history = scratch.path.join("history.jsonl");
    let kind = WorkloadKind::Register;
    let keys = 4;
    let workload = Workload::new(kind, keys, CLIENTS)
        .with_mix(Mix::parse(kind, "read=1,write=3").unwrap())
        .with_values(Some(3))
        .unwrap()
        .with_key_dist(KeyDist::Zipf(1.5))
        .with_final_read(true)
        .unwrap();
    let target = RedisTarget::new(&server.addr(), kind, RedisVariant::Plain).unwrap();
    let mut config = RunConfig::new(workload, &history);
    config.ops = None;
    config.duration = Some(Duration::from_secs(2));
    config.rate = Some(1000.0);
    config.phases = vec![
        Phase {
            name: "warmup".into(),
            duration: Duration::from_secs(1),
        },
        Phase {
            name: "steady".into(),
            duration: Duration::from_secs(1),
        },
    ];
    let summary = run_blocking(target, &config).unwrap();
    eprintln!("{summary}");
    let names: Vec<&str> = summary.phases.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["warmup", "steady"]);
    assert!(
        summary.phases.iter().all(|p| p.operations > 500),
        "{summary}"
    );
    assert_eq!(
        summary.phases.iter().map(|p| p.operations).sum::<u64>() + keys as u64,
        summary.operations,
        "every operation but the final reads is in a phase"
    );

    let recorded = photofinish_history::read_path(&history, None).unwrap();
    let ops = &recorded.operations;
    let writes: Vec<i64> = ops
        .iter()
        .filter(|op| op.f == "write")
        .filter_map(|op| op.value.as_i64())
        .collect();
    assert!(writes.iter().all(|v| (0..3).contains(v)));
    let reads = ops.iter().filter(|op| op.f == "read").count();
    assert!(
        writes.len() > 2 * reads,
        "{} writes, {reads} reads",
        writes.len()
    );
    let on_key = |k: i64| {
        ops.iter()
            .filter(|op| op.key == Some(photofinish_history::Value::Int(k)))
            .count()
    };
    assert!(
        on_key(0) > 2 * on_key(3),
        "key 0 is hot: {} vs {}",
        on_key(0),
        on_key(3)
    );
    let last: Vec<_> = ops[ops.len() - keys..]
        .iter()
        .map(|op| (op.f.as_str(), op.key.clone()))
        .collect();
    for k in 0..keys {
        assert!(
            last.contains(&("read", Some(photofinish_history::Value::Int(k as i64)))),
            "the final reads read key {k}: {last:?}"
        );
    }
    let options = &recorded.header.as_ref().unwrap().other["options"].to_json_string();
    for control in [
        r#""mix":{"read":1,"write":3}"#,
        r#""values":3"#,
        r#""key_dist":"zipf:1.5""#,
        r#""final_read":true"#,
        r#""phases":[{"#,
    ] {
        assert!(options.contains(control), "{control} in {options}");
    }

    let report = check_model("register", None, None, &recorded, &CheckOptions::default()).unwrap();
    assert_eq!(report.verdict, Verdict::Valid);
    let generic = report.procedures.iter().find(|p| p.name == GENERIC_SEARCH);
    assert!(
        generic.is_some_and(|p| p
            .why
            .as_deref()
            .is_some_and(|why| why.contains("values repeat"))),
        "repeated values leave the unique-values procedure ({UNIQUE_VALUES}) out: {:?}",
        report.procedures
    );
}
