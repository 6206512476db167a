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
use crate::Completion;

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

    /// The completion told by the body of an answer whose status says it happened.
    pub(super) fn judge_body(&self, body: &[u8]) -> Completion {
        let json: serde_json::Value = match serde_json::from_slice(body) {
            Ok(json) => json,
            Err(_) => {
                return Completion::Info(format!("the response body is not JSON: {}", shown(body)))
            }
        };
        if let Some(holds) = self.fail_when.iter().find(|c| c.holds(&json)) {
            return Completion::Fail(format!("the answer says {}", holds.describe()));
        }
        if !self.ok_when.is_empty() && !self.ok_when.iter().any(|c| c.holds(&json)) {
            return Completion::Info(format!(
                "the answer matches neither ok_when nor fail_when: {}",
                shown(body)
            ));
        }
        match &self.value {
            None => Completion::Ok(Value::Null),
            Some(pointer) => self.result_at(&json, pointer, body),
        }
    }

    /// The result at `pointer`, decoded. A body that does not hold it leaves the result
    /// unknown (unless a missing result means `null`), so the operation is indeterminate
    /// rather than failed: it did happen.
    fn result_at(&self, json: &serde_json::Value, pointer: &Pointer, body: &[u8]) -> Completion {
        let Some(found) = json.pointer(&pointer.0) else {
            return match self.absent {
                Absent::Null => Completion::Ok(Value::Null),
                Absent::Info => Completion::Info(format!(
                    "the response has nothing at {}: {}",
                    pointer.0,
                    shown(body)
                )),
            };
        };
        let decoded = serde_json::from_value::<Value>(found.clone())
            .map_err(|e| e.to_string())
            .and_then(|value| decode_all(&self.decode, value));
        match decoded {
            Ok(value) => Completion::Ok(value),
            Err(error) => Completion::Info(format!(
                "the result at {} cannot be read: {error}; the response: {}",
                pointer.0,
                shown(body)
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::http::Codec;

    fn request(toml_text: &str) -> RequestSpec {
        toml::from_str(&format!("path = \"/x\"\n{toml_text}")).unwrap()
    }

    #[test]
    fn results_are_read_by_pointer() {
        let read = request("value = \"/data/value\"");
        assert_eq!(
            read.judge_body(br#"{"data": {"value": [1, 2]}}"#),
            Completion::Ok(Value::List(vec![Value::Int(1), Value::Int(2)]))
        );
        assert!(read.judge_body(br#"{"data": {}}"#).is_info());
        assert!(read.judge_body(b"<html>").is_info());
        assert!(Pointer::parse("value").is_err());
    }

    #[test]
    fn a_missing_result_can_mean_null() {
        let read =
            request("value = \"/kvs/0/value\"\nabsent = \"null\"\ndecode = [\"base64\", \"json\"]");
        assert_eq!(read.decode, [Codec::Base64, Codec::Json]);
        assert_eq!(
            read.judge_body(br#"{"header": {}}"#),
            Completion::Ok(Value::Null)
        );
        assert_eq!(
            read.judge_body(br#"{"kvs": [{"value": "Mw=="}]}"#),
            Completion::Ok(Value::Int(3))
        );
        match read.judge_body(br#"{"kvs": [{"value": "%%"}]}"#) {
            Completion::Info(error) => assert!(error.contains("not base64"), "{error}"),
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
            cas.judge_body(br#"{"succeeded": true}"#),
            Completion::Ok(Value::Null)
        );
        assert_eq!(
            cas.judge_body(br#"{"header": {}}"#),
            Completion::Fail("the answer says /succeeded is missing".into())
        );
        assert!(matches!(
            cas.judge_body(br#"{"succeeded": false}"#),
            Completion::Fail(_)
        ));
        let only_ok = request("ok_when = { pointer = \"/status\", equals = \"done\" }");
        assert!(only_ok.judge_body(br#"{"status": "queued"}"#).is_info());
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
            read.judge_body(br#"{"GET": "1"}"#),
            Completion::Ok(Value::Int(1))
        );
        assert_eq!(
            read.judge_body(br#"{"GET": null}"#),
            Completion::Ok(Value::Null)
        );
        assert!(read.judge_body(br#"{"GET": "one"}"#).is_info());
    }
}
