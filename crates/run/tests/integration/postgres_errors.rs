//! PostgreSQL's errors reach the history and the summary with their SQL state and message,
//! never as the driver's bare `db error`.

use crate::common;
use crate::common::postgres_server;

use common::{assert_verdict, run_and_check, Scratch};
use photofinish_check::Verdict;
use photofinish_run::targets::postgres::{Isolation, PostgresTarget, PostgresVariant};
use photofinish_run::{Workload, WorkloadKind};
use postgres_server::PostgresServer;

#[test]
fn refused_updates_say_why_with_their_sql_state() {
    let server = PostgresServer::start();
    let scratch = Scratch::new("pg-errors");
    let kind = WorkloadKind::Counter;
    let variant = PostgresVariant::parse(kind, "select-update").unwrap();
    // Whether two clients' transactions overlap depends on scheduling: on a loaded machine a
    // round can pass without a refusal, so up to five rounds are run until one is refused.
    let mut round = 0;
    let (outcome, history) = loop {
        let target =
            PostgresTarget::new(&server.url(), kind, variant, Isolation::RepeatableRead, 1)
                .expect("a target");
        let history = scratch.path.join(format!("history-{round}.jsonl"));
        let outcome = run_and_check(target, Workload::new(kind, 1, 10), 500, &history);
        assert_verdict(&outcome, Verdict::Valid);
        round += 1;
        if outcome.summary.fail > 0 || round == 5 {
            break (outcome, history);
        }
    };
    assert!(outcome.summary.fail > 0, "concurrent updates are refused");
    let errors: Vec<&String> = outcome.summary.errors.keys().collect();
    assert!(
        errors.iter().any(|e| e.starts_with("could not serialize access")
            && e.ends_with("(SQLSTATE 40001)")),
        "{errors:?}"
    );
    assert!(errors.iter().all(|e| !e.contains("db error")), "{errors:?}");
    let recorded = std::fs::read_to_string(&history).unwrap();
    assert!(
        recorded.contains("(SQLSTATE 40001)"),
        "the history records it too"
    );
}
