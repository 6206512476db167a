//! The Redis target against a real redis-server: every racy variant is caught, every safe one
//! passes, and a server killed mid-run leaves a history that still checks.

use crate::common;
use crate::common::redis_server;

use std::time::Duration;

use common::{assert_verdict, check, run_and_check, Outcome, Scratch};
use photofinish_check::Verdict;
use photofinish_run::targets::redis::{RedisTarget, RedisVariant};
use photofinish_run::{run_blocking, RunConfig, Workload, WorkloadKind};
use redis_server::RedisServer;

const CLIENTS: usize = 20;
const OPS: u64 = 3000;

fn run(kind: WorkloadKind, variant: &str, keys: usize, ops: u64) -> Outcome {
    let server = RedisServer::start();
    let scratch = Scratch::new("redis");
    let variant = RedisVariant::parse(kind, variant).expect("a variant of the workload");
    let target = RedisTarget::new(&server.addr(), kind, variant).expect("a target");
    run_and_check(
        target,
        Workload::new(kind, keys, CLIENTS),
        ops,
        &scratch.path.join("history.jsonl"),
    )
}

#[test]
fn get_then_set_loses_increments() {
    assert_verdict(
        &run(WorkloadKind::Counter, "get-set", 1, OPS),
        Verdict::Invalid,
    );
}

#[test]
fn incrby_counts_every_increment() {
    assert_verdict(&run(WorkloadKind::Counter, "incr", 1, OPS), Verdict::Valid);
}

#[test]
fn a_lock_that_expires_under_a_stalled_holder_has_two_holders() {
    // Failed acquires are quick, so the budget must outlast a few 150 ms stalls.
    assert_verdict(
        &run(WorkloadKind::Mutex, "set-nx-px", 2, 40_000),
        Verdict::Invalid,
    );
}

#[test]
fn a_lock_released_only_by_its_owner_has_one_holder() {
    assert_verdict(
        &run(WorkloadKind::Mutex, "set-nx-owned", 2, 40_000),
        Verdict::Valid,
    );
}

#[test]
fn exists_then_set_creates_twice() {
    assert_verdict(
        &run(WorkloadKind::CreateOnce, "check-then-set", 1, OPS),
        Verdict::Invalid,
    );
}

#[test]
fn set_nx_creates_once() {
    assert_verdict(
        &run(WorkloadKind::CreateOnce, "set-nx", 1, OPS),
        Verdict::Valid,
    );
}

#[test]
fn registers_are_linearizable() {
    assert_verdict(
        &run(WorkloadKind::Register, "plain", 4, OPS),
        Verdict::Valid,
    );
}

#[test]
fn lua_cas_registers_are_linearizable() {
    assert_verdict(
        &run(WorkloadKind::CasRegister, "lua", 4, OPS),
        Verdict::Valid,
    );
}

#[test]
fn sets_are_linearizable() {
    assert_verdict(&run(WorkloadKind::Set, "plain", 4, OPS), Verdict::Valid);
}

#[test]
fn queues_are_linearizable() {
    // Until the final drain reveals it, the order of a backlog of concurrent enqueues is a
    // guess: on one key at 20 clients a check takes from 0.1 s to several seconds. Many keys
    // keep each key's backlog short and the test quick.
    assert_verdict(&run(WorkloadKind::Queue, "plain", 30, OPS), Verdict::Valid);
}

#[test]
fn a_server_killed_mid_run_leaves_a_checkable_history() {
    let mut server = RedisServer::start();
    let scratch = Scratch::new("redis-kill");
    let history = scratch.path.join("history.jsonl");
    let target = RedisTarget::new(&server.addr(), WorkloadKind::Counter, RedisVariant::Incr)
        .expect("a target");
    let mut config = RunConfig::new(Workload::new(WorkloadKind::Counter, 1, CLIENTS), &history);
    config.ops = None;
    config.duration = Some(Duration::from_secs(2));
    config.op_timeout = Duration::from_secs(1);
    let run = std::thread::spawn(move || run_blocking(target, &config));
    std::thread::sleep(Duration::from_millis(500));
    server.kill();
    let summary = run
        .join()
        .expect("the run does not panic")
        .expect("the run ends with a summary");

    eprintln!("{summary}");
    assert!(
        summary.info >= 1,
        "in-flight operations are info: {summary}"
    );
    assert!(summary.connect_errors >= 1, "{summary}");
    let parsed = photofinish_history::read_path(&history, None).expect("the history parses");
    let completions = parsed.operations.iter().filter(|op| op.f == "add").count();
    assert!(completions > 0);
    // Nothing acknowledged was lost (the server never came back), so a verdict, and a valid one.
    let (report, _) = check(&history, "counter");
    assert_eq!(report.verdict, Verdict::Valid, "{summary}");
}
