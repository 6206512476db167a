//! `multi-register`: Knossos' transactions of reads and writes over several registers.

use std::collections::BTreeMap;

use photofinish_history::{Operation, Outcome, Value};

use crate::model::{Model, NilReads, Prepared};

/// Several registers changed atomically by `txn` operations whose value is a list of
/// `[read key value]` / `[write key value]` micro-operations. `init` is a map from key to value;
/// keys not in it start as `nil`.
#[derive(Clone, Debug)]
pub struct MultiRegister {
    pub init: BTreeMap<Value, Value>,
    pub nil_reads: NilReads,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Micro {
    /// A read of a key; `None` when the value read is not known.
    Read(Value, Option<Value>),
    Write(Value, Value),
}

impl MultiRegister {
    pub fn new(init: &Value, nil_reads: NilReads) -> Result<MultiRegister, String> {
        let init = match init {
            Value::Map(m) => m.clone(),
            Value::Null => BTreeMap::new(),
            other => {
                return Err(format!(
                    "multi-register needs --init as a map from key to value, like {{\"x\":0}}; found {}",
                    other.kind()
                ))
            }
        };
        Ok(MultiRegister { init, nil_reads })
    }
}

fn parse_micro(micro: &Value, known: bool, nil_reads: NilReads) -> Result<Micro, String> {
    match micro.as_list().as_deref() {
        Some([Value::Str(f), key, value]) => match f.as_str() {
            "read" | "r" => {
                let seen = (known && !(value.is_null() && nil_reads == NilReads::Unknown))
                    .then(|| value.clone());
                Ok(Micro::Read(key.clone(), seen))
            }
            "write" | "w" => Ok(Micro::Write(key.clone(), value.clone())),
            other => Err(format!(
                "unknown micro-operation `{other}`: expected read or write"
            )),
        },
        _ => Err(format!(
            "expected a micro-operation [read|write key value], found {micro}"
        )),
    }
}

impl Model for MultiRegister {
    type State = BTreeMap<Value, Value>;
    type Op = Vec<Micro>;

    fn name(&self) -> &str {
        "multi-register"
    }

    fn init(&self) -> Self::State {
        self.init.clone()
    }

    fn prepare(&self, op: &Operation) -> Result<Prepared<Vec<Micro>>, String> {
        if op.f != "txn" {
            return Err(format!("unknown f `{}`: expected txn", op.f));
        }
        // The completion of an ok txn carries the values read; otherwise they are unknown.
        let known = op.outcome == Outcome::Ok;
        let source = if known { &op.result } else { &op.value };
        let micros = source
            .as_list()
            .ok_or_else(|| format!("txn expects a list of micro-operations, found {source}"))?
            .iter()
            .map(|m| parse_micro(m, known, self.nil_reads))
            .collect::<Result<Vec<_>, _>>()?;
        if micros.iter().all(|m| matches!(m, Micro::Read(_, None))) {
            return Ok(Prepared::Skip);
        }
        Ok(Prepared::op(micros))
    }

    fn step(&self, state: &Self::State, op: &Vec<Micro>) -> Option<Self::State> {
        let mut next = state.clone();
        for micro in op {
            match micro {
                Micro::Read(key, Some(seen)) => {
                    if next.get(key).unwrap_or(&Value::Null) != seen {
                        return None;
                    }
                }
                Micro::Read(_, None) => {}
                Micro::Write(key, value) => {
                    next.insert(key.clone(), value.clone());
                }
            }
        }
        Some(next)
    }

    fn describe(&self, state: &Self::State) -> Value {
        Value::Map(state.clone())
    }

    fn read_only(&self, op: &Vec<Micro>) -> bool {
        op.iter().all(|m| matches!(m, Micro::Read(..)))
    }
}
