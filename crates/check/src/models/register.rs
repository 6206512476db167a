//! Single registers: `register` (read, write) and `cas-register` (read, write, cas).

use photofinish_history::{Operation, Outcome, Value};

use crate::diagnosis::{self, Diagnosis};
use crate::model::{cas_args, Model, NilReads, Prepared, RegisterAccess};

/// A linearizable register. With `cas`, also compare-and-set: `cas [expected, new]` succeeds
/// only when the register holds `expected`; a failed cas did not happen.
#[derive(Clone, Debug)]
pub struct Register {
    pub init: Value,
    pub cas: bool,
    pub nil_reads: NilReads,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RegisterOp {
    Read(Value),
    Write(Value),
    /// Boxed: a cas carries two values, and inline they would double the size of every
    /// register operation a large history holds.
    Cas(Box<Cas>),
}

/// A compare-and-set: write `new` if the register holds `expected`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Cas {
    pub expected: Value,
    pub new: Value,
}

impl RegisterOp {
    /// What the operation does with the register's value.
    pub(crate) fn access(&self) -> RegisterAccess<'_> {
        match self {
            RegisterOp::Read(v) => RegisterAccess::Read(v),
            RegisterOp::Write(v) => RegisterAccess::Write(v),
            RegisterOp::Cas(cas) => RegisterAccess::Cas {
                expected: &cas.expected,
                new: &cas.new,
            },
        }
    }

    /// The value it leaves in the register, if it writes: a write's, a cas's new one.
    pub fn written(&self) -> Option<&Value> {
        match self {
            RegisterOp::Write(v) => Some(v),
            RegisterOp::Cas(cas) => Some(&cas.new),
            RegisterOp::Read(_) => None,
        }
    }

    /// The value it needs the register to hold: a read's, a cas's expected one.
    pub fn needed(&self) -> Option<&Value> {
        match self {
            RegisterOp::Read(v) => Some(v),
            RegisterOp::Cas(cas) => Some(&cas.expected),
            RegisterOp::Write(_) => None,
        }
    }
}

impl Register {
    pub fn new(init: Value, cas: bool, nil_reads: NilReads) -> Register {
        Register {
            init,
            cas,
            nil_reads,
        }
    }
}

/// Translates the register operations shared by `register`, `cas-register` and each key of `kv`.
pub(crate) fn prepare_register_op(
    f: &str,
    value: &Value,
    result: &Value,
    outcome: Outcome,
    cas: bool,
    nil_reads: NilReads,
) -> Result<Option<RegisterOp>, String> {
    match f {
        "read" | "get" => Ok(match outcome {
            Outcome::Ok if result.is_null() && nil_reads == NilReads::Unknown => None,
            Outcome::Ok => Some(RegisterOp::Read(result.clone())),
            _ => None,
        }),
        "write" | "put" => Ok(Some(RegisterOp::Write(value.clone()))),
        "cas" if cas => {
            let (expected, new) = cas_args(value)?;
            Ok(Some(RegisterOp::Cas(Box::new(Cas { expected, new }))))
        }
        other => Err(format!(
            "unknown f `{other}`: expected {}",
            if cas {
                "read, write or cas"
            } else {
                "read or write"
            }
        )),
    }
}

pub(crate) fn step_register(state: &Value, op: &RegisterOp) -> Option<Value> {
    match op {
        RegisterOp::Read(v) => (v == state).then(|| state.clone()),
        RegisterOp::Write(v) => Some(v.clone()),
        RegisterOp::Cas(cas) => (cas.expected == *state).then(|| cas.new.clone()),
    }
}

impl Model for Register {
    type State = Value;
    type Op = RegisterOp;

    fn name(&self) -> &str {
        if self.cas {
            "cas-register"
        } else {
            "register"
        }
    }

    fn init(&self) -> Value {
        self.init.clone()
    }

    fn prepare(&self, op: &Operation) -> Result<Prepared<RegisterOp>, String> {
        let prepared = prepare_register_op(
            &op.f,
            &op.value,
            &op.result,
            op.outcome,
            self.cas,
            self.nil_reads,
        )?;
        Ok(prepared.map_or(Prepared::Skip, Prepared::op))
    }

    fn step(&self, state: &Value, op: &RegisterOp) -> Option<Value> {
        step_register(state, op)
    }

    fn describe(&self, state: &Value) -> Value {
        state.clone()
    }

    fn diagnose(&self, ops: &[&Operation]) -> Vec<Diagnosis> {
        diagnosis::register(self, ops)
    }

    fn read_only(&self, op: &RegisterOp) -> bool {
        matches!(op, RegisterOp::Read(_))
    }

    fn register_access<'a>(&self, op: &'a RegisterOp) -> Option<RegisterAccess<'a>> {
        Some(op.access())
    }

    fn register_value<'a>(&self, state: &'a Value) -> Option<&'a Value> {
        Some(state)
    }
}
