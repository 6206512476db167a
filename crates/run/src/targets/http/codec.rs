//! Value codecs: how a value the workload issues is written for a service that wants it in
//! another shape (etcd's base64 keys and values, a number as a string), and how a result the
//! service answers is turned back into the value the checker compares.
//!
//! In a template a placeholder names its codecs after bars, applied left to right:
//! `{value|json|base64}` writes the value as JSON text, then base64 of that text. A result's
//! codecs are the operation's `decode` list, applied in order to what its `value` pointer found:
//! `decode = ["base64", "json"]` undoes the former.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use photofinish_history::Value;
use serde::Deserialize;

/// One step of a value's encoding or decoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum Codec {
    /// Writing: the value as text (a string as it is, anything else as its JSON text: `3` as
    /// `"3"`). Reading: a string stays, anything else becomes its JSON text.
    String,
    /// An integer written as a decimal string, and read back from one (webdis answers
    /// `{"GET":"1"}`).
    Number,
    /// Writing: the value's JSON text as a string (`"a"` as `"\"a\""`). Reading: a string
    /// holding JSON text becomes the value it holds.
    Json,
    /// Writing: the text (a string, or any other value's JSON text) in standard base64.
    /// Reading: a base64 string becomes the UTF-8 text it encodes.
    Base64,
}

impl Codec {
    pub const ALL: [Codec; 4] = [Codec::String, Codec::Number, Codec::Json, Codec::Base64];

    pub fn name(self) -> &'static str {
        match self {
            Codec::String => "string",
            Codec::Number => "number",
            Codec::Json => "json",
            Codec::Base64 => "base64",
        }
    }

    pub fn parse(name: &str) -> Result<Codec, String> {
        Codec::ALL
            .into_iter()
            .find(|codec| codec.name() == name)
            .ok_or_else(|| {
                let names: Vec<_> = Codec::ALL.iter().map(|c| c.name()).collect();
                format!(
                    "unknown codec `{name}`: the codecs are {}",
                    names.join(", ")
                )
            })
    }

    /// Writes `value` as this codec says, for a request.
    pub fn encode(self, value: Value) -> Result<Value, String> {
        Ok(match (self, value) {
            (Codec::String, Value::Str(s)) => Value::Str(s),
            (Codec::String | Codec::Json, other) => Value::Str(other.to_json_string()),
            (Codec::Number, Value::Int(n)) => Value::Str(n.to_string()),
            (Codec::Number, Value::BigInt(n)) => Value::Str(n.as_str().to_string()),
            (Codec::Number, other) => {
                return Err(format!("the number codec needs an integer, not {other}"))
            }
            (Codec::Base64, value) => Value::Str(B64.encode(text_of(&value))),
        })
    }

    /// Reads `value` back as this codec says, from a response. `null` (a missing value) stays
    /// `null` through every codec.
    pub fn decode(self, value: Value) -> Result<Value, String> {
        if value.is_null() {
            return Ok(value);
        }
        Ok(match (self, value) {
            (Codec::String, value) => Value::Str(text_of(&value)),
            (Codec::Number, Value::Str(s)) => match integer(s.trim()) {
                Some(n) => n,
                None => return Err(format!("{:?} is not an integer", clip(&s))),
            },
            (Codec::Number, n @ (Value::Int(_) | Value::BigInt(_))) => n,
            (Codec::Json, Value::Str(s)) => Value::from_json_str(&s)
                .map_err(|e| format!("{:?} is not JSON text: {e}", clip(&s)))?,
            (Codec::Base64, Value::Str(s)) => {
                let bytes = B64
                    .decode(s.trim())
                    .map_err(|e| format!("{:?} is not base64: {e}", clip(&s)))?;
                Value::Str(String::from_utf8(bytes).map_err(|_| {
                    format!("{:?} is base64 of bytes that are not UTF-8 text", clip(&s))
                })?)
            }
            (codec, other) => {
                return Err(format!(
                    "the {} codec reads a string, not {}",
                    codec.name(),
                    clip(&other.to_json_string())
                ))
            }
        })
    }
}

impl TryFrom<String> for Codec {
    type Error = String;
    fn try_from(name: String) -> Result<Codec, String> {
        Codec::parse(&name)
    }
}

/// A string as it is; any other value as its JSON text.
fn text_of(value: &Value) -> String {
    match value {
        Value::Str(s) => s.clone(),
        other => other.to_json_string(),
    }
}

/// The integer `text` writes in decimal, however large.
fn integer(text: &str) -> Option<Value> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Value::from_json_str(text).ok()
}

/// At most 80 characters of `text`, for an error message.
fn clip(text: &str) -> String {
    photofinish_history::escape_and_clip(text, 80)
}

/// Applies `codecs` in order to decode `value`.
pub(super) fn decode_all(codecs: &[Codec], mut value: Value) -> Result<Value, String> {
    for codec in codecs {
        value = codec.decode(value)?;
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_through_etcds_base64() {
        let written = Codec::Base64
            .encode(Codec::Json.encode(Value::Int(3)).unwrap())
            .unwrap();
        assert_eq!(written, Value::from("Mw=="));
        let read = decode_all(&[Codec::Base64, Codec::Json], written).unwrap();
        assert_eq!(read, Value::Int(3));
        let list = Value::List(vec![Value::Int(1), Value::from("a")]);
        let encoded = Codec::Base64.encode(list.clone()).unwrap();
        assert_eq!(
            decode_all(&[Codec::Base64, Codec::Json], encoded).unwrap(),
            list
        );
    }

    #[test]
    fn numbers_as_strings() {
        assert_eq!(
            Codec::Number.decode(Value::from("1")).unwrap(),
            Value::Int(1)
        );
        assert_eq!(Codec::Number.decode(Value::Int(4)).unwrap(), Value::Int(4));
        assert_eq!(
            Codec::Number.encode(Value::Int(12)).unwrap(),
            Value::from("12")
        );
        assert!(Codec::Number.decode(Value::from("one")).is_err());
        assert!(Codec::Number.encode(Value::from("x")).is_err());
        assert_eq!(
            Codec::String.encode(Value::from("x")).unwrap(),
            Value::from("x")
        );
        assert_eq!(
            Codec::Json.encode(Value::from("x")).unwrap(),
            Value::from("\"x\"")
        );
    }

    #[test]
    fn null_stays_null_and_wrong_shapes_are_errors() {
        for codec in Codec::ALL {
            assert_eq!(codec.decode(Value::Null).unwrap(), Value::Null);
        }
        assert!(Codec::Base64.decode(Value::from("%%%")).is_err());
        assert!(Codec::Json.decode(Value::from("{")).is_err());
        assert!(Codec::Base64.decode(Value::Int(3)).is_err());
        assert!(Codec::parse("base32").unwrap_err().contains("base64"));
    }
}
