//! Jepsen's independent histories (every value a `[key value]` tuple) are checked key by key under
//! every model that is not keyed by itself, and a history whose pairs mean something else is
//! not misread. Also: the warning that the model's default initial value was assumed.

use photofinish_check::{check_model, CheckOptions, Report, Verdict};
use photofinish_history::{read_str, Value};

fn check(model: &str, init: Option<&Value>, text: &str) -> Report {
    let history = read_str(text, "test", None).expect("a well-formed history");
    check_model(model, init, None, &history, &CheckOptions::default()).expect("checkable")
}

/// A Jepsen EDN history of two registers, keys 0 and 1, written as `independent` writes them.
fn two_registers(last_read: &str) -> String {
    format!(
        r#"{{:type :invoke, :f :write, :value [0 1], :process 0, :time 1}}
{{:type :invoke, :f :write, :value [1 5], :process 1, :time 2}}
{{:type :ok, :f :write, :value [0 1], :process 0, :time 3}}
{{:type :ok, :f :write, :value [1 5], :process 1, :time 4}}
{{:type :invoke, :f :read, :value [1 nil], :process 1, :time 5}}
{{:type :ok, :f :read, :value [1 5], :process 1, :time 6}}
{{:type :invoke, :f :read, :value [0 nil], :process 0, :time 7}}
{{:type :ok, :f :read, :value [0 {last_read}], :process 0, :time 8}}
"#
    )
}

#[test]
fn a_valid_independent_register_history_stays_valid() {
    for model in ["register", "cas-register"] {
        let report = check(model, None, &two_registers("1"));
        assert_eq!(report.verdict, Verdict::Valid, "{model}: {report:?}");
        assert_eq!(report.partitions, 2, "{model}");
        assert!(report.warnings.is_empty(), "{model}: {:?}", report.warnings);
    }
}

#[test]
fn an_invalid_independent_register_history_names_the_failing_key() {
    for model in ["register", "cas-register"] {
        let report = check(model, None, &two_registers("5"));
        assert_eq!(report.verdict, Verdict::Invalid, "{model}");
        assert_eq!(report.failures[0].key, Some(Value::Int(0)), "{model}");
        let stuck = report.failures[0].stuck.as_ref().expect("a stuck read");
        assert_eq!(
            (stuck.key.clone(), stuck.result.clone()),
            (Some(Value::Int(0)), Value::Int(5))
        );
        assert_eq!(
            report.diagnosis[0].message, "read 5 on line 8 of key 0, but no operation wrote 5",
            "{model}: {:?}",
            report.diagnosis
        );
        assert_eq!(
            report.warnings,
            ["assumed every key starts as null (the model's default); pass --init if the system \
              started elsewhere"]
        );
    }
}

#[test]
fn an_independent_cas_carries_its_pair_inside_the_tuple() {
    let text = |expected: i64| {
        format!(
            r#"{{:type :invoke, :f :write, :value [7 1], :process 0}}
{{:type :ok, :f :write, :value [7 1], :process 0}}
{{:type :invoke, :f :cas, :value [7 [{expected} 2]], :process 1}}
{{:type :ok, :f :cas, :value [7 [{expected} 2]], :process 1}}
{{:type :invoke, :f :read, :value [7 nil], :process 0}}
{{:type :ok, :f :read, :value [7 2], :process 0}}
"#
        )
    };
    assert_eq!(
        check("cas-register", None, &text(1)).verdict,
        Verdict::Valid
    );
    let report = check("cas-register", None, &text(3));
    assert_eq!(report.verdict, Verdict::Invalid);
    assert_eq!(report.failures[0].key, Some(Value::Int(7)));
}

#[test]
fn cas_pairs_with_plain_writes_are_not_split() {
    // `[expected new]` cas values, plain writes and reads: one register, not keys 1 and 2.
    let text = r#"{"type":"invoke","f":"write","value":1,"process":0}
{"type":"ok","f":"write","value":1,"process":0}
{"type":"invoke","f":"cas","value":[1,2],"process":1}
{"type":"ok","f":"cas","value":[1,2],"process":1}
{"type":"invoke","f":"read","value":null,"process":0}
{"type":"ok","f":"read","value":2,"process":0}
"#;
    let report = check("cas-register", None, text);
    assert_eq!(report.verdict, Verdict::Valid);
    assert_eq!(report.partitions, 1);
    // Only cas operations, every value a pair: read as `[expected new]`, not as tuples.
    let cas_only = r#"{"type":"invoke","f":"cas","value":[0,1],"process":0}
{"type":"ok","f":"cas","value":[0,1],"process":0}
{"type":"invoke","f":"cas","value":[1,2],"process":1}
{"type":"ok","f":"cas","value":[1,2],"process":1}
"#;
    let report = check("cas-register", Some(&Value::Int(0)), cas_only);
    assert_eq!((report.verdict, report.partitions), (Verdict::Valid, 1));
    let report = check("cas-register", Some(&Value::Int(5)), cas_only);
    assert_eq!((report.verdict, report.partitions), (Verdict::Invalid, 1));
    assert_eq!(report.failures[0].key, None);
}

#[test]
fn every_model_that_is_not_keyed_by_itself_splits_tuples() {
    // Each history is valid key by key and invalid read as one object.
    let counter = r#"{:type :invoke, :f :add, :value [a 2], :process 0}
{:type :ok, :f :add, :value [a 2], :process 0}
{:type :invoke, :f :add, :value [b 3], :process 1}
{:type :ok, :f :add, :value [b 3], :process 1}
{:type :invoke, :f :read, :value [a nil], :process 0}
{:type :ok, :f :read, :value [a 2], :process 0}
"#;
    let set = r#"{:type :invoke, :f :add, :value [a 1], :process 0}
{:type :ok, :f :add, :value [a 1], :process 0}
{:type :invoke, :f :add, :value [b 2], :process 1}
{:type :ok, :f :add, :value [b 2], :process 1}
{:type :invoke, :f :read, :value [a nil], :process 0}
{:type :ok, :f :read, :value [a #{1}], :process 0}
"#;
    let queue = r#"{:type :invoke, :f :enqueue, :value [a 1], :process 0}
{:type :ok, :f :enqueue, :value [a 1], :process 0}
{:type :invoke, :f :enqueue, :value [b 2], :process 1}
{:type :ok, :f :enqueue, :value [b 2], :process 1}
{:type :invoke, :f :dequeue, :value [b nil], :process 0}
{:type :ok, :f :dequeue, :value [b 2], :process 0}
"#;
    let mutex = r#"{:type :invoke, :f :acquire, :value [a nil], :process 0}
{:type :ok, :f :acquire, :value [a nil], :process 0}
{:type :invoke, :f :acquire, :value [b nil], :process 1}
{:type :ok, :f :acquire, :value [b nil], :process 1}
"#;
    for (model, text) in [
        ("counter", counter),
        ("set", set),
        ("queue", queue),
        ("mutex", mutex),
    ] {
        let report = check(model, None, text);
        assert_eq!(report.verdict, Verdict::Valid, "{model}: {report:?}");
        assert_eq!(report.partitions, 2, "{model}");
    }
    // Two holders of lock `a` at once.
    let double = mutex.replace("[b nil]", "[a nil]");
    let report = check("mutex", None, &double);
    assert_eq!(report.verdict, Verdict::Invalid);
    assert_eq!(report.failures[0].key, Some(Value::from("a")));
    assert_eq!(
        report.warnings,
        [
            "assumed every key starts as false (the model's default); pass --init if the system \
          started elsewhere"
        ]
    );
}

#[test]
fn the_assumed_initial_value_is_named_only_when_the_verdict_is_invalid() {
    let lost = r#"{"type":"invoke","f":"add","value":1,"process":0}
{"type":"ok","f":"add","value":1,"process":0}
{"type":"invoke","f":"read","value":null,"process":0}
{"type":"ok","f":"read","value":0,"process":0}
"#;
    let report = check("counter", None, lost);
    assert_eq!(report.verdict, Verdict::Invalid);
    assert_eq!(
        report.warnings,
        [
            "assumed the initial value 0 (the model's default); pass --init if the system started \
          elsewhere"
        ]
    );
    // Given explicitly, even as the default: nothing was assumed.
    let report = check("counter", Some(&Value::Int(0)), lost);
    assert_eq!(report.verdict, Verdict::Invalid);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    // Valid: nothing to warn about.
    let report = check("counter", None, &lost.replace("\"value\":0", "\"value\":1"));
    assert_eq!(report.verdict, Verdict::Valid);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);

    let kv = r#"{"type":"invoke","f":"read","key":"x","value":null,"process":0}
{"type":"ok","f":"read","key":"x","value":"a","process":0}
"#;
    let report = check("kv", None, kv);
    assert_eq!(report.verdict, Verdict::Invalid);
    assert_eq!(
        report.warnings,
        [
            "assumed every key starts as null (the model's default); pass --init if the system \
          started elsewhere"
        ]
    );
    let txn = r#"{"type":"invoke","f":"txn","value":[["read","x",null]],"process":0}
{"type":"ok","f":"txn","value":[["read","x",3]],"process":0}
"#;
    let report = check("multi-register", None, txn);
    assert_eq!(report.verdict, Verdict::Invalid);
    assert_eq!(
        report.warnings,
        [
            "assumed every key starts as null (the model's default); pass --init if the system \
          started elsewhere"
        ]
    );
}
