//! `mutex`: acquire and release. Catches two holders at once.

use photofinish_history::{Operation, Value};

use crate::diagnosis::{self, Diagnosis};
use crate::model::{Model, Prepared};

/// A lock: `acquire` succeeds only when free, `release` only when held. `init` is `true` for a
/// lock that starts held.
#[derive(Clone, Debug)]
pub struct Mutex {
    pub init_held: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum MutexOp {
    Acquire,
    Release,
}

impl Model for Mutex {
    type State = bool;
    type Op = MutexOp;

    fn name(&self) -> &str {
        "mutex"
    }

    fn init(&self) -> bool {
        self.init_held
    }

    fn prepare(&self, op: &Operation) -> Result<Prepared<MutexOp>, String> {
        match op.f.as_str() {
            "acquire" | "lock" => Ok(Prepared::op(MutexOp::Acquire)),
            "release" | "unlock" => Ok(Prepared::op(MutexOp::Release)),
            other => Err(format!("unknown f `{other}`: expected acquire or release")),
        }
    }

    fn step(&self, held: &bool, op: &MutexOp) -> Option<bool> {
        match op {
            MutexOp::Acquire => (!held).then_some(true),
            MutexOp::Release => held.then_some(false),
        }
    }

    fn describe(&self, held: &bool) -> Value {
        Value::from(if *held { "held" } else { "free" })
    }

    fn diagnose(&self, ops: &[&Operation]) -> Vec<Diagnosis> {
        diagnosis::mutex(self, ops)
    }
}
