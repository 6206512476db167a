//! The whole demo, with its defaults: every racy strategy caught, every fix passed.

use std::sync::{Arc, Mutex};

use photofinish_lab::{demo_blocking, DemoOptions, DemoRow, Expectation};

#[test]
fn the_default_demo_catches_every_race_and_passes_every_fix() {
    let dir = tempfile::tempdir().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let progress_seen = Arc::clone(&seen);
    let options = DemoOptions {
        dir: Some(dir.path().to_path_buf()),
        progress: Some(Arc::new(move |row: &DemoRow| {
            progress_seen.lock().unwrap().push(row.strategy);
        })),
        ..DemoOptions::default()
    };
    let report = demo_blocking(&options).unwrap();
    let table = report.to_string();
    println!("{table}");
    assert!(report.succeeded(), "{table}");
    assert_eq!(report.exit_code(), 0);
    assert_eq!(seen.lock().unwrap().len(), report.rows.len());
    for row in &report.rows {
        assert!(row.history.starts_with(dir.path()));
        let name = format!("{}/{} on {}", row.scenario, row.strategy, row.replicas);
        // Create-once runs take a quarter of the budget; a run stops at its budget, give or
        // take the final reads, or once it stalls; a fault scenario runs for a fixed time.
        let stalls = row.expected == Expectation::Stalls;
        assert!(
            stalls || row.fault_split.is_some() || row.ops >= options.ops / 4 - 1,
            "{name}: {} ops",
            row.ops
        );
        assert_eq!(
            row.finding.is_some(),
            row.expected != Expectation::Safe,
            "{name}"
        );
        assert_eq!(row.stall.is_some(), stalls, "{name}");
        assert!(stalls || row.reason.is_none(), "{name}");
        // Every history says what it was recorded with, so it is checked again without flags.
        let history = photofinish_history::read_path(&row.history, None).unwrap();
        let header = history.header.expect("the history has a header");
        assert_eq!(header.seed, Some(options.seed));
        assert!(header.model.is_some() && header.version.is_some());
        if row.finding.is_some() {
            assert!(
                table.contains(&format!(
                    "[{}]",
                    row.history.file_name().unwrap().to_string_lossy()
                )),
                "{table}"
            );
        }
    }
    // Every scenario, each with at least one race and one fix.
    for scenario in photofinish_lab::SCENARIOS {
        let expected: Vec<_> = report
            .rows
            .iter()
            .filter(|r| r.scenario == scenario)
            .map(|r| r.expected)
            .collect();
        // A race to catch, or a deadlock to catch as a stall, and its fix.
        assert!(
            expected.contains(&Expectation::Racy) || expected.contains(&Expectation::Stalls),
            "{scenario}"
        );
        assert!(expected.contains(&Expectation::Safe), "{scenario}");
    }
    let racy: Vec<_> = report
        .rows
        .iter()
        .filter(|r| r.expected == Expectation::Racy)
        .map(|r| (r.scenario, r.strategy, r.replicas))
        .collect();
    assert!(racy.contains(&("create-once", "local-lock", 3)), "{racy:?}");
    assert!(
        !racy.contains(&("create-once", "local-lock", 1)),
        "{racy:?}"
    );
    assert!(
        racy.contains(&("create-once", "redis-lock-stall", 3)),
        "{racy:?}"
    );
    assert!(
        !racy.contains(&("create-once", "redis-lock", 3)),
        "{racy:?}"
    );
    assert!(table.contains("demo passed"), "{table}");
}

#[test]
fn a_bad_history_directory_is_an_error_not_a_panic() {
    let file = tempfile::NamedTempFile::new().unwrap();
    let options = DemoOptions {
        dir: Some(file.path().join("under-a-file")),
        ..DemoOptions::default()
    };
    let error = demo_blocking(&options).unwrap_err().to_string();
    assert!(error.contains("cannot use"), "{error}");
}

/// The fault scenario: two clients, an objects table across a link the nemesis slows now and
/// then. The check-then-create is caught, mostly inside the slow windows; the unique create
/// passes through the same faults; both histories record the windows.
#[test]
fn a_slow_link_opens_the_check_then_create_window_for_two_clients() {
    let dir = tempfile::tempdir().unwrap();
    let options = DemoOptions {
        dir: Some(dir.path().to_path_buf()),
        scenarios: photofinish_lab::scenario_runs("slow-network", &[1]).unwrap(),
        ..DemoOptions::default()
    };
    let report = demo_blocking(&options).unwrap();
    let table = report.to_string();
    println!("{table}");
    assert!(report.succeeded(), "{table}");
    assert_eq!(report.rows.len(), 2);
    for row in &report.rows {
        let history = photofinish_history::read_path(&row.history, None).unwrap();
        let processes: std::collections::BTreeSet<_> =
            history.operations.iter().map(|op| op.process).collect();
        assert_eq!(processes.len(), 2, "two clients: {processes:?}");
        let faults: Vec<_> = history.nemesis.iter().map(|e| e.f.as_str()).collect();
        assert!(
            faults.starts_with(&["start-latency", "stop-latency"]),
            "{faults:?}"
        );
        assert!(history.nemesis[0].value.to_string().contains("objects-db"));
    }
    let racy = &report.rows[0];
    assert_eq!(racy.strategy, "check-then-create");
    assert_eq!(racy.expected, Expectation::Racy);
    let split = racy
        .fault_split
        .expect("the racy row splits its duplicates");
    assert!(split.inside > 0 && split.inside_duplicated > 0, "{split:?}");
    // The fault is what opened the window: a larger share of the fingerprints created while
    // the link was slow got duplicates than of those created while it was not.
    assert!(
        split.inside_duplicated * split.outside > split.outside_duplicated * split.inside,
        "{split:?}"
    );
    assert!(table.contains("inside the fault windows"), "{table}");
    assert_eq!(report.rows[1].strategy, "unique-create");
    assert_eq!(report.rows[1].duplicates, Some(0));
}
