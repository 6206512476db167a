//! `kv`: a map of independent registers, one partition per key.

use photofinish_history::{Operation, Value};

use crate::diagnosis::{self, Diagnosis};
use crate::model::{keyed_parts, Model, NilReads, Prepared, RegisterAccess};
use crate::models::register::{prepare_register_op, step_register, RegisterOp};

/// Independent keys, each a register that also supports `append`: a string argument is
/// concatenated to a string value (Porcupine's key-value histories); any other argument is
/// pushed onto a list value. Every key starts at `init`.
#[derive(Clone, Debug)]
pub struct Kv {
    pub init: Value,
    pub nil_reads: NilReads,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KvOp {
    Register(RegisterOp),
    Append(Value),
}

impl Model for Kv {
    type State = Value;
    type Op = KvOp;

    fn name(&self) -> &str {
        "kv"
    }

    fn init(&self) -> Value {
        self.init.clone()
    }

    fn prepare(&self, op: &Operation) -> Result<Prepared<KvOp>, String> {
        let (key, value, result) = keyed_parts(op)?;
        let kv_op = match op.f.as_str() {
            "append" => Some(KvOp::Append(value.into_owned())),
            f => prepare_register_op(f, &value, &result, op.outcome, true, self.nil_reads)
                .map_err(|_| {
                    format!("unknown f `{f}`: expected read/get, write/put, append or cas")
                })?
                .map(KvOp::Register),
        };
        Ok(kv_op.map_or(Prepared::Skip, |o| Prepared::keyed(key, o)))
    }

    fn step(&self, state: &Value, op: &KvOp) -> Option<Value> {
        match op {
            KvOp::Register(r) => step_register(state, r),
            KvOp::Append(arg) => append(state, arg),
        }
    }

    fn describe(&self, state: &Value) -> Value {
        state.clone()
    }

    fn diagnose(&self, ops: &[&Operation]) -> Vec<Diagnosis> {
        diagnosis::kv(self, ops)
    }

    fn read_only(&self, op: &KvOp) -> bool {
        matches!(op, KvOp::Register(RegisterOp::Read(_)))
    }

    fn observed_state(&self, op: &KvOp) -> Option<Value> {
        match op {
            KvOp::Register(RegisterOp::Read(seen)) => Some(seen.clone()),
            _ => None,
        }
    }

    /// Appends only extend a value, so it must be a prefix of what a later read returns.
    fn may_reach(&self, from: &Value, observation: &KvOp) -> bool {
        let KvOp::Register(RegisterOp::Read(seen)) = observation else {
            return true;
        };
        extends(from, seen)
    }

    /// Only a write or a successful cas starts a value afresh, and only toward reads that
    /// extend what it wrote.
    fn may_reset(&self, op: &KvOp, observation: &KvOp) -> bool {
        let KvOp::Register(RegisterOp::Read(seen)) = observation else {
            return true;
        };
        match op {
            KvOp::Register(register) => register.written().is_some_and(|v| extends(v, seen)),
            KvOp::Append(_) => false,
        }
    }

    fn overwrites(&self, op: &KvOp) -> bool {
        matches!(op, KvOp::Register(RegisterOp::Write(_)))
    }

    /// Appends are no register operation: a partition with one is searched.
    fn register_access<'a>(&self, op: &'a KvOp) -> Option<RegisterAccess<'a>> {
        match op {
            KvOp::Register(r) => Some(r.access()),
            KvOp::Append(_) => None,
        }
    }

    fn register_value<'a>(&self, state: &'a Value) -> Option<&'a Value> {
        Some(state)
    }

    fn unconditional(&self, ops: &[&KvOp]) -> Vec<bool> {
        let appends_succeed = self.strings_only(ops);
        ops.iter()
            .map(|op| match op {
                KvOp::Register(RegisterOp::Write(_)) => true,
                KvOp::Append(_) => appends_succeed,
                KvOp::Register(_) => false,
            })
            .collect()
    }
}

impl Kv {
    /// Whether every value a key can hold is a string (or absent), so appending a string
    /// always succeeds.
    fn strings_only(&self, ops: &[&KvOp]) -> bool {
        let stringy = |v: &Value| matches!(v, Value::Str(_) | Value::Null);
        stringy(&self.init)
            && ops.iter().all(|op| match op {
                KvOp::Register(register) => register.written().is_none_or(stringy),
                KvOp::Append(v) => matches!(v, Value::Str(_)),
            })
    }
}

/// Whether appends can turn `from` into `to`.
fn extends(from: &Value, to: &Value) -> bool {
    match (from, to) {
        (Value::Str(a), Value::Str(b)) => b.starts_with(a.as_str()),
        (Value::Null, Value::Str(_)) => true,
        (Value::Null, to) => to.is_null() || to.list_len().is_some(),
        (Value::Ints(a), Value::Ints(b)) => b.starts_with(a),
        _ => match (from.as_list(), to.as_list()) {
            (Some(a), Some(b)) => b.starts_with(&a),
            _ => from == to,
        },
    }
}

/// The state after appending `arg`. A list of integers stays in the compact form the reads
/// of it come in, so that comparing them copies nothing.
fn append(state: &Value, arg: &Value) -> Option<Value> {
    match (state, arg) {
        (Value::Str(s), Value::Str(a)) => Some(Value::Str(format!("{s}{a}"))),
        (Value::Null, Value::Str(a)) => Some(Value::Str(a.clone())),
        (Value::Ints(items), Value::Int(a)) => {
            let mut items = items.to_vec();
            items.push(*a);
            Some(Value::Ints(items.into()))
        }
        (Value::List(_) | Value::Ints(_), a) => {
            let mut items = state.as_list()?.into_owned();
            items.push(a.clone());
            Some(Value::list(items))
        }
        (Value::Null, a) => Some(Value::list(vec![a.clone()])),
        _ => None,
    }
}
