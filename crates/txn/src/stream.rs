//! A streaming reader for JSON Lines transaction histories: each line is parsed straight
//! into interned micro-operations, without building the history's values, so a million
//! transactions read in a fraction of the time and memory a [`History`] takes.
//!
//! It handles the plain case only: every line an event of a client process (or the nemesis)
//! with `f` `txn`, integer, string, boolean or null keys and values, well paired. Anything
//! else (a parse error, a torn last line, a header, an operation that is not a transaction,
//! a float) makes it give up, and the caller reads the file with `photofinish-history`,
//! which knows every case and words every error. Both build the same [`Txns`].
//!
//! [`History`]: photofinish_history::History

use std::borrow::Cow;
use std::fmt;
use std::io::BufRead;

use photofinish_history::{EventKind, Outcome, Value};
use rustc_hash::FxHashMap;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use crate::txns::{check_mop, mop_kind, Builder, MopKind, RawMop, RawValue, Txns, Workload};

/// Reads a JSON Lines transaction history, or `None` if it is not the plain case.
pub(crate) fn read_jsonl<R: BufRead>(
    mut input: R,
    workload: Workload,
    origin: &str,
) -> Option<Txns> {
    let mut builder = Builder::new(workload, origin, 1024);
    let mut open: FxHashMap<i64, u32> = FxHashMap::default();
    let mut scratch = Scratch::default();
    let mut line = Vec::with_capacity(512);
    let (mut line_no, mut at, mut ops) = (0usize, 0u64, 0u32);
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line).ok()? == 0 {
            break;
        }
        line_no += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        scratch.clear();
        let mut de = serde_json::Deserializer::from_slice(&line);
        let fields = LineSeed {
            scratch: &mut scratch,
        }
        .deserialize(&mut de)
        .ok()?;
        de.end().ok()?;
        let kind = fields.kind?;
        let process = match fields.process {
            Proc::Client(p) => p,
            Proc::Nemesis => {
                at += 1;
                continue;
            }
            Proc::Missing => return None,
        };
        if !fields.f_is_txn || fields.has_key {
            return None;
        }
        let mut raw: Vec<RawMop> = Vec::with_capacity(scratch.mops.len());
        if fields.value == ValueState::Mops {
            for m in &scratch.mops {
                let value = match &m.2 {
                    Arg::Null => RawValue::Null,
                    Arg::One(v) => RawValue::Value(v),
                    Arg::List(s, e) => RawValue::Elements(&scratch.elements[*s..*e]),
                };
                let mop = RawMop {
                    kind: m.0,
                    key: &m.1,
                    value,
                };
                check_mop(&mop, workload).ok()?;
                raw.push(mop);
            }
        }
        if kind == EventKind::Invoke {
            if fields.value != ValueState::Mops || open.contains_key(&process) {
                return None;
            }
            let t = builder.invoke(ops, process, &raw, at, line_no);
            ops += 1;
            open.insert(process, t);
        } else {
            let t = open.remove(&process)?;
            let outcome = match kind {
                EventKind::Ok => Outcome::Ok,
                EventKind::Fail => Outcome::Fail,
                _ => Outcome::Info,
            };
            let mops = match (outcome, fields.value) {
                (Outcome::Ok | Outcome::Info, ValueState::Mops) => Some(raw.as_slice()),
                _ => None,
            };
            builder.complete(t, outcome, mops, at, line_no).ok()?;
        }
        at += 1;
    }
    Some(builder.finish())
}

/// What one line held.
struct Fields {
    kind: Option<EventKind>,
    process: Proc,
    f_is_txn: bool,
    has_key: bool,
    value: ValueState,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Proc {
    Missing,
    Client(i64),
    Nemesis,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ValueState {
    Missing,
    Null,
    Mops,
}

/// A micro-operation's argument, its list elements in [`Scratch::elements`].
enum Arg {
    Null,
    One(Value),
    List(usize, usize),
}

/// Buffers reused from line to line.
#[derive(Default)]
struct Scratch {
    mops: Vec<(MopKind, Value, Arg)>,
    elements: Vec<Value>,
}

impl Scratch {
    fn clear(&mut self) {
        self.mops.clear();
        self.elements.clear();
    }
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum Field {
    Type,
    Process,
    F,
    Value,
    Key,
    #[serde(other)]
    Other,
}

struct LineSeed<'s> {
    scratch: &'s mut Scratch,
}

impl<'de> DeserializeSeed<'de> for LineSeed<'_> {
    type Value = Fields;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Fields, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for LineSeed<'_> {
    type Value = Fields;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an event object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields, A::Error> {
        let mut fields = Fields {
            kind: None,
            process: Proc::Missing,
            f_is_txn: false,
            has_key: false,
            value: ValueState::Missing,
        };
        while let Some(field) = map.next_key::<Field>()? {
            match field {
                Field::Type => {
                    let kind: Cow<str> = map.next_value()?;
                    fields.kind = EventKind::parse(&kind);
                }
                Field::Process => {
                    fields.process = map.next_value_seed(ProcessSeed)?;
                }
                Field::F => {
                    let f: Cow<str> = map.next_value()?;
                    fields.f_is_txn = f == "txn";
                }
                Field::Key => {
                    fields.has_key = true;
                    map.next_value::<IgnoredAny>()?;
                }
                Field::Value => {
                    fields.value = map.next_value_seed(MopsSeed {
                        scratch: self.scratch,
                    })?;
                }
                Field::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(fields)
    }
}

struct ProcessSeed;

impl<'de> DeserializeSeed<'de> for ProcessSeed {
    type Value = Proc;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Proc, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ProcessSeed {
    type Value = Proc;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an integer or \"nemesis\"")
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Proc, E> {
        Ok(Proc::Client(v))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Proc, E> {
        i64::try_from(v)
            .map(Proc::Client)
            .map_err(|_| E::custom("process out of range"))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Proc, E> {
        if v == "nemesis" {
            Ok(Proc::Nemesis)
        } else {
            Err(E::custom("unknown process"))
        }
    }
}

struct MopsSeed<'s> {
    scratch: &'s mut Scratch,
}

impl<'de> DeserializeSeed<'de> for MopsSeed<'_> {
    type Value = ValueState;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<ValueState, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for MopsSeed<'_> {
    type Value = ValueState;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of micro-operations")
    }

    fn visit_unit<E>(self) -> Result<ValueState, E> {
        Ok(ValueState::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ValueState, A::Error> {
        while seq
            .next_element_seed(MopSeed {
                scratch: &mut *self.scratch,
            })?
            .is_some()
        {}
        Ok(ValueState::Mops)
    }
}

struct MopSeed<'s> {
    scratch: &'s mut Scratch,
}

impl<'de> DeserializeSeed<'de> for MopSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for MopSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a micro-operation [f, key, value]")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        use serde::de::Error;
        let name: Cow<str> = seq
            .next_element()?
            .ok_or_else(|| A::Error::custom("empty micro-operation"))?;
        let kind = mop_kind(&name).ok_or_else(|| A::Error::custom("unknown micro-operation"))?;
        let key = seq
            .next_element_seed(ScalarSeed)?
            .ok_or_else(|| A::Error::custom("no key"))?;
        let start = self.scratch.elements.len();
        let arg = seq
            .next_element_seed(ArgSeed {
                elements: &mut self.scratch.elements,
            })?
            .ok_or_else(|| A::Error::custom("no value"))?;
        if seq.next_element::<IgnoredAny>()?.is_some() {
            return Err(A::Error::custom("more than three parts"));
        }
        let arg = match arg {
            ArgKind::Null => Arg::Null,
            ArgKind::One(v) => Arg::One(v),
            ArgKind::List => Arg::List(start, self.scratch.elements.len()),
        };
        self.scratch.mops.push((kind, key, arg));
        Ok(())
    }
}

/// A key or value the fast path takes: an integer, a string, a boolean or null.
struct ScalarSeed;

impl<'de> DeserializeSeed<'de> for ScalarSeed {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ScalarSeed {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an integer, string, boolean or null")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Value, E> {
        i64::try_from(v)
            .map(Value::Int)
            .map_err(|_| E::custom("integer out of range"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
}

enum ArgKind {
    Null,
    One(Value),
    List,
}

struct ArgSeed<'s> {
    elements: &'s mut Vec<Value>,
}

impl<'de> DeserializeSeed<'de> for ArgSeed<'_> {
    type Value = ArgKind;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<ArgKind, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ArgSeed<'_> {
    type Value = ArgKind;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a scalar, a list of scalars, or null")
    }

    fn visit_unit<E>(self) -> Result<ArgKind, E> {
        Ok(ArgKind::Null)
    }

    fn visit_bool<E>(self, v: bool) -> Result<ArgKind, E> {
        Ok(ArgKind::One(Value::Bool(v)))
    }

    fn visit_i64<E>(self, v: i64) -> Result<ArgKind, E> {
        Ok(ArgKind::One(Value::Int(v)))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<ArgKind, E> {
        ScalarSeed.visit_u64(v).map(ArgKind::One)
    }

    fn visit_str<E>(self, v: &str) -> Result<ArgKind, E> {
        Ok(ArgKind::One(Value::Str(v.to_string())))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ArgKind, A::Error> {
        while let Some(v) = seq.next_element_seed(ScalarSeed)? {
            self.elements.push(v);
        }
        Ok(ArgKind::List)
    }
}
