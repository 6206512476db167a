//! How an answer becomes a completion: first its status (`ok`, `fail`, `results`), then, for
//! an answer whose status says it happened, its body: `fail_when` and `ok_when` conditions on
//! JSON pointers (etcd answers a txn whose compare failed with `200` and no `succeeded`), and
//! the result at the `value` pointer, decoded by the operation's codecs.
//!
//! The distinction the checker relies on is kept throughout: `fail` only when the answer says
//! the operation had no effect; whatever cannot be read is `info`.

use photofinish_history::{escape_and_clip, Value};
use serde::{Deserialize, Deserializer};

use super::codec::decode_all;
use super::file::RequestSpec;
use super::txn_shape::txn_problem;
use crate::{Completion, Invocation, WorkloadKind};

/// A JSON pointer (RFC 6901) into a response body: `""` is the whole body, `/value` a field.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Pointer(pub(super) String);

impl Pointer {
    pub fn parse(text: &str) -> Result<Pointer, String> {
        if text.is_empty() || text.starts_with('/') {
            Ok(Pointer(text.to_string()))
        } else {
            Err(format!(
                "`{text}` is not a JSON pointer: it must be empty (the whole body) or start with `/`"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Pointer {
    type Error = String;
    fn try_from(text: String) -> Result<Pointer, String> {
        Pointer::parse(&text)
    }
}

/// A test on a response body: the JSON at `pointer` equals a value, or is missing.
///
/// In a file: `{ pointer = "/succeeded", equals = true }` or
/// `{ pointer = "/succeeded", missing = true }`; `ok_when` and `fail_when` take one or a list
/// (any of them).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(try_from = "RawCondition")]
pub struct Condition {
    pub pointer: Pointer,
    pub test: Test,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Test {
    Equals(serde_json::Value),
    Missing,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCondition {
    pointer: Pointer,
    equals: Option<serde_json::Value>,
    missing: Option<bool>,
}

impl TryFrom<RawCondition> for Condition {
    type Error = String;
    fn try_from(raw: RawCondition) -> Result<Condition, String> {
        let test = match (raw.equals, raw.missing) {
            (Some(value), None) => Test::Equals(value),
            (None, Some(true)) => Test::Missing,
            (None, Some(false)) => {
                return Err("`missing = false` tests nothing: use `equals` for a value".into())
            }
            _ => {
                return Err(format!(
                    "the condition on {:?} needs exactly one of `equals = VALUE` and \
                     `missing = true`",
                    raw.pointer.0
                ))
            }
        };
        Ok(Condition {
            pointer: raw.pointer,
            test,
        })
    }
}

impl Condition {
    pub fn holds(&self, body: &serde_json::Value) -> bool {
        let found = body.pointer(&self.pointer.0);
        match &self.test {
            Test::Equals(expected) => found == Some(expected),
            Test::Missing => found.is_none(),
        }
    }

    /// What it tests, for a message: `/succeeded is missing`.
    pub fn describe(&self) -> String {
        let at = if self.pointer.0.is_empty() {
            "the body"
        } else {
            &self.pointer.0
        };
        match &self.test {
            Test::Equals(value) => format!("{at} is {value}"),
            Test::Missing => format!("{at} is missing"),
        }
    }
}

/// One condition or a list of them.
pub(super) fn conditions<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<Condition>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(Condition),
        Many(Vec<Condition>),
    }
    Ok(match OneOrMany::deserialize(deserializer) {
        Ok(OneOrMany::One(c)) => vec![c],
        Ok(OneOrMany::Many(cs)) => cs,
        Err(_) => {
            return Err(serde::de::Error::custom(
                "expected a condition such as { pointer = \"/succeeded\", equals = true } or \
                 { pointer = \"/value\", missing = true }, or a list of them",
            ))
        }
    })
}

/// What a missing `value` pointer means.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Absent {
    /// Nobody knows the result: the operation is indeterminate.
    #[default]
    Info,
    /// The result is `null`: a read of a key that does not exist.
    Null,
}

/// What a response's status says about the operation.
pub(super) enum Answer {
    Happened,
    Known(Value),
    Failed,
    Unknown,
}

/// The most characters of a response shown in a message.
const SHOWN_CHARS: usize = 200;

/// A response body for a message: escaped, clipped.
pub(super) fn shown(body: &[u8]) -> String {
    escape_and_clip(&String::from_utf8_lossy(body), SHOWN_CHARS)
}

impl RequestSpec {
    pub(super) fn classify(&self, status: u16) -> Answer {
        if let Some(result) = self.results.get(&status.to_string()) {
            Answer::Known(result.clone())
        } else if self.fail.contains(&status) {
            Answer::Failed
        } else if self.ok.contains(&status) || (self.ok.is_empty() && (200..300).contains(&status))
        {
            Answer::Happened
        } else {
            Answer::Unknown
        }
    }

    /// Whether the body of an answer whose status says it happened must be read.
    pub(super) fn reads_body(&self) -> bool {
        self.value.is_some() || !self.ok_when.is_empty() || !self.fail_when.is_empty()
    }

    /// The completion told by the body of an answer whose status says it happened, or why
    /// the body does not fit the file (not JSON, a result the codecs cannot read): a
    /// [`Mismatch`], which no retry will fix.
    pub(super) fn judge_body(&self, body: &[u8]) -> Result<Completion, Mismatch> {
        let json: serde_json::Value = serde_json::from_slice(body)
            .map_err(|_| Mismatch("the response body is not JSON".to_string()))?;
        if let Some(holds) = self.fail_when.iter().find(|c| c.holds(&json)) {
            return Ok(Completion::Fail(format!(
                "the answer says {}",
                holds.describe()
            )));
        }
        if !self.ok_when.is_empty() && !self.ok_when.iter().any(|c| c.holds(&json)) {
            return Ok(Completion::Info(format!(
                "the answer matches neither ok_when nor fail_when: {}",
                shown(body)
            )));
        }
        match &self.value {
            None => Ok(Completion::Ok(Value::Null)),
            Some(pointer) => self.result_at(&json, pointer, body),
        }
    }

    /// The result at `pointer`, decoded. A body that does not hold it leaves the result
    /// unknown (unless a missing result means `null`), so the operation is indeterminate
    /// rather than failed: it did happen.
    fn result_at(
        &self,
        json: &serde_json::Value,
        pointer: &Pointer,
        body: &[u8],
    ) -> Result<Completion, Mismatch> {
        let Some(found) = json.pointer(&pointer.0) else {
            return Ok(match self.absent {
                Absent::Null => Completion::Ok(Value::Null),
                Absent::Info => Completion::Info(format!(
                    "the response has nothing at {}: {}",
                    pointer.0,
                    shown(body)
                )),
            });
        };
        serde_json::from_value::<Value>(found.clone())
            .map_err(|e| e.to_string())
            .and_then(|value| decode_all(&self.decode, value))
            .map(Completion::Ok)
            .map_err(|error| {
                Mismatch(format!(
                    "the result at {} cannot be read: {error}",
                    pointer.0
                ))
            })
    }
}

/// Why an answer does not fit the workload file: the file describes another service, or the
/// same one wrongly, so every further operation would be recorded wrongly too.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Mismatch(pub String);

/// Why the checker could not use `result` as the result of `op` in a `kind` workload, if it
/// could not: a counter's read must be a number, a set's read a list, a create `"created"`
/// or `"exists"`, a list-append or rw-register transaction the list of micro-operations it
/// sent, reads filled in (see [`txn_problem`]).
pub(super) fn shape_problem(kind: WorkloadKind, op: &Invocation, result: &Value) -> Option<String> {
    let found = || escape_and_clip(&result.to_json_string(), 80);
    if op.f == "txn" && matches!(kind, WorkloadKind::ListAppend | WorkloadKind::RwRegister) {
        return txn_problem(kind, &op.value, result);
    }
    match (kind, op.f.as_str(), result) {
        (_, _, Value::Null) => None,
        (WorkloadKind::Counter, "read", Value::Int(_) | Value::BigInt(_) | Value::Float(_)) => None,
        (WorkloadKind::Counter, "read", Value::Str(_)) => Some(format!(
            "the counter workload reads a number, and the result is the string {} (a number \
             written as a string reads with decode = \"number\")",
            found()
        )),
        (WorkloadKind::Counter, "read", _) => Some(format!(
            "the counter workload reads a number, and the result is {}",
            found()
        )),
        (WorkloadKind::Set, "read", Value::List(_) | Value::Ints(_)) => None,
        (WorkloadKind::Set, "read", _) => Some(format!(
            "the set workload reads a list of elements, and the result is {}",
            found()
        )),
        (WorkloadKind::CreateOnce, "create", Value::Bool(_)) => None,
        (WorkloadKind::CreateOnce, "create", Value::Str(s))
            if matches!(s.as_str(), "created" | "exists" | "already-exists") =>
        {
            None
        }
        (WorkloadKind::CreateOnce, "create", _) => Some(format!(
            "create answers \"created\" or \"exists\" (or true or false), and the result is {}",
            found()
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::http::Codec;

    /// The completion, with a mismatch as `info` carrying its reason.
    fn judged(request: &RequestSpec, body: &[u8]) -> Completion {
        request
            .judge_body(body)
            .unwrap_or_else(|Mismatch(reason)| Completion::Info(format!("mismatch: {reason}")))
    }

    fn request(toml_text: &str) -> RequestSpec {
        toml::from_str(&format!("path = \"/x\"\n{toml_text}")).unwrap()
    }

    #[test]
    fn results_are_read_by_pointer() {
        let read = request("value = \"/data/value\"");
        assert_eq!(
            judged(&read, br#"{"data": {"value": [1, 2]}}"#),
            Completion::Ok(Value::List(vec![Value::Int(1), Value::Int(2)]))
        );
        assert!(judged(&read, br#"{"data": {}}"#).is_info());
        assert_eq!(
            judged(&read, b"<html>"),
            Completion::Info("mismatch: the response body is not JSON".into())
        );
        assert!(Pointer::parse("value").is_err());
    }

    #[test]
    fn a_missing_result_can_mean_null() {
        let read =
            request("value = \"/kvs/0/value\"\nabsent = \"null\"\ndecode = [\"base64\", \"json\"]");
        assert_eq!(read.decode, [Codec::Base64, Codec::Json]);
        assert_eq!(
            judged(&read, br#"{"header": {}}"#),
            Completion::Ok(Value::Null)
        );
        assert_eq!(
            judged(&read, br#"{"kvs": [{"value": "Mw=="}]}"#),
            Completion::Ok(Value::Int(3))
        );
        match judged(&read, br#"{"kvs": [{"value": "%%"}]}"#) {
            Completion::Info(error) => {
                assert!(
                    error.starts_with("mismatch: ") && error.contains("not base64"),
                    "{error}"
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_body_decides_ok_and_fail() {
        let cas = request(
            "ok_when = { pointer = \"/succeeded\", equals = true }\n\
             fail_when = [{ pointer = \"/succeeded\", missing = true }, { pointer = \"/succeeded\", equals = false }]",
        );
        assert_eq!(
            judged(&cas, br#"{"succeeded": true}"#),
            Completion::Ok(Value::Null)
        );
        assert_eq!(
            judged(&cas, br#"{"header": {}}"#),
            Completion::Fail("the answer says /succeeded is missing".into())
        );
        assert!(matches!(
            judged(&cas, br#"{"succeeded": false}"#),
            Completion::Fail(_)
        ));
        let only_ok = request("ok_when = { pointer = \"/status\", equals = \"done\" }");
        assert!(judged(&only_ok, br#"{"status": "queued"}"#).is_info());
        let bad: Result<RequestSpec, _> =
            toml::from_str("path = \"/x\"\nok_when = { pointer = \"/a\" }");
        assert!(bad
            .unwrap_err()
            .to_string()
            .contains("expected a condition"));
    }

    #[test]
    fn webdis_numbers_as_strings() {
        let read = request("value = \"/GET\"\ndecode = \"number\"");
        assert_eq!(
            judged(&read, br#"{"GET": "1"}"#),
            Completion::Ok(Value::Int(1))
        );
        assert_eq!(
            judged(&read, br#"{"GET": null}"#),
            Completion::Ok(Value::Null)
        );
        match judged(&read, br#"{"GET": "one"}"#) {
            Completion::Info(error) => assert!(error.starts_with("mismatch: "), "{error}"),
            other => panic!("{other:?}"),
        }
    }

    /// `shape_problem` for operation `f` (no key, no value).
    fn shape_problem(kind: WorkloadKind, f: &str, result: &Value) -> Option<String> {
        super::shape_problem(kind, &Invocation::new(f, None, Value::Null), result)
    }

    #[test]
    fn results_the_checker_cannot_use_are_named() {
        let counter = WorkloadKind::Counter;
        assert!(shape_problem(counter, "read", &Value::Int(3)).is_none());
        assert!(shape_problem(counter, "read", &Value::Null).is_none());
        let problem = shape_problem(counter, "read", &Value::from("1")).unwrap();
        assert!(problem.contains("decode = \"number\""), "{problem}");
        assert!(shape_problem(WorkloadKind::Set, "read", &Value::Int(1)).is_some());
        assert!(shape_problem(WorkloadKind::CreateOnce, "create", &Value::from("made")).is_some());
        assert!(
            shape_problem(WorkloadKind::CreateOnce, "create", &Value::from("exists")).is_none()
        );
        assert!(shape_problem(WorkloadKind::Register, "read", &Value::from("x")).is_none());
        // A transaction's result may not be missing: absent = "null" cannot stand for it.
        let txn = Invocation::new(
            "txn",
            None,
            Value::from_json_str(r#"[["r", 0, null]]"#).unwrap(),
        );
        let problem = super::shape_problem(WorkloadKind::ListAppend, &txn, &Value::Null).unwrap();
        assert!(problem.contains("list of micro-operations"), "{problem}");
        let done = Value::from_json_str(r#"[["r", 0, [1]]]"#).unwrap();
        assert!(super::shape_problem(WorkloadKind::ListAppend, &txn, &done).is_none());
    }
}
