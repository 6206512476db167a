//! The value carried by an operation.
//!
//! Histories come from JSON and from EDN, so values need a common shape that both map onto
//! losslessly enough for checking: EDN keywords become strings (Jepsen does the same when it
//! writes JSON), sets become sorted lists, tagged literals become their payload. Unlike
//! `serde_json::Value`, this type is `Eq + Hash + Ord`, because models keep values in their
//! states and the search hashes states.
//!
//! # Numbers
//!
//! A verdict compares numbers, so every reader keeps them as written:
//!
//! - **Integers are exact, whatever their size.** One that fits in 64 bits is a [`Value::Int`];
//!   a larger one (a `u64` id above 2^63, a Clojure `N` bigint) is a [`Value::BigInt`] holding
//!   its normalised decimal digits. The two never hold the same number, so equality and hashing
//!   stay plain, and [`Ord`] orders them together numerically. `18446744073709551615` and
//!   `18446744073709551614` are two different values in JSON Lines, JSON arrays, EDN and Jepsen
//!   logs alike.
//! - **Numbers with a fraction or an exponent** (`0.35`, `1e3`) are [`Value::Float`], an `f64`
//!   rounded correctly from the text. A decimal of at most 15 significant digits survives the
//!   trip: the shortest digits that read back as the same `f64` (what `format!("{}", x)` prints,
//!   and the JSON writer too, though it may write them with an exponent: `1e-6`) are the digits
//!   that were read, so a model can recover `0.35` exactly and sum decimals without binary
//!   drift. Longer fractions are rounded to the nearest `f64`.
//!
//! [`Value::from_json_str`] and the readers parse numbers themselves and are exact for integers
//! of any size. Through serde (`serde_json::from_str::<Value>`), integers are exact up to
//! `u64::MAX`; serde_json hands larger ones over as `f64` already, so parse such text with
//! [`Value::from_json_str`] instead.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// A JSON-like value with total equality, hashing and ordering.
///
/// Values of different kinds order as null, booleans, integers ([`Value::Int`] and
/// [`Value::BigInt`] together, by number), floats, strings, lists, maps.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum Value {
    /// `null` in JSON, `nil` in EDN.
    #[default]
    Null,
    Bool(bool),
    /// An integer that fits in 64 bits.
    Int(i64),
    /// An integer that does not fit in 64 bits, kept exact; never one that would fit in an
    /// [`Value::Int`].
    BigInt(BigInt),
    Float(Float),
    Str(String),
    List(Vec<Value>),
    Map(BTreeMap<Value, Value>),
}

/// An `f64` compared by its total order, so that values can be hashed and sorted.
#[derive(Clone, Copy, Debug)]
pub struct Float(pub f64);

impl PartialEq for Float {
    fn eq(&self, other: &Self) -> bool {
        self.0.total_cmp(&other.0).is_eq()
    }
}
impl Eq for Float {}
impl PartialOrd for Float {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Float {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}
impl std::hash::Hash for Float {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.to_bits().hash(state)
    }
}

/// An integer beyond the 64-bit range, as its normalised decimal text: an optional `-`, then
/// digits without leading zeros. It is made only by [`Value::integer`], which turns integers
/// that fit in 64 bits into [`Value::Int`] instead, so two equal numbers always have the same
/// representation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BigInt(Box<str>);

impl BigInt {
    /// The decimal text, e.g. `18446744073709551615` or `-99999999999999999999`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_negative(&self) -> bool {
        self.0.starts_with('-')
    }

    fn magnitude(&self) -> &str {
        self.0.strip_prefix('-').unwrap_or(&self.0)
    }

    /// The number as a `u64`, when it is one (between 2^63 and 2^64 - 1).
    pub fn to_u64(&self) -> Option<u64> {
        self.0.parse().ok()
    }

    /// The number as an `i128`, when it is one.
    pub fn to_i128(&self) -> Option<i128> {
        self.0.parse().ok()
    }
}

impl PartialOrd for BigInt {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for BigInt {
    /// Numeric order: normalised digits order by length, then digit by digit.
    fn cmp(&self, other: &Self) -> Ordering {
        let by_magnitude = self
            .magnitude()
            .len()
            .cmp(&other.magnitude().len())
            .then_with(|| self.magnitude().cmp(other.magnitude()));
        match (self.is_negative(), other.is_negative()) {
            (false, false) => by_magnitude,
            (true, true) => by_magnitude.reverse(),
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
        }
    }
}

impl fmt::Display for BigInt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialOrd for Value {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Value {
    fn cmp(&self, other: &Self) -> Ordering {
        use Value::*;
        match (self, other) {
            (Null, Null) => Ordering::Equal,
            (Bool(a), Bool(b)) => a.cmp(b),
            (Int(a), Int(b)) => a.cmp(b),
            (BigInt(a), BigInt(b)) => a.cmp(b),
            // A big integer lies beyond every 64-bit one, on the side of its sign.
            (Int(_), BigInt(b)) if b.is_negative() => Ordering::Greater,
            (Int(_), BigInt(_)) => Ordering::Less,
            (BigInt(a), Int(_)) if a.is_negative() => Ordering::Less,
            (BigInt(_), Int(_)) => Ordering::Greater,
            (Float(a), Float(b)) => a.cmp(b),
            (Str(a), Str(b)) => a.cmp(b),
            (List(a), List(b)) => a.cmp(b),
            (Map(a), Map(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl Value {
    /// The integer written as `text` (an optional sign, then decimal digits), exactly: an
    /// [`Value::Int`] when it fits in 64 bits, a [`Value::BigInt`] otherwise. `None` when `text`
    /// is not such an integer.
    ///
    /// ```
    /// use photofinish_history::Value;
    ///
    /// assert_eq!(Value::integer("-0042"), Some(Value::Int(-42)));
    /// let big = Value::integer("18446744073709551615").unwrap();
    /// assert_ne!(big, Value::integer("18446744073709551614").unwrap());
    /// assert!(big > Value::Int(i64::MAX));
    /// assert_eq!(big.to_json_string(), "18446744073709551615");
    /// ```
    pub fn integer(text: &str) -> Option<Value> {
        let (negative, digits) = match text.as_bytes().first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if let Ok(n) = text.parse::<i64>() {
            return Some(Value::Int(n));
        }
        let digits = digits.trim_start_matches('0');
        // Leading zeros aside, a number that did not parse as i64 has at least 19 digits.
        let mut normal = String::with_capacity(digits.len() + 1);
        if negative {
            normal.push('-');
        }
        normal.push_str(digits);
        Some(Value::BigInt(BigInt(normal.into_boxed_str())))
    }

    /// The position of the value's kind in the order of kinds.
    fn rank(&self) -> u8 {
        match self {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Int(_) | Value::BigInt(_) => 2,
            Value::Float(_) => 3,
            Value::Str(_) => 4,
            Value::List(_) => 5,
            Value::Map(_) => 6,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    /// A short name of the value's kind, for error messages ("expected an integer, found a string").
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::BigInt(_) => "an integer beyond 64 bits",
            Value::Float(_) => "a float",
            Value::Str(_) => "a string",
            Value::List(_) => "a list",
            Value::Map(_) => "a map",
        }
    }

    /// Parses a JSON literal, as given to `--init`, keeping integers of any size exact.
    ///
    /// ```
    /// use photofinish_history::Value;
    ///
    /// let v = Value::from_json_str(r#"{"id": 18446744073709551615, "x": [0.35, null]}"#).unwrap();
    /// assert_eq!(v.to_json_string(), r#"{"id":18446744073709551615,"x":[0.35,null]}"#);
    /// let err = Value::from_json_str("[1,").unwrap_err();
    /// assert_eq!(err.to_string(), "column 4: expected a value, found the end of the text");
    /// ```
    pub fn from_json_str(text: &str) -> Result<Value, JsonError> {
        crate::formats::json::parse_value(text.as_bytes()).map_err(|e| JsonError {
            column: e.column,
            message: e.message,
        })
    }

    /// Compact JSON text, the form every report uses to show a value.
    pub fn to_json_string(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| String::from("?"))
    }
}

/// Why [`Value::from_json_str`] could not parse its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonError {
    /// The 1-based column, in characters, where the problem was found.
    pub column: usize,
    pub message: String,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.column, self.message)
    }
}

impl std::error::Error for JsonError {}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_json_string())
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Str(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Str(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(v: Vec<T>) -> Self {
        Value::List(v.into_iter().map(Into::into).collect())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => serializer.serialize_unit(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Int(i) => serializer.serialize_i64(*i),
            // JSON has no limit on a number's digits; serde's data model has, so the digits
            // go through as raw JSON text, which serde_json writes unchanged.
            Value::BigInt(n) => serde_json::value::RawValue::from_string(n.as_str().to_owned())
                .map_err(serde::ser::Error::custom)?
                .serialize(serializer),
            Value::Float(x) => serializer.serialize_f64(x.0),
            Value::Str(s) => serializer.serialize_str(s),
            Value::List(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Map(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    // JSON keys are strings; other keys are written as their JSON text.
                    match k {
                        Value::Str(s) => map.serialize_entry(s, v)?,
                        other => map.serialize_entry(&other.to_json_string(), v)?,
                    }
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::integer(&v.to_string()).unwrap_or_default())
    }
    fn visit_i128<E>(self, v: i128) -> Result<Value, E> {
        Ok(Value::integer(&v.to_string()).unwrap_or_default())
    }
    fn visit_u128<E>(self, v: u128) -> Result<Value, E> {
        Ok(Value::integer(&v.to_string()).unwrap_or_default())
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(Float(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::List(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = BTreeMap::new();
        while let Some((k, v)) = map.next_entry::<String, Value>()? {
            entries.insert(Value::Str(k), v);
        }
        Ok(Value::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_keeps_kinds() {
        let text = r#"{"a":[1,2.5,"x",null,true],"b":{"c":-3}}"#;
        let v = Value::from_json_str(text).unwrap();
        assert_eq!(v.to_json_string(), text);
    }

    #[test]
    fn big_integers_are_exact_and_ordered_by_number() {
        let max = Value::from_json_str("18446744073709551615").unwrap();
        let below = Value::from_json_str("18446744073709551614").unwrap();
        assert_ne!(max, below);
        assert!(below < max);
        assert_eq!(
            Value::integer("-9223372036854775808"),
            Some(Value::Int(i64::MIN))
        );
        let order = [
            "-100000000000000000000",
            "-99999999999999999999",
            "-9223372036854775809",
            "-9223372036854775808",
            "0",
            "9223372036854775807",
            "9223372036854775808",
            "000099999999999999999999",
            "100000000000000000000",
        ];
        let values: Vec<Value> = order.iter().map(|t| Value::integer(t).unwrap()).collect();
        for pair in values.windows(2) {
            assert!(pair[0] < pair[1], "{} < {}", pair[0], pair[1]);
            assert!(pair[1] > pair[0]);
        }
        assert_eq!(values[7].to_json_string(), "99999999999999999999");
        assert!(
            Value::BigInt(match &values[0] {
                Value::BigInt(b) => b.clone(),
                _ => unreachable!(),
            }) < Value::Float(Float(-1e300))
        );
        let via_serde: Value = serde_json::from_str("18446744073709551615").unwrap();
        assert_eq!(via_serde, max);
        let text = r#"[18446744073709551615,-170141183460469231731687303715884105729]"#;
        assert_eq!(Value::from_json_str(text).unwrap().to_json_string(), text);
        assert_eq!(Value::integer("12a"), None);
        assert_eq!(Value::integer("-"), None);
    }

    #[test]
    fn a_value_stays_four_words() {
        // Histories hold millions of values: a big integer is boxed rather than widening all.
        assert!(std::mem::size_of::<Value>() <= 32);
    }

    #[test]
    fn short_decimals_survive_the_float() {
        for text in ["0.35", "0.1", "123456.789012345", "-0.000001", "1e-7"] {
            let Value::Float(Float(x)) = Value::from_json_str(text).unwrap() else {
                panic!("{text} is not a float");
            };
            assert_eq!(x, text.parse::<f64>().unwrap());
            assert_eq!(format!("{x}").parse::<f64>().unwrap(), x);
            let again = Value::from_json_str(&Value::Float(Float(x)).to_json_string()).unwrap();
            assert_eq!(again, Value::Float(Float(x)), "{text}");
        }
        assert_eq!(format!("{}", 0.35f64), "0.35");
        assert_eq!(format!("{}", -0.000001f64), "-0.000001");
    }

    #[test]
    fn floats_are_totally_ordered() {
        let nan = Value::Float(Float(f64::NAN));
        assert_eq!(nan, nan.clone());
        assert!(Value::Int(1) < Value::Float(Float(0.0)));
    }
}
