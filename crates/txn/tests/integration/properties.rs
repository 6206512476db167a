//! Properties over generated histories:
//! - a database that runs transactions serially (each at one instant between its invocation
//!   and completion, with concurrency, aborts and crashes around it) never shows an anomaly;
//! - a snapshot-isolated database never violates snapshot isolation, a read-committed one
//!   never read committed;
//! - an anomaly planted into a serializable history shows exactly its class. Two plants show
//!   a second class too, by necessity: an intermediate read (G1b) also misses its writer's
//!   later write, a G-single; a lost update's two transactions each miss the other's write, a
//!   G2-item.

use photofinish_history::{Event, EventKind, History, Process, Value};
use photofinish_txn::generate::{generate, GenConfig, SimIsolation};
use photofinish_txn::{check_txns, ConsistencyModel, Report, TxnOptions, Txns, Verdict, Workload};
use proptest::prelude::*;
use serde_json::json;

fn check(events: Vec<Event>, workload: Workload, model: ConsistencyModel) -> Report {
    let history = History::from_events(events).expect("a well-formed history");
    let txns = Txns::from_history(&history, workload, "generated").expect("transactions");
    let options = TxnOptions {
        consistency_model: model,
        ..TxnOptions::default()
    };
    check_txns(&txns, &options).expect("unique writes")
}

fn config() -> impl Strategy<Value = GenConfig> {
    (
        any::<u64>(),
        1usize..12,
        1usize..10,
        1usize..5,
        20usize..300,
        prop_oneof![Just(Workload::ListAppend), Just(Workload::RwRegister)],
        0.0f64..0.1,
        0.0f64..0.1,
    )
        .prop_map(
            |(seed, processes, keys, max_mops, transactions, workload, fail_rate, info_rate)| {
                GenConfig {
                    workload,
                    transactions,
                    processes,
                    keys,
                    max_mops,
                    max_writes_per_key: 8,
                    isolation: SimIsolation::Serializable,
                    read_fraction: 0.5,
                    fail_rate,
                    info_rate,
                    seed,
                }
            },
        )
}

fn names(report: &Report) -> Vec<String> {
    report.anomaly_types.iter().map(|k| k.name()).collect()
}

/// A planted anomaly: transactions on keys of their own, all invoked before any completes.
struct Plant {
    expected: &'static [&'static str],
    txns: Vec<(&'static str, serde_json::Value)>,
}

fn plants(workload: Workload) -> Vec<Plant> {
    let ok = |v| ("ok", v);
    match workload {
        Workload::ListAppend => vec![
            Plant {
                expected: &["G0"],
                txns: vec![
                    ok(json!([["append", "px", 1], ["append", "py", 1]])),
                    ok(json!([["append", "px", 2], ["append", "py", 2]])),
                    ok(json!([["r", "px", [1, 2]], ["r", "py", [2, 1]]])),
                ],
            },
            Plant {
                expected: &["G1a"],
                txns: vec![
                    ("fail", json!([["append", "px", 1]])),
                    ok(json!([["r", "px", [1]]])),
                ],
            },
            Plant {
                expected: &["G-single", "G1b"],
                txns: vec![
                    ok(json!([["append", "px", 1], ["append", "px", 2]])),
                    ok(json!([["r", "px", [1]]])),
                ],
            },
            Plant {
                expected: &["G1c"],
                txns: vec![
                    ok(json!([["append", "px", 1], ["r", "py", [1]]])),
                    ok(json!([["append", "px", 2], ["append", "py", 1]])),
                    ok(json!([["r", "px", [1, 2]]])),
                ],
            },
            Plant {
                expected: &["G-single"],
                txns: vec![
                    ok(json!([["append", "px", 1], ["append", "py", 1]])),
                    ok(json!([["append", "px", 2], ["r", "py", []]])),
                    ok(json!([["r", "px", [1, 2]]])),
                ],
            },
            Plant {
                expected: &["G-nonadjacent"],
                txns: vec![
                    ok(json!([["append", "px", 1]])),
                    ok(json!([["r", "px", [1]], ["r", "py", []]])),
                    ok(json!([["append", "py", 1]])),
                    ok(json!([["r", "py", [1]], ["r", "px", []]])),
                ],
            },
            Plant {
                expected: &["G2-item"],
                txns: vec![
                    ok(json!([["r", "px", []], ["append", "py", 1]])),
                    ok(json!([["r", "py", []], ["append", "px", 1]])),
                ],
            },
            Plant {
                expected: &["G2-item", "lost-update"],
                txns: vec![
                    ok(json!([["r", "px", []], ["append", "px", 1]])),
                    ok(json!([["r", "px", []], ["append", "px", 2]])),
                ],
            },
        ],
        Workload::RwRegister => vec![
            Plant {
                expected: &["G0"],
                txns: vec![
                    ok(json!([["w", "px", 1], ["r", "py", 2], ["w", "py", 1]])),
                    ok(json!([["r", "px", 1], ["w", "px", 2], ["w", "py", 2]])),
                ],
            },
            Plant {
                expected: &["G1a"],
                txns: vec![
                    ("fail", json!([["w", "px", 1]])),
                    ok(json!([["r", "px", 1]])),
                ],
            },
            Plant {
                expected: &["G1b"],
                txns: vec![
                    ok(json!([["w", "px", 1], ["w", "px", 2]])),
                    ok(json!([["r", "px", 1]])),
                ],
            },
            Plant {
                expected: &["G1c"],
                txns: vec![
                    ok(json!([["w", "px", 1], ["r", "py", 1]])),
                    ok(json!([["r", "px", 1], ["w", "py", 1]])),
                ],
            },
            Plant {
                expected: &["G-single"],
                txns: vec![
                    ok(json!([["w", "px", 1], ["w", "py", 1]])),
                    ok(json!([["r", "px", 1], ["r", "py", null]])),
                ],
            },
            Plant {
                expected: &["G2-item"],
                txns: vec![
                    ok(json!([["r", "px", null], ["w", "py", 1]])),
                    ok(json!([["r", "py", null], ["w", "px", 1]])),
                ],
            },
            Plant {
                expected: &["G2-item", "lost-update"],
                txns: vec![
                    ok(json!([["r", "px", null], ["w", "px", 1]])),
                    ok(json!([["r", "px", null], ["w", "px", 2]])),
                ],
            },
        ],
    }
}

fn value(json: &serde_json::Value) -> Value {
    serde_json::from_value(json.clone()).expect("a value")
}

/// The plant's events: every invocation, then every completion.
fn plant_events(plant: &Plant) -> Vec<Event> {
    let mut events = Vec::new();
    for (i, (_, mops)) in plant.txns.iter().enumerate() {
        let invoke: Vec<serde_json::Value> = mops
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                if m[0] == "r" {
                    json!([m[0], m[1], null])
                } else {
                    m.clone()
                }
            })
            .collect();
        events.push(Event::new(
            EventKind::Invoke,
            Process::Client(1_000_000 + i as i64),
            "txn",
            value(&json!(invoke)),
        ));
    }
    for (i, (outcome, mops)) in plant.txns.iter().enumerate() {
        let kind = EventKind::parse(outcome).unwrap();
        events.push(Event::new(
            kind,
            Process::Client(1_000_000 + i as i64),
            "txn",
            value(mops),
        ));
    }
    events
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn serial_executions_show_no_anomaly(config in config()) {
        let events = generate(&config);
        let r = check(events, config.workload, ConsistencyModel::StrictSerializable);
        prop_assert!(r.anomalies.is_empty(), "{:?}: {:#?}", config, r.anomalies);
        prop_assert_ne!(r.verdict, Verdict::Invalid);
    }

    #[test]
    fn snapshot_isolation_is_never_ruled_out_for_a_snapshot_isolated_database(config in config()) {
        let config = GenConfig { isolation: SimIsolation::SnapshotIsolation, ..config };
        let r = check(generate(&config), config.workload, ConsistencyModel::SnapshotIsolation);
        prop_assert_ne!(r.verdict, Verdict::Invalid, "{:?}: {:?}", config, names(&r));
    }

    #[test]
    fn read_committed_is_never_ruled_out_for_a_read_committed_database(config in config()) {
        let config = GenConfig { isolation: SimIsolation::ReadCommitted, ..config };
        let r = check(generate(&config), config.workload, ConsistencyModel::ReadCommitted);
        prop_assert_ne!(r.verdict, Verdict::Invalid, "{:?}: {:?}", config, names(&r));
    }

    #[test]
    fn planted_anomalies_show_their_class(config in config(), which in any::<prop::sample::Index>(), at in any::<prop::sample::Index>()) {
        let plants = plants(config.workload);
        let plant = &plants[which.index(plants.len())];
        let mut events = generate(&config);
        let position = at.index(events.len() + 1);
        events.splice(position..position, plant_events(plant));
        let r = check(events, config.workload, ConsistencyModel::StrictSerializable);
        prop_assert_eq!(names(&r), plant.expected.to_vec(), "{:?}", config);
        prop_assert_eq!(r.verdict, Verdict::Invalid);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// The streaming JSON Lines reader and the reader through `photofinish-history` build the
    /// same transactions.
    #[test]
    fn both_readers_agree(config in config()) {
        let config = GenConfig { isolation: SimIsolation::ReadCommitted, ..config };
        let events = generate(&config);
        let mut text = Vec::new();
        photofinish_txn::generate::write_jsonl(&events, &mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        let (streamed, _) = photofinish_txn::read::read_txns_str(&text, "h", config.workload, None).unwrap();
        let history = photofinish_history::read_str(&text, "h", None).unwrap();
        let parsed = Txns::from_history(&history, config.workload, "h").unwrap();
        prop_assert_eq!(format!("{:?}", streamed.txns), format!("{:?}", parsed.txns));
        prop_assert_eq!(&streamed.mops, &parsed.mops);
        prop_assert_eq!(&streamed.lists, &parsed.lists);
        prop_assert_eq!(&streamed.list_spans, &parsed.list_spans);
        prop_assert_eq!(streamed.keys.len(), parsed.keys.len());
        prop_assert_eq!(streamed.values.len(), parsed.values.len());
        for v in 0..streamed.values.len() as u32 {
            prop_assert_eq!(streamed.value(v), parsed.value(v));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Damaged histories are errors or reports, never panics: a generated history cut short,
    /// with bytes changed, checked as either workload.
    #[test]
    fn damaged_histories_never_panic(
        config in config(),
        cut in any::<prop::sample::Index>(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        as_register in any::<bool>(),
    ) {
        let mut text = Vec::new();
        photofinish_txn::generate::write_jsonl(&generate(&config), &mut text).unwrap();
        text.truncate(cut.index(text.len() + 1));
        for (at, byte) in flips {
            if !text.is_empty() {
                let i = at.index(text.len());
                text[i] = byte;
            }
        }
        let text = String::from_utf8_lossy(&text);
        let workload = if as_register { Workload::RwRegister } else { Workload::ListAppend };
        let _ = photofinish_txn::check_str(&text, "damaged", workload, &TxnOptions::default());
    }

    #[test]
    fn arbitrary_text_never_panics(text in r#"[\[\]{}":, a-z0-9\-\n]{0,200}"#) {
        for workload in [Workload::ListAppend, Workload::RwRegister] {
            let _ = photofinish_txn::check_str(&text, "text", workload, &TxnOptions::default());
        }
    }
}
