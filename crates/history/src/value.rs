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
//! # Lists of integers
//!
//! A history's largest values are lists of integers: every read of a set or of an appended
//! list returns all the elements so far, so a run of 10^5 adds records some 5·10^9 of them
//! across its reads. The history readers keep a non-empty list whose items are all
//! [`Value::Int`] as a [`Value::Ints`]: 8 bytes an element instead of 32, shared (an `Arc`) so
//! that a model can hold a read without copying it. It is the same value as the
//! [`Value::List`] of those integers: equal, hashed and ordered alike, written alike. Code
//! that reads a list takes both forms through [`Value::as_list`] (or [`Value::as_ints`] for
//! the compact one alone); code that builds values may use either.
//!
//! [`Value::from_json_str`] and the readers parse numbers themselves and are exact for integers
//! of any size. Through serde (`serde_json::from_str::<Value>`), integers are exact up to
//! `u64::MAX`; serde_json hands larger ones over as `f64` already, so parse such text with
//! [`Value::from_json_str`] instead.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// A JSON-like value with total equality, hashing and ordering.
///
/// Values of different kinds order as null, booleans, integers ([`Value::Int`] and
/// [`Value::BigInt`] together, by number), floats, strings, lists, maps.
#[derive(Clone, Debug, Default)]
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
    /// A non-empty list of 64-bit integers, compact and shared: the same value as the
    /// [`Value::List`] of those integers (see the module doc).
    Ints(Arc<[i64]>),
    Map(BTreeMap<Value, Value>),
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        use Value::*;
        match (self, other) {
            (Null, Null) => true,
            (Bool(a), Bool(b)) => a == b,
            (Int(a), Int(b)) => a == b,
            (BigInt(a), BigInt(b)) => a == b,
            (Float(a), Float(b)) => a == b,
            (Str(a), Str(b)) => a == b,
            (List(a), List(b)) => a == b,
            (Ints(a), Ints(b)) => a == b,
            (List(a), Ints(b)) | (Ints(b), List(a)) => {
                a.len() == b.len() && a.iter().zip(b.iter()).all(|(x, y)| *x == Int(*y))
            }
            (Map(a), Map(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for Value {}

impl Hash for Value {
    /// Hashes a [`Value::Ints`] exactly as the [`Value::List`] of its integers, as equality
    /// requires.
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u8(self.rank());
        match self {
            Value::Null => {}
            Value::Bool(b) => b.hash(state),
            Value::Int(i) => {
                state.write_u8(0);
                i.hash(state)
            }
            Value::BigInt(n) => {
                state.write_u8(1);
                n.hash(state)
            }
            Value::Float(x) => x.hash(state),
            Value::Str(s) => s.hash(state),
            Value::List(items) => {
                state.write_usize(items.len());
                for item in items {
                    item.hash(state);
                }
            }
            Value::Ints(items) => {
                state.write_usize(items.len());
                for &i in items.iter() {
                    Value::Int(i).hash(state);
                }
            }
            Value::Map(entries) => entries.hash(state),
        }
    }
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
            (Ints(a), Ints(b)) => a.cmp(b),
            (List(a), Ints(b)) => cmp_with_ints(a, b),
            (Ints(a), List(b)) => cmp_with_ints(b, a).reverse(),
            (Map(a), Map(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

/// Compares a list with a list of integers as the list of those integers.
fn cmp_with_ints(list: &[Value], ints: &[i64]) -> Ordering {
    for (item, &i) in list.iter().zip(ints) {
        match item.cmp(&Value::Int(i)) {
            Ordering::Equal => {}
            unequal => return unequal,
        }
    }
    list.len().cmp(&ints.len())
}

impl Value {
    /// The list of `items`, as a [`Value::Ints`] when they are all [`Value::Int`] (and there is
    /// at least one), as the history readers keep lists.
    ///
    /// ```
    /// use photofinish_history::Value;
    ///
    /// let compact = Value::list(vec![Value::Int(1), Value::Int(2)]);
    /// assert_eq!(compact.as_ints(), Some(&[1, 2][..]));
    /// assert_eq!(compact, Value::List(vec![Value::Int(1), Value::Int(2)]));
    /// assert!(Value::list(vec![Value::Int(1), Value::Null]).as_ints().is_none());
    /// ```
    pub fn list(items: Vec<Value>) -> Value {
        if items.is_empty() || !items.iter().all(|v| matches!(v, Value::Int(_))) {
            return Value::List(items);
        }
        Value::Ints(
            items
                .iter()
                .map(|v| match v {
                    Value::Int(i) => *i,
                    _ => unreachable!("checked: every item is an integer"),
                })
                .collect(),
        )
    }

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
            Value::List(_) | Value::Ints(_) => 5,
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

    /// The items of a list, in either form: borrowed from a [`Value::List`], made for a
    /// [`Value::Ints`] (use [`Value::as_ints`] first where a long list of integers is likely).
    pub fn as_list(&self) -> Option<Cow<'_, [Value]>> {
        match self {
            Value::List(items) => Some(Cow::Borrowed(items)),
            Value::Ints(items) => Some(Cow::Owned(items.iter().map(|&i| Value::Int(i)).collect())),
            _ => None,
        }
    }

    /// The items of a [`Value::List`], borrowed; `None` for a [`Value::Ints`]. Only for lists
    /// that are never all integers, such as micro-operations (`[f, key, value]` starts with
    /// its name), where a borrow beats [`Value::as_list`]'s copy; a list that may hold only
    /// integers is read with [`Value::as_list`].
    pub fn as_list_of_values(&self) -> Option<&[Value]> {
        match self {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    /// The integers of a compact list of integers ([`Value::Ints`]); `None` for anything else,
    /// a [`Value::List`] of integers included.
    pub fn as_ints(&self) -> Option<&[i64]> {
        match self {
            Value::Ints(items) => Some(items),
            _ => None,
        }
    }

    /// The two items of a list of two, in either form: borrowed from a [`Value::List`], made
    /// for a [`Value::Ints`]. Pairs are everywhere in histories: `[key, value]`,
    /// `[expected, new]`.
    ///
    /// ```
    /// use photofinish_history::Value;
    ///
    /// let pair = Value::list(vec![Value::Int(3), Value::Int(4)]);
    /// let (a, b) = pair.as_pair().unwrap();
    /// assert_eq!((a.as_ref(), b.as_ref()), (&Value::Int(3), &Value::Int(4)));
    /// assert!(Value::list(vec![Value::Int(3)]).as_pair().is_none());
    /// ```
    pub fn as_pair(&self) -> Option<(Cow<'_, Value>, Cow<'_, Value>)> {
        match self {
            Value::List(items) => match items.as_slice() {
                [a, b] => Some((Cow::Borrowed(a), Cow::Borrowed(b))),
                _ => None,
            },
            Value::Ints(items) => match items[..] {
                [a, b] => Some((Cow::Owned(Value::Int(a)), Cow::Owned(Value::Int(b)))),
                _ => None,
            },
            _ => None,
        }
    }

    /// How many items a list holds, in either form.
    pub fn list_len(&self) -> Option<usize> {
        match self {
            Value::List(items) => Some(items.len()),
            Value::Ints(items) => Some(items.len()),
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
            Value::List(_) | Value::Ints(_) => "a list",
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
            Value::Ints(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items.iter() {
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

    fn hash_of(v: &Value) -> u64 {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        v.hash(&mut hasher);
        hasher.finish()
    }

    #[test]
    fn compact_integer_lists_are_the_lists_of_their_integers() {
        let ints = |xs: &[i64]| Value::Ints(xs.into());
        let list = |xs: &[i64]| Value::List(xs.iter().map(|&i| Value::Int(i)).collect());
        for xs in [&[1][..], &[1, 2, 3], &[-5, i64::MAX, i64::MIN]] {
            assert_eq!(ints(xs), list(xs));
            assert_eq!(list(xs), ints(xs));
            assert_eq!(hash_of(&ints(xs)), hash_of(&list(xs)));
            assert_eq!(ints(xs).cmp(&list(xs)), Ordering::Equal);
            assert_eq!(ints(xs).to_json_string(), list(xs).to_json_string());
            assert_eq!(
                ints(xs).as_list().unwrap().as_ref(),
                list(xs).as_list().unwrap().as_ref()
            );
        }
        let samples = [
            ints(&[1, 2]),
            list(&[1, 2]),
            ints(&[1, 3]),
            ints(&[1]),
            list(&[1, 2, 0]),
            Value::List(vec![Value::Int(1), Value::Str("a".into())]),
            Value::List(vec![]),
            Value::List(vec![Value::Int(1), Value::Float(Float(0.5))]),
            Value::Int(7),
        ];
        for a in &samples {
            for b in &samples {
                let (la, lb) = (a.as_list(), b.as_list());
                if let (Some(la), Some(lb)) = (la, lb) {
                    // The order of lists is the order of their items, whichever the form.
                    assert_eq!(a.cmp(b), la.as_ref().cmp(lb.as_ref()), "{a} vs {b}");
                }
                assert_eq!(a == b, a.cmp(b) == Ordering::Equal, "{a} vs {b}");
                assert_eq!(b.cmp(a), a.cmp(b).reverse(), "{a} vs {b}");
                if a == b {
                    assert_eq!(hash_of(a), hash_of(b));
                }
            }
        }
        assert!(Value::list(vec![]).as_ints().is_none());
        assert_eq!(ints(&[4]).kind(), "a list");
        assert_eq!(ints(&[4, 5]).list_len(), Some(2));
    }

    #[test]
    fn floats_are_totally_ordered() {
        let nan = Value::Float(Float(f64::NAN));
        assert_eq!(nan, nan.clone());
        assert!(Value::Int(1) < Value::Float(Float(0.0)));
    }
}
