//! `compare`: every option of a scenario, on each replica count, with the same seed and
//! clients; the matrix's columns, its table and its JSON.

use photofinish_check::Verdict;
use photofinish_lab::{compare_blocking, CompareError, CompareOptions, Expectation};

#[test]
fn the_decimal_counter_matrix_catches_the_float_read_modify_write() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = CompareOptions::new("decimal-counter");
    options.dir = Some(dir.path().to_path_buf());
    options.ops = 400;
    let matrix = compare_blocking(&options).unwrap();
    let rows: Vec<_> = matrix
        .rows
        .iter()
        .map(|r| (r.strategy, r.replicas, r.verdict))
        .collect();
    assert_eq!(
        rows,
        [
            ("float-read-modify-write", 1, Verdict::Invalid),
            ("atomic-cents", 1, Verdict::Valid),
            ("float-read-modify-write", 3, Verdict::Invalid),
            ("atomic-cents", 3, Verdict::Valid),
        ]
    );
    for row in &matrix.rows {
        assert!(row.held, "{} on {}", row.strategy, row.replicas);
        assert!(
            row.ops >= 400 && row.throughput > 0.0,
            "{} on {}",
            row.strategy,
            row.replicas
        );
        assert!(
            row.p99_us >= row.p50_us && row.p50_us > 0.0,
            "{} on {}",
            row.strategy,
            row.replicas
        );
        assert!(row.history.starts_with(dir.path()));
    }
    // Added latency is against each replica count's first row.
    for pair in matrix.rows.chunks(2) {
        assert_eq!(pair[0].added_p50_us, 0.0);
        assert_eq!(pair[1].added_p50_us, pair[1].p50_us - pair[0].p50_us);
        assert_eq!(pair[1].added_p99_us, pair[1].p99_us - pair[0].p99_us);
    }
    // The float read-modify-write's finding is the lost adds, counted in decimals.
    let finding = matrix.rows[0].finding.as_deref().unwrap();
    assert!(finding.contains("lost"), "{finding}");
    assert_eq!(matrix.rows[1].finding, None);

    let table = matrix.to_string();
    for text in [
        "decimal-counter:",
        "on 1 replica:",
        "on 3 replicas:",
        "option",
        "verdict",
        "ops/s",
        "p50",
        "p99",
        "+p50",
        "+p99",
        "(baseline)",
        "yes: race caught",
        "yes: fix passed",
        "what the checker found:",
    ] {
        assert!(table.contains(text), "{text}: {table}");
    }

    let json: serde_json::Value = serde_json::to_value(&matrix).unwrap();
    assert_eq!(json["scenario"], "decimal-counter");
    assert_eq!(json["rows"].as_array().unwrap().len(), 4);
    let first = &json["rows"][0];
    assert_eq!(first["strategy"], "float-read-modify-write");
    assert_eq!(first["expected"], "racy");
    assert_eq!(first["verdict"], "invalid");
    assert_eq!(first["replicas"], 1);
    for field in [
        "ops",
        "throughput",
        "p50_us",
        "p99_us",
        "added_p50_us",
        "added_p99_us",
    ] {
        assert!(first[field].is_number(), "{field}: {first}");
    }
    assert!(
        first.get("report").is_none(),
        "the full report stays out of the matrix"
    );
}

#[test]
fn each_scenario_option_is_caught_or_passes_on_its_own() {
    // The demo runs every option; these are the ones whose verdict turns on the replica count
    // or on a stall, run again on their own.
    for (scenario, replicas) in [("create-once", 1), ("create-once", 3), ("snapshot", 3)] {
        let mut options = CompareOptions::new(scenario);
        options.replicas = vec![replicas];
        options.ops = 400;
        let dir = tempfile::tempdir().unwrap();
        options.dir = Some(dir.path().to_path_buf());
        let matrix = compare_blocking(&options).unwrap();
        for row in &matrix.rows {
            let want = match row.expected {
                Expectation::Racy => Verdict::Invalid,
                Expectation::Safe => Verdict::Valid,
                // Deadlocks are tests/deadlock.rs's; none is in these scenarios.
                Expectation::Stalls => unreachable!("{scenario} has no deadlock"),
            };
            assert_eq!(
                row.verdict, want,
                "{scenario} on {replicas}: {}",
                row.strategy
            );
        }
    }
}

#[test]
fn unknown_scenarios_and_no_replicas_are_errors() {
    let unknown = compare_blocking(&CompareOptions::new("livelock")).unwrap_err();
    assert!(matches!(unknown, CompareError::UnknownScenario(_)));
    assert!(unknown.to_string().contains("create-once"), "{unknown}");
    let mut options = CompareOptions::new("counter");
    options.replicas = vec![];
    assert!(matches!(
        compare_blocking(&options),
        Err(CompareError::NoReplicas)
    ));
}
