//! Jepsen's independent histories: many objects checked at once, each operation's value a
//! `[key value]` tuple (and each `ok` result a `[key result]` tuple).
//!
//! Jepsen's `independent` combinator runs one workload on many keys and wraps every value in a
//! tuple; a checker must split such a history into one history per key and check each with the
//! inner values. The keyed models (`kv`, `create-once`) read tuples themselves, operation by
//! operation. For the others a pair can also be a value of the model's own (a `cas`'s
//! `[expected new]`, a register that holds pairs), so the decision is made once, for the whole
//! history: it is independent only if *every* client operation carries a tuple, and not every
//! one of them is an operation whose pair the model reads as its own argument. One plain value
//! anywhere (a `read` with a `null` argument, a `write 3`) means the history is not independent.

use photofinish_history::{History, Operation, Outcome, Value};

/// The models whose histories may be Jepsen independent histories, as [`split`] decides it.
/// `kv` and `create-once` read `[key value]` tuples themselves; `multi-register`'s values are
/// lists of micro-operations.
const SPLIT_MODELS: &[&str] = &[
    "register",
    "cas-register",
    "counter",
    "set",
    "queue",
    "mutex",
];

/// Whether model `model`'s own reading gives operation `f` a pair of arguments: `cas
/// [expected new]` of a `cas-register`.
fn pair_is_own_argument(model: &str, f: &str) -> bool {
    model == "cas-register" && f == "cas"
}

/// `history` with each Jepsen `[key value]` tuple unwrapped: every operation's `key` field set
/// to the tuple's key, its value and its `ok` result to the inner ones, so that the check
/// splits it into one partition per key. `None` when the history is not an independent one for
/// built-in model `model` (see the module's documentation): then it is checked as it is.
///
/// ```
/// use photofinish_check::models::split_independent;
/// use photofinish_history::{read_str, Value};
///
/// let history = read_str(r#"{"type":"invoke","f":"write","value":[0,1],"process":0}
/// {"type":"ok","f":"write","value":[0,1],"process":0}
/// {"type":"invoke","f":"read","value":[0,null],"process":1}
/// {"type":"ok","f":"read","value":[0,1],"process":1}
/// "#, "independent", None).unwrap();
/// let split = split_independent("register", &history).unwrap();
/// assert_eq!(split.operations[1].key, Some(Value::Int(0)));
/// assert_eq!(split.operations[1].result, Value::Int(1));
///
/// // A cas-register history of plain writes and `[expected new]` cas is not independent.
/// let plain = read_str(r#"{"type":"invoke","f":"write","value":1,"process":0}
/// {"type":"ok","f":"write","value":1,"process":0}
/// {"type":"invoke","f":"cas","value":[1,2],"process":1}
/// {"type":"ok","f":"cas","value":[1,2],"process":1}
/// "#, "cas", None).unwrap();
/// assert!(split_independent("cas-register", &plain).is_none());
/// ```
pub fn split_independent(model: &str, history: &History) -> Option<History> {
    if !SPLIT_MODELS.contains(&model) || !is_independent(model, &history.operations) {
        return None;
    }
    Some(History {
        operations: history.operations.iter().map(unwrap_tuple).collect(),
        nemesis: history.nemesis.clone(),
        event_count: history.event_count,
        warnings: history.warnings.clone(),
        header: history.header.clone(),
    })
}

/// Every operation carries a tuple (and every `ok` result that is not `null` one of the same
/// key), no operation names a key of its own, and some operation's pair cannot be its own
/// argument.
fn is_independent(model: &str, operations: &[Operation]) -> bool {
    !operations.is_empty()
        && operations.iter().all(|op| {
            op.key.is_none()
                && match op.value.as_pair() {
                    Some((key, _)) => {
                        op.outcome != Outcome::Ok
                            || op.result.is_null()
                            || matches!(op.result.as_pair(), Some((k, _)) if k == key)
                    }
                    _ => false,
                }
        })
        && !operations
            .iter()
            .all(|op| pair_is_own_argument(model, &op.f))
}

/// `op` with its tuple unwrapped: the key in `key`, the inner value and result.
fn unwrap_tuple(op: &Operation) -> Operation {
    let inner = |v: &Value| match v.as_pair() {
        Some((_, inner)) => inner.into_owned(),
        _ => v.clone(),
    };
    let mut unwrapped = op.clone();
    if let Some((key, value)) = op.value.as_pair() {
        unwrapped.key = Some(key.into_owned());
        unwrapped.value = value.into_owned();
    }
    unwrapped.result = inner(&op.result);
    unwrapped
}

#[cfg(test)]
mod tests {
    use super::*;
    use photofinish_history::{read_str, Format};

    fn history(text: &str) -> History {
        read_str(text, "test", Some(Format::JsonLines)).expect("a well-formed history")
    }

    fn op(kind: &str, process: i64, f: &str, value: &str) -> String {
        format!("{{\"type\":\"{kind}\",\"f\":\"{f}\",\"value\":{value},\"process\":{process}}}\n")
    }

    fn ok(process: i64, f: &str, value: &str, result: &str) -> String {
        op("invoke", process, f, value) + &op("ok", process, f, result)
    }

    #[test]
    fn tuples_on_every_operation_are_unwrapped() {
        let text = ok(0, "write", "[0,1]", "[0,1]")
            + &op("invoke", 1, "read", "[1,null]")
            + &op("info", 1, "read", "[1,null]")
            + &op("invoke", 2, "cas", "[0,[1,2]]")
            + &op("fail", 2, "cas", "[0,[1,2]]")
            + &ok(3, "read", "[0,null]", "null");
        let split = split_independent("cas-register", &history(&text)).expect("independent");
        let shown: Vec<(Option<Value>, Value, Value)> = split
            .operations
            .iter()
            .map(|o| (o.key.clone(), o.value.clone(), o.result.clone()))
            .collect();
        let int = Value::Int;
        assert_eq!(
            shown,
            [
                (Some(int(0)), int(1), int(1)),
                (Some(int(1)), Value::Null, Value::Null),
                (
                    Some(int(0)),
                    Value::from(vec![1, 2]),
                    Value::from(vec![1, 2])
                ),
                (Some(int(0)), Value::Null, Value::Null),
            ]
        );
        assert_eq!(split.operations[3].complete_line, Some(8));
    }

    #[test]
    fn one_plain_value_means_not_independent() {
        let text = ok(0, "write", "[0,1]", "[0,1]") + &ok(1, "read", "null", "[0,1]");
        assert!(split_independent("register", &history(&text)).is_none());
        let text = ok(0, "write", "[0,1]", "[0,1]") + &ok(1, "read", "[0,null]", "3");
        assert!(split_independent("register", &history(&text)).is_none());
        // A result of another key is no tuple of this operation.
        let text = ok(0, "write", "[0,1]", "[0,1]") + &ok(1, "read", "[0,null]", "[1,1]");
        assert!(split_independent("register", &history(&text)).is_none());
    }

    #[test]
    fn pairs_the_model_reads_as_its_own_are_not_split() {
        let cas_only = ok(0, "cas", "[0,1]", "[0,1]") + &ok(1, "cas", "[1,2]", "[1,2]");
        assert!(split_independent("cas-register", &history(&cas_only)).is_none());
        // Under `register`, a cas is no operation of the model: the pairs are tuples.
        assert!(split_independent("register", &history(&cas_only)).is_some());
        let mixed = cas_only + &ok(2, "write", "[0,5]", "[0,5]");
        assert!(split_independent("cas-register", &history(&mixed)).is_some());
    }

    #[test]
    fn keyed_models_and_transactions_read_their_values_themselves() {
        let text = ok(0, "write", "[0,1]", "[0,1]");
        for model in ["kv", "create-once", "multi-register"] {
            assert!(
                split_independent(model, &history(&text)).is_none(),
                "{model}"
            );
        }
        assert!(split_independent("register", &history("")).is_none());
    }

    #[test]
    fn a_key_field_means_not_independent() {
        let text =
            "{\"type\":\"invoke\",\"f\":\"write\",\"key\":\"a\",\"value\":[0,1],\"process\":0}\n";
        assert!(split_independent("register", &history(text)).is_none());
    }
}
