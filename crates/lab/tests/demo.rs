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
        // take the final reads, or once it stalls.
        let stalls = row.expected == Expectation::Stalls;
        assert!(
            stalls || row.ops >= options.ops / 4 - 1,
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
