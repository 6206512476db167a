//! The `counter` model adds decimal amounts exactly, as seed-style float accumulators write
//! them: 100 adds of 0.35 make exactly 35, with no binary floating-point drift.

use photofinish_check::{check_model, CheckError, CheckOptions, Report, Verdict};
use photofinish_history::{read_str, Float, Value};

fn check(init: Option<&Value>, text: &str) -> Result<Report, CheckError> {
    let history = read_str(text, "test", None).expect("a well-formed history");
    check_model("counter", init, None, &history, &CheckOptions::default())
}

fn ok(process: i64, f: &str, value: &str, result: &str) -> String {
    format!(
        "{{\"type\":\"invoke\",\"f\":\"{f}\",\"value\":{value},\"process\":{process}}}\n\
         {{\"type\":\"ok\",\"f\":\"{f}\",\"value\":{result},\"process\":{process}}}\n"
    )
}

fn adds(n: usize, amount: &str) -> String {
    ok(0, "add", amount, amount).repeat(n)
}

fn read(seen: &str) -> String {
    ok(1, "read", "null", seen)
}

#[test]
fn a_hundred_adds_of_0_35_make_exactly_35() {
    for seen in ["35", "35.0", "35.00"] {
        let report = check(None, &(adds(100, "0.35") + &read(seen))).unwrap();
        assert_eq!(report.verdict, Verdict::Valid, "{seen}");
    }
    // In binary floating point, 0.1 + 0.2 is 0.30000000000000004.
    let text = adds(1, "0.1") + &adds(1, "0.2") + &read("0.3");
    assert_eq!(check(None, &text).unwrap().verdict, Verdict::Valid);
    let drift = adds(1, "0.1") + &adds(1, "0.2") + &read("0.30000000000000004");
    assert_eq!(check(None, &drift).unwrap().verdict, Verdict::Invalid);
}

#[test]
fn a_lost_decimal_add_is_found_and_said_in_decimals() {
    let report = check(None, &(adds(100, "0.35") + &read("34.65"))).unwrap();
    assert_eq!(report.verdict, Verdict::Invalid);
    assert_eq!(
        report.diagnosis[0].message,
        "read 34.65 on line 202, but 100 adds completed before it began (total 35): at least \
         0.35 lost"
    );
    let failure = &report.failures[0];
    // States as the user wrote them, not in the counter's units.
    assert_eq!(failure.possible_states, [Value::Int(35)]);
    let shown: Vec<&Value> = failure.prefix.iter().map(|step| &step.state).collect();
    assert_eq!(shown[0], &Value::Float(Float(0.35)));
    assert_eq!(shown[2], &Value::Float(Float(1.05)));
}

#[test]
fn reads_concurrent_with_decimal_adds_may_see_either_total() {
    let text = |seen: &str| {
        format!(
            r#"{{"type":"invoke","f":"add","value":0.25,"process":0}}
{{"type":"invoke","f":"read","value":null,"process":1}}
{{"type":"ok","f":"add","value":0.25,"process":0}}
{{"type":"ok","f":"read","value":{seen},"process":1}}
{{"type":"invoke","f":"add","value":-1.5,"process":2}}
{{"type":"info","f":"add","value":-1.5,"process":2}}
{{"type":"invoke","f":"read","value":null,"process":1}}
{{"type":"ok","f":"read","value":-1.25,"process":1}}
"#
        )
    };
    for seen in ["0", "0.25"] {
        assert_eq!(
            check(None, &text(seen)).unwrap().verdict,
            Verdict::Valid,
            "{seen}"
        );
    }
    assert_eq!(check(None, &text("0.5")).unwrap().verdict, Verdict::Invalid);
}

#[test]
fn the_initial_value_may_be_a_decimal() {
    let text = adds(2, "0.5") + &read("1.75");
    let init = Value::Float(Float(0.75));
    assert_eq!(check(Some(&init), &text).unwrap().verdict, Verdict::Valid);
    assert_eq!(check(None, &text).unwrap().verdict, Verdict::Invalid);
    let bad = check(Some(&Value::from("x")), &text)
        .unwrap_err()
        .to_string();
    assert_eq!(
        bad,
        "bad initial value: counter's --init must be an integer or a decimal number, found \"x\""
    );
}

#[test]
fn integer_histories_count_in_integers() {
    let report = check(
        None,
        &(adds(3, "1") + &ok(0, "incr", "null", "null") + &read("3")),
    )
    .unwrap();
    assert_eq!(report.verdict, Verdict::Invalid);
    assert_eq!(report.failures[0].possible_states, [Value::Int(4)]);
    assert!(report.diagnosis[0]
        .message
        .ends_with("at least 1 increment lost"));
}

#[test]
fn an_amount_that_is_not_a_number_names_its_line() {
    let text = adds(2, "0.5") + &read("\"1\"");
    let CheckError::BadOperation { line, message } = check(None, &text).unwrap_err() else {
        panic!("a bad operation");
    };
    assert_eq!(line, 6, "the read's completion holds the result");
    assert_eq!(
        message,
        "read's result must be an integer or a decimal number, found a string (in `read` by \
         process 1)"
    );
    let too_precise = adds(1, "0.000000000000000000123") + &read("1");
    let CheckError::BadOperation { line, message } = check(None, &too_precise).unwrap_err() else {
        panic!("a bad operation");
    };
    assert_eq!(line, 1);
    assert!(message.contains("more than 18 decimal places"), "{message}");
}
