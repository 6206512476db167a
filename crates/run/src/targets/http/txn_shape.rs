//! Whether a service's answer to a `list-append` or `rw-register` transaction is one the
//! transactional checker can use: the completed list of micro-operations, the invocation's
//! own, in its order, with each write's value repeated and each read's value filled in (a list
//! for list-append, a single value for rw-register, `null` for nothing yet).
//!
//! The checker would refuse such a history only once the run is over; caught on the first
//! answer, the run halts with the file's line instead of recording thousands of transactions
//! nobody can check.

use photofinish_history::{escape_and_clip, Value};

use crate::WorkloadKind;

/// Why `completed` is not a completion of the transaction `invoked` in a `kind` workload, if
/// it is not.
///
/// ```text
/// invoked:   [["append", 1, 7], ["r", 1, null]]
/// completed: [["append", 1, 7], ["r", 1, [3, 7]]]   fits
/// completed: {"ops": [...]}                         a list of micro-operations is expected
/// completed: [["r", 1, [3, 7]]]                     one micro-operation missing
/// ```
pub(super) fn txn_problem(
    kind: WorkloadKind,
    invoked: &Value,
    completed: &Value,
) -> Option<String> {
    let shown = |value: &Value| escape_and_clip(&value.to_json_string(), 80);
    let Some(completed_mops) = completed.as_list_of_values() else {
        return Some(format!(
            "a {kind} transaction completes with its list of micro-operations, reads filled in \
             (the value pointer must find it), and the result is {}",
            shown(completed)
        ));
    };
    let invoked_mops = invoked.as_list_of_values().unwrap_or(&[]);
    if completed_mops.len() != invoked_mops.len() {
        return Some(format!(
            "the transaction sent {} micro-operations and the result holds {}: {}",
            invoked_mops.len(),
            completed_mops.len(),
            shown(completed)
        ));
    }
    invoked_mops
        .iter()
        .zip(completed_mops)
        .enumerate()
        .find_map(|(index, (sent, got))| mop_problem(kind, sent, got).map(|why| (index, why)))
        .map(|(index, why)| {
            format!(
                "micro-operation {} of the result, {}, {why} (sent {})",
                index + 1,
                shown(&completed_mops[index]),
                shown(&invoked_mops[index])
            )
        })
}

/// What is wrong with `got` as the completion of micro-operation `sent`, if anything.
fn mop_problem(kind: WorkloadKind, sent: &Value, got: &Value) -> Option<String> {
    let Some([f, key, value]) = got.as_list_of_values() else {
        return Some("is not a micro-operation [f, key, value]".to_string());
    };
    let Some([sent_f, sent_key, sent_value]) = sent.as_list_of_values() else {
        return None;
    };
    if !same_name(f, sent_f) || key != sent_key {
        return Some("names another operation or key than the one sent".to_string());
    }
    let is_read = matches!(sent_f.as_str(), Some("r" | "read"));
    if !is_read {
        return (value != sent_value).then(|| "does not repeat the value written".to_string());
    }
    match (kind, value) {
        (_, Value::Null) => None,
        (WorkloadKind::ListAppend, Value::List(_) | Value::Ints(_)) => None,
        (WorkloadKind::ListAppend, _) => {
            Some("reads something that is not a list (list-append reads a whole list)".into())
        }
        (_, Value::List(_) | Value::Ints(_) | Value::Map(_)) => Some(
            "reads a list or an object (rw-register reads the single value last written)".into(),
        ),
        _ => None,
    }
}

/// Whether two micro-operation names mean the same: `r` and `read`, `w` and `write` are one.
fn same_name(a: &Value, b: &Value) -> bool {
    fn canonical(v: &Value) -> Option<&str> {
        match v.as_str() {
            Some("read") => Some("r"),
            Some("write") => Some("w"),
            other => other,
        }
    }
    canonical(a).is_some() && canonical(a) == canonical(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> Value {
        Value::from_json_str(text).unwrap()
    }

    #[test]
    fn completed_transactions_fit() {
        let sent = json(r#"[["append", 1, 7], ["r", 1, null], ["r", 2, null]]"#);
        let done = json(r#"[["append", 1, 7], ["r", 1, [3, 7]], ["r", 2, null]]"#);
        assert_eq!(txn_problem(WorkloadKind::ListAppend, &sent, &done), None);
        let sent = json(r#"[["w", 0, 4], ["r", 0, null]]"#);
        let done = json(r#"[["write", 0, 4], ["read", 0, 4]]"#);
        assert_eq!(txn_problem(WorkloadKind::RwRegister, &sent, &done), None);
    }

    #[test]
    fn wrong_shapes_are_named() {
        let sent = json(r#"[["append", 1, 7], ["r", 1, null]]"#);
        let problem = |kind, done: &str| txn_problem(kind, &sent, &json(done)).unwrap();
        let la = WorkloadKind::ListAppend;
        assert!(problem(la, r#"{"ops": []}"#).contains("list of micro-operations"));
        assert!(problem(la, "null").contains("list of micro-operations"));
        assert!(problem(la, r#"[["append", 1, 7]]"#).contains("sent 2 micro-operations"));
        assert!(problem(la, r#"[["append", 1, 7], ["r", 1, 7]]"#).contains("not a list"));
        assert!(problem(la, r#"[["append", 1, 8], ["r", 1, [8]]]"#).contains("value written"));
        assert!(problem(la, r#"[["append", 2, 7], ["r", 1, [7]]]"#).contains("another"));
        let wrong = problem(la, r#"[["append", 1, 7], 5]"#);
        assert!(
            wrong.starts_with("micro-operation 2 of the result, 5, is not a micro-operation"),
            "{wrong}"
        );
        let sent = json(r#"[["r", 0, null]]"#);
        let done = json(r#"[["r", 0, [1, 2]]]"#);
        assert!(txn_problem(WorkloadKind::RwRegister, &sent, &done)
            .unwrap()
            .contains("rw-register reads the single value"));
    }
}
