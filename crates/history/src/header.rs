//! The header line: what a history was recorded with.
//!
//! `photofinish run` and `photofinish demo` start the histories they write with one line that is
//! not an event:
//!
//! ```text
//! {"photofinish":{"version":"0.1.0","model":"counter","init":0,"workload":"counter","target":"redis 127.0.0.1:6379","seed":7,"options":{"clients":4}}}
//! ```
//!
//! It is a JSON object with a `photofinish` field and no `type`, so tools that read events skip
//! it or stop at it, and it lets `check` re-check a run without being told the model again. The
//! readers accept it as the first non-empty line of JSON Lines (or the first element of a JSON
//! array) only, and give it as [`crate::History::header`]; the events after it keep their line
//! numbers. Every field is optional; fields this version does not know are kept in
//! [`RecordedWith::other`].

use std::collections::BTreeMap;

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::Value;

/// What a history was recorded with, from its header line.
///
/// ```
/// use photofinish_history::{read_str, RecordedWith, Value};
///
/// let text = r#"{"photofinish":{"version":"0.1.0","model":"counter","init":0,"seed":7,"options":{"clients":4}}}
/// {"type":"invoke","f":"add","value":1,"process":0}
/// "#;
/// let history = read_str(text, "h.jsonl", None).unwrap();
/// let header = history.header.unwrap();
/// assert_eq!(header.model.as_deref(), Some("counter"));
/// assert_eq!((header.init, header.seed), (Some(Value::Int(0)), Some(7)));
/// assert!(header.other.contains_key("options"));
/// assert_eq!(history.operations[0].invoke_line, 2);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RecordedWith {
    /// The version of photofinish that wrote the history.
    pub version: Option<String>,
    /// The model to check the history against, by name (`counter`, `cas-register`, ...).
    pub model: Option<String>,
    /// The model's initial value, when it was not the model's default.
    pub init: Option<Value>,
    /// The workload that generated the operations.
    pub workload: Option<String>,
    /// The system the operations ran against, as a person reads it.
    pub target: Option<String>,
    /// The seed of the operation generators: the same seed issues the same operations.
    pub seed: Option<u64>,
    /// Every other field (`options`, ...), as written.
    pub other: BTreeMap<String, Value>,
}

impl RecordedWith {
    /// Reads the value of a header's `photofinish` field. An error names the field at fault.
    pub fn from_value(value: Value) -> Result<RecordedWith, String> {
        let Value::Map(map) = value else {
            return Err(format!(
                "the header's `photofinish` field must be an object, found {}",
                value.kind()
            ));
        };
        let mut header = RecordedWith::default();
        for (name, value) in map {
            let Value::Str(name) = name else { continue };
            if value.is_null() {
                continue;
            }
            let text = |value: Value| match value {
                Value::Str(s) => Ok(s),
                other => Err(format!(
                    "the header field `{}` must be a string, found {}",
                    crate::text::quote(&name),
                    other.kind()
                )),
            };
            match name.as_str() {
                "version" => header.version = Some(text(value)?),
                "model" => header.model = Some(text(value)?),
                "workload" => header.workload = Some(text(value)?),
                "target" => header.target = Some(text(value)?),
                "init" => header.init = Some(value),
                "seed" => {
                    header.seed = Some(match &value {
                        Value::Int(n) => u64::try_from(*n).ok(),
                        Value::BigInt(n) => n.to_u64(),
                        _ => None,
                    }
                    .ok_or_else(|| {
                        format!(
                            "the header field `seed` must be an integer from 0 to 2^64-1, found {value}"
                        )
                    })?)
                }
                _ => {
                    header.other.insert(name, value);
                }
            }
        }
        Ok(header)
    }

    /// The header as the value of its `photofinish` field.
    pub fn to_value(&self) -> Value {
        let mut map = BTreeMap::new();
        let mut put = |name: &str, value: Option<Value>| {
            if let Some(value) = value {
                map.insert(Value::from(name), value);
            }
        };
        put("version", self.version.clone().map(Value::from));
        put("model", self.model.clone().map(Value::from));
        put("init", self.init.clone());
        put("workload", self.workload.clone().map(Value::from));
        put("target", self.target.clone().map(Value::from));
        put(
            "seed",
            self.seed
                .map(|s| Value::integer(&s.to_string()).unwrap_or_default()),
        );
        for (name, value) in &self.other {
            map.insert(Value::from(name.as_str()), value.clone());
        }
        Value::Map(map)
    }
}

impl Serialize for RecordedWith {
    /// Serializes as the whole header line's object: `{"photofinish": {...}}`.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry("photofinish", &self.to_value())?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_its_value() {
        let mut header = RecordedWith {
            version: Some("0.1.0".into()),
            model: Some("counter".into()),
            init: Some(Value::Int(0)),
            workload: Some("counter".into()),
            target: Some("redis \u{1b}".into()),
            seed: Some(u64::MAX),
            other: BTreeMap::new(),
        };
        header.other.insert(
            "options".into(),
            Value::from_json_str(r#"{"clients":4}"#).unwrap(),
        );
        assert_eq!(RecordedWith::from_value(header.to_value()).unwrap(), header);
        let line = serde_json::to_string(&header).unwrap();
        assert!(
            line.starts_with(r#"{"photofinish":{"init":0,"model":"counter","#),
            "{line}"
        );
        assert!(line.contains(r#""seed":18446744073709551615"#), "{line}");
    }

    #[test]
    fn wrong_field_kinds_are_named() {
        let bad =
            |text: &str| RecordedWith::from_value(Value::from_json_str(text).unwrap()).unwrap_err();
        assert!(bad(r#"{"model":3}"#).contains("`model` must be a string"));
        assert!(bad(r#"{"seed":-1}"#).contains("`seed` must be an integer"));
        assert!(bad("[]").contains("must be an object"));
        let header = RecordedWith::from_value(Value::from_json_str(r#"{"model":null}"#).unwrap());
        assert_eq!(header.unwrap().model, None);
    }
}
